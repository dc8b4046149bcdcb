/*
 * codec.c — Parquet's compression codecs (decompress for the reader,
 * compress for the writer), codec names, and the page CRC.
 *
 * Stateless; any thread may call these concurrently. Invariants: a
 * decompression either fills exactly `out_len` bytes or fails with
 * MT_ECORRUPT; no decoder is ever asked to write past `out + out_len` or read
 * past `in + in_len`; an empty input with an empty expected output succeeds
 * without calling any decoder.
 */
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet/pq_int.h"

static const char *const codec_names[] = {"uncompressed", "snappy", "gzip", "lzo",
                                          "brotli", "lz4", "zstd", "lz4_raw"};

mt_status mt_parquet_codec_parse(const char *name, mt_parquet_codec *out, mt_error *err)
{
    if (!name) return mt_error_set(err, MT_EINVAL, "no codec name given");
    if (strcasecmp(name, "none") == 0) {
        *out = MT_PARQUET_UNCOMPRESSED;
        return MT_OK;
    }
    for (int i = 0; i < 8; i++) {
        if (strcasecmp(name, codec_names[i]) == 0) {
            *out = (mt_parquet_codec)i;
            return MT_OK;
        }
    }
    return mt_error_set(err, MT_EINVAL,
                        "unknown codec '%s' (expected none, snappy, gzip, brotli, zstd, lz4 or "
                        "lz4_raw)",
                        name);
}

const char *mt_parquet_codec_name(mt_parquet_codec codec)
{
    if ((int)codec < 0 || (int)codec >= 8) return "unknown";
    return codec_names[codec];
}

uint32_t pq_crc32(const uint8_t *p, size_t n)
{
    /* libdeflate's CRC-32 uses carry-less multiplication where the CPU has
     * it: several times zlib's speed, which matters because every page of
     * every file we write carries a CRC that readers verify. */
    return libdeflate_crc32(0, p, n);
}

static mt_status size_mismatch(mt_error *err, const char *codec, size_t got, size_t want)
{
    return mt_error_set(err, MT_ECORRUPT, "%s data decompressed to %zu bytes, expected %zu", codec,
                        got, want);
}

static mt_status snappy_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                            mt_error *err)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)in, in_len, &n) != SNAPPY_OK)
        return mt_error_set(err, MT_ECORRUPT, "corrupt snappy data");
    if (n != out_len) return size_mismatch(err, "snappy", n, out_len);
    if (snappy_uncompress((const char *)in, in_len, (char *)out, &n) != SNAPPY_OK)
        return mt_error_set(err, MT_ECORRUPT, "corrupt snappy data");
    return n == out_len ? MT_OK : size_mismatch(err, "snappy", n, out_len);
}

/* zlib/gzip with automatic header detection; concatenated gzip members are joined. */
static mt_status gzip_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                          mt_error *err)
{
    if (in_len > UINT_MAX || out_len > UINT_MAX)
        return mt_error_set(err, MT_EUNSUPPORTED, "gzip page larger than 4 GiB");
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return mt_error_set(err, MT_ENOMEM, "cannot initialise zlib");
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)in_len;
    zs.next_out = out;
    zs.avail_out = (uInt)out_len;
    int rc;
    for (;;) {
        rc = inflate(&zs, Z_FINISH);
        if (rc != Z_STREAM_END) break;
        /* Another member follows? Skip zero padding some writers leave. */
        while (zs.avail_in > 0 && *zs.next_in == 0) zs.next_in++, zs.avail_in--;
        if (zs.avail_in == 0 || zs.avail_out == 0) break;
        if (inflateReset(&zs) != Z_OK) break;
    }
    size_t got = out_len - zs.avail_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && got == out_len && zs.avail_in == 0))
        return mt_error_set(err, MT_ECORRUPT, "corrupt gzip data (zlib error %d)", rc);
    return got == out_len ? MT_OK : size_mismatch(err, "gzip", got, out_len);
}

static mt_status brotli_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                            mt_error *err)
{
    size_t n = out_len;
    if (BrotliDecoderDecompress(in_len, in, &n, out) != BROTLI_DECODER_RESULT_SUCCESS)
        return mt_error_set(err, MT_ECORRUPT, "corrupt brotli data (or larger than %zu bytes)",
                            out_len);
    return n == out_len ? MT_OK : size_mismatch(err, "brotli", n, out_len);
}

static mt_status zstd_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                          mt_error *err)
{
    size_t n = ZSTD_decompress(out, out_len, in, in_len);
    if (ZSTD_isError(n))
        return mt_error_set(err, MT_ECORRUPT, "corrupt zstd data: %s", ZSTD_getErrorName(n));
    return n == out_len ? MT_OK : size_mismatch(err, "zstd", n, out_len);
}

static mt_status lz4_raw_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                             mt_error *err)
{
    if (in_len > INT_MAX || out_len > INT_MAX)
        return mt_error_set(err, MT_EUNSUPPORTED, "LZ4 page larger than 2 GiB");
    int n = LZ4_decompress_safe((const char *)in, (char *)out, (int)in_len, (int)out_len);
    if (n < 0) return mt_error_set(err, MT_ECORRUPT, "corrupt LZ4 data");
    return (size_t)n == out_len ? MT_OK : size_mismatch(err, "LZ4", (size_t)n, out_len);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Hadoop framing: [BE32 decompressed size][BE32 compressed size][LZ4 block], repeated. */
static bool lz4_hadoop_dec(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    size_t ip = 0, op = 0;
    while (in_len - ip >= 8) {
        uint32_t dsize = be32(in + ip), csize = be32(in + ip + 4);
        ip += 8;
        if (csize > in_len - ip || dsize > out_len - op || csize > INT_MAX || dsize > INT_MAX)
            return false;
        int n = LZ4_decompress_safe((const char *)in + ip, (char *)out + op, (int)csize,
                                    (int)dsize);
        if (n < 0 || (uint32_t)n != dsize) return false;
        ip += csize;
        op += dsize;
    }
    return ip == in_len && op == out_len;
}

mt_status pq_decompress(int codec, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                        mt_error *err)
{
    if (in_len == 0 && out_len == 0) return MT_OK;
    switch (codec) {
    case MT_PARQUET_UNCOMPRESSED:
        if (in_len != out_len) return size_mismatch(err, "uncompressed", in_len, out_len);
        memcpy(out, in, in_len);
        return MT_OK;
    case MT_PARQUET_SNAPPY: return snappy_dec(in, in_len, out, out_len, err);
    case MT_PARQUET_GZIP: return gzip_dec(in, in_len, out, out_len, err);
    case MT_PARQUET_BROTLI: return brotli_dec(in, in_len, out, out_len, err);
    case MT_PARQUET_ZSTD: return zstd_dec(in, in_len, out, out_len, err);
    case MT_PARQUET_LZ4:
        if (lz4_hadoop_dec(in, in_len, out, out_len)) return MT_OK;
        return lz4_raw_dec(in, in_len, out, out_len, err);
    case MT_PARQUET_LZ4_RAW: return lz4_raw_dec(in, in_len, out, out_len, err);
    case MT_PARQUET_LZO: return mt_error_set(err, MT_EUNSUPPORTED, "LZO codec is not supported");
    default: return mt_error_set(err, MT_EUNSUPPORTED, "unknown compression codec %d", codec);
    }
}

mt_status pq_decompress_precheck(int codec, const uint8_t *in, size_t in_len, size_t out_len,
                                 mt_error *err)
{
    size_t n = 0;
    unsigned long long z;
    switch (codec) {
    case MT_PARQUET_SNAPPY:
        if (in_len == 0 && out_len == 0) return MT_OK;
        if (snappy_uncompressed_length((const char *)in, in_len, &n) != SNAPPY_OK)
            return mt_error_set(err, MT_ECORRUPT, "corrupt snappy data");
        return n == out_len ? MT_OK : size_mismatch(err, "snappy", n, out_len);
    case MT_PARQUET_ZSTD:
        if (in_len == 0 && out_len == 0) return MT_OK;
        /* The first frame's declared size; later frames (rare) may add more. */
        z = ZSTD_getFrameContentSize(in, in_len);
        if (z == ZSTD_CONTENTSIZE_ERROR)
            return mt_error_set(err, MT_ECORRUPT, "corrupt zstd data: bad frame header");
        if (z != ZSTD_CONTENTSIZE_UNKNOWN && z > out_len)
            return size_mismatch(err, "zstd", (size_t)z, out_len);
        /* Blocks are at most 128 KiB each and take at least 3 bytes. */
        n = in_len > SIZE_MAX / 65536 ? SIZE_MAX : in_len * 65536 + 131072;
        break;
    case MT_PARQUET_GZIP: /* deflate expands at most 1032:1 */
        n = in_len > SIZE_MAX / 1032 ? SIZE_MAX : in_len * 1032 + 64;
        break;
    case MT_PARQUET_LZ4:
    case MT_PARQUET_LZ4_RAW: /* LZ4 expands at most 255:1 (+ frame headers) */
        n = in_len > SIZE_MAX / 256 ? SIZE_MAX : in_len * 256 + 64;
        break;
    default: return MT_OK;
    }
    if (out_len > n)
        return mt_error_set(err, MT_ECORRUPT,
                            "%zu compressed bytes cannot expand to the %zu bytes the page header "
                            "states",
                            in_len, out_len);
    return MT_OK;
}

size_t pq_compress_bound(int codec, size_t n)
{
    switch (codec) {
    case MT_PARQUET_SNAPPY: return snappy_max_compressed_length(n);
    case MT_PARQUET_GZIP: return compressBound(n) + 32; /* gzip header/trailer vs zlib's */
    case MT_PARQUET_BROTLI: return BrotliEncoderMaxCompressedSize(n) + (n == 0 ? 2 : 0);
    case MT_PARQUET_ZSTD: return ZSTD_compressBound(n);
    case MT_PARQUET_LZ4: return n > INT_MAX ? 0 : (size_t)LZ4_compressBound((int)n) + 8;
    case MT_PARQUET_LZ4_RAW: return n > INT_MAX ? 0 : (size_t)LZ4_compressBound((int)n);
    default: return n;
    }
}

static mt_status gzip_enc(int level, const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t *out_len, mt_error *err)
{
    if (in_len > UINT_MAX || *out_len > UINT_MAX)
        return mt_error_set(err, MT_EUNSUPPORTED, "gzip page larger than 4 GiB");
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return mt_error_set(err, MT_EINVAL, "invalid gzip compression level %d", level);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)in_len;
    zs.next_out = out;
    zs.avail_out = (uInt)*out_len;
    int rc = deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) return mt_error_set(err, MT_EINTERNAL, "gzip compression failed");
    return MT_OK;
}

static mt_status lz4_enc(bool hadoop, int level, const uint8_t *in, size_t in_len, uint8_t *out,
                         size_t *out_len, mt_error *err)
{
    if (in_len > INT_MAX) return mt_error_set(err, MT_EUNSUPPORTED, "LZ4 page larger than 2 GiB");
    size_t hdr = hadoop ? 8 : 0;
    int cap = (int)(*out_len - hdr > INT_MAX ? INT_MAX : *out_len - hdr);
    int n = LZ4_compress_fast((const char *)in, (char *)out + hdr, (int)in_len, cap,
                              1);
    if (n <= 0) return mt_error_set(err, MT_EINTERNAL, "LZ4 compression failed");
    if (hadoop) {
        uint32_t d = (uint32_t)in_len, c = (uint32_t)n;
        uint8_t h[8] = {d >> 24, d >> 16, d >> 8, d, c >> 24, c >> 16, c >> 8, c};
        memcpy(out, h, 8);
    }
    *out_len = hdr + (size_t)n;
    return MT_OK;
}

mt_status pq_compress(int codec, int level, const uint8_t *in, size_t in_len, uint8_t *out,
                      size_t *out_len, mt_error *err)
{
    size_t cap = pq_compress_bound(codec, in_len);
    switch (codec) {
    case MT_PARQUET_UNCOMPRESSED:
        if (in_len) memcpy(out, in, in_len);
        *out_len = in_len;
        return MT_OK;
    case MT_PARQUET_SNAPPY:
        *out_len = cap;
        if (snappy_compress((const char *)in, in_len, (char *)out, out_len) != SNAPPY_OK)
            return mt_error_set(err, MT_EINTERNAL, "snappy compression failed");
        return MT_OK;
    case MT_PARQUET_GZIP: *out_len = cap; return gzip_enc(level, in, in_len, out, out_len, err);
    case MT_PARQUET_BROTLI:
        *out_len = cap;
        if (!BrotliEncoderCompress(level > 0 ? level : 1, BROTLI_DEFAULT_WINDOW,
                                   BROTLI_MODE_GENERIC, in_len, in, out_len, out))
            return mt_error_set(err, MT_EINTERNAL, "brotli compression failed");
        return MT_OK;
    case MT_PARQUET_ZSTD: {
        size_t n = ZSTD_compress(out, cap, in, in_len, level ? level : 1);
        if (ZSTD_isError(n))
            return mt_error_set(err, MT_EINTERNAL, "zstd compression failed: %s",
                                ZSTD_getErrorName(n));
        *out_len = n;
        return MT_OK;
    }
    case MT_PARQUET_LZ4:
    case MT_PARQUET_LZ4_RAW:
        *out_len = cap;
        return lz4_enc(codec == MT_PARQUET_LZ4, level, in, in_len, out, out_len, err);
    case MT_PARQUET_LZO: return mt_error_set(err, MT_EUNSUPPORTED, "LZO codec is not supported");
    default: return mt_error_set(err, MT_EUNSUPPORTED, "unknown compression codec %d", codec);
    }
}
