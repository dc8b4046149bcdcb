/*
 * test_rle.c — the RLE/bit-packed hybrid decoder, bit unpacking for every
 * width, legacy BIT_PACKED levels and bit copying.
 */
#include <criterion/criterion.h>

#include "parquet/pq_value.h"

Test(rle, rle_run_then_bitpacked_run)
{
    /* RLE run of 5 x 6 (bw 3), then one bit-packed group 0..7 (spec example bytes). */
    const uint8_t in[] = {10, 6, 3, 0x88, 0xC6, 0xFA};
    pq_rle d;
    pq_rle_init(&d, in, sizeof in, 3, 13);
    uint32_t out[13];
    mt_error err;
    cr_assert_eq(pq_rle_get_u32(&d, out, 13, &err), MT_OK);
    const uint32_t want[13] = {6, 6, 6, 6, 6, 0, 1, 2, 3, 4, 5, 6, 7};
    for (int i = 0; i < 13; i++) cr_assert_eq(out[i], want[i], "value %d", i);
}

Test(rle, chunked_u8_reads_keep_state)
{
    const uint8_t in[] = {10, 6, 3, 0x88, 0xC6, 0xFA};
    pq_rle d;
    pq_rle_init(&d, in, sizeof in, 3, 13);
    uint8_t out[13];
    for (int i = 0; i < 13; i++) cr_assert_eq(pq_rle_get_u8(&d, out + i, 1, NULL), MT_OK);
    cr_assert_eq(out[4], 6);
    cr_assert_eq(out[5], 0);
    cr_assert_eq(out[12], 7);
    cr_assert_eq(pq_rle_get_u8(&d, out, 1, NULL), MT_ECORRUPT); /* nothing left */
}

Test(rle, run_overflowing_output_is_corrupt)
{
    const uint8_t in[] = {20, 1}; /* RLE run of 10 */
    pq_rle d;
    pq_rle_init(&d, in, sizeof in, 1, 5);
    uint32_t out[5];
    mt_error err;
    cr_assert_eq(pq_rle_get_u32(&d, out, 5, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "RLE run of 10 values overflows the 5 values expected");
}

Test(rle, truncated_data_is_corrupt)
{
    const uint8_t in[] = {4, 1}; /* RLE run of 2, but 4 asked */
    pq_rle d;
    pq_rle_init(&d, in, sizeof in, 1, 4);
    uint32_t out[4];
    mt_error err;
    cr_assert_eq(pq_rle_get_u32(&d, out, 4, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "RLE data ends early (2 values missing)");
}

static void pack_lsb(const uint32_t *v, int n, int bw, uint8_t *out)
{
    memset(out, 0, (size_t)(n * bw + 7) / 8);
    for (int i = 0; i < n; i++)
        for (int b = 0; b < bw; b++)
            if ((v[i] >> b) & 1) out[(i * bw + b) / 8] |= (uint8_t)(1u << ((i * bw + b) % 8));
}

Test(rle, unpack_every_bit_width)
{
    uint32_t v[64], got[64];
    uint8_t packed[64 * 4];
    for (int bw = 0; bw <= 32; bw++) {
        uint64_t mask = bw == 32 ? 0xffffffffu : ((1ull << bw) - 1);
        for (int i = 0; i < 64; i++) v[i] = (uint32_t)((0x9E3779B97F4A7C15ull * (uint64_t)(i + 1)) >> 17 & mask);
        pack_lsb(v, 64, bw, packed);
        pq_unpack32(packed, got, 64, bw);
        for (int i = 0; i < 64; i++) cr_assert_eq(got[i], v[i], "bw %d value %d", bw, i);
    }
}

Test(rle, long_bitpacked_run_bulk_path)
{
    /* 40 groups (320 values) of bw 5 in one run. */
    uint32_t v[320], got[320];
    uint8_t buf[2 + 200];
    for (int i = 0; i < 320; i++) v[i] = (uint32_t)(i * 7) % 32;
    buf[0] = (uint8_t)(((40 << 1) | 1) & 0x7f) | 0x80;
    buf[1] = (uint8_t)(((40 << 1) | 1) >> 7);
    pack_lsb(v, 320, 5, buf + 2);
    pq_rle d;
    pq_rle_init(&d, buf, sizeof buf, 5, 320);
    cr_assert_eq(pq_rle_get_u32(&d, got, 300, NULL), MT_OK);
    cr_assert_eq(pq_rle_get_u32(&d, got + 300, 20, NULL), MT_OK);
    for (int i = 0; i < 320; i++) cr_assert_eq(got[i], v[i], "value %d", i);
}

Test(rle, legacy_bit_packed_levels_msb_first)
{
    const uint8_t in[] = {0x05, 0x39, 0x77}; /* spec example: 0..7 in 3 bits */
    uint8_t out[8];
    size_t used = 0;
    cr_assert_eq(pq_bitpacked_levels(in, sizeof in, 3, out, 8, &used, NULL), MT_OK);
    cr_assert_eq(used, 3);
    for (int i = 0; i < 8; i++) cr_assert_eq(out[i], i);
    mt_error err;
    cr_assert_eq(pq_bitpacked_levels(in, 2, 3, out, 8, &used, &err), MT_ECORRUPT);
}

Test(rle, booleans_into_bitmap_at_offset)
{
    const uint8_t in[] = {6, 1, 2, 0}; /* 3 x true, 1 x false */
    uint8_t bm[2] = {0x01, 0};
    pq_rle d;
    pq_rle_init(&d, in, sizeof in, 1, 4);
    cr_assert_eq(pq_rle_get_bits(&d, bm, 3, 4, NULL), MT_OK);
    cr_assert_eq(bm[0], 0x01 | 0x08 | 0x10 | 0x20);
}

Test(rle, copy_bits_unaligned)
{
    const uint8_t src[2] = {0xB5, 0x03}; /* bits 10101101 11000000 */
    uint8_t dst[3] = {0xFF, 0xFF, 0xFF};
    pq_copy_bits(dst, 5, src, 2, 8);
    /* src bits 2..9 = 1,0,1,1,0,1,1,1 land at dst bits 5..12 */
    cr_assert_eq(dst[0], 0x1F | (1 << 5) | (0 << 6) | (1 << 7));
    cr_assert_eq(dst[1], 0x01 | 0x00 | 0x04 | 0x08 | 0x10 | 0xE0);
}
