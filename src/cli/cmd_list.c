/*
 * cmd_list.c — `manta list nodes|actors|tasks|objects|placement-groups`: Ray's
 * state API listing (`ray list …`) from the control store (objects: from
 * every alive node's store, asked over TCP), as Ray's table (a "List:"
 * banner, Stats, Table with an index column) or as JSON (one object per row,
 * Ray's lower-case field names); `--filter key=value` / `key!=value` keeps
 * the rows that match (all filters), before `--limit`. Also
 * `manta summary tasks` (Ray's `ray summary tasks`). Main thread only.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "cli/cli_runtime.h"
#include "core/config_keys.h"
#include "gcs/gcs_client.h"
#include "gcs/session.h"
#include "proto/node.pb-c.h"
#include "rpc/rpc.h"

#define LIST_USAGE                                                                                       \
    "usage: manta list nodes|actors|tasks|objects|placement-groups [--filter KEY=VALUE|KEY!=VALUE]... [--limit N]\n" \
    "                  [--detail] [--format default|table|json] [--address HOST:PORT] [--temp-dir DIR]\n"            \
    "       manta summary tasks [--address HOST:PORT] [--temp-dir DIR]\n"

enum { MAX_COLS = 17, MAX_FILTERS = 8 };

typedef struct rows {
    const char *cols[MAX_COLS];
    int ncols;
    char *(*cells)[MAX_COLS]; /* mt_malloc'd strings */
    int n, cap;
} rows;

static char *dupf(const char *fmt, const char *s)
{
    size_t n = (size_t)snprintf(NULL, 0, fmt, s) + 1;
    char *p = mt_malloc(n);
    if (p) snprintf(p, n, fmt, s);
    return p;
}

static bool add_row(rows *t, char *const *cells)
{
    if (t->n == t->cap) {
        int c = t->cap ? t->cap * 2 : 16;
        void *v = mt_realloc(t->cells, sizeof *t->cells * (size_t)c);
        if (!v) return false;
        t->cells = v;
        t->cap = c;
    }
    for (int i = 0; i < t->ncols; i++) t->cells[t->n][i] = cells[i];
    t->n++;
    return true;
}

static void rows_free(rows *t)
{
    for (int r = 0; r < t->n; r++)
        for (int i = 0; i < t->ncols; i++) mt_free(t->cells[r][i]);
    mt_free(t->cells);
}

/* The rows with an index column, each column as wide as its widest cell (the last unpadded). */
static void print_rows(const rows *t, FILE *out)
{
    size_t w[MAX_COLS], iw = (size_t)snprintf(NULL, 0, "%d", t->n > 0 ? t->n - 1 : 0);
    for (int i = 0; i < t->ncols; i++) {
        w[i] = strlen(t->cols[i]);
        for (int r = 0; r < t->n; r++) w[i] = strlen(t->cells[r][i]) > w[i] ? strlen(t->cells[r][i]) : w[i];
    }
    fprintf(out, " %*s", (int)iw, "");
    for (int i = 0; i < t->ncols; i++) fprintf(out, "  %-*s", i + 1 < t->ncols ? (int)w[i] : 0, t->cols[i]);
    fputc('\n', out);
    for (int r = 0; r < t->n; r++) {
        fprintf(out, " %*d", (int)iw, r);
        for (int i = 0; i < t->ncols; i++) fprintf(out, "  %-*s", i + 1 < t->ncols ? (int)w[i] : 0, t->cells[r][i]);
        fputc('\n', out);
    }
}

/* "2026-12-07 16:45:28.669074", local time: Ray's banner timestamp. */
static void now_text(char *out, size_t cap)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, cap, "%s.%06ld", when, (long)tv.tv_usec);
}

static void print_table(const rows *t, FILE *out)
{
    char when[96];
    now_text(when, sizeof when);
    fprintf(out, "======== List: %s ========\nStats:\n------------------------------\nTotal: %d\n\n", when, t->n);
    fprintf(out, "Table:\n------------------------------\n");
    print_rows(t, out);
}

static bool is_int_col(const char *c)
{
    static const char *const ints[] = {"OBJECT_SIZE", "PID", "ATTEMPT_NUMBER", "WORKER_PID", "CREATION_TIME_MS",
                                       "START_TIME_MS", "END_TIME_MS"};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        if (!strcmp(c, ints[i])) return true;
    return false;
}

static void print_json(const rows *t, FILE *out)
{
    json_t *a = json_array();
    for (int r = 0; a && r < t->n; r++) {
        json_t *o = json_object();
        for (int i = 0; o && i < t->ncols; i++) {
            char key[64];
            size_t k = 0;
            for (const char *c = t->cols[i]; *c && k + 1 < sizeof key; c++) key[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
            key[k] = 0;
            const char *v = t->cells[r][i];
            json_t *jv = !strcmp(v, "True") || !strcmp(v, "False") ? json_boolean(!strcmp(v, "True")) : json_string(v);
            if (is_int_col(t->cols[i])) { /* Ray's integers */
                json_decref(jv);
                jv = json_integer(strtoll(v, NULL, 10));
            }
            if (!strcmp(t->cols[i], "RESOURCES_TOTAL")) { /* "CPU: 2.0, …" back to {"CPU": 2.0, …} */
                json_decref(jv);
                jv = json_object();
                /* entries "name: q" joined by ", "; a name may hold ':' (node:10.0.0.7): split at the last ": " */
                for (const char *p = v; *p;) {
                    const char *end = strstr(p, ", ");
                    size_t len = end ? (size_t)(end - p) : strlen(p);
                    char entry[300];
                    snprintf(entry, sizeof entry, "%.*s", (int)(len < sizeof entry ? len : sizeof entry - 1), p);
                    char *sep = NULL;
                    for (char *f = strstr(entry, ": "); f; f = strstr(f + 1, ": ")) sep = f;
                    if (sep) {
                        *sep = 0;
                        json_object_set_new(jv, entry, json_real(strtod(sep + 2, NULL)));
                    }
                    p += len + (end ? 2 : 0);
                }
            }
            json_object_set_new(o, key, jv);
        }
        json_array_append_new(a, o);
    }
    size_t n = a ? json_dumpb(a, NULL, 0, JSON_INDENT(2)) : 0;
    char *s = n ? mt_malloc(n + 1) : NULL;
    if (s) {
        json_dumpb(a, s, n, JSON_INDENT(2));
        s[n] = 0;
        fprintf(out, "%s\n", s);
    }
    mt_free(s);
    json_decref(a);
}

static char *hex_of(const ProtobufCBinaryData *id)
{
    char *h = mt_malloc(2 * id->len + 1);
    for (size_t i = 0; h && i < id->len; i++) snprintf(h + 2 * i, 3, "%02x", id->data[i]);
    if (h) h[2 * id->len] = 0;
    return h;
}

/* "CPU: 2.0, memory: …" in key order as the control store keeps it. */
static char *resources_text(const Manta__ResourceSet *rs)
{
    char buf[1024] = "";
    size_t n = 0;
    for (size_t i = 0; rs && i < rs->n_quantities && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s: %.1f", i ? ", " : "", rs->quantities[i]->key,
                              rs->quantities[i]->value);
    return dupf("%s", buf);
}

static bool node_rows(const Manta__ClusterStatusReply *r, rows *t, int limit)
{
    const char *cols[] = {"NODE_ID", "NODE_IP", "IS_HEAD_NODE", "STATE", "NODE_NAME", "RESOURCES_TOTAL"};
    t->ncols = 6;
    memcpy(t->cols, cols, sizeof cols);
    for (size_t i = 0; i < r->n_nodes && (limit <= 0 || t->n < limit); i++) {
        const Manta__NodeInfo *ni = r->nodes[i];
        char *cells[6] = {hex_of(&ni->node_id), dupf("%s", ni->node_ip), dupf("%s", ni->is_head ? "True" : "False"),
                          dupf("%s", ni->alive ? "ALIVE" : "DEAD"), dupf("%s", ni->node_ip),
                          resources_text(ni->resources_total)};
        if (!add_row(t, cells)) return false;
    }
    return true;
}

static bool actor_rows(const Manta__ListActorsReply *r, rows *t, int limit)
{
    static const char *const states[] = {"PENDING_CREATION", "ALIVE", "RESTARTING", "DEAD"};
    const char *cols[] = {"ACTOR_ID", "CLASS_NAME", "STATE", "NAME", "NODE_ID", "RAY_NAMESPACE"};
    t->ncols = 6;
    memcpy(t->cols, cols, sizeof cols);
    for (size_t i = 0; i < r->n_actors && (limit <= 0 || t->n < limit); i++) {
        const Manta__ActorInfo *a = r->actors[i];
        const char *st = a->state >= 0 && a->state < 4 ? states[a->state] : "UNKNOWN";
        char *cells[6] = {hex_of(&a->actor_id), dupf("%s", a->class_name), dupf("%s", st), dupf("%s", a->name),
                          hex_of(&a->node_id), dupf("%s", a->namespace_)};
        if (!add_row(t, cells)) return false;
    }
    return true;
}

static bool pg_rows(const Manta__ListPlacementGroupsReply *r, rows *t, int limit)
{
    const char *cols[] = {"PLACEMENT_GROUP_ID", "NAME", "STATE", "STRATEGY", "BUNDLES"};
    t->ncols = 5;
    memcpy(t->cols, cols, sizeof cols);
    for (size_t i = 0; i < r->n_placement_groups && (limit <= 0 || t->n < limit); i++) {
        const Manta__PlacementGroupInfo *pg = r->placement_groups[i];
        char buf[1024] = "";
        size_t n = 0;
        for (size_t b = 0; b < pg->n_bundles && n < sizeof buf; b++) {
            char *txt = resources_text(pg->bundles[b]);
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{%s}", b ? ", " : "", txt ? txt : "");
            mt_free(txt);
        }
        char *cells[5] = {hex_of(&pg->placement_group_id), dupf("%s", pg->name), dupf("%s", pg->state),
                          dupf("%s", pg->strategy), dupf("%s", buf)};
        if (!add_row(t, cells)) return false;
    }
    return true;
}

static char *i64_text(int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return dupf("%s", buf);
}

/* One node's objects (NODE_LIST_OBJECTS over its TCP address) as rows; false only when out of memory. */
static bool node_object_rows(const Manta__NodeInfo *ni, const uint8_t *token, rows *t, int limit)
{
    mt_error err;
    mt_error_clear(&err);
    mt_rpc_client *c = NULL;
    Manta__ListObjectsReply *r = NULL;
    Manta__ListObjectsRequest req = MANTA__LIST_OBJECTS_REQUEST__INIT;
    req.limit = limit > 0 ? limit - t->n : 0;
    if (mt_rpc_client_connect(ni->node_address, token, "cli", MT_CFG_INT64(rpc_connect_timeout_ms), &c, &err) != MT_OK ||
        mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_LIST_OBJECTS, &req.base, &manta__list_objects_reply__descriptor,
                           MT_CFG_INT64(rpc_call_timeout_ms), (ProtobufCMessage **)&r, NULL, &err) != MT_OK) {
        fprintf(stderr, "manta list: node %s (%s) left out: %s\n", ni->node_ip, ni->node_address, err.msg);
        if (c) mt_rpc_client_close(c);
        return true;
    }
    mt_rpc_client_close(c);
    bool ok = true;
    for (size_t i = 0; ok && i < r->n_objects && (limit <= 0 || t->n < limit); i++) {
        const Manta__StoreObjectInfo *o = r->objects[i];
        const char *type = !strcmp(o->owner_kind, "driver") ? "DRIVER" : !strcmp(o->owner_kind, "worker") ? "WORKER"
                           : !strcmp(o->owner_kind, "node")                                              ? "NODE"
                                                                                                         : "";
        char *cells[10] = {hex_of(&o->object_id), i64_text(o->size), dupf("%s", o->sealed ? "FINISHED" : "PENDING"),
                           dupf("%s", o->pins > 0 ? "PINNED_IN_MEMORY" : "LOCAL_REFERENCE"), dupf("%s", "disabled"),
                           dupf("%s", type), i64_text(o->owner_pid), dupf("%s", ni->node_ip),
                           dupf("%s", o->primary ? "True" : "False"), dupf("%s", o->spilled ? "True" : "False")};
        ok = add_row(t, cells);
    }
    protobuf_c_message_free_unpacked(&r->base, &mt_rpc_pb_allocator);
    return ok;
}

/* The objects in every alive node's store. PRIMARY False: a copy cached from another node. */
static bool object_rows(const Manta__ClusterStatusReply *r, const char *temp_dir, rows *t, int limit, mt_error *err)
{
    const char *cols[] = {"OBJECT_ID", "OBJECT_SIZE", "TASK_STATUS", "REFERENCE_TYPE", "CALL_SITE",
                          "TYPE", "PID", "IP", "PRIMARY", "SPILLED"};
    t->ncols = 10;
    memcpy(t->cols, cols, sizeof cols);
    char dir[MT_SESSION_PATH_MAX];
    uint8_t token[MT_RPC_TOKEN_BYTES];
    if (mt_session_latest(temp_dir, dir, sizeof dir, err) != MT_OK || mt_session_load_token(dir, token, err) != MT_OK)
        return false;
    for (size_t i = 0; i < r->n_nodes && (limit <= 0 || t->n < limit); i++)
        if (r->nodes[i]->alive && r->nodes[i]->node_address && *r->nodes[i]->node_address &&
            !node_object_rows(r->nodes[i], token, t, limit))
            return false;
    return true;
}

static const char *const TASK_STATES[] = {"NIL", "PENDING_ARGS_AVAIL", "PENDING_NODE_ASSIGNMENT", "SUBMITTED_TO_WORKER",
                                          "RUNNING", "FINISHED", "FAILED"};
static const char *const TASK_TYPES[] = {"NORMAL_TASK", "ACTOR_CREATION_TASK", "ACTOR_TASK"};

static const char *task_state(const Manta__TaskEvent *e)
{
    return (unsigned)e->state < sizeof TASK_STATES / sizeof *TASK_STATES ? TASK_STATES[e->state] : "NIL";
}

static const char *task_type(const Manta__TaskEvent *e)
{
    return (unsigned)e->type < sizeof TASK_TYPES / sizeof *TASK_TYPES ? TASK_TYPES[e->type] : "NORMAL_TASK";
}

/* Ray's names: an actor's creation task is "<Class>.__init__". */
static char *task_name(const Manta__TaskEvent *e)
{
    if (e->type != MANTA__TASK_TYPE__ACTOR_CREATION_TASK) return dupf("%s", e->name);
    char buf[400];
    snprintf(buf, sizeof buf, "%.300s.__init__", e->name);
    return dupf("%s", buf);
}

static int64_t state_ms(const Manta__TaskEvent *e, int st) { return (size_t)st < e->n_state_ms ? e->state_ms[st] : 0; }

static bool task_rows(const Manta__ListTasksReply *r, rows *t, bool detail)
{
    const char *cols[] = {"TASK_ID", "ATTEMPT_NUMBER", "NAME", "STATE", "JOB_ID", "ACTOR_ID", "TYPE", "FUNC_OR_CLASS_NAME",
                          "PARENT_TASK_ID", "NODE_ID", "WORKER_ID", "WORKER_PID", "ERROR_TYPE",
                          "CREATION_TIME_MS", "START_TIME_MS", "END_TIME_MS", "ERROR_MESSAGE"};
    t->ncols = detail ? 17 : 13;
    memcpy(t->cols, cols, sizeof *cols * (size_t)t->ncols);
    for (size_t i = 0; i < r->n_tasks; i++) {
        const Manta__TaskEvent *e = r->tasks[i];
        char job[16];
        snprintf(job, sizeof job, "%08x", (unsigned)e->job_id);
        int64_t created = state_ms(e, MANTA__TASK_STATE__TASK_PENDING_ARGS_AVAIL);
        if (!created) created = state_ms(e, MANTA__TASK_STATE__TASK_PENDING_NODE_ASSIGNMENT);
        int64_t end = state_ms(e, MANTA__TASK_STATE__TASK_FINISHED);
        if (!end) end = state_ms(e, MANTA__TASK_STATE__TASK_FAILED);
        char *cells[17] = {hex_of(&e->task_id), i64_text(e->attempt), task_name(e), dupf("%s", task_state(e)),
                           dupf("%s", job), hex_of(&e->actor_id), dupf("%s", task_type(e)), task_name(e),
                           hex_of(&e->parent_task_id), hex_of(&e->node_id), hex_of(&e->worker_id),
                           i64_text(e->worker_pid), dupf("%s", e->error_type),
                           i64_text(created), i64_text(state_ms(e, MANTA__TASK_STATE__TASK_RUNNING)), i64_text(end),
                           dupf("%s", e->error_message)};
        for (int c = t->ncols; c < 17; c++) mt_free(cells[c]);
        if (!add_row(t, cells)) return false;
    }
    return true;
}

/* `--filter` terms: column (case-insensitive) = or != value. */
typedef struct filter {
    char key[64];
    const char *value;
    bool negate;
} filter;

static bool parse_filter(const char *arg, filter *f)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return false;
    f->negate = eq > arg && eq[-1] == '!';
    size_t klen = (size_t)(eq - arg) - (f->negate ? 1 : 0);
    while (klen && arg[klen - 1] == ' ') klen--;
    if (!klen || klen >= sizeof f->key) return false;
    for (size_t i = 0; i < klen; i++) f->key[i] = (char)(arg[i] >= 'a' && arg[i] <= 'z' ? arg[i] - 32 : arg[i]);
    f->key[klen] = 0;
    f->value = eq + 1;
    while (*f->value == ' ') f->value++;
    return true;
}

/* Keeps the rows every filter accepts, then the first `limit`; false (naming it) for an unknown column. */
static bool apply_filters(rows *t, const filter *fs, int nf, int limit, const char *what)
{
    int colof[MAX_FILTERS];
    for (int f = 0; f < nf; f++) {
        colof[f] = -1;
        for (int i = 0; i < t->ncols; i++)
            if (!strcmp(t->cols[i], fs[f].key)) colof[f] = i;
        if (colof[f] < 0) {
            fprintf(stderr, "manta list %s: --filter: no column '%s' (columns:", what, fs[f].key);
            for (int i = 0; i < t->ncols; i++) fprintf(stderr, " %s", t->cols[i]);
            fprintf(stderr, ")\n");
            return false;
        }
    }
    int kept = 0;
    for (int r = 0; r < t->n; r++) {
        bool keep = limit <= 0 || kept < limit;
        for (int f = 0; keep && f < nf; f++) {
            const char *v = t->cells[r][colof[f]];
            bool same = !strcasecmp(v, fs[f].value);
            keep = fs[f].negate ? !same : same;
        }
        if (keep) {
            if (kept != r)
                for (int i = 0; i < t->ncols; i++) t->cells[kept][i] = t->cells[r][i];
            kept++;
        } else {
            for (int i = 0; i < t->ncols; i++) mt_free(t->cells[r][i]);
        }
    }
    t->n = kept;
    return true;
}

static bool listable(const char *what)
{
    return !strcmp(what, "nodes") || !strcmp(what, "actors") || !strcmp(what, "tasks") || !strcmp(what, "objects") ||
           !strcmp(what, "placement-groups");
}

/* `manta summary tasks`: Ray's summary, grouped by function; counts per state. */
static void print_task_summary(const Manta__ListTasksReply *r, FILE *out)
{
    typedef struct { char *name; const char *type; int64_t counts[7]; } group;
    group *g = r->n_tasks ? mt_calloc(r->n_tasks, sizeof *g) : NULL;
    size_t ng = 0;
    int64_t actor_scheduled = 0, actor_tasks = 0, tasks = 0;
    for (size_t i = 0; i < r->n_tasks; i++) {
        const Manta__TaskEvent *e = r->tasks[i];
        char *name = task_name(e);
        if (!name || !g) {
            mt_free(name);
            continue;
        }
        if (e->type == MANTA__TASK_TYPE__ACTOR_CREATION_TASK) actor_scheduled++;
        else if (e->type == MANTA__TASK_TYPE__ACTOR_TASK) actor_tasks++;
        else tasks++;
        size_t k = 0;
        while (k < ng && (strcmp(g[k].name, name) || strcmp(g[k].type, task_type(e)))) k++;
        if (k == ng) g[ng++] = (group){.name = name, .type = task_type(e)};
        else mt_free(name);
        if ((unsigned)e->state < 7) g[k].counts[e->state]++;
    }
    char when[96];
    now_text(when, sizeof when);
    fprintf(out, "======== Tasks Summary: %s ========\nStats:\n------------------------------------\n", when);
    fprintf(out, "total_actor_scheduled: %lld\ntotal_actor_tasks: %lld\ntotal_tasks: %lld\n\n\n",
            (long long)actor_scheduled, (long long)actor_tasks, (long long)tasks);
    fprintf(out, "Table (group by func_name):\n------------------------------------\n");
    rows t = {.cols = {"FUNC_OR_CLASS_NAME", "STATE_COUNTS", "TYPE"}, .ncols = 3};
    for (size_t k = 0; k < ng; k++) {
        char counts[512] = "";
        size_t n = 0;
        for (int st = 6; st >= 0; st--) /* FINISHED and FAILED first, as Ray orders them */
            if (g[k].counts[st] && n < sizeof counts)
                n += (size_t)snprintf(counts + n, sizeof counts - n, "%s%s: %lld", n ? ", " : "", TASK_STATES[st],
                                      (long long)g[k].counts[st]);
        char *cells[3] = {g[k].name, dupf("%s", counts), dupf("%s", g[k].type)};
        if (!add_row(&t, cells)) {
            for (int c = 0; c < 3; c++) mt_free(cells[c]);
        }
        g[k].name = NULL;
    }
    print_rows(&t, out);
    rows_free(&t);
    for (size_t k = 0; k < ng; k++) mt_free(g[k].name);
    mt_free(g);
}

/* Warnings Ray prints too: rows left out by the limit, state changes the control store never got. */
static void task_warnings(const Manta__ListTasksReply *r, int shown, bool filtered)
{
    if (!filtered && r->total > shown)
        fprintf(stderr, "manta list: showing %d of %lld tasks (--limit N for more)\n", shown, (long long)r->total);
    if (r->dropped > 0)
        fprintf(stderr, "manta list: %lld task state changes were dropped (buffers full, or the oldest tasks evicted): "
                        "the list is incomplete\n", (long long)r->dropped);
}

int cli_summary_main(int argc, char **argv)
{
    const char *what = NULL, *address = NULL, *temp_dir = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return printf(LIST_USAGE), 0;
        if (!strcmp(argv[i], "--address") && i + 1 < argc) address = argv[++i];
        else if (!strcmp(argv[i], "--temp-dir") && i + 1 < argc) temp_dir = argv[++i];
        else if (!what && argv[i][0] != '-') what = argv[i];
        else return fprintf(stderr, "%s", LIST_USAGE), 2;
    }
    if (!what || strcmp(what, "tasks")) {
        if (what) fprintf(stderr, "manta summary: '%s' cannot be summarised yet (tasks)\n", what);
        return fprintf(stderr, "%s", LIST_USAGE), 2;
    }
    mt_error err;
    mt_error_clear(&err);
    mt_gcs_client *c = cli_gcs_connect("summary", address, temp_dir);
    if (!c) return 1;
    Manta__ListTasksReply *r = NULL;
    mt_status st = mt_gcs_list_tasks(c, 0, &r, &err);
    mt_gcs_client_close(c);
    if (st != MT_OK) return fprintf(stderr, "manta summary: %s\n", err.msg), 1;
    print_task_summary(r, stdout);
    task_warnings(r, (int)r->n_tasks, false);
    mt_gcs_reply_free(r);
    return 0;
}

int cli_list_main(int argc, char **argv)
{
    const char *what = NULL, *format = "default", *address = NULL, *temp_dir = NULL;
    int limit = 100; /* Ray's default */
    bool detail = false;
    filter fs[MAX_FILTERS];
    int nf = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return printf(LIST_USAGE), 0;
        if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--address") && i + 1 < argc) address = argv[++i];
        else if (!strcmp(argv[i], "--temp-dir") && i + 1 < argc) temp_dir = argv[++i];
        else if (!strcmp(argv[i], "--detail")) detail = true;
        else if ((!strcmp(argv[i], "--filter") || !strcmp(argv[i], "-f")) && i + 1 < argc) {
            if (nf == MAX_FILTERS) return fprintf(stderr, "manta list: at most %d filters\n", MAX_FILTERS), 2;
            if (!parse_filter(argv[++i], &fs[nf]))
                return fprintf(stderr, "manta list: --filter '%s': want KEY=VALUE or KEY!=VALUE\n", argv[i]), 2;
            nf++;
        } else if (!what && argv[i][0] != '-') what = argv[i];
        else return fprintf(stderr, "%s", LIST_USAGE), 2;
    }
    bool json = !strcmp(format, "json");
    if (!what || !listable(what) || (!json && strcmp(format, "default") && strcmp(format, "table"))) {
        if (what && !listable(what))
            fprintf(stderr, "manta list: '%s' cannot be listed yet (nodes, actors, tasks, objects, placement-groups)\n", what);
        return fprintf(stderr, "%s", LIST_USAGE), 2;
    }
    mt_error err;
    mt_error_clear(&err);
    mt_gcs_client *c = cli_gcs_connect("list", address, temp_dir);
    if (!c) return 1;
    rows t = {0};
    bool ok = false;
    int build_limit = nf ? 0 : limit; /* filters first, then the limit */
    Manta__ListTasksReply *tasks = NULL;
    if (!strcmp(what, "nodes")) {
        Manta__ClusterStatusReply *r = NULL;
        if (mt_gcs_cluster_status(c, &r, &err) == MT_OK) ok = node_rows(r, &t, build_limit), mt_gcs_reply_free(r);
    } else if (!strcmp(what, "tasks")) {
        if (mt_gcs_list_tasks(c, build_limit, &tasks, &err) == MT_OK) ok = task_rows(tasks, &t, detail);
    } else if (!strcmp(what, "objects")) {
        Manta__ClusterStatusReply *r = NULL;
        if (mt_gcs_cluster_status(c, &r, &err) == MT_OK)
            ok = object_rows(r, temp_dir, &t, build_limit, &err), mt_gcs_reply_free(r);
    } else if (!strcmp(what, "placement-groups")) {
        Manta__ListPlacementGroupsReply *r = NULL;
        if (mt_gcs_list_placement_groups(c, &r, &err) == MT_OK) ok = pg_rows(r, &t, build_limit), mt_gcs_reply_free(r);
    } else {
        Manta__ListActorsReply *r = NULL;
        if (mt_gcs_list_actors(c, NULL, true, &r, &err) == MT_OK) ok = actor_rows(r, &t, build_limit), mt_gcs_reply_free(r);
    }
    mt_gcs_client_close(c);
    if (!ok) {
        rows_free(&t);
        if (tasks) mt_gcs_reply_free(tasks);
        return fprintf(stderr, "manta list: %s\n", err.msg[0] ? err.msg : "out of memory"), 1;
    }
    if (nf && !apply_filters(&t, fs, nf, limit, what)) {
        rows_free(&t);
        if (tasks) mt_gcs_reply_free(tasks);
        return 2;
    }
    if (json) print_json(&t, stdout);
    else print_table(&t, stdout);
    if (tasks) task_warnings(tasks, t.n, nf > 0), mt_gcs_reply_free(tasks);
    rows_free(&t);
    return 0;
}
