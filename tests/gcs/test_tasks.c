/*
 * test_tasks.c — the control store's task table in process: reports about
 * one attempt merge into one row (latest state, every state's time, the
 * name from the first report), attempts are rows of their own, malformed
 * events are refused while the rest of the report counts, and the table
 * keeps the newest task_events_max_num_task_in_gcs rows, counting the rest
 * as dropped along with what owners dropped.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_keys.h"
#include "gcs/gcs_int.h"
#include "gcs/task_record.h"

static mt_id task_id(uint8_t b)
{
    mt_id id;
    memset(id.bytes, b, MT_ID_SIZE);
    memset(id.bytes + 16, 0, 4); /* task ids keep their last 4 bytes zero */
    return id;
}

/* The texts of a report under construction (records point at them by 1-based index). */
static char *g_strings[32];
static size_t g_nstrings;

static uint32_t text(const char *s)
{
    if (!s) return 0;
    g_strings[g_nstrings] = (char *)s;
    return (uint32_t)++g_nstrings;
}

/* One record: the task, attempt, state, the time of that state, and a name (or NULL). */
static mt_task_record event(mt_id *id, int attempt, Manta__TaskState st, int64_t ms, const char *name)
{
    mt_task_record e = {.task_id = *id, .attempt = (uint32_t)attempt, .state = (uint8_t)st, .name = text(name)};
    e.state_ms[st] = ms;
    return e;
}

static mt_status add(mt__gcs_tasks *t, mt_task_record *evs, size_t n, int64_t dropped, mt_error *err)
{
    uint8_t blob[8 * MT_TASK_RECORD_BYTES];
    for (size_t i = 0; i < n; i++) mt_task_record_put(blob + i * MT_TASK_RECORD_BYTES, &evs[i]);
    Manta__AddTaskEventsRequest r = MANTA__ADD_TASK_EVENTS_REQUEST__INIT;
    r.records = (ProtobufCBinaryData){n * MT_TASK_RECORD_BYTES, blob};
    r.strings = g_strings;
    r.n_strings = g_nstrings;
    r.dropped = dropped;
    mt_status st = mt__gcs_tasks_add(t, &r, err);
    g_nstrings = 0;
    return st;
}

Test(tasks, reports_of_one_attempt_merge_and_attempts_are_rows)
{
    mt__gcs_tasks *t;
    mt_error err;
    cr_assert_eq(mt__gcs_tasks_create(&t, &err), MT_OK);
    mt_id a = task_id(1);
    mt_task_record e1 = event(&a, 0, MANTA__TASK_STATE__TASK_PENDING_NODE_ASSIGNMENT, 100, "f");
    e1.job_id = 7;
    cr_assert_eq(add(t, &e1, 1, 0, &err), MT_OK);
    mt_task_record e2[2] = {event(&a, 0, MANTA__TASK_STATE__TASK_FAILED, 300, NULL),
                            event(&a, 1, MANTA__TASK_STATE__TASK_RUNNING, 400, "f")};
    e2[0].error_type = text("WORKER_DIED");
    e2[1].worker_pid = 42;
    cr_assert_eq(add(t, e2, 2, 0, &err), MT_OK);
    Manta__TaskEvent *rows;
    size_t n = mt__gcs_tasks_list(t, 0, &rows);
    cr_assert_eq(n, 2);
    cr_assert_eq(rows[0].attempt, 0);
    cr_assert_eq(rows[0].state, MANTA__TASK_STATE__TASK_FAILED);
    cr_assert_str_eq(rows[0].name, "f", "the first report's name stays");
    cr_assert_str_eq(rows[0].error_type, "WORKER_DIED");
    cr_assert_eq(rows[0].job_id, 7u);
    cr_assert_eq(rows[0].state_ms[MANTA__TASK_STATE__TASK_PENDING_NODE_ASSIGNMENT], 100);
    cr_assert_eq(rows[0].state_ms[MANTA__TASK_STATE__TASK_FAILED], 300);
    cr_assert_eq(rows[1].attempt, 1);
    cr_assert_eq(rows[1].state, MANTA__TASK_STATE__TASK_RUNNING);
    cr_assert_eq(rows[1].worker_pid, 42);
    cr_assert_eq(memcmp(rows[1].task_id.data, a.bytes, MT_ID_SIZE), 0, "the row names the task, not its key");
    cr_assert_str_eq(rows[1].name, "f");
    mt_free(rows);
    mt__gcs_tasks_destroy(t);
}

Test(tasks, malformed_events_are_refused_and_the_rest_count)
{
    mt__gcs_tasks *t;
    mt_error err;
    cr_assert_eq(mt__gcs_tasks_create(&t, &err), MT_OK);
    mt_id a = task_id(2), b = task_id(3);
    mt_task_record e[5] = {event(&a, 0, MANTA__TASK_STATE__TASK_FINISHED, 1, "ok"),
                           event(&b, -1, MANTA__TASK_STATE__TASK_FINISHED, 1, "bad attempt"),
                           event(&b, 0, MANTA__TASK_STATE__TASK_FINISHED, 1, "bad state"),
                           event(&b, 0, MANTA__TASK_STATE__TASK_FINISHED, 1, NULL),
                           event(&a, 0, MANTA__TASK_STATE__TASK_FAILED, 2, NULL)};
    e[2].state = 99;
    e[3].error_message = 30; /* no such text */
    e[4].task_id.bytes[17] = 1; /* not a task id: it would alias attempt 256 of task a */
    cr_assert_eq(add(t, e, 5, 0, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, "4 of 5 records malformed"), "%s", err.msg);
    cr_assert_eq(mt__gcs_tasks_count(t), 1);
    uint8_t blob[MT_TASK_RECORD_BYTES + 1] = {0};
    Manta__AddTaskEventsRequest r = MANTA__ADD_TASK_EVENTS_REQUEST__INIT;
    r.records = (ProtobufCBinaryData){sizeof blob, blob};
    cr_assert_eq(mt__gcs_tasks_add(t, &r, &err), MT_EINVAL, "a partial record");
    cr_assert(strstr(err.msg, "no whole number"), "%s", err.msg);
    cr_assert_eq(mt__gcs_tasks_count(t), 1);
    mt__gcs_tasks_destroy(t);
}

Test(tasks, the_table_keeps_the_newest_rows_and_counts_what_went)
{
    setenv("MANTA_TASK_EVENTS_MAX_NUM_TASK_IN_GCS", "3", 1);
    mt_error err;
    cr_assert_eq(mt_config_load(&err), MT_OK, "%s", err.msg);
    mt__gcs_tasks *t;
    cr_assert_eq(mt__gcs_tasks_create(&t, &err), MT_OK);
    for (uint8_t i = 1; i <= 5; i++) {
        mt_id id = task_id(i);
        mt_task_record e = event(&id, 0, MANTA__TASK_STATE__TASK_FINISHED, i, "f");
        cr_assert_eq(add(t, &e, 1, i == 5 ? 10 : 0, &err), MT_OK);
    }
    cr_assert_eq(mt__gcs_tasks_count(t), 3);
    cr_assert_eq(mt__gcs_tasks_dropped(t), 2 + 10, "two evicted, ten dropped by an owner");
    Manta__TaskEvent *rows;
    size_t n = mt__gcs_tasks_list(t, 2, &rows);
    cr_assert_eq(n, 2, "the limit");
    cr_assert_eq(rows[0].task_id.data[0], 3, "oldest kept first");
    cr_assert_eq(rows[1].task_id.data[0], 4);
    mt_free(rows);
    /* a report about an evicted task starts a new row (and evicts the oldest again) */
    mt_id first = task_id(1);
    mt_task_record e = event(&first, 0, MANTA__TASK_STATE__TASK_FAILED, 9, NULL);
    cr_assert_eq(add(t, &e, 1, 0, &err), MT_OK);
    n = mt__gcs_tasks_list(t, 0, &rows);
    cr_assert_eq(n, 3);
    cr_assert_eq(rows[2].task_id.data[0], 1);
    cr_assert_str_eq(rows[2].name, "");
    mt_free(rows);
    mt__gcs_tasks_destroy(t);
    unsetenv("MANTA_TASK_EVENTS_MAX_NUM_TASK_IN_GCS");
}
