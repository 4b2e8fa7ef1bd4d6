/* CRC-32 (zlib's: reflected polynomial 0xEDB88320, pre- and post-inverted), fast enough that
 * checking every checkpoint byte costs little next to reading it.
 *
 * msp_crc32(crc, p, n) continues zlib.crc32(previous bytes) == crc over n more bytes, exactly as
 * zlib.crc32(bytes, crc) does; msp_crc32_combine(crc_a, crc_b, len_b) is the CRC of A followed by
 * B from the CRCs of A and B (zlib's crc32_combine), so pieces can be checked in parallel.
 *
 * On x86-64 CPUs with PCLMULQDQ the bulk is folded 64 bytes at a time with carry-less
 * multiplies (Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ",
 * Intel 2009): folding keeps a 128-bit value congruent to everything read so far, so the last
 * 16 bytes of fold state and the tail are finished with the byte table, without Barrett
 * reduction.  Everywhere else, slicing-by-8 tables.  The choice is made at run time.
 *
 * The fold constants are x^k mod P for the fold distances, bit-reflected into the upper half of
 * a 64-bit lane (bit j <-> x^(63-j)); carry-less multiplying two such lanes yields the product
 * times x in the 128-bit reflected frame, hence the exponents 64+F-1 and F-1 for a fold by F
 * bits.  tests/_core/test_crc32.py checks every path against zlib.
 */
#ifndef MSPARAM_CRC32_H
#define MSPARAM_CRC32_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu_isa.h"

#define MSP_CRC32_POLY 0xEDB88320u

static uint32_t msp_crc32_table[8][256];
static uint32_t msp_crc32_x2n[64];  /* x^(2^k) mod P, reflected */
static int msp_crc32_use_clmul;

/* a * b mod P, both reflected (bit 31 <-> x^0). */
static uint32_t msp_crc32_multmod(uint32_t a, uint32_t b)
{
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ MSP_CRC32_POLY : b >> 1;
    }
    return p;
}

/* Fill the tables and choose the kernel; call once (module import) before any other function. */
static void msp_crc32_init(void)
{
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ MSP_CRC32_POLY : c >> 1;
        msp_crc32_table[0][i] = c;
    }
    for (int t = 1; t < 8; ++t)
        for (int i = 0; i < 256; ++i) {
            uint32_t c = msp_crc32_table[t - 1][i];
            msp_crc32_table[t][i] = (c >> 8) ^ msp_crc32_table[0][c & 0xFF];
        }
    msp_crc32_x2n[0] = 1u << 30;  /* x^1 */
    for (int k = 1; k < 64; ++k) msp_crc32_x2n[k] = msp_crc32_multmod(msp_crc32_x2n[k - 1], msp_crc32_x2n[k - 1]);
    msp_crc32_use_clmul = msp_cpu_has_clmul();
}

/* The raw (not inverted) CRC register after n more bytes, byte table then slicing-by-8. */
static uint32_t msp_crc32_raw_table(uint32_t state, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        state = msp_crc32_table[0][(state ^ *p++) & 0xFF] ^ (state >> 8);
        --n;
    }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = MSP_BSWAP32(lo);
        hi = MSP_BSWAP32(hi);
#endif
        lo ^= state;
        state = msp_crc32_table[7][lo & 0xFF] ^ msp_crc32_table[6][(lo >> 8) & 0xFF] ^
                msp_crc32_table[5][(lo >> 16) & 0xFF] ^ msp_crc32_table[4][lo >> 24] ^
                msp_crc32_table[3][hi & 0xFF] ^ msp_crc32_table[2][(hi >> 8) & 0xFF] ^
                msp_crc32_table[1][(hi >> 16) & 0xFF] ^ msp_crc32_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) state = msp_crc32_table[0][(state ^ *p++) & 0xFF] ^ (state >> 8);
    return state;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define MSP_TARGET_CLMUL __attribute__((target("pclmul,sse4.1")))

MSP_TARGET_CLMUL static inline __m128i msp_crc32_fold(__m128i x, __m128i k)
{
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* n >= 64.  Returns the raw CRC register. */
MSP_TARGET_CLMUL static uint32_t msp_crc32_raw_clmul(uint32_t state, const unsigned char *p, size_t n)
{
    const __m128i by4 = _mm_set_epi64x((long long)0xcad38e8f00000000ull, (long long)0x653d982200000000ull);
    const __m128i by1 = _mm_set_epi64x((long long)0x9ba54c6f00000000ull, (long long)0x65673b4600000000ull);
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)state));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64;
    n -= 64;
    while (n >= 64) {
        x0 = _mm_xor_si128(msp_crc32_fold(x0, by4), _mm_loadu_si128((const __m128i *)p));
        x1 = _mm_xor_si128(msp_crc32_fold(x1, by4), _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = _mm_xor_si128(msp_crc32_fold(x2, by4), _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = _mm_xor_si128(msp_crc32_fold(x3, by4), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    x0 = _mm_xor_si128(msp_crc32_fold(x0, by1), x1);
    x0 = _mm_xor_si128(msp_crc32_fold(x0, by1), x2);
    x0 = _mm_xor_si128(msp_crc32_fold(x0, by1), x3);
    while (n >= 16) {
        x0 = _mm_xor_si128(msp_crc32_fold(x0, by1), _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    unsigned char folded[16];
    _mm_storeu_si128((__m128i *)folded, x0);
    return msp_crc32_raw_table(msp_crc32_raw_table(0, folded, 16), p, n);
}
#endif

/* zlib.crc32(bytes, crc): the CRC of the bytes so far (crc) extended by n more. */
static uint32_t msp_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    uint32_t state = ~crc;
#if defined(__GNUC__) && defined(__x86_64__)
    if (msp_crc32_use_clmul && n >= 64) return ~msp_crc32_raw_clmul(state, p, n);
#endif
    return ~msp_crc32_raw_table(state, p, n);
}

/* The CRC of A followed by B, from crc_a = CRC(A), crc_b = CRC(B) and B's length. */
static uint32_t msp_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b)
{
    uint32_t shift = 1u << 31;  /* x^0 */
    int k = 3;                  /* x^(8 * length_b): start at x^(2^3) */
    while (length_b) {
        if (length_b & 1) shift = msp_crc32_multmod(msp_crc32_x2n[k & 63], shift);
        length_b >>= 1;
        ++k;
    }
    return msp_crc32_multmod(shift, crc_a) ^ crc_b;
}

#endif
