/* Datasets, the rest of the operators: filter, add_column, union,
 * from_items, CSV both ways, iter_batches, split(equal), random_shuffle by
 * seed, and every aggregation with null keys and null values — each
 * against values computed here independently. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <manta/manta.h>

#include "worker/worker_test_util.h"

static void setup_ds(void) { start(MT_BINARY_DIR "/tests/libmanta_test_batchfns.so"); }

static const int64_t *i64s(const mt_table *t, int col)
{
    return (const int64_t *)t->columns[col]->buffers[1]->data + t->columns[col]->offset;
}

static const double *f64s(const mt_table *t, int col)
{
    return (const double *)t->columns[col]->buffers[1]->data + t->columns[col]->offset;
}

static bool is_null(const mt_table *t, int col, int64_t i)
{
    const mt_array *a = t->columns[col];
    if (!a->buffers[0]) return false;
    int64_t k = a->offset + i;
    return !((a->buffers[0]->data[k >> 3] >> (k & 7)) & 1);
}

static mt_table *table_of(mt_dataset *ds)
{
    mt_table *t = mt_to_table(ds);
    mt_error err;
    cr_assert_not_null(t, "%s", (mt_dataset_status(ds, &err), err.msg));
    return t;
}

Test(dataset_ops, filter_keeps_rows_where_the_mask_is_true, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *ds = mt_filter(mt_range(1000, 6), "mult3_mask", &(mt_map_batches_options){.batch_size = 50});
    mt_table *t = table_of(ds);
    int64_t n = 0;
    for (int64_t i = 0; i < 1000; i++)
        if (i % 3 == 0 && i % 10 != 7) {
            cr_assert_lt(n, t->num_rows);
            cr_assert_eq(i64s(t, 0)[n], i);
            n++;
        }
    cr_assert_eq(t->num_rows, n);
    cr_assert_eq(mt_count(ds), n);
    mt_table_release(t);
    mt_error err;
    mt_dataset *bad = mt_filter(mt_range(10, 1), "twice", NULL); /* returns doubles, not bools */
    cr_assert_null(mt_to_table(bad));
    cr_assert_eq(mt_dataset_status(bad, &err), MT_ETYPE);
    cr_assert(strstr(err.msg, "block 0") && strstr(err.msg, "filter(twice)"), "%s", err.msg);
}

Test(dataset_ops, add_column_appends_or_replaces, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *ds = mt_add_column(mt_range(100, 3), "x", "twice", NULL);
    cr_assert_eq(mt_count(ds), 100, "add_column keeps the row count known");
    mt_table *t = table_of(ds);
    cr_assert_eq(t->num_columns, 2);
    cr_assert_str_eq(t->schema->fields[1].name, "x");
    for (int64_t i = 0; i < 100; i++) cr_assert_eq(f64s(t, 1)[i], 2.0 * (double)i);
    mt_table_release(t);
    mt_table *r = table_of(mt_add_column(mt_range(10, 2), "id", "twice", NULL));
    cr_assert_eq(r->num_columns, 1, "the column of the same name is replaced");
    cr_assert_eq(r->schema->fields[0].type->id, MT_TYPE_FLOAT64);
    cr_assert_eq(f64s(r, 0)[9], 18.0);
    mt_table_release(r);
}

Test(dataset_ops, union_concatenates_in_order, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *parts[3] = {mt_range(10, 2), mt_limit(mt_range(100, 3), 5), mt_filter(mt_range(12, 2), "mult3_mask", NULL)};
    mt_dataset *u = mt_union(parts, 3);
    mt_table *t = table_of(u);
    int64_t want[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 0, 3, 6, 9};
    cr_assert_eq(t->num_rows, 19);
    for (int i = 0; i < 19; i++) cr_assert_eq(i64s(t, 0)[i], want[i], "row %d", i);
    mt_table_release(t);
    mt_dataset *other[2] = {mt_range(3, 1), mt_add_column(mt_range(3, 1), "x", "twice", NULL)};
    mt_dataset *bad = mt_union(other, 2);
    mt_error err;
    cr_assert_eq(mt_dataset_status(bad, &err), MT_ETYPE, "%s", err.msg);
    cr_assert(strstr(err.msg, "dataset 1"), "%s", err.msg);
}

Test(dataset_ops, from_items_types_columns_and_names_bad_items, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *ds = mt_from_items("[{\"a\": 1, \"b\": \"x\"}, {\"a\": 2.5, \"c\": true}, {\"b\": null}]");
    mt_table *t = table_of(ds);
    cr_assert_eq(t->num_rows, 3);
    cr_assert_eq(t->num_columns, 3);
    cr_assert_str_eq(t->schema->fields[0].name, "a");
    cr_assert_eq(t->schema->fields[0].type->id, MT_TYPE_FLOAT64, "int and double join as double");
    cr_assert_eq(t->schema->fields[1].type->id, MT_TYPE_UTF8);
    cr_assert_eq(t->schema->fields[2].type->id, MT_TYPE_BOOL);
    cr_assert_eq(f64s(t, 0)[1], 2.5);
    cr_assert(is_null(t, 0, 2) && is_null(t, 1, 1) && is_null(t, 1, 2) && is_null(t, 2, 0));
    mt_table_release(t);
    mt_table *v = table_of(mt_from_items("[3, 1, 2]"));
    cr_assert_str_eq(v->schema->fields[0].name, "item");
    cr_assert_eq(i64s(v, 0)[0], 3);
    mt_table_release(v);
    mt_error err;
    cr_assert_eq(mt_dataset_status(mt_from_items("[{\"a\": 1}, {\"a\": \"s\"}]"), &err), MT_ETYPE);
    cr_assert(strstr(err.msg, "item 1") && strstr(err.msg, "'a'"), "%s", err.msg);
    cr_assert_eq(mt_dataset_status(mt_from_items("[{\"a\": [1]}]"), &err), MT_ETYPE);
    cr_assert_eq(mt_dataset_status(mt_from_items("[1, 2"), &err), MT_EPARSE);
}

Test(dataset_ops, csv_write_and_read_back, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/csv", tmpdir);
    mt_dataset *ds = mt_add_column(mt_range(300, 3), "x", "twice", NULL);
    mt_error err;
    cr_assert_eq(mt_write_csv(ds, dir, &err), MT_OK, "%s", err.msg);
    mt_dataset *back = mt_read_csv(dir, NULL);
    cr_assert_eq(mt_num_blocks(back), 3, "one read task per file");
    mt_table *t = table_of(back);
    cr_assert_eq(t->num_rows, 300);
    for (int64_t i = 0; i < 300; i++) {
        cr_assert_eq(i64s(t, 0)[i], i);
        cr_assert_eq(f64s(t, 1)[i], 2.0 * (double)i);
    }
    mt_table_release(t);
    mt_table *p = table_of(mt_read_csv(dir, &(mt_read_csv_options){.columns = MT_COLUMNS("x")}));
    cr_assert_eq(p->num_columns, 1);
    mt_table_release(p);
    cr_assert_eq(mt_dataset_status(mt_read_csv("/nonexistent/x.csv", NULL), &err), MT_ENOTFOUND);
    cr_assert(strstr(err.msg, "/nonexistent/x.csv"), "%s", err.msg);
}

Test(dataset_ops, iter_batches_cuts_across_blocks, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *ds = mt_range(1000, 7); /* blocks of 142/143 rows */
    mt_batch_iter *it = mt_iter_batches(ds, &(mt_iter_batches_options){.batch_size = 100});
    cr_assert_not_null(it);
    mt_table *b;
    mt_error err;
    int64_t next = 0, batches = 0;
    while (mt_batch_iter_next(it, &b, &err) == MT_OK && b) {
        cr_assert_eq(b->num_rows, 100, "batch %lld", (long long)batches);
        for (int64_t i = 0; i < b->num_rows; i++) cr_assert_eq(i64s(b, 0)[i], next++);
        batches++;
        mt_table_release(b);
    }
    cr_assert_eq(next, 1000);
    cr_assert_eq(batches, 10);
    mt_batch_iter_free(it);
    /* a short tail, dropped on request; a limit is respected */
    it = mt_iter_batches(mt_limit(ds, 250), &(mt_iter_batches_options){.batch_size = 100});
    int64_t rows[4] = {0}, k = 0;
    while (mt_batch_iter_next(it, &b, &err) == MT_OK && b) rows[k++] = b->num_rows, mt_table_release(b);
    cr_assert(k == 3 && rows[0] == 100 && rows[1] == 100 && rows[2] == 50);
    mt_batch_iter_free(it);
    it = mt_iter_batches(mt_limit(ds, 250), &(mt_iter_batches_options){.batch_size = 100, .drop_last = true});
    k = 0;
    while (mt_batch_iter_next(it, &b, &err) == MT_OK && b) k++, mt_table_release(b);
    cr_assert_eq(k, 2);
    mt_batch_iter_free(it);
    /* stopping early is clean */
    it = mt_iter_batches(ds, NULL);
    cr_assert_eq(mt_batch_iter_next(it, &b, &err), MT_OK);
    cr_assert_eq(b->num_rows, 256, "Ray's default batch size");
    mt_table_release(b);
    mt_batch_iter_free(it);
    /* a failing block: the error names it */
    it = mt_iter_batches(mt_map_batches(ds, "fail_on_57", NULL), NULL);
    mt_status st = MT_OK;
    while ((st = mt_batch_iter_next(it, &b, &err)) == MT_OK && b) mt_table_release(b);
    cr_assert_eq(st, MT_EINVAL);
    cr_assert(strstr(err.msg, "block 0") && strstr(err.msg, "bad id 57"), "%s", err.msg);
    mt_batch_iter_free(it);
}

Test(dataset_ops, split_equal_and_by_blocks, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *parts[3];
    cr_assert_eq(mt_split(mt_range(1000, 7), 3, true, parts), MT_OK);
    int64_t next = 0;
    for (int p = 0; p < 3; p++) {
        mt_table *t = table_of(parts[p]);
        cr_assert(t->num_rows == 333 || t->num_rows == 334, "equal parts within one row: %lld", (long long)t->num_rows);
        for (int64_t i = 0; i < t->num_rows; i++) cr_assert_eq(i64s(t, 0)[i], next++, "row identity and order");
        mt_table_release(t);
    }
    cr_assert_eq(next, 1000);
    cr_assert_eq(mt_split(mt_range(1000, 6), 3, false, parts), MT_OK);
    next = 0;
    for (int p = 0; p < 3; p++) {
        cr_assert_eq(mt_num_blocks(parts[p]), 2, "whole blocks dealt out");
        mt_table *t = table_of(parts[p]);
        for (int64_t i = 0; i < t->num_rows; i++) cr_assert_eq(i64s(t, 0)[i], next++);
        mt_table_release(t);
    }
    cr_assert_eq(next, 1000);
    int64_t cuts[2] = {10, 990};
    cr_assert_eq(mt_split_at_indices(mt_range(1000, 4), cuts, 2, parts), MT_OK);
    cr_assert(mt_count(parts[0]) == 10 && mt_count(parts[1]) == 980 && mt_count(parts[2]) == 10);
}

Test(dataset_ops, random_shuffle_is_a_permutation_fixed_by_its_seed, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *src = mt_range(2000, 5);
    mt_table *a = table_of(mt_random_shuffle(src, 42));
    mt_table *b = table_of(mt_random_shuffle(src, 42));
    mt_table *c = table_of(mt_random_shuffle(src, 43));
    cr_assert_eq(a->num_rows, 2000);
    cr_assert(mt_table_equal(a, b), "the same seed gives the same order");
    cr_assert_not(mt_table_equal(a, c), "another seed another order");
    bool *seen = calloc(2000, 1);
    int64_t in_place = 0;
    for (int64_t i = 0; i < 2000; i++) {
        int64_t v = i64s(a, 0)[i];
        cr_assert(v >= 0 && v < 2000 && !seen[v]);
        seen[v] = true;
        in_place += v == i;
    }
    cr_assert_lt(in_place, 20, "shuffled: %lld rows kept their place", (long long)in_place);
    free(seen);
    mt_table_release(a);
    mt_table_release(b);
    mt_table_release(c);
}

/* Expected groupby over keys_and_values of range(n): k = id % 5 or null (id % 7 == 0), v = id / 4 or null (id % 11 == 3). */
typedef struct group {
    int64_t count, nv;
    double sum, min, max, mean, m2;
} group;

static void expected(int64_t n, group g[6])
{
    memset(g, 0, sizeof(group) * 6);
    for (int j = 0; j < 6; j++) g[j].min = INFINITY, g[j].max = -INFINITY;
    for (int64_t id = 0; id < n; id++) {
        int j = id % 7 == 0 ? 5 : (int)(id % 5);
        g[j].count++;
        if (id % 11 == 3) continue;
        double v = (double)id / 4.0;
        g[j].nv++;
        g[j].sum += v;
        g[j].min = v < g[j].min ? v : g[j].min;
        g[j].max = v > g[j].max ? v : g[j].max;
    }
    for (int j = 0; j < 6; j++) g[j].mean = g[j].sum / (double)g[j].nv;
    for (int64_t id = 0; id < n; id++) { /* two-pass variance */
        if (id % 11 == 3) continue;
        int j = id % 7 == 0 ? 5 : (int)(id % 5);
        double d = (double)id / 4.0 - g[j].mean;
        g[j].m2 += d * d;
    }
}

static void near(double got, double want, const char *what)
{
    cr_assert(fabs(got - want) <= 1e-12 * fabs(want) + 1e-300, "%s: %.17g, want %.17g", what, got, want);
}

Test(dataset_ops, groupby_every_aggregation_with_null_keys, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    int64_t n = 5000;
    mt_dataset *ds = mt_map_batches(mt_range(n, 6), "keys_and_values", NULL);
    mt_agg aggs[6] = {{.kind = MT_AGG_COUNT}, {.kind = MT_AGG_SUM, .on = "v"}, {.kind = MT_AGG_MIN, .on = "v"},
                      {.kind = MT_AGG_MAX, .on = "v"}, {.kind = MT_AGG_MEAN, .on = "v"}, {.kind = MT_AGG_STD, .on = "v"}};
    mt_table *t = table_of(mt_aggregate(mt_groupby(ds, "k"), aggs, 6));
    group g[6];
    expected(n, g);
    cr_assert_eq(t->num_rows, 6, "five keys and the null key");
    const char *names[] = {"k", "count()", "sum(v)", "min(v)", "max(v)", "mean(v)", "std(v)"};
    for (int c = 0; c < 7; c++) cr_assert_str_eq(t->schema->fields[c].name, names[c]);
    for (int j = 0; j < 6; j++) {
        if (j < 5) cr_assert_eq(i64s(t, 0)[j], j, "sorted by key");
        else cr_assert(is_null(t, 0, 5), "the null key last");
        cr_assert_eq(i64s(t, 1)[j], g[j].count, "count of group %d", j);
        near(f64s(t, 2)[j], g[j].sum, "sum");
        near(f64s(t, 3)[j], g[j].min, "min");
        near(f64s(t, 4)[j], g[j].max, "max");
        near(f64s(t, 5)[j], g[j].mean, "mean");
        near(f64s(t, 6)[j], sqrt(g[j].m2 / (double)(g[j].nv - 1)), "std (ddof 1)");
    }
    mt_table_release(t);
    /* whole-dataset aggregations; integer sum and min stay int64 */
    mt_table *s = table_of(mt_sum(ds, "id"));
    cr_assert_eq(s->schema->fields[0].type->id, MT_TYPE_INT64);
    cr_assert_eq(i64s(s, 0)[0], n * (n - 1) / 2);
    mt_table_release(s);
    mt_table *m = table_of(mt_max(ds, "id"));
    cr_assert_eq(i64s(m, 0)[0], n - 1);
    mt_table_release(m);
    double all = 0, mean, m2 = 0;
    int64_t nv = 0;
    for (int64_t id = 0; id < n; id++)
        if (id % 11 != 3) all += (double)id / 4.0, nv++;
    mean = all / (double)nv;
    for (int64_t id = 0; id < n; id++)
        if (id % 11 != 3) m2 += ((double)id / 4.0 - mean) * ((double)id / 4.0 - mean);
    mt_agg sd0 = {.kind = MT_AGG_STD, .on = "v", .ddof = 0, .ddof_set = true};
    mt_table *sd = table_of(mt_aggregate(ds, &sd0, 1));
    near(f64s(sd, 0)[0], sqrt(m2 / (double)nv), "std ddof 0");
    mt_table_release(sd);
    mt_table *mn = table_of(mt_mean(ds, "v"));
    near(f64s(mn, 0)[0], mean, "whole mean skipping nulls");
    mt_table_release(mn);
}

Test(dataset_ops, aggregation_errors_name_the_column, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_error err;
    mt_dataset *ds = mt_from_items("[{\"k\": 1, \"s\": \"a\"}, {\"k\": 2, \"s\": \"b\"}]");
    mt_dataset *bad = mt_mean(mt_groupby(ds, "k"), "s");
    cr_assert_null(mt_to_table(bad));
    cr_assert_eq(mt_dataset_status(bad, &err), MT_ETYPE, "%s", err.msg);
    cr_assert(strstr(err.msg, "'s'"), "%s", err.msg);
    cr_assert_eq(mt_dataset_status(mt_groupby(ds, "nope"), &err), MT_ENOTFOUND);
    cr_assert(strstr(err.msg, "nope"), "%s", err.msg);
    mt_dataset *missing = mt_sum(ds, "zzz");
    cr_assert_null(mt_to_table(missing));
    cr_assert_neq(mt_dataset_status(missing, &err), MT_OK);
    cr_assert(strstr(err.msg, "zzz"), "%s", err.msg);
}

/* Checks t (id, k, …) is sorted by k (nulls last) with ties in id order. */
static void check_sorted_by_k(const mt_table *t, bool desc, int64_t n)
{
    cr_assert_eq(t->num_rows, n);
    for (int64_t i = 1; i < n; i++) {
        bool na = is_null(t, 1, i - 1), nb = is_null(t, 1, i);
        cr_assert(!(na && !nb), "nulls last (row %lld)", (long long)i);
        if (na || nb) {
            if (na && nb) cr_assert_lt(i64s(t, 0)[i - 1], i64s(t, 0)[i], "null ties keep input order");
            continue;
        }
        int64_t a = i64s(t, 1)[i - 1], b = i64s(t, 1)[i];
        cr_assert(desc ? a >= b : a <= b, "row %lld: %lld then %lld", (long long)i, (long long)a, (long long)b);
        if (a == b) cr_assert_lt(i64s(t, 0)[i - 1], i64s(t, 0)[i], "ties keep input order (stable)");
    }
}

Test(dataset_ops, sort_orders_with_nulls_last_and_stable_ties, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    int64_t n = 3000;
    mt_dataset *ds = mt_map_batches(mt_random_shuffle(mt_range(n, 6), 7), "keys_and_values", NULL);
    mt_table *in = table_of(ds);
    /* ties must keep the input order: map input position -> id for the check */
    mt_dataset *asc = mt_sort(ds, "k", false);
    mt_table *t = table_of(asc);
    cr_assert_gt(mt_num_blocks(asc), 1, "a distributed sort");
    /* ids are shuffled: stable means equal keys keep their relative input order */
    int64_t *pos = malloc(sizeof *pos * (size_t)n);
    for (int64_t i = 0; i < n; i++) pos[i64s(in, 0)[i]] = i;
    for (int64_t i = 1; i < n; i++) {
        bool na = is_null(t, 1, i - 1), nb = is_null(t, 1, i);
        cr_assert(!(na && !nb), "nulls last");
        if (nb && !na) continue;
        int64_t a = na ? 0 : i64s(t, 1)[i - 1], b = nb ? 0 : i64s(t, 1)[i];
        cr_assert_leq(a, b, "ascending");
        if (a == b) cr_assert_lt(pos[i64s(t, 0)[i - 1]], pos[i64s(t, 0)[i]], "stable");
    }
    mt_table_release(t);
    /* descending, from an ordered input: ties in id order */
    mt_table *d = table_of(mt_sort(mt_map_batches(mt_range(n, 6), "keys_and_values", NULL), "k", true));
    check_sorted_by_k(d, true, n);
    cr_assert_eq(i64s(d, 1)[0], 4);
    mt_table_release(d);
    /* doubles with nulls, descending */
    mt_table *v = table_of(mt_sort(ds, "v", true));
    int64_t nulls = 0;
    for (int64_t i = 0; i < n; i++) nulls += (i % 11 == 3);
    for (int64_t i = 1; i < n - nulls; i++) cr_assert_geq(f64s(v, 2)[i - 1], f64s(v, 2)[i]);
    for (int64_t i = n - nulls; i < n; i++) cr_assert(is_null(v, 2, i));
    cr_assert_eq(f64s(v, 2)[0], (double)(n - 1) / 4.0);
    mt_table_release(v);
    free(pos);
    mt_table_release(in);
    /* strings */
    mt_table *s = table_of(mt_sort(mt_from_items("[\"pear\", \"apple\", null, \"fig\", \"apple2\"]"), "item", false));
    const char *want[] = {"apple", "apple2", "fig", "pear"};
    const int32_t *off = (const int32_t *)s->columns[0]->buffers[1]->data;
    for (int i = 0; i < 4; i++)
        cr_assert(!strncmp((const char *)s->columns[0]->buffers[2]->data + off[i], want[i], strlen(want[i])) &&
                      off[i + 1] - off[i] == (int32_t)strlen(want[i]), "string %d", i);
    cr_assert(is_null(s, 0, 4));
    mt_table_release(s);
    mt_error err;
    cr_assert_eq(mt_dataset_status(mt_sort(mt_range(5, 1), "nope", false), &err), MT_ENOTFOUND);
}

Test(dataset_ops, repartition_with_shuffle_and_per_step_cpus, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *r = mt_repartition(mt_range(1000, 3), 4, true);
    cr_assert_eq(mt_num_blocks(r), 4);
    mt_table *t = table_of(r);
    cr_assert_eq(t->num_rows, 1000);
    bool seen[1000] = {0};
    int64_t in_place = 0;
    for (int64_t i = 0; i < 1000; i++) {
        int64_t v = i64s(t, 0)[i];
        cr_assert(v >= 0 && v < 1000 && !seen[v]);
        seen[v] = true;
        in_place += v == i;
    }
    cr_assert_lt(in_place, 20, "rows moved");
    mt_table_release(t);
    /* a step asking for both CPUs runs (one task at a time); a bad demand fails at once */
    mt_dataset *two = mt_map_batches(mt_range(100, 4), "add_one", &(mt_map_batches_options){.num_cpus = 2});
    cr_assert_eq(mt_count(two), 100);
    mt_table *u = table_of(two);
    cr_assert_eq(i64s(u, 0)[99], 100);
    mt_table_release(u);
    mt_error err;
    cr_assert_eq(mt_dataset_status(mt_map_batches(mt_range(10, 1), "add_one", &(mt_map_batches_options){.num_cpus = -1}), &err),
                 MT_EINVAL);
}

Test(dataset_ops, map_batches_on_an_actor_pool, .init = setup_ds, .fini = teardown, .timeout = 90)
{
    int64_t k = 3;
    mt_actor_pool_options o = {.size = 2, .batch_size = 50, .arg = &k, .arg_len = sizeof k};
    mt_dataset *ds = mt_map_batches_actors(mt_range(1000, 8), "scaler", &o);
    mt_table *t = table_of(ds);
    cr_assert_eq(t->num_rows, 1000);
    int64_t pids[2] = {0}, npids = 0;
    for (int64_t i = 0; i < 1000; i++) {
        cr_assert_eq(i64s(t, 0)[i], 3 * i, "in input order, scaled by the actor's state");
        int64_t p = i64s(t, 1)[i];
        if (p != pids[0] && p != pids[1] && npids < 2) pids[npids++] = p;
        cr_assert(p == pids[0] || p == pids[1], "only the pool's two actors ran it");
    }
    cr_assert_eq(npids, 2, "both actors of the pool took blocks");
    mt_table_release(t);
    /* a limit before the pool */
    cr_assert_eq(mt_count(mt_map_batches_actors(mt_limit(mt_range(1000, 8), 130), "scaler", &o)), 130);
    mt_error err;
    mt_dataset *bad = mt_map_batches_actors(mt_range(10, 2), "scaler", &(mt_actor_pool_options){.size = 1});
    cr_assert_neq(mt_dataset_status(bad, &err), MT_OK);
    cr_assert(strstr(err.msg, "scaler needs an int64 argument"), "the init's message: %s", err.msg);
    mt_dataset *none = mt_map_batches_actors(mt_range(10, 2), "no_such_class", NULL);
    cr_assert_neq(mt_dataset_status(none, &err), MT_OK);
    cr_assert(strstr(err.msg, "no_such_class"), "%s", err.msg);
}
