/*
 * driver_actor.c — actors on the driver: creation (a dedicated worker
 * leased with for_actor, the constructor pushed as the first task), method
 * calls pushed in order on one connection per handle, named registration
 * and lookup in the control store, kill, and restart of an actor whose
 * worker died (owner only, up to max_restarts; in-flight calls fail).
 *
 * Threads: under mt__drv.lock. Invariants: a live handle with a connection
 * is on mt__drv.actors; calls on one handle reach the worker in call order.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "gcs/gcs_client.h"
#include "proto/gcs.pb-c.h"
#include "proto/node.pb-c.h"
#include "worker/worker_int.h"

static void set_dead(mt_actor *a, mt_status code, const char *msg);
static void leased(mt_actor *a);
static void starting_fail(mt_status code, const char *msg);

static void live_add(mt_actor *a)
{
    a->next_live = mt__drv.actors;
    mt__drv.actors = a;
}

static void live_remove(mt_actor *a)
{
    for (mt_actor **pp = &mt__drv.actors; *pp; pp = &(*pp)->next_live)
        if (*pp == a) {
            *pp = a->next_live;
            return;
        }
}

static void conn_drop(mt_actor *a, mt_status code, const char *msg)
{
    if (!a->conn) return;
    mt__task *t;
    while ((t = a->conn->inflight.head)) {
        a->conn->inflight.head = t->next;
        mt__task_fail(t, code, msg);
    }
    mt__lease_close(a->conn);
    mt_free(a->conn);
    a->conn = NULL;
    live_remove(a);
}

mt_status mt__drv_gcs(mt_gcs_client **out, mt_error *err)
{
    if (!mt__drv.gcs)
        MT_RETURN_NOT_OK(mt_gcs_client_connect(mt__drv.gcs_address, mt__drv.token, "driver", MT_CFG_INT64(rpc_connect_timeout_ms),
                                               (mt_gcs_client **)&mt__drv.gcs, err));
    *out = mt__drv.gcs;
    return MT_OK;
}

void mt__drv_gcs_reset(void)
{
    if (mt__drv.gcs) mt_gcs_client_close(mt__drv.gcs);
    mt__drv.gcs = NULL;
}

/* The lease request for an actor's worker (points into `a` and the caller's buffers). */
static void actor_lease_req(mt_actor *a, Manta__RequestLeaseRequest *req, Manta__ResourceSet *rs,
                            Manta__ResourceSet__QuantitiesEntry *ents, Manta__ResourceSet__QuantitiesEntry **ptrs)
{
    manta__request_lease_request__init(req);
    manta__resource_set__init(rs);
    int n = a->nres; /* <= MT__MAX_RESOURCES: checked by create_locked */
    for (int i = 0; i < n; i++) {
        manta__resource_set__quantities_entry__init(&ents[i]);
        ents[i].key = a->res_names[i];
        ents[i].value = a->res[i].quantity;
        ptrs[i] = &ents[i];
    }
    rs->n_quantities = (size_t)n;
    rs->quantities = ptrs;
    req->resources = rs;
    req->for_actor = true;
    req->hold_nothing = a->default_res; /* Ray: a default actor needs 1 CPU to schedule, 0 to run */
    req->detached = a->detached;
    req->actor_id.data = a->actor_id.bytes;
    req->actor_id.len = MT_ID_SIZE;
    req->code_path = mt__drv.code_path;
}

static void take_lease_reply(mt_actor *a, const Manta__RequestLeaseReply *rep)
{
    if (rep->lease_id.len == MT_ID_SIZE) memcpy(a->lease_id.bytes, rep->lease_id.data, MT_ID_SIZE);
    if (rep->worker_id.len == MT_ID_SIZE) memcpy(a->worker_id.bytes, rep->worker_id.data, MT_ID_SIZE);
    a->worker_pid = rep->worker_pid;
    if (rep->node_id.len == MT_ID_SIZE) memcpy(a->node_id.bytes, rep->node_id.data, MT_ID_SIZE);
    snprintf(a->worker_address, sizeof a->worker_address, "%s", rep->worker_address ? rep->worker_address : "");
}

#define RESTART_LEASE_WAIT_MS 2000
#define RESTART_CALL_SLACK_MS 3000

/* Leases the actor's worker from this node, waiting for it (a restart: RESTART_LEASE_WAIT_MS at most). */
static mt_status lease_local(mt_actor *a, mt_error *err)
{
    Manta__RequestLeaseRequest req;
    Manta__ResourceSet rs;
    Manta__ResourceSet__QuantitiesEntry ents[MT__MAX_RESOURCES], *ptrs[MT__MAX_RESOURCES];
    actor_lease_req(a, &req, &rs, ents, ptrs);
    if (a->restart_until_ns > 0) req.timeout_ms = RESTART_LEASE_WAIT_MS;
    mt__drv_return_idle_leases();
    Manta__RequestLeaseReply *rep = NULL;
    MT_RETURN_NOT_OK(mt__drv_node_call(MANTA__NODE_METHOD__NODE_REQUEST_LEASE, &req.base,
                                       &manta__request_lease_reply__descriptor, (ProtobufCMessage **)&rep, NULL, err));
    take_lease_reply(a, rep);
    a->node = NULL;
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    return MT_OK;
}

/*
 * An actor whose worker cannot come from this node — its placement-group
 * bundle is elsewhere, or only another node has its demand — is leased from
 * that node, waiting for the grant (bounded: REMOTE_ACTOR_WAIT_MS). A
 * restart skips a->avoid, may come back to this node, and waits less
 * (RESTART_LEASE_WAIT_MS: the pump makes the call; a busy node is asked
 * again on a later try; a grant that comes after the call gave up goes
 * back: driver_pull.c). `tried` (300 bytes, may be NULL) gets the address
 * asked; *unreachable (may be NULL) whether that node never answered.
 */
#define REMOTE_ACTOR_WAIT_MS 30000
static mt_status lease_remote(mt_actor *a, char *tried, bool *unreachable, mt_error *err)
{
    char addr[300] = "";
    bool restarting = a->restart_until_ns > 0;
    if (tried) *tried = 0;
    if (unreachable) *unreachable = false;
    if (!mt_id_is_nil(a->pg_id)) {
        const char *n = mt__pg_node_for(a->pg_id, a->bundle);
        if (!n) return mt_error_set(err, MT_ESTATE, "actor %s: its placement group is not placed (removed, or still pending)", a->class_name);
        snprintf(addr, sizeof addr, "%s", n);
    } else {
        mt_gcs_client *g = NULL;
        Manta__ClusterStatusReply *cs = NULL;
        MT_RETURN_NOT_OK(mt__drv_gcs(&g, err));
        MT_RETURN_NOT_OK(mt_gcs_cluster_status(g, &cs, err));
        const Manta__NodeInfo *ni = mt__drv_node_for_ex(cs, a->res, a->nres, a->avoid[0] ? a->avoid : NULL, restarting);
        bool self = ni && ni->node_id.len == MT_ID_SIZE && !memcmp(ni->node_id.data, mt__drv.node_id.bytes, MT_ID_SIZE);
        if (ni) snprintf(addr, sizeof addr, "%s", ni->node_address);
        mt_gcs_reply_free(cs);
        if (self && tried) snprintf(tried, 300, "%s", mt__drv.node_address);
        if (self) return lease_local(a, err);
        if (!ni) {
            char want[400] = "";
            size_t k = 0;
            for (int i = 0; i < a->nres && k < sizeof want - 80; i++)
                k += (size_t)snprintf(want + k, sizeof want - k, "%s%.60s: %.10g", i ? ", " : "", a->res[i].name, a->res[i].quantity);
            return mt_error_set(err, restarting ? MT_ETIMEOUT : MT_EUNSUPPORTED, "no %snode can satisfy {%s}",
                                restarting ? "alive " : "", want);
        }
    }
    if (tried) snprintf(tried, 300, "%s", addr);
    mt_rpc_client *c = NULL;
    if (mt__drv_remote_client(addr, &c, NULL, err) != MT_OK) {
        if (unreachable) *unreachable = true;
        return err ? err->code : MT_EIO;
    }
    Manta__RequestLeaseRequest req;
    Manta__ResourceSet rs;
    Manta__ResourceSet__QuantitiesEntry ents[MT__MAX_RESOURCES], *ptrs[MT__MAX_RESOURCES];
    actor_lease_req(a, &req, &rs, ents, ptrs);
    req.timeout_ms = restarting ? RESTART_LEASE_WAIT_MS : REMOTE_ACTOR_WAIT_MS;
    if (!mt_id_is_nil(a->pg_id)) {
        req.placement_group_id.data = a->pg_id.bytes;
        req.placement_group_id.len = MT_ID_SIZE;
        req.bundle_index = a->bundle;
        req.hold_nothing = false; /* in a bundle the demand is held (it came from the bundle) */
    }
    Manta__RequestLeaseReply *rep = NULL;
    mt_status st = mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, &req.base, &manta__request_lease_reply__descriptor,
                                      restarting ? RESTART_LEASE_WAIT_MS + RESTART_CALL_SLACK_MS : 0,
                                      (ProtobufCMessage **)&rep, NULL, err);
    if (st != MT_OK) {
        if (unreachable) *unreachable = !mt_rpc_client_answered(c);
        return mt_error_prefix(err, "actor %s on node %s", a->class_name, addr);
    }
    take_lease_reply(a, rep);
    a->node = c;
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    return MT_OK;
}

/* Leases the actor's worker and waits for it (restarts): from where it was placed, placed again the same way. */
static mt_status lease_actor_worker(mt_actor *a, char *tried, bool *unreachable, mt_error *err)
{
    if (tried) *tried = 0;
    *unreachable = false;
    if (a->node || !mt_id_is_nil(a->pg_id)) return lease_remote(a, tried, unreachable, err);
    if (tried) snprintf(tried, 300, "%s", mt__drv.node_address);
    return lease_local(a, err);
}

static mt_status connect_handle(mt_actor *a, mt_error *err)
{
    mt__lease *c = mt_calloc(1, sizeof *c);
    if (!c) return mt_error_set(err, MT_ENOMEM, "actor connection");
    mt_status st = mt__lease_connect(c, a->worker_address, err);
    if (st != MT_OK) {
        mt_free(c);
        return st;
    }
    c->actor = a;
    c->worker_id = a->worker_id;
    c->worker_pid = a->worker_pid;
    c->node_id = a->node_id;
    a->conn = c;
    live_add(a);
    return MT_OK;
}

/* Connects to the leased worker and pushes the constructor (owner). */
static mt_status actor_boot(mt_actor *a, mt_error *err)
{
    MT_RETURN_NOT_OK(connect_handle(a, err));
    mt_ref *ref;
    mt__task *t = mt__task_new(a->class_name, 1, &ref, a->ctor_task_id);
    if (!t) return mt_error_set(err, MT_ENOMEM, "actor constructor");
    mt__ref_unref(ref);
    t->actor = a;
    t->ttype = MANTA__TASK_TYPE__ACTOR_CREATION_TASK;
    t->parent_id = a->ctor_parent;
    t->job_id = a->ctor_job;
    t->attempt = a->ctor_attempt++; /* a restart runs the creation task again */
    t->seq = 0;
    t->spec = mt_malloc(a->ctor_len ? a->ctor_len : 1);
    if (!t->spec) {
        mt__task_free(t);
        return mt_error_set(err, MT_ENOMEM, "actor constructor");
    }
    memcpy(t->spec, a->ctor_spec, a->ctor_len);
    t->spec_len = a->ctor_len;
    MT_RETURN_NOT_OK(mt__lease_push(a->conn, t, err));
    a->up = true; /* from here its creation task reports itself */
    a->conn->frame_hdr = SIZE_MAX;
    return mt_rpc_stream_flush(&a->conn->s, err);
}

static mt_status register_name(mt_actor *a, mt_error *err)
{
    mt_gcs_client *g;
    MT_RETURN_NOT_OK(mt__drv_gcs(&g, err));
    Manta__ActorInfo info = MANTA__ACTOR_INFO__INIT;
    info.actor_id.data = a->actor_id.bytes;
    info.actor_id.len = MT_ID_SIZE;
    info.name = a->name;
    info.namespace_ = a->ns;
    info.worker_address = a->worker_address;
    info.worker_id.data = a->worker_id.bytes;
    info.worker_id.len = MT_ID_SIZE;
    info.node_id.data = mt__drv.node_id.bytes;
    info.node_id.len = MT_ID_SIZE;
    info.class_name = a->class_name;
    info.state = a->starting ? 0 : 1; /* pending until its worker is up */
    info.owner_id.data = mt__drv.driver_id.bytes;
    info.owner_id.len = MT_ID_SIZE;
    info.detached = a->detached;
    return mt_gcs_register_actor(g, &info, err);
}

static void actor_free(mt_actor *a)
{
    conn_drop(a, MT_ECANCELLED, "actor handle released");
    for (int i = 0; a->res_names && i < a->nres; i++) mt_free(a->res_names[i]);
    mt_free(a->res_names);
    mt_free(a->res);
    mt_free(a->class_name);
    mt_free(a->name);
    mt_free(a->ns);
    mt_free(a->death_msg);
    mt_free(a->restart_why);
    mt_free(a->ctor_spec);
    mt_free(a);
}

static mt_status kill_worker(mt_actor *a, mt_error *err)
{
    Manta__KillWorkerRequest kr = MANTA__KILL_WORKER_REQUEST__INIT;
    kr.worker_id.data = a->worker_id.bytes;
    kr.worker_id.len = MT_ID_SIZE;
    kr.force = true;
    if (a->node) return mt_rpc_client_call(a->node, MANTA__NODE_METHOD__NODE_KILL_WORKER, &kr.base, NULL, 0, NULL, NULL, err);
    return mt__drv_node_call(MANTA__NODE_METHOD__NODE_KILL_WORKER, &kr.base, &manta__status__descriptor, NULL, NULL, err);
}

static mt_status lookup_locked(const char *name, const char *ns, mt_actor **out, mt_error *err)
{
    mt_gcs_client *g;
    MT_RETURN_NOT_OK(mt__drv_gcs(&g, err));
    Manta__LookupActorReply *rep = NULL;
    MT_RETURN_NOT_OK(mt_gcs_lookup_actor(g, name, ns, &rep, err));
    /* Created but its worker not up yet (its creator registers the name first): wait for it. */
    int64_t deadline = mt_time_now_ns() + 30 * 1000000000LL;
    while (rep->actor && rep->actor->state == 0 && (!rep->actor->worker_address || !*rep->actor->worker_address) &&
           mt_time_now_ns() < deadline) {
        mt_gcs_reply_free(rep);
        rep = NULL;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
        MT_RETURN_NOT_OK(mt_gcs_lookup_actor(g, name, ns, &rep, err));
    }
    mt_actor *a = mt_calloc(1, sizeof *a);
    mt_status st = a && rep->actor ? MT_OK : mt_error_set(err, MT_ENOTFOUND, "actor '%s' not found in namespace '%s'", name, ns);
    if (st == MT_OK) {
        a->rc = 1;
        if (rep->actor->actor_id.len == MT_ID_SIZE) memcpy(a->actor_id.bytes, rep->actor->actor_id.data, MT_ID_SIZE);
        if (rep->actor->worker_id.len == MT_ID_SIZE) memcpy(a->worker_id.bytes, rep->actor->worker_id.data, MT_ID_SIZE);
        if (rep->actor->node_id.len == MT_ID_SIZE) memcpy(a->node_id.bytes, rep->actor->node_id.data, MT_ID_SIZE);
        snprintf(a->worker_address, sizeof a->worker_address, "%s", rep->actor->worker_address);
        a->class_name = mt_strdup(rep->actor->class_name);
        a->name = mt_strdup(name);
        a->ns = mt_strdup(ns);
        st = connect_handle(a, err);
        if (st != MT_OK) mt_error_prefix(err, "actor '%s'", name);
    }
    mt_gcs_reply_free(rep);
    if (st != MT_OK) {
        if (a) actor_free(a);
        return st;
    }
    *out = a;
    return MT_OK;
}

static mt_status create_locked(const char *cls, const mt_arg *args, int nargs, const mt_actor_options *o,
                               mt_actor **out, mt_error *err)
{
    static const mt_resource cpu1 = {"CPU", 1};
    const char *ns = o->ns && *o->ns ? o->ns : mt__drv.ns;
    if (o->name && *o->name && o->get_if_exists && lookup_locked(o->name, ns, out, NULL) == MT_OK) return MT_OK;
    for (int i = 0; i < nargs; i++)
        if (args[i].ref && args[i].ref->magic != MT__REF_MAGIC) return mt_error_set(err, MT_EINVAL, "argument %d: not a ref", i);
    mt_actor *a = mt_calloc(1, sizeof *a);
    if (!a) return mt_error_set(err, MT_ENOMEM, "actor");
    a->rc = 1;
    a->owner = true;
    a->actor_id = mt_id_random();
    a->class_name = mt_strdup(cls);
    a->name = o->name && *o->name ? mt_strdup(o->name) : NULL;
    a->ns = mt_strdup(ns);
    int mr = o->max_restarts ? o->max_restarts : (int)MT_CFG_INT64(actor_max_restarts);
    a->restarts_left = mr < 0 ? -1 : mr;
    const mt_resource *res = o->resources ? o->resources : &cpu1;
    int nres = o->resources ? o->num_resources : 1;
    a->default_res = !o->resources && !o->placement_group;
    a->detached = o->detached;
    a->bundle = -1;
    if (o->placement_group) {
        mt_status pst = mt__pg_check(o->placement_group, o->bundle_index, &a->pg_id, &a->bundle, err);
        if (pst != MT_OK) {
            actor_free(a);
            return pst;
        }
    }
    if (nres < 0 || nres > MT__MAX_RESOURCES) {
        actor_free(a);
        return mt_error_set(err, MT_EINVAL, "actor %s: %d resources; at most %d are supported", cls, nres,
                            MT__MAX_RESOURCES);
    }
    a->res = mt_calloc((size_t)nres + 1, sizeof *a->res);
    a->res_names = mt_calloc((size_t)nres + 1, sizeof *a->res_names);
    mt_status st = a->res && a->res_names && a->class_name && a->ns ? MT_OK : mt_error_set(err, MT_ENOMEM, "actor");
    for (int i = 0; st == MT_OK && i < nres; i++) {
        a->res_names[i] = mt_strdup(res[i].name ? res[i].name : "");
        a->res[i] = (mt_resource){a->res_names[i], res[i].quantity};
        a->nres = i + 1;
    }
    /* The name is taken now (pending), so a clash is reported by this call. */
    a->starting = true;
    if (st == MT_OK && a->name) {
        st = register_name(a, err);
        if (st == MT_EEXIST && o->get_if_exists) {
            actor_free(a);
            return lookup_locked(o->name, ns, out, err);
        }
    }
    /* The constructor waits for its arguments like any task (driver_deps.c);
     * mt__actor_ctor_ready then asks the node for a worker without waiting. */
    mt_ref *ctor_ref = NULL;
    mt__task *t = st == MT_OK ? mt__task_new(cls, 1, &ctor_ref, mt__task_id_new()) : NULL;
    if (st == MT_OK && !t) st = mt_error_set(err, MT_ENOMEM, "actor %s", cls);
    bool waits = false;
    if (st == MT_OK) {
        mt__ref_unref(ctor_ref);
        t->actor = a;
        t->seq = 0;
        mt__tev_init_task(t, MANTA__TASK_TYPE__ACTOR_CREATION_TASK);
        a->ctor_task_id = t->task_id;
        a->ctor_parent = t->parent_id;
        a->ctor_job = t->job_id;
        st = mt__task_take_deps(t, args, nargs, &waits, err);
        if (st == MT_OK) st = mt__task_park(t, MANTA__TASK_KIND__TASK_ACTOR_CREATE, cls, args, nargs, err);
        if (st != MT_OK) {
            t->actor = NULL;
            mt__task_free(t);
        }
    }
    if (st != MT_OK) {
        if (a->name && a->starting) {
            mt_gcs_client *g;
            if (mt__drv_gcs(&g, NULL) == MT_OK) mt_gcs_remove_actor(g, a->actor_id, NULL);
        }
        actor_free(a);
        return st;
    }
    mt__drv.deps_changed = true; /* its arguments may be ready already: the next pump sends it on */
    if (!waits) mt__drv_release_waiting();
    *out = a;
    return MT_OK;
}

void mt__actor_fail_start(mt_actor *a, mt_status code, const char *msg)
{
    a->up = true; /* its waiting creation task reports the failure itself */
    set_dead(a, code, msg);
    a->starting = false;
    mt__drv.deps_changed = true; /* its waiting calls now fail */
}

/* The constructor's arguments are ready (spec in t): ask the node for a worker, async. */
void mt__actor_ctor_ready(mt__task *t)
{
    mt_actor *a = t->actor;
    mt__driver *d = &mt__drv;
    if (!a->dead) mt__tev_state(t, MANTA__TASK_STATE__TASK_PENDING_NODE_ASSIGNMENT); /* killed meanwhile: reported */
    a->ctor_attempt = t->attempt; /* actor_boot's task goes on with this attempt */
    mt_free(a->ctor_spec);
    a->ctor_spec = t->spec;
    a->ctor_len = t->spec_len;
    t->spec = NULL;
    t->actor = NULL;
    mt__task_free(t);
    if (a->dead) { /* killed while it waited */
        a->starting = false;
        return;
    }
    if (!mt_id_is_nil(a->pg_id)) { /* its bundle's node, asked directly */
        mt_error err;
        a->starting = false;
        d->deps_changed = true;
        if (lease_remote(a, NULL, NULL, &err) == MT_OK) {
            leased(a);
        } else {
            char msg[MT_ERROR_MSG_MAX];
            snprintf(msg, sizeof msg, "actor %.100s could not be placed: %.300s", a->class_name, err.msg);
            set_dead(a, err.code, msg);
        }
        return;
    }
    Manta__RequestLeaseRequest req;
    Manta__ResourceSet rs;
    Manta__ResourceSet__QuantitiesEntry ents[MT__MAX_RESOURCES], *ptrs[MT__MAX_RESOURCES];
    actor_lease_req(a, &req, &rs, ents, ptrs);
    uint8_t buf[4096];
    size_t n = protobuf_c_message_get_packed_size(&req.base);
    uint64_t id = 0;
    mt_error err;
    mt_status st = n <= sizeof buf && d->leases ? MT_OK : mt_error_set(&err, MT_EIO, "no node connection");
    if (st == MT_OK) {
        protobuf_c_message_pack(&req.base, buf);
        st = mt_rpc_client_send(d->leases, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, 0, buf, n, &id, &err);
    }
    if (st != MT_OK) {
        char msg[MT_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "actor %.100s could not be placed: %.300s", a->class_name, err.msg);
        set_dead(a, st, msg);
        a->starting = false;
        d->deps_changed = true;
        return;
    }
    a->lease_req = id ? id : 1;
    a->rc++; /* the request's hold: the reply finds the actor alive */
    a->next_starting = d->starting;
    d->starting = a;
    mt__drv_bg_kick();
}

/* Its worker is leased (lease fields set): boot it, or kill it if the actor died meanwhile. */
static void leased(mt_actor *a)
{
    char msg[MT_ERROR_MSG_MAX];
    mt_error err;
    if (a->dead) { /* killed while it waited for its worker */
        kill_worker(a, NULL);
    } else if (actor_boot(a, &err) != MT_OK) {
        snprintf(msg, sizeof msg, "actor %.100s could not start: %.300s", a->class_name, err.msg);
        kill_worker(a, NULL);
        set_dead(a, MT_EIO, msg);
        conn_drop(a, MT_EIO, msg);
    } else if (a->name) {
        register_name(a, NULL); /* now with its worker's address */
    }
}

bool mt__actor_lease_reply(const mt_rpc_msg *m)
{
    mt__driver *d = &mt__drv;
    mt_actor *a = NULL;
    for (mt_actor **pp = &d->starting; *pp; pp = &(*pp)->next_starting)
        if ((*pp)->lease_req == m->req_id) {
            a = *pp;
            *pp = a->next_starting;
            break;
        }
    if (!a) return false;
    a->lease_req = 0;
    a->starting = false;
    d->deps_changed = true; /* its calls wait for this */
    Manta__RequestLeaseReply *r = manta__request_lease_reply__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    char msg[MT_ERROR_MSG_MAX];
    mt_error err;
    int32_t status = m->status ? m->status : r ? r->status : MT_EIO;
    if (status == MT_EUNSUPPORTED && a->dead) {
        /* killed while it waited: no worker to lease anywhere */
    } else if (status == MT_EUNSUPPORTED) { /* not on this node: one that has it */
        if (lease_remote(a, NULL, NULL, &err) == MT_OK) {
            leased(a);
        } else {
            snprintf(msg, sizeof msg, "actor %.100s could not be placed: %.300s", a->class_name, err.msg);
            set_dead(a, err.code, msg);
        }
    } else if (status != 0 || !r) {
        snprintf(msg, sizeof msg, "actor %.100s could not be placed: %.300s", a->class_name,
                 r && r->message ? r->message : "bad lease reply");
        set_dead(a, status ? (mt_status)status : MT_EIO, msg);
    } else {
        take_lease_reply(a, r);
        leased(a);
    }
    if (r) manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
    mt__actor_unref(a); /* the request's hold (a released handle ends the actor here) */
    return true;
}

MT_API mt_status mt_actor_create(const char *class_name, const mt_arg *args, int nargs, const mt_actor_options *opts,
                                 mt_actor **out, mt_error *err)
{
    mt_actor_options none = {0};
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    if (st == MT_OK && (!class_name || !*class_name)) st = mt_error_set(err, MT_EINVAL, "mt_actor_create: no class name");
    if (st == MT_OK) st = create_locked(class_name, args, nargs, opts ? opts : &none, out, err);
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

MT_API mt_status mt_actor_lookup(const char *name, const char *ns, mt_actor **out, mt_error *err)
{
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    if (st == MT_OK && (!name || !*name)) st = mt_error_set(err, MT_EINVAL, "mt_actor_lookup: no name");
    if (st == MT_OK) st = lookup_locked(name, ns && *ns ? ns : mt__drv.ns, out, err);
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

MT_API mt_status mt_actor_call(mt_actor *a, const char *method, const mt_arg *args, int nargs, int num_returns,
                               mt_ref **refs_out, mt_error *err)
{
    int nrets = num_returns ? num_returns : 1;
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    if (st == MT_OK && (!a || !method || nrets < 0 || nrets > 1024))
        st = mt_error_set(err, MT_EINVAL, "mt_actor_call: bad actor, method or num_returns");
    for (int i = 0; st == MT_OK && i < nargs; i++)
        if (args[i].ref && args[i].ref->magic != MT__REF_MAGIC) st = mt_error_set(err, MT_EINVAL, "argument %d: not a ref", i);
    mt_id tid = mt__task_id_new();
    mt__task *t = NULL;
    char name[512];
    if (st == MT_OK) { /* "<class>.<method>" without printf: this is the per-call path */
        const char *cls = a->class_name ? a->class_name : "actor";
        size_t cn = strnlen(cls, 255), mn = strnlen(method, 255);
        memcpy(name, cls, cn);
        name[cn] = '.';
        memcpy(name + cn + 1, method, mn);
        name[cn + 1 + mn] = 0;
    }
    if (st == MT_OK && !(t = mt__task_new(name, nrets, refs_out, tid))) st = mt_error_set(err, MT_ENOMEM, "actor call");
    mt_ref *dep = NULL;
    bool waits = false;
    if (st == MT_OK) {
        t->actor = a;
        t->seq = mt__drv.next_seq++;
        mt__tev_init_task(t, MANTA__TASK_TYPE__ACTOR_TASK);
        st = mt__task_take_deps(t, args, nargs, &waits, err);
        waits = waits || a->nwaiting > 0 || a->starting; /* behind an earlier waiting call, or the start: order */
        if (st == MT_OK && waits)
            st = mt__task_park(t, MANTA__TASK_KIND__TASK_ACTOR_METHOD, method, args, nargs, err);
        else if (st == MT_OK)
            st = mt__encode_spec(method, MANTA__TASK_KIND__TASK_ACTOR_METHOD, tid, a->actor_id, args, nargs, nrets,
                                 t->seq, &t->spec, &t->spec_len, &dep, err);
        if (st != MT_OK) {
            for (int i = 0; i < nrets; i++) mt__ref_unref(refs_out[i]);
            t->actor = NULL;
            mt__task_free(t);
        }
    }
    if (st == MT_OK && !waits) {
        if (dep) mt__task_fail(t, dep->code, dep->msg);
        else mt__actor_send(t, true);
    }
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

void mt__actor_send(mt__task *t, bool may_pump)
{
    mt_actor *a = t->actor;
    {
        if (!a->conn)
            mt__task_fail(t, a->death_code ? a->death_code : MT_EIO, a->death_msg ? a->death_msg : "actor is not reachable");
        else if (mt__lease_push(a->conn, t, NULL) != MT_OK)
            mt__task_fail(t, MT_ENOMEM, "out of memory queueing an actor call");
        else if (a->conn->inflight.n == 1 || a->conn->s.out.len - a->conn->s.out.off > 65536) {
            /* Send now when the actor is idle or a batch is full; otherwise the
             * batch grows until then or until the next pump (every 256 calls,
             * or any get/wait), so bursts of calls cost one write per batch. */
            a->conn->frame_hdr = SIZE_MAX;
            mt_rpc_stream_flush(&a->conn->s, NULL);
        } else if (may_pump && (t->seq & 255) == 0) {
            mt__drv_pump(0, NULL);
        }
    }
}

/* Dead for good; one that never got its worker this time reports its creation task FAILED. */
static void set_dead(mt_actor *a, mt_status code, const char *msg)
{
    if (!a->dead && a->owner && !a->up) mt__tev_actor_start_failed(a, a->ctor_attempt, code, msg);
    a->dead = true;
    a->death_code = code;
    mt_free(a->death_msg);
    a->death_msg = mt_strdup(msg);
}

/* ---- Restarts ---------------------------------------------------------------
 * An actor whose worker died is started again while restarts are left: its
 * calls wait (a->starting) and the pump tries, without blocking on a node
 * that is gone. A node that does not answer is skipped on the next try only
 * (it may be back at that address; a busy node is no reason to skip it),
 * and a placement-group bundle it held moves once the control store lists
 * it dead (mt__pg_node_lost); tries go on every RESTART_RETRY_NS until
 * node_dead_after_ms + RESTART_GRACE_NS after the death, then the actor
 * is dead with both reasons.
 */
#define RESTART_RETRY_NS (250 * 1000000LL)
#define RESTART_GRACE_NS (5000 * 1000000LL)

static void restart_unlink(mt_actor *a)
{
    for (mt_actor **pp = &mt__drv.restarting; *pp; pp = &(*pp)->next_restarting)
        if (*pp == a) {
            *pp = a->next_restarting;
            break;
        }
    a->next_restarting = NULL;
    a->starting = false;
    a->restart_until_ns = 0;
    a->avoid[0] = 0;
    mt_free(a->restart_why);
    a->restart_why = NULL;
    mt__drv.deps_changed = true; /* its waiting calls go now, or fail */
}

/* Done restarting (started or dead): its calls go on, and the list's hold goes. */
static void restart_done(mt_actor *a)
{
    restart_unlink(a);
    mt__actor_unref(a);
}

static void restart_fail(mt_actor *a, const char *why)
{
    char msg[MT_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%.200s; restart failed: %.280s", a->restart_why ? a->restart_why : "actor died", why);
    MT_LOG(MT_LOG_WARN, "DRIVER-ACTOR-RESTART", "%s", msg);
    set_dead(a, MT_EIO, msg);
    restart_done(a);
}

static void restart_try(mt_actor *a, int64_t now)
{
    if (a->dead) { /* killed meanwhile */
        restart_done(a);
        return;
    }
    char tried[300] = "";
    bool unreachable = false;
    mt_error err;
    mt_status st = lease_actor_worker(a, tried, &unreachable, &err);
    a->avoid[0] = 0; /* skipped for one try */
    if (st == MT_OK && (st = actor_boot(a, &err)) != MT_OK) {
        kill_worker(a, NULL);
        conn_drop(a, MT_EIO, err.msg);
    }
    if (st == MT_OK) {
        MT_LOG(MT_LOG_INFO, "DRIVER-ACTOR-RESTART", "actor %s restarted (worker %d)", a->class_name, a->worker_pid);
        restart_unlink(a); /* started: registered as running, not pending */
        if (a->name) register_name(a, NULL);
        mt__actor_unref(a);
        return;
    }
    bool retry = (st == MT_EIO || st == MT_ETIMEOUT) && now < a->restart_until_ns;
    if (!retry) {
        restart_fail(a, err.msg);
        return;
    }
    a->restart_at_ns = mt_time_now_ns() + RESTART_RETRY_NS; /* after the try, which may have waited seconds */
    if (!tried[0] || !unreachable) return; /* busy, or nowhere to go yet: asked again */
    if (mt_id_is_nil(a->pg_id)) {
        snprintf(a->avoid, sizeof a->avoid, "%s", tried); /* another node, next time */
    } else {
        mt_error e;
        mt_status moved = mt__pg_node_lost(a->pg_id, tried, &e);
        if (moved == MT_OK) a->restart_at_ns = now; /* its bundle is elsewhere now: ask there */
        else if (moved != MT_ETIMEOUT) restart_fail(a, e.msg);
    }
}

void mt__actors_restart_due(int64_t *next_ns)
{
    int64_t now = mt_time_now_ns();
    for (int pass = 0; pass < 2; pass++) /* a moved bundle is asked again at once */
        for (mt_actor *a = mt__drv.restarting, *next; a; a = next) {
            next = a->next_restarting;
            if (a->restart_at_ns <= now) restart_try(a, now);
        }
    for (mt_actor *a = mt__drv.restarting; a && next_ns; a = a->next_restarting)
        if (a->restart_at_ns < *next_ns) *next_ns = a->restart_at_ns;
}

static void restart_begin(mt_actor *a, const char *why)
{
    int64_t now = mt_time_now_ns();
    a->up = false;
    a->starting = true; /* calls made meanwhile wait for it */
    a->restart_at_ns = now;
    a->restart_until_ns = now + MT_CFG_INT64(node_dead_after_ms) * 1000000LL + RESTART_GRACE_NS;
    a->avoid[0] = 0;
    mt_free(a->restart_why);
    a->restart_why = mt_strdup(why);
    a->rc++; /* the list's hold */
    a->next_restarting = mt__drv.restarting;
    mt__drv.restarting = a;
    mt__drv_bg_kick();
}

/* Restarts still waiting when the driver stops or loses its node. */
static void restarting_fail(mt_status code, const char *msg)
{
    while (mt__drv.restarting) {
        mt_actor *a = mt__drv.restarting;
        set_dead(a, code, msg);
        restart_done(a);
    }
}

void mt__actor_conn_lost(mt_actor *a)
{
    char why[64] = "", msg[MT_ERROR_MSG_MAX], hex[2 * MT_ID_SIZE + 1];
    int sig = a->owner ? mt__drv_died_signal(a->worker_id) : 0; /* actor leases are held on the blocking node connection, which skips notices */
    if (sig > 0) snprintf(why, sizeof why, " (signal %d)", sig);
    mt_id_hex(a->actor_id, hex);
    snprintf(msg, sizeof msg, "actor %s %.12s died: worker %d exited%s", a->class_name ? a->class_name : "?", hex,
             a->worker_pid, why);
    conn_drop(a, MT_EIO, msg);
    if (a->dead || !a->owner || a->restarts_left == 0) {
        if (!a->dead) set_dead(a, MT_EIO, msg);
        return;
    }
    if (a->restarts_left > 0) a->restarts_left--;
    MT_LOG(MT_LOG_INFO, "DRIVER-ACTOR-RESTART", "%s", msg);
    restart_begin(a, msg);
}

MT_API mt_status mt_actor_kill(mt_actor *a, bool no_restart, mt_error *err)
{
    if (!a) return mt_error_set(err, MT_EINVAL, "mt_actor_kill: NULL actor");
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    if (st == MT_OK && no_restart) {
        char msg[MT_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "actor %s was killed", a->class_name ? a->class_name : "?");
        set_dead(a, MT_EIO, msg);
        mt_gcs_client *g;
        if (a->name && mt__drv_gcs(&g, NULL) == MT_OK) mt_gcs_remove_actor(g, a->actor_id, NULL);
    }
    /* Not started (waiting for its constructor's arguments, a worker, or a restart):
     * nothing runs yet; a worker granted later is killed when it comes (leased). */
    if (st == MT_OK && a->conn) st = kill_worker(a, err);
    if (st == MT_OK && no_restart) conn_drop(a, MT_EIO, a->death_msg);
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

MT_API mt_id mt_actor_id(const mt_actor *a) { return a ? a->actor_id : mt_id_nil(); }

/* "MTAH" + a packed ActorInfo (gcs.proto): the handle of another process. */
static const char HANDLE_MAGIC[4] = {'M', 'T', 'A', 'H'};

MT_API mt_status mt_actor_to_bytes(mt_actor *a, void *buf, size_t cap, size_t *len_out, mt_error *err)
{
    if (!a || !buf || !len_out) return mt_error_set(err, MT_EINVAL, "mt_actor_to_bytes: NULL argument");
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    while (st == MT_OK && a->starting) st = mt__drv_pump(-1, err); /* a handle names its worker */
    if (st != MT_OK) {
        pthread_mutex_unlock(&mt__drv.lock);
        return st;
    }
    Manta__ActorInfo info = MANTA__ACTOR_INFO__INIT;
    info.actor_id.data = (uint8_t *)a->actor_id.bytes;
    info.actor_id.len = MT_ID_SIZE;
    info.worker_id.data = (uint8_t *)a->worker_id.bytes;
    info.worker_id.len = MT_ID_SIZE;
    info.worker_address = (char *)a->worker_address;
    info.class_name = a->class_name ? a->class_name : "";
    info.name = a->name ? a->name : "";
    info.namespace_ = a->ns ? a->ns : "";
    size_t n = protobuf_c_message_get_packed_size(&info.base);
    if (a->dead || !a->worker_address[0])
        st = mt_error_set(err, MT_ESTATE, "mt_actor_to_bytes: actor %s is dead", a->class_name ? a->class_name : "?");
    else if (n + sizeof HANDLE_MAGIC > cap)
        st = mt_error_set(err, MT_ERANGE, "mt_actor_to_bytes: needs %zu bytes, buffer holds %zu", n + 4, cap);
    if (st == MT_OK) {
        memcpy(buf, HANDLE_MAGIC, sizeof HANDLE_MAGIC);
        protobuf_c_message_pack(&info.base, (uint8_t *)buf + sizeof HANDLE_MAGIC);
        *len_out = n + sizeof HANDLE_MAGIC;
    }
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

MT_API mt_status mt_actor_from_bytes(const void *data, size_t len, mt_actor **out, mt_error *err)
{
    *out = NULL;
    if (!data || len < sizeof HANDLE_MAGIC || memcmp(data, HANDLE_MAGIC, sizeof HANDLE_MAGIC))
        return mt_error_set(err, MT_EPARSE, "mt_actor_from_bytes: %zu bytes are not an actor handle", len);
    Manta__ActorInfo *info = manta__actor_info__unpack(&mt_rpc_pb_allocator, len - sizeof HANDLE_MAGIC,
                                                       (const uint8_t *)data + sizeof HANDLE_MAGIC);
    if (!info || info->actor_id.len != MT_ID_SIZE || info->worker_id.len != MT_ID_SIZE || !info->worker_address ||
        !*info->worker_address) {
        if (info) manta__actor_info__free_unpacked(info, &mt_rpc_pb_allocator);
        return mt_error_set(err, MT_EPARSE, "mt_actor_from_bytes: a malformed actor handle");
    }
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    mt_actor *a = st == MT_OK ? mt_calloc(1, sizeof *a) : NULL;
    if (st == MT_OK && !a) st = mt_error_set(err, MT_ENOMEM, "actor handle");
    if (st == MT_OK) {
        a->rc = 1;
        memcpy(a->actor_id.bytes, info->actor_id.data, MT_ID_SIZE);
        memcpy(a->worker_id.bytes, info->worker_id.data, MT_ID_SIZE);
        snprintf(a->worker_address, sizeof a->worker_address, "%s", info->worker_address);
        a->class_name = mt_strdup(info->class_name ? info->class_name : "");
        a->name = info->name && *info->name ? mt_strdup(info->name) : NULL;
        a->ns = mt_strdup(info->namespace_ ? info->namespace_ : "");
        st = connect_handle(a, err);
        if (st != MT_OK) mt_error_prefix(err, "actor %s", info->class_name ? info->class_name : "?");
    }
    if (st != MT_OK && a) actor_free(a);
    else if (st == MT_OK) *out = a;
    pthread_mutex_unlock(&mt__drv.lock);
    manta__actor_info__free_unpacked(info, &mt_rpc_pb_allocator);
    return st;
}

MT_API void mt_actor_release(mt_actor *a)
{
    if (!a) return;
    pthread_mutex_lock(&mt__drv.lock);
    mt__actor_unref(a);
    pthread_mutex_unlock(&mt__drv.lock);
}

void mt__actor_unref(mt_actor *a)
{
    if (--a->rc <= 0) {
        if (a->owner && !a->dead && !a->detached && mt__drv.inited) {
            mt_gcs_client *g;
            if (a->name && mt__drv_gcs(&g, NULL) == MT_OK) mt_gcs_remove_actor(g, a->actor_id, NULL);
            if (a->conn) kill_worker(a, NULL);
        }
        actor_free(a);
    }
}

void mt__actors_node_lost(const char *msg)
{
    starting_fail(MT_EIO, msg);
    restarting_fail(MT_EIO, msg);
    while (mt__drv.actors) {
        mt_actor *a = mt__drv.actors;
        set_dead(a, MT_EIO, msg);
        conn_drop(a, MT_EIO, msg); /* unlinks it from the live list */
    }
}

/* Actors still waiting for a worker when the driver stops or loses its node. */
static void starting_fail(mt_status code, const char *msg)
{
    while (mt__drv.starting) {
        mt_actor *a = mt__drv.starting;
        mt__drv.starting = a->next_starting;
        a->lease_req = 0;
        a->starting = false;
        set_dead(a, code, msg);
        mt__actor_unref(a);
    }
}

void mt__actors_fini(void)
{
    starting_fail(MT_ECANCELLED, "manta was shut down");
    restarting_fail(MT_ECANCELLED, "manta was shut down");
    while (mt__drv.actors) {
        mt_actor *a = mt__drv.actors;
        if (a->owner && !a->dead && !a->detached && mt__drv.node) {
            mt_gcs_client *g;
            if (a->name && mt__drv_gcs(&g, NULL) == MT_OK) mt_gcs_remove_actor(g, a->actor_id, NULL); /* the name goes with it */
            kill_worker(a, NULL);
        }
        set_dead(a, MT_ECANCELLED, "manta was shut down");
        conn_drop(a, MT_ECANCELLED, "manta was shut down");
    }
}
