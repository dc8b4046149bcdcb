/*
 * print.c — Ray's text formats: the schema table (Dataset.schema() repr)
 * and ds.show() rows, one Python dict repr per row with the values pyarrow's
 * as_py() gives (floats as repr(float), datetime/Decimal reprs, maps as lists
 * of tuples).
 *
 * Threads: any; the table is only read. Invariant: output is produced per
 * row in a private buffer and written with one fwrite, so a failed row is
 * never half-printed.
 */
#include <errno.h>
#include <string.h>

#include "data/print_int.h"

/* Python len() of a UTF-8 string: code points, not bytes. */
static size_t py_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((uint8_t)*s & 0xC0) != 0x80) n++;
    return n;
}

void mt_table_print_schema(const mt_type *schema, FILE *out)
{
    /* Names come from files: control characters are shown escaped, never sent raw. */
    size_t width = 6; /* "Column" */
    char **names = mt_calloc((size_t)schema->num_fields + 1, sizeof *names);
    for (int32_t i = 0; i < schema->num_fields; i++) {
        const char *raw = schema->fields[i].name;
        size_t cap = strlen(raw) * 6 + 1;
        if (names && (names[i] = mt_malloc(cap)) != NULL) mt_escape_controls(raw, names[i], cap);
        size_t n = py_len(names && names[i] ? names[i] : raw);
        if (n > width) width = n;
    }
    fprintf(out, "Column%*sType\n", (int)(width + 2 - 6), "");
    fprintf(out, "------%*s----", (int)(width + 2 - 6), "");
    for (int32_t i = 0; i < schema->num_fields; i++) {
        char small[256];
        const mt_field *f = &schema->fields[i];
        size_t n = mt_type_to_string(f->type, small, sizeof small);
        char *type = small;
        if (n >= sizeof small && (type = mt_malloc(n + 1)) != NULL)
            mt_type_to_string(f->type, type, n + 1);
        const char *name = names && names[i] ? names[i] : f->name;
        fprintf(out, "\n%s%*s%s", name, (int)(width + 2 - py_len(name)), "", type ? type : small);
        if (type != small) mt_free(type);
    }
    fputc('\n', out);
    for (int32_t i = 0; names && i < schema->num_fields; i++) mt_free(names[i]);
    mt_free(names);
}

/* ---- Python reprs -------------------------------------------------------- */

/* Code points Python's str.isprintable() rejects (a practical subset beyond ASCII). */
static bool py_unprintable(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
           (cp >= 0x205F && cp <= 0x2064) || cp == 0x3000 || cp == 0xFEFF ||
           (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0xE000 && cp <= 0xF8FF) || cp == 0xFFFF;
}

static char py_quote(const uint8_t *s, size_t n)
{
    bool sq = memchr(s, '\'', n) != NULL, dq = memchr(s, '"', n) != NULL;
    return sq && !dq ? '"' : '\'';
}

/* Decodes a valid UTF-8 sequence; invalid bytes yield U+FFFD, length 1. */
static uint32_t decode_utf8(const uint8_t *s, size_t n, size_t *len)
{
    uint8_t c = s[0];
    int need = c < 0x80 ? 0 : c >= 0xF0 && c <= 0xF4 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : -1;
    *len = 1;
    if (need < 0 || (size_t)need >= n) return need == 0 ? c : 0xFFFD;
    uint32_t cp = need == 0 ? c : c & (0x3F >> need);
    for (int i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0xFFFD;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0xFFFD;
    *len = (size_t)need + 1;
    return cp;
}

static void py_escape_cp(mt__data_sb *sb, uint32_t cp, char q)
{
    if (cp == '\\' || cp == (uint32_t)q) mt__data_sb_printf(sb, "\\%c", (char)cp);
    else if (cp == '\n') mt__data_sb_puts(sb, "\\n");
    else if (cp == '\r') mt__data_sb_puts(sb, "\\r");
    else if (cp == '\t') mt__data_sb_puts(sb, "\\t");
    else if (cp < 0x100) mt__data_sb_printf(sb, "\\x%02x", cp);
    else if (cp < 0x10000) mt__data_sb_printf(sb, "\\u%04x", cp);
    else mt__data_sb_printf(sb, "\\U%08x", cp);
}

static void py_str(mt__data_sb *sb, const uint8_t *s, size_t n)
{
    char q = py_quote(s, n);
    mt__data_sb_putc(sb, q);
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = decode_utf8(s + i, n - i, &len);
        if (cp == '\\' || cp == (uint32_t)q || py_unprintable(cp)) py_escape_cp(sb, cp, q);
        else if (cp == 0xFFFD && len == 1 && s[i] >= 0x80) mt__data_sb_puts(sb, "\xEF\xBF\xBD");
        else mt__data_sb_put(sb, s + i, len);
        i += len;
    }
    mt__data_sb_putc(sb, q);
}

static void py_bytes(mt__data_sb *sb, const uint8_t *s, size_t n)
{
    char q = py_quote(s, n);
    mt__data_sb_putc(sb, 'b');
    mt__data_sb_putc(sb, q);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '\\' || c == (uint8_t)q || c < 0x20 || c >= 0x7F) py_escape_cp(sb, c, q);
        else mt__data_sb_putc(sb, (char)c);
    }
    mt__data_sb_putc(sb, q);
}

/* Python's Decimal repr: Decimal('1.50'), scientific when adjusted exponent < -6. */
static void py_decimal(mt__data_sb *sb, const uint8_t *le16, int32_t scale)
{
    mt__data_sb tmp = {0};
    mt__data_decimal_to_sb(&tmp, le16, 0);
    const char *digits = tmp.data ? tmp.data : "0";
    bool neg = digits[0] == '-';
    if (neg) digits++;
    int64_t k = (int64_t)strlen(digits), adjusted = -(int64_t)scale + k - 1;
    mt__data_sb_puts(sb, "Decimal('");
    if (scale >= 0 && adjusted >= -6) {
        mt__data_decimal_to_sb(sb, le16, scale);
    } else {
        if (neg) mt__data_sb_putc(sb, '-');
        mt__data_sb_putc(sb, digits[0]);
        if (k > 1) {
            mt__data_sb_putc(sb, '.');
            mt__data_sb_puts(sb, digits + 1);
        }
        mt__data_sb_printf(sb, "E%+lld", (long long)adjusted);
    }
    mt__data_sb_puts(sb, "')");
    mt__data_sb_fini(&tmp);
}

static void py_datetime_fields(mt__data_sb *sb, int64_t sod, int64_t us)
{
    mt__data_sb_printf(sb, ", %lld, %lld", (long long)(sod / 3600), (long long)(sod % 3600 / 60));
    if (sod % 60 || us) mt__data_sb_printf(sb, ", %lld", (long long)(sod % 60));
    if (us) mt__data_sb_printf(sb, ", %lld", (long long)us);
}

static void split_time(int64_t v, mt_time_unit unit, int64_t *days, int64_t *sod, int64_t *sub)
{
    static const int64_t per_sec[] = {1, 1000, 1000000, 1000000000};
    int64_t per = per_sec[unit & 3], secs = v / per;
    *sub = v % per;
    if (*sub < 0) *sub += per, secs -= 1;
    *days = secs / 86400;
    *sod = secs % 86400;
    if (*sod < 0) *sod += 86400, *days -= 1;
}

static void py_date_args(mt__data_sb *sb, int64_t days)
{
    int64_t y;
    int m, d;
    mt__data_civil_from_days(days, &y, &m, &d);
    mt__data_sb_printf(sb, "%lld, %d, %d", (long long)y, m, d);
}

/* datetime.datetime(...) for s/ms/us; pandas Timestamp('...') for ns (as pyarrow's as_py). */
static void py_timestamp(mt__data_sb *sb, int64_t v, const mt_type *t)
{
    int64_t days, sod, sub;
    split_time(v, t->unit, &days, &sod, &sub);
    if (t->unit == MT_UNIT_NANO) {
        mt__data_sb_puts(sb, "Timestamp('");
        mt__data_timestamp_to_sb(sb, v - sub, MT_UNIT_NANO, ' ');
        if (sub % 1000) mt__data_sb_printf(sb, ".%09lld", (long long)sub);
        else if (sub) mt__data_sb_printf(sb, ".%06lld", (long long)(sub / 1000));
        if (t->timezone) mt__data_sb_printf(sb, "+0000', tz='%s')", t->timezone);
        else mt__data_sb_puts(sb, "')");
        return;
    }
    int64_t us = t->unit == MT_UNIT_SECOND ? 0 : t->unit == MT_UNIT_MILLI ? sub * 1000 : sub;
    mt__data_sb_puts(sb, "datetime.datetime(");
    py_date_args(sb, days);
    py_datetime_fields(sb, sod, us);
    if (t->timezone) mt__data_sb_printf(sb, ", tzinfo=<%s>", t->timezone);
    mt__data_sb_putc(sb, ')');
}

static void py_time(mt__data_sb *sb, int64_t v, mt_time_unit unit)
{
    int64_t days, sod, sub;
    split_time(v, unit, &days, &sod, &sub);
    int64_t us = unit == MT_UNIT_SECOND ? 0 : unit == MT_UNIT_MILLI ? sub * 1000
                                        : unit == MT_UNIT_MICRO  ? sub : sub / 1000;
    mt__data_sb_printf(sb, "datetime.time(%lld, %lld", (long long)(sod / 3600),
                       (long long)(sod % 3600 / 60));
    if (sod % 60 || us) mt__data_sb_printf(sb, ", %lld", (long long)(sod % 60));
    if (us) mt__data_sb_printf(sb, ", %lld", (long long)us);
    mt__data_sb_putc(sb, ')');
}

static void py_float(mt__data_sb *sb, double v)
{
    char buf[40];
    mt__data_format_py(v, buf, sizeof buf);
    mt__data_sb_puts(sb, buf);
}

static void py_value(mt__data_sb *sb, const mt_array *a, int64_t i);

static void py_var(mt__data_sb *sb, const mt_array *a, int64_t i, bool text)
{
    int64_t n;
    const uint8_t *p = mt__data_var_bytes(a, i, &n);
    if (text) py_str(sb, p, (size_t)n);
    else py_bytes(sb, p, (size_t)n);
}

/* Maps print as pyarrow's as_py() gives them: lists of (key, value) tuples. */
static const mt__data_nested_style py_nested = {
    .sep = ", ",
    .field_sep = ": ",
    .entry_open = "(",
    .entry_mid = ", ",
    .entry_close = ")",
    .null = "None",
    .name = py_str,
    .value = py_value,
};

static void py_value(mt__data_sb *sb, const mt_array *a, int64_t i)
{
    if (!mt_array_is_valid(a, i)) {
        mt__data_sb_puts(sb, "None");
        return;
    }
    const mt_type *t = a->type;
    int64_t j = a->offset + i;
    switch (t->id) {
    case MT_TYPE_NA: mt__data_sb_puts(sb, "None"); break;
    case MT_TYPE_BOOL:
        mt__data_sb_puts(sb, (a->buffers[1]->data[j >> 3] >> (j & 7)) & 1 ? "True" : "False");
        break;
    case MT_TYPE_INT8:
    case MT_TYPE_INT16:
    case MT_TYPE_INT32:
    case MT_TYPE_INT64:
    case MT_TYPE_UINT8:
    case MT_TYPE_UINT16:
    case MT_TYPE_UINT32:
    case MT_TYPE_UINT64: mt__data_int_to_sb(sb, a, i); break;
    case MT_TYPE_FLOAT16:
    case MT_TYPE_FLOAT32:
    case MT_TYPE_FLOAT64: py_float(sb, mt__data_float_at(a, i)); break;
    case MT_TYPE_UTF8: py_var(sb, a, i, true); break;
    case MT_TYPE_BINARY: py_var(sb, a, i, false); break;
    case MT_TYPE_FIXED_BINARY:
        py_bytes(sb, a->buffers[1]->data + j * t->byte_width, (size_t)t->byte_width);
        break;
    case MT_TYPE_DECIMAL128: py_decimal(sb, a->buffers[1]->data + j * 16, t->scale); break;
    case MT_TYPE_DATE32:
        mt__data_sb_puts(sb, "datetime.date(");
        py_date_args(sb, MT_ARRAY_VALUES(a, int32_t)[i]);
        mt__data_sb_putc(sb, ')');
        break;
    case MT_TYPE_TIME32: py_time(sb, MT_ARRAY_VALUES(a, int32_t)[i], t->unit); break;
    case MT_TYPE_TIME64: py_time(sb, MT_ARRAY_VALUES(a, int64_t)[i], t->unit); break;
    case MT_TYPE_TIMESTAMP: py_timestamp(sb, MT_ARRAY_VALUES(a, int64_t)[i], t); break;
    case MT_TYPE_LIST:
    case MT_TYPE_STRUCT:
    case MT_TYPE_MAP: mt__data_nested_to_sb(sb, a, i, &py_nested); break;
    }
}

mt_status mt_table_print_rows(const mt_table *t, int64_t offset, int64_t limit, FILE *out,
                              mt_error *err)
{
    if (offset < 0 || limit < 0)
        return mt_error_set(err, MT_EINVAL, "print rows: negative offset or limit");
    int64_t end = offset > t->num_rows ? t->num_rows : offset;
    end = limit > t->num_rows - end ? t->num_rows : end + limit;
    mt__data_sb sb = {0};
    for (int64_t r = offset; r < end; r++) {
        sb.len = 0;
        mt__data_sb_putc(&sb, '{');
        for (int32_t c = 0; c < t->num_columns; c++) {
            if (c) mt__data_sb_puts(&sb, ", ");
            const char *name = t->schema->fields[c].name;
            py_str(&sb, (const uint8_t *)name, strlen(name));
            mt__data_sb_puts(&sb, ": ");
            py_value(&sb, t->columns[c], r);
        }
        mt__data_sb_puts(&sb, "}\n");
        if (sb.failed) break;
        if (fwrite(sb.data, 1, sb.len, out) != sb.len) {
            mt__data_sb_fini(&sb);
            return mt_error_set_errno(err, MT_EIO, errno, "printing rows");
        }
    }
    bool failed = sb.failed;
    mt__data_sb_fini(&sb);
    return failed ? mt_error_set(err, MT_ENOMEM, "printing rows: out of memory") : MT_OK;
}
