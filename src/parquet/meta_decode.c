/*
 * meta_decode.c — decodes a Parquet FileMetaData footer (Thrift compact) into
 * pq_file_meta, and frees it.
 *
 * Runs on the thread opening a reader. Invariants: the footer bytes are
 * copied into meta->footer first and decoded from there, so statistics may
 * point into them; every list is grown as elements are actually decoded (a
 * lying list size costs no memory); unknown fields and union members are
 * skipped; a field whose wire type does not match the spec is skipped too
 * (as Thrift-generated readers do); counts, sizes and offsets that must not
 * be negative are rejected with MT_ECORRUPT.
 */
#include <string.h>

#include "parquet/pq_int.h"
#include "parquet/pq_thrift.h"

/* The body of a struct decoder: `for each field { switch (id) { cases } }`. */
#define PQ_FIELDS_BEGIN(t, err)                                               \
    MT_RETURN_NOT_OK(pq_tr_enter((t), (err)));                                \
    int16_t last_id_ = 0, id;                                                 \
    int ty;                                                                   \
    mt_status st_ = MT_OK;                                                    \
    for (;;) {                                                                \
        st_ = pq_tr_field((t), &last_id_, &id, &ty, (err));                   \
        if (st_ != MT_OK || ty == PQ_TT_STOP) break;                          \
        switch (id) {
#define PQ_FIELDS_END(t, err)                                                 \
        default: st_ = pq_tr_skip((t), ty, (err));                            \
        PQ_FIELDS_CLOSE(t, err)
/* As PQ_FIELDS_END for decoders that have their own default case. */
#define PQ_FIELDS_CLOSE(t, err)                                               \
        }                                                                     \
        if (st_ != MT_OK) break;                                              \
    }                                                                         \
    pq_tr_leave(t);                                                           \
    if (st_ != MT_OK) return st_;
/* Inside a case: decode `call` if the wire type is `want`, else skip. */
#define PQ_READ(want, call)                                                   \
    st_ = ty == (want) ? (call) : pq_tr_skip(t, ty, err);                     \
    break;
#define PQ_BOOL(dst)                                                          \
    if (ty == PQ_TT_TRUE || ty == PQ_TT_FALSE) (dst) = ty == PQ_TT_TRUE;      \
    else st_ = pq_tr_skip(t, ty, err);                                        \
    break;

static mt_status enum_i32(pq_tr *t, int *dst, mt_error *err)
{
    int32_t v = 0;
    MT_RETURN_NOT_OK(pq_tr_i32(t, &v, err));
    *dst = v;
    return MT_OK;
}

/* Grows *arr (of *cap elements of `size` bytes) to hold index `i`. */
static mt_status grow(void **arr, int32_t *cap, int32_t i, size_t size, mt_error *err)
{
    if (i < *cap) return MT_OK;
    int32_t ncap = *cap ? *cap * 2 : 4;
    if (ncap <= i) ncap = i + 1;
    void *p = mt_realloc(*arr, (size_t)ncap * size);
    if (!p) return mt_error_set(err, MT_ENOMEM, "out of memory decoding the footer");
    memset((char *)p + (size_t)*cap * size, 0, (size_t)(ncap - *cap) * size);
    *arr = p;
    *cap = ncap;
    return MT_OK;
}

typedef mt_status (*elem_fn)(pq_tr *t, void *elem, mt_error *err);

/* Decodes a list of structs into a growing array; *n counts decoded elements. */
static mt_status struct_list(pq_tr *t, void **arr, int32_t *n, size_t size, elem_fn fn,
                             void (*init)(void *), mt_error *err)
{
    int ety = 0;
    int32_t cnt = 0, cap = *n;
    MT_RETURN_NOT_OK(pq_tr_list(t, &ety, &cnt, err));
    if (*arr) return mt_error_set(err, MT_ECORRUPT, "duplicate list field in the footer");
    for (int32_t i = 0; i < cnt; i++) {
        if (ety != PQ_TT_STRUCT) {
            MT_RETURN_NOT_OK(pq_tr_skip_elem(t, ety, err));
            continue;
        }
        MT_RETURN_NOT_OK(grow(arr, &cap, *n, size, err));
        void *e = (char *)*arr + (size_t)*n * size;
        if (init) init(e);
        (*n)++; /* counted before decoding so that fini frees a partial element */
        MT_RETURN_NOT_OK(fn(t, e, err));
    }
    return MT_OK;
}

static mt_status kv_decode(pq_tr *t, void *e, mt_error *err)
{
    pq_kv *kv = e;
    PQ_FIELDS_BEGIN(t, err)
    case 1: PQ_READ(PQ_TT_BINARY, kv->key ? MT_OK : pq_tr_string(t, &kv->key, err))
    case 2: PQ_READ(PQ_TT_BINARY, kv->value ? MT_OK : pq_tr_string(t, &kv->value, err))
    PQ_FIELDS_END(t, err)
    if (!kv->key) return mt_error_set(err, MT_ECORRUPT, "key-value metadata entry without a key");
    return MT_OK;
}

static mt_status kv_list(pq_tr *t, pq_kv **kv, int32_t *n, mt_error *err)
{
    return struct_list(t, (void **)kv, n, sizeof(pq_kv), kv_decode, NULL, err);
}

/* TimeUnit union: 1 MILLIS, 2 MICROS, 3 NANOS. */
static mt_status time_unit_decode(pq_tr *t, int *unit, mt_error *err)
{
    PQ_FIELDS_BEGIN(t, err)
    case 1: case 2: case 3:
        if (ty == PQ_TT_STRUCT) *unit = id - 1;
        st_ = pq_tr_skip(t, ty, err);
        break;
    PQ_FIELDS_END(t, err)
    return MT_OK;
}

static mt_status lt_params(pq_tr *t, int kind, pq_logical_type *lt, mt_error *err)
{
    int8_t b = 0;
    PQ_FIELDS_BEGIN(t, err)
    case 1:
        if (kind == PQ_LT_DECIMAL) { PQ_READ(PQ_TT_I32, pq_tr_i32(t, &lt->scale, err)) }
        if (kind == PQ_LT_INTEGER) {
            st_ = ty == PQ_TT_BYTE ? pq_tr_byte(t, &b, err) : pq_tr_skip(t, ty, err);
            lt->bit_width = b;
            break;
        }
        if (kind == PQ_LT_TIME || kind == PQ_LT_TIMESTAMP) { PQ_BOOL(lt->is_adjusted_to_utc) }
        st_ = pq_tr_skip(t, ty, err);
        break;
    case 2:
        if (kind == PQ_LT_DECIMAL) { PQ_READ(PQ_TT_I32, pq_tr_i32(t, &lt->precision, err)) }
        if (kind == PQ_LT_INTEGER) { PQ_BOOL(lt->is_signed) }
        if (kind == PQ_LT_TIME || kind == PQ_LT_TIMESTAMP) {
            PQ_READ(PQ_TT_STRUCT, time_unit_decode(t, &lt->unit, err))
        }
        st_ = pq_tr_skip(t, ty, err);
        break;
    PQ_FIELDS_END(t, err)
    return MT_OK;
}

static mt_status logical_decode(pq_tr *t, pq_logical_type *lt, mt_error *err)
{
    PQ_FIELDS_BEGIN(t, err)
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 10: case 11: case 12:
    case 13: case 14: case 15: case 16: case 17: case 18:
        if (ty != PQ_TT_STRUCT) {
            st_ = pq_tr_skip(t, ty, err);
            break;
        }
        lt->kind = id;
        st_ = lt_params(t, id, lt, err);
        break;
    default:
        if (lt->kind == PQ_LT_NONE) lt->kind = PQ_LT_UNRECOGNISED;
        st_ = pq_tr_skip(t, ty, err);
        break;
    PQ_FIELDS_CLOSE(t, err)
    return MT_OK;
}

static void schema_init(void *e)
{
    pq_schema_element *s = e;
    s->type = -1;
    s->repetition = -1;
    s->converted_type = -1;
    s->field_id = -1;
}

static mt_status schema_decode(pq_tr *t, void *e, mt_error *err)
{
    pq_schema_element *s = e;
    PQ_FIELDS_BEGIN(t, err)
    case 1: PQ_READ(PQ_TT_I32, enum_i32(t, &s->type, err))
    case 2: PQ_READ(PQ_TT_I32, pq_tr_i32(t, &s->type_length, err))
    case 3: PQ_READ(PQ_TT_I32, enum_i32(t, &s->repetition, err))
    case 4: PQ_READ(PQ_TT_BINARY, s->name ? MT_OK : pq_tr_string(t, &s->name, err))
    case 5: PQ_READ(PQ_TT_I32, pq_tr_i32(t, &s->num_children, err))
    case 6: PQ_READ(PQ_TT_I32, enum_i32(t, &s->converted_type, err))
    case 7: PQ_READ(PQ_TT_I32, pq_tr_i32(t, &s->scale, err))
    case 8: PQ_READ(PQ_TT_I32, pq_tr_i32(t, &s->precision, err))
    case 9: PQ_READ(PQ_TT_I32, pq_tr_i32(t, &s->field_id, err))
    case 10: PQ_READ(PQ_TT_STRUCT, logical_decode(t, &s->logical, err))
    PQ_FIELDS_END(t, err)
    const char *name = s->name ? s->name : "";
    if (!s->name) return mt_error_set(err, MT_ECORRUPT, "schema element without a name");
    if (s->type != -1 && (s->type < 0 || s->type > PQ_FIXED_LEN_BYTE_ARRAY))
        return mt_error_set(err, MT_ECORRUPT, "invalid physical type %d in schema element '%s'",
                            s->type, name);
    if (s->num_children < 0)
        return mt_error_set(err, MT_ECORRUPT, "negative num_children %d in schema element '%s'",
                            (int)s->num_children, name);
    if (s->type_length < 0)
        return mt_error_set(err, MT_ECORRUPT, "negative type_length %d in schema element '%s'",
                            (int)s->type_length, name);
    if (s->repetition < -1 || s->repetition > PQ_REPEATED)
        return mt_error_set(err, MT_ECORRUPT, "invalid repetition %d in schema element '%s'",
                            s->repetition, name);
    return MT_OK;
}

static mt_status stats_decode(pq_tr *t, pq_statistics *s, mt_error *err)
{
    const uint8_t *p = NULL, *min = NULL, *max = NULL, *minv = NULL, *maxv = NULL;
    uint32_t n = 0, min_len = 0, max_len = 0, minv_len = 0, maxv_len = 0;
    PQ_FIELDS_BEGIN(t, err)
    case 1: case 2: case 5: case 6:
        st_ = ty == PQ_TT_BINARY ? pq_tr_binary(t, &p, &n, err) : pq_tr_skip(t, ty, err);
        if (st_ != MT_OK || ty != PQ_TT_BINARY) break;
        if (id == 1) max = p, max_len = n;
        if (id == 2) min = p, min_len = n;
        if (id == 5) maxv = p, maxv_len = n;
        if (id == 6) minv = p, minv_len = n;
        break;
    case 3:
        s->has_null_count = ty == PQ_TT_I64;
        PQ_READ(PQ_TT_I64, pq_tr_i64(t, &s->null_count, err))
    case 4:
        s->has_distinct_count = ty == PQ_TT_I64;
        PQ_READ(PQ_TT_I64, pq_tr_i64(t, &s->distinct_count, err))
    PQ_FIELDS_END(t, err)
    if (minv || maxv) {
        s->min = minv, s->min_len = (int32_t)minv_len;
        s->max = maxv, s->max_len = (int32_t)maxv_len;
    } else if (min || max) {
        s->min = min, s->min_len = (int32_t)min_len;
        s->max = max, s->max_len = (int32_t)max_len;
        s->legacy_min_max = true;
    }
    return MT_OK;
}

static mt_status i32_list(pq_tr *t, int32_t **arr, int32_t *n, mt_error *err)
{
    int ety = 0;
    int32_t cnt = 0, cap = 0;
    MT_RETURN_NOT_OK(pq_tr_list(t, &ety, &cnt, err));
    if (*arr) return mt_error_set(err, MT_ECORRUPT, "duplicate list field in the footer");
    for (int32_t i = 0; i < cnt; i++) {
        if (ety != PQ_TT_I32) {
            MT_RETURN_NOT_OK(pq_tr_skip_elem(t, ety, err));
            continue;
        }
        MT_RETURN_NOT_OK(grow((void **)arr, &cap, *n, sizeof(int32_t), err));
        MT_RETURN_NOT_OK(pq_tr_i32(t, &(*arr)[*n], err));
        (*n)++;
    }
    return MT_OK;
}

static mt_status str_list(pq_tr *t, char ***arr, int32_t *n, mt_error *err)
{
    int ety = 0;
    int32_t cnt = 0, cap = 0;
    MT_RETURN_NOT_OK(pq_tr_list(t, &ety, &cnt, err));
    if (*arr) return mt_error_set(err, MT_ECORRUPT, "duplicate list field in the footer");
    for (int32_t i = 0; i < cnt; i++) {
        if (ety != PQ_TT_BINARY) {
            MT_RETURN_NOT_OK(pq_tr_skip_elem(t, ety, err));
            continue;
        }
        MT_RETURN_NOT_OK(grow((void **)arr, &cap, *n, sizeof(char *), err));
        MT_RETURN_NOT_OK(pq_tr_string(t, &(*arr)[*n], err));
        (*n)++;
    }
    return MT_OK;
}

static mt_status colmeta_decode(pq_tr *t, pq_column_chunk *c, mt_error *err)
{
    PQ_FIELDS_BEGIN(t, err)
    case 1: PQ_READ(PQ_TT_I32, enum_i32(t, &c->type, err))
    case 2: PQ_READ(PQ_TT_LIST, i32_list(t, &c->encodings, &c->num_encodings, err))
    case 3: PQ_READ(PQ_TT_LIST, str_list(t, &c->path_in_schema, &c->path_len, err))
    case 4: PQ_READ(PQ_TT_I32, enum_i32(t, &c->codec, err))
    case 5: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->num_values, err))
    case 6: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->total_uncompressed_size, err))
    case 7: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->total_compressed_size, err))
    case 8: PQ_READ(PQ_TT_LIST, kv_list(t, &c->kv, &c->num_kv, err))
    case 9: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->data_page_offset, err))
    case 10: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->index_page_offset, err))
    case 11: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->dictionary_page_offset, err))
    case 12: PQ_READ(PQ_TT_STRUCT, stats_decode(t, &c->stats, err))
    case 14: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->bloom_filter_offset, err))
    PQ_FIELDS_END(t, err)
    c->has_meta_data = true;
    return MT_OK;
}

static void chunk_init(void *e)
{
    pq_column_chunk *c = e;
    c->type = -1;
    c->index_page_offset = c->dictionary_page_offset = -1;
    c->offset_index_offset = c->column_index_offset = c->bloom_filter_offset = -1;
}

static mt_status chunk_check(const pq_column_chunk *c, mt_error *err)
{
    const char *what = NULL;
    if (c->num_values < 0) what = "num_values";
    else if (c->total_compressed_size < 0) what = "total_compressed_size";
    else if (c->total_uncompressed_size < 0) what = "total_uncompressed_size";
    else if (c->data_page_offset < 0) what = "data_page_offset";
    else if (c->dictionary_page_offset < -1) what = "dictionary_page_offset";
    else if (c->file_offset < 0) what = "file_offset";
    if (what)
        return mt_error_set(err, MT_ECORRUPT, "negative %s in column chunk metadata", what);
    if (c->has_meta_data && (c->type < 0 || c->type > PQ_FIXED_LEN_BYTE_ARRAY))
        return mt_error_set(err, MT_ECORRUPT, "invalid physical type %d in column chunk metadata",
                            c->type);
    return MT_OK;
}

static mt_status chunk_decode(pq_tr *t, void *e, mt_error *err)
{
    pq_column_chunk *c = e;
    PQ_FIELDS_BEGIN(t, err)
    case 1: PQ_READ(PQ_TT_BINARY, c->file_path ? MT_OK : pq_tr_string(t, &c->file_path, err))
    case 2: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->file_offset, err))
    case 3: PQ_READ(PQ_TT_STRUCT, colmeta_decode(t, c, err))
    case 4: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->offset_index_offset, err))
    case 5: PQ_READ(PQ_TT_I32, pq_tr_i32(t, &c->offset_index_length, err))
    case 6: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &c->column_index_offset, err))
    case 7: PQ_READ(PQ_TT_I32, pq_tr_i32(t, &c->column_index_length, err))
    case 8: case 9:
        c->encrypted = true;
        st_ = pq_tr_skip(t, ty, err);
        break;
    PQ_FIELDS_END(t, err)
    return chunk_check(c, err);
}

static void rg_init(void *e)
{
    pq_row_group *g = e;
    g->file_offset = g->total_compressed_size = -1;
    g->ordinal = -1;
}

static mt_status rg_decode(pq_tr *t, void *e, mt_error *err)
{
    pq_row_group *g = e;
    int32_t ord = -1;
    PQ_FIELDS_BEGIN(t, err)
    case 1:
        PQ_READ(PQ_TT_LIST, struct_list(t, (void **)&g->columns, &g->num_columns,
                                        sizeof(pq_column_chunk), chunk_decode, chunk_init, err))
    case 2: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &g->total_byte_size, err))
    case 3: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &g->num_rows, err))
    case 5: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &g->file_offset, err))
    case 6: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &g->total_compressed_size, err))
    case 7: PQ_READ(PQ_TT_I16, pq_tr_i32(t, &ord, err))
    PQ_FIELDS_END(t, err)
    g->ordinal = ord;
    if (g->num_rows < 0)
        return mt_error_set(err, MT_ECORRUPT, "negative num_rows %lld in a row group",
                            (long long)g->num_rows);
    return MT_OK;
}

static mt_status count_list(pq_tr *t, int32_t *n, mt_error *err)
{
    int ety = 0;
    int32_t cnt = 0;
    MT_RETURN_NOT_OK(pq_tr_list(t, &ety, &cnt, err));
    for (int32_t i = 0; i < cnt; i++) MT_RETURN_NOT_OK(pq_tr_skip_elem(t, ety, err));
    *n = cnt;
    return MT_OK;
}

static mt_status file_decode(pq_tr *t, pq_file_meta *m, mt_error *err)
{
    PQ_FIELDS_BEGIN(t, err)
    case 1: PQ_READ(PQ_TT_I32, pq_tr_i32(t, &m->version, err))
    case 2:
        PQ_READ(PQ_TT_LIST, struct_list(t, (void **)&m->schema, &m->num_schema,
                                        sizeof(pq_schema_element), schema_decode, schema_init,
                                        err))
    case 3: PQ_READ(PQ_TT_I64, pq_tr_i64(t, &m->num_rows, err))
    case 4:
        PQ_READ(PQ_TT_LIST, struct_list(t, (void **)&m->row_groups, &m->num_row_groups,
                                        sizeof(pq_row_group), rg_decode, rg_init, err))
    case 5: PQ_READ(PQ_TT_LIST, kv_list(t, &m->kv, &m->num_kv, err))
    case 6: PQ_READ(PQ_TT_BINARY, m->created_by ? MT_OK : pq_tr_string(t, &m->created_by, err))
    case 7: PQ_READ(PQ_TT_LIST, count_list(t, &m->num_column_orders, err))
    case 8:
        m->has_encryption_algorithm = true;
        st_ = pq_tr_skip(t, ty, err);
        break;
    PQ_FIELDS_END(t, err)
    return MT_OK;
}

/* Checks that the depth-first schema forms exactly one tree (iteratively). */
static mt_status schema_tree_check(const pq_file_meta *m, mt_error *err)
{
    if (m->num_schema == 0) return mt_error_set(err, MT_ECORRUPT, "footer has an empty schema");
    int32_t *stack = mt_malloc(sizeof(int32_t) * (size_t)m->num_schema);
    if (!stack) return mt_error_set(err, MT_ENOMEM, "out of memory checking the schema");
    int32_t top = 0;
    stack[top++] = m->schema[0].num_children;
    mt_status st = MT_OK;
    for (int32_t i = 1; i < m->num_schema && st == MT_OK; i++) {
        while (top > 0 && stack[top - 1] == 0) top--;
        if (top == 0) {
            st = mt_error_set(err, MT_ECORRUPT, "schema element '%s' is outside the schema tree",
                              m->schema[i].name);
            break;
        }
        stack[top - 1]--;
        if (m->schema[i].num_children > 0) stack[top++] = m->schema[i].num_children;
    }
    while (st == MT_OK && top > 0 && stack[top - 1] == 0) top--;
    if (st == MT_OK && top > 0)
        st = mt_error_set(err, MT_ECORRUPT, "schema tree declares more children than elements");
    mt_free(stack);
    return st;
}

mt_status pq_meta_decode(const uint8_t *buf, size_t len, pq_file_meta *out, mt_error *err)
{
    memset(out, 0, sizeof *out);
    out->footer = mt_malloc(len ? len : 1);
    if (!out->footer) return mt_error_set(err, MT_ENOMEM, "out of memory copying the footer");
    if (len) memcpy(out->footer, buf, len);
    out->footer_len = len;
    pq_tr t;
    pq_tr_init(&t, out->footer, len);
    mt_status st = file_decode(&t, out, err);
    if (st == MT_OK && out->num_rows < 0)
        st = mt_error_set(err, MT_ECORRUPT, "negative num_rows %lld in the footer",
                          (long long)out->num_rows);
    if (st == MT_OK) st = schema_tree_check(out, err);
    if (st == MT_OK) {
        /* count answers from metadata: it must agree with what reading yields,
         * and reading checks each row group's pages against its num_rows */
        int64_t sum = 0;
        for (int32_t i = 0; i < out->num_row_groups && sum >= 0; i++)
            sum = out->row_groups[i].num_rows > INT64_MAX - sum ? -1 : sum + out->row_groups[i].num_rows;
        out->footer_num_rows = out->num_rows;
        if (sum < 0)
            st = mt_error_set(err, MT_ECORRUPT, "row groups hold more than 2^63 rows");
        else
            out->num_rows = sum; /* readers (and count) go by the row groups, as DuckDB does */
    }
    if (st != MT_OK) {
        mt_error_prefix(err, "decoding the footer");
        pq_meta_fini(out);
    }
    return st;
}

static void kv_free(pq_kv *kv, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        mt_free(kv[i].key);
        mt_free(kv[i].value);
    }
    mt_free(kv);
}

static void chunk_fini(pq_column_chunk *c)
{
    mt_free(c->file_path);
    mt_free(c->encodings);
    for (int32_t i = 0; i < c->path_len; i++) mt_free(c->path_in_schema[i]);
    mt_free(c->path_in_schema);
    kv_free(c->kv, c->num_kv);
}

void pq_meta_fini(pq_file_meta *m)
{
    if (!m) return;
    for (int32_t i = 0; i < m->num_schema; i++) mt_free(m->schema[i].name);
    mt_free(m->schema);
    for (int32_t g = 0; g < m->num_row_groups; g++) {
        for (int32_t c = 0; c < m->row_groups[g].num_columns; c++)
            chunk_fini(&m->row_groups[g].columns[c]);
        mt_free(m->row_groups[g].columns);
    }
    mt_free(m->row_groups);
    kv_free(m->kv, m->num_kv);
    mt_free(m->created_by);
    mt_free(m->footer);
    memset(m, 0, sizeof *m);
}
