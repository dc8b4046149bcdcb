/*
 * decode_bss.c — BYTE_STREAM_SPLIT for FLOAT, DOUBLE, INT32, INT64 and
 * FIXED_LEN_BYTE_ARRAY (incl. FLOAT16 and decimals): byte k of value i lives
 * at stream k, position i; a page holds len / width values per stream.
 *
 * Single-threaded. Invariant: the page length must be a multiple of the
 * value width and hold at least the values asked for.
 */
#include "parquet/pq_value.h"

static void unsplit(const uint8_t *p, int64_t stride, int64_t n, int w, uint8_t *out)
{
    if (w == 4) {
        for (int64_t i = 0; i < n; i++) {
            out[i * 4] = p[i];
            out[i * 4 + 1] = p[stride + i];
            out[i * 4 + 2] = p[2 * stride + i];
            out[i * 4 + 3] = p[3 * stride + i];
        }
        return;
    }
    if (w == 8) {
        for (int64_t i = 0; i < n; i++)
            for (int k = 0; k < 8; k++) out[i * 8 + k] = p[k * stride + i];
        return;
    }
    for (int k = 0; k < w; k++) {
        const uint8_t *src = p + k * stride;
        for (int64_t i = 0; i < n; i++) out[i * w + k] = src[i];
    }
}

mt_status pq_decode_bss(pq_sink *s, const uint8_t *p, size_t len, int64_t n, mt_error *err)
{
    const pq_leaf *lf = s->leaf;
    int w = lf->phys_width;
    if (lf->physical == PQ_BOOLEAN || lf->physical == PQ_BYTE_ARRAY || lf->physical == PQ_INT96 || w <= 0)
        return mt_error_set(err, MT_ECORRUPT, "BYTE_STREAM_SPLIT on an unsupported column type");
    if (len % (size_t)w || (uint64_t)len / (uint64_t)w < (uint64_t)n)
        return mt_error_set(err, MT_ECORRUPT,
                            "BYTE_STREAM_SPLIT: %zu bytes do not hold %lld values of %d bytes", len,
                            (long long)n, w);
    int64_t stride = (int64_t)(len / (size_t)w);
    MT_RETURN_NOT_OK(pq_sink_reserve(s, n, 0, err));
    uint8_t *dst = s->values->data + s->count * lf->width;
    if (lf->conv == PQ_CONV_NONE) {
        unsplit(p, stride, n, w, dst);
    } else {
        uint8_t *tmp = mt_malloc((size_t)(n > 0 ? n : 1) * (size_t)w);
        if (!tmp) return mt_error_set(err, MT_ENOMEM, "out of memory decoding %lld values", (long long)n);
        unsplit(p, stride, n, w, tmp);
        pq_convert_fixed(lf, tmp, n, dst);
        mt_free(tmp);
    }
    s->count += n;
    return MT_OK;
}
