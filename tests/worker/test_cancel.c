/*
 * test_cancel.c — mt_cancel on an embedded 2-CPU cluster: a queued task and a
 * task waiting for an argument are dropped at once; a running task is
 * killed with force (its worker dies, the cluster serves on) or, without
 * force, runs on with its result dropped; a finished task is left alone.
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

static mt_ref *sleeper(int64_t ms)
{
    mt_arg a = MT_ARG_I64(ms);
    mt_ref *r = NULL;
    mt_error err;
    cr_assert_eq(mt_task_submit("manta.sleep_ms", &a, 1, NULL, &r, &err), MT_OK, "%s", err.msg);
    return r;
}

static mt_status get_status(mt_ref *r, int64_t timeout_ms, mt_error *err)
{
    mt_value v;
    mt_status st = mt_get(&r, 1, timeout_ms, &v, err);
    if (st == MT_OK) mt_value_release(&v);
    return st;
}

Test(cancel, queued_and_waiting_tasks_are_dropped, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_error err;
    mt_ref *busy[2] = {sleeper(800), sleeper(800)}; /* both CPUs */
    mt_ref *queued = sleeper(10);
    mt_arg dep = MT_ARG_REF(busy[0]);
    mt_ref *waiting = NULL;
    cr_assert_eq(mt_task_submit("manta.echo", &dep, 1, NULL, &waiting, &err), MT_OK, "%s", err.msg);
    double t0 = now_ms();
    cr_assert_eq(mt_cancel(queued, false, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_cancel(waiting, false, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(get_status(queued, 5000, &err), MT_ECANCELLED, "%s", err.msg);
    cr_assert(strstr(err.msg, "manta.sleep_ms was cancelled"), "%s", err.msg);
    cr_assert_eq(get_status(waiting, 5000, &err), MT_ECANCELLED, "%s", err.msg);
    cr_assert_lt(now_ms() - t0, 200, "cancelled tasks waited for the busy ones");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(get_i64(busy[i]), 800, "the others are untouched");
        mt_ref_release(busy[i]);
    }
    /* a finished task is left as is */
    cr_assert_eq(mt_cancel(queued, true, &err), MT_OK);
    mt_ref_release(queued);
    mt_ref_release(waiting);
}

Test(cancel, running_task_force_kills_it, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_error err;
    mt_ref *r = sleeper(10000);
    usleep(300000); /* it runs */
    double t0 = now_ms();
    cr_assert_eq(mt_cancel(r, true, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(get_status(r, 10000, &err), MT_ECANCELLED, "%s", err.msg);
    cr_assert_lt(now_ms() - t0, 2000, "force cancel took %.0f ms", now_ms() - t0);
    mt_ref_release(r);
    mt_arg a[2] = {MT_ARG_I64(40), MT_ARG_I64(2)};
    mt_ref *ok = NULL;
    cr_assert_eq(mt_task_submit("manta.add_i64", a, 2, NULL, &ok, &err), MT_OK);
    cr_assert_eq(get_i64(ok), 42, "the cluster serves on");
    mt_ref_release(ok);
}

Test(cancel, running_task_without_force_has_its_result_dropped, .init = setup, .fini = teardown, .timeout = 60)
{
    mt_error err;
    mt_ref *r = sleeper(300);
    usleep(100000);
    cr_assert_eq(mt_cancel(r, false, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(get_status(r, 10000, &err), MT_ECANCELLED, "%s", err.msg);
    mt_ref_release(r);
}
