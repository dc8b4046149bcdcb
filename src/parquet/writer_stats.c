/*
 * writer_stats.c — column chunk statistics: min_value/max_value in the order
 * Parquet defines for the column (signed for INT32/INT64/FLOAT/DOUBLE and
 * DECIMAL, unsigned for UINT_* and byte arrays, numeric for FLOAT16) and
 * the null count.
 *
 * Single-threaded. NaNs are ignored; a column of only NaNs (or only nulls)
 * gets no min/max. A zero minimum is written as -0.0 and a zero maximum as
 * +0.0, as the specification asks. Numeric types have tight typed loops.
 * Long BYTE_ARRAY bounds are truncated (pq_w_stats_truncate).
 */
#include <math.h>
#include <string.h>

#include "parquet/pq_encode.h"

static float half_to_float(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v = e == 0 ? ldexpf((float)m, -24)
            : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 0x400), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Compares two values of the leaf's type given as PLAIN bytes (no length prefix). */
static int cmp_bytes(const pq_w_leaf *l, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    switch (l->physical) {
    case PQ_BOOLEAN: return (int)a[0] - (int)b[0];
    case PQ_INT32: {
        int32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        if (l->sort_signed) return x < y ? -1 : x > y;
        return (uint32_t)x < (uint32_t)y ? -1 : (uint32_t)x > (uint32_t)y;
    }
    case PQ_INT64: {
        int64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (l->sort_signed) return x < y ? -1 : x > y;
        return (uint64_t)x < (uint64_t)y ? -1 : (uint64_t)x > (uint64_t)y;
    }
    case PQ_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return x < y ? -1 : x > y;
    }
    case PQ_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return x < y ? -1 : x > y;
    }
    default:
        break;
    }
    if (l->type->id == MT_TYPE_FLOAT16) {
        float x = half_to_float((uint16_t)(a[0] | a[1] << 8));
        float y = half_to_float((uint16_t)(b[0] | b[1] << 8));
        return x < y ? -1 : x > y;
    }
    if (l->type->id == MT_TYPE_DECIMAL128 && al && bl && (a[0] ^ b[0]) & 0x80)
        return (a[0] & 0x80) ? -1 : 1; /* big-endian two's complement, equal widths */
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static bool is_nan(const pq_w_leaf *l, const uint8_t *p)
{
    if (l->physical == PQ_FLOAT) {
        float x;
        memcpy(&x, p, 4);
        return isnan(x);
    }
    if (l->physical == PQ_DOUBLE) {
        double x;
        memcpy(&x, p, 8);
        return isnan(x);
    }
    if (l->type->id == MT_TYPE_FLOAT16) return ((p[1] & 0x7c) == 0x7c) && ((p[1] & 3) | p[0]);
    return false;
}

static const uint8_t *value_at(const pq_values *v, int64_t k, size_t *len)
{
    if (v->physical != PQ_BYTE_ARRAY) {
        *len = (size_t)v->width;
        return v->fixed + k * v->width;
    }
    int64_t p = pq_values_pos(v, k);
    *len = (size_t)(v->offsets[p + 1] - v->offsets[p]);
    return v->bytes + v->offsets[p];
}

/* Index of the min and max non-NaN value, or -1. Typed loops for the common types. */
#define MINMAX_LOOP(T)                                                      \
    do {                                                                    \
        const T *x = (const T *)(const void *)v->fixed;                     \
        T lo = 0, hi = 0;                                                   \
        for (int64_t k = 0; k < v->n; k++) {                                \
            T y = x[k];                                                     \
            if (y != y) continue;                                           \
            if (*imin < 0) { lo = hi = y; *imin = *imax = k; continue; }    \
            if (y < lo) { lo = y; *imin = k; }                              \
            if (y > hi) { hi = y; *imax = k; }                              \
        }                                                                   \
    } while (0)

static void find_minmax(const pq_w_leaf *l, const pq_values *v, int64_t *imin, int64_t *imax)
{
    *imin = *imax = -1;
    int p = l->physical;
    if (p == PQ_INT32 && l->sort_signed) MINMAX_LOOP(int32_t);
    else if (p == PQ_INT32) MINMAX_LOOP(uint32_t);
    else if (p == PQ_INT64 && l->sort_signed) MINMAX_LOOP(int64_t);
    else if (p == PQ_INT64) MINMAX_LOOP(uint64_t);
    else if (p == PQ_FLOAT) MINMAX_LOOP(float);
    else if (p == PQ_DOUBLE) MINMAX_LOOP(double);
    else {
        const uint8_t *lo = NULL, *hi = NULL;
        size_t lol = 0, hil = 0;
        for (int64_t k = 0; k < v->n; k++) {
            size_t len;
            const uint8_t *q = value_at(v, k, &len);
            if (is_nan(l, q)) continue;
            if (!lo || cmp_bytes(l, q, len, lo, lol) < 0) { lo = q; lol = len; *imin = k; }
            if (!hi || cmp_bytes(l, q, len, hi, hil) > 0) { hi = q; hil = len; *imax = k; }
        }
    }
}

static mt_status set_buf(pq_buf *b, const uint8_t *p, size_t n, mt_error *err)
{
    b->len = 0;
    MT_RETURN_NOT_OK(pq_buf_reserve(b, n ? n : 1, err));
    return pq_buf_append(b, p, n, err);
}

/* Writes -0.0 for a zero minimum and +0.0 for a zero maximum. */
static void fix_zero(const pq_w_leaf *l, pq_buf *b, bool is_min)
{
    if (l->physical == PQ_FLOAT) {
        float x;
        memcpy(&x, b->data, 4);
        if (x == 0) x = is_min ? -0.0f : 0.0f;
        memcpy(b->data, &x, 4);
    } else if (l->physical == PQ_DOUBLE) {
        double x;
        memcpy(&x, b->data, 8);
        if (x == 0) x = is_min ? -0.0 : 0.0;
        memcpy(b->data, &x, 8);
    }
}

mt_status pq_w_stats_update(pq_w_stats *st, const pq_w_leaf *l, const pq_values *v,
                            mt_error *err)
{
    int64_t imin, imax;
    find_minmax(l, v, &imin, &imax);
    if (imin < 0) return MT_OK;
    size_t ln, hn;
    const uint8_t *lo = value_at(v, imin, &ln), *hi = value_at(v, imax, &hn);
    if (!st->has_min_max || cmp_bytes(l, lo, ln, st->min.data, st->min.len) < 0) {
        MT_RETURN_NOT_OK(set_buf(&st->min, lo, ln, err));
        fix_zero(l, &st->min, true);
    }
    if (!st->has_min_max || cmp_bytes(l, hi, hn, st->max.data, st->max.len) > 0) {
        MT_RETURN_NOT_OK(set_buf(&st->max, hi, hn, err));
        fix_zero(l, &st->max, false);
    }
    st->has_min_max = true;
    return MT_OK;
}

/* Length of the longest prefix of p[0, n) that is at most `cap` bytes and ends on a UTF-8 boundary. */
static size_t utf8_prefix(const uint8_t *p, size_t n, size_t cap)
{
    if (n <= cap) return n;
    size_t k = cap;
    while (k > 0 && (p[k] & 0xC0) == 0x80) k--; /* p[k] continues a character: cut before it */
    return k;
}

/* Encodes code point cp as UTF-8 into out; returns its length. */
static size_t utf8_put(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) return out[0] = (uint8_t)cp, 1;
    if (cp < 0x800) return out[0] = (uint8_t)(0xC0 | cp >> 6), out[1] = (uint8_t)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the character starting at p (len bytes); returns false if not well-formed. */
static bool utf8_get(const uint8_t *p, size_t len, uint32_t *cp)
{
    if (len == 1 && p[0] < 0x80) return *cp = p[0], true;
    if (len == 2 && (p[0] & 0xE0) == 0xC0) return *cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F), true;
    if (len == 3 && (p[0] & 0xF0) == 0xE0)
        return *cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F), true;
    if (len == 4 && (p[0] & 0xF8) == 0xF0)
        return *cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
                     (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F), true;
    return false;
}

/*
 * An upper bound for every value starting with p[0, n): drop characters from
 * the end until one can be incremented (to the next code point, skipping
 * surrogates), then write it back. Byte order of UTF-8 is code-point order,
 * so the result sorts after every such value; it may grow by up to 3 bytes
 * (within `room`). Returns the new length, or 0
 * if no bound shorter than the original exists (all U+10FFFF, or not UTF-8).
 */
static size_t upper_bound(uint8_t *p, size_t n, size_t room)
{
    while (n > 0) {
        size_t start = n - 1;
        while (start > 0 && (p[start] & 0xC0) == 0x80) start--;
        uint32_t cp;
        if (!utf8_get(p + start, n - start, &cp)) return 0;
        uint32_t next = cp + 1 == 0xD800 ? 0xE000 : cp + 1;
        if (next <= 0x10FFFF) {
            uint8_t enc[4];
            size_t k = utf8_put(next, enc);
            if (start + k > room) { /* a longer encoding that does not fit the buffer */
                n = start;
                continue;
            }
            memcpy(p + start, enc, k);
            return start + k;
        }
        n = start;
    }
    return 0;
}

void pq_w_stats_truncate(pq_w_stats *st, const pq_w_leaf *l)
{
    const size_t cap = PQ_STATS_TRUNCATE_BYTES;
    if (!st->has_min_max || l->physical != PQ_BYTE_ARRAY) return;
    if (st->min.len <= cap && st->max.len <= cap) return;
    if (st->min.len > cap) {
        st->min.len = utf8_prefix(st->min.data, st->min.len, cap);
        st->min_truncated = true;
    }
    if (st->max.len > cap) {
        size_t k = upper_bound(st->max.data, utf8_prefix(st->max.data, st->max.len, cap), st->max.len);
        if (k > 0) { /* else keep the exact (long) maximum */
            st->max.len = k;
            st->max_truncated = true;
        }
    }
}

void pq_w_stats_fini(pq_w_stats *st)
{
    if (!st) return;
    pq_buf_fini(&st->min);
    pq_buf_fini(&st->max);
    memset(st, 0, sizeof *st);
}
