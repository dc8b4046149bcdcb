/*
 * decode_delta.c — DELTA_BINARY_PACKED (in 64-bit wrapping arithmetic, also
 * for INT32 columns, bit widths 0–64), DELTA_LENGTH_BYTE_ARRAY and
 * DELTA_BYTE_ARRAY.
 *
 * Single-threaded. Invariants: header fields are validated (block size a
 * multiple of 128, miniblock size a multiple of 32, counts positive and
 * bounded) before use; the bytes of each miniblock that are needed must be
 * present; lengths and prefix lengths are checked against the data and the
 * previous value.
 */
#include "parquet/pq_value.h"

static mt_status uleb(const uint8_t **p, const uint8_t *end, uint64_t *out, mt_error *err)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end) return mt_error_set(err, MT_ECORRUPT, "DELTA header ends early");
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return MT_OK;
        }
    }
    return mt_error_set(err, MT_ECORRUPT, "DELTA header: varint too long");
}

static uint64_t unzigzag(uint64_t v)
{
    return (v >> 1) ^ (0 - (v & 1));
}

/* Value i of `bw` bits (0..64) from [p, p+avail), missing bytes read as zero. */
static uint64_t bits_at(const uint8_t *p, size_t avail, uint64_t i, int bw)
{
    uint64_t bit = i * (uint64_t)bw;
    size_t b0 = (size_t)(bit >> 3);
    int sh = (int)(bit & 7);
    uint8_t tmp[16] = {0};
    for (int k = 0; k < 9 && b0 + (size_t)k < avail; k++) tmp[k] = p[b0 + k];
    uint64_t lo, v;
    memcpy(&lo, tmp, 8);
    v = lo >> sh;
    if (sh && bw + sh > 64) v |= (uint64_t)tmp[8] << (64 - sh);
    return bw == 64 ? v : v & ((1ull << bw) - 1);
}

typedef struct delta_hdr {
    uint64_t block, minis, total, per_mini;
    uint64_t first;
} delta_hdr;

static mt_status read_hdr(const uint8_t **p, const uint8_t *end, delta_hdr *h, mt_error *err)
{
    MT_RETURN_NOT_OK(uleb(p, end, &h->block, err));
    MT_RETURN_NOT_OK(uleb(p, end, &h->minis, err));
    MT_RETURN_NOT_OK(uleb(p, end, &h->total, err));
    MT_RETURN_NOT_OK(uleb(p, end, &h->first, err));
    h->first = unzigzag(h->first);
    if (h->block == 0 || h->block % 128 || h->block > (1u << 20) || h->minis == 0
        || h->minis > h->block || h->block % h->minis || (h->block / h->minis) % 32)
        return mt_error_set(err, MT_ECORRUPT,
                            "DELTA_BINARY_PACKED: bad block size %llu / %llu miniblocks",
                            (unsigned long long)h->block, (unsigned long long)h->minis);
    h->per_mini = h->block / h->minis;
    return MT_OK;
}

static void unpack_mini(const uint8_t *p, size_t avail, int bw, uint64_t k, uint64_t per_mini,
                        uint64_t min_delta, uint64_t *last, int64_t *out)
{
    uint64_t v = *last;
    if (bw <= 32 && avail >= per_mini * (uint64_t)bw / 8) {
        uint32_t tmp[256];
        for (uint64_t done = 0; done < k; done += 256) {
            uint64_t m = k - done < 256 ? k - done : 256;
            uint64_t m8 = (m + 7) & ~7ull; /* within the miniblock: per_mini % 32 == 0 */
            pq_unpack32(p + done * (uint64_t)bw / 8, tmp, (int64_t)m8, bw);
            for (uint64_t i = 0; i < m; i++) {
                v += min_delta + tmp[i];
                out[done + i] = (int64_t)v;
            }
        }
    } else {
        for (uint64_t i = 0; i < k; i++) {
            v += min_delta + bits_at(p, avail, i, bw);
            out[i] = (int64_t)v;
        }
    }
    *last = v;
}

mt_status pq_delta_decode_i64(const uint8_t *p, size_t len, int64_t n, int64_t *out, size_t *used,
                              mt_error *err)
{
    const uint8_t *q = p, *end = p + len;
    delta_hdr h;
    MT_RETURN_NOT_OK(read_hdr(&q, end, &h, err));
    if (h.total < (uint64_t)n)
        return mt_error_set(err, MT_ECORRUPT, "DELTA_BINARY_PACKED holds %llu values, %lld expected",
                            (unsigned long long)h.total, (long long)n);
    uint64_t last = h.first;
    int64_t got = 0;
    if (n > 0) out[got++] = (int64_t)last;
    while (got < n) {
        uint64_t md;
        MT_RETURN_NOT_OK(uleb(&q, end, &md, err));
        md = unzigzag(md);
        if ((uint64_t)(end - q) < h.minis)
            return mt_error_set(err, MT_ECORRUPT, "DELTA_BINARY_PACKED: miniblock widths missing");
        const uint8_t *widths = q;
        q += h.minis;
        for (uint64_t m = 0; m < h.minis && got < n; m++) {
            int bw = widths[m];
            if (bw > 64)
                return mt_error_set(err, MT_ECORRUPT, "DELTA_BINARY_PACKED: bit width %d", bw);
            uint64_t k = (uint64_t)(n - got) < h.per_mini ? (uint64_t)(n - got) : h.per_mini;
            size_t avail = (size_t)(end - q);
            if ((k * (uint64_t)bw + 7) / 8 > avail)
                return mt_error_set(err, MT_ECORRUPT, "DELTA_BINARY_PACKED: miniblock truncated");
            unpack_mini(q, avail, bw, k, h.per_mini, md, &last, out + got);
            got += (int64_t)k;
            uint64_t full = h.per_mini * (uint64_t)bw / 8;
            q += full < avail ? full : avail;
        }
    }
    *used = (size_t)(q - p);
    return MT_OK;
}

mt_status pq_decode_delta_binary(pq_sink *s, const uint8_t *p, size_t len, int64_t n,
                                 mt_error *err)
{
    const pq_leaf *lf = s->leaf;
    if (lf->physical != PQ_INT32 && lf->physical != PQ_INT64)
        return mt_error_set(err, MT_ECORRUPT, "DELTA_BINARY_PACKED on a non-integer column");
    int64_t *tmp = mt_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (!tmp) return mt_error_set(err, MT_ENOMEM, "out of memory decoding %lld values", (long long)n);
    size_t used;
    mt_status st = pq_delta_decode_i64(p, len, n, tmp, &used, err);
    if (st == MT_OK) st = pq_sink_reserve(s, n, 0, err);
    if (st == MT_OK) {
        if (lf->physical == PQ_INT32) { /* narrow in place, then convert */
            uint8_t *t8 = (uint8_t *)tmp;
            for (int64_t i = 0; i < n; i++) {
                int32_t v = (int32_t)(uint32_t)(uint64_t)tmp[i];
                memcpy(t8 + i * 4, &v, 4);
            }
        }
        pq_convert_fixed(lf, (const uint8_t *)tmp, n, s->values->data + s->count * lf->width);
        s->count += n;
    }
    mt_free(tmp);
    return st;
}

/* Lengths stream of exactly n values; *used = its bytes. */
static mt_status lengths(const uint8_t *p, size_t len, int64_t n, int64_t **out, size_t *used,
                         mt_error *err)
{
    const uint8_t *q = p;
    delta_hdr h;
    MT_RETURN_NOT_OK(read_hdr(&q, p + len, &h, err));
    if (h.total != (uint64_t)n)
        return mt_error_set(err, MT_ECORRUPT, "DELTA lengths: %llu values, %lld expected",
                            (unsigned long long)h.total, (long long)n);
    *out = mt_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (!*out) return mt_error_set(err, MT_ENOMEM, "out of memory decoding %lld lengths", (long long)n);
    mt_status st = pq_delta_decode_i64(p, len, n, *out, used, err);
    if (st == MT_OK && n == 0) *used = (size_t)(q - p);
    return st;
}

mt_status pq_decode_delta_length(pq_sink *s, const uint8_t *p, size_t len, int64_t n,
                                 mt_error *err)
{
    int64_t *ls = NULL;
    size_t used = 0;
    mt_status st = lengths(p, len, n, &ls, &used, err);
    const uint8_t *q = p + used, *end = p + len;
    if (st == MT_OK && s->leaf->store == PQ_STORE_BINARY)
        st = pq_sink_reserve(s, n, (int64_t)(end - q), err);
    for (int64_t i = 0; st == MT_OK && i < n; i++) {
        if (ls[i] < 0 || ls[i] > end - q) {
            st = mt_error_set(err, MT_ECORRUPT, "DELTA_LENGTH_BYTE_ARRAY: length %lld of value %lld exceeds the page",
                              (long long)ls[i], (long long)i);
            break;
        }
        st = pq_sink_append_bytes(s, q, ls[i], err);
        q += ls[i];
    }
    mt_free(ls);
    return st;
}

mt_status pq_decode_delta_byte_array(pq_sink *s, const uint8_t *p, size_t len, int64_t n,
                                     mt_error *err)
{
    int64_t *pre = NULL, *suf = NULL;
    size_t u1 = 0, u2 = 0;
    uint8_t *prev = NULL;
    int64_t prev_len = 0, prev_cap = 0;
    mt_status st = lengths(p, len, n, &pre, &u1, err);
    if (st == MT_OK) st = lengths(p + u1, len - u1, n, &suf, &u2, err);
    const uint8_t *q = p + u1 + u2, *end = p + len;
    for (int64_t i = 0; st == MT_OK && i < n; i++) {
        if (pre[i] < 0 || pre[i] > prev_len || suf[i] < 0 || suf[i] > end - q) {
            st = mt_error_set(err, MT_ECORRUPT,
                              "DELTA_BYTE_ARRAY: value %lld has prefix %lld (previous %lld bytes), suffix %lld",
                              (long long)i, (long long)pre[i], (long long)prev_len, (long long)suf[i]);
            break;
        }
        int64_t l = pre[i] + suf[i];
        if (l > prev_cap) {
            int64_t cap = l > 2 * prev_cap ? l : 2 * prev_cap;
            uint8_t *np = mt_realloc(prev, (size_t)cap);
            if (!np) {
                st = mt_error_set(err, MT_ENOMEM, "out of memory");
                break;
            }
            prev = np;
            prev_cap = cap;
        }
        if (suf[i] > 0) memcpy(prev + pre[i], q, (size_t)suf[i]);
        q += suf[i];
        prev_len = l;
        st = pq_sink_append_bytes(s, prev, l, err);
    }
    mt_free(prev);
    mt_free(pre);
    mt_free(suf);
    return st;
}
