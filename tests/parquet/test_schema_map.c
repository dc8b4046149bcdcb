/*
 * test_schema_map.c — Parquet schema → Arrow types and leaf levels,
 * including LIST/MAP backward-compatibility rules and malformed schemas.
 */
#include <criterion/criterion.h>

#include "parquet/pq_value.h"

#define GROUP(nm, rep, nkids, conv) \
    {.name = nm, .type = -1, .repetition = rep, .num_children = nkids, .converted_type = conv, .field_id = -1}
#define LEAF(nm, rep, phys, conv) \
    {.name = nm, .type = phys, .repetition = rep, .converted_type = conv, .field_id = -1}

static pq_schema *build_ok(pq_schema_element *els, int n)
{
    pq_file_meta m = {.num_schema = n, .schema = els};
    pq_schema *s = NULL;
    mt_error err = {0};
    cr_assert_eq(pq_schema_build(&m, &s, &err), MT_OK, "%s", err.msg);
    return s;
}

static void assert_type(const pq_schema *s, const char *want)
{
    char buf[512];
    mt_type_to_string(pq_schema_arrow(s), buf, sizeof buf);
    cr_assert_str_eq(buf, want);
}

Test(schema_map, primitives_and_annotations)
{
    pq_schema_element els[] = {
        GROUP("schema", -1, 6, -1),
        LEAF("a", PQ_REQUIRED, PQ_INT32, PQ_CT_INT_8),
        LEAF("b", PQ_OPTIONAL, PQ_INT32, PQ_CT_UINT_16),
        LEAF("c", PQ_OPTIONAL, PQ_INT64, PQ_CT_TIMESTAMP_MILLIS),
        LEAF("d", PQ_OPTIONAL, PQ_BYTE_ARRAY, PQ_CT_UTF8),
        LEAF("e", PQ_OPTIONAL, PQ_BYTE_ARRAY, -1),
        LEAF("f", PQ_OPTIONAL, PQ_INT96, -1),
    };
    pq_schema *s = build_ok(els, 7);
    assert_type(s, "struct<a: int8 not null, b: uint16, c: timestamp[ms, tz=UTC], d: string, "
                   "e: binary, f: timestamp[us]>");
    cr_assert_eq(s->leaves[0].conv, PQ_CONV_I32_I8);
    cr_assert_eq(s->leaves[0].max_def, 0);
    cr_assert_eq(s->leaves[1].max_def, 1);
    pq_schema_destroy(s);
}

Test(schema_map, logical_types_win_over_converted)
{
    pq_schema_element els[] = {
        GROUP("schema", -1, 3, -1),
        LEAF("t", PQ_REQUIRED, PQ_INT64, -1),
        LEAF("d", PQ_REQUIRED, PQ_FIXED_LEN_BYTE_ARRAY, PQ_CT_DECIMAL),
        LEAF("h", PQ_REQUIRED, PQ_FIXED_LEN_BYTE_ARRAY, -1),
    };
    els[1].logical = (pq_logical_type){.kind = PQ_LT_TIMESTAMP, .unit = PQ_NANOS, .is_adjusted_to_utc = false};
    els[2].type_length = 5, els[2].precision = 10, els[2].scale = 2;
    els[3].type_length = 2;
    els[3].logical.kind = PQ_LT_FLOAT16;
    pq_schema *s = build_ok(els, 4);
    assert_type(s, "struct<t: timestamp[ns] not null, d: decimal128(10, 2) not null, h: halffloat not null>");
    cr_assert_eq(s->leaves[0].width, 8); /* TIMESTAMP keeps the INT64 layout */
    cr_assert_eq(s->leaves[1].conv, PQ_CONV_FLBA_DEC);
    pq_schema_destroy(s);
}

Test(schema_map, three_level_and_legacy_lists)
{
    pq_schema_element els[] = {
        GROUP("schema", -1, 3, -1),
        GROUP("a", PQ_OPTIONAL, 1, PQ_CT_LIST),
        GROUP("list", PQ_REPEATED, 1, -1),
        LEAF("element", PQ_OPTIONAL, PQ_INT32, -1),
        GROUP("b", PQ_OPTIONAL, 1, PQ_CT_LIST),
        LEAF("array", PQ_REPEATED, PQ_INT64, -1),
        LEAF("c", PQ_REPEATED, PQ_DOUBLE, -1),
    };
    pq_schema *s = build_ok(els, 7);
    assert_type(s, "struct<a: list<element: int32>, b: list<array: int64 not null>, "
                   "c: list<c: double not null> not null>");
    cr_assert_eq(s->leaves[0].max_def, 3);
    cr_assert_eq(s->leaves[0].max_rep, 1);
    cr_assert_eq(s->leaves[1].max_def, 2);
    cr_assert_eq(s->leaves[2].max_def, 1);
    cr_assert_eq(s->leaves[2].max_rep, 1);
    cr_assert_str_eq(s->leaves[0].path, "a.list.element");
    cr_assert_str_eq(s->leaves[2].path, "c");
    pq_schema_destroy(s);
}

Test(schema_map, maps_and_key_only_map)
{
    pq_schema_element els[] = {
        GROUP("schema", -1, 2, -1),
        GROUP("m", PQ_OPTIONAL, 1, PQ_CT_MAP),
        GROUP("key_value", PQ_REPEATED, 2, -1),
        LEAF("key", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_CT_UTF8),
        LEAF("value", PQ_OPTIONAL, PQ_INT32, -1),
        GROUP("k", PQ_REQUIRED, 1, PQ_CT_MAP),
        GROUP("key_value", PQ_REPEATED, 1, -1),
        LEAF("key", PQ_REQUIRED, PQ_INT32, -1),
    };
    pq_schema *s = build_ok(els, 8);
    assert_type(s, "struct<m: map<string, int32>, k: list<key: int32 not null> not null>");
    cr_assert_eq(s->leaves[1].max_def, 3);
    pq_schema_destroy(s);
}

Test(schema_map, malformed_schemas_are_rejected)
{
    pq_schema_element els[] = {
        GROUP("schema", -1, 2, -1),
        LEAF("a", PQ_REQUIRED, PQ_INT32, -1),
    };
    pq_file_meta m = {.num_schema = 2, .schema = els};
    pq_schema *s = NULL;
    mt_error err;
    cr_assert_eq(pq_schema_build(&m, &s, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "schema: element 'schema' claims 2 children");
    cr_assert_null(s);
    pq_schema_element dec[] = {
        GROUP("schema", -1, 1, -1),
        LEAF("big", PQ_REQUIRED, PQ_FIXED_LEN_BYTE_ARRAY, PQ_CT_DECIMAL),
    };
    dec[1].type_length = 20, dec[1].precision = 45, dec[1].scale = 0;
    m.schema = dec;
    cr_assert_eq(pq_schema_build(&m, &s, &err), MT_EUNSUPPORTED);
    cr_assert_str_eq(err.msg, "column 'big': decimal(45, 0) stored in 20 bytes does not fit decimal128");
}

Test(schema_map, depth_limit)
{
    enum { N = PQ_MAX_DEPTH + 3 };
    pq_schema_element els[N];
    for (int i = 0; i < N - 1; i++) els[i] = (pq_schema_element)GROUP("g", PQ_OPTIONAL, 1, -1);
    els[N - 1] = (pq_schema_element)LEAF("x", PQ_OPTIONAL, PQ_INT32, -1);
    pq_file_meta m = {.num_schema = N, .schema = els};
    pq_schema *s = NULL;
    mt_error err;
    cr_assert_eq(pq_schema_build(&m, &s, &err), MT_EUNSUPPORTED);
    cr_assert_str_eq(err.msg, "schema: nesting deeper than 64 at 'g'");
}
