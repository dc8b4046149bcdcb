/*
 * node_rpc.c — the node daemon's connections: per-connection state
 * (node_client), method dispatch and reply helpers, GET_INFO and GET_STATS.
 * Main thread (the daemon's uv loop). Invariant: every request gets exactly
 * one reply (now, or later for waits/leases, or none when its connection
 * closes first); unknown methods and malformed payloads get error replies.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "node/node_int.h"
#include "proto/node.pb-c.h"

bool mt__node_id_from_pb(ProtobufCBinaryData b, mt_id *out)
{
    if (b.len != MT_ID_SIZE || !b.data) return false;
    memcpy(out->bytes, b.data, MT_ID_SIZE);
    return true;
}

mt_status mt__node_reply(node_client *cl, const mt_rpc_msg *req, mt_status st,
                         const ProtobufCMessage *reply, const char *fmt, ...)
{
    char text[MT_ERROR_MSG_MAX] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
    }
    if (st != MT_OK)
        MT_LOG(MT_LOG_DEBUG, "NODE-REPLY-ERR", "method %u: %s", req->method, text);
    mt_error err;
    mt_status rs = mt_rpc_reply(cl->conn, req, st, reply, text, -1, &err);
    if (rs != MT_OK) MT_LOG(MT_LOG_WARN, "NODE-REPLY", "reply to method %u failed: %s", req->method, err.msg);
    return rs;
}

mt_rpc_msg mt__node_msg_for_reply(const mt_rpc_msg *m)
{
    mt_rpc_msg r = *m;
    r.payload = NULL;
    r.len = 0;
    r.fd = -1;
    return r;
}

static node_client *client_new(mt__node *n, mt_rpc_conn *c, bool is_unix)
{
    node_client *cl = mt_calloc(1, sizeof *cl);
    if (!cl) return NULL;
    cl->magic = NODE_MAGIC_CLIENT;
    cl->node = n;
    cl->conn = c;
    cl->is_unix = is_unix;
    cl->pid = mt_rpc_conn_peer_pid(c);
    cl->next = n->clients;
    if (n->clients) n->clients->prev = cl;
    n->clients = cl;
    mt_rpc_conn_set_userdata(c, cl);
    return cl;
}

/* The node_client of a connection, or NULL before it was accepted. */
static node_client *client_of(mt_rpc_conn *c)
{
    node_client *cl = mt_rpc_conn_userdata(c);
    return cl && cl->magic == NODE_MAGIC_CLIENT ? cl : NULL;
}

static void on_accept(mt_rpc_conn *c, const mt_rpc_msg *auth, void *ud)
{
    node_srv_ud *s = ud;
    node_client *cl = client_new(s->node, c, s->is_unix);
    if (!cl) {
        mt_rpc_conn_close(c);
        return;
    }
    Manta__AuthRequest *a = manta__auth_request__unpack(&mt_rpc_pb_allocator, auth->len, auth->payload);
    if (a) {
        snprintf(cl->kind, sizeof cl->kind, "%s", a->client_kind ? a->client_kind : "");
        if (a->pid > 0 && cl->pid <= 0) cl->pid = a->pid;
        if (a->client_id.len == MT_ID_SIZE) memcpy(cl->client_id.bytes, a->client_id.data, MT_ID_SIZE);
        manta__auth_request__free_unpacked(a, &mt_rpc_pb_allocator);
    }
}

/* When the last connection of a process closes, the objects it owns go (Ray's
 * rule: an owner's death frees what it owns; borrowers then get an error). */
static void owner_gone_check(mt__node *n, const node_client *closing)
{
    if (mt_id_is_nil(closing->client_id) || n->stopping) return;
    for (const node_client *o = n->clients; o; o = o->next)
        if (o != closing && mt_id_equal(o->client_id, closing->client_id)) return;
    int64_t k = mt_store_delete_owned_by(n->store, closing->client_id);
    if (k > 0) {
        char hex[2 * MT_ID_SIZE + 1];
        mt_id_hex(closing->client_id, hex);
        MT_LOG(MT_LOG_INFO, "NODE-OWNER-GONE", "%s %s (pid %d) is gone: deleted the %lld objects it owned",
               closing->kind, hex, closing->pid, (long long)k);
    }
}

static void on_close(mt_rpc_conn *c, void *ud)
{
    (void)ud;
    node_client *cl = client_of(c);
    if (!cl) return; /* never authenticated */
    mt__node *n = cl->node;
    mt__node_obj_client_closed(cl);
    mt__node_spill_client_closed(cl);
    mt__node_pull_client_closed(cl);
    owner_gone_check(n, cl);
    mt__node_lease_client_closed(cl);
    mt__node_bundles_client_closed(cl);
    if (cl->worker) {
        /* A worker keeps its node connection for life: losing it means the worker is unusable. */
        node_worker *w = cl->worker;
        w->client = NULL;
        if (!w->exited && !n->stopping) {
            MT_LOG(MT_LOG_WARN, "NODE-WORKER-LOST", "worker pid %d closed its node connection; killing it", w->pid);
            uv_process_kill(&w->proc, SIGKILL);
        }
    }
    if (cl->prev) cl->prev->next = cl->next;
    else n->clients = cl->next;
    if (cl->next) cl->next->prev = cl->prev;
    mt_idmap_fini(&cl->pins);
    mt_idmap_fini(&cl->creating);
    mt_rpc_conn_set_userdata(c, NULL);
    cl->magic = 0;
    mt_free(cl);
    if (!n->stopping) mt__node_lease_schedule(n);
}

static void get_info(node_client *cl, const mt_rpc_msg *m)
{
    mt__node *n = cl->node;
    Manta__GetNodeInfoReply r = MANTA__GET_NODE_INFO_REPLY__INIT;
    node_res_pb tot;
    mt__node_res_to_pb(&n->total, &tot);
    r.node_id.data = n->node_id.bytes;
    r.node_id.len = MT_ID_SIZE;
    r.session_dir = n->session_dir;
    r.gcs_address = (char *)(n->opts.gcs_address ? n->opts.gcs_address : "");
    r.store_capacity = mt_store_capacity(n->store);
    r.store_fd_attached = cl->is_unix;
    r.resources_total = &tot.set;
    r.spill_dir = n->spill_dir;
    r.node_address = n->node_address;
    mt_error err;
    int fd = cl->is_unix ? mt_store_fd(n->store) : -1;
    if (mt_rpc_reply(cl->conn, m, MT_OK, &r.base, NULL, fd, &err) != MT_OK)
        MT_LOG(MT_LOG_WARN, "NODE-INFO", "GET_INFO reply failed: %s", err.msg);
}

static void get_stats(node_client *cl, const mt_rpc_msg *m)
{
    mt__node *n = cl->node;
    Manta__NodeStatsReply r = MANTA__NODE_STATS_REPLY__INIT;
    node_res_pb tot, av;
    mt__node_res_to_pb(&n->total, &tot);
    mt__node_res_to_pb(&n->avail, &av);
    r.resources_total = &tot.set;
    r.resources_available = &av.set;
    r.num_workers = n->num_workers;
    r.num_idle_workers = n->num_idle;
    r.num_pending_leases = n->num_pending;
    mt_store_stats st;
    mt_store_get_stats(n->store, &st);
    r.store_capacity = st.capacity;
    r.store_used = st.used;
    r.store_objects = st.num_objects;
    r.spilled_bytes = st.spilled_bytes;
    r.spilled_objects = st.spilled_objects;
    r.restored_objects = st.restored_objects;
    r.evicted_objects = st.evicted_objects;
    r.n_pending_demands = mt__node_lease_demands_pb(n, &r.pending_demands);
    mt__node_pull_stats(n, &r);
    mt__node_reply(cl, m, MT_OK, &r.base, NULL);
}

static void on_request(mt_rpc_conn *c, const mt_rpc_msg *m, void *ud)
{
    (void)ud;
    node_client *cl = client_of(c);
    if (!cl) { /* accept failed to allocate; the conn is closing */
        if (m->fd >= 0) close(m->fd);
        return;
    }
    if (m->fd >= 0) close(m->fd); /* nobody sends us descriptors */
    if (m->flags & MT_RPC_FLAG_ONEWAY) {
        /* Pipelined store calls (seal, release, delete) need no answer: the
         * caller goes on at once, and the connection keeps their order. */
        bool pipelined = m->method == MANTA__NODE_METHOD__NODE_SEAL_OBJECT ||
                         m->method == MANTA__NODE_METHOD__NODE_RELEASE_OBJECT ||
                         m->method == MANTA__NODE_METHOD__NODE_DELETE_OBJECT;
        if (m->method == MANTA__NODE_METHOD__NODE_WORKER_BLOCKED) mt__node_lease_worker_blocked(cl, true);
        else if (m->method == MANTA__NODE_METHOD__NODE_WORKER_UNBLOCKED) mt__node_lease_worker_blocked(cl, false);
        if (!pipelined || cl->node->stopping) return;
    }
    if (cl->node->stopping) {
        mt__node_reply(cl, m, MT_ESTATE, NULL, "node daemon is shutting down");
        return;
    }
    switch (m->method) {
    case MANTA__NODE_METHOD__NODE_GET_INFO: get_info(cl, m); break;
    case MANTA__NODE_METHOD__NODE_REGISTER_WORKER: mt__node_pool_register(cl, m); break;
    case MANTA__NODE_METHOD__NODE_REQUEST_LEASE: mt__node_lease_request(cl, m); break;
    case MANTA__NODE_METHOD__NODE_RETURN_LEASE: mt__node_lease_return(cl, m); break;
    case MANTA__NODE_METHOD__NODE_RESERVE_BUNDLES: mt__node_bundles_reserve(cl, m); break;
    case MANTA__NODE_METHOD__NODE_RELEASE_BUNDLES: mt__node_bundles_release(cl, m); break;
    case MANTA__NODE_METHOD__NODE_CREATE_OBJECT: mt__node_obj_create(cl, m); break;
    case MANTA__NODE_METHOD__NODE_SEAL_OBJECT: mt__node_obj_seal(cl, m); break;
    case MANTA__NODE_METHOD__NODE_PUT_OBJECT: mt__node_obj_put(cl, m); break;
    case MANTA__NODE_METHOD__NODE_GET_OBJECT: mt__node_obj_get(cl, m); break;
    case MANTA__NODE_METHOD__NODE_RELEASE_OBJECT: mt__node_obj_release(cl, m); break;
    case MANTA__NODE_METHOD__NODE_READ_OBJECT: mt__node_obj_read(cl, m); break;
    case MANTA__NODE_METHOD__NODE_PULL_OBJECTS: mt__node_pull_objects(cl, m); break;
    case MANTA__NODE_METHOD__NODE_DELETE_OBJECT: mt__node_obj_delete(cl, m); break;
    case MANTA__NODE_METHOD__NODE_KILL_WORKER: mt__node_pool_kill(cl, m); break;
    case MANTA__NODE_METHOD__NODE_GET_STATS: get_stats(cl, m); break;
    case MANTA__NODE_METHOD__NODE_LIST_OBJECTS: mt__node_obj_list(cl, m); break;
    default:
        mt__node_reply(cl, m, MT_EUNSUPPORTED, NULL, "node daemon: unknown method %u", m->method);
    }
}

const mt_rpc_handlers mt__node_handlers = {
    .on_request = on_request,
    .on_close = on_close,
    .on_accept = on_accept,
};
