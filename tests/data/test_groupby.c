/*
 * test_groupby.c — mt_table_groupby_mean: exact means, key order, null keys
 * (own group, last), null values (skipped; all-null group → null mean),
 * numeric/string/float keys, errors, OOM, and a 2M-row run.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data/data_test_util.h"
#include "manta/data.h"

TestSuite(groupby, .init = leak_check_setup, .fini = leak_check_teardown);

#define NUL INT64_MIN

static mt_array *int_col(mt_type *t, const int64_t *v, int n)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(t);
    for (int i = 0; i < n; i++) {
        if (v[i] == NUL)
            mt_array_builder_append_null(b, &err);
        else
            mt_array_builder_append_int(b, v[i], &err);
    }
    return dt_finish(b);
}

static mt_array *dbl_col(const double *v, int n)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_FLOAT64));
    for (int i = 0; i < n; i++) {
        if (v[i] == 12345.0)
            mt_array_builder_append_null(b, &err);
        else
            mt_array_builder_append_double(b, v[i], &err);
    }
    return dt_finish(b);
}

/* A table {k, v} taking the given column references. */
static mt_table *table2(mt_array *k, mt_array *v)
{
    const char *names[] = {"k", "v"};
    mt_type *types[] = {k->type, v->type};
    mt_type *s = mt_type_struct(2, names, types, NULL);
    mt_array *cols[] = {k, v};
    mt_table *t;
    mt_error err;
    cr_assert_eq(mt_table_new(s, cols, k->length, &t, &err), MT_OK, "%s", err.msg);
    mt_type_release(s);
    mt_array_release(k);
    mt_array_release(v);
    return t;
}

static double mean_at(const mt_table *r, int64_t i) { return MT_ARRAY_VALUES(r->columns[1], double)[i]; }

Test(groupby, int_keys_sorted_with_null_group_last)
{
    mt_type *i64 = mt_type_new(MT_TYPE_INT64);
    int64_t keys[] = {3, 1, NUL, 3, -5, 1, 3, NUL, 7};
    int64_t vals[] = {10, 2, 100, 20, 4, NUL, 33, 200, NUL};
    mt_table *t = table2(int_col(i64, keys, 9), int_col(i64, vals, 9)), *r;
    mt_error err;
    cr_assert_eq(mt_table_groupby_mean(t, "k", "v", &r, &err), MT_OK, "%s", err.msg);
    cr_assert_str_eq(r->schema->fields[0].name, "k");
    cr_assert_str_eq(r->schema->fields[1].name, "mean(v)");
    cr_assert(mt_type_equal(r->columns[0]->type, i64));
    cr_assert_eq(r->columns[1]->type->id, MT_TYPE_FLOAT64);
    cr_assert_eq(r->num_rows, 5);
    const int64_t *k = MT_ARRAY_VALUES(r->columns[0], int64_t);
    cr_assert_eq(k[0], -5);
    cr_assert_eq(k[1], 1);
    cr_assert_eq(k[2], 3);
    cr_assert_eq(k[3], 7);
    cr_assert_not(mt_array_is_valid(r->columns[0], 4), "null key last");
    cr_assert_eq(mean_at(r, 0), 4.0);
    cr_assert_eq(mean_at(r, 1), 2.0, "null values skipped");
    cr_assert_eq(mean_at(r, 2), 21.0);
    cr_assert_not(mt_array_is_valid(r->columns[1], 3), "all-null group has null mean");
    cr_assert_eq(mean_at(r, 4), 150.0);
    cr_assert_eq(mt_array_validate(r->columns[0], &err), MT_OK);
    mt_table_release(r);
    mt_table_release(t);
}

Test(groupby, string_keys_and_double_values)
{
    const char *keys[] = {"pear", "apple", "fig", "apple", "", "pear", "apples", NULL};
    double vals[] = {1.5, 2.0, 3.25, 4.0, 8.0, 2.5, 1.0, 7.0};
    mt_table *t = table2(dt_strs(keys, 8), dbl_col(vals, 8)), *r;
    mt_error err;
    cr_assert_eq(mt_table_groupby_mean(t, "k", "v", &r, &err), MT_OK, "%s", err.msg);
    mt_array *want_k = dt_strs((const char *[]){"", "apple", "apples", "fig", "pear", NULL}, 6);
    mt_array *want_v = dbl_col((double[]){8.0, 3.0, 1.0, 3.25, 2.0, 7.0}, 6);
    cr_assert(mt_array_equal(r->columns[0], want_k));
    cr_assert(mt_array_equal(r->columns[1], want_v));
    mt_array_release(want_k);
    mt_array_release(want_v);
    mt_table_release(r);
    mt_table_release(t);
}

Test(groupby, float_keys_bool_keys_and_uint_values)
{
    mt_error err;
    double keys[] = {2.5, -0.0, NAN, 0.0, -1e300, NAN, 2.5, INFINITY};
    mt_type *u8 = mt_type_new(MT_TYPE_UINT8);
    int64_t vals[] = {200, 100, 1, 50, 7, 3, 250, 9};
    mt_table *t = table2(dbl_col(keys, 8), int_col(u8, vals, 8)), *r;
    cr_assert_eq(mt_table_groupby_mean(t, "k", "v", &r, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(r->num_rows, 5);
    const double *k = MT_ARRAY_VALUES(r->columns[0], double);
    cr_assert_eq(k[0], -1e300);
    cr_assert_eq(k[1], 0.0);
    cr_assert_eq(k[2], 2.5);
    cr_assert(isinf(k[3]));
    cr_assert(isnan(k[4]), "NaN sorts after +inf");
    cr_assert_eq(mean_at(r, 1), 75.0, "-0.0 and 0.0 form one group");
    cr_assert_eq(mean_at(r, 2), 225.0, "uint8 sums do not wrap at 8 bits");
    cr_assert_eq(mean_at(r, 4), 2.0);
    mt_table_release(r);
    mt_table_release(t);

    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_BOOL));
    bool bv[] = {true, false, true, true};
    for (int i = 0; i < 4; i++) mt_array_builder_append_bool(b, bv[i], &err);
    mt_array *bk;
    mt_array_builder_finish(b, &bk, &err);
    mt_array_builder_destroy(b);
    mt_type *i16 = mt_type_new(MT_TYPE_INT16);
    t = table2(bk, int_col(i16, (int64_t[]){-1, 5, -2, 0}, 4));
    cr_assert_eq(mt_table_groupby_mean(t, "k", "v", &r, &err), MT_OK);
    cr_assert_eq(r->num_rows, 2);
    cr_assert_eq(r->columns[0]->buffers[1]->data[0] & 3, 2, "false then true");
    cr_assert_eq(mean_at(r, 0), 5.0);
    cr_assert_eq(mean_at(r, 1), -1.0);
    mt_table_release(r);
    mt_table_release(t);
}

Test(groupby, float_sums_are_compensated_and_keep_infinities)
{
    mt_error err;
    mt_type *i32 = mt_type_new(MT_TYPE_INT32);
    int64_t keys[] = {1, 1, 1, 2, 2, 3, 3};
    double vals[] = {1e16, 1.0, -1e16, INFINITY, 1.0, INFINITY, -INFINITY};
    mt_table *t = table2(int_col(i32, keys, 7), dbl_col(vals, 7)), *r;
    cr_assert_eq(mt_table_groupby_mean(t, "k", "v", &r, &err), MT_OK);
    cr_assert_eq(mean_at(r, 0), 1.0 / 3.0, "naive summation would give 0");
    cr_assert(isinf(mean_at(r, 1)) && mean_at(r, 1) > 0);
    cr_assert(isnan(mean_at(r, 2)));
    mt_table_release(r);
    mt_table_release(t);
}

Test(groupby, errors)
{
    mt_type *i64 = mt_type_new(MT_TYPE_INT64);
    mt_table *t = table2(int_col(i64, (int64_t[]){1}, 1), dt_strs((const char *[]){"x"}, 1)), *r;
    mt_error err;
    cr_assert_eq(mt_table_groupby_mean(t, "nope", "v", &r, &err), MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "no column 'nope'");
    cr_assert_eq(mt_table_groupby_mean(t, "k", "w", &r, &err), MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "no column 'w'");
    cr_assert_eq(mt_table_groupby_mean(t, "k", "v", &r, &err), MT_ETYPE);
    cr_assert_str_eq(err.msg, "cannot take the mean of column 'v' of type string");
    for (int k = 1; k < 30; k++) {
        mt_alloc_fail_after(k, false);
        mt_status st = mt_table_groupby_mean(t, "v", "k", &r, &err);
        mt_alloc_fail_after(0, false);
        if (st == MT_OK)
            mt_table_release(r);
        else
            cr_assert_eq(st, MT_ENOMEM, "k=%d %s", k, err.msg);
    }
    mt_table_release(t);
}

Test(groupby, two_million_rows)
{
    mt_error err;
    const int64_t n = 2000000;
    mt_array_builder *kb = mt_array_builder_new(mt_type_new(MT_TYPE_INT32));
    mt_array_builder *vb = mt_array_builder_new(mt_type_new(MT_TYPE_FLOAT64));
    for (int64_t i = 0; i < n; i++) {
        mt_array_builder_append_int(kb, (int32_t)((i * 7919) % 1000), &err);
        mt_array_builder_append_double(vb, (double)(i % 10), &err);
    }
    mt_array *k, *v;
    mt_array_builder_finish(kb, &k, &err);
    mt_array_builder_finish(vb, &v, &err);
    mt_array_builder_destroy(kb);
    mt_array_builder_destroy(vb);
    mt_table *t = table2(k, v), *r;
    int64_t t0 = mt_time_now_ns();
    cr_assert_eq(mt_table_groupby_mean(t, "k", "v", &r, &err), MT_OK);
    int64_t ms = (mt_time_now_ns() - t0) / 1000000;
    cr_assert_lt(ms, 2000, "groupby over 2M rows took %lld ms", (long long)ms);
    cr_log_info("groupby mean over 2M rows: %lld ms", (long long)ms);
    cr_assert_eq(r->num_rows, 1000);
    for (int i = 0; i < 1000; i++) cr_assert_eq(MT_ARRAY_VALUES(r->columns[0], int32_t)[i], i);
    /* key j gets rows i with i*7919 = j mod 1000; i mod 10 = j*inv(7919) mod 10 → mean is exact */
    cr_assert_eq(mean_at(r, 0), 0.0);
    cr_assert_eq(mean_at(r, 1), 9.0); /* 7919*i = 1 (mod 1000) iff i = 679 (mod 1000): i%10 = 9 */
    mt_table_release(r);
    mt_table_release(t);
}
