/*
 * driver_pg.c — placement groups (Ray's placement_group, pg.ready(),
 * remove_placement_group). The driver places a group itself: from the
 * control store's view of the alive nodes (available resources as of each
 * node's last report) it assigns bundles to nodes by strategy, then asks
 * each chosen node to reserve its share (NODE_RESERVE_BUNDLES, all or
 * none there). If any node refuses, the nodes already reserved are
 * released and the group stays pending; mt_placement_group_wait tries
 * again every PLACE_RETRY_MS. Reservations are held by this driver's
 * connection to each node: a driver that dies frees its groups.
 *
 * Threads: public calls take mt__drv.lock. Invariants: a group is on
 * mt__drv.pgs from create to release; node[i] is set for every bundle
 * exactly when placed; removed groups are never placed again.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gcs/gcs_client.h"
#include "proto/node.pb-c.h"
#include "worker/worker_int.h"

#define PLACE_RETRY_MS 50
#define VIEW_MAX_RES 64

struct mt_placement_group {
    struct mt_placement_group *next;
    mt_id id;
    char *name;
    mt_pg_strategy strategy;
    int n;
    mt_resource **res; /* per bundle, names owned */
    int *nres;
    char **node;       /* per bundle: the node's address once placed */
    bool placed, removed;
    bool reported;     /* the control store knows it (PENDING or CREATED) */
    int64_t created_ms;
};

/* ---- The cluster as the planner sees it -------------------------------------------- */

typedef struct view_node {
    const char *addr;
    int n;
    const char *name[VIEW_MAX_RES];
    double q[VIEW_MAX_RES];
    int used; /* bundles assigned so far */
} view_node;

static double have(const view_node *v, const char *name)
{
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->name[i], name)) return v->q[i];
    return 0;
}

static bool fits(const view_node *v, const mt_resource *r, int n)
{
    for (int i = 0; i < n; i++)
        if (r[i].quantity > 0 && have(v, r[i].name) + 1e-9 < r[i].quantity) return false;
    return true;
}

static void take(view_node *v, const mt_resource *r, int n)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < v->n; k++)
            if (!strcmp(v->name[k], r[i].name)) v->q[k] -= r[i].quantity;
    v->used++;
}

/* Alive nodes with an address, this driver's node first. */
static int view_of(const Manta__ClusterStatusReply *cs, view_node *v, int max)
{
    int nv = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < cs->n_nodes && nv < max; i++) {
            const Manta__NodeInfo *ni = cs->nodes[i];
            bool self = ni->node_id.len == MT_ID_SIZE && !memcmp(ni->node_id.data, mt__drv.node_id.bytes, MT_ID_SIZE);
            if (self != (pass == 0) || !ni->alive || !ni->node_address || !*ni->node_address) continue;
            view_node *w = &v[nv++];
            *w = (view_node){.addr = ni->node_address};
            const Manta__ResourceSet *rs = ni->resources_available;
            for (size_t k = 0; rs && k < rs->n_quantities && w->n < VIEW_MAX_RES; k++) {
                w->name[w->n] = rs->quantities[k]->key;
                w->q[w->n++] = rs->quantities[k]->value;
            }
        }
    return nv;
}

/* Bundles to nodes (where[i] indexes v) by the group's strategy; false when it cannot be placed now. */
static bool place_each(const mt_placement_group *pg, view_node *v, int nv, int *where, const bool *lost);

static bool plan(const mt_placement_group *pg, view_node *v, int nv, int *where)
{
    if (pg->strategy == MT_PG_STRICT_PACK || pg->strategy == MT_PG_PACK) {
        for (int k = 0; k < nv; k++) { /* all on one node: the first that holds them all */
            view_node trial = v[k];
            int i = 0;
            while (i < pg->n && fits(&trial, pg->res[i], pg->nres[i])) take(&trial, pg->res[i], pg->nres[i]), i++;
            if (i < pg->n) continue;
            for (i = 0; i < pg->n; i++) where[i] = k;
            return true;
        }
        if (pg->strategy == MT_PG_STRICT_PACK) return false;
    }
    return place_each(pg, v, nv, where, NULL);
}

/* Bundles i with lost[i] (all when lost is NULL) one by one, by strategy, around what v already holds. */
static bool place_each(const mt_placement_group *pg, view_node *v, int nv, int *where, const bool *lost)
{
    for (int i = 0; i < pg->n; i++) {
        if (lost && !lost[i]) continue;
        int best = -1;
        for (int k = 0; k < nv; k++) {
            if (!fits(&v[k], pg->res[i], pg->nres[i])) continue;
            if (pg->strategy == MT_PG_STRICT_SPREAD && v[k].used) continue;
            if (best < 0) best = k;
            else if (pg->strategy == MT_PG_PACK ? v[k].used > v[best].used : v[k].used < v[best].used) best = k;
        }
        if (best < 0) return false;
        take(&v[best], pg->res[i], pg->nres[i]);
        where[i] = best;
    }
    return true;
}

/* ---- Reserving on the nodes ----------------------------------------------------------- */

/* Bundle i's resources as a wire set (pointing into pg and the caller's arrays). */
static void bundle_set(const mt_placement_group *pg, int i, Manta__ResourceSet *rs, Manta__ResourceSet__QuantitiesEntry *ents,
                       Manta__ResourceSet__QuantitiesEntry **eps)
{
    manta__resource_set__init(rs);
    for (int q = 0; q < pg->nres[i]; q++) {
        manta__resource_set__quantities_entry__init(&ents[q]);
        ents[q].key = (char *)pg->res[i][q].name;
        ents[q].value = pg->res[i][q].quantity;
        eps[q] = &ents[q];
    }
    rs->n_quantities = (size_t)pg->nres[i];
    rs->quantities = eps;
}

static mt_status call_node(const char *addr, uint16_t method, const ProtobufCMessage *req, mt_error *err)
{
    mt_rpc_client *c = NULL;
    MT_RETURN_NOT_OK(mt__drv_remote_client(addr, &c, NULL, err));
    return mt_rpc_client_call(c, method, req, NULL, 0, NULL, NULL, err);
}

static void release_on(const mt_placement_group *pg, const char *addr)
{
    Manta__PlacementGroupRequest req = MANTA__PLACEMENT_GROUP_REQUEST__INIT;
    req.placement_group_id.data = (uint8_t *)pg->id.bytes;
    req.placement_group_id.len = MT_ID_SIZE;
    mt_error err;
    if (call_node(addr, MANTA__NODE_METHOD__NODE_RELEASE_BUNDLES, &req.base, &err) != MT_OK && err.code != MT_ENOTFOUND)
        MT_LOG(MT_LOG_WARN, "DRIVER-PG", "releasing bundles on %s: %s", addr, err.msg);
}

/* Reserves bundles where[] on their nodes: every node, or (after releasing the ones done) none. */
/* Reserves bundle i on node where[i] (where[i] < 0: bundle i stays). All or none, unless `partial` (moving
 * a dead node's bundles): then what was reserved stays reserved and recorded, because releasing a node's
 * share of the group would free the bundles it kept there too. */
static mt_status reserve(mt_placement_group *pg, const view_node *v, int nv, const int *where, bool partial, mt_error *err)
{
    Manta__Bundle *bs = mt_calloc((size_t)pg->n, sizeof *bs);
    Manta__Bundle **bp = mt_calloc((size_t)pg->n, sizeof *bp);
    Manta__ResourceSet *rs = mt_calloc((size_t)pg->n, sizeof *rs);
    Manta__ResourceSet__QuantitiesEntry(*ents)[MT__MAX_RESOURCES] = mt_calloc((size_t)pg->n, sizeof *ents);
    Manta__ResourceSet__QuantitiesEntry *(*eps)[MT__MAX_RESOURCES] = mt_calloc((size_t)pg->n, sizeof *eps);
    bool *done = mt_calloc((size_t)nv + 1, sizeof *done);
    mt_status st = bs && bp && rs && ents && eps && done ? MT_OK : mt_error_set(err, MT_ENOMEM, "placement group");
    for (int k = 0; st == MT_OK && k < nv; k++) {
        size_t nb = 0;
        for (int i = 0; i < pg->n; i++) {
            if (where[i] != k) continue;
            manta__bundle__init(&bs[i]);
            bundle_set(pg, i, &rs[i], ents[i], eps[i]);
            bs[i].index = i;
            bs[i].resources = &rs[i];
            bp[nb++] = &bs[i];
        }
        if (!nb) continue;
        Manta__ReserveBundlesRequest req = MANTA__RESERVE_BUNDLES_REQUEST__INIT;
        req.placement_group_id.data = pg->id.bytes;
        req.placement_group_id.len = MT_ID_SIZE;
        req.n_bundles = nb;
        req.bundles = bp;
        if ((st = call_node(v[k].addr, MANTA__NODE_METHOD__NODE_RESERVE_BUNDLES, &req.base, err)) == MT_OK) done[k] = true;
    }
    for (int k = 0; st != MT_OK && !partial && done && k < nv; k++)
        if (done[k]) release_on(pg, v[k].addr);
    mt_status kept = MT_OK;
    for (int i = 0; (st == MT_OK || (partial && done)) && kept == MT_OK && i < pg->n; i++) { /* where[i] < 0: bundle i stays */
        if (where[i] < 0 || (st != MT_OK && !done[where[i]])) continue;
        mt_free(pg->node[i]);
        if (!(pg->node[i] = mt_strdup(v[where[i]].addr))) kept = mt_error_set(err, MT_ENOMEM, "placement group");
    }
    if (st == MT_OK) st = kept;
    if (st == MT_OK) pg->placed = true;
    mt_free(bs);
    mt_free(bp);
    mt_free(rs);
    mt_free(ents);
    mt_free(eps);
    mt_free(done);
    return st;
}

/*
 * The planner's view, kept for VIEW_TTL_NS and charged with this driver's
 * own reservations and releases meanwhile (so back-to-back groups cost no
 * control-store call); a node refusing a plan made from it refreshes it.
 */
#define VIEW_TTL_NS 200000000LL
static struct {
    Manta__ClusterStatusReply *cs; /* the names and addresses in v point into it */
    view_node *v;
    int nv;
    int64_t at_ns;
} g_view;

static void view_drop(void)
{
    mt_gcs_reply_free(g_view.cs);
    mt_free(g_view.v);
    g_view.cs = NULL;
    g_view.v = NULL;
    g_view.nv = 0;
}

static mt_status view_get(bool fresh, mt_error *err)
{
    if (!fresh && g_view.cs && mt_time_now_ns() - g_view.at_ns < VIEW_TTL_NS) return MT_OK;
    view_drop();
    mt_gcs_client *g = NULL;
    MT_RETURN_NOT_OK(mt__drv_gcs(&g, err));
    MT_RETURN_NOT_OK(mt_gcs_cluster_status(g, &g_view.cs, err));
    int max = (int)g_view.cs->n_nodes + 1;
    if (!(g_view.v = mt_calloc((size_t)max, sizeof *g_view.v))) {
        view_drop();
        return mt_error_set(err, MT_ENOMEM, "placement group");
    }
    g_view.nv = view_of(g_view.cs, g_view.v, max);
    g_view.at_ns = mt_time_now_ns();
    return MT_OK;
}

/* Charges (sign 1) or credits (-1) the cached view with bundle i's resources on node addr. */
static void view_charge(const mt_placement_group *pg, int i, const char *addr, int sign)
{
    for (int k = 0; k < g_view.nv; k++) {
        if (strcmp(g_view.v[k].addr, addr)) continue;
        for (int q = 0; q < pg->nres[i]; q++)
            for (int r = 0; r < g_view.v[k].n; r++)
                if (!strcmp(g_view.v[k].name[r], pg->res[i][q].name)) g_view.v[k].q[r] -= sign * pg->res[i][q].quantity;
    }
}

/* One plan and reservation from the view: MT_OK, MT_ETIMEOUT (no room / refused), or an error. */
static mt_status place_once(mt_placement_group *pg, bool fresh, mt_error *err)
{
    MT_RETURN_NOT_OK(view_get(fresh, err));
    int nv = g_view.nv;
    view_node *v = mt_calloc((size_t)nv + 1, sizeof *v);
    int *where = mt_calloc((size_t)pg->n, sizeof *where);
    mt_status st = v && where ? MT_OK : mt_error_set(err, MT_ENOMEM, "placement group");
    if (st == MT_OK) memcpy(v, g_view.v, sizeof *v * (size_t)nv);
    for (int k = 0; k < nv && v; k++) v[k].used = 0;
    if (st == MT_OK && !plan(pg, v, nv, where))
        st = mt_error_set(err, MT_ETIMEOUT, "placement group cannot be placed now: no nodes with room for its bundles");
    if (st == MT_OK && (st = reserve(pg, v, nv, where, false, err)) != MT_OK && st != MT_ENOMEM) { /* a node filled up: later */
        mt_error_prefix(err, "placement group not placed yet");
        if (err) err->code = MT_ETIMEOUT;
        st = MT_ETIMEOUT;
    }
    for (int i = 0; st == MT_OK && i < pg->n; i++) view_charge(pg, i, pg->node[i], 1);
    mt_free(v);
    mt_free(where);
    return st;
}

/* One try: MT_OK placed; MT_ETIMEOUT not now (no room, or a node refused); other codes are errors. */
static mt_status try_place(mt_placement_group *pg, mt_error *err)
{
    if (pg->placed) return MT_OK;
    if (pg->removed) return mt_error_set(err, MT_ESTATE, "placement group %s was removed", pg->name ? pg->name : "");
    bool cached = g_view.cs != NULL;
    mt_status st = place_once(pg, false, err);
    if (st == MT_ETIMEOUT && cached) st = place_once(pg, true, err); /* the kept view may be stale */
    return st;
}

static void report(const mt_placement_group *pg);

/*
 * Node `addr` of a placed group did not answer. Once the control store no
 * longer lists it alive, the bundles it held are placed again on the alive
 * nodes (Ray reschedules a dead node's bundles; the others stay where they
 * are, their tasks untouched): by the group's strategy around the bundles
 * kept, a STRICT_SPREAD one on a node holding none of the others, all of
 * a STRICT_PACK group together. MT_OK: moved (ask the new node); MT_ETIMEOUT:
 * not now (the node is still listed alive, or nothing has room); other
 * codes are errors.
 */
mt_status mt__pg_node_lost(mt_id id, const char *node_addr, mt_error *err)
{
    char addr[300]; /* node_addr may be the group's own copy, which a move frees */
    snprintf(addr, sizeof addr, "%s", node_addr);
    mt_placement_group *pg = mt__drv.pgs;
    while (pg && !mt_id_equal(pg->id, id)) pg = pg->next;
    if (!pg || !pg->placed || pg->removed) return mt_error_set(err, MT_ESTATE, "placement group is not placed");
    MT_RETURN_NOT_OK(view_get(true, err));
    for (int k = 0; k < g_view.nv; k++)
        if (!strcmp(g_view.v[k].addr, addr))
            return mt_error_set(err, MT_ETIMEOUT, "node %s does not answer but is still listed alive", addr);
    int nv = g_view.nv, nlost = 0;
    view_node *v = mt_calloc((size_t)nv + 1, sizeof *v);
    int *where = mt_calloc((size_t)pg->n, sizeof *where);
    bool *lost = mt_calloc((size_t)pg->n, sizeof *lost);
    mt_status st = v && where && lost ? MT_OK : mt_error_set(err, MT_ENOMEM, "placement group");
    if (st == MT_OK) {
        memcpy(v, g_view.v, sizeof *v * (size_t)nv);
        for (int k = 0; k < nv; k++) v[k].used = 0;
        for (int i = 0; i < pg->n; i++) {
            lost[i] = !strcmp(pg->node[i], addr);
            nlost += lost[i];
            where[i] = -1;
            for (int k = 0; !lost[i] && k < nv; k++) v[k].used += !strcmp(v[k].addr, pg->node[i]); /* kept: its resources are in the view */
        }
        bool ok = nlost == pg->n ? plan(pg, v, nv, where) : place_each(pg, v, nv, where, lost);
        if (!nlost) st = MT_OK;
        else if (!ok) st = mt_error_set(err, MT_ETIMEOUT, "no alive node has room for the %d bundles node %s held", nlost, addr);
        else if ((st = reserve(pg, v, nv, where, true, err)) != MT_OK && st != MT_ENOMEM) st = MT_ETIMEOUT; /* the rest later */
    }
    for (int i = 0; where && lost && i < pg->n; i++)
        if (where[i] >= 0 && strcmp(pg->node[i], addr)) view_charge(pg, i, pg->node[i], 1); /* moved */
    if (st == MT_OK && nlost) {
        MT_LOG(MT_LOG_INFO, "PG-RESCHEDULE", "placement group %s: %d bundles of dead node %s placed again", pg->name ? pg->name : "",
               nlost, addr);
        if (pg->reported) report(pg); /* the control store lists the bundles' new nodes */
    }
    mt_free(v);
    mt_free(where);
    mt_free(lost);
    return st;
}

/* ---- What the control store lists ------------------------------------------------------ */

static const char *strategy_name(mt_pg_strategy s)
{
    static const char *names[] = {"PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"};
    return (unsigned)s <= MT_PG_STRICT_SPREAD ? names[s] : "?";
}

/* Tells the control store the group's state (one-way: placing does not wait on it). */
static void report(const mt_placement_group *pg)
{
    mt_gcs_client *g = NULL;
    if (mt__drv_gcs(&g, NULL) != MT_OK) return;
    Manta__PlacementGroupInfo info = MANTA__PLACEMENT_GROUP_INFO__INIT;
    Manta__ResourceSet *rs = mt_calloc((size_t)pg->n, sizeof *rs), **rp = mt_calloc((size_t)pg->n, sizeof *rp);
    Manta__ResourceSet__QuantitiesEntry(*ents)[MT__MAX_RESOURCES] = mt_calloc((size_t)pg->n, sizeof *ents);
    Manta__ResourceSet__QuantitiesEntry *(*eps)[MT__MAX_RESOURCES] = mt_calloc((size_t)pg->n, sizeof *eps);
    if (rs && rp && ents && eps) {
        for (int i = 0; i < pg->n; i++) {
            bundle_set(pg, i, &rs[i], ents[i], eps[i]);
            rp[i] = &rs[i];
        }
        info.placement_group_id.data = (uint8_t *)pg->id.bytes;
        info.placement_group_id.len = MT_ID_SIZE;
        info.name = pg->name ? pg->name : "";
        info.strategy = (char *)strategy_name(pg->strategy);
        info.state = pg->placed ? "CREATED" : "PENDING";
        info.n_bundles = (size_t)pg->n;
        info.bundles = rp;
        info.n_bundle_nodes = pg->placed ? (size_t)pg->n : 0;
        info.bundle_nodes = pg->node;
        info.creator_pid = (int32_t)getpid();
        info.created_ms = pg->created_ms;
        mt_error err;
        if (mt_gcs_report_placement_group(g, &info, &err) != MT_OK) MT_LOG(MT_LOG_WARN, "DRIVER-PG", "%s", err.msg);
    }
    mt_free(rs);
    mt_free(rp);
    mt_free(ents);
    mt_free(eps);
}

static void forget(const mt_placement_group *pg)
{
    mt_gcs_client *g = NULL;
    if (mt__drv_gcs(&g, NULL) == MT_OK) mt_gcs_forget_placement_group(g, pg->id, NULL);
}

/* ---- Public API ---------------------------------------------------------------------- */

static void pg_free(mt_placement_group *pg)
{
    for (int i = 0; i < pg->n; i++) {
        for (int q = 0; pg->res && pg->res[i] && q < pg->nres[i]; q++) mt_free((char *)pg->res[i][q].name);
        if (pg->res) mt_free(pg->res[i]);
        if (pg->node) mt_free(pg->node[i]);
    }
    mt_free(pg->res);
    mt_free(pg->nres);
    mt_free(pg->node);
    mt_free(pg->name);
    mt_free(pg);
}

static mt_status copy_bundles(mt_placement_group *pg, const mt_bundle *b, int n, mt_error *err)
{
    pg->res = mt_calloc((size_t)n, sizeof *pg->res);
    pg->nres = mt_calloc((size_t)n, sizeof *pg->nres);
    pg->node = mt_calloc((size_t)n, sizeof *pg->node);
    if (!pg->res || !pg->nres || !pg->node) return mt_error_set(err, MT_ENOMEM, "placement group");
    pg->n = n;
    for (int i = 0; i < n; i++) {
        if (b[i].num_resources < 1 || b[i].num_resources > MT__MAX_RESOURCES || !b[i].resources)
            return mt_error_set(err, MT_EINVAL, "placement group: bundle %d needs 1 to %d resources", i, MT__MAX_RESOURCES);
        if (!(pg->res[i] = mt_calloc((size_t)b[i].num_resources, sizeof **pg->res))) return mt_error_set(err, MT_ENOMEM, "placement group");
        double sum = 0;
        for (int q = 0; q < b[i].num_resources; q++) {
            const mt_resource *r = &b[i].resources[q];
            if (!r->name || !*r->name || strlen(r->name) > 63 || !(r->quantity >= 0) || r->quantity > 1e15)
                return mt_error_set(err, MT_EINVAL, "placement group: bundle %d resource %d: a name of 1..63 characters and a quantity >= 0 are needed", i, q);
            if (!(pg->res[i][q].name = mt_strdup(r->name))) return mt_error_set(err, MT_ENOMEM, "placement group");
            pg->res[i][q].quantity = r->quantity;
            pg->nres[i]++;
            sum += r->quantity;
        }
        if (sum <= 0) return mt_error_set(err, MT_EINVAL, "placement group: bundle %d is empty (Ray refuses {} bundles too)", i);
    }
    return MT_OK;
}

MT_API mt_status mt_placement_group_create(const mt_bundle *bundles, int n, mt_pg_strategy strategy, const char *name,
                                           mt_placement_group **out, mt_error *err)
{
    if (!out) return mt_error_set(err, MT_EINVAL, "mt_placement_group_create: NULL out");
    *out = NULL;
    if (n < 1 || n > MT_PG_MAX_BUNDLES || !bundles)
        return mt_error_set(err, MT_EINVAL, "placement group: %d bundles (1 to %d are allowed)", n, MT_PG_MAX_BUNDLES);
    if ((unsigned)strategy > MT_PG_STRICT_SPREAD) return mt_error_set(err, MT_EINVAL, "placement group: unknown strategy %d", (int)strategy);
    mt_placement_group *pg = mt_calloc(1, sizeof *pg);
    if (!pg) return mt_error_set(err, MT_ENOMEM, "placement group");
    pg->id = mt_id_random();
    pg->strategy = strategy;
    pg->created_ms = (int64_t)time(NULL) * 1000;
    mt_status st = name && !(pg->name = mt_strdup(name)) ? mt_error_set(err, MT_ENOMEM, "placement group") : MT_OK;
    if (st == MT_OK) st = copy_bundles(pg, bundles, n, err);
    if (st != MT_OK) {
        pg_free(pg);
        return st;
    }
    pthread_mutex_lock(&mt__drv.lock);
    st = mt__drv_check(err);
    mt_error e2;
    if (st == MT_OK) {
        mt_status pst = try_place(pg, &e2); /* pending is fine here: wait tries again */
        if (pst != MT_OK && pst != MT_ETIMEOUT) st = mt_error_set(err, pst, "%s", e2.msg);
    }
    if (st == MT_OK) {
        pg->next = mt__drv.pgs;
        mt__drv.pgs = pg;
        report(pg); /* listed; a pending group's bundles show under Demands */
        pg->reported = true;
    }
    pthread_mutex_unlock(&mt__drv.lock);
    if (st != MT_OK) {
        pg_free(pg);
        return st;
    }
    *out = pg;
    return MT_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

MT_API mt_status mt_placement_group_wait(mt_placement_group *pg, int64_t timeout_ms, mt_error *err)
{
    if (!pg) return mt_error_set(err, MT_EINVAL, "mt_placement_group_wait: NULL group");
    double deadline = timeout_ms < 0 ? -1 : now_ms() + (double)timeout_ms;
    for (;;) {
        pthread_mutex_lock(&mt__drv.lock);
        mt_status st = mt__drv_check(err);
        bool was = pg->placed;
        if (st == MT_OK) st = try_place(pg, err);
        if (st == MT_OK && !was && pg->reported) report(pg); /* PENDING -> CREATED */
        pthread_mutex_unlock(&mt__drv.lock);
        if (st != MT_ETIMEOUT) return st;
        if (deadline >= 0 && now_ms() >= deadline)
            return mt_error_set(err, MT_ETIMEOUT, "placement group %s not placed within %lld ms: %s", pg->name ? pg->name : "",
                                (long long)timeout_ms, err ? err->msg : "no room");
        struct timespec ts = {0, PLACE_RETRY_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Frees the group's bundles on every node it used (called under the lock). */
static void unplace(mt_placement_group *pg)
{
    for (int i = 0; pg->placed && i < pg->n; i++) {
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) seen = !strcmp(pg->node[k], pg->node[i]);
        if (!seen) release_on(pg, pg->node[i]);
        view_charge(pg, i, pg->node[i], -1);
    }
    for (int i = 0; i < pg->n; i++) {
        mt_free(pg->node[i]);
        pg->node[i] = NULL;
    }
    if (pg->reported) forget(pg);
    pg->placed = pg->reported = false;
}

MT_API mt_status mt_placement_group_remove(mt_placement_group *pg, mt_error *err)
{
    if (!pg) return mt_error_set(err, MT_EINVAL, "mt_placement_group_remove: NULL group");
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = pg->removed ? MT_OK : mt__drv_check(err);
    if (st == MT_OK && !pg->removed) unplace(pg);
    pg->removed = true;
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

MT_API void mt_placement_group_release(mt_placement_group *pg)
{
    if (!pg) return;
    pthread_mutex_lock(&mt__drv.lock);
    if (!pg->removed && mt__drv_check(NULL) == MT_OK) unplace(pg);
    for (mt_placement_group **pp = &mt__drv.pgs; *pp; pp = &(*pp)->next)
        if (*pp == pg) {
            *pp = pg->next;
            break;
        }
    pthread_mutex_unlock(&mt__drv.lock);
    pg_free(pg);
}

MT_API mt_id mt_placement_group_id(const mt_placement_group *pg) { return pg ? pg->id : (mt_id){0}; }

MT_API const char *mt_placement_group_bundle_node(const mt_placement_group *pg, int i)
{
    return pg && pg->placed && i >= 0 && i < pg->n ? pg->node[i] : NULL;
}

/* ---- For the task path (under the lock) -------------------------------------------- */

mt_status mt__pg_check(const mt_placement_group *pg, int bundle_index, mt_id *id, int *bundle, mt_error *err)
{
    int b = bundle_index - 1; /* MT_BUNDLE(i) = i + 1; MT_BUNDLE_ANY = 0 -> -1 */
    if (b < -1 || b >= pg->n) return mt_error_set(err, MT_EINVAL, "placement group has %d bundles; bundle %d asked", pg->n, b);
    if (pg->removed) return mt_error_set(err, MT_ESTATE, "placement group %s was removed", pg->name ? pg->name : "");
    *id = pg->id;
    *bundle = b;
    return MT_OK;
}

static const mt_placement_group *live(mt_id id)
{
    for (const mt_placement_group *pg = mt__drv.pgs; pg; pg = pg->next)
        if (mt_id_equal(pg->id, id)) return pg->placed ? pg : NULL;
    return NULL;
}

const char *mt__pg_node_for(mt_id id, int bundle)
{
    const mt_placement_group *pg = live(id);
    return pg ? pg->node[bundle < 0 ? 0 : bundle] : NULL;
}

double mt__pg_cpus_for(mt_id id, int bundle)
{
    const mt_placement_group *pg = live(id);
    if (!pg) return 1;
    double cpus = 0;
    const char *node = pg->node[bundle < 0 ? 0 : bundle];
    for (int i = 0; i < pg->n; i++) {
        if (bundle >= 0 ? i != bundle : strcmp(pg->node[i], node)) continue;
        for (int q = 0; q < pg->nres[i]; q++)
            if (!strcmp(pg->res[i][q].name, "CPU")) cpus += pg->res[i][q].quantity;
    }
    return cpus;
}

void mt__pg_shutdown(void)
{
    view_drop();
    while (mt__drv.pgs) { /* the handles stay the caller's; they are only unlinked and unplaced here */
        mt_placement_group *pg = mt__drv.pgs;
        mt__drv.pgs = pg->next;
        pg->next = NULL;
        unplace(pg);
        pg->removed = true;
    }
}
