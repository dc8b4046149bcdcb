/*
 * store.c — object store benchmark (`bench/store`).
 *
 * Measures, single-threaded, as one `name: value unit` line per figure:
 *   - small-object ops: create+seal, get+release, delete of 64-byte objects
 *     with 100,000 objects live (the node daemon's per-RPC work), ns/op;
 *   - copying a 1 GiB object into the arena: warm arena pages vs a plain
 *     memcpy into warm heap memory (the peer: ratio = ours / memcpy);
 *   - first-touch cost: writing 1 GiB into a fresh memfd mapping (page
 *     faults + zeroing), vs MAP_POPULATE on the client mapping, vs fallocate
 *     on the memfd at creation;
 *   - the cost of freeing a 1 GiB block, of trimming it (hole punch), and
 *     of refaulting it after the trim.
 * Runs on the main thread only. Needs ~3 GiB of RAM.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_client.h"

#define GIB ((int64_t)1 << 30)
enum { LIVE = 100000, OPS = 1000000 };

static double now_s(void) { return (double)mt_time_now_ns() / 1e9; }

static void die(const char *what, const mt_error *err)
{
    fprintf(stderr, "store bench: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static mt_id id_of(uint32_t n)
{
    mt_id id = {{0}};
    memcpy(id.bytes + 16, &n, 4);
    id.bytes[0] = 0x42;
    return id;
}

/* Steady state: LIVE objects stay; one at a time is put, read and dropped (per-RPC work). */
static void bench_small_cycle(mt_store *s)
{
    mt_store_ref ref;
    mt_error err;
    double t0 = now_s();
    for (uint32_t i = LIVE; i < LIVE + OPS; i++) {
        mt_id id = id_of(i);
        if (mt_store_object_create(s, id, 64, true, &ref, &err)) die("put", &err);
        mt_store_base(s)[ref.offset] = (uint8_t)i;
        if (mt_store_object_seal(s, id, &err)) die("seal", &err);
        if (mt_store_object_get(s, id, &ref, &err)) die("get", &err);
        if (mt_store_object_release(s, id, &err)) die("release", &err);
        if (mt_store_object_delete(s, id, &err)) die("delete", &err);
    }
    double dt = now_s() - t0;
    printf("store_small_cycle_5ops: %.0f ns/cycle (%.0f ns/op)\n", dt / OPS * 1e9, dt / OPS / 5 * 1e9);
    printf("store_small_cycles: %.0f objects/s\n", OPS / dt);
}

/* Batches: OPS objects live at once (table and metadata far bigger than the caches). */
static void bench_small_batch(mt_store *s)
{
    mt_store_ref ref;
    mt_error err;
    double t0 = now_s();
    for (uint32_t i = LIVE; i < LIVE + OPS; i++) {
        if (mt_store_object_create(s, id_of(i), 64, true, &ref, &err)) die("put", &err);
        mt_store_base(s)[ref.offset] = (uint8_t)i;
        if (mt_store_object_seal(s, id_of(i), &err)) die("seal", &err);
    }
    double t1 = now_s();
    for (uint32_t i = LIVE; i < LIVE + OPS; i++) {
        if (mt_store_object_get(s, id_of(i), &ref, &err)) die("get", &err);
        if (mt_store_object_release(s, id_of(i), &err)) die("release", &err);
    }
    double t2 = now_s();
    for (uint32_t i = LIVE; i < LIVE + OPS; i++)
        if (mt_store_object_delete(s, id_of(i), &err)) die("delete", &err);
    double t3 = now_s();
    printf("store_batch_create_seal_64B: %.0f ns/object (1.1M live)\n", (t1 - t0) / OPS * 1e9);
    printf("store_batch_get_release_64B: %.0f ns/object\n", (t2 - t1) / OPS * 1e9);
    printf("store_batch_delete_64B: %.0f ns/object\n", (t3 - t2) / OPS * 1e9);
}

static void bench_small(void)
{
    mt_store *s;
    mt_error err;
    mt_store_options o = {.capacity = 256 << 20};
    if (mt_store_create(&o, &s, &err) != MT_OK) die("create", &err);
    mt_store_ref ref;
    for (uint32_t i = 0; i < LIVE; i++) {
        if (mt_store_object_create(s, id_of(i), 64, true, &ref, &err)) die("put", &err);
        if (mt_store_object_seal(s, id_of(i), &err)) die("seal", &err);
    }
    bench_small_cycle(s);
    bench_small_batch(s);
    mt_store_destroy(s);
}

static double copy_gbps(uint8_t *dst, const uint8_t *src, int64_t n)
{
    double t = now_s();
    memcpy(dst, src, (size_t)n);
    return (double)n / (now_s() - t) / 1e9;
}

/* Fresh memfd of 1 GiB mapped by a "client"; returns the write bandwidth of the first copy. */
static double fresh_copy(const uint8_t *src, int mode, double *setup_s)
{
    int fd = memfd_create("bench", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, GIB) != 0) die("memfd", NULL);
    double t = now_s();
    if (mode == 2 && fallocate(fd, 0, 0, GIB) != 0) die("fallocate", NULL);
    uint8_t *m;
    mt_error err;
    if (mt_store_map_create(fd, GIB, mode == 1 ? MT_STORE_MAP_POPULATE : 0, &m, &err)) die("map", &err);
    *setup_s = now_s() - t;
    double g = copy_gbps(m, src, GIB);
    mt_store_map_destroy(m, GIB);
    close(fd);
    return g;
}

static void bench_large(void)
{
    uint8_t *src = malloc(GIB), *heap = malloc(GIB);
    if (!src || !heap) die("malloc", NULL);
    memset(src, 7, GIB);
    memset(heap, 1, GIB);
    double peer = 0, ours = 0, fresh_heap;
    uint8_t *fresh = malloc(GIB);
    if (!fresh) die("malloc", NULL);
    fresh_heap = copy_gbps(fresh, src, GIB);
    free(fresh);
    for (int r = 0; r < 3; r++) {
        double g = copy_gbps(heap, src, GIB);
        if (g > peer) peer = g;
    }
    mt_store *s;
    mt_error err;
    mt_store_options o = {.capacity = GIB + (1 << 20)};
    if (mt_store_create(&o, &s, &err) != MT_OK) die("create", &err);
    mt_store_ref ref;
    double first = 0;
    for (int r = 0; r < 4; r++) {
        if (mt_store_object_create(s, id_of(1), GIB - 4096, true, &ref, &err)) die("big put", &err);
        double g = copy_gbps(mt_store_base(s) + ref.offset, src, GIB - 4096);
        if (r == 0) first = g;
        else if (g > ours) ours = g;
        double t = now_s();
        if (mt_store_object_abort(s, id_of(1), &err)) die("abort", &err);
        if (r == 3) printf("store_free_1GiB: %.3f ms\n", (now_s() - t) * 1e3);
    }
    double t = now_s();
    int64_t trimmed = mt_store_trim(s, 1 << 20);
    printf("store_trim_1GiB: %.0f ms (%lld bytes)\n", (now_s() - t) * 1e3, (long long)trimmed);
    if (mt_store_object_create(s, id_of(1), GIB - 4096, true, &ref, &err)) die("big put", &err);
    printf("store_put_1GiB_after_trim: %.2f GB/s\n", copy_gbps(mt_store_base(s) + ref.offset, src, GIB - 4096));
    printf("memcpy_1GiB_warm_heap: %.2f GB/s\n", peer);
    printf("memcpy_1GiB_fresh_heap: %.2f GB/s\n", fresh_heap);
    printf("store_put_1GiB_fresh_arena: %.2f GB/s\n", first);
    printf("store_put_1GiB_reused_block: %.2f GB/s (ratio %.2f)\n", ours, ours / peer);
    mt_store_destroy(s);
    const char *names[] = {"lazy", "map_populate", "fallocate"};
    for (int mode = 0; mode < 3; mode++) {
        double setup, g = fresh_copy(src, mode, &setup);
        printf("first_touch_%s_setup: %.0f ms\n", names[mode], setup * 1e3);
        printf("first_touch_%s_copy: %.2f GB/s (total %.0f ms)\n", names[mode], g,
               (setup + (double)GIB / g / 1e9) * 1e3);
    }
    free(src);
    free(heap);
}

int main(void)
{
    bench_small();
    bench_large();
    return 0;
}
