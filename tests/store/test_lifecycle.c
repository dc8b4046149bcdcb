/* test_lifecycle.c — object lifecycle, pins, errors and stats of the store. */
#include <criterion/criterion.h>

#include "store/store.h"
#include "store_test_util.h"

static mt_store *open_store(int64_t cap)
{
    mt_store *s = NULL;
    mt_error err;
    mt_store_options o = {.capacity = cap, .name = "manta-store-test"};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK, "%s", err.msg);
    return s;
}

Test(lifecycle, create_seal_get_release_delete)
{
    mt_store *s = open_store(1 << 20);
    mt_error err;
    mt_store_ref ref;
    mt_id id = tid(1);
    cr_assert_eq(mt_store_object_create(s, id, 100, true, &ref, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(ref.where, MT_STORE_IN_ARENA);
    cr_assert_eq(ref.offset % 64, 0);
    cr_assert_eq(ref.size, 100);
    cr_assert_null(ref.path);
    memset(mt_store_base(s) + ref.offset, 0x5a, 100);
    int64_t off = ref.offset;
    bool sealed = true;
    cr_assert(mt_store_object_contains(s, id, &sealed));
    cr_assert_not(sealed);
    cr_assert_eq(mt_store_object_get(s, id, &ref, &err), MT_ESTATE);
    cr_assert_str_eq(err.msg, "object ab00000000000000000000000000000001000000: not sealed yet");
    cr_assert_eq(mt_store_object_seal(s, id, &err), MT_OK);
    cr_assert_eq(mt_store_object_seal(s, id, &err), MT_ESTATE);
    cr_assert(mt_store_object_contains(s, id, &sealed));
    cr_assert(sealed);
    cr_assert_eq(mt_store_object_get(s, id, &ref, &err), MT_OK);
    cr_assert_eq(ref.offset, off);
    cr_assert_eq(ref.size, 100);
    cr_assert_eq(mt_store_base(s)[ref.offset + 99], 0x5a);
    cr_assert_eq(mt_store_object_release(s, id, &err), MT_OK);
    cr_assert_eq(mt_store_object_delete(s, id, &err), MT_OK);
    cr_assert_not(mt_store_object_contains(s, id, NULL));
    cr_assert_eq(mt_store_object_get(s, id, &ref, &err), MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "object ab00000000000000000000000000000001000000: not found");
    cr_assert_eq(mt_store_object_delete(s, id, &err), MT_ENOTFOUND);
    cr_assert_eq(mt_store_object_release(s, id, &err), MT_ENOTFOUND);
    mt_store_destroy(s);
}

Test(lifecycle, duplicate_id)
{
    mt_store *s = open_store(1 << 20);
    mt_error err;
    mt_store_ref ref;
    cr_assert_eq(mt_store_object_create(s, tid(7), 10, true, &ref, &err), MT_OK);
    cr_assert_eq(mt_store_object_create(s, tid(7), 10, true, &ref, &err), MT_EEXIST);
    cr_assert_str_eq(err.msg, "object ab00000000000000000000000000000007000000: already exists");
    cr_assert_eq(mt_store_object_seal(s, tid(7), &err), MT_OK);
    cr_assert_eq(mt_store_object_create(s, tid(7), 10, false, &ref, &err), MT_EEXIST);
    mt_store_destroy(s);
}

Test(lifecycle, pins_and_stats)
{
    mt_store *s = open_store(1 << 20);
    mt_error err;
    mt_store_ref ref;
    mt_store_stats st;
    cr_assert_eq(mt_store_object_create(s, tid(1), 100, true, &ref, &err), MT_OK);
    cr_assert_eq(mt_store_object_create(s, tid(2), 64, true, &ref, &err), MT_OK);
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.capacity, 1 << 20);
    cr_assert_eq(st.used, 128 + 64);
    cr_assert_eq(st.num_objects, 2);
    cr_assert_eq(st.num_pinned, 2);
    cr_assert_eq(mt_store_object_release(s, tid(1), &err), MT_ESTATE); /* unsealed: seal drops it */
    cr_assert_eq(mt_store_object_seal(s, tid(1), &err), MT_OK);
    cr_assert_eq(mt_store_object_seal(s, tid(2), &err), MT_OK);
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.num_pinned, 0);
    cr_assert_eq(mt_store_object_get(s, tid(1), &ref, &err), MT_OK);
    cr_assert_eq(mt_store_object_get(s, tid(1), &ref, &err), MT_OK);
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.num_pinned, 1);
    cr_assert_eq(mt_store_object_release(s, tid(1), &err), MT_OK);
    cr_assert_eq(mt_store_object_release(s, tid(1), &err), MT_OK);
    cr_assert_eq(mt_store_object_release(s, tid(1), &err), MT_ESTATE);
    cr_assert_str_eq(err.msg, "object ab00000000000000000000000000000001000000: not pinned");
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.num_pinned, 0);
    cr_assert_eq(st.spilled_objects + st.evicted_objects + st.restored_objects, 0);
    mt_store_destroy(s);
}

Test(lifecycle, delete_while_pinned_defers_the_free)
{
    mt_store *s = open_store(1 << 20);
    mt_error err;
    mt_store_ref ref;
    mt_store_stats st;
    cr_assert_eq(mt_store_object_create(s, tid(3), 1000, true, &ref, &err), MT_OK);
    cr_assert_eq(mt_store_object_seal(s, tid(3), &err), MT_OK);
    cr_assert_eq(mt_store_object_get(s, tid(3), &ref, &err), MT_OK);
    cr_assert_eq(mt_store_object_delete(s, tid(3), &err), MT_OK);
    cr_assert_not(mt_store_object_contains(s, tid(3), NULL));
    cr_assert_eq(mt_store_object_get(s, tid(3), &ref, &err), MT_ENOTFOUND);
    cr_assert_eq(mt_store_object_delete(s, tid(3), &err), MT_ENOTFOUND);
    cr_assert_eq(mt_store_object_create(s, tid(3), 10, true, &ref, &err), MT_EEXIST);
    cr_assert_str_eq(err.msg, "object ab00000000000000000000000000000003000000: already exists "
                              "(deleted, still pinned)");
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.used, 1024);
    cr_assert_eq(st.num_objects, 0);
    cr_assert_eq(st.num_pinned, 1);
    cr_assert_eq(mt_store_object_release(s, tid(3), &err), MT_OK);
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.used, 0);
    cr_assert_eq(st.num_pinned, 0);
    cr_assert_eq(mt_store_object_create(s, tid(3), 10, true, &ref, &err), MT_OK);
    /* Deleting an unsealed object: freed when its creator seals. */
    cr_assert_eq(mt_store_object_delete(s, tid(3), &err), MT_OK);
    cr_assert_eq(mt_store_object_seal(s, tid(3), &err), MT_OK);
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.used, 0);
    cr_assert_eq(st.num_objects, 0);
    mt_store_destroy(s);
}

Test(lifecycle, abort_frees_unsealed_only)
{
    mt_store *s = open_store(1 << 20);
    mt_error err;
    mt_store_ref ref;
    mt_store_stats st;
    cr_assert_eq(mt_store_object_create(s, tid(4), 5000, true, &ref, &err), MT_OK);
    cr_assert_eq(mt_store_object_abort(s, tid(4), &err), MT_OK);
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.used, 0);
    cr_assert_eq(st.num_objects, 0);
    cr_assert_eq(st.num_pinned, 0);
    cr_assert_eq(mt_store_object_abort(s, tid(4), &err), MT_ENOTFOUND);
    cr_assert_eq(mt_store_object_create(s, tid(4), 5000, true, &ref, &err), MT_OK);
    cr_assert_eq(mt_store_object_seal(s, tid(4), &err), MT_OK);
    cr_assert_eq(mt_store_object_abort(s, tid(4), &err), MT_ESTATE);
    cr_assert_str_eq(err.msg, "object ab00000000000000000000000000000004000000: already sealed, "
                              "cannot abort");
    mt_store_destroy(s);
}

Test(lifecycle, sizes_and_limits)
{
    mt_store *s = NULL;
    mt_error err;
    mt_store_ref ref;
    mt_store_options o = {.capacity = 1 << 20, .max_object_bytes = 4096};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK);
    cr_assert_eq(mt_store_object_create(s, tid(5), 4097, true, &ref, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "object ab00000000000000000000000000000005000000: size 4097 is out "
                              "of range (max_object_bytes 4096)");
    cr_assert_eq(mt_store_object_create(s, tid(5), -1, true, &ref, &err), MT_EINVAL);
    mt_store_destroy(s);
    o.max_object_bytes = 0; /* no limit: an absurd size is refused by the arena, not overflowed */
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK);
    cr_assert_eq(mt_store_object_create(s, tid(5), INT64_MAX, true, &ref, &err), MT_ENOMEM);
    cr_assert_str_eq(err.msg, "object of 9223372036854775807 bytes does not fit: store holds "
                              "1048576 bytes and spilling is off");
    cr_assert_eq(mt_store_object_create(s, tid(5), 0, true, &ref, &err), MT_OK);
    cr_assert_eq(ref.where, MT_STORE_IN_ARENA);
    cr_assert_eq(ref.size, 0);
    cr_assert_eq(mt_store_object_seal(s, tid(5), &err), MT_OK);
    cr_assert_eq(mt_store_object_get(s, tid(5), &ref, &err), MT_OK);
    cr_assert_eq(ref.size, 0);
    mt_store_stats st;
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.used, 0);
    cr_assert_eq(st.num_objects, 1);
    mt_store_destroy(s);
    o = (mt_store_options){.capacity = -5};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_EINVAL);
    cr_assert_null(s);
}

Test(lifecycle, default_capacity_is_30_percent_of_ram_capped_by_shm)
{
    mt_store *s = NULL;
    mt_error err;
    mt_store_options o = {0};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK, "%s", err.msg);
    int64_t ram = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    int64_t want = ram / 10 * 3;
    cr_assert_leq(mt_store_capacity(s), want);
    cr_assert_gt(mt_store_capacity(s), 0);
    cr_assert_eq(mt_store_capacity(s) % 64, 0);
    cr_assert_geq(mt_store_fd(s), 0);
    mt_store_destroy(s);
}
