/*
 * assemble.c — turns the definition/repetition levels and dense non-null
 * values of a field's leaves into Arrow arrays: validity bitmaps, list/map
 * offsets and struct children, for arbitrary nesting (record shredding in
 * reverse).
 *
 * Each pq_node selects its instances among the level entries of its first
 * leaf (rep <= slot_rep and def >= slot_def; valid when def >= def), so every
 * node is one linear pass. Flat columns take fast paths: their levels were
 * already turned into a validity bitmap (or none, without nulls) by
 * column_read.c, and without nulls the value buffers are handed over as
 * they are.
 *
 * Single-threaded. Invariants: a child's length must equal its parent's
 * instance (or item) count and a leaf's valid slots must equal its decoded
 * values, otherwise MT_ECORRUPT — so inconsistent leaves never produce an
 * array that reads out of bounds.
 */
#include "parquet/pq_value.h"

typedef struct asm_ctx {
    const pq_schema *s;
    pq_column_data *cols; /* cols[i] belongs to leaf base + i */
    int32_t base;
    mt_error *err;
} asm_ctx;

static mt_status build(asm_ctx *a, const pq_node *n, mt_array **out);

static inline uint8_t lv(const uint8_t *v, int64_t i)
{
    return v ? v[i] : 0;
}

/* Validity bitmap of a node's instances; NULL buffer when all valid. */
static mt_status select_instances(asm_ctx *a, const pq_node *n, const pq_column_data *c,
                                  int64_t *ninst, mt_buffer **valid, int64_t *nulls)
{
    const uint8_t *def = c->def, *rep = c->rep;
    int64_t k = 0, nn = 0;
    *valid = NULL;
    for (int64_t i = 0; i < c->num_levels; i++) {
        if (lv(rep, i) > n->slot_rep || lv(def, i) < n->slot_def) continue;
        k++;
        nn += lv(def, i) < n->def;
    }
    *ninst = k;
    *nulls = nn;
    if (nn == 0) return MT_OK;
    mt_buffer *b = mt_buffer_new((k + 7) / 8);
    if (!b) return mt_error_set(a->err, MT_ENOMEM, "out of memory");
    k = 0;
    for (int64_t i = 0; i < c->num_levels; i++) {
        if (lv(rep, i) > n->slot_rep || lv(def, i) < n->slot_def) continue;
        if (lv(def, i) >= n->def) b->data[k >> 3] |= (uint8_t)(1u << (k & 7));
        k++;
    }
    *valid = b;
    return MT_OK;
}

static void set_sizes(pq_sink *s)
{
    const pq_leaf *lf = s->leaf;
    if (lf->store == PQ_STORE_BOOL) {
        s->values->size = (s->count + 7) / 8;
        if (s->count & 7) s->values->data[s->count >> 3] &= (uint8_t)((1u << (s->count & 7)) - 1);
    }
    else if (lf->store == PQ_STORE_FIXED) s->values->size = s->count * lf->width;
    else {
        s->values->size = s->bytes;
        s->offsets->size = (s->count + 1) * 4;
    }
}

/* Spreads dense values to the valid slots of `valid` (ninst slots). */
static mt_status spread(asm_ctx *a, pq_sink *s, const mt_buffer *valid, int64_t ninst,
                        mt_buffer **bufs)
{
    const pq_leaf *lf = s->leaf;
    const uint8_t *vb = valid->data;
    if (lf->store == PQ_STORE_BINARY) {
        mt_buffer *off = mt_buffer_new((ninst + 1) * 4);
        if (!off) return mt_error_set(a->err, MT_ENOMEM, "out of memory");
        const int32_t *src = (const int32_t *)s->offsets->data;
        int32_t *dst = (int32_t *)off->data;
        int64_t j = 0;
        for (int64_t k = 0; k < ninst; k++) {
            j += (vb[k >> 3] >> (k & 7)) & 1;
            dst[k + 1] = src[j];
        }
        bufs[1] = off;
        bufs[2] = mt_buffer_retain(s->values);
        return MT_OK;
    }
    int64_t w = lf->store == PQ_STORE_BOOL ? 0 : lf->width;
    /* Every byte is written below except for bitmaps, which start zeroed. */
    mt_buffer *v = w ? mt_buffer_new_uninit(ninst * w) : mt_buffer_new((ninst + 7) / 8);
    if (!v) return mt_error_set(a->err, MT_ENOMEM, "out of memory");
    const uint8_t *src = s->values->data;
    int64_t j = 0;
    if (w == 8) { /* branchless: null slots read the next value (or slack) and store 0 */
        const uint64_t *s8 = (const uint64_t *)src;
        uint64_t *d8 = (uint64_t *)v->data;
        for (int64_t k = 0; k < ninst; k++) {
            uint64_t bit = (vb[k >> 3] >> (k & 7)) & 1;
            d8[k] = s8[j] & (0 - bit);
            j += (int64_t)bit;
        }
    } else if (w == 4) {
        const uint32_t *s4 = (const uint32_t *)src;
        uint32_t *d4 = (uint32_t *)v->data;
        for (int64_t k = 0; k < ninst; k++) {
            uint32_t bit = (vb[k >> 3] >> (k & 7)) & 1;
            d4[k] = s4[j] & (0 - bit);
            j += bit;
        }
    } else if (w) {
        for (int64_t k = 0; k < ninst; k++) {
            if ((vb[k >> 3] >> (k & 7)) & 1) memcpy(v->data + k * w, src + j++ * w, (size_t)w);
            else memset(v->data + k * w, 0, (size_t)w);
        }
    } else {
        for (int64_t k = 0; k < ninst; k++) {
            if (!((vb[k >> 3] >> (k & 7)) & 1)) continue;
            if ((src[j >> 3] >> (j & 7)) & 1) v->data[k >> 3] |= (uint8_t)(1u << (k & 7));
            j++;
        }
    }
    bufs[1] = v;
    return MT_OK;
}

static mt_status ensure_values(asm_ctx *a, pq_sink *s)
{
    return pq_sink_reserve(s, 0, 0, a->err);
}

static mt_status build_leaf(asm_ctx *a, const pq_node *n, mt_array **out)
{
    pq_column_data *c = &a->cols[n->leaf - a->base];
    pq_sink *s = &c->sink;
    MT_RETURN_NOT_OK(ensure_values(a, s));
    set_sizes(s);
    int64_t ninst, nulls;
    mt_buffer *valid = NULL;
    if (c->flat) { /* levels were decoded into the bitmap already */
        ninst = c->num_levels;
        nulls = c->null_count;
        valid = mt_buffer_retain(c->valid);
    } else {
        MT_RETURN_NOT_OK(select_instances(a, n, c, &ninst, &valid, &nulls));
    }
    if ((valid == NULL) != (nulls == 0)) {
        mt_buffer_release(valid);
        return mt_error_set(a->err, MT_ESTATE, "column '%s': validity and null count disagree",
                            s->leaf->path);
    }
    if (ninst - nulls != s->count) {
        mt_buffer_release(valid);
        return mt_error_set(a->err, MT_ECORRUPT, "column '%s': %lld values for %lld non-null slots",
                            s->leaf->path, (long long)s->count, (long long)(ninst - nulls));
    }
    mt_buffer *bufs[3] = {valid, NULL, NULL};
    mt_status st = MT_OK;
    if (!valid) {
        bufs[1] = s->leaf->store == PQ_STORE_BINARY ? s->offsets : s->values;
        bufs[2] = s->leaf->store == PQ_STORE_BINARY ? s->values : NULL;
        mt_buffer_retain(bufs[1]);
        if (bufs[2]) mt_buffer_retain(bufs[2]);
    } else {
        st = spread(a, s, valid, ninst, bufs);
    }
    if (st == MT_OK) {
        int nb = mt_array_num_buffers(n->type);
        *out = mt_array_new(n->type, ninst, 0, nulls, bufs, nb, NULL, 0);
        if (!*out) st = mt_error_set(a->err, MT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < 3; i++) mt_buffer_release(bufs[i]);
    return st;
}

static mt_status check_len(asm_ctx *a, const pq_node *parent, mt_array *child, int64_t want)
{
    if (child->length == want) return MT_OK;
    return mt_error_set(a->err, MT_ECORRUPT,
                        "field '%s': a child has %lld values, %lld expected (leaves disagree)",
                        parent->name ? parent->name : "",
                        (long long)child->length, (long long)want);
}

static mt_status build_struct(asm_ctx *a, const pq_node *n, mt_array **out)
{
    const pq_column_data *c = &a->cols[n->leaf - a->base];
    int64_t ninst, nulls;
    mt_buffer *valid = NULL;
    MT_RETURN_NOT_OK(select_instances(a, n, c, &ninst, &valid, &nulls));
    mt_array **kids = mt_calloc((size_t)n->num_children + 1, sizeof(mt_array *));
    mt_status st = kids ? MT_OK : mt_error_set(a->err, MT_ENOMEM, "out of memory");
    for (int32_t i = 0; st == MT_OK && i < n->num_children; i++) {
        st = build(a, &n->children[i], &kids[i]);
        if (st == MT_OK) st = check_len(a, n, kids[i], ninst);
    }
    if (st == MT_OK) {
        *out = mt_array_new(n->type, ninst, 0, nulls, &valid, 1, kids, n->num_children);
        if (!*out) st = mt_error_set(a->err, MT_ENOMEM, "out of memory");
    }
    for (int32_t i = 0; kids && i < n->num_children; i++) mt_array_release(kids[i]);
    mt_free(kids);
    mt_buffer_release(valid);
    return st;
}

/* LIST and MAP: offsets from the first leaf, then the single child. */
static mt_status build_list(asm_ctx *a, const pq_node *n, mt_array **out)
{
    const pq_column_data *c = &a->cols[n->leaf - a->base];
    const pq_node *it = &n->children[0];
    int64_t ninst, nulls;
    mt_buffer *valid = NULL;
    MT_RETURN_NOT_OK(select_instances(a, n, c, &ninst, &valid, &nulls));
    mt_buffer *off = mt_buffer_new((ninst + 1) * 4);
    if (!off) {
        mt_buffer_release(valid);
        return mt_error_set(a->err, MT_ENOMEM, "out of memory");
    }
    int32_t *o = (int32_t *)off->data;
    const uint8_t *def = c->def, *rep = c->rep;
    int64_t k = 0, items = 0;
    for (int64_t i = 0; i < c->num_levels; i++) {
        uint8_t d = lv(def, i), r = lv(rep, i);
        if (r <= n->slot_rep && d >= n->slot_def) o[k++] = (int32_t)items;
        if (r <= it->slot_rep && d >= it->slot_def) items++;
    }
    o[ninst] = (int32_t)items;
    mt_array *child = NULL;
    mt_status st = MT_OK;
    if (k != ninst || items > INT32_MAX)
        st = mt_error_set(a->err, MT_ECORRUPT, "field '%s': inconsistent list levels", n->name);
    if (st == MT_OK) st = build(a, it, &child);
    if (st == MT_OK) st = check_len(a, n, child, items);
    if (st == MT_OK) {
        mt_buffer *bufs[2] = {valid, off};
        *out = mt_array_new(n->type, ninst, 0, nulls, bufs, 2, &child, 1);
        if (!*out) st = mt_error_set(a->err, MT_ENOMEM, "out of memory");
    }
    mt_array_release(child);
    mt_buffer_release(off);
    mt_buffer_release(valid);
    return st;
}

static mt_status build(asm_ctx *a, const pq_node *n, mt_array **out)
{
    *out = NULL;
    switch (n->kind) {
    case PQ_NODE_LEAF: return build_leaf(a, n, out);
    case PQ_NODE_STRUCT: return build_struct(a, n, out);
    default: return build_list(a, n, out);
    }
}

mt_status pq_assemble(const pq_schema *s, const pq_node *node, pq_column_data *cols,
                      int64_t num_rows, mt_array **out, mt_error *err)
{
    asm_ctx a = {.s = s, .cols = cols, .base = node->leaf, .err = err};
    MT_RETURN_NOT_OK(build(&a, node, out));
    if ((*out)->length != num_rows) {
        int64_t got = (*out)->length;
        mt_array_release(*out);
        *out = NULL;
        return mt_error_set(err, MT_ECORRUPT, "field '%s' has %lld rows, the row group %lld",
                            node->name, (long long)got, (long long)num_rows);
    }
    return MT_OK;
}
