/*
 * test_decode.c — value decoders: PLAIN, dictionary, DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT and the
 * physical→Arrow conversions (decimals, INT96), with their error cases.
 */
#include <criterion/criterion.h>

#include "parquet/pq_value.h"

static pq_leaf leaf_of(int physical, int store, int width, int phys_width, int conv)
{
    pq_leaf l = {.physical = physical, .store = store, .width = width, .phys_width = phys_width,
                 .conv = conv, .path = "c"};
    return l;
}

static void sink_fini(pq_sink *s)
{
    mt_buffer_release(s->values);
    mt_buffer_release(s->offsets);
}

Test(decode, plain_int32_appends_across_pages)
{
    pq_leaf l = leaf_of(PQ_INT32, PQ_STORE_FIXED, 4, 4, PQ_CONV_NONE);
    pq_sink s = {.leaf = &l};
    int32_t a[3] = {1, -2, 3}, b[2] = {40, 50};
    size_t used;
    cr_assert_eq(pq_decode_plain(&s, (const uint8_t *)a, sizeof a, 3, &used, NULL), MT_OK);
    cr_assert_eq(used, 12);
    cr_assert_eq(pq_decode_plain(&s, (const uint8_t *)b, sizeof b, 2, &used, NULL), MT_OK);
    const int32_t *v = (const int32_t *)s.values->data;
    cr_assert_eq(s.count, 5);
    cr_assert_eq(v[1], -2);
    cr_assert_eq(v[4], 50);
    mt_error err;
    cr_assert_eq(pq_decode_plain(&s, (const uint8_t *)b, 7, 2, &used, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "PLAIN values: 2 values of 4 bytes need 8 bytes, 7 present");
    sink_fini(&s);
}

Test(decode, plain_byte_array_and_truncation)
{
    pq_leaf l = leaf_of(PQ_BYTE_ARRAY, PQ_STORE_BINARY, 0, 0, PQ_CONV_NONE);
    pq_sink s = {.leaf = &l};
    const uint8_t in[] = {2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c'};
    size_t used;
    cr_assert_eq(pq_decode_plain(&s, in, sizeof in, 3, &used, NULL), MT_OK);
    const int32_t *off = (const int32_t *)s.offsets->data;
    cr_assert_eq(off[0], 0);
    cr_assert_eq(off[1], 2);
    cr_assert_eq(off[2], 2);
    cr_assert_eq(off[3], 5);
    cr_assert_eq(memcmp(s.values->data, "hiabc", 5), 0);
    mt_error err;
    cr_assert_eq(pq_decode_plain(&s, in, sizeof in - 1, 3, &used, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "PLAIN byte array values end early (3 expected)");
    sink_fini(&s);
}

Test(decode, dictionary_gather_and_out_of_range)
{
    pq_leaf l = leaf_of(PQ_INT64, PQ_STORE_FIXED, 8, 8, PQ_CONV_NONE);
    pq_dict d = {0};
    int64_t dict[2] = {100, -7};
    cr_assert_eq(pq_dict_load(&d, &l, (const uint8_t *)dict, sizeof dict, 2, NULL), MT_OK);
    pq_sink s = {.leaf = &l};
    const uint8_t idx[] = {1, 3, 0x09}; /* bw 1, one bit-packed group: 1,0,0,1,0,0,0,0 */
    cr_assert_eq(pq_decode_dict(&s, &d, idx, sizeof idx, 4, NULL), MT_OK);
    const int64_t *v = (const int64_t *)s.values->data;
    cr_assert_eq(v[0], -7);
    cr_assert_eq(v[1], 100);
    cr_assert_eq(v[3], -7);
    const uint8_t bad[] = {3, 2, 5}; /* RLE run of one index 5 */
    mt_error err;
    cr_assert_eq(pq_decode_dict(&s, &d, bad, sizeof bad, 1, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "dictionary index 5 out of range (2 entries)");
    pq_dict_fini(&d);
    sink_fini(&s);
}

Test(decode, dictionary_bit_width_zero_reads_index_zero)
{
    pq_leaf l = leaf_of(PQ_INT32, PQ_STORE_FIXED, 4, 4, PQ_CONV_NONE);
    pq_dict d = {0};
    int32_t dict[1] = {42};
    cr_assert_eq(pq_dict_load(&d, &l, (const uint8_t *)dict, 4, 1, NULL), MT_OK);
    pq_sink s = {.leaf = &l};
    const uint8_t idx[] = {0};
    cr_assert_eq(pq_decode_dict(&s, &d, idx, 1, 3, NULL), MT_OK);
    cr_assert_eq(((int32_t *)s.values->data)[2], 42);
    mt_error err;
    cr_assert_eq(pq_dict_load(&d, &l, (const uint8_t *)dict, 4, -1, &err), MT_ECORRUPT);
    pq_dict_fini(&d);
    sink_fini(&s);
}

Test(decode, delta_binary_packed_spec_examples)
{
    /* 1..5: min delta 1, all widths 0. */
    const uint8_t a[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
    int64_t out[8];
    size_t used;
    cr_assert_eq(pq_delta_decode_i64(a, sizeof a, 5, out, &used, NULL), MT_OK);
    for (int i = 0; i < 5; i++) cr_assert_eq(out[i], i + 1);
    cr_assert_eq(used, sizeof a);
    /* 7,5,3,1,2,3,4,5: min delta -2, first miniblock 2 bits. */
    const uint8_t b[] = {0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 2, 0, 0, 0,
                         0xC0, 0x3F, 0, 0, 0, 0, 0, 0};
    const int64_t want[] = {7, 5, 3, 1, 2, 3, 4, 5};
    cr_assert_eq(pq_delta_decode_i64(b, sizeof b, 8, out, &used, NULL), MT_OK);
    for (int i = 0; i < 8; i++) cr_assert_eq(out[i], want[i], "value %d", i);
    mt_error err;
    cr_assert_eq(pq_delta_decode_i64(b, 11, 8, out, &used, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "DELTA_BINARY_PACKED: miniblock truncated");
    const uint8_t badhdr[] = {0x40, 0x04, 0x01, 0x00};
    cr_assert_eq(pq_delta_decode_i64(badhdr, sizeof badhdr, 1, out, &used, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "DELTA_BINARY_PACKED: bad block size 64 / 4 miniblocks");
}

Test(decode, delta_int32_with_min_delta_outside_int32)
{
    /* INT32_MIN then INT32_MAX: delta 2^32-1 (as DuckDB writes), widths 0. */
    uint8_t in[32];
    size_t n = 0;
    in[n++] = 0x80, in[n++] = 0x01, in[n++] = 0x04, in[n++] = 0x02;
    uint64_t z = 4294967295ull; /* zigzag(INT32_MIN) */
    for (; z >= 0x80; z >>= 7) in[n++] = (uint8_t)(z | 0x80);
    in[n++] = (uint8_t)z;
    z = 8589934590ull; /* zigzag(4294967295) */
    for (; z >= 0x80; z >>= 7) in[n++] = (uint8_t)(z | 0x80);
    in[n++] = (uint8_t)z;
    memset(in + n, 0, 4);
    n += 4;
    pq_leaf l = leaf_of(PQ_INT32, PQ_STORE_FIXED, 4, 4, PQ_CONV_NONE);
    pq_sink s = {.leaf = &l};
    cr_assert_eq(pq_decode_delta_binary(&s, in, n, 2, NULL), MT_OK);
    const int32_t *v = (const int32_t *)s.values->data;
    cr_assert_eq(v[0], INT32_MIN);
    cr_assert_eq(v[1], INT32_MAX);
    sink_fini(&s);
}

Test(decode, delta_length_and_delta_byte_array)
{
    pq_leaf l = leaf_of(PQ_BYTE_ARRAY, PQ_STORE_BINARY, 0, 0, PQ_CONV_NONE);
    pq_sink s = {.leaf = &l};
    /* lengths 3,3 (first 3, min delta 0), then "abcxyz" */
    const uint8_t dlba[] = {0x80, 0x01, 0x04, 0x02, 0x06, 0x00, 0, 0, 0, 0, 'a', 'b', 'c', 'x', 'y', 'z'};
    cr_assert_eq(pq_decode_delta_length(&s, dlba, sizeof dlba, 2, NULL), MT_OK);
    cr_assert_eq(s.bytes, 6);
    cr_assert_eq(((int32_t *)s.offsets->data)[1], 3);
    /* prefixes 0,2 ; suffix lengths 3,1 ; "abc" "d" -> "abc", "abd" */
    const uint8_t dba[] = {0x80, 0x01, 0x04, 0x02, 0x00, 0x04, 0, 0, 0, 0,
                           0x80, 0x01, 0x04, 0x02, 0x06, 0x03, 0, 0, 0, 0, 'a', 'b', 'c', 'd'};
    cr_assert_eq(pq_decode_delta_byte_array(&s, dba, sizeof dba, 2, NULL), MT_OK);
    cr_assert_eq(s.count, 4);
    cr_assert_eq(memcmp(s.values->data + 6, "abcabd", 6), 0);
    /* a prefix longer than the previous value */
    const uint8_t bad[] = {0x80, 0x01, 0x04, 0x01, 0x02, 0x80, 0x01, 0x04, 0x01, 0x02};
    mt_error err;
    cr_assert_eq(pq_decode_delta_byte_array(&s, bad, sizeof bad, 1, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "DELTA_BYTE_ARRAY: value 0 has prefix 1 (previous 0 bytes), suffix 1");
    sink_fini(&s);
}

Test(decode, byte_stream_split_float_and_errors)
{
    pq_leaf l = leaf_of(PQ_FLOAT, PQ_STORE_FIXED, 4, 4, PQ_CONV_NONE);
    pq_sink s = {.leaf = &l};
    float f[2] = {1.5f, -3.25f};
    uint8_t raw[8], split[8];
    memcpy(raw, f, 8);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) split[k * 2 + i] = raw[i * 4 + k];
    cr_assert_eq(pq_decode_bss(&s, split, 8, 2, NULL), MT_OK);
    cr_assert_float_eq(((float *)s.values->data)[1], -3.25f, 0);
    mt_error err;
    cr_assert_eq(pq_decode_bss(&s, split, 7, 1, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "BYTE_STREAM_SPLIT: 7 bytes do not hold 1 values of 4 bytes");
    sink_fini(&s);
}

Test(decode, decimal_and_int96_conversions)
{
    uint8_t out[16];
    const uint8_t neg[2] = {0xFF, 0x85}; /* -123 */
    pq_decimal_be_to_le(neg, 2, out);
    int64_t lo, hi;
    memcpy(&lo, out, 8);
    memcpy(&hi, out + 8, 8);
    cr_assert_eq(lo, -123);
    cr_assert_eq(hi, -1);
    pq_leaf l = leaf_of(PQ_INT32, PQ_STORE_FIXED, 16, 4, PQ_CONV_I32_DEC);
    int32_t v = -5;
    pq_convert_fixed(&l, (const uint8_t *)&v, 1, out);
    memcpy(&lo, out, 8);
    memcpy(&hi, out + 8, 8);
    cr_assert_eq(lo, -5);
    cr_assert_eq(hi, -1);
    /* INT96: 1 second past midnight of Julian day 2440589 (1970-01-02). */
    uint8_t i96[12];
    int64_t nanos = 1000000000;
    int32_t day = 2440589;
    memcpy(i96, &nanos, 8);
    memcpy(i96 + 8, &day, 4);
    pq_leaf t = leaf_of(PQ_INT96, PQ_STORE_FIXED, 8, 12, PQ_CONV_I96_TS);
    t.i96_unit = MT_UNIT_MICRO;
    int64_t ts;
    pq_convert_fixed(&t, i96, 1, (uint8_t *)&ts);
    cr_assert_eq(ts, 86401000000ll);
}
