/*
 * test_objects.c — objects through the shared-memory store of a real
 * cluster started with a small store (--object-store-memory 64 MiB): an
 * object bigger than the whole store goes to disk and reads back equal;
 * several objects that together overflow the store spill and restore; a
 * store-sized argument travels through a worker and back.
 */
#include "integration/itest_cluster.h"

#define MIB (1024 * 1024)

static itest_cluster C;

static void teardown(void)
{
    itest_teardown(&C);
}

/* Deterministic bytes that differ per object and per position. */
static uint8_t *pattern(size_t n, uint64_t seed)
{
    uint64_t *p = malloc(n);
    cr_assert_not_null(p);
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        p[i] = x;
    }
    return (uint8_t *)p;
}

static void expect_equal(mt_ref *r, const uint8_t *want, size_t n, const char *what)
{
    mt_value v = {0};
    mt_error err = {0};
    mt_status st = mt_get(&r, 1, 60000, &v, &err);
    cr_assert_eq(st, MT_OK, "%s: mt_get: %s: %s", what, mt_status_name(st), err.msg);
    cr_assert_eq(v.size, n, "%s: %zu bytes back, %zu put", what, v.size, n);
    cr_assert(memcmp(v.data, want, n) == 0, "%s: bytes differ", what);
    mt_value_release(&v);
}

/* Bytes of regular files under <session>/spill (recursively). */
static int64_t spill_bytes(void)
{
    char cmd[800], out[64];
    snprintf(cmd, sizeof cmd, "du -sb --apparent-size '%s/spill' 2>/dev/null", C.session);
    FILE *f = popen(cmd, "r");
    int64_t n = 0;
    if (f && fgets(out, sizeof out, f))
        n = strtoll(out, NULL, 10);
    if (f)
        pclose(f);
    return n;
}

Test(integration, object_bigger_than_store, .fini = teardown, .timeout = 180)
{
    const size_t n = 100 * MIB;
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", "--object-store-memory", "67108864",
                                     NULL});
    itest_connect(&C);

    uint8_t *src = pattern(n, 7);
    mt_ref *r = NULL;
    mt_error err = {0};
    mt_status st = mt_put(src, n, &r, &err);
    cr_assert_eq(st, MT_OK, "put 100 MiB into a 64 MiB store: %s: %s", mt_status_name(st),
                 err.msg);
    cr_assert_geq(spill_bytes(), (int64_t)n, "the 100 MiB object is not under %s/spill",
                  C.session);
    expect_equal(r, src, n, "100 MiB object");
    expect_equal(r, src, n, "100 MiB object, second get");

    /* The owner drops it: the disk copy goes away. */
    mt_ref_release(r);
    double deadline = itest_now() + 10;
    while (spill_bytes() >= (int64_t)n && itest_now() < deadline)
        itest_sleep_ms(50);
    cr_expect_lt(spill_bytes(), (int64_t)n, "spill file kept after the last ref was released");
    free(src);
    mt_shutdown();
    itest_stop_check(&C);
}

Test(integration, spill_and_restore, .fini = teardown, .timeout = 180)
{
    enum { K = 5 };
    const size_t n = 24 * MIB; /* 5 x 24 MiB = 120 MiB through a 64 MiB store */
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", "--object-store-memory", "67108864",
                                     NULL});
    itest_connect(&C);

    uint8_t *src[K];
    mt_ref *refs[K];
    mt_error err = {0};
    for (int i = 0; i < K; i++) {
        src[i] = pattern(n, 100 + (uint64_t)i);
        mt_status st = mt_put(src[i], n, &refs[i], &err);
        cr_assert_eq(st, MT_OK, "put %d: %s: %s", i, mt_status_name(st), err.msg);
    }
    cr_assert_geq(spill_bytes(), (int64_t)n, "120 MiB of primaries in a 64 MiB store: nothing spilled");
    /* Oldest first (spilled), then newest first, so restores evict others in turn. */
    for (int i = 0; i < K; i++)
        expect_equal(refs[i], src[i], n, "spilled object, forward");
    for (int i = K - 1; i >= 0; i--)
        expect_equal(refs[i], src[i], n, "spilled object, backward");

    /* A worker reads a stored argument and returns it through the store. */
    mt_arg arg = MT_ARG_REF(refs[0]);
    mt_ref *echoed = NULL;
    mt_status st = mt_task_submit("manta.echo", &arg, 1, NULL, &echoed, &err);
    cr_assert_eq(st, MT_OK, "submit manta.echo: %s", err.msg);
    expect_equal(echoed, src[0], n, "24 MiB echoed by a worker");
    mt_ref_release(echoed);
    for (int i = 0; i < K; i++) {
        mt_ref_release(refs[i]);
        free(src[i]);
    }
    mt_shutdown();
    itest_stop_check(&C);
}

/* Removes every spill file (what a temp cleaner or a lost disk does). */
static void remove_spill_files(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "find '%s/spill' -type f -delete", C.session);
    cr_assert_eq(system(cmd), 0);
}

/* A task result lost from the store (its spill file removed) is rebuilt by
 * running its task again (lineage); a lost put, which no task can make
 * again, fails with a clear error. */
Test(integration, lost_spilled_result_is_rebuilt, .fini = teardown, .timeout = 180)
{
    enum { K = 5 };
    const size_t n = 24 * MIB;
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", "--object-store-memory", "67108864", NULL});
    itest_connect(&C);
    uint8_t *want = malloc(n);
    for (size_t i = 0; i < n; i++) want[i] = (uint8_t)((i * 7 + 3) & 0xff); /* manta.bytes */
    mt_ref *refs[K];
    mt_error err = {0};
    for (int i = 0; i < K; i++) {
        mt_arg a = MT_ARG_I64((int64_t)n);
        cr_assert_eq(mt_task_submit("manta.bytes", &a, 1, NULL, &refs[i], &err), MT_OK, "%s", err.msg);
    }
    bool ready[K];
    int nready = 0;
    cr_assert_eq(mt_wait(refs, K, K, 60000, ready, &nready, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(nready, K);
    cr_assert_geq(spill_bytes(), (int64_t)n, "120 MiB of results in a 64 MiB store: nothing spilled");
    remove_spill_files();
    for (int i = 0; i < K; i++) expect_equal(refs[i], want, n, "a result whose spill file was removed");
    for (int i = 0; i < K; i++) mt_ref_release(refs[i]);

    /* Multi-return tasks share one lineage: a lost return is rebuilt alone,
     * also after its sibling was released. */
    enum { T = 3, R = 2 };
    const size_t m = 16 * MIB;
    uint8_t *wantj[R];
    for (int j = 0; j < R; j++) {
        wantj[j] = malloc(m);
        for (size_t i = 0; i < m; i++) wantj[j][i] = (uint8_t)((i * 7 + 3 + j) & 0xff);
    }
    mt_ref *mr[T][R];
    for (int t = 0; t < T; t++) {
        mt_arg a = MT_ARG_I64((int64_t)m);
        mt_task_options o = {.num_returns = R};
        cr_assert_eq(mt_task_submit("manta.bytes", &a, 1, &o, mr[t], &err), MT_OK, "%s", err.msg);
    }
    for (int t = 0; t < T; t++) cr_assert_eq(mt_wait(mr[t], R, R, 60000, ready, &nready, &err), MT_OK, "%s", err.msg);
    cr_assert_geq(spill_bytes(), (int64_t)m, "96 MiB of results in a 64 MiB store: nothing spilled");
    remove_spill_files();
    mt_ref_release(mr[0][0]); /* its sibling must still come back */
    expect_equal(mr[0][1], wantj[1], m, "return 1 of a task whose return 0 was released");
    for (int t = 1; t < T; t++)
        for (int j = 0; j < R; j++) expect_equal(mr[t][j], wantj[j], m, "a return of a multi-return task");
    mt_ref_release(mr[0][1]);
    for (int t = 1; t < T; t++)
        for (int j = 0; j < R; j++) mt_ref_release(mr[t][j]);
    for (int j = 0; j < R; j++) free(wantj[j]);

    /* A lost argument is rebuilt before the task that reads it runs again. */
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += want[i];
    for (int i = 0; i < K; i++) {
        mt_arg a = MT_ARG_I64((int64_t)n);
        cr_assert_eq(mt_task_submit("manta.bytes", &a, 1, NULL, &refs[i], &err), MT_OK, "%s", err.msg);
    }
    cr_assert_eq(mt_wait(refs, K, K, 60000, ready, &nready, &err), MT_OK, "%s", err.msg);
    cr_assert_geq(spill_bytes(), (int64_t)n);
    remove_spill_files();
    mt_ref *digests[K];
    for (int i = 0; i < K; i++) {
        mt_arg a = MT_ARG_REF(refs[i]);
        cr_assert_eq(mt_task_submit("manta.digest", &a, 1, NULL, &digests[i], &err), MT_OK, "%s", err.msg);
        mt_ref_release(refs[i]); /* the task holds its argument (and its lineage) */
    }
    for (int i = 0; i < K; i++) {
        mt_value v;
        cr_assert_eq(mt_get(&digests[i], 1, 60000, &v, &err), MT_OK, "digest of a lost argument: %s", err.msg);
        cr_assert_eq(v.size, 16);
        int64_t d[2];
        memcpy(d, v.data, 16);
        cr_assert_eq(d[0], (int64_t)n);
        cr_assert_eq(d[1], sum, "the rebuilt argument's bytes");
        mt_value_release(&v);
        mt_ref_release(digests[i]);
    }

    /* Puts have no lineage: losing one is an error naming the object. */
    uint8_t *src = pattern(n, 11);
    for (int i = 0; i < K; i++)
        cr_assert_eq(mt_put(src, n, &refs[i], &err), MT_OK, "%s", err.msg);
    cr_assert_geq(spill_bytes(), (int64_t)n);
    remove_spill_files();
    int lost = 0;
    for (int i = 0; i < K; i++) {
        mt_value v;
        mt_status st = mt_get(&refs[i], 1, 30000, &v, &err);
        if (st == MT_OK) {
            cr_assert(memcmp(v.data, src, n) == 0, "a put still in memory reads back equal");
            mt_value_release(&v);
            continue;
        }
        cr_assert_eq(st, MT_ENOTFOUND, "%s: %s", mt_status_name(st), err.msg);
        cr_assert(strstr(err.msg, "was lost") && strstr(err.msg, "cannot be rebuilt"), "%s", err.msg);
        lost++;
    }
    cr_assert_geq(lost, 1, "no put was lost with its spill file");
    for (int i = 0; i < K; i++) mt_ref_release(refs[i]);
    free(src);
    free(want);
    mt_shutdown();
    itest_stop_check(&C);
}
