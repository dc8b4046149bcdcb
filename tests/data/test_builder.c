/*
 * test_builder.c — flat-type builders: values and validity for every kind,
 * amortised growth over many values, reset after finish, OOM handling.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "data/data_test_util.h"
#include "manta/data.h"

TestSuite(builder, .init = leak_check_setup, .fini = leak_check_teardown);

Test(builder, int32_with_nulls)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_INT32));
    cr_assert_eq(mt_array_builder_append_int(b, 7, &err), MT_OK);
    cr_assert_eq(mt_array_builder_append_null(b, &err), MT_OK);
    cr_assert_eq(mt_array_builder_append_int(b, -3, &err), MT_OK);
    cr_assert_eq(mt_array_builder_length(b), 3);
    mt_array *a;
    cr_assert_eq(mt_array_builder_finish(b, &a, &err), MT_OK);
    cr_assert_eq(a->length, 3);
    cr_assert_eq(a->offset, 0);
    cr_assert_eq(mt_array_null_count(a), 1);
    cr_assert(mt_array_is_valid(a, 0));
    cr_assert_not(mt_array_is_valid(a, 1));
    cr_assert_eq(MT_ARRAY_VALUES(a, int32_t)[0], 7);
    cr_assert_eq(MT_ARRAY_VALUES(a, int32_t)[1], 0);
    cr_assert_eq(MT_ARRAY_VALUES(a, int32_t)[2], -3);
    cr_assert_eq(mt_array_validate(a, &err), MT_OK);
    cr_assert_eq(mt_array_builder_length(b), 0, "finish resets");
    mt_array *empty;
    cr_assert_eq(mt_array_builder_finish(b, &empty, &err), MT_OK);
    cr_assert_eq(empty->length, 0);
    cr_assert_eq(mt_array_validate(empty, &err), MT_OK);
    mt_array_release(empty);
    mt_array_release(a);
    mt_array_builder_destroy(b);
}

Test(builder, no_nulls_drops_validity_and_truncates)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_UINT8));
    cr_assert_eq(mt_array_builder_append_uint(b, 0x1ff, &err), MT_OK);
    cr_assert_eq(mt_array_builder_append_int(b, -1, &err), MT_OK);
    mt_array *a;
    cr_assert_eq(mt_array_builder_finish(b, &a, &err), MT_OK);
    cr_assert_null(a->buffers[0]);
    cr_assert_eq(a->null_count, 0);
    cr_assert_eq(MT_ARRAY_VALUES(a, uint8_t)[0], 0xff);
    cr_assert_eq(MT_ARRAY_VALUES(a, uint8_t)[1], 0xff);
    mt_array_release(a);
    mt_array_builder_destroy(b);
}

Test(builder, bool_many_values)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_BOOL));
    for (int i = 0; i < 1000; i++) {
        if (i % 7 == 0)
            cr_assert_eq(mt_array_builder_append_null(b, &err), MT_OK);
        else
            cr_assert_eq(mt_array_builder_append_bool(b, i % 3 == 0, &err), MT_OK);
    }
    mt_array *a;
    cr_assert_eq(mt_array_builder_finish(b, &a, &err), MT_OK);
    cr_assert_eq(a->length, 1000);
    cr_assert_eq(mt_array_null_count(a), 143);
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(mt_array_is_valid(a, i), i % 7 != 0);
        bool v = (a->buffers[1]->data[i >> 3] >> (i & 7)) & 1;
        cr_assert_eq(v, i % 7 != 0 && i % 3 == 0, "slot %d", i);
    }
    cr_assert_eq(a->buffers[1]->size, 125);
    cr_assert_eq(mt_array_validate(a, &err), MT_OK);
    mt_array_release(a);
    mt_array_builder_destroy(b);
}

Test(builder, strings_and_binary)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_UTF8));
    cr_assert_eq(mt_array_builder_append_bytes(b, "hello", 5, &err), MT_OK);
    cr_assert_eq(mt_array_builder_append_null(b, &err), MT_OK);
    cr_assert_eq(mt_array_builder_append_bytes(b, "", 0, &err), MT_OK);
    cr_assert_eq(mt_array_builder_append_bytes(b, "wörld", 6, &err), MT_OK);
    mt_array *a;
    cr_assert_eq(mt_array_builder_finish(b, &a, &err), MT_OK);
    const int32_t *off = (const int32_t *)a->buffers[1]->data;
    cr_assert_eq(off[0], 0);
    cr_assert_eq(off[1], 5);
    cr_assert_eq(off[2], 5);
    cr_assert_eq(off[3], 5);
    cr_assert_eq(off[4], 11);
    cr_assert_eq(a->buffers[1]->size, 20);
    cr_assert_eq(a->buffers[2]->size, 11);
    cr_assert_eq(memcmp(a->buffers[2]->data, "hellowörld", 11), 0);
    cr_assert_eq(mt_array_null_count(a), 1);
    cr_assert_eq(mt_array_validate(a, &err), MT_OK);
    mt_array_release(a);
    mt_array_builder_destroy(b);
}

Test(builder, floats_fixed_decimal_temporal)
{
    mt_error err;
    mt_array *a;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_FLOAT32));
    mt_array_builder_append_double(b, 1.5, &err);
    mt_array_builder_finish(b, &a, &err);
    cr_assert_eq(MT_ARRAY_VALUES(a, float)[0], 1.5f);
    mt_array_release(a);
    mt_array_builder_destroy(b);

    mt_type *fb = mt_type_fixed_binary(3);
    b = mt_array_builder_new(fb);
    mt_type_release(fb);
    mt_array_builder_append_bytes(b, "abc", 3, &err);
    mt_array_builder_append_null(b, &err);
    mt_array_builder_append_bytes(b, "xyz", 3, &err);
    cr_assert_eq(mt_array_builder_finish(b, &a, &err), MT_OK);
    cr_assert_eq(memcmp(a->buffers[1]->data, "abc\0\0\0xyz", 9), 0);
    cr_assert_eq(a->buffers[1]->size, 9);
    mt_array_release(a);
    mt_array_builder_destroy(b);

    mt_type *ts = mt_type_timestamp(MT_UNIT_MICRO, "UTC");
    b = mt_array_builder_new(ts);
    mt_array_builder_append_int(b, -1234567890123LL, &err);
    mt_array_builder_finish(b, &a, &err);
    cr_assert_eq(MT_ARRAY_VALUES(a, int64_t)[0], -1234567890123LL);
    cr_assert(mt_type_equal(a->type, ts));
    mt_array_release(a);
    mt_array_builder_destroy(b);
    mt_type_release(ts);
}

Test(builder, many_int64_and_reserve)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_INT64));
    cr_assert_eq(mt_array_builder_reserve(b, 10, &err), MT_OK);
    cr_assert_eq(mt_array_builder_reserve(b, -1, &err), MT_EINVAL);
    for (int64_t i = 0; i < 100000; i++) mt_array_builder_append_int(b, i * 3, &err);
    mt_array *a;
    cr_assert_eq(mt_array_builder_finish(b, &a, &err), MT_OK);
    cr_assert_eq(a->length, 100000);
    cr_assert_eq(a->buffers[1]->size, 800000);
    int64_t sum = 0;
    for (int64_t i = 0; i < a->length; i++) sum += MT_ARRAY_VALUES(a, int64_t)[i];
    cr_assert_eq(sum, 3LL * 99999 * 100000 / 2);
    mt_array_release(a);
    mt_array_builder_destroy(b);
}

Test(builder, oom_everywhere_leaks_nothing)
{
    for (int k = 1; k <= 12; k++) {
        mt_error err;
        mt_alloc_fail_after(k, false);
        mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_UTF8));
        if (!b) continue;
        mt_status st = MT_OK;
        for (int i = 0; i < 200 && st == MT_OK; i++) st = mt_array_builder_append_bytes(b, "abcdefgh", 8, &err);
        mt_array *a = NULL;
        if (st == MT_OK) st = mt_array_builder_finish(b, &a, &err);
        if (st != MT_OK) {
            cr_assert_eq(st, MT_ENOMEM, "k=%d: %s", k, err.msg);
        } else {
            cr_assert_eq(a->length, 200);
        }
        mt_array_release(a);
        mt_array_builder_destroy(b);
    }
    mt_array_builder_destroy(NULL);
}
