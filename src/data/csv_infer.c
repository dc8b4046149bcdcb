/*
 * csv_infer.c — the CSV reader's value grammar: classifying text into the
 * inference lattice (bool < int64 < float64, date32 < timestamp[us], utf8)
 * and parsing text into a value of any flat column type.
 *
 * Threads: pure functions, reentrant. Invariant: never reads outside
 * p[0..n) (fields are not NUL-terminated) and never allocates more than a
 * small bounded scratch copy for strtod.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/print_int.h"

static bool ieq(const char *p, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m) return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return false;
    }
    return true;
}

static bool parse_bool(const char *p, size_t n, bool *out)
{
    if (ieq(p, n, "true")) return *out = true, true;
    if (ieq(p, n, "false")) return *out = false, true;
    return false;
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Optional sign then 1+ digits; the magnitude must fit in uint64. */
static bool parse_sign_mag(const char *p, size_t n, bool *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+')) *neg = p[i++] == '-';
    if (i == n) return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (!is_digit(p[i])) return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *mag = v;
    return true;
}

static bool parse_int(const char *p, size_t n, int64_t *out)
{
    bool neg;
    uint64_t m;
    if (!parse_sign_mag(p, n, &neg, &m)) return false;
    if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX) return false;
    *out = neg ? (int64_t)(0 - m) : (int64_t)m;
    return true;
}

static bool parse_uint(const char *p, size_t n, uint64_t *out)
{
    bool neg;
    if (!parse_sign_mag(p, n, &neg, out)) return false;
    return !neg || *out == 0;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Decimal float syntax check with Clinger's exact fast path; strtod otherwise. */
bool mt__data_csv_parse_double(const char *p, size_t n, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+')) neg = p[i++] == '-';
    if (ieq(p + i, n - i, "nan")) return *out = NAN, true;
    if (ieq(p + i, n - i, "inf") || ieq(p + i, n - i, "infinity"))
        return *out = neg ? -INFINITY : INFINITY, true;
    uint64_t mant = 0;
    int sig = 0, digits = 0, exp10 = 0;
    for (; i < n && is_digit(p[i]); i++, digits++) {
        if (sig < 19) mant = mant * 10 + (uint64_t)(p[i] - '0'), sig += mant != 0;
        else exp10++;
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n && is_digit(p[i]); i++, digits++) {
            if (sig < 19) mant = mant * 10 + (uint64_t)(p[i] - '0'), sig += mant != 0, exp10--;
        }
    }
    if (digits == 0) return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (p[i] == '-' || p[i] == '+')) eneg = p[i++] == '-';
        if (i == n) return false;
        int e = 0;
        for (; i < n && is_digit(p[i]); i++)
            if (e < 100000) e = e * 10 + (p[i] - '0');
        exp10 += eneg ? -e : e;
    }
    if (i != n) return false;
    if (sig < 19 && mant <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        *out = neg ? -v : v;
        return true;
    }
    char small[128], *buf = n < sizeof small ? small : mt_malloc(n + 1);
    if (!buf) return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    if (buf != small) mt_free(buf);
    return true;
}

/* Reads exactly `w` digits at p[*i]. */
static bool digits_at(const char *p, size_t n, size_t *i, int w, int64_t *v)
{
    if (*i + (size_t)w > n) return false;
    int64_t r = 0;
    for (int k = 0; k < w; k++) {
        if (!is_digit(p[*i + (size_t)k])) return false;
        r = r * 10 + (p[*i + (size_t)k] - '0');
    }
    *i += (size_t)w;
    *v = r;
    return true;
}

/* [+-]YYYY[Y…]-MM-DD at the start of p; *i receives the end. */
static bool parse_date_prefix(const char *p, size_t n, size_t *i, int64_t *days)
{
    size_t k = 0;
    bool neg = false;
    if (k < n && (p[k] == '-' || p[k] == '+')) neg = p[k++] == '-';
    size_t ys = k;
    int64_t y = 0, m, d;
    while (k < n && is_digit(p[k]) && k - ys < 7) y = y * 10 + (p[k++] - '0');
    if (k - ys < 4 || k >= n || p[k] != '-') return false;
    k++;
    if (!digits_at(p, n, &k, 2, &m) || k >= n || p[k] != '-') return false;
    k++;
    if (!digits_at(p, n, &k, 2, &d)) return false;
    if (neg) y = -y;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap) return false;
    *days = mt__data_days_from_civil(y, (int)m, (int)d);
    *i = k;
    return true;
}

static bool parse_date(const char *p, size_t n, int32_t *out)
{
    size_t i;
    int64_t days;
    if (!parse_date_prefix(p, n, &i, &days) || i != n) return false;
    *out = (int32_t)days;
    return true;
}

static const int64_t unit_scale[] = {1, 1000, 1000000, 1000000000};
static const int unit_digits[] = {0, 3, 6, 9};

/*
 * HH:MM:SS[.f] at p[*i..n) into `unit` since midnight. Fraction digits past
 * the unit's precision must be zeros (no silent truncation).
 */
static bool parse_tod(const char *p, size_t n, size_t *i, mt_time_unit unit, int64_t *out)
{
    int64_t h, m, s, frac = 0;
    if (!digits_at(p, n, i, 2, &h) || *i >= n || p[*i] != ':') return false;
    (*i)++;
    if (!digits_at(p, n, i, 2, &m) || *i >= n || p[*i] != ':') return false;
    (*i)++;
    if (!digits_at(p, n, i, 2, &s)) return false;
    if (h > 23 || m > 59 || s > 59) return false;
    if (*i < n && p[*i] == '.') {
        (*i)++;
        int nd = 0;
        for (; *i < n && is_digit(p[*i]); (*i)++, nd++) {
            if (nd < unit_digits[unit]) frac = frac * 10 + (p[*i] - '0');
            else if (p[*i] != '0') return false;
        }
        if (nd == 0) return false;
        for (; nd < unit_digits[unit]; nd++) frac *= 10;
    }
    *out = ((h * 60 + m) * 60 + s) * unit_scale[unit] + frac;
    return true;
}

static bool parse_timestamp(const char *p, size_t n, mt_time_unit unit, bool tz, int64_t *out)
{
    size_t i;
    int64_t days, tod = 0;
    if (!parse_date_prefix(p, n, &i, &days)) return false;
    if (i < n) {
        if (p[i] != ' ' && p[i] != 'T') return false;
        i++;
        if (!parse_tod(p, n, &i, unit, &tod)) return false;
        if (tz && i < n && p[i] == 'Z') i++;
    }
    if (i != n) return false;
    int64_t per_day = 86400 * unit_scale[unit];
    if (days > INT64_MAX / per_day - 1 || days < INT64_MIN / per_day + 1) return false;
    *out = days * per_day + tod;
    return true;
}

mt__data_csv_kind mt__data_csv_classify(const char *p, size_t n)
{
    bool b;
    int64_t iv;
    double d;
    int32_t dd;
    if (parse_bool(p, n, &b)) return MT__CSV_BOOL;
    if (parse_int(p, n, &iv)) return MT__CSV_INT;
    if (mt__data_csv_parse_double(p, n, &d)) return MT__CSV_FLOAT;
    if (parse_date(p, n, &dd)) return MT__CSV_DATE;
    if (parse_timestamp(p, n, MT_UNIT_MICRO, false, &iv)) return MT__CSV_TIMESTAMP;
    return MT__CSV_STRING;
}

mt__data_csv_kind mt__data_csv_join(mt__data_csv_kind a, mt__data_csv_kind b)
{
    if (a == b || b == MT__CSV_NONE) return a;
    if (a == MT__CSV_NONE) return b;
    if (a > b) {
        mt__data_csv_kind t = a;
        a = b, b = t;
    }
    if (a == MT__CSV_INT && b == MT__CSV_FLOAT) return MT__CSV_FLOAT;
    if (a == MT__CSV_DATE && b == MT__CSV_TIMESTAMP) return MT__CSV_TIMESTAMP;
    return MT__CSV_STRING;
}

mt_type *mt__data_csv_kind_type(mt__data_csv_kind k)
{
    switch (k) {
    case MT__CSV_BOOL: return mt_type_new(MT_TYPE_BOOL);
    case MT__CSV_INT: return mt_type_new(MT_TYPE_INT64);
    case MT__CSV_FLOAT: return mt_type_new(MT_TYPE_FLOAT64);
    case MT__CSV_DATE: return mt_type_new(MT_TYPE_DATE32);
    case MT__CSV_TIMESTAMP: return mt_type_timestamp(MT_UNIT_MICRO, NULL);
    default: return mt_type_new(MT_TYPE_UTF8);
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Binary text: "0x" + hex digits is decoded, anything else is taken as raw bytes. */
static mt_status append_binary(mt_array_builder *b, const mt_type *t, const char *p, size_t n,
                               bool *ok, mt_error *err)
{
    bool hex = n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && n % 2 == 0;
    for (size_t i = 2; hex && i < n; i++) hex = hexval(p[i]) >= 0;
    if (!hex) {
        if (t->id == MT_TYPE_FIXED_BINARY && (int64_t)n != t->byte_width) return *ok = false, MT_OK;
        return mt_array_builder_append_bytes(b, p, (int64_t)n, err);
    }
    size_t m = (n - 2) / 2;
    if (t->id == MT_TYPE_FIXED_BINARY && (int64_t)m != t->byte_width) return *ok = false, MT_OK;
    uint8_t small[256] = {0}, *buf = m <= sizeof small ? small : mt_malloc(m);
    if (!buf) return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    for (size_t i = 0; i < m; i++)
        buf[i] = (uint8_t)(hexval(p[2 + 2 * i]) << 4 | hexval(p[3 + 2 * i]));
    mt_status st = mt_array_builder_append_bytes(b, buf, (int64_t)m, err);
    if (buf != small) mt_free(buf);
    return st;
}

/* [+-]digits[.digits] with at most `scale` fraction digits and `precision` digits. */
static bool parse_decimal(const char *p, size_t n, int32_t precision, int32_t scale,
                          uint8_t out[16])
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+')) neg = p[i++] == '-';
    unsigned __int128 v = 0;
    int nd = 0, frac = -1, any = 0;
    for (; i < n; i++) {
        if (p[i] == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (!is_digit(p[i])) return false;
        any = 1;
        if (frac >= 0 && ++frac > scale) return false;
        if (v || p[i] != '0') nd++;
        if (nd > 38) return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (!any) return false;
    for (int k = frac < 0 ? 0 : frac; k < scale; k++, nd += v != 0) v *= 10;
    if (nd > precision || nd > 38) return false;
    if (neg) v = ~v + 1;
    for (int k = 0; k < 16; k++) out[k] = (uint8_t)(v >> (8 * k));
    return true;
}

static bool int_fits(mt_type_id id, int64_t v)
{
    switch (id) {
    case MT_TYPE_INT8: return v >= INT8_MIN && v <= INT8_MAX;
    case MT_TYPE_INT16: return v >= INT16_MIN && v <= INT16_MAX;
    case MT_TYPE_INT32: return v >= INT32_MIN && v <= INT32_MAX;
    default: return true;
    }
}

static bool uint_fits(mt_type_id id, uint64_t v)
{
    switch (id) {
    case MT_TYPE_UINT8: return v <= UINT8_MAX;
    case MT_TYPE_UINT16: return v <= UINT16_MAX;
    case MT_TYPE_UINT32: return v <= UINT32_MAX;
    default: return true;
    }
}

mt_status mt__data_csv_append(mt_array_builder *b, const mt_type *t, const char *p, size_t n,
                              bool *ok, mt_error *err)
{
    int64_t iv;
    uint64_t uv;
    double dv;
    bool bv;
    int32_t dd;
    uint8_t dec[16];
    *ok = true;
    switch (t->id) {
    case MT_TYPE_UTF8: return mt_array_builder_append_bytes(b, p, (int64_t)n, err);
    case MT_TYPE_BINARY:
    case MT_TYPE_FIXED_BINARY: return append_binary(b, t, p, n, ok, err);
    case MT_TYPE_BOOL:
        if (!parse_bool(p, n, &bv)) break;
        return mt_array_builder_append_bool(b, bv, err);
    case MT_TYPE_INT8: case MT_TYPE_INT16: case MT_TYPE_INT32: case MT_TYPE_INT64:
        if (!parse_int(p, n, &iv) || !int_fits(t->id, iv)) break;
        return mt_array_builder_append_int(b, iv, err);
    case MT_TYPE_UINT8: case MT_TYPE_UINT16: case MT_TYPE_UINT32: case MT_TYPE_UINT64:
        if (!parse_uint(p, n, &uv) || !uint_fits(t->id, uv)) break;
        return mt_array_builder_append_uint(b, uv, err);
    case MT_TYPE_FLOAT32: case MT_TYPE_FLOAT64:
        if (!mt__data_csv_parse_double(p, n, &dv)) break;
        return mt_array_builder_append_double(b, dv, err);
    case MT_TYPE_DATE32:
        if (!parse_date(p, n, &dd)) break;
        return mt_array_builder_append_int(b, dd, err);
    case MT_TYPE_TIMESTAMP:
        if (!parse_timestamp(p, n, t->unit & 3, t->timezone != NULL, &iv)) break;
        return mt_array_builder_append_int(b, iv, err);
    case MT_TYPE_TIME32: case MT_TYPE_TIME64: {
        size_t i = 0;
        if (!parse_tod(p, n, &i, t->unit & 3, &iv) || i != n) break;
        return mt_array_builder_append_int(b, iv, err);
    }
    case MT_TYPE_DECIMAL128:
        if (!parse_decimal(p, n, t->precision, t->scale, dec)) break;
        return mt_array_builder_append_bytes(b, dec, 16, err);
    default:
        break;
    }
    *ok = false;
    return MT_OK;
}
