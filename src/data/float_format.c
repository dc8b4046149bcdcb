/*
 * float_format.c — number-to-text conversions shared by the data module's
 * formatters: shortest round-trip digits of a double, rendered the way
 * JavaScript (JSON.stringify), Python (repr) and our CSV writer spell them;
 * IEEE half floats; decimal128 values.
 *
 * Threads: pure functions, reentrant. Invariant: every double printed here
 * reads back (strtod) as the identical double.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/print_int.h"

/* Formats |v| with p significant digits; returns true when it reads back as |v|. */
static bool try_precision(double v, int p, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*e", p - 1, v);
    return strtod(buf, NULL) == v;
}

/* Adds `delta` (+1 or -1) to the last mantissa digit of "d.ddde±X" in place (with carry). */
static bool nudge_last_digit(char *buf, int delta)
{
    char *e = strchr(buf, 'e');
    if (!e) return false;
    for (char *q = e - 1; q >= buf; q--) {
        if (*q == '.') continue;
        if (delta > 0 && *q < '9') return (*q)++, true;
        if (delta < 0 && *q > '0') return (*q)--, !(q == buf && *q == '0');
        if (q == buf) return false; /* carry out of the first digit: skip */
        *q = delta > 0 ? '0' : '9';
    }
    return false;
}

/*
 * With p digits, correct rounding can miss a round-tripping neighbour at a
 * power-of-two boundary (2^-24 = 5.9604644775390625e-8: "…062" does not read
 * back, "…063" does); JavaScript takes the neighbour, so try both.
 */
static bool try_neighbours(double v, int p, char *buf, size_t cap)
{
    char tmp[40];
    for (int delta = 1; delta >= -1; delta -= 2) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (nudge_last_digit(tmp, delta) && strtod(tmp, NULL) == v) {
            snprintf(buf, cap, "%s", tmp);
            return true;
        }
    }
    return false;
}

/*
 * Fast path: the fewest fraction digits k with round(v·10^k)/10^k == v. The
 * integer is below 2^53 and 10^k exact, so the division is correctly rounded:
 * equality means the decimal reads back as v (Clinger's fast path).
 */
static int fast_digits(double v, char *digits, int *exp10)
{
    static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
    if (!(v >= 1e-5 && v < 1e15)) return 0;
    for (int k = 0; k < 18; k++) {
        double s = v * p10[k];
        if (s >= 9007199254740992.0) return 0;
        double m = nearbyint(s);
        if (m / p10[k] != v) continue;
        char tmp[24];
        int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)m);
        *exp10 = n - 1 - k;
        while (n > 1 && tmp[n - 1] == '0') n--;
        memcpy(digits, tmp, (size_t)n);
        digits[n] = '\0';
        return n;
    }
    return 0;
}

int mt__data_shortest_digits(double v, char *digits, int *exp10)
{
    char buf[40];
    v = fabs(v);
    int fast = fast_digits(v, digits, exp10);
    if (fast) return fast;
    if (v < DBL_MIN) { /* subnormal: fewer digits hold; search 1..17 (monotonic) */
        int lo = 1, hi = 17;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (try_precision(v, mid, buf, sizeof buf)) hi = mid;
            else lo = mid + 1;
        }
        if (lo < 2 || !try_neighbours(v, lo - 1, buf, sizeof buf))
            try_precision(v, lo, buf, sizeof buf);
        goto parse;
    }
    /* Up to 15 digits the correctly rounded form is the shortest (DBL_DIG). */
    if (try_precision(v, 15, buf, sizeof buf)) goto parse;
    if (try_precision(v, 16, buf, sizeof buf)) goto parse;
    if (try_neighbours(v, 16, buf, sizeof buf)) goto parse;
    try_precision(v, 17, buf, sizeof buf);
parse:;
    int k = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0') k--;
    digits[k] = '\0';
    *exp10 = (*p == 'e') ? atoi(p + 1) : 0;
    return k;
}

/* Appends `n` zeros at buf+*pos (bounded by cap). */
static void put_zeros(char *buf, size_t cap, size_t *pos, int n)
{
    for (int i = 0; i < n; i++, (*pos)++)
        if (*pos + 1 < cap) buf[*pos] = '0';
}

static void put_str(char *buf, size_t cap, size_t *pos, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, (*pos)++)
        if (*pos + 1 < cap) buf[*pos] = s[i];
}

static size_t finish(char *buf, size_t cap, size_t pos)
{
    if (cap) buf[pos < cap ? pos : cap - 1] = '\0';
    return pos;
}

/* d[.ddd]e±X with at least `min_exp_digits` exponent digits. */
static void put_exponent_form(char *buf, size_t cap, size_t *pos, const char *d, int k, int e,
                              int min_exp_digits)
{
    char tail[16];
    put_str(buf, cap, pos, d, 1);
    if (k > 1) {
        put_str(buf, cap, pos, ".", 1);
        put_str(buf, cap, pos, d + 1, (size_t)k - 1);
    }
    int n = snprintf(tail, sizeof tail, "e%c%0*d", e < 0 ? '-' : '+', min_exp_digits, abs(e));
    put_str(buf, cap, pos, tail, (size_t)n);
}

size_t mt__data_format_js(double v, char *buf, size_t cap)
{
    size_t pos = 0;
    if (isnan(v)) return finish(buf, cap, (put_str(buf, cap, &pos, "NaN", 3), pos));
    if (isinf(v)) {
        put_str(buf, cap, &pos, v < 0 ? "-Infinity" : "Infinity", v < 0 ? 9 : 8);
        return finish(buf, cap, pos);
    }
    if (v == 0) return finish(buf, cap, (put_str(buf, cap, &pos, "0", 1), pos));
    if (v < 0) put_str(buf, cap, &pos, "-", 1);
    char d[24];
    int e, k = mt__data_shortest_digits(v, d, &e), n = e + 1;
    if (k <= n && n <= 21) {
        put_str(buf, cap, &pos, d, (size_t)k);
        put_zeros(buf, cap, &pos, n - k);
    } else if (0 < n && n <= 21) {
        put_str(buf, cap, &pos, d, (size_t)n);
        put_str(buf, cap, &pos, ".", 1);
        put_str(buf, cap, &pos, d + n, (size_t)(k - n));
    } else if (-6 < n && n <= 0) {
        put_str(buf, cap, &pos, "0.", 2);
        put_zeros(buf, cap, &pos, -n);
        put_str(buf, cap, &pos, d, (size_t)k);
    } else {
        put_exponent_form(buf, cap, &pos, d, k, n - 1, 1);
    }
    return finish(buf, cap, pos);
}

/* Python float repr body for finite non-zero v; `integral_suffix` ".0" or "". */
static size_t format_repr(double v, char *buf, size_t cap)
{
    size_t pos = 0;
    if (v < 0) put_str(buf, cap, &pos, "-", 1);
    char d[24];
    int e, k = mt__data_shortest_digits(v, d, &e), decpt = e + 1;
    if (decpt > 16 || decpt < -3) {
        put_exponent_form(buf, cap, &pos, d, k, e, 2);
    } else if (decpt <= 0) {
        put_str(buf, cap, &pos, "0.", 2);
        put_zeros(buf, cap, &pos, -decpt);
        put_str(buf, cap, &pos, d, (size_t)k);
    } else if (decpt >= k) {
        put_str(buf, cap, &pos, d, (size_t)k);
        put_zeros(buf, cap, &pos, decpt - k);
        put_str(buf, cap, &pos, ".0", 2);
    } else {
        put_str(buf, cap, &pos, d, (size_t)decpt);
        put_str(buf, cap, &pos, ".", 1);
        put_str(buf, cap, &pos, d + decpt, (size_t)(k - decpt));
    }
    return finish(buf, cap, pos);
}

size_t mt__data_format_py(double v, char *buf, size_t cap)
{
    size_t pos = 0;
    if (isnan(v)) put_str(buf, cap, &pos, "nan", 3);
    else if (isinf(v)) put_str(buf, cap, &pos, v < 0 ? "-inf" : "inf", v < 0 ? 4 : 3);
    else if (v == 0) put_str(buf, cap, &pos, signbit(v) ? "-0.0" : "0.0", signbit(v) ? 4 : 3);
    else return format_repr(v, buf, cap);
    return finish(buf, cap, pos);
}

size_t mt__data_format_csv(double v, char *buf, size_t cap)
{
    size_t pos = 0;
    if (isnan(v)) {
        put_str(buf, cap, &pos, "NaN", 3);
        return finish(buf, cap, pos);
    }
    return mt__data_format_py(v, buf, cap);
}

double mt__data_half_to_double(uint16_t h)
{
    int sign = (h & 0x8000) ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
    if (e == 0) return sign * ldexp((double)f, -24);
    if (e == 31) return f ? NAN : sign * INFINITY;
    return sign * ldexp((double)(f | 0x400), e - 25);
}

void mt__data_decimal_to_sb(mt__data_sb *sb, const uint8_t *le16, int32_t scale)
{
    unsigned __int128 u = 0;
    for (int i = 15; i >= 0; i--) u = (u << 8) | le16[i];
    bool neg = (le16[15] & 0x80) != 0;
    if (neg) u = ~u + 1;
    char tmp[48];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg) mt__data_sb_putc(sb, '-');
    if (scale <= 0) {
        while (n > 0) mt__data_sb_putc(sb, tmp[--n]);
        for (int i = 0; i < -scale && i < 1000; i++) mt__data_sb_putc(sb, '0');
        return;
    }
    int width = n > scale ? n : scale + 1; /* digits including leading zeros */
    for (int i = width - 1; i >= 0; i--) {
        if (i == scale - 1) mt__data_sb_putc(sb, '.');
        mt__data_sb_putc(sb, i < n ? tmp[i] : '0');
    }
}
