/*
 * test_fixes.c — regression tests for core-worker review findings, each
 * against a real embedded cluster (mt_init starts gcs-server + node-daemon
 * from MANTA_BIN in a private temp dir): get_if_exists on a name whose
 * actor's worker is gone (used to self-deadlock), mt_return_alloc results
 * that must not move, resource shapes compared exactly (and bounded), embedded sessions
 * private to their driver and gone with it.
 */
#include <criterion/criterion.h>
#include <manta/core.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcs/session.h"

#include "worker/worker_test_util.h"

static int64_t call_i64(mt_actor *a, const char *method)
{
    mt_ref *r;
    mt_error err;
    cr_assert_eq(mt_actor_call(a, method, NULL, 0, 1, &r, &err), MT_OK, "%s", err.msg);
    int64_t x = get_i64(r);
    mt_ref_release(r);
    return x;
}

/*
 * The name still points at a killed (restartable) actor whose worker is
 * gone: get_if_exists cannot connect, creates its own, loses the name race
 * and must drop its actor without taking the driver lock again (it hung).
 */
Test(fixes, get_if_exists_on_dead_named_actor_returns, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_actor *a, *b = NULL;
    mt_error err;
    mt_actor_options o = {.name = "fx", .max_restarts = 1};
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &a, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(call_i64(a, "incr"), 1);
    cr_assert_eq(mt_actor_kill(a, false, &err), MT_OK, "%s", err.msg);
    usleep(300000); /* the worker is gone; nothing has pumped the handle yet */
    o.get_if_exists = true;
    mt_status st = mt_actor_create("manta.Counter", NULL, 0, &o, &b, &err);
    cr_assert_eq(st, MT_EIO, "%s: %s", mt_status_name(st), st ? err.msg : "");
    cr_assert(strncmp(err.msg, "actor 'fx': ", 12) == 0, "%s", err.msg);
    /* The owner's handle restarts the actor; then get_if_exists finds it. */
    int64_t got = -1;
    for (int i = 0; i < 50 && got != 1; i++) {
        mt_ref *r;
        mt_value v;
        cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r, &err), MT_OK);
        if (mt_get(&r, 1, 10000, &v, &err) == MT_OK) {
            mt_value_i64(&v, &got, NULL);
            mt_value_release(&v);
        } else {
            usleep(20000);
        }
        mt_ref_release(r);
    }
    cr_assert_eq(got, 1);
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &b, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_id_equal(mt_actor_id(b), mt_actor_id(a)));
    cr_assert_eq(call_i64(b, "incr"), 2);
    mt_actor_release(b);
    mt_actor_release(a);
}

/* Two mt_return_alloc results filled after both are reserved: the first must not move. */
Test(fixes, return_alloc_results_stay_put, .init = setup_user, .fini = teardown)
{
    mt_ref *r[2];
    mt_task_options o = {.num_returns = 2};
    mt_error err;
    for (int round = 0; round < 3; round++) { /* later rounds reuse the worker's buffers */
        cr_assert_eq(mt_task_submit("user_two_allocs", NULL, 0, &o, r, &err), MT_OK, "%s", err.msg);
        mt_value v[2];
        cr_assert_eq(mt_get(r, 2, 20000, v, &err), MT_OK, "%s", err.msg);
        cr_assert_eq(v[0].size, 100);
        cr_assert_eq(v[1].size, 50000);
        const unsigned char *a = v[0].data, *b = v[1].data;
        for (int i = 0; i < 100; i++) cr_assert_eq(a[i], (unsigned char)(i + 1), "round %d byte %d", round, i);
        for (int i = 0; i < 50000; i++) cr_assert_eq(b[i], (unsigned char)(i * 7), "round %d byte %d", round, i);
        mt_value_release(&v[0]);
        mt_value_release(&v[1]);
        mt_ref_release(r[0]);
        mt_ref_release(r[1]);
    }
}

static mt_status submit_with(const mt_resource *res, int n, mt_ref **r, mt_error *err)
{
    mt_task_options o = {.resources = res, .num_resources = n, .max_retries = MT_RETRIES_NONE};
    return mt_task_submit("manta.pid", NULL, 0, &o, r, err);
}

/*
 * Demands that print alike are distinct shapes: the whole store (64 MiB of
 * object_store_memory) fits the node; one byte more (the same text under
 * %g) must not ride on the first demand's lease.
 */
Test(fixes, resource_shapes_compare_exactly, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_error err;
    mt_ref *r;
    mt_resource all = {"object_store_memory", 64 << 20}, more = {"object_store_memory", (64 << 20) + 1};
    cr_assert_eq(submit_with(&all, 1, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_gt(get_i64(r), 0);
    mt_ref_release(r);
    cr_assert_eq(submit_with(&more, 1, &r, &err), MT_OK, "%s", err.msg);
    mt_value v;
    mt_status st = mt_get(&r, 1, 20000, &v, &err);
    cr_assert_neq(st, MT_OK, "a demand above the node's total ran");
    cr_assert_neq(st, MT_ETIMEOUT, "%s", err.msg);
    cr_assert(strstr(err.msg, "no worker for {object_store_memory: 67108865}") != NULL, "%s", err.msg);
    mt_ref_release(r);
}

Test(fixes, too_many_resources_is_einval, .init = setup, .fini = teardown)
{
    mt_resource res[17];
    char names[17][8];
    for (int i = 0; i < 17; i++) {
        snprintf(names[i], sizeof names[i], "r%d", i);
        res[i] = (mt_resource){names[i], 0};
    }
    mt_error err;
    mt_ref *r = NULL;
    cr_assert_eq(submit_with(res, 17, &r, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "17 resources in one demand; at most 16 are supported");
    mt_actor *a = NULL;
    mt_actor_options o = {.resources = res, .num_resources = 17};
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &a, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "actor manta.Counter: 17 resources; at most 16 are supported");
    cr_assert_null(a);
}

/* An embedded cluster's session is its driver's: not the temp dir's latest. */
Test(fixes, embedded_session_is_not_latest, .init = setup, .fini = teardown)
{
    char dir[4096];
    mt_error err;
    cr_assert(mt_cluster_is_embedded());
    cr_assert_eq(mt_session_latest(tmpdir, dir, sizeof dir, &err), MT_ENOTFOUND);
    cr_assert(strncmp(mt_session_dir(), tmpdir, strlen(tmpdir)) == 0, "%s", mt_session_dir());
}

static bool wait_gone(int pid)
{
    for (int i = 0; i < 500; i++) {
        if (kill(pid, 0) != 0) return true;
        usleep(10000);
    }
    return false;
}

/* The crashing driver: a fresh process running this binary with MT_FIX_CRASH_TEMP set. */
__attribute__((constructor)) static void crashing_driver(void)
{
    const char *dir = getenv("MT_FIX_CRASH_TEMP");
    if (!dir) return;
    int fd = atoi(getenv("MT_FIX_CRASH_FD"));
    mt_init_options o = {.temp_dir = dir, .num_cpus = 1, .object_store_memory = 16 << 20};
    mt_error err;
    if (mt_init_ex(&o, &err) != MT_OK) {
        fprintf(stderr, "crashing driver: %s\n", err.msg);
        _exit(10);
    }
    mt_session_info info;
    mt_ref *r;
    mt_value v;
    int64_t wpid = 0;
    if (mt_session_read_info(mt_session_dir(), &info, &err) != MT_OK ||
        mt_task_submit("manta.pid", NULL, 0, NULL, &r, &err) != MT_OK || mt_get(&r, 1, 20000, &v, &err) != MT_OK ||
        mt_value_i64(&v, &wpid, &err) != MT_OK)
        _exit(11);
    int pids[3] = {info.gcs_pid, info.node_pid, (int)wpid};
    if (write(fd, pids, sizeof pids) != (ssize_t)sizeof pids) _exit(12);
    raise(SIGKILL); /* no mt_shutdown, no atexit */
    _exit(13);
}

/* A driver that dies without mt_shutdown takes its embedded cluster (and its workers) with it. */
Test(fixes, crashed_driver_leaves_no_daemons, .timeout = 60)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mt-fix-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char fd[16];
        snprintf(fd, sizeof fd, "%d", p[1]);
        close(p[0]);
        setenv("MT_FIX_CRASH_TEMP", tmpdir, 1);
        setenv("MT_FIX_CRASH_FD", fd, 1);
        execl("/proc/self/exe", "crashing-driver", (char *)NULL);
        _exit(99);
    }
    close(p[1]);
    int pids[3] = {0};
    ssize_t n = read(p[0], pids, sizeof pids);
    close(p[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "driver status %d", status);
    cr_assert_eq(n, (ssize_t)sizeof pids);
    for (int i = 0; i < 3; i++) {
        cr_assert_gt(pids[i], 0);
        cr_assert(wait_gone(pids[i]), "process %d (%s) outlived its driver", pids[i],
                  (const char *[]){"gcs-server", "node-daemon", "worker"}[i]);
    }
    rm_rf(tmpdir);
}

/*
 * Ray's actor default: 1 CPU to schedule, 0 held while alive. On a 2-CPU
 * node a third default actor is created at once (it used to wait for a
 * CPU forever), and tasks still get both CPUs while the actors live.
 */
Test(fixes, default_actors_hold_no_cpu, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_actor *a[3];
    mt_error err;
    for (int i = 0; i < 3; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, NULL, &a[i], &err), MT_OK, "%s", err.msg);
        cr_assert_eq(call_i64(a[i], "incr"), 1);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        cr_assert_lt(ms, 5000, "actor %d took %.0f ms", i, ms);
    }
    /* two 300 ms tasks in parallel: both CPUs are free */
    mt_arg s = MT_ARG_I64(300);
    mt_ref *r[2];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 2; i++) cr_assert_eq(mt_task_submit("manta.sleep_ms", &s, 1, NULL, &r[i], &err), MT_OK);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(get_i64(r[i]), 300);
        mt_ref_release(r[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_assert_lt(ms, 590, "two 300 ms tasks took %.0f ms: they did not run side by side", ms);
    for (int i = 0; i < 3; i++) mt_actor_release(a[i]);
}
