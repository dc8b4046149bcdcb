/*
 * test_core.c — the core API against a real embedded cluster (mt_init
 * starts gcs-server + node-daemon from MANTA_BIN in a private temp dir;
 * mt_shutdown stops them): tasks, refs, objects, wait, actors, named
 * lookup from a second driver process, failures, retries, user code.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <manta/core.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcs/session.h"

#include "worker/worker_test_util.h"

static mt_ref *submit(const char *fn, const mt_arg *args, int nargs, const mt_task_options *o)
{
    mt_ref *r = NULL;
    mt_error err;
    cr_assert_eq(mt_task_submit(fn, args, nargs, o, &r, &err), MT_OK, "submit %s: %s", fn, err.msg);
    return r;
}

/* Tells second drivers (child processes) where this driver's embedded control store is. */
static void set_child_address(void)
{
    mt_session_info info;
    mt_error err;
    cr_assert_eq(mt_session_read_info(mt_session_dir(), &info, &err), MT_OK, "%s", err.msg);
    setenv("MT_TEST_CHILD_ADDRESS", info.gcs_address, 1);
}

static bool wait_gone(int pid)
{
    for (int i = 0; i < 500; i++) {
        if (kill(pid, 0) != 0) return true;
        usleep(10000);
    }
    return false;
}

Test(core, embedded_cluster_shutdown_leaves_no_processes)
{
    start(NULL);
    mt_session_info info;
    mt_error err;
    cr_assert_eq(mt_session_read_info(mt_session_dir(), &info, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_cluster_is_embedded());
    mt_ref *r = submit("manta.pid", NULL, 0, NULL);
    int wpid = (int)get_i64(r);
    mt_ref_release(r);
    cr_assert_gt(wpid, 0);
    cr_assert_neq(wpid, getpid());
    cr_assert_eq(kill(info.gcs_pid, 0), 0);
    cr_assert_eq(kill(info.node_pid, 0), 0);
    mt_shutdown();
    cr_assert(!mt_is_initialized());
    cr_assert(wait_gone(info.gcs_pid), "gcs-server %d still running", info.gcs_pid);
    cr_assert(wait_gone(info.node_pid), "node-daemon %d still running", info.node_pid);
    cr_assert(wait_gone(wpid), "worker %d still running", wpid);
    rm_rf(tmpdir);
}

Test(core, tasks_return_results, .init = setup, .fini = teardown)
{
    enum { N = 2000 };
    static mt_ref *refs[N];
    static mt_value vals[N];
    for (int i = 0; i < N; i++) {
        mt_arg a[3] = {MT_ARG_I64(i), MT_ARG_I64(1000), MT_ARG_I64(-7)};
        refs[i] = submit("manta.add_i64", a, 3, NULL);
    }
    mt_error err;
    cr_assert_eq(mt_get(refs, N, 30000, vals, &err), MT_OK, "%s", err.msg);
    for (int i = 0; i < N; i++) {
        int64_t x;
        cr_assert_eq(mt_value_i64(&vals[i], &x, NULL), MT_OK);
        cr_assert_eq(x, i + 993, "task %d gave %lld", i, (long long)x);
        mt_value_release(&vals[i]);
        mt_ref_release(refs[i]);
    }
}

Test(core, chained_refs, .init = setup, .fini = teardown)
{
    mt_arg a[2] = {MT_ARG_I64(1), MT_ARG_I64(2)};
    mt_ref *r = submit("manta.add_i64", a, 2, NULL);
    for (int i = 0; i < 20; i++) {
        mt_arg b[2] = {MT_ARG_REF(r), MT_ARG_I64(10)};
        mt_ref *next = submit("manta.add_i64", b, 2, NULL);
        mt_ref_release(r);
        r = next;
    }
    cr_assert_eq(get_i64(r), 203);
    mt_ref_release(r);
}

Test(core, put_get_small_and_big, .init = setup, .fini = teardown)
{
    mt_error err;
    mt_ref *small;
    cr_assert_eq(mt_put("hello", 5, &small, &err), MT_OK, "%s", err.msg);
    size_t n = 3 << 20;
    uint8_t *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (uint8_t)(i * 31 + 7);
    mt_ref *bigref;
    cr_assert_eq(mt_put(big, n, &bigref, &err), MT_OK, "%s", err.msg);
    mt_ref *both[2] = {small, bigref};
    mt_value v[2];
    cr_assert_eq(mt_get(both, 2, 5000, v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(v[0].size, 5);
    cr_assert_eq(memcmp(v[0].data, "hello", 5), 0);
    cr_assert_eq(v[1].size, n);
    cr_assert_eq(memcmp(v[1].data, big, n), 0);
    mt_value_release(&v[0]);
    mt_value_release(&v[1]);

    /* A big argument read zero-copy by the worker, and a big result created in the store. */
    mt_arg a = MT_ARG_REF(bigref);
    mt_ref *d = submit("manta.digest", &a, 1, NULL);
    cr_assert_eq(mt_get(&d, 1, 20000, v, &err), MT_OK, "%s", err.msg);
    int64_t want = 0;
    for (size_t i = 0; i < n; i++) want += big[i];
    cr_assert_eq(v[0].size, 16);
    cr_assert_eq(((const int64_t *)v[0].data)[0], (int64_t)n);
    cr_assert_eq(((const int64_t *)v[0].data)[1], want);
    mt_value_release(&v[0]);
    mt_arg sz = MT_ARG_I64(2 << 20);
    mt_ref *b = submit("manta.bytes", &sz, 1, NULL);
    cr_assert_eq(mt_get(&b, 1, 20000, v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(v[0].size, (size_t)(2 << 20));
    const uint8_t *p = v[0].data;
    for (size_t i = 0; i < v[0].size; i += 4099) cr_assert_eq(p[i], (uint8_t)((i * 7 + 3) & 0xff));
    mt_value_release(&v[0]);
    mt_ref_release(b);
    mt_ref_release(d);
    mt_ref_release(small);
    mt_ref_release(bigref);
    free(big);
}

Test(core, wait_and_get_timeout, .init = setup, .fini = teardown)
{
    mt_arg ms = MT_ARG_I64(1500);
    mt_ref *refs[2] = {submit("manta.sleep_ms", &ms, 1, NULL), submit("manta.nop", NULL, 0, NULL)};
    bool ready[2];
    int nready = -1;
    mt_error err;
    cr_assert_eq(mt_wait(refs, 2, 1, 1000, ready, &nready, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(nready, 1);
    cr_assert(!ready[0]);
    cr_assert(ready[1]);
    mt_value v;
    cr_assert_eq(mt_get(&refs[0], 1, 50, &v, &err), MT_ETIMEOUT);
    cr_assert_str_eq(err.msg, "get timed out after 50 ms (0 of 1 objects ready)");
    cr_assert_eq(get_i64(refs[0]), 1500);
    mt_ref_release(refs[0]);
    mt_ref_release(refs[1]);
}

Test(core, task_failure_message, .init = setup, .fini = teardown)
{
    mt_arg a = MT_ARG_STR("boom at row 7");
    mt_ref *r = submit("manta.fail", &a, 1, NULL);
    mt_value v;
    mt_error err;
    cr_assert_eq(mt_get(&r, 1, 10000, &v, &err), MT_EINVAL);
    cr_assert(strncmp(err.msg, "task manta.fail failed on node ", 31) == 0, "%s", err.msg);
    const char *w = strstr(err.msg, " worker ");
    cr_assert_not_null(w, "%s", err.msg);
    cr_assert(strstr(w, ": boom at row 7") != NULL, "%s", err.msg);
    mt_ref_release(r);

    mt_arg two[2] = {MT_ARG_I64(1), MT_ARG_I64(2)};
    r = submit("manta.echo", two, 2, NULL);
    cr_assert_eq(mt_get(&r, 1, 10000, &v, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, ": manta.echo takes 1 argument, got 2") != NULL, "%s", err.msg);
    mt_ref_release(r);

    /* A failed dependency fails the dependent task with the same error. */
    mt_ref *f = submit("manta.fail", &a, 1, NULL);
    mt_arg dep[1] = {MT_ARG_REF(f)};
    r = submit("manta.echo", dep, 1, NULL);
    cr_assert_eq(mt_get(&r, 1, 10000, &v, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, "task manta.fail failed") != NULL, "%s", err.msg);
    mt_ref_release(r);
    mt_ref_release(f);
}

Test(core, unknown_function, .init = setup, .fini = teardown)
{
    mt_ref *r = submit("no_such_fn", NULL, 0, NULL);
    mt_value v;
    mt_error err;
    cr_assert_eq(mt_get(&r, 1, 10000, &v, &err), MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "no remote function 'no_such_fn' (code path none: built-ins only)");
    mt_ref_release(r);
}

Test(core, crash_retried_then_succeeds, .init = setup, .fini = teardown)
{
    char marker[400];
    snprintf(marker, sizeof marker, "%s/crash-marker", tmpdir);
    mt_arg a = MT_ARG_STR(marker);
    mt_ref *r = submit("manta.crash_once", &a, 1, NULL);
    int64_t pid = get_i64(r);
    cr_assert_gt(pid, 0);
    cr_assert_eq(access(marker, F_OK), 0);
    mt_ref_release(r);
}

Test(core, crash_without_retries_fails, .init = setup, .fini = teardown)
{
    mt_task_options o = {.max_retries = MT_RETRIES_NONE};
    mt_ref *r = submit("manta.crash", NULL, 0, &o);
    mt_value v;
    mt_error err;
    cr_assert_eq(mt_get(&r, 1, 20000, &v, &err), MT_EIO);
    int pid = 0;
    char rest[200] = "";
    cr_assert_eq(sscanf(err.msg, "worker %d running manta.crash died%199[^\n]", &pid, rest), 2, "%s", err.msg);
    cr_assert_gt(pid, 0);
    cr_assert_str_eq(rest, " (signal 9)");
    mt_ref_release(r);
    /* The cluster keeps working. */
    mt_arg one = MT_ARG_I64(5);
    r = submit("manta.add_i64", &one, 1, NULL);
    cr_assert_eq(get_i64(r), 5);
    mt_ref_release(r);
}

Test(core, actor_calls_run_in_order, .init = setup, .fini = teardown)
{
    mt_actor *a;
    mt_error err;
    mt_arg init = MT_ARG_I64(100);
    cr_assert_eq(mt_actor_create("manta.Counter", &init, 1, NULL, &a, &err), MT_OK, "%s", err.msg);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        mt_arg v = MT_ARG_I64(i);
        mt_ref *r;
        cr_assert_eq(mt_actor_call(a, "append", &v, 1, 1, &r, &err), MT_OK, "%s", err.msg);
        mt_ref_release(r);
    }
    mt_ref *h, *inc;
    cr_assert_eq(mt_actor_call(a, "history", NULL, 0, 1, &h, &err), MT_OK);
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &inc, &err), MT_OK);
    mt_value v;
    cr_assert_eq(mt_get(&h, 1, 20000, &v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(v.size, N * sizeof(int64_t));
    for (int i = 0; i < N; i++) cr_assert_eq(((const int64_t *)v.data)[i], i);
    mt_value_release(&v);
    cr_assert_eq(get_i64(inc), 101);
    mt_ref_release(h);
    mt_ref_release(inc);

    mt_ref *bad;
    cr_assert_eq(mt_actor_call(a, "nope", NULL, 0, 1, &bad, &err), MT_OK);
    cr_assert_eq(mt_get(&bad, 1, 10000, &v, &err), MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "no remote function 'manta.Counter.nope' (code path none: built-ins only)");
    mt_ref_release(bad);
    mt_actor_release(a);
}

Test(core, actor_restarts_after_kill, .init = setup, .fini = teardown)
{
    mt_actor *a;
    mt_error err;
    mt_actor_options o = {.max_restarts = 1};
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &a, &err), MT_OK, "%s", err.msg);
    mt_ref *r;
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r, &err), MT_OK);
    cr_assert_eq(get_i64(r), 1);
    mt_ref_release(r);
    cr_assert_eq(mt_actor_kill(a, false, &err), MT_OK, "%s", err.msg);
    /* Calls after the restart see a fresh constructor run. */
    int64_t got = -1;
    for (int i = 0; i < 50 && got != 1; i++) {
        cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r, &err), MT_OK);
        mt_value v;
        if (mt_get(&r, 1, 10000, &v, &err) == MT_OK) {
            mt_value_i64(&v, &got, NULL);
            mt_value_release(&v);
        } else {
            cr_assert(strstr(err.msg, "manta.Counter") != NULL, "%s", err.msg);
            usleep(20000);
        }
        mt_ref_release(r);
    }
    cr_assert_eq(got, 1);
    /* Killed for good: calls fail with the actor-died error. */
    cr_assert_eq(mt_actor_kill(a, true, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r, &err), MT_OK);
    mt_value v;
    cr_assert_eq(mt_get(&r, 1, 10000, &v, &err), MT_EIO);
    cr_assert_str_eq(err.msg, "actor manta.Counter was killed");
    mt_ref_release(r);
    mt_actor_release(a);
}

/* Second driver, role "tasks": 20 tasks that must get workers within 5 s. */
static int child_tasks(void)
{
    mt_ref *refs[20];
    mt_value vals[20];
    mt_error err;
    for (int i = 0; i < 20; i++) {
        mt_arg args[2] = {MT_ARG_I64(i), MT_ARG_I64(1)};
        if (mt_task_submit("manta.add_i64", args, 2, NULL, &refs[i], &err) != MT_OK) return 20;
    }
    if (mt_get(refs, 20, 5000, vals, &err) != MT_OK) {
        fprintf(stderr, "child get: %s\n", err.msg);
        return 21;
    }
    int64_t sum = 0;
    for (int i = 0; i < 20; i++) {
        int64_t x = 0;
        mt_value_i64(&vals[i], &x, NULL);
        sum += x;
        mt_value_release(&vals[i]);
        mt_ref_release(refs[i]);
    }
    mt_shutdown();
    return sum == 210 ? 0 : 22;
}

/*
 * The second driver: a fresh process running this binary with
 * MT_TEST_CHILD_TEMP set; it joins the embedded cluster by its control
 * store address (MT_TEST_CHILD_ADDRESS: an embedded session is not the
 * temp dir's latest).
 */
__attribute__((constructor)) static void child_driver(void)
{
    const char *dir = getenv("MT_TEST_CHILD_TEMP");
    if (!dir) return;
    mt_init_options o = {.temp_dir = dir, .no_start = true, .address = getenv("MT_TEST_CHILD_ADDRESS")};
    mt_error err;
    if (mt_init_ex(&o, &err) != MT_OK) {
        fprintf(stderr, "child: %s\n", err.msg);
        _exit(10);
    }
    const char *role = getenv("MT_TEST_CHILD_ROLE");
    if (role && !strcmp(role, "tasks")) _exit(child_tasks());
    mt_actor *a;
    if (mt_actor_lookup("shared-counter", NULL, &a, &err) != MT_OK) {
        fprintf(stderr, "child lookup: %s\n", err.msg);
        mt_shutdown();
        _exit(11);
    }
    mt_arg d = MT_ARG_I64(10);
    mt_ref *r;
    mt_value v;
    int64_t x = -1;
    if (mt_actor_call(a, "incr", &d, 1, 1, &r, &err) != MT_OK || mt_get(&r, 1, 10000, &v, &err) != MT_OK) {
        fprintf(stderr, "child call: %s\n", err.msg);
        _exit(12);
    }
    mt_value_i64(&v, &x, NULL);
    mt_value_release(&v);
    mt_ref_release(r);
    mt_actor_release(a);
    mt_shutdown();
    _exit(x == 15 ? 0 : 13);
}

Test(core, named_actor_from_second_driver, .init = setup, .fini = teardown)
{
    mt_actor *a;
    mt_error err;
    mt_arg init = MT_ARG_I64(5);
    mt_actor_options o = {.name = "shared-counter"};
    cr_assert_eq(mt_actor_create("manta.Counter", &init, 1, &o, &a, &err), MT_OK, "%s", err.msg);
    mt_actor *dup;
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &dup, &err), MT_EEXIST);
    set_child_address();
    pid_t pid = fork();
    if (pid == 0) {
        setenv("MT_TEST_CHILD_TEMP", tmpdir, 1);
        execl("/proc/self/exe", "child", (char *)NULL);
        _exit(99);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 0, "second driver exited %d", WEXITSTATUS(status));
    mt_ref *r;
    cr_assert_eq(mt_actor_call(a, "get", NULL, 0, 1, &r, &err), MT_OK);
    cr_assert_eq(get_i64(r), 15);
    mt_ref_release(r);
    mt_actor *same;
    o.get_if_exists = true;
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &same, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_id_equal(mt_actor_id(same), mt_actor_id(a)));
    mt_actor_release(same);
    mt_actor_release(a);
}

static int run_child(const char *role)
{
    set_child_address();
    pid_t pid = fork();
    if (pid == 0) {
        setenv("MT_TEST_CHILD_TEMP", tmpdir, 1);
        setenv("MT_TEST_CHILD_ROLE", role, 1);
        execl("/proc/self/exe", "child", (char *)NULL);
        _exit(99);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/*
 * A driver whose tasks finished while it was not calling into the runtime
 * (results unread) gives its two workers back, so a second driver on the
 * same 2-CPU node gets workers; its own results stay readable afterwards.
 */
Test(core, driver_outside_runtime_returns_leases, .init = setup, .fini = teardown)
{
    mt_arg ms = MT_ARG_I64(30);
    mt_ref *a = submit("manta.sleep_ms", &ms, 1, NULL);
    mt_ref *b = submit("manta.sleep_ms", &ms, 1, NULL);
    cr_assert_eq(get_i64(a), 30); /* both ran at once: the driver holds two leases */
    cr_assert_eq(get_i64(b), 30);
    mt_ref_release(a);
    mt_ref_release(b);
    a = submit("manta.sleep_ms", &ms, 1, NULL);
    b = submit("manta.sleep_ms", &ms, 1, NULL);
    usleep(500000); /* away from the runtime: only its own thread can act */
    cr_assert_eq(run_child("tasks"), 0, "the second driver got no workers in time");
    cr_assert_eq(get_i64(a), 30);
    cr_assert_eq(get_i64(b), 30);
    mt_ref_release(a);
    mt_ref_release(b);
}

/* A temp dir too long for the session's unix sockets fails mt_init up front, naming the path. */
Test(core, long_temp_dir_is_a_clear_error)
{
    char dir[160];
    snprintf(dir, sizeof dir, "/tmp/mt-core-test-%s-XXXXXX", "this-temp-dir-is-far-too-long-for-a-socket");
    cr_assert_not_null(mkdtemp(dir));
    mt_init_options o = {.temp_dir = dir, .num_cpus = 1};
    mt_error err = {0};
    mt_status st = mt_init_ex(&o, &err);
    if (st == MT_OK) mt_shutdown();
    rm_rf(dir);
    cr_assert_eq(st, MT_ERANGE, "%s: %s", mt_status_name(st), err.msg);
    cr_assert(strstr(err.msg, "/sockets/w-<12 hex>.sock would be ") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, dir) != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "unix sockets allow 107") != NULL, "%s", err.msg);
    cr_assert(!mt_is_initialized());
}


Test(core, user_library_via_code_path, .init = setup_user, .fini = teardown)
{
    mt_arg a = MT_ARG_I64(12);
    mt_ref *r = submit("user_square", &a, 1, NULL);
    cr_assert_eq(get_i64(r), 144);
    mt_ref_release(r);
    mt_arg dm[2] = {MT_ARG_I64(17), MT_ARG_I64(5)};
    mt_ref *two[2];
    mt_task_options o = {.num_returns = 2};
    mt_error err;
    cr_assert_eq(mt_task_submit("user_divmod", dm, 2, &o, two, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(get_i64(two[0]), 3);
    cr_assert_eq(get_i64(two[1]), 2);
    mt_ref_release(two[0]);
    mt_ref_release(two[1]);
    mt_actor *acc;
    cr_assert_eq(mt_actor_create("Acc", &a, 1, NULL, &acc, &err), MT_OK, "%s", err.msg);
    mt_arg three = MT_ARG_I64(3);
    cr_assert_eq(mt_actor_call(acc, "add", &three, 1, 1, &r, &err), MT_OK);
    cr_assert_eq(get_i64(r), 15);
    mt_ref_release(r);
    mt_actor_release(acc);
}
