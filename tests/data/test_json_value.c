/* Tests of the canonical JSON value format (json_value.c, float_format.c):
 * JS number formatting corner cases and the exact JSON of every type. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_test_util.h"
#include "data/print_int.h"
#include "manta/data.h"

static char *js(double v)
{
    static char buf[64];
    mt__data_format_js(v, buf, sizeof buf);
    return buf;
}

Test(json_number, js_shortest_round_trip)
{
    cr_assert_str_eq(js(0), "0");
    cr_assert_str_eq(js(1e21), "1e+21");
    cr_assert_str_eq(js(1e-7), "1e-7");
    cr_assert_str_eq(js(1.5e-7), "1.5e-7");
    cr_assert_str_eq(js(0.000001), "0.000001");
    cr_assert_str_eq(js(5e-324), "5e-324");
    cr_assert_str_eq(js(1.7976931348623157e308), "1.7976931348623157e+308");
    cr_assert_str_eq(js(0.1), "0.1");
    cr_assert_str_eq(js(100), "100");
    cr_assert_str_eq(js((double)1.1f), "1.100000023841858");
    cr_assert_str_eq(js(123456789012345680000.0), "123456789012345680000");
    cr_assert_str_eq(js(-980553.3274616124), "-980553.3274616124");
    cr_assert_str_eq(js(-585.0481567382812), "-585.0481567382812");
    cr_assert_str_eq(js(0.1 + 0.2), "0.30000000000000004");
}

/* JSON line of a one-column table `name` over `a`, row i. */
static char *jsonl_of(mt_array *a)
{
    const char *names[] = {"v"};
    mt_type *types[] = {a->type};
    mt_type *schema = mt_type_struct(1, names, types, NULL);
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_table_new(schema, &a, a->length, &t, &err), MT_OK, "%s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(mt_table_write_jsonl(t, f, &err), MT_OK);
    fclose(f);
    mt_table_release(t);
    mt_type_release(schema);
    return buf;
}

static void expect(mt_array *a, const char *want)
{
    char *got = jsonl_of(a);
    cr_assert_str_eq(got, want);
    free(got);
    mt_array_release(a);
}

Test(json_value, floats_and_specials)
{
    mt_type *t = mt_type_new(MT_TYPE_FLOAT64);
    mt_array_builder *b = mt_array_builder_new(t);
    double vs[] = {1.5, NAN, INFINITY, -INFINITY, -0.0, 1e21};
    for (int i = 0; i < 6; i++) mt_array_builder_append_double(b, vs[i], NULL);
    mt_array_builder_append_null(b, NULL);
    expect(dt_finish(b), "{\"v\":1.5}\n{\"v\":\"NaN\"}\n{\"v\":\"Infinity\"}\n"
                         "{\"v\":\"-Infinity\"}\n{\"v\":\"-0\"}\n{\"v\":1e+21}\n{\"v\":null}\n");
    mt_type_release(t);
    t = mt_type_new(MT_TYPE_FLOAT32);
    b = mt_array_builder_new(t);
    mt_array_builder_append_double(b, 1.1, NULL);
    expect(dt_finish(b), "{\"v\":1.100000023841858}\n");
    mt_type_release(t);
    t = mt_type_new(MT_TYPE_FLOAT16);
    b = mt_array_builder_new(t);
    mt_array_builder_append_uint(b, 0x3C00, NULL); /* 1.0 */
    mt_array_builder_append_uint(b, 0x0001, NULL); /* smallest subnormal 2^-24 */
    mt_array_builder_append_uint(b, 0x7E00, NULL); /* NaN */
    expect(dt_finish(b), "{\"v\":1}\n{\"v\":5.960464477539063e-8}\n{\"v\":\"NaN\"}\n");
    mt_type_release(t);
}

Test(json_value, integers)
{
    mt_type_id ids[] = {MT_TYPE_INT8, MT_TYPE_INT32, MT_TYPE_INT64, MT_TYPE_UINT32, MT_TYPE_UINT64};
    const char *want[] = {"{\"v\":-7}\n", "{\"v\":-7}\n", "{\"v\":\"-7\"}\n", "{\"v\":4294967289}\n",
                          "{\"v\":\"18446744073709551609\"}\n"};
    for (int i = 0; i < 5; i++) {
        mt_type *t = mt_type_new(ids[i]);
        mt_array_builder *b = mt_array_builder_new(t);
        if (ids[i] == MT_TYPE_UINT32) mt_array_builder_append_uint(b, 4294967289u, NULL);
        else if (ids[i] == MT_TYPE_UINT64) mt_array_builder_append_uint(b, UINT64_MAX - 6, NULL);
        else mt_array_builder_append_int(b, -7, NULL);
        expect(dt_finish(b), want[i]);
        mt_type_release(t);
    }
}

Test(json_value, strings_escapes_and_invalid_utf8)
{
    mt_type *t = mt_type_new(MT_TYPE_UTF8);
    mt_array_builder *b = mt_array_builder_new(t);
    const char s1[] = "a\"b\\c\n\t\b\f\r\x01\x7f";
    mt_array_builder_append_bytes(b, s1, (int64_t)strlen(s1), NULL);
    mt_array_builder_append_bytes(b, "\xe6\x95\xb0 \xff x \xe6\x95", 10, NULL);
    mt_array_builder_append_bytes(b, "", 0, NULL);
    expect(dt_finish(b), "{\"v\":\"a\\\"b\\\\c\\n\\t\\b\\f\\r\\u0001\x7f\"}\n"
                         "{\"v\":\"\xe6\x95\xb0 \xef\xbf\xbd x \xef\xbf\xbd\"}\n{\"v\":\"\"}\n");
    mt_type_release(t);
}

Test(json_value, binary_decimal_dates_times)
{
    mt_type *t = mt_type_new(MT_TYPE_BINARY);
    mt_array_builder *b = mt_array_builder_new(t);
    mt_array_builder_append_bytes(b, "\x00\xab\x10", 3, NULL);
    expect(dt_finish(b), "{\"v\":\"0x00ab10\"}\n");
    mt_type_release(t);

    t = mt_type_decimal128(9, 2);
    b = mt_array_builder_new(t);
    uint8_t d[16];
    memset(d, 0xff, 16);
    d[0] = (uint8_t)(256 - 150); /* -150 */
    mt_array_builder_append_bytes(b, d, 16, NULL);
    memset(d, 0, 16);
    d[0] = 5;
    mt_array_builder_append_bytes(b, d, 16, NULL);
    expect(dt_finish(b), "{\"v\":\"-1.50\"}\n{\"v\":\"0.05\"}\n");
    mt_type_release(t);

    t = mt_type_decimal128(38, 0);
    b = mt_array_builder_new(t);
    memset(d, 0xff, 16);
    d[15] = 0x7f; /* 2^127 - 1 */
    mt_array_builder_append_bytes(b, d, 16, NULL);
    expect(dt_finish(b), "{\"v\":\"170141183460469231731687303715884105727\"}\n");
    mt_type_release(t);

    t = mt_type_new(MT_TYPE_DATE32);
    b = mt_array_builder_new(t);
    mt_array_builder_append_int(b, 0, NULL);
    mt_array_builder_append_int(b, -25000, NULL);
    mt_array_builder_append_int(b, -719529, NULL); /* 0000-12-31 minus one year: -0001-12-31 */
    mt_array_builder_append_int(b, 2932897, NULL); /* 10000-01-01 */
    expect(dt_finish(b), "{\"v\":\"1970-01-01\"}\n{\"v\":\"1901-07-22\"}\n{\"v\":\"-0001-12-31\"}\n"
                         "{\"v\":\"10000-01-01\"}\n");
    mt_type_release(t);

    t = mt_type_time(MT_UNIT_MICRO);
    b = mt_array_builder_new(t);
    mt_array_builder_append_int(b, 3723500000LL, NULL);
    expect(dt_finish(b), "{\"v\":\"01:02:03.5\"}\n");
    mt_type_release(t);

    t = mt_type_timestamp(MT_UNIT_NANO, "UTC");
    b = mt_array_builder_new(t);
    mt_array_builder_append_int(b, 1, NULL);
    mt_array_builder_append_int(b, -1000000000LL, NULL);
    expect(dt_finish(b), "{\"v\":\"1970-01-01T00:00:00.000000001Z\"}\n"
                         "{\"v\":\"1969-12-31T23:59:59Z\"}\n");
    mt_type_release(t);
}

Test(json_value, list_struct_map)
{
    mt_error err;
    mt_type *i32 = mt_type_new(MT_TYPE_INT32), *s = mt_type_new(MT_TYPE_UTF8);
    mt_array_builder *b = mt_array_builder_new(i32);
    mt_array_builder_append_int(b, 1, NULL);
    mt_array_builder_append_null(b, NULL);
    mt_array_builder_append_int(b, 3, NULL);
    mt_array *items = dt_finish(b);
    b = mt_array_builder_new(s);
    mt_array_builder_append_bytes(b, "a", 1, NULL);
    mt_array_builder_append_bytes(b, "b", 1, NULL);
    mt_array_builder_append_bytes(b, "c", 1, NULL);
    mt_array *keys = dt_finish(b);

    /* list<int32>: [1,null], [], [3] */
    mt_type *lt = mt_type_list(i32, true, NULL);
    mt_buffer *off = mt_buffer_new(16);
    int32_t o[] = {0, 2, 2, 3};
    memcpy(off->data, o, sizeof o);
    mt_buffer *bufs[] = {NULL, off};
    mt_array *list = mt_array_new(lt, 3, 0, 0, bufs, 2, &items, 1);
    expect(list, "{\"v\":[1,null]}\n{\"v\":[]}\n{\"v\":[3]}\n");

    /* struct<k: string, n: int32> */
    const char *names[] = {"k", "n"};
    mt_type *ft[] = {s, i32};
    mt_type *st = mt_type_struct(2, names, ft, NULL);
    mt_array *kids[] = {keys, items};
    mt_buffer *none[] = {NULL};
    mt_array *strct = mt_array_new(st, 3, 0, 0, none, 1, kids, 2);
    mt_array *sl = NULL;
    cr_assert_eq(mt_array_slice(strct, 1, 2, &sl, &err), MT_OK);
    expect(sl, "{\"v\":{\"k\":\"b\",\"n\":null}}\n{\"v\":{\"k\":\"c\",\"n\":3}}\n");

    /* map<string, int32>: [{a:1,b:null}], [{c:3}] */
    mt_type *mt = mt_type_map(s, i32, true);
    int32_t mo[] = {0, 2, 3};
    mt_buffer *moff = mt_buffer_new(12);
    memcpy(moff->data, mo, sizeof mo);
    mt_array *entries = mt_array_new(mt->fields[0].type, 3, 0, 0, none, 1, kids, 2);
    mt_buffer *mbufs[] = {NULL, moff};
    mt_array *map = mt_array_new(mt, 2, 0, 0, mbufs, 2, &entries, 1);
    expect(map, "{\"v\":[{\"key\":\"a\",\"value\":1},{\"key\":\"b\",\"value\":null}]}\n"
                "{\"v\":[{\"key\":\"c\",\"value\":3}]}\n");

    mt_array_release(entries);
    mt_array_release(strct);
    mt_array_release(items);
    mt_array_release(keys);
    mt_buffer_release(off);
    mt_buffer_release(moff);
    mt_type_release(lt);
    mt_type_release(st);
    mt_type_release(mt);
    mt_type_release(i32);
    mt_type_release(s);
}
