/*
 * csv_write.c — the CSV writer: RFC 4180 text with quoting only where the
 * reader needs it, values in forms csv_read.c reads back to the same values
 * (floats shortest round-trip keeping ".0", ISO dates and times, "0x" hex
 * for binary), and the write-to-temporary-then-rename file protocol.
 *
 * Threads: one call on the caller's thread; the table is only read.
 * Invariant: mt_csv_write never leaves a partial file at `path` (nor its
 * temporary) behind when it fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "data/print_int.h"

static const char *const null_tokens[] = {"", "NA", "N/A", "NULL", "null", NULL};

static bool needs_quotes(const uint8_t *p, size_t n, char delim)
{
    if (n == 0) return true; /* "" is an empty string; an empty field is null */
    if (p[0] == ' ' || p[n - 1] == ' ' || p[0] == '\t' || p[n - 1] == '\t') return true;
    for (size_t i = 0; i < n; i++)
        if (p[i] == (uint8_t)delim || p[i] == '"' || p[i] == '\n' || p[i] == '\r') return true;
    for (const char *const *t = null_tokens; *t; t++)
        if (strlen(*t) == n && memcmp(*t, p, n) == 0) return true;
    return false;
}

static void put_text(mt__data_sb *sb, const uint8_t *p, size_t n, char delim)
{
    if (!needs_quotes(p, n, delim)) {
        mt__data_sb_put(sb, p, n);
        return;
    }
    mt__data_sb_putc(sb, '"');
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') mt__data_sb_putc(sb, '"');
        mt__data_sb_putc(sb, (char)p[i]);
    }
    mt__data_sb_putc(sb, '"');
}

static void put_double(mt__data_sb *sb, double v)
{
    char buf[40];
    size_t n = mt__data_format_csv(v, buf, sizeof buf);
    mt__data_sb_put(sb, buf, n);
}

static void put_value(mt__data_sb *sb, const mt_array *a, int64_t i, char delim)
{
    if (!mt_array_is_valid(a, i)) return;
    const mt_type *t = a->type;
    int64_t j = a->offset + i;
    switch (t->id) {
    case MT_TYPE_BOOL:
        mt__data_sb_puts(sb, (a->buffers[1]->data[j >> 3] >> (j & 7)) & 1 ? "true" : "false");
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
    case MT_TYPE_FLOAT64: put_double(sb, mt__data_float_at(a, i)); break;
    case MT_TYPE_UTF8:
    case MT_TYPE_BINARY: {
        int64_t n;
        const uint8_t *p = mt__data_var_bytes(a, i, &n);
        if (t->id == MT_TYPE_UTF8) put_text(sb, p, (size_t)n, delim);
        else mt__data_hex_to_sb(sb, p, n);
        break;
    }
    case MT_TYPE_FIXED_BINARY:
        mt__data_hex_to_sb(sb, a->buffers[1]->data + j * t->byte_width, t->byte_width);
        break;
    case MT_TYPE_DECIMAL128: mt__data_decimal_to_sb(sb, a->buffers[1]->data + j * 16, t->scale); break;
    case MT_TYPE_DATE32: mt__data_date_to_sb(sb, MT_ARRAY_VALUES(a, int32_t)[i]); break;
    case MT_TYPE_TIME32: mt__data_time_to_sb(sb, MT_ARRAY_VALUES(a, int32_t)[i], t->unit); break;
    case MT_TYPE_TIME64: mt__data_time_to_sb(sb, MT_ARRAY_VALUES(a, int64_t)[i], t->unit); break;
    case MT_TYPE_TIMESTAMP:
        mt__data_timestamp_to_sb(sb, MT_ARRAY_VALUES(a, int64_t)[i], t->unit, 'T');
        if (t->timezone) mt__data_sb_putc(sb, 'Z');
        break;
    default: break;
    }
}

static mt_status flush_sb(mt__data_sb *sb, FILE *out, mt_error *err)
{
    if (sb->failed) return mt_error_set(err, MT_ENOMEM, "writing CSV: out of memory");
    if (sb->len && fwrite(sb->data, 1, sb->len, out) != sb->len)
        return mt_error_set_errno(err, MT_EIO, errno, "writing CSV");
    sb->len = 0;
    return MT_OK;
}

mt_status mt_csv_write_stream(FILE *out, const mt_table *t, const mt_csv_write_options *opts,
                              mt_error *err)
{
    char delim = opts && opts->delimiter ? opts->delimiter : ',';
    if (delim == '"' || delim == '\n' || delim == '\r')
        return mt_error_set(err, MT_EINVAL, "writing CSV: invalid delimiter");
    for (int32_t c = 0; c < t->num_columns; c++) {
        mt_type_id id = t->schema->fields[c].type->id;
        if (id == MT_TYPE_LIST || id == MT_TYPE_STRUCT || id == MT_TYPE_MAP)
            return mt_error_set(err, MT_EUNSUPPORTED, "CSV cannot hold nested column '%s'",
                                t->schema->fields[c].name);
    }
    mt__data_sb sb = {0};
    mt_status st = MT_OK;
    if (!(opts && opts->no_header)) {
        for (int32_t c = 0; c < t->num_columns; c++) {
            const char *name = t->schema->fields[c].name;
            if (c) mt__data_sb_putc(&sb, delim);
            put_text(&sb, (const uint8_t *)name, strlen(name), delim);
        }
        mt__data_sb_putc(&sb, '\n');
    }
    for (int64_t r = 0; r < t->num_rows && st == MT_OK; r++) {
        for (int32_t c = 0; c < t->num_columns; c++) {
            if (c) mt__data_sb_putc(&sb, delim);
            put_value(&sb, t->columns[c], r, delim);
        }
        mt__data_sb_putc(&sb, '\n');
        if (sb.len >= (1 << 16) || sb.failed) st = flush_sb(&sb, out, err);
    }
    if (st == MT_OK) st = flush_sb(&sb, out, err);
    mt__data_sb_fini(&sb);
    return st;
}

mt_status mt_csv_write(const char *path, const mt_table *t, const mt_csv_write_options *opts,
                       mt_error *err)
{
    mt_atomic_file af;
    MT_RETURN_NOT_OK(mt_atomic_file_open(&af, path, 0666, err));
    mt_status st = mt_csv_write_stream(af.fp, t, opts, err);
    if (st != MT_OK) {
        mt_error_prefix(err, "%s", path);
        mt_atomic_file_abort(&af);
        return st;
    }
    return mt_atomic_file_commit(&af, err);
}
