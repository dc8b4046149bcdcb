/*
 * preprocessor.c — the Preprocessor interface: constructors (settings kept
 * as JSON), fit (fit.c per kind; a chain fits each step on the output of
 * the ones before), transform of a dataset as one fused batch step running
 * the built-in batch function `manta.preprocess` with the preprocessor's
 * JSON as its argument, transform_batch (apply.c), stats, repr, and the
 * JSON round trip.
 *
 * Threads: one thread per preprocessor. Invariant: what to_json writes,
 * from_json reads back into a preprocessor that transforms identically.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "preprocess/pp_int.h"

static const char *const names[PP_KIND_COUNT] = {
    [PP_MIN_MAX] = "MinMaxScaler",     [PP_STANDARD] = "StandardScaler", [PP_MAX_ABS] = "MaxAbsScaler",
    [PP_ROBUST] = "RobustScaler",      [PP_NORMALIZER] = "Normalizer",   [PP_ONE_HOT] = "OneHotEncoder",
    [PP_ORDINAL] = "OrdinalEncoder",   [PP_LABEL] = "LabelEncoder",      [PP_IMPUTER] = "SimpleImputer",
    [PP_CONCAT] = "Concatenator",      [PP_CHAIN] = "Chain",
};

const char *mt__pp_name(pp_kind k) { return k < PP_KIND_COUNT ? names[k] : "Preprocessor"; }

int mt__pp_kind_of(const char *name)
{
    for (int k = 0; name && k < PP_KIND_COUNT; k++)
        if (!strcmp(names[k], name)) return k;
    return -1;
}

bool mt__pp_fittable(const mt_preprocessor *p)
{
    if (p->kind == PP_NORMALIZER || p->kind == PP_CONCAT) return false;
    if (p->kind == PP_IMPUTER) {
        const char *s = json_string_value(json_object_get(p->cfg, "strategy"));
        return !s || strcmp(s, "constant");
    }
    return true;
}

/* ---- Construction ----------------------------------------------------------- */

static mt_preprocessor *pp_new(pp_kind kind)
{
    mt_preprocessor *p = mt_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->kind = kind;
    p->cfg = json_object();
    if (!p->cfg) {
        mt_free(p);
        return NULL;
    }
    return p;
}

static mt_preprocessor *fail(mt_preprocessor *p, mt_status st, const char *fmt, const char *arg)
{
    if (!p) return NULL;
    p->st = st;
    snprintf(p->msg, sizeof p->msg, fmt, arg);
    return p;
}

static json_t *string_list(const char *const *v)
{
    json_t *a = json_array();
    for (int i = 0; a && v && v[i]; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

/* A preprocessor of `kind` over `columns` (which must name at least one column). */
static mt_preprocessor *over_columns(pp_kind kind, const char *const *columns)
{
    mt_preprocessor *p = pp_new(kind);
    if (!p) return NULL;
    if (!columns || !columns[0]) return fail(p, MT_EINVAL, "%s: no columns", names[kind]);
    json_object_set_new(p->cfg, "columns", string_list(columns));
    return p;
}

MT_API mt_preprocessor *mt_min_max_scaler(const char *const *columns) { return over_columns(PP_MIN_MAX, columns); }

MT_API mt_preprocessor *mt_standard_scaler(const char *const *columns, int ddof)
{
    mt_preprocessor *p = over_columns(PP_STANDARD, columns);
    if (p && ddof < 0) return fail(p, MT_EINVAL, "%s: ddof must be >= 0", names[PP_STANDARD]);
    if (p) json_object_set_new(p->cfg, "ddof", json_integer(ddof));
    return p;
}

MT_API mt_preprocessor *mt_max_abs_scaler(const char *const *columns) { return over_columns(PP_MAX_ABS, columns); }

MT_API mt_preprocessor *mt_robust_scaler(const char *const *columns, double low, double high)
{
    mt_preprocessor *p = over_columns(PP_ROBUST, columns);
    if (low == 0 && high == 0) low = 0.25, high = 0.75;
    if (p && !(low >= 0 && low <= high && high <= 1))
        return fail(p, MT_EINVAL, "%s: quantile_range must satisfy 0 <= low <= high <= 1", names[PP_ROBUST]);
    if (p) json_object_set_new(p->cfg, "quantile_range", json_pack("[f, f]", low, high));
    return p;
}

MT_API mt_preprocessor *mt_normalizer(const char *const *columns, const char *norm)
{
    mt_preprocessor *p = over_columns(PP_NORMALIZER, columns);
    if (!norm) norm = "l2";
    if (p && strcmp(norm, "l1") && strcmp(norm, "l2") && strcmp(norm, "max"))
        return fail(p, MT_EINVAL, "Normalizer: norm must be l1, l2 or max, not '%s'", norm);
    if (p) json_object_set_new(p->cfg, "norm", json_string(norm));
    return p;
}

MT_API mt_preprocessor *mt_one_hot_encoder(const char *const *columns, int max_categories)
{
    mt_preprocessor *p = over_columns(PP_ONE_HOT, columns);
    if (p && max_categories < 0) return fail(p, MT_EINVAL, "%s: max_categories must be >= 0", names[PP_ONE_HOT]);
    if (p && max_categories > 0) json_object_set_new(p->cfg, "max_categories", json_integer(max_categories));
    return p;
}

MT_API mt_preprocessor *mt_ordinal_encoder(const char *const *columns) { return over_columns(PP_ORDINAL, columns); }

MT_API mt_preprocessor *mt_label_encoder(const char *label_column)
{
    const char *cols[2] = {label_column, NULL};
    mt_preprocessor *p = over_columns(PP_LABEL, label_column ? cols : NULL);
    if (p && label_column) json_object_set_new(p->cfg, "label_column", json_string(label_column));
    return p;
}

MT_API mt_preprocessor *mt_simple_imputer(const char *const *columns, const char *strategy, const char *fill_value_json)
{
    mt_preprocessor *p = over_columns(PP_IMPUTER, columns);
    if (!strategy) strategy = "mean";
    if (!p || p->st) return p;
    if (strcmp(strategy, "mean") && strcmp(strategy, "most_frequent") && strcmp(strategy, "constant"))
        return fail(p, MT_EINVAL, "SimpleImputer: strategy must be mean, most_frequent or constant, not '%s'", strategy);
    json_object_set_new(p->cfg, "strategy", json_string(strategy));
    if (strcmp(strategy, "constant")) return p;
    json_t *v = fill_value_json ? json_loads(fill_value_json, JSON_DECODE_ANY, NULL) : NULL;
    if (!v || !(json_is_number(v) || json_is_string(v) || json_is_boolean(v))) {
        json_decref(v);
        return fail(p, MT_EINVAL, "SimpleImputer: strategy constant needs a fill_value (a JSON number, string or bool)%s", "");
    }
    json_object_set_new(p->cfg, "fill_value", v);
    return p;
}

MT_API mt_preprocessor *mt_concatenator(const char *output_column_name, const char *const *include,
                                        const char *const *exclude)
{
    mt_preprocessor *p = pp_new(PP_CONCAT);
    if (!p) return NULL;
    json_object_set_new(p->cfg, "output_column_name", json_string(output_column_name ? output_column_name : "concat_out"));
    if (include) json_object_set_new(p->cfg, "include", string_list(include));
    if (exclude) json_object_set_new(p->cfg, "exclude", string_list(exclude));
    return p;
}

MT_API mt_preprocessor *mt_chain(mt_preprocessor *const *steps, int n)
{
    mt_preprocessor *p = pp_new(PP_CHAIN);
    if (!p || n < 1 || !steps) {
        for (int i = 0; steps && i < n; i++) mt_preprocessor_free(steps[i]);
        return fail(p, MT_EINVAL, "Chain: no steps%s", "");
    }
    if (!(p->steps = mt_calloc((size_t)n, sizeof *p->steps))) {
        for (int i = 0; i < n; i++) mt_preprocessor_free(steps[i]);
        return fail(p, MT_ENOMEM, "Chain: out of memory%s", "");
    }
    for (int i = 0; i < n; i++) {
        p->steps[p->nsteps++] = steps[i];
        if (!steps[i]) fail(p, MT_ENOMEM, "Chain: step out of memory%s", "");
        else if (steps[i]->st && !p->st) fail(p, steps[i]->st, "%s", steps[i]->msg);
    }
    return p;
}

MT_API void mt_preprocessor_free(mt_preprocessor *p)
{
    if (!p) return;
    for (int i = 0; i < p->nsteps; i++) mt_preprocessor_free(p->steps[i]);
    mt_free(p->steps);
    json_decref(p->cfg);
    json_decref(p->stats);
    mt_free(p);
}

/* ---- State ---------------------------------------------------------------------- */

MT_API mt_status mt_preprocessor_status(const mt_preprocessor *p, mt_error *err)
{
    if (!p) return mt_error_set(err, MT_ENOMEM, "preprocessor: out of memory");
    if (p->st) return mt_error_set(err, p->st, "%s", p->msg);
    return MT_OK;
}

MT_API bool mt_preprocessor_fitted(const mt_preprocessor *p)
{
    if (!p || p->st) return false;
    if (p->kind == PP_CHAIN) {
        for (int i = 0; i < p->nsteps; i++)
            if (!mt_preprocessor_fitted(p->steps[i])) return false;
        return true;
    }
    return !mt__pp_fittable(p) || p->stats;
}

static mt_status not_fitted(const mt_preprocessor *p, mt_error *err)
{
    return mt_error_set(err, MT_ESTATE, "%s is not fitted yet. Call fit() first", mt__pp_name(p->kind));
}

MT_API mt_status mt_preprocessor_fit(mt_preprocessor *p, mt_dataset *ds, mt_error *err)
{
    MT_RETURN_NOT_OK(mt_preprocessor_status(p, err));
    MT_RETURN_NOT_OK(mt_dataset_status(ds, err));
    if (p->kind != PP_CHAIN) return mt__pp_fittable(p) ? mt__pp_fit_one(p, ds, err) : MT_OK;
    mt_dataset *cur = mt_dataset_retain(ds);
    mt_status st = MT_OK;
    for (int i = 0; st == MT_OK && i < p->nsteps; i++) {
        st = mt_preprocessor_fit(p->steps[i], cur, err);
        if (st == MT_OK && i + 1 < p->nsteps) {
            mt_dataset *next = mt_preprocessor_transform(p->steps[i], cur);
            mt_dataset_release(cur);
            cur = next;
            st = mt_dataset_status(cur, err);
        }
    }
    mt_dataset_release(cur);
    return st;
}

MT_API mt_status mt_preprocessor_transform_batch(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err)
{
    MT_RETURN_NOT_OK(mt_preprocessor_status(p, err));
    if (!in) return mt_error_set(err, MT_EINVAL, "%s: no batch", mt__pp_name(p->kind));
    if (p->kind != PP_CHAIN) {
        if (!mt_preprocessor_fitted(p)) return not_fitted(p, err);
        return mt__pp_apply(p, in, out, err);
    }
    mt_table *cur = mt_table_retain(in);
    mt_status st = MT_OK;
    for (int i = 0; st == MT_OK && i < p->nsteps; i++) {
        mt_table *next = NULL;
        st = mt_preprocessor_transform_batch(p->steps[i], cur, &next, err);
        mt_table_release(cur);
        cur = st == MT_OK ? next : NULL;
    }
    if (st == MT_OK) *out = cur;
    return st;
}

/* The batch function datasets run: argument = the preprocessor's JSON. */
static mt_status manta_preprocess(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err)
{
    char *text = mt_malloc(arg_len + 1);
    if (!text) return mt_error_set(err, MT_ENOMEM, "preprocessor: argument");
    memcpy(text, arg, arg_len);
    text[arg_len] = 0;
    mt_preprocessor *p = NULL;
    mt_status st = mt_preprocessor_from_json(text, &p, err);
    mt_free(text);
    if (st == MT_OK) st = mt_preprocessor_transform_batch(p, in, out, err);
    mt_preprocessor_free(p);
    return st;
}

void mt__preprocess_register(void) { mt_batch_fn_register("manta_preprocess", manta_preprocess); }

MT_API mt_dataset *mt_preprocessor_transform(mt_preprocessor *p, mt_dataset *ds)
{
    mt_error err;
    if (mt_preprocessor_status(p, &err) != MT_OK || mt_dataset_status(ds, &err) != MT_OK)
        return mt_dataset_failed(err.code, err.msg);
    if (!mt_preprocessor_fitted(p)) {
        const mt_preprocessor *q = p;
        for (int i = 0; p->kind == PP_CHAIN && i < p->nsteps; i++)
            if (!mt_preprocessor_fitted(p->steps[i])) {
                q = p->steps[i];
                break;
            }
        not_fitted(q, &err);
        return mt_dataset_failed(err.code, err.msg);
    }
    char *json = mt_preprocessor_to_json(p);
    if (!json) return mt_dataset_failed(MT_ENOMEM, "preprocessor: out of memory");
    mt_map_batches_options o = {.batch_size = -1, .arg = json, .arg_len = strlen(json)};
    mt_dataset *out = mt_map_batches(ds, "manta_preprocess", &o);
    mt_free(json);
    return out;
}

MT_API mt_dataset *mt_preprocessor_fit_transform(mt_preprocessor *p, mt_dataset *ds)
{
    mt_error err;
    if (mt_preprocessor_fit(p, ds, &err) != MT_OK) return mt_dataset_failed(err.code, err.msg);
    return mt_preprocessor_transform(p, ds);
}
