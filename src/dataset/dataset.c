/*
 * dataset.c — the Dataset API (manta/dataset.h): handles with sticky
 * errors owned by the session, sources (Parquet footers are read at once;
 * one input per row-group range), the lazy per-block transformations, and
 * consumption (materialize, count, schema, take/show, to_table,
 * write_parquet) on top of exec.c.
 *
 * Threads: a global mutex guards the session's list of live datasets; a
 * dataset itself is used by one thread at a time. Invariant: a dataset in
 * the error state has no inputs; every other call on it returns a dataset
 * (or value) carrying the same error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file.h"
#include "dataset/ds_int.h"
#include "manta/parquet.h"

/* ---- Handles ------------------------------------------------------------- */

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static mt_dataset *live;
static bool hooked;

/* Frees what the plan holds (inputs and their block refs, projection, operators, schema). */
static void plan_clear(mt_dataset *ds)
{
    for (int i = 0; i < ds->ninputs; i++) mt__ds_input_free(&ds->inputs[i]);
    mt_free(ds->inputs);
    for (int i = 0; i < ds->ncolumns; i++) mt_free(ds->columns[i]);
    mt_free(ds->columns);
    mt_free(ds->group_key);
    ds->group_key = NULL;
    for (int i = 0; i < ds->nops; i++) mt__ds_op_free(&ds->ops[i]);
    mt_free(ds->ops);
    mt_type_release(ds->schema);
    ds->inputs = NULL;
    ds->columns = NULL;
    ds->ops = NULL;
    ds->schema = NULL;
    ds->ninputs = ds->ncolumns = ds->nops = 0;
}

static void ds_free(mt_dataset *ds)
{
    plan_clear(ds);
    mt_free(ds);
}

static void unlink_live(mt_dataset *ds)
{
    if (ds->prev) ds->prev->next = ds->next;
    else if (live == ds) live = ds->next;
    if (ds->next) ds->next->prev = ds->prev;
    ds->prev = ds->next = NULL;
}

/* mt_shutdown: every dataset still alive goes (its block refs with it). */
static void free_all(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&live_lock);
    while (live) {
        mt_dataset *ds = live;
        unlink_live(ds);
        ds_free(ds);
    }
    hooked = false;
    pthread_mutex_unlock(&live_lock);
}

static mt_dataset *ds_new(void)
{
    mt_dataset *ds = mt_calloc(1, sizeof *ds);
    if (!ds) return NULL;
    ds->rc = 1;
    ds->limit = -1;
    pthread_mutex_lock(&live_lock);
    if (!hooked) hooked = mt_at_shutdown(free_all, NULL) == MT_OK;
    ds->next = live;
    if (live) live->prev = ds;
    live = ds;
    pthread_mutex_unlock(&live_lock);
    return ds;
}

/* The one dataset handed out when not even an error dataset can be allocated. */
static mt_dataset oom_ds = {.rc = -1, .st = MT_ENOMEM, .msg = "dataset: out of memory", .limit = -1};

static mt_dataset *ds_fail(mt_status st, const char *msg)
{
    mt_dataset *ds = ds_new();
    if (!ds) return &oom_ds;
    ds->st = st;
    snprintf(ds->msg, sizeof ds->msg, "%s", msg);
    return ds;
}

static mt_dataset *ds_fail_err(const mt_error *err) { return ds_fail(err->code, err->msg); }

mt_dataset *mt__ds_fail(mt_status st, const char *msg) { return ds_fail(st, msg); }

MT_API mt_dataset *mt_dataset_failed(mt_status st, const char *msg)
{
    return ds_fail(st == MT_OK ? MT_EINTERNAL : st, msg ? msg : "dataset: failed");
}

static mt_dataset *ds_failf(mt_status st, const char *fmt, ...)
{
    char msg[MT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ds_fail(st, msg);
}

/* A failed input stays failed: the error travels on. */
static mt_dataset *ds_check(mt_dataset *ds)
{
    if (!ds) return ds_fail(MT_EINVAL, "dataset: NULL dataset");
    if (ds->st != MT_OK) return ds_fail(ds->st, ds->msg);
    if (ds->group_key)
        return ds_failf(MT_ESTATE, "dataset grouped by '%s': only aggregations (count, sum, min, max, mean, std) apply",
                        ds->group_key);
    return NULL;
}

/* Consumption of a grouped dataset is an error (set on it, sticky). */
static bool grouped(mt_dataset *ds)
{
    if (!ds->group_key) return false;
    ds->st = MT_ESTATE;
    snprintf(ds->msg, sizeof ds->msg, "dataset grouped by '%s': aggregate it first", ds->group_key);
    return true;
}

mt_dataset *mt__ds_check(mt_dataset *ds) { return ds_check(ds); }

static mt_status set_err(const mt_dataset *ds, mt_error *err)
{
    if (!ds) return mt_error_set(err, MT_EINVAL, "dataset: NULL dataset");
    return mt_error_set(err, ds->st, "%s", ds->msg);
}

MT_API mt_status mt_dataset_status(const mt_dataset *ds, mt_error *err)
{
    if (ds && ds->st == MT_OK) return MT_OK;
    return set_err(ds, err);
}

MT_API mt_dataset *mt_dataset_retain(mt_dataset *ds)
{
    if (ds && ds->rc > 0) ds->rc++;
    return ds;
}

MT_API void mt_dataset_release(mt_dataset *ds)
{
    if (!ds || ds->rc <= 0 || --ds->rc > 0) return;
    pthread_mutex_lock(&live_lock);
    unlink_live(ds);
    pthread_mutex_unlock(&live_lock);
    ds_free(ds);
}

static char **copy_names(const char *const *v, int n)
{
    char **c = mt_calloc((size_t)(n ? n : 1), sizeof *c);
    for (int i = 0; c && i < n; i++)
        if (!(c[i] = mt_strdup(v[i]))) {
            for (int j = 0; j < i; j++) mt_free(c[j]);
            mt_free(c);
            return NULL;
        }
    return c;
}

static int count_names(const char *const *v)
{
    int n = 0;
    while (v && v[n]) n++;
    return n;
}

/* A deep copy (inputs share their block refs). */
mt_dataset *mt__ds_copy(const mt_dataset *src, mt_error *err)
{
    mt_dataset *ds = ds_new();
    if (!ds) return mt_error_set(err, MT_ENOMEM, "dataset: out of memory"), NULL;
    bool ok = (ds->inputs = mt_calloc((size_t)(src->ninputs ? src->ninputs : 1), sizeof *ds->inputs)) &&
              (ds->ops = mt_calloc((size_t)src->nops + 1, sizeof *ds->ops));
    for (int i = 0; ok && i < src->ninputs; i++, ds->ninputs++)
        ok = mt__ds_input_copy(&src->inputs[i], &ds->inputs[i], err) == MT_OK;
    for (int i = 0; ok && i < src->nops; i++, ds->nops++) ok = mt__ds_op_copy(&src->ops[i], &ds->ops[i], err) == MT_OK;
    if (ok && src->ncolumns) {
        ok = (ds->columns = copy_names((const char *const *)src->columns, src->ncolumns)) != NULL;
        if (ok) ds->ncolumns = src->ncolumns;
    }
    ds->limit = src->limit;
    ds->schema = mt_type_retain(src->schema);
    if (ok && src->group_key) ok = (ds->group_key = mt_strdup(src->group_key)) != NULL;
    if (ok) return ds;
    mt_error_set(err, MT_ENOMEM, "dataset: out of memory");
    mt_dataset_release(ds);
    return NULL;
}

/* ---- Sources --------------------------------------------------------------- */

static mt_status add_input(mt_dataset *ds, int *cap, const mt__ds_input *in, mt_error *err)
{
    if (ds->ninputs == *cap) {
        int c = *cap ? *cap * 2 : 16;
        mt__ds_input *v = mt_realloc(ds->inputs, sizeof *v * (size_t)c);
        if (!v) return mt_error_set(err, MT_ENOMEM, "dataset: inputs");
        ds->inputs = v;
        *cap = c;
    }
    ds->inputs[ds->ninputs++] = *in;
    return MT_OK;
}

/* One file's footer: its row-group ranges become inputs; its schema must match the first file's. */
static mt_status add_file(mt_dataset *ds, int *cap, const char *path, const mt_read_parquet_options *o, mt_error *err)
{
    mt_parquet_read_options ro = {.columns = o ? o->columns : NULL};
    mt_parquet_reader *r = NULL;
    MT_RETURN_NOT_OK(mt_parquet_reader_open(path, &ro, &r, err));
    const mt_type *schema = mt_parquet_reader_schema(r);
    mt_status st = MT_OK;
    if (!ds->schema) ds->schema = mt_type_retain((mt_type *)schema);
    else if (!mt_type_equal(ds->schema, schema))
        st = mt_error_set(err, MT_ETYPE, "read_parquet: %s has a different schema from %s", path, ds->inputs[0].path);
    int32_t nrg = mt_parquet_reader_num_row_groups(r);
    int64_t per = o && o->rows_per_block > 0 ? o->rows_per_block : 0;
    for (int32_t rg = 0; st == MT_OK && (rg < nrg || (nrg == 0 && rg == 0));) {
        mt__ds_input in = {.kind = MT__DS_IN_PARQUET, .rg_begin = rg, .rows = 0};
        do {
            if (rg < nrg) in.rows += mt_parquet_reader_row_group_num_rows(r, rg);
            rg++;
        } while (rg < nrg && per > 0 && in.rows < per);
        in.rg_end = nrg == 0 ? 0 : rg;
        in.path = mt_strdup(path);
        st = in.path ? add_input(ds, cap, &in, err) : mt_error_set(err, MT_ENOMEM, "read_parquet");
        if (st != MT_OK) mt_free(in.path);
    }
    mt_parquet_reader_destroy(r);
    return st;
}

MT_API mt_dataset *mt_read_parquet_paths(const char *const *paths, const mt_read_parquet_options *opts)
{
    mt_error err;
    mt_error_clear(&err);
    if (!paths || !paths[0]) return ds_fail(MT_EINVAL, "read_parquet: no path");
    mt__ds_paths files = {0};
    mt_status st = MT_OK;
    for (int i = 0; st == MT_OK && paths[i]; i++) st = mt__ds_expand(paths[i], ".parquet", "read_parquet", &files, &err);
    mt_dataset *ds = st == MT_OK ? ds_new() : NULL;
    if (st == MT_OK && !ds) st = mt_error_set(&err, MT_ENOMEM, "read_parquet");
    int cap = 0;
    for (int i = 0; st == MT_OK && i < files.n; i++) st = add_file(ds, &cap, files.v[i], opts, &err);
    if (st == MT_OK && opts && opts->columns) {
        ds->ncolumns = count_names(opts->columns);
        if (!(ds->columns = copy_names(opts->columns, ds->ncolumns))) {
            ds->ncolumns = 0;
            st = mt_error_set(&err, MT_ENOMEM, "read_parquet");
        }
    }
    mt__ds_paths_free(&files);
    if (st == MT_OK) return ds;
    mt_dataset_release(ds);
    return ds_fail_err(&err);
}

MT_API mt_dataset *mt_read_parquet(const char *path, const mt_read_parquet_options *opts)
{
    const char *paths[2] = {path, NULL};
    return mt_read_parquet_paths(paths, opts);
}

/* A dataset of stored blocks (inputs read them as they are). */
static mt_dataset *from_blocks(mt__ds_block *b, int n, mt_type *schema, mt_error *err)
{
    mt_dataset *ds = ds_new();
    if (!ds || !(ds->inputs = mt_calloc((size_t)(n ? n : 1), sizeof *ds->inputs))) {
        mt_dataset_release(ds);
        return mt_error_set(err, MT_ENOMEM, "dataset: blocks"), NULL;
    }
    ds->schema = mt_type_retain(schema);
    for (int i = 0; i < n; i++) {
        mt__ds_input *in = &ds->inputs[ds->ninputs];
        *in = (mt__ds_input){.kind = MT__DS_IN_BLOCK, .rows = b[i].rows};
        if (!(in->refs = mt_malloc(sizeof *in->refs))) {
            mt_dataset_release(ds);
            return mt_error_set(err, MT_ENOMEM, "dataset: blocks"), NULL;
        }
        in->refs[0] = mt_ref_retain(b[i].ref);
        in->nrefs = 1;
        ds->ninputs++;
    }
    return ds;
}

mt_dataset *mt__ds_from_inputs(mt__ds_input *inputs, int n, const mt_type *schema, mt_error *err)
{
    mt_dataset *ds = ds_new();
    if (!ds) {
        for (int i = 0; i < n; i++) mt__ds_input_free(&inputs[i]);
        mt_free(inputs);
        return mt_error_set(err, MT_ENOMEM, "dataset: out of memory"), NULL;
    }
    ds->inputs = inputs;
    ds->ninputs = n;
    ds->schema = mt_type_retain((mt_type *)schema);
    return ds;
}

MT_API mt_dataset *mt_from_table(mt_table *table)
{
    if (!table) return ds_fail(MT_EINVAL, "from_table: NULL table");
    mt_error err;
    size_t size;
    mt_status st = mt__block_size(table, &size, &err);
    uint8_t *buf = st == MT_OK ? mt_malloc_aligned(size) : NULL;
    if (st == MT_OK && !buf) st = mt_error_set(&err, MT_ENOMEM, "from_table: a block of %zu bytes", size);
    if (st == MT_OK) st = mt__block_encode(table, buf, size, &err);
    mt__ds_block b = {.ref = NULL, .rows = table->num_rows};
    if (st == MT_OK) st = mt_put(buf, size, &b.ref, &err);
    mt_free_aligned(buf);
    mt_dataset *ds = st == MT_OK ? from_blocks(&b, 1, table->schema, &err) : NULL;
    mt_ref_release(b.ref);
    return ds ? ds : ds_fail_err(&err);
}

MT_API mt_dataset *mt_range(int64_t n, int num_blocks)
{
    if (n < 0) return ds_failf(MT_EINVAL, "range: negative size %lld", (long long)n);
    int nb = num_blocks > 0 ? num_blocks : 200; /* Ray's default parallelism */
    if (nb > n) nb = n > 0 ? (int)n : 1;
    mt_dataset *ds = ds_new();
    if (!ds || !(ds->inputs = mt_calloc((size_t)nb, sizeof *ds->inputs))) {
        mt_dataset_release(ds);
        return ds_fail(MT_ENOMEM, "range: out of memory");
    }
    for (int i = 0; i < nb; i++) {
        int64_t a = n * i / nb, b = n * (i + 1) / nb;
        ds->inputs[ds->ninputs++] = (mt__ds_input){.kind = MT__DS_IN_RANGE, .start = a, .end = b, .rows = b - a};
    }
    mt_type *t = mt_type_new(MT_TYPE_INT64);
    const char *names[1] = {"id"};
    bool nullable[1] = {false};
    ds->schema = mt_type_struct(1, names, &t, nullable);
    if (!ds->schema) {
        mt_dataset_release(ds);
        return ds_fail(MT_ENOMEM, "range: out of memory");
    }
    return ds;
}

/* ---- Transformations --------------------------------------------------------- */

MT_API mt_dataset *mt_materialize(mt_dataset *ds);

/* The dataset new operators can be appended to: a limited one is run first. */
static mt_dataset *base_for_ops(mt_dataset *ds, mt_error *err)
{
    if (ds->limit < 0) return mt__ds_copy(ds, err);
    mt_dataset *m = mt_materialize(ds);
    if (m->st == MT_OK) return m;
    set_err(m, err);
    mt_dataset_release(m);
    return NULL;
}

static mt_dataset *add_op(mt_dataset *ds, mt__ds_op *op)
{
    mt_dataset *bad = ds_check(ds);
    if (bad) {
        mt__ds_op_free(op);
        return bad;
    }
    mt_error err;
    mt_dataset *out = base_for_ops(ds, &err);
    if (!out) {
        mt__ds_op_free(op);
        return ds_fail_err(&err);
    }
    mt_type *schema = NULL;
    mt_status st = out->schema ? mt__ds_op_schema(op, out->schema, &schema, &err) : MT_OK;
    mt__ds_op *ops = st == MT_OK ? mt_realloc(out->ops, sizeof *ops * (size_t)(out->nops + 1)) : NULL;
    if (st == MT_OK && !ops) st = mt_error_set(&err, MT_ENOMEM, "dataset: operators");
    if (st != MT_OK) {
        mt__ds_op_free(op);
        mt_type_release(schema);
        mt_dataset_release(out);
        return ds_fail_err(&err);
    }
    out->ops = ops;
    out->ops[out->nops++] = *op;
    mt_type_release(out->schema);
    out->schema = schema; /* NULL after map_batches: known once it runs */
    return out;
}

static mt_dataset *names_op(mt_dataset *ds, mt__ds_op_kind kind, const char *const *names, const char *what)
{
    if (!names) return ds_failf(MT_EINVAL, "%s: no column names", what);
    mt__ds_op op = {.kind = kind, .nnames = count_names(names)};
    if (kind == MT__DS_RENAME && op.nnames % 2) return ds_failf(MT_EINVAL, "%s: names come in old, new pairs", what);
    if (!(op.names = copy_names(names, op.nnames))) return ds_fail(MT_ENOMEM, "dataset: out of memory");
    return add_op(ds, &op);
}

MT_API mt_dataset *mt_select_columns(mt_dataset *ds, const char *const *columns)
{
    return names_op(ds, MT__DS_SELECT, columns, "select_columns");
}

MT_API mt_dataset *mt_drop_columns(mt_dataset *ds, const char *const *columns)
{
    return names_op(ds, MT__DS_DROP, columns, "drop_columns");
}

MT_API mt_dataset *mt_rename_columns(mt_dataset *ds, const char *const *pairs)
{
    return names_op(ds, MT__DS_RENAME, pairs, "rename_columns");
}

static mt_dataset *fn_op(mt_dataset *ds, mt__ds_op_kind kind, const char *name, const char *fn_name,
                         const mt_map_batches_options *o)
{
    static const char *const what[] = {[MT__DS_MAP] = "map_batches", [MT__DS_FILTER] = "filter", [MT__DS_ADD_COLUMN] = "add_column"};
    if (!fn_name || !*fn_name) return ds_failf(MT_EINVAL, "%s: no function name", what[kind]);
    if (kind == MT__DS_ADD_COLUMN && (!name || !*name)) return ds_fail(MT_EINVAL, "add_column: no column name");
    if (o && o->batch_size < -1) return ds_failf(MT_EINVAL, "%s: bad batch_size %lld", what[kind], (long long)o->batch_size);
    if (o && !(o->num_cpus >= 0 && o->num_cpus <= 1e6)) return ds_failf(MT_EINVAL, "%s: bad num_cpus", what[kind]);
    mt__ds_op op = {.kind = kind, .fn = mt_strdup(fn_name), .batch_size = o ? o->batch_size : 0,
                    .num_cpus = o ? o->num_cpus : 0};
    bool ok = op.fn != NULL;
    if (ok && name) {
        ok = (op.names = copy_names((const char *const[]){name}, 1)) != NULL;
        op.nnames = ok ? 1 : 0;
    }
    if (ok && o && o->arg_len) {
        ok = (op.arg = mt_malloc(o->arg_len)) != NULL;
        if (ok) memcpy(op.arg, o->arg, o->arg_len);
        op.arg_len = o->arg_len;
    }
    for (int i = 0; ok && o && i < o->num_resources; i++)
        if (!o->resources[i].name || !*o->resources[i].name || !(o->resources[i].quantity >= 0)) {
            mt__ds_op_free(&op);
            return ds_failf(MT_EINVAL, "%s: resource %d has no name or a negative quantity", what[kind], i);
        }
    if (ok && o && o->num_resources > 0 && o->resources)
        ok = mt__ds_res_copy(o->resources, o->num_resources, &op.res, &op.nres) == MT_OK;
    if (!ok) {
        mt__ds_op_free(&op);
        return ds_fail(MT_ENOMEM, "dataset: out of memory");
    }
    return add_op(ds, &op);
}

MT_API mt_dataset *mt_map_batches(mt_dataset *ds, const char *fn_name, const mt_map_batches_options *o)
{
    return fn_op(ds, MT__DS_MAP, NULL, fn_name, o);
}

MT_API mt_dataset *mt_filter(mt_dataset *ds, const char *fn_name, const mt_map_batches_options *o)
{
    return fn_op(ds, MT__DS_FILTER, NULL, fn_name, o);
}

MT_API mt_dataset *mt_add_column(mt_dataset *ds, const char *name, const char *fn_name, const mt_map_batches_options *o)
{
    return fn_op(ds, MT__DS_ADD_COLUMN, name, fn_name, o);
}

MT_API mt_dataset *mt_limit(mt_dataset *ds, int64_t n)
{
    mt_dataset *bad = ds_check(ds);
    if (bad) return bad;
    if (n < 0) return ds_failf(MT_EINVAL, "limit: negative row count %lld", (long long)n);
    mt_error err;
    mt_dataset *out = mt__ds_copy(ds, &err);
    if (!out) return ds_fail_err(&err);
    out->limit = out->limit < 0 || n < out->limit ? n : out->limit;
    return out;
}

MT_API mt_dataset *mt_union(mt_dataset *const *datasets, int n)
{
    if (!datasets || n < 1) return ds_fail(MT_EINVAL, "union: no datasets");
    for (int i = 0; i < n; i++) {
        mt_dataset *bad = ds_check(datasets[i]);
        if (bad) return bad;
    }
    mt_dataset *out = ds_new();
    if (!out) return ds_fail(MT_ENOMEM, "union: out of memory");
    mt_error err;
    mt_status st = MT_OK;
    int cap = 0;
    for (int i = 0; st == MT_OK && i < n; i++) {
        mt_dataset *d = datasets[i];
        bool plain = d->nops == 0 && d->limit < 0 && d->ncolumns == 0;
        mt_dataset *src = plain ? mt_dataset_retain(d) : mt_materialize(d);
        st = mt_dataset_status(src, &err);
        const mt_type *s = st == MT_OK ? src->schema : NULL;
        if (st == MT_OK && s && out->schema && !mt_type_equal(s, out->schema))
            st = mt_error_set(&err, MT_ETYPE, "union: dataset %d has a different schema from dataset 0", i);
        if (st == MT_OK && i == 0) out->schema = mt_type_retain((mt_type *)s);
        else if (st == MT_OK && !s && out->schema) { /* unknown: checked when read */
            mt_type_release(out->schema);
            out->schema = NULL;
        }
        for (int k = 0; st == MT_OK && k < src->ninputs; k++) {
            mt__ds_input in;
            st = mt__ds_input_copy(&src->inputs[k], &in, &err);
            if (st == MT_OK && (st = add_input(out, &cap, &in, &err)) != MT_OK) mt__ds_input_free(&in);
        }
        mt_dataset_release(src);
    }
    if (st == MT_OK) return out;
    mt_dataset_release(out);
    return ds_fail_err(&err);
}

/* ---- Execution and consumption ------------------------------------------------ */

/* Rows without running, or -1. */
static int64_t known_rows(const mt_dataset *ds)
{
    for (int i = 0; i < ds->nops; i++)
        if (ds->ops[i].kind == MT__DS_MAP || ds->ops[i].kind == MT__DS_FILTER) return -1;
    int64_t n = 0;
    for (int i = 0; i < ds->ninputs; i++) {
        if (ds->inputs[i].rows < 0) return -1;
        n += ds->inputs[i].rows;
    }
    return ds->limit >= 0 && ds->limit < n ? ds->limit : n;
}

/* Runs ds (its limit applied) into stored blocks. */
mt_status mt__ds_run_blocks(const mt_dataset *ds, mt__ds_block **out, int *n, mt_error *err)
{
    MT_RETURN_NOT_OK(mt__ds_execute(ds, ds->limit, NULL, out, n, err));
    if (ds->limit < 0) return MT_OK;
    int64_t seen = 0;
    int keep = 0;
    while (keep < *n && seen < ds->limit) seen += (*out)[keep++].rows;
    for (int i = keep; i < *n; i++) mt_ref_release((*out)[i].ref);
    *n = keep;
    if (keep > 0 && seen > ds->limit) { /* cut when read */
        (*out)[keep - 1].rows -= seen - ds->limit;
        (*out)[keep - 1].cut = seen - ds->limit;
    }
    return MT_OK;
}

/* A materialised dataset over blocks; a block cut by a limit becomes a slice input. */
static mt_dataset *over_blocks(const mt_dataset *src, mt__ds_block *b, int n, mt_error *err)
{
    mt_type *schema = src->schema;
    mt_table *first = NULL;
    if (!schema && n > 0) { /* learn it from the first block */
        if (mt__ds_fetch(b[0].ref, "block 0", &first, err) != MT_OK) return NULL;
        schema = first->schema;
    }
    mt_dataset *ds = from_blocks(b, n, schema, err);
    mt_table_release(first);
    if (!ds) return NULL;
    for (int i = 0; i < n; i++) { /* rows lowered by a limit: read a prefix */
        mt__ds_input *in = &ds->inputs[i];
        if (b[i].cut <= 0) continue;
        if (!(in->slices = mt_malloc(sizeof *in->slices))) {
            mt_dataset_release(ds);
            return mt_error_set(err, MT_ENOMEM, "dataset: blocks"), NULL;
        }
        in->kind = MT__DS_IN_SLICES;
        in->slices[0] = (mt__ds_slice){0, 0, in->rows};
        in->nslices = 1;
    }
    return ds;
}

MT_API mt_dataset *mt_materialize(mt_dataset *ds)
{
    mt_dataset *bad = ds_check(ds);
    if (bad) return bad;
    mt_error err;
    mt__ds_block *b = NULL;
    int n = 0;
    if (mt__ds_run_blocks(ds, &b, &n, &err) != MT_OK) return ds_fail_err(&err);
    mt_dataset *out = over_blocks(ds, b, n, &err);
    mt__ds_blocks_free(b, n);
    return out ? out : ds_fail_err(&err);
}

/* Replaces ds's plan by its materialised result (so later calls reuse it). */
static mt_status materialize_in_place(mt_dataset *ds, mt_error *err)
{
    mt_dataset *m = mt_materialize(ds);
    if (m->st != MT_OK) {
        mt_status st = set_err(m, err);
        mt_dataset_release(m);
        return st;
    }
    plan_clear(ds);
    ds->inputs = m->inputs;
    ds->ninputs = m->ninputs;
    ds->schema = m->schema;
    ds->limit = -1;
    m->inputs = NULL;
    m->ninputs = 0;
    m->schema = NULL;
    mt_dataset_release(m);
    return MT_OK;
}

MT_API int64_t mt_count(mt_dataset *ds)
{
    if (!ds || ds->st != MT_OK || grouped(ds)) return -1;
    int64_t n = known_rows(ds);
    if (n >= 0) return n;
    mt_error err;
    if (materialize_in_place(ds, &err) != MT_OK) {
        ds->st = err.code;
        snprintf(ds->msg, sizeof ds->msg, "%s", err.msg);
        return -1;
    }
    return known_rows(ds);
}

MT_API int64_t mt_num_blocks(mt_dataset *ds) { return !ds || ds->st != MT_OK ? -1 : ds->ninputs; }

/* The first n rows (n < 0: all) as one table. */
static mt_status take(mt_dataset *ds, int64_t n, mt_table **out, mt_error *err)
{
    mt_dataset lim = *ds;
    if (n >= 0 && (lim.limit < 0 || n < lim.limit)) lim.limit = n;
    mt__ds_block *b = NULL;
    int nb = 0;
    MT_RETURN_NOT_OK(mt__ds_run_blocks(&lim, &b, &nb, err));
    mt_table **parts = mt_calloc((size_t)(nb ? nb : 1), sizeof *parts);
    mt_status st = parts ? MT_OK : mt_error_set(err, MT_ENOMEM, "dataset: take");
    int got = 0;
    for (; st == MT_OK && got < nb; got++) {
        char what[48];
        snprintf(what, sizeof what, "block %d", got);
        mt_table *t = NULL;
        st = mt__ds_fetch(b[got].ref, what, &t, err);
        if (st != MT_OK) break;
        if (t->num_rows > b[got].rows) {
            st = mt_table_slice(t, 0, b[got].rows, &parts[got], err);
            mt_table_release(t);
            if (st != MT_OK) break;
        } else {
            parts[got] = t;
        }
    }
    if (st == MT_OK && nb == 0) {
        if (!ds->schema) {
            st = mt_error_set(err, MT_ESTATE, "dataset: empty, and no schema to make an empty table of");
        } else {
            mt_array **cols = mt_calloc((size_t)ds->schema->num_fields + 1, sizeof *cols);
            for (int32_t i = 0; cols && i < ds->schema->num_fields; i++)
                cols[i] = mt_array_new_null(ds->schema->fields[i].type, 0);
            st = cols ? mt_table_new(ds->schema, cols, 0, out, err) : mt_error_set(err, MT_ENOMEM, "dataset: take");
            for (int32_t i = 0; cols && i < ds->schema->num_fields; i++) mt_array_release(cols[i]);
            mt_free(cols);
        }
    } else if (st == MT_OK) {
        st = nb == 1 ? (*out = mt_table_retain(parts[0]), MT_OK) : mt_table_concat(parts, nb, out, err);
    }
    for (int i = 0; i < got; i++) mt_table_release(parts[i]);
    mt_free(parts);
    mt__ds_blocks_free(b, nb);
    return st;
}

static mt_table *take_or_fail(mt_dataset *ds, int64_t n)
{
    if (!ds || ds->st != MT_OK || grouped(ds)) return NULL;
    mt_error err;
    mt_table *t = NULL;
    if (take(ds, n, &t, &err) != MT_OK) {
        ds->st = err.code;
        snprintf(ds->msg, sizeof ds->msg, "%s", err.msg);
        return NULL;
    }
    if (!ds->schema) ds->schema = mt_type_retain(t->schema);
    return t;
}

MT_API mt_table *mt_take_table(mt_dataset *ds, int64_t n) { return take_or_fail(ds, n < 0 ? 0 : n); }

MT_API mt_table *mt_to_table(mt_dataset *ds) { return take_or_fail(ds, -1); }

MT_API const mt_type *mt_dataset_schema(mt_dataset *ds)
{
    if (!ds || ds->st != MT_OK) return NULL;
    if (ds->schema) return ds->schema;
    mt_table *t = take_or_fail(ds, 1); /* runs the first tasks only */
    mt_table_release(t);
    return ds->st == MT_OK ? ds->schema : NULL;
}

MT_API void mt_print_schema(mt_dataset *ds)
{
    const mt_type *s = mt_dataset_schema(ds);
    if (s) mt_table_print_schema(s, stdout);
}

MT_API void mt_show(mt_dataset *ds, int64_t n)
{
    mt_table *t = mt_take_table(ds, n);
    if (!t) return;
    mt_error err;
    if (mt_table_print_rows(t, 0, t->num_rows, stdout, &err) != MT_OK) {
        ds->st = err.code;
        snprintf(ds->msg, sizeof ds->msg, "%s", err.msg);
    }
    fflush(stdout);
    mt_table_release(t);
}

static mt_status write_files(mt_dataset *ds, const char *dir, const char *format, mt_error *err)
{
    const char *what = !strcmp(format, "csv") ? "write_csv" : "write_parquet";
    if (!ds || ds->st != MT_OK || grouped(ds)) return set_err(ds, err);
    if (!dir || !*dir) return mt_error_set(err, MT_EINVAL, "%s: no directory", what);
    if (!strncmp(dir, "file://", 7)) dir += 7;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return mt_error_set_errno(err, MT_EIO, errno, "%s: %s", what, dir);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return mt_error_set(err, MT_EINVAL, "%s: %s is not a directory", what, dir);
    char id[2 * MT_ID_SIZE + 1];
    mt_id_hex(mt_id_random(), id);
    id[32] = 0; /* a uuid's worth of hex, as Ray's write uuid */
    mt_dataset *src = ds;
    if (ds->limit >= 0) { /* the limit cuts blocks: write what materialising keeps */
        src = mt_materialize(ds);
        if (src->st != MT_OK) {
            mt_status st = set_err(src, err);
            mt_dataset_release(src);
            return st;
        }
    }
    mt__ds_block *b = NULL;
    int n = 0;
    mt__ds_write w = {.dir = dir, .id = id, .format = format};
    mt_status st = mt__ds_execute(src, -1, &w, &b, &n, err);
    mt__ds_blocks_free(b, n);
    if (src != ds) mt_dataset_release(src);
    return st;
}

MT_API mt_status mt_write_parquet(mt_dataset *ds, const char *dir, mt_error *err)
{
    return write_files(ds, dir, "parquet", err);
}

MT_API mt_status mt_write_csv(mt_dataset *ds, const char *dir, mt_error *err) { return write_files(ds, dir, "csv", err); }
