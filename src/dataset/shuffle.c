/*
 * shuffle.c — the partitioned exchange: `manta.data.partition` (a map
 * task: the plan's read and operators, then the block cut into P parts —
 * at random, or as partial aggregation states hashed by key) and
 * `manta.data.reduce` (one part from every map task, merged: shuffled, or
 * aggregation states merged and finished). The driver side:
 * mt_random_shuffle, mt_groupby, mt_aggregate and Ray's shorthands.
 *
 * Threads: map/reduce run on workers' main threads; the driver side on the
 * caller's. Invariants: the same seed and plan give the same order (map i
 * draws from seed ^ i, reduce j from seed ^ j, partitions concatenated in
 * map order); aggregation output is sorted by key, the null key last.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "dataset/ds_int.h"

/* splitmix64: a small, seedable, well-mixed generator. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static mt_status bad(mt_error *err, const char *what)
{
    return mt_error_set(err, MT_EPARSE, "dataset shuffle: bad task: %s", what);
}

/* Stores table rows by part: part[r] in 0..p-1 for each row. */
static mt_status store_parts(mt_task_ctx *ctx, const mt_table *t, const int32_t *part, int p, mt_error *err)
{
    int64_t *rows = mt_malloc(sizeof *rows * (size_t)(t->num_rows ? t->num_rows : 1));
    int64_t *start = mt_calloc((size_t)p + 1, sizeof *start);
    int64_t *fill = mt_calloc((size_t)p + 1, sizeof *fill);
    mt_status st = rows && start && fill ? MT_OK : mt_error_set(err, MT_ENOMEM, "partition");
    for (int64_t r = 0; st == MT_OK && r < t->num_rows; r++) start[part[r] + 1]++;
    for (int j = 0; st == MT_OK && j < p; j++) start[j + 1] += start[j];
    for (int64_t r = 0; st == MT_OK && r < t->num_rows; r++) rows[start[part[r]] + fill[part[r]]++] = r;
    for (int j = 0; st == MT_OK && j < p; j++) {
        mt__ds_pick pk = {.tables = &t, .ntables = 1, .rows = rows + start[j], .n = start[j + 1] - start[j]};
        st = mt__ds_store_pick(ctx, &pk, err);
    }
    mt_free(rows);
    mt_free(start);
    mt_free(fill);
    return st;
}

static mt_status partition(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    if (nargs < 1) return bad(err, "arguments");
    json_error_t je;
    json_t *j = json_loadb(args[0].data, args[0].size, 0, &je);
    if (!j) return bad(err, je.text);
    json_t *sh = json_object_get(j, "shuffle");
    const char *mode = json_string_value(json_object_get(sh, "mode"));
    int p = (int)json_integer_value(json_object_get(sh, "parts"));
    const char *key = json_string_value(json_object_get(sh, "key"));
    mt_status st = mode && p >= 1 && p + 1 == mt_task_num_returns(ctx) ? MT_OK : bad(err, "shuffle fields");
    mt_table *t = NULL, *src = NULL;
    if (st == MT_OK) st = mt__ds_task_table(ctx, j, args, nargs, &t, err);
    int64_t rows = t ? t->num_rows : 0;
    if (st == MT_OK && !strcmp(mode, "agg")) st = mt__agg_partial(t, key, json_object_get(sh, "aggs"), &src, err);
    else if (st == MT_OK) src = mt_table_retain(t);
    int32_t *part = st == MT_OK ? mt_calloc((size_t)(src->num_rows ? src->num_rows : 1), sizeof *part) : NULL;
    if (st == MT_OK && !part) st = mt_error_set(err, MT_ENOMEM, "partition");
    if (st == MT_OK && !strcmp(mode, "random")) {
        uint64_t s = (uint64_t)json_integer_value(json_object_get(sh, "seed")) ^
                     ((uint64_t)json_integer_value(json_object_get(j, "index")) * 0xd1b54a32d192ed03ULL);
        for (int64_t r = 0; r < src->num_rows; r++) part[r] = (int32_t)(next_rand(&s) % (uint64_t)p);
    } else if (st == MT_OK && !strcmp(mode, "range")) {
        st = mt__ds_range_parts(src, sh, part, err);
    } else if (st == MT_OK && key && p > 1) { /* partial states: one row per key, parted by the key's hash */
        mt_group_index *gi = NULL;
        st = mt_table_group_index(src, key, &gi, err);
        for (int64_t r = 0; st == MT_OK && r < src->num_rows; r++)
            part[r] = (int32_t)(gi->hash[gi->group[r]] % (uint64_t)p);
        mt_group_index_free(gi);
    }
    if (st == MT_OK) st = store_parts(ctx, src, part, p, err);
    if (st == MT_OK) st = mt_return_i64(ctx, rows, err);
    mt_free(part);
    mt_table_release(src);
    mt_table_release(t);
    json_decref(j);
    return st;
}

/*
 * The rows of parts[0..m), concatenated in map order, in a seeded random
 * order (Fisher-Yates): stored gathered straight from the parts.
 */
static mt_status shuffle_parts(mt_task_ctx *ctx, mt_table **parts, int m, uint64_t seed, int64_t *rows_out,
                               mt_error *err)
{
    int64_t n = 0;
    for (int k = 0; k < m; k++) n += parts[k]->num_rows;
    int32_t *tab = mt_malloc(sizeof *tab * (size_t)(n ? n : 1));
    int64_t *rows = mt_malloc(sizeof *rows * (size_t)(n ? n : 1));
    mt_status st = tab && rows ? MT_OK : mt_error_set(err, MT_ENOMEM, "shuffle of %lld rows", (long long)n);
    int64_t i = 0;
    for (int k = 0; st == MT_OK && k < m; k++)
        for (int64_t r = 0; r < parts[k]->num_rows; r++, i++) {
            tab[i] = k;
            rows[i] = r;
        }
    uint64_t s = seed;
    for (i = n - 1; st == MT_OK && i > 0; i--) {
        int64_t k = (int64_t)(next_rand(&s) % (uint64_t)(i + 1));
        int32_t t = tab[i];
        int64_t r = rows[i];
        tab[i] = tab[k], rows[i] = rows[k];
        tab[k] = t, rows[k] = r;
    }
    mt__ds_pick pk = {.tables = (const mt_table *const *)parts, .ntables = m, .tab = tab, .rows = rows, .n = n};
    if (st == MT_OK) st = mt__ds_store_pick(ctx, &pk, err);
    if (st == MT_OK) *rows_out = n;
    mt_free(tab);
    mt_free(rows);
    return st;
}

static mt_status reduce(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    if (nargs < 2 || mt_task_num_returns(ctx) != 2) return bad(err, "arguments");
    json_error_t je;
    json_t *j = json_loadb(args[0].data, args[0].size, 0, &je);
    if (!j) return bad(err, je.text);
    const char *mode = json_string_value(json_object_get(j, "mode"));
    int64_t index = json_integer_value(json_object_get(j, "index"));
    int m = nargs - 1;
    mt_table **parts = mt_calloc((size_t)m, sizeof *parts);
    mt_status st = mode && parts ? MT_OK : bad(err, "reduce fields");
    int got = 0;
    char what[64];
    for (; st == MT_OK && got < m; got++) {
        snprintf(what, sizeof what, "part %lld of map %d", (long long)index, got);
        st = mt__block_decode(args[1 + got].data, args[1 + got].size, NULL, NULL, what, &parts[got], err);
        if (st != MT_OK) break;
    }
    mt_table *all = NULL, *res = NULL;
    int64_t rows = 0;
    if (st == MT_OK && !strcmp(mode, "random")) {
        uint64_t seed = (uint64_t)json_integer_value(json_object_get(j, "seed")) ^ ((uint64_t)(index + 1) * 0x9e3779b97f4a7c15ULL);
        st = shuffle_parts(ctx, parts, m, seed, &rows, err);
    } else {
        if (st == MT_OK) st = mt_table_concat(parts, m, &all, err);
        if (st == MT_OK && !strcmp(mode, "sort"))
            st = mt__ds_sort_table(all, json_string_value(json_object_get(j, "key")),
                                   json_is_true(json_object_get(j, "descending")), &res, err);
        else if (st == MT_OK && !strcmp(mode, "agg"))
            st = mt__agg_final(all, json_string_value(json_object_get(j, "key")), json_object_get(j, "aggs"), &res, err);
        else if (st == MT_OK)
            st = bad(err, "reduce mode");
        if (st == MT_OK) st = mt__ds_store_block(ctx, res, err);
        if (st == MT_OK) rows = res->num_rows;
    }
    if (st == MT_OK) st = mt_return_i64(ctx, rows, err);
    for (int i = 0; i < got; i++) mt_table_release(parts[i]);
    mt_free(parts);
    mt_table_release(all);
    mt_table_release(res);
    json_decref(j);
    return st;
}

void mt__shuffle_register(void)
{
    mt_remote_register("manta.data.partition", partition);
    mt_remote_register("manta.data.reduce", reduce);
}

/* ---- Driver side ------------------------------------------------------------------- */

/*
 * Runs the exchange: a map task per input of ds (shuffle_json: its
 * "shuffle" object), then p reduce tasks (reduce_json(j) for part j).
 * *out: the reduce outputs in part order.
 */
mt_status mt__ds_exchange(const mt_dataset *ds, const char *shuffle_json, int p, json_t *reduce_base,
                          mt__ds_block **out, int *nout, mt_error *err)
{
    int n = ds->ninputs;
    mt_ref **maps = mt_calloc((size_t)n * (size_t)(p + 1) + 1, sizeof *maps);
    mt_ref *(*red)[2] = mt_calloc((size_t)p, sizeof *red);
    mt__ds_block *res = mt_calloc((size_t)p, sizeof *res);
    mt_arg *args = mt_malloc(sizeof *args * (size_t)(n + 17));
    mt_status st = maps && red && res && args ? MT_OK : mt_error_set(err, MT_ENOMEM, "shuffle of %d blocks", n);
    int mapped = 0, reduced = 0;
    for (; st == MT_OK && mapped < n; mapped++) {
        const mt__ds_input *in = &ds->inputs[mapped];
        mt__ds_task t = {.index = mapped, .in = in, .columns = ds->columns, .ncolumns = ds->ncolumns, .ops = ds->ops,
                         .nops = ds->nops, .shuffle = shuffle_json};
        char *json = NULL;
        st = mt__ds_task_encode(&t, &json, err);
        mt_arg *a = in->nrefs + 1 <= n + 17 ? args : mt_malloc(sizeof *a * (size_t)(in->nrefs + 1));
        if (st == MT_OK && !a) st = mt_error_set(err, MT_ENOMEM, "shuffle");
        if (st == MT_OK) {
            a[0] = MT_ARG_STR(json);
            for (int i = 0; i < in->nrefs; i++) a[1 + i] = MT_ARG_REF(in->refs[i]);
            mt_task_options o = {.num_returns = p + 1};
            st = mt_task_submit("manta.data.partition", a, 1 + in->nrefs, &o, maps + (size_t)mapped * (size_t)(p + 1), err);
        }
        if (a && a != args) mt_free(a);
        mt_free(json);
        if (st != MT_OK) break;
    }
    for (; st == MT_OK && reduced < p; reduced++) {
        json_object_set_new(reduce_base, "index", json_integer(reduced));
        char *copy = mt__ds_json_text(reduce_base);
        if (!copy) {
            st = mt_error_set(err, MT_ENOMEM, "shuffle");
            break;
        }
        args[0] = MT_ARG_STR(copy);
        for (int i = 0; i < n; i++) args[1 + i] = MT_ARG_REF(maps[(size_t)i * (size_t)(p + 1) + (size_t)reduced]);
        mt_task_options o = {.num_returns = 2};
        st = mt_task_submit("manta.data.reduce", args, 1 + n, &o, red[reduced], err);
        mt_free(copy);
        if (st != MT_OK) break;
    }
    for (size_t i = 0; maps && i < (size_t)mapped * (size_t)(p + 1); i++) mt_ref_release(maps[i]); /* tasks hold theirs */
    int done = 0;
    for (; st == MT_OK && done < reduced; done++) {
        mt_value v;
        st = mt_get(&red[done][1], 1, -1, &v, err);
        if (st == MT_OK) {
            st = mt_value_i64(&v, &res[done].rows, err);
            mt_value_release(&v);
        }
        if (st != MT_OK) break;
        res[done].ref = red[done][0];
        red[done][0] = NULL;
    }
    for (int i = 0; red && i < reduced; i++) {
        mt_ref_release(red[i][0]);
        mt_ref_release(red[i][1]);
    }
    mt_free(red);
    mt_free(maps);
    mt_free(args);
    if (st != MT_OK) {
        mt__ds_blocks_free(res, done);
        return st;
    }
    *out = res;
    *nout = p;
    return MT_OK;
}

static uint64_t seed_or_random(uint64_t seed)
{
    if (seed) return seed;
    mt_id id = mt_id_random();
    memcpy(&seed, id.bytes, sizeof seed);
    return seed;
}

mt_dataset *mt__ds_over(mt__ds_block *b, int n, const mt_type *schema, mt_error *err)
{
    mt__ds_input *in = mt_calloc((size_t)(n ? n : 1), sizeof *in);
    if (!in) return mt_error_set(err, MT_ENOMEM, "shuffle"), NULL;
    for (int i = 0; i < n; i++) {
        in[i] = (mt__ds_input){.kind = MT__DS_IN_BLOCK, .rows = b[i].rows, .nrefs = 1};
        if (!(in[i].refs = mt_malloc(sizeof *in[i].refs))) {
            for (int k = 0; k < i; k++) mt__ds_input_free(&in[k]);
            mt_free(in);
            return mt_error_set(err, MT_ENOMEM, "shuffle"), NULL;
        }
        in[i].refs[0] = mt_ref_retain(b[i].ref);
    }
    return mt__ds_from_inputs(in, n, schema, err);
}

/* The dataset a shuffle starts from: a limit is applied first. */
mt_dataset *mt__ds_shuffle_source(mt_dataset *ds)
{
    if (ds->limit < 0) return mt_dataset_retain(ds);
    return mt_materialize(ds);
}

MT_API mt_dataset *mt_random_shuffle(mt_dataset *ds, uint64_t seed)
{
    return mt__ds_shuffle_into(ds, seed, 0);
}

mt_dataset *mt__ds_shuffle_into(mt_dataset *ds, uint64_t seed, int parts)
{
    mt_dataset *bad_ds = mt__ds_check(ds);
    if (bad_ds) return bad_ds;
    mt_dataset *src = mt__ds_shuffle_source(ds);
    mt_error err;
    if (mt_dataset_status(src, &err) != MT_OK) {
        mt_dataset_release(src);
        return mt__ds_fail(err.code, err.msg);
    }
    seed = seed_or_random(seed) & INT64_MAX; /* travels as a JSON integer */
    int p = parts > 0 ? parts : src->ninputs;
    mt_dataset *out = NULL;
    if (src->ninputs == 0) {
        out = mt_dataset_retain(src);
    } else {
        char sh[128];
        snprintf(sh, sizeof sh, "{\"mode\":\"random\",\"parts\":%d,\"seed\":%llu}", p, (unsigned long long)seed);
        json_t *rb = json_pack("{s:s, s:I}", "mode", "random", "seed", (json_int_t)seed);
        mt__ds_block *b = NULL;
        int nb = 0;
        mt_status st = rb ? mt__ds_exchange(src, sh, p, rb, &b, &nb, &err) : mt_error_set(&err, MT_ENOMEM, "shuffle");
        json_decref(rb);
        const mt_type *schema = mt_dataset_schema(src);
        if (st == MT_OK) out = mt__ds_over(b, nb, schema, &err);
        mt__ds_blocks_free(b, nb);
    }
    mt_dataset_release(src);
    return out ? out : mt__ds_fail(err.code, err.msg);
}

MT_API mt_dataset *mt_groupby(mt_dataset *ds, const char *key)
{
    mt_dataset *bad_ds = mt__ds_check(ds);
    if (bad_ds) return bad_ds;
    if (!key || !*key) return mt__ds_fail(MT_EINVAL, "groupby: no key");
    const mt_type *s = ds->schema;
    if (s && mt_type_field_index(s, key) < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "groupby: no column '%.200s'", key);
        return mt__ds_fail(MT_ENOTFOUND, msg);
    }
    mt_dataset *g = mt__ds_shuffle_source(ds);
    if (g->st != MT_OK) return g;
    mt_error err;
    mt_dataset *out = mt__ds_copy(g, &err);
    mt_dataset_release(g);
    if (!out) return mt__ds_fail(err.code, err.msg);
    if (!(out->group_key = mt_strdup(key))) {
        mt_dataset_release(out);
        return mt__ds_fail(MT_ENOMEM, "groupby: out of memory");
    }
    return out;
}

static json_t *aggs_json(const mt_agg *aggs, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        int ddof = aggs[i].kind == MT_AGG_STD && !aggs[i].ddof_set && aggs[i].ddof == 0 ? 1 : aggs[i].ddof;
        json_t *o = json_pack("{s:i, s:i}", "kind", (int)aggs[i].kind, "ddof", ddof);
        if (o && aggs[i].on) json_object_set_new(o, "on", json_string(aggs[i].on));
        json_array_append_new(a, o);
    }
    return a;
}

/* Sorts the concatenated reduce outputs by key (each is sorted; together they are not). */
static mt_status sorted_result(mt__ds_block *b, int n, const char *key, mt_table **out, mt_error *err)
{
    mt_table **parts = mt_calloc((size_t)(n ? n : 1), sizeof *parts);
    if (!parts) return mt_error_set(err, MT_ENOMEM, "aggregate");
    mt_status st = MT_OK;
    int got = 0;
    for (; st == MT_OK && got < n; got++) {
        char what[48];
        snprintf(what, sizeof what, "aggregate part %d", got);
        st = mt__ds_fetch(b[got].ref, what, &parts[got], err);
        if (st != MT_OK) break;
    }
    mt_table *all = NULL;
    if (st == MT_OK) st = mt_table_concat(parts, n, &all, err);
    for (int i = 0; i < got; i++) mt_table_release(parts[i]);
    mt_free(parts);
    if (st != MT_OK || !key || n == 1) {
        if (st == MT_OK) *out = all;
        return st;
    }
    mt_group_index *gi = NULL;
    st = mt_table_group_index(all, key, &gi, err);
    int64_t ng = st == MT_OK ? gi->num_groups + gi->has_null : 0;
    int64_t *rows = st == MT_OK ? mt_malloc(sizeof *rows * (size_t)(ng ? ng : 1)) : NULL;
    if (st == MT_OK && !rows) st = mt_error_set(err, MT_ENOMEM, "aggregate");
    if (st == MT_OK) { /* keys are unique here: group g is row g's first (and only) row */
        int64_t *first = mt_malloc(sizeof *first * (size_t)(ng ? ng : 1));
        if (!first) st = mt_error_set(err, MT_ENOMEM, "aggregate");
        for (int64_t r = all->num_rows - 1; st == MT_OK && r >= 0; r--) first[gi->group[r]] = r;
        for (int64_t k = 0; st == MT_OK && k < ng; k++) rows[k] = first[gi->order[k]];
        mt_free(first);
    }
    if (st == MT_OK) st = mt__ds_take_rows(all, rows, ng, out, err);
    mt_free(rows);
    mt_group_index_free(gi);
    mt_table_release(all);
    return st;
}

MT_API mt_dataset *mt_aggregate(mt_dataset *ds, const mt_agg *aggs, int n)
{
    if (!ds) return mt__ds_fail(MT_EINVAL, "aggregate: NULL dataset");
    if (ds->st != MT_OK) return mt__ds_fail(ds->st, ds->msg);
    if (n < 1 || !aggs) return mt__ds_fail(MT_EINVAL, "aggregate: no aggregation");
    for (int i = 0; i < n; i++) {
        if (aggs[i].kind != MT_AGG_COUNT && !aggs[i].on) return mt__ds_fail(MT_EINVAL, "aggregate: an aggregation without a column");
        if (aggs[i].on && ds->schema && mt_type_field_index(ds->schema, aggs[i].on) < 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "aggregate: no column '%.200s'", aggs[i].on);
            return mt__ds_fail(MT_ENOTFOUND, msg);
        }
    }
    const char *key = ds->group_key;
    mt_error err;
    json_t *aj = aggs_json(aggs, n);
    mt_table *result = NULL;
    mt_status st = aj ? MT_OK : mt_error_set(&err, MT_ENOMEM, "aggregate");
    if (st == MT_OK && ds->ninputs == 0) { /* nothing to map: states of an empty table, here */
        mt_dataset plain = *ds;
        plain.group_key = NULL;
        mt_table *empty = mt_take_table(&plain, 0), *partial = NULL;
        st = empty ? mt__agg_partial(empty, key, aj, &partial, &err) : mt_dataset_status(&plain, &err);
        if (st == MT_OK) st = mt__agg_final(partial, key, aj, &result, &err);
        mt_table_release(empty);
        mt_table_release(partial);
    } else if (st == MT_OK) {
        /* partial states are small: a reduce per cluster CPU (at most 16) is enough */
        int cpus = mt__ds_cluster_cpus();
        int p = key ? (cpus > 16 ? 16 : cpus) : 1;
        if (p > ds->ninputs) p = ds->ninputs;
        json_t *sh = json_pack("{s:s, s:i, s:O}", "mode", "agg", "parts", p, "aggs", aj);
        json_t *rb = json_pack("{s:s, s:O}", "mode", "agg", "aggs", aj);
        if (sh && key) json_object_set_new(sh, "key", json_string(key));
        if (rb && key) json_object_set_new(rb, "key", json_string(key));
        char *text = sh ? mt__ds_json_text(sh) : NULL;
        mt__ds_block *b = NULL;
        int nb = 0;
        st = text && rb ? mt__ds_exchange(ds, text, p, rb, &b, &nb, &err) : mt_error_set(&err, MT_ENOMEM, "aggregate");
        mt_free(text);
        json_decref(sh);
        json_decref(rb);
        if (st == MT_OK) st = sorted_result(b, nb, key, &result, &err);
        mt__ds_blocks_free(b, nb);
    }
    json_decref(aj);
    if (st != MT_OK) return mt__ds_fail(err.code, err.msg);
    mt_dataset *out = mt_from_table(result);
    mt_table_release(result);
    return out;
}

static mt_dataset *one(mt_dataset *ds, mt_agg_kind kind, const char *on)
{
    mt_agg a = {.kind = kind, .on = on};
    return mt_aggregate(ds, &a, 1);
}

MT_API mt_dataset *mt_group_count(mt_dataset *grouped) { return one(grouped, MT_AGG_COUNT, NULL); }
MT_API mt_dataset *mt_sum(mt_dataset *ds, const char *on) { return one(ds, MT_AGG_SUM, on); }
MT_API mt_dataset *mt_min(mt_dataset *ds, const char *on) { return one(ds, MT_AGG_MIN, on); }
MT_API mt_dataset *mt_max(mt_dataset *ds, const char *on) { return one(ds, MT_AGG_MAX, on); }
MT_API mt_dataset *mt_mean(mt_dataset *ds, const char *on) { return one(ds, MT_AGG_MEAN, on); }
MT_API mt_dataset *mt_std(mt_dataset *ds, const char *on) { return one(ds, MT_AGG_STD, on); }
