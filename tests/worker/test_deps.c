/*
 * test_deps.c — task arguments that are refs: a submitted task keeps its
 * inputs alive after the caller releases them; submitting with a pending
 * argument returns at once and the task starts when the argument is ready;
 * a failed argument fails the task with its error; actor calls keep their
 * order when an earlier call waits. Each test runs on an embedded 2-CPU
 * cluster.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker/worker_test_util.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static mt_ref *submit(const char *fn, const mt_arg *args, int n)
{
    mt_ref *r = NULL;
    mt_error err;
    cr_assert_eq(mt_task_submit(fn, args, n, NULL, &r, &err), MT_OK, "%s: %s", fn, err.msg);
    return r;
}

/* f(put(x)), then release the ref at once: f still gets x (inline and in the store). */
Test(deps, released_argument_stays_alive_for_the_task, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_error err;
    for (int big = 0; big < 2; big++) {
        size_t n = big ? 1 << 20 : 64;
        char *buf = malloc(n);
        for (size_t i = 0; i < n; i++) buf[i] = (char)(i * 13 + 1);
        mt_ref *x = NULL;
        cr_assert_eq(mt_put(buf, n, &x, &err), MT_OK, "%s", err.msg);
        /* queued behind a sleeping task so the release happens before it runs */
        mt_arg s = MT_ARG_I64(200);
        mt_ref *sl1 = submit("manta.sleep_ms", &s, 1), *sl2 = submit("manta.sleep_ms", &s, 1);
        mt_arg a = MT_ARG_REF(x);
        mt_ref *r = submit("manta.echo", &a, 1);
        mt_ref_release(x);
        mt_value v;
        cr_assert_eq(mt_get(&r, 1, 20000, &v, &err), MT_OK, "%s", err.msg);
        cr_assert_eq(v.size, n);
        cr_assert_eq(memcmp(v.data, buf, n), 0);
        mt_value_release(&v);
        mt_ref_release(r);
        get_i64(sl1);
        get_i64(sl2);
        mt_ref_release(sl1);
        mt_ref_release(sl2);
        free(buf);
    }
}

/* A 500 ms dependency: the dependent submit returns in < 1 ms, the chain completes. */
Test(deps, submit_with_pending_dependency_returns_at_once, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_arg w = MT_ARG_I64(1);
    mt_ref *warm = submit("manta.add_i64", &w, 1); /* a worker is up before timing */
    get_i64(warm);
    mt_ref_release(warm);
    mt_arg s = MT_ARG_I64(500);
    double t0 = now_ms();
    mt_ref *slow = submit("manta.sleep_ms", &s, 1);
    double t1 = now_ms();
    mt_arg args[2] = {MT_ARG_REF(slow), MT_ARG_I64(7)};
    mt_ref *sum = submit("manta.add_i64", args, 2);
    double t2 = now_ms();
    mt_ref_release(slow); /* the waiting task holds its own reference */
    cr_assert_lt(t2 - t1, 1.0, "submit with a pending argument took %.3f ms", t2 - t1);
    cr_assert_eq(get_i64(sum), 507);
    double t3 = now_ms();
    cr_assert_geq(t3 - t0, 500.0);
    cr_assert_lt(t3 - t0, 2000.0, "the chain took %.0f ms", t3 - t0);
    mt_ref_release(sum);
}

/* A chain of ten dependent tasks submitted without waiting: one result, in order. */
Test(deps, chain_submitted_up_front, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_arg one = MT_ARG_I64(1);
    mt_ref *cur = submit("manta.add_i64", &one, 1);
    for (int i = 0; i < 10; i++) {
        mt_arg a[2] = {MT_ARG_REF(cur), MT_ARG_I64(1)};
        mt_ref *next = submit("manta.add_i64", a, 2);
        mt_ref_release(cur);
        cur = next;
    }
    cr_assert_eq(get_i64(cur), 11);
    mt_ref_release(cur);
}

/* An argument that fails fails the waiting task with its error. */
Test(deps, failed_dependency_fails_the_task, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_arg s = MT_ARG_I64(100);
    mt_ref *slow = submit("manta.sleep_ms", &s, 1);
    mt_arg f[2] = {MT_ARG_REF(slow), MT_ARG_BYTES("boom", 4)};
    mt_ref *bad = submit("manta.fail", f, 2); /* waits on slow, then fails: arg 2 must be int64 */
    mt_arg m[1] = {MT_ARG_BYTES("kaput", 5)};
    mt_ref *direct = submit("manta.fail", m, 1);
    mt_arg a[1] = {MT_ARG_REF(direct)};
    mt_ref *after = submit("manta.echo", a, 1);
    mt_value v;
    mt_error err;
    cr_assert_neq(mt_get(&after, 1, 20000, &v, &err), MT_OK);
    cr_assert(strstr(err.msg, "kaput"), "%s", err.msg);
    cr_assert_neq(mt_get(&bad, 1, 20000, &v, &err), MT_OK);
    mt_ref_release(slow);
    mt_ref_release(bad);
    mt_ref_release(direct);
    mt_ref_release(after);
}

/* Calls on one actor keep submission order when the first one waits for an argument. */
Test(deps, actor_calls_keep_order_behind_a_waiting_call, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_actor *a;
    mt_error err;
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, NULL, &a, &err), MT_OK, "%s", err.msg);
    mt_arg s = MT_ARG_I64(300);
    mt_ref *slow = submit("manta.sleep_ms", &s, 1);
    mt_arg args[1] = {MT_ARG_REF(slow)};
    mt_ref *r[3];
    double t0 = now_ms();
    cr_assert_eq(mt_actor_call(a, "incr", args, 1, 1, &r[0], &err), MT_OK, "%s", err.msg); /* += 300 */
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r[1], &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r[2], &err), MT_OK, "%s", err.msg);
    cr_assert_lt(now_ms() - t0, 5.0, "actor calls behind a pending argument blocked");
    cr_assert_eq(get_i64(r[0]), 300);
    cr_assert_eq(get_i64(r[1]), 301, "the second call ran after the waiting first one");
    cr_assert_eq(get_i64(r[2]), 302);
    for (int i = 0; i < 3; i++) mt_ref_release(r[i]);
    mt_ref_release(slow);
    mt_actor_release(a);
}

/* A task that submits 1,000 tasks and gets them (the runtime inside workers);
 * on 2 CPUs the parent's CPU is free while it waits. Nested twice deep too. */
Test(deps, task_submits_and_gets_a_thousand_tasks, .init = setup_user, .fini = teardown, .timeout = 120)
{
    mt_arg n = MT_ARG_I64(1000);
    mt_ref *r = submit("user_fanout", &n, 1);
    cr_assert_eq(get_i64(r), 1000 * 1001 / 2);
    mt_ref_release(r);
    /* three at once: more parents than CPUs, each waiting on children */
    mt_ref *rs[3];
    mt_arg m = MT_ARG_I64(50);
    for (int i = 0; i < 3; i++) rs[i] = submit("user_fanout", &m, 1);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(get_i64(rs[i]), 50 * 51 / 2);
        mt_ref_release(rs[i]);
    }
}

/* An actor handle passed to a task that calls it; the creator's calls see its effect. */
Test(deps, actor_handle_passed_to_a_task, .init = setup_user, .fini = teardown, .timeout = 60)
{
    mt_actor *a;
    mt_error err;
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, NULL, &a, &err), MT_OK, "%s", err.msg);
    char buf[MT_ACTOR_HANDLE_MAX];
    size_t len = 0;
    cr_assert_eq(mt_actor_to_bytes(a, buf, sizeof buf, &len, &err), MT_OK, "%s", err.msg);
    mt_arg args[2] = {MT_ARG_BYTES(buf, len), MT_ARG_I64(5)};
    mt_ref *r = submit("user_call_actor", args, 2);
    cr_assert_eq(get_i64(r), 5, "the task's five calls");
    mt_ref_release(r);
    mt_ref *mine;
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &mine, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(get_i64(mine), 6, "the creator sees the task's calls");
    mt_ref_release(mine);
    /* a handle from bytes in the driver works too; garbage is a clear error */
    mt_actor *b;
    cr_assert_eq(mt_actor_from_bytes(buf, len, &b, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_actor_call(b, "incr", NULL, 0, 1, &mine, &err), MT_OK);
    cr_assert_eq(get_i64(mine), 7);
    mt_ref_release(mine);
    mt_actor_release(b);
    cr_assert_eq(mt_actor_from_bytes("nope", 4, &b, &err), MT_EPARSE);
    cr_assert_null(b);
    mt_actor_release(a);
}

static void expect_digest(mt_ref *r, int64_t size, int64_t sum)
{
    mt_value v;
    mt_error err;
    cr_assert_eq(mt_get(&r, 1, 30000, &v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(v.size, 16);
    int64_t got[2];
    memcpy(got, v.data, sizeof got);
    cr_assert_eq(got[0], size);
    cr_assert_eq(got[1], sum);
    mt_value_release(&v);
}

/* A ref passed through three tasks (each hands it on) and inside an object resolves,
 * for a small (inline) and a big (stored) object; the driver releases it right away. */
Test(deps, refs_through_tasks_and_inside_objects, .init = setup_user, .fini = teardown, .timeout = 60)
{
    mt_error err;
    for (int big = 0; big < 2; big++) {
        size_t n = big ? 3 << 20 : 100;
        unsigned char *buf = malloc(n);
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++) sum += buf[i] = (unsigned char)(i * 31 + 7);
        mt_ref *x = NULL;
        cr_assert_eq(mt_put(buf, n, &x, &err), MT_OK, "%s", err.msg);
        mt_arg a[2] = {MT_ARG_BORROW(x), MT_ARG_I64(2)};
        mt_ref *relayed = submit("user_relay", a, 2);
        /* inside an object */
        static char rb[512];
        size_t len = 0;
        cr_assert_eq(mt_ref_to_bytes(x, rb, sizeof rb, &len, &err), big ? MT_OK : MT_OK, "%s", err.msg);
        mt_ref *outer = NULL;
        cr_assert_eq(mt_put(rb, len, &outer, &err), MT_OK, "%s", err.msg);
        mt_arg o = MT_ARG_REF(outer);
        mt_ref *unwrapped = submit("user_unwrap", &o, 1);
        expect_digest(unwrapped, (int64_t)n, sum);
        mt_ref_release(x); /* the relay's tasks hold their own references and pins */
        expect_digest(relayed, (int64_t)n, sum);
        /* a borrowed ref in the driver keeps a stored object readable after its owner let go */
        mt_ref_release(relayed);
        mt_ref_release(unwrapped);
        mt_ref_release(outer);
        free(buf);
    }
    /* a ref too big for the buffer says how much it needs; garbage is MT_EPARSE */
    mt_ref *small = NULL;
    cr_assert_eq(mt_put("hello", 5, &small, &err), MT_OK);
    char tiny[8];
    size_t need = 0;
    cr_assert_eq(mt_ref_to_bytes(small, tiny, sizeof tiny, &need, &err), MT_ERANGE);
    mt_owner_address so;
    cr_assert_eq(mt_ref_owner(small, &so, &err), MT_OK);
    cr_assert_eq(need, 4 + 1 + 1 + 20 + 8 + 20 + 20 + 1 + strlen(so.node_address) + 5);
    mt_ref *bad = NULL;
    cr_assert_eq(mt_ref_from_bytes("MTRF", 4, &bad, &err), MT_EPARSE);
    cr_assert_null(bad);
    mt_ref_release(small);
}

/* An object that holds refs keeps their objects alive (Ray's nested refs):
 * made by a driver (mt_put_ex contains) or returned by a task
 * (mt_return_contains) for an object the task itself put. */
Test(deps, nested_refs_keep_their_objects, .init = setup_user, .fini = teardown, .timeout = 60)
{
    mt_error err;
    const size_t n = 3 << 20;
    unsigned char *buf = malloc(n);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += buf[i] = (unsigned char)(i * 31 + 7);
    mt_ref *x = NULL;
    cr_assert_eq(mt_put(buf, n, &x, &err), MT_OK, "%s", err.msg);
    char xb[128];
    size_t xlen = 0;
    cr_assert_eq(mt_ref_to_bytes(x, xb, sizeof xb, &xlen, &err), MT_OK, "%s", err.msg);
    mt_ref *outer = NULL;
    cr_assert_eq(mt_put_ex(xb, xlen, &(mt_put_options){.contains = &x, .num_contains = 1}, &outer, &err), MT_OK,
                 "%s", err.msg);
    mt_ref_release(x); /* only the outer object keeps x now */
    mt_arg o = MT_ARG_REF(outer);
    mt_ref *unwrapped = submit("user_unwrap", &o, 1);
    expect_digest(unwrapped, (int64_t)n, sum);
    mt_ref_release(unwrapped);
    mt_ref *again = NULL;
    cr_assert_eq(mt_ref_from_bytes(xb, xlen, &again, &err), MT_OK, "x is held by the outer object: %s", err.msg);
    mt_ref_release(again);
    /* Once the outer object goes, x goes with it (workers may cache a pin on
     * the outer argument for up to a second). */
    mt_ref_release(outer);
    mt_status st = MT_OK;
    for (double t0 = now_ms(); now_ms() - t0 < 5000; usleep(50000)) {
        st = mt_ref_from_bytes(xb, xlen, &again, &err);
        if (st != MT_OK) break;
        mt_ref_release(again);
    }
    cr_assert_eq(st, MT_ENOTFOUND, "x outlived the object that held it: %s", mt_status_name(st));

    /* A task returns a ref to an object it put itself. */
    mt_arg a = MT_ARG_I64((int64_t)n);
    mt_ref *wrapped = submit("user_wrap_new", &a, 1);
    mt_value v;
    cr_assert_eq(mt_get(&wrapped, 1, 30000, &v, &err), MT_OK, "%s", err.msg);
    mt_ref *inner = NULL;
    cr_assert_eq(mt_ref_from_bytes(v.data, v.size, &inner, &err), MT_OK, "the task's object is gone: %s", err.msg);
    mt_value_release(&v);
    mt_value iv;
    cr_assert_eq(mt_get(&inner, 1, 30000, &iv, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(iv.size, n);
    cr_assert(memcmp(iv.data, buf, n) == 0, "the inner object's bytes");
    mt_value_release(&iv);
    mt_ref_release(inner);
    mt_ref_release(wrapped);
    free(buf);
}

/* Refs carry their owner's address (process, node, node address), through bytes too. */
Test(deps, refs_carry_their_owner_address, .init = setup_user, .fini = teardown, .timeout = 60)
{
    mt_error err;
    mt_ref *x = NULL;
    cr_assert_eq(mt_put("abc", 3, &x, &err), MT_OK, "%s", err.msg);
    mt_owner_address ox, o2;
    cr_assert_eq(mt_ref_owner(x, &ox, &err), MT_OK, "%s", err.msg);
    cr_assert(!mt_id_is_nil(ox.worker_id) && !mt_id_is_nil(ox.node_id));
    cr_assert(!strncmp(ox.node_address, "tcp://", 6), "%s", ox.node_address);
    char xb[512];
    size_t xlen = 0;
    cr_assert_eq(mt_ref_to_bytes(x, xb, sizeof xb, &xlen, &err), MT_OK, "%s", err.msg);
    mt_ref *y = NULL;
    cr_assert_eq(mt_ref_from_bytes(xb, xlen, &y, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_ref_owner(y, &o2, &err), MT_OK);
    cr_assert(mt_id_equal(o2.worker_id, ox.worker_id) && mt_id_equal(o2.node_id, ox.node_id));
    cr_assert_str_eq(o2.node_address, ox.node_address);
    mt_ref_release(y);
    mt_ref_release(x);

    /* The caller owns a task's return; what task code puts, its worker owns. */
    mt_arg a = MT_ARG_I64(1 << 20);
    mt_ref *wrapped = submit("user_wrap_new", &a, 1);
    mt_value v;
    cr_assert_eq(mt_get(&wrapped, 1, 30000, &v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_ref_owner(wrapped, &o2, &err), MT_OK);
    cr_assert(mt_id_equal(o2.worker_id, ox.worker_id), "the submitter owns the return");
    mt_ref *inner = NULL;
    cr_assert_eq(mt_ref_from_bytes(v.data, v.size, &inner, &err), MT_OK, "%s", err.msg);
    mt_value_release(&v);
    cr_assert_eq(mt_ref_owner(inner, &o2, &err), MT_OK);
    cr_assert(!mt_id_equal(o2.worker_id, ox.worker_id), "the worker that put it owns the inner object");
    cr_assert(mt_id_equal(o2.node_id, ox.node_id));
    cr_assert_str_eq(o2.node_address, ox.node_address);
    mt_ref_release(inner);
    mt_ref_release(wrapped);
    cr_assert_eq(mt_ref_owner(NULL, &o2, &err), MT_EINVAL);
}

/* A borrowed stored object stays readable after its owner released it. */
Test(deps, borrowed_ref_outlives_the_owners_release, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_error err;
    size_t n = 1 << 20;
    char *buf = malloc(n);
    memset(buf, 9, n);
    mt_ref *x = NULL;
    cr_assert_eq(mt_put(buf, n, &x, &err), MT_OK, "%s", err.msg);
    char rb[200];
    size_t len;
    cr_assert_eq(mt_ref_to_bytes(x, rb, sizeof rb, &len, &err), MT_OK, "%s", err.msg);
    mt_ref *b = NULL;
    cr_assert_eq(mt_ref_from_bytes(rb, len, &b, &err), MT_OK, "%s", err.msg);
    mt_ref_release(x); /* the owner's delete waits for the borrower's pin */
    mt_value v;
    cr_assert_eq(mt_get(&b, 1, 5000, &v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(v.size, n);
    cr_assert_eq(((const char *)v.data)[n - 1], 9);
    mt_value_release(&v);
    mt_ref_release(b);
    free(buf);
}

/* Actor creation never blocks: on a busy node, with a pending constructor
 * argument, or when it can never be placed (then its calls fail clearly). */
Test(deps, actor_create_returns_at_once, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_error err;
    mt_arg s = MT_ARG_I64(400);
    mt_ref *busy[2] = {submit("manta.sleep_ms", &s, 1), submit("manta.sleep_ms", &s, 1)};
    usleep(100000); /* both CPUs are taken */
    mt_resource cpu1 = {"CPU", 1};
    mt_actor_options held = {.resources = &cpu1, .num_resources = 1};
    mt_arg init[1] = {MT_ARG_REF(busy[0])}; /* Counter(400), once the sleep is done */
    mt_actor *a = NULL;
    double t0 = now_ms();
    cr_assert_eq(mt_actor_create("manta.Counter", init, 1, &held, &a, &err), MT_OK, "%s", err.msg);
    mt_ref *r = NULL;
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_lt(now_ms() - t0, 5.0, "create + call took %.2f ms", now_ms() - t0);
    cr_assert_eq(get_i64(r), 401);
    cr_assert_geq(now_ms() - t0, 250.0, "the actor did not wait for a CPU");
    mt_ref_release(r);
    mt_actor_release(a);
    for (int i = 0; i < 2; i++) mt_ref_release(busy[i]);
    /* infeasible: created at once, its calls fail naming the demand */
    mt_resource cpu8 = {"CPU", 8};
    mt_actor_options big = {.resources = &cpu8, .num_resources = 1};
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &big, &a, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r, &err), MT_OK, "%s", err.msg);
    mt_value v;
    cr_assert_neq(mt_get(&r, 1, 10000, &v, &err), MT_OK);
    cr_assert(strstr(err.msg, "could not be placed") && strstr(err.msg, "CPU"), "%s", err.msg);
    mt_ref_release(r);
    mt_actor_release(a);
}
