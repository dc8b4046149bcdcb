/*
 * exec.c — running a plan: one `manta.data.run` task per input, a bounded
 * number in flight (backpressure: a new task starts only as outputs are
 * taken), outputs in input order; a progress bar on a terminal; fetching
 * stored blocks into tables in the driver (zero-copy: the table's buffers
 * hold the value).
 *
 * Threads: the caller's (the runtime serialises its own calls).
 * Invariant: on failure or an early stop nothing stays behind — no block
 * refs, and for a write no file of it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "dataset/ds_int.h"

void mt__ds_blocks_free(mt__ds_block *b, int n)
{
    for (int i = 0; b && i < n; i++) mt_ref_release(b[i].ref);
    mt_free(b);
}

struct mt__ds_exec {
    mt_dataset *ds; /* own copy */
    int64_t stop_rows, rows_done, rows_total;
    bool writing, failed;
    char dir[4096], id[64], format[16];
    int n, window, submitted, done;
    mt_ref *(*refs)[2];
    /* progress */
    bool bar;
    char label[160];
    double started, last_draw;
};

int mt__ds_cluster_cpus(void)
{
    /* asked of the control store at most once a second: a groupby of a few ms should not wait on it */
    static _Atomic int cached;
    static _Atomic int64_t at_ns;
    int64_t now = mt_time_now_ns();
    int c = atomic_load(&cached);
    if (c > 0 && now - atomic_load(&at_ns) < 1000000000LL) return c;
    mt_resource *r = NULL;
    int n = 0;
    double cpus = 0;
    if (mt_cluster_resources(&r, &n, NULL) == MT_OK)
        for (int i = 0; i < n; i++)
            if (!strcmp(r[i].name, "CPU")) cpus = r[i].quantity;
    mt_resources_free(r, n);
    if (cpus < 1) cpus = (double)sysconf(_SC_NPROCESSORS_ONLN);
    c = cpus < 1 ? 1 : cpus > 4096 ? 4096 : (int)cpus;
    atomic_store(&cached, c);
    atomic_store(&at_ns, now);
    return c;
}

static int in_flight_limit(void)
{
    int64_t v = MT_CFG_INT64(dataset_max_tasks_in_flight);
    if (v > 0) return (int)v;
    return 2 * mt__ds_cluster_cpus();
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void file_name(char *buf, size_t cap, const mt__ds_exec *ex, int64_t index)
{
    snprintf(buf, cap, "%s/%s_%06lld.%s", ex->dir, ex->id, (long long)index, ex->format);
}

/* "label: 40%|████      | 2/5 [00:01, 1,200 rows]" — tqdm's layout, as Ray draws it. */
static void draw(mt__ds_exec *ex, bool final)
{
    double t = now_s();
    if (!ex->bar || (!final && t - ex->last_draw < 0.1)) return;
    ex->last_draw = t;
    int pct = ex->n ? (int)(100LL * ex->done / ex->n) : 100, fill = pct / 10;
    char bar[64] = {0};
    size_t k = 0;
    for (int i = 0; i < 10; i++) k += (size_t)snprintf(bar + k, sizeof bar - k, "%s", i < fill ? "\u2588" : " ");
    int el = (int)(t - ex->started);
    fprintf(stderr, "\r%s: %3d%%|%s| %d/%d [%02d:%02d, %lld rows]%s", ex->label, pct, bar, ex->done, ex->n, el / 60,
            el % 60, (long long)ex->rows_done, final ? "\n" : "");
    fflush(stderr);
}

static mt_status submit(mt__ds_exec *ex, int64_t index, mt_error *err)
{
    const mt_dataset *ds = ex->ds;
    const mt__ds_input *in = &ds->inputs[index];
    char path[4200];
    if (ex->writing) file_name(path, sizeof path, ex, index);
    mt__ds_task t = {.index = index, .in = in, .columns = ds->columns, .ncolumns = ds->ncolumns, .ops = ds->ops,
                     .nops = ds->nops, .write_path = ex->writing ? path : NULL,
                     .write_format = ex->writing ? ex->format : NULL};
    char *json = NULL;
    MT_RETURN_NOT_OK(mt__ds_task_encode(&t, &json, err));
    mt_arg argv[17], *args = argv;
    if (in->nrefs + 1 > 17 && !(args = mt_malloc(sizeof *args * (size_t)(in->nrefs + 1)))) {
        mt_free(json);
        return mt_error_set(err, MT_ENOMEM, "dataset: task arguments");
    }
    args[0] = MT_ARG_STR(json);
    for (int i = 0; i < in->nrefs; i++) args[1 + i] = MT_ARG_REF(in->refs[i]);
    /* the largest demand of the fused steps, per resource (CPU 1 unless a step says otherwise) */
    mt_resource demand[32] = {{.name = "CPU", .quantity = 0}};
    int nd = 1;
    bool any = false;
    for (int i = 0; i < ds->nops; i++) {
        const mt__ds_op *op = &ds->ops[i];
        if (op->num_cpus > demand[0].quantity) demand[0].quantity = op->num_cpus, any = true;
        for (int k = 0; k < op->nres; k++) {
            int j = 0;
            while (j < nd && strcmp(demand[j].name, op->res[k].name)) j++;
            if (j == nd && nd < 32) demand[nd++] = (mt_resource){.name = op->res[k].name, .quantity = 0};
            if (j < nd && op->res[k].quantity > demand[j].quantity) demand[j].quantity = op->res[k].quantity;
            any = true;
        }
    }
    bool cpu_said = false;
    for (int i = 0; i < ds->nops; i++) cpu_said |= ds->ops[i].num_cpus > 0;
    for (int i = 0; i < ds->nops && !cpu_said; i++)
        for (int k = 0; k < ds->ops[i].nres; k++) cpu_said |= !strcmp(ds->ops[i].res[k].name, "CPU");
    if (!cpu_said) demand[0].quantity = 1;
    mt_task_options o = {.num_returns = 2, .resources = any ? demand : NULL, .num_resources = any ? nd : 0};
    mt_status st = mt_task_submit("manta.data.run", args, 1 + in->nrefs, &o, ex->refs[index], err);
    if (args != argv) mt_free(args);
    mt_free(json);
    return st;
}

mt_status mt__ds_exec_start(const mt_dataset *ds, int64_t stop_rows, const mt__ds_write *w, const char *label,
                            mt__ds_exec **out, mt_error *err)
{
    mt__ds_exec *ex = mt_calloc(1, sizeof *ex);
    if (!ex) return mt_error_set(err, MT_ENOMEM, "dataset: running a plan");
    if (!(ex->ds = mt__ds_copy(ds, err))) {
        mt_free(ex);
        return err->code;
    }
    ex->n = ds->ninputs;
    ex->window = in_flight_limit();
    ex->stop_rows = stop_rows;
    ex->rows_total = 0;
    if (!(ex->refs = mt_calloc((size_t)(ex->n ? ex->n : 1), sizeof *ex->refs))) {
        mt__ds_exec_stop(ex);
        return mt_error_set(err, MT_ENOMEM, "dataset: running %d tasks", ds->ninputs);
    }
    if (w) {
        ex->writing = true;
        snprintf(ex->dir, sizeof ex->dir, "%s", w->dir);
        snprintf(ex->id, sizeof ex->id, "%s", w->id);
        snprintf(ex->format, sizeof ex->format, "%s", w->format ? w->format : "parquet");
    }
    ex->bar = label && MT_CFG_BOOL(dataset_progress_bars) && isatty(STDERR_FILENO) && ex->n > 1;
    snprintf(ex->label, sizeof ex->label, "%s", label ? label : "");
    ex->started = now_s();
    *out = ex;
    return MT_OK;
}

mt_status mt__ds_exec_next(mt__ds_exec *ex, mt__ds_block *out, bool *end, mt_error *err)
{
    *end = false;
    memset(out, 0, sizeof *out);
    if (ex->failed) return mt_error_set(err, MT_ESTATE, "dataset: the run failed before");
    mt_status st = MT_OK;
    while (st == MT_OK && ex->submitted < ex->n && ex->submitted - ex->done < ex->window &&
           (ex->stop_rows < 0 || ex->rows_done < ex->stop_rows)) {
        st = submit(ex, ex->submitted, err);
        if (st == MT_OK) ex->submitted++;
    }
    if (st == MT_OK && ex->done == ex->submitted) {
        *end = true;
        if (ex->done) draw(ex, true);
        return MT_OK;
    }
    mt_value v;
    if (st == MT_OK) st = mt_get(&ex->refs[ex->done][1], 1, -1, &v, err);
    if (st == MT_OK) {
        st = mt_value_i64(&v, &out->rows, err);
        mt_value_release(&v);
    }
    if (st != MT_OK) {
        ex->failed = true;
        if (ex->bar) fputc('\n', stderr);
        return st;
    }
    mt_ref **r = ex->refs[ex->done];
    if (ex->writing) mt_ref_release(r[0]);
    else out->ref = r[0];
    mt_ref_release(r[1]);
    r[0] = r[1] = NULL;
    ex->rows_done += out->rows;
    ex->done++;
    draw(ex, false);
    return MT_OK;
}

void mt__ds_exec_stop(mt__ds_exec *ex)
{
    if (!ex) return;
    bool complete = !ex->failed && ex->done == ex->submitted &&
                    (ex->done == ex->n || (ex->stop_rows >= 0 && ex->rows_done >= ex->stop_rows));
    if (ex->writing && ex->submitted > ex->done) /* let running writers finish before cleaning up */
        for (int i = ex->done; i < ex->submitted; i++) {
            bool ready[1];
            int k = 0;
            mt_wait(&ex->refs[i][1], 1, 1, -1, ready, &k, NULL);
        }
    for (int i = ex->done; ex->refs && i < ex->submitted; i++) {
        mt_ref_release(ex->refs[i][0]);
        mt_ref_release(ex->refs[i][1]);
    }
    if (ex->writing && !complete) {
        char path[4200];
        for (int64_t i = 0; i < ex->submitted; i++) {
            file_name(path, sizeof path, ex, i);
            unlink(path);
        }
    }
    mt_free(ex->refs);
    mt_dataset_release(ex->ds);
    mt_free(ex);
}

/* "ReadParquet->MapBatches(f)": the plan's operators, as Ray names them. */
static void plan_label(const mt_dataset *ds, char *buf, size_t cap)
{
    const char *src = "ReadRange";
    if (ds->ninputs > 0) {
        mt__ds_input_kind k = ds->inputs[0].kind;
        src = k == MT__DS_IN_PARQUET ? "ReadParquet" : k == MT__DS_IN_CSV ? "ReadCSV" : k == MT__DS_IN_RANGE ? "ReadRange" : "Input";
    }
    size_t n = (size_t)snprintf(buf, cap, "%s", src);
    for (int i = 0; i < ds->nops && n < cap; i++) {
        const mt__ds_op *op = &ds->ops[i];
        static const char *const names[] = {"SelectColumns", "DropColumns", "RenameColumns", "MapBatches", "Filter", "AddColumn"};
        if (mt__ds_op_is_fn(op->kind)) n += (size_t)snprintf(buf + n, cap - n, "->%s(%s)", names[op->kind], op->fn);
        else n += (size_t)snprintf(buf + n, cap - n, "->%s", names[op->kind]);
    }
}

mt_status mt__ds_execute(const mt_dataset *ds, int64_t stop_rows, const mt__ds_write *w, mt__ds_block **out,
                         int *nout, mt_error *err)
{
    *out = NULL;
    *nout = 0;
    mt__ds_block *res = mt_calloc((size_t)ds->ninputs + 1, sizeof *res); /* + the end call's slot */
    if (!res) return mt_error_set(err, MT_ENOMEM, "dataset: running %d tasks", ds->ninputs);
    char label[160];
    plan_label(ds, label, sizeof label);
    if (w) snprintf(label + strlen(label), sizeof label - strlen(label), "->Write");
    mt__ds_exec *ex = NULL;
    mt_status st = mt__ds_exec_start(ds, stop_rows, w, label, &ex, err);
    int n = 0;
    bool end = false;
    while (st == MT_OK && !end) {
        st = mt__ds_exec_next(ex, &res[n], &end, err);
        if (st == MT_OK && !end) n++;
    }
    mt__ds_exec_stop(ex);
    if (st != MT_OK) {
        mt__ds_blocks_free(res, n);
        return st;
    }
    *out = res;
    *nout = n;
    return MT_OK;
}

static void value_free(void *p)
{
    mt_value_release(p);
    mt_free(p);
}

mt_status mt__ds_fetch(mt_ref *block, const char *what, mt_table **out, mt_error *err)
{
    mt_value *v = mt_malloc(sizeof *v);
    if (!v) return mt_error_set(err, MT_ENOMEM, "%s", what);
    mt_status st = mt_get(&block, 1, -1, v, err);
    if (st != MT_OK) {
        mt_free(v);
        return mt_error_prefix(err, "%s", what);
    }
    return mt__block_decode(v->data, v->size, value_free, v, what, out, err);
}
