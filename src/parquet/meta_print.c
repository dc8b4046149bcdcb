/*
 * meta_print.c — `manta data meta`: prints a Parquet file's footer in a
 * human-readable form (file facts, key-value metadata, the schema as a
 * Parquet "message", and per row group every column chunk's type, codec,
 * encodings, sizes, offsets, page counts and statistics).
 *
 * Runs on the caller's thread with a reader it owns. Invariants: only reads
 * the decoded footer and page headers (no decompression); statistics are
 * decoded only when their length matches the physical type, else shown as
 * hex; a bad page header is reported inline and does not stop the listing.
 */
#include <inttypes.h>
#include <string.h>

#include "parquet/pq_int.h"

static const char *physical_name(int t)
{
    static const char *const names[] = {"boolean", "int32", "int64", "int96",
                                        "float", "double", "binary", "fixed_len_byte_array"};
    return t >= 0 && t <= 7 ? names[t] : "?";
}

static const char *encoding_name(int e)
{
    static const char *const names[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
                                        "BIT_PACKED", "DELTA_BINARY_PACKED",
                                        "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e <= 9 ? names[e] : "UNKNOWN";
}

static const char *converted_name(int c)
{
    static const char *const names[] = {
        "UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE", "TIME_MILLIS",
        "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32",
        "UINT_64", "INT_8", "INT_16", "INT_32", "INT_64", "JSON", "BSON", "INTERVAL"};
    return c >= 0 && c <= 21 ? names[c] : NULL;
}

static void print_logical(const pq_schema_element *s, FILE *out)
{
    static const char *const units[] = {"MILLIS", "MICROS", "NANOS"};
    static const char *const simple[] = {NULL, "STRING", "MAP", "LIST", "ENUM", NULL, "DATE",
                                         NULL, NULL, NULL, NULL, "UNKNOWN", "JSON", "BSON",
                                         "UUID", "FLOAT16", "VARIANT", "GEOMETRY", "GEOGRAPHY"};
    const pq_logical_type *lt = &s->logical;
    const char *unit = lt->unit >= 0 && lt->unit <= 2 ? units[lt->unit] : "?";
    switch (lt->kind) {
    case PQ_LT_NONE: {
        const char *c = converted_name(s->converted_type);
        if (c && s->converted_type == PQ_CT_DECIMAL)
            fprintf(out, " (DECIMAL(%d,%d))", (int)s->precision, (int)s->scale);
        else if (c)
            fprintf(out, " (%s)", c);
        return;
    }
    case PQ_LT_DECIMAL:
        fprintf(out, " (DECIMAL(%d,%d))", (int)lt->precision, (int)lt->scale);
        return;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        fprintf(out, " (%s(%s,%s))", lt->kind == PQ_LT_TIME ? "TIME" : "TIMESTAMP", unit,
                lt->is_adjusted_to_utc ? "true" : "false");
        return;
    case PQ_LT_INTEGER:
        fprintf(out, " (INTEGER(%d,%s))", (int)lt->bit_width, lt->is_signed ? "true" : "false");
        return;
    case PQ_LT_UNRECOGNISED: fprintf(out, " (<unrecognised logical type>)"); return;
    default:
        if (lt->kind > 0 && lt->kind <= PQ_LT_GEOGRAPHY && simple[lt->kind])
            fprintf(out, " (%s)", simple[lt->kind]);
        return;
    }
}

static void print_schema(const pq_file_meta *m, FILE *out)
{
    static const char *const reps[] = {"required", "optional", "repeated"};
    int32_t stack[64];
    int top = 0;
    fputs("message ", out);
    mt_fputs_escaped(m->schema[0].name ? m->schema[0].name : "", out);
    fputs(" {\n", out);
    if (m->schema[0].num_children > 0) stack[top++] = m->schema[0].num_children;
    for (int32_t i = 1; i < m->num_schema && top > 0; i++) {
        const pq_schema_element *s = &m->schema[i];
        stack[top - 1]--;
        fprintf(out, "%*s%s ", 2 * top, "", s->repetition >= 0 ? reps[s->repetition] : "");
        if (s->num_children > 0) fprintf(out, "group ");
        else if (s->type == PQ_FIXED_LEN_BYTE_ARRAY)
            fprintf(out, "fixed_len_byte_array(%d) ", (int)s->type_length);
        else fprintf(out, "%s ", physical_name(s->type));
        mt_fputs_escaped(s->name ? s->name : "", out);
        if (s->field_id >= 0) fprintf(out, " = %d", (int)s->field_id);
        print_logical(s, out);
        if (s->num_children > 0 && top < 64) {
            fprintf(out, " {\n");
            stack[top++] = s->num_children;
            continue;
        }
        fprintf(out, ";\n");
        while (top > 0 && stack[top - 1] == 0) {
            top--;
            if (top > 0) fprintf(out, "%*s}\n", 2 * top, "");
        }
    }
    fprintf(out, "}\n");
}

static bool valid_utf8(const uint8_t *p, int32_t n)
{
    for (int32_t i = 0; i < n;) {
        uint8_t c = p[i];
        int k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (k < 0 || (k == 0 && c < 0x20) || i + k >= n) return false;
        for (int j = 1; j <= k; j++)
            if (i + j >= n || (p[i + j] & 0xc0) != 0x80) return false;
        i += k + 1;
    }
    return true;
}

static void print_stat_value(int type, const uint8_t *p, int32_t n, FILE *out)
{
    int32_t i32;
    int64_t i64;
    float f;
    double d;
    if (type == PQ_BOOLEAN && n == 1) fprintf(out, "%s", p[0] ? "true" : "false");
    else if (type == PQ_INT32 && n == 4) memcpy(&i32, p, 4), fprintf(out, "%" PRId32, i32);
    else if (type == PQ_INT64 && n == 8) memcpy(&i64, p, 8), fprintf(out, "%" PRId64, i64);
    else if (type == PQ_FLOAT && n == 4) memcpy(&f, p, 4), fprintf(out, "%.9g", (double)f);
    else if (type == PQ_DOUBLE && n == 8) memcpy(&d, p, 8), fprintf(out, "%.17g", d);
    else if ((type == PQ_BYTE_ARRAY || type == PQ_FIXED_LEN_BYTE_ARRAY) && valid_utf8(p, n)) {
        fputc('"', out);
        for (int32_t k = 0; k < n; k++) {
            if (p[k] < 0x20 || p[k] == 0x7F) { /* never raw control bytes on a terminal */
                fprintf(out, "\\x%02x", p[k]);
                continue;
            }
            if (p[k] == '"' || p[k] == '\\') fputc('\\', out);
            fputc(p[k], out);
        }
        fputc('"', out);
    } else {
        fprintf(out, "0x");
        for (int32_t k = 0; k < n; k++) fprintf(out, "%02x", p[k]);
    }
}

static void print_stats(const pq_column_chunk *c, FILE *out)
{
    const pq_statistics *s = &c->stats;
    if (!s->min && !s->max && !s->has_null_count && !s->has_distinct_count) {
        fprintf(out, "    statistics: none\n");
        return;
    }
    fprintf(out, "    statistics:");
    if (s->min) fprintf(out, " min "), print_stat_value(c->type, s->min, s->min_len, out);
    if (s->max) fprintf(out, " max "), print_stat_value(c->type, s->max, s->max_len, out);
    if (s->legacy_min_max) fprintf(out, " (legacy min/max)");
    if (s->has_null_count) fprintf(out, " null_count %" PRId64, s->null_count);
    if (s->has_distinct_count) fprintf(out, " distinct_count %" PRId64, s->distinct_count);
    fprintf(out, "\n");
}

static void print_pages(const uint8_t *data, size_t len, const pq_column_chunk *c, FILE *out)
{
    static const char *const names[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE",
                                        "DATA_PAGE_V2"};
    pq_page_reader *pr = NULL;
    mt_error err;
    mt_error_clear(&err);
    int64_t counts[4] = {0, 0, 0, 0}, total = 0;
    mt_status st = pq_page_reader_create(data, len, c, false, NULL, &pr, &err);
    for (bool eof = false; st == MT_OK;) {
        pq_page page;
        st = pq_page_reader_next_header(pr, &page, &eof, &err);
        if (st != MT_OK || eof) break;
        counts[page.type & 3]++;
        total++;
    }
    pq_page_reader_destroy(pr);
    fprintf(out, "    pages: %" PRId64, total);
    const char *sep = " (";
    for (int k = 0; k < 4; k++) {
        if (!counts[k]) continue;
        fprintf(out, "%s%" PRId64 " %s", sep, counts[k], names[k]);
        sep = ", ";
    }
    fprintf(out, "%s", total ? ")" : "");
    if (st != MT_OK) fprintf(out, " [error: %s]", err.msg);
    fprintf(out, "\n");
}

/* Metadata text comes from the file: escaped, so it cannot drive a terminal. */
static void print_kv(const char *indent, const pq_kv *kv, FILE *out)
{
    fputs(indent, out);
    mt_fputs_escaped(kv->key ? kv->key : "", out);
    fputs(" = ", out);
    mt_fputs_escaped(kv->value ? kv->value : "(null)", out);
    fputc('\n', out);
}

static void print_chunk(const uint8_t *data, size_t len, const pq_column_chunk *c, FILE *out)
{
    fprintf(out, "  column '");
    for (int32_t k = 0; k < c->path_len; k++) {
        if (k) fputc('.', out);
        mt_fputs_escaped(c->path_in_schema[k], out);
    }
    if (!c->has_meta_data) {
        fprintf(out, "': no metadata%s\n", c->encrypted ? " (encrypted)" : "");
        return;
    }
    fprintf(out, "' %s\n", physical_name(c->type));
    fprintf(out, "    codec: %s\n", mt_parquet_codec_name((mt_parquet_codec)c->codec));
    fprintf(out, "    encodings:");
    for (int32_t k = 0; k < c->num_encodings; k++)
        fprintf(out, "%s%s", k ? ", " : " ", encoding_name(c->encodings[k]));
    fprintf(out, "\n    num_values: %" PRId64 "\n", c->num_values);
    fprintf(out, "    compressed_size: %" PRId64 ", uncompressed_size: %" PRId64 "\n",
            c->total_compressed_size, c->total_uncompressed_size);
    fprintf(out, "    data_page_offset: %" PRId64, c->data_page_offset);
    if (c->dictionary_page_offset >= 0)
        fprintf(out, ", dictionary_page_offset: %" PRId64, c->dictionary_page_offset);
    if (c->index_page_offset >= 0)
        fprintf(out, ", index_page_offset: %" PRId64, c->index_page_offset);
    if (c->bloom_filter_offset >= 0)
        fprintf(out, ", bloom_filter_offset: %" PRId64, c->bloom_filter_offset);
    if (c->offset_index_offset >= 0)
        fprintf(out, ", offset_index_offset: %" PRId64, c->offset_index_offset);
    if (c->column_index_offset >= 0)
        fprintf(out, ", column_index_offset: %" PRId64, c->column_index_offset);
    fprintf(out, "\n");
    for (int32_t k = 0; k < c->num_kv; k++) print_kv("    kv: ", &c->kv[k], out);
    print_pages(data, len, c, out);
    print_stats(c, out);
}

mt_status mt_parquet_reader_print_meta(mt_parquet_reader *r, FILE *out, mt_error *err)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    const char *path = NULL;
    const pq_file_meta *m = pq_reader_meta(r, &data, &len, &path);
    fprintf(out, "file: %s\nversion: %d\nnum_rows: %" PRId64, path, (int)m->version, m->num_rows);
    if (m->footer_num_rows != m->num_rows)
        fprintf(out, " (the footer says %" PRId64 "; its row groups hold %" PRId64 ")", m->footer_num_rows,
                m->num_rows);
    fprintf(out, "\nnum_row_groups: %d\n", (int)m->num_row_groups);
    fputs("created_by: ", out);
    mt_fputs_escaped(m->created_by ? m->created_by : "(none)", out);
    fprintf(out, "\nkey_value_metadata: %d\n", (int)m->num_kv);
    for (int32_t k = 0; k < m->num_kv; k++) print_kv("  ", &m->kv[k], out);
    fprintf(out, "schema:\n");
    print_schema(m, out);
    for (int32_t g = 0; g < m->num_row_groups; g++) {
        const pq_row_group *rg = &m->row_groups[g];
        fprintf(out, "row group %d: num_rows %" PRId64 ", total_byte_size %" PRId64 "\n", (int)g,
                rg->num_rows, rg->total_byte_size);
        for (int32_t c = 0; c < rg->num_columns; c++) print_chunk(data, len, &rg->columns[c], out);
    }
    if (ferror(out)) return mt_error_set(err, MT_EIO, "%s: writing the metadata failed", path);
    return MT_OK;
}
