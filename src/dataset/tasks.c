/*
 * tasks.c — what workers run for datasets: `manta.data.run` reads one
 * input (Parquet row groups, a CSV file, an id range, stored blocks or slices of them),
 * runs the fused operators, and either stores the result as a block
 * (return 0, written in place into the object store) or writes it as a
 * Parquet or CSV file; return 1 is the row count (int64) in both cases.
 *
 * Arguments: 0 = the task's JSON (spec.c), 1.. = the stored blocks its
 * input reads (mapped, zero-copy for the task's duration).
 *
 * Threads: a worker's main thread.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "dataset/ds_int.h"
#include "manta/parquet.h"

static mt_status bad(mt_error *err, const char *what)
{
    return mt_error_set(err, MT_EPARSE, "manta.data.run: bad task: %s", what);
}

/* NULL-terminated copies of a JSON array of strings (mt_free each and the array). */
static char **names_of(json_t *a, int *n)
{
    *n = 0;
    if (!json_is_array(a)) return NULL;
    size_t k = json_array_size(a);
    char **v = mt_calloc(k + 1, sizeof *v);
    for (size_t i = 0; v && i < k; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !(v[i] = mt_strdup(s))) {
            for (size_t j = 0; j < i; j++) mt_free(v[j]);
            mt_free(v);
            return NULL;
        }
        (*n)++;
    }
    return v;
}

static void names_free(char **v, int n)
{
    for (int i = 0; v && i < n; i++) mt_free(v[i]);
    mt_free(v);
}

static mt_status parse_op(json_t *o, mt__ds_op *op, mt_error *err)
{
    const char *k = json_string_value(json_object_get(o, "op"));
    memset(op, 0, sizeof *op);
    if (!k) return bad(err, "operator without a kind");
    if (!strcmp(k, "select")) op->kind = MT__DS_SELECT;
    else if (!strcmp(k, "drop")) op->kind = MT__DS_DROP;
    else if (!strcmp(k, "rename")) op->kind = MT__DS_RENAME;
    else if (!strcmp(k, "map_batches")) op->kind = MT__DS_MAP;
    else if (!strcmp(k, "filter")) op->kind = MT__DS_FILTER;
    else if (!strcmp(k, "add_column")) op->kind = MT__DS_ADD_COLUMN;
    else return bad(err, "unknown operator");
    json_t *names = json_object_get(o, "names");
    if (names) {
        op->names = names_of(names, &op->nnames);
        if (!op->names) return bad(err, "operator names");
    }
    if (!mt__ds_op_is_fn(op->kind)) return MT_OK;
    const char *fn = json_string_value(json_object_get(o, "fn"));
    const char *arg = json_string_value(json_object_get(o, "arg"));
    op->batch_size = json_integer_value(json_object_get(o, "batch_size"));
    if (!fn || !arg || strlen(arg) % 2) return bad(err, "map_batches fields");
    op->fn = mt_strdup(fn);
    op->arg_len = strlen(arg) / 2;
    op->arg = op->arg_len ? mt_malloc(op->arg_len) : NULL;
    if (!op->fn || (op->arg_len && !op->arg)) return mt_error_set(err, MT_ENOMEM, "manta.data.run");
    for (size_t i = 0; i < op->arg_len; i++) {
        unsigned v;
        if (sscanf(arg + 2 * i, "%2x", &v) != 1) return bad(err, "map_batches argument");
        op->arg[i] = (uint8_t)v;
    }
    return MT_OK;
}

static mt_status read_parquet(json_t *in, char **columns, mt_table **out, mt_error *err)
{
    const char *path = json_string_value(json_object_get(in, "path"));
    json_int_t b = json_integer_value(json_object_get(in, "rg_begin"));
    json_int_t e = json_integer_value(json_object_get(in, "rg_end"));
    if (!path || b < 0 || e < b) return bad(err, "parquet input");
    mt_parquet_read_options o = {.columns = (const char *const *)columns};
    mt_parquet_reader *r = NULL;
    MT_RETURN_NOT_OK(mt_parquet_reader_open(path, &o, &r, err));
    mt_status st = e > mt_parquet_reader_num_row_groups(r)
                       ? mt_error_set(err, MT_ECORRUPT, "%s: row groups %lld..%lld asked, the file has %d", path,
                                      (long long)b, (long long)e, mt_parquet_reader_num_row_groups(r))
                       : MT_OK;
    int32_t n = (int32_t)(e - b);
    mt_table **parts = st == MT_OK ? mt_calloc((size_t)(n ? n : 1), sizeof *parts) : NULL;
    if (st == MT_OK && !parts) st = mt_error_set(err, MT_ENOMEM, "reading %s", path);
    int32_t got = 0;
    for (; st == MT_OK && got < n; got++) {
        st = mt_parquet_reader_read_row_group(r, (int32_t)b + got, &parts[got], err);
        if (st != MT_OK) break;
    }
    if (st == MT_OK && n == 0) { /* an empty file: no row groups, a schema all the same */
        mt_type *schema = mt_type_retain((mt_type *)mt_parquet_reader_schema(r));
        mt_array **cols = mt_calloc((size_t)schema->num_fields + 1, sizeof *cols);
        for (int32_t i = 0; cols && i < schema->num_fields; i++) cols[i] = mt_array_new_null(schema->fields[i].type, 0);
        st = cols ? mt_table_new(schema, cols, 0, out, err) : mt_error_set(err, MT_ENOMEM, "reading %s", path);
        for (int32_t i = 0; cols && i < schema->num_fields; i++) mt_array_release(cols[i]);
        mt_free(cols);
        mt_type_release(schema);
    } else if (st == MT_OK) {
        st = n == 1 ? (*out = mt_table_retain(parts[0]), MT_OK) : mt_table_concat(parts, n, out, err);
    }
    for (int32_t i = 0; i < got; i++) mt_table_release(parts[i]);
    mt_free(parts);
    mt_parquet_reader_destroy(r);
    return st;
}

static mt_status read_csv(json_t *in, char **columns, mt_table **out, mt_error *err)
{
    const char *path = json_string_value(json_object_get(in, "path"));
    const char *d = json_string_value(json_object_get(in, "delimiter"));
    if (!path || !d || strlen(d) != 1) return bad(err, "csv input");
    mt_csv_read_options o = {.delimiter = d[0]};
    mt_table *t = NULL;
    MT_RETURN_NOT_OK(mt_csv_read(path, &o, &t, err));
    if (!columns) {
        *out = t;
        return MT_OK;
    }
    mt_status st = mt_table_select(t, (const char *const *)columns, out, err);
    if (st != MT_OK) mt_error_prefix(err, "%s", path);
    mt_table_release(t);
    return st;
}

static mt_status read_range(json_t *in, mt_table **out, mt_error *err)
{
    json_int_t a = json_integer_value(json_object_get(in, "start"));
    json_int_t b = json_integer_value(json_object_get(in, "end"));
    if (b < a) return bad(err, "range input");
    mt_buffer *vals = mt_buffer_new((b - a) * 8);
    if (!vals) return mt_error_set(err, MT_ENOMEM, "range of %lld rows", (long long)(b - a));
    int64_t *p = (int64_t *)vals->data;
    for (json_int_t i = a; i < b; i++) p[i - a] = i;
    mt_buffer *bufs[2] = {NULL, vals};
    mt_type *t = mt_type_new(MT_TYPE_INT64);
    mt_array *col = mt_array_new(t, b - a, 0, 0, bufs, 2, NULL, 0);
    mt_buffer_release(vals);
    const char *names[1] = {"id"};
    bool nullable[1] = {false};
    mt_type *schema = mt_type_struct(1, names, &t, nullable);
    mt_status st = col && schema ? mt_table_new(schema, &col, b - a, out, err) : mt_error_set(err, MT_ENOMEM, "range");
    mt_array_release(col);
    mt_type_release(schema);
    return st;
}

/* Block arguments 1..: decoded in place (the task's arguments outlive the tables made here). */
static mt_status read_blocks(json_t *in, const mt_arg *args, int nargs, int64_t index, mt_table **out, mt_error *err)
{
    json_int_t nrefs = json_integer_value(json_object_get(in, "refs"));
    if (nrefs < 1 || nrefs > nargs - 1) return bad(err, "block arguments");
    mt_table **blocks = mt_calloc((size_t)nrefs, sizeof *blocks);
    if (!blocks) return mt_error_set(err, MT_ENOMEM, "manta.data.run");
    mt_status st = MT_OK;
    char what[64];
    for (json_int_t i = 0; st == MT_OK && i < nrefs; i++) {
        snprintf(what, sizeof what, "input %lld of block %lld", (long long)i, (long long)index);
        st = mt__block_decode(args[1 + i].data, args[1 + i].size, NULL, NULL, what, &blocks[i], err);
    }
    json_t *sl = json_object_get(in, "slices");
    if (st == MT_OK && !sl) {
        *out = mt_table_retain(blocks[0]);
    } else if (st == MT_OK) {
        size_t n = json_array_size(sl);
        mt_table **parts = mt_calloc(n ? n : 1, sizeof *parts);
        if (!parts) st = mt_error_set(err, MT_ENOMEM, "manta.data.run");
        size_t got = 0;
        for (; st == MT_OK && got < n; got++) {
            json_t *s = json_array_get(sl, got);
            json_int_t r = json_integer_value(json_array_get(s, 0)), off = json_integer_value(json_array_get(s, 1)),
                       len = json_integer_value(json_array_get(s, 2));
            if (r < 0 || r >= nrefs || off < 0 || len < 0 || off + len > blocks[r]->num_rows) {
                st = bad(err, "a slice outside its block");
                break;
            }
            st = mt_table_slice(blocks[r], off, len, &parts[got], err);
            if (st != MT_OK) break;
        }
        if (st == MT_OK && n == 0) st = bad(err, "no slices");
        if (st == MT_OK) st = mt_table_concat(parts, (int32_t)n, out, err);
        for (size_t i = 0; i < got; i++) mt_table_release(parts[i]);
        mt_free(parts);
    }
    for (json_int_t i = 0; i < nrefs; i++) mt_table_release(blocks[i]);
    mt_free(blocks);
    return st;
}

mt_status mt__ds_store_block(mt_task_ctx *ctx, const mt_table *t, mt_error *err)
{
    size_t size;
    void *p;
    MT_RETURN_NOT_OK(mt__block_size(t, &size, err));
    MT_RETURN_NOT_OK(mt_return_alloc(ctx, size, &p, err));
    return mt__block_encode(t, p, size, err);
}

/* Nested schemas, or too many sources: the sources concatenated, the rows taken, the table encoded. */
static mt_status store_pick_by_take(mt_task_ctx *ctx, const mt__ds_pick *p, mt_error *err)
{
    mt_table *all = NULL, *res = NULL;
    int64_t *rows = NULL;
    mt_status st = MT_OK;
    if (p->ntables == 1 || !p->tab) {
        all = mt_table_retain((mt_table *)p->tables[0]);
    } else {
        int64_t *first = mt_calloc((size_t)p->ntables, sizeof *first);
        rows = mt_malloc(sizeof *rows * (size_t)(p->n ? p->n : 1));
        st = first && rows ? MT_OK : mt_error_set(err, MT_ENOMEM, "storing %lld rows", (long long)p->n);
        for (int k = 1; st == MT_OK && k < p->ntables; k++) first[k] = first[k - 1] + p->tables[k - 1]->num_rows;
        for (int64_t i = 0; st == MT_OK && i < p->n; i++) {
            int32_t k = p->tab[i];
            if (k < 0 || k >= p->ntables) st = mt_error_set(err, MT_ERANGE, "block: picked source %d is out of range", (int)k);
            else rows[i] = first[k] + p->rows[i];
        }
        mt_free(first);
        if (st == MT_OK) st = mt_table_concat((mt_table *const *)p->tables, p->ntables, &all, err);
    }
    if (st == MT_OK) st = mt__ds_take_rows(all, rows ? rows : p->rows, p->n, &res, err);
    if (st == MT_OK) st = mt__ds_store_block(ctx, res, err);
    mt_free(rows);
    mt_table_release(res);
    mt_table_release(all);
    return st;
}

mt_status mt__ds_store_pick(mt_task_ctx *ctx, const mt__ds_pick *p, mt_error *err)
{
    if (p->ntables > MT__DS_PICK_MAX || !mt__block_pickable(p->tables[0]->schema)) return store_pick_by_take(ctx, p, err);
    mt__block_pick_plan *pl = NULL;
    size_t size;
    void *out;
    mt_status st = mt__block_pick_plan_make(p, &pl, &size, err);
    if (st == MT_OK) st = mt_return_alloc(ctx, size, &out, err);
    if (st == MT_OK) mt__block_pick_write(pl, out);
    mt__block_pick_plan_free(pl);
    return st;
}

mt_status mt__ds_task_table(mt_task_ctx *ctx, json_t *j, const mt_arg *args, int nargs, mt_table **out,
                            mt_error *err)
{
    int64_t index = json_integer_value(json_object_get(j, "index"));
    json_t *in = json_object_get(j, "input");
    const char *kind = json_string_value(json_object_get(in, "kind"));
    int ncols = 0, nops = 0;
    char **cols = json_object_get(j, "columns") ? names_of(json_object_get(j, "columns"), &ncols) : NULL;
    json_t *opsj = json_object_get(j, "ops");
    size_t nj = json_array_size(opsj);
    mt__ds_op *ops = mt_calloc(nj ? nj : 1, sizeof *ops);
    mt_status st = ops ? MT_OK : mt_error_set(err, MT_ENOMEM, "manta.data.run");
    for (size_t i = 0; st == MT_OK && i < nj; i++, nops++) st = parse_op(json_array_get(opsj, i), &ops[i], err);
    for (int i = 0; st == MT_OK && i < nops; i++)
        if (mt__ds_op_is_fn(ops[i].kind)) st = mt_task_load_code(ctx, err); /* the job's batch functions */
    mt_table *t = NULL, *res = NULL;
    if (st == MT_OK && !kind) st = bad(err, "input without a kind");
    else if (st == MT_OK && !strcmp(kind, "parquet")) st = read_parquet(in, cols, &t, err);
    else if (st == MT_OK && !strcmp(kind, "range")) st = read_range(in, &t, err);
    else if (st == MT_OK && !strcmp(kind, "csv")) st = read_csv(in, cols, &t, err);
    else if (st == MT_OK && (!strcmp(kind, "block") || !strcmp(kind, "slices")))
        st = read_blocks(in, args, nargs, index, &t, err);
    else if (st == MT_OK) st = bad(err, "unknown input kind");
    char what[48];
    snprintf(what, sizeof what, "block %lld", (long long)index);
    if (st == MT_OK) st = mt__ds_ops_apply(ops, nops, t, what, &res, err);
    mt_table_release(t);
    for (int i = 0; i < nops; i++) mt__ds_op_free(&ops[i]);
    mt_free(ops);
    names_free(cols, ncols);
    if (st == MT_OK) *out = res;
    return st;
}

static mt_status run(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    if (nargs < 1 || mt_task_num_returns(ctx) != 2) return bad(err, "arguments");
    json_error_t je;
    json_t *j = json_loadb(args[0].data, args[0].size, 0, &je);
    if (!j) return bad(err, je.text);
    mt_table *res = NULL;
    mt_status st = mt__ds_task_table(ctx, j, args, nargs, &res, err);
    const char *write = json_string_value(json_object_get(j, "write"));
    const char *format = json_string_value(json_object_get(j, "format"));
    if (st == MT_OK && write && format && !strcmp(format, "csv")) {
        st = mt_csv_write(write, res, NULL, err);
        if (st == MT_OK) st = mt_return(ctx, NULL, 0, err);
    } else if (st == MT_OK && write) {
        st = mt_parquet_write_table(write, res, &(mt_parquet_write_options){.codec = MT_PARQUET_SNAPPY}, err);
        if (st == MT_OK) st = mt_return(ctx, NULL, 0, err);
    } else if (st == MT_OK) {
        st = mt__ds_store_block(ctx, res, err);
    }
    if (st == MT_OK) st = mt_return_i64(ctx, res->num_rows, err);
    mt_table_release(res);
    json_decref(j);
    return st;
}

void mt__dataset_register(void)
{
    mt_remote_register("manta.data.run", run);
    mt__shuffle_register();
    mt__sort_register();
    mt__actor_pool_register();
}
