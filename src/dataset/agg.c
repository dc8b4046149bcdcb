/*
 * agg.c — aggregation states that merge: map tasks turn a block into one
 * row of partial state per key (count; exact int64 or compensated double
 * sums; min/max; Welford mean + M2 for std), reduce tasks merge the rows of
 * equal keys (Chan's formula for M2) and finish them into Ray's columns
 * count(), sum(c), min(c), max(c), mean(c), std(c), sorted by key.
 *
 * State columns of aggregation i are named "<i>.<field>": c (int64 count
 * of valid values, rows for count()), si (int64 sum/min/max of integer
 * columns), sh + sl (double sum and its compensation), v (double min/max),
 * m + m2 (double mean and sum of squared deviations).
 *
 * Threads: any (pure functions of their tables).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dataset/ds_int.h"

enum { V_INT, V_FLOAT };

static int value_kind(mt_type_id id)
{
    switch (id) {
    case MT_TYPE_BOOL: case MT_TYPE_INT8: case MT_TYPE_INT16: case MT_TYPE_INT32: case MT_TYPE_INT64:
    case MT_TYPE_UINT8: case MT_TYPE_UINT16: case MT_TYPE_UINT32: case MT_TYPE_UINT64:
        return V_INT;
    case MT_TYPE_FLOAT32: case MT_TYPE_FLOAT64:
        return V_FLOAT;
    default:
        return -1;
    }
}

static int64_t get_i64(const mt_array *a, int64_t i)
{
    int64_t j = a->offset + i;
    const uint8_t *p = a->buffers[1]->data;
    switch (a->type->id) {
    case MT_TYPE_BOOL: return (p[j >> 3] >> (j & 7)) & 1;
    case MT_TYPE_INT8: return ((const int8_t *)p)[j];
    case MT_TYPE_INT16: return ((const int16_t *)p)[j];
    case MT_TYPE_INT32: return ((const int32_t *)p)[j];
    case MT_TYPE_UINT8: return ((const uint8_t *)p)[j];
    case MT_TYPE_UINT16: return ((const uint16_t *)p)[j];
    case MT_TYPE_UINT32: return ((const uint32_t *)p)[j];
    case MT_TYPE_UINT64: return (int64_t)((const uint64_t *)p)[j];
    default: return ((const int64_t *)p)[j];
    }
}

static double get_f64(const mt_array *a, int64_t i)
{
    if (a->type->id == MT_TYPE_FLOAT32) return ((const float *)a->buffers[1]->data)[a->offset + i];
    if (a->type->id == MT_TYPE_FLOAT64) return ((const double *)a->buffers[1]->data)[a->offset + i];
    return (double)get_i64(a, i);
}

/* Neumaier: adds x to the pair (s, c). */
static void kahan(double *s, double *c, double x)
{
    double t = *s + x;
    if (isfinite(t)) *c += fabs(*s) >= fabs(x) ? (*s - t) + x : (x - t) + *s;
    *s = t;
}

typedef struct spec {
    mt_agg_kind kind;
    const char *on;
    int ddof;
} spec;

static mt_status parse_aggs(json_t *aggs, spec **out, int *n, mt_error *err)
{
    size_t k = json_array_size(aggs);
    *out = mt_calloc(k ? k : 1, sizeof **out);
    if (!*out) return mt_error_set(err, MT_ENOMEM, "aggregate");
    for (size_t i = 0; i < k; i++) {
        json_t *a = json_array_get(aggs, i);
        (*out)[i].kind = (mt_agg_kind)json_integer_value(json_object_get(a, "kind"));
        (*out)[i].on = json_string_value(json_object_get(a, "on"));
        (*out)[i].ddof = (int)json_integer_value(json_object_get(a, "ddof"));
        if ((*out)[i].kind > MT_AGG_STD || ((*out)[i].kind != MT_AGG_COUNT && !(*out)[i].on)) {
            mt_free(*out);
            return mt_error_set(err, MT_EPARSE, "aggregate: bad aggregation %zu", i);
        }
    }
    *n = (int)k;
    return MT_OK;
}

/* ---- Column building ------------------------------------------------------ */

typedef struct cols {
    const char *names[256];
    char namebuf[256][128];
    mt_array *arr[256];
    int n;
} cols;

static mt_status add_col(cols *c, const char *name, mt_array *a, mt_error *err)
{
    if (!a) return mt_error_set(err, MT_ENOMEM, "aggregate: a column");
    if (c->n == 256) {
        mt_array_release(a);
        return mt_error_set(err, MT_ERANGE, "aggregate: too many columns");
    }
    snprintf(c->namebuf[c->n], sizeof c->namebuf[c->n], "%s", name);
    c->names[c->n] = c->namebuf[c->n];
    c->arr[c->n++] = a;
    return MT_OK;
}

/* A column of n int64 (ints) or double values, null where valid[i] is false (valid NULL: none null). */
static mt_array *column(bool ints, const void *v, const bool *valid, int64_t n)
{
    mt_array_builder *b = mt_array_builder_new(mt_type_new(ints ? MT_TYPE_INT64 : MT_TYPE_FLOAT64));
    mt_status st = b ? MT_OK : MT_ENOMEM;
    for (int64_t i = 0; st == MT_OK && i < n; i++)
        st = valid && !valid[i] ? mt_array_builder_append_null(b, NULL)
             : ints            ? mt_array_builder_append_int(b, ((const int64_t *)v)[i], NULL)
                               : mt_array_builder_append_double(b, ((const double *)v)[i], NULL);
    mt_array *a = NULL;
    if (st == MT_OK) mt_array_builder_finish(b, &a, NULL);
    mt_array_builder_destroy(b);
    return a;
}

static mt_array *ints(const int64_t *v, const bool *valid, int64_t n) { return column(true, v, valid, n); }
static mt_array *doubles(const double *v, const bool *valid, int64_t n) { return column(false, v, valid, n); }

static mt_status finish_table(cols *c, mt_table **out, int64_t rows, mt_error *err)
{
    mt_type *types[256];
    for (int i = 0; i < c->n; i++) types[i] = c->arr[i]->type;
    mt_type *schema = mt_type_struct(c->n, c->names, types, NULL);
    mt_status st = schema ? mt_table_new(schema, c->arr, rows, out, err) : mt_error_set(err, MT_ENOMEM, "aggregate");
    mt_type_release(schema);
    for (int i = 0; i < c->n; i++) mt_array_release(c->arr[i]);
    c->n = 0;
    return st;
}

static void cols_free(cols *c)
{
    for (int i = 0; i < c->n; i++) mt_array_release(c->arr[i]);
    c->n = 0;
}

/* Groups of t: g->group per row; ngroups; out_order[k] = group of output row k. */
typedef struct grouping {
    mt_group_index *gi; /* NULL: one group */
    int64_t ngroups;    /* including the null-key group */
    const int32_t *gid;
    int32_t *zeros;
    const int64_t *order;
    int64_t one;
} grouping;

static mt_status group(const mt_table *t, const char *key, grouping *g, mt_error *err)
{
    memset(g, 0, sizeof *g);
    if (key) {
        MT_RETURN_NOT_OK(mt_table_group_index(t, key, &g->gi, err));
        g->ngroups = g->gi->num_groups + (g->gi->has_null ? 1 : 0);
        g->gid = g->gi->group;
        g->order = g->gi->order;
        return MT_OK;
    }
    g->ngroups = 1;
    g->zeros = mt_calloc((size_t)(t->num_rows ? t->num_rows : 1), sizeof *g->zeros);
    if (!g->zeros) return mt_error_set(err, MT_ENOMEM, "aggregate");
    g->gid = g->zeros;
    g->order = &g->one;
    return MT_OK;
}

static void grouping_free(grouping *g)
{
    mt_group_index_free(g->gi);
    mt_free(g->zeros);
}

static mt_status key_column(const grouping *g, const char *key, cols *c, mt_error *err)
{
    if (!key) return MT_OK;
    mt_array *k = NULL;
    MT_RETURN_NOT_OK(mt_group_index_keys(g->gi, &k, err));
    return add_col(c, key, k, err);
}

/* ---- Partial states ----------------------------------------------------------- */

typedef struct state {
    int64_t *c, *si;
    double *sh, *sl, *v, *m, *m2;
} state;

static void state_free(state *s)
{
    mt_free(s->c);
    mt_free(s->si);
    mt_free(s->sh);
    mt_free(s->sl);
    mt_free(s->v);
    mt_free(s->m);
    mt_free(s->m2);
}

static bool state_alloc(state *s, int64_t n)
{
    size_t k = (size_t)(n ? n : 1);
    s->c = mt_calloc(k, sizeof *s->c);
    s->si = mt_calloc(k, sizeof *s->si);
    s->sh = mt_calloc(k, sizeof *s->sh);
    s->sl = mt_calloc(k, sizeof *s->sl);
    s->v = mt_calloc(k, sizeof *s->v);
    s->m = mt_calloc(k, sizeof *s->m);
    s->m2 = mt_calloc(k, sizeof *s->m2);
    return s->c && s->si && s->sh && s->sl && s->v && s->m && s->m2;
}

/* Emits state columns "<i>.<field>" for output rows in g->order. */
static mt_status emit_state(const grouping *g, int i, const spec *a, int vk, const state *s, cols *c, mt_error *err)
{
    int64_t n = g->ngroups;
    int64_t *ci = mt_malloc(sizeof *ci * (size_t)(n ? n : 1)), *ii = mt_malloc(sizeof *ii * (size_t)(n ? n : 1));
    double *d1 = mt_malloc(sizeof *d1 * (size_t)(n ? n : 1)), *d2 = mt_malloc(sizeof *d2 * (size_t)(n ? n : 1));
    mt_status st = ci && ii && d1 && d2 ? MT_OK : mt_error_set(err, MT_ENOMEM, "aggregate");
    char name[64];
    for (int64_t k = 0; st == MT_OK && k < n; k++) ci[k] = s->c[g->order[k]];
    snprintf(name, sizeof name, "%d.c", i);
    if (st == MT_OK) st = add_col(c, name, ints(ci, NULL, n), err);
    bool sum_like = a->kind == MT_AGG_SUM || a->kind == MT_AGG_MEAN;
    bool ext = a->kind == MT_AGG_MIN || a->kind == MT_AGG_MAX;
    if (st == MT_OK && (sum_like || ext) && vk == V_INT) {
        for (int64_t k = 0; k < n; k++) ii[k] = s->si[g->order[k]];
        snprintf(name, sizeof name, "%d.si", i);
        st = add_col(c, name, ints(ii, NULL, n), err);
    } else if (st == MT_OK && sum_like) {
        for (int64_t k = 0; k < n; k++) d1[k] = s->sh[g->order[k]], d2[k] = s->sl[g->order[k]];
        snprintf(name, sizeof name, "%d.sh", i);
        st = add_col(c, name, doubles(d1, NULL, n), err);
        snprintf(name, sizeof name, "%d.sl", i);
        if (st == MT_OK) st = add_col(c, name, doubles(d2, NULL, n), err);
    } else if (st == MT_OK && ext) {
        for (int64_t k = 0; k < n; k++) d1[k] = s->v[g->order[k]];
        snprintf(name, sizeof name, "%d.v", i);
        st = add_col(c, name, doubles(d1, NULL, n), err);
    } else if (st == MT_OK && a->kind == MT_AGG_STD) {
        for (int64_t k = 0; k < n; k++) d1[k] = s->m[g->order[k]], d2[k] = s->m2[g->order[k]];
        snprintf(name, sizeof name, "%d.m", i);
        st = add_col(c, name, doubles(d1, NULL, n), err);
        snprintf(name, sizeof name, "%d.m2", i);
        if (st == MT_OK) st = add_col(c, name, doubles(d2, NULL, n), err);
    }
    mt_free(ci);
    mt_free(ii);
    mt_free(d1);
    mt_free(d2);
    return st;
}

static mt_status value_column(const mt_table *t, const spec *a, const mt_array **v, int *vk, mt_error *err)
{
    *v = NULL;
    *vk = V_INT;
    if (a->kind == MT_AGG_COUNT) return MT_OK;
    int32_t j = mt_table_column_index(t, a->on);
    if (j < 0) return mt_error_set(err, MT_ENOTFOUND, "aggregate: no column '%s'", a->on);
    *v = t->columns[j];
    *vk = value_kind((*v)->type->id);
    if (*vk < 0) {
        char tn[128];
        mt_type_to_string((*v)->type, tn, sizeof tn);
        return mt_error_set(err, MT_ETYPE, "aggregate: column '%s' of type %s is not numeric", a->on, tn);
    }
    return MT_OK;
}

/* The common cases in tight loops: count(), and sum/mean of a float64 column
 * without nulls. With few groups, rows go round-robin to LANES separate
 * accumulators (so runs of one key do not wait on each other's adds),
 * merged at the end. */
enum { LANES = 4, LANE_GROUPS = 4096 };

static bool accumulate_fast(const mt_table *t, const grouping *g, const spec *a, const mt_array *v, state *s)
{
    const int32_t *restrict gid = g->gid;
    int64_t n = t->num_rows, ng = g->ngroups;
    bool sum = a->kind == MT_AGG_SUM || a->kind == MT_AGG_MEAN;
    if (a->kind != MT_AGG_COUNT &&
        (!sum || v->type->id != MT_TYPE_FLOAT64 || mt_array_null_count((mt_array *)v) != 0))
        return false;
    int lanes = ng <= LANE_GROUPS ? LANES : 1;
    size_t cells = (size_t)(ng ? ng : 1) * (size_t)lanes;
    int64_t *restrict c = lanes > 1 ? mt_calloc(cells, sizeof *c) : s->c;
    double *restrict sh = lanes > 1 && sum ? mt_calloc(cells, sizeof *sh) : s->sh;
    double *restrict sl = lanes > 1 && sum ? mt_calloc(cells, sizeof *sl) : s->sl;
    if (!c || !sh || !sl) {
        if (c != s->c) mt_free(c);
        if (sh != s->sh) mt_free(sh);
        if (sl != s->sl) mt_free(sl);
        return false; /* the plain loop needs no memory */
    }
    if (!sum) {
        for (int64_t r = 0; r < n; r++) c[(size_t)(r & (lanes - 1)) * (size_t)ng + (size_t)gid[r]]++;
    } else {
        const double *restrict x = (const double *)v->buffers[1]->data + v->offset;
        for (int64_t r = 0; r < n; r++) { /* Neumaier, branch-free; a non-finite sum ignores its compensation later */
            size_t k = (size_t)(r & (lanes - 1)) * (size_t)ng + (size_t)gid[r];
            double acc = sh[k], y = x[r], tot = acc + y;
            sl[k] += fabs(acc) >= fabs(y) ? (acc - tot) + y : (y - tot) + acc;
            sh[k] = tot;
            c[k]++;
        }
    }
    if (lanes == 1) return true;
    for (int l = 0; l < lanes; l++)
        for (int64_t k = 0; k < ng; k++) {
            size_t j = (size_t)l * (size_t)ng + (size_t)k;
            s->c[k] += c[j];
            if (!sum) continue;
            kahan(&s->sh[k], &s->sl[k], sh[j]);
            kahan(&s->sh[k], &s->sl[k], sl[j]);
        }
    mt_free(c);
    if (sum) {
        mt_free(sh);
        mt_free(sl);
    }
    return true;
}

static void accumulate(const mt_table *t, const grouping *g, const spec *a, const mt_array *v, int vk, state *s)
{
    if (accumulate_fast(t, g, a, v, s)) return;
    for (int64_t r = 0; r < t->num_rows; r++) {
        int32_t k = g->gid[r];
        if (a->kind == MT_AGG_COUNT) {
            s->c[k]++;
            continue;
        }
        if (!mt_array_is_valid(v, r)) continue;
        bool first = s->c[k]++ == 0;
        if (vk == V_INT && a->kind != MT_AGG_STD) {
            int64_t x = get_i64(v, r);
            if (a->kind == MT_AGG_SUM || a->kind == MT_AGG_MEAN) s->si[k] = (int64_t)((uint64_t)s->si[k] + (uint64_t)x);
            else if (first || (a->kind == MT_AGG_MIN ? x < s->si[k] : x > s->si[k])) s->si[k] = x;
            continue;
        }
        double x = get_f64(v, r);
        if (a->kind == MT_AGG_SUM || a->kind == MT_AGG_MEAN) {
            kahan(&s->sh[k], &s->sl[k], x);
        } else if (a->kind == MT_AGG_STD) { /* Welford */
            double d = x - s->m[k];
            s->m[k] += d / (double)s->c[k];
            s->m2[k] += d * (x - s->m[k]);
        } else if (first || (a->kind == MT_AGG_MIN ? x < s->v[k] : x > s->v[k])) {
            s->v[k] = x;
        }
    }
}

mt_status mt__agg_partial(const mt_table *t, const char *key, json_t *aggs, mt_table **out, mt_error *err)
{
    spec *a = NULL;
    int na = 0;
    MT_RETURN_NOT_OK(parse_aggs(aggs, &a, &na, err));
    grouping g;
    mt_status st = group(t, key, &g, err);
    cols *c = st == MT_OK ? mt_calloc(1, sizeof *c) : NULL;
    if (st == MT_OK && !c) st = mt_error_set(err, MT_ENOMEM, "aggregate");
    if (st == MT_OK) st = key_column(&g, key, c, err);
    for (int i = 0; st == MT_OK && i < na; i++) {
        const mt_array *v;
        int vk;
        state s = {0};
        st = value_column(t, &a[i], &v, &vk, err);
        if (st == MT_OK && !state_alloc(&s, g.ngroups)) st = mt_error_set(err, MT_ENOMEM, "aggregate");
        if (st == MT_OK) {
            accumulate(t, &g, &a[i], v, vk, &s);
            st = emit_state(&g, i, &a[i], vk, &s, c, err);
        }
        state_free(&s);
    }
    if (st == MT_OK) st = finish_table(c, out, g.ngroups, err);
    if (c) cols_free(c);
    mt_free(c);
    grouping_free(&g);
    mt_free(a);
    return st;
}

/* ---- Merging and finishing ------------------------------------------------------ */

static const mt_array *state_col(const mt_table *t, int i, const char *field)
{
    char name[64];
    snprintf(name, sizeof name, "%d.%s", i, field);
    int32_t j = mt_table_column_index(t, name);
    return j < 0 ? NULL : t->columns[j];
}

static const int64_t *i64s(const mt_array *a) { return (const int64_t *)a->buffers[1]->data + a->offset; }
static const double *f64s(const mt_array *a) { return (const double *)a->buffers[1]->data + a->offset; }

static mt_status finish_one(const mt_table *p, const grouping *g, int i, const spec *a, cols *c, mt_error *err)
{
    int64_t n = g->ngroups;
    const mt_array *cc = state_col(p, i, "c"), *si = state_col(p, i, "si"), *sh = state_col(p, i, "sh"),
                   *sl = state_col(p, i, "sl"), *v = state_col(p, i, "v"), *m = state_col(p, i, "m"),
                   *m2 = state_col(p, i, "m2");
    if (!cc) return mt_error_set(err, MT_ECORRUPT, "aggregate: partial states without column %d.c", i);
    state s = {0};
    if (!state_alloc(&s, n)) {
        state_free(&s);
        return mt_error_set(err, MT_ENOMEM, "aggregate");
    }
    bool *seen = mt_calloc((size_t)(n ? n : 1), sizeof *seen);
    for (int64_t r = 0; seen && r < p->num_rows; r++) {
        int32_t k = g->gid[r];
        int64_t cn = i64s(cc)[r];
        if (a->kind == MT_AGG_COUNT) {
            s.c[k] += cn;
            continue;
        }
        if (cn == 0) continue;
        bool first = !seen[k];
        seen[k] = true;
        int64_t before = s.c[k];
        s.c[k] += cn;
        if (si && (a->kind == MT_AGG_SUM || a->kind == MT_AGG_MEAN)) {
            s.si[k] = (int64_t)((uint64_t)s.si[k] + (uint64_t)i64s(si)[r]);
        } else if (si) {
            int64_t x = i64s(si)[r];
            if (first || (a->kind == MT_AGG_MIN ? x < s.si[k] : x > s.si[k])) s.si[k] = x;
        } else if (sh && sl) {
            kahan(&s.sh[k], &s.sl[k], f64s(sh)[r]);
            kahan(&s.sh[k], &s.sl[k], f64s(sl)[r]);
        } else if (v) {
            double x = f64s(v)[r];
            if (first || (a->kind == MT_AGG_MIN ? x < s.v[k] : x > s.v[k])) s.v[k] = x;
        } else if (m && m2) { /* Chan et al. */
            double nb = (double)cn, na = (double)before, mb = f64s(m)[r], d = mb - s.m[k];
            double tot = na + nb;
            s.m[k] += d * nb / tot;
            s.m2[k] += f64s(m2)[r] + d * d * na * nb / tot;
        }
    }
    bool *valid = mt_malloc(sizeof *valid * (size_t)(n ? n : 1));
    int64_t *iv = mt_malloc(sizeof *iv * (size_t)(n ? n : 1));
    double *dv = mt_malloc(sizeof *dv * (size_t)(n ? n : 1));
    mt_status st = seen && valid && iv && dv ? MT_OK : mt_error_set(err, MT_ENOMEM, "aggregate");
    char name[160];
    static const char *const fname[] = {"count", "sum", "min", "max", "mean", "std"};
    if (a->kind == MT_AGG_COUNT) snprintf(name, sizeof name, "count()");
    else snprintf(name, sizeof name, "%s(%.120s)", fname[a->kind], a->on);
    bool int_out = si && a->kind != MT_AGG_MEAN;
    for (int64_t o = 0; st == MT_OK && o < n; o++) {
        int64_t k = g->order[o];
        valid[o] = a->kind == MT_AGG_COUNT || s.c[k] > 0;
        iv[o] = a->kind == MT_AGG_COUNT ? s.c[k] : s.si[k];
        switch (a->kind) {
        case MT_AGG_SUM: dv[o] = isfinite(s.sh[k]) ? s.sh[k] + s.sl[k] : s.sh[k]; break;
        case MT_AGG_MIN:
        case MT_AGG_MAX: dv[o] = s.v[k]; break;
        case MT_AGG_MEAN:
            dv[o] = (si ? (double)s.si[k] : (isfinite(s.sh[k]) ? s.sh[k] + s.sl[k] : s.sh[k])) / (double)s.c[k];
            break;
        case MT_AGG_STD:
            valid[o] = s.c[k] - a->ddof > 0;
            dv[o] = valid[o] ? sqrt(s.m2[k] / (double)(s.c[k] - a->ddof)) : 0;
            break;
        default: break;
        }
    }
    if (st == MT_OK) st = add_col(c, name, a->kind == MT_AGG_COUNT || int_out ? ints(iv, valid, n) : doubles(dv, valid, n), err);
    mt_free(seen);
    mt_free(valid);
    mt_free(iv);
    mt_free(dv);
    state_free(&s);
    return st;
}

mt_status mt__agg_final(const mt_table *partials, const char *key, json_t *aggs, mt_table **out, mt_error *err)
{
    spec *a = NULL;
    int na = 0;
    MT_RETURN_NOT_OK(parse_aggs(aggs, &a, &na, err));
    grouping g;
    mt_status st = group(partials, key, &g, err);
    if (st == MT_OK && !key && partials->num_rows == 0) g.ngroups = 1; /* an empty dataset: one row of nulls */
    cols *c = st == MT_OK ? mt_calloc(1, sizeof *c) : NULL;
    if (st == MT_OK && !c) st = mt_error_set(err, MT_ENOMEM, "aggregate");
    if (st == MT_OK) st = key_column(&g, key, c, err);
    for (int i = 0; st == MT_OK && i < na; i++) st = finish_one(partials, &g, i, &a[i], c, err);
    if (st == MT_OK) st = finish_table(c, out, g.ngroups, err);
    if (c) cols_free(c);
    mt_free(c);
    grouping_free(&g);
    mt_free(a);
    return st;
}
