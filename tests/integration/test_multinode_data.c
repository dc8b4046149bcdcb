/*
 * Datasets on two nodes: a head and a joined node B that alone has the
 * custom resource "special". A map_batches step asking for it runs on B;
 * its blocks live in B's store and are read back here, grouped and
 * aggregated by tasks on the head (which copy B's blocks over), and split —
 * every value checked against values computed here.
 */
#include "itest_cluster.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <manta/manta.h>

static itest_cluster C;
static char B[300];

static void setup(void) { itest_prepare(&C); }
static void teardown(void)
{
    char out[4096];
    char *args[] = {"stop", "--temp-dir", B, NULL};
    if (B[0]) itest_run_cli(args, out, sizeof out, 20000);
    itest_teardown(&C);
}

static const int64_t *i64s(const mt_table *t, int col)
{
    return (const int64_t *)t->columns[col]->buffers[1]->data + t->columns[col]->offset;
}

Test(multinode_data, blocks_made_on_one_node_are_used_on_the_other, .init = setup, .fini = teardown, .timeout = 120)
{
    itest_start(&C, NULL);
    itest_join(&C, "b", "{\"special\": 2}", B, sizeof B);
    mt_error err = {0};
    mt_init_options o = {.temp_dir = C.dir, .no_start = true, .code_path = MT_BINARY_DIR "/tests/libmanta_test_batchfns.so"};
    cr_assert_eq(mt_init_ex(&o, &err), MT_OK, "%s", err.msg);
    mt_resource special = {"special", 1};
    mt_map_batches_options on_b = {.resources = &special, .num_resources = 1};
    int64_t n = 20000;
    mt_dataset *ds = mt_materialize(mt_map_batches(mt_range(n, 8), "add_one", &on_b));
    cr_assert_eq(mt_dataset_status(ds, &err), MT_OK, "%s", err.msg);
    mt_table *t = mt_to_table(ds);
    cr_assert_not_null(t, "%s", (mt_dataset_status(ds, &err), err.msg));
    cr_assert_eq(t->num_rows, n);
    for (int64_t i = 0; i < n; i++) {
        cr_assert_eq(i64s(t, 0)[i], i + 1);
        cr_assert_eq(i64s(t, 1)[i], i * i);
    }
    mt_table_release(t);
    /* grouped on the head from B's blocks: count and sum of sq by id % 3 via keys_and_values on B */
    mt_dataset *kv = mt_map_batches(mt_range(n, 8), "keys_and_values", &on_b);
    mt_agg aggs[2] = {{.kind = MT_AGG_COUNT}, {.kind = MT_AGG_SUM, .on = "id"}};
    mt_table *g = mt_to_table(mt_aggregate(mt_groupby(mt_materialize(kv), "k"), aggs, 2));
    cr_assert_not_null(g);
    int64_t cnt[6] = {0}, sum[6] = {0};
    for (int64_t id = 0; id < n; id++) {
        int j = id % 7 == 0 ? 5 : (int)(id % 5);
        cnt[j]++;
        sum[j] += id;
    }
    cr_assert_eq(g->num_rows, 6);
    for (int j = 0; j < 6; j++) {
        cr_assert_eq(i64s(g, 1)[j], cnt[j], "count of group %d", j);
        cr_assert_eq(i64s(g, 2)[j], sum[j], "sum of group %d", j);
    }
    mt_table_release(g);
    /* split on the head, parts reading B's blocks */
    mt_dataset *train = NULL, *test = NULL;
    cr_assert_eq(mt_train_test_split(ds, 0.25, NULL, &train, &test), MT_OK);
    cr_assert_eq(mt_count(train), 15000);
    mt_table *tt = mt_to_table(test);
    cr_assert_not_null(tt);
    cr_assert_eq(tt->num_rows, 5000);
    cr_assert_eq(i64s(tt, 0)[0], 15001, "the test part is the tail");
    mt_table_release(tt);
    mt_shutdown();
}
