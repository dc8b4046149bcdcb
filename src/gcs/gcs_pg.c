/*
 * gcs_pg.c — the control store's placement-group table: what drivers
 * report (one-way) as they create, place and remove groups, for
 * `manta list placement-groups` and the pending groups under Demands in
 * `manta status`. Written through to the SQLite file when the control
 * store persists (a restarted head lists the groups it knew); a group's
 * reservations themselves live on its nodes and end with its driver.
 *
 * Threads: the control store's loop. Invariants: ids are unique; removed
 * groups are dropped (the table holds only PENDING and CREATED groups).
 */
#include <string.h>

#include "gcs/gcs_int.h"
#include "rpc/rpc.h"

struct mt__gcs_pgs {
    Manta__PlacementGroupInfo **pg;
    size_t n, cap;
    mt__gcs_persist *persist; /* NULL: memory only */
    bool loading;
};

static void load_row(const uint8_t *blob, size_t len, void *ud)
{
    mt__gcs_pgs *t = ud;
    Manta__PlacementGroupInfo *p = manta__placement_group_info__unpack(&mt_rpc_pb_allocator, len, blob);
    mt_error e;
    if (!p || mt__gcs_pg_register(t, p, &e) != MT_OK)
        MT_LOG(MT_LOG_WARN, "GCS-RESTORE", "skipping a placement_groups row: %s", p ? e.msg : "undecodable");
    if (p) manta__placement_group_info__free_unpacked(p, &mt_rpc_pb_allocator);
}

mt_status mt__gcs_pgs_create(mt__gcs_persist *persist, mt__gcs_pgs **out, mt_error *err)
{
    mt__gcs_pgs *t = *out = mt_calloc(1, sizeof **out);
    if (!t) return mt_error_set(err, MT_ENOMEM, "placement group table");
    if (!persist) return MT_OK;
    t->loading = true;
    mt_status st = mt__gcs_persist_each(persist, "placement_groups", load_row, t, err);
    t->loading = false;
    t->persist = persist;
    if (st == MT_OK && t->n) MT_LOG(MT_LOG_INFO, "GCS-RESTORE", "recovered %zu placement groups", t->n);
    return st;
}

/* Writes the change through (a failure is logged: the table in memory stays right). */
static void persist_put(mt__gcs_pgs *t, const Manta__PlacementGroupInfo *p)
{
    mt_error e;
    if (t->persist && !t->loading &&
        mt__gcs_persist_put(t->persist, "placement_groups", p->placement_group_id, &p->base, &e) != MT_OK)
        MT_LOG(MT_LOG_WARN, "GCS-PERSIST", "placement group: %s", e.msg);
}

static void pg_free(Manta__PlacementGroupInfo *p)
{
    if (p) protobuf_c_message_free_unpacked(&p->base, &mt_rpc_pb_allocator);
}

void mt__gcs_pgs_destroy(mt__gcs_pgs *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) pg_free(t->pg[i]);
    mt_free(t->pg);
    mt_free(t);
}

static size_t find(const mt__gcs_pgs *t, ProtobufCBinaryData id)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->pg[i]->placement_group_id.len == id.len && !memcmp(t->pg[i]->placement_group_id.data, id.data, id.len))
            return i;
    return SIZE_MAX;
}

/* A deep copy (pack + unpack: the request's memory goes with the request). */
static Manta__PlacementGroupInfo *copy(const Manta__PlacementGroupInfo *p)
{
    size_t len = protobuf_c_message_get_packed_size(&p->base);
    uint8_t *buf = mt_malloc(len ? len : 1);
    if (!buf) return NULL;
    protobuf_c_message_pack(&p->base, buf);
    Manta__PlacementGroupInfo *c = manta__placement_group_info__unpack(&mt_rpc_pb_allocator, len, buf);
    mt_free(buf);
    return c;
}

mt_status mt__gcs_pg_register(mt__gcs_pgs *t, const Manta__PlacementGroupInfo *p, mt_error *err)
{
    if (!p || p->placement_group_id.len != MT_ID_SIZE)
        return mt_error_set(err, MT_EINVAL, "placement group: an id of %d bytes is needed", MT_ID_SIZE);
    Manta__PlacementGroupInfo *c = copy(p);
    if (!c) return mt_error_set(err, MT_ENOMEM, "placement group table");
    size_t i = find(t, p->placement_group_id);
    if (i != SIZE_MAX) {
        pg_free(t->pg[i]);
        t->pg[i] = c;
        persist_put(t, c);
        return MT_OK;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        Manta__PlacementGroupInfo **g = mt_realloc(t->pg, cap * sizeof *g);
        if (!g) {
            pg_free(c);
            return mt_error_set(err, MT_ENOMEM, "placement group table");
        }
        t->pg = g;
        t->cap = cap;
    }
    t->pg[t->n++] = c;
    persist_put(t, c);
    return MT_OK;
}

mt_status mt__gcs_pg_remove(mt__gcs_pgs *t, ProtobufCBinaryData id, mt_error *err)
{
    size_t i = find(t, id);
    if (i == SIZE_MAX) return mt_error_set(err, MT_ENOTFOUND, "no such placement group");
    mt_error e;
    if (t->persist && mt__gcs_persist_del(t->persist, "placement_groups", id, &e) != MT_OK)
        MT_LOG(MT_LOG_WARN, "GCS-PERSIST", "placement group: %s", e.msg);
    pg_free(t->pg[i]);
    t->pg[i] = t->pg[--t->n];
    return MT_OK;
}

size_t mt__gcs_pg_list(const mt__gcs_pgs *t, bool pending_only, Manta__PlacementGroupInfo ***out)
{
    *out = NULL;
    size_t k = 0;
    Manta__PlacementGroupInfo **v = t->n ? mt_calloc(t->n, sizeof *v) : NULL;
    for (size_t i = 0; v && i < t->n; i++)
        if (!pending_only || (t->pg[i]->state && !strcmp(t->pg[i]->state, "PENDING"))) v[k++] = t->pg[i];
    *out = v;
    return k;
}
