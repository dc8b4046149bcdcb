/*
 * apply.c — transforming one batch, per kind: the scalers and the mean
 * imputer turn their columns into float64 in place; encoders map each
 * value's key to its index (ordinal, label) or to 0/1 columns appended
 * (one-hot); the normalizer divides each row by its norm; the
 * concatenator merges columns into one list<float64> column.
 *
 * Threads: any; the preprocessor is only read. Invariant: stats and
 * settings come from JSON that may be foreign, so every one is checked
 * before use (a missing stat is an error naming it).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "preprocess/pp_int.h"

static const char *col_at(const mt_preprocessor *p, size_t i)
{
    return json_string_value(json_array_get(json_object_get(p->cfg, "columns"), i));
}

static size_t ncols(const mt_preprocessor *p) { return json_array_size(json_object_get(p->cfg, "columns")); }

/* A stat as a double; a null stat (a column without values) reads as NAN. */
static mt_status stat(const mt_preprocessor *p, const char *fn, const char *col, double *v, mt_error *err)
{
    char key[512];
    snprintf(key, sizeof key, "%s(%s)", fn, col);
    json_t *j = json_object_get(p->stats, key);
    if (json_is_null(j)) return (*v = NAN), MT_OK;
    if (!json_is_number(j)) return mt_error_set(err, MT_EPARSE, "%s: stat '%s' is missing or not a number", mt__pp_name(p->kind), key);
    *v = json_number_value(j);
    return MT_OK;
}

typedef struct cols {
    const char **names;
    mt_array **arrays;
    int n;
} cols;

static void cols_free(cols *c)
{
    for (int i = 0; i < c->n; i++) mt_array_release(c->arrays[i]);
    mt_free(c->arrays);
    mt_free(c->names);
}

static mt_status cols_init(cols *c, size_t n, mt_error *err)
{
    c->n = 0;
    c->names = mt_calloc(n + 1, sizeof *c->names);
    c->arrays = mt_calloc(n + 1, sizeof *c->arrays);
    return c->names && c->arrays ? MT_OK : mt_error_set(err, MT_ENOMEM, "preprocessor: columns");
}

/* Scalers and the mean imputer: x -> f(x) as float64, nulls kept (imputer: filled). */
static mt_status scale(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err)
{
    size_t n = ncols(p);
    int64_t rows = in->num_rows;
    cols c;
    mt_status st = cols_init(&c, n, err);
    double *v = mt_malloc(sizeof *v * (size_t)(rows + 1));
    bool *valid = mt_malloc(sizeof *valid * (size_t)(rows + 1));
    if (st == MT_OK && (!v || !valid)) st = mt_error_set(err, MT_ENOMEM, "%s: a batch", mt__pp_name(p->kind));
    for (size_t i = 0; st == MT_OK && i < n; i++) {
        const char *name = col_at(p, i);
        const mt_array *a;
        double sub = 0, div = 1, fill = 0;
        st = mt__pp_column(p, in, name, &a, err);
        if (st == MT_OK && !mt__pp_is_numeric(a->type))
            st = mt_error_set(err, MT_ETYPE, "%s: column '%s' is not numeric", mt__pp_name(p->kind), name);
        if (st == MT_OK) switch (p->kind) {
            case PP_MIN_MAX: {
                double lo, hi;
                if ((st = stat(p, "min", name, &lo, err)) == MT_OK && (st = stat(p, "max", name, &hi, err)) == MT_OK)
                    sub = lo, div = hi - lo == 0 ? 1 : hi - lo;
                break;
            }
            case PP_STANDARD: {
                double m, s;
                if ((st = stat(p, "mean", name, &m, err)) == MT_OK && (st = stat(p, "std", name, &s, err)) == MT_OK)
                    sub = m, div = s == 0 ? 1 : s;
                break;
            }
            case PP_MAX_ABS: {
                double m;
                if ((st = stat(p, "abs_max", name, &m, err)) == MT_OK) div = m == 0 ? 1 : m;
                break;
            }
            case PP_ROBUST: {
                double lo, med, hi;
                if ((st = stat(p, "low_quantile", name, &lo, err)) == MT_OK &&
                    (st = stat(p, "median", name, &med, err)) == MT_OK &&
                    (st = stat(p, "high_quantile", name, &hi, err)) == MT_OK)
                    sub = med, div = hi - lo == 0 ? 1 : hi - lo;
                break;
            }
            default: st = stat(p, "mean", name, &fill, err); break; /* the mean imputer */
            }
        bool impute = p->kind == PP_IMPUTER, any_null = false;
        for (int64_t r = 0; st == MT_OK && r < rows; r++) {
            valid[r] = mt__pp_num_at(a, r, &v[r]);
            if (impute && (!valid[r] || isnan(v[r]))) v[r] = fill, valid[r] = !isnan(fill);
            else if (valid[r]) v[r] = (v[r] - sub) / div;
            any_null |= !valid[r];
        }
        if (st == MT_OK) st = mt__pp_f64_column(v, any_null ? valid : NULL, rows, &c.arrays[c.n], err);
        if (st == MT_OK) c.names[c.n++] = name;
    }
    if (st == MT_OK) st = mt__pp_rebuild(in, c.names, c.arrays, c.n, NULL, 0, NULL, NULL, 0, out, err);
    cols_free(&c);
    mt_free(v);
    mt_free(valid);
    return st;
}

static json_t *unique_values(const mt_preprocessor *p, const char *name, mt_error *err)
{
    char key[512];
    snprintf(key, sizeof key, "unique_values(%s)", name);
    json_t *uv = json_object_get(p->stats, key);
    if (!json_is_object(uv)) mt_error_set(err, MT_EPARSE, "%s: stat '%s' is missing or not an object", mt__pp_name(p->kind), key);
    return json_is_object(uv) ? uv : NULL;
}

/* Ordinal and label encoders: each value's index, null for nulls and unseen values. */
static mt_status ordinal(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err)
{
    size_t n = ncols(p);
    int64_t rows = in->num_rows;
    cols c;
    mt_status st = cols_init(&c, n, err);
    int64_t *v = mt_malloc(sizeof *v * (size_t)(rows + 1));
    bool *valid = mt_malloc(sizeof *valid * (size_t)(rows + 1));
    if (st == MT_OK && (!v || !valid)) st = mt_error_set(err, MT_ENOMEM, "%s: a batch", mt__pp_name(p->kind));
    char buf[1024];
    for (size_t i = 0; st == MT_OK && i < n; i++) {
        const char *name = col_at(p, i);
        const mt_array *a;
        json_t *uv = NULL;
        st = mt__pp_column(p, in, name, &a, err);
        if (st == MT_OK && !(uv = unique_values(p, name, err))) st = err->code;
        bool any_null = false;
        for (int64_t r = 0; st == MT_OK && r < rows; r++) {
            json_t *idx = mt__pp_key_at(a, r, buf, sizeof buf) ? json_object_get(uv, buf) : NULL;
            valid[r] = json_is_integer(idx);
            v[r] = valid[r] ? json_integer_value(idx) : 0;
            any_null |= !valid[r];
        }
        if (st == MT_OK) st = mt__pp_i64_column(v, any_null ? valid : NULL, rows, &c.arrays[c.n], err);
        if (st == MT_OK) c.names[c.n++] = name;
    }
    if (st == MT_OK) st = mt__pp_rebuild(in, c.names, c.arrays, c.n, NULL, 0, NULL, NULL, 0, out, err);
    cols_free(&c);
    mt_free(v);
    mt_free(valid);
    return st;
}

/* One-hot: "<column>_<value>" int64 columns appended, in index order; the source columns go. */
static mt_status one_hot(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err)
{
    size_t n = ncols(p), total = 0;
    for (size_t i = 0; i < n; i++) {
        char key[512];
        snprintf(key, sizeof key, "unique_values(%s)", col_at(p, i));
        total += json_object_size(json_object_get(p->stats, key));
    }
    int64_t rows = in->num_rows;
    cols c;
    mt_status st = cols_init(&c, total, err);
    char **owned = mt_calloc(total + 1, sizeof *owned);
    int64_t *idx = mt_malloc(sizeof *idx * (size_t)(rows + 1)), *v = mt_malloc(sizeof *v * (size_t)(rows + 1));
    const char **drop = mt_calloc(n + 1, sizeof *drop);
    if (st == MT_OK && (!owned || !idx || !v || !drop)) st = mt_error_set(err, MT_ENOMEM, "OneHotEncoder: a batch");
    char buf[1024];
    for (size_t i = 0; st == MT_OK && i < n; i++) {
        const char *name = col_at(p, i);
        const mt_array *a;
        json_t *uv = NULL;
        st = mt__pp_column(p, in, name, &a, err);
        if (st == MT_OK && !(uv = unique_values(p, name, err))) st = err->code;
        drop[i] = name;
        for (int64_t r = 0; st == MT_OK && r < rows; r++) {
            json_t *j = mt__pp_key_at(a, r, buf, sizeof buf) ? json_object_get(uv, buf) : NULL;
            idx[r] = json_is_integer(j) ? json_integer_value(j) : -1;
        }
        size_t k = json_object_size(uv);
        for (size_t cat = 0; st == MT_OK && cat < k; cat++) {
            const char *value = NULL, *key;
            json_t *x;
            json_object_foreach(uv, key, x) if (json_integer_value(x) == (json_int_t)cat) value = key;
            if (!value) {
                st = mt_error_set(err, MT_EPARSE, "OneHotEncoder: unique_values(%s) has no index %zu", name, cat);
                break;
            }
            size_t len = strlen(name) + strlen(value) + 2;
            if (!(owned[c.n] = mt_malloc(len))) {
                st = mt_error_set(err, MT_ENOMEM, "OneHotEncoder: a batch");
                break;
            }
            snprintf(owned[c.n], len, "%s_%s", name, value);
            for (int64_t r = 0; r < rows; r++) v[r] = idx[r] == (int64_t)cat;
            st = mt__pp_i64_column(v, NULL, rows, &c.arrays[c.n], err);
            if (st == MT_OK) c.names[c.n] = owned[c.n], c.n++;
            else mt_free(owned[c.n]), owned[c.n] = NULL;
        }
    }
    if (st == MT_OK) st = mt__pp_rebuild(in, NULL, NULL, 0, drop, (int)n, c.names, c.arrays, c.n, out, err);
    for (int i = 0; i < c.n; i++) mt_free(owned[i]);
    cols_free(&c);
    mt_free(owned);
    mt_free(idx);
    mt_free(v);
    mt_free(drop);
    return st;
}

/* Fill nulls with a typed value (most_frequent or constant), keeping the column's type. */
static mt_status fill_typed(const mt_array *a, json_t *fill, const char *name, mt_array **out, mt_error *err)
{
    mt_type_id id = a->type->id;
    bool num = mt__pp_is_numeric(a->type) && id != MT_TYPE_BOOL, str = id == MT_TYPE_UTF8;
    if ((num && !json_is_number(fill)) || (str && !json_is_string(fill)) || (id == MT_TYPE_BOOL && !json_is_boolean(fill)) ||
        (!num && !str && id != MT_TYPE_BOOL))
        return mt_error_set(err, MT_ETYPE, "SimpleImputer: column '%s': the fill value does not fit its type", name);
    bool as_double = id == MT_TYPE_FLOAT32 || id == MT_TYPE_FLOAT64 || (num && json_is_real(fill));
    mt_type *t = as_double ? mt_type_new(MT_TYPE_FLOAT64) : num ? mt_type_new(MT_TYPE_INT64) : a->type;
    mt_array_builder *b = mt_array_builder_new(t);
    mt_status st = b ? mt_array_builder_reserve(b, a->length, err) : mt_error_set(err, MT_ENOMEM, "SimpleImputer");
    for (int64_t r = 0; st == MT_OK && r < a->length; r++) {
        double v;
        bool have = mt_array_is_valid(a, r);
        if (num) {
            have = mt__pp_num_at(a, r, &v) && !isnan(v);
            if (!have) v = json_number_value(fill);
            st = as_double ? mt_array_builder_append_double(b, v, err)
                           : mt_array_builder_append_int(b, have && id == MT_TYPE_INT64 ? MT_ARRAY_VALUES(a, int64_t)[r] : (int64_t)v, err);
        } else if (id == MT_TYPE_BOOL) {
            st = mt_array_builder_append_bool(b, have ? (mt__pp_num_at(a, r, &v), v != 0) : json_is_true(fill), err);
        } else if (have) {
            const int32_t *off = MT_ARRAY_VALUES(a, int32_t);
            st = mt_array_builder_append_bytes(b, a->buffers[2]->data + off[r], off[r + 1] - off[r], err);
        } else {
            st = mt_array_builder_append_bytes(b, json_string_value(fill), (int64_t)json_string_length(fill), err);
        }
    }
    if (st == MT_OK) st = mt_array_builder_finish(b, out, err);
    mt_array_builder_destroy(b);
    return st;
}

static mt_status impute(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err)
{
    const char *strategy = json_string_value(json_object_get(p->cfg, "strategy"));
    if (!strategy || !strcmp(strategy, "mean")) return scale(p, in, out, err);
    bool constant = !strcmp(strategy, "constant");
    size_t n = ncols(p);
    cols c;
    mt_status st = cols_init(&c, n, err);
    for (size_t i = 0; st == MT_OK && i < n; i++) {
        const char *name = col_at(p, i);
        char key[512];
        snprintf(key, sizeof key, "most_frequent(%s)", name);
        json_t *fill = constant ? json_object_get(p->cfg, "fill_value") : json_object_get(p->stats, key);
        const mt_array *a;
        st = mt__pp_column(p, in, name, &a, err);
        if (st == MT_OK && !fill) st = mt_error_set(err, MT_EPARSE, "SimpleImputer: no fill value for '%s'", name);
        if (st == MT_OK && json_is_null(fill)) { /* the column had no values: nothing to fill with */
            c.arrays[c.n] = mt_array_retain((mt_array *)a);
            c.names[c.n++] = name;
            continue;
        }
        if (st == MT_OK) st = fill_typed(a, fill, name, &c.arrays[c.n], err);
        if (st == MT_OK) c.names[c.n++] = name;
    }
    if (st == MT_OK) st = mt__pp_rebuild(in, c.names, c.arrays, c.n, NULL, 0, NULL, NULL, 0, out, err);
    cols_free(&c);
    return st;
}

static mt_status normalize(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err)
{
    size_t n = ncols(p);
    const char *norm = json_string_value(json_object_get(p->cfg, "norm"));
    int64_t rows = in->num_rows;
    const mt_array **src = mt_calloc(n + 1, sizeof *src);
    double *v = mt_malloc(sizeof *v * (n + 1) * (size_t)(rows + 1)), *scale_by = mt_malloc(sizeof *v * (size_t)(rows + 1));
    bool *valid = mt_malloc(sizeof *valid * (n + 1) * (size_t)(rows + 1));
    cols c;
    mt_status st = cols_init(&c, n, err);
    if (st == MT_OK && (!src || !v || !scale_by || !valid)) st = mt_error_set(err, MT_ENOMEM, "Normalizer: a batch");
    for (size_t i = 0; st == MT_OK && i < n; i++) {
        st = mt__pp_column(p, in, col_at(p, i), &src[i], err);
        if (st == MT_OK && !mt__pp_is_numeric(src[i]->type))
            st = mt_error_set(err, MT_ETYPE, "Normalizer: column '%s' is not numeric", col_at(p, i));
    }
    for (int64_t r = 0; st == MT_OK && r < rows; r++) {
        double acc = 0;
        for (size_t i = 0; i < n; i++) {
            double x = 0;
            valid[i * (size_t)rows + (size_t)r] = mt__pp_num_at(src[i], r, &x);
            v[i * (size_t)rows + (size_t)r] = x;
            if (!valid[i * (size_t)rows + (size_t)r]) continue;
            if (!norm || !strcmp(norm, "l2")) acc += x * x;
            else if (!strcmp(norm, "l1")) acc += fabs(x);
            else acc = fmax(acc, fabs(x));
        }
        scale_by[r] = (!norm || !strcmp(norm, "l2")) ? sqrt(acc) : acc;
        if (scale_by[r] == 0) scale_by[r] = 1; /* a zero row stays as it is */
    }
    for (size_t i = 0; st == MT_OK && i < n; i++) {
        double *col = v + i * (size_t)rows;
        bool *ok = valid + i * (size_t)rows, any_null = false;
        for (int64_t r = 0; r < rows; r++) col[r] /= scale_by[r], any_null |= !ok[r];
        st = mt__pp_f64_column(col, any_null ? ok : NULL, rows, &c.arrays[c.n], err);
        if (st == MT_OK) c.names[c.n++] = col_at(p, i);
    }
    if (st == MT_OK) st = mt__pp_rebuild(in, c.names, c.arrays, c.n, NULL, 0, NULL, NULL, 0, out, err);
    cols_free(&c);
    mt_free(src);
    mt_free(v);
    mt_free(scale_by);
    mt_free(valid);
    return st;
}

static bool listed(const json_t *a, const char *name)
{
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!strcmp(json_string_value(json_array_get(a, i)), name)) return true;
    return false;
}

/* Concatenator: the chosen columns (schema order) as one list<float64> per row. */
static mt_status concat(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err)
{
    json_t *inc = json_object_get(p->cfg, "include"), *exc = json_object_get(p->cfg, "exclude");
    const char *outname = json_string_value(json_object_get(p->cfg, "output_column_name"));
    int64_t rows = in->num_rows;
    const char **names = mt_calloc((size_t)in->num_columns + 1, sizeof *names);
    const mt_array **src = mt_calloc((size_t)in->num_columns + 1, sizeof *src);
    mt_status st = names && src ? MT_OK : mt_error_set(err, MT_ENOMEM, "Concatenator: a batch");
    int k = 0;
    for (size_t i = 0; st == MT_OK && inc && i < json_array_size(inc); i++)
        if (mt_table_column_index(in, json_string_value(json_array_get(inc, i))) < 0)
            st = mt_error_set(err, MT_ENOTFOUND, "Concatenator: the batch has no column '%s'", json_string_value(json_array_get(inc, i)));
    for (int32_t i = 0; st == MT_OK && i < in->num_columns; i++) {
        const char *name = in->schema->fields[i].name;
        if ((inc && !listed(inc, name)) || listed(exc, name)) continue;
        if (!mt__pp_is_numeric(in->columns[i]->type)) {
            st = mt_error_set(err, MT_ETYPE, "Concatenator: column '%s' is not numeric", name);
            break;
        }
        names[k] = name;
        src[k++] = in->columns[i];
    }
    mt_buffer *offs = st == MT_OK ? mt_buffer_new(4 * (rows + 1)) : NULL;
    mt_buffer *vals = st == MT_OK ? mt_buffer_new(8 * rows * k + 8) : NULL;
    mt_buffer *vbits = st == MT_OK ? mt_buffer_new((rows * k + 7) / 8 + 1) : NULL;
    if (st == MT_OK && (!offs || !vals || !vbits)) st = mt_error_set(err, MT_ENOMEM, "Concatenator: a batch");
    if (st == MT_OK && rows * k > INT32_MAX) st = mt_error_set(err, MT_EINVAL, "Concatenator: a batch too large for one list column");
    int64_t nulls = 0;
    for (int64_t r = 0; st == MT_OK && r < rows; r++) {
        ((int32_t *)offs->data)[r] = (int32_t)(r * k);
        for (int i = 0; i < k; i++) {
            int64_t j = r * k + i;
            double x = 0;
            if (mt__pp_num_at(src[i], r, &x)) vbits->data[j >> 3] |= (uint8_t)(1u << (j & 7));
            else nulls++;
            ((double *)vals->data)[j] = x;
        }
    }
    if (st == MT_OK) ((int32_t *)offs->data)[rows] = (int32_t)(rows * k);
    mt_array *child = NULL, *list = NULL;
    mt_type *lt = NULL;
    if (st == MT_OK) {
        mt_buffer *cb[2] = {nulls ? vbits : NULL, vals};
        child = mt_array_new(mt_type_new(MT_TYPE_FLOAT64), rows * k, 0, nulls, cb, 2, NULL, 0);
        lt = mt_type_list(mt_type_new(MT_TYPE_FLOAT64), true, "item");
        mt_buffer *lb[2] = {NULL, offs};
        list = child && lt ? mt_array_new(lt, rows, 0, 0, lb, 2, &child, 1) : NULL;
        if (!list) st = mt_error_set(err, MT_ENOMEM, "Concatenator: a batch");
    }
    const char *add_names[1] = {outname ? outname : "concat_out"};
    if (st == MT_OK) st = mt__pp_rebuild(in, NULL, NULL, 0, names, k, add_names, &list, 1, out, err);
    mt_array_release(list);
    mt_array_release(child);
    mt_type_release(lt);
    mt_buffer_release(offs);
    mt_buffer_release(vals);
    mt_buffer_release(vbits);
    mt_free(names);
    mt_free(src);
    return st;
}

mt_status mt__pp_apply(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err)
{
    switch (p->kind) {
    case PP_MIN_MAX:
    case PP_STANDARD:
    case PP_MAX_ABS:
    case PP_ROBUST: return scale(p, in, out, err);
    case PP_ORDINAL:
    case PP_LABEL: return ordinal(p, in, out, err);
    case PP_ONE_HOT: return one_hot(p, in, out, err);
    case PP_IMPUTER: return impute(p, in, out, err);
    case PP_NORMALIZER: return normalize(p, in, out, err);
    case PP_CONCAT: return concat(p, in, out, err);
    default: return mt_error_set(err, MT_EINTERNAL, "preprocessor: kind %d", (int)p->kind);
    }
}
