/* test_alloc.c — the arena allocator through the store: alignment,
 * fragmentation, coalescing, and a randomized no-overlap check. */
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "store/store.h"
#include "store_test_util.h"

static mt_store *open_store(int64_t cap)
{
    mt_store *s = NULL;
    mt_error err;
    mt_store_options o = {.capacity = cap};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK, "%s", err.msg);
    return s;
}

Test(alloc, fragmentation_and_coalescing)
{
    mt_store *s = open_store(65536);
    mt_store_ref ref;
    mt_error err;
    mt_store_alloc_stats as;
    for (uint32_t n = 0; n < 16; n++) {
        cr_assert_eq(mt_store_object_create(s, tid(n), 4096, true, &ref, &err), MT_OK, "%s", err.msg);
        cr_assert_eq(ref.offset, (int64_t)n * 4096, "address-ordered first fit of a fresh arena");
        cr_assert_eq(mt_store_object_seal(s, tid(n), &err), MT_OK);
    }
    mt_store_get_alloc_stats(s, &as);
    cr_assert_eq(as.free_bytes, 0);
    cr_assert_eq(as.largest_free_block, 0);
    cr_assert_eq(as.free_blocks, 0);
    cr_assert_eq(as.spillable_bytes, 65536);
    for (uint32_t n = 0; n < 16; n += 2) cr_assert_eq(mt_store_object_delete(s, tid(n), &err), MT_OK);
    mt_store_get_alloc_stats(s, &as);
    cr_assert_eq(as.free_bytes, 32768);
    cr_assert_eq(as.largest_free_block, 4096);
    cr_assert_eq(as.free_blocks, 8);
    cr_assert_eq(mt_store_object_create(s, tid(100), 8192, true, &ref, &err), MT_ENOMEM);
    cr_assert_str_eq(err.msg, "object of 8192 bytes does not fit: 32768 of 65536 bytes in use "
                              "(largest free block 4096 bytes) and spilling is off");
    /* freeing 1 merges holes 0,1,2 into one block of 12288 */
    cr_assert_eq(mt_store_object_delete(s, tid(1), &err), MT_OK);
    mt_store_get_alloc_stats(s, &as);
    cr_assert_eq(as.free_blocks, 7);
    cr_assert_eq(as.largest_free_block, 12288);
    cr_assert_eq(mt_store_object_create(s, tid(100), 8192, true, &ref, &err), MT_OK);
    cr_assert_eq(ref.offset, 0);
    cr_assert_eq(mt_store_object_abort(s, tid(100), &err), MT_OK);
    for (uint32_t n = 3; n < 16; n += 2) cr_assert_eq(mt_store_object_delete(s, tid(n), &err), MT_OK);
    mt_store_get_alloc_stats(s, &as);
    cr_assert_eq(as.free_blocks, 1);
    cr_assert_eq(as.largest_free_block, 65536);
    cr_assert_eq(mt_store_object_create(s, tid(200), 65536, true, &ref, &err), MT_OK);
    cr_assert_eq(ref.offset, 0);
    mt_store_destroy(s);
}

Test(alloc, exact_fit_of_whole_arena_and_odd_sizes)
{
    mt_store *s = open_store(1000); /* rounded up to 1024 */
    cr_assert_eq(mt_store_capacity(s), 1024);
    mt_store_ref ref;
    mt_error err;
    cr_assert_eq(mt_store_object_create(s, tid(1), 1000, true, &ref, &err), MT_OK, "%s", err.msg);
    mt_store_stats st;
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.used, 1024);
    mt_store_destroy(s);
}

/* Random creates/deletes of random sizes: live objects never overlap and keep their bytes. */
Test(alloc, randomized_no_overlap)
{
    const int64_t cap = 4 << 20;
    mt_alloc_stats a0, a1;
    mt_alloc_get_stats(&a0);
    mt_store *s = open_store(cap);
    enum { N = 512 };
    int64_t off[N], size[N];
    bool live[N] = {0};
    uint64_t rng = 88172645463325252ull;
    mt_error err;
    for (int step = 0; step < 20000; step++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int k = (int)(rng % N);
        if (live[k]) {
            const uint8_t *p = mt_store_base(s) + off[k];
            for (int64_t i = 0; i < size[k]; i += 61) cr_assert_eq(p[i], (uint8_t)k);
            cr_assert_eq(mt_store_object_delete(s, tid((uint32_t)k), &err), MT_OK);
            live[k] = false;
            continue;
        }
        size[k] = 1 + (int64_t)((rng >> 20) % ((rng >> 50) & 1 ? 60000 : 700));
        mt_store_ref ref;
        mt_status st = mt_store_object_create(s, tid((uint32_t)k), size[k], true, &ref, &err);
        if (st == MT_ENOMEM) continue;
        cr_assert_eq(st, MT_OK, "%s", err.msg);
        cr_assert_eq(ref.offset % 64, 0);
        cr_assert_leq(ref.offset + size[k], cap);
        off[k] = ref.offset;
        memset(mt_store_base(s) + off[k], k, (size_t)size[k]);
        cr_assert_eq(mt_store_object_seal(s, tid((uint32_t)k), &err), MT_OK);
        live[k] = true;
    }
    for (int k = 0; k < N; k++)
        if (live[k]) cr_assert_eq(mt_store_object_delete(s, tid((uint32_t)k), &err), MT_OK);
    mt_store_alloc_stats as;
    mt_store_get_alloc_stats(s, &as);
    cr_assert_eq(as.free_blocks, 1);
    cr_assert_eq(as.largest_free_block, cap);
    mt_store_destroy(s);
    mt_alloc_get_stats(&a1);
    cr_assert_eq(a1.live_allocations, a0.live_allocations, "no leaked metadata");
    cr_assert_eq(a1.live_bytes, a0.live_bytes);
}

Test(alloc, trim_gives_pages_back_once)
{
    mt_store *s = open_store(4 << 20);
    mt_store_ref ref;
    mt_error err;
    struct stat sb;
    cr_assert_eq(mt_store_object_create(s, tid(1), 2 << 20, true, &ref, &err), MT_OK);
    memset(mt_store_base(s) + ref.offset, 0x77, 2 << 20);
    cr_assert_eq(mt_store_object_seal(s, tid(1), &err), MT_OK);
    cr_assert_eq(fstat(mt_store_fd(s), &sb), 0);
    cr_assert_geq((int64_t)sb.st_blocks * 512, 2 << 20, "written pages are resident");
    cr_assert_eq(mt_store_object_delete(s, tid(1), &err), MT_OK);
    cr_assert_eq(fstat(mt_store_fd(s), &sb), 0);
    cr_assert_geq((int64_t)sb.st_blocks * 512, 2 << 20, "a free keeps the pages warm");
    cr_assert_eq(mt_store_trim(s, 1 << 20), 4 << 20);
    cr_assert_eq(mt_store_trim(s, 1 << 20), 0, "already given back");
    cr_assert_eq(fstat(mt_store_fd(s), &sb), 0);
    cr_assert_eq(sb.st_blocks, 0);
    cr_assert_eq(mt_store_object_create(s, tid(2), 4096, true, &ref, &err), MT_OK);
    cr_assert_eq(ref.offset, 0);
    cr_assert_eq(mt_store_base(s)[100], 0, "punched pages read as zeros");
    /* the remainder stays clean; the allocated part is dirty again once freed */
    cr_assert_eq(mt_store_trim(s, 1 << 20), 0);
    cr_assert_eq(mt_store_object_abort(s, tid(2), &err), MT_OK);
    cr_assert_eq(mt_store_trim(s, 1 << 20), 4 << 20);
    mt_store_destroy(s);
}

/* A large free block on written pages is taken before fresh arena: the
 * resident size stays near the working set (it grows by the guard only). */
Test(alloc, large_requests_reuse_written_pages)
{
    mt_store *s = open_store(64 << 20);
    mt_store_ref ref;
    mt_error err;
    struct stat sb;
    int64_t first = -1;
    for (uint32_t round = 0; round < 8; round++) {
        /* sizes vary within one bin; each would be good-fit from fresh arena above the freed block */
        int64_t size = (4 << 20) + (128 << 10) - (int64_t)round * 8192;
        cr_assert_eq(mt_store_object_create(s, tid(10 + round), size, true, &ref, &err), MT_OK, "%s", err.msg);
        if (first < 0) first = ref.offset;
        cr_assert_eq(ref.offset, first, "round %u reuses the freed block", round);
        memset(mt_store_base(s) + ref.offset, 0x5a, (size_t)size);
        cr_assert_eq(mt_store_object_seal(s, tid(10 + round), &err), MT_OK);
        if (round == 0) { /* a guard after it, so the freed block cannot merge into the fresh tail */
            cr_assert_eq(mt_store_object_create(s, tid(99), 4096, true, &ref, &err), MT_OK);
            cr_assert_eq(mt_store_object_seal(s, tid(99), &err), MT_OK);
        }
        cr_assert_eq(mt_store_object_delete(s, tid(10 + round), &err), MT_OK);
    }
    cr_assert_eq(fstat(mt_store_fd(s), &sb), 0);
    cr_assert_leq((int64_t)sb.st_blocks * 512, (5 << 20), "resident: one block's pages, not eight");
    mt_store_destroy(s);
}
