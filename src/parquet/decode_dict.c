/*
 * decode_dict.c — dictionary pages (PLAIN values converted once to the
 * leaf's Arrow storage) and PLAIN_DICTIONARY/RLE_DICTIONARY data pages
 * (RLE/bit-packed indices gathered from the dictionary).
 *
 * Single-threaded. Invariants: indices are decoded in batches and each batch
 * is checked against the dictionary size (one max-reduction, no per-value
 * branch) before the gather; an index out of range is MT_ECORRUPT.
 */
#include "parquet/pq_value.h"

#define PQ_DICT_BATCH 1024

mt_status pq_dict_load(pq_dict *d, const pq_leaf *leaf, const uint8_t *p, size_t len, int64_t n,
                       mt_error *err)
{
    pq_dict_fini(d);
    d->values.leaf = leaf;
    if (n < 0) return mt_error_set(err, MT_ECORRUPT, "dictionary page with %lld values", (long long)n);
    size_t used = 0;
    MT_RETURN_NOT_OK(pq_sink_reserve(&d->values, n > 0 ? n : 1, 0, err));
    return pq_decode_plain(&d->values, p, len, n, &used, err);
}

void pq_dict_fini(pq_dict *d)
{
    mt_buffer_release(d->values.values);
    mt_buffer_release(d->values.offsets);
    memset(d, 0, sizeof *d);
}

static void gather_fixed(uint8_t *out, const uint8_t *dict, const uint32_t *idx, int64_t k, int w)
{
    switch (w) {
    case 1:
        for (int64_t i = 0; i < k; i++) out[i] = dict[idx[i]];
        break;
    case 2: {
        uint16_t *o = (uint16_t *)out;
        const uint16_t *dv = (const uint16_t *)dict;
        for (int64_t i = 0; i < k; i++) o[i] = dv[idx[i]];
        break;
    }
    case 4: {
        uint32_t *o = (uint32_t *)out;
        const uint32_t *dv = (const uint32_t *)dict;
        for (int64_t i = 0; i < k; i++) o[i] = dv[idx[i]];
        break;
    }
    case 8: {
        uint64_t *o = (uint64_t *)out;
        const uint64_t *dv = (const uint64_t *)dict;
        for (int64_t i = 0; i < k; i++) o[i] = dv[idx[i]];
        break;
    }
    default:
        for (int64_t i = 0; i < k; i++) memcpy(out + i * w, dict + (size_t)idx[i] * w, (size_t)w);
        break;
    }
}

static mt_status gather_binary(pq_sink *s, const pq_dict *d, const uint32_t *idx, int64_t k,
                               mt_error *err)
{
    const int32_t *doff = (const int32_t *)d->values.offsets->data;
    const uint8_t *dval = d->values.values ? d->values.values->data : NULL;
    int64_t extra = 0;
    for (int64_t i = 0; i < k; i++) extra += doff[idx[i] + 1] - doff[idx[i]];
    MT_RETURN_NOT_OK(pq_sink_reserve(s, k, extra, err));
    int32_t *off = (int32_t *)s->offsets->data + s->count;
    uint8_t *dst = s->values->data;
    int64_t bytes = s->bytes;
    for (int64_t i = 0; i < k; i++) {
        int32_t a = doff[idx[i]], l = doff[idx[i] + 1] - a;
        memcpy(dst + bytes, dval + a, (size_t)l);
        bytes += l;
        off[i + 1] = (int32_t)bytes;
    }
    s->bytes = bytes;
    s->count += k;
    return MT_OK;
}

static mt_status gather(pq_sink *s, const pq_dict *d, const uint32_t *idx, int64_t k, mt_error *err)
{
    const pq_leaf *lf = s->leaf;
    uint32_t mx = 0;
    for (int64_t i = 0; i < k; i++) mx = idx[i] > mx ? idx[i] : mx;
    if (k > 0 && (int64_t)mx >= d->values.count)
        return mt_error_set(err, MT_ECORRUPT, "dictionary index %u out of range (%lld entries)", mx,
                            (long long)d->values.count);
    if (lf->store == PQ_STORE_BINARY) return gather_binary(s, d, idx, k, err);
    MT_RETURN_NOT_OK(pq_sink_reserve(s, k, 0, err));
    if (lf->store == PQ_STORE_BOOL) {
        const uint8_t *dv = d->values.values->data;
        uint8_t *o = s->values->data;
        for (int64_t i = 0; i < k; i++) {
            int64_t j = s->count + i;
            uint8_t bit = (dv[idx[i] >> 3] >> (idx[i] & 7)) & 1;
            o[j >> 3] = (uint8_t)((o[j >> 3] & ~(1u << (j & 7))) | (unsigned)(bit << (j & 7)));
        }
    } else {
        gather_fixed(s->values->data + s->count * lf->width, d->values.values->data, idx, k,
                     lf->width);
    }
    s->count += k;
    return MT_OK;
}

mt_status pq_decode_dict(pq_sink *s, const pq_dict *d, const uint8_t *p, size_t len, int64_t n,
                         mt_error *err)
{
    if (n == 0) return MT_OK;
    if (!d->values.leaf)
        return mt_error_set(err, MT_ECORRUPT, "dictionary-encoded page without a dictionary page");
    if (len < 1) return mt_error_set(err, MT_ECORRUPT, "dictionary indices: empty page data");
    int bw = p[0];
    if (bw > 32) return mt_error_set(err, MT_ECORRUPT, "dictionary indices: bit width %d", bw);
    pq_rle r;
    pq_rle_init(&r, p + 1, len - 1, bw, n);
    uint32_t idx[PQ_DICT_BATCH];
    while (n > 0) {
        int64_t k = n < PQ_DICT_BATCH ? n : PQ_DICT_BATCH;
        if (bw == 0) memset(idx, 0, sizeof idx);
        else MT_RETURN_NOT_OK(pq_rle_get_u32(&r, idx, k, err));
        MT_RETURN_NOT_OK(gather(s, d, idx, k, err));
        n -= k;
    }
    return MT_OK;
}
