/*
 * sources.c — the sources beside Parquet: read_csv (one read task per
 * file; the schema is inferred per file when the task runs) and from_items
 * (a JSON array of objects, or of plain values that become column "item",
 * typed here and put into the store as one block).
 *
 * Threads: the caller's. Invariant: a failure names the file, or the item
 * and key at fault, and leaves nothing in the store.
 */
#include <jansson.h>
#include <string.h>

#include "dataset/ds_int.h"

MT_API mt_dataset *mt_read_csv_paths(const char *const *paths, const mt_read_csv_options *opts)
{
    mt_error err;
    mt_error_clear(&err);
    if (!paths || !paths[0]) return mt__ds_fail(MT_EINVAL, "read_csv: no path");
    mt__ds_paths files = {0};
    mt_status st = MT_OK;
    for (int i = 0; st == MT_OK && paths[i]; i++) st = mt__ds_expand(paths[i], ".csv", "read_csv", &files, &err);
    mt__ds_input *in = st == MT_OK ? mt_calloc((size_t)files.n + 1, sizeof *in) : NULL;
    if (st == MT_OK && !in) st = mt_error_set(&err, MT_ENOMEM, "read_csv");
    int n = 0;
    for (; st == MT_OK && n < files.n; n++) {
        in[n] = (mt__ds_input){.kind = MT__DS_IN_CSV, .rows = -1, .delimiter = opts && opts->delimiter ? opts->delimiter : ','};
        if (!(in[n].path = mt_strdup(files.v[n]))) st = mt_error_set(&err, MT_ENOMEM, "read_csv");
    }
    mt__ds_paths_free(&files);
    if (st != MT_OK) {
        for (int i = 0; i < n; i++) mt__ds_input_free(&in[i]);
        mt_free(in);
        return mt__ds_fail(err.code, err.msg);
    }
    mt_dataset *ds = mt__ds_from_inputs(in, n, NULL, &err);
    if (!ds) return mt__ds_fail(err.code, err.msg);
    if (!opts || !opts->columns) return ds;
    mt_dataset *sel = mt_select_columns(ds, opts->columns);
    mt_dataset_release(ds);
    return sel;
}

MT_API mt_dataset *mt_read_csv(const char *path, const mt_read_csv_options *opts)
{
    const char *paths[2] = {path, NULL};
    return mt_read_csv_paths(paths, opts);
}

/* ---- from_items ----------------------------------------------------------- */

typedef enum { K_NONE, K_BOOL, K_INT, K_DOUBLE, K_STRING } kind;

typedef struct column {
    const char *name;
    kind k;
} column;

static kind kind_of(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_TRUE:
    case JSON_FALSE: return K_BOOL;
    case JSON_INTEGER: return K_INT;
    case JSON_REAL: return K_DOUBLE;
    case JSON_STRING: return K_STRING;
    default: return K_NONE;
    }
}

/* The column's kind with v's joined in (int + double = double); false for a clash. */
static bool join(kind *k, kind v)
{
    if (v == K_NONE || *k == v) return true;
    if (*k == K_NONE) return (*k = v), true;
    if ((*k == K_INT && v == K_DOUBLE) || (*k == K_DOUBLE && v == K_INT)) return (*k = K_DOUBLE), true;
    return false;
}

static const char *kind_name(kind k)
{
    static const char *const n[] = {"null", "bool", "int64", "double", "string"};
    return n[k];
}

static mt_status append(mt_array_builder *b, kind k, json_t *v, mt_error *err)
{
    if (!v || json_is_null(v)) return mt_array_builder_append_null(b, err);
    switch (k) {
    case K_BOOL: return mt_array_builder_append_bool(b, json_is_true(v), err);
    case K_INT: return mt_array_builder_append_int(b, json_integer_value(v), err);
    case K_DOUBLE: return mt_array_builder_append_double(b, json_number_value(v), err);
    case K_STRING: return mt_array_builder_append_bytes(b, json_string_value(v), (int64_t)json_string_length(v), err);
    default: return mt_array_builder_append_null(b, err);
    }
}

static mt_status items_table(json_t *items, mt_table **out, mt_error *err)
{
    size_t n = json_array_size(items), ncols = 0, cap = 8;
    bool dicts = n > 0 && json_is_object(json_array_get(items, 0));
    column *cols = mt_calloc(cap, sizeof *cols);
    if (!cols) return mt_error_set(err, MT_ENOMEM, "from_items");
    mt_status st = MT_OK;
    if (!dicts) cols[ncols++] = (column){"item", K_NONE};
    for (size_t i = 0; st == MT_OK && i < n; i++) {
        json_t *it = json_array_get(items, i);
        if (dicts != json_is_object(it)) {
            st = mt_error_set(err, MT_ETYPE, "from_items: item %zu is %s an object, item 0 is%s", i,
                              dicts ? "not" : "", dicts ? "" : " not");
            break;
        }
        const char *key;
        json_t *v;
        json_t *one = dicts ? it : json_pack("{s:O}", "item", it);
        json_object_foreach(one, key, v) {
            kind vk = kind_of(v);
            if (!json_is_null(v) && vk == K_NONE) {
                st = mt_error_set(err, MT_ETYPE, "from_items: item %zu, key '%s': nested values are not supported", i, key);
                break;
            }
            size_t c = 0;
            while (c < ncols && strcmp(cols[c].name, key)) c++;
            if (c == ncols) {
                if (ncols == cap) {
                    column *g = mt_realloc(cols, sizeof *g * (cap *= 2));
                    if (!g) {
                        st = mt_error_set(err, MT_ENOMEM, "from_items");
                        break;
                    }
                    cols = g;
                }
                cols[ncols++] = (column){key, K_NONE}; /* lives as long as `items` */
            }
            if (!join(&cols[c].k, vk)) {
                st = mt_error_set(err, MT_ETYPE, "from_items: item %zu, key '%s': %s where earlier items have %s", i, key,
                                  kind_name(vk), kind_name(cols[c].k));
                break;
            }
        }
        if (!dicts) json_decref(one);
    }
    mt_array **arrays = st == MT_OK ? mt_calloc(ncols + 1, sizeof *arrays) : NULL;
    mt_type **types = st == MT_OK ? mt_calloc(ncols + 1, sizeof *types) : NULL;
    const char **names = st == MT_OK ? mt_calloc(ncols + 1, sizeof *names) : NULL;
    bool *nullable = st == MT_OK ? mt_calloc(ncols + 1, sizeof *nullable) : NULL;
    if (st == MT_OK && !(arrays && types && names && nullable)) st = mt_error_set(err, MT_ENOMEM, "from_items");
    size_t built = 0;
    for (; st == MT_OK && built < ncols; built++) {
        column *c = &cols[built];
        static const mt_type_id ids[] = {MT_TYPE_NA, MT_TYPE_BOOL, MT_TYPE_INT64, MT_TYPE_FLOAT64, MT_TYPE_UTF8};
        types[built] = mt_type_new(ids[c->k]);
        names[built] = c->name;
        nullable[built] = true;
        mt_array_builder *b = mt_array_builder_new(types[built]);
        if (!b) st = mt_error_set(err, MT_ENOMEM, "from_items");
        for (size_t i = 0; st == MT_OK && i < n; i++) {
            json_t *it = json_array_get(items, i);
            st = append(b, c->k, dicts ? json_object_get(it, c->name) : it, err);
        }
        if (st == MT_OK) st = mt_array_builder_finish(b, &arrays[built], err);
        mt_array_builder_destroy(b);
        if (st != MT_OK) break;
    }
    mt_type *schema = st == MT_OK ? mt_type_struct((int32_t)ncols, names, types, nullable) : NULL;
    if (st == MT_OK && !schema) st = mt_error_set(err, MT_ENOMEM, "from_items");
    if (st == MT_OK) st = mt_table_new(schema, arrays, (int64_t)n, out, err);
    mt_type_release(schema);
    for (size_t i = 0; arrays && i < built; i++) mt_array_release(arrays[i]);
    for (size_t i = 0; types && i < ncols; i++) mt_type_release(types[i]);
    mt_free(arrays);
    mt_free(types);
    mt_free(names);
    mt_free(nullable);
    mt_free(cols);
    return st;
}

MT_API mt_dataset *mt_from_items(const char *json_items)
{
    if (!json_items) return mt__ds_fail(MT_EINVAL, "from_items: NULL text");
    json_error_t je;
    json_t *items = json_loads(json_items, 0, &je);
    if (!items || !json_is_array(items)) {
        char msg[300];
        if (items) snprintf(msg, sizeof msg, "from_items: the text is not a JSON array");
        else snprintf(msg, sizeof msg, "from_items: line %d, column %d: %s", je.line, je.column, je.text);
        json_decref(items);
        return mt__ds_fail(MT_EPARSE, msg);
    }
    mt_error err;
    mt_table *t = NULL;
    mt_status st = items_table(items, &t, &err);
    json_decref(items);
    if (st != MT_OK) return mt__ds_fail(err.code, err.msg);
    mt_dataset *ds = mt_from_table(t);
    mt_table_release(t);
    return ds;
}
