/*
 * test_type.c — types (constructors, equality, names, bit widths) and
 * buffers (alignment, growth, wrapping, OOM). Every test checks that it
 * leaves no live allocation behind.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "data/data_test_util.h"
#include "manta/data.h"

TestSuite(type, .init = leak_check_setup, .fini = leak_check_teardown);
TestSuite(buffer, .init = leak_check_setup, .fini = leak_check_teardown);

static void expect_name(mt_type *t, const char *want)
{
    char buf[256];
    size_t n = mt_type_to_string(t, buf, sizeof buf);
    cr_assert_str_eq(buf, want);
    cr_assert_eq(n, strlen(want));
    mt_type_release(t);
}

Test(type, primitive_names)
{
    static const struct {
        mt_type_id id;
        const char *name;
    } cases[] = {
        {MT_TYPE_NA, "null"},       {MT_TYPE_BOOL, "bool"},         {MT_TYPE_INT8, "int8"},
        {MT_TYPE_INT16, "int16"},   {MT_TYPE_INT32, "int32"},       {MT_TYPE_INT64, "int64"},
        {MT_TYPE_UINT8, "uint8"},   {MT_TYPE_UINT16, "uint16"},     {MT_TYPE_UINT32, "uint32"},
        {MT_TYPE_UINT64, "uint64"}, {MT_TYPE_FLOAT16, "halffloat"}, {MT_TYPE_FLOAT32, "float"},
        {MT_TYPE_FLOAT64, "double"}, {MT_TYPE_UTF8, "string"},      {MT_TYPE_BINARY, "binary"},
        {MT_TYPE_DATE32, "date32[day]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_name(mt_type_new(cases[i].id), cases[i].name);
}

Test(type, parametric_names)
{
    expect_name(mt_type_fixed_binary(16), "fixed_size_binary[16]");
    expect_name(mt_type_decimal128(9, 2), "decimal128(9, 2)");
    expect_name(mt_type_time(MT_UNIT_SECOND), "time32[s]");
    expect_name(mt_type_time(MT_UNIT_MILLI), "time32[ms]");
    expect_name(mt_type_time(MT_UNIT_MICRO), "time64[us]");
    expect_name(mt_type_time(MT_UNIT_NANO), "time64[ns]");
    expect_name(mt_type_timestamp(MT_UNIT_MICRO, NULL), "timestamp[us]");
    expect_name(mt_type_timestamp(MT_UNIT_MICRO, "UTC"), "timestamp[us, tz=UTC]");
    expect_name(mt_type_timestamp(MT_UNIT_NANO, "Europe/Paris"), "timestamp[ns, tz=Europe/Paris]");
}

Test(type, nested_names)
{
    mt_type *i64 = mt_type_new(MT_TYPE_INT64), *i32 = mt_type_new(MT_TYPE_INT32);
    mt_type *s = mt_type_new(MT_TYPE_UTF8);
    expect_name(mt_type_list(i64, true, NULL), "list<item: int64>");
    expect_name(mt_type_list(i32, true, "element"), "list<element: int32>");
    expect_name(mt_type_list(i32, false, NULL), "list<item: int32 not null>");
    const char *names[] = {"a", "b"};
    mt_type *types[] = {i32, s};
    expect_name(mt_type_struct(2, names, types, NULL), "struct<a: int32, b: string>");
    expect_name(mt_type_map(s, i32, true), "map<string, int32>");
    mt_type *inner = mt_type_list(i64, true, NULL);
    mt_type *types2[] = {inner, s};
    bool nullable[] = {true, false};
    expect_name(mt_type_struct(2, names, types2, nullable),
                "struct<a: list<item: int64>, b: string not null>");
    mt_type_release(inner);
}

Test(type, to_string_truncates_and_returns_full_length)
{
    mt_type *t = mt_type_timestamp(MT_UNIT_MILLI, "UTC");
    char buf[8];
    size_t n = mt_type_to_string(t, buf, sizeof buf);
    cr_assert_eq(n, strlen("timestamp[ms, tz=UTC]"));
    cr_assert_str_eq(buf, "timesta");
    mt_type_release(t);
}

Test(type, equality)
{
    mt_type *i32 = mt_type_new(MT_TYPE_INT32), *i64 = mt_type_new(MT_TYPE_INT64);
    cr_assert(mt_type_equal(i32, mt_type_new(MT_TYPE_INT32)));
    cr_assert_not(mt_type_equal(i32, i64));
    mt_type *l1 = mt_type_list(i32, true, "item"), *l2 = mt_type_list(i32, true, "element");
    mt_type *l3 = mt_type_list(i32, false, "item");
    cr_assert(mt_type_equal(l1, l2), "list item names do not count");
    cr_assert_not(mt_type_equal(l1, l3), "item nullability counts");
    const char *ab[] = {"a", "b"}, *ac[] = {"a", "c"};
    mt_type *ty[] = {i32, i64};
    bool nn[] = {true, false};
    mt_type *s1 = mt_type_struct(2, ab, ty, NULL), *s2 = mt_type_struct(2, ac, ty, NULL);
    mt_type *s3 = mt_type_struct(2, ab, ty, nn), *s4 = mt_type_struct(2, ab, ty, NULL);
    cr_assert_not(mt_type_equal(s1, s2), "field names count");
    cr_assert_not(mt_type_equal(s1, s3), "field nullability counts");
    cr_assert(mt_type_equal(s1, s4));
    mt_type *t1 = mt_type_timestamp(MT_UNIT_MICRO, "UTC"), *t2 = mt_type_timestamp(MT_UNIT_MICRO, NULL);
    mt_type *t3 = mt_type_timestamp(MT_UNIT_MILLI, "UTC"), *t4 = mt_type_timestamp(MT_UNIT_MICRO, "UTC");
    cr_assert_not(mt_type_equal(t1, t2));
    cr_assert_not(mt_type_equal(t1, t3));
    cr_assert(mt_type_equal(t1, t4));
    mt_type *d1 = mt_type_decimal128(9, 2), *d2 = mt_type_decimal128(9, 3);
    mt_type *f1 = mt_type_fixed_binary(4), *f2 = mt_type_fixed_binary(5);
    cr_assert_not(mt_type_equal(d1, d2));
    cr_assert_not(mt_type_equal(f1, f2));
    mt_type *m1 = mt_type_map(i32, i64, true), *m2 = mt_type_map(i32, i64, false);
    mt_type *m3 = mt_type_map(i32, i64, true);
    cr_assert_not(mt_type_equal(m1, m2));
    cr_assert(mt_type_equal(m1, m3));
    cr_assert_not(mt_type_equal(m1, NULL));
    mt_type *all[] = {l1, l2, l3, s1, s2, s3, s4, t1, t2, t3, t4, d1, d2, f1, f2, m1, m2, m3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mt_type_release(all[i]);
}

Test(type, field_index_and_bit_width)
{
    const char *names[] = {"x", "y", "z"};
    mt_type *ty[] = {mt_type_new(MT_TYPE_BOOL), mt_type_new(MT_TYPE_UTF8), mt_type_new(MT_TYPE_INT16)};
    mt_type *s = mt_type_struct(3, names, ty, NULL);
    cr_assert_eq(mt_type_field_index(s, "y"), 1);
    cr_assert_eq(mt_type_field_index(s, "z"), 2);
    cr_assert_eq(mt_type_field_index(s, "w"), -1);
    cr_assert_eq(mt_type_field_index(ty[0], "x"), -1);
    cr_assert_eq(mt_type_bit_width(ty[0]), 1);
    cr_assert_eq(mt_type_bit_width(ty[1]), 0);
    cr_assert_eq(mt_type_bit_width(ty[2]), 16);
    cr_assert_eq(mt_type_bit_width(s), 0);
    mt_type *d = mt_type_decimal128(38, 10), *ts = mt_type_timestamp(MT_UNIT_NANO, NULL);
    mt_type *t32 = mt_type_time(MT_UNIT_MILLI);
    cr_assert_eq(mt_type_bit_width(d), 128);
    cr_assert_eq(mt_type_bit_width(ts), 64);
    cr_assert_eq(mt_type_bit_width(t32), 32);
    cr_assert_eq(mt_type_bit_width(mt_type_new(MT_TYPE_DATE32)), 32);
    cr_assert_eq(mt_type_bit_width(mt_type_new(MT_TYPE_FLOAT16)), 16);
    mt_type_release(d);
    mt_type_release(ts);
    mt_type_release(t32);
    mt_type_release(s);
}

Test(type, refcount_keeps_children_alive)
{
    mt_type *i = mt_type_decimal128(5, 1);
    mt_type *l = mt_type_list(i, true, NULL);
    mt_type_release(i);
    cr_assert_eq(l->fields[0].type->precision, 5);
    mt_type_retain(l);
    mt_type_release(l);
    cr_assert_eq(l->fields[0].type->scale, 1);
    mt_type_release(l);
    mt_type_release(NULL);
}

Test(type, oom_returns_null_without_leaks)
{
    mt_type *i32 = mt_type_new(MT_TYPE_INT32);
    for (int k = 1; k <= 8; k++) {
        mt_alloc_fail_after(k, false);
        mt_type *m = mt_type_map(mt_type_new(MT_TYPE_UTF8), i32, true);
        mt_alloc_fail_after(0, false);
        mt_type_release(m); /* NULL on failure; ok on success */
    }
    mt_alloc_fail_after(1, false);
    cr_assert_null(mt_type_timestamp(MT_UNIT_MICRO, "UTC"));
    mt_alloc_fail_after(2, false);
    cr_assert_null(mt_type_timestamp(MT_UNIT_MICRO, "UTC"));
}

Test(buffer, new_is_aligned_zeroed_and_rounded)
{
    mt_buffer *b = mt_buffer_new(100);
    cr_assert_not_null(b);
    cr_assert_eq((uintptr_t)b->data % 64, 0);
    cr_assert_eq(b->size, 100);
    cr_assert_eq(b->capacity, 128);
    for (int i = 0; i < 128; i++) cr_assert_eq(b->data[i], 0);
    mt_buffer_release(b);
}

Test(buffer, resize_grows_geometrically_and_zeroes)
{
    mt_error err;
    mt_buffer *b = mt_buffer_new(0);
    cr_assert_eq(mt_buffer_append(b, "abc", 3, &err), MT_OK);
    cr_assert_eq(b->size, 3);
    cr_assert_eq(memcmp(b->data, "abc", 3), 0);
    cr_assert_eq(mt_buffer_resize(b, 65, &err), MT_OK);
    cr_assert_eq(b->capacity, 128, "doubling from 64");
    cr_assert_eq(b->data[64], 0);
    memset(b->data, 0xAB, 65);
    cr_assert_eq(mt_buffer_resize(b, 1, &err), MT_OK);
    cr_assert_eq(mt_buffer_resize(b, 10, &err), MT_OK);
    cr_assert_eq(b->data[0], 0xAB);
    cr_assert_eq(b->data[5], 0, "growth within capacity re-zeroes");
    cr_assert_eq(mt_buffer_reserve(b, 1000, &err), MT_OK);
    cr_assert_eq(b->capacity, 1024);
    cr_assert_eq(b->size, 10);
    cr_assert_eq(mt_buffer_resize(b, -1, &err), MT_EINVAL);
    mt_buffer_release(b);
}

static int freed;
static void count_free(mt_buffer *buf)
{
    freed++;
    cr_assert_eq(buf->owner, (void *)&freed);
}

Test(buffer, wrap_calls_free_fn_once_and_refuses_growth)
{
    static uint8_t mem[16] = {1, 2, 3};
    freed = 0;
    mt_buffer *b = mt_buffer_wrap(mem, 16, count_free, &freed);
    mt_error err;
    cr_assert_eq(mt_buffer_reserve(b, 64, &err), MT_ESTATE);
    cr_assert_eq(err.code, MT_ESTATE);
    cr_assert_eq(b->data[2], 3);
    mt_buffer_retain(b);
    mt_buffer_release(b);
    cr_assert_eq(freed, 0);
    mt_buffer_release(b);
    cr_assert_eq(freed, 1);
    mt_buffer_release(NULL);
}

Test(buffer, oom)
{
    mt_alloc_fail_after(1, false);
    cr_assert_null(mt_buffer_new(10));
    mt_alloc_fail_after(2, false);
    cr_assert_null(mt_buffer_new(10));
    mt_buffer *b = mt_buffer_new(10);
    mt_error err;
    mt_alloc_fail_after(1, false);
    cr_assert_eq(mt_buffer_resize(b, 1000, &err), MT_ENOMEM);
    cr_assert_eq(b->size, 10, "failed growth leaves the buffer intact");
    mt_buffer_release(b);
}
