/*
 * iter.c — mt_iter_batches: a dataset consumed as a stream of batches.
 * The plan runs through exec.c's executor (a bounded number of tasks
 * ahead); the iterator holds one block at a time and cuts it into batches,
 * carrying a short tail over into the next block's first batch.
 *
 * Threads: one iterator, one thread. Invariant: a block's pin goes as soon
 * as its last row has been handed out (batches the caller holds keep their
 * own references).
 */
#include <stdio.h>
#include <string.h>

#include "dataset/ds_int.h"

struct mt_batch_iter {
    mt__ds_exec *ex;
    mt_dataset *err_ds;  /* the dataset whose state a failure is recorded in */
    int64_t batch_size;  /* -1: whole blocks */
    bool drop_last, ended;
    int64_t left;        /* rows the plan's limit still lets through; -1 = no limit */
    int64_t block_index;
    mt_table *cur;       /* the block being cut */
    int64_t pos;
    mt_table *carry;     /* rows short of a batch from earlier blocks */
    mt_type *schema;
};

MT_API mt_batch_iter *mt_iter_batches(mt_dataset *ds, const mt_iter_batches_options *o)
{
    if (!ds || ds->st != MT_OK) return NULL;
    mt_dataset *bad = mt__ds_check(ds);
    if (bad) { /* grouped: recorded on ds itself */
        ds->st = bad->st;
        snprintf(ds->msg, sizeof ds->msg, "%s", bad->msg);
        mt_dataset_release(bad);
        return NULL;
    }
    int64_t bs = o && o->batch_size ? o->batch_size : 256;
    if (bs < -1) {
        ds->st = MT_EINVAL;
        snprintf(ds->msg, sizeof ds->msg, "iter_batches: bad batch_size %lld", (long long)bs);
        return NULL;
    }
    mt_batch_iter *it = mt_calloc(1, sizeof *it);
    mt_error err;
    if (!it) return NULL;
    it->batch_size = bs;
    it->drop_last = o && o->drop_last;
    it->left = ds->limit;
    it->err_ds = mt_dataset_retain(ds);
    char label[64];
    snprintf(label, sizeof label, "iter_batches");
    if (mt__ds_exec_start(ds, ds->limit, NULL, label, &it->ex, &err) != MT_OK) {
        ds->st = err.code;
        snprintf(ds->msg, sizeof ds->msg, "%s", err.msg);
        mt_batch_iter_free(it);
        return NULL;
    }
    return it;
}

/* Takes the next block into it->cur; false at the end. */
static mt_status next_block(mt_batch_iter *it, bool *got, mt_error *err)
{
    *got = false;
    while (!it->ended && (it->left < 0 || it->left > 0)) {
        mt__ds_block b;
        bool end;
        MT_RETURN_NOT_OK(mt__ds_exec_next(it->ex, &b, &end, err));
        if (end) break;
        char what[48];
        snprintf(what, sizeof what, "block %lld", (long long)it->block_index++);
        mt_table *t = NULL;
        mt_status st = mt__ds_fetch(b.ref, what, &t, err);
        mt_ref_release(b.ref);
        MT_RETURN_NOT_OK(st);
        if (it->left >= 0 && t->num_rows > it->left) {
            mt_table *cut = NULL;
            st = mt_table_slice(t, 0, it->left, &cut, err);
            mt_table_release(t);
            MT_RETURN_NOT_OK(st);
            t = cut;
        }
        if (it->left >= 0) it->left -= t->num_rows;
        if (!it->schema) it->schema = mt_type_retain(t->schema);
        if (t->num_rows == 0) {
            mt_table_release(t);
            continue;
        }
        it->cur = t;
        it->pos = 0;
        *got = true;
        return MT_OK;
    }
    it->ended = true;
    return MT_OK;
}

static mt_status join2(mt_table *a, mt_table *b, mt_table **out, mt_error *err)
{
    if (!a) return (*out = b), MT_OK;
    mt_table *v[2] = {a, b};
    mt_status st = mt_table_concat(v, 2, out, err);
    mt_table_release(a);
    mt_table_release(b);
    return st;
}

static mt_status next(mt_batch_iter *it, mt_table **batch, mt_error *err)
{
    *batch = NULL;
    for (;;) {
        if (!it->cur) {
            bool got;
            MT_RETURN_NOT_OK(next_block(it, &got, err));
            if (!got) { /* the end: what is carried is the last batch */
                mt_table *c = it->carry;
                it->carry = NULL;
                if (c && it->drop_last && c->num_rows < it->batch_size) mt_table_release(c);
                else *batch = c;
                return MT_OK;
            }
        }
        int64_t have = it->cur->num_rows - it->pos, carried = it->carry ? it->carry->num_rows : 0;
        int64_t want = it->batch_size < 0 ? have : it->batch_size - carried;
        int64_t take = want < have ? want : have;
        mt_table *piece = NULL;
        MT_RETURN_NOT_OK(take == it->cur->num_rows ? (piece = mt_table_retain(it->cur), MT_OK)
                                                   : mt_table_slice(it->cur, it->pos, take, &piece, err));
        it->pos += take;
        if (it->pos == it->cur->num_rows) {
            mt_table_release(it->cur);
            it->cur = NULL;
        }
        mt_table *joined = NULL;
        MT_RETURN_NOT_OK(join2(it->carry, piece, &joined, err));
        it->carry = NULL;
        if (it->batch_size < 0 || joined->num_rows == it->batch_size) {
            *batch = joined;
            return MT_OK;
        }
        it->carry = joined; /* short: fill it from the next block */
    }
}

MT_API mt_status mt_batch_iter_next(mt_batch_iter *it, mt_table **batch, mt_error *err)
{
    *batch = NULL;
    if (!it) return mt_error_set(err, MT_EINVAL, "iter_batches: NULL iterator");
    mt_status st = next(it, batch, err);
    if (st != MT_OK) {
        it->ended = true;
        mt__ds_exec_stop(it->ex);
        it->ex = NULL;
    }
    return st;
}

MT_API void mt_batch_iter_free(mt_batch_iter *it)
{
    if (!it) return;
    mt__ds_exec_stop(it->ex);
    mt_table_release(it->cur);
    mt_table_release(it->carry);
    mt_type_release(it->schema);
    mt_dataset_release(it->err_ds);
    mt_free(it);
}
