/*
 * columns.c — the column helpers transforms share: numeric values of any
 * integer, float or bool column as doubles, the text keys encoders match
 * on, new float64/int64 columns, and rebuilding a table with columns
 * replaced, dropped or added.
 *
 * Threads: any (pure).
 */
#include <stdio.h>
#include <string.h>

#include "preprocess/pp_int.h"

bool mt__pp_is_numeric(const mt_type *t)
{
    return (t->id >= MT_TYPE_BOOL && t->id <= MT_TYPE_UINT64) || t->id == MT_TYPE_FLOAT32 || t->id == MT_TYPE_FLOAT64;
}

bool mt__pp_num_at(const mt_array *a, int64_t r, double *v)
{
    if (!mt_array_is_valid(a, r)) return false;
    switch (a->type->id) {
    case MT_TYPE_BOOL: {
        int64_t k = a->offset + r;
        *v = (a->buffers[1]->data[k >> 3] >> (k & 7)) & 1;
        return true;
    }
    case MT_TYPE_INT8: *v = MT_ARRAY_VALUES(a, int8_t)[r]; return true;
    case MT_TYPE_INT16: *v = MT_ARRAY_VALUES(a, int16_t)[r]; return true;
    case MT_TYPE_INT32: *v = MT_ARRAY_VALUES(a, int32_t)[r]; return true;
    case MT_TYPE_INT64: *v = (double)MT_ARRAY_VALUES(a, int64_t)[r]; return true;
    case MT_TYPE_UINT8: *v = MT_ARRAY_VALUES(a, uint8_t)[r]; return true;
    case MT_TYPE_UINT16: *v = MT_ARRAY_VALUES(a, uint16_t)[r]; return true;
    case MT_TYPE_UINT32: *v = MT_ARRAY_VALUES(a, uint32_t)[r]; return true;
    case MT_TYPE_UINT64: *v = (double)MT_ARRAY_VALUES(a, uint64_t)[r]; return true;
    case MT_TYPE_FLOAT32: *v = MT_ARRAY_VALUES(a, float)[r]; return true;
    case MT_TYPE_FLOAT64: *v = MT_ARRAY_VALUES(a, double)[r]; return true;
    default: return false;
    }
}

bool mt__pp_key_at(const mt_array *a, int64_t r, char *buf, size_t cap)
{
    if (!mt_array_is_valid(a, r)) return false;
    mt_type_id id = a->type->id;
    if (id == MT_TYPE_UTF8 || id == MT_TYPE_BINARY) {
        const int32_t *off = MT_ARRAY_VALUES(a, int32_t);
        int64_t n = off[r + 1] - off[r];
        if ((size_t)n >= cap) n = (int64_t)cap - 1;
        memcpy(buf, a->buffers[2]->data + off[r], (size_t)n);
        buf[n] = 0;
        return true;
    }
    double v;
    if (!mt__pp_num_at(a, r, &v)) return false;
    if (id == MT_TYPE_BOOL) snprintf(buf, cap, "%s", v != 0 ? "true" : "false");
    else if (id == MT_TYPE_INT64) snprintf(buf, cap, "%lld", (long long)MT_ARRAY_VALUES(a, int64_t)[r]);
    else if (id == MT_TYPE_UINT64) snprintf(buf, cap, "%llu", (unsigned long long)MT_ARRAY_VALUES(a, uint64_t)[r]);
    else if (id == MT_TYPE_FLOAT32 || id == MT_TYPE_FLOAT64) snprintf(buf, cap, "%.17g", v);
    else snprintf(buf, cap, "%lld", (long long)v);
    return true;
}

static mt_status column(mt_type_id id, const void *v, const bool *valid, int64_t n, mt_array **out, mt_error *err)
{
    mt_buffer *vals = mt_buffer_new(n * 8 + 8), *bits = NULL;
    int64_t nulls = 0;
    if (!vals) return mt_error_set(err, MT_ENOMEM, "preprocessor: a column of %lld rows", (long long)n);
    memcpy(vals->data, v, (size_t)n * 8);
    if (valid) {
        bits = mt_buffer_new((n + 7) / 8 + 1);
        if (!bits) {
            mt_buffer_release(vals);
            return mt_error_set(err, MT_ENOMEM, "preprocessor: a column of %lld rows", (long long)n);
        }
        for (int64_t i = 0; i < n; i++) {
            if (valid[i]) bits->data[i >> 3] |= (uint8_t)(1u << (i & 7));
            else nulls++;
        }
    }
    mt_buffer *bufs[2] = {nulls ? bits : NULL, vals};
    *out = mt_array_new(mt_type_new(id), n, 0, nulls, bufs, 2, NULL, 0);
    mt_buffer_release(vals);
    mt_buffer_release(bits);
    return *out ? MT_OK : mt_error_set(err, MT_ENOMEM, "preprocessor: a column");
}

mt_status mt__pp_f64_column(const double *v, const bool *valid, int64_t n, mt_array **out, mt_error *err)
{
    return column(MT_TYPE_FLOAT64, v, valid, n, out, err);
}

mt_status mt__pp_i64_column(const int64_t *v, const bool *valid, int64_t n, mt_array **out, mt_error *err)
{
    return column(MT_TYPE_INT64, v, valid, n, out, err);
}

static int find(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

mt_status mt__pp_rebuild(const mt_table *t, const char *const *names, mt_array *const *cols, int nrep,
                         const char *const *drop, int ndrop, const char *const *add_names, mt_array *const *add,
                         int nadd, mt_table **out, mt_error *err)
{
    int cap = t->num_columns + nadd;
    const char **nm = mt_calloc((size_t)cap + 1, sizeof *nm);
    mt_type **ty = mt_calloc((size_t)cap + 1, sizeof *ty);
    bool *nl = mt_calloc((size_t)cap + 1, sizeof *nl);
    mt_array **cs = mt_calloc((size_t)cap + 1, sizeof *cs);
    mt_status st = nm && ty && nl && cs ? MT_OK : mt_error_set(err, MT_ENOMEM, "preprocessor: a table");
    int n = 0;
    for (int32_t i = 0; st == MT_OK && i < t->num_columns; i++) {
        const mt_field *f = &t->schema->fields[i];
        if (find(drop, ndrop, f->name) >= 0) continue;
        int r = find(names, nrep, f->name);
        nm[n] = f->name;
        ty[n] = r >= 0 ? cols[r]->type : f->type;
        nl[n] = r >= 0 ? true : f->nullable;
        cs[n++] = r >= 0 ? cols[r] : t->columns[i];
    }
    for (int i = 0; st == MT_OK && i < nadd; i++) {
        for (int k = 0; k < n; k++)
            if (!strcmp(nm[k], add_names[i]))
                st = mt_error_set(err, MT_EINVAL, "preprocessor: output column '%s' already exists", add_names[i]);
        nm[n] = add_names[i];
        ty[n] = add[i]->type;
        nl[n] = true;
        cs[n++] = add[i];
    }
    mt_type *schema = st == MT_OK ? mt_type_struct(n, nm, ty, nl) : NULL;
    if (st == MT_OK && !schema) st = mt_error_set(err, MT_ENOMEM, "preprocessor: a table");
    if (st == MT_OK) st = mt_table_new(schema, cs, t->num_rows, out, err);
    mt_type_release(schema);
    mt_free(nm);
    mt_free(ty);
    mt_free(nl);
    mt_free(cs);
    return st;
}

mt_status mt__pp_column(const mt_preprocessor *p, const mt_table *t, const char *name, const mt_array **out,
                        mt_error *err)
{
    int32_t i = mt_table_column_index(t, name);
    if (i < 0) return mt_error_set(err, MT_ENOTFOUND, "%s: the batch has no column '%s'", mt__pp_name(p->kind), name);
    *out = t->columns[i];
    return MT_OK;
}
