/*
 * groupby.c — mt_table_groupby_mean: Ray's ds.groupby(key).mean(value).
 * Phase 1 maps every row to a group id through an open-addressing hash table
 * over the key (numeric keys as order-preserving 64-bit codes, string keys by
 * hash plus byte comparison); phase 2 accumulates sum and count per group
 * (int64/uint64 sums for integer values, compensated double sums for
 * floats, so a mean is within an ulp or so of the exact one); the groups
 * are then sorted by key and the null-key group, if any, goes last.
 *
 * Threads: any; the input table is only read.
 * Invariants: -0.0 and 0.0 form one group, as do all NaNs (sorted after
 * +inf); a group whose values are all null has a null mean.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"

enum { K_SIGNED, K_UNSIGNED, K_FLOAT, K_STRING };

typedef struct gb {
    const mt_array *key;
    int kind;
    int32_t *slots; /* group id + 1; 0 = empty */
    uint64_t mask;
    uint64_t *code; /* per group: ordered key code (numeric) or hash (string) */
    int64_t *rep;   /* per group: first row with this key */
    int64_t ngroups, gcap;
} gb;

static int key_kind(mt_type_id id)
{
    switch (id) {
    case MT_TYPE_BOOL:
    case MT_TYPE_UINT8:
    case MT_TYPE_UINT16:
    case MT_TYPE_UINT32:
    case MT_TYPE_UINT64:
        return K_UNSIGNED;
    case MT_TYPE_INT8:
    case MT_TYPE_INT16:
    case MT_TYPE_INT32:
    case MT_TYPE_INT64:
    case MT_TYPE_DATE32:
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64:
    case MT_TYPE_TIMESTAMP:
        return K_SIGNED;
    case MT_TYPE_FLOAT16:
    case MT_TYPE_FLOAT32:
    case MT_TYPE_FLOAT64:
        return K_FLOAT;
    case MT_TYPE_UTF8:
    case MT_TYPE_BINARY:
        return K_STRING;
    default:
        return -1;
    }
}

static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

/* The value at row i (valid) as a double / int64 / uint64, by type. */
static double get_double(const mt_array *a, int64_t i)
{
    const uint8_t *p = a->buffers[1]->data;
    int64_t j = a->offset + i;
    switch (a->type->id) {
    case MT_TYPE_FLOAT16: return half_to_double(((const uint16_t *)p)[j]);
    case MT_TYPE_FLOAT32: return ((const float *)p)[j];
    default: return ((const double *)p)[j];
    }
}

static int64_t get_signed(const mt_array *a, int64_t i)
{
    const uint8_t *p = a->buffers[1]->data;
    int64_t j = a->offset + i;
    switch (mt__data_fixed_width(a->type)) {
    case 1: return ((const int8_t *)p)[j];
    case 2: return ((const int16_t *)p)[j];
    case 4: return ((const int32_t *)p)[j];
    default: return ((const int64_t *)p)[j];
    }
}

static uint64_t get_unsigned(const mt_array *a, int64_t i)
{
    const uint8_t *p = a->buffers[1]->data;
    int64_t j = a->offset + i;
    switch (a->type->id) {
    case MT_TYPE_BOOL: return mt__data_bit_get(p, j);
    case MT_TYPE_UINT8: return p[j];
    case MT_TYPE_UINT16: return ((const uint16_t *)p)[j];
    case MT_TYPE_UINT32: return ((const uint32_t *)p)[j];
    default: return ((const uint64_t *)p)[j];
    }
}

/* Order-preserving code of a numeric key: codes compare as the keys do. */
static uint64_t numeric_code(const gb *g, int64_t i)
{
    if (g->kind == K_UNSIGNED) return get_unsigned(g->key, i);
    if (g->kind == K_SIGNED) return (uint64_t)get_signed(g->key, i) ^ (1ULL << 63);
    double d = get_double(g->key, i);
    uint64_t b;
    if (d == 0) d = 0.0;
    if (isnan(d)) return UINT64_MAX;
    memcpy(&b, &d, 8);
    return (b >> 63) ? ~b : b | (1ULL << 63);
}

static void str_at(const mt_array *a, int64_t i, const uint8_t **p, int32_t *n)
{
    const int32_t *off = (const int32_t *)a->buffers[1]->data + a->offset;
    *p = a->buffers[2]->data + off[i];
    *n = off[i + 1] - off[i];
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static uint64_t hash_bytes(const uint8_t *p, int32_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
    }
    uint64_t w = 0;
    memcpy(&w, p + i, (size_t)(n - i));
    return mix(h ^ w);
}

static uint64_t code_hash(const gb *g, uint64_t code)
{
    return g->kind == K_STRING ? code : mix(code);
}

static bool rehash(gb *g, uint64_t cap)
{
    int32_t *s = mt_calloc(cap, sizeof(int32_t));
    if (!s) return false;
    for (int64_t k = 0; k < g->ngroups; k++) {
        uint64_t h = code_hash(g, g->code[k]) & (cap - 1);
        while (s[h]) h = (h + 1) & (cap - 1);
        s[h] = (int32_t)(k + 1);
    }
    mt_free(g->slots);
    g->slots = s;
    g->mask = cap - 1;
    return true;
}

static int64_t add_group(gb *g, uint64_t code, int64_t row)
{
    if (g->ngroups >= INT32_MAX - 1) return -2;
    if (g->ngroups == g->gcap) {
        int64_t cap = g->gcap ? g->gcap * 2 : 256;
        uint64_t *c = mt_realloc(g->code, (size_t)cap * sizeof(uint64_t));
        if (c) g->code = c;
        int64_t *r = c ? mt_realloc(g->rep, (size_t)cap * sizeof(int64_t)) : NULL;
        if (!r) return -2;
        g->rep = r;
        g->gcap = cap;
    }
    g->code[g->ngroups] = code;
    g->rep[g->ngroups] = row;
    return g->ngroups++;
}

/* Group id of row i (key valid), inserting a new group when needed; -2 on OOM. */
static int64_t lookup(gb *g, int64_t i)
{
    uint64_t code;
    const uint8_t *p = NULL;
    int32_t n = 0;
    if (g->kind == K_STRING) {
        str_at(g->key, i, &p, &n);
        code = hash_bytes(p, n);
    } else {
        code = numeric_code(g, i);
    }
    uint64_t h = code_hash(g, code) & g->mask;
    for (;; h = (h + 1) & g->mask) {
        int32_t s = g->slots[h];
        if (!s) break;
        if (g->code[s - 1] != code) continue;
        if (g->kind != K_STRING) return s - 1;
        const uint8_t *q;
        int32_t m;
        str_at(g->key, g->rep[s - 1], &q, &m);
        if (m == n && memcmp(p, q, (size_t)n) == 0) return s - 1;
    }
    int64_t id = add_group(g, code, i);
    if (id < 0) return id;
    g->slots[h] = (int32_t)(id + 1);
    if ((uint64_t)g->ngroups * 2 > g->mask && !rehash(g, (g->mask + 1) * 2)) return -2;
    return id;
}

/* Small non-negative integral keys (int64, or float64 holding an integer)
 * skip the hash: a direct table maps them to their group once seen. */
enum { DENSE = 1024 };

/* Rows from i on whose float64 key is already in the dense table; returns the first that is not. */
static int64_t dense_run_f64(const double *restrict x, int64_t i, int64_t n, const int32_t *restrict dense,
                             int32_t *restrict gid)
{
    for (; i < n; i++) {
        double v = x[i];
        if (!(v >= 0 && v < DENSE)) break;
        int32_t d = (int32_t)v, s = dense[d];
        if ((double)d != v || !s) break;
        gid[i] = s - 1;
    }
    return i;
}

static int64_t dense_run_i64(const int64_t *restrict x, int64_t i, int64_t n, const int32_t *restrict dense,
                             int32_t *restrict gid)
{
    for (; i < n; i++) {
        uint64_t v = (uint64_t)x[i];
        if (v >= DENSE || !dense[v]) break;
        gid[i] = dense[v] - 1;
    }
    return i;
}

/* Phase 1: gid[i] = group of row i, -1 for a null key. */
static mt_status assign_groups(gb *g, int32_t *gid, mt_error *err)
{
    if (!rehash(g, 1024)) return mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
    const mt_array *k = g->key;
    const double *dv = k->type->id == MT_TYPE_FLOAT64 ? (const double *)k->buffers[1]->data + k->offset : NULL;
    const int64_t *iv = k->type->id == MT_TYPE_INT64 ? (const int64_t *)k->buffers[1]->data + k->offset : NULL;
    bool nulls = k->buffers[0] && mt_array_null_count((mt_array *)k) > 0;
    int32_t *dense = dv || iv ? mt_calloc(DENSE, sizeof *dense) : NULL; /* group id + 1 */
    for (int64_t i = 0; i < k->length; i++) {
        if (dense && !nulls) { /* the tight loops take every row already seen */
            i = dv ? dense_run_f64(dv, i, k->length, dense, gid) : dense_run_i64(iv, i, k->length, dense, gid);
            if (i == k->length) break;
        }
        if (nulls && !mt_array_is_valid(k, i)) {
            gid[i] = -1;
            continue;
        }
        int32_t d = -1;
        if (dense && dv) {
            double x = dv[i];
            if (x >= 0 && x < DENSE && x == (double)(int32_t)x) d = (int32_t)x; /* -0.0 joins 0.0 */
        } else if (dense && iv && iv[i] >= 0 && iv[i] < DENSE) {
            d = (int32_t)iv[i];
        }
        if (d >= 0 && dense[d]) {
            gid[i] = dense[d] - 1;
            continue;
        }
        int64_t id = lookup(g, i);
        if (id < 0) {
            mt_free(dense);
            return mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
        }
        gid[i] = (int32_t)id;
        if (d >= 0) dense[d] = (int32_t)id + 1;
    }
    mt_free(dense);
    return MT_OK;
}

typedef struct acc {
    int64_t *count;
    int64_t *isum; /* integer values (uint64 wraps the same bits) */
    double *dsum;  /* float values */
    double *dcomp; /* Neumaier compensation of dsum */
} acc;

/* Phase 2: slot ngroups collects the null-key group. */
static void accumulate(const mt_array *v, const int32_t *gid, int64_t ngroups, acc *a)
{
    int vk = key_kind(v->type->id);
    for (int64_t i = 0; i < v->length; i++) {
        if (!mt_array_is_valid(v, i)) continue;
        int64_t g = gid[i] < 0 ? ngroups : gid[i];
        a->count[g]++;
        if (vk == K_FLOAT) {
            double x = get_double(v, i), s = a->dsum[g], t = s + x;
            if (isfinite(t)) a->dcomp[g] += fabs(s) >= fabs(x) ? (s - t) + x : (x - t) + s;
            a->dsum[g] = t;
        }
        else if (vk == K_SIGNED)
            a->isum[g] = (int64_t)((uint64_t)a->isum[g] + (uint64_t)get_signed(v, i));
        else
            a->isum[g] = (int64_t)((uint64_t)a->isum[g] + get_unsigned(v, i));
    }
}

static double mean_of(const acc *a, int64_t g, int vk)
{
    double sum = vk == K_FLOAT ? (isfinite(a->dsum[g]) ? a->dsum[g] + a->dcomp[g] : a->dsum[g])
                 : vk == K_SIGNED ? (double)a->isum[g]
                                  : (double)(uint64_t)a->isum[g];
    return sum / (double)a->count[g];
}

typedef struct order {
    uint64_t code;
    const uint8_t *p;
    int32_t n, g;
} order;

static int cmp_code(const void *x, const void *y)
{
    const order *a = x, *b = y;
    return a->code < b->code ? -1 : a->code > b->code;
}

static int cmp_bytes(const void *x, const void *y)
{
    const order *a = x, *b = y;
    int32_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->p, b->p, (size_t)n) : 0;
    return c ? c : (a->n > b->n) - (a->n < b->n);
}

static order *sorted_groups(const gb *g)
{
    order *o = mt_malloc((size_t)(g->ngroups > 0 ? g->ngroups : 1) * sizeof(order));
    if (!o) return NULL;
    for (int64_t k = 0; k < g->ngroups; k++) {
        o[k].code = g->code[k];
        o[k].g = (int32_t)k;
        if (g->kind == K_STRING) str_at(g->key, g->rep[k], &o[k].p, &o[k].n);
    }
    qsort(o, (size_t)g->ngroups, sizeof(order), g->kind == K_STRING ? cmp_bytes : cmp_code);
    return o;
}

static mt_status append_key(mt_array_builder *b, const gb *g, int64_t row, mt_error *err)
{
    const mt_array *k = g->key;
    switch (k->type->id) {
    case MT_TYPE_BOOL: return mt_array_builder_append_bool(b, get_unsigned(k, row), err);
    case MT_TYPE_FLOAT16: return mt_array_builder_append_uint(b, ((const uint16_t *)k->buffers[1]->data)[k->offset + row], err);
    case MT_TYPE_FLOAT32:
    case MT_TYPE_FLOAT64: return mt_array_builder_append_double(b, get_double(k, row), err);
    default: break;
    }
    if (g->kind == K_STRING) {
        const uint8_t *p;
        int32_t n;
        str_at(k, row, &p, &n);
        return mt_array_builder_append_bytes(b, p, n, err);
    }
    if (g->kind == K_SIGNED) return mt_array_builder_append_int(b, get_signed(k, row), err);
    return mt_array_builder_append_uint(b, get_unsigned(k, row), err);
}

/* Builds the key and mean columns in key order; the null-key group last. */
static mt_status build_columns(const gb *g, const acc *a, int vk, bool null_group,
                               mt_array_builder *kb, mt_array_builder *mb, mt_error *err)
{
    order *o = sorted_groups(g);
    if (!o) return mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
    mt_status st = MT_OK;
    for (int64_t k = 0; k <= g->ngroups && st == MT_OK; k++) {
        int64_t grp = k < g->ngroups ? o[k].g : g->ngroups;
        if (k == g->ngroups && !null_group) break;
        st = k < g->ngroups ? append_key(kb, g, g->rep[grp], err)
                            : mt_array_builder_append_null(kb, err);
        if (st == MT_OK)
            st = a->count[grp] ? mt_array_builder_append_double(mb, mean_of(a, grp, vk), err)
                               : mt_array_builder_append_null(mb, err);
    }
    mt_free(o);
    return st;
}

static mt_status make_table(const mt_table *t, int32_t ki, const char *value,
                            mt_array_builder *kb, mt_array_builder *mb, mt_table **out,
                            mt_error *err)
{
    char mean_name[256];
    snprintf(mean_name, sizeof mean_name, "mean(%s)", value);
    const char *names[2] = {t->schema->fields[ki].name, mean_name};
    mt_type *types[2] = {t->columns[ki]->type, mt_type_new(MT_TYPE_FLOAT64)};
    mt_array *cols[2] = {NULL, NULL};
    mt_type *schema = mt_type_struct(2, names, types, NULL);
    mt_status st = schema ? MT_OK : mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
    if (st == MT_OK) st = mt_array_builder_finish(kb, &cols[0], err);
    if (st == MT_OK) st = mt_array_builder_finish(mb, &cols[1], err);
    if (st == MT_OK) st = mt_table_new(schema, cols, cols[0]->length, out, err);
    mt_array_release(cols[0]);
    mt_array_release(cols[1]);
    mt_type_release(schema);
    return st;
}

static mt_status check_args(const mt_table *t, const char *key, const char *value, int32_t *ki,
                            int32_t *vi, mt_error *err)
{
    *ki = mt_table_column_index(t, key);
    if (*ki < 0) return mt_error_set(err, MT_ENOTFOUND, "no column '%s'", key);
    *vi = mt_table_column_index(t, value);
    if (*vi < 0) return mt_error_set(err, MT_ENOTFOUND, "no column '%s'", value);
    char tn[128];
    const mt_type *kt = t->columns[*ki]->type, *vt = t->columns[*vi]->type;
    if (key_kind(kt->id) < 0) {
        mt_type_to_string(kt, tn, sizeof tn);
        return mt_error_set(err, MT_ETYPE, "cannot group by column '%s' of type %s", key, tn);
    }
    bool numeric = (vt->id >= MT_TYPE_INT8 && vt->id <= MT_TYPE_FLOAT64);
    if (!numeric) {
        mt_type_to_string(vt, tn, sizeof tn);
        return mt_error_set(err, MT_ETYPE, "cannot take the mean of column '%s' of type %s",
                            value, tn);
    }
    return MT_OK;
}

/* ---- Group index ----------------------------------------------------------- */

typedef struct gi_priv {
    gb g;
    mt_array *key; /* retained */
} gi_priv;

void mt_group_index_free(mt_group_index *x)
{
    if (!x) return;
    gi_priv *p = x->priv_;
    if (p) {
        mt_free(p->g.slots);
        mt_free(p->g.code);
        mt_free(p->g.rep);
        mt_array_release(p->key);
        mt_free(p);
    }
    mt_free(x->group);
    mt_free(x->order);
    mt_free(x->hash);
    mt_free(x);
}

mt_status mt_table_group_index(const mt_table *t, const char *key, mt_group_index **out, mt_error *err)
{
    *out = NULL;
    int32_t ki = mt_table_column_index(t, key);
    if (ki < 0) return mt_error_set(err, MT_ENOTFOUND, "no column '%s'", key);
    const mt_array *k = t->columns[ki];
    if (key_kind(k->type->id) < 0) {
        char tn[128];
        mt_type_to_string(k->type, tn, sizeof tn);
        return mt_error_set(err, MT_ETYPE, "cannot group by column '%s' of type %s", key, tn);
    }
    mt_group_index *x = mt_calloc(1, sizeof *x);
    gi_priv *p = x ? mt_calloc(1, sizeof *p) : NULL;
    int64_t n = t->num_rows;
    if (x) x->priv_ = p;
    if (p) {
        p->key = mt_array_retain((mt_array *)k);
        p->g = (gb){.key = k, .kind = key_kind(k->type->id)};
        x->group = mt_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    }
    mt_status st = x && p && x->group ? assign_groups(&p->g, x->group, err) : mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
    order *o = NULL;
    if (st == MT_OK) {
        x->num_groups = p->g.ngroups;
        x->has_null = mt_array_null_count((mt_array *)k) > 0;
        for (int64_t i = 0; x->has_null && i < n; i++)
            if (x->group[i] < 0) x->group[i] = (int32_t)x->num_groups;
        size_t ng = (size_t)x->num_groups + 1;
        x->order = mt_malloc(ng * sizeof *x->order);
        x->hash = mt_calloc(ng, sizeof *x->hash);
        o = sorted_groups(&p->g);
        if (!x->order || !x->hash || !o) st = mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
    }
    if (st == MT_OK) {
        for (int64_t i = 0; i < x->num_groups; i++) {
            x->order[i] = o[i].g;
            x->hash[i] = code_hash(&p->g, p->g.code[i]);
        }
        if (x->has_null) x->order[x->num_groups] = x->num_groups;
    }
    mt_free(o);
    if (st != MT_OK) {
        mt_group_index_free(x);
        return mt_error_prefix(err, "groupby '%s'", key);
    }
    *out = x;
    return MT_OK;
}

mt_status mt_group_index_keys(const mt_group_index *x, mt_array **out, mt_error *err)
{
    const gi_priv *p = x->priv_;
    mt_array_builder *b = mt_array_builder_new(p->key->type);
    if (!b) return mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
    mt_status st = MT_OK;
    int64_t n = x->num_groups + (x->has_null ? 1 : 0);
    for (int64_t i = 0; st == MT_OK && i < n; i++) {
        int64_t g = x->order[i];
        st = g < x->num_groups ? append_key(b, &p->g, p->g.rep[g], err) : mt_array_builder_append_null(b, err);
    }
    if (st == MT_OK) st = mt_array_builder_finish(b, out, err);
    mt_array_builder_destroy(b);
    return st;
}

mt_status mt_table_groupby_mean(mt_table *t, const char *key, const char *value, mt_table **out,
                                mt_error *err)
{
    int32_t ki = -1, vi = -1;
    MT_RETURN_NOT_OK(check_args(t, key, value, &ki, &vi, err));
    gb g = {.key = t->columns[ki], .kind = key_kind(t->columns[ki]->type->id)};
    const mt_array *v = t->columns[vi];
    int vk = key_kind(v->type->id);
    int64_t n = t->num_rows;
    int32_t *gid = mt_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    acc a = {NULL, NULL, NULL, NULL};
    mt_array_builder *kb = mt_array_builder_new(g.key->type);
    mt_array_builder *mb = mt_array_builder_new(mt_type_new(MT_TYPE_FLOAT64));
    mt_status st = gid && kb && mb ? assign_groups(&g, gid, err)
                                   : mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
    if (st == MT_OK) {
        size_t ng = (size_t)g.ngroups + 1; /* + the null-key group */
        a.count = mt_calloc(ng, sizeof(int64_t));
        a.isum = mt_calloc(ng, sizeof(int64_t));
        a.dsum = mt_calloc(ng, sizeof(double));
        a.dcomp = mt_calloc(ng, sizeof(double));
        if (!a.count || !a.isum || !a.dsum || !a.dcomp) st = mt_error_set(err, MT_ENOMEM, "out of memory in groupby");
    }
    if (st == MT_OK) {
        accumulate(v, gid, g.ngroups, &a);
        bool null_group = mt_array_null_count((mt_array *)g.key) > 0;
        st = build_columns(&g, &a, vk, null_group, kb, mb, err);
    }
    if (st == MT_OK) st = make_table(t, ki, value, kb, mb, out, err);
    if (st != MT_OK) mt_error_prefix(err, "groupby '%s' mean '%s'", key, value);
    mt_array_builder_destroy(kb);
    mt_array_builder_destroy(mb);
    mt_free(a.count);
    mt_free(a.isum);
    mt_free(a.dsum);
    mt_free(a.dcomp);
    mt_free(gid);
    mt_free(g.slots);
    mt_free(g.code);
    mt_free(g.rep);
    return st;
}
