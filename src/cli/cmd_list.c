/*
 * cmd_list.c — `manta list nodes|actors|objects|placement-groups`: Ray's state API
 * listing (`ray list …`) from the control store (objects: from every alive
 * node's store, asked over TCP), as Ray's table (a "List:" banner,
 * Stats, Table with an index column) or as JSON (one object per row, Ray's
 * lower-case field names). Main thread only.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli/cli_runtime.h"
#include "core/config_keys.h"
#include "gcs/gcs_client.h"
#include "gcs/session.h"
#include "proto/node.pb-c.h"
#include "rpc/rpc.h"

#define LIST_USAGE "usage: manta list nodes|actors|objects|placement-groups [--format default|table|json] [--limit N] [--address HOST:PORT] [--temp-dir DIR]\n"

enum { MAX_COLS = 10 };

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

static void print_table(const rows *t, FILE *out)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(out, "======== List: %s.%06ld ========\nStats:\n------------------------------\nTotal: %d\n\n", when,
            (long)tv.tv_usec, t->n);
    fprintf(out, "Table:\n------------------------------\n");
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
            if (!strcmp(t->cols[i], "OBJECT_SIZE") || !strcmp(t->cols[i], "PID")) { /* Ray's integers */
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

static bool listable(const char *what)
{
    return !strcmp(what, "nodes") || !strcmp(what, "actors") || !strcmp(what, "objects") ||
           !strcmp(what, "placement-groups");
}

int cli_list_main(int argc, char **argv)
{
    const char *what = NULL, *format = "default", *address = NULL, *temp_dir = NULL;
    int limit = 100; /* Ray's default */
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return printf(LIST_USAGE), 0;
        if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--address") && i + 1 < argc) address = argv[++i];
        else if (!strcmp(argv[i], "--temp-dir") && i + 1 < argc) temp_dir = argv[++i];
        else if (!what && argv[i][0] != '-') what = argv[i];
        else return fprintf(stderr, "%s", LIST_USAGE), 2;
    }
    bool json = !strcmp(format, "json");
    if (!what || !listable(what) || (!json && strcmp(format, "default") && strcmp(format, "table"))) {
        if (what && !listable(what))
            fprintf(stderr, "manta list: '%s' cannot be listed yet (nodes, actors, objects, placement-groups)\n", what);
        return fprintf(stderr, "%s", LIST_USAGE), 2;
    }
    mt_error err;
    mt_error_clear(&err);
    mt_gcs_client *c = cli_gcs_connect("list", address, temp_dir);
    if (!c) return 1;
    rows t = {0};
    bool ok = false;
    if (!strcmp(what, "nodes")) {
        Manta__ClusterStatusReply *r = NULL;
        if (mt_gcs_cluster_status(c, &r, &err) == MT_OK) ok = node_rows(r, &t, limit), mt_gcs_reply_free(r);
    } else if (!strcmp(what, "objects")) {
        Manta__ClusterStatusReply *r = NULL;
        if (mt_gcs_cluster_status(c, &r, &err) == MT_OK)
            ok = object_rows(r, temp_dir, &t, limit, &err), mt_gcs_reply_free(r);
    } else if (!strcmp(what, "placement-groups")) {
        Manta__ListPlacementGroupsReply *r = NULL;
        if (mt_gcs_list_placement_groups(c, &r, &err) == MT_OK) ok = pg_rows(r, &t, limit), mt_gcs_reply_free(r);
    } else {
        Manta__ListActorsReply *r = NULL;
        if (mt_gcs_list_actors(c, NULL, true, &r, &err) == MT_OK) ok = actor_rows(r, &t, limit), mt_gcs_reply_free(r);
    }
    mt_gcs_client_close(c);
    if (!ok) {
        rows_free(&t);
        return fprintf(stderr, "manta list: %s\n", err.msg[0] ? err.msg : "out of memory"), 1;
    }
    if (json) print_json(&t, stdout);
    else print_table(&t, stdout);
    rows_free(&t);
    return 0;
}
