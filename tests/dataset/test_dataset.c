/* Datasets on an embedded cluster: sources, fused transformations run as
 * tasks, limit, consumption, write_parquet and reading it back, and errors
 * that name the block and keep the function's message. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <manta/manta.h>

#include "worker/worker_test_util.h"

static void setup_ds(void) { start(MT_BINARY_DIR "/tests/libmanta_test_batchfns.so"); }

static void expect_ok(mt_dataset *ds, const char *what)
{
    mt_error err;
    cr_assert_eq(mt_dataset_status(ds, &err), MT_OK, "%s: %s", what, err.msg);
}

static const int64_t *ids(const mt_table *t, int col)
{
    return (const int64_t *)t->columns[col]->buffers[1]->data + t->columns[col]->offset;
}

Test(dataset, range_counts_from_metadata_and_reads_back_in_order, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *ds = mt_range(1000, 7);
    expect_ok(ds, "range");
    cr_assert_eq(mt_count(ds), 1000);
    cr_assert_eq(mt_num_blocks(ds), 7);
    mt_table *t = mt_to_table(ds);
    expect_ok(ds, "to_table");
    cr_assert_eq(t->num_rows, 1000);
    for (int64_t i = 0; i < 1000; i++) cr_assert_eq(ids(t, 0)[i], i);
    mt_table_release(t);
    const mt_type *s = mt_dataset_schema(ds);
    cr_assert_eq(s->num_fields, 1);
    cr_assert_str_eq(s->fields[0].name, "id");
}

Test(dataset, map_batches_runs_the_job_function_per_batch, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    int64_t k = 10;
    mt_dataset *ds = mt_map_batches(mt_range(1000, 4), "add_one",
                                    &(mt_map_batches_options){.batch_size = 64, .arg = &k, .arg_len = sizeof k});
    expect_ok(ds, "map_batches");
    const mt_type *s = mt_dataset_schema(ds);
    cr_assert_not_null(s);
    cr_assert_eq(s->num_fields, 2);
    cr_assert_str_eq(s->fields[1].name, "sq");
    mt_table *t = mt_to_table(ds);
    expect_ok(ds, "to_table");
    cr_assert_eq(t->num_rows, 1000);
    for (int64_t i = 0; i < 1000; i++) {
        cr_assert_eq(ids(t, 0)[i], i + 10);
        cr_assert_eq(ids(t, 1)[i], i * i);
    }
    mt_table_release(t);
    /* a function that changes the row count: count runs the plan */
    mt_dataset *even = mt_map_batches(mt_range(1000, 4), "keep_even", NULL);
    cr_assert_eq(mt_count(even), 500);
    cr_assert_eq(mt_count(even), 500, "the second count reuses the run");
}

Test(dataset, limit_takes_the_first_rows, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *ds = mt_limit(mt_range(1000, 7), 150);
    cr_assert_eq(mt_count(ds), 150);
    mt_table *t = mt_take_table(ds, 1000);
    cr_assert_eq(t->num_rows, 150);
    for (int64_t i = 0; i < 150; i++) cr_assert_eq(ids(t, 0)[i], i);
    mt_table_release(t);
    mt_dataset *m = mt_map_batches(ds, "add_one", NULL); /* after the limit */
    mt_table *u = mt_to_table(m);
    expect_ok(m, "map after limit");
    cr_assert_eq(u->num_rows, 150);
    cr_assert_eq(ids(u, 0)[149], 150);
    mt_table_release(u);
    t = mt_take_table(mt_range(1000, 7), 5);
    cr_assert_eq(t->num_rows, 5);
    mt_table_release(t);
}

Test(dataset, columns_are_selected_dropped_and_renamed, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *ds = mt_map_batches(mt_range(100, 2), "add_one", NULL);
    mt_dataset *r = mt_rename_columns(mt_select_columns(ds, MT_COLUMNS("sq", "id")), MT_COLUMNS("sq", "square"));
    mt_table *t = mt_to_table(r);
    expect_ok(r, "select + rename");
    cr_assert_str_eq(t->schema->fields[0].name, "square");
    cr_assert_str_eq(t->schema->fields[1].name, "id");
    cr_assert_eq(ids(t, 0)[9], 81);
    mt_table_release(t);
    mt_dataset *d = mt_drop_columns(mt_range(10, 1), MT_COLUMNS("id"));
    cr_assert_eq(mt_dataset_schema(d)->num_fields, 0);
    mt_error err;
    mt_dataset *bad = mt_select_columns(mt_range(10, 1), MT_COLUMNS("nope"));
    cr_assert_eq(mt_dataset_status(bad, &err), MT_ENOTFOUND);
    cr_assert(strstr(err.msg, "no column 'nope'"), "%s", err.msg);
    /* the error is sticky through later steps */
    cr_assert_eq(mt_count(mt_limit(bad, 3)), -1);
    cr_assert_eq(mt_dataset_status(mt_limit(bad, 3), &err), MT_ENOTFOUND);
}

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

Test(dataset, write_parquet_then_read_it_back, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/out", tmpdir);
    mt_dataset *ds = mt_map_batches(mt_range(1000, 5), "add_one", NULL);
    mt_error err;
    cr_assert_eq(mt_write_parquet(ds, dir, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(files_in(dir), 5, "one file per block");
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        /* <write id: 32 hex>_<block index: 6 digits>.parquet */
        cr_assert_eq(strlen(e->d_name), 32 + 1 + 6 + 8, "%s", e->d_name);
        cr_assert(e->d_name[32] == '_' && !strncmp(e->d_name + 33, "00000", 5) && e->d_name[38] >= '0' &&
                      e->d_name[38] <= '4' && !strcmp(e->d_name + 39, ".parquet"),
                  "%s", e->d_name);
    }
    closedir(d);
    mt_dataset *back = mt_read_parquet(dir, NULL);
    expect_ok(back, "read_parquet");
    cr_assert_eq(mt_count(back), 1000, "count from the footers");
    mt_table *t = mt_to_table(back);
    expect_ok(back, "to_table");
    cr_assert_eq(t->num_rows, 1000);
    for (int64_t i = 0; i < 1000; i++) cr_assert_eq(ids(t, 0)[i], i + 1, "row %lld", (long long)i);
    mt_table_release(t);
    /* projection */
    mt_dataset *p = mt_read_parquet(dir, &(mt_read_parquet_options){.columns = MT_COLUMNS("sq")});
    cr_assert_eq(mt_dataset_schema(p)->num_fields, 1);
    mt_table *q = mt_take_table(p, 3);
    cr_assert_eq(ids(q, 0)[2], 4);
    mt_table_release(q);
}

Test(dataset, a_failing_function_names_its_block_and_leaves_no_files, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *ds = mt_map_batches(mt_range(1000, 7), "fail_on_57", NULL);
    mt_error err;
    cr_assert_null(mt_to_table(ds));
    cr_assert_eq(mt_dataset_status(ds, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, "block 0") && strstr(err.msg, "fail_on_57") && strstr(err.msg, "bad id 57"), "%s",
              err.msg);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/out", tmpdir);
    mt_dataset *again = mt_map_batches(mt_range(1000, 7), "fail_on_57", NULL);
    cr_assert_eq(mt_write_parquet(again, dir, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, "bad id 57"), "%s", err.msg);
    cr_assert_eq(files_in(dir), 0, "a failed write leaves no file");
    mt_dataset *none = mt_map_batches(mt_range(10, 1), "no_such_fn", NULL);
    cr_assert_eq(mt_count(none), -1);
    cr_assert_eq(mt_dataset_status(none, &err), MT_ENOTFOUND);
    cr_assert(strstr(err.msg, "no_such_fn"), "%s", err.msg);
}

Test(dataset, bad_sources_fail_at_once_naming_the_path, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_error err;
    mt_dataset *ds = mt_read_parquet("/nonexistent/taxi.parquet", NULL);
    cr_assert_eq(mt_dataset_status(ds, &err), MT_ENOTFOUND);
    cr_assert(strstr(err.msg, "/nonexistent/taxi.parquet"), "%s", err.msg);
    char path[400];
    snprintf(path, sizeof path, "%s/not.parquet", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("not parquet at all", f);
    fclose(f);
    ds = mt_read_parquet(path, NULL);
    cr_assert_neq(mt_dataset_status(ds, &err), MT_OK);
    cr_assert(strstr(err.msg, "not.parquet"), "%s", err.msg);
    ds = mt_read_parquet(tmpdir, NULL); /* a directory: only *.parquet files count */
    cr_assert_neq(mt_dataset_status(ds, &err), MT_OK);
    cr_assert_null(mt_take_table(NULL, 1));
    cr_assert_eq(mt_count(NULL), -1);
}

Test(dataset, train_test_split_keeps_order_and_ray_arithmetic, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    mt_dataset *train = NULL, *test = NULL;
    cr_assert_eq(mt_train_test_split(mt_range(8, 3), 0.25, NULL, &train, &test), MT_OK);
    cr_assert_eq(mt_count(train), 6);
    cr_assert_eq(mt_count(test), 2);
    mt_table *t = mt_to_table(test);
    cr_assert_eq(ids(t, 0)[0], 6);
    cr_assert_eq(ids(t, 0)[1], 7);
    mt_table_release(t);
    mt_dataset *r = mt_repartition(mt_range(100, 3), 5, false);
    cr_assert_eq(mt_num_blocks(r), 5);
    cr_assert_eq(mt_count(r), 100);
}

Test(dataset, groupby_mean_and_count_are_exact, .init = setup_ds, .fini = teardown, .timeout = 60)
{
    /* sq = id * id grouped by id % 3 through add_one's id = id + 1 */
    mt_dataset *ds = mt_map_batches(mt_range(30, 4), "add_one", NULL);
    mt_agg aggs[2] = {{.kind = MT_AGG_COUNT}, {.kind = MT_AGG_MEAN, .on = "sq"}};
    mt_dataset *g = mt_aggregate(mt_groupby(ds, "id"), aggs, 2);
    mt_table *t = mt_to_table(g);
    mt_error err;
    cr_assert_not_null(t, "%s", (mt_dataset_status(g, &err), err.msg));
    cr_assert_eq(t->num_rows, 30);
    for (int64_t i = 0; i < 30; i++) {
        cr_assert_eq(ids(t, 0)[i], i + 1, "sorted by key");
        cr_assert_eq(ids(t, 1)[i], 1);
        cr_assert_eq(((const double *)t->columns[2]->buffers[1]->data)[t->columns[2]->offset + i], (double)(i * i));
    }
    cr_assert_str_eq(t->schema->fields[2].name, "mean(sq)");
    mt_table_release(t);
    mt_table *m = mt_to_table(mt_mean(mt_range(100, 4), "id"));
    cr_assert_not_null(m);
    cr_assert_eq(((const double *)m->columns[0]->buffers[1]->data)[0], 49.5);
    mt_table_release(m);
}
