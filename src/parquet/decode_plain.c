/*
 * decode_plain.c — the value sink (Arrow storage of one leaf, grown page by
 * page), physical→Arrow conversions (narrowing, decimals, INT96) and the
 * PLAIN and RLE-boolean decoders.
 *
 * Single-threaded. Invariants: a sink's buffers always have room for
 * `count` values (and BINARY `bytes` bytes, `count`+1 offsets); sizes are set
 * by pq_sink_reserve's caller chain only through `count`/`bytes`; bytes past
 * them are uninitialised (a BINARY sink's first offset is 0). Every value
 * length read from a page is checked against the bytes that remain.
 */
#include "parquet/pq_value.h"

/*
 * Makes room for `need` bytes of which the first `used` are live. Buffers are
 * uninitialised (every decoder writes what it counts); growth doubles and
 * copies only the live bytes.
 */
static mt_status grow(mt_buffer **b, int64_t need, int64_t used, mt_error *err)
{
    if (*b && need <= (*b)->capacity) return MT_OK;
    int64_t want = *b ? (*b)->capacity * 2 : 64;
    if (want < need) want = need;
    mt_buffer *n = mt_buffer_new_uninit(want);
    if (!n) return mt_error_set(err, MT_ENOMEM, "out of memory for %lld bytes", (long long)want);
    if (*b) {
        if (used > 0) memcpy(n->data, (*b)->data, (size_t)used);
        mt_buffer_release(*b);
    }
    *b = n;
    return MT_OK;
}

mt_status pq_sink_reserve(pq_sink *s, int64_t n, int64_t extra_bytes, mt_error *err)
{
    const pq_leaf *lf = s->leaf;
    int64_t total = s->count + n;
    switch (lf->store) {
    case PQ_STORE_BOOL:
        return grow(&s->values, (total + 7) / 8 + 8, (s->count + 7) / 8, err);
    case PQ_STORE_FIXED: /* slack for branchless spreads */
        return grow(&s->values, total * lf->width + 64, s->count * lf->width, err);
    default:
        if (s->bytes + extra_bytes > INT32_MAX || total >= INT32_MAX)
            return mt_error_set(err, MT_EUNSUPPORTED,
                                "column '%s': more than 2 GiB of values in one row group", lf->path);
        bool fresh = !s->offsets;
        MT_RETURN_NOT_OK(grow(&s->offsets, (total + 1) * 4, (s->count + 1) * 4, err));
        if (fresh) memset(s->offsets->data, 0, 4);
        return grow(&s->values, s->bytes + extra_bytes, s->bytes, err);
    }
}

void pq_decimal_be_to_le(const uint8_t *in, int32_t n, uint8_t out[16])
{
    uint8_t fill = n > 0 && (in[0] & 0x80) ? 0xff : 0x00;
    memset(out, fill, 16);
    for (int32_t i = 0; i < n && i < 16; i++) out[i] = in[n - 1 - i];
}

/* A decimal of more than 16 bytes fits when the extra leading bytes are sign bytes. */
static bool decimal_fits(const uint8_t *p, int64_t n)
{
    if (n <= 16) return true;
    uint8_t fill = (p[n - 16] & 0x80) ? 0xff : 0x00;
    for (int64_t i = 0; i < n - 16; i++)
        if (p[i] != fill) return false;
    return true;
}

mt_status pq_sink_append_bytes(pq_sink *s, const uint8_t *p, int64_t n, mt_error *err)
{
    const pq_leaf *lf = s->leaf;
    if (lf->store == PQ_STORE_BINARY) {
        MT_RETURN_NOT_OK(pq_sink_reserve(s, 1, n, err));
        int32_t *off = (int32_t *)s->offsets->data;
        if (n) memcpy(s->values->data + s->bytes, p, (size_t)n);
        s->bytes += n;
        off[s->count + 1] = (int32_t)s->bytes;
        s->count++;
        return MT_OK;
    }
    MT_RETURN_NOT_OK(pq_sink_reserve(s, 1, 0, err));
    uint8_t *out = s->values->data + s->count * lf->width;
    if (lf->conv == PQ_CONV_BA_DEC || lf->conv == PQ_CONV_FLBA_DEC) {
        if (!decimal_fits(p, n))
            return mt_error_set(err, MT_EUNSUPPORTED, "column '%s': decimal of %lld bytes does not fit 128 bits",
                                lf->path, (long long)n);
        if (n > 16) p += n - 16, n = 16;
        pq_decimal_be_to_le(p, (int32_t)n, out);
    } else {
        if (n != lf->width)
            return mt_error_set(err, MT_ECORRUPT, "column '%s': value of %lld bytes in a %d-byte column",
                                lf->path, (long long)n, lf->width);
        memcpy(out, p, (size_t)n);
    }
    s->count++;
    return MT_OK;
}

static int64_t i96_to_ts(const uint8_t *p, int unit)
{
    int64_t nanos;
    int32_t day;
    memcpy(&nanos, p, 8);
    memcpy(&day, p + 8, 4);
    static const int64_t per_day[] = {86400, 86400000, 86400000000, 86400000000000};
    static const int64_t div[] = {1000000000, 1000000, 1000, 1};
    int64_t d = div[unit];
    int64_t q = nanos / d - ((nanos % d) < 0 ? 1 : 0); /* floor */
    uint64_t v = (uint64_t)((int64_t)day - 2440588) * (uint64_t)per_day[unit] + (uint64_t)q;
    return (int64_t)v; /* wraps for days beyond the unit's range */
}

void pq_convert_fixed(const pq_leaf *lf, const uint8_t *in, int64_t n, uint8_t *out)
{
    switch (lf->conv) {
    case PQ_CONV_I32_I8:
        for (int64_t i = 0; i < n; i++) out[i] = in[i * 4];
        break;
    case PQ_CONV_I32_I16:
        for (int64_t i = 0; i < n; i++) memcpy(out + i * 2, in + i * 4, 2);
        break;
    case PQ_CONV_I32_DEC:
    case PQ_CONV_I64_DEC: {
        int w = lf->conv == PQ_CONV_I32_DEC ? 4 : 8;
        for (int64_t i = 0; i < n; i++) {
            int64_t v;
            if (w == 4) {
                int32_t v32;
                memcpy(&v32, in + i * 4, 4);
                v = v32;
            } else {
                memcpy(&v, in + i * 8, 8);
            }
            int64_t hi = v < 0 ? -1 : 0;
            memcpy(out + i * 16, &v, 8);
            memcpy(out + i * 16 + 8, &hi, 8);
        }
        break;
    }
    case PQ_CONV_I96_TS:
        for (int64_t i = 0; i < n; i++) {
            int64_t v = i96_to_ts(in + i * 12, lf->i96_unit);
            memcpy(out + i * 8, &v, 8);
        }
        break;
    case PQ_CONV_FLBA_DEC:
        for (int64_t i = 0; i < n; i++)
            pq_decimal_be_to_le(in + i * lf->phys_width, lf->phys_width, out + i * 16);
        break;
    default:
        if (n > 0) memcpy(out, in, (size_t)(n * lf->width));
        break;
    }
}

static mt_status plain_byte_array(pq_sink *s, const uint8_t *p, size_t len, int64_t n,
                                  size_t *used, mt_error *err)
{
    const pq_leaf *lf = s->leaf;
    MT_RETURN_NOT_OK(pq_sink_reserve(s, n, lf->store == PQ_STORE_BINARY ? (int64_t)len : 0, err));
    size_t pos = 0;
    if (lf->store == PQ_STORE_BINARY) { /* fast path: room reserved for all bytes */
        int32_t *off = (int32_t *)s->offsets->data + s->count;
        uint8_t *dst = s->values->data;
        int64_t bytes = s->bytes;
        for (int64_t i = 0; i < n; i++) {
            uint32_t l;
            if (len - pos < 4) goto short_data;
            memcpy(&l, p + pos, 4);
            pos += 4;
            if (l > len - pos) goto short_data;
            memcpy(dst + bytes, p + pos, l);
            pos += l;
            bytes += l;
            off[i + 1] = (int32_t)bytes;
        }
        s->bytes = bytes;
        s->count += n;
        *used = pos;
        return MT_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        uint32_t l;
        if (len - pos < 4) goto short_data;
        memcpy(&l, p + pos, 4);
        pos += 4;
        if (l > len - pos) goto short_data;
        MT_RETURN_NOT_OK(pq_sink_append_bytes(s, p + pos, l, err));
        pos += l;
    }
    *used = pos;
    return MT_OK;
short_data:
    return mt_error_set(err, MT_ECORRUPT, "PLAIN byte array values end early (%lld expected)",
                        (long long)n);
}

mt_status pq_decode_plain(pq_sink *s, const uint8_t *p, size_t len, int64_t n, size_t *used,
                          mt_error *err)
{
    const pq_leaf *lf = s->leaf;
    if (lf->physical == PQ_BYTE_ARRAY) return plain_byte_array(s, p, len, n, used, err);
    if (lf->physical == PQ_BOOLEAN) {
        uint64_t bytes = ((uint64_t)n + 7) / 8;
        if (bytes > len)
            return mt_error_set(err, MT_ECORRUPT, "PLAIN booleans: %lld values need %llu bytes, %zu present",
                                (long long)n, (unsigned long long)bytes, len);
        MT_RETURN_NOT_OK(pq_sink_reserve(s, n, 0, err));
        pq_copy_bits(s->values->data, s->count, p, 0, n);
        s->count += n;
        *used = (size_t)bytes;
        return MT_OK;
    }
    uint64_t bytes = (uint64_t)n * (uint64_t)lf->phys_width;
    if (bytes > len)
        return mt_error_set(err, MT_ECORRUPT, "PLAIN values: %lld values of %d bytes need %llu bytes, %zu present",
                            (long long)n, lf->phys_width, (unsigned long long)bytes, len);
    MT_RETURN_NOT_OK(pq_sink_reserve(s, n, 0, err));
    pq_convert_fixed(lf, p, n, s->values->data + s->count * lf->width);
    s->count += n;
    *used = (size_t)bytes;
    return MT_OK;
}

mt_status pq_decode_rle_bool(pq_sink *s, const uint8_t *p, size_t len, int64_t n, mt_error *err)
{
    if (len < 4) return mt_error_set(err, MT_ECORRUPT, "RLE booleans: missing length prefix");
    uint32_t l;
    memcpy(&l, p, 4);
    if (l > len - 4)
        return mt_error_set(err, MT_ECORRUPT, "RLE booleans: length %u exceeds the page", l);
    MT_RETURN_NOT_OK(pq_sink_reserve(s, n, 0, err));
    pq_rle d;
    pq_rle_init(&d, p + 4, l, 1, n);
    MT_RETURN_NOT_OK(pq_rle_get_bits(&d, s->values->data, s->count, n, err));
    s->count += n;
    return MT_OK;
}
