/*
 * json_value.c — the canonical JSON value format (docs/data/json-values.md,
 * identical to the Parquet oracle's) and mt_table_write_jsonl; also the
 * growable text sink and the calendar helpers every formatter shares.
 *
 * Threads: any; tables are only read. Invariants: output is valid JSON for
 * any input bytes (invalid UTF-8 becomes U+FFFD as WHATWG TextDecoder does).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "data/print_int.h"

/* ---- text sink ---------------------------------------------------------- */

static bool sb_grow(mt__data_sb *sb, size_t extra)
{
    if (sb->failed) return false;
    if (sb->len + extra + 1 <= sb->cap) return true;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + extra + 1) cap *= 2;
    char *p = mt_realloc(sb->data, cap);
    if (!p) {
        sb->failed = true;
        return false;
    }
    sb->data = p;
    sb->cap = cap;
    return true;
}

void mt__data_sb_put(mt__data_sb *sb, const void *p, size_t n)
{
    if (!sb_grow(sb, n)) return;
    memcpy(sb->data + sb->len, p, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void mt__data_sb_putc(mt__data_sb *sb, char c)
{
    if (sb->len + 2 <= sb->cap && !sb->failed) {
        sb->data[sb->len++] = c;
        sb->data[sb->len] = '\0';
        return;
    }
    mt__data_sb_put(sb, &c, 1);
}

void mt__data_sb_puts(mt__data_sb *sb, const char *s) { mt__data_sb_put(sb, s, strlen(s)); }

void mt__data_sb_printf(mt__data_sb *sb, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        mt__data_sb_put(sb, tmp, (size_t)n);
        return;
    }
    if (!sb_grow(sb, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void mt__data_sb_fini(mt__data_sb *sb)
{
    mt_free(sb->data);
    memset(sb, 0, sizeof *sb);
}

/* ---- calendar ----------------------------------------------------------- */

void mt__data_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    /* H. Hinnant's civil_from_days, valid for the whole int64 day range we print. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t mt__data_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void mt__data_date_to_sb(mt__data_sb *sb, int64_t days)
{
    int64_t y;
    int m, d;
    mt__data_civil_from_days(days, &y, &m, &d);
    if (y < 0) mt__data_sb_printf(sb, "-%04lld-%02d-%02d", (long long)-y, m, d);
    else mt__data_sb_printf(sb, "%04lld-%02d-%02d", (long long)y, m, d);
}

static const int64_t unit_per_sec[] = {1, 1000, 1000000, 1000000000};
static const int unit_digits[] = {0, 3, 6, 9};

static void fraction_to_sb(mt__data_sb *sb, int64_t sub, mt_time_unit unit)
{
    if (sub == 0) return;
    char tmp[16];
    int n = snprintf(tmp, sizeof tmp, ".%0*lld", unit_digits[unit], (long long)sub);
    while (n > 1 && tmp[n - 1] == '0') n--;
    mt__data_sb_put(sb, tmp, (size_t)n);
}

void mt__data_time_to_sb(mt__data_sb *sb, int64_t v, mt_time_unit unit)
{
    int64_t per = unit_per_sec[unit & 3];
    int64_t secs = v / per, sub = v % per;
    if (sub < 0) { /* malformed negative time of day: keep it printable */
        sub += per;
        secs -= 1;
    }
    mt__data_sb_printf(sb, "%02lld:%02lld:%02lld", (long long)(secs / 3600),
                       (long long)(secs % 3600 / 60), (long long)(secs % 60));
    fraction_to_sb(sb, sub, unit & 3);
}

void mt__data_timestamp_to_sb(mt__data_sb *sb, int64_t v, mt_time_unit unit, char sep)
{
    int64_t per = unit_per_sec[unit & 3];
    int64_t secs = v / per, sub = v % per;
    if (sub < 0) {
        sub += per;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    mt__data_date_to_sb(sb, days);
    mt__data_sb_printf(sb, "%c%02lld:%02lld:%02lld", sep, (long long)(sod / 3600),
                       (long long)(sod % 3600 / 60), (long long)(sod % 60));
    fraction_to_sb(sb, sub, unit & 3);
}

/* ---- JSON strings ------------------------------------------------------- */

/*
 * Decodes one UTF-8 sequence at s[0..n) as WHATWG's decoder does: returns the
 * code point (U+FFFD for a maximal invalid subpart) and its length in *len.
 */
static uint32_t utf8_next(const uint8_t *s, size_t n, size_t *len)
{
    uint8_t c = s[0];
    *len = 1;
    if (c < 0x80) return c;
    int need;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0xFFFD;
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n || s[i] < lo || s[i] > hi) {
            *len = (size_t)i;
            return 0xFFFD;
        }
        lo = 0x80, hi = 0xBF;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *len = (size_t)need + 1;
    return cp;
}

static void put_utf8(mt__data_sb *sb, uint32_t cp)
{
    char b[4];
    if (cp < 0x80) b[0] = (char)cp, mt__data_sb_put(sb, b, 1);
    else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3F));
        mt__data_sb_put(sb, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        mt__data_sb_put(sb, b, 3);
    } else {
        b[0] = (char)(0xF0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F));
        mt__data_sb_put(sb, b, 4);
    }
}

void mt__data_json_string(mt__data_sb *sb, const uint8_t *s, size_t n)
{
    mt__data_sb_putc(sb, '"');
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t j = i + 1;
            while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\') j++;
            mt__data_sb_put(sb, s + i, j - i);
            i = j;
            continue;
        }
        if (c >= 0x80) {
            size_t len;
            uint32_t cp = utf8_next(s + i, n - i, &len);
            if (cp == 0xFFFD) put_utf8(sb, cp);
            else mt__data_sb_put(sb, s + i, len);
            i += len;
            continue;
        }
        switch (c) {
        case '"': mt__data_sb_puts(sb, "\\\""); break;
        case '\\': mt__data_sb_puts(sb, "\\\\"); break;
        case '\b': mt__data_sb_puts(sb, "\\b"); break;
        case '\f': mt__data_sb_puts(sb, "\\f"); break;
        case '\n': mt__data_sb_puts(sb, "\\n"); break;
        case '\r': mt__data_sb_puts(sb, "\\r"); break;
        case '\t': mt__data_sb_puts(sb, "\\t"); break;
        default: mt__data_sb_printf(sb, "\\u%04x", c); break;
        }
        i++;
    }
    mt__data_sb_putc(sb, '"');
}

/* ---- values ------------------------------------------------------------- */

static void json_double(mt__data_sb *sb, double v)
{
    char buf[40];
    if (v == 0 && signbit(v)) {
        mt__data_sb_puts(sb, "\"-0\"");
        return;
    }
    mt__data_format_js(v, buf, sizeof buf);
    if (isnan(v) || isinf(v)) {
        mt__data_sb_putc(sb, '"');
        mt__data_sb_puts(sb, buf);
        mt__data_sb_putc(sb, '"');
    } else {
        mt__data_sb_puts(sb, buf);
    }
}

static void json_quoted_hex(mt__data_sb *sb, const uint8_t *p, int64_t n)
{
    mt__data_sb_putc(sb, '"');
    mt__data_hex_to_sb(sb, p, n);
    mt__data_sb_putc(sb, '"');
}

static const mt__data_nested_style json_nested = {
    .sep = ",",
    .field_sep = ":",
    .entry_open = "{\"key\":", /* map entries print as {"key":k,"value":v} */
    .entry_mid = ",\"value\":",
    .entry_close = "}",
    .null = "null",
    .name = mt__data_json_string,
    .value = mt__data_json_value,
};

void mt__data_json_value(mt__data_sb *sb, const mt_array *a, int64_t i)
{
    if (!mt_array_is_valid(a, i)) {
        mt__data_sb_puts(sb, "null");
        return;
    }
    const mt_type *t = a->type;
    int64_t n, j = a->offset + i;
    switch (t->id) {
    case MT_TYPE_NA: mt__data_sb_puts(sb, "null"); break;
    case MT_TYPE_BOOL:
        mt__data_sb_puts(sb, (a->buffers[1]->data[j >> 3] >> (j & 7)) & 1 ? "true" : "false");
        break;
    case MT_TYPE_INT8:
    case MT_TYPE_INT16:
    case MT_TYPE_INT32:
    case MT_TYPE_UINT8:
    case MT_TYPE_UINT16:
    case MT_TYPE_UINT32: mt__data_int_to_sb(sb, a, i); break;
    case MT_TYPE_INT64:
    case MT_TYPE_UINT64: /* a decimal string (docs/data/json-values.md) */
        mt__data_sb_putc(sb, '"');
        mt__data_int_to_sb(sb, a, i);
        mt__data_sb_putc(sb, '"');
        break;
    case MT_TYPE_FLOAT16:
    case MT_TYPE_FLOAT32:
    case MT_TYPE_FLOAT64: json_double(sb, mt__data_float_at(a, i)); break;
    case MT_TYPE_UTF8: {
        const uint8_t *p = mt__data_var_bytes(a, i, &n);
        mt__data_json_string(sb, p, (size_t)n);
        break;
    }
    case MT_TYPE_BINARY: {
        const uint8_t *p = mt__data_var_bytes(a, i, &n);
        json_quoted_hex(sb, p, n);
        break;
    }
    case MT_TYPE_FIXED_BINARY:
        json_quoted_hex(sb, a->buffers[1]->data + j * t->byte_width, t->byte_width);
        break;
    case MT_TYPE_DECIMAL128:
        mt__data_sb_putc(sb, '"');
        mt__data_decimal_to_sb(sb, a->buffers[1]->data + j * 16, t->scale);
        mt__data_sb_putc(sb, '"');
        break;
    case MT_TYPE_DATE32:
        mt__data_sb_putc(sb, '"');
        mt__data_date_to_sb(sb, MT_ARRAY_VALUES(a, int32_t)[i]);
        mt__data_sb_putc(sb, '"');
        break;
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64: {
        int64_t v = t->id == MT_TYPE_TIME32 ? MT_ARRAY_VALUES(a, int32_t)[i]
                                            : MT_ARRAY_VALUES(a, int64_t)[i];
        mt__data_sb_putc(sb, '"');
        mt__data_time_to_sb(sb, v, t->unit);
        mt__data_sb_putc(sb, '"');
        break;
    }
    case MT_TYPE_TIMESTAMP:
        mt__data_sb_putc(sb, '"');
        mt__data_timestamp_to_sb(sb, MT_ARRAY_VALUES(a, int64_t)[i], t->unit, 'T');
        if (t->timezone) mt__data_sb_putc(sb, 'Z');
        mt__data_sb_putc(sb, '"');
        break;
    case MT_TYPE_LIST:
    case MT_TYPE_STRUCT:
    case MT_TYPE_MAP: mt__data_nested_to_sb(sb, a, i, &json_nested); break;
    }
}

mt_status mt_table_write_jsonl(const mt_table *t, FILE *out, mt_error *err)
{
    mt__data_sb sb = {0};
    for (int64_t r = 0; r < t->num_rows; r++) {
        mt__data_sb_putc(&sb, '{');
        for (int32_t c = 0; c < t->num_columns; c++) {
            if (c) mt__data_sb_putc(&sb, ',');
            const char *name = t->schema->fields[c].name;
            mt__data_json_string(&sb, (const uint8_t *)name, strlen(name));
            mt__data_sb_putc(&sb, ':');
            mt__data_json_value(&sb, t->columns[c], r);
        }
        mt__data_sb_puts(&sb, "}\n");
        if (sb.failed) break;
        if (sb.len >= (1 << 16) || r + 1 == t->num_rows) {
            if (fwrite(sb.data, 1, sb.len, out) != sb.len) {
                mt__data_sb_fini(&sb);
                return mt_error_set_errno(err, MT_EIO, errno, "writing JSON lines");
            }
            sb.len = 0;
        }
    }
    bool failed = sb.failed;
    mt__data_sb_fini(&sb);
    if (failed) return mt_error_set(err, MT_ENOMEM, "writing JSON lines: out of memory");
    return MT_OK;
}
