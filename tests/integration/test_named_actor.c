/*
 * test_named_actor.c — a named actor created by one driver is found and
 * called by a second driver process (this executable re-run with
 * ITEST_ROLE set, which takes over before Criterion's main), which joins
 * through MANTA_ADDRESS instead of the session folder. Calls from both
 * drivers land on the same actor state.
 */
#include "integration/itest_cluster.h"

#include <sys/wait.h>

static itest_cluster C;

static void teardown(void)
{
    itest_teardown(&C);
}

/* ---- the second driver -------------------------------------------------- */

static int fail(int code, const char *what, mt_status st, const mt_error *err)
{
    printf("second driver: %s: %s: %s\n", what, mt_status_name(st), err->msg);
    fflush(stdout);
    return code;
}

static int second_driver(void)
{
    mt_error err = {0};
    mt_init_options o = {.address = getenv("ITEST_GCS"), .no_start = true};
    mt_status st = mt_init_ex(&o, &err);
    if (st != MT_OK)
        return fail(10, "mt_init_ex", st, &err);
    mt_actor *a = NULL;
    st = mt_actor_lookup("other", "itest", &a, &err);
    if (st != MT_ENOTFOUND)
        return fail(11, "lookup of a missing name must be MT_ENOTFOUND", st, &err);
    st = mt_actor_lookup("counter", "default", &a, &err);
    if (st != MT_ENOTFOUND)
        return fail(12, "lookup in the wrong namespace must be MT_ENOTFOUND", st, &err);
    st = mt_actor_lookup("counter", "itest", &a, &err);
    if (st != MT_OK)
        return fail(13, "mt_actor_lookup", st, &err);
    for (int i = 0; i < 2; i++) {
        mt_ref *r = NULL;
        mt_value v = {0};
        int64_t x = 0;
        st = mt_actor_call(a, "incr", NULL, 0, 1, &r, &err);
        if (st == MT_OK)
            st = mt_get(&r, 1, 30000, &v, &err);
        if (st == MT_OK)
            st = mt_value_i64(&v, &x, &err);
        if (st != MT_OK)
            return fail(14, "incr", st, &err);
        printf("incr=%lld\n", (long long)x);
        mt_value_release(&v);
        mt_ref_release(r);
    }
    mt_actor_release(a); /* not the creator: the actor lives on */
    mt_shutdown();
    fflush(stdout);
    return 0;
}

/* Runs 100 tasks while the first driver sits idle (holding whatever it holds). */
static int tasks_driver(void)
{
    mt_error err = {0};
    mt_init_options o = {.temp_dir = getenv("MANTA_TEMP_DIR"), .no_start = true};
    mt_status st = mt_init_ex(&o, &err);
    if (st != MT_OK)
        return fail(20, "mt_init_ex", st, &err);
    mt_ref *refs[100];
    mt_value vals[100];
    for (int i = 0; i < 100; i++) {
        mt_arg args[2] = {MT_ARG_I64(i), MT_ARG_I64(1)};
        st = mt_task_submit("manta.add_i64", args, 2, NULL, &refs[i], &err);
        if (st != MT_OK)
            return fail(21, "submit", st, &err);
    }
    st = mt_get(refs, 100, 20000, vals, &err);
    if (st != MT_OK)
        return fail(22, "mt_get", st, &err);
    int64_t sum = 0;
    for (int i = 0; i < 100; i++) {
        int64_t x = 0;
        if (mt_value_i64(&vals[i], &x, &err) != MT_OK)
            return fail(23, "value", MT_ETYPE, &err);
        sum += x;
        mt_value_release(&vals[i]);
        mt_ref_release(refs[i]);
    }
    printf("sum=%lld\n", (long long)sum);
    mt_shutdown();
    fflush(stdout);
    return 0;
}

/* Creates a detached "keeper" and a plain "temp" (both incr'ed once), then
 * exits cleanly, or waits to be SIGKILLed when ITEST_DIE is set. */
static int creator_driver(void)
{
    mt_error err = {0};
    mt_init_options o = {.temp_dir = getenv("MANTA_TEMP_DIR"), .no_start = true};
    mt_status st = mt_init_ex(&o, &err);
    if (st != MT_OK)
        return fail(30, "mt_init_ex", st, &err);
    const char *names[2] = {"keeper", "temp"};
    for (int i = 0; i < 2; i++) {
        mt_actor_options ao = {.name = names[i], .ns = "itest", .detached = i == 0};
        mt_actor *a = NULL;
        mt_ref *r = NULL;
        mt_value v = {0};
        st = mt_actor_create("manta.Counter", NULL, 0, &ao, &a, &err);
        if (st == MT_OK)
            st = mt_actor_call(a, "incr", NULL, 0, 1, &r, &err);
        if (st == MT_OK)
            st = mt_get(&r, 1, 30000, &v, &err);
        if (st != MT_OK)
            return fail(31, names[i], st, &err);
        mt_value_release(&v);
        mt_ref_release(r);
        mt_actor_release(a); /* the creator's last handle */
    }
    printf("ready\n");
    fflush(stdout);
    if (getenv("ITEST_DIE"))
        for (;;)
            pause();
    mt_shutdown();
    return 0;
}

__attribute__((constructor)) static void role_dispatch(void)
{
    if (getenv("ITEST_ROLE") && strcmp(getenv("ITEST_ROLE"), "creator_driver") == 0)
        _exit(creator_driver());
    const char *role = getenv("ITEST_ROLE");
    if (role && strcmp(role, "second_driver") == 0)
        _exit(second_driver());
    if (role && strcmp(role, "tasks_driver") == 0)
        _exit(tasks_driver());
}

/* Runs this executable as driver `role`; returns its exit code, output in out. */
static int run_second_driver(const char *role, const char *gcs, char *out, size_t cap)
{
    char path[200], gcs_env[200];
    snprintf(path, sizeof path, "%s/second.out", C.dir);
    snprintf(gcs_env, sizeof gcs_env, "ITEST_GCS=%s", gcs);
    pid_t pid = itest_spawn_role(role, gcs_env, path);
    int status = 0;
    double deadline = itest_now() + 60;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (itest_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            itest_read_file(path, out, cap);
            return -1;
        }
        itest_sleep_ms(10);
    }
    itest_read_file(path, out, cap);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static mt_ref *call(mt_actor *a, const char *m)
{
    mt_ref *r = NULL;
    mt_error err = {0};
    mt_status st = mt_actor_call(a, m, NULL, 0, 1, &r, &err);
    cr_assert_eq(st, MT_OK, "%s: %s: %s", m, mt_status_name(st), err.msg);
    return r;
}

Test(integration, named_actor_second_driver, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);

    mt_actor *a = NULL, *dup = NULL;
    mt_error err = {0};
    mt_actor_options o = {.name = "counter", .ns = "itest"};
    mt_status st = mt_actor_create("manta.Counter", NULL, 0, &o, &a, &err);
    cr_assert_eq(st, MT_OK, "create: %s: %s", mt_status_name(st), err.msg);
    mt_ref *r = call(a, "incr");
    cr_assert_eq(itest_get_i64(r, 30000), 1);
    mt_ref_release(r);

    /* The name is taken while the actor lives; get_if_exists returns the same actor. */
    st = mt_actor_create("manta.Counter", NULL, 0, &o, &dup, &err);
    cr_assert_eq(st, MT_EEXIST, "second create with the same name: %s: %s", mt_status_name(st),
                 err.msg);
    cr_assert_null(dup);
    o.get_if_exists = true;
    st = mt_actor_create("manta.Counter", NULL, 0, &o, &dup, &err);
    cr_assert_eq(st, MT_OK, "get_if_exists: %s: %s", mt_status_name(st), err.msg);
    cr_assert(mt_id_equal(mt_actor_id(dup), mt_actor_id(a)));
    mt_actor_release(dup);

    /* "127.0.0.1:PORT" — the form a user types for MANTA_ADDRESS. */
    char out[4096], addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", C.gcs_port);
    int rc = run_second_driver("second_driver", addr, out, sizeof out);
    cr_assert_eq(rc, 0, "second driver exited %d:\n%s", rc, out);
    cr_assert_str_eq(out, "incr=2\nincr=3\n");

    r = call(a, "get");
    cr_assert_eq(itest_get_i64(r, 30000), 3, "the second driver's calls reached another actor");
    mt_ref_release(r);
    mt_actor_release(a);
    mt_shutdown();
    itest_stop_check(&C);
}

/*
 * A driver that ran tasks and then does something else (here: waits for the
 * other driver) must not keep the workers from the other driver.
 */
Test(integration, idle_driver_does_not_starve_another, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);
    mt_ref *refs[8];
    mt_value vals[8];
    mt_error err = {0};
    for (int i = 0; i < 8; i++) {
        mt_arg args[2] = {MT_ARG_I64(i), MT_ARG_I64(0)};
        cr_assert_eq(mt_task_submit("manta.add_i64", args, 2, NULL, &refs[i], &err), MT_OK,
                     "%s", err.msg);
    }
    cr_assert_eq(mt_get(refs, 8, 30000, vals, &err), MT_OK, "%s", err.msg);
    for (int i = 0; i < 8; i++) {
        mt_value_release(&vals[i]);
        mt_ref_release(refs[i]);
    }
    char out[4096];
    int rc = run_second_driver("tasks_driver", "", out, sizeof out);
    cr_assert_eq(rc, 0, "second driver exited %d:\n%s", rc, out);
    cr_assert_str_eq(out, "sum=5050\n");
    mt_shutdown();
    itest_stop_check(&C);
}

/* After its creator ends (cleanly, or by SIGKILL), a detached actor lives on
 * under its name; a plain named actor is gone and its name free. */
Test(integration, detached_actor_outlives_its_creator, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);
    for (int die = 0; die < 2; die++) {
        char out[700], temp_env[600], text[4096];
        snprintf(out, sizeof out, "%s/creator%d.out", C.dir, die);
        snprintf(temp_env, sizeof temp_env, "MANTA_TEMP_DIR=%s", C.dir);
        if (die)
            setenv("ITEST_DIE", "1", 1);
        pid_t pid = itest_spawn_role("creator_driver", temp_env, out);
        unsetenv("ITEST_DIE");
        double deadline = itest_now() + 60;
        while (itest_read_file(out, text, sizeof text) <= 0 || !strstr(text, "ready\n")) {
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                cr_assert(!die && WIFEXITED(status) && WEXITSTATUS(status) == 0, "creator: %s", text);
                break;
            }
            cr_assert(itest_now() < deadline, "creator not ready: %s", text);
            itest_sleep_ms(20);
        }
        if (die)
            kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        mt_actor *k = NULL, *t = NULL;
        mt_error err = {0};
        mt_status st = MT_OK;
        /* the plain actor's name is freed once the node has seen its creator go */
        for (int i = 0; i < 100; i++) {
            st = mt_actor_lookup("temp", "itest", &t, &err);
            if (st == MT_ENOTFOUND)
                break;
            if (t)
                mt_actor_release(t);
            t = NULL;
            itest_sleep_ms(50);
        }
        cr_assert_eq(st, MT_ENOTFOUND, "round %d: the plain actor's name is still taken: %s", die, err.msg);
        cr_assert_eq(mt_actor_lookup("keeper", "itest", &k, &err), MT_OK, "round %d: %s", die, err.msg);
        mt_ref *r = call(k, "incr");
        cr_assert_eq(itest_get_i64(r, 30000), 2, "round %d: the detached actor kept its state", die);
        mt_ref_release(r);
        /* killing it ends it and frees the name */
        cr_assert_eq(mt_actor_kill(k, true, &err), MT_OK, "%s", err.msg);
        mt_actor_release(k);
        cr_assert_eq(mt_actor_lookup("keeper", "itest", &k, &err), MT_ENOTFOUND, "%s", err.msg);
    }
    mt_shutdown();
    itest_stop_check(&C);
}
