/*
 * driver_resources.c — what the cluster holds: mt_cluster_resources and
 * mt_available_resources (Ray's ray.cluster_resources() and
 * ray.available_resources(): sums over alive nodes, from the control
 * store's node table), and the cluster's CPU count the driver sizes its
 * lease caps by and its alive nodes' addresses SPREAD walks (cached for
 * CLUSTER_CPUS_TTL_NS: nodes join and leave).
 *
 * Threads: public calls take mt__drv.lock; mt__drv_cluster_cpus runs under
 * it. Invariant: a failed query leaves the cache as it was (the node's own
 * CPUs until the first success).
 */
#include <stdio.h>
#include <string.h>

#include "gcs/gcs_client.h"
#include "worker/worker_int.h"

#define CLUSTER_CPUS_TTL_NS 1000000000LL

/* Sums each resource of the alive nodes' totals (or availability) into a new array. */
static mt_status sum_nodes(const Manta__ClusterStatusReply *cs, bool available, mt_resource **out, int *nout,
                           mt_error *err)
{
    int n = 0, cap = 16;
    mt_resource *r = mt_calloc((size_t)cap, sizeof *r);
    mt_status st = r ? MT_OK : mt_error_set(err, MT_ENOMEM, "cluster resources");
    for (size_t i = 0; st == MT_OK && i < cs->n_nodes; i++) {
        const Manta__NodeInfo *ni = cs->nodes[i];
        const Manta__ResourceSet *set = available ? ni->resources_available : ni->resources_total;
        for (size_t k = 0; ni->alive && set && st == MT_OK && k < set->n_quantities; k++) {
            const char *name = set->quantities[k]->key;
            int at = 0;
            while (at < n && strcmp(r[at].name, name)) at++;
            if (at == n && n == cap) {
                mt_resource *grown = mt_realloc(r, sizeof *r * (size_t)cap * 2);
                if (!grown) {
                    st = mt_error_set(err, MT_ENOMEM, "cluster resources");
                    break;
                }
                memset(grown + cap, 0, sizeof *r * (size_t)cap);
                r = grown;
                cap *= 2;
            }
            if (at == n && !(r[n++].name = mt_strdup(name))) st = mt_error_set(err, MT_ENOMEM, "cluster resources");
            r[at].quantity += set->quantities[k]->value;
        }
    }
    if (st != MT_OK) {
        mt_resources_free(r, n);
        return st;
    }
    *out = r;
    *nout = n;
    return MT_OK;
}

static mt_status query(bool available, mt_resource **out, int *n, mt_error *err)
{
    if (!out || !n) return mt_error_set(err, MT_EINVAL, "%s: NULL output", available ? "mt_available_resources" : "mt_cluster_resources");
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&mt__drv.lock);
    mt_gcs_client *g = NULL;
    Manta__ClusterStatusReply *cs = NULL;
    mt_status st = mt__drv_check(err);
    if (st == MT_OK) st = mt__drv_gcs(&g, err);
    if (st == MT_OK) st = mt_gcs_cluster_status(g, &cs, err);
    if (st == MT_OK) st = sum_nodes(cs, available, out, n, err);
    mt_gcs_reply_free(cs);
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

MT_API mt_status mt_cluster_resources(mt_resource **out, int *n, mt_error *err) { return query(false, out, n, err); }
MT_API mt_status mt_available_resources(mt_resource **out, int *n, mt_error *err) { return query(true, out, n, err); }

MT_API void mt_resources_free(mt_resource *r, int n)
{
    for (int i = 0; r && i < n; i++) mt_free((char *)r[i].name);
    mt_free(r);
}

/* Keeps the alive nodes' addresses, this driver's node first (SPREAD walks them). */
static void keep_nodes(const Manta__ClusterStatusReply *cs)
{
    mt__driver *d = &mt__drv;
    mt__drv_nodes_free();
    d->nodes = mt_calloc(cs->n_nodes + 1, sizeof *d->nodes);
    for (int pass = 0; d->nodes && pass < 2; pass++)
        for (size_t i = 0; i < cs->n_nodes; i++) {
            const Manta__NodeInfo *ni = cs->nodes[i];
            bool self = ni->node_id.len == MT_ID_SIZE && !memcmp(ni->node_id.data, d->node_id.bytes, MT_ID_SIZE);
            if (self != (pass == 0) || !ni->alive || !ni->node_address || !*ni->node_address) continue;
            if ((d->nodes[d->nnodes] = mt_strdup(ni->node_address))) d->nnodes++;
        }
}

void mt__drv_nodes_free(void)
{
    mt__driver *d = &mt__drv;
    for (int i = 0; i < d->nnodes; i++) mt_free(d->nodes[i]);
    mt_free(d->nodes);
    d->nodes = NULL;
    d->nnodes = 0;
}

/* Refreshes the cached CPU count and node list when they are older than the TTL. */
static void refresh(void)
{
    mt__driver *d = &mt__drv;
    int64_t now = mt_time_now_ns();
    if (d->cluster_cpus > 0 && now - d->cluster_cpus_at_ns < CLUSTER_CPUS_TTL_NS) return;
    d->cluster_cpus_at_ns = now;
    mt_gcs_client *g = NULL;
    Manta__ClusterStatusReply *cs = NULL;
    mt_resource *r = NULL;
    int n = 0;
    if (mt__drv_gcs(&g, NULL) == MT_OK && mt_gcs_cluster_status(g, &cs, NULL) == MT_OK &&
        sum_nodes(cs, false, &r, &n, NULL) == MT_OK) {
        for (int i = 0; i < n; i++)
            if (!strcmp(r[i].name, "CPU") && r[i].quantity > 0) d->cluster_cpus = r[i].quantity;
        keep_nodes(cs);
    }
    mt_resources_free(r, n);
    mt_gcs_reply_free(cs);
    if (d->cluster_cpus <= 0) d->cluster_cpus = d->node_cpus;
}

double mt__drv_cluster_cpus(void)
{
    refresh();
    return mt__drv.cluster_cpus;
}

int mt__drv_alive_nodes(char ***addrs)
{
    refresh();
    *addrs = mt__drv.nodes;
    return mt__drv.nnodes;
}

/* Whether every resource of the demand is in `set` in that quantity. */
static bool set_fits(const Manta__ResourceSet *set, const mt_resource *res, int n)
{
    for (int i = 0; i < n; i++) {
        double have = 0;
        for (size_t k = 0; set && k < set->n_quantities; k++)
            if (!strcmp(set->quantities[k]->key, res[i].name)) have = set->quantities[k]->value;
        if (have < res[i].quantity) return false;
    }
    return true;
}

const Manta__NodeInfo *mt__drv_node_for(const Manta__ClusterStatusReply *cs, const mt_resource *res, int n)
{
    return mt__drv_node_for_ex(cs, res, n, NULL, false);
}

const Manta__NodeInfo *mt__drv_node_for_ex(const Manta__ClusterStatusReply *cs, const mt_resource *res, int n,
                                           const char *avoid, bool allow_self)
{
    const Manta__NodeInfo *best = NULL;
    for (size_t i = 0; i < cs->n_nodes; i++) {
        const Manta__NodeInfo *ni = cs->nodes[i];
        bool self = ni->node_id.len == MT_ID_SIZE && !memcmp(ni->node_id.data, mt__drv.node_id.bytes, MT_ID_SIZE);
        if (!ni->alive || (self && !allow_self) || !ni->node_address || !*ni->node_address ||
            !set_fits(ni->resources_total, res, n))
            continue;
        if (avoid && !strcmp(ni->node_address, avoid)) continue;
        if (!best || set_fits(ni->resources_available, res, n)) best = ni;
    }
    return best;
}
