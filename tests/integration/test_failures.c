/*
 * test_failures.c — worker death on a real cluster: `kill -9` of the worker
 * running a task makes the task retry on a new worker and succeed; with
 * max_retries = none the driver gets the worker-died error at once; a task
 * that always kills its worker fails after its retries; the cluster keeps
 * serving afterwards.
 */
#include "integration/itest_cluster.h"

static itest_cluster C;

static void teardown(void)
{
    itest_teardown(&C);
}

static mt_ref *submit(const char *fn, int64_t arg, int max_retries)
{
    mt_arg a = MT_ARG_I64(arg);
    mt_task_options o = {.max_retries = max_retries};
    mt_ref *r = NULL;
    mt_error err = {0};
    mt_status st = mt_task_submit(fn, &a, 1, &o, &r, &err);
    cr_assert_eq(st, MT_OK, "submit %s: %s: %s", fn, mt_status_name(st), err.msg);
    return r;
}

/* SIGKILLs every worker of the cluster; returns how many. */
static int kill_workers(int *killed, int max)
{
    int n = itest_find_role(&C, "worker", killed, max);
    for (int i = 0; i < n; i++)
        kill(killed[i], SIGKILL);
    return n;
}

Test(integration, killed_worker_task_retries, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "1", NULL});
    itest_connect(&C);
    itest_check_serving(); /* warm: the worker exists and has run a task */

    double t0 = itest_now();
    mt_ref *r = submit("manta.sleep_ms", 2000, 0 /* default: 3 retries */);
    itest_sleep_ms(700);
    int pids[64];
    int n = kill_workers(pids, 64);
    double t_kill = itest_now() - t0;
    cr_assert_geq(n, 1, "no worker process found to kill");

    mt_value v = {0};
    mt_error err = {0};
    mt_status st = mt_get(&r, 1, 60000, &v, &err);
    double took = itest_now() - t0;
    cr_assert_eq(st, MT_OK, "task killed mid-run with retries left: %s: %s",
                 mt_status_name(st), err.msg);
    /* It ran again from the start on a new worker: 2 s after the kill at the earliest. */
    cr_assert_geq(took, t_kill + 1.9, "finished after %.2f s: it was not re-run", took);
    for (int i = 0; i < n; i++)
        cr_assert(!itest_pid_alive(pids[i]), "killed worker %d still alive", pids[i]);
    mt_value_release(&v);
    mt_ref_release(r);
    itest_check_serving();
    mt_shutdown();
    itest_stop_check(&C);
}

Test(integration, killed_worker_no_retries, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "1", NULL});
    itest_connect(&C);
    itest_check_serving();

    mt_ref *r = submit("manta.sleep_ms", 5000, MT_RETRIES_NONE);
    itest_sleep_ms(700);
    int pids[64];
    cr_assert_geq(kill_workers(pids, 64), 1, "no worker process found to kill");

    double t0 = itest_now();
    mt_value v = {0};
    mt_error err = {0};
    mt_status st = mt_get(&r, 1, 60000, &v, &err);
    cr_assert_eq(st, MT_EIO, "expected the worker-died error, got %s: %s", mt_status_name(st),
                 err.msg);
    cr_assert_lt(itest_now() - t0, 4.0, "the error took %.1f s", itest_now() - t0);
    cr_assert_not_null(strstr(err.msg, "died"), "message: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "manta.sleep_ms"), "message: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "signal 9"), "message: %s", err.msg);
    mt_ref_release(r);
    itest_check_serving();
    mt_shutdown();
    itest_stop_check(&C);
}

Test(integration, crashing_task_exhausts_retries, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);

    /* manta.crash SIGKILLs its own worker every time: 1 run + 2 retries, then the error. */
    mt_ref *r = submit("manta.crash", 0, 2);
    mt_value v = {0};
    mt_error err = {0};
    mt_status st = mt_get(&r, 1, 60000, &v, &err);
    cr_assert_eq(st, MT_EIO, "got %s: %s", mt_status_name(st), err.msg);
    cr_assert_not_null(strstr(err.msg, "manta.crash"), "message: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "died"), "message: %s", err.msg);
    mt_ref_release(r);
    itest_check_serving();
    mt_shutdown();
    itest_stop_check(&C);
}

/*
 * kill -9 of the node daemon: every waiting mt_get (a running task, a task
 * queued behind it, a task waiting for an argument, an actor call) fails
 * within 3 s with one message naming the node daemon, and later calls fail
 * at once with it; nothing hangs.
 */
Test(integration, killed_node_daemon_fails_every_wait, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "1", NULL});
    itest_connect(&C);
    itest_check_serving();
    mt_actor *a = NULL;
    mt_error err = {0};
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, NULL, &a, &err), MT_OK, "%s", err.msg);
    mt_ref *refs[4];
    refs[0] = submit("manta.sleep_ms", 20000, 0);
    refs[1] = submit("manta.sleep_ms", 20000, 0); /* queued: one CPU */
    mt_arg dep = MT_ARG_REF(refs[0]);
    cr_assert_eq(mt_task_submit("manta.echo", &dep, 1, NULL, &refs[2], &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_actor_call(a, "incr", &dep, 1, 1, &refs[3], &err), MT_OK, "%s", err.msg);
    itest_sleep_ms(300);
    cr_assert_eq(kill(C.node_pid, SIGKILL), 0);
    double t0 = itest_now();
    for (int i = 0; i < 4; i++) {
        mt_value v = {0};
        mt_status st = mt_get(&refs[i], 1, 60000, &v, &err);
        cr_assert_eq(st, MT_EIO, "wait %d: %s: %s", i, mt_status_name(st), err.msg);
        cr_assert(strstr(err.msg, "the node daemon at") && strstr(err.msg, "is gone"), "wait %d: %s", i, err.msg);
        mt_ref_release(refs[i]);
    }
    double took = itest_now() - t0;
    cr_assert_lt(took, 3.0, "the waits failed after %.1f s", took);
    /* later calls fail at once, with the same message */
    mt_ref *r = NULL;
    mt_arg x = MT_ARG_I64(1);
    t0 = itest_now();
    cr_assert_eq(mt_task_submit("manta.add_i64", &x, 1, NULL, &r, &err), MT_EIO);
    cr_assert(strstr(err.msg, "is gone"), "%s", err.msg);
    char buf[8] = "abc";
    cr_assert_neq(mt_put(buf, sizeof buf, &r, &err), MT_OK);
    cr_assert_lt(itest_now() - t0, 1.0);
    mt_actor_release(a);
    mt_shutdown();
}

/*
 * kill -9 of the control store: the node daemon gives up after
 * gcs_lost_exit_ms (1.5 s here), tells its drivers why and exits; a driver
 * waiting on a task gets that reason, no process is left behind.
 */
Test(integration, killed_control_store_ends_waits_with_the_reason, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    setenv("MANTA_GCS_LOST_EXIT_MS", "1500", 1); /* the daemons inherit it */
    itest_start(&C, (const char *[]){"--num-cpus", "1", NULL});
    itest_connect(&C);
    itest_check_serving();
    mt_ref *r = submit("manta.sleep_ms", 30000, 0);
    itest_sleep_ms(200);
    cr_assert_eq(kill(C.gcs_pid, SIGKILL), 0);
    double t0 = itest_now();
    mt_value v = {0};
    mt_error err = {0};
    mt_status st = mt_get(&r, 1, 60000, &v, &err);
    double took = itest_now() - t0;
    cr_assert_eq(st, MT_EIO, "%s: %s", mt_status_name(st), err.msg);
    cr_assert(strstr(err.msg, "control store") && strstr(err.msg, "unreachable"), "%s", err.msg);
    cr_assert_lt(took, 6.0, "the wait ended after %.1f s", took);
    double deadline = itest_now() + 10;
    while (itest_pid_alive(C.node_pid) && itest_now() < deadline)
        itest_sleep_ms(50);
    cr_assert(!itest_pid_alive(C.node_pid), "the node daemon outlived its control store");
    mt_ref_release(r);
    mt_shutdown();
    unsetenv("MANTA_GCS_LOST_EXIT_MS");
}
