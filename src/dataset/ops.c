/*
 * ops.c — the per-block operators a read task runs after reading (fused):
 * select, drop and rename columns, and map_batches, filter and add_column
 * through a registered batch function, batch by batch. Also what each does to a schema, so
 * plans know their schema without running.
 *
 * Threads: any (ops are immutable once built). Invariant: a failure names
 * the block and the operator and keeps the function's own message.
 */
#include <string.h>

#include "dataset/ds_int.h"

mt_status mt__ds_res_copy(const mt_resource *src, int n, mt_resource **out, int *nout)
{
    *out = NULL;
    *nout = 0;
    if (n <= 0) return MT_OK;
    mt_resource *r = mt_calloc((size_t)n, sizeof *r);
    if (!r) return MT_ENOMEM;
    for (int i = 0; i < n; i++) {
        r[i].quantity = src[i].quantity;
        if (!(r[i].name = mt_strdup(src[i].name ? src[i].name : ""))) {
            for (int k = 0; k < i; k++) mt_free((char *)r[k].name);
            mt_free(r);
            return MT_ENOMEM;
        }
    }
    *out = r;
    *nout = n;
    return MT_OK;
}

void mt__ds_op_free(mt__ds_op *op)
{
    if (!op) return;
    for (int i = 0; i < op->nnames; i++) mt_free(op->names[i]);
    mt_free(op->names);
    mt_free(op->fn);
    mt_free(op->arg);
    for (int i = 0; i < op->nres; i++) mt_free((char *)op->res[i].name);
    mt_free(op->res);
    memset(op, 0, sizeof *op);
}

mt_status mt__ds_op_copy(const mt__ds_op *src, mt__ds_op *dst, mt_error *err)
{
    *dst = (mt__ds_op){.kind = src->kind, .batch_size = src->batch_size, .arg_len = src->arg_len, .num_cpus = src->num_cpus};
    bool ok = true;
    if (src->nnames) {
        dst->names = mt_calloc((size_t)src->nnames, sizeof *dst->names);
        ok = dst->names != NULL;
        for (int i = 0; ok && i < src->nnames; i++, dst->nnames++) ok = (dst->names[i] = mt_strdup(src->names[i])) != NULL;
    }
    if (ok && src->fn) ok = (dst->fn = mt_strdup(src->fn)) != NULL;
    if (ok && src->arg_len) {
        ok = (dst->arg = mt_malloc(src->arg_len)) != NULL;
        if (ok) memcpy(dst->arg, src->arg, src->arg_len);
    }
    if (ok) ok = mt__ds_res_copy(src->res, src->nres, &dst->res, &dst->nres) == MT_OK;
    if (ok) return MT_OK;
    mt__ds_op_free(dst);
    return mt_error_set(err, MT_ENOMEM, "dataset: copying an operator");
}

/* Indices (into `schema`) of the columns an op keeps, in output order; *n how many. */
static mt_status kept(const mt__ds_op *op, const mt_type *schema, int32_t *idx, int32_t *n, mt_error *err)
{
    *n = 0;
    if (op->kind == MT__DS_SELECT) {
        for (int i = 0; i < op->nnames; i++) {
            int32_t j = mt_type_field_index(schema, op->names[i]);
            if (j < 0) return mt_error_set(err, MT_ENOTFOUND, "select_columns: no column '%s'", op->names[i]);
            for (int32_t k = 0; k < *n; k++)
                if (idx[k] == j) return mt_error_set(err, MT_EINVAL, "select_columns: '%s' named twice", op->names[i]);
            idx[(*n)++] = j;
        }
        return MT_OK;
    }
    for (int i = 0; i < op->nnames; i++)
        if (mt_type_field_index(schema, op->names[i]) < 0)
            return mt_error_set(err, MT_ENOTFOUND, "drop_columns: no column '%s'", op->names[i]);
    for (int32_t j = 0; j < schema->num_fields; j++) {
        bool drop = false;
        for (int i = 0; i < op->nnames && !drop; i++) drop = !strcmp(op->names[i], schema->fields[j].name);
        if (!drop) idx[(*n)++] = j;
    }
    return MT_OK;
}

/* The schema with fields idx[0..n) and, for rename, new names. */
static mt_status build_schema(const mt__ds_op *op, const mt_type *in, const int32_t *idx, int32_t n,
                              mt_type **out, mt_error *err)
{
    const char **names = mt_calloc((size_t)(n ? n : 1), sizeof *names);
    mt_type **types = mt_calloc((size_t)(n ? n : 1), sizeof *types);
    bool *nullable = mt_calloc((size_t)(n ? n : 1), sizeof *nullable);
    mt_status st = names && types && nullable ? MT_OK : mt_error_set(err, MT_ENOMEM, "dataset: schema");
    for (int32_t i = 0; st == MT_OK && i < n; i++) {
        const mt_field *f = &in->fields[idx[i]];
        names[i] = f->name;
        types[i] = f->type;
        nullable[i] = f->nullable;
        if (op->kind == MT__DS_RENAME)
            for (int k = 0; k + 1 < op->nnames; k += 2)
                if (!strcmp(op->names[k], f->name)) names[i] = op->names[k + 1];
    }
    for (int32_t i = 0; st == MT_OK && i < n; i++)
        for (int32_t j = 0; j < i; j++)
            if (!strcmp(names[i], names[j]))
                st = mt_error_set(err, MT_EINVAL, "rename_columns: two columns would be called '%s'", names[i]);
    if (st == MT_OK && !(*out = mt_type_struct(n, names, types, nullable)))
        st = mt_error_set(err, MT_ENOMEM, "dataset: schema");
    mt_free(names);
    mt_free(types);
    mt_free(nullable);
    return st;
}

static mt_status shape(const mt__ds_op *op, const mt_type *in, int32_t *idx, int32_t *n, mt_error *err)
{
    if (op->kind == MT__DS_RENAME) {
        for (int k = 0; k + 1 < op->nnames; k += 2)
            if (mt_type_field_index(in, op->names[k]) < 0)
                return mt_error_set(err, MT_ENOTFOUND, "rename_columns: no column '%s'", op->names[k]);
        *n = in->num_fields;
        for (int32_t j = 0; j < *n; j++) idx[j] = j;
        return MT_OK;
    }
    return kept(op, in, idx, n, err);
}

mt_status mt__ds_op_schema(const mt__ds_op *op, const mt_type *in, mt_type **out, mt_error *err)
{
    *out = NULL;
    if (op->kind == MT__DS_FILTER) {
        *out = mt_type_retain((mt_type *)in);
        return MT_OK;
    }
    if (mt__ds_op_is_fn(op->kind)) return MT_OK;
    int32_t *idx = mt_malloc(sizeof *idx * (size_t)(in->num_fields + 1));
    if (!idx) return mt_error_set(err, MT_ENOMEM, "dataset: schema");
    int32_t n = 0;
    mt_status st = shape(op, in, idx, &n, err);
    if (st == MT_OK) st = build_schema(op, in, idx, n, out, err);
    mt_free(idx);
    return st;
}

static mt_status columns_op(const mt__ds_op *op, mt_table *in, mt_table **out, mt_error *err)
{
    mt_type *schema = NULL;
    int32_t *idx = mt_malloc(sizeof *idx * (size_t)(in->num_columns + 1));
    mt_array **cols = mt_malloc(sizeof *cols * (size_t)(in->num_columns + 1));
    int32_t n = 0;
    mt_status st = idx && cols ? shape(op, in->schema, idx, &n, err) : mt_error_set(err, MT_ENOMEM, "dataset: columns");
    if (st == MT_OK) st = build_schema(op, in->schema, idx, n, &schema, err);
    for (int32_t i = 0; st == MT_OK && i < n; i++) cols[i] = in->columns[idx[i]];
    if (st == MT_OK) st = mt_table_new(schema, cols, in->num_rows, out, err);
    mt_type_release(schema);
    mt_free(idx);
    mt_free(cols);
    return st;
}

static const char *op_name(mt__ds_op_kind k)
{
    return k == MT__DS_FILTER ? "filter" : k == MT__DS_ADD_COLUMN ? "add_column" : "map_batches";
}

/* What a filter or add_column makes of one batch and the function's answer. */
static mt_status finish_batch(const mt__ds_op *op, mt_table *batch, mt_table *r, mt_table **out, mt_error *err)
{
    if (op->kind == MT__DS_MAP) {
        *out = mt_table_retain(r);
        return MT_OK;
    }
    if (r->num_columns < 1 || r->num_rows != batch->num_rows)
        return mt_error_set(err, MT_EINVAL, "%s(%s): the function returned %d columns of %lld rows for a batch of %lld",
                            op_name(op->kind), op->fn, r->num_columns, (long long)r->num_rows, (long long)batch->num_rows);
    mt_array *col = r->columns[0];
    if (op->kind == MT__DS_FILTER) {
        if (col->type->id != MT_TYPE_BOOL)
            return mt_error_set(err, MT_ETYPE, "filter(%s): the function returned a non-bool column", op->fn);
        int64_t *rows = mt_malloc(sizeof *rows * (size_t)(batch->num_rows + 1)), n = 0;
        if (!rows) return mt_error_set(err, MT_ENOMEM, "filter");
        const uint8_t *valid = col->buffers[0] ? col->buffers[0]->data : NULL, *bits = col->buffers[1]->data;
        for (int64_t i = 0; i < batch->num_rows; i++) {
            int64_t k = col->offset + i;
            bool keep = ((bits[k >> 3] >> (k & 7)) & 1) && (!valid || ((valid[k >> 3] >> (k & 7)) & 1)); /* null: out */
            if (keep) rows[n++] = i;
        }
        mt_status st = n == batch->num_rows ? (*out = mt_table_retain(batch), MT_OK)
                                            : mt__ds_take_rows(batch, rows, n, out, err);
        mt_free(rows);
        return st;
    }
    /* add_column: appended, or in place of a column of the same name */
    const char *name = op->names[0];
    int32_t at = mt_type_field_index(batch->schema, name), n = batch->num_columns + (at < 0);
    const char **names = mt_calloc((size_t)n, sizeof *names);
    mt_type **types = mt_calloc((size_t)n, sizeof *types);
    bool *nullable = mt_calloc((size_t)n, sizeof *nullable);
    mt_array **cols = mt_calloc((size_t)n, sizeof *cols);
    mt_status st = names && types && nullable && cols ? MT_OK : mt_error_set(err, MT_ENOMEM, "add_column");
    for (int32_t i = 0; st == MT_OK && i < n; i++) {
        bool mine = i == at || (at < 0 && i == n - 1);
        names[i] = mine ? name : batch->schema->fields[i].name;
        types[i] = mine ? col->type : batch->schema->fields[i].type;
        nullable[i] = mine ? true : batch->schema->fields[i].nullable;
        cols[i] = mine ? col : batch->columns[i];
    }
    mt_type *schema = st == MT_OK ? mt_type_struct(n, names, types, nullable) : NULL;
    if (st == MT_OK && !schema) st = mt_error_set(err, MT_ENOMEM, "add_column");
    if (st == MT_OK) st = mt_table_new(schema, cols, batch->num_rows, out, err);
    mt_type_release(schema);
    mt_free(names);
    mt_free(types);
    mt_free(nullable);
    mt_free(cols);
    return st;
}

/* map_batches, filter and add_column: the function over each batch of `in`. */
static mt_status fn_op(const mt__ds_op *op, mt_table *in, mt_table **out, mt_error *err)
{
    mt_batch_fn fn = mt__batch_fn_lookup(op->fn);
    if (!fn)
        return mt_error_set(err, MT_ENOTFOUND, "%s: no batch function '%s' (register it in the job's code library)",
                            op_name(op->kind), op->fn);
    int64_t bs = op->batch_size == 0 ? 4096 : op->batch_size;
    int64_t nb = bs < 0 || bs >= in->num_rows ? 1 : (in->num_rows + bs - 1) / bs;
    if (nb == 1) bs = in->num_rows;
    mt_table **parts = mt_calloc((size_t)nb, sizeof *parts);
    if (!parts) return mt_error_set(err, MT_ENOMEM, "%s: %lld batches", op_name(op->kind), (long long)nb);
    mt_status st = MT_OK;
    int64_t done = 0;
    for (; st == MT_OK && done < nb; done++) {
        mt_table *batch = NULL, *r = NULL;
        int64_t off = done * bs, len = in->num_rows - off < bs ? in->num_rows - off : bs;
        st = nb == 1 ? (batch = mt_table_retain(in), MT_OK) : mt_table_slice(in, off, len, &batch, err);
        if (st == MT_OK) st = fn(batch, op->arg, op->arg_len, &r, err);
        if (st == MT_OK && !r)
            st = mt_error_set(err, MT_EINVAL, "%s(%s): the function returned no table", op_name(op->kind), op->fn);
        if (st == MT_OK) st = finish_batch(op, batch, r, &parts[done], err);
        if (st != MT_OK && nb > 1) mt_error_prefix(err, "rows %lld..%lld", (long long)off, (long long)(off + len));
        mt_table_release(r);
        mt_table_release(batch);
    }
    for (int64_t i = 1; st == MT_OK && i < nb; i++)
        if (!mt_type_equal(parts[i]->schema, parts[0]->schema))
            st = mt_error_set(err, MT_ETYPE, "%s(%s): batches came back with different schemas", op_name(op->kind), op->fn);
    if (st == MT_OK) st = nb == 1 ? (*out = mt_table_retain(parts[0]), MT_OK) : mt_table_concat(parts, (int32_t)nb, out, err);
    for (int64_t i = 0; i < nb; i++) mt_table_release(parts[i]);
    mt_free(parts);
    return st;
}

mt_status mt__ds_ops_apply(const mt__ds_op *ops, int n, mt_table *in, const char *what, mt_table **out,
                           mt_error *err)
{
    mt_table *cur = mt_table_retain(in);
    mt_status st = MT_OK;
    for (int i = 0; st == MT_OK && i < n; i++) {
        mt_table *next = NULL;
        bool f = mt__ds_op_is_fn(ops[i].kind);
        st = f ? fn_op(&ops[i], cur, &next, err) : columns_op(&ops[i], cur, &next, err);
        if (st != MT_OK && f) mt_error_prefix(err, "%s: %s(%s)", what, op_name(ops[i].kind), ops[i].fn);
        else if (st != MT_OK) mt_error_prefix(err, "%s", what);
        mt_table_release(cur);
        cur = next;
    }
    if (st == MT_OK) *out = cur;
    else mt_table_release(cur);
    return st;
}
