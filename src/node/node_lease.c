/*
 * node_lease.c — worker leases and the node's resource accounting.
 * A lease request names a demand; it is granted when the demand fits the
 * available resources and an idle registered worker exists, else queued
 * (FIFO; a request that does not fit lets later ones that do fit pass).
 * Demands above the node's total fail at once (MT_EUNSUPPORTED) and are
 * remembered for a while as pending demands for heartbeats (autoscaler).
 * Main thread only. Invariants: avail = total - sum of granted demands;
 * each granted lease is attached to exactly one worker (w->lease).
 */
#include <stdio.h>
#include <string.h>

#include "core/config_keys.h"
#include "node/node_int.h"

static void pending_closed(uv_handle_t *h) { mt_free(h->data); }

static void pending_unlink(mt__node *n, node_pending *p)
{
    if (p->prev) p->prev->next = p->next;
    else n->pending_head = p->next;
    if (p->next) p->next->prev = p->prev;
    else n->pending_tail = p->prev;
    n->num_pending--;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, pending_closed);
}

typedef struct lease_kind {
    bool for_actor, hold_nothing, detached;
    mt_id actor_id;
} lease_kind;

static lease_kind kind_of_request(const Manta__RequestLeaseRequest *req)
{
    lease_kind k = {.for_actor = req->for_actor, .hold_nothing = req->hold_nothing,
                    .detached = req->for_actor && req->detached};
    if (req->actor_id.len == MT_ID_SIZE) memcpy(k.actor_id.bytes, req->actor_id.data, MT_ID_SIZE);
    return k;
}

/* Where a lease's demand is accounted: its bundle's availability, the node's, or NULL (its bundle is gone). */
static node_res *lease_pool(mt__node *n, const node_lease *l)
{
    if (mt_id_is_nil(l->pg)) return &n->avail;
    node_bundle *b = mt__node_bundle_find(n, l->pg, l->bundle, NULL);
    return b ? &b->avail : NULL;
}

static void pool_add(node_res *pool, const node_res *d)
{
    if (pool) mt__node_res_add(pool, d);
}

static void grant(mt__node *n, node_client *cl, const mt_rpc_msg *req, const node_res *demand,
                  lease_kind k, node_worker *w, node_bundle *from)
{
    bool for_actor = k.for_actor, hold_nothing = k.hold_nothing;
    static const node_res none; /* what a hold-nothing lease keeps */
    if (hold_nothing) demand = &none;
    node_lease *l = mt_calloc(1, sizeof *l);
    if (!l) {
        mt__node_pool_release(n, w, false);
        mt__node_reply(cl, req, MT_ENOMEM, NULL, "out of memory granting a lease");
        return;
    }
    l->id = mt_id_random();
    l->worker = w;
    l->holder = cl;
    l->demand = *demand;
    l->for_actor = for_actor;
    l->detached = k.detached;
    l->actor_id = k.actor_id;
    if (from) {
        l->pg = from->pg;
        l->bundle = from->index;
    }
    w->lease = l;
    mt__node_res_sub(from ? &from->avail : &n->avail, demand);
    Manta__RequestLeaseReply r = MANTA__REQUEST_LEASE_REPLY__INIT;
    r.lease_id.data = l->id.bytes;
    r.lease_id.len = MT_ID_SIZE;
    r.worker_id.data = w->id.bytes;
    r.worker_id.len = MT_ID_SIZE;
    /* a client over TCP is on another node: it reaches the worker over TCP too */
    r.worker_address = !cl->is_unix && w->tcp_address[0] ? w->tcp_address : w->address;
    r.worker_pid = w->pid;
    r.node_id.data = n->node_id.bytes;
    r.node_id.len = MT_ID_SIZE;
    mt__node_reply(cl, req, MT_OK, &r.base, NULL);
}

static bool feasible(const mt__node *n, const node_res *d)
{
    return mt__node_res_fits(&n->total, d);
}

static void note_infeasible(mt__node *n, const node_res *d)
{
    if (n->num_infeasible == NODE_INFEASIBLE_MAX) {
        memmove(&n->infeasible[0], &n->infeasible[1],
                sizeof n->infeasible[0] * (NODE_INFEASIBLE_MAX - 1));
        n->num_infeasible--;
    }
    n->infeasible[n->num_infeasible].demand = *d;
    n->infeasible[n->num_infeasible].at_ns = mt_time_now_ns();
    n->num_infeasible++;
}

static void pending_timeout(uv_timer_t *t)
{
    node_pending *p = t->data;
    char buf[256];
    mt__node_res_format(&p->demand, buf, sizeof buf);
    mt__node_reply(p->client, &p->req, MT_ETIMEOUT, NULL, "lease request for %s timed out", buf);
    pending_unlink(p->client->node, p);
}

static void enqueue(node_client *cl, const mt_rpc_msg *m, const node_res *d,
                    const Manta__RequestLeaseRequest *req)
{
    mt__node *n = cl->node;
    node_pending *p = mt_calloc(1, sizeof *p);
    if (!p) {
        mt__node_reply(cl, m, MT_ENOMEM, NULL, "out of memory queueing a lease request");
        return;
    }
    p->client = cl;
    p->req = mt__node_msg_for_reply(m);
    p->demand = *d;
    p->for_actor = req->for_actor;
    p->hold_nothing = req->hold_nothing;
    p->detached = req->for_actor && req->detached;
    p->allow_spillback = req->allow_spillback;
    if (req->placement_group_id.len == MT_ID_SIZE) {
        memcpy(p->pg.bytes, req->placement_group_id.data, MT_ID_SIZE);
        p->bundle = req->bundle_index;
        p->allow_spillback = false;
    }
    if (req->actor_id.len == MT_ID_SIZE) memcpy(p->actor_id.bytes, req->actor_id.data, MT_ID_SIZE);
    p->enqueued_ns = mt_time_now_ns();
    uv_timer_init(n->loop, &p->timer);
    p->timer.data = p;
    if (req->timeout_ms > 0) uv_timer_start(&p->timer, pending_timeout, (uint64_t)req->timeout_ms, 0);
    p->prev = n->pending_tail;
    if (n->pending_tail) n->pending_tail->next = p;
    else n->pending_head = p;
    n->pending_tail = p;
    n->num_pending++;
    mt__node_lease_schedule(n);
}

static void reply_spillback(node_client *cl, const mt_rpc_msg *m, const node_peer *p)
{
    Manta__RequestLeaseReply r = MANTA__REQUEST_LEASE_REPLY__INIT;
    r.spillback_address = (char *)p->address;
    mt__node_reply(cl, m, MT_OK, &r.base, NULL);
}

void mt__node_lease_respill(mt__node *n)
{
    for (node_pending *p = n->pending_head, *next; p; p = next) {
        next = p->next;
        if (!p->allow_spillback || mt__node_res_fits(&n->avail, &p->demand)) continue;
        node_peer *peer = mt__node_gcs_spill_target(n, &p->demand);
        if (!peer) continue;
        reply_spillback(p->client, &p->req, peer);
        pending_unlink(n, p);
    }
}

static void end_lease(mt__node *n, node_lease *l, bool dirty);

/* A lease from a bundle of a placement group reserved here (never spilled: the bundle is here). */
static void request_in_group(node_client *cl, const mt_rpc_msg *m, const Manta__RequestLeaseRequest *req,
                             const node_res *d)
{
    mt__node *n = cl->node;
    mt_id pg;
    char buf[512];
    int index = req->bundle_index < 0 ? -1 : req->bundle_index;
    if (!mt__node_id_from_pb(req->placement_group_id, &pg)) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "REQUEST_LEASE: placement_group_id must be %d bytes", MT_ID_SIZE);
        return;
    }
    bool known = false, fits_total = false;
    for (node_bundle *b = n->bundles; b; b = b->next)
        if (mt_id_equal(b->pg, pg) && (index < 0 || b->index == index)) {
            known = true;
            fits_total |= mt__node_res_fits(&b->total, d);
        }
    mt__node_res_format(d, buf, sizeof buf);
    node_bundle *b = known ? mt__node_bundle_find(n, pg, index, d) : NULL;
    if (!known) {
        mt__node_reply(cl, m, MT_ENOTFOUND, NULL, "placement group has no bundle %d on this node (removed, or placed elsewhere)", index);
    } else if (!fits_total) {
        mt__node_reply(cl, m, MT_EUNSUPPORTED, NULL, "%s does not fit in bundle %d of its placement group", buf, index);
    } else if (b && !n->pending_head && n->num_idle > 0) {
        grant(n, cl, m, d, kind_of_request(req), mt__node_pool_take_idle(n), b);
    } else if (!b && req->reject_if_busy) {
        mt__node_reply(cl, m, MT_ETIMEOUT, NULL, "bundle %d is busy: %s is not available in it now", index, buf);
    } else {
        enqueue(cl, m, d, req);
    }
}

void mt__node_lease_end_group(mt__node *n, mt_id pg, int index, const char *why)
{
    for (node_pending *p = n->pending_head, *next; p; p = next) {
        next = p->next;
        if (!mt_id_equal(p->pg, pg) || (index >= 0 && p->bundle != index)) continue;
        mt__node_reply(p->client, &p->req, MT_ECANCELLED, NULL, "lease request cancelled: %s", why);
        pending_unlink(n, p);
    }
    for (node_worker *w = n->workers; w; w = w->next) {
        node_lease *l = w->lease;
        if (l && mt_id_equal(l->pg, pg) && (index < 0 || l->bundle == index)) end_lease(n, l, true);
    }
}

void mt__node_lease_request(node_client *cl, const mt_rpc_msg *m)
{
    mt__node *n = cl->node;
    Manta__RequestLeaseRequest *req =
        manta__request_lease_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!req) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "malformed REQUEST_LEASE payload");
        return;
    }
    node_res d;
    mt_error err;
    char buf[512];
    mt_status st = mt__node_res_from_pb(req->resources, &d, &err);
    if (st == MT_OK && req->placement_group_id.len) {
        request_in_group(cl, m, req, &d);
    } else if (st != MT_OK) {
        mt__node_reply(cl, m, st, NULL, "REQUEST_LEASE: %s", err.msg);
    } else if (!feasible(n, &d)) {
        mt__node_res_format(&d, buf, sizeof buf);
        note_infeasible(n, &d);
        MT_LOG(MT_LOG_INFO, "NODE-INFEASIBLE", "no node can satisfy %s", buf);
        mt__node_reply(cl, m, MT_EUNSUPPORTED, NULL, "no node can satisfy %s", buf);
    } else if (!n->pending_head && mt__node_res_fits(&n->avail, &d) && n->num_idle > 0) {
        grant(n, cl, m, &d, kind_of_request(req), mt__node_pool_take_idle(n), NULL); /* fast path */
    } else if (!mt__node_res_fits(&n->avail, &d) && (req->allow_spillback || req->reject_if_busy)) {
        node_peer *p = req->allow_spillback ? mt__node_gcs_spill_target(n, &d) : NULL;
        if (p) { /* busy here, room there: the caller asks that node (Ray's spillback) */
            reply_spillback(cl, m, p);
        } else if (req->reject_if_busy) {
            mt__node_res_format(&d, buf, sizeof buf);
            mt__node_reply(cl, m, MT_ETIMEOUT, NULL, "node is busy: %s is not available now", buf);
        } else {
            enqueue(cl, m, &d, req);
        }
    } else {
        enqueue(cl, m, &d, req);
    }
    manta__request_lease_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

static void start_workers(mt__node *n, int need)
{
    int max_starting = n->pool_target > 2 ? n->pool_target : 2;
    while (need > n->num_starting && n->num_starting < max_starting) {
        mt_error err;
        if (mt__node_pool_start_worker(n, &err) != MT_OK) {
            MT_LOG(MT_LOG_ERROR, "NODE-WORKER-START", "%s", err.msg);
            return;
        }
    }
}

void mt__node_lease_schedule(mt__node *n)
{
    if (n->stopping) return;
    static node_res sim; /* what is left if every waiting request that fits got its worker */
    sim = n->avail;
    int need = 0;
    for (node_pending *p = n->pending_head, *next; p; p = next) {
        next = p->next;
        node_bundle *b = NULL;
        if (!mt_id_is_nil(p->pg)) { /* from its bundle's own availability */
            if (!(b = mt__node_bundle_find(n, p->pg, p->bundle, &p->demand)) || !mt__node_res_fits(&b->avail, &p->demand))
                continue;
        } else if (!mt__node_res_fits(&sim, &p->demand)) {
            continue;
        }
        node_worker *w = n->num_idle > 0 ? mt__node_pool_take_idle(n) : NULL;
        if (!p->hold_nothing && !b) mt__node_res_sub(&sim, &p->demand);
        if (!w) {
            need++;
            continue;
        }
        lease_kind k = {p->for_actor, p->hold_nothing, p->detached, p->actor_id};
        grant(n, p->client, &p->req, &p->demand, k, w, b);
        pending_unlink(n, p);
    }
    start_workers(n, need);
}

static node_lease *find_lease(mt__node *n, mt_id id)
{
    for (node_worker *w = n->workers; w; w = w->next)
        if (w->lease && mt_id_equal(w->lease->id, id)) return w->lease;
    return NULL;
}

/* Returns a lease's resources and its worker to the pool (or kills the worker). */
static void end_lease(mt__node *n, node_lease *l, bool dirty)
{
    node_worker *w = l->worker;
    if (!l->blocked) pool_add(lease_pool(n, l), &l->demand);
    w->lease = NULL;
    mt_free(l);
    mt__node_pool_release(n, w, dirty);
}

void mt__node_lease_return(node_client *cl, const mt_rpc_msg *m)
{
    mt__node *n = cl->node;
    Manta__ReturnLeaseRequest *req =
        manta__return_lease_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!req) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "malformed RETURN_LEASE payload");
        return;
    }
    mt_id id;
    node_lease *l = NULL;
    if (!mt__node_id_from_pb(req->lease_id, &id)) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "RETURN_LEASE: lease_id must be %d bytes", MT_ID_SIZE);
    } else if (!(l = find_lease(n, id))) {
        mt__node_reply(cl, m, MT_ENOTFOUND, NULL, "RETURN_LEASE: no such lease (returned already, or its worker died)");
    } else {
        end_lease(n, l, req->worker_dirty);
        mt__node_reply(cl, m, MT_OK, NULL, NULL);
        mt__node_lease_schedule(n);
    }
    manta__return_lease_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

void mt__node_lease_worker_died(mt__node *n, node_worker *w, int64_t exit_status, int sig)
{
    node_lease *l = w->lease;
    if (!l) return;
    if (!l->blocked) pool_add(lease_pool(n, l), &l->demand);
    if (l->holder && l->holder->conn) {
        Manta__WorkerDiedNotice nt = MANTA__WORKER_DIED_NOTICE__INIT;
        nt.worker_id.data = w->id.bytes;
        nt.worker_id.len = MT_ID_SIZE;
        nt.lease_id.data = l->id.bytes;
        nt.lease_id.len = MT_ID_SIZE;
        nt.exit_code = (int32_t)exit_status;
        nt.signal = sig;
        mt_error err;
        if (mt_rpc_send(l->holder->conn, MANTA__NODE_METHOD__NODE_WORKER_DIED, &nt.base, &err) != MT_OK)
            MT_LOG(MT_LOG_WARN, "NODE-WORKER-DIED", "notifying the lease holder failed: %s", err.msg);
    }
    w->lease = NULL;
    mt_free(l);
}

void mt__node_lease_client_closed(node_client *cl)
{
    mt__node *n = cl->node;
    for (node_pending *p = n->pending_head, *next; p; p = next) {
        next = p->next;
        if (p->client == cl) pending_unlink(n, p);
    }
    for (node_worker *w = n->workers; w; w = w->next) {
        node_lease *l = w->lease;
        if (!l || l->holder != cl) continue;
        if (l->detached) { /* outlives its creator: the node holds it now */
            l->holder = NULL;
            continue;
        }
        /* An actor's worker holds the dead owner's actor state: kill it (and
         * free its name); task workers are reused. */
        if (l->for_actor && !mt_id_is_nil(l->actor_id)) mt__node_gcs_actor_gone(n, l->actor_id);
        end_lease(n, l, l->for_actor);
    }
}

void mt__node_lease_shutdown(mt__node *n)
{
    while (n->pending_head) pending_unlink(n, n->pending_head);
    for (node_worker *w = n->workers; w; w = w->next) {
        if (!w->lease) continue;
        if (!w->lease->blocked) pool_add(lease_pool(n, w->lease), &w->lease->demand);
        mt_free(w->lease);
        w->lease = NULL;
    }
}

static int lease_demands(mt__node *n, node_res *out, int max)
{
    int k = 0;
    for (node_pending *p = n->pending_head; p && k < max; p = p->next) out[k++] = p->demand;
    int64_t keep_ns = MT_CFG_INT64(heartbeat_ms) * 10 * 1000000;
    if (keep_ns < 10000000000LL) keep_ns = 10000000000LL;
    int64_t now = mt_time_now_ns();
    for (int i = 0; i < n->num_infeasible && k < max; i++)
        if (now - n->infeasible[i].at_ns < keep_ns) out[k++] = n->infeasible[i].demand;
    return k;
}

size_t mt__node_lease_demands_pb(mt__node *n, Manta__ResourceSet ***out)
{
    /* Static: 64 resource sets are too big for the stack; main thread only. */
    enum { MAXD = 64 };
    static node_res dem[MAXD];
    static node_res_pb dpb[MAXD];
    static Manta__ResourceSet *dp[MAXD];
    int nd = lease_demands(n, dem, MAXD);
    for (int i = 0; i < nd; i++) {
        mt__node_res_to_pb(&dem[i], &dpb[i]);
        dp[i] = &dpb[i].set;
    }
    *out = nd ? dp : NULL;
    return (size_t)nd;
}

void mt__node_lease_worker_blocked(node_client *cl, bool blocked)
{
    /* The in-worker runtime presents its worker's id (Ray releases a blocked
     * worker's CPU so nested tasks cannot starve the node). */
    mt__node *n = cl->node;
    node_worker *w = strcmp(cl->kind, "worker") ? NULL : mt__node_pool_find(n, cl->client_id);
    node_lease *l = w ? w->lease : NULL;
    if (!l || l->blocked == blocked) return;
    l->blocked = blocked;
    node_res *pool = lease_pool(n, l);
    if (!pool) return;
    if (blocked) {
        mt__node_res_add(pool, &l->demand);
        mt__node_lease_schedule(n);
    } else {
        mt__node_res_sub(pool, &l->demand);
    }
}
