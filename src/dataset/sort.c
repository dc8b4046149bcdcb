/*
 * sort.c — mt_sort: a range-partitioned exchange. Sample tasks
 * (`manta.data.sample`) take evenly spaced key values of each block; the
 * driver sorts the samples and picks p - 1 bounds; map tasks send each row
 * to the range its key falls in; reduce tasks sort their range. Also the
 * key comparison both sides share.
 *
 * Order: ascending or descending by the key, nulls and NaN last in both
 * directions, ties in their input order (the sort is stable: equal keys
 * meet in one range, concatenated in map order, and sorted stably).
 *
 * Threads: tasks on workers' main threads, mt_sort on the caller's.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/ds_int.h"

/* ---- Keys ------------------------------------------------------------------- */

typedef enum { K_INT, K_UINT, K_FLOAT, K_BYTES } key_kind;

typedef struct key {
    const mt_array *a;
    key_kind kind;
} key;

static mt_status key_of(const mt_table *t, const char *name, key *k, mt_error *err)
{
    int32_t i = name ? mt_table_column_index(t, name) : -1;
    if (i < 0) return mt_error_set(err, MT_ENOTFOUND, "sort: no column '%s'", name ? name : "(null)");
    k->a = t->columns[i];
    switch (k->a->type->id) {
    case MT_TYPE_BOOL:
    case MT_TYPE_INT8:
    case MT_TYPE_INT16:
    case MT_TYPE_INT32:
    case MT_TYPE_INT64:
    case MT_TYPE_DATE32:
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64:
    case MT_TYPE_TIMESTAMP: k->kind = K_INT; return MT_OK;
    case MT_TYPE_UINT8:
    case MT_TYPE_UINT16:
    case MT_TYPE_UINT32:
    case MT_TYPE_UINT64: k->kind = K_UINT; return MT_OK;
    case MT_TYPE_FLOAT32:
    case MT_TYPE_FLOAT64: k->kind = K_FLOAT; return MT_OK;
    case MT_TYPE_UTF8:
    case MT_TYPE_BINARY: k->kind = K_BYTES; return MT_OK;
    default: {
        char ty[64];
        mt_type_to_string(k->a->type, ty, sizeof ty);
        return mt_error_set(err, MT_ETYPE, "sort: column '%s' of type %s cannot be sorted", name, ty);
    }
    }
}

static int64_t int_at(const mt_array *a, int64_t r)
{
    switch (a->type->id) {
    case MT_TYPE_BOOL: {
        int64_t k = a->offset + r;
        return (a->buffers[1]->data[k >> 3] >> (k & 7)) & 1;
    }
    case MT_TYPE_INT8: return MT_ARRAY_VALUES(a, int8_t)[r];
    case MT_TYPE_INT16: return MT_ARRAY_VALUES(a, int16_t)[r];
    case MT_TYPE_INT32:
    case MT_TYPE_DATE32:
    case MT_TYPE_TIME32: return MT_ARRAY_VALUES(a, int32_t)[r];
    default: return MT_ARRAY_VALUES(a, int64_t)[r];
    }
}

static uint64_t uint_at(const mt_array *a, int64_t r)
{
    switch (a->type->id) {
    case MT_TYPE_UINT8: return MT_ARRAY_VALUES(a, uint8_t)[r];
    case MT_TYPE_UINT16: return MT_ARRAY_VALUES(a, uint16_t)[r];
    case MT_TYPE_UINT32: return MT_ARRAY_VALUES(a, uint32_t)[r];
    default: return MT_ARRAY_VALUES(a, uint64_t)[r];
    }
}

static double float_at(const mt_array *a, int64_t r)
{
    return a->type->id == MT_TYPE_FLOAT32 ? MT_ARRAY_VALUES(a, float)[r] : MT_ARRAY_VALUES(a, double)[r];
}

static const uint8_t *bytes_at(const mt_array *a, int64_t r, int64_t *n)
{
    const int32_t *off = MT_ARRAY_VALUES(a, int32_t);
    *n = off[r + 1] - off[r];
    return a->buffers[2]->data + off[r];
}

/* Rows with no place in the order: null, or NaN. They go last. */
static bool unordered(const key *k, int64_t r)
{
    return !mt_array_is_valid(k->a, r) || (k->kind == K_FLOAT && isnan(float_at(k->a, r)));
}

static int cmp_bytes(const uint8_t *a, int64_t na, const uint8_t *b, int64_t nb)
{
    int c = memcmp(a, b, (size_t)(na < nb ? na : nb));
    return c ? (c < 0 ? -1 : 1) : (na < nb ? -1 : na > nb);
}

/* Orders two ordered values (ascending). */
static int cmp_rows(const key *x, int64_t i, const key *y, int64_t j)
{
    switch (x->kind) {
    case K_INT: {
        int64_t a = int_at(x->a, i), b = int_at(y->a, j);
        return a < b ? -1 : a > b;
    }
    case K_UINT: {
        uint64_t a = uint_at(x->a, i), b = uint_at(y->a, j);
        return a < b ? -1 : a > b;
    }
    case K_FLOAT: {
        double a = float_at(x->a, i), b = float_at(y->a, j);
        return a < b ? -1 : a > b;
    }
    default: {
        int64_t na, nb;
        const uint8_t *a = bytes_at(x->a, i, &na), *b = bytes_at(y->a, j, &nb);
        return cmp_bytes(a, na, b, nb);
    }
    }
}

/* A row against a bound in JSON (the bound's JSON type matches the key kind). */
static int cmp_bound(const key *k, int64_t r, json_t *b)
{
    switch (k->kind) {
    case K_INT: {
        int64_t a = int_at(k->a, r), v = json_integer_value(b);
        return a < v ? -1 : a > v;
    }
    case K_UINT: {
        uint64_t a = uint_at(k->a, r), v = (uint64_t)json_integer_value(b);
        return a < v ? -1 : a > v;
    }
    case K_FLOAT: {
        double a = float_at(k->a, r), v = json_number_value(b);
        return a < v ? -1 : a > v;
    }
    default: {
        int64_t n;
        const uint8_t *a = bytes_at(k->a, r, &n);
        return cmp_bytes(a, n, (const uint8_t *)json_string_value(b), (int64_t)json_string_length(b));
    }
    }
}

static json_t *bound_json(const key *k, int64_t r)
{
    switch (k->kind) {
    case K_INT: return json_integer(int_at(k->a, r));
    case K_UINT: return json_integer((json_int_t)uint_at(k->a, r));
    case K_FLOAT: return json_real(float_at(k->a, r));
    default: {
        int64_t n;
        const uint8_t *p = bytes_at(k->a, r, &n);
        return json_stringn_nocheck((const char *)p, (size_t)n);
    }
    }
}

/* ---- Stable sort of rows ------------------------------------------------------ */

typedef struct sorter {
    key k;
    bool desc;
} sorter;

static int order(const sorter *s, int64_t i, int64_t j)
{
    bool ui = unordered(&s->k, i), uj = unordered(&s->k, j);
    if (ui || uj) return ui == uj ? 0 : ui ? 1 : -1;
    int c = cmp_rows(&s->k, i, &s->k, j);
    return s->desc ? -c : c;
}

/* Merge sort of row indices (stable). */
static void merge_sort(const sorter *s, int64_t *v, int64_t *tmp, int64_t n)
{
    if (n < 2) return;
    if (n <= 16) { /* insertion sort: stable */
        for (int64_t i = 1; i < n; i++) {
            int64_t x = v[i], j = i;
            while (j > 0 && order(s, v[j - 1], x) > 0) v[j] = v[j - 1], j--;
            v[j] = x;
        }
        return;
    }
    int64_t h = n / 2;
    merge_sort(s, v, tmp, h);
    merge_sort(s, v + h, tmp, n - h);
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = order(s, v[j], v[i]) < 0 ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, sizeof *v * (size_t)n);
}

static mt_status sorted_rows(const mt_table *t, const char *name, bool desc, int64_t **rows_out, mt_error *err)
{
    sorter s = {.desc = desc};
    MT_RETURN_NOT_OK(key_of(t, name, &s.k, err));
    int64_t n = t->num_rows;
    int64_t *v = mt_malloc(sizeof *v * (size_t)(n + 1)), *tmp = mt_malloc(sizeof *tmp * (size_t)(n + 1));
    if (!v || !tmp) {
        mt_free(v);
        mt_free(tmp);
        return mt_error_set(err, MT_ENOMEM, "sort: %lld rows", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) v[i] = i;
    merge_sort(&s, v, tmp, n);
    mt_free(tmp);
    *rows_out = v;
    return MT_OK;
}

mt_status mt__ds_sort_table(const mt_table *t, const char *key, bool descending, mt_table **out, mt_error *err)
{
    int64_t *rows = NULL;
    MT_RETURN_NOT_OK(sorted_rows(t, key, descending, &rows, err));
    mt_status st = mt__ds_take_rows(t, rows, t->num_rows, out, err);
    mt_free(rows);
    return st;
}

mt_status mt__ds_range_parts(const mt_table *t, json_t *sh, int32_t *part, mt_error *err)
{
    key k;
    MT_RETURN_NOT_OK(key_of(t, json_string_value(json_object_get(sh, "key")), &k, err));
    json_t *bounds = json_object_get(sh, "bounds");
    bool desc = json_is_true(json_object_get(sh, "descending"));
    int64_t nb = (int64_t)json_array_size(bounds);
    for (int64_t r = 0; r < t->num_rows; r++) {
        if (unordered(&k, r)) {
            part[r] = (int32_t)nb; /* the last range */
            continue;
        }
        int64_t lo = 0, hi = nb; /* first bound the row sorts before or at */
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2, c = cmp_bound(&k, r, json_array_get(bounds, (size_t)mid));
            if (desc ? c < 0 : c > 0) lo = mid + 1;
            else hi = mid;
        }
        part[r] = (int32_t)lo;
    }
    return MT_OK;
}

/* ---- Sampling ------------------------------------------------------------------- */

enum { SAMPLES_PER_BLOCK = 64 };

/* manta.data.sample: the plan's read and operators, then evenly spaced key values (nulls and NaN left out). */
static mt_status sample(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    if (nargs < 1 || mt_task_num_returns(ctx) != 2) return mt_error_set(err, MT_EPARSE, "manta.data.sample: arguments");
    json_error_t je;
    json_t *j = json_loadb(args[0].data, args[0].size, 0, &je);
    if (!j) return mt_error_set(err, MT_EPARSE, "manta.data.sample: %s", je.text);
    mt_table *t = NULL, *res = NULL;
    mt_status st = mt__ds_task_table(ctx, j, args, nargs, &t, err);
    key k;
    const char *name = json_string_value(json_object_get(json_object_get(j, "shuffle"), "key"));
    if (st == MT_OK) st = key_of(t, name, &k, err);
    int64_t *rows = st == MT_OK ? mt_malloc(sizeof *rows * SAMPLES_PER_BLOCK) : NULL, n = 0;
    if (st == MT_OK && !rows) st = mt_error_set(err, MT_ENOMEM, "sample");
    for (int i = 0; st == MT_OK && i < SAMPLES_PER_BLOCK && t->num_rows > 0; i++) {
        int64_t r = (int64_t)(((double)i + 0.5) * (double)t->num_rows / SAMPLES_PER_BLOCK);
        if (r < t->num_rows && !unordered(&k, r) && (n == 0 || rows[n - 1] != r)) rows[n++] = r;
    }
    if (st == MT_OK) {
        mt_table *one = NULL;
        st = mt_table_select(t, (const char *const[]){name, NULL}, &one, err);
        if (st == MT_OK) st = mt__ds_take_rows(one, rows, n, &res, err);
        mt_table_release(one);
    }
    if (st == MT_OK) st = mt__ds_store_block(ctx, res, err);
    if (st == MT_OK) st = mt_return_i64(ctx, res->num_rows, err);
    mt_free(rows);
    mt_table_release(t);
    mt_table_release(res);
    json_decref(j);
    return st;
}

void mt__sort_register(void) { mt_remote_register("manta.data.sample", sample); }

/* Bounds: p - 1 evenly spaced values of the sorted samples. */
static mt_status bounds_of(const mt_dataset *src, const char *name, bool desc, int p, json_t **out, mt_error *err)
{
    *out = NULL;
    int n = src->ninputs;
    mt_ref *(*refs)[2] = mt_calloc((size_t)n + 1, sizeof *refs);
    if (!refs) return mt_error_set(err, MT_ENOMEM, "sort: sampling");
    json_t *shj = json_pack("{s:s}", "key", name);
    char *sh = shj ? mt__ds_json_text(shj) : NULL;
    json_decref(shj);
    mt_status st = sh ? MT_OK : mt_error_set(err, MT_ENOMEM, "sort: sampling");
    int submitted = 0;
    for (; st == MT_OK && submitted < n; submitted++) {
        const mt__ds_input *in = &src->inputs[submitted];
        mt__ds_task t = {.index = submitted, .in = in, .columns = src->columns, .ncolumns = src->ncolumns,
                         .ops = src->ops, .nops = src->nops, .shuffle = sh};
        char *json = NULL;
        st = mt__ds_task_encode(&t, &json, err);
        mt_arg *args = st == MT_OK ? mt_malloc(sizeof *args * (size_t)(in->nrefs + 1)) : NULL;
        if (st == MT_OK && !args) st = mt_error_set(err, MT_ENOMEM, "sort: sampling");
        if (st == MT_OK) {
            args[0] = MT_ARG_STR(json);
            for (int i = 0; i < in->nrefs; i++) args[1 + i] = MT_ARG_REF(in->refs[i]);
            st = mt_task_submit("manta.data.sample", args, 1 + in->nrefs, &(mt_task_options){.num_returns = 2},
                                refs[submitted], err);
        }
        mt_free(args);
        mt_free(json);
        if (st != MT_OK) break;
    }
    mt_free(sh);
    mt_table **parts = mt_calloc((size_t)n + 1, sizeof *parts);
    if (st == MT_OK && !parts) st = mt_error_set(err, MT_ENOMEM, "sort: sampling");
    int got = 0;
    for (; st == MT_OK && got < submitted; got++) {
        char what[48];
        snprintf(what, sizeof what, "block %d", got);
        st = mt__ds_fetch(refs[got][0], what, &parts[got], err);
        if (st != MT_OK) break;
    }
    for (int i = 0; i < submitted; i++) {
        mt_ref_release(refs[i][0]);
        mt_ref_release(refs[i][1]);
    }
    mt_free(refs);
    mt_table *all = NULL;
    int64_t *rows = NULL;
    if (st == MT_OK) st = mt_table_concat(parts, got, &all, err);
    for (int i = 0; i < got; i++) mt_table_release(parts[i]);
    mt_free(parts);
    if (st == MT_OK) st = sorted_rows(all, name, desc, &rows, err);
    json_t *b = st == MT_OK ? json_array() : NULL;
    key k;
    if (st == MT_OK) st = key_of(all, name, &k, err);
    for (int j = 1; st == MT_OK && b && j < p && all->num_rows > 0; j++) {
        int64_t r = rows[all->num_rows * j / p];
        json_t *v = bound_json(&k, r);
        size_t nb = json_array_size(b);
        if (nb && json_equal(json_array_get(b, nb - 1), v)) json_decref(v); /* one range per key value */
        else json_array_append_new(b, v);
    }
    mt_free(rows);
    mt_table_release(all);
    if (st == MT_OK && !b) st = mt_error_set(err, MT_ENOMEM, "sort: bounds");
    if (st == MT_OK) *out = b;
    else json_decref(b);
    return st;
}

MT_API mt_dataset *mt_sort(mt_dataset *ds, const char *key, bool descending)
{
    mt_dataset *bad = mt__ds_check(ds);
    if (bad) return bad;
    if (!key || !*key) return mt__ds_fail(MT_EINVAL, "sort: no key");
    if (ds->schema && mt_type_field_index(ds->schema, key) < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "sort: no column '%.200s'", key);
        return mt__ds_fail(MT_ENOTFOUND, msg);
    }
    mt_dataset *src = mt__ds_shuffle_source(ds);
    mt_error err;
    if (mt_dataset_status(src, &err) != MT_OK || src->ninputs == 0) return src;
    int p = src->ninputs;
    json_t *bounds = NULL;
    mt_status st = bounds_of(src, key, descending, p, &bounds, &err);
    p = st == MT_OK ? (int)json_array_size(bounds) + 1 : p;
    json_t *sh = st == MT_OK ? json_pack("{s:s, s:i, s:s, s:b, s:O}", "mode", "range", "parts", p, "key", key,
                                         "descending", descending, "bounds", bounds)
                             : NULL;
    json_t *rb = st == MT_OK ? json_pack("{s:s, s:s, s:b}", "mode", "sort", "key", key, "descending", descending) : NULL;
    char *text = sh ? mt__ds_json_text(sh) : NULL;
    if (st == MT_OK && (!text || !rb)) st = mt_error_set(&err, MT_ENOMEM, "sort");
    mt__ds_block *b = NULL;
    int nb = 0;
    if (st == MT_OK) st = mt__ds_exchange(src, text, p, rb, &b, &nb, &err);
    mt_free(text);
    json_decref(sh);
    json_decref(rb);
    json_decref(bounds);
    mt_dataset *out = NULL;
    if (st == MT_OK) {
        const mt_type *schema = mt_dataset_schema(src);
        out = mt__ds_over(b, nb, schema, &err);
    }
    mt__ds_blocks_free(b, nb);
    mt_dataset_release(src);
    return out ? out : mt__ds_fail(err.code, err.msg);
}
