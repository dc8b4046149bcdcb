/*
 * `manta list tasks` and `manta summary tasks` on a real cluster: the
 * owners (this driver, and a worker whose task submits tasks) report each
 * task's state changes to the control store about once a second; the list
 * shows each attempt with Ray's columns — finished, failed with Ray's error
 * type, running, actor creation and actor tasks, children naming their
 * parent, a retried task as two attempts — and filters and summarises them.
 */
#include "itest_cluster.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <manta/manta.h>

static itest_cluster C;

static void setup(void) { itest_prepare(&C); }
static void teardown(void) { itest_teardown(&C); }

/* `manta list tasks --format json` (plus one extra argument pair, or NULLs), parsed. */
static json_t *list_tasks(const char *k, const char *v)
{
    static char out[1 << 20];
    char *args[] = {"list", "tasks", "--format", "json", "--limit", "10000", "--temp-dir", C.dir, (char *)k, (char *)v, NULL};
    int rc = itest_run_cli(args, out, sizeof out, 20000);
    cr_assert_eq(rc, 0, "manta list tasks exited %d: %s", rc, out);
    json_error_t je;
    const char *start = strchr(out, '[');
    json_t *j = start ? json_loads(start, JSON_DISABLE_EOF_CHECK, &je) : NULL;
    cr_assert(j && json_is_array(j), "not a JSON array: %s", out);
    return j;
}

static const char *str_of(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

static long long int_of(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    return (long long)json_integer_value(v);
}

/* Rows named `name` in `state` (NULL: any). */
static int count(json_t *rows, const char *name, const char *state)
{
    int n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) n += !strcmp(str_of(r, "name"), name) && (!state || !strcmp(str_of(r, "state"), state));
    return n;
}

static json_t *find(json_t *rows, const char *name, const char *state)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) if (!strcmp(str_of(r, "name"), name) && (!state || !strcmp(str_of(r, "state"), state))) return r;
    return NULL;
}

/* Polls the list (reports come about once a second) until `name` has `want` rows in `state`. */
static json_t *wait_for(const char *name, const char *state, int want)
{
    json_t *rows = NULL;
    for (double t0 = itest_now(); itest_now() - t0 < 15; itest_sleep_ms(200)) {
        if (rows) json_decref(rows);
        rows = list_tasks(NULL, NULL);
        if (count(rows, name, state) >= want) return rows;
    }
    char *dump = json_dumps(rows, JSON_COMPACT);
    cr_assert_fail("never %d %s rows in %s: %s", want, name, state ? state : "any state", dump);
    return NULL;
}

Test(list_tasks, shows_each_task_s_state_type_node_and_failure, .init = setup, .fini = teardown, .timeout = 120)
{
    itest_start(&C, (const char *const[]){"--num-cpus", "2", NULL});
    mt_error err = {0};
    mt_init_options o = {.temp_dir = C.dir, .no_start = true, .code_path = MT_BINARY_DIR "/tests/libmanta_test_userfns.so"};
    cr_assert_eq(mt_init_ex(&o, &err), MT_OK, "%s", err.msg);
    mt_ref *adds[3], *bad = NULL, *slow = NULL, *fan = NULL, *calls[2];
    for (int i = 0; i < 3; i++) {
        mt_arg a[2] = {MT_ARG_I64(i), MT_ARG_I64(1)};
        cr_assert_eq(mt_task_submit("manta.add_i64", a, 2, NULL, &adds[i], &err), MT_OK, "%s", err.msg);
    }
    mt_arg why = MT_ARG_STR("on purpose");
    cr_assert_eq(mt_task_submit("manta.fail", &why, 1, NULL, &bad, &err), MT_OK, "%s", err.msg);
    mt_arg fan_n = MT_ARG_I64(4);
    cr_assert_eq(mt_task_submit("user_fanout", &fan_n, 1, NULL, &fan, &err), MT_OK, "%s", err.msg);
    mt_actor *counter = NULL;
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, NULL, &counter, &err), MT_OK, "%s", err.msg);
    for (int i = 0; i < 2; i++) cr_assert_eq(mt_actor_call(counter, "incr", NULL, 0, 1, &calls[i], &err), MT_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++) cr_assert_eq(itest_get_i64(adds[i], 30000), i + 1);
    cr_assert_eq(itest_get_i64(fan, 30000), 1 + 2 + 3 + 4);
    for (int i = 0; i < 2; i++) cr_assert_eq(itest_get_i64(calls[i], 30000), i + 1);
    mt_value v;
    cr_assert_neq(mt_get(&bad, 1, 30000, &v, &err), MT_OK);
    mt_arg long_ms = MT_ARG_I64(8000);
    cr_assert_eq(mt_task_submit("manta.sleep_ms", &long_ms, 1, NULL, &slow, &err), MT_OK, "%s", err.msg);

    json_t *rows = wait_for("manta.sleep_ms", "RUNNING", 1);
    cr_assert_eq(count(rows, "manta.add_i64", "FINISHED"), 3 + 4, "3 from here, 4 from the fan-out task");
    json_t *fanrow = find(rows, "user_fanout", "FINISHED");
    cr_assert_not_null(fanrow);
    const char *fan_id = str_of(fanrow, "task_id"), *job = str_of(fanrow, "job_id");
    cr_assert_eq(strlen(fan_id), 40);
    cr_assert_eq(strlen(job), 8);
    int children = 0, top = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        if (strcmp(str_of(r, "name"), "manta.add_i64")) continue;
        cr_assert_str_eq(str_of(r, "type"), "NORMAL_TASK");
        cr_assert_str_eq(str_of(r, "job_id"), job, "a child carries its parent's job");
        cr_assert_eq(int_of(r, "attempt_number"), 0);
        cr_assert_gt(int_of(r, "worker_pid"), 0);
        cr_assert_eq(strlen(str_of(r, "node_id")), 40);
        children += !strcmp(str_of(r, "parent_task_id"), fan_id);
        top += !*str_of(r, "parent_task_id");
    }
    cr_assert_eq(children, 4, "the fan-out's children name it as their parent");
    cr_assert_eq(top, 3);
    json_t *f = find(rows, "manta.fail", NULL);
    cr_assert(f && !strcmp(str_of(f, "state"), "FAILED"));
    cr_assert_str_eq(str_of(f, "error_type"), "TASK_EXECUTION_EXCEPTION");
    json_t *ctor = find(rows, "manta.Counter.__init__", "FINISHED");
    cr_assert_not_null(ctor, "the actor's creation task");
    cr_assert_str_eq(str_of(ctor, "type"), "ACTOR_CREATION_TASK");
    cr_assert_eq(count(rows, "manta.Counter.incr", "FINISHED"), 2);
    json_t *call = find(rows, "manta.Counter.incr", NULL);
    cr_assert_str_eq(str_of(call, "type"), "ACTOR_TASK");
    cr_assert_str_eq(str_of(call, "actor_id"), str_of(ctor, "actor_id"));
    cr_assert_eq(strlen(str_of(call, "actor_id")), 40);
    json_decref(rows);

    /* filters (a column, case-insensitive; = and !=), then the limit */
    rows = list_tasks("--filter", "STATE=running");
    cr_assert_eq(json_array_size(rows), 1);
    cr_assert_str_eq(str_of(json_array_get(rows, 0), "name"), "manta.sleep_ms");
    json_decref(rows);
    rows = list_tasks("--filter", "type!=NORMAL_TASK");
    cr_assert_eq(json_array_size(rows), 3, "the creation task and two calls");
    json_decref(rows);
    char out[16384];
    char *badf[] = {"list", "tasks", "--filter", "colour=red", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(badf, out, sizeof out, 20000), 2, "%s", out);
    cr_assert(strstr(out, "no column 'COLOUR'"), "%s", out);
    char *table[] = {"list", "tasks", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(table, out, sizeof out, 20000), 0, "%s", out);
    cr_assert(strstr(out, "TASK_ID") && strstr(out, "ATTEMPT_NUMBER") && strstr(out, "FUNC_OR_CLASS_NAME") &&
                  strstr(out, "ERROR_TYPE") && strstr(out, "Total: 13"), "%s", out);
    char *sum[] = {"summary", "tasks", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(sum, out, sizeof out, 20000), 0, "%s", out);
    cr_assert(strstr(out, "======== Tasks Summary: ") && strstr(out, "total_actor_scheduled: 1") &&
                  strstr(out, "total_actor_tasks: 2") && strstr(out, "total_tasks: 10"), "%s", out);
    cr_assert(strstr(out, "FINISHED: 7"), "manta.add_i64 grouped: %s", out);
    cr_assert(strstr(out, "RUNNING: 1"), "%s", out);

    mt_ref_release(bad);
    mt_ref_release(fan);
    for (int k = 0; k < 3; k++) mt_ref_release(adds[k]);
    for (int k = 0; k < 2; k++) mt_ref_release(calls[k]);
    mt_actor_release(counter);
    mt_ref_release(slow);
    mt_shutdown();
    /* what a driver's last second did is reported when it shuts down */
    rows = wait_for("manta.sleep_ms", "FAILED", 1);
    cr_assert_str_eq(str_of(find(rows, "manta.sleep_ms", NULL), "error_type"), "TASK_CANCELLED", "cancelled at shutdown");
    json_decref(rows);
}

/* A task whose worker dies is tried again: two rows, attempt 0 FAILED (WORKER_DIED) and attempt 1 FINISHED. */
Test(list_tasks, a_retried_task_shows_each_attempt, .init = setup, .fini = teardown, .timeout = 120)
{
    itest_start(&C, NULL);
    itest_connect(&C);
    char marker[300];
    snprintf(marker, sizeof marker, "%s/crashed-once", C.dir);
    mt_arg a = {.data = marker, .size = strlen(marker)};
    mt_ref *r = NULL;
    mt_error err = {0};
    cr_assert_eq(mt_task_submit("manta.crash_once", &a, 1, NULL, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_gt(itest_get_i64(r, 30000), 0);
    mt_ref_release(r);
    json_t *rows = wait_for("manta.crash_once", "FINISHED", 1);
    cr_assert_eq(count(rows, "manta.crash_once", NULL), 2, "one row per attempt");
    json_t *first = find(rows, "manta.crash_once", "FAILED"), *second = find(rows, "manta.crash_once", "FINISHED");
    cr_assert_not_null(first);
    cr_assert_eq(int_of(first, "attempt_number"), 0);
    cr_assert_eq(int_of(second, "attempt_number"), 1);
    cr_assert_str_eq(str_of(first, "error_type"), "WORKER_DIED");
    cr_assert_str_eq(str_of(first, "task_id"), str_of(second, "task_id"));
    cr_assert_neq(int_of(first, "worker_pid"), int_of(second, "worker_pid"));
    json_decref(rows);
    mt_shutdown();
}

/*
 * An actor that never gets a worker still has its creation task listed as
 * FAILED: one nobody can place (ACTOR_UNSCHEDULABLE_ERROR), and one killed
 * while its constructor's argument was still being made (ACTOR_DIED).
 */
Test(list_tasks, an_actor_that_never_starts_shows_its_creation_task_failed, .init = setup, .fini = teardown,
     .timeout = 120)
{
    itest_start(&C, NULL);
    itest_connect(&C);
    mt_error err = {0};
    mt_resource nowhere[1] = {{"nowhere", 1}};
    mt_actor_options no = {.resources = nowhere, .num_resources = 1};
    mt_actor *lost = NULL, *killed = NULL;
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &no, &lost, &err), MT_OK, "%s", err.msg);
    mt_ref *r = NULL;
    mt_value v;
    cr_assert_eq(mt_actor_call(lost, "incr", NULL, 0, 1, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_neq(mt_get(&r, 1, 30000, &v, &err), MT_OK, "an actor nobody can place does not answer");
    mt_ref_release(r);
    mt_arg ms = MT_ARG_I64(1500);
    mt_ref *slow = NULL;
    cr_assert_eq(mt_task_submit("manta.sleep_ms", &ms, 1, NULL, &slow, &err), MT_OK, "%s", err.msg);
    mt_arg from = {.ref = slow};
    cr_assert_eq(mt_actor_create("manta.Counter", &from, 1, NULL, &killed, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_actor_kill(killed, true, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(itest_get_i64(slow, 30000), 1500);
    json_t *rows = wait_for("manta.Counter.__init__", "FAILED", 2);
    cr_assert_eq(count(rows, "manta.Counter.__init__", NULL), 2, "one row each, no pending leftovers");
    size_t i;
    json_t *row;
    int unschedulable = 0, died = 0;
    json_array_foreach(rows, i, row) {
        if (strcmp(str_of(row, "name"), "manta.Counter.__init__")) continue;
        cr_assert_str_eq(str_of(row, "type"), "ACTOR_CREATION_TASK");
        cr_assert_eq(int_of(row, "attempt_number"), 0);
        unschedulable += !strcmp(str_of(row, "error_type"), "ACTOR_UNSCHEDULABLE_ERROR");
        died += !strcmp(str_of(row, "error_type"), "ACTOR_DIED");
    }
    cr_assert(unschedulable == 1 && died == 1, "%d unschedulable, %d died", unschedulable, died);
    json_decref(rows);
    mt_ref_release(slow);
    mt_actor_release(lost);
    mt_actor_release(killed);
    mt_shutdown();
}
