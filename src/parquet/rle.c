/*
 * rle.c — Parquet's RLE/bit-packed hybrid encoding (levels, dictionary
 * indices, RLE booleans), the legacy MSB-first BIT_PACKED levels, fast
 * bit unpacking (8 values per step, specialised per bit width), run-wise
 * access for fused consumers (pq_rle_next_chunk) and bit copying between
 * bitmaps.
 *
 * Single-threaded; a pq_rle is a cursor over one caller-owned buffer.
 * Invariants: nothing is read outside [p, end) (the last group of a run is
 * copied into a zero-padded scratch), nothing beyond the `n` values asked
 * for is written, and an RLE run longer than the values still expected is
 * MT_ECORRUPT. Bit-packed runs are padded to groups of 8 by definition, so
 * their surplus is ignored.
 */
#include "parquet/pq_value.h"

static inline void unpack8(const uint8_t *in, uint32_t *out, int bw)
{
    const uint64_t mask = bw == 32 ? 0xffffffffu : ((1ull << bw) - 1);
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        int bit = k * bw;
        uint64_t w;
        memcpy(&w, in + (bit >> 3), 8);
        out[k] = (uint32_t)((w >> (bit & 7)) & mask);
    }
}

/* Unpacks `groups` groups of 8; needs 8 readable bytes past the last group. */
static void unpack_fast(const uint8_t *in, uint32_t *out, int64_t groups, int bw)
{
    switch (bw) {
#define PQ_UNPACK_CASE(b)                                                      \
    case b:                                                                    \
        for (int64_t g = 0; g < groups; g++) unpack8(in + g * b, out + g * 8, b); \
        break;
        PQ_UNPACK_CASE(1) PQ_UNPACK_CASE(2) PQ_UNPACK_CASE(3) PQ_UNPACK_CASE(4)
        PQ_UNPACK_CASE(5) PQ_UNPACK_CASE(6) PQ_UNPACK_CASE(7) PQ_UNPACK_CASE(8)
        PQ_UNPACK_CASE(9) PQ_UNPACK_CASE(10) PQ_UNPACK_CASE(11) PQ_UNPACK_CASE(12)
        PQ_UNPACK_CASE(13) PQ_UNPACK_CASE(14) PQ_UNPACK_CASE(15) PQ_UNPACK_CASE(16)
        PQ_UNPACK_CASE(17) PQ_UNPACK_CASE(18) PQ_UNPACK_CASE(19) PQ_UNPACK_CASE(20)
        PQ_UNPACK_CASE(21) PQ_UNPACK_CASE(22) PQ_UNPACK_CASE(23) PQ_UNPACK_CASE(24)
        PQ_UNPACK_CASE(25) PQ_UNPACK_CASE(26) PQ_UNPACK_CASE(27) PQ_UNPACK_CASE(28)
        PQ_UNPACK_CASE(29) PQ_UNPACK_CASE(30) PQ_UNPACK_CASE(31) PQ_UNPACK_CASE(32)
#undef PQ_UNPACK_CASE
    default:
        memset(out, 0, (size_t)groups * 8 * sizeof(uint32_t));
        break;
    }
}

/* One group from at most `avail` bytes (missing bytes read as zero). */
static void unpack_group_safe(const uint8_t *in, size_t avail, uint32_t *out, int bw)
{
    uint8_t tmp[48] = {0};
    memcpy(tmp, in, avail < (size_t)bw ? avail : (size_t)bw);
    unpack_fast(tmp, out, 1, bw);
}

/*
 * Unpacks `groups` groups from `in`, of which `avail` bytes are readable:
 * the groups whose 8-byte loads stay inside them go the fast way, the rest
 * through a zero-padded copy.
 */
static void unpack_avail(const uint8_t *in, size_t avail, uint32_t *out, int64_t groups, int bw)
{
    if (bw == 0) {
        memset(out, 0, (size_t)groups * 8 * sizeof(uint32_t));
        return;
    }
    /* unpack8 reads up to byte (7 * bw) / 8 + 8 of its group. */
    size_t reach = (size_t)((7 * bw) >> 3) + 8;
    int64_t fast = avail < reach ? 0 : (int64_t)((avail - reach) / (size_t)bw) + 1;
    if (fast > groups) fast = groups;
    unpack_fast(in, out, fast, bw);
    for (int64_t g = fast; g < groups; g++) {
        size_t off = (size_t)(g * bw);
        unpack_group_safe(in + off, off < avail ? avail - off : 0, out + g * 8, bw);
    }
}

void pq_unpack32(const uint8_t *in, uint32_t *out, int64_t n, int bw)
{
    unpack_avail(in, (size_t)(n / 8) * (size_t)bw, out, n / 8, bw);
}

void pq_rle_init(pq_rle *d, const uint8_t *p, size_t len, int bit_width, int64_t total)
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->end = p + len;
    d->bit_width = bit_width;
    d->remaining = total;
    d->buf_pos = 8;
}

static mt_status next_run(pq_rle *d, mt_error *err)
{
    for (int guard = 0;; guard++) {
        uint64_t h = 0;
        int shift = 0;
        for (;;) {
            if (d->p >= d->end || shift > 28)
                return mt_error_set(err, MT_ECORRUPT, "RLE data ends early (%lld values missing)",
                                    (long long)d->remaining);
            uint8_t b = *d->p++;
            h |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80)) break;
        }
        if (h & 1) {
            uint64_t count = (h >> 1) * 8;
            if (d->bit_width > 0) { /* clamp to the bytes present */
                uint64_t avail = (uint64_t)(d->end - d->p) * 8 / (uint64_t)d->bit_width;
                if (count > avail) count = avail;
            }
            if (count > (uint64_t)d->remaining) count = (uint64_t)d->remaining;
            d->bp_left = (uint32_t)count;
            d->buf_pos = 8;
        } else {
            uint64_t count = h >> 1;
            int nbytes = (d->bit_width + 7) / 8;
            if (nbytes > d->end - d->p)
                return mt_error_set(err, MT_ECORRUPT, "RLE run value truncated");
            uint32_t v = 0;
            for (int i = 0; i < nbytes; i++) v |= (uint32_t)d->p[i] << (8 * i);
            d->p += nbytes;
            if (count > (uint64_t)d->remaining)
                return mt_error_set(err, MT_ECORRUPT,
                                    "RLE run of %llu values overflows the %lld values expected",
                                    (unsigned long long)count, (long long)d->remaining);
            d->rle_left = (uint32_t)count;
            d->rle_value = v;
        }
        if (d->rle_left || d->bp_left) return MT_OK;
        if (guard > 1000000) return mt_error_set(err, MT_ECORRUPT, "RLE data holds only empty runs");
    }
}

/* Refills buf with the next group of the current bit-packed run. */
static void fill_group(pq_rle *d)
{
    size_t avail = (size_t)(d->end - d->p);
    int bw = d->bit_width;
    if (bw == 0) {
        memset(d->buf, 0, sizeof d->buf);
    } else {
        unpack_group_safe(d->p, avail, d->buf, bw);
        d->p += avail < (size_t)bw ? avail : (size_t)bw;
    }
    d->buf_pos = 0;
}

#define PQ_RLE_GET(NAME, T)                                                           \
    mt_status NAME(pq_rle *d, T *out, int64_t n, mt_error *err)                       \
    {                                                                                 \
        if (n > d->remaining)                                                         \
            return mt_error_set(err, MT_ECORRUPT, "RLE: %lld values asked, %lld left", \
                                (long long)n, (long long)d->remaining);               \
        uint32_t tmp[256];                                                            \
        while (n > 0) {                                                               \
            if (d->rle_left) {                                                        \
                int64_t k = n < d->rle_left ? n : d->rle_left;                        \
                T v = (T)d->rle_value;                                                \
                for (int64_t i = 0; i < k; i++) out[i] = v;                           \
                out += k, n -= k, d->rle_left -= (uint32_t)k, d->remaining -= k;      \
            } else if (d->bp_left) {                                                  \
                if (d->buf_pos == 8 && d->bp_left >= 8 && n >= 8) {                   \
                    int64_t g = (n < d->bp_left ? n : d->bp_left) / 8;                \
                    int bw = d->bit_width;                                            \
                    if (g > 32) g = 32;                                               \
                    if (bw > 0 && (int64_t)(d->end - d->p) < g * bw) g = 0;           \
                    if (g > 0) {                                                      \
                        unpack_avail(d->p, (size_t)(d->end - d->p), tmp, g, bw);      \
                        d->p += g * bw;                                               \
                        for (int64_t i = 0; i < g * 8; i++) out[i] = (T)tmp[i];       \
                        out += g * 8, n -= g * 8, d->remaining -= g * 8;              \
                        d->bp_left -= (uint32_t)(g * 8);                              \
                        continue;                                                     \
                    }                                                                 \
                }                                                                     \
                if (d->buf_pos == 8) fill_group(d);                                   \
                while (d->buf_pos < 8 && d->bp_left && n) {                           \
                    *out++ = (T)d->buf[d->buf_pos++];                                 \
                    n--, d->bp_left--, d->remaining--;                                \
                }                                                                     \
            } else {                                                                  \
                MT_RETURN_NOT_OK(next_run(d, err));                                   \
            }                                                                         \
        }                                                                             \
        return MT_OK;                                                                 \
    }

PQ_RLE_GET(pq_rle_get_u32, uint32_t)
PQ_RLE_GET(pq_rle_get_u8, uint8_t)

mt_status pq_rle_next_chunk_packed(pq_rle *d, uint32_t *buf, int64_t max, pq_rle_chunk *c,
                                   mt_error *err)
{
    c->packed = NULL;
    int bw = d->bit_width;
    if (max > 0 && max <= d->remaining)
        while (!d->rle_left && !d->bp_left) MT_RETURN_NOT_OK(next_run(d, err));
    if (d->bp_left >= 8 && d->buf_pos == 8 && max >= 8 && max <= d->remaining && bw > 0) {
        int64_t want = max < d->bp_left ? max : d->bp_left;
        size_t avail = (size_t)(d->end - d->p);
        size_t reach = (size_t)((7 * bw) >> 3) + 8;
        int64_t g = avail < reach ? 0 : (int64_t)((avail - reach) / (size_t)bw) + 1;
        if (g > want / 8) g = want / 8;
        if (g > 0) {
            c->run = false, c->packed = d->p, c->n = g * 8;
            d->p += g * bw, d->bp_left -= (uint32_t)(g * 8), d->remaining -= g * 8;
            return MT_OK;
        }
    }
    return pq_rle_next_chunk(d, buf, max, c, err);
}

mt_status pq_rle_next_chunk(pq_rle *d, uint32_t *buf, int64_t max, pq_rle_chunk *c, mt_error *err)
{
    c->packed = NULL;
    if (max > d->remaining) max = d->remaining;
    if (max <= 0)
        return mt_error_set(err, MT_ECORRUPT, "RLE: values asked past the end of the stream");
    while (!d->rle_left && !d->bp_left) MT_RETURN_NOT_OK(next_run(d, err));
    if (d->rle_left) {
        int64_t k = max < d->rle_left ? max : d->rle_left;
        c->run = true, c->value = d->rle_value, c->n = k;
        d->rle_left -= (uint32_t)k, d->remaining -= k;
        return MT_OK;
    }
    int64_t k = 0;
    int bw = d->bit_width;
    while (d->buf_pos < 8 && d->bp_left && k < max) buf[k++] = d->buf[d->buf_pos++], d->bp_left--;
    if (d->buf_pos == 8) {
        int64_t want = max - k < d->bp_left ? max - k : d->bp_left;
        int64_t g = want / 8;
        size_t avail = (size_t)(d->end - d->p);
        if (bw > 0 && (uint64_t)g * (uint64_t)bw > avail) g = (int64_t)(avail / (size_t)bw);
        unpack_avail(d->p, avail, buf + k, g, bw);
        d->p += g * bw, k += g * 8, d->bp_left -= (uint32_t)(g * 8);
    }
    if (k == 0) { /* fewer than 8 values wanted or left: one group through the scratch */
        if (d->buf_pos == 8) fill_group(d);
        while (d->buf_pos < 8 && d->bp_left && k < max) buf[k++] = d->buf[d->buf_pos++], d->bp_left--;
    }
    c->run = false, c->n = k;
    d->remaining -= k;
    return MT_OK;
}

bool pq_rle_is_const(const uint8_t *p, size_t len, int bit_width, int64_t n, uint32_t value)
{
    const uint8_t *end = p + len;
    int nbytes = (bit_width + 7) / 8;
    while (n > 0) {
        uint64_t h = 0;
        for (int shift = 0;; shift += 7) {
            if (p >= end || shift > 28) return false;
            uint8_t b = *p++;
            h |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80)) break;
        }
        if ((h & 1) || h == 0 || nbytes > end - p) return false;
        uint32_t v = 0;
        for (int i = 0; i < nbytes; i++) v |= (uint32_t)p[i] << (8 * i);
        p += nbytes;
        if (v != value || (h >> 1) > (uint64_t)n) return false;
        n -= (int64_t)(h >> 1);
    }
    return true;
}

mt_status pq_rle_get_bits(pq_rle *d, uint8_t *bitmap, int64_t bit_off, int64_t n, mt_error *err)
{
    uint8_t tmp[1024];
    while (n > 0) {
        int64_t k = n < 1024 ? n : 1024;
        MT_RETURN_NOT_OK(pq_rle_get_u8(d, tmp, k, err));
        for (int64_t i = 0; i < k; i++) {
            int64_t j = bit_off + i;
            if (tmp[i] & 1) bitmap[j >> 3] |= (uint8_t)(1u << (j & 7));
            else bitmap[j >> 3] &= (uint8_t)~(1u << (j & 7));
        }
        bit_off += k;
        n -= k;
    }
    return MT_OK;
}

mt_status pq_bitpacked_levels(const uint8_t *p, size_t len, int bw, uint8_t *out, int64_t n,
                              size_t *used, mt_error *err)
{
    uint64_t bytes = ((uint64_t)n * (uint64_t)bw + 7) / 8;
    if (bytes > len)
        return mt_error_set(err, MT_ECORRUPT, "BIT_PACKED levels need %llu bytes, %zu present",
                            (unsigned long long)bytes, len);
    uint64_t bit = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t v = 0;
        for (int b = 0; b < bw; b++, bit++)
            v = (v << 1) | ((p[bit >> 3] >> (7 - (bit & 7))) & 1);
        out[i] = (uint8_t)v;
    }
    *used = (size_t)bytes;
    return MT_OK;
}

void pq_copy_bits(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off, int64_t n)
{
    if (n <= 0) return;
    if ((dst_off & 7) == 0 && (src_off & 7) == 0) {
        int64_t whole = n >> 3;
        memcpy(dst + (dst_off >> 3), src + (src_off >> 3), (size_t)whole);
        for (int64_t i = whole * 8; i < n; i++) {
            int64_t s = src_off + i, t = dst_off + i;
            uint8_t bit = (src[s >> 3] >> (s & 7)) & 1;
            dst[t >> 3] = (uint8_t)((dst[t >> 3] & ~(1u << (t & 7))) | (unsigned)(bit << (t & 7)));
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t s = src_off + i, t = dst_off + i;
        uint8_t bit = (src[s >> 3] >> (s & 7)) & 1;
        dst[t >> 3] = (uint8_t)((dst[t >> 3] & ~(1u << (t & 7))) | (unsigned)(bit << (t & 7)));
    }
}
