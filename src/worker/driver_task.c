/*
 * driver_task.c — task submission on the driver: packing task specs once
 * (kept for retries), leasing workers from the node daemon per resource
 * shape (async requests on a dedicated connection), pushing batches of
 * specs straight to leased workers' unix sockets, and the pump that reads
 * results, retries tasks of dead workers and returns idle leases.
 *
 * Threads: under mt__drv.lock (callers hold it). Invariants: a task is in
 * exactly one queue (its shape's pending queue or one connection's
 * in-flight FIFO) until it completes; results on a connection arrive in
 * push order; a lease has at most PIPELINE tasks in flight.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "gcs/gcs_client.h"
#include "proto/common.pb-c.h"
#include "proto/gcs.pb-c.h"
#include "proto/node.pb-c.h"
#include "worker/worker_int.h"

#define PIPELINE 256          /* tasks in flight per leased worker */
#define LEASE_IDLE_NS 100000000LL /* return a task lease idle this long */
#define SPILL_BACKOFF_NS 200000000LL
#define GROUP_LOST_RETRY_NS 250000000LL /* a bundle's node did not answer: ask the control store again after this */
#define GROUP_RETRY_NS 20000000LL /* a busy bundle is asked again after this */ /* after a spilled request found no room, queue here this long */
#define DYING_WAIT_NS 500000000LL /* wait this long for a dead worker's notice before failing its tasks */

/* ---- Queues and task records ------------------------------------------------ */

static void q_push(mt__taskq *q, mt__task *t)
{
    t->next = NULL;
    if (q->tail) q->tail->next = t;
    else q->head = t;
    q->tail = t;
    q->n++;
}

static void q_push_front(mt__taskq *q, mt__task *t)
{
    t->next = q->head;
    q->head = t;
    if (!q->tail) q->tail = t;
    q->n++;
}

static mt__task *q_pop(mt__taskq *q)
{
    mt__task *t = q->head;
    if (!t) return NULL;
    q->head = t->next;
    if (!q->head) q->tail = NULL;
    q->n--;
    t->next = NULL;
    return t;
}

mt__task *mt__task_new(const char *fn, int nrets, mt_ref **refs_out, mt_id task_id)
{
    mt__task *t = mt_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->task_id = task_id;
    t->fn_name = mt_strdup(fn);
    t->nrets = nrets;
    t->rets = nrets == 1 ? t->ret1 : mt_calloc((size_t)nrets, sizeof *t->rets);
    if (!t->fn_name || !t->rets) {
        mt__task_free(t);
        return NULL;
    }
    for (int i = 0; i < nrets; i++) {
        t->rets[i] = mt__ref_new(mt__task_return_id(task_id, (uint32_t)i), true);
        if (!t->rets[i]) {
            mt__task_free(t);
            return NULL;
        }
    }
    for (int i = 0; i < nrets; i++) {
        t->rets[i]->rc++;
        refs_out[i] = t->rets[i];
    }
    return t;
}

void mt__task_free(mt__task *t)
{
    if (!t) return;
    for (int i = 0; t->rets && i < t->nrets; i++) mt__ref_unref(t->rets[i]);
    if (t->rets != t->ret1) mt_free(t->rets);
    for (int i = 0; i < t->ndeps; i++) mt__ref_unref(t->deps[i]);
    mt_free(t->deps);
    mt_free(t->wargs);
    mt_free(t->spec_fn);
    mt_free(t->spec);
    mt_free(t->fn_name);
    mt_free(t);
    mt__drv.deps_changed = true; /* a waiting task may have been waiting for this one */
}

void mt__lineage_unref(mt__lineage *l)
{
    if (!l || --l->rc > 0) return;
    mt__drv.lineage_bytes -= (int64_t)l->spec_len;
    for (int i = 0; i < l->ndeps; i++) mt__ref_unref(l->deps[i]);
    mt_free(l->deps);
    mt_free(l->spec);
    mt_free(l->fn_name);
    mt_free(l);
}

/* A finished normal task with stored results keeps its spec and inputs as their (shared) lineage. */
static void keep_lineage(mt__task *t)
{
    int stored = 0;
    for (int i = 0; i < t->nrets; i++) {
        if (t->rets[i]->lineage) return; /* a rebuild: the results keep the lineage they had */
        stored += t->rets[i]->in_store;
    }
    if (!stored || !t->shape || !t->spec || t->retries_left == 0 || t->cancelled) return;
    if (mt__drv.lineage_bytes + (int64_t)t->spec_len > MT_CFG_INT64(max_lineage_bytes)) return;
    mt__lineage *l = mt_calloc(1, sizeof *l);
    char *fn = l ? mt_strdup(t->fn_name) : NULL;
    if (!fn) {
        mt_free(l);
        return; /* out of memory: the result just cannot be rebuilt */
    }
    *l = (mt__lineage){.rc = stored, .nrets = t->nrets, .spec = t->spec, .spec_len = t->spec_len, .fn_name = fn, .shape = t->shape,
                       .retries_left = t->retries_left, .deps = t->deps, .ndeps = t->ndeps, .task_id = t->task_id, .seq = t->seq,
                       .attempt = t->attempt, .job_id = t->job_id, .parent_id = t->parent_id};
    t->spec = NULL;
    t->deps = NULL;
    t->ndeps = 0;
    mt__drv.lineage_bytes += (int64_t)l->spec_len;
    for (int i = 0; i < t->nrets; i++)
        if (t->rets[i]->in_store) t->rets[i]->lineage = l;
}

/* The spec of a rebuild of return `keep` only: the original plus skip_returns for every other return. */
static uint8_t *rebuild_spec(const mt__lineage *l, int keep, size_t *len_out)
{
    uint8_t *spec = mt_malloc(l->spec_len + (size_t)l->nrets * 6);
    if (!spec) return NULL;
    memcpy(spec, l->spec, l->spec_len);
    size_t n = l->spec_len;
    for (int i = 0; i < l->nrets; i++) {
        if (i == keep) continue;
        spec[n++] = (9 << 3) | 0; /* field 9 (skip_returns), varint */
        for (uint32_t v = (uint32_t)i; ; v >>= 7) {
            spec[n++] = (uint8_t)(v >= 0x80 ? (v & 0x7f) | 0x80 : v);
            if (v < 0x80) break;
        }
    }
    *len_out = n;
    return spec;
}

void mt__task_fail_as(mt__task *t, mt_status code, const char *msg, const char *error_type)
{
    mt__tev_failed(t, error_type, msg);
    for (int i = 0; i < t->nrets; i++)
        if (t->rets[i]->state == MT__OBJ_PENDING) mt__ref_fail(t->rets[i], code, msg);
    mt__task_free(t);
}

void mt__task_fail(mt__task *t, mt_status code, const char *msg)
{
    mt__task_fail_as(t, code, msg, mt__tev_error_type(t, code));
}

/* ---- Specs -------------------------------------------------------------------- */

mt_status mt__encode_spec(const char *fn, Manta__TaskKind kind, mt_id task_id, mt_id actor_id,
                          const mt_arg *args, int nargs, int nrets, uint64_t seq,
                          uint8_t **spec_out, size_t *len_out, mt_ref **failed_dep, mt_error *err)
{
    Manta__TaskSpec spec = MANTA__TASK_SPEC__INIT;
    Manta__TaskArg av[8], *ap[8], *avs = av, **aps = ap;
    *failed_dep = NULL;
    if (nargs > 8) {
        avs = mt_malloc(sizeof *avs * (size_t)nargs);
        aps = mt_malloc(sizeof *aps * (size_t)nargs);
    }
    mt_status st = (avs && aps) ? MT_OK : mt_error_set(err, MT_ENOMEM, "task arguments");
    uint8_t *borrowed[8] = {0}, **bw = borrowed; /* encoded refs for MT_ARG_BORROW, freed after packing */
    if (st == MT_OK && nargs > 8 && !(bw = mt_calloc((size_t)nargs, sizeof *bw)))
        st = mt_error_set(err, MT_ENOMEM, "task arguments");
    for (int i = 0; st == MT_OK && i < nargs; i++) {
        manta__task_arg__init(&avs[i]);
        aps[i] = &avs[i];
        mt_ref *r = args[i].ref;
        if (!r) {
            avs[i].data.data = (uint8_t *)args[i].data;
            avs[i].data.len = args[i].size;
        } else if (r->state == MT__OBJ_FAILED) {
            *failed_dep = r;
        } else if (args[i].borrow) { /* the ref itself, as bytes */
            size_t n = mt__ref_encoded_size(r);
            if (!(bw[i] = mt_malloc(n))) {
                st = mt_error_set(err, MT_ENOMEM, "task argument %d", i);
                break;
            }
            mt__ref_encode(r, bw[i]);
            avs[i].data.data = bw[i];
            avs[i].data.len = n;
        } else if (r->in_store) {
            avs[i].in_store = true;
            avs[i].object_id.data = r->id.bytes;
            avs[i].object_id.len = MT_ID_SIZE;
            /* where it lives, for a worker on another node to copy it from */
            avs[i].location = r->loc_addr ? r->loc_addr : r->owner_addr ? r->owner_addr : mt__drv.node_address;
        } else {
            avs[i].data.data = r->data;
            avs[i].data.len = r->size;
        }
    }
    spec.seq = seq;
    spec.function = (char *)fn;
    spec.n_args = (size_t)nargs;
    spec.args = aps;
    spec.num_returns = (uint32_t)nrets;
    spec.code_path = mt__drv.code_path;
    spec.task_id.data = task_id.bytes;
    spec.task_id.len = MT_ID_SIZE;
    spec.kind = kind;
    spec.job_id = mt__drv.cur_job ? mt__drv.cur_job : mt__drv.job_id;
    if (!mt_id_is_nil(actor_id)) {
        spec.actor_id.data = actor_id.bytes;
        spec.actor_id.len = MT_ID_SIZE;
    }
    if (st == MT_OK) {
        size_t n = protobuf_c_message_get_packed_size(&spec.base);
        *spec_out = mt_malloc(n ? n : 1);
        if (!*spec_out) st = mt_error_set(err, MT_ENOMEM, "task spec of %zu bytes", n);
        else *len_out = protobuf_c_message_pack(&spec.base, *spec_out);
    }
    for (int i = 0; bw && i < (bw == borrowed ? 8 : nargs); i++) mt_free(bw[i]);
    if (bw != borrowed) mt_free(bw);
    if (avs != av) mt_free(avs);
    if (aps != ap) mt_free(aps);
    return st;
}

/* ---- Connections to workers ------------------------------------------------------ */

mt_status mt__lease_connect(mt__lease *l, const char *address, mt_error *err)
{
    l->frame_hdr = SIZE_MAX;
    return mt_rpc_stream_connect(&l->s, address, mt__drv.token, "driver", mt__drv.driver_id, err);
}

void mt__lease_close(mt__lease *l)
{
    mt_rpc_stream_close(&l->s);
}

mt_status mt__lease_push(mt__lease *l, mt__task *t, mt_error *err)
{
    if (l->frame_hdr == SIZE_MAX)
        MT_RETURN_NOT_OK(mt_rpc_buf_begin_frame(&l->s.out, MANTA__WORKER_METHOD__WORKER_PUSH_TASKS, MT_RPC_FLAG_ONEWAY,
                                              0, 0, &l->frame_hdr, err));
    MT_RETURN_NOT_OK(mt_rpc_buf_append_bytes(&l->s.out, 1, t->spec, t->spec_len, err));
    mt_rpc_buf_patch_len(&l->s.out, l->frame_hdr);
    q_push(&l->inflight, t);
    t->tev_running = l->inflight.n == 1;
    mt__tev_on_worker(t, l, t->tev_running ? MANTA__TASK_STATE__TASK_RUNNING : MANTA__TASK_STATE__TASK_SUBMITTED_TO_WORKER);
    return MT_OK;
}

static void lease_flush(mt__lease *l)
{
    l->frame_hdr = SIZE_MAX;
    mt_rpc_stream_flush(&l->s, NULL);
}

/* ---- Shapes and leases ------------------------------------------------------------ */

static mt_status copy_resources(const mt_resource *res, int n, mt_resource **out, char ***names, int *nout,
                                mt_error *err)
{
    *out = mt_calloc((size_t)n + 1, sizeof **out);
    *names = mt_calloc((size_t)n + 1, sizeof **names);
    if (!*out || !*names) return mt_error_set(err, MT_ENOMEM, "resources");
    for (int i = 0; i < n; i++) {
        if (!res[i].name || !*res[i].name || !(res[i].quantity >= 0))
            return mt_error_set(err, MT_EINVAL, "resource %d: needs a name and a quantity >= 0", i);
        if (!((*names)[i] = mt_strdup(res[i].name))) return mt_error_set(err, MT_ENOMEM, "resources");
        (*out)[i] = (mt_resource){(*names)[i], res[i].quantity};
    }
    *nout = n;
    return MT_OK;
}

static void free_resources(mt_resource *res, char **names, int n)
{
    for (int i = 0; names && i < n; i++) mt_free(names[i]);
    mt_free(names);
    mt_free(res);
}

/* True when shape s was made for exactly this demand (same names, same quantities, same order). */
static bool shape_is(const mt__shape *s, const mt_resource *res, int n, mt_id pg, int bundle, bool spread)
{
    if (s->nres != n || !mt_id_equal(s->pg_id, pg) || s->bundle != bundle || s->spread != spread) return false;
    for (int i = 0; i < n; i++)
        if (s->res[i].quantity != res[i].quantity || !res[i].name || strcmp(s->res[i].name, res[i].name)) return false;
    return true;
}

/*
 * Leases a shape may hold: as many as the cluster's CPUs fit (busy nodes
 * spill requests to nodes with room), 1..64; a shape only another node can
 * run keeps the cap remote_grant gave it.
 */
static void set_cap(mt__shape *s)
{
    double cpu = 0;
    for (int i = 0; i < s->nres; i++)
        if (!strcmp(s->res[i].name, "CPU")) cpu = s->res[i].quantity;
    if (!mt_id_is_nil(s->pg_id)) { /* what its bundle (or the group's bundles on that node) hold */
        double have = mt__pg_cpus_for(s->pg_id, s->bundle);
        s->max_leases = cpu > 0 ? (int)(have / cpu + 1e-9) : 4;
    } else if (s->remote_only) {
        return;
    } else {
        s->max_leases = cpu > 0 ? (int)(mt__drv_cluster_cpus() / cpu) : 4;
    }
    if (s->max_leases < 1) s->max_leases = 1;
    if (s->max_leases > 64) s->max_leases = 64;
}

/* The shape of a demand (NULL = {CPU: 1}); the key is only its text for messages. */
static mt__shape *shape_get(const mt_resource *res, int n, mt_id pg, int bundle, bool spread, mt_error *err)
{
    static const mt_resource cpu1 = {"CPU", 1};
    if (!res) {
        res = &cpu1;
        n = 1;
    }
    if (n < 0 || n > MT__MAX_RESOURCES) {
        mt_error_set(err, MT_EINVAL, "%d resources in one demand; at most %d are supported", n, MT__MAX_RESOURCES);
        return NULL;
    }
    for (mt__shape *s = mt__drv.shapes; s; s = s->next)
        if (shape_is(s, res, n, pg, bundle, spread)) return s;
    char key[512] = "";
    size_t k = 0;
    for (int i = 0; i < n && k < sizeof key - 96; i++)
        k += (size_t)snprintf(key + k, sizeof key - k, "%s%.60s: %.17g", i ? ", " : "", res[i].name ? res[i].name : "",
                              res[i].quantity);
    if (!mt_id_is_nil(pg)) {
        char hex[2 * MT_ID_SIZE + 1];
        mt_id_hex(pg, hex);
        snprintf(key + k, sizeof key - k, "} in placement group %.12s bundle %d{", hex, bundle);
    } else if (spread) {
        snprintf(key + k, sizeof key - k, "} SPREAD{");
    }
    mt__shape *s = mt_calloc(1, sizeof *s);
    if (!s) {
        mt_error_set(err, MT_ENOMEM, "shape");
        return NULL;
    }
    if (copy_resources(res, n, &s->res, &s->res_names, &s->nres, err) != MT_OK) {
        free_resources(s->res, s->res_names, s->nres);
        mt_free(s);
        return NULL;
    }
    snprintf(s->key, sizeof s->key, "%s", key);
    s->pg_id = pg;
    s->bundle = bundle;
    s->spread = spread;
    set_cap(s);
    s->next = mt__drv.shapes;
    mt__drv.shapes = s;
    return s;
}

/* Fills a RequestLeaseRequest (entries/pointers point into `ents`/`ptrs`; n <= MT__MAX_RESOURCES, checked by shape_get). */
static void lease_request_fill(Manta__RequestLeaseRequest *req, Manta__ResourceSet *rs,
                               Manta__ResourceSet__QuantitiesEntry *ents, Manta__ResourceSet__QuantitiesEntry **ptrs,
                               const mt_resource *res, int n)
{
    manta__resource_set__init(rs);
    for (int i = 0; i < n; i++) {
        manta__resource_set__quantities_entry__init(&ents[i]);
        ents[i].key = (char *)res[i].name;
        ents[i].value = res[i].quantity;
        ptrs[i] = &ents[i];
    }
    rs->n_quantities = (size_t)n;
    rs->quantities = ptrs;
    req->resources = rs;
    req->code_path = mt__drv.code_path;
}

static void request_in_group(mt__shape *s);
static bool request_spread(mt__shape *s);

static void request_lease(mt__shape *s)
{
    mt__driver *d = &mt__drv;
    if (!mt_id_is_nil(s->pg_id) && s->nleases < s->max_leases) {
        request_in_group(s);
        return;
    }
    if (s->spread && s->nleases < s->max_leases && !d->lease_req_id && request_spread(s)) return;
    if (d->lease_req_id || s->nleases >= s->max_leases) return;
    Manta__RequestLeaseRequest req = MANTA__REQUEST_LEASE_REQUEST__INIT;
    Manta__ResourceSet rs;
    Manta__ResourceSet__QuantitiesEntry ents[MT__MAX_RESOURCES], *ptrs[MT__MAX_RESOURCES];
    lease_request_fill(&req, &rs, ents, ptrs, s->res, s->nres);
    req.allow_spillback = mt_time_now_ns() >= s->spill_off_until_ns;
    uint8_t buf[2048];
    size_t n = protobuf_c_message_get_packed_size(&req.base);
    if (n > sizeof buf) return;
    protobuf_c_message_pack(&req.base, buf);
    uint64_t id = 0;
    if (mt_rpc_client_send(d->leases, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, 0, buf, n, &id, NULL) != MT_OK) return;
    d->lease_req_id = id ? id : 1;
    d->lease_req_shape = s;
    s->requesting = true;
    mt__drv_bg_kick(); /* the grant may arrive while the application is elsewhere */
}

static void return_lease(const mt__lease *l, bool dirty)
{
    Manta__ReturnLeaseRequest req = MANTA__RETURN_LEASE_REQUEST__INIT;
    mt_id lease_id = l->lease_id;
    req.lease_id.data = lease_id.bytes;
    req.lease_id.len = MT_ID_SIZE;
    req.worker_dirty = dirty;
    uint8_t buf[128];
    size_t n = protobuf_c_message_pack(&req.base, buf);
    uint64_t id;
    mt_rpc_client_send(l->node ? l->node : mt__drv.leases, MANTA__NODE_METHOD__NODE_RETURN_LEASE, 0, buf, n, &id, NULL);
}

static void shape_unlink(mt__shape *s, mt__lease *l)
{
    for (mt__lease **pp = &s->leases; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            s->nleases--;
            return;
        }
}

/* Whether the task has a stored argument, and where the first lives (*home NULL: this node). */
static bool task_home(const mt__task *t, const char **home)
{
    for (int i = 0; i < t->ndeps; i++) {
        const mt_ref *r = t->deps[i];
        if (r && r->in_store) {
            *home = r->owned ? r->loc_addr : r->owner_addr;
            return true;
        }
    }
    return false;
}

/* Whether node addresses a and b (NULL or this node's own: this node) are one node. */
static bool same_node(const char *a, const char *b)
{
    const char *self = mt__drv.node_address;
    if (a && self && !strcmp(a, self)) a = NULL;
    if (b && self && !strcmp(b, self)) b = NULL;
    return a == b || (a && b && !strcmp(a, b));
}

static void dispatch(mt__shape *s)
{
    if (s->pending.n && s->nleases >= s->max_leases) set_cap(s); /* a node may have joined */
    /* Queue behind a busy worker only once no more workers can be leased:
     * until then a waiting task gets a worker of its own (as in Ray). */
    int cap = s->nleases >= s->max_leases ? mt__drv.pipeline : 1;
    while (s->pending.n) {
        /* a lease on the node that holds the task's stored argument (moving it costs more than
         * waiting behind a task there), else the least loaded */
        const char *home = NULL;
        bool has_home = task_home(s->pending.head, &home);
        mt__lease *best = NULL;
        for (mt__lease *l = s->leases; l; l = l->next) {
            if (l->inflight.n >= cap) continue;
            bool at_home = has_home && same_node(l->node_addr, home);
            bool best_home = best && has_home && same_node(best->node_addr, home);
            if (!best || (at_home && !best_home) || (at_home == best_home && l->inflight.n < best->inflight.n)) best = l;
        }
        if (!best) break;
        mt__task *t = q_pop(&s->pending);
        if (mt__lease_push(best, t, NULL) != MT_OK) {
            mt__task_fail(t, MT_ENOMEM, "out of memory queueing a task");
            continue;
        }
        if (best->inflight.n == 1) lease_flush(best); /* an idle worker starts at once */
    }
    int inflight = 0;
    for (mt__lease *l = s->leases; l; l = l->next) {
        if (l->s.out.off < l->s.out.len || l->frame_hdr != SIZE_MAX) lease_flush(l);
        inflight += l->inflight.n;
    }
    if ((s->pending.n || inflight > s->nleases) && !s->requesting) request_lease(s);
}

/* ---- Results --------------------------------------------------------------------- */

static void fail_cancelled(mt__task *t)
{
    char msg[300];
    snprintf(msg, sizeof msg, "task %.200s was cancelled", t->fn_name);
    mt__task_fail(t, MT_ECANCELLED, msg);
}

/*
 * A task failed because an argument was lost from the store (r->lost_object_id):
 * when that argument is a result this driver owns and can rebuild (lineage),
 * rebuild it and let the task wait for it again, as one of its retries.
 */
static bool retry_after_lost_arg(mt__task *t, const Manta__TaskResult *r)
{
    if (r->status != MT_ENOTFOUND || r->lost_object_id.len != MT_ID_SIZE || t->actor || t->retries_left == 0 ||
        !t->spec)
        return false;
    mt_ref *dep = NULL;
    for (int i = 0; i < t->ndeps && !dep; i++)
        if (!memcmp(t->deps[i]->id.bytes, r->lost_object_id.data, MT_ID_SIZE)) dep = t->deps[i];
    if (!dep || !dep->owned) return false;
    if (dep->state != MT__OBJ_PENDING) { /* not already being rebuilt for another task */
        mt_error err;
        if (!dep->lineage || !dep->in_store || mt__task_rebuild(dep, &err) != MT_OK) return false;
    }
    if (t->retries_left > 0) t->retries_left--;
    mt__tev_retry(t, "OBJECT_LOST", r->message, MANTA__TASK_STATE__TASK_PENDING_ARGS_AVAIL);
    mt__task_wait_again(t);
    return true;
}

static void complete_task(mt__task *t, const Manta__TaskResult *r)
{
    if (t->cancelled) { /* ran on, but its result is dropped */
        for (size_t i = 0; i < r->n_returns && i < (size_t)t->nrets; i++)
            if (r->returns[i]->in_store) /* nobody will read it: delete it now */
                mt__drv_delete_stored(t->rets[i]->id, t->ran_on);
        fail_cancelled(t);
        return;
    }
    if (r->status == MT_OK) {
        for (int i = 0; i < t->nrets; i++) {
            mt_ref *ref = t->rets[i];
            const Manta__ReturnValue *rv = (size_t)i < r->n_returns ? r->returns[i] : NULL;
            if (rv && rv->in_store) {
                ref->in_store = true;
                mt_free(ref->loc_addr);
                ref->loc_addr = t->ran_on ? mt_strdup(t->ran_on) : NULL; /* made on another node: read from there */
                ref->size = (size_t)rv->size;
                ref->state = MT__OBJ_READY;
            } else {
                mt__ref_set_inline(ref, rv ? rv->data.data : NULL, rv ? rv->data.len : 0);
            }
        }
        mt__tev_finished(t);
        keep_lineage(t);
        mt__task_free(t);
        return;
    }
    if (retry_after_lost_arg(t, r)) return;
    char msg[MT_ERROR_MSG_MAX];
    if (r->system_error) {
        snprintf(msg, sizeof msg, "%s", r->message);
    } else {
        char hex[2 * MT_ID_SIZE + 1] = "?";
        if (r->node_id.len == MT_ID_SIZE) {
            mt_id nid;
            memcpy(nid.bytes, r->node_id.data, MT_ID_SIZE);
            mt_id_hex(nid, hex);
        }
        snprintf(msg, sizeof msg, "task %s failed on node %.12s worker %d: %s", t->fn_name, hex, r->worker_pid, r->message);
    }
    if (r->system_error) mt__task_fail(t, (mt_status)r->status, msg);
    else mt__task_fail_as(t, (mt_status)r->status, msg, "TASK_EXECUTION_EXCEPTION");
}

/* Handles a result frame; false on a protocol violation (drop the connection). */
static bool handle_results(mt__lease *l, const mt_rpc_msg *m)
{
    if (m->method != MANTA__WORKER_METHOD__WORKER_TASK_RESULTS) return false;
    Manta__ResultBatch *b = manta__result_batch__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!b) return false;
    bool ok = true;
    for (size_t i = 0; i < b->n_results && ok; i++) {
        mt__task *t = q_pop(&l->inflight);
        if (!t || t->seq != b->results[i]->seq) {
            MT_LOG(MT_LOG_ERROR, "DRIVER-PROTOCOL", "result seq %llu out of order",
                   (unsigned long long)b->results[i]->seq);
            if (t) q_push_front(&l->inflight, t);
            ok = false;
            break;
        }
        t->ran_on = l->node_addr;
        complete_task(t, b->results[i]);
    }
    manta__result_batch__free_unpacked(b, &mt_rpc_pb_allocator);
    if (l->inflight.n == 0) l->idle_since_ns = mt_time_now_ns();
    else if (!l->inflight.head->tev_running) { /* the worker runs its tasks in order: the next one has started */
        l->inflight.head->tev_running = true;
        mt__tev_on_worker(l->inflight.head, l, MANTA__TASK_STATE__TASK_RUNNING);
    }
    return ok;
}

/* Reads a connection; false when it is gone. */
static bool conn_read(mt__lease *l)
{
    bool eof = false;
    if (mt_rpc_stream_fill(&l->s, &eof, NULL) != MT_OK) return false;
    mt_rpc_msg m;
    int r;
    while ((r = mt_rpc_stream_next(&l->s, mt__drv.max_frame, &m)) == 1)
        if (!handle_results(l, &m)) return false;
    return r == 0 && !eof;
}

/* ---- Worker deaths ------------------------------------------------------------------ */

static void note_died(const mt_rpc_msg *m)
{
    Manta__WorkerDiedNotice *n = manta__worker_died_notice__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!n) return;
    mt__driver *d = &mt__drv;
    if (n->worker_id.len == MT_ID_SIZE) {
        int i = d->ndied < 16 ? d->ndied++ : (int)(mt_time_now_ns() % 16);
        memcpy(d->died[i].worker_id.bytes, n->worker_id.data, MT_ID_SIZE);
        d->died[i].sig = n->signal;
        d->died[i].code = n->exit_code;
        for (mt__shape *s = d->shapes; s; s = s->next)
            for (mt__lease *l = s->leases; l; l = l->next)
                if (mt_id_equal(l->worker_id, d->died[i].worker_id)) l->dead = true;
    }
    manta__worker_died_notice__free_unpacked(n, &mt_rpc_pb_allocator);
}

static void on_lease_reply(const mt_rpc_msg *m);

/*
 * Drains frames the node sent on the lease connection (called when its fd is
 * readable; the client buffers several frames per read, so it keeps reading
 * until a 1 ms receive times out — recv's timeout 0 would mean forever).
 */
static void node_lost(const char *why);

static void leases_read(void)
{
    mt_rpc_msg m;
    mt_status st = MT_OK;
    mt_error err;
    while (mt__drv.leases && (st = mt_rpc_client_recv(mt__drv.leases, 1, &m, &err)) == MT_OK) {
        if (m.fd >= 0) close(m.fd);
        if (m.method == MANTA__NODE_METHOD__NODE_WORKER_DIED) note_died(&m);
        else if (m.method == MANTA__NODE_METHOD__NODE_SHUTTING_DOWN) {
            Manta__Status *why = manta__status__unpack(&mt_rpc_pb_allocator, m.len, m.payload);
            node_lost(why && why->message && *why->message ? why->message : "it is shutting down");
            if (why) manta__status__free_unpacked(why, &mt_rpc_pb_allocator);
            return;
        }
        else if ((m.flags & MT_RPC_FLAG_REPLY) && m.req_id == mt__drv.lease_req_id) on_lease_reply(&m);
        else if (m.flags & MT_RPC_FLAG_REPLY) mt__actor_lease_reply(&m);
    }
    if (mt__drv.leases && st != MT_OK && st != MT_ETIMEOUT)
        node_lost(st == MT_EIO ? "its connection closed: it exited or was killed" : err.msg);
}

static int died_lookup(mt_id worker_id)
{
    mt__driver *d = &mt__drv;
    for (int i = 0; i < d->ndied; i++)
        if (mt_id_equal(d->died[i].worker_id, worker_id)) return d->died[i].sig ? d->died[i].sig : -d->died[i].code - 1000;
    return 0;
}

/*
 * The signal (> 0) or -1000 - exit code that ended worker `id` per the
 * node's notice; 0 if no notice came yet. Never blocks: it only reads
 * notices already on the lease connection (called under the driver lock).
 */
int mt__drv_died_signal(mt_id worker_id)
{
    int sig = died_lookup(worker_id);
    if (sig || !mt__drv.leases) return sig;
    struct pollfd p = {.fd = mt_rpc_client_fd(mt__drv.leases), .events = POLLIN};
    if (poll(&p, 1, 0) > 0) leases_read();
    return died_lookup(worker_id);
}

static void died_text(int sig, char *out, size_t cap)
{
    if (sig > 0) snprintf(out, cap, " (signal %d)", sig);
    else if (sig <= -1000) snprintf(out, cap, " (exit code %d)", -sig - 1000);
    else out[0] = 0;
}

/* Fails the tasks left on a dead lease, naming how the worker ended, and frees it. */
static void lease_bury(mt__lease *l, int sig)
{
    char why[64];
    died_text(sig, why, sizeof why);
    mt__task *t;
    while ((t = q_pop(&l->inflight))) {
        char msg[MT_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "worker %d running %s died%s", l->worker_pid, t->fn_name, why);
        mt__task_fail(t, MT_EIO, msg);
    }
    MT_LOG(MT_LOG_INFO, "DRIVER-WORKER-DIED", "worker %d died%s", l->worker_pid, why);
    if (mt__drv.leases) return_lease(l, true); /* only now: the node sends the notice to the lease holder */
    mt_free(l);
}

/*
 * Buries dead leases whose node notice has come, or whose wait for it ran
 * out (DYING_WAIT_NS): the worker's socket closes before the node reaps it,
 * and the failed tasks' messages should say how it ended.
 */
static void bury_dying(bool all)
{
    int64_t now = mt_time_now_ns();
    for (mt__lease **pp = &mt__drv.dying; *pp;) {
        mt__lease *l = *pp;
        int sig = died_lookup(l->worker_id);
        if (sig || all || now >= l->idle_since_ns) {
            *pp = l->next;
            lease_bury(l, sig);
        } else {
            pp = &l->next;
        }
    }
}

static void lease_lost(mt__lease *l)
{
    mt__shape *s = l->shape;
    shape_unlink(s, l); /* first: nothing may dispatch onto it from here on */
    mt__task *stack[PIPELINE + 1];
    int n = 0;
    mt__taskq fail = {0};
    mt__task *t;
    while ((t = q_pop(&l->inflight))) {
        if (t->cancelled) {
            fail_cancelled(t);
        } else if (t->retries_left != 0 && n < PIPELINE + 1) {
            if (t->retries_left > 0) t->retries_left--;
            char msg[96];
            snprintf(msg, sizeof msg, "worker %d died; the task is tried again", l->worker_pid);
            mt__tev_retry(t, "WORKER_DIED", msg, MANTA__TASK_STATE__TASK_PENDING_NODE_ASSIGNMENT);
            stack[n++] = t;
        } else {
            q_push(&fail, t);
        }
    }
    while (n > 0) q_push_front(&s->pending, stack[--n]);
    l->inflight = fail;
    mt__lease_close(l);
    int sig = mt__drv_died_signal(l->worker_id);
    if (sig || !fail.n) {
        lease_bury(l, sig);
        return;
    }
    l->idle_since_ns = mt_time_now_ns() + DYING_WAIT_NS; /* a dying lease's deadline */
    l->next = mt__drv.dying;
    mt__drv.dying = l;
    mt__drv_bg_kick();
}

/* ---- Lease grants ---------------------------------------------------------------------- */

static void fail_inflight(mt__lease *l, mt_status code, const char *msg)
{
    mt__task *t;
    while ((t = q_pop(&l->inflight))) mt__task_fail(t, code, msg);
}

static void fail_pending(mt__shape *s, mt_status code, const char *msg)
{
    mt__task *t;
    while ((t = q_pop(&s->pending))) mt__task_fail(t, code, msg);
}

/*
 * The node daemon's connection closed: it exited or was killed, and its
 * workers with it. Every task (waiting, queued, in flight, on dying
 * leases) and actor call fails now with one message; later calls fail at
 * once (mt__drv_check). Nothing is retried: there is no node to retry on.
 */
static void node_lost(const char *why)
{
    mt__driver *d = &mt__drv;
    if (d->node_lost) return;
    d->node_lost = true;
    snprintf(d->node_lost_msg, sizeof d->node_lost_msg,
             "the node daemon at %.140s is gone (%.160s); see %.140s/logs/node.log", d->node_socket, why,
             d->session_dir);
    MT_LOG(MT_LOG_ERROR, "DRIVER-NODE-LOST", "%s", d->node_lost_msg);
    const char *msg = d->node_lost_msg;
    mt__drv_waiting_fail(MT_EIO, msg);
    for (mt__shape *s = d->shapes; s; s = s->next) {
        fail_pending(s, MT_EIO, msg);
        while (s->leases) {
            mt__lease *l = s->leases;
            s->leases = l->next;
            fail_inflight(l, MT_EIO, msg);
            mt__lease_close(l);
            mt_free(l);
        }
        s->nleases = 0;
        s->requesting = false;
    }
    while (d->dying) {
        mt__lease *l = d->dying;
        d->dying = l->next;
        fail_inflight(l, MT_EIO, msg);
        mt_free(l);
    }
    d->lease_req_id = 0;
    d->lease_req_shape = NULL;
    mt__actors_node_lost(msg);
    mt_rpc_client_close(d->leases);
    d->leases = NULL;
}

/*
 * Asks node `addr` (tcp://…) for a lease of the shape's demand, waiting for
 * the reply; reject_if_busy: a node without room answers at once instead of
 * queueing (a spilled request). NULL when the ask fails; *node is the
 * connection either way (a failed connect leaves it NULL).
 */
static Manta__RequestLeaseReply *lease_at_ex(mt__shape *s, const char *addr, bool reject_if_busy, mt_rpc_client **node,
                                             const char **node_addr, mt_status *code, char *why, size_t cap)
{
    mt_error err;
    mt_rpc_client *c = NULL;
    Manta__RequestLeaseReply *r = NULL;
    if (mt__drv_remote_client(addr, &c, node_addr, &err) != MT_OK) {
        MT_LOG(MT_LOG_WARN, "DRIVER-LEASE", "node %s: %s", addr, err.msg);
        if (code) *code = err.code;
        if (why) snprintf(why, cap, "node %.100s: %.400s", addr, err.msg);
        return NULL;
    }
    Manta__RequestLeaseRequest req = MANTA__REQUEST_LEASE_REQUEST__INIT;
    Manta__ResourceSet rs;
    Manta__ResourceSet__QuantitiesEntry ents[MT__MAX_RESOURCES], *ptrs[MT__MAX_RESOURCES];
    lease_request_fill(&req, &rs, ents, ptrs, s->res, s->nres);
    req.reject_if_busy = reject_if_busy;
    if (!mt_id_is_nil(s->pg_id)) {
        req.placement_group_id.data = s->pg_id.bytes;
        req.placement_group_id.len = MT_ID_SIZE;
        req.bundle_index = s->bundle;
    }
    if (mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, &req.base, &manta__request_lease_reply__descriptor,
                           0, (ProtobufCMessage **)&r, NULL, &err) != MT_OK) {
        if (err.code != MT_ETIMEOUT) MT_LOG(MT_LOG_WARN, "DRIVER-LEASE", "node %s: %s", addr, err.msg);
        if (code) *code = err.code;
        if (why) snprintf(why, cap, "%s", err.msg);
        r = NULL;
    }
    *node = c;
    if (r) MT_LOG(MT_LOG_DEBUG, "DRIVER-LEASE", "{%s} leased from node %s", s->key, addr);
    return r;
}

static Manta__RequestLeaseReply *lease_at(mt__shape *s, const char *addr, bool reject_if_busy, mt_rpc_client **node,
                                          const char **node_addr)
{
    return lease_at_ex(s, addr, reject_if_busy, node, node_addr, NULL, NULL, 0);
}

/*
 * A lease from another node for a demand this node can never meet (a
 * custom resource only another node has): the alive node with the most of
 * it available is asked, over its TCP address; the call waits for the grant.
 * NULL when no node fits or the ask fails.
 */
static Manta__RequestLeaseReply *remote_grant(mt__shape *s, mt_rpc_client **node, const char **node_addr)
{
    mt_error err;
    mt_gcs_client *g = NULL;
    Manta__ClusterStatusReply *cs = NULL;
    if (mt__drv_gcs(&g, &err) != MT_OK || mt_gcs_cluster_status(g, &cs, &err) != MT_OK) return NULL;
    const Manta__NodeInfo *best = mt__drv_node_for(cs, s->res, s->nres);
    if (best) { /* as many leases as that node's CPUs hold: more would wait there, and the ask below blocks */
        double cpu = 1, total = 0;
        for (int i = 0; i < s->nres; i++)
            if (!strcmp(s->res[i].name, "CPU")) cpu = s->res[i].quantity;
        for (size_t k = 0; best->resources_total && k < best->resources_total->n_quantities; k++)
            if (!strcmp(best->resources_total->quantities[k]->key, "CPU")) total = best->resources_total->quantities[k]->value;
        int cap = cpu > 0 ? (int)(total / cpu) : 4;
        s->max_leases = cap < 1 ? 1 : cap > 64 ? 64 : cap;
        s->remote_only = true;
        if (s->nleases >= s->max_leases) best = NULL; /* the leases held take the tasks */
    }
    Manta__RequestLeaseReply *r = best ? lease_at(s, best->node_address, false, node, node_addr) : NULL;
    mt_gcs_reply_free(cs);
    return r;
}

/* Connects to the granted worker and adds the lease to the shape (a failed connect returns it at once). */
static void lease_add(mt__shape *s, const Manta__RequestLeaseReply *r, mt_rpc_client *node, const char *node_addr)
{
    mt__lease *l = mt_calloc(1, sizeof *l);
    mt_error err;
    if (l && r->lease_id.len == MT_ID_SIZE) memcpy(l->lease_id.bytes, r->lease_id.data, MT_ID_SIZE);
    if (l && r->worker_id.len == MT_ID_SIZE) memcpy(l->worker_id.bytes, r->worker_id.data, MT_ID_SIZE);
    if (l) l->node = node; /* a failed connect returns the lease to the node that granted it */
    if (!l || mt__lease_connect(l, r->worker_address, &err) != MT_OK) {
        MT_LOG(MT_LOG_WARN, "DRIVER-LEASE", "cannot reach leased worker %s", r->worker_address);
        if (l) {
            return_lease(l, true);
            mt_free(l);
        }
        return;
    }
    l->worker_pid = r->worker_pid;
    if (r->node_id.len == MT_ID_SIZE) memcpy(l->node_id.bytes, r->node_id.data, MT_ID_SIZE);
    l->node = node;
    l->node_addr = node_addr;
    l->shape = s;
    l->idle_since_ns = mt_time_now_ns();
    l->next = s->leases;
    s->leases = l;
    s->nleases++;
}

/*
 * A shape inside a placement group: its lease comes from the bundle's node
 * (asked directly, never queued there: a busy bundle is asked again a
 * little later); a group removed or lost fails the waiting tasks.
 */
static void request_in_group(mt__shape *s)
{
    mt__driver *d = &mt__drv;
    int64_t now = mt_time_now_ns();
    if (now < s->spill_off_until_ns) {
        d->retry_soon = true;
        return;
    }
    const char *addr = mt__pg_node_for(s->pg_id, s->bundle);
    if (!addr) {
        char msg[300];
        snprintf(msg, sizeof msg, "placement group of {%.200s} is not placed (removed, or still pending)", s->key);
        fail_pending(s, MT_ESTATE, msg);
        return;
    }
    mt_rpc_client *node = NULL;
    const char *node_addr = NULL;
    mt_status code = MT_OK;
    char why[MT_ERROR_MSG_MAX] = "";
    Manta__RequestLeaseReply *r = lease_at_ex(s, addr, true, &node, &node_addr, &code, why, sizeof why);
    if (!r && code == MT_EIO) { /* the bundle's node is gone? once the control store says so, its bundles move */
        mt_error e;
        mt_status moved = mt__pg_node_lost(s->pg_id, addr, &e);
        if (moved == MT_OK) {
            s->spill_off_until_ns = 0;
            d->retry_soon = true;
            return;
        }
        if (moved == MT_ETIMEOUT) {
            s->spill_off_until_ns = now + GROUP_LOST_RETRY_NS;
            d->retry_soon = true;
            return;
        }
        size_t used = strnlen(why, 240);
        snprintf(why + used, sizeof why - used, "; %.260s", e.msg);
    }
    if (!r) {
        if (code == MT_ETIMEOUT) { /* the bundle is busy: its leases come back soon */
            s->spill_off_until_ns = now + GROUP_RETRY_NS;
            d->retry_soon = true;
        } else if (!s->leases) {
            fail_pending(s, code ? code : MT_EIO, why);
        }
        return;
    }
    lease_add(s, r, node, node_addr);
    manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
    dispatch(s); /* its tasks go now (it may ask for the next lease: at most max_leases deep) */
}

/*
 * SPREAD: a lease from the next alive node in turn that has room now (each
 * asked without queueing); false when none has, and the request goes to
 * this node as usual.
 */
static bool request_spread(mt__shape *s)
{
    char **nodes = NULL;
    int n = mt__drv_alive_nodes(&nodes);
    for (int k = 0; k < n; k++) {
        int at = (s->next_node + k) % n;
        mt_rpc_client *node = NULL;
        const char *node_addr = NULL;
        Manta__RequestLeaseReply *r = lease_at(s, nodes[at], true, &node, &node_addr);
        if (!r) continue;
        s->next_node = at + 1;
        lease_add(s, r, node, node_addr);
        manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
        dispatch(s); /* its tasks go now (it may ask for the next lease: at most max_leases deep) */
        return true;
    }
    return false;
}

static void on_lease_reply(const mt_rpc_msg *m)
{
    mt__driver *d = &mt__drv;
    mt__shape *s = d->lease_req_shape;
    d->lease_req_id = 0;
    d->lease_req_shape = NULL;
    s->requesting = false;
    Manta__RequestLeaseReply *r = manta__request_lease_reply__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    mt_rpc_client *node = NULL;
    const char *node_addr = NULL;
    int32_t status = m->status;
    if (status == 0 && r && r->status == 0 && r->spillback_address && *r->spillback_address) {
        /* busy here: the node named one with room (it may have filled since: then it says so at once) */
        char addr[300];
        snprintf(addr, sizeof addr, "%s", r->spillback_address);
        manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
        r = lease_at(s, addr, true, &node, &node_addr);
        if (!r) { /* ask here again, queueing this time */
            s->spill_off_until_ns = mt_time_now_ns() + SPILL_BACKOFF_NS;
            for (mt__shape *o = d->shapes; o; o = o->next)
                if (o->pending.n) dispatch(o);
            return;
        }
        status = 0;
    } else if (status == MT_EUNSUPPORTED || (status == 0 && r && r->status == MT_EUNSUPPORTED)) { /* not on this node: one that has it */
        Manta__RequestLeaseReply *other = remote_grant(s, &node, &node_addr);
        if (other) {
            if (r) manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
            r = other;
            status = 0;
        }
    }
    if (status != 0 || !r || r->status != 0) {
        char msg[MT_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "no worker for {%.200s}: %s", s->key, r && r->message ? r->message : "bad lease reply");
        if (!s->leases) fail_pending(s, status ? (mt_status)status : MT_EIO, msg);
        if (r) manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
        return;
    }
    lease_add(s, r, node, node_addr);
    manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
    dispatch(s);
    for (mt__shape *o = d->shapes; o; o = o->next)
        if (o != s && o->pending.n) dispatch(o);
}

/* ---- Pump -------------------------------------------------------------------------- */

#define MAX_POLL 512

static void return_idle_leases(int64_t now)
{
    /* a shape waiting for a lease gets the idle ones' resources at once, not after LEASE_IDLE_NS */
    bool starving = false;
    for (mt__shape *s = mt__drv.shapes; s && !starving; s = s->next) starving = s->pending.n && s->requesting;
    int64_t idle_ns = starving ? 0 : LEASE_IDLE_NS;
    for (mt__shape *s = mt__drv.shapes; s; s = s->next) {
        if (s->pending.n) continue;
        for (mt__lease **pp = &s->leases; *pp;) {
            mt__lease *l = *pp;
            if (l->inflight.n == 0 && l->s.out.off == l->s.out.len && now - l->idle_since_ns >= idle_ns) {
                *pp = l->next;
                s->nleases--;
                return_lease(l, false);
                mt__lease_close(l);
                mt_free(l);
            } else {
                pp = &l->next;
            }
        }
    }
}

/* Returns every idle task lease now (before blocking on an actor lease). */
void mt__drv_return_idle_leases(void) { return_idle_leases(INT64_MAX); }

static int collect(struct pollfd *pf, mt__lease **who, bool *any_idle)
{
    int n = 0;
    pf[n] = (struct pollfd){.fd = mt__drv.leases ? mt_rpc_client_fd(mt__drv.leases) : -1, .events = POLLIN};
    who[n++] = NULL;
    pf[n] = (struct pollfd){.fd = mt__drv.store && mt__drv.nputs ? mt_rpc_client_fd(mt__drv.store) : -1,
                            .events = POLLIN};
    who[n++] = NULL;
    for (mt__shape *s = mt__drv.shapes; s; s = s->next)
        for (mt__lease *l = s->leases; l && n < MAX_POLL; l = l->next) {
            pf[n] = (struct pollfd){.fd = l->s.fd, .events = (short)(POLLIN | (l->s.out.off < l->s.out.len ? POLLOUT : 0))};
            who[n++] = l;
            if (!l->inflight.n) *any_idle = true;
        }
    for (mt_actor *a = mt__drv.actors; a && n < MAX_POLL; a = a->next_live)
        if (a->conn) {
            pf[n] = (struct pollfd){.fd = a->conn->s.fd,
                                    .events = (short)(POLLIN | (a->conn->s.out.off < a->conn->s.out.len ? POLLOUT : 0))};
            who[n++] = a->conn;
        }
    return n;
}

/* Task leases whose worker the node reported dead (possibly while no call
 * was reading their socket): read what the worker sent, then retry the rest. */
static void sweep_dead(void)
{
    for (mt__shape *s = mt__drv.shapes; s; s = s->next)
        for (;;) {
            mt__lease *l = s->leases;
            while (l && !l->dead) l = l->next;
            if (!l) break;
            conn_read(l);
            lease_lost(l); /* unlinks it (frees it, or parks it on mt__drv.dying) */
        }
}

mt_status mt__drv_pump(int64_t timeout_ms, mt_error *err)
{
    struct pollfd pf[MAX_POLL];
    mt__lease *who[MAX_POLL];
    bool any_idle = false;
    /* answers the store client has buffered already: poll would not see them */
    if (mt__drv.nputs && mt_rpc_client_buffered(mt__drv.store)) {
        mt__drv_puts_drain(false, NULL);
        timeout_ms = 0;
    }
    if (mt__drv.ntev || mt__drv.tev_dropped) { /* task state changes go to the control store once a second, waits or not */
        mt__tev_flush(false);
        int64_t left = (mt__drv.tev_next_ns - mt_time_now_ns()) / 1000000 + 1;
        if (mt__drv.ntev && (timeout_ms < 0 || timeout_ms > left)) timeout_ms = left;
    }
    int n = collect(pf, who, &any_idle);
    if (any_idle && (timeout_ms < 0 || timeout_ms > 100)) timeout_ms = 100;
    if ((mt__drv.dying || mt__drv.retry_soon || mt__drv.restarting) && (timeout_ms < 0 || timeout_ms > 20)) timeout_ms = 20;
    mt__drv.retry_soon = false; /* dispatch below sets it again while a bundle is busy */
    int rc = poll(pf, (nfds_t)n, timeout_ms < 0 ? -1 : (int)timeout_ms);
    if (rc < 0 && errno != EINTR) return mt_error_set_errno(err, MT_EIO, errno, "poll");
    if (rc > 0 && pf[0].revents) leases_read();
    if (rc > 0 && pf[1].revents) mt__drv_puts_drain(false, NULL);
    for (int i = 2; rc > 0 && i < n; i++) {
        if (mt__drv.node_lost) break; /* it freed every lease in who[] */
        if (!pf[i].revents) continue;
        mt__lease *l = who[i];
        bool ok = true;
        if (pf[i].revents & POLLOUT) {
            l->frame_hdr = SIZE_MAX; /* bytes of the open frame may leave now: close it */
            ok = mt_rpc_stream_flush(&l->s, NULL) == MT_OK;
        }
        if (ok && (pf[i].revents & (POLLIN | POLLHUP | POLLERR))) ok = conn_read(l);
        if (ok) continue;
        if (l->actor) mt__actor_conn_lost(l->actor);
        else lease_lost(l);
    }
    sweep_dead();
    if (mt__drv.restarting) mt__actors_restart_due(NULL);
    if (mt__drv.dying) bury_dying(false);
    mt__drv_release_waiting();
    for (mt__shape *s = mt__drv.shapes; s; s = s->next)
        if (s->pending.n || s->leases) dispatch(s);
    if (any_idle) return_idle_leases(mt_time_now_ns());
    return MT_OK;
}

/* ---- Submit --------------------------------------------------------------------------- */

static mt_status check_args(const mt_arg *args, int nargs, mt_error *err)
{
    for (int i = 0; i < nargs; i++) {
        if (!args[i].ref) {
            if (args[i].size && !args[i].data) return mt_error_set(err, MT_EINVAL, "argument %d: NULL data of %zu bytes", i, args[i].size);
            continue;
        }
        if (args[i].ref->magic != MT__REF_MAGIC) return mt_error_set(err, MT_EINVAL, "argument %d: not a ref", i);
    }
    return MT_OK;
}

mt_status mt__task_rebuild(mt_ref *r, mt_error *err)
{
    mt__lineage *l = r->lineage;
    char hex[2 * MT_ID_SIZE + 1];
    mt_id_hex(r->id, hex);
    if (!l || l->retries_left == 0)
        return mt_error_set(err, MT_ENOTFOUND, "object %s was lost and %s", hex,
                            l ? "its task has no retries left to rebuild it" : "cannot be rebuilt (no lineage kept)");
    int keep = 0;
    while (keep < l->nrets && !mt_id_equal(mt__task_return_id(l->task_id, (uint32_t)keep), r->id)) keep++;
    if (keep == l->nrets) return mt_error_set(err, MT_EINTERNAL, "object %s is no return of its lineage's task", hex);
    size_t spec_len = 0;
    mt__task *t = mt_calloc(1, sizeof *t);
    uint8_t *spec = t ? rebuild_spec(l, keep, &spec_len) : NULL;
    char *fn = spec ? mt_strdup(l->fn_name) : NULL;
    mt_ref **rets = fn ? (l->nrets == 1 ? t->ret1 : mt_calloc((size_t)l->nrets, sizeof *rets)) : NULL;
    /* The other returns get stand-ins (not owned): the re-run does not store them. */
    bool ok = rets != NULL;
    for (int i = 0; ok && i < l->nrets; i++)
        if (i != keep) ok = (rets[i] = mt__ref_new(mt__task_return_id(l->task_id, (uint32_t)i), false)) != NULL;
    if (!ok) {
        for (int i = 0; rets && i < l->nrets; i++)
            if (i != keep) mt__ref_unref(rets[i]);
        if (rets && rets != t->ret1) mt_free(rets);
        mt_free(fn);
        mt_free(spec);
        mt_free(t);
        return mt_error_set(err, MT_ENOMEM, "rebuilding object %s", hex);
    }
    if (l->retries_left > 0) l->retries_left--;
    *t = (mt__task){.seq = l->seq, .shape = l->shape, .spec = spec, .spec_len = spec_len,
                    .fn_name = fn, .retries_left = l->retries_left, .nrets = l->nrets, .task_id = l->task_id,
                    .attempt = ++l->attempt, .job_id = l->job_id, .parent_id = l->parent_id};
    t->rets = l->nrets == 1 ? t->ret1 : rets;
    t->rets[keep] = r;
    r->rc++;
    r->state = MT__OBJ_PENDING;
    r->in_store = false;
    MT_LOG(MT_LOG_INFO, "TASK-REBUILD", "object %s was lost: running %s again", hex, fn);
    mt__tev_state(t, MANTA__TASK_STATE__TASK_PENDING_NODE_ASSIGNMENT);
    q_push(&t->shape->pending, t);
    dispatch(t->shape);
    return MT_OK;
}

void mt__task_enqueue(mt__task *t)
{
    mt__tev_state(t, MANTA__TASK_STATE__TASK_PENDING_NODE_ASSIGNMENT);
    q_push(&t->shape->pending, t);
    dispatch(t->shape);
}

static int retries_of(int v)
{
    if (v == 0) return (int)MT_CFG_INT64(task_max_retries);
    if (v == MT_RETRIES_NONE) return 0;
    return v < 0 ? -1 : v;
}

MT_API mt_status mt_task_submit(const char *fn_name, const mt_arg *args, int nargs, const mt_task_options *opts,
                                mt_ref **refs_out, mt_error *err)
{
    mt_task_options none = {0};
    const mt_task_options *o = opts ? opts : &none;
    int nrets = o->num_returns ? o->num_returns : 1;
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    if (st == MT_OK && (!fn_name || !*fn_name)) st = mt_error_set(err, MT_EINVAL, "mt_task_submit: no function name");
    if (st == MT_OK && (nrets < 0 || nrets > 1024 || nargs < 0 || (nargs && !args)))
        st = mt_error_set(err, MT_EINVAL, "mt_task_submit %s: bad num_returns %d or nargs %d", fn_name, nrets, nargs);
    if (st == MT_OK) st = check_args(args, nargs, err);
    mt_id pg = {0};
    int bundle = -1;
    if (st == MT_OK && o->placement_group) st = mt__pg_check(o->placement_group, o->bundle_index, &pg, &bundle, err);
    bool spread = !o->placement_group && o->scheduling_strategy == MT_SCHED_SPREAD;
    if (st == MT_OK && (unsigned)o->scheduling_strategy > MT_SCHED_SPREAD)
        st = mt_error_set(err, MT_EINVAL, "mt_task_submit %s: unknown scheduling strategy %d", fn_name, (int)o->scheduling_strategy);
    mt__shape *s = st == MT_OK ? shape_get(o->resources, o->resources ? o->num_resources : 0, pg, bundle, spread, err) : NULL;
    if (st == MT_OK && !s) st = err ? err->code : MT_ENOMEM;
    mt_id tid = mt__task_id_new();
    mt__task *t = NULL;
    if (st == MT_OK && !(t = mt__task_new(fn_name, nrets, refs_out, tid))) st = mt_error_set(err, MT_ENOMEM, "task");
    mt_ref *dep = NULL;
    bool waits = false;
    if (st == MT_OK) {
        t->seq = mt__drv.next_seq++;
        t->shape = s;
        t->retries_left = retries_of(o->max_retries);
        mt__tev_init_task(t, MANTA__TASK_TYPE__NORMAL_TASK);
        st = mt__task_take_deps(t, args, nargs, &waits, err);
        if (st == MT_OK && waits)
            st = mt__task_park(t, MANTA__TASK_KIND__TASK_NORMAL, fn_name, args, nargs, err);
        else if (st == MT_OK)
            st = mt__encode_spec(fn_name, MANTA__TASK_KIND__TASK_NORMAL, tid, mt_id_nil(), args, nargs, nrets, t->seq,
                                 &t->spec, &t->spec_len, &dep, err);
        if (st != MT_OK) {
            for (int i = 0; i < nrets; i++) mt__ref_unref(refs_out[i]);
            mt__task_free(t);
        }
    }
    if (st == MT_OK && waits) {
        /* returns at once: the pump sends it when its arguments are ready */
    } else if (st == MT_OK && dep) {
        mt__task_fail(t, dep->code, dep->msg);
    } else if (st == MT_OK) {
        mt__tev_state(t, MANTA__TASK_STATE__TASK_PENDING_NODE_ASSIGNMENT);
        q_push(&s->pending, t);
        dispatch(s);
        if (s->pending.n || mt__drv.lease_req_id) mt__drv_pump(0, NULL);
    }
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

void mt__drv_tasks_fini(void)
{
    mt__driver *d = &mt__drv;
    mt__drv_waiting_fail(MT_ECANCELLED, "manta was shut down");
    while (d->shapes) {
        mt__shape *s = d->shapes;
        d->shapes = s->next;
        fail_pending(s, MT_ECANCELLED, "manta was shut down");
        while (s->leases) {
            mt__lease *l = s->leases;
            s->leases = l->next;
            fail_inflight(l, MT_ECANCELLED, "manta was shut down");
            if (d->leases) return_lease(l, false);
            mt__lease_close(l);
            mt_free(l);
        }
        free_resources(s->res, s->res_names, s->nres);
        mt_free(s);
    }
    d->lease_req_id = 0;
    d->lease_req_shape = NULL;
    bury_dying(true);
}

/* ---- Cancel ----------------------------------------------------------------------------- */

/* Marks a sent task cancelled and fails its refs now; its result, when it comes, is dropped. */
static void cancel_sent(mt__task *t)
{
    char msg[300];
    snprintf(msg, sizeof msg, "task %.200s was cancelled", t->fn_name);
    t->cancelled = true;
    for (int i = 0; i < t->nrets; i++)
        if (t->rets[i]->state == MT__OBJ_PENDING) mt__ref_fail(t->rets[i], MT_ECANCELLED, msg);
}

static bool task_has(const mt__task *t, const mt_ref *ref)
{
    for (int i = 0; i < t->nrets; i++)
        if (t->rets[i] == ref) return true;
    return false;
}

/* Removes the task of `ref` from queue q; true if found (and failed as cancelled). */
static bool q_cancel(mt__taskq *q, const mt_ref *ref)
{
    mt__task *prev = NULL;
    for (mt__task *t = q->head; t; prev = t, t = t->next) {
        if (!task_has(t, ref)) continue;
        if (prev) prev->next = t->next;
        else q->head = t->next;
        if (q->tail == t) q->tail = prev;
        q->n--;
        t->next = NULL;
        fail_cancelled(t);
        return true;
    }
    return false;
}

MT_API mt_status mt_cancel(mt_ref *ref, bool force, mt_error *err)
{
    if (!ref || ref->magic != MT__REF_MAGIC) return mt_error_set(err, MT_EINVAL, "mt_cancel: not a ref");
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    mt__driver *d = &mt__drv;
    bool done = st != MT_OK || ref->state != MT__OBJ_PENDING || mt__drv_waiting_cancel(ref);
    for (mt__shape *s = d->shapes; !done && s; s = s->next) {
        done = q_cancel(&s->pending, ref);
        for (mt__lease *l = s->leases; !done && l; l = l->next)
            for (mt__task *t = l->inflight.head; !done && t; t = t->next) {
                if (!task_has(t, ref)) continue;
                cancel_sent(t);
                done = true;
                if (force) { /* the lease is ours: its worker may be killed */
                    Manta__KillWorkerRequest kr = MANTA__KILL_WORKER_REQUEST__INIT;
                    kr.worker_id.data = l->worker_id.bytes;
                    kr.worker_id.len = MT_ID_SIZE;
                    kr.force = true;
                    st = mt__drv_node_call(MANTA__NODE_METHOD__NODE_KILL_WORKER, &kr.base, &manta__status__descriptor,
                                           NULL, NULL, err);
                }
            }
    }
    for (mt_actor *a = d->actors; !done && a; a = a->next_live) {
        if (!a->conn) continue;
        for (mt__task *t = a->conn->inflight.head; !done && t; t = t->next)
            if (task_has(t, ref)) {
                if (force) st = mt_error_set(err, MT_EUNSUPPORTED, "mt_cancel: force is not supported for actor calls");
                else cancel_sent(t);
                done = true;
            }
    }
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}
