/*
 * task_events.c — what `manta list tasks` shows: the owner of each task
 * (the driver or worker runtime that submitted it) notes every state change
 * of each attempt, and reports them to the control store about once a
 * second (task_events_report_interval_ms; GCS_ADD_TASK_EVENTS, one-way), as
 * Ray's task event buffer does. Changes between two reports coalesce: one
 * record per attempt, holding its latest state and the time it reached
 * each, so a burst of short tasks costs one record each per report, not one
 * per change. The first record of an attempt names it (function, type,
 * actor, parent task, job). At most task_events_max_buffer_size records wait
 * between reports; changes beyond them are dropped and the count reported.
 *
 * RUNNING is the owner's view: a task is RUNNING while it is the first in
 * flight on its worker (which runs its tasks in order), SUBMITTED_TO_WORKER
 * while it waits behind another there.
 *
 * Threads: under mt__drv.lock (every caller holds it). Invariant: a task's
 * (tev_gen, tev_slot) names its current attempt's record only while
 * tev_gen equals the driver's; a report bumps the generation.
 */
#include <string.h>
#include <time.h>

#include "core/config_keys.h"
#include "core/strtab.h"
#include "gcs/gcs_client.h"
#include "gcs/task_record.h"
#include "worker/worker_int.h"

enum { NSTATES = MANTA__TASK_STATE__TASK_FAILED + 1, CHUNK = 4096 };
_Static_assert(NSTATES == MT_TASK_RECORD_STATES, "a record holds every state's time");

typedef struct mt__tev {
    mt_id task_id, actor_id, parent_id, node_id, worker_id;
    int32_t attempt, worker_pid;
    uint8_t state, type;
    bool has_actor, has_parent, has_node, has_worker;
    uint32_t job_id;
    int64_t state_ms[NSTATES];
    const char *name;         /* the attempt's first record only: interned (mt__drv.tev_names), or name_own */
    char *name_own;
    const char *error_type;   /* a constant */
    char *error_message;
} mt__tev;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The record of t's current attempt in this report, made when needed; NULL when the buffer is full. */
static mt__tev *record_of(mt__task *t)
{
    mt__driver *d = &mt__drv;
    if (d->tev_interval_ms <= 0) return NULL;
    if (t->tev_gen == d->tev_gen && t->tev_slot < d->ntev) return &d->tev[t->tev_slot];
    if (d->ntev == d->cap_tev) {
        int64_t max = MT_CFG_INT64(task_events_max_buffer_size);
        if (d->cap_tev >= max) {
            d->tev_dropped++;
            return NULL;
        }
        int64_t c = d->cap_tev ? d->cap_tev * 2 : 256;
        if (c > max) c = max;
        mt__tev *n = mt_realloc(d->tev, sizeof *n * (size_t)c);
        if (!n) {
            d->tev_dropped++;
            return NULL;
        }
        d->tev = n;
        d->cap_tev = (int32_t)c;
    }
    if (d->ntev == 0) mt__drv_bg_kick(); /* an idle driver's thread wakes for the report */
    mt__tev *e = &d->tev[d->ntev];
    memset(e, 0, sizeof *e);
    e->task_id = t->task_id;
    e->attempt = t->attempt;
    t->tev_gen = d->tev_gen;
    t->tev_slot = d->ntev++;
    if (!t->tev_named) { /* the attempt's first record names it */
        t->tev_named = true;
        const char *fn = t->fn_name ? t->fn_name : "";
        size_t len = strnlen(fn, 256);
        e->name = mt_strtab_intern(&d->tev_names, fn, len, 4096);
        if (!e->name) e->name = e->name_own = mt_strdup(fn); /* past 4096 distinct names */
        e->type = t->ttype;
        if (t->actor) e->actor_id = t->actor->actor_id, e->has_actor = true;
        if (!mt_id_is_nil(t->parent_id)) e->parent_id = t->parent_id, e->has_parent = true;
        e->job_id = t->job_id;
    }
    return e;
}

void mt__tev_init_task(mt__task *t, int type)
{
    mt__driver *d = &mt__drv;
    t->ttype = (uint8_t)type;
    t->parent_id = d->cur_task;
    t->job_id = d->cur_job ? d->cur_job : d->job_id;
}

void mt__tev_state(mt__task *t, int state)
{
    mt__tev *e = record_of(t);
    if (!e) return;
    e->state = (uint8_t)state;
    e->state_ms[state] = wall_ms();
}

void mt__tev_on_worker(mt__task *t, const mt__lease *l, int state)
{
    mt__tev *e = record_of(t);
    if (!e) return;
    e->state = (uint8_t)state;
    e->state_ms[state] = wall_ms();
    if (!mt_id_is_nil(l->worker_id)) e->worker_id = l->worker_id, e->has_worker = true;
    if (!mt_id_is_nil(l->node_id)) e->node_id = l->node_id, e->has_node = true;
    e->worker_pid = l->worker_pid;
}

void mt__tev_finished(mt__task *t)
{
    mt__tev *e = record_of(t);
    if (!e) return;
    int64_t now = wall_ms();
    e->state = MANTA__TASK_STATE__TASK_FINISHED;
    e->state_ms[MANTA__TASK_STATE__TASK_FINISHED] = now;
    if (!t->tev_running) e->state_ms[MANTA__TASK_STATE__TASK_RUNNING] = now;
}

const char *mt__tev_error_type(const mt__task *t, mt_status code)
{
    switch (code) {
    case MT_ECANCELLED: return "TASK_CANCELLED";
    case MT_EUNSUPPORTED: return t->actor ? "ACTOR_UNSCHEDULABLE_ERROR" : "TASK_UNSCHEDULABLE_ERROR";
    case MT_EIO: return t->actor ? "ACTOR_DIED" : "WORKER_DIED";
    case MT_ENOTFOUND: return "OBJECT_LOST";
    case MT_ENOMEM: return "OUT_OF_MEMORY";
    default: return "TASK_EXECUTION_EXCEPTION";
    }
}

void mt__tev_failed(mt__task *t, const char *error_type, const char *msg)
{
    mt__tev *e = record_of(t);
    if (!e) return;
    e->state = MANTA__TASK_STATE__TASK_FAILED;
    e->state_ms[MANTA__TASK_STATE__TASK_FAILED] = wall_ms();
    e->error_type = error_type;
    mt_free(e->error_message);
    size_t n = msg ? strnlen(msg, 300) : 0;
    if ((e->error_message = mt_malloc(n + 1))) {
        memcpy(e->error_message, msg ? msg : "", n);
        e->error_message[n] = 0;
    }
}

void mt__tev_retry(mt__task *t, const char *error_type, const char *msg, int state)
{
    mt__tev_failed(t, error_type, msg);
    t->attempt++;
    t->tev_named = false;
    t->tev_gen = 0; /* the next attempt gets a record of its own */
    mt__tev_state(t, state);
}

void mt__tev_actor_start_failed(mt_actor *a, int32_t attempt, mt_status code, const char *msg)
{
    mt__task t; /* a stand-in: the creation task has no task of its own before it goes to a worker */
    memset(&t, 0, sizeof t);
    t.task_id = a->ctor_task_id;
    t.attempt = attempt;
    t.fn_name = a->class_name;
    t.ttype = MANTA__TASK_TYPE__ACTOR_CREATION_TASK;
    t.actor = a;
    t.parent_id = a->ctor_parent;
    t.job_id = a->ctor_job;
    mt__tev_failed(&t, mt__tev_error_type(&t, code), msg);
}

static void drop_all(void)
{
    mt__driver *d = &mt__drv;
    for (int32_t i = 0; i < d->ntev; i++) {
        mt_free(d->tev[i].name_own);
        mt_free(d->tev[i].error_message);
    }
    d->ntev = 0;
    if (++d->tev_gen == 0) d->tev_gen = 1; /* 0 never names a generation */
}

/* The report's texts: each distinct pointer (names are interned) once, by 1-based index. */
typedef struct texts {
    struct { const char *p; uint32_t idx; } *slots;
    size_t mask;
    char **strings;
    size_t n;
} texts;

static uint32_t text_ref(texts *x, const char *p)
{
    if (!p) return 0;
    size_t h = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull;
    for (size_t i = h & x->mask;; i = (i + 1) & x->mask) {
        if (x->slots[i].p == p) return x->slots[i].idx;
        if (!x->slots[i].p) {
            x->strings[x->n] = (char *)p;
            x->slots[i].p = p;
            return x->slots[i].idx = (uint32_t)++x->n;
        }
    }
}

void mt__tev_flush(bool force)
{
    mt__driver *d = &mt__drv;
    if (!d->ntev && !d->tev_dropped) return;
    int64_t now = mt_time_now_ns();
    if (!force && now < d->tev_next_ns) return;
    d->tev_next_ns = now + d->tev_interval_ms * 1000000;
    if (now < d->tev_retry_ns) { /* the control store was unreachable a moment ago */
        d->tev_dropped += d->ntev;
        drop_all();
        return;
    }
    /* In messages of at most CHUNK records (~750 KB): buffers that size are reused on both ends, where a
     * whole second's worth (tens of MB) would be fresh pages to fault in every time. */
    size_t nt = (size_t)d->ntev, cap = 16, sent = 0;
    while (cap < 6 * CHUNK + 2) cap *= 2; /* up to three texts a record, at most half full */
    texts x = {.slots = mt_malloc(cap * sizeof *x.slots), .mask = cap - 1, .strings = mt_malloc((3 * CHUNK + 1) * sizeof(char *))};
    uint8_t *blob = mt_malloc(CHUNK * MT_TASK_RECORD_BYTES);
    mt_gcs_client *g = NULL;
    mt_error err;
    mt_status st = x.slots && x.strings && blob ? mt__drv_gcs(&g, &err) : mt_error_set(&err, MT_ENOMEM, "task events");
    for (size_t from = 0; st == MT_OK && (from < nt || (!nt && from == 0)); from += CHUNK) {
        size_t n = nt - from < CHUNK ? nt - from : CHUNK;
        memset(x.slots, 0, cap * sizeof *x.slots);
        x.n = 0;
        for (size_t i = 0; i < n; i++) {
            const mt__tev *r = &d->tev[from + i];
            mt_task_record rec = {.task_id = r->task_id, .actor_id = r->actor_id, .parent_id = r->parent_id,
                                  .node_id = r->node_id, .worker_id = r->worker_id, .attempt = (uint32_t)r->attempt,
                                  .job_id = r->job_id, .worker_pid = r->worker_pid, .state = r->state, .type = r->type,
                                  .has_actor = r->has_actor, .has_parent = r->has_parent, .has_node = r->has_node,
                                  .has_worker = r->has_worker, .name = text_ref(&x, r->name),
                                  .error_type = text_ref(&x, r->error_type), .error_message = text_ref(&x, r->error_message)};
            memcpy(rec.state_ms, r->state_ms, sizeof rec.state_ms);
            mt_task_record_put(blob + i * MT_TASK_RECORD_BYTES, &rec);
        }
        Manta__AddTaskEventsRequest req = MANTA__ADD_TASK_EVENTS_REQUEST__INIT;
        req.records = (ProtobufCBinaryData){n * MT_TASK_RECORD_BYTES, blob};
        req.strings = x.strings;
        req.n_strings = x.n;
        req.dropped = from == 0 ? d->tev_dropped : 0;
        st = mt_gcs_report_task_events(g, &req, &err);
        if (st == MT_OK) sent = from + n;
        if (!nt) break; /* only the dropped count to say */
    }
    if (st == MT_OK || sent) d->tev_dropped = 0; /* the first chunk carried the count */
    if (st == MT_OK) {
        d->tev_backoff_ms = 0;
    } else {
        MT_LOG(MT_LOG_DEBUG, "TASK-EVENTS", "%d task state changes not reported: %s", d->ntev, err.msg);
        d->tev_dropped += (int64_t)(nt - sent); /* the chunks sent before the failure arrived */
        /* the head is down or restarting: try again in a while, backing off (a connect may block up to its timeout) */
        d->tev_backoff_ms = d->tev_backoff_ms ? (d->tev_backoff_ms * 2 > 60000 ? 60000 : d->tev_backoff_ms * 2) : 2000;
        d->tev_retry_ns = now + d->tev_backoff_ms * 1000000;
        if (g) mt__drv_gcs_reset();
    }
    mt_free(x.slots);
    mt_free(x.strings);
    mt_free(blob);
    drop_all();
}

void mt__tev_start(void)
{
    mt__driver *d = &mt__drv;
    d->tev_interval_ms = MT_CFG_INT64(task_events_report_interval_ms);
    d->tev_gen = 1;
    d->tev_dropped = d->tev_retry_ns = d->tev_backoff_ms = 0; /* nothing of an earlier session's */
    d->tev_next_ns = mt_time_now_ns() + d->tev_interval_ms * 1000000;
    memcpy(&d->job_id, d->driver_id.bytes, sizeof d->job_id);
    if (!d->job_id) d->job_id = 1;
}

void mt__tev_fini(void)
{
    mt__tev_flush(true);
    drop_all();
    mt_free(mt__drv.tev);
    mt__drv.tev = NULL;
    mt_strtab_fini(&mt__drv.tev_names);
    mt__drv.cap_tev = 0;
}
