/* Tests of codec.c: every codec round-trips, rejects corrupt input and wrong
 * sizes; GZIP joins concatenated members; LZ4 reads Hadoop framing and raw
 * blocks; names parse and print; the CRC is zlib's. */
#include <criterion/criterion.h>
#include <string.h>
#include <zlib.h>

#include "parquet/pq_int.h"

static const int codecs[] = {MT_PARQUET_UNCOMPRESSED, MT_PARQUET_SNAPPY, MT_PARQUET_GZIP,
                             MT_PARQUET_BROTLI,       MT_PARQUET_ZSTD,   MT_PARQUET_LZ4,
                             MT_PARQUET_LZ4_RAW};

static void fill(uint8_t *p, size_t n)
{
    uint32_t x = 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (i % 7 == 0) ? (uint8_t)(x >> 24) : (uint8_t)(i % 13); /* compressible-ish */
    }
}

static size_t compress_all(int codec, const uint8_t *in, size_t n, uint8_t **out)
{
    size_t cap = pq_compress_bound(codec, n);
    *out = mt_malloc(cap ? cap : 1);
    size_t len = cap;
    mt_error err;
    cr_assert_eq(pq_compress(codec, 0, in, n, *out, &len, &err), MT_OK, "%s: %s",
                 mt_parquet_codec_name((mt_parquet_codec)codec), err.msg);
    cr_assert_leq(len, cap);
    return len;
}

Test(codec, round_trip_every_codec_and_size)
{
    const size_t sizes[] = {0, 1, 100, 65536, 1000003};
    uint8_t *in = mt_malloc(1000003);
    uint8_t *back = mt_malloc(1000003);
    fill(in, 1000003);
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            uint8_t *comp = NULL;
            size_t len = compress_all(codecs[c], in, sizes[s], &comp);
            mt_error err;
            memset(back, 0xee, sizes[s]);
            cr_assert_eq(pq_decompress(codecs[c], comp, len, back, sizes[s], &err), MT_OK,
                         "%s size %zu: %s", mt_parquet_codec_name((mt_parquet_codec)codecs[c]),
                         sizes[s], err.msg);
            cr_assert_eq(memcmp(in, back, sizes[s]), 0);
            if (sizes[s] >= 65536 && codecs[c] != MT_PARQUET_UNCOMPRESSED)
                cr_assert_lt(len, sizes[s], "%s did not compress",
                             mt_parquet_codec_name((mt_parquet_codec)codecs[c]));
            mt_free(comp);
        }
    }
    mt_free(in);
    mt_free(back);
}

Test(codec, wrong_expected_size_and_corrupt_input_rejected)
{
    uint8_t in[5000], out[6000];
    fill(in, sizeof in);
    for (size_t c = 1; c < sizeof codecs / sizeof codecs[0]; c++) {
        const char *name = mt_parquet_codec_name((mt_parquet_codec)codecs[c]);
        uint8_t *comp = NULL;
        size_t len = compress_all(codecs[c], in, sizeof in, &comp);
        mt_error err;
        cr_assert_eq(pq_decompress(codecs[c], comp, len, out, sizeof in - 1, &err), MT_ECORRUPT,
                     "%s: smaller output accepted", name);
        cr_assert_eq(pq_decompress(codecs[c], comp, len, out, sizeof in + 1, &err), MT_ECORRUPT,
                     "%s: larger output accepted", name);
        /* truncated input */
        cr_assert_eq(pq_decompress(codecs[c], comp, len / 2, out, sizeof in, &err), MT_ECORRUPT,
                     "%s: truncated input accepted", name);
        /* garbage */
        memset(comp, 0xa5, len);
        mt_status st = pq_decompress(codecs[c], comp, len, out, sizeof in, &err);
        cr_assert_eq(st, MT_ECORRUPT, "%s: garbage accepted (%s)", name, mt_status_name(st));
        mt_free(comp);
    }
}

Test(codec, empty_input_and_output_needs_no_decoder)
{
    mt_error err;
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++)
        cr_assert_eq(pq_decompress(codecs[c], NULL, 0, NULL, 0, &err), MT_OK);
    uint8_t out[4];
    cr_assert_eq(pq_decompress(MT_PARQUET_ZSTD, NULL, 0, out, 4, &err), MT_ECORRUPT);
}

Test(codec, gzip_concatenated_members)
{
    uint8_t a[3000], both[6000], out[6000];
    fill(a, sizeof a);
    uint8_t *c1 = NULL, *c2 = NULL;
    size_t n1 = compress_all(MT_PARQUET_GZIP, a, 1000, &c1);
    size_t n2 = compress_all(MT_PARQUET_GZIP, a + 1000, 2000, &c2);
    uint8_t *cat = mt_malloc(n1 + n2);
    memcpy(cat, c1, n1);
    memcpy(cat + n1, c2, n2);
    memcpy(both, a, 3000);
    mt_error err;
    cr_assert_eq(pq_decompress(MT_PARQUET_GZIP, cat, n1 + n2, out, 3000, &err), MT_OK, "%s",
                 err.msg);
    cr_assert_eq(memcmp(out, both, 3000), 0);
    /* the gzip header is what we write */
    cr_assert_eq(c1[0], 0x1f);
    cr_assert_eq(c1[1], 0x8b);
    mt_free(c1);
    mt_free(c2);
    mt_free(cat);
}

Test(codec, lz4_hadoop_frames_and_raw_fallback)
{
    uint8_t in[4000], out[4000];
    fill(in, sizeof in);
    /* two Hadoop frames of 1500 and 2500 bytes */
    uint8_t *r1 = NULL, *r2 = NULL;
    size_t n1 = compress_all(MT_PARQUET_LZ4_RAW, in, 1500, &r1);
    size_t n2 = compress_all(MT_PARQUET_LZ4_RAW, in + 1500, 2500, &r2);
    uint8_t *fr = mt_malloc(16 + n1 + n2);
    uint8_t *p = fr;
    const size_t d[2] = {1500, 2500}, c[2] = {n1, n2};
    const uint8_t *blk[2] = {r1, r2};
    for (int k = 0; k < 2; k++) {
        uint8_t h[8] = {0, 0, (uint8_t)(d[k] >> 8), (uint8_t)d[k],
                        0, 0, (uint8_t)(c[k] >> 8), (uint8_t)c[k]};
        memcpy(p, h, 8);
        memcpy(p + 8, blk[k], c[k]);
        p += 8 + c[k];
    }
    mt_error err;
    cr_assert_eq(pq_decompress(MT_PARQUET_LZ4, fr, (size_t)(p - fr), out, 4000, &err), MT_OK,
                 "%s", err.msg);
    cr_assert_eq(memcmp(in, out, 4000), 0);
    /* a raw block under the LZ4 codec (old parquet-cpp) */
    uint8_t *raw = NULL;
    size_t nr = compress_all(MT_PARQUET_LZ4_RAW, in, 4000, &raw);
    memset(out, 0, sizeof out);
    cr_assert_eq(pq_decompress(MT_PARQUET_LZ4, raw, nr, out, 4000, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(memcmp(in, out, 4000), 0);
    mt_free(r1);
    mt_free(r2);
    mt_free(fr);
    mt_free(raw);
}

Test(codec, lzo_and_unknown_unsupported)
{
    uint8_t in[4] = {1, 2, 3, 4}, out[4];
    size_t len = 4;
    mt_error err;
    cr_assert_eq(pq_decompress(MT_PARQUET_LZO, in, 4, out, 4, &err), MT_EUNSUPPORTED);
    cr_assert_str_eq(err.msg, "LZO codec is not supported");
    cr_assert_eq(pq_compress(MT_PARQUET_LZO, 0, in, 4, out, &len, &err), MT_EUNSUPPORTED);
    cr_assert_str_eq(err.msg, "LZO codec is not supported");
    cr_assert_eq(pq_decompress(42, in, 4, out, 4, &err), MT_EUNSUPPORTED);
    cr_assert_str_eq(err.msg, "unknown compression codec 42");
}

Test(codec, names)
{
    const char *names[] = {"uncompressed", "snappy", "gzip", "lzo",
                           "brotli", "lz4", "zstd", "lz4_raw"};
    for (int i = 0; i < 8; i++) {
        mt_parquet_codec c;
        cr_assert_str_eq(mt_parquet_codec_name((mt_parquet_codec)i), names[i]);
        cr_assert_eq(mt_parquet_codec_parse(names[i], &c, NULL), MT_OK);
        cr_assert_eq((int)c, i);
    }
    mt_parquet_codec c = MT_PARQUET_ZSTD;
    cr_assert_eq(mt_parquet_codec_parse("none", &c, NULL), MT_OK);
    cr_assert_eq(c, MT_PARQUET_UNCOMPRESSED);
    cr_assert_eq(mt_parquet_codec_parse("ZSTD", &c, NULL), MT_OK);
    cr_assert_eq(c, MT_PARQUET_ZSTD);
    mt_error err;
    cr_assert_eq(mt_parquet_codec_parse("lz5", &c, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, "unknown codec 'lz5'") != NULL, "%s", err.msg);
    cr_assert_str_eq(mt_parquet_codec_name((mt_parquet_codec)99), "unknown");
}

Test(codec, crc32_matches_zlib)
{
    const uint8_t s[] = "123456789";
    cr_assert_eq(pq_crc32(s, 9), 0xCBF43926u); /* the standard check value */
    cr_assert_eq(pq_crc32(s, 0), 0u);
    cr_assert_eq(pq_crc32(s, 9), (uint32_t)crc32(0, s, 9));
}

Test(codec, precheck_rejects_impossible_sizes_before_allocating)
{
    uint8_t in[1000];
    fill(in, sizeof in);
    mt_error err;
    uint8_t *c = NULL;
    size_t n = compress_all(MT_PARQUET_SNAPPY, in, sizeof in, &c);
    cr_assert_eq(pq_decompress_precheck(MT_PARQUET_SNAPPY, c, n, 1000, &err), MT_OK);
    cr_assert_eq(pq_decompress_precheck(MT_PARQUET_SNAPPY, c, n, 1u << 30, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "snappy data decompressed to 1000 bytes, expected 1073741824");
    mt_free(c);
    n = compress_all(MT_PARQUET_ZSTD, in, sizeof in, &c);
    cr_assert_eq(pq_decompress_precheck(MT_PARQUET_ZSTD, c, n, 1000, &err), MT_OK);
    cr_assert_eq(pq_decompress_precheck(MT_PARQUET_ZSTD, c, n, 999, &err), MT_ECORRUPT);
    mt_free(c);
    cr_assert_eq(pq_decompress_precheck(MT_PARQUET_LZ4_RAW, in, 10, 10 * 256 + 64, &err), MT_OK);
    cr_assert_eq(pq_decompress_precheck(MT_PARQUET_LZ4_RAW, in, 10, 1u << 30, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg,
                     "10 compressed bytes cannot expand to the 1073741824 bytes the page header "
                     "states");
    cr_assert_eq(pq_decompress_precheck(MT_PARQUET_GZIP, in, 10, 1u << 30, &err), MT_ECORRUPT);
    cr_assert_eq(pq_decompress_precheck(MT_PARQUET_UNCOMPRESSED, in, 10, 10, &err), MT_OK);
}
