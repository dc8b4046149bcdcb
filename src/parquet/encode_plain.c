/*
 * encode_plain.c — the growable byte buffer, the conversion of Arrow values
 * to Parquet physical values, and the PLAIN encoding.
 *
 * Single-threaded. Conversion is zero-copy when the Arrow layout already is
 * the physical layout and the values are contiguous (no nulls, no nesting);
 * otherwise one type-specialised loop gathers them. PLAIN encoding of
 * fixed-width values is a memcpy; booleans are bit-packed eight at a time.
 */
#include <string.h>

#include "parquet/pq_encode.h"

/* ---- pq_buf ------------------------------------------------------------ */

mt_status pq_buf_reserve(pq_buf *b, size_t extra, mt_error *err)
{
    if (b->cap - b->len >= extra) return MT_OK;
    if (extra > SIZE_MAX / 2 - b->len)
        return mt_error_set(err, MT_ENOMEM, "buffer of %zu bytes too large", extra);
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    uint8_t *p = mt_realloc(b->data, cap);
    if (!p) return mt_error_set(err, MT_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return MT_OK;
}

mt_status pq_buf_append(pq_buf *b, const void *p, size_t n, mt_error *err)
{
    if (n == 0) return MT_OK;
    MT_RETURN_NOT_OK(pq_buf_reserve(b, n, err));
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return MT_OK;
}

void pq_buf_fini(pq_buf *b)
{
    if (!b) return;
    mt_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- Conversion -------------------------------------------------------- */

#define POS(k) (lv->pos ? lv->pos[k] : lv->first + (k))

/* Gathers values of SRC_T at POS(k) into DST_T, applying EXPR(x). */
#define GATHER(SRC_T, DST_T, EXPR)                                           \
    do {                                                                     \
        const SRC_T *src_ = (const SRC_T *)lv->leaf->buffers[1]->data;       \
        DST_T *dst_ = (DST_T *)out->owned;                                   \
        for (int64_t k = 0; k < n; k++) {                                    \
            SRC_T x = src_[POS(k)];                                          \
            dst_[k] = (DST_T)(EXPR);                                         \
        }                                                                    \
    } while (0)

static void convert_bool(const pq_levels *lv, pq_values *out, int64_t n)
{
    const uint8_t *bits = lv->leaf->buffers[1]->data;
    for (int64_t k = 0; k < n; k++) {
        int64_t p = POS(k);
        out->owned[k] = (bits[p >> 3] >> (p & 7)) & 1;
    }
}

/* DECIMAL128 (16 bytes little-endian) to big-endian FLBA of `width` bytes. */
static void convert_decimal_flba(const pq_levels *lv, pq_values *out, int64_t n, int32_t width)
{
    const uint8_t *src = lv->leaf->buffers[1]->data;
    for (int64_t k = 0; k < n; k++) {
        const uint8_t *le = src + POS(k) * 16;
        uint8_t *be = out->owned + k * width;
        for (int32_t i = 0; i < width; i++) be[i] = le[width - 1 - i];
    }
}

/* Direct copies of `width`-byte values (or a zero-copy view). */
static void convert_direct(const pq_levels *lv, pq_values *out, int64_t n, int32_t width)
{
    const uint8_t *src = lv->leaf->buffers[1]->data;
    if (width == 4) {
        GATHER(uint32_t, uint32_t, x);
    } else if (width == 8) {
        GATHER(uint64_t, uint64_t, x);
    } else {
        for (int64_t k = 0; k < n; k++)
            memcpy(out->owned + k * width, src + POS(k) * width, (size_t)width);
    }
}

static bool is_direct(const mt_type *t)
{
    switch (t->id) {
    case MT_TYPE_INT32: case MT_TYPE_UINT32: case MT_TYPE_DATE32: case MT_TYPE_INT64:
    case MT_TYPE_UINT64: case MT_TYPE_TIME64: case MT_TYPE_FLOAT32: case MT_TYPE_FLOAT64:
    case MT_TYPE_FLOAT16: case MT_TYPE_FIXED_BINARY:
        return true;
    case MT_TYPE_TIME32: case MT_TYPE_TIMESTAMP:
        return t->unit != MT_UNIT_SECOND;
    default:
        return false;
    }
}

static void convert_fixed(const pq_w_leaf *leaf, const pq_levels *lv, pq_values *out, int64_t n)
{
    const mt_type *t = leaf->type;
    switch (t->id) {
    case MT_TYPE_BOOL: convert_bool(lv, out, n); break;
    case MT_TYPE_INT8: GATHER(int8_t, int32_t, x); break;
    case MT_TYPE_INT16: GATHER(int16_t, int32_t, x); break;
    case MT_TYPE_UINT8: GATHER(uint8_t, int32_t, x); break;
    case MT_TYPE_UINT16: GATHER(uint16_t, int32_t, x); break;
    case MT_TYPE_TIME32: /* seconds become milliseconds, as pyarrow does */
        if (t->unit == MT_UNIT_SECOND) GATHER(int32_t, int32_t, (uint32_t)x * 1000u);
        else convert_direct(lv, out, n, out->width);
        break;
    case MT_TYPE_TIMESTAMP:
        if (t->unit == MT_UNIT_SECOND) GATHER(int64_t, int64_t, (uint64_t)x * 1000u);
        else convert_direct(lv, out, n, out->width);
        break;
    case MT_TYPE_DECIMAL128:
        if (leaf->physical == PQ_INT32)
            GATHER(__int128, int32_t, (uint32_t)(unsigned __int128)x);
        else if (leaf->physical == PQ_INT64)
            GATHER(__int128, int64_t, (uint64_t)(unsigned __int128)x);
        else
            convert_decimal_flba(lv, out, n, leaf->type_length);
        break;
    default: convert_direct(lv, out, n, out->width); break;
    }
}

static int32_t physical_width(const pq_w_leaf *leaf)
{
    switch (leaf->physical) {
    case PQ_BOOLEAN: return 1;
    case PQ_INT32: case PQ_FLOAT: return 4;
    case PQ_INT64: case PQ_DOUBLE: return 8;
    case PQ_FIXED_LEN_BYTE_ARRAY: return leaf->type_length;
    default: return 0;
    }
}

mt_status pq_values_convert(const pq_w_leaf *leaf, const pq_levels *lv, pq_values *out,
                            mt_error *err)
{
    memset(out, 0, sizeof *out);
    out->physical = leaf->physical;
    out->width = physical_width(leaf);
    int64_t n = out->n = lv->num_values;
    if (n == 0 || leaf->type->id == MT_TYPE_NA) {
        out->n = 0;
        return MT_OK;
    }
    if (leaf->physical == PQ_BYTE_ARRAY) {
        out->offsets = (const int32_t *)lv->leaf->buffers[1]->data;
        out->bytes = lv->leaf->buffers[2] ? lv->leaf->buffers[2]->data : (const uint8_t *)"";
        out->pos = lv->pos;
        out->first = lv->first;
        return MT_OK;
    }
    if (!lv->pos && is_direct(leaf->type)) {
        out->fixed = lv->leaf->buffers[1]->data + lv->first * out->width;
        return MT_OK;
    }
    out->owned = mt_malloc((size_t)n * (size_t)out->width);
    if (!out->owned)
        return mt_error_set(err, MT_ENOMEM, "out of memory converting %lld values",
                            (long long)n);
    convert_fixed(leaf, lv, out, n);
    out->fixed = out->owned;
    return MT_OK;
}

void pq_values_fini(pq_values *v)
{
    if (!v) return;
    mt_free(v->owned);
    v->owned = NULL;
    v->fixed = NULL;
}

/* ---- PLAIN ------------------------------------------------------------- */

size_t pq_plain_size(const pq_values *v, int64_t a, int64_t b)
{
    if (v->physical == PQ_BOOLEAN) return (size_t)((b - a + 7) / 8);
    if (v->physical != PQ_BYTE_ARRAY) return (size_t)(b - a) * (size_t)v->width;
    size_t total = 0;
    for (int64_t k = a; k < b; k++) {
        int64_t p = pq_values_pos(v, k);
        total += 4 + (size_t)(v->offsets[p + 1] - v->offsets[p]);
    }
    return total;
}

static void plain_bools(const pq_values *v, int64_t a, int64_t b, uint8_t *dst)
{
    const uint8_t *src = v->fixed + a;
    int64_t n = b - a, full = n / 8;
    for (int64_t g = 0; g < full; g++) {
        const uint8_t *s = src + g * 8;
        dst[g] = (uint8_t)(s[0] | s[1] << 1 | s[2] << 2 | s[3] << 3 | s[4] << 4 | s[5] << 5 |
                           s[6] << 6 | s[7] << 7);
    }
    if (n % 8) {
        uint8_t byte = 0;
        for (int64_t k = full * 8; k < n; k++) byte |= (uint8_t)(src[k] << (k - full * 8));
        dst[full] = byte;
    }
}

mt_status pq_plain_encode(const pq_values *v, int64_t a, int64_t b, pq_buf *out, mt_error *err)
{
    size_t size = pq_plain_size(v, a, b);
    MT_RETURN_NOT_OK(pq_buf_reserve(out, size, err));
    uint8_t *dst = out->data + out->len;
    if (v->physical == PQ_BOOLEAN) {
        plain_bools(v, a, b, dst);
    } else if (v->physical != PQ_BYTE_ARRAY) {
        if (size) memcpy(dst, v->fixed + a * v->width, size);
    } else {
        for (int64_t k = a; k < b; k++) {
            int64_t p = pq_values_pos(v, k);
            uint32_t len = (uint32_t)(v->offsets[p + 1] - v->offsets[p]);
            memcpy(dst, &len, 4);
            memcpy(dst + 4, v->bytes + v->offsets[p], len);
            dst += 4 + len;
        }
    }
    out->len += size;
    return MT_OK;
}
