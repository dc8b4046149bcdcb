/*
 * decode_dict.c — dictionary pages (PLAIN values converted once to the
 * leaf's Arrow storage) and PLAIN_DICTIONARY/RLE_DICTIONARY data pages
 * (RLE/bit-packed indices gathered from the dictionary).
 *
 * Single-threaded. Invariants: indices are decoded in batches and each batch
 * is checked against the dictionary size (one max-reduction, no per-value
 * branch) before the gather; an index out of range is MT_ECORRUPT. For
 * fixed-width leaves, RLE runs are filled without materialising indices and
 * bit-packed batches (at most PQ_DICT_BATCH, in L1) are gathered straight
 * into the sink.
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

/* `k` copies of the dictionary value `v` (checked) at out. */
static void fill_fixed(uint8_t *out, const uint8_t *v, int64_t k, int w)
{
    switch (w) {
    case 4: {
        uint32_t x, *o = (uint32_t *)out;
        memcpy(&x, v, 4);
        for (int64_t i = 0; i < k; i++) o[i] = x;
        break;
    }
    case 8: {
        uint64_t x, *o = (uint64_t *)out;
        memcpy(&x, v, 8);
        for (int64_t i = 0; i < k; i++) o[i] = x;
        break;
    }
    default:
        for (int64_t i = 0; i < k; i++) memcpy(out + i * w, v, (size_t)w);
        break;
    }
}

static mt_status index_error(uint32_t v, const pq_dict *d, mt_error *err)
{
    return mt_error_set(err, MT_ECORRUPT, "dictionary index %u out of range (%lld entries)", v,
                        (long long)d->values.count);
}

/* True when some index of the batch is >= dn (independent compares, no max chain). */
static bool batch_misses(const uint32_t *idx, int64_t k, uint64_t dn)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    int64_t i = 0;
    for (; i + 4 <= k; i += 4) {
        a |= idx[i] >= dn, b |= idx[i + 1] >= dn;
        c |= idx[i + 2] >= dn, d |= idx[i + 3] >= dn;
    }
    for (; i < k; i++) a |= idx[i] >= dn;
    return (a | b | c | d) != 0;
}

static uint32_t batch_max(const uint32_t *idx, int64_t k)
{
    uint32_t mx = 0;
    for (int64_t i = 0; i < k; i++) mx = idx[i] > mx ? idx[i] : mx;
    return mx;
}

/*
 * Unpack and gather fused, per bit width (a constant in each instance):
 * indices are clamped so the load stays in the dictionary, misses are
 * reported afterwards. Returns true when an index was out of range.
 */
#define PQ_DEF_GATHER_PACKED(NAME, T)                                                        \
    static inline __attribute__((always_inline)) bool NAME##_bw(T *o, const T *dv, uint64_t dn, \
                                                              const uint8_t *in, int64_t groups, \
                                                              int bw)                        \
    {                                                                                        \
        unsigned bad = 0;                                                                    \
        for (int64_t g = 0; g < groups; g++, in += bw, o += 8) {                             \
            _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++)                              \
            {                                                                                \
                uint32_t v = pq_unpack_at(in, k, bw);                                        \
                bad |= v >= dn;                                                              \
                o[k] = dv[v < dn ? v : 0];                                                   \
            }                                                                                \
        }                                                                                    \
        return bad != 0;                                                                     \
    }                                                                                        \
    static bool NAME(T *o, const T *dv, uint64_t dn, const uint8_t *in, int64_t groups, int bw) \
    {                                                                                        \
        switch (bw) {                                                                        \
        PQ_BW_CASES(NAME)                                                                    \
        default: return NAME##_bw(o, dv, dn, in, groups, bw);                                \
        }                                                                                    \
    }
#define PQ_BW_CASE(NAME, b) \
    case b: return NAME##_bw(o, dv, dn, in, groups, b);
#define PQ_BW_CASES(NAME)                                                                     \
    PQ_BW_CASE(NAME, 1) PQ_BW_CASE(NAME, 2) PQ_BW_CASE(NAME, 3) PQ_BW_CASE(NAME, 4)           \
    PQ_BW_CASE(NAME, 5) PQ_BW_CASE(NAME, 6) PQ_BW_CASE(NAME, 7) PQ_BW_CASE(NAME, 8)           \
    PQ_BW_CASE(NAME, 9) PQ_BW_CASE(NAME, 10) PQ_BW_CASE(NAME, 11) PQ_BW_CASE(NAME, 12)        \
    PQ_BW_CASE(NAME, 13) PQ_BW_CASE(NAME, 14) PQ_BW_CASE(NAME, 15) PQ_BW_CASE(NAME, 16)       \
    PQ_BW_CASE(NAME, 17) PQ_BW_CASE(NAME, 18) PQ_BW_CASE(NAME, 19) PQ_BW_CASE(NAME, 20)

PQ_DEF_GATHER_PACKED(gather_packed64, uint64_t)
PQ_DEF_GATHER_PACKED(gather_packed32, uint32_t)

/* A packed stretch into `out`; false (and idx unpacked for the message) on a miss. */
static bool gather_packed(uint8_t *out, const uint8_t *dv, uint64_t dn, const uint8_t *in,
                          int64_t n, int bw, int w, uint32_t *idx)
{
    bool bad;
    if (w == 8) bad = gather_packed64((uint64_t *)out, (const uint64_t *)dv, dn, in, n / 8, bw);
    else if (w == 4) bad = gather_packed32((uint32_t *)out, (const uint32_t *)dv, dn, in, n / 8, bw);
    else {
        for (int64_t i = 0; i < n; i++) idx[i] = pq_unpack_at(in + (i / 8) * bw, (int)(i % 8), bw);
        if (batch_misses(idx, n, dn)) return false;
        gather_fixed(out, dv, idx, n, w);
        return true;
    }
    if (bad)
        for (int64_t i = 0; i < n; i++) idx[i] = pq_unpack_at(in + (i / 8) * bw, (int)(i % 8), bw);
    return !bad;
}

/* Fixed-width leaves: runs become fills, bit-packed batches a checked gather, straight into the sink. */
static mt_status decode_fixed(pq_sink *s, const pq_dict *d, pq_rle *r, int64_t n, mt_error *err)
{
    int w = s->leaf->width;
    MT_RETURN_NOT_OK(pq_sink_reserve(s, n, 0, err));
    uint8_t *out = s->values->data + s->count * w;
    const uint8_t *dv = d->values.values->data;
    uint64_t dn = (uint64_t)d->values.count;
    if (r->bit_width == 0) { /* every index is 0, whatever runs follow */
        if (dn == 0) return index_error(0, d, err);
        fill_fixed(out, dv, n, w);
        s->count += n;
        return MT_OK;
    }
    bool all_fit = r->bit_width < 32 && ((uint64_t)1 << r->bit_width) <= dn; /* no index can miss */
    uint32_t idx[PQ_DICT_BATCH];
    for (int64_t left = n; left > 0;) {
        pq_rle_chunk c;
        MT_RETURN_NOT_OK(pq_rle_next_chunk_packed(r, idx, left < PQ_DICT_BATCH ? left : PQ_DICT_BATCH,
                                                  &c, err));
        if (c.packed) {
            if (!gather_packed(out, dv, dn, c.packed, c.n, r->bit_width, w, idx))
                return index_error(batch_max(idx, c.n), d, err);
        } else if (c.run) {
            if (c.value >= dn) return index_error(c.value, d, err);
            fill_fixed(out, dv + (size_t)c.value * w, c.n, w);
        } else {
            if (!all_fit && batch_misses(idx, c.n, dn)) return index_error(batch_max(idx, c.n), d, err);
            gather_fixed(out, dv, idx, c.n, w);
        }
        out += c.n * w;
        left -= c.n;
    }
    s->count += n;
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
    if (s->leaf->store == PQ_STORE_FIXED) return decode_fixed(s, d, &r, n, err);
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
