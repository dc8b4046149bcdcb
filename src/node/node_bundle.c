/*
 * node_bundle.c — placement-group bundles on this node: NODE_RESERVE_BUNDLES
 * takes every bundle of a group placed here out of the node's available
 * resources at once, or none; leases asking for the group are then served
 * from a bundle's own availability (node_lease.c). NODE_RELEASE_BUNDLES,
 * or the reserving connection closing, ends the leases of the group's
 * bundles (their workers are killed, as Ray does) and gives the bundles'
 * resources back.
 *
 * Main thread only. Invariants: avail + Σ bundle totals = total - Σ granted
 * demands outside bundles; a bundle's avail = its total - Σ demands granted
 * from it; (pg, index) is unique.
 */
#include <stdio.h>
#include <string.h>

#include "node/node_int.h"

static void pg_hex(mt_id pg, char *out) /* 12 hex digits: enough to tell groups apart in messages */
{
    for (int i = 0; i < 6; i++) snprintf(out + 2 * i, 3, "%02x", pg.bytes[i]);
}

node_bundle *mt__node_bundle_find(mt__node *n, mt_id pg, int index, const node_res *d)
{
    for (node_bundle *b = n->bundles; b; b = b->next) {
        if (!mt_id_equal(b->pg, pg)) continue;
        if (index >= 0 ? b->index == index : (!d || mt__node_res_fits(&b->avail, d))) return b;
    }
    return NULL;
}

static void bundle_free(mt__node *n, node_bundle *b)
{
    for (node_bundle **pp = &n->bundles; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    mt__node_res_add(&n->avail, &b->total);
    mt_free(b);
}

/* Ends group pg's leases and frees its bundles here (those held by `holder` only, when it is not NULL). */
static int release(mt__node *n, mt_id pg, const node_client *holder, const char *why)
{
    int freed = 0;
    mt__node_lease_end_group(n, pg, -1, why);
    for (node_bundle *b = n->bundles, *next; b; b = next) {
        next = b->next;
        if (mt_id_equal(b->pg, pg) && (!holder || b->holder == holder)) {
            bundle_free(n, b);
            freed++;
        }
    }
    return freed;
}

void mt__node_bundles_reserve(node_client *cl, const mt_rpc_msg *m)
{
    mt__node *n = cl->node;
    Manta__ReserveBundlesRequest *req = manta__reserve_bundles_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    mt_id pg;
    if (!req || !mt__node_id_from_pb(req->placement_group_id, &pg) || req->n_bundles == 0) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "RESERVE_BUNDLES: a placement group id and at least one bundle are needed");
        if (req) manta__reserve_bundles_request__free_unpacked(req, &mt_rpc_pb_allocator);
        return;
    }
    char hex[16], buf[512];
    pg_hex(pg, hex);
    size_t nb = req->n_bundles;
    node_res *want = mt_calloc(nb, sizeof *want);
    node_res sum = {0};
    mt_status st = want ? MT_OK : MT_ENOMEM;
    mt_error err;
    for (size_t i = 0; st == MT_OK && i < nb; i++) {
        const Manta__Bundle *b = req->bundles[i];
        if (b->index < 0 || mt__node_bundle_find(n, pg, b->index, NULL)) {
            mt__node_reply(cl, m, MT_EEXIST, NULL, "RESERVE_BUNDLES: bundle %d of group %s is reserved here already",
                           b->index, hex);
            st = MT_EEXIST;
            break;
        }
        if ((st = mt__node_res_from_pb(b->resources, &want[i], &err)) != MT_OK) {
            mt__node_reply(cl, m, st, NULL, "RESERVE_BUNDLES: bundle %d: %s", b->index, err.msg);
            break;
        }
        for (int k = 0; st == MT_OK && k < want[i].n; k++)
            if ((st = mt__node_res_add_named(&sum, want[i].name[k], want[i].q[k], &err)) != MT_OK)
                mt__node_reply(cl, m, st, NULL, "RESERVE_BUNDLES: %s", err.msg);
    }
    if (st == MT_ENOMEM) mt__node_reply(cl, m, MT_ENOMEM, NULL, "RESERVE_BUNDLES: out of memory");
    if (st == MT_OK && !mt__node_res_fits(&n->total, &sum)) {
        mt__node_res_format(&sum, buf, sizeof buf);
        mt__node_reply(cl, m, MT_EUNSUPPORTED, NULL, "bundles %s of group %s need more than this node has", buf, hex);
        st = MT_EUNSUPPORTED;
    } else if (st == MT_OK && !mt__node_res_fits(&n->avail, &sum)) {
        mt__node_res_format(&sum, buf, sizeof buf);
        mt__node_reply(cl, m, MT_ETIMEOUT, NULL, "no room now for bundles %s of group %s", buf, hex);
        st = MT_ETIMEOUT;
    }
    for (size_t i = 0; st == MT_OK && i < nb; i++) {
        node_bundle *b = mt_calloc(1, sizeof *b);
        if (!b) { /* undo the ones made: all or none */
            release(n, pg, cl, "out of memory");
            mt__node_reply(cl, m, MT_ENOMEM, NULL, "RESERVE_BUNDLES: out of memory");
            st = MT_ENOMEM;
            break;
        }
        b->pg = pg;
        b->index = req->bundles[i]->index;
        b->total = b->avail = want[i];
        b->holder = cl;
        b->next = n->bundles;
        n->bundles = b;
        mt__node_res_sub(&n->avail, &want[i]);
    }
    if (st == MT_OK) mt__node_reply(cl, m, MT_OK, NULL, NULL);
    mt_free(want);
    manta__reserve_bundles_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

void mt__node_bundles_release(node_client *cl, const mt_rpc_msg *m)
{
    mt__node *n = cl->node;
    Manta__PlacementGroupRequest *req = manta__placement_group_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    mt_id pg;
    if (!req || !mt__node_id_from_pb(req->placement_group_id, &pg)) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "RELEASE_BUNDLES: a placement group id is needed");
    } else if (release(n, pg, NULL, "its placement group was removed") == 0) {
        char hex[16];
        pg_hex(pg, hex);
        mt__node_reply(cl, m, MT_ENOTFOUND, NULL, "RELEASE_BUNDLES: group %s has no bundles here", hex);
    } else {
        mt__node_reply(cl, m, MT_OK, NULL, NULL);
        mt__node_lease_schedule(n);
    }
    if (req) manta__placement_group_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

void mt__node_bundles_client_closed(node_client *cl)
{
    mt__node *n = cl->node;
    bool any = false;
    for (node_bundle *b = n->bundles, *next; b; b = next) {
        next = b->next;
        if (b->holder != cl) continue;
        mt_id pg = b->pg;
        release(n, pg, cl, "the connection that reserved its placement group closed");
        mt__node_gcs_pg_gone(n, pg); /* the control store stops listing it */
        any = true;
        next = n->bundles; /* release may have freed several */
    }
    if (any) mt__node_lease_schedule(n);
}

void mt__node_bundles_shutdown(mt__node *n)
{
    while (n->bundles) {
        node_bundle *b = n->bundles;
        n->bundles = b->next;
        mt_free(b);
    }
}
