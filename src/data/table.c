/*
 * table.c — tables: a STRUCT schema plus one array per column, all of
 * num_rows rows. Construction checks, slicing, concatenation, projection and
 * equality.
 *
 * Threads: any; tables are immutable once created, refcounts atomic.
 * Invariant: columns[i]->type equals schema->fields[i].type and
 * columns[i]->length == num_rows.
 */
#include <string.h>

#include "data/data_int.h"

static void type_str(const mt_type *t, char *buf, size_t cap) { mt_type_to_string(t, buf, cap); }

static mt_status check_columns(const mt_type *schema, mt_array *const *columns, int64_t num_rows,
                               mt_error *err)
{
    for (int32_t i = 0; i < schema->num_fields; i++) {
        const mt_field *f = &schema->fields[i];
        const mt_array *c = columns[i];
        if (!c) return mt_error_set(err, MT_EINVAL, "column '%s' is missing", f->name);
        if (!mt_type_equal(c->type, f->type)) {
            char want[128], got[128];
            type_str(f->type, want, sizeof want);
            type_str(c->type, got, sizeof got);
            return mt_error_set(err, MT_ETYPE, "column '%s' has type %s, schema says %s",
                                f->name, got, want);
        }
        if (c->length != num_rows)
            return mt_error_set(err, MT_EINVAL, "column '%s' has %lld rows, expected %lld",
                                f->name, (long long)c->length, (long long)num_rows);
    }
    return MT_OK;
}

mt_status mt_table_new(mt_type *schema, mt_array *const *columns, int64_t num_rows,
                       mt_table **out, mt_error *err)
{
    if (!schema || schema->id != MT_TYPE_STRUCT)
        return mt_error_set(err, MT_ETYPE, "table schema must be a struct type");
    if (num_rows < 0)
        return mt_error_set(err, MT_EINVAL, "negative row count %lld", (long long)num_rows);
    MT_RETURN_NOT_OK(check_columns(schema, columns, num_rows, err));
    int32_t n = schema->num_fields;
    mt_table *t = mt_calloc(1, sizeof *t);
    if (t && n > 0) {
        t->columns = mt_calloc((size_t)n, sizeof(mt_array *));
        if (!t->columns) {
            mt_free(t);
            t = NULL;
        }
    }
    if (!t) return mt_error_set(err, MT_ENOMEM, "out of memory creating a table");
    t->schema = mt_type_retain(schema);
    t->num_rows = num_rows;
    t->num_columns = n;
    t->refcount_ = 1;
    for (int32_t i = 0; i < n; i++) t->columns[i] = mt_array_retain(columns[i]);
    *out = t;
    return MT_OK;
}

mt_table *mt_table_retain(mt_table *t)
{
    if (t) mt__data_ref_inc(&t->refcount_);
    return t;
}

void mt_table_release(mt_table *t)
{
    if (!t || !mt__data_ref_dec(&t->refcount_)) return;
    for (int32_t i = 0; i < t->num_columns; i++) mt_array_release(t->columns[i]);
    mt_free(t->columns);
    mt_type_release(t->schema);
    mt_free(t);
}

int32_t mt_table_column_index(const mt_table *t, const char *name)
{
    return mt_type_field_index(t->schema, name);
}

static void release_all(mt_array **cols, int32_t n)
{
    for (int32_t i = 0; i < n; i++) mt_array_release(cols[i]);
    mt_free(cols);
}

/* Builds a table from `cols` (references consumed) over `schema`. */
static mt_status table_take(mt_type *schema, mt_array **cols, int64_t rows, mt_table **out,
                            mt_error *err)
{
    mt_status st = mt_table_new(schema, cols, rows, out, err);
    release_all(cols, schema->num_fields);
    return st;
}

static mt_array **cols_alloc(int32_t n)
{
    return mt_calloc(n > 0 ? (size_t)n : 1, sizeof(mt_array *));
}

mt_status mt_table_slice(mt_table *t, int64_t offset, int64_t length, mt_table **out,
                         mt_error *err)
{
    if (offset < 0 || length < 0 || offset > t->num_rows || length > t->num_rows - offset)
        return mt_error_set(err, MT_ERANGE,
                            "slice [%lld, %lld) out of range for a table of %lld rows",
                            (long long)offset, (long long)offset + (long long)length,
                            (long long)t->num_rows);
    mt_array **cols = cols_alloc(t->num_columns);
    if (!cols) return mt_error_set(err, MT_ENOMEM, "out of memory slicing a table");
    for (int32_t i = 0; i < t->num_columns; i++) {
        mt_status st = mt_array_slice(t->columns[i], offset, length, &cols[i], err);
        if (st != MT_OK) {
            release_all(cols, t->num_columns);
            return st;
        }
    }
    return table_take(t->schema, cols, length, out, err);
}

mt_status mt_table_concat(mt_table *const *tables, int32_t n, mt_table **out, mt_error *err)
{
    if (n <= 0) return mt_error_set(err, MT_EINVAL, "no tables to concatenate");
    mt_type *schema = tables[0]->schema;
    int64_t rows = 0;
    for (int32_t k = 0; k < n; k++) {
        if (!mt_type_equal(tables[k]->schema, schema)) {
            char a[256], b[256];
            type_str(schema, a, sizeof a);
            type_str(tables[k]->schema, b, sizeof b);
            return mt_error_set(err, MT_ETYPE, "table %d has schema %s, table 0 has %s", (int)k,
                                b, a);
        }
        rows += tables[k]->num_rows;
    }
    int32_t nc = schema->num_fields;
    mt_array **cols = cols_alloc(nc);
    mt_array **parts = mt_calloc((size_t)n, sizeof(mt_array *));
    if (!cols || !parts) {
        mt_free(cols);
        mt_free(parts);
        return mt_error_set(err, MT_ENOMEM, "out of memory concatenating tables");
    }
    for (int32_t i = 0; i < nc; i++) {
        for (int32_t k = 0; k < n; k++) parts[k] = tables[k]->columns[i];
        mt_status st = mt_array_concat(parts, n, &cols[i], err);
        if (st != MT_OK) {
            mt_free(parts);
            release_all(cols, nc);
            mt_error_prefix(err, "column '%s'", schema->fields[i].name);
            return st;
        }
    }
    mt_free(parts);
    return table_take(schema, cols, rows, out, err);
}

mt_status mt_table_select(mt_table *t, const char *const *names, mt_table **out, mt_error *err)
{
    int32_t n = 0;
    while (names[n]) n++;
    int32_t *idx = mt_calloc(n > 0 ? (size_t)n : 1, sizeof(int32_t));
    if (!idx) return mt_error_set(err, MT_ENOMEM, "out of memory selecting columns");
    for (int32_t i = 0; i < n; i++) {
        idx[i] = mt_table_column_index(t, names[i]);
        if (idx[i] < 0) {
            mt_free(idx);
            return mt_error_set(err, MT_ENOTFOUND, "no column '%s'", names[i]);
        }
    }
    const char **fnames = mt_calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
    mt_type **types = mt_calloc(n > 0 ? (size_t)n : 1, sizeof(mt_type *));
    bool *nullables = mt_calloc(n > 0 ? (size_t)n : 1, sizeof(bool));
    mt_array **cols = cols_alloc(n);
    mt_type *schema = NULL;
    mt_status st = MT_OK;
    if (fnames && types && nullables && cols) {
        for (int32_t i = 0; i < n; i++) {
            const mt_field *f = &t->schema->fields[idx[i]];
            fnames[i] = f->name;
            types[i] = f->type;
            nullables[i] = f->nullable;
            cols[i] = t->columns[idx[i]];
        }
        schema = mt_type_struct(n, fnames, types, nullables);
    }
    if (!schema)
        st = mt_error_set(err, MT_ENOMEM, "out of memory selecting columns");
    else
        st = mt_table_new(schema, cols, t->num_rows, out, err);
    mt_type_release(schema);
    mt_free(cols);
    mt_free(nullables);
    mt_free(types);
    mt_free(fnames);
    mt_free(idx);
    return st;
}

bool mt_table_equal(const mt_table *a, const mt_table *b)
{
    if (a == b) return true;
    if (!a || !b) return false;
    if (a->num_rows != b->num_rows || !mt_type_equal(a->schema, b->schema)) return false;
    for (int32_t i = 0; i < a->num_columns; i++)
        if (!mt_array_equal(a->columns[i], b->columns[i])) return false;
    return true;
}
