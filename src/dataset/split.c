/*
 * split.c — cutting a dataset by rows: split (equal or by blocks),
 * split_at_indices, train_test_split (Ray's arithmetic) and repartition.
 * Each runs the plan once (row counts decide the cuts); every part is a
 * lazy dataset whose inputs are slices of the stored blocks, read by tasks
 * when the part is consumed.
 *
 * Threads: the caller's. Invariant: parts hold their own references to the
 * blocks they read.
 */
#include <stdio.h>
#include <string.h>

#include "dataset/ds_int.h"

typedef struct run {
    mt__ds_block *b;
    int n;
    int64_t *start; /* start[i]: global row of block i's first row; start[n] = total */
} run;

static void run_free(run *r)
{
    mt__ds_blocks_free(r->b, r->n);
    mt_free(r->start);
}

static mt_status run_of(mt_dataset *ds, run *r, mt_error *err)
{
    memset(r, 0, sizeof *r);
    MT_RETURN_NOT_OK(mt__ds_run_blocks(ds, &r->b, &r->n, err));
    r->start = mt_malloc(sizeof *r->start * (size_t)(r->n + 1));
    if (!r->start) {
        run_free(r);
        return mt_error_set(err, MT_ENOMEM, "split: out of memory");
    }
    r->start[0] = 0;
    for (int i = 0; i < r->n; i++) r->start[i + 1] = r->start[i] + r->b[i].rows;
    return MT_OK;
}

/* Inputs reading global rows [a, b) of the run: one per block touched — the
 * block itself when whole (no copy), else a slice of it. */
static mt_status range_inputs(const run *r, int64_t a, int64_t b, mt__ds_input *in, int *n, mt_error *err)
{
    for (int i = 0; i < r->n; i++) {
        int64_t lo = a > r->start[i] ? a : r->start[i], hi = b < r->start[i + 1] ? b : r->start[i + 1];
        if (hi <= lo) continue;
        mt__ds_input *x = &in[*n];
        bool whole = lo == r->start[i] && hi == r->start[i + 1];
        *x = (mt__ds_input){.kind = whole ? MT__DS_IN_BLOCK : MT__DS_IN_SLICES, .rows = hi - lo, .nrefs = 1};
        x->refs = mt_malloc(sizeof *x->refs);
        x->slices = whole ? NULL : mt_malloc(sizeof *x->slices);
        if (!x->refs || (!whole && !x->slices)) {
            x->nrefs = 0;
            mt__ds_input_free(x);
            return mt_error_set(err, MT_ENOMEM, "split: out of memory");
        }
        x->refs[0] = mt_ref_retain(r->b[i].ref);
        if (!whole) {
            x->slices[0] = (mt__ds_slice){0, lo - r->start[i], hi - lo};
            x->nslices = 1;
        }
        (*n)++;
    }
    return MT_OK;
}

/* One input reading rows [a, b) as one block: slices of every block touched, concatenated. */
static mt_status merged_input(const run *r, int64_t a, int64_t b, mt__ds_input *in, mt_error *err)
{
    *in = (mt__ds_input){.kind = MT__DS_IN_SLICES, .rows = b - a};
    in->refs = mt_calloc((size_t)r->n + 1, sizeof *in->refs);
    in->slices = mt_calloc((size_t)r->n + 1, sizeof *in->slices);
    if (!in->refs || !in->slices) {
        mt__ds_input_free(in);
        return mt_error_set(err, MT_ENOMEM, "repartition: out of memory");
    }
    for (int i = 0; i < r->n; i++) {
        int64_t lo = a > r->start[i] ? a : r->start[i], hi = b < r->start[i + 1] ? b : r->start[i + 1];
        if (hi <= lo) continue;
        in->refs[in->nrefs] = mt_ref_retain(r->b[i].ref);
        in->slices[in->nslices++] = (mt__ds_slice){in->nrefs++, lo - r->start[i], hi - lo};
    }
    return MT_OK;
}

/* A dataset reading rows [cut[j], cut[j + 1]) for j < nparts, in order;
 * merge: one block per part (repartition), else the blocks as they lie. */
static mt_dataset *over_cuts(const run *r, const int64_t *cut, int nparts, bool merge, const mt_type *schema,
                             mt_error *err)
{
    int cap = r->n + nparts;
    mt__ds_input *in = mt_calloc((size_t)(cap ? cap : 1), sizeof *in);
    if (!in) return mt_error_set(err, MT_ENOMEM, "split: out of memory"), NULL;
    int n = 0;
    mt_status st = MT_OK;
    for (int j = 0; st == MT_OK && j < nparts; j++)
        if (cut[j + 1] <= cut[j]) continue;
        else if (merge && (st = merged_input(r, cut[j], cut[j + 1], &in[n], err)) == MT_OK) n++;
        else if (!merge) st = range_inputs(r, cut[j], cut[j + 1], in, &n, err);
    if (st != MT_OK) {
        for (int i = 0; i < n; i++) mt__ds_input_free(&in[i]);
        mt_free(in);
        return NULL;
    }
    return mt__ds_from_inputs(in, n, schema, err);
}

static const mt_type *schema_of(mt_dataset *ds, const run *r, mt_table **hold, mt_error *err)
{
    *hold = NULL;
    if (ds->schema) return ds->schema;
    if (r->n == 0) return NULL;
    if (mt__ds_fetch(r->b[0].ref, "block 0", hold, err) != MT_OK) return NULL;
    return (*hold)->schema;
}

static void fail_all(mt_dataset **parts, int n, const mt_error *err)
{
    for (int i = 0; i < n; i++) parts[i] = mt__ds_fail(err->code, err->msg);
}

/* Parts j = rows [cut[j], cut[j+1]) for j < nparts. */
static mt_status cut_into(mt_dataset *ds, const run *r, const int64_t *cut, int nparts, mt_dataset **parts,
                          mt_error *err)
{
    mt_table *hold = NULL;
    const mt_type *schema = schema_of(ds, r, &hold, err);
    mt_status st = schema || r->n == 0 ? MT_OK : err->code;
    int made = 0;
    for (; st == MT_OK && made < nparts; made++) {
        int64_t c[2] = {cut[made], cut[made + 1]};
        parts[made] = over_cuts(r, c, 1, false, schema, err);
        if (!parts[made]) st = err->code;
    }
    mt_table_release(hold);
    if (st != MT_OK) {
        for (int i = 0; i < made; i++) mt_dataset_release(parts[i]);
        fail_all(parts, nparts, err);
    }
    return st;
}

MT_API mt_status mt_split_at_indices(mt_dataset *ds, const int64_t *indices, int n, mt_dataset **parts_out)
{
    mt_error err;
    mt_dataset *bad = mt__ds_check(ds);
    if (!bad && (n < 0 || (n > 0 && !indices))) bad = mt__ds_fail(MT_EINVAL, "split_at_indices: bad indices");
    for (int i = 1; !bad && i < n; i++)
        if (indices[i] < indices[i - 1]) bad = mt__ds_fail(MT_EINVAL, "split_at_indices: indices must ascend");
    for (int i = 0; !bad && i < n; i++)
        if (indices[i] < 0) bad = mt__ds_fail(MT_EINVAL, "split_at_indices: negative index");
    if (bad) {
        mt_dataset_status(bad, &err);
        fail_all(parts_out, n + 1, &err);
        mt_dataset_release(bad);
        return err.code;
    }
    run r;
    if (run_of(ds, &r, &err) != MT_OK) {
        fail_all(parts_out, n + 1, &err);
        return err.code;
    }
    int64_t total = r.start[r.n];
    int64_t *cut = mt_malloc(sizeof *cut * (size_t)(n + 2));
    mt_status st = cut ? MT_OK : mt_error_set(&err, MT_ENOMEM, "split: out of memory");
    if (cut) {
        cut[0] = 0;
        for (int i = 0; i < n; i++) cut[i + 1] = indices[i] < total ? indices[i] : total;
        cut[n + 1] = total;
        st = cut_into(ds, &r, cut, n + 1, parts_out, &err);
    } else {
        fail_all(parts_out, n + 1, &err);
    }
    mt_free(cut);
    run_free(&r);
    return st;
}

MT_API mt_status mt_split(mt_dataset *ds, int n, bool equal, mt_dataset **parts_out)
{
    mt_error err;
    if (n < 1) {
        mt_error_set(&err, MT_EINVAL, "split: %d parts", n);
        return err.code;
    }
    mt_dataset *bad = mt__ds_check(ds);
    if (bad) {
        mt_dataset_status(bad, &err);
        fail_all(parts_out, n, &err);
        mt_dataset_release(bad);
        return err.code;
    }
    run r;
    if (run_of(ds, &r, &err) != MT_OK) {
        fail_all(parts_out, n, &err);
        return err.code;
    }
    int64_t total = r.start[r.n];
    int64_t *cut = mt_malloc(sizeof *cut * (size_t)(n + 1));
    if (!cut) {
        mt_error_set(&err, MT_ENOMEM, "split: out of memory");
        fail_all(parts_out, n, &err);
        run_free(&r);
        return err.code;
    }
    if (equal || r.n < n) {
        for (int j = 0; j <= n; j++) cut[j] = total * j / n;
    } else { /* whole blocks: part j ends at the block boundary nearest to its share */
        cut[0] = 0;
        int b = 0;
        for (int j = 1; j < n; j++) {
            int64_t target = total * j / n;
            while (b < r.n && r.start[b + 1] <= target) b++;
            int64_t lo = r.start[b], hi = b < r.n ? r.start[b + 1] : total;
            int64_t c = target - lo <= hi - target ? lo : hi;
            cut[j] = c < cut[j - 1] ? cut[j - 1] : c;
        }
        cut[n] = total;
    }
    mt_status st = cut_into(ds, &r, cut, n, parts_out, &err);
    mt_free(cut);
    run_free(&r);
    return st;
}

MT_API mt_status mt_train_test_split(mt_dataset *ds, double test_size, const mt_train_test_split_options *o,
                                     mt_dataset **train_out, mt_dataset **test_out)
{
    mt_dataset *parts[2];
    mt_error err;
    mt_status st = MT_OK;
    if (!(test_size > 0)) st = mt_error_set(&err, MT_EINVAL, "train_test_split: test_size %g must be above 0", test_size);
    if (st == MT_OK && test_size >= 1 && test_size != (double)(int64_t)test_size)
        st = mt_error_set(&err, MT_EINVAL, "train_test_split: test_size %g is neither a fraction nor a row count", test_size);
    mt_dataset *src = ds, *shuffled = NULL;
    if (st == MT_OK && o && o->shuffle) {
        src = shuffled = mt_random_shuffle(ds, o->seed);
        st = mt_dataset_status(src, &err);
    }
    int64_t total = st == MT_OK ? mt_count(src) : -1;
    if (st == MT_OK && total < 0) st = mt_dataset_status(src, &err);
    if (st == MT_OK) {
        int64_t train = test_size < 1 ? (int64_t)((1.0 - test_size) * (double)total) : total - (int64_t)test_size;
        if (train < 0) {
            st = mt_error_set(&err, MT_EINVAL, "train_test_split: test_size %g is above the %lld rows", test_size,
                              (long long)total);
        } else if ((st = mt_split_at_indices(src, &train, 1, parts)) != MT_OK) {
            mt_dataset_status(parts[0], &err);
            mt_dataset_release(parts[0]);
            mt_dataset_release(parts[1]);
        }
    }
    mt_dataset_release(shuffled);
    if (st != MT_OK) {
        if (train_out) *train_out = mt__ds_fail(err.code, err.msg);
        if (test_out) *test_out = mt__ds_fail(err.code, err.msg);
        return st;
    }
    if (train_out) *train_out = parts[0];
    else mt_dataset_release(parts[0]);
    if (test_out) *test_out = parts[1];
    else mt_dataset_release(parts[1]);
    return MT_OK;
}

MT_API mt_dataset *mt_repartition(mt_dataset *ds, int n, bool shuffle)
{
    mt_dataset *bad = mt__ds_check(ds);
    if (bad) return bad;
    if (n < 1) return mt__ds_fail(MT_EINVAL, "repartition: fewer than 1 block");
    if (shuffle) return mt__ds_shuffle_into(ds, 0, n);
    mt_error err;
    run r;
    if (run_of(ds, &r, &err) != MT_OK) return mt__ds_fail(err.code, err.msg);
    int64_t total = r.start[r.n];
    int64_t *cut = mt_malloc(sizeof *cut * (size_t)(n + 1));
    mt_dataset *out = NULL;
    if (cut) {
        for (int j = 0; j <= n; j++) cut[j] = total * j / n;
        mt_table *hold = NULL;
        const mt_type *schema = schema_of(ds, &r, &hold, &err);
        if (schema || r.n == 0) out = over_cuts(&r, cut, n, true, schema, &err);
        mt_table_release(hold);
    } else {
        mt_error_set(&err, MT_ENOMEM, "repartition: out of memory");
    }
    mt_free(cut);
    run_free(&r);
    return out ? out : mt__ds_fail(err.code, err.msg);
}
