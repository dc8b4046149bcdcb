/*
 * exec.c — running a plan: one `manta.data.run` task per input, a bounded
 * number in flight (backpressure: a new task starts only when the oldest
 * finished), outputs collected in input order; fetching stored blocks into
 * tables in the driver (zero-copy: the table's buffers hold the value).
 *
 * Threads: the caller's (the runtime serialises its own calls).
 * Invariant: on failure nothing stays behind — no block refs, and for a
 * write no file of it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "dataset/ds_int.h"

void mt__ds_blocks_free(mt__ds_block *b, int n)
{
    for (int i = 0; b && i < n; i++) mt_ref_release(b[i].ref);
    mt_free(b);
}

static int in_flight_limit(void)
{
    int64_t v = MT_CFG_INT64(dataset_max_tasks_in_flight);
    if (v > 0) return (int)v;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 ? (int)(2 * cpus) : 4;
}

static void file_name(char *buf, size_t cap, const char *dir, const char *id, int64_t index)
{
    snprintf(buf, cap, "%s/%s_%06lld.parquet", dir, id, (long long)index);
}

static mt_status submit(const mt_dataset *ds, int64_t index, const char *write_dir, const char *write_id,
                        mt_ref *refs[2], mt_error *err)
{
    const mt__ds_input *in = &ds->inputs[index];
    char path[4096];
    if (write_dir) file_name(path, sizeof path, write_dir, write_id, index);
    mt__ds_task t = {.index = index, .in = in, .columns = ds->columns, .ncolumns = ds->ncolumns,
                     .ops = ds->ops, .nops = ds->nops, .write_path = write_dir ? path : NULL};
    char *json = NULL;
    MT_RETURN_NOT_OK(mt__ds_task_encode(&t, &json, err));
    mt_arg argv[17], *args = argv;
    if (in->nrefs + 1 > 17 && !(args = mt_malloc(sizeof *args * (size_t)(in->nrefs + 1)))) {
        mt_free(json);
        return mt_error_set(err, MT_ENOMEM, "dataset: task arguments");
    }
    args[0] = MT_ARG_STR(json);
    for (int i = 0; i < in->nrefs; i++) args[1 + i] = MT_ARG_REF(in->refs[i]);
    mt_task_options o = {.num_returns = 2};
    mt_status st = mt_task_submit("manta.data.run", args, 1 + in->nrefs, &o, refs, err);
    if (args != argv) mt_free(args);
    mt_free(json);
    return st;
}

/* Waits for the task of refs[0..1]: its rows. */
static mt_status finish(mt_ref *refs[2], int64_t *rows, mt_error *err)
{
    mt_value v;
    MT_RETURN_NOT_OK(mt_get(&refs[1], 1, -1, &v, err));
    mt_status st = mt_value_i64(&v, rows, err);
    mt_value_release(&v);
    return st;
}

static void remove_written(const char *dir, const char *id, int64_t n)
{
    char path[4096];
    for (int64_t i = 0; i < n; i++) {
        file_name(path, sizeof path, dir, id, i);
        unlink(path);
    }
}

mt_status mt__ds_execute(const mt_dataset *ds, int64_t stop_rows, const char *write_dir, const char *write_id,
                         mt__ds_block **out, int *nout, mt_error *err)
{
    *out = NULL;
    *nout = 0;
    int n = ds->ninputs, window = in_flight_limit();
    mt__ds_block *res = mt_calloc((size_t)(n ? n : 1), sizeof *res);
    mt_ref *(*refs)[2] = mt_calloc((size_t)(n ? n : 1), sizeof *refs);
    if (!res || !refs) {
        mt_free(res);
        mt_free(refs);
        return mt_error_set(err, MT_ENOMEM, "dataset: running %d tasks", n);
    }
    int submitted = 0, done = 0;
    int64_t rows_done = 0;
    mt_status st = MT_OK;
    while (st == MT_OK && done < n) {
        while (st == MT_OK && submitted < n && submitted - done < window && (stop_rows < 0 || rows_done < stop_rows)) {
            st = submit(ds, submitted, write_dir, write_id, refs[submitted], err);
            if (st == MT_OK) submitted++;
        }
        if (st != MT_OK || done == submitted) break;
        st = finish(refs[done], &res[done].rows, err);
        if (st != MT_OK) break;
        res[done].ref = write_dir ? NULL : refs[done][0];
        if (write_dir) mt_ref_release(refs[done][0]);
        mt_ref_release(refs[done][1]);
        refs[done][0] = refs[done][1] = NULL;
        rows_done += res[done].rows;
        done++;
    }
    if (st != MT_OK) {
        if (write_dir && submitted > done) { /* let the running writers finish before cleaning up */
            bool ready[64];
            for (int i = done; i < submitted; i++) {
                int k = 0;
                mt_wait(&refs[i][1], 1, 1, -1, ready, &k, NULL);
            }
        }
        for (int i = done; i < submitted; i++) {
            mt_ref_release(refs[i][0]);
            mt_ref_release(refs[i][1]);
        }
        if (write_dir) remove_written(write_dir, write_id, submitted);
        mt__ds_blocks_free(res, done);
        mt_free(refs);
        return st;
    }
    mt_free(refs);
    *out = res;
    *nout = done;
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
