/*
 * node_gcs.c — the node's link to the control store: GCS_REGISTER_NODE, then
 * GCS_HEARTBEAT every heartbeat_ms with available resources, store usage and
 * pending demands (the reply is the cluster view: the other alive nodes'
 * available resources, where busy lease requests spill); re-registers after MT_ENOTFOUND or a lost connection;
 * writes DIR/node.ready after the first registration (at once when the node
 * runs without a control store); GCS_UNREGISTER_NODE at shutdown.
 * Main thread; every call is async (never blocks the loop). Invariant: at
 * most one registration or heartbeat in flight (gcs_in_flight); owners'
 * "gone" notices go beside them, each until answered.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "core/file.h"
#include "node/node_int.h"
#include "proto/gcs.pb-c.h"

mt_status mt__node_write_ready(mt__node *n, mt_error *err)
{
    char path[700], text[1600];
    snprintf(path, sizeof path, "%s/node.ready", n->session_dir);
    int len = snprintf(text, sizeof text, "node_id=%s\naddress=%s\nsocket=%s\npid=%d\n", n->node_hex,
                       n->node_address, n->node_socket, (int)getpid());
    if (len < 0 || (size_t)len >= sizeof text)
        return mt_error_set(err, MT_ERANGE, "writing %s: contents too long", path);
    MT_RETURN_NOT_OK(mt_file_write_atomic(path, text, (size_t)len, 0600, err));
    n->ready_written = true;
    MT_LOG(MT_LOG_INFO, "NODE-READY", "node %s ready at %s", n->node_hex, n->node_address);
    return MT_OK;
}

static void gone_flush(mt__node *n);

static void on_register_reply(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *reply, void *ud)
{
    (void)c;
    (void)reply;
    mt__node *n = ud;
    n->gcs_in_flight = false;
    if (st != MT_OK) {
        MT_LOG(MT_LOG_WARN, "NODE-GCS-REGISTER", "registering with the control store failed: %s",
               mt_status_name(st));
        return; /* the heartbeat timer retries */
    }
    n->gcs_registered = true;
    n->gcs_ok_ns = mt_time_now_ns();
    MT_LOG(MT_LOG_INFO, "NODE-GCS-REGISTER", "registered with the control store");
    gone_flush(n); /* what went while the control store was away */
    mt_error err;
    if (!n->ready_written && mt__node_write_ready(n, &err) != MT_OK)
        MT_LOG(MT_LOG_ERROR, "NODE-READY", "%s", err.msg);
}

static void send_register(mt__node *n)
{
    n->hb_sent_ns = mt_time_now_ns();
    Manta__NodeInfo ni = MANTA__NODE_INFO__INIT;
    node_res_pb tot, av;
    mt__node_res_to_pb(&n->total, &tot);
    mt__node_res_to_pb(&n->avail, &av);
    char ip[64];
    snprintf(ip, sizeof ip, "%s", n->opts.node_ip ? n->opts.node_ip : "127.0.0.1");
    ni.node_id.data = n->node_id.bytes;
    ni.node_id.len = MT_ID_SIZE;
    ni.node_address = n->node_address;
    ni.node_socket = n->node_socket;
    ni.node_ip = ip;
    ni.is_head = n->opts.is_head;
    ni.resources_total = &tot.set;
    ni.resources_available = &av.set;
    ni.object_store_capacity = mt_store_capacity(n->store);
    ni.start_time_ms = n->start_ms;
    ni.alive = true;
    ni.pid = (int32_t)getpid();
    Manta__RegisterNodeRequest req = MANTA__REGISTER_NODE_REQUEST__INIT;
    req.node = &ni;
    mt_error err;
    int64_t to = MT_CFG_INT64(heartbeat_ms) * 5;
    if (mt_rpc_call(n->gcs, MANTA__GCS_METHOD__GCS_REGISTER_NODE, &req.base, to < 2000 ? 2000 : to,
                    on_register_reply, n, &err) == MT_OK)
        n->gcs_in_flight = true;
    else
        MT_LOG(MT_LOG_WARN, "NODE-GCS-REGISTER", "%s", err.msg);
}

/* ---- The cluster view -------------------------------------------------------
 * Heartbeat replies carry the other nodes' availability, for spilling: the
 * whole table the first time (or after the control store restarted), then
 * only the nodes that changed since the version held. Peers live in an
 * array indexed by node id; a spill charges a peer's copy (avail) until the
 * next reply, when every peer goes back to what was reported.
 */

static void peers_clear(mt__node *n)
{
    mt_free(n->peers);
    n->peers = NULL;
    n->num_peers = n->cap_peers = 0;
    mt_idmap_fini(&n->peer_index);
    memset(&n->peer_index, 0, sizeof n->peer_index);
}

static void peer_remove(mt__node *n, mt_id id)
{
    void **v = mt_idmap_find(&n->peer_index, id);
    if (!v) return;
    int i = (int)((uintptr_t)*v - 1), last = n->num_peers - 1;
    mt_idmap_del(&n->peer_index, id);
    if (i != last) { /* the last one fills the hole */
        n->peers[i] = n->peers[last];
        *mt_idmap_find(&n->peer_index, n->peers[i].id) = (void *)(uintptr_t)(i + 1);
    }
    n->num_peers--;
}

/* Takes what the control store lists of one node into the view (or drops it: dead, this node, nothing to
 * offer); false when out of memory. */
static bool peer_take(mt__node *n, const Manta__NodeInfo *ni)
{
    if (ni->node_id.len != MT_ID_SIZE) return true;
    mt_id id;
    memcpy(id.bytes, ni->node_id.data, MT_ID_SIZE);
    node_res r;
    bool keep = !mt_id_equal(id, n->node_id) && ni->alive && ni->node_address && *ni->node_address &&
                ni->resources_available && ni->resources_available->n_quantities && /* {} would read as {CPU: 1} */
                mt__node_res_from_pb(ni->resources_available, &r, NULL) == MT_OK;
    if (!keep) {
        peer_remove(n, id);
        return true;
    }
    void **v = mt_idmap_find(&n->peer_index, id);
    if (!v) {
        if (n->num_peers == n->cap_peers) {
            int cap = n->cap_peers ? n->cap_peers * 2 : 16;
            node_peer *p = mt_realloc(n->peers, (size_t)cap * sizeof *p);
            if (!p) return false;
            n->peers = p;
            n->cap_peers = cap;
        }
        if (!(v = mt_idmap_put(&n->peer_index, id))) return false;
        *v = (void *)(uintptr_t)(n->num_peers + 1);
        memset(&n->peers[n->num_peers], 0, sizeof n->peers[0]);
        n->peers[n->num_peers++].id = id;
    }
    node_peer *p = &n->peers[(uintptr_t)*v - 1];
    snprintf(p->address, sizeof p->address, "%s", ni->node_address);
    p->reported = r;
    p->charge_gen = 0;
    return true;
}

/* Applies a heartbeat reply's view: every node, or those changed since the version held. */
static void set_peers(mt__node *n, const mt_rpc_msg *reply)
{
    Manta__ClusterStatusReply *cs = manta__cluster_status_reply__unpack(&mt_rpc_pb_allocator, reply->len, reply->payload);
    if (!cs) return;
    bool delta = cs->view_delta && cs->view_epoch == n->view_epoch && n->view_epoch;
    if (!delta) peers_clear(n);
    bool whole = true;
    for (size_t i = 0; i < cs->n_nodes; i++) whole &= peer_take(n, cs->nodes[i]);
    n->view_epoch = whole ? cs->view_epoch : 0; /* a node left out: the next reply brings the whole view */
    n->view_version = cs->view_version;
    n->view_gen++; /* spill charges end here: the reported figures include what the peers took */
    manta__cluster_status_reply__free_unpacked(cs, &mt_rpc_pb_allocator);
}

/* A peer's availability as this node counts it now (reported, less what it spilled there since). */
static node_res *peer_avail(mt__node *n, node_peer *p)
{
    return p->charge_gen == n->view_gen ? &p->avail : &p->reported;
}

node_peer *mt__node_gcs_spill_target(mt__node *n, const node_res *d)
{
    node_peer *best = NULL;
    for (int i = 0; i < n->num_peers; i++) {
        node_peer *p = &n->peers[i];
        if (mt__node_res_fits(peer_avail(n, p), d) &&
            (!best || mt__node_res_get(peer_avail(n, p), "CPU") > mt__node_res_get(peer_avail(n, best), "CPU")))
            best = p;
    }
    if (!best) return NULL;
    if (best->charge_gen != n->view_gen) {
        best->avail = best->reported;
        best->charge_gen = n->view_gen;
    }
    mt__node_res_sub(&best->avail, d);
    return best;
}

static void on_heartbeat_reply(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *reply, void *ud)
{
    (void)c;
    mt__node *n = ud;
    if (st == MT_OK && reply && !n->stopping && n->hb_view_asked) { /* a plain heartbeat's reply is a Status */
        set_peers(n, reply);
        mt__node_lease_respill(n); /* queued work may have somewhere to go now */
    }
    n->gcs_in_flight = false;
    if (st == MT_ENOTFOUND || st == MT_EIO) {
        MT_LOG(MT_LOG_WARN, "NODE-GCS-HEARTBEAT", "heartbeat: %s; registering again", mt_status_name(st));
        n->gcs_registered = false;
        if (!n->stopping) send_register(n);
    } else if (st != MT_OK) {
        MT_LOG(MT_LOG_WARN, "NODE-GCS-HEARTBEAT", "heartbeat failed: %s", mt_status_name(st));
    } else {
        n->gcs_ok_ns = mt_time_now_ns();
        gone_flush(n); /* the store answers again: notices whose answer was lost go again */
    }
}

static void on_hb_timer(uv_timer_t *t);

/* Tells every client why the node is going away, then shuts down. */
static void gcs_lost(mt__node *n, int64_t ms)
{
    char why[700];
    snprintf(why, sizeof why, "its control store at %.100s was unreachable for %lld ms", n->opts.gcs_address,
             (long long)ms);
    MT_LOG(MT_LOG_ERROR, "NODE-GCS-LOST", "%s", why);
    Manta__Status note = MANTA__STATUS__INIT;
    note.status = MT_EIO;
    note.message = why;
    for (node_client *cl = n->clients; cl; cl = cl->next)
        mt_rpc_send(cl->conn, MANTA__NODE_METHOD__NODE_SHUTTING_DOWN, &note.base, NULL);
    /* shut down on the next tick, once the notices have left */
    n->gcs_giving_up = true;
    uv_timer_start(&n->hb_timer, on_hb_timer, 100, 1000);
}

static void send_heartbeat(mt__node *n)
{
    node_res_pb av;
    mt__node_res_to_pb(&n->avail, &av);
    mt_store_stats ss;
    mt_store_get_stats(n->store, &ss);
    Manta__HeartbeatRequest req = MANTA__HEARTBEAT_REQUEST__INIT;
    req.node_id.data = n->node_id.bytes;
    req.node_id.len = MT_ID_SIZE;
    req.resources_available = &av.set;
    req.object_store_used = ss.used;
    req.n_pending_demands = mt__node_lease_demands_pb(n, &req.pending_demands);
    /* the view is for spilling: a node with room grants here, so it asks only every heartbeat_ms */
    int64_t now = mt_time_now_ns();
    bool busy = n->num_pending > 0 || mt__node_res_get(&n->avail, "CPU") < NODE_RES_SCALE;
    req.want_view = busy || now - n->view_ns >= MT_CFG_INT64(heartbeat_ms) * 1000000;
    if (req.want_view) n->view_ns = now;
    n->hb_view_asked = req.want_view;
    req.view_epoch = n->view_epoch;
    req.view_version = n->view_version;
    n->hb_sent_ns = now;
    n->hb_avail = n->avail;
    mt_error err;
    int64_t to = MT_CFG_INT64(heartbeat_ms) * 5;
    if (mt_rpc_call(n->gcs, MANTA__GCS_METHOD__GCS_HEARTBEAT, &req.base, to < 2000 ? 2000 : to,
                    on_heartbeat_reply, n, &err) == MT_OK)
        n->gcs_in_flight = true;
    else
        MT_LOG(MT_LOG_WARN, "NODE-GCS-HEARTBEAT", "%s", err.msg);
}

/* Whether availability differs from what the last heartbeat carried. */
static bool changed(const mt__node *n)
{
    const node_res *a = &n->avail, *b = &n->hb_avail;
    if (a->n != b->n) return true;
    for (int i = 0; i < a->n; i++)
        if (a->q[i] != b->q[i] || strcmp(a->name[i], b->name[i])) return true;
    return false;
}

/*
 * Every resource_report_ms (at most heartbeat_ms): a heartbeat when
 * heartbeat_ms has passed, or sooner in a cluster of several nodes when
 * availability changed or work is queued here (fresh views for spillback).
 */
static void on_hb_timer(uv_timer_t *t)
{
    mt__node *n = t->data;
    if (n->stopping) return;
    if (n->gcs_giving_up) {
        mt__node_begin_shutdown(n);
        return;
    }
    int64_t limit = MT_CFG_INT64(gcs_lost_exit_ms);
    int64_t gone_ms = n->gcs_ok_ns ? (mt_time_now_ns() - n->gcs_ok_ns) / 1000000 : 0;
    if (limit > 0 && gone_ms > limit) {
        gcs_lost(n, gone_ms);
        return;
    }
    if (n->gcs_in_flight) return;
    int64_t since_ms = (mt_time_now_ns() - n->hb_sent_ns) / 1000000;
    if (!n->gcs_registered) {
        if (since_ms >= MT_CFG_INT64(heartbeat_ms)) send_register(n);
    } else if (since_ms >= MT_CFG_INT64(heartbeat_ms) || (n->num_peers > 0 && (n->num_pending > 0 || changed(n)))) {
        send_heartbeat(n);
    }
}

static void on_gcs_close(mt_rpc_conn *c, void *ud)
{
    (void)c;
    mt__node *n = ud;
    n->gcs = NULL;
    n->gcs_registered = false;
}

static void on_gcs_request(mt_rpc_conn *c, const mt_rpc_msg *m, void *ud)
{
    (void)ud;
    if (m->fd >= 0) close(m->fd);
    if (!(m->flags & MT_RPC_FLAG_ONEWAY))
        mt_rpc_reply(c, m, MT_EUNSUPPORTED, NULL, "node daemon: no such method", -1, NULL);
}

mt_status mt__node_gcs_start(mt__node *n, mt_error *err)
{
    if (!n->opts.gcs_address || !n->opts.gcs_address[0]) return mt__node_write_ready(n, err);
    static const mt_rpc_handlers h = {.on_request = on_gcs_request, .on_close = on_gcs_close};
    mt_rpc_connect_options o = {.client_kind = "node", .client_id = n->node_id, .reconnect = true};
    MT_RETURN_NOT_OK(mt_rpc_connect(n->loop, n->opts.gcs_address, n->token, &o, &h, n, &n->gcs, err));
    send_register(n);
    int64_t hb = MT_CFG_INT64(heartbeat_ms), rr = MT_CFG_INT64(resource_report_ms);
    uint64_t period = (uint64_t)(rr < hb ? rr : hb);
    n->hb_sent_ns = mt_time_now_ns();
    uv_timer_start(&n->hb_timer, on_hb_timer, period, period);
    return MT_OK;
}

typedef struct unreg_ctx {
    mt__node *n;
    void (*done)(mt__node *);
} unreg_ctx;

static void on_unregister_reply(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *reply, void *ud)
{
    (void)reply;
    unreg_ctx *u = ud;
    MT_LOG(MT_LOG_INFO, "NODE-GCS-UNREGISTER", "unregister: %s", mt_status_name(st));
    mt__node *n = u->n;
    void (*done)(mt__node *) = u->done;
    mt_free(u);
    if (n->gcs == c) {
        n->gcs = NULL;
        mt_rpc_conn_close(c);
    }
    done(n);
}

void mt__node_gcs_stop(mt__node *n, void (*done)(mt__node *))
{
    uv_timer_stop(&n->hb_timer);
    uv_close((uv_handle_t *)&n->hb_timer, NULL);
    peers_clear(n);
    unreg_ctx *u = n->gcs && n->gcs_registered ? mt_calloc(1, sizeof *u) : NULL;
    if (u) {
        u->n = n;
        u->done = done;
        Manta__NodeIdRequest req = MANTA__NODE_ID_REQUEST__INIT;
        req.node_id.data = n->node_id.bytes;
        req.node_id.len = MT_ID_SIZE;
        if (mt_rpc_call(n->gcs, MANTA__GCS_METHOD__GCS_UNREGISTER_NODE, &req.base, 1000,
                        on_unregister_reply, u, NULL) == MT_OK)
            return;
        mt_free(u);
    }
    if (n->gcs) {
        mt_rpc_conn *c = n->gcs;
        n->gcs = NULL;
        mt_rpc_conn_close(c);
    }
    done(n);
}

/*
 * Tells the control store that an actor or a placement group went with its
 * owner. Each notice stays queued (at most NODE_GONE_MAX) until the store
 * answers it: one lost with its connection, or due while the store was
 * away, goes again once the node is registered and the store answers a
 * heartbeat (not on every tick: a store that does not answer would
 * collect copies), so a group whose driver died while the head was down is
 * not listed forever.
 */
typedef struct gone_ctx {
    mt__node *n;
    uint16_t method;
    mt_id id;
} gone_ctx;

static const char *gone_kind(uint16_t method)
{
    return method == MANTA__GCS_METHOD__GCS_REMOVE_ACTOR ? "actor" : "placement group";
}

static int gone_find(const mt__node *n, uint16_t method, mt_id id)
{
    for (int i = 0; i < n->ngone; i++)
        if (n->gone[i].method == method && mt_id_equal(n->gone[i].id, id)) return i;
    return -1;
}

static void on_gone_reply(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *reply, void *ud)
{
    (void)c;
    (void)reply;
    gone_ctx *g = ud;
    mt__node *n = g->n;
    int i = gone_find(n, g->method, g->id);
    if (i >= 0 && (st == MT_EIO || st == MT_ETIMEOUT || st == MT_ECANCELLED)) {
        n->gone[i].sent = false; /* lost on the way: again once registered */
    } else if (i >= 0) { /* answered (MT_ENOTFOUND: gone already) */
        if (st != MT_OK && st != MT_ENOTFOUND)
            MT_LOG(MT_LOG_WARN, "NODE-GCS-GONE", "the control store refused the end of an owner's %s: %s",
                   gone_kind(g->method), mt_status_name(st));
        memmove(&n->gone[i], &n->gone[i + 1], (size_t)(n->ngone - i - 1) * sizeof n->gone[0]);
        n->ngone--;
    }
    mt_free(g);
}

static void gone_flush(mt__node *n)
{
    for (int i = 0; i < n->ngone && n->gcs && n->gcs_registered && !n->stopping; i++) {
        if (n->gone[i].sent) continue;
        gone_ctx *g = mt_malloc(sizeof *g);
        if (!g) return;
        *g = (gone_ctx){n, n->gone[i].method, n->gone[i].id};
        Manta__ActorIdRequest a = MANTA__ACTOR_ID_REQUEST__INIT;
        Manta__PlacementGroupIdRequest pg = MANTA__PLACEMENT_GROUP_ID_REQUEST__INIT;
        a.actor_id = pg.placement_group_id = (ProtobufCBinaryData){MT_ID_SIZE, g->id.bytes};
        mt_error err;
        if (mt_rpc_call(n->gcs, g->method, g->method == MANTA__GCS_METHOD__GCS_REMOVE_ACTOR ? &a.base : &pg.base,
                        5000, on_gone_reply, g, &err) == MT_OK) {
            n->gone[i].sent = true; /* the answer (or the call's failure) comes later, in on_gone_reply */
        } else {
            MT_LOG(MT_LOG_WARN, "NODE-GCS-GONE", "telling the control store an owner's %s went: %s", gone_kind(g->method),
                   err.msg);
            mt_free(g);
            return;
        }
    }
}

static void gone_notice(mt__node *n, uint16_t method, mt_id id)
{
    if (n->stopping || !n->opts.gcs_address || !n->opts.gcs_address[0] || gone_find(n, method, id) >= 0) return;
    if (n->ngone == NODE_GONE_MAX) {
        MT_LOG(MT_LOG_WARN, "NODE-GCS-GONE", "%d notices wait for the control store already: one is dropped", NODE_GONE_MAX);
        return;
    }
    n->gone[n->ngone].method = method;
    n->gone[n->ngone].sent = false;
    n->gone[n->ngone++].id = id;
    gone_flush(n);
}

void mt__node_gcs_actor_gone(mt__node *n, mt_id actor_id) { gone_notice(n, MANTA__GCS_METHOD__GCS_REMOVE_ACTOR, actor_id); }

void mt__node_gcs_pg_gone(mt__node *n, mt_id pg_id) { gone_notice(n, MANTA__GCS_METHOD__GCS_REMOVE_PLACEMENT_GROUP, pg_id); }
