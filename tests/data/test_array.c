/*
 * test_array.c — arrays: construction, null counts, all-null arrays,
 * zero-copy slices, concatenation (bitmaps at odd offsets, strings, nested
 * list/struct/map), validation failures and equality.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "data/data_test_util.h"
#include "manta/data.h"

TestSuite(array, .init = leak_check_setup, .fini = leak_check_teardown);

/* int32 array from values; INT32_MIN means null. */
static mt_array *ints(const int32_t *v, int n)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_INT32));
    for (int i = 0; i < n; i++) {
        if (v[i] == INT32_MIN)
            mt_array_builder_append_null(b, &err);
        else
            mt_array_builder_append_int(b, v[i], &err);
    }
    return dt_finish(b);
}

/* bool array from a string of '1', '0', '.' (null). */
static mt_array *bools(const char *s)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_BOOL));
    for (; *s; s++) {
        if (*s == '.')
            mt_array_builder_append_null(b, &err);
        else
            mt_array_builder_append_bool(b, *s == '1', &err);
    }
    return dt_finish(b);
}

static void bools_str(const mt_array *a, char *out)
{
    for (int64_t i = 0; i < a->length; i++) {
        int64_t j = a->offset + i;
        bool v = (a->buffers[1]->data[j >> 3] >> (j & 7)) & 1;
        out[i] = !mt_array_is_valid(a, i) ? '.' : v ? '1' : '0';
    }
    out[a->length] = '\0';
}

static mt_buffer *i32buf(const int32_t *v, int n)
{
    mt_buffer *b = mt_buffer_new(4 * n);
    memcpy(b->data, v, 4 * (size_t)n);
    return b;
}

/* list<int32> from offsets over `items`. */
static mt_array *list_of(mt_array *items, const int32_t *off, int n, mt_buffer *validity)
{
    mt_type *lt = mt_type_list(items->type, true, NULL);
    mt_buffer *bufs[2] = {validity, i32buf(off, n + 1)};
    mt_array *a = mt_array_new(lt, n, 0, -1, bufs, 2, &items, 1);
    mt_buffer_release(bufs[1]);
    mt_type_release(lt);
    return a;
}

Test(array, num_buffers_per_layout)
{
    mt_type *i = mt_type_new(MT_TYPE_INT32);
    cr_assert_eq(mt_array_num_buffers(mt_type_new(MT_TYPE_NA)), 0);
    cr_assert_eq(mt_array_num_buffers(mt_type_new(MT_TYPE_BOOL)), 2);
    cr_assert_eq(mt_array_num_buffers(i), 2);
    cr_assert_eq(mt_array_num_buffers(mt_type_new(MT_TYPE_UTF8)), 3);
    cr_assert_eq(mt_array_num_buffers(mt_type_new(MT_TYPE_BINARY)), 3);
    mt_type *l = mt_type_list(i, true, NULL), *m = mt_type_map(i, i, true);
    const char *n[] = {"a"};
    mt_type *s = mt_type_struct(1, n, &i, NULL);
    cr_assert_eq(mt_array_num_buffers(l), 2);
    cr_assert_eq(mt_array_num_buffers(m), 2);
    cr_assert_eq(mt_array_num_buffers(s), 1);
    mt_type_release(l);
    mt_type_release(m);
    mt_type_release(s);
}

Test(array, new_retains_and_counts_nulls)
{
    mt_buffer *vals = i32buf((int32_t[]){1, 2, 3, 4}, 4);
    mt_buffer *valid = mt_buffer_new(1);
    valid->data[0] = 0x0b; /* 1101 */
    mt_buffer *bufs[2] = {valid, vals};
    mt_array *a = mt_array_new(mt_type_new(MT_TYPE_INT32), 4, 0, -1, bufs, 2, NULL, 0);
    mt_buffer_release(vals);
    mt_buffer_release(valid);
    cr_assert_eq(a->null_count, -1);
    cr_assert_eq(mt_array_null_count(a), 1);
    cr_assert_eq(a->null_count, 1, "cached");
    cr_assert_eq(MT_ARRAY_VALUES(a, int32_t)[3], 4);
    mt_error err;
    cr_assert_eq(mt_array_validate(a, &err), MT_OK);
    mt_array *s;
    cr_assert_eq(mt_array_slice(a, 1, 2, &s, &err), MT_OK);
    cr_assert_eq(s->buffers[1], a->buffers[1], "zero-copy");
    cr_assert_eq(mt_array_null_count(s), 1);
    cr_assert_eq(MT_ARRAY_VALUES(s, int32_t)[0], 2);
    cr_assert_eq(mt_array_slice(a, 3, 2, &s, &err), MT_ERANGE);
    cr_assert_str_eq(err.msg, "slice [3, 5) out of range for an array of length 4");
    cr_assert_eq(mt_array_slice(a, -1, 1, &s, &err), MT_ERANGE);
    mt_array_release(a);
    cr_assert_eq(MT_ARRAY_VALUES(s, int32_t)[1], 3, "slice keeps buffers alive");
    mt_array_release(s);
}

Test(array, null_arrays_of_every_shape)
{
    mt_error err;
    mt_type *i = mt_type_new(MT_TYPE_INT32), *u = mt_type_new(MT_TYPE_UTF8);
    mt_type *l = mt_type_list(u, true, NULL), *m = mt_type_map(u, i, true);
    const char *n[] = {"a", "b"};
    mt_type *ty[] = {i, l};
    mt_type *s = mt_type_struct(2, n, ty, NULL);
    mt_type *fb = mt_type_fixed_binary(5);
    mt_type *all[] = {mt_type_new(MT_TYPE_NA), mt_type_new(MT_TYPE_BOOL), i, u, l, m, s, fb};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        mt_array *a = mt_array_new_null(all[k], 13);
        cr_assert_not_null(a);
        cr_assert_eq(a->length, 13);
        cr_assert_eq(mt_array_null_count(a), 13);
        cr_assert_not(mt_array_is_valid(a, 12));
        cr_assert_eq(mt_array_validate(a, &err), MT_OK, "%s", err.msg);
        mt_array *b = mt_array_new_null(all[k], 13);
        cr_assert(mt_array_equal(a, b));
        mt_array_release(b);
        mt_array_release(a);
    }
    mt_type_release(l);
    mt_type_release(m);
    mt_type_release(s);
    mt_type_release(fb);
}

Test(array, concat_bools_at_odd_offsets)
{
    mt_error err;
    mt_array *a = bools("1101.01110.1");      /* 12 */
    mt_array *b = bools("0.11100101101101011"); /* 19 */
    mt_array *c = bools("111");
    mt_array *sa, *sb, *sc;
    cr_assert_eq(mt_array_slice(a, 3, 7, &sa, &err), MT_OK);  /* "1.01110" */
    cr_assert_eq(mt_array_slice(b, 1, 17, &sb, &err), MT_OK); /* ".11100101101101011"[0..17) */
    cr_assert_eq(mt_array_slice(c, 2, 1, &sc, &err), MT_OK);  /* "1" */
    mt_array *parts[] = {sa, sb, sc, sa};
    mt_array *out;
    cr_assert_eq(mt_array_concat(parts, 4, &out, &err), MT_OK);
    char s[64];
    bools_str(out, s);
    cr_assert_str_eq(s, "1.01110" ".1110010110110101" "1" "1.01110");
    cr_assert_eq(out->offset, 0);
    cr_assert_eq(mt_array_null_count(out), 3);
    cr_assert_eq(mt_array_validate(out, &err), MT_OK);
    mt_array *sl;
    cr_assert_eq(mt_array_slice(out, 9, 20, &sl, &err), MT_OK);
    bools_str(sl, s);
    cr_assert_str_eq(s, "110010110110101" "1" "1.01");
    mt_array *all[] = {a, b, c, sa, sb, sc, out, sl};
    for (int k = 0; k < 8; k++) mt_array_release(all[k]);
}

Test(array, concat_ints_without_nulls_drops_bitmap)
{
    mt_error err;
    mt_array *a = ints((int32_t[]){1, 2, 3}, 3), *b = ints((int32_t[]){4}, 1);
    mt_array *p[] = {a, b};
    mt_array *o;
    cr_assert_eq(mt_array_concat(p, 2, &o, &err), MT_OK);
    cr_assert_null(o->buffers[0]);
    mt_array *want = ints((int32_t[]){1, 2, 3, 4}, 4);
    cr_assert(mt_array_equal(o, want));
    mt_array *d = ints((int32_t[]){1, INT32_MIN, 3, 4}, 4);
    cr_assert_not(mt_array_equal(o, d));
    mt_array *e = ints((int32_t[]){1, 2, 3, 5}, 4);
    cr_assert_not(mt_array_equal(o, e));
    mt_array *f = dt_strs((const char *[]){"a"}, 1);
    mt_array *p2[] = {a, f};
    mt_array *bad_out = NULL;
    cr_assert_eq(mt_array_concat(p2, 2, &bad_out, &err), MT_ETYPE);
    cr_assert_str_eq(err.msg, "cannot concatenate string (array 1) with int32");
    cr_assert_eq(mt_array_concat(p2, 0, &bad_out, &err), MT_EINVAL);
    cr_assert_null(bad_out, "no output on failure");
    mt_array *all[] = {a, b, o, want, d, e, f};
    for (int k = 0; k < 7; k++) mt_array_release(all[k]);
}

Test(array, concat_strings_rebases_offsets)
{
    mt_error err;
    mt_array *a = dt_strs((const char *[]){"ab", NULL, "cde", "f"}, 4);
    mt_array *b = dt_strs((const char *[]){"gh", "", "ijk"}, 3);
    mt_array *sa, *sb;
    mt_array_slice(a, 2, 2, &sa, &err);
    mt_array_slice(b, 1, 2, &sb, &err);
    mt_array *p[] = {sa, a, sb};
    mt_array *o;
    cr_assert_eq(mt_array_concat(p, 3, &o, &err), MT_OK);
    mt_array *want = dt_strs((const char *[]){"cde", "f", "ab", NULL, "cde", "f", "", "ijk"}, 8);
    cr_assert(mt_array_equal(o, want));
    cr_assert_eq(mt_array_validate(o, &err), MT_OK);
    const int32_t *off = (const int32_t *)o->buffers[1]->data;
    cr_assert_eq(off[0], 0);
    cr_assert_eq(off[8], 13);
    cr_assert_eq(o->buffers[2]->size, 13);
    mt_array *all[] = {a, b, sa, sb, o, want};
    for (int k = 0; k < 6; k++) mt_array_release(all[k]);
}

Test(array, concat_nested_list_and_struct)
{
    mt_error err;
    mt_array *items = ints((int32_t[]){1, 2, 3, 4, 5, 6}, 6);
    mt_array *l = list_of(items, (int32_t[]){0, 2, 2, 5, 6}, 4, NULL); /* [1,2] [] [3,4,5] [6] */
    mt_array *sl;
    cr_assert_eq(mt_array_slice(l, 2, 2, &sl, &err), MT_OK); /* [3,4,5] [6] */
    mt_array *p[] = {sl, l};
    mt_array *o;
    cr_assert_eq(mt_array_concat(p, 2, &o, &err), MT_OK);
    cr_assert_eq(mt_array_validate(o, &err), MT_OK);
    cr_assert_eq(o->length, 6);
    cr_assert_eq(o->children[0]->length, 10);
    mt_array *items2 = ints((int32_t[]){3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, 10);
    mt_array *want = list_of(items2, (int32_t[]){0, 3, 4, 6, 6, 9, 10}, 6, NULL);
    cr_assert(mt_array_equal(o, want));

    /* struct<a: int32, b: list<int32>> sliced at offset 1 */
    const char *names[] = {"a", "b"};
    mt_type *ty[] = {mt_type_new(MT_TYPE_INT32), l->type};
    mt_type *st = mt_type_struct(2, names, ty, NULL);
    mt_array *ca = ints((int32_t[]){10, 20, 30, 40}, 4);
    mt_array *kids[] = {ca, l};
    mt_array *s = mt_array_new(st, 4, 0, 0, NULL, 0, kids, 2);
    mt_array *ss;
    mt_array_slice(s, 1, 3, &ss, &err);
    mt_array *p2[] = {ss, s};
    mt_array *os;
    cr_assert_eq(mt_array_concat(p2, 2, &os, &err), MT_OK);
    cr_assert_eq(mt_array_validate(os, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(os->length, 7);
    cr_assert_eq(MT_ARRAY_VALUES(os->children[0], int32_t)[0], 20);
    cr_assert_eq(MT_ARRAY_VALUES(os->children[0], int32_t)[3], 10);
    mt_array *ll;
    mt_array_slice(os->children[1], 0, 3, &ll, &err);
    mt_array *lw;
    mt_array_slice(l, 1, 3, &lw, &err);
    cr_assert(mt_array_equal(ll, lw));
    mt_array *all[] = {items, l, sl, o, items2, want, ca, s, ss, os, ll, lw};
    for (int k = 0; k < 12; k++) mt_array_release(all[k]);
    mt_type_release(st);
}

Test(array, concat_map_and_oom)
{
    mt_error err;
    mt_type *u = mt_type_new(MT_TYPE_UTF8), *i = mt_type_new(MT_TYPE_INT32);
    mt_type *mt = mt_type_map(u, i, true);
    mt_array *keys = dt_strs((const char *[]){"a", "b", "c"}, 3);
    mt_array *vals = ints((int32_t[]){1, INT32_MIN, 3}, 3);
    mt_array *ek[] = {keys, vals};
    mt_array *entries = mt_array_new(mt->fields[0].type, 3, 0, 0, NULL, 0, ek, 2);
    mt_buffer *off = i32buf((int32_t[]){0, 2, 3}, 3);
    mt_buffer *bufs[] = {NULL, off};
    mt_array *m = mt_array_new(mt, 2, 0, 0, bufs, 2, &entries, 1);
    mt_buffer_release(off);
    cr_assert_eq(mt_array_validate(m, &err), MT_OK, "%s", err.msg);
    mt_array *p[] = {m, m, m};
    mt_array *o;
    cr_assert_eq(mt_array_concat(p, 3, &o, &err), MT_OK);
    cr_assert_eq(o->length, 6);
    cr_assert_eq(o->children[0]->length, 9);
    cr_assert_eq(mt_array_validate(o, &err), MT_OK);
    mt_array_release(o);
    int failures = 0;
    for (int k = 1; k < 60; k++) {
        mt_alloc_fail_after(k, false);
        mt_status st = mt_array_concat(p, 3, &o, &err);
        mt_alloc_fail_after(0, false);
        if (st == MT_OK) {
            mt_array_release(o);
        } else {
            cr_assert_eq(st, MT_ENOMEM);
            failures++;
        }
    }
    cr_assert_gt(failures, 10);
    mt_array *all[] = {keys, vals, entries, m};
    for (int k = 0; k < 4; k++) mt_array_release(all[k]);
    mt_type_release(mt);
}

Test(array, validate_catches_corruption)
{
    mt_error err;
    mt_array *s = dt_strs((const char *[]){"ab", "cd"}, 2);
    int32_t *off = (int32_t *)s->buffers[1]->data;
    off[1] = 5;
    cr_assert_eq(mt_array_validate(s, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "string array: offsets decrease at slot 2 (4 after 5)");
    off[1] = 2;
    off[2] = 9;
    cr_assert_eq(mt_array_validate(s, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "string array: last offset 9 is beyond the data buffer (4)");
    off[2] = 4;
    s->buffers[1]->size = 8;
    cr_assert_eq(mt_array_validate(s, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "string array: offsets buffer has 8 bytes, needs 12");
    s->buffers[1]->size = 12;
    cr_assert_eq(mt_array_validate(s, &err), MT_OK);
    mt_array_release(s);

    mt_array *a = ints((int32_t[]){1, INT32_MIN, 3}, 3);
    a->null_count = 2;
    cr_assert_eq(mt_array_validate(a, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "int32 array: null_count 2 but the bitmap has 1 nulls");
    a->null_count = -1;
    a->offset = 1;
    cr_assert_eq(mt_array_validate(a, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "int32 array: values buffer has 12 bytes, needs 16");
    a->offset = 0;

    mt_array *items = ints((int32_t[]){1, 2}, 2);
    mt_array *l = list_of(items, (int32_t[]){0, 1, 3}, 2, NULL);
    cr_assert_eq(mt_array_validate(l, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "list<item: int32> array: last offset 3 is beyond the child (2)");
    const char *n[] = {"x"};
    mt_type *i32 = mt_type_new(MT_TYPE_INT32);
    mt_type *st = mt_type_struct(1, n, &i32, NULL);
    mt_array *sa = mt_array_new(st, 4, 0, 0, NULL, 0, &a, 1);
    cr_assert_eq(mt_array_validate(sa, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "struct<x: int32> array: child 'x' has 3 values, needs 4");
    mt_array *all[] = {a, items, l, sa};
    for (int k = 0; k < 4; k++) mt_array_release(all[k]);
    mt_type_release(st);
}

Test(array, equal_ignores_offsets_and_null_slots)
{
    mt_error err;
    mt_array *a = ints((int32_t[]){9, 1, INT32_MIN, 3}, 4);
    mt_array *b = ints((int32_t[]){1, INT32_MIN, 3}, 3);
    ((int32_t *)b->buffers[1]->data)[1] = 77; /* garbage under the null */
    mt_array *s;
    mt_array_slice(a, 1, 3, &s, &err);
    cr_assert(mt_array_equal(s, b));
    cr_assert(mt_array_equal(b, s));
    cr_assert_not(mt_array_equal(a, b));
    mt_array *x = dt_strs((const char *[]){"a", NULL}, 2);
    mt_array *y = dt_strs((const char *[]){"a", ""}, 2);
    cr_assert_not(mt_array_equal(x, y));
    mt_array *all[] = {a, b, s, x, y};
    for (int k = 0; k < 5; k++) mt_array_release(all[k]);
}
