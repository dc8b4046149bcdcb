/*
 * gcs_pg.c — the control store's placement-group table: what drivers
 * report (one-way) as they create, place and remove groups, for
 * `manta list placement-groups` and the pending groups under Demands in
 * `manta status`. Memory only: a group's reservations live on its nodes and
 * end with its driver, so after a control-store restart drivers report
 * their groups again as they change.
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
};

mt_status mt__gcs_pgs_create(mt__gcs_pgs **out, mt_error *err)
{
    if (!(*out = mt_calloc(1, sizeof **out))) return mt_error_set(err, MT_ENOMEM, "placement group table");
    return MT_OK;
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
    return MT_OK;
}

mt_status mt__gcs_pg_remove(mt__gcs_pgs *t, ProtobufCBinaryData id, mt_error *err)
{
    size_t i = find(t, id);
    if (i == SIZE_MAX) return mt_error_set(err, MT_ENOTFOUND, "no such placement group");
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
