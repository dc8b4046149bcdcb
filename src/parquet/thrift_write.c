/*
 * thrift_write.c — Thrift compact-protocol encoder for PageHeader and
 * FileMetaData (and SchemaElement, LogicalType, RowGroup, ColumnChunk,
 * ColumnMetaData, Statistics, KeyValue, ColumnOrder below it).
 *
 * Single-threaded. The encoder keeps a sticky status: after the first
 * allocation failure every write is a no-op and the top-level function
 * returns that failure. Field ids are written in increasing order within
 * each struct, as the compact protocol's delta encoding expects; optional
 * fields are simply omitted.
 */
#include <string.h>

#include "parquet/pq_thrift_write.h"

enum {
    CT_STOP = 0, CT_TRUE = 1, CT_FALSE = 2, CT_BYTE = 3, CT_I16 = 4, CT_I32 = 5, CT_I64 = 6,
    CT_DOUBLE = 7, CT_BINARY = 8, CT_LIST = 9, CT_SET = 10, CT_MAP = 11, CT_STRUCT = 12,
};

#define TW_MAX_DEPTH 16

typedef struct tw {
    pq_buf *out;
    mt_error *err;
    mt_status st;
    int depth;
    int16_t last[TW_MAX_DEPTH]; /* last field id per open struct */
} tw;

static void put(tw *w, const void *p, size_t n)
{
    if (w->st != MT_OK) return;
    w->st = pq_buf_append(w->out, p, n, w->err);
}

static void put_varint(tw *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    put(w, b, n);
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void field(tw *w, int16_t id, int type)
{
    int16_t delta = (int16_t)(id - w->last[w->depth]);
    if (delta > 0 && delta <= 15) {
        uint8_t b = (uint8_t)((delta << 4) | type);
        put(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)type;
        put(w, &b, 1);
        put_varint(w, zigzag(id));
    }
    w->last[w->depth] = id;
}

static void f_i32(tw *w, int16_t id, int32_t v)
{
    field(w, id, CT_I32);
    put_varint(w, zigzag(v));
}

static void f_i64(tw *w, int16_t id, int64_t v)
{
    field(w, id, CT_I64);
    put_varint(w, zigzag(v));
}

static void f_bool(tw *w, int16_t id, bool v) { field(w, id, v ? CT_TRUE : CT_FALSE); }

static void put_binary(tw *w, const void *p, size_t n)
{
    put_varint(w, n);
    put(w, p, n);
}

static void f_binary(tw *w, int16_t id, const void *p, size_t n)
{
    field(w, id, CT_BINARY);
    put_binary(w, p, n);
}

static void f_string(tw *w, int16_t id, const char *s) { f_binary(w, id, s, strlen(s)); }

static void struct_begin(tw *w)
{
    if (w->depth + 1 >= TW_MAX_DEPTH) {
        if (w->st == MT_OK) w->st = mt_error_set(w->err, MT_EINTERNAL, "thrift nesting too deep");
        return;
    }
    w->last[++w->depth] = 0;
}

static void struct_end(tw *w)
{
    uint8_t stop = CT_STOP;
    put(w, &stop, 1);
    if (w->depth > 0) w->depth--;
}

static void f_struct(tw *w, int16_t id)
{
    field(w, id, CT_STRUCT);
    struct_begin(w);
}

/* An empty struct as a union member or marker. */
static void f_empty(tw *w, int16_t id)
{
    f_struct(w, id);
    struct_end(w);
}

static void list_header(tw *w, int64_t n, int elem)
{
    if (n < 15) {
        uint8_t b = (uint8_t)((n << 4) | elem);
        put(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)(0xF0 | elem);
        put(w, &b, 1);
        put_varint(w, (uint64_t)n);
    }
}

static void f_list(tw *w, int16_t id, int64_t n, int elem)
{
    field(w, id, CT_LIST);
    list_header(w, n, elem);
}

/* ---- PageHeader -------------------------------------------------------- */

static void data_page_v1(tw *w, const pq_w_page_header *h)
{
    f_struct(w, 5);
    f_i32(w, 1, h->num_values);
    f_i32(w, 2, h->encoding);
    f_i32(w, 3, PQ_RLE);
    f_i32(w, 4, PQ_RLE);
    struct_end(w);
}

static void data_page_v2(tw *w, const pq_w_page_header *h)
{
    f_struct(w, 8);
    f_i32(w, 1, h->num_values);
    f_i32(w, 2, h->num_nulls);
    f_i32(w, 3, h->num_rows);
    f_i32(w, 4, h->encoding);
    f_i32(w, 5, h->def_len);
    f_i32(w, 6, h->rep_len);
    f_bool(w, 7, h->is_compressed);
    struct_end(w);
}

mt_status pq_tw_page_header(const pq_w_page_header *h, pq_buf *out, mt_error *err)
{
    tw w = {.out = out, .err = err};
    f_i32(&w, 1, h->type);
    f_i32(&w, 2, h->uncompressed_size);
    f_i32(&w, 3, h->compressed_size);
    f_i32(&w, 4, (int32_t)h->crc);
    if (h->type == PQ_DATA_PAGE) {
        data_page_v1(&w, h);
    } else if (h->type == PQ_DICTIONARY_PAGE) {
        f_struct(&w, 7);
        f_i32(&w, 1, h->num_values);
        f_i32(&w, 2, h->encoding);
        struct_end(&w);
    } else {
        data_page_v2(&w, h);
    }
    struct_end(&w);
    return w.st;
}

/* ---- FileMetaData ------------------------------------------------------ */

static void time_unit(tw *w, int16_t id, int unit)
{
    f_struct(w, id);
    f_empty(w, (int16_t)(unit + 1)); /* MILLIS = 1, MICROS = 2, NANOS = 3 */
    struct_end(w);
}

static void logical_type(tw *w, const pq_logical_type *lt)
{
    f_struct(w, 10);
    switch (lt->kind) {
    case PQ_LT_DECIMAL:
        f_struct(w, PQ_LT_DECIMAL);
        f_i32(w, 1, lt->scale);
        f_i32(w, 2, lt->precision);
        struct_end(w);
        break;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        f_struct(w, (int16_t)lt->kind);
        f_bool(w, 1, lt->is_adjusted_to_utc);
        time_unit(w, 2, lt->unit);
        struct_end(w);
        break;
    case PQ_LT_INTEGER: {
        f_struct(w, PQ_LT_INTEGER);
        field(w, 1, CT_BYTE);
        uint8_t bw = (uint8_t)lt->bit_width;
        put(w, &bw, 1);
        f_bool(w, 2, lt->is_signed);
        struct_end(w);
        break;
    }
    default: /* STRING, MAP, LIST, DATE, UNKNOWN, FLOAT16: empty structs */
        f_empty(w, (int16_t)lt->kind);
        break;
    }
    struct_end(w);
}

static void schema_element(tw *w, const pq_schema_element *e)
{
    struct_begin(w);
    if (e->type >= 0) f_i32(w, 1, e->type);
    if (e->type == PQ_FIXED_LEN_BYTE_ARRAY) f_i32(w, 2, e->type_length);
    if (e->repetition >= 0) f_i32(w, 3, e->repetition);
    f_string(w, 4, e->name);
    if (e->num_children > 0 || e->type < 0) f_i32(w, 5, e->num_children);
    if (e->converted_type >= 0) f_i32(w, 6, e->converted_type);
    if (e->converted_type == PQ_CT_DECIMAL) {
        f_i32(w, 7, e->scale);
        f_i32(w, 8, e->precision);
    }
    if (e->logical.kind != PQ_LT_NONE) logical_type(w, &e->logical);
    struct_end(w);
}

static void statistics(tw *w, const pq_w_stats *st)
{
    f_struct(w, 12);
    f_i64(w, 3, st->null_count);
    if (st->has_min_max) {
        f_binary(w, 5, st->max.data, st->max.len);
        f_binary(w, 6, st->min.data, st->min.len);
        f_bool(w, 7, !st->max_truncated); /* is_max_value_exact */
        f_bool(w, 8, !st->min_truncated); /* is_min_value_exact */
    }
    struct_end(w);
}

static void column_meta(tw *w, const pq_w_chunk_meta *c)
{
    f_struct(w, 3);
    f_i32(w, 1, c->physical);
    f_list(w, 2, c->num_encodings, CT_I32);
    for (int32_t i = 0; i < c->num_encodings; i++) put_varint(w, zigzag(c->encodings[i]));
    f_list(w, 3, c->path_len, CT_BINARY);
    for (int32_t i = 0; i < c->path_len; i++) put_binary(w, c->path[i], strlen(c->path[i]));
    f_i32(w, 4, c->codec);
    f_i64(w, 5, c->num_values);
    f_i64(w, 6, c->total_uncompressed_size);
    f_i64(w, 7, c->total_compressed_size);
    f_i64(w, 9, c->data_page_offset);
    if (c->dictionary_page_offset >= 0) f_i64(w, 11, c->dictionary_page_offset);
    if (c->has_stats) statistics(w, c->stats);
    struct_end(w);
}

static void row_group(tw *w, const pq_w_row_group_meta *rg)
{
    struct_begin(w);
    f_list(w, 1, rg->num_columns, CT_STRUCT);
    for (int32_t i = 0; i < rg->num_columns; i++) {
        const pq_w_chunk_meta *c = &rg->columns[i];
        struct_begin(w);
        int64_t off = c->dictionary_page_offset >= 0 ? c->dictionary_page_offset
                                                     : c->data_page_offset;
        f_i64(w, 2, off);
        column_meta(w, c);
        struct_end(w);
    }
    f_i64(w, 2, rg->total_byte_size);
    f_i64(w, 3, rg->num_rows);
    f_i64(w, 5, rg->file_offset);
    f_i64(w, 6, rg->total_compressed_size);
    field(w, 7, CT_I16);
    put_varint(w, zigzag(rg->ordinal));
    struct_end(w);
}

static void key_values(tw *w, const char *const *kv)
{
    int64_t n = 0;
    while (kv[2 * n] && kv[2 * n + 1]) n++;
    if (n == 0) return;
    f_list(w, 5, n, CT_STRUCT);
    for (int64_t i = 0; i < n; i++) {
        struct_begin(w);
        f_string(w, 1, kv[2 * i]);
        f_string(w, 2, kv[2 * i + 1]);
        struct_end(w);
    }
}

mt_status pq_tw_file_meta(const pq_w_file_meta *m, pq_buf *out, mt_error *err)
{
    tw w = {.out = out, .err = err};
    f_i32(&w, 1, m->version);
    f_list(&w, 2, m->schema->num_elems, CT_STRUCT);
    for (int32_t i = 0; i < m->schema->num_elems; i++) schema_element(&w, &m->schema->elems[i]);
    f_i64(&w, 3, m->num_rows);
    f_list(&w, 4, m->num_row_groups, CT_STRUCT);
    for (int32_t i = 0; i < m->num_row_groups; i++) row_group(&w, &m->row_groups[i]);
    if (m->kv) key_values(&w, m->kv);
    f_string(&w, 6, m->created_by);
    /* ColumnOrder: TYPE_ORDER for every leaf, so readers trust min_value/max_value. */
    f_list(&w, 7, m->schema->num_leaves, CT_STRUCT);
    for (int32_t i = 0; i < m->schema->num_leaves; i++) {
        struct_begin(&w);
        f_empty(&w, 1);
        struct_end(&w);
    }
    struct_end(&w);
    return w.st;
}
