/*
 * test_read_values.c — whole-file reads of parquet-testing corpus files
 * through the public reader, checking decoded values of flat, nested,
 * delta-encoded, INT96, decimal and float16 columns, and that malformed
 * files are rejected with MT_ECORRUPT.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "manta/parquet.h"

#define CORPUS MT_SOURCE_DIR "/../shared/testdata/parquet-testing/"

static mt_table *read_rg(const char *rel, int32_t rg)
{
    mt_parquet_reader *r = NULL;
    mt_error err = {0};
    cr_assert_eq(mt_parquet_reader_open(rel, NULL, &r, &err), MT_OK, "%s", err.msg);
    mt_table *t = NULL;
    cr_assert_eq(mt_parquet_reader_read_row_group(r, rg, &t, &err), MT_OK, "%s", err.msg);
    mt_parquet_reader_destroy(r);
    return t;
}

static mt_status read_err(const char *rel, mt_error *err)
{
    mt_parquet_reader *r = NULL;
    mt_status st = mt_parquet_reader_open(rel, NULL, &r, err);
    for (int32_t rg = 0; st == MT_OK && rg < mt_parquet_reader_num_row_groups(r); rg++) {
        mt_table *t = NULL;
        st = mt_parquet_reader_read_row_group(r, rg, &t, err);
        mt_table_release(t);
    }
    mt_parquet_reader_destroy(r);
    return st;
}

static mt_array *col(mt_table *t, const char *name)
{
    int32_t i = mt_table_column_index(t, name);
    cr_assert_geq(i, 0, "column %s", name);
    return t->columns[i];
}

static const int32_t *offsets(const mt_array *a)
{
    return (const int32_t *)a->buffers[1]->data + a->offset;
}

Test(read_values, alltypes_plain)
{
    mt_table *t = read_rg(CORPUS "data/alltypes_plain.parquet", 0);
    const int32_t want[8] = {4, 5, 6, 7, 2, 3, 0, 1};
    mt_array *id = col(t, "id");
    cr_assert_eq(id->length, 8);
    for (int i = 0; i < 8; i++) cr_assert_eq(MT_ARRAY_VALUES(id, int32_t)[i], want[i]);
    mt_array *b = col(t, "bool_col");
    cr_assert_eq(b->buffers[1]->data[0] & 0x0f, 0x05); /* true, false, true, false */
    mt_array *ts = col(t, "timestamp_col");
    cr_assert_eq(ts->type->unit, MT_UNIT_MICRO);
    cr_assert_eq(MT_ARRAY_VALUES(ts, int64_t)[1], 1235865660000000ll); /* 2009-03-01T00:01:00 */
    mt_table_release(t);
}

Test(read_values, nested_lists)
{
    /* row 0: a = [[["a","b"],["c"]],[null,["d"]]] */
    mt_table *t = read_rg(CORPUS "data/nested_lists.snappy.parquet", 0);
    mt_array *a = col(t, "a");
    cr_assert_eq(offsets(a)[0], 0);
    cr_assert_eq(offsets(a)[1], 2);
    mt_array *l2 = a->children[0];
    cr_assert_eq(offsets(l2)[1], 2);
    cr_assert_eq(offsets(l2)[2], 4);
    cr_assert(mt_array_is_valid(l2, 1));
    mt_array *l3 = l2->children[0];
    cr_assert(!mt_array_is_valid(l3, 2), "a[1][0] is null");
    cr_assert_eq(offsets(l3)[2], 3);
    cr_assert_eq(offsets(l3)[3], 3);
    cr_assert_eq(offsets(l3)[4], 4);
    mt_array *s = l3->children[0];
    const int32_t *so = offsets(s);
    cr_assert_eq(so[1] - so[0], 1);
    cr_assert_eq(memcmp(s->buffers[2]->data + so[3], "d", 1), 0);
    mt_table_release(t);
}

Test(read_values, nullable_impala_int_array)
{
    /* row 1: int_array [null,1,2,null,3,null]; row 2: []; */
    mt_table *t = read_rg(CORPUS "data/nullable.impala.parquet", 0);
    mt_array *a = col(t, "int_array");
    const int32_t *o = offsets(a);
    cr_assert_eq(o[1] - o[0], 3);
    cr_assert_eq(o[2] - o[1], 6);
    cr_assert_eq(o[3] - o[2], 0);
    mt_array *it = a->children[0];
    cr_assert(!mt_array_is_valid(it, o[1]));
    cr_assert_eq(MT_ARRAY_VALUES(it, int32_t)[o[1] + 1], 1);
    cr_assert_eq(MT_ARRAY_VALUES(it, int32_t)[o[1] + 4], 3);
    mt_table_release(t);
}

Test(read_values, delta_binary_packed_matches_expect_csv)
{
    mt_table *t = read_rg(CORPUS "data/delta_binary_packed.parquet", 0);
    FILE *f = fopen(CORPUS "data/delta_binary_packed_expect.csv", "r");
    cr_assert_not_null(f);
    char line[8192];
    cr_assert_not_null(fgets(line, sizeof line, f)); /* header */
    int64_t row = 0;
    while (fgets(line, sizeof line, f) && row < t->num_rows) {
        char *p = line;
        for (int32_t c = 0; c < t->num_columns; c++) {
            long long v = strtoll(p, &p, 10);
            mt_array *a = t->columns[c];
            int64_t got = a->type->id == MT_TYPE_INT32 ? MT_ARRAY_VALUES(a, int32_t)[row]
                                                       : MT_ARRAY_VALUES(a, int64_t)[row];
            cr_assert_eq(got, v, "row %lld column %d", (long long)row, c);
            if (*p == ',') p++;
        }
        row++;
    }
    fclose(f);
    cr_assert_eq(row, 200);
    mt_table_release(t);
}

Test(read_values, int96_beyond_2262_in_microseconds)
{
    mt_table *t = read_rg(CORPUS "data/int96_from_spark.parquet", 0);
    mt_array *a = col(t, "a");
    const int64_t *v = MT_ARRAY_VALUES(a, int64_t);
    cr_assert_eq(v[0], 1704141296123456ll); /* 2024-01-01T20:34:56.123456 */
    cr_assert_eq(v[2], 253402225200000000ll); /* 9999-12-31T03:00:00 */
    cr_assert(!mt_array_is_valid(a, 4));
    mt_table_release(t);
}

Test(read_values, decimals_and_float16)
{
    mt_table *t = read_rg(CORPUS "data/fixed_length_decimal.parquet", 0);
    mt_array *d = col(t, "value");
    cr_assert_eq(d->type->id, MT_TYPE_DECIMAL128);
    int64_t lo;
    memcpy(&lo, d->buffers[1]->data + 16 * 2, 8);
    cr_assert_eq(lo, 300); /* "3.00" */
    mt_table_release(t);
    t = read_rg(CORPUS "data/byte_array_decimal.parquet", 0);
    memcpy(&lo, col(t, "value")->buffers[1]->data, 8);
    cr_assert_eq(lo, 100);
    mt_table_release(t);
    t = read_rg(CORPUS "data/float16_nonzeros_and_nans.parquet", 0);
    mt_array *h = col(t, "x");
    cr_assert(!mt_array_is_valid(h, 0));
    cr_assert_eq(MT_ARRAY_VALUES(h, uint16_t)[1], 0x3C00);
    cr_assert_eq(MT_ARRAY_VALUES(h, uint16_t)[2], 0xC000);
    mt_table_release(t);
}

Test(read_values, key_only_map_reads_as_list)
{
    mt_table *t = read_rg(CORPUS "data/map_no_value.parquet", 0);
    mt_array *a = col(t, "my_map_no_v");
    cr_assert_eq(a->type->id, MT_TYPE_LIST);
    cr_assert_eq(offsets(a)[1], 3);
    cr_assert_eq(MT_ARRAY_VALUES(a->children[0], int32_t)[4], 5);
    mt_table_release(t);
}

Test(read_values, malformed_files_are_rejected)
{
    static const struct { const char *file, *msg; } cases[] = {
        {"bad_data/ARROW-GH-45185.parquet", "first repetition level of the row group is 1, not 0"},
        {"bad_data/ARROW-GH-41321.parquet", "RLE data ends early"},
        {"bad_data/ARROW-RS-GH-6229-LEVELS.parquet", "RLE data ends early"},
        {"bad_data/ARROW-GH-47662.parquet", "PLAIN values: 100 values of 4 bytes need 400 bytes"},
        {"bad_data/ARROW-GH-41317.parquet", "column holds 0 rows, the row group 3"},
        {"bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet", "column holds 0 rows, the row group 25"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, CORPUS "%s", cases[i].file);
        mt_error err = {0};
        cr_assert_eq(read_err(path, &err), MT_ECORRUPT, "%s: %s", cases[i].file, err.msg);
        cr_assert_not_null(strstr(err.msg, cases[i].msg), "%s: %s", cases[i].file, err.msg);
    }
}
