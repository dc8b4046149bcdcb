/*
 * gcs_tasks.c — the control store's task table (Ray's GcsTaskManager): one
 * row per attempt of each task, merged from the state changes the tasks'
 * owners report about once a second (GCS_ADD_TASK_EVENTS, one-way), for
 * `manta list tasks` and `manta summary tasks`. Memory only, as in Ray:
 * a restarted head starts an empty table. Bounded at
 * task_events_max_num_task_in_gcs rows; beyond it the oldest row goes
 * (first reported, first evicted) and is counted as dropped, as are the
 * events an owner could not buffer.
 *
 * Rows come from chunks of ROW_CHUNK and go back to a free list, and names
 * are interned (a few distinct functions, millions of tasks), so a report
 * costs no allocation per task once the table is warm.
 *
 * Threads: the control store's loop. Invariants: the map and the ring hold
 * the same rows; a row's key is its task id with the attempt in bytes
 * 16..19 (task ids keep those zero); rows in the ring are oldest first; a
 * row's name is interned unless name_owned.
 */
#include <string.h>

#include "core/config_keys.h"
#include "core/idmap.h"
#include "core/strtab.h"
#include "gcs/gcs_int.h"
#include "gcs/task_record.h"

enum { NSTATES = MANTA__TASK_STATE__TASK_FAILED + 1, NAME_MAX_LEN = 256, MSG_MAX_LEN = 1024, ROW_CHUNK = 1024,
       MAX_NAMES = 65536 };
_Static_assert(NSTATES == MT_TASK_RECORD_STATES, "a record holds every state's time");

typedef struct task_row {
    mt_id task_id, actor_id, parent_id, node_id, worker_id;
    int32_t attempt, worker_pid;
    int state, type;
    uint32_t job_id;
    bool has_actor, has_parent, has_node, has_worker, name_owned;
    int64_t state_ms[NSTATES];
    const char *name;
    char *error_type, *error_message;
    struct task_row *next_free;
} task_row;

typedef struct row_chunk {
    struct row_chunk *next;
    task_row rows[ROW_CHUNK];
} row_chunk;

struct mt__gcs_tasks {
    mt_idmap map;
    task_row **ring; /* cap slots, n rows from head */
    size_t cap, head, n;
    int64_t dropped;
    row_chunk *chunks;
    task_row *free_rows;
    mt_strtab names;
};

static mt_id key_of(const uint8_t *task_id, int32_t attempt)
{
    mt_id k;
    memcpy(k.bytes, task_id, MT_ID_SIZE);
    uint32_t a = (uint32_t)attempt;
    for (int i = 0; i < 4; i++) k.bytes[16 + i] ^= (uint8_t)(a >> (8 * i));
    return k;
}

static task_row *row_new(mt__gcs_tasks *t)
{
    if (!t->free_rows) {
        row_chunk *c = mt_malloc(sizeof *c);
        if (!c) return NULL;
        c->next = t->chunks;
        t->chunks = c;
        for (int i = ROW_CHUNK - 1; i >= 0; i--) c->rows[i].next_free = t->free_rows, t->free_rows = &c->rows[i];
    }
    task_row *r = t->free_rows;
    t->free_rows = r->next_free;
    memset(r, 0, sizeof *r);
    return r;
}

static void row_free(mt__gcs_tasks *t, task_row *r)
{
    if (!r) return;
    if (r->name_owned) mt_free((char *)r->name);
    mt_free(r->error_type);
    mt_free(r->error_message);
    r->next_free = t->free_rows;
    t->free_rows = r;
}

mt_status mt__gcs_tasks_create(mt__gcs_tasks **out, mt_error *err)
{
    mt__gcs_tasks *t = *out = mt_calloc(1, sizeof **out);
    if (!t) return mt_error_set(err, MT_ENOMEM, "task table");
    return MT_OK;
}

void mt__gcs_tasks_destroy(mt__gcs_tasks *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) row_free(t, t->ring[(t->head + i) % t->cap]);
    mt_free(t->ring);
    mt_idmap_fini(&t->map);
    while (t->chunks) {
        row_chunk *c = t->chunks;
        t->chunks = c->next;
        mt_free(c);
    }
    mt_strtab_fini(&t->names);
    mt_free(t);
}

static void evict_oldest(mt__gcs_tasks *t)
{
    if (t->dropped < INT64_MAX) t->dropped++;
    task_row *r = t->ring[t->head];
    mt_idmap_del(&t->map, key_of(r->task_id.bytes, r->attempt));
    row_free(t, r);
    t->head = (t->head + 1) % t->cap;
    t->n--;
}

/* Appends a row at the ring's end (growing it up to max); false on out of memory. */
static bool ring_push(mt__gcs_tasks *t, task_row *r, size_t max)
{
    if (t->n >= max) evict_oldest(t);
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        if (ncap > max) ncap = max;
        task_row **nr = mt_malloc(ncap * sizeof *nr);
        if (!nr) return false;
        for (size_t i = 0; i < t->n; i++) nr[i] = t->ring[(t->head + i) % t->cap];
        mt_free(t->ring);
        t->ring = nr;
        t->cap = ncap;
        t->head = 0;
    }
    t->ring[(t->head + t->n) % t->cap] = r;
    t->n++;
    return true;
}

/* Replaces *dst with a copy of s (at most cap bytes) when s is non-empty. */
static void set_text(char **dst, const char *s, size_t cap)
{
    if (!s || !*s) return;
    size_t n = strnlen(s, cap);
    char *c = mt_malloc(n + 1);
    if (!c) return; /* out of memory: the row keeps its old text */
    memcpy(c, s, n);
    c[n] = 0;
    mt_free(*dst);
    *dst = c;
}

/* The text a record points at (1-based into strings), or NULL; *bad when the index is out of range. */
static const char *text_of(uint32_t ref, char *const *strings, size_t n, bool *bad)
{
    if (!ref) return NULL;
    if (ref > n) {
        *bad = true;
        return NULL;
    }
    return strings[ref - 1];
}

/* Merges one record; false when it is malformed (a bad attempt, state, type or text index). */
static bool merge(mt__gcs_tasks *t, const mt_task_record *e, char *const *strings, size_t nstr, size_t max)
{
    bool bad = false;
    const char *name = text_of(e->name, strings, nstr, &bad), *etype = text_of(e->error_type, strings, nstr, &bad),
               *emsg = text_of(e->error_message, strings, nstr, &bad);
    static const uint8_t zero[4];
    if (bad || e->attempt > 1000000 || e->state >= NSTATES || e->type > MANTA__TASK_TYPE__ACTOR_TASK ||
        memcmp(e->task_id.bytes + 16, zero, 4)) /* task ids keep bytes 16..19 zero: the key holds the attempt there */
        return false;
    mt_id key = key_of(e->task_id.bytes, (int32_t)e->attempt);
    void **slot = mt_idmap_find(&t->map, key);
    task_row *r = slot ? *slot : NULL;
    if (!r) {
        if (!(r = row_new(t))) return true;
        r->task_id = e->task_id;
        r->attempt = (int32_t)e->attempt;
        if (!ring_push(t, r, max) || !(slot = mt_idmap_put(&t->map, key))) {
            if (t->n && t->ring[(t->head + t->n - 1) % t->cap] == r) t->n--;
            row_free(t, r);
            t->dropped++;
            return true;
        }
        *slot = r;
        r->type = e->type;
    }
    if (e->state != MANTA__TASK_STATE__TASK_STATE_NIL) r->state = e->state;
    for (int i = 0; i < NSTATES; i++)
        if (e->state_ms[i] > 0) r->state_ms[i] = e->state_ms[i];
    if (name && *name) { /* the first report of an attempt names it */
        r->type = e->type;
        const char *in = mt_strtab_intern(&t->names, name, strnlen(name, NAME_MAX_LEN), MAX_NAMES);
        if (r->name_owned) mt_free((char *)r->name);
        r->name = in;
        r->name_owned = false;
        if (!in) {
            char *own = NULL;
            set_text(&own, name, NAME_MAX_LEN); /* past MAX_NAMES distinct names: a copy of its own */
            r->name = own;
            r->name_owned = own != NULL;
        }
    }
    set_text(&r->error_type, etype, 64);
    set_text(&r->error_message, emsg, MSG_MAX_LEN);
    if (e->has_actor) r->actor_id = e->actor_id, r->has_actor = true;
    if (e->has_parent) r->parent_id = e->parent_id, r->has_parent = true;
    if (e->has_node) r->node_id = e->node_id, r->has_node = true;
    if (e->has_worker) r->worker_id = e->worker_id, r->has_worker = true;
    if (e->job_id) r->job_id = e->job_id;
    if (e->worker_pid) r->worker_pid = e->worker_pid;
    return true;
}

mt_status mt__gcs_tasks_add(mt__gcs_tasks *t, const Manta__AddTaskEventsRequest *req, mt_error *err)
{
    if (req->records.len % MT_TASK_RECORD_BYTES)
        return mt_error_set(err, MT_EINVAL, "task events: %zu bytes of records is no whole number of %d-byte records",
                            req->records.len, MT_TASK_RECORD_BYTES);
    size_t max = (size_t)MT_CFG_INT64(task_events_max_num_task_in_gcs), bad = 0, n = req->records.len / MT_TASK_RECORD_BYTES;
    if (req->dropped > 0) t->dropped = req->dropped > INT64_MAX - t->dropped ? INT64_MAX : t->dropped + req->dropped;
    for (size_t i = 0; i < n; i++) {
        mt_task_record r;
        mt_task_record_get(req->records.data + i * MT_TASK_RECORD_BYTES, &r);
        bad += !merge(t, &r, req->strings, req->n_strings, max);
    }
    if (bad) return mt_error_set(err, MT_EINVAL, "task events: %zu of %zu records malformed (a bad attempt, state, type or text index)",
                                 bad, n);
    return MT_OK;
}

static ProtobufCBinaryData id_pb(const mt_id *id, bool has)
{
    return has ? (ProtobufCBinaryData){MT_ID_SIZE, (uint8_t *)id->bytes} : (ProtobufCBinaryData){0, NULL};
}

size_t mt__gcs_tasks_list(const mt__gcs_tasks *t, size_t limit, Manta__TaskEvent **out)
{
    size_t n = limit && limit < t->n ? limit : t->n;
    Manta__TaskEvent *ev = n ? mt_calloc(n, sizeof *ev) : NULL;
    if (!ev) n = 0;
    for (size_t i = 0; i < n; i++) {
        task_row *r = t->ring[(t->head + i) % t->cap];
        Manta__TaskEvent *e = &ev[i];
        manta__task_event__init(e);
        e->task_id = id_pb(&r->task_id, true);
        e->attempt = r->attempt;
        e->state = (Manta__TaskState)r->state;
        e->n_state_ms = NSTATES;
        e->state_ms = r->state_ms;
        e->name = (char *)(r->name ? r->name : "");
        e->type = (Manta__TaskType)r->type;
        e->actor_id = id_pb(&r->actor_id, r->has_actor);
        e->parent_task_id = id_pb(&r->parent_id, r->has_parent);
        e->job_id = r->job_id;
        e->node_id = id_pb(&r->node_id, r->has_node);
        e->worker_id = id_pb(&r->worker_id, r->has_worker);
        e->worker_pid = r->worker_pid;
        e->error_type = r->error_type ? r->error_type : (char *)"";
        e->error_message = r->error_message ? r->error_message : (char *)"";
    }
    *out = ev;
    return n;
}

size_t mt__gcs_tasks_count(const mt__gcs_tasks *t) { return t->n; }
int64_t mt__gcs_tasks_dropped(const mt__gcs_tasks *t) { return t->dropped; }
