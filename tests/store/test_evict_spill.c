/* test_evict_spill.c — LRU eviction of secondary copies, spilling and restore,
 * objects bigger than the arena, and the no-spill out-of-memory errors. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_client.h"
#include "store_test_util.h"

static mt_store *open_store(int64_t cap, const char *spill)
{
    mt_store *s = NULL;
    mt_error err;
    mt_store_options o = {.capacity = cap, .spill_dir = spill};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK, "%s", err.msg);
    return s;
}

/* Creates, fills with byte (n & 0xff) ^ i and seals object n. */
static mt_store_ref put(mt_store *s, uint32_t n, int64_t size, bool primary)
{
    mt_store_ref ref;
    mt_error err;
    cr_assert_eq(mt_store_object_create(s, tid(n), size, primary, &ref, &err), MT_OK, "%s", err.msg);
    if (ref.where == MT_STORE_IN_ARENA) {
        for (int64_t i = 0; i < size; i++) mt_store_base(s)[ref.offset + i] = (uint8_t)(n ^ i);
    }
    cr_assert_eq(mt_store_object_seal(s, tid(n), &err), MT_OK);
    return ref;
}

static void check_bytes(const uint8_t *p, uint32_t n, int64_t size)
{
    for (int64_t i = 0; i < size; i++)
        cr_assert_eq(p[i], (uint8_t)(n ^ i), "object %u byte %lld", n, (long long)i);
}

static void touch(mt_store *s, uint32_t n)
{
    mt_store_ref ref;
    cr_assert_eq(mt_store_object_get(s, tid(n), &ref, NULL), MT_OK);
    cr_assert_eq(mt_store_object_release(s, tid(n), NULL), MT_OK);
}

Test(evict, secondary_copies_lru_first)
{
    mt_store *s = open_store(4096, NULL);
    for (uint32_t n = 1; n <= 4; n++) put(s, n, 1024, false);
    touch(s, 1); /* order, oldest first: 2 3 4 1 */
    put(s, 5, 1024, false);
    cr_assert_not(mt_store_object_contains(s, tid(2), NULL));
    cr_assert(mt_store_object_contains(s, tid(1), NULL));
    put(s, 6, 2048, false); /* evicts 3, then 4 */
    cr_assert_not(mt_store_object_contains(s, tid(3), NULL));
    cr_assert_not(mt_store_object_contains(s, tid(4), NULL));
    cr_assert(mt_store_object_contains(s, tid(1), NULL));
    cr_assert(mt_store_object_contains(s, tid(5), NULL));
    mt_store_stats st;
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.evicted_objects, 3);
    cr_assert_eq(st.evicted_bytes, 3072);
    cr_assert_eq(st.num_objects, 3);
    cr_assert_eq(st.used, 4096);
    mt_store_destroy(s);
}

Test(evict, pinned_objects_are_never_evicted)
{
    mt_store *s = open_store(4096, NULL);
    mt_store_ref ref;
    mt_error err;
    for (uint32_t n = 1; n <= 4; n++) put(s, n, 1024, false);
    for (uint32_t n = 1; n <= 3; n++) cr_assert_eq(mt_store_object_get(s, tid(n), &ref, NULL), MT_OK);
    put(s, 5, 1024, false); /* only 4 is evictable */
    cr_assert_not(mt_store_object_contains(s, tid(4), NULL));
    cr_assert_eq(mt_store_object_create(s, tid(6), 2048, false, &ref, &err), MT_ENOMEM);
    cr_assert_str_eq(err.msg, "object of 2048 bytes does not fit: 4096 of 4096 bytes in use "
                              "(largest free block 0 bytes) and spilling is off");
    /* The hopeless create (1024 evictable bytes < 2048) evicted nothing. */
    cr_assert(mt_store_object_contains(s, tid(5), NULL));
    mt_store_destroy(s);
}

Test(evict, secondaries_go_before_primaries_are_spilled)
{
    char *dir = make_tmp_dir();
    mt_store *s = open_store(4096, dir);
    put(s, 1, 1024, true);
    put(s, 2, 1024, true);
    put(s, 3, 1024, false);
    put(s, 4, 1024, true);
    put(s, 5, 1024, true);
    cr_assert_not(mt_store_object_contains(s, tid(3), NULL));
    mt_store_stats st;
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.evicted_objects, 1);
    cr_assert_eq(st.spilled_objects, 0);
    cr_assert_eq(count_files(dir), 0);
    mt_store_destroy(s);
    rm_dir(dir);
}

Test(spill, lru_primary_spills_and_restores_transparently)
{
    char *dir = make_tmp_dir();
    mt_alloc_stats a0, a1;
    mt_alloc_get_stats(&a0);
    mt_store *s = open_store(4096, dir);
    for (uint32_t n = 1; n <= 4; n++) put(s, n, 1000, true);
    touch(s, 1); /* LRU order: 2 3 4 1 */
    put(s, 5, 1000, true);
    mt_store_stats st;
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.spilled_objects, 1);
    cr_assert_eq(st.spilled_bytes, 1000);
    cr_assert(mt_store_object_contains(s, tid(2), NULL), "spilled objects stay known");
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, thex(tid(2)));
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_size, 1000);
    /* get restores 2 into the arena (spilling 3, now the LRU one) with equal bytes */
    mt_store_ref ref;
    mt_error err;
    cr_assert_eq(mt_store_object_get(s, tid(2), &ref, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(ref.where, MT_STORE_IN_ARENA);
    cr_assert_eq(ref.size, 1000);
    check_bytes(mt_store_base(s) + ref.offset, 2, 1000);
    cr_assert_neq(stat(path, &sb), 0, "the restored object's file is removed");
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.restored_objects, 1);
    cr_assert_eq(st.spilled_objects, 2);
    snprintf(path, sizeof(path), "%s/%s", dir, thex(tid(3)));
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(mt_store_object_release(s, tid(2), &err), MT_OK);
    /* deleting a spilled object removes its file */
    cr_assert_eq(mt_store_object_delete(s, tid(3), &err), MT_OK);
    cr_assert_neq(stat(path, &sb), 0);
    mt_store_destroy(s);
    mt_alloc_get_stats(&a1);
    cr_assert_eq(a1.live_allocations, a0.live_allocations, "spill paths are freed");
    cr_assert_eq(count_files(dir), 0);
    rm_dir(dir);
}

Test(spill, get_when_nothing_can_move_serves_the_file)
{
    char *dir = make_tmp_dir();
    mt_store *s = open_store(4096, dir);
    for (uint32_t n = 1; n <= 5; n++) put(s, n, 1024, true); /* 1 spilled */
    mt_store_ref ref;
    mt_error err;
    for (uint32_t n = 2; n <= 5; n++) cr_assert_eq(mt_store_object_get(s, tid(n), &ref, NULL), MT_OK);
    cr_assert_eq(mt_store_object_get(s, tid(1), &ref, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(ref.where, MT_STORE_ON_DISK);
    cr_assert_eq(ref.size, 1024);
    char want[2048];
    snprintf(want, sizeof(want), "%s/%s", dir, thex(tid(1)));
    cr_assert_str_eq(ref.path, want);
    const uint8_t *p;
    cr_assert_eq(mt_store_map_file(ref.path, ref.size, &p, &err), MT_OK, "%s", err.msg);
    check_bytes(p, 1, 1024);
    mt_store_unmap_file(p, ref.size);
    /* Pinned on disk: a second get does not restore even once room exists. */
    cr_assert_eq(mt_store_object_release(s, tid(5), NULL), MT_OK);
    cr_assert_eq(mt_store_object_delete(s, tid(5), NULL), MT_OK);
    cr_assert_eq(mt_store_object_get(s, tid(1), &ref, &err), MT_OK);
    cr_assert_eq(ref.where, MT_STORE_ON_DISK);
    cr_assert_eq(mt_store_object_release(s, tid(1), NULL), MT_OK);
    cr_assert_eq(mt_store_object_release(s, tid(1), NULL), MT_OK);
    cr_assert_eq(mt_store_object_get(s, tid(1), &ref, &err), MT_OK);
    cr_assert_eq(ref.where, MT_STORE_IN_ARENA);
    check_bytes(mt_store_base(s) + ref.offset, 1, 1024);
    mt_store_destroy(s);
    rm_dir(dir);
}

Test(spill, object_bigger_than_the_arena_lives_on_disk)
{
    char *dir = make_tmp_dir();
    mt_store *s = open_store(4096, dir);
    mt_store_ref ref;
    mt_error err;
    const int64_t big = 100000;
    cr_assert_eq(mt_store_object_create(s, tid(9), big, true, &ref, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(ref.where, MT_STORE_ON_DISK);
    cr_assert_eq(ref.size, big);
    uint8_t *w;
    cr_assert_eq(mt_store_map_file_rw(ref.path, big, &w, &err), MT_OK, "%s", err.msg);
    for (int64_t i = 0; i < big; i++) w[i] = (uint8_t)(9 ^ i);
    mt_store_unmap_file(w, big);
    cr_assert_eq(mt_store_object_seal(s, tid(9), &err), MT_OK);
    cr_assert_eq(mt_store_object_get(s, tid(9), &ref, &err), MT_OK);
    cr_assert_eq(ref.where, MT_STORE_ON_DISK);
    const uint8_t *r;
    cr_assert_eq(mt_store_map_file(ref.path, ref.size, &r, &err), MT_OK, "%s", err.msg);
    check_bytes(r, 9, big);
    mt_store_unmap_file(r, big);
    cr_assert_eq(mt_store_object_release(s, tid(9), &err), MT_OK);
    mt_store_stats st;
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.used, 0);
    cr_assert_eq(st.num_objects, 1);
    cr_assert_eq(count_files(dir), 1);
    /* A map of more bytes than the file holds is refused. */
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, thex(tid(9)));
    cr_assert_eq(mt_store_map_file(path, big + 1, &r, &err), MT_ECORRUPT);
    mt_store_destroy(s);
    cr_assert_eq(count_files(dir), 0, "destroy removes spill files");
    rm_dir(dir);
}

Test(spill, no_spill_dir_gives_enomem_naming_sizes)
{
    mt_store *s = open_store((int64_t)1 << 30, NULL);
    mt_store_ref ref;
    mt_error err;
    cr_assert_eq(mt_store_object_create(s, tid(1), (int64_t)10 << 30, true, &ref, &err), MT_ENOMEM);
    cr_assert_str_eq(err.msg, "object of 10737418240 bytes does not fit: store holds 1073741824 "
                              "bytes and spilling is off");
    cr_assert_eq(mt_store_object_create(s, tid(1), (int64_t)1 << 29, true, &ref, &err), MT_OK);
    cr_assert_eq(mt_store_object_seal(s, tid(1), &err), MT_OK);
    /* an unpinned primary cannot be spilled without a spill dir */
    cr_assert_eq(mt_store_object_create(s, tid(2), ((int64_t)1 << 29) + 64, true, &ref, &err), MT_ENOMEM);
    cr_assert_str_eq(err.msg, "object of 536870976 bytes does not fit: 536870912 of 1073741824 "
                              "bytes in use (largest free block 536870912 bytes) and spilling is off");
    cr_assert_not(mt_store_object_contains(s, tid(2), NULL));
    mt_store_destroy(s);
}

Test(spill, unwritable_spill_dir_gives_enomem)
{
    char *dir = make_tmp_dir();
    mt_store *s = open_store(4096, dir);
    put(s, 1, 4096, true);
    rm_dir(dir); /* the disk "fails": spill dir gone */
    mt_store_ref ref;
    mt_error err;
    cr_assert_eq(mt_store_object_create(s, tid(2), 64, true, &ref, &err), MT_ENOMEM);
    char want[2048];
    snprintf(want, sizeof(want), "object of 64 bytes does not fit in the store (4096 bytes) and "
             "spilling failed: creating %s/%s: No such file or directory", dir, thex(tid(1)));
    cr_assert_str_eq(err.msg, want);
    mt_store_ref r1;
    cr_assert_eq(mt_store_object_get(s, tid(1), &r1, &err), MT_OK);
    check_bytes(mt_store_base(s) + r1.offset, 1, 4096);
    mt_store_destroy(s);
}

Test(spill, disk_failure_for_an_on_disk_object_is_enomem)
{
    char *dir = make_tmp_dir();
    mt_store *s = open_store(4096, dir);
    mt_store_ref ref;
    mt_error err;
    cr_assert_eq(mt_store_object_create(s, tid(1), INT64_MAX, true, &ref, &err), MT_ENOMEM);
    const char *want = "object of 9223372036854775807 bytes does not fit in the store (4096 bytes) "
                       "and spilling failed: creating ";
    cr_assert_eq(strncmp(err.msg, want, strlen(want)), 0, "%s", err.msg);
    cr_assert_not(mt_store_object_contains(s, tid(1), NULL));
    cr_assert_eq(count_files(dir), 0);
    mt_store_destroy(s);
    rm_dir(dir);
}

/* A spill folder on a 64 KiB tmpfs (root only; skipped otherwise). */
static bool tiny_disk(char *dir)
{
    if (geteuid() != 0) return false;
    if (mount("mt-tiny", dir, "tmpfs", 0, "size=64k,mode=0700") != 0) return false;
    return true;
}

Test(spill, full_disk_is_enospc_not_sigbus)
{
    char *dir = make_tmp_dir();
    if (!tiny_disk(dir)) {
        rm_dir(dir);
        cr_skip_test("needs root to mount a small tmpfs");
    }
    mt_store *s = open_store(4096, dir);
    mt_store_ref ref;
    mt_error err;
    /* Too big for the arena and for the disk: refused at create, not at first touch. */
    cr_assert_eq(mt_store_object_create(s, tid(1), 1 << 20, true, &ref, &err), MT_ENOSPC, "%s", err.msg);
    cr_assert(strstr(err.msg, "No space left on device"), "%s", err.msg);
    cr_assert_not(mt_store_object_contains(s, tid(1), NULL));
    cr_assert_eq(count_files(dir), 0, "no half-allocated file left");
    /* Fill the disk, then force a spill of a resident object: ENOSPC, object intact. */
    char filler[2048];
    snprintf(filler, sizeof filler, "%s/filler", dir);
    FILE *f = fopen(filler, "wb");
    cr_assert_not_null(f);
    static char junk[4096];
    while (fwrite(junk, 1, sizeof junk, f) == sizeof junk && fflush(f) == 0) {}
    fclose(f);
    put(s, 2, 4096, true);
    cr_assert_eq(mt_store_object_create(s, tid(3), 4096, true, &ref, &err), MT_ENOSPC, "%s", err.msg);
    mt_store_ref r2;
    cr_assert_eq(mt_store_object_get(s, tid(2), &r2, &err), MT_OK, "%s", err.msg);
    check_bytes(mt_store_base(s) + r2.offset, 2, 4096);
    cr_assert_eq(mt_store_object_release(s, tid(2), &err), MT_OK);
    mt_store_destroy(s);
    unlink(filler);
    cr_assert_eq(umount(dir), 0);
    rm_dir(dir);
}

/* ---- background spilling (spill_async) ---------------------------------- */

static mt_store *open_async_store(int64_t cap, const char *spill)
{
    mt_store *s = NULL;
    mt_error err;
    mt_store_options o = {.capacity = cap, .spill_dir = spill, .spill_async = true};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK, "%s", err.msg);
    return s;
}

Test(spill_async, create_waits_then_fits_after_a_background_spill)
{
    char *dir = make_tmp_dir();
    mt_store *s = open_async_store(4096, dir);
    for (uint32_t n = 1; n <= 4; n++) put(s, n, 1024, true);
    mt_store_ref ref;
    mt_error err;
    bool wait = false;
    /* Full: the create must wait for a spill; nothing is created meanwhile, no I/O done. */
    cr_assert_eq(mt_store_object_create_ex(s, tid(5), 1024, true, &wait, &ref, &err), MT_OK, "%s", err.msg);
    cr_assert(wait, "a create that needs a spill must wait for it");
    cr_assert_not(mt_store_object_contains(s, tid(5), NULL));
    cr_assert_eq(count_files(dir), 0, "the store itself wrote nothing");
    cr_assert_eq(mt_store_spill_pressure(s), 4096);
    mt_store_spill_job job;
    cr_assert(mt_store_spill_begin(s, &job));
    cr_assert(mt_id_equal(job.id, tid(1)), "the least recently used object spills first");
    cr_assert_eq(mt_store_spill_pressure(s), 3072, "bytes being spilled do not count as pressure");
    mt_store_spill_write(&job); /* a pool thread's part */
    cr_assert_eq(job.st, MT_OK, "%s", job.err.msg);
    cr_assert_eq(mt_store_spill_finish(s, &job), 1024);
    cr_assert_eq(mt_store_object_create_ex(s, tid(5), 1024, true, &wait, &ref, &err), MT_OK, "%s", err.msg);
    cr_assert_not(wait);
    cr_assert_eq(ref.where, MT_STORE_IN_ARENA);
    cr_assert_eq(mt_store_object_abort(s, tid(5), &err), MT_OK);
    /* A spilled object is read from its file: no restore on the store's thread. */
    mt_store_ref r1;
    cr_assert_eq(mt_store_object_get(s, tid(1), &r1, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(r1.where, MT_STORE_ON_DISK);
    const uint8_t *m = NULL;
    cr_assert_eq(mt_store_map_file(r1.path, r1.size, &m, &err), MT_OK, "%s", err.msg);
    check_bytes(m, 1, 1024);
    mt_store_unmap_file(m, r1.size);
    cr_assert_eq(mt_store_object_release(s, tid(1), &err), MT_OK);
    mt_store_stats st;
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.spilled_objects, 1);
    cr_assert_eq(st.restored_objects, 0);
    mt_store_destroy(s);
    cr_assert_eq(count_files(dir), 0);
    rm_dir(dir);
}

Test(spill_async, an_object_read_or_deleted_during_its_spill_stays_consistent)
{
    char *dir = make_tmp_dir();
    mt_alloc_stats a0, a1;
    mt_alloc_get_stats(&a0);
    mt_store *s = open_async_store(4096, dir);
    put(s, 1, 1024, true);
    put(s, 2, 1024, true);
    mt_store_spill_job j1, j2;
    cr_assert(mt_store_spill_begin(s, &j1));
    cr_assert(mt_store_spill_begin(s, &j2));
    /* 1 is read while its file is written: it stays in memory, the file goes. */
    mt_store_ref r;
    mt_error err;
    cr_assert_eq(mt_store_object_get(s, tid(1), &r, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(r.where, MT_STORE_IN_ARENA);
    /* 2 is deleted by its owner meanwhile: freed when the job ends. */
    cr_assert_eq(mt_store_object_delete(s, tid(2), &err), MT_OK);
    mt_store_spill_write(&j1);
    mt_store_spill_write(&j2);
    cr_assert_eq(mt_store_spill_finish(s, &j1), 0);
    cr_assert_eq(mt_store_spill_finish(s, &j2), 0);
    cr_assert_eq(count_files(dir), 0, "no file survives a spill that did not free memory");
    cr_assert_not(mt_store_object_contains(s, tid(2), NULL));
    check_bytes(mt_store_base(s) + r.offset, 1, 1024);
    cr_assert_eq(mt_store_object_release(s, tid(1), &err), MT_OK);
    mt_store_stats st;
    mt_store_get_stats(s, &st);
    cr_assert_eq(st.num_objects, 1);
    cr_assert_eq(st.num_pinned, 0);
    cr_assert_eq(st.used, 1024);
    /* 1 is evictable again: the next spill takes it. */
    cr_assert(mt_store_spill_begin(s, &j1));
    mt_store_spill_write(&j1);
    cr_assert_eq(mt_store_spill_finish(s, &j1), 1024);
    cr_assert_not(mt_store_spill_begin(s, &j2), "nothing left to spill");
    mt_store_destroy(s);
    mt_alloc_get_stats(&a1);
    cr_assert_eq(a1.live_allocations, a0.live_allocations, "spill job paths are freed");
    rm_dir(dir);
}

Test(spill_async, nothing_to_spill_means_no_wait)
{
    char *dir = make_tmp_dir();
    mt_store *s = open_async_store(4096, dir);
    mt_store_ref ref, big;
    mt_error err;
    bool wait = true;
    /* Pinned objects cannot spill: the create does not wait, it takes a file. */
    cr_assert_eq(mt_store_object_create_ex(s, tid(1), 4096, true, &wait, &ref, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_store_object_create_ex(s, tid(2), 1024, true, &wait, &big, &err), MT_OK, "%s", err.msg);
    cr_assert_not(wait);
    cr_assert_eq(big.where, MT_STORE_ON_DISK);
    cr_assert_eq(mt_store_object_abort(s, tid(2), &err), MT_OK);
    cr_assert_eq(mt_store_object_abort(s, tid(1), &err), MT_OK);
    mt_store_destroy(s);
    rm_dir(dir);
}
