/* Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw ("Parallel random
 * numbers: as easy as 1, 2, 3", SC 2011), seeded the way MindSpore 2.10 seeds it.
 *
 * A 64-bit stream seed s gives the key (s lo, s hi); block i of the stream is Philox applied to
 * the counter (i lo, i hi, s lo, s hi) and yields the stream's uint32 numbers 4i .. 4i+3.  A block
 * depends only on its index, so skipping ahead is just choosing the counter: any thread can
 * start anywhere in the stream and the numbers never depend on how the work was split.
 */
#ifndef MSPARAM_PHILOX_H
#define MSPARAM_PHILOX_H

#include <stddef.h>
#include <stdint.h>

#define MSP_PHILOX_M0 0xD2511F53u /* round multipliers */
#define MSP_PHILOX_M1 0xCD9E8D57u
#define MSP_PHILOX_W0 0x9E3779B9u /* key increments: golden ratio, sqrt(3) - 1 */
#define MSP_PHILOX_W1 0xBB67AE85u
#define MSP_PHILOX_ROUNDS 10

typedef struct { uint32_t v[4]; } msp_philox4x32_ctr;
typedef struct { uint32_t v[2]; } msp_philox4x32_key;

static inline uint32_t msp_mulhilo32(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t product = (uint64_t)a * b;
    *hi = (uint32_t)(product >> 32);
    return (uint32_t)product;
}

static inline msp_philox4x32_ctr msp_philox4x32_round(msp_philox4x32_ctr c, msp_philox4x32_key k)
{
    uint32_t hi0, hi1;
    uint32_t lo0 = msp_mulhilo32(MSP_PHILOX_M0, c.v[0], &hi0);
    uint32_t lo1 = msp_mulhilo32(MSP_PHILOX_M1, c.v[2], &hi1);
    msp_philox4x32_ctr out = {{hi1 ^ c.v[1] ^ k.v[0], lo1, hi0 ^ c.v[3] ^ k.v[1], lo0}};
    return out;
}

static inline msp_philox4x32_key msp_philox4x32_bumpkey(msp_philox4x32_key k)
{
    k.v[0] += MSP_PHILOX_W0;
    k.v[1] += MSP_PHILOX_W1;
    return k;
}

/* The ten rounds, with the key bumped between rounds. */
static inline msp_philox4x32_ctr msp_philox4x32_10(msp_philox4x32_ctr c, msp_philox4x32_key k)
{
    for (int round = 0; round < MSP_PHILOX_ROUNDS - 1; ++round) {
        c = msp_philox4x32_round(c, k);
        k = msp_philox4x32_bumpkey(k);
    }
    return msp_philox4x32_round(c, k);
}

static inline msp_philox4x32_key msp_philox_key(uint64_t seed)
{
    msp_philox4x32_key k = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    return k;
}

/* Counter of block ``block`` of stream ``seed`` (the skip-ahead). */
static inline msp_philox4x32_ctr msp_philox_counter(uint64_t seed, uint64_t block)
{
    msp_philox4x32_ctr c = {{(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)seed,
                             (uint32_t)(seed >> 32)}};
    return c;
}

/* The stream's uint32 numbers 4 * first .. 4 * (first + nblocks) - 1 into out. */
static void msp_philox_blocks_scalar(uint64_t seed, uint64_t first, ptrdiff_t nblocks,
                                     uint32_t *out)
{
    const msp_philox4x32_key key = msp_philox_key(seed);
    for (ptrdiff_t b = 0; b < nblocks; ++b) {
        msp_philox4x32_ctr r = msp_philox4x32_10(msp_philox_counter(seed, first + b), key);
        for (int w = 0; w < 4; ++w) out[4 * b + w] = r.v[w];
    }
}

#endif
