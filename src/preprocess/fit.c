/*
 * fit.c — fitting: each kind's stats as distributed aggregations over the
 * dataset (min/max/mean/std through mt_aggregate, distinct values and
 * their counts through groupby(c).count()); RobustScaler's quantiles from
 * the sorted non-null values of each column.
 *
 * Threads: the caller's. Invariant: p->stats is replaced only when every
 * stat was computed (a failed fit leaves the old state).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess/pp_int.h"

static const char *col_at(const mt_preprocessor *p, size_t i)
{
    return json_string_value(json_array_get(json_object_get(p->cfg, "columns"), i));
}

static size_t ncols(const mt_preprocessor *p) { return json_array_size(json_object_get(p->cfg, "columns")); }

static mt_status table_of(mt_dataset *d, mt_table **out, mt_error *err)
{
    *out = mt_to_table(d);
    mt_status st = *out ? MT_OK : mt_dataset_status(d, err);
    mt_dataset_release(d);
    return st;
}

static json_t *num_or_null(const mt_array *a, int64_t r)
{
    double v;
    return mt__pp_num_at(a, r, &v) ? json_real(v) : json_null();
}

static void set(json_t *stats, const char *fn, const char *col, json_t *v)
{
    char key[512];
    snprintf(key, sizeof key, "%s(%s)", fn, col);
    json_object_set_new(stats, key, v);
}

/* MinMax, Standard, MaxAbs and the mean imputer: one aggregation pass over every column. */
static mt_status fit_aggregates(mt_preprocessor *p, mt_dataset *ds, json_t *stats, mt_error *err)
{
    size_t n = ncols(p);
    int per = p->kind == PP_IMPUTER ? 1 : 2;
    mt_agg *aggs = mt_calloc(n * 2 + 1, sizeof *aggs);
    if (!aggs) return mt_error_set(err, MT_ENOMEM, "%s: fit", mt__pp_name(p->kind));
    int ddof = (int)json_integer_value(json_object_get(p->cfg, "ddof"));
    for (size_t i = 0; i < n; i++) {
        mt_agg *a = &aggs[i * (size_t)per];
        if (p->kind == PP_STANDARD) {
            a[0] = (mt_agg){.kind = MT_AGG_MEAN, .on = col_at(p, i)};
            a[1] = (mt_agg){.kind = MT_AGG_STD, .on = col_at(p, i), .ddof = ddof, .ddof_set = true};
        } else if (p->kind == PP_IMPUTER) {
            a[0] = (mt_agg){.kind = MT_AGG_MEAN, .on = col_at(p, i)};
        } else {
            a[0] = (mt_agg){.kind = MT_AGG_MIN, .on = col_at(p, i)};
            a[1] = (mt_agg){.kind = MT_AGG_MAX, .on = col_at(p, i)};
        }
    }
    mt_table *t = NULL;
    mt_status st = table_of(mt_aggregate(ds, aggs, (int)n * per), &t, err);
    mt_free(aggs);
    if (st != MT_OK) return st;
    for (size_t i = 0; i < n; i++) {
        const char *c = col_at(p, i);
        const mt_array *a0 = t->columns[i * (size_t)per], *a1 = per > 1 ? t->columns[i * (size_t)per + 1] : NULL;
        if (p->kind == PP_STANDARD) {
            set(stats, "mean", c, num_or_null(a0, 0));
            set(stats, "std", c, num_or_null(a1, 0));
        } else if (p->kind == PP_IMPUTER) {
            set(stats, "mean", c, num_or_null(a0, 0));
        } else if (p->kind == PP_MAX_ABS) {
            double lo, hi;
            bool ok = mt__pp_num_at(a0, 0, &lo) && mt__pp_num_at(a1, 0, &hi);
            set(stats, "abs_max", c, ok ? json_real(fmax(fabs(lo), fabs(hi))) : json_null());
        } else {
            set(stats, "min", c, num_or_null(a0, 0));
            set(stats, "max", c, num_or_null(a1, 0));
        }
    }
    mt_table_release(t);
    return MT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static mt_status fit_robust(mt_preprocessor *p, mt_dataset *ds, json_t *stats, mt_error *err)
{
    json_t *qr = json_object_get(p->cfg, "quantile_range");
    double q[3] = {json_number_value(json_array_get(qr, 0)), 0.5, json_number_value(json_array_get(qr, 1))};
    static const char *const fn[3] = {"low_quantile", "median", "high_quantile"};
    for (size_t i = 0; i < ncols(p); i++) {
        const char *c = col_at(p, i);
        mt_table *t = NULL;
        MT_RETURN_NOT_OK(table_of(mt_select_columns(ds, (const char *const[]){c, NULL}), &t, err));
        const mt_array *a = t->columns[0];
        if (!mt__pp_is_numeric(a->type)) {
            mt_table_release(t);
            return mt_error_set(err, MT_ETYPE, "RobustScaler: column '%s' is not numeric", c);
        }
        double *v = mt_malloc(sizeof *v * (size_t)(t->num_rows + 1));
        int64_t n = 0;
        if (!v) {
            mt_table_release(t);
            return mt_error_set(err, MT_ENOMEM, "RobustScaler: %lld values", (long long)t->num_rows);
        }
        for (int64_t r = 0; r < t->num_rows; r++)
            if (mt__pp_num_at(a, r, &v[n]) && !isnan(v[n])) n++;
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        for (int k = 0; k < 3; k++) set(stats, fn[k], c, n ? json_real(v[(int64_t)(q[k] * (double)(n - 1))]) : json_null());
        mt_free(v);
        mt_table_release(t);
    }
    return MT_OK;
}

/* The typed JSON value of a key cell (for most_frequent). */
static json_t *typed(const mt_array *a, int64_t r)
{
    char buf[1024];
    mt_type_id id = a->type->id;
    if (!mt__pp_key_at(a, r, buf, sizeof buf)) return json_null();
    if (id == MT_TYPE_UTF8 || id == MT_TYPE_BINARY) return json_string(buf);
    if (id == MT_TYPE_BOOL) return json_boolean(!strcmp(buf, "true"));
    if (id == MT_TYPE_FLOAT32 || id == MT_TYPE_FLOAT64) return json_real(strtod(buf, NULL));
    return json_integer(strtoll(buf, NULL, 10));
}

typedef struct cat {
    int64_t row, count;
} cat;

static int by_count(const void *a, const void *b)
{
    const cat *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row; /* ties: the smaller value (sorted first) */
}

static int by_row(const void *a, const void *b)
{
    const cat *x = a, *y = b;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Encoders and the most_frequent imputer: distinct values with counts, sorted by value. */
static mt_status fit_categories(mt_preprocessor *p, mt_dataset *ds, json_t *stats, mt_error *err)
{
    int maxc = (int)json_integer_value(json_object_get(p->cfg, "max_categories"));
    for (size_t i = 0; i < ncols(p); i++) {
        const char *c = col_at(p, i);
        mt_table *t = NULL;
        MT_RETURN_NOT_OK(table_of(mt_group_count(mt_groupby(ds, c)), &t, err));
        const mt_array *keys = t->columns[0];
        const int64_t *counts = MT_ARRAY_VALUES(t->columns[1], int64_t);
        cat *cats = mt_calloc((size_t)t->num_rows + 1, sizeof *cats);
        if (!cats) {
            mt_table_release(t);
            return mt_error_set(err, MT_ENOMEM, "%s: fit", mt__pp_name(p->kind));
        }
        int64_t n = 0;
        for (int64_t r = 0; r < t->num_rows; r++)
            if (mt_array_is_valid(keys, r)) cats[n++] = (cat){r, counts[r]};
        if (p->kind == PP_IMPUTER) {
            qsort(cats, (size_t)n, sizeof *cats, by_count);
            set(stats, "most_frequent", c, n ? typed(keys, cats[0].row) : json_null());
        } else {
            if (maxc > 0 && n > maxc) {
                qsort(cats, (size_t)n, sizeof *cats, by_count);
                n = maxc;
                qsort(cats, (size_t)n, sizeof *cats, by_row);
            }
            json_t *uv = json_object();
            char buf[1024];
            for (int64_t k = 0; uv && k < n; k++)
                if (mt__pp_key_at(keys, cats[k].row, buf, sizeof buf)) json_object_set_new(uv, buf, json_integer(k));
            set(stats, "unique_values", c, uv ? uv : json_null());
        }
        mt_free(cats);
        mt_table_release(t);
    }
    return MT_OK;
}

mt_status mt__pp_fit_one(mt_preprocessor *p, mt_dataset *ds, mt_error *err)
{
    json_t *stats = json_object();
    if (!stats) return mt_error_set(err, MT_ENOMEM, "%s: fit", mt__pp_name(p->kind));
    const char *strategy = json_string_value(json_object_get(p->cfg, "strategy"));
    mt_status st;
    switch (p->kind) {
    case PP_ROBUST: st = fit_robust(p, ds, stats, err); break;
    case PP_ONE_HOT:
    case PP_ORDINAL:
    case PP_LABEL: st = fit_categories(p, ds, stats, err); break;
    case PP_IMPUTER:
        st = strategy && !strcmp(strategy, "most_frequent") ? fit_categories(p, ds, stats, err)
                                                             : fit_aggregates(p, ds, stats, err);
        break;
    default: st = fit_aggregates(p, ds, stats, err); break;
    }
    if (st != MT_OK) {
        json_decref(stats);
        return mt_error_prefix(err, "%s.fit", mt__pp_name(p->kind));
    }
    json_decref(p->stats);
    p->stats = stats;
    return MT_OK;
}
