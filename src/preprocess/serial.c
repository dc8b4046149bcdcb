/*
 * serial.c — a preprocessor as JSON and back ({"type", "config", "stats",
 * "steps"}), its stats (Ray's stats_ dict) and its repr.
 *
 * Threads: any; p is only read (from_json makes a new one). Invariant:
 * from_json checks the shape of everything it keeps, so a bad text is an
 * MT_EPARSE naming the field, never a crash later.
 */
#include <stdio.h>
#include <string.h>

#include "preprocess/pp_int.h"

static char *text_of(const json_t *o)
{
    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *t = mt_malloc(n + 1);
    if (!t) return NULL;
    json_dumpb(o, t, n, JSON_COMPACT | JSON_ENCODE_ANY);
    t[n] = 0;
    return t;
}

static json_t *to_json(const mt_preprocessor *p)
{
    json_t *o = json_pack("{s:s, s:O, s:O?}", "type", mt__pp_name(p->kind), "config", p->cfg, "stats", p->stats);
    if (o && p->kind == PP_CHAIN) {
        json_t *steps = json_array();
        for (int i = 0; steps && i < p->nsteps; i++) json_array_append_new(steps, to_json(p->steps[i]));
        json_object_set_new(o, "steps", steps);
    }
    return o;
}

MT_API char *mt_preprocessor_to_json(const mt_preprocessor *p)
{
    if (!p) return NULL;
    json_t *o = to_json(p);
    char *t = o ? text_of(o) : NULL;
    json_decref(o);
    return t;
}

MT_API char *mt_preprocessor_stats_json(const mt_preprocessor *p)
{
    if (!p) return NULL;
    if (p->kind != PP_CHAIN) {
        json_t *empty = p->stats ? NULL : json_object();
        char *t = text_of(p->stats ? p->stats : empty);
        json_decref(empty);
        return t;
    }
    json_t *a = json_array();
    for (int i = 0; a && i < p->nsteps; i++) json_array_append(a, p->steps[i]->stats ? p->steps[i]->stats : json_null());
    char *t = a ? text_of(a) : NULL;
    json_decref(a);
    return t;
}

MT_API mt_status mt_preprocessor_stat(const mt_preprocessor *p, const char *key, double *out, mt_error *err)
{
    if (!p || !key) return mt_error_set(err, MT_EINVAL, "preprocessor stat: NULL argument");
    json_t *v = p->stats ? json_object_get(p->stats, key) : NULL;
    if (!v) {
        if (!mt_preprocessor_fitted(p)) return mt_error_set(err, MT_ESTATE, "%s is not fitted yet. Call fit() first", mt__pp_name(p->kind));
        return mt_error_set(err, MT_ENOTFOUND, "%s has no stat '%s'", mt__pp_name(p->kind), key);
    }
    if (json_is_null(v)) return mt_error_set(err, MT_ENOTFOUND, "%s: stat '%s' is null (the column had no values)", mt__pp_name(p->kind), key);
    if (!json_is_number(v)) return mt_error_set(err, MT_ETYPE, "%s: stat '%s' is not a number", mt__pp_name(p->kind), key);
    *out = json_number_value(v);
    return MT_OK;
}

/* Appends printf text to buf[0..cap), counting what would be needed. */
static void put(char *buf, size_t cap, size_t *n, const char *fmt, const char *arg)
{
    int k = snprintf(*n < cap ? buf + *n : NULL, *n < cap ? cap - *n : 0, fmt, arg);
    if (k > 0) *n += (size_t)k;
}

static void list_repr(char *buf, size_t cap, size_t *n, const json_t *a)
{
    put(buf, cap, n, "%s", "[");
    for (size_t i = 0; i < json_array_size(a); i++) {
        if (i) put(buf, cap, n, "%s", ", ");
        put(buf, cap, n, "'%s'", json_string_value(json_array_get(a, i)));
    }
    put(buf, cap, n, "%s", "]");
}

static void repr(const mt_preprocessor *p, char *buf, size_t cap, size_t *n)
{
    put(buf, cap, n, "%s(", mt__pp_name(p->kind));
    if (p->kind == PP_CHAIN) {
        put(buf, cap, n, "%s", "preprocessors=(");
        for (int i = 0; i < p->nsteps; i++) {
            if (i) put(buf, cap, n, "%s", ", ");
            repr(p->steps[i], buf, cap, n);
        }
        put(buf, cap, n, "%s", "))");
        return;
    }
    const char *key;
    json_t *v;
    bool first = true;
    json_object_foreach(p->cfg, key, v) {
        if (p->kind == PP_LABEL && !strcmp(key, "columns")) continue;
        put(buf, cap, n, first ? "%s=" : ", %s=", key);
        first = false;
        if (json_is_array(v) && json_array_size(v) && json_is_string(json_array_get(v, 0))) {
            list_repr(buf, cap, n, v);
        } else if (json_is_string(v)) {
            put(buf, cap, n, "'%s'", json_string_value(v));
        } else {
            char *t = text_of(v);
            put(buf, cap, n, "%s", t ? t : "?");
            mt_free(t);
        }
    }
    put(buf, cap, n, "%s", ")");
}

MT_API size_t mt_preprocessor_repr(const mt_preprocessor *p, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap) buf[0] = 0;
    if (p) repr(p, buf, cap, &n);
    return n;
}

/* ---- from_json ----------------------------------------------------------------- */

static mt_status bad(mt_error *err, const char *what)
{
    return mt_error_set(err, MT_EPARSE, "preprocessor JSON: %s", what);
}

static bool strings(const json_t *a)
{
    if (!json_is_array(a)) return false;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!json_is_string(json_array_get(a, i))) return false;
    return true;
}

static mt_status from(json_t *o, int depth, mt_preprocessor **out, mt_error *err)
{
    if (!json_is_object(o)) return bad(err, "not an object");
    int kind = mt__pp_kind_of(json_string_value(json_object_get(o, "type")));
    if (kind < 0) return bad(err, "unknown \"type\"");
    json_t *cfg = json_object_get(o, "config"), *stats = json_object_get(o, "stats");
    if (!json_is_object(cfg)) return bad(err, "\"config\" is not an object");
    if (stats && !json_is_null(stats) && !json_is_object(stats)) return bad(err, "\"stats\" is not an object");
    json_t *cols = json_object_get(cfg, "columns");
    if (kind != PP_CHAIN && kind != PP_CONCAT && (!strings(cols) || json_array_size(cols) == 0))
        return bad(err, "\"config.columns\" is not a list of column names");
    for (const char *const *k = (const char *const[]){"include", "exclude", NULL}; *k; k++)
        if (json_object_get(cfg, *k) && !strings(json_object_get(cfg, *k))) return bad(err, "a column list is not strings");
    mt_preprocessor *p = mt_calloc(1, sizeof *p);
    if (!p) return mt_error_set(err, MT_ENOMEM, "preprocessor JSON");
    p->kind = (pp_kind)kind;
    p->cfg = json_deep_copy(cfg);
    p->stats = stats && !json_is_null(stats) ? json_deep_copy(stats) : NULL;
    mt_status st = p->cfg ? MT_OK : mt_error_set(err, MT_ENOMEM, "preprocessor JSON");
    if (st == MT_OK && kind == PP_CHAIN) {
        json_t *steps = json_object_get(o, "steps");
        size_t n = json_array_size(steps);
        if (!json_is_array(steps) || n == 0 || depth > 16) st = bad(err, "\"steps\" of a Chain");
        if (st == MT_OK && !(p->steps = mt_calloc(n, sizeof *p->steps))) st = mt_error_set(err, MT_ENOMEM, "preprocessor JSON");
        for (size_t i = 0; st == MT_OK && i < n; i++) {
            st = from(json_array_get(steps, i), depth + 1, &p->steps[i], err);
            if (st == MT_OK) p->nsteps++;
        }
    }
    if (st != MT_OK) {
        mt_preprocessor_free(p);
        return st;
    }
    *out = p;
    return MT_OK;
}

MT_API mt_status mt_preprocessor_from_json(const char *text, mt_preprocessor **out, mt_error *err)
{
    *out = NULL;
    if (!text) return bad(err, "no text");
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!o) return mt_error_set(err, MT_EPARSE, "preprocessor JSON: line %d: %s", je.line, je.text);
    mt_status st = from(o, 0, out, err);
    json_decref(o);
    return st;
}
