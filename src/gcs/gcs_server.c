/*
 * gcs_server.c — the control store's RPC front end: an mt_rpc_server on the
 * caller's uv loop whose requests (proto/gcs.proto) are decoded, applied to
 * the tables and answered; plus a timer that marks nodes without heartbeats
 * dead. Runs entirely on the loop thread.
 */
#include <string.h>

#include "core/config_keys.h"
#include "gcs/gcs_int.h"
#include "rpc/rpc.h"

struct mt__gcs_server {
    uv_loop_t *loop;
    mt_rpc_server *rpc;
    mt__gcs_tables *tables;
    mt__gcs_pgs *pgs;
    mt__gcs_tasks *tasks;
    mt__gcs_persist *persist;
    uv_timer_t timer;
    bool timer_started;
    int64_t dead_after_ms;
};

static int64_t mono_ms(void) { return mt_time_now_ns() / 1000000; }

static void reply_status(mt_rpc_conn *c, const mt_rpc_msg *m, mt_status st, const mt_error *e)
{
    mt_error err;
    if (mt_rpc_reply(c, m, st, NULL, st == MT_OK ? "" : e->msg, -1, &err) != MT_OK)
        MT_LOG(MT_LOG_DEBUG, "GCS-REPLY", "reply to method %u failed: %s", m->method, err.msg);
}

static void reply_msg(mt_rpc_conn *c, const mt_rpc_msg *m, const ProtobufCMessage *reply)
{
    mt_error err;
    if (mt_rpc_reply(c, m, MT_OK, reply, NULL, -1, &err) != MT_OK)
        MT_LOG(MT_LOG_DEBUG, "GCS-REPLY", "reply to method %u failed: %s", m->method, err.msg);
}

static void on_cluster_status(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m)
{
    Manta__ClusterStatusReply r = MANTA__CLUSTER_STATUS_REPLY__INIT;
    mt_error e;
    mt_status st = mt__gcs_cluster_view(s->tables, &r, &e);
    if (st != MT_OK) {
        reply_status(c, m, st, &e);
        return;
    }
    r.message = "";
    r.n_pending_placement_groups = mt__gcs_pg_list(s->pgs, true, &r.pending_placement_groups);
    reply_msg(c, m, &r.base);
    mt_free(r.pending_placement_groups);
    mt__gcs_cluster_view_done(&r);
}

/* A heartbeat's reply when it asks for the view: the nodes changed since the view it holds. */
static void on_heartbeat_view(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m, const Manta__HeartbeatRequest *hb)
{
    Manta__ClusterStatusReply r = MANTA__CLUSTER_STATUS_REPLY__INIT;
    mt_error e;
    mt_status st = mt__gcs_cluster_view_since(s->tables, hb->view_epoch, hb->view_version, &r, &e);
    if (st != MT_OK) {
        reply_status(c, m, st, &e);
        return;
    }
    r.message = "";
    reply_msg(c, m, &r.base);
    mt__gcs_cluster_view_done(&r);
}

static void on_list_pgs(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m)
{
    Manta__ListPlacementGroupsReply r = MANTA__LIST_PLACEMENT_GROUPS_REPLY__INIT;
    r.message = "";
    r.n_placement_groups = mt__gcs_pg_list(s->pgs, false, &r.placement_groups);
    reply_msg(c, m, &r.base);
    mt_free(r.placement_groups);
}

static void on_list_tasks(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m, const Manta__ListTasksRequest *req)
{
    Manta__ListTasksReply r = MANTA__LIST_TASKS_REPLY__INIT;
    r.message = "";
    Manta__TaskEvent *rows = NULL;
    size_t n = mt__gcs_tasks_list(s->tasks, req->limit > 0 ? (size_t)req->limit : 0, &rows);
    Manta__TaskEvent **ptrs = n ? mt_malloc(n * sizeof *ptrs) : NULL;
    if (n && !ptrs) {
        mt_free(rows);
        mt_error e;
        reply_status(c, m, mt_error_set(&e, MT_ENOMEM, "listing %zu tasks: out of memory", n), &e);
        return;
    }
    for (size_t i = 0; i < n; i++) ptrs[i] = &rows[i];
    r.tasks = ptrs;
    r.n_tasks = n;
    r.total = (int64_t)mt__gcs_tasks_count(s->tasks);
    r.dropped = mt__gcs_tasks_dropped(s->tasks);
    reply_msg(c, m, &r.base);
    mt_free(ptrs);
    mt_free(rows);
}

static void on_lookup_actor(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m,
                            const Manta__LookupActorRequest *req)
{
    mt_error e;
    const Manta__ActorInfo *a = mt__gcs_actor_lookup(s->tables, req->name, req->namespace_, &e);
    if (!a) {
        reply_status(c, m, MT_ENOTFOUND, &e);
        return;
    }
    Manta__LookupActorReply r = MANTA__LOOKUP_ACTOR_REPLY__INIT;
    r.message = "";
    r.actor = (Manta__ActorInfo *)a;
    reply_msg(c, m, &r.base);
}

static void on_list_actors(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m,
                           const Manta__ListActorsRequest *req)
{
    mt_error e;
    Manta__ListActorsReply r = MANTA__LIST_ACTORS_REPLY__INIT;
    r.message = "";
    mt_status st = mt__gcs_actor_list(s->tables, req->namespace_, req->all_namespaces, &r.actors,
                                      &r.n_actors, &e);
    if (st != MT_OK) {
        reply_status(c, m, st, &e);
        return;
    }
    reply_msg(c, m, &r.base);
    mt_free(r.actors);
}

static void on_kv_get(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m,
                      const Manta__KvKeyRequest *req)
{
    mt_error e;
    Manta__KvGetReply r = MANTA__KV_GET_REPLY__INIT;
    r.message = "";
    mt_status st = mt__gcs_kv_get(s->tables, req->ns, req->key, &r.value, &e);
    if (st != MT_OK)
        reply_status(c, m, st, &e);
    else
        reply_msg(c, m, &r.base);
}

static void on_register_job(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m,
                            const Manta__RegisterJobRequest *req)
{
    mt_error e;
    mt_id id;
    mt_status st = mt__gcs_job_register(s->tables, req->entrypoint, req->driver_pid,
                                        mt__gcs_wall_ms(), &id, &e);
    if (st != MT_OK) {
        reply_status(c, m, st, &e);
        return;
    }
    Manta__RegisterJobReply r = MANTA__REGISTER_JOB_REPLY__INIT;
    r.message = "";
    r.job_id.data = id.bytes;
    r.job_id.len = MT_ID_SIZE;
    reply_msg(c, m, &r.base);
}

/* Methods whose reply is a plain Status. */
mt_status mt__gcs_apply(mt__gcs_tables *t, uint16_t method, const ProtobufCMessage *req,
                        mt_error *e)
{
    switch (method) {
    case MANTA__GCS_METHOD__GCS_REGISTER_NODE: {
        const Manta__RegisterNodeRequest *r = (const void *)req;
        mt_status st = mt__gcs_node_register(t, r->node, mono_ms(), e);
        if (st == MT_OK)
            MT_LOG(MT_LOG_INFO, "GCS-NODE-REGISTER", "node at %s (pid %d) registered",
                   r->node->node_address, r->node->pid);
        return st;
    }
    case MANTA__GCS_METHOD__GCS_HEARTBEAT:
        return mt__gcs_node_heartbeat(t, (const void *)req, mono_ms(), e);
    case MANTA__GCS_METHOD__GCS_UNREGISTER_NODE:
        return mt__gcs_node_unregister(t, ((const Manta__NodeIdRequest *)req)->node_id, e);
    case MANTA__GCS_METHOD__GCS_REGISTER_ACTOR:
        return mt__gcs_actor_register(t, ((const Manta__RegisterActorRequest *)req)->actor, e);
    case MANTA__GCS_METHOD__GCS_REMOVE_ACTOR:
        return mt__gcs_actor_remove(t, ((const Manta__ActorIdRequest *)req)->actor_id, e);
    case MANTA__GCS_METHOD__GCS_KV_PUT: {
        const Manta__KvPutRequest *r = (const void *)req;
        return mt__gcs_kv_put(t, r->ns, r->key, r->value, r->overwrite, e);
    }
    case MANTA__GCS_METHOD__GCS_KV_DEL: {
        const Manta__KvKeyRequest *r = (const void *)req;
        return mt__gcs_kv_del(t, r->ns, r->key, e);
    }
    case MANTA__GCS_METHOD__GCS_FINISH_JOB:
        return mt__gcs_job_finish(t, ((const Manta__JobIdRequest *)req)->job_id,
                                  mt__gcs_wall_ms(), e);
    default:
        return mt_error_set(e, MT_EUNSUPPORTED, "unknown control store method %u", method);
    }
}

static const ProtobufCMessageDescriptor *request_desc(uint16_t method)
{
    switch (method) {
    case MANTA__GCS_METHOD__GCS_REGISTER_NODE: return &manta__register_node_request__descriptor;
    case MANTA__GCS_METHOD__GCS_HEARTBEAT: return &manta__heartbeat_request__descriptor;
    case MANTA__GCS_METHOD__GCS_UNREGISTER_NODE: return &manta__node_id_request__descriptor;
    case MANTA__GCS_METHOD__GCS_GET_CLUSTER_STATUS: return &manta__empty__descriptor;
    case MANTA__GCS_METHOD__GCS_REGISTER_ACTOR: return &manta__register_actor_request__descriptor;
    case MANTA__GCS_METHOD__GCS_LOOKUP_ACTOR: return &manta__lookup_actor_request__descriptor;
    case MANTA__GCS_METHOD__GCS_REMOVE_ACTOR: return &manta__actor_id_request__descriptor;
    case MANTA__GCS_METHOD__GCS_LIST_ACTORS: return &manta__list_actors_request__descriptor;
    case MANTA__GCS_METHOD__GCS_KV_PUT: return &manta__kv_put_request__descriptor;
    case MANTA__GCS_METHOD__GCS_KV_GET: return &manta__kv_key_request__descriptor;
    case MANTA__GCS_METHOD__GCS_KV_DEL: return &manta__kv_key_request__descriptor;
    case MANTA__GCS_METHOD__GCS_REGISTER_JOB: return &manta__register_job_request__descriptor;
    case MANTA__GCS_METHOD__GCS_FINISH_JOB: return &manta__job_id_request__descriptor;
    case MANTA__GCS_METHOD__GCS_REGISTER_PLACEMENT_GROUP: return &manta__placement_group_info__descriptor;
    case MANTA__GCS_METHOD__GCS_REMOVE_PLACEMENT_GROUP: return &manta__placement_group_id_request__descriptor;
    case MANTA__GCS_METHOD__GCS_LIST_PLACEMENT_GROUPS: return &manta__empty__descriptor;
    case MANTA__GCS_METHOD__GCS_ADD_TASK_EVENTS: return &manta__add_task_events_request__descriptor;
    case MANTA__GCS_METHOD__GCS_LIST_TASKS: return &manta__list_tasks_request__descriptor;
    default: return NULL;
    }
}

static void dispatch(mt__gcs_server *s, mt_rpc_conn *c, const mt_rpc_msg *m,
                     const ProtobufCMessage *req)
{
    mt_error e;
    mt_error_clear(&e);
    switch (m->method) {
    case MANTA__GCS_METHOD__GCS_GET_CLUSTER_STATUS: on_cluster_status(s, c, m); return;
    case MANTA__GCS_METHOD__GCS_HEARTBEAT: {
        mt_status st = mt__gcs_apply(s->tables, m->method, req, &e);
        if (st == MT_OK && ((const Manta__HeartbeatRequest *)req)->want_view) on_heartbeat_view(s, c, m, (const void *)req);
        else reply_status(c, m, st, &e);
        return;
    }
    case MANTA__GCS_METHOD__GCS_LOOKUP_ACTOR: on_lookup_actor(s, c, m, (const void *)req); return;
    case MANTA__GCS_METHOD__GCS_LIST_ACTORS: on_list_actors(s, c, m, (const void *)req); return;
    case MANTA__GCS_METHOD__GCS_KV_GET: on_kv_get(s, c, m, (const void *)req); return;
    case MANTA__GCS_METHOD__GCS_REGISTER_JOB: on_register_job(s, c, m, (const void *)req); return;
    case MANTA__GCS_METHOD__GCS_LIST_PLACEMENT_GROUPS: on_list_pgs(s, c, m); return;
    case MANTA__GCS_METHOD__GCS_LIST_TASKS: on_list_tasks(s, c, m, (const void *)req); return;
    case MANTA__GCS_METHOD__GCS_ADD_TASK_EVENTS:
        reply_status(c, m, mt__gcs_tasks_add(s->tasks, (const void *)req, &e), &e);
        return;
    case MANTA__GCS_METHOD__GCS_REGISTER_PLACEMENT_GROUP:
        reply_status(c, m, mt__gcs_pg_register(s->pgs, (const void *)req, &e), &e);
        return;
    case MANTA__GCS_METHOD__GCS_REMOVE_PLACEMENT_GROUP:
        reply_status(c, m, mt__gcs_pg_remove(s->pgs, ((const Manta__PlacementGroupIdRequest *)req)->placement_group_id, &e), &e);
        return;
    default: reply_status(c, m, mt__gcs_apply(s->tables, m->method, req, &e), &e);
    }
}

mt_status mt__gcs_request_decode(uint16_t method, const uint8_t *payload, size_t len,
                                 ProtobufCMessage **out, mt_error *e)
{
    *out = NULL;
    const ProtobufCMessageDescriptor *d = request_desc(method);
    if (!d) return mt_error_set(e, MT_EUNSUPPORTED, "unknown control store method %u", method);
    ProtobufCMessage *req = protobuf_c_message_unpack(d, &mt_rpc_pb_allocator, len, payload);
    if (!req) return mt_error_set(e, MT_EPARSE, "method %u: request does not decode", method);
    mt_status st = MT_OK;
    if (method == MANTA__GCS_METHOD__GCS_REGISTER_NODE && !((Manta__RegisterNodeRequest *)req)->node)
        st = mt_error_set(e, MT_EINVAL, "register node: no node");
    else if (method == MANTA__GCS_METHOD__GCS_REGISTER_ACTOR &&
             !((Manta__RegisterActorRequest *)req)->actor)
        st = mt_error_set(e, MT_EINVAL, "register actor: no actor");
    if (st != MT_OK) protobuf_c_message_free_unpacked(req, &mt_rpc_pb_allocator);
    else *out = req;
    return st;
}

static void on_request(mt_rpc_conn *c, const mt_rpc_msg *m, void *ud)
{
    mt__gcs_server *s = ud;
    mt_error e;
    ProtobufCMessage *req = NULL;
    mt_status st = mt__gcs_request_decode(m->method, m->payload, m->len, &req, &e);
    if (st != MT_OK) {
        reply_status(c, m, st, &e); /* a one-way request gets no reply */
        return;
    }
    dispatch(s, c, m, req);
    protobuf_c_message_free_unpacked(req, &mt_rpc_pb_allocator);
}

static void on_close(mt_rpc_conn *c, void *ud)
{
    (void)c;
    (void)ud;
}

static void on_timer(uv_timer_t *t)
{
    mt__gcs_server *s = t->data;
    mt__gcs_nodes_check_dead(s->tables, mono_ms(), s->dead_after_ms);
}

static mt_status open_tables(mt__gcs_server *s, const mt__gcs_server_options *o, mt_error *err)
{
    if (o->db_path) MT_RETURN_NOT_OK(mt__gcs_persist_open(o->db_path, &s->persist, err));
    MT_RETURN_NOT_OK(mt__gcs_tables_create(s->persist, &s->tables, err));
    MT_RETURN_NOT_OK(mt__gcs_pgs_create(s->persist, &s->pgs, err));
    MT_RETURN_NOT_OK(mt__gcs_tasks_create(&s->tasks, err));
    if (s->persist) {
        MT_RETURN_NOT_OK(mt__gcs_persist_load(s->persist, s->tables, mono_ms(), err));
        size_t n = mt__gcs_node_count(s->tables, false);
        if (n) MT_LOG(MT_LOG_INFO, "GCS-RESTORE", "recovered %zu node records from %s", n, o->db_path);
    }
    return MT_OK;
}

mt_status mt__gcs_server_start(uv_loop_t *loop, const mt__gcs_server_options *o,
                               mt__gcs_server **out, mt_error *err)
{
    *out = NULL;
    mt__gcs_server *s = mt_calloc(1, sizeof *s);
    if (!s) return mt_error_set(err, MT_ENOMEM, "control store: out of memory");
    s->loop = loop;
    s->dead_after_ms = o->node_dead_after_ms > 0 ? o->node_dead_after_ms
                                                 : MT_CFG_INT64(node_dead_after_ms);
    mt_status st = open_tables(s, o, err);
    if (st == MT_OK) {
        mt_rpc_handlers h = {.on_request = on_request, .on_close = on_close, .on_accept = NULL};
        st = mt_rpc_server_listen(loop, o->address, o->token, &h, s, &s->rpc, err);
    }
    if (st != MT_OK) {
        mt__gcs_server_stop(s);
        return st;
    }
    int64_t period = s->dead_after_ms / 4;
    if (period < 10) period = 10;
    if (period > 1000) period = 1000;
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, on_timer, (uint64_t)period, (uint64_t)period);
    s->timer_started = true;
    *out = s;
    return MT_OK;
}

const char *mt__gcs_server_address(const mt__gcs_server *s) { return mt_rpc_server_address(s->rpc); }

static void on_timer_closed(uv_handle_t *h) { mt_free(h->data); }

void mt__gcs_server_stop(mt__gcs_server *s)
{
    if (!s) return;
    mt_rpc_server_close(s->rpc);
    mt__gcs_tables_destroy(s->tables);
    mt__gcs_pgs_destroy(s->pgs);
    mt__gcs_tasks_destroy(s->tasks);
    mt__gcs_persist_close(s->persist);
    if (s->timer_started) {
        uv_timer_stop(&s->timer);
        s->timer.data = s;
        uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    } else {
        mt_free(s);
    }
}
