/* Tests of the Thrift compact-protocol reader (thrift_read.c) and of the
 * footer decoder (meta_decode.c) on hand-built byte sequences, including
 * truncated and garbage input. */
#include <criterion/criterion.h>
#include <string.h>

#include "parquet/pq_int.h"
#include "parquet/pq_thrift.h"

Test(thrift, varints_and_zigzag)
{
    /* 300 = 0xac 0x02; zigzag(-3) = 5; zigzag(i64 min) = 0xff..ff (10 bytes). */
    const uint8_t b[] = {0xac, 0x02, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff,
                         0xff, 0xff, 0xff, 0xff, 0x01};
    pq_tr t;
    pq_tr_init(&t, b, sizeof b);
    uint64_t u = 0;
    int32_t i = 0;
    int64_t l = 0;
    cr_assert_eq(pq_tr_varint(&t, &u, NULL), MT_OK);
    cr_assert_eq(u, 300);
    cr_assert_eq(pq_tr_i32(&t, &i, NULL), MT_OK);
    cr_assert_eq(i, -3);
    cr_assert_eq(pq_tr_i64(&t, &l, NULL), MT_OK);
    cr_assert_eq(l, INT64_MIN);
    cr_assert_eq(pq_tr_remaining(&t), 0);
}

Test(thrift, truncated_and_overlong_varints)
{
    const uint8_t trunc[] = {0x80, 0x80};
    mt_error err;
    pq_tr t;
    uint64_t u = 0;
    pq_tr_init(&t, trunc, sizeof trunc);
    cr_assert_eq(pq_tr_varint(&t, &u, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "truncated thrift data");
    const uint8_t longv[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    pq_tr_init(&t, longv, sizeof longv);
    cr_assert_eq(pq_tr_varint(&t, &u, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "thrift varint too long");
    /* i32 out of range: zigzag 2^32 */
    const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    int32_t i = 0;
    pq_tr_init(&t, big, sizeof big);
    cr_assert_eq(pq_tr_i32(&t, &i, &err), MT_ECORRUPT);
}

Test(thrift, fields_deltas_long_ids_and_bools)
{
    /* field 1 i32 = 7 (delta 1), field 3 TRUE (delta 2), field 300 binary "ab" (long id),
       field 301 FALSE (delta 1), STOP */
    const uint8_t b[] = {0x15, 0x0e, 0x21, 0x08, 0xd8, 0x04, 0x02, 'a', 'b', 0x12, 0x00};
    pq_tr t;
    pq_tr_init(&t, b, sizeof b);
    int16_t last = 0, id = 0;
    int ty = 0;
    int32_t v = 0;
    cr_assert_eq(pq_tr_field(&t, &last, &id, &ty, NULL), MT_OK);
    cr_assert_eq(id, 1);
    cr_assert_eq(ty, PQ_TT_I32);
    cr_assert_eq(pq_tr_i32(&t, &v, NULL), MT_OK);
    cr_assert_eq(v, 7);
    cr_assert_eq(pq_tr_field(&t, &last, &id, &ty, NULL), MT_OK);
    cr_assert_eq(id, 3);
    cr_assert_eq(ty, PQ_TT_TRUE);
    cr_assert_eq(pq_tr_field(&t, &last, &id, &ty, NULL), MT_OK);
    cr_assert_eq(id, 300);
    cr_assert_eq(ty, PQ_TT_BINARY);
    char *s = NULL;
    cr_assert_eq(pq_tr_string(&t, &s, NULL), MT_OK);
    cr_assert_str_eq(s, "ab");
    mt_free(s);
    cr_assert_eq(pq_tr_field(&t, &last, &id, &ty, NULL), MT_OK);
    cr_assert_eq(id, 301);
    cr_assert_eq(ty, PQ_TT_FALSE);
    cr_assert_eq(pq_tr_field(&t, &last, &id, &ty, NULL), MT_OK);
    cr_assert_eq(ty, PQ_TT_STOP);
}

Test(thrift, skip_nested_values_of_every_type)
{
    /* A struct with: byte, i16, i64, double, binary, list<bool>[3], set<i32>[2],
       map<binary,struct{}>[1], nested struct {list<struct{i32}>[1]}, then i32 = 9 (id 11). */
    const uint8_t b[] = {
        0x13, 0x7f,                               /* 1 byte */
        0x14, 0x04,                               /* 2 i16 */
        0x16, 0x02,                               /* 3 i64 */
        0x17, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,       /* 4 double 1.0 */
        0x18, 0x01, 'x',                          /* 5 binary */
        0x19, 0x31, 0x01, 0x02, 0x01,             /* 6 list<bool> of 3 */
        0x1a, 0x25, 0x02, 0x04,                   /* 7 set<i32> of 2 */
        0x1b, 0x01, 0x8c, 0x01, 'k', 0x00,        /* 8 map<binary,struct> of 1 */
        0x1c, 0x19, 0x1c, 0x15, 0x02, 0x00, 0x00, /* 9 struct{ list<struct{i32}> } */
        0x25, 0x12,                               /* 11 i32 = 9 */
        0x00};
    pq_tr t;
    pq_tr_init(&t, b, sizeof b);
    int16_t last = 0, id = 0;
    int ty = 0;
    for (;;) {
        cr_assert_eq(pq_tr_field(&t, &last, &id, &ty, NULL), MT_OK);
        cr_assert_neq(ty, PQ_TT_STOP, "field 11 not reached");
        if (id == 11) break;
        cr_assert_eq(pq_tr_skip(&t, ty, NULL), MT_OK, "skipping field %d", id);
    }
    int32_t v = 0;
    cr_assert_eq(pq_tr_i32(&t, &v, NULL), MT_OK);
    cr_assert_eq(v, 9);
    cr_assert_eq(pq_tr_field(&t, &last, &id, &ty, NULL), MT_OK);
    cr_assert_eq(ty, PQ_TT_STOP);
    cr_assert_eq(pq_tr_remaining(&t), 0);
}

Test(thrift, list_size_bounded_by_remaining_bytes)
{
    /* list<i32> claiming 1,000,000 elements in 4 bytes */
    const uint8_t b[] = {0xf5, 0xc0, 0x84, 0x3d, 0x02};
    pq_tr t;
    pq_tr_init(&t, b, sizeof b);
    mt_error err;
    int ety = 0;
    int32_t n = 0;
    cr_assert_eq(pq_tr_list(&t, &ety, &n, &err), MT_ECORRUPT);
    cr_assert(strstr(err.msg, "thrift list size 1000000 exceeds") != NULL, "%s", err.msg);
    /* binary longer than the buffer */
    const uint8_t bin[] = {0x05, 'a'};
    const uint8_t *p = NULL;
    uint32_t len = 0;
    pq_tr_init(&t, bin, sizeof bin);
    cr_assert_eq(pq_tr_binary(&t, &p, &len, &err), MT_ECORRUPT);
}

Test(thrift, depth_limit_on_nested_structs)
{
    /* 200 nested structs (field 1 struct) — skipping must stop at the depth limit, not recurse. */
    uint8_t b[402];
    for (int i = 0; i < 200; i++) b[i] = 0x1c;
    memset(b + 200, 0, 202);
    pq_tr t;
    pq_tr_init(&t, b, sizeof b);
    mt_error err;
    cr_assert_eq(pq_tr_skip(&t, PQ_TT_STRUCT, &err), MT_ECORRUPT);
    cr_assert(strstr(err.msg, "nesting deeper than 64") != NULL, "%s", err.msg);
}

Test(thrift, invalid_types_rejected)
{
    const uint8_t b[] = {0x1d, 0x00}; /* field type 13 */
    pq_tr t;
    pq_tr_init(&t, b, sizeof b);
    int16_t last = 0, id = 0;
    int ty = 0;
    mt_error err;
    cr_assert_eq(pq_tr_field(&t, &last, &id, &ty, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "invalid thrift field type 13");
}

/* A minimal FileMetaData: version 1, schema [root(1 child), a: optional INT32 with
 * LogicalType INTEGER(16, signed)], num_rows 3, no row groups, kv {"k": absent value},
 * created_by "me", an unknown field 99 (a struct) that must be skipped. */
static const uint8_t tiny_footer[] = {
    0x15, 0x02,                         /* 1: version = 1 */
    0x19, 0x2c,                         /* 2: list<struct> of 2 */
    0x48, 0x04, 'r', 'o', 'o', 't',     /*   root: 4 name */
    0x15, 0x02, 0x00,                   /*        5 num_children = 1 */
    0x15, 0x02,                         /*   a: 1 type = INT32 */
    0x25, 0x02,                         /*      3 repetition = OPTIONAL */
    0x18, 0x01, 'a',                    /*      4 name */
    0x6c,                               /*      10 logicalType (delta 6) */
    0xac,                               /*        10 INTEGER (delta 10) */
    0x13, 0x10, 0x11, 0x00,             /*          bitWidth 16, isSigned true */
    0x00, 0x00,                         /*      end union, end element */
    0x16, 0x06,                         /* 3: num_rows = 3 */
    0x19, 0x0c,                         /* 4: row_groups: empty list<struct> */
    0x19, 0x1c,                         /* 5: kv list of 1 */
    0x18, 0x01, 'k', 0x00,              /*    key "k" */
    0x18, 0x02, 'm', 'e',               /* 6: created_by */
    0x0c, 0xc6, 0x01,                   /* 99: struct (long id) */
    0x15, 0x04, 0x00,                   /*    { 1: i32 } */
    0x00};

Test(meta, decodes_hand_built_footer)
{
    pq_file_meta m;
    mt_error err;
    cr_assert_eq(pq_meta_decode(tiny_footer, sizeof tiny_footer, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.version, 1);
    cr_assert_eq(m.num_schema, 2);
    cr_assert_str_eq(m.schema[0].name, "root");
    cr_assert_eq(m.schema[0].num_children, 1);
    cr_assert_eq(m.schema[0].type, -1);
    cr_assert_eq(m.schema[0].repetition, -1);
    cr_assert_str_eq(m.schema[1].name, "a");
    cr_assert_eq(m.schema[1].type, PQ_INT32);
    cr_assert_eq(m.schema[1].repetition, PQ_OPTIONAL);
    cr_assert_eq(m.schema[1].converted_type, -1);
    cr_assert_eq(m.schema[1].field_id, -1);
    cr_assert_eq(m.schema[1].logical.kind, PQ_LT_INTEGER);
    cr_assert_eq(m.schema[1].logical.bit_width, 16);
    cr_assert(m.schema[1].logical.is_signed);
    cr_assert_eq(m.footer_num_rows, 3, "what the footer claims");
    cr_assert_eq(m.num_rows, 0, "what its (zero) row groups hold: what reading and count yield");
    cr_assert_eq(m.num_row_groups, 0);
    cr_assert_eq(m.num_kv, 1);
    cr_assert_str_eq(m.kv[0].key, "k");
    cr_assert_null(m.kv[0].value);
    cr_assert_str_eq(m.created_by, "me");
    cr_assert_not(m.has_encryption_algorithm);
    pq_meta_fini(&m);
    pq_meta_fini(&m); /* double fini is harmless */
}

Test(meta, every_truncation_fails_cleanly)
{
    mt_alloc_stats before, after;
    mt_alloc_get_stats(&before);
    for (size_t n = 0; n < sizeof tiny_footer - 1; n++) {
        pq_file_meta m;
        mt_error err;
        mt_status st = pq_meta_decode(tiny_footer, n, &m, &err);
        cr_assert_eq(st, MT_ECORRUPT, "length %zu: %s", n, err.msg);
        cr_assert(strncmp(err.msg, "decoding the footer: ", 21) == 0, "%s", err.msg);
    }
    mt_alloc_get_stats(&after);
    cr_assert_eq(after.live_allocations, before.live_allocations);
}

Test(meta, known_logical_member_and_bad_physical_type)
{
    uint8_t b[sizeof tiny_footer];
    memcpy(b, tiny_footer, sizeof b);
    b[21] = 0xfc; /* union member id 15 (FLOAT16); its parameters are skipped */
    pq_file_meta m;
    mt_error err;
    cr_assert_eq(pq_meta_decode(b, sizeof b, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.schema[1].logical.kind, PQ_LT_FLOAT16);
    pq_meta_fini(&m);

    memcpy(b, tiny_footer, sizeof b);
    b[14] = 13; /* type = zigzag(-7) */
    cr_assert_eq(pq_meta_decode(b, sizeof b, &m, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "decoding the footer: invalid physical type -7 in schema element 'a'");
}

Test(meta, unrecognised_union_member)
{
    /* Element 'a' with a logicalType whose only member has id 19 (long-form field id). */
    const uint8_t b[] = {0x29, 0x2c, 0x48, 0x01, 'r', 0x15, 0x02, 0x00, /* root, 1 child */
                         0x15, 0x02, 0x38, 0x01, 'a',                   /* INT32 'a' */
                         0x6c, 0x0c, 0x26, 0x00, 0x00,                  /* logicalType {19: {}} */
                         0x00, 0x00};
    pq_file_meta m;
    mt_error err;
    cr_assert_eq(pq_meta_decode(b, sizeof b, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.schema[1].logical.kind, PQ_LT_UNRECOGNISED);
    pq_meta_fini(&m);
}

Test(meta, schema_tree_must_be_consistent)
{
    /* root claims 2 children, only 1 element follows */
    uint8_t b[sizeof tiny_footer];
    memcpy(b, tiny_footer, sizeof b);
    b[11] = 0x04;
    pq_file_meta m;
    mt_error err;
    cr_assert_eq(pq_meta_decode(b, sizeof b, &m, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg,
                     "decoding the footer: schema tree declares more children than elements");
    /* negative num_children */
    b[11] = 0x01;
    cr_assert_eq(pq_meta_decode(b, sizeof b, &m, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg,
                     "decoding the footer: negative num_children -1 in schema element 'root'");
}

Test(meta, garbage_never_crashes)
{
    uint8_t buf[256];
    uint32_t x = 12345;
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        /* keep the footer prefix sometimes so deeper code runs */
        if (round & 1) memcpy(buf, tiny_footer, (size_t)(round % (int)sizeof tiny_footer));
        pq_file_meta m;
        if (pq_meta_decode(buf, sizeof buf, &m, NULL) == MT_OK) pq_meta_fini(&m);
    }
}
