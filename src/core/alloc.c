/*
 * alloc.c — the accounted allocator. Every block carries a 64-byte header
 * holding its size, so live bytes can be counted and aligned blocks need no
 * separate bookkeeping. Counters are atomics; any thread.
 *
 * Permanent blocks (mt__alloc_permanent, core/alloc_int.h) are for tables
 * that live until exit — the function registry filled by constructors,
 * configuration strings: counted apart from live blocks, so leak checks that
 * compare live counts are not disturbed by a registration or a config set.
 *
 * Invariant: the pointer handed out is 64-byte aligned for both the plain
 * and the aligned entry points (the header is exactly 64 bytes and the base
 * comes from aligned_alloc), so mt_free and mt_free_aligned are the same.
 */
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "manta/base.h"

#define HDR 64
#define MAGIC 0x6d616e7461a110cULL
#define MAGIC_PERMANENT 0x6d616e7461a1100ULL /* mt__alloc_permanent's blocks */

typedef struct hdr {
    size_t size;
    uint64_t magic;
} hdr;

static _Atomic int64_t live_allocs, live_bytes, peak_bytes, total_allocs;
static _Atomic int64_t permanent_allocs, permanent_bytes;
static _Atomic int64_t fail_countdown; /* 0 = off */
static _Atomic bool fail_sticky;

/*
 * Large column buffers are allocated and freed once per row group. glibc
 * serves blocks above its mmap threshold with a fresh mapping each time, so
 * every row group would page-fault and have the kernel zero its memory
 * again. Keeping blocks up to 64 MiB in the heap (and up to 256 MiB of free
 * heap before trimming) lets them be reused warm. glibc's own
 * MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ variables still win.
 */
__attribute__((constructor)) static void tune_malloc(void)
{
    if (!getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 64 << 20);
    if (!getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

static bool should_fail(void)
{
    int64_t c = atomic_load(&fail_countdown);
    if (c <= 0) return false;
    if (c == 1) {
        if (!atomic_load(&fail_sticky)) atomic_store(&fail_countdown, 0);
        return true;
    }
    atomic_fetch_sub(&fail_countdown, 1);
    return false;
}

static void account(int64_t dbytes, int64_t dallocs)
{
    int64_t now = atomic_fetch_add(&live_bytes, dbytes) + dbytes;
    atomic_fetch_add(&live_allocs, dallocs);
    if (dallocs > 0) atomic_fetch_add(&total_allocs, dallocs);
    int64_t peak = atomic_load(&peak_bytes);
    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now)) {
    }
}

static void *block_new(size_t size, uint64_t magic)
{
    if (size > SIZE_MAX - 2 * HDR || should_fail()) return NULL;
    size_t total = (size + HDR + 63) & ~(size_t)63;
    char *base = aligned_alloc(64, total);
    if (!base) return NULL;
    hdr *h = (hdr *)base;
    h->size = size;
    h->magic = magic;
    return base + HDR;
}

void *mt_malloc(size_t size)
{
    void *p = block_new(size, MAGIC);
    if (p) account((int64_t)size, 1);
    return p;
}

void *mt__alloc_permanent(size_t size)
{
    void *p = block_new(size, MAGIC_PERMANENT);
    if (p) {
        atomic_fetch_add(&permanent_bytes, (int64_t)size);
        atomic_fetch_add(&permanent_allocs, 1);
    }
    return p;
}

void *mt__realloc_permanent(void *ptr, size_t size)
{
    void *n = mt__alloc_permanent(size);
    if (!n || !ptr) return n;
    hdr *h = (hdr *)((char *)ptr - HDR);
    if (h->magic != MAGIC_PERMANENT) abort();
    memcpy(n, ptr, h->size < size ? h->size : size);
    mt_free(ptr);
    return n;
}

char *mt__strdup_permanent(const char *s)
{
    size_t len = strlen(s);
    char *d = mt__alloc_permanent(len + 1);
    if (d) memcpy(d, s, len + 1);
    return d;
}

void *mt_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = mt_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void mt_free(void *ptr)
{
    if (!ptr) return;
    hdr *h = (hdr *)((char *)ptr - HDR);
    if (h->magic == MAGIC_PERMANENT) {
        atomic_fetch_sub(&permanent_bytes, (int64_t)h->size);
        atomic_fetch_sub(&permanent_allocs, 1);
    } else if (h->magic != MAGIC) {
        abort(); /* not ours, or freed twice */
    } else {
        account(-(int64_t)h->size, -1);
    }
    h->magic = 0;
    free(h);
}

void *mt_realloc(void *ptr, size_t size)
{
    if (!ptr) return mt_malloc(size);
    hdr *h = (hdr *)((char *)ptr - HDR);
    if (h->magic != MAGIC) abort();
    size_t old = h->size;
    size_t cap = ((old + HDR + 63) & ~(size_t)63) - HDR;
    if (size <= cap && size >= cap / 2) {
        account((int64_t)size - (int64_t)old, 0);
        h->size = size;
        return ptr;
    }
    void *n = mt_malloc(size);
    if (!n) return NULL;
    memcpy(n, ptr, old < size ? old : size);
    mt_free(ptr);
    return n;
}

char *mt_strdup(const char *s) { return s ? mt_strndup(s, strlen(s)) : NULL; }

char *mt_strndup(const char *s, size_t n)
{
    if (!s) return NULL;
    size_t len = strnlen(s, n);
    char *d = mt_malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void *mt_malloc_aligned(size_t size) { return mt_malloc(size); }
void *mt_realloc_aligned(void *ptr, size_t old_size, size_t new_size)
{
    (void)old_size;
    return mt_realloc(ptr, new_size);
}
void mt_free_aligned(void *ptr) { mt_free(ptr); }

void mt_alloc_get_stats(mt_alloc_stats *out)
{
    out->live_allocations = atomic_load(&live_allocs);
    out->live_bytes = atomic_load(&live_bytes);
    out->peak_bytes = atomic_load(&peak_bytes);
    out->total_allocations = atomic_load(&total_allocs);
    out->permanent_allocations = atomic_load(&permanent_allocs);
    out->permanent_bytes = atomic_load(&permanent_bytes);
}

void mt_alloc_fail_after(int64_t nth, bool sticky)
{
    atomic_store(&fail_sticky, sticky);
    atomic_store(&fail_countdown, nth);
}
