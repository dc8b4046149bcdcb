/*
 * gcs_tables.c — the control store's tables: nodes, actors, KV and jobs, in
 * memory, written through to SQLite (gcs_persist.c) when a persist handle is
 * given. Loop thread only.
 *
 * Entries own deep copies of protobuf messages (packed then unpacked with
 * mt_rpc_pb_allocator), so replies can point into the tables without copying.
 * Tables are small arrays searched linearly: a cluster has few nodes and few
 * named actors, and KV is for configuration, not bulk data.
 */
#include <string.h>
#include <time.h>

#include <sys/random.h>

#include "core/idmap.h"
#include "gcs/gcs_int.h"
#include "rpc/rpc.h"

typedef struct node_entry {
    Manta__NodeInfo *info;
    int64_t last_seen_ms; /* caller's clock (monotonic in the server) */
    uint64_t version;     /* t->view_version when what the view shows of it last changed */
} node_entry;

typedef struct kv_entry {
    char *ns, *key;
    uint8_t *value;
    size_t len;
} kv_entry;

typedef struct job_entry {
    mt_id id;
    bool finished;
} job_entry;

struct mt__gcs_tables {
    mt__gcs_persist *persist;
    node_entry *nodes;
    size_t n_nodes, cap_nodes;
    mt_idmap node_index;   /* node id -> its index in nodes, plus one */
    uint64_t view_epoch;   /* random per process: a version from another run means nothing here */
    uint64_t view_version; /* bumped by every change a heartbeat view shows */
    Manta__ActorInfo **actors;
    size_t n_actors, cap_actors;
    kv_entry *kv;
    size_t n_kv, cap_kv;
    job_entry *jobs;
    size_t n_jobs, cap_jobs;
};

int64_t mt__gcs_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Grows *arr (of `elem` bytes each) to hold one more. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = mt_realloc(*arr, nc * elem);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

static ProtobufCMessage *deep_copy(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = mt_malloc(len ? len : 1);
    if (!buf) return NULL;
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(m->descriptor, &mt_rpc_pb_allocator, len, buf);
    mt_free(buf);
    return copy;
}

static void free_msg(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, &mt_rpc_pb_allocator);
}

mt_status mt__gcs_tables_create(mt__gcs_persist *persist, mt__gcs_tables **out, mt_error *err)
{
    *out = mt_calloc(1, sizeof **out);
    if (!*out) return mt_error_set(err, MT_ENOMEM, "control store tables: out of memory");
    (*out)->persist = persist;
    uint64_t epoch = 0;
    if (getrandom(&epoch, sizeof epoch, 0) != (ssize_t)sizeof epoch) epoch = (uint64_t)mt_time_now_ns();
    (*out)->view_epoch = epoch | 1; /* never 0, which means "no view" */
    return MT_OK;
}

void mt__gcs_tables_destroy(mt__gcs_tables *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_nodes; i++) free_msg(t->nodes[i].info);
    for (size_t i = 0; i < t->n_actors; i++) free_msg(t->actors[i]);
    for (size_t i = 0; i < t->n_kv; i++) {
        mt_free(t->kv[i].ns);
        mt_free(t->kv[i].key);
        mt_free(t->kv[i].value);
    }
    mt_free(t->nodes);
    mt_idmap_fini(&t->node_index);
    mt_free(t->actors);
    mt_free(t->kv);
    mt_free(t->jobs);
    mt_free(t);
}

static bool id_eq(ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static void id_hex(ProtobufCBinaryData id, char out[2 * MT_ID_SIZE + 1])
{
    mt_id x = mt_id_nil();
    if (id.len == MT_ID_SIZE) memcpy(x.bytes, id.data, MT_ID_SIZE);
    mt_id_hex(x, out);
}

/* ---- Nodes ---- */

static node_entry *find_node(mt__gcs_tables *t, ProtobufCBinaryData id)
{
    if (id.len != MT_ID_SIZE) return NULL;
    mt_id key;
    memcpy(key.bytes, id.data, MT_ID_SIZE);
    void **v = mt_idmap_find(&t->node_index, key);
    return v ? &t->nodes[(uintptr_t)*v - 1] : NULL;
}

/* Something a heartbeat view shows of e changed: later views since an older version include it. */
static void node_changed(mt__gcs_tables *t, node_entry *e) { e->version = ++t->view_version; }

/* Whether two resource sets hold the same quantities (in any order). */
static bool same_resources(const Manta__ResourceSet *a, const Manta__ResourceSet *b)
{
    size_t na = a ? a->n_quantities : 0, nb = b ? b->n_quantities : 0;
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t j = 0; j < nb && !found; j++)
            found = !strcmp(a->quantities[i]->key, b->quantities[j]->key) && a->quantities[i]->value == b->quantities[j]->value;
        if (!found) return false;
    }
    return true;
}

static void persist_node(mt__gcs_tables *t, const Manta__NodeInfo *n)
{
    if (t->persist) {
        mt_error e;
        if (mt__gcs_persist_put(t->persist, "nodes", n->node_id, &n->base, &e) != MT_OK)
            MT_LOG(MT_LOG_WARN, "GCS-PERSIST", "%s", e.msg);
    }
}

/* Takes ownership of `copy`. */
static mt_status insert_node(mt__gcs_tables *t, Manta__NodeInfo *copy, int64_t now_ms,
                             mt_error *err)
{
    if (copy->node_id.len != MT_ID_SIZE) {
        free_msg(copy);
        return mt_error_set(err, MT_EINVAL, "node: node_id must be %d bytes", MT_ID_SIZE);
    }
    node_entry *e = find_node(t, copy->node_id);
    if (e) {
        free_msg(e->info);
    } else {
        if (!grow((void **)&t->nodes, &t->cap_nodes, t->n_nodes, sizeof *t->nodes)) {
            free_msg(copy);
            return mt_error_set(err, MT_ENOMEM, "register node: out of memory");
        }
        mt_id key;
        memcpy(key.bytes, copy->node_id.data, MT_ID_SIZE);
        void **slot = mt_idmap_put(&t->node_index, key);
        if (!slot) {
            free_msg(copy);
            return mt_error_set(err, MT_ENOMEM, "register node: out of memory");
        }
        *slot = (void *)(uintptr_t)(t->n_nodes + 1);
        e = &t->nodes[t->n_nodes++];
    }
    e->info = copy;
    e->last_seen_ms = now_ms;
    node_changed(t, e);
    return MT_OK;
}

mt_status mt__gcs_node_register(mt__gcs_tables *t, const Manta__NodeInfo *n, int64_t now_ms,
                                mt_error *err)
{
    if (!n || n->node_id.len != MT_ID_SIZE)
        return mt_error_set(err, MT_EINVAL, "register node: node_id must be %d bytes", MT_ID_SIZE);
    Manta__NodeInfo *copy = (Manta__NodeInfo *)deep_copy(&n->base);
    if (!copy) return mt_error_set(err, MT_ENOMEM, "register node: out of memory");
    copy->alive = true;
    copy->last_heartbeat_ms = mt__gcs_wall_ms();
    if (copy->start_time_ms == 0) copy->start_time_ms = copy->last_heartbeat_ms;
    if (!copy->resources_available && copy->resources_total) {
        copy->resources_available = (Manta__ResourceSet *)deep_copy(&copy->resources_total->base);
    }
    MT_RETURN_NOT_OK(insert_node(t, copy, now_ms, err));
    persist_node(t, copy);
    return MT_OK;
}

/* Replaces *dst by a deep copy of src (NULL clears). */
static bool replace_msg(ProtobufCMessage **dst, const ProtobufCMessage *src)
{
    ProtobufCMessage *c = src ? deep_copy(src) : NULL;
    if (src && !c) return false;
    free_msg(*dst);
    *dst = c;
    return true;
}

static mt_status set_demands(Manta__NodeInfo *n, const Manta__HeartbeatRequest *hb, mt_error *err)
{
    for (size_t i = 0; i < n->n_pending_demands; i++) free_msg(n->pending_demands[i]);
    mt_rpc_pb_allocator.free(mt_rpc_pb_allocator.allocator_data, n->pending_demands);
    n->pending_demands = NULL;
    n->n_pending_demands = 0;
    if (hb->n_pending_demands == 0) return MT_OK;
    Manta__ResourceSet **arr = mt_rpc_pb_allocator.alloc(
        mt_rpc_pb_allocator.allocator_data, hb->n_pending_demands * sizeof *arr);
    if (!arr) return mt_error_set(err, MT_ENOMEM, "heartbeat: out of memory");
    for (size_t i = 0; i < hb->n_pending_demands; i++) {
        arr[i] = (Manta__ResourceSet *)deep_copy(&hb->pending_demands[i]->base);
        if (!arr[i]) {
            for (size_t j = 0; j < i; j++) free_msg(arr[j]);
            mt_rpc_pb_allocator.free(mt_rpc_pb_allocator.allocator_data, arr);
            return mt_error_set(err, MT_ENOMEM, "heartbeat: out of memory");
        }
    }
    n->pending_demands = arr;
    n->n_pending_demands = hb->n_pending_demands;
    return MT_OK;
}

mt_status mt__gcs_node_heartbeat(mt__gcs_tables *t, const Manta__HeartbeatRequest *hb,
                                 int64_t now_ms, mt_error *err)
{
    char hex[2 * MT_ID_SIZE + 1];
    node_entry *e = find_node(t, hb->node_id);
    if (!e || !e->info->alive) {
        id_hex(hb->node_id, hex);
        return mt_error_set(err, MT_ENOTFOUND, "node %s is not registered%s", hex,
                            e ? " (marked dead)" : "");
    }
    Manta__NodeInfo *n = e->info;
    if (hb->resources_available && !same_resources(hb->resources_available, n->resources_available)) node_changed(t, e);
    if (hb->resources_available &&
        !replace_msg((ProtobufCMessage **)&n->resources_available, &hb->resources_available->base))
        return mt_error_set(err, MT_ENOMEM, "heartbeat: out of memory");
    n->object_store_used = hb->object_store_used;
    MT_RETURN_NOT_OK(set_demands(n, hb, err));
    n->last_heartbeat_ms = mt__gcs_wall_ms();
    e->last_seen_ms = now_ms;
    return MT_OK;
}

mt_status mt__gcs_node_unregister(mt__gcs_tables *t, ProtobufCBinaryData id, mt_error *err)
{
    node_entry *e = find_node(t, id);
    if (!e) {
        char hex[2 * MT_ID_SIZE + 1];
        id_hex(id, hex);
        return mt_error_set(err, MT_ENOTFOUND, "node %s is not registered", hex);
    }
    e->info->alive = false;
    node_changed(t, e);
    persist_node(t, e->info);
    return MT_OK;
}

int mt__gcs_nodes_check_dead(mt__gcs_tables *t, int64_t now_ms, int64_t dead_after_ms)
{
    int n = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        node_entry *e = &t->nodes[i];
        if (!e->info->alive || now_ms - e->last_seen_ms <= dead_after_ms) continue;
        e->info->alive = false;
        node_changed(t, e);
        char hex[2 * MT_ID_SIZE + 1];
        id_hex(e->info->node_id, hex);
        MT_LOG(MT_LOG_WARN, "GCS-NODE-DEAD", "node %s missed heartbeats for %lld ms", hex,
               (long long)(now_ms - e->last_seen_ms));
        persist_node(t, e->info);
        n++;
    }
    return n;
}

mt_status mt__gcs_cluster_view(mt__gcs_tables *t, Manta__ClusterStatusReply *reply, mt_error *err)
{
    reply->n_nodes = 0;
    reply->nodes = NULL;
    reply->time_ms = mt__gcs_wall_ms();
    if (t->n_nodes == 0) return MT_OK;
    reply->nodes = mt_malloc(t->n_nodes * sizeof *reply->nodes);
    if (!reply->nodes) return mt_error_set(err, MT_ENOMEM, "cluster status: out of memory");
    for (size_t i = 0; i < t->n_nodes; i++) reply->nodes[i] = t->nodes[i].info;
    reply->n_nodes = t->n_nodes;
    return MT_OK;
}

mt_status mt__gcs_cluster_view_since(mt__gcs_tables *t, uint64_t epoch, uint64_t version,
                                     Manta__ClusterStatusReply *reply, mt_error *err)
{
    bool delta = epoch == t->view_epoch && version > 0 && version <= t->view_version;
    reply->view_epoch = t->view_epoch;
    reply->view_version = t->view_version;
    reply->view_delta = delta;
    if (!delta) return mt__gcs_cluster_view(t, reply, err);
    reply->n_nodes = 0;
    reply->nodes = NULL;
    reply->time_ms = mt__gcs_wall_ms();
    size_t k = 0;
    for (size_t i = 0; i < t->n_nodes; i++) k += t->nodes[i].version > version;
    if (k == 0) return MT_OK;
    reply->nodes = mt_malloc(k * sizeof *reply->nodes);
    if (!reply->nodes) return mt_error_set(err, MT_ENOMEM, "cluster view: out of memory");
    for (size_t i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].version > version) reply->nodes[reply->n_nodes++] = t->nodes[i].info;
    return MT_OK;
}

void mt__gcs_cluster_view_done(Manta__ClusterStatusReply *reply)
{
    mt_free(reply->nodes);
    reply->nodes = NULL;
    reply->n_nodes = 0;
}

size_t mt__gcs_node_count(const mt__gcs_tables *t, bool alive_only)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_nodes; i++)
        if (!alive_only || t->nodes[i].info->alive) n++;
    return n;
}

/* ---- Actors ---- */

static const char *str_or_empty(const char *s) { return s ? s : ""; }

static Manta__ActorInfo *find_actor_id(mt__gcs_tables *t, ProtobufCBinaryData id, size_t *idx)
{
    for (size_t i = 0; i < t->n_actors; i++)
        if (id_eq(t->actors[i]->actor_id, id)) {
            if (idx) *idx = i;
            return t->actors[i];
        }
    return NULL;
}

static Manta__ActorInfo *find_actor_name(mt__gcs_tables *t, const char *name, const char *ns)
{
    for (size_t i = 0; i < t->n_actors; i++) {
        Manta__ActorInfo *a = t->actors[i];
        if (a->state != MT_GCS_ACTOR_DEAD && !strcmp(str_or_empty(a->name), name) &&
            !strcmp(str_or_empty(a->namespace_), ns))
            return a;
    }
    return NULL;
}

mt_status mt__gcs_actor_register(mt__gcs_tables *t, const Manta__ActorInfo *a, mt_error *err)
{
    if (!a || a->actor_id.len != MT_ID_SIZE)
        return mt_error_set(err, MT_EINVAL, "register actor: actor_id must be %d bytes",
                            MT_ID_SIZE);
    const char *name = str_or_empty(a->name), *ns = str_or_empty(a->namespace_);
    if (name[0] && a->state != MT_GCS_ACTOR_DEAD) {
        Manta__ActorInfo *other = find_actor_name(t, name, ns);
        if (other && !id_eq(other->actor_id, a->actor_id))
            return mt_error_set(err, MT_EEXIST, "actor name '%s' is taken in namespace '%s'",
                                name, ns);
    }
    Manta__ActorInfo *copy = (Manta__ActorInfo *)deep_copy(&a->base);
    if (!copy) return mt_error_set(err, MT_ENOMEM, "register actor: out of memory");
    size_t idx;
    if (find_actor_id(t, a->actor_id, &idx)) {
        free_msg(t->actors[idx]);
        t->actors[idx] = copy;
    } else {
        if (!grow((void **)&t->actors, &t->cap_actors, t->n_actors, sizeof *t->actors)) {
            free_msg(copy);
            return mt_error_set(err, MT_ENOMEM, "register actor: out of memory");
        }
        t->actors[t->n_actors++] = copy;
    }
    if (t->persist) {
        mt_error e;
        if (mt__gcs_persist_put(t->persist, "actors", copy->actor_id, &copy->base, &e) != MT_OK)
            MT_LOG(MT_LOG_WARN, "GCS-PERSIST", "%s", e.msg);
    }
    return MT_OK;
}

const Manta__ActorInfo *mt__gcs_actor_lookup(mt__gcs_tables *t, const char *name, const char *ns,
                                             mt_error *err)
{
    name = str_or_empty(name);
    ns = str_or_empty(ns);
    Manta__ActorInfo *a = name[0] ? find_actor_name(t, name, ns) : NULL;
    if (!a) mt_error_set(err, MT_ENOTFOUND, "no actor named '%s' in namespace '%s'", name, ns);
    return a;
}

mt_status mt__gcs_actor_remove(mt__gcs_tables *t, ProtobufCBinaryData id, mt_error *err)
{
    size_t idx;
    if (!find_actor_id(t, id, &idx)) {
        char hex[2 * MT_ID_SIZE + 1];
        id_hex(id, hex);
        return mt_error_set(err, MT_ENOTFOUND, "actor %s is not registered", hex);
    }
    if (t->persist) {
        mt_error e;
        if (mt__gcs_persist_del(t->persist, "actors", id, &e) != MT_OK)
            MT_LOG(MT_LOG_WARN, "GCS-PERSIST", "%s", e.msg);
    }
    free_msg(t->actors[idx]);
    t->actors[idx] = t->actors[--t->n_actors];
    return MT_OK;
}

mt_status mt__gcs_actor_list(mt__gcs_tables *t, const char *ns, bool all, Manta__ActorInfo ***out,
                             size_t *n_out, mt_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (t->n_actors == 0) return MT_OK;
    Manta__ActorInfo **arr = mt_malloc(t->n_actors * sizeof *arr);
    if (!arr) return mt_error_set(err, MT_ENOMEM, "list actors: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < t->n_actors; i++)
        if (all || !strcmp(str_or_empty(t->actors[i]->namespace_), str_or_empty(ns)))
            arr[n++] = t->actors[i];
    *out = arr;
    *n_out = n;
    return MT_OK;
}

/* ---- KV ---- */

static kv_entry *find_kv(mt__gcs_tables *t, const char *ns, const char *key, size_t *idx)
{
    for (size_t i = 0; i < t->n_kv; i++)
        if (!strcmp(t->kv[i].ns, ns) && !strcmp(t->kv[i].key, key)) {
            if (idx) *idx = i;
            return &t->kv[i];
        }
    return NULL;
}

static mt_status kv_set(mt__gcs_tables *t, const char *ns, const char *key, const uint8_t *value,
                        size_t len, bool overwrite, mt_error *err)
{
    kv_entry *e = find_kv(t, ns, key, NULL);
    if (e && !overwrite)
        return mt_error_set(err, MT_EEXIST, "key '%s' exists in namespace '%s'", key, ns);
    uint8_t *copy = mt_malloc(len ? len : 1);
    if (!copy) return mt_error_set(err, MT_ENOMEM, "kv put '%s': out of memory", key);
    if (len) memcpy(copy, value, len);
    if (!e) {
        char *ns_c = mt_strdup(ns), *key_c = mt_strdup(key);
        if (!ns_c || !key_c || !grow((void **)&t->kv, &t->cap_kv, t->n_kv, sizeof *t->kv)) {
            mt_free(ns_c);
            mt_free(key_c);
            mt_free(copy);
            return mt_error_set(err, MT_ENOMEM, "kv put '%s': out of memory", key);
        }
        e = &t->kv[t->n_kv++];
        e->ns = ns_c;
        e->key = key_c;
        e->value = NULL;
    }
    mt_free(e->value);
    e->value = copy;
    e->len = len;
    return MT_OK;
}

mt_status mt__gcs_kv_put(mt__gcs_tables *t, const char *ns, const char *key,
                         ProtobufCBinaryData value, bool overwrite, mt_error *err)
{
    ns = str_or_empty(ns);
    if (!key || !key[0]) return mt_error_set(err, MT_EINVAL, "kv put: empty key");
    MT_RETURN_NOT_OK(kv_set(t, ns, key, value.data, value.len, overwrite, err));
    if (t->persist) {
        mt_error e;
        if (mt__gcs_persist_kv_put(t->persist, ns, key, value, &e) != MT_OK)
            MT_LOG(MT_LOG_WARN, "GCS-PERSIST", "%s", e.msg);
    }
    return MT_OK;
}

mt_status mt__gcs_tables_restore_kv(mt__gcs_tables *t, const char *ns, const char *key,
                                    const uint8_t *value, size_t len, mt_error *err)
{
    return kv_set(t, ns, key, value, len, true, err);
}

mt_status mt__gcs_kv_get(mt__gcs_tables *t, const char *ns, const char *key,
                         ProtobufCBinaryData *value, mt_error *err)
{
    ns = str_or_empty(ns);
    key = str_or_empty(key);
    kv_entry *e = find_kv(t, ns, key, NULL);
    if (!e) return mt_error_set(err, MT_ENOTFOUND, "no key '%s' in namespace '%s'", key, ns);
    value->data = e->value;
    value->len = e->len;
    return MT_OK;
}

mt_status mt__gcs_kv_del(mt__gcs_tables *t, const char *ns, const char *key, mt_error *err)
{
    ns = str_or_empty(ns);
    key = str_or_empty(key);
    size_t idx;
    if (!find_kv(t, ns, key, &idx))
        return mt_error_set(err, MT_ENOTFOUND, "no key '%s' in namespace '%s'", key, ns);
    mt_free(t->kv[idx].ns);
    mt_free(t->kv[idx].key);
    mt_free(t->kv[idx].value);
    t->kv[idx] = t->kv[--t->n_kv];
    if (t->persist) {
        mt_error e;
        if (mt__gcs_persist_kv_del(t->persist, ns, key, &e) != MT_OK)
            MT_LOG(MT_LOG_WARN, "GCS-PERSIST", "%s", e.msg);
    }
    return MT_OK;
}

/* ---- Jobs ---- */

mt_status mt__gcs_job_register(mt__gcs_tables *t, const char *entrypoint, int pid,
                               int64_t now_ms, mt_id *id_out, mt_error *err)
{
    if (!grow((void **)&t->jobs, &t->cap_jobs, t->n_jobs, sizeof *t->jobs))
        return mt_error_set(err, MT_ENOMEM, "register job: out of memory");
    job_entry *j = &t->jobs[t->n_jobs++];
    j->id = mt_id_random();
    j->finished = false;
    *id_out = j->id;
    MT_LOG(MT_LOG_INFO, "GCS-JOB", "job started: pid %d entrypoint '%s' at %lld", pid,
           str_or_empty(entrypoint), (long long)now_ms);
    return MT_OK;
}

mt_status mt__gcs_job_finish(mt__gcs_tables *t, ProtobufCBinaryData id, int64_t now_ms,
                             mt_error *err)
{
    for (size_t i = 0; i < t->n_jobs; i++) {
        if (id.len == MT_ID_SIZE && !memcmp(t->jobs[i].id.bytes, id.data, MT_ID_SIZE)) {
            if (t->jobs[i].finished)
                return mt_error_set(err, MT_ESTATE, "job already finished");
            t->jobs[i].finished = true;
            MT_LOG(MT_LOG_INFO, "GCS-JOB", "job finished at %lld", (long long)now_ms);
            return MT_OK;
        }
    }
    char hex[2 * MT_ID_SIZE + 1];
    id_hex(id, hex);
    return mt_error_set(err, MT_ENOTFOUND, "job %s is not registered", hex);
}

/* ---- Restore (from gcs_persist.c) ---- */

mt_status mt__gcs_tables_restore(mt__gcs_tables *t, const char *table, const uint8_t *blob,
                                 size_t len, int64_t now_ms, mt_error *err)
{
    if (!strcmp(table, "nodes")) {
        Manta__NodeInfo *n = manta__node_info__unpack(&mt_rpc_pb_allocator, len, blob);
        if (!n || n->node_id.len != MT_ID_SIZE) {
            free_msg(n);
            return mt_error_set(err, MT_ECORRUPT, "stored node record does not decode");
        }
        return insert_node(t, n, now_ms, err);
    }
    Manta__ActorInfo *a = manta__actor_info__unpack(&mt_rpc_pb_allocator, len, blob);
    if (!a || a->actor_id.len != MT_ID_SIZE) {
        free_msg(a);
        return mt_error_set(err, MT_ECORRUPT, "stored actor record does not decode");
    }
    if (!grow((void **)&t->actors, &t->cap_actors, t->n_actors, sizeof *t->actors)) {
        free_msg(a);
        return mt_error_set(err, MT_ENOMEM, "restore actor: out of memory");
    }
    t->actors[t->n_actors++] = a;
    return MT_OK;
}
