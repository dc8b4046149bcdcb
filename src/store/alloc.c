/*
 * alloc.c — the arena allocator: TLSF-style segregated free lists over
 * 64-byte units, with O(1) allocate and free and immediate coalescing of
 * physical neighbours; large requests prefer free blocks on pages already
 * written (below the high-water mark, not trimmed). Metadata (block descriptors) lives in this process's
 * heap, never in the shared memory, so clients cannot corrupt it.
 *
 * Threads: the node daemon's loop thread.
 * Invariants: blocks tile [0, capacity) in address order through phys_*;
 * no two free blocks are adjacent; a free block is in exactly the bin of
 * its size; fl_bitmap/sl_bitmap bits are set iff the bin is non-empty.
 */
#include "store/store_int.h"

static int fls64(uint64_t v) { return 63 - __builtin_clzll(v); }

/* Bin of a size in 64-byte units: 16 linear bins below 16 units, then 16 per power of two. */
static void bin_of(uint64_t units, int *fl, int *sl)
{
    if (units < MT__STORE_SL) {
        *fl = 0;
        *sl = (int)units;
        return;
    }
    int f = fls64(units);
    *fl = f - 3;
    *sl = (int)((units >> (f - 4)) & (MT__STORE_SL - 1));
}

static void free_insert(mt__store_alloc *a, mt__store_block *b)
{
    int fl, sl;
    bin_of((uint64_t)b->size / MT__STORE_ALIGN, &fl, &sl);
    b->free = true;
    b->free_prev = NULL;
    b->free_next = a->bins[fl][sl];
    if (b->free_next) b->free_next->free_prev = b;
    a->bins[fl][sl] = b;
    a->fl_bitmap |= (uint64_t)1 << fl;
    a->sl_bitmap[fl] |= (uint32_t)1 << sl;
    a->free_blocks++;
}

static void free_remove(mt__store_alloc *a, mt__store_block *b)
{
    int fl, sl;
    bin_of((uint64_t)b->size / MT__STORE_ALIGN, &fl, &sl);
    if (b->free_prev) b->free_prev->free_next = b->free_next;
    else a->bins[fl][sl] = b->free_next;
    if (b->free_next) b->free_next->free_prev = b->free_prev;
    if (!a->bins[fl][sl]) {
        a->sl_bitmap[fl] &= ~((uint32_t)1 << sl);
        if (!a->sl_bitmap[fl]) a->fl_bitmap &= ~((uint64_t)1 << fl);
    }
    b->free = false;
    a->free_blocks--;
}

mt_status mt__store_alloc_init(mt__store_alloc *a, int64_t capacity, mt_error *err)
{
    *a = (mt__store_alloc){.capacity = capacity};
    mt__store_pool_init(&a->pool, sizeof(mt__store_block));
    mt__store_block *b = mt__store_pool_get(&a->pool);
    if (!b) return mt_error_set(err, MT_ENOMEM, "object store: allocating allocator metadata");
    b->off = 0;
    b->size = capacity;
    free_insert(a, b);
    return MT_OK;
}

void mt__store_alloc_fini(mt__store_alloc *a) { mt__store_pool_fini(&a->pool); }

/* First non-empty bin at or above (fl, sl), or NULL. */
static mt__store_block *find_bin(const mt__store_alloc *a, int fl, int sl)
{
    uint32_t sm = sl < MT__STORE_SL ? a->sl_bitmap[fl] & (~(uint32_t)0 << sl) : 0;
    if (!sm) {
        uint64_t fm = fl + 1 < 64 ? a->fl_bitmap & (~(uint64_t)0 << (fl + 1)) : 0;
        if (!fm) return NULL;
        fl = __builtin_ctzll(fm);
        sm = a->sl_bitmap[fl];
    }
    return a->bins[fl][__builtin_ctz(sm)];
}

/* Whether the first `units` of free block b lie on pages written before (and not trimmed since). */
static bool warm(const mt__store_alloc *a, const mt__store_block *b, uint64_t units)
{
    return !b->clean && b->off + (int64_t)(units * MT__STORE_ALIGN) <= a->touched;
}

/*
 * A fitting free block on written pages: up to WARM_LOOK free blocks of the
 * exact bin and above, smallest bins first. Reusing them keeps the
 * arena's resident size near its working set and skips first-touch faults.
 */
#define WARM_LOOK 64
#define WARM_MIN_UNITS 1024 /* 64 KiB: smaller requests stay O(1) */
static mt__store_block *find_warm(const mt__store_alloc *a, uint64_t units)
{
    int fl, sl, seen = 0;
    bin_of(units, &fl, &sl);
    for (; fl < MT__STORE_FL; fl++, sl = 0) {
        uint32_t sm = a->sl_bitmap[fl] & (~(uint32_t)0 << sl);
        for (; sm; sm &= sm - 1)
            for (mt__store_block *b = a->bins[fl][__builtin_ctz(sm)]; b; b = b->free_next) {
                if ((uint64_t)b->size >= units * MT__STORE_ALIGN && warm(a, b, units)) return b;
                if (++seen >= WARM_LOOK) return NULL;
            }
    }
    return NULL;
}

/* A warm block for large requests, else good fit (a bin whose every member is big enough), else the exact bin. */
static mt__store_block *find_fit(const mt__store_alloc *a, uint64_t units)
{
    uint64_t up = units;
    if (units >= MT__STORE_SL) up += ((uint64_t)1 << (fls64(units) - 4)) - 1;
    int fl, sl;
    bin_of(up, &fl, &sl);
    mt__store_block *g = fl < MT__STORE_FL ? find_bin(a, fl, sl) : NULL;
    if (units >= WARM_MIN_UNITS && !(g && warm(a, g, units))) {
        mt__store_block *w = find_warm(a, units);
        if (w) return w;
    }
    if (g) return g;
    bin_of(units, &fl, &sl);
    if (fl >= MT__STORE_FL) return NULL;
    for (mt__store_block *b = a->bins[fl][sl]; b; b = b->free_next)
        if ((uint64_t)b->size >= units * MT__STORE_ALIGN) return b;
    return NULL;
}

mt__store_block *mt__store_alloc_get(mt__store_alloc *a, int64_t size)
{
    if (size <= 0) size = 1;
    if (size > a->capacity) return NULL;
    uint64_t units = ((uint64_t)size + MT__STORE_ALIGN - 1) / MT__STORE_ALIGN;
    mt__store_block *b = find_fit(a, units);
    if (!b) return NULL;
    int64_t need = (int64_t)units * MT__STORE_ALIGN;
    if (b->size > need) {
        mt__store_block *rest = mt__store_pool_get(&a->pool);
        if (!rest) return NULL;
        free_remove(a, b);
        rest->off = b->off + need;
        rest->size = b->size - need;
        rest->clean = b->clean;
        rest->phys_prev = b;
        rest->phys_next = b->phys_next;
        if (b->phys_next) b->phys_next->phys_prev = rest;
        b->phys_next = rest;
        b->size = need;
        free_insert(a, rest);
    } else {
        free_remove(a, b);
    }
    b->clean = false;
    a->used += b->size;
    if (b->off + b->size > a->touched) a->touched = b->off + b->size;
    return b;
}

/* Absorbs free `n` (the physical successor of `b`) into `b`. */
static void merge_next(mt__store_alloc *a, mt__store_block *b, mt__store_block *n)
{
    free_remove(a, n);
    b->clean = b->clean && n->clean;
    b->size += n->size;
    b->phys_next = n->phys_next;
    if (n->phys_next) n->phys_next->phys_prev = b;
    mt__store_pool_put(&a->pool, n);
}

mt__store_block *mt__store_alloc_put(mt__store_alloc *a, mt__store_block *b)
{
    a->used -= b->size;
    b->clean = false;
    if (b->phys_next && b->phys_next->free) merge_next(a, b, b->phys_next);
    if (b->phys_prev && b->phys_prev->free) {
        mt__store_block *p = b->phys_prev;
        free_remove(a, p);
        p->clean = p->clean && b->clean;
        p->size += b->size;
        p->phys_next = b->phys_next;
        if (b->phys_next) b->phys_next->phys_prev = p;
        mt__store_pool_put(&a->pool, b);
        b = p;
    }
    free_insert(a, b);
    return b;
}

int64_t mt__store_alloc_largest_free(const mt__store_alloc *a)
{
    if (!a->fl_bitmap) return 0;
    int fl = fls64(a->fl_bitmap);
    int sl = 31 - __builtin_clz(a->sl_bitmap[fl]);
    int64_t best = 0;
    for (const mt__store_block *b = a->bins[fl][sl]; b; b = b->free_next)
        if (b->size > best) best = b->size;
    return best;
}

int64_t mt__store_alloc_trim(mt__store_alloc *a, int64_t min_size,
                             void (*fn)(void *ctx, int64_t off, int64_t size), void *ctx)
{
    int64_t n = 0;
    for (int fl = 0; fl < MT__STORE_FL; fl++) {
        for (int sl = 0; sl < MT__STORE_SL; sl++) {
            for (mt__store_block *b = a->bins[fl][sl]; b; b = b->free_next) {
                if (b->clean || b->size < min_size) continue;
                fn(ctx, b->off, b->size);
                b->clean = true;
                n += b->size;
            }
        }
    }
    return n;
}
