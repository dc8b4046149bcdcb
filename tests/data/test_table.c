/*
 * test_table.c — tables: construction checks (column count, types, lengths),
 * slicing, concatenation, selection, equality, OOM.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "data/data_test_util.h"
#include "manta/data.h"

TestSuite(table, .init = leak_check_setup, .fini = leak_check_teardown);

static mt_array *ints(int64_t start, int n)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_INT64));
    for (int i = 0; i < n; i++) {
        if ((start + i) % 5 == 4)
            mt_array_builder_append_null(b, &err);
        else
            mt_array_builder_append_int(b, start + i, &err);
    }
    return dt_finish(b);
}

static mt_array *strs(int64_t start, int n)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_UTF8));
    for (int i = 0; i < n; i++) {
        char s[32];
        int len = snprintf(s, sizeof s, "s%lld", (long long)(start + i));
        mt_array_builder_append_bytes(b, s, len, &err);
    }
    return dt_finish(b);
}

static mt_type *schema2(void)
{
    const char *names[] = {"id", "name"};
    mt_type *types[] = {mt_type_new(MT_TYPE_INT64), mt_type_new(MT_TYPE_UTF8)};
    return mt_type_struct(2, names, types, NULL);
}

/* Rows [start, start+n): id = row (every 5th null), name = "s<row>". */
static mt_table *rows(int64_t start, int n)
{
    mt_type *s = schema2();
    mt_array *cols[] = {ints(start, n), strs(start, n)};
    mt_table *t;
    mt_error err;
    cr_assert_eq(mt_table_new(s, cols, n, &t, &err), MT_OK, "%s", err.msg);
    mt_array_release(cols[0]);
    mt_array_release(cols[1]);
    mt_type_release(s);
    return t;
}

Test(table, new_checks_columns)
{
    mt_error err;
    mt_type *s = schema2();
    mt_array *id = ints(0, 3), *name = strs(0, 3), *short_name = strs(0, 2);
    mt_table *t;
    mt_array *swapped[] = {name, id};
    cr_assert_eq(mt_table_new(s, swapped, 3, &t, &err), MT_ETYPE);
    cr_assert_str_eq(err.msg, "column 'id' has type string, schema says int64");
    mt_array *wrong_len[] = {id, short_name};
    cr_assert_eq(mt_table_new(s, wrong_len, 3, &t, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "column 'name' has 2 rows, expected 3");
    mt_array *missing[] = {id, NULL};
    cr_assert_eq(mt_table_new(s, missing, 3, &t, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "column 'name' is missing");
    cr_assert_eq(mt_table_new(mt_type_new(MT_TYPE_INT64), swapped, 3, &t, &err), MT_ETYPE);
    cr_assert_str_eq(err.msg, "table schema must be a struct type");
    mt_array *ok[] = {id, name};
    cr_assert_eq(mt_table_new(s, ok, 3, &t, &err), MT_OK);
    cr_assert_eq(t->num_columns, 2);
    cr_assert_eq(t->num_rows, 3);
    cr_assert_eq(t->columns[1], name, "columns are shared, not copied");
    cr_assert_eq(mt_table_column_index(t, "name"), 1);
    cr_assert_eq(mt_table_column_index(t, "nope"), -1);
    mt_table_retain(t);
    mt_table_release(t);
    mt_array *all[] = {id, name, short_name};
    for (int k = 0; k < 3; k++) mt_array_release(all[k]);
    mt_type_release(s);
    cr_assert_eq(MT_ARRAY_VALUES(t->columns[0], int64_t)[2], 2, "table keeps columns alive");
    mt_table_release(t);
    mt_table_release(NULL);
}

Test(table, slice_concat_round_trip)
{
    mt_error err;
    mt_table *t = rows(0, 100), *a, *b, *c;
    cr_assert_eq(mt_table_slice(t, 0, 37, &a, &err), MT_OK);
    cr_assert_eq(mt_table_slice(t, 37, 63, &b, &err), MT_OK);
    cr_assert_eq(a->num_rows, 37);
    cr_assert_eq(b->columns[0]->offset, 37);
    mt_table *parts[] = {a, b};
    cr_assert_eq(mt_table_concat(parts, 2, &c, &err), MT_OK);
    cr_assert(mt_table_equal(c, t));
    mt_table *d;
    cr_assert_eq(mt_table_slice(t, 99, 2, &d, &err), MT_ERANGE);
    cr_assert_str_eq(err.msg, "slice [99, 101) out of range for a table of 100 rows");
    cr_assert_eq(mt_table_slice(t, 100, 0, &d, &err), MT_OK);
    cr_assert_eq(d->num_rows, 0);
    mt_table *e = rows(1, 100);
    cr_assert_not(mt_table_equal(e, t));
    mt_table *all[] = {t, a, b, c, d, e};
    for (int k = 0; k < 6; k++) mt_table_release(all[k]);
}

Test(table, concat_requires_equal_schemas)
{
    mt_error err;
    mt_table *t = rows(0, 4), *u, *out;
    const char *id[] = {"id", NULL};
    cr_assert_eq(mt_table_select(t, id, &u, &err), MT_OK);
    mt_table *parts[] = {t, u};
    cr_assert_eq(mt_table_concat(parts, 2, &out, &err), MT_ETYPE);
    cr_assert_str_eq(err.msg, "table 1 has schema struct<id: int64>, table 0 has struct<id: int64, name: string>");
    cr_assert_eq(mt_table_concat(parts, 0, &out, &err), MT_EINVAL);
    mt_table_release(t);
    mt_table_release(u);
}

Test(table, select_reorders_and_reports_unknown)
{
    mt_error err;
    mt_table *t = rows(0, 10), *s;
    const char *names[] = {"name", "id", NULL};
    cr_assert_eq(mt_table_select(t, names, &s, &err), MT_OK);
    cr_assert_eq(s->num_columns, 2);
    cr_assert_str_eq(s->schema->fields[0].name, "name");
    cr_assert_eq(s->columns[0], t->columns[1]);
    cr_assert_eq(s->num_rows, 10);
    const char *bad[] = {"id", "x", NULL};
    mt_table *s2;
    cr_assert_eq(mt_table_select(t, bad, &s2, &err), MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "no column 'x'");
    const char *none[] = {NULL};
    cr_assert_eq(mt_table_select(t, none, &s2, &err), MT_OK);
    cr_assert_eq(s2->num_columns, 0);
    cr_assert_eq(s2->num_rows, 10);
    mt_table_release(s2);
    mt_table_release(s);
    mt_table_release(t);
}

Test(table, oom_in_every_operation)
{
    mt_table *t = rows(0, 50);
    const char *names[] = {"name", NULL};
    int failures = 0;
    for (int k = 1; k < 40; k++) {
        mt_error err;
        mt_table *a = NULL, *b = NULL, *c = NULL;
        mt_alloc_fail_after(k, false);
        mt_status st = mt_table_slice(t, 3, 40, &a, &err);
        if (st == MT_OK) {
            mt_table *parts[] = {a, t, a};
            st = mt_table_concat(parts, 3, &b, &err);
        }
        if (st == MT_OK) st = mt_table_select(b, names, &c, &err);
        mt_alloc_fail_after(0, false);
        if (st != MT_OK) {
            cr_assert_eq(st, MT_ENOMEM, "k=%d: %s", k, err.msg);
            failures++;
        } else {
            cr_assert_eq(c->num_rows, 130);
        }
        mt_table_release(a);
        mt_table_release(b);
        mt_table_release(c);
    }
    cr_assert_gt(failures, 10);
    mt_table_release(t);
}
