/*
 * gcs_status_fmt.c — turns a ClusterStatusReply into the text of
 * `manta status`, in the shape of Ray's `ray status`: node counts (Active,
 * Pending, Recent failures), summed resource usage of live nodes and the
 * pending resource demands. Pure formatting; any thread.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcs/gcs_int.h"

#define RULE "---------------------------------------------------------------"

void mt__gcs_format_bytes(double b, char *out, size_t cap)
{
    const double k = 1024.0;
    if (b >= k * k * k)
        snprintf(out, cap, "%.2fGiB", b / (k * k * k));
    else if (b >= k * k)
        snprintf(out, cap, "%.2fMiB", b / (k * k));
    else if (b >= k)
        snprintf(out, cap, "%.2fKiB", b / k);
    else
        snprintf(out, cap, "%.0fB", b);
}

static void node_hex(const Manta__NodeInfo *n, char out[2 * MT_ID_SIZE + 1])
{
    mt_id id = mt_id_nil();
    if (n->node_id.len == MT_ID_SIZE) memcpy(id.bytes, n->node_id.data, MT_ID_SIZE);
    mt_id_hex(id, out);
}

static double rs_get(const Manta__ResourceSet *rs, const char *name)
{
    if (!rs) return 0;
    for (size_t i = 0; i < rs->n_quantities; i++)
        if (rs->quantities[i]->key && !strcmp(rs->quantities[i]->key, name))
            return rs->quantities[i]->value;
    return 0;
}

/* Resource names ordered CPU, GPU, then the rest by name, memory last. */
static int rank(const char *n)
{
    if (!strcmp(n, "CPU")) return 0;
    if (!strcmp(n, "GPU")) return 1;
    if (!strcmp(n, "memory")) return 3;
    return 2;
}

static int cmp_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int rx = rank(x), ry = rank(y);
    return rx != ry ? rx - ry : strcmp(x, y);
}

/* Collects the distinct resource names of live nodes' totals (pointers into r);
 * object_store_memory is printed from the node's store fields instead. */
static size_t collect_names(const Manta__ClusterStatusReply *r, const char **names, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_nodes; i++) {
        const Manta__ResourceSet *rs = r->nodes[i]->resources_total;
        if (!r->nodes[i]->alive || !rs) continue;
        for (size_t q = 0; q < rs->n_quantities; q++) {
            const char *k = rs->quantities[q]->key;
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++) seen = !strcmp(names[j], k);
            /* node:<ip> resources are placement labels, not capacity: `ray status` leaves them out too */
            if (!seen && n < cap && k && strcmp(k, "object_store_memory") && strncmp(k, "node:", 5)) names[n++] = k;
        }
    }
    qsort(names, n, sizeof *names, cmp_names);
    return n;
}

static void print_nodes(const Manta__ClusterStatusReply *r, FILE *out)
{
    char hex[2 * MT_ID_SIZE + 1];
    fprintf(out, "Node status\n%s\nActive:\n", RULE);
    size_t alive = 0, dead = 0;
    for (size_t i = 0; i < r->n_nodes; i++) {
        if (!r->nodes[i]->alive) {
            dead++;
            continue;
        }
        node_hex(r->nodes[i], hex);
        fprintf(out, " 1 node_%s\n", hex);
        alive++;
    }
    if (!alive) fprintf(out, " (no active nodes)\n");
    fprintf(out, "Pending:\n (no pending nodes)\nRecent failures:\n");
    for (size_t i = 0; i < r->n_nodes; i++) {
        if (r->nodes[i]->alive) continue;
        node_hex(r->nodes[i], hex);
        fprintf(out, " node_%s: NodeDied (ip: %s)\n", hex,
                r->nodes[i]->node_ip ? r->nodes[i]->node_ip : "");
    }
    if (!dead) fprintf(out, " (no failures)\n");
}

static void print_usage(const Manta__ClusterStatusReply *r, FILE *out)
{
    const char *names[64];
    size_t n = collect_names(r, names, 64);
    fprintf(out, "\nResources\n%s\nUsage:\n", RULE);
    for (size_t k = 0; k < n; k++) {
        double total = 0, avail = 0;
        for (size_t i = 0; i < r->n_nodes; i++) {
            if (!r->nodes[i]->alive) continue;
            total += rs_get(r->nodes[i]->resources_total, names[k]);
            avail += rs_get(r->nodes[i]->resources_available, names[k]);
        }
        if (!strcmp(names[k], "memory")) {
            char u[32], t[32];
            mt__gcs_format_bytes(total - avail, u, sizeof u);
            mt__gcs_format_bytes(total, t, sizeof t);
            fprintf(out, " %s/%s memory\n", u, t);
        } else {
            fprintf(out, " %.1f/%.1f %s\n", total - avail, total, names[k]);
        }
    }
    double used = 0, cap = 0;
    for (size_t i = 0; i < r->n_nodes; i++) {
        if (!r->nodes[i]->alive) continue;
        double c = (double)r->nodes[i]->object_store_capacity;
        used += (double)r->nodes[i]->object_store_used;
        cap += c > 0 ? c : rs_get(r->nodes[i]->resources_total, "object_store_memory");
    }
    char u[32], t[32];
    mt__gcs_format_bytes(used, u, sizeof u);
    mt__gcs_format_bytes(cap, t, sizeof t);
    fprintf(out, " %s/%s object_store_memory\n", u, t);
}

/* "{'CPU': 1.0, 'GPU': 0.5}" with keys in name order. */
static void demand_text(const Manta__ResourceSet *rs, char *buf, size_t cap)
{
    const char *names[32];
    size_t n = 0;
    for (size_t q = 0; q < rs->n_quantities && n < 32; q++)
        if (rs->quantities[q]->key) names[n++] = rs->quantities[q]->key;
    qsort(names, n, sizeof *names, cmp_names);
    size_t off = (size_t)snprintf(buf, cap, "{");
    for (size_t k = 0; k < n && off < cap; k++)
        off += (size_t)snprintf(buf + off, cap - off, "%s'%s': %.1f", k ? ", " : "", names[k],
                                rs_get(rs, names[k]));
    if (off < cap) snprintf(buf + off, cap - off, "}");
}

static void print_demands(const Manta__ClusterStatusReply *r, FILE *out)
{
    fprintf(out, "\nDemands:\n");
    enum { MAXD = 64 };
    char texts[MAXD][256];
    int counts[MAXD];
    size_t nd = 0;
    for (size_t i = 0; i < r->n_nodes; i++) {
        if (!r->nodes[i]->alive) continue;
        for (size_t d = 0; d < r->nodes[i]->n_pending_demands; d++) {
            char t[256];
            demand_text(r->nodes[i]->pending_demands[d], t, sizeof t);
            size_t j = 0;
            while (j < nd && strcmp(texts[j], t)) j++;
            if (j == nd) {
                if (nd == MAXD) continue;
                strcpy(texts[nd], t);
                counts[nd++] = 0;
            }
            counts[j]++;
        }
    }
    /* pending placement groups, as Ray prints them: "{'CPU': 1.0} * 4 (STRICT_SPREAD): 1+ pending placement groups" */
    char gtexts[MAXD][300];
    int gcounts[MAXD];
    size_t ng = 0;
    for (size_t i = 0; i < r->n_pending_placement_groups; i++) {
        const Manta__PlacementGroupInfo *pg = r->pending_placement_groups[i];
        char t[300] = "", b0[256] = "";
        size_t off = 0;
        bool same = true;
        for (size_t b = 0; b < pg->n_bundles; b++) {
            char bt[256];
            demand_text(pg->bundles[b], bt, sizeof bt);
            if (!b) snprintf(b0, sizeof b0, "%s", bt);
            same = same && !strcmp(bt, b0);
        }
        if (same && pg->n_bundles > 1) {
            snprintf(t, sizeof t, "%s * %zu (%s)", b0, pg->n_bundles, pg->strategy);
        } else {
            for (size_t b = 0; b < pg->n_bundles && off < sizeof t; b++) {
                char bt[256];
                demand_text(pg->bundles[b], bt, sizeof bt);
                off += (size_t)snprintf(t + off, sizeof t - off, "%s%s", b ? ", " : "", bt);
            }
            if (off < sizeof t) snprintf(t + off, sizeof t - off, " (%s)", pg->strategy);
        }
        size_t j = 0;
        while (j < ng && strcmp(gtexts[j], t)) j++;
        if (j == ng) {
            if (ng == MAXD) continue;
            strcpy(gtexts[ng], t);
            gcounts[ng++] = 0;
        }
        gcounts[j]++;
    }
    if (!nd && !ng) fprintf(out, " (no resource demands)\n");
    for (size_t j = 0; j < nd; j++) fprintf(out, " %s: %d+ pending tasks/actors\n", texts[j], counts[j]);
    for (size_t j = 0; j < ng; j++) fprintf(out, " %s: %d+ pending placement groups\n", gtexts[j], gcounts[j]);
}

void mt__gcs_status_print(const Manta__ClusterStatusReply *r, FILE *out)
{
    time_t secs = (time_t)(r->time_ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(out, "======== Autoscaler status: %s.%06lld ========\n", stamp,
            (long long)(r->time_ms % 1000) * 1000);
    print_nodes(r, out);
    print_usage(r, out);
    print_demands(r, out);
}
