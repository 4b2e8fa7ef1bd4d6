/* A bounded cache of freed Storage blocks.

   Why: a multi-megabyte block freed back to the C allocator often goes back to the OS (glibc unmaps
   blocks above its mmap threshold and trims the heap's top past its trim threshold), so the next
   allocation of the same size faults every page in again: ~1000 faults per 4 MB, tens of
   microseconds to milliseconds on a VM. Reusing the freed block keeps its pages warm.

   What: blocks of MSPARAM_CACHE_MIN_BLOCK bytes and more are allocated in size classes (8 per
   power of two, so at most 1/8 more than asked) and, when their Storage dies, kept here instead of
   freed, up to `limit` bytes and MSPARAM_CACHE_SLOTS blocks in all; past either bound the oldest
   blocks are freed. A taken block has the exact class asked for. Trimming frees the blocks and asks
   glibc to hand its free pages back to the OS (malloc_trim).

   tracemalloc sees a cached block as freed and a reused one as allocated anew (untracked and
   tracked again in Python's default domain), so memory measurements read as without the cache.

   A block reaches the cache only from Storage.__dealloc__, i.e. when nothing references the storage
   any more (every NumPy view holds the storage as its base object), so no live view points into a
   cached block.

   Threads: every entry point holds one lock. Fork: a child keeps valid copies of the cached blocks
   (its address space is a copy of the parent's, its allocator state too), so it may reuse or free
   them; only the lock is replaced after a fork (msparam_cache_after_fork_in_child), in case another
   thread held it then.

   Sanitizers: under AddressSanitizer the cache starts disabled (limit 0), so every freed block goes
   to ASan's quarantine and a use after free is reported; if a test enables it, cached blocks are
   poisoned, so a use of one is still reported. */
#ifndef MSPARAM_ALLOC_CACHE_H
#define MSPARAM_ALLOC_CACHE_H

#include <Python.h>
#include <pythread.h>
#include <stddef.h>
#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define MSPARAM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MSPARAM_ASAN 1
#endif
#endif
#ifdef MSPARAM_ASAN
#include <sanitizer/asan_interface.h>
#define MSPARAM_CACHE_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define MSPARAM_CACHE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
static const int msparam_cache_under_asan = 1;
#else
#define MSPARAM_CACHE_POISON(p, n) ((void)(p), (void)(n))
#define MSPARAM_CACHE_UNPOISON(p, n) ((void)(p), (void)(n))
static const int msparam_cache_under_asan = 0;
#endif

/* Below this glibc serves blocks from its heap without an mmap of their own (its initial mmap
   threshold is 128 KiB): they come back warm without help. */
#define MSPARAM_CACHE_MIN_BLOCK ((size_t)256 << 10)
#define MSPARAM_CACHE_SLOTS 64
/* 64 MiB: sixteen 4 MB parameters, a few layers' worth; small next to any machine that trains. */
#define MSPARAM_CACHE_DEFAULT_LIMIT ((size_t)64 << 20)

typedef struct {
    void* raw;
    size_t capacity;
} msparam_cache_slot;

static msparam_cache_slot msparam_cache_slots[MSPARAM_CACHE_SLOTS];  /* oldest first */
static int msparam_cache_count = 0;
static size_t msparam_cache_bytes = 0;
static size_t msparam_cache_limit = 0;
static unsigned long long msparam_cache_hits = 0, msparam_cache_misses = 0;
static PyThread_type_lock msparam_cache_lock = NULL;

/* The size class of a block of `need` bytes: `need` rounded up to a multiple of 1/8 of its highest
   power of two. The caller keeps `need` far below SIZE_MAX (it is at most the cache's limit here). */
static size_t msparam_cache_class(size_t need) {
    size_t power = 1;
    while (power <= need / 2) power *= 2;
    size_t step = power / 8;
    return (need + step - 1) / step * step;
}

/* Frees the oldest cached block. Lock held, cache not empty. */
static size_t msparam_cache_drop_oldest(void) {
    msparam_cache_slot oldest = msparam_cache_slots[0];
    for (int i = 1; i < msparam_cache_count; i++) msparam_cache_slots[i - 1] = msparam_cache_slots[i];
    msparam_cache_count--;
    msparam_cache_bytes -= oldest.capacity;
    MSPARAM_CACHE_UNPOISON(oldest.raw, oldest.capacity);
    PyMem_RawFree(oldest.raw);
    return oldest.capacity;
}

/* Frees cached blocks, oldest first, until at most `keep` bytes stay. Lock held. */
static size_t msparam_cache_shrink(size_t keep) {
    size_t freed = 0;
    while (msparam_cache_count > 0 && msparam_cache_bytes > keep) freed += msparam_cache_drop_oldest();
    return freed;
}

/* 0 on success, -1 when no lock could be made (the cache then stays disabled). */
static int msparam_cache_init(int enabled) {
    msparam_cache_lock = PyThread_allocate_lock();
    if (msparam_cache_lock == NULL) return -1;
    msparam_cache_limit = (enabled && !msparam_cache_under_asan) ? MSPARAM_CACHE_DEFAULT_LIMIT : 0;
    return 0;
}

/* A fresh lock for a forked child; the parent's may have been held by a thread the child lacks.
   The old one is leaked on purpose: freeing a lock that may be held is undefined. */
static void msparam_cache_after_fork_in_child(void) {
    PyThread_type_lock lock = PyThread_allocate_lock();
    if (lock != NULL) {
        msparam_cache_lock = lock;
    } else {
        msparam_cache_lock = NULL;  /* every entry point then bypasses the cache */
    }
}

/* A cached block for `need` bytes, or NULL. `*capacity` gets how many bytes to allocate instead
   (the class size, so the block can come back here), or 0 when the size is not cached at all. */
static void* msparam_cache_take(size_t need, size_t* capacity) {
    void* raw = NULL;
    *capacity = 0;
    if (msparam_cache_lock == NULL || need < MSPARAM_CACHE_MIN_BLOCK) return NULL;
    PyThread_acquire_lock(msparam_cache_lock, WAIT_LOCK);
    if (need <= msparam_cache_limit) {
        size_t wanted = msparam_cache_class(need);
        *capacity = wanted;
        for (int i = msparam_cache_count - 1; i >= 0; i--) {  /* newest first: its pages are the warmest */
            if (msparam_cache_slots[i].capacity == wanted) {
                raw = msparam_cache_slots[i].raw;
                for (int j = i + 1; j < msparam_cache_count; j++) msparam_cache_slots[j - 1] = msparam_cache_slots[j];
                msparam_cache_count--;
                msparam_cache_bytes -= wanted;
                MSPARAM_CACHE_UNPOISON(raw, wanted);
                break;
            }
        }
        if (raw != NULL) msparam_cache_hits++; else msparam_cache_misses++;
    }
    PyThread_release_lock(msparam_cache_lock);
    if (raw != NULL) (void)PyTraceMalloc_Track(0, (uintptr_t)raw, *capacity);
    return raw;
}

/* Keeps a block of `capacity` bytes (a class size from msparam_cache_take) or frees it. */
static void msparam_cache_give(void* raw, size_t capacity) {
    (void)PyTraceMalloc_Untrack(0, (uintptr_t)raw);
    if (msparam_cache_lock == NULL) {
        PyMem_RawFree(raw);
        return;
    }
    PyThread_acquire_lock(msparam_cache_lock, WAIT_LOCK);
    if (capacity > msparam_cache_limit) {
        PyThread_release_lock(msparam_cache_lock);
        PyMem_RawFree(raw);
        return;
    }
    msparam_cache_shrink(msparam_cache_limit - capacity);
    if (msparam_cache_count == MSPARAM_CACHE_SLOTS) msparam_cache_drop_oldest();
    msparam_cache_slots[msparam_cache_count].raw = raw;
    msparam_cache_slots[msparam_cache_count].capacity = capacity;
    msparam_cache_count++;
    msparam_cache_bytes += capacity;
    MSPARAM_CACHE_POISON(raw, capacity);
    PyThread_release_lock(msparam_cache_lock);
}

/* Frees every cached block past `keep` bytes, then asks glibc to return its free pages to the OS.
   Returns the bytes freed. */
static size_t msparam_cache_trim(size_t keep) {
    size_t freed;
    if (msparam_cache_lock == NULL) return 0;
    PyThread_acquire_lock(msparam_cache_lock, WAIT_LOCK);
    freed = msparam_cache_shrink(keep);
    PyThread_release_lock(msparam_cache_lock);
#if defined(__GLIBC__)
    if (freed > 0) (void)malloc_trim(0);
#endif
    return freed;
}

/* Sets the bound (0 disables the cache), trims to it; returns the previous bound. */
static size_t msparam_cache_set_limit(size_t limit) {
    size_t previous;
    if (msparam_cache_lock == NULL) return 0;
    PyThread_acquire_lock(msparam_cache_lock, WAIT_LOCK);
    previous = msparam_cache_limit;
    msparam_cache_limit = limit;
    PyThread_release_lock(msparam_cache_lock);
    msparam_cache_trim(limit);
    return previous;
}

typedef struct {
    size_t limit, bytes;
    int blocks;
    unsigned long long hits, misses;
} msparam_cache_stats;

static msparam_cache_stats msparam_cache_read_stats(void) {
    msparam_cache_stats stats = {0, 0, 0, 0, 0};
    if (msparam_cache_lock == NULL) return stats;
    PyThread_acquire_lock(msparam_cache_lock, WAIT_LOCK);
    stats.limit = msparam_cache_limit;
    stats.bytes = msparam_cache_bytes;
    stats.blocks = msparam_cache_count;
    stats.hits = msparam_cache_hits;
    stats.misses = msparam_cache_misses;
    PyThread_release_lock(msparam_cache_lock);
    return stats;
}

#endif
