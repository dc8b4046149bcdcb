/*
 * test_tasks.c — tasks and actors on a real cluster (`manta start --head` on
 * loopback in a private temp dir): 10,000 tasks with exact results, tasks
 * chained through refs, actor method ordering. Each test starts its own
 * cluster, stops it with `manta stop` and checks that no process of the
 * session is left; the fixture kills everything whatever happens.
 */
#include "integration/itest_cluster.h"

static itest_cluster C;

static void teardown(void)
{
    itest_teardown(&C);
}

static mt_ref *add2(mt_arg a, mt_arg b)
{
    mt_arg args[2] = {a, b};
    mt_ref *r = NULL;
    mt_error err = {0};
    mt_status st = mt_task_submit("manta.add_i64", args, 2, NULL, &r, &err);
    cr_assert_eq(st, MT_OK, "submit manta.add_i64: %s: %s", mt_status_name(st), err.msg);
    return r;
}

Test(integration, ten_thousand_tasks, .fini = teardown, .timeout = 180)
{
    enum { N = 10000 };
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);

    mt_ref **refs = calloc(N, sizeof *refs);
    mt_value *vals = calloc(N, sizeof *vals);
    cr_assert(refs && vals);
    for (int i = 0; i < N; i++)
        refs[i] = add2(MT_ARG_I64(i), MT_ARG_I64(2 * (int64_t)i));
    mt_error err = {0};
    mt_status st = mt_get(refs, N, 120000, vals, &err);
    cr_assert_eq(st, MT_OK, "mt_get of %d tasks: %s: %s", N, mt_status_name(st), err.msg);
    for (int i = 0; i < N; i++) {
        int64_t x = -1;
        cr_assert_eq(mt_value_i64(&vals[i], &x, &err), MT_OK, "value %d: %s", i, err.msg);
        cr_assert_eq(x, 3 * (int64_t)i, "task %d returned %lld", i, (long long)x);
        mt_value_release(&vals[i]);
        mt_ref_release(refs[i]);
    }
    /* Tasks run in the cluster's worker processes, not in the driver. */
    mt_ref *p = NULL;
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, NULL, &p, &err), MT_OK, "%s", err.msg);
    int64_t pid = itest_get_i64(p, 30000);
    mt_ref_release(p);
    int workers[64];
    int nw = itest_find_role(&C, "worker", workers, 64);
    bool found = false;
    for (int i = 0; i < nw; i++)
        found = found || workers[i] == pid;
    cr_assert(found, "manta.pid ran in pid %lld, not in one of the %d workers", (long long)pid,
              nw);
    free(refs);
    free(vals);
    mt_shutdown();
    itest_stop_check(&C);
}

Test(integration, chained_refs, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);

    mt_ref *r1 = add2(MT_ARG_I64(1), MT_ARG_I64(2));        /* 3 */
    mt_ref *r2 = add2(MT_ARG_REF(r1), MT_ARG_I64(10));      /* 13 */
    mt_ref *r3 = add2(MT_ARG_REF(r2), MT_ARG_REF(r1));      /* 16 */
    cr_assert_eq(itest_get_i64(r3, 30000), 16);
    cr_assert_eq(itest_get_i64(r1, 30000), 3);

    /* A 200-long chain submitted before any result exists, rooted in a put. */
    mt_ref *cur = NULL;
    mt_error err = {0};
    int64_t seed = 1000;
    cr_assert_eq(mt_put(&seed, sizeof seed, &cur, &err), MT_OK, "%s", err.msg);
    for (int i = 0; i < 200; i++) {
        mt_ref *next = add2(MT_ARG_REF(cur), MT_ARG_I64(i));
        mt_ref_release(cur);
        cur = next;
    }
    cr_assert_eq(itest_get_i64(cur, 60000), 1000 + 199 * 200 / 2);
    mt_ref_release(cur);

    /* Fan-in: a task over two results that were submitted independently. */
    mt_ref *a = add2(MT_ARG_I64(40), MT_ARG_I64(0));
    mt_ref *b = add2(MT_ARG_I64(2), MT_ARG_I64(0));
    mt_ref *c = add2(MT_ARG_REF(a), MT_ARG_REF(b));
    cr_assert_eq(itest_get_i64(c, 30000), 42);
    mt_ref_release(a), mt_ref_release(b), mt_ref_release(c);
    mt_ref_release(r1), mt_ref_release(r2), mt_ref_release(r3);
    mt_shutdown();
    itest_stop_check(&C);
}

Test(integration, actor_method_order, .fini = teardown, .timeout = 120)
{
    enum { N = 2000 };
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);

    mt_actor *a = NULL;
    mt_error err = {0};
    mt_status st = mt_actor_create("manta.Counter", NULL, 0, NULL, &a, &err);
    cr_assert_eq(st, MT_OK, "create manta.Counter: %s: %s", mt_status_name(st), err.msg);
    mt_ref **refs = calloc(N, sizeof *refs);
    mt_value *vals = calloc(N, sizeof *vals);
    cr_assert(refs && vals);
    /* All calls are in flight together; each returns the counter after its increment. */
    for (int i = 0; i < N; i++) {
        st = mt_actor_call(a, "incr", NULL, 0, 1, &refs[i], &err);
        cr_assert_eq(st, MT_OK, "call %d: %s: %s", i, mt_status_name(st), err.msg);
    }
    st = mt_get(refs, N, 60000, vals, &err);
    cr_assert_eq(st, MT_OK, "mt_get: %s: %s", mt_status_name(st), err.msg);
    for (int i = 0; i < N; i++) {
        int64_t x = -1;
        cr_assert_eq(mt_value_i64(&vals[i], &x, &err), MT_OK, "%s", err.msg);
        cr_assert_eq(x, i + 1, "call %d saw counter %lld: calls ran out of order", i,
                     (long long)x);
        mt_value_release(&vals[i]);
        mt_ref_release(refs[i]);
    }
    mt_ref *g = NULL;
    cr_assert_eq(mt_actor_call(a, "get", NULL, 0, 1, &g, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(itest_get_i64(g, 30000), N);
    mt_ref_release(g);

    /* append(i) records the order the actor ran the calls in; history returns it. */
    for (int i = 0; i < N; i++) {
        mt_arg arg = MT_ARG_I64(i * 7);
        cr_assert_eq(mt_actor_call(a, "append", &arg, 1, 1, &refs[i], &err), MT_OK, "%s",
                     err.msg);
    }
    cr_assert_eq(mt_actor_call(a, "history", NULL, 0, 1, &g, &err), MT_OK, "%s", err.msg);
    mt_value h = {0};
    st = mt_get(&g, 1, 60000, &h, &err);
    cr_assert_eq(st, MT_OK, "history: %s: %s", mt_status_name(st), err.msg);
    cr_assert_eq(h.size, N * sizeof(int64_t));
    for (int i = 0; i < N; i++) {
        int64_t x;
        memcpy(&x, (const char *)h.data + i * sizeof x, sizeof x);
        cr_assert_eq(x, i * 7, "history[%d] = %lld: calls ran out of order", i, (long long)x);
        mt_ref_release(refs[i]);
    }
    mt_value_release(&h);
    mt_ref_release(g);
    free(refs);
    free(vals);
    mt_actor_release(a);
    mt_shutdown();
    itest_stop_check(&C);
}
