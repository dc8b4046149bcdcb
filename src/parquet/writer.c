/*
 * writer.c — the Parquet writer: buffers input tables into row groups,
 * encodes each leaf column chunk into pages (dictionary with PLAIN fallback,
 * DATA_PAGE or DATA_PAGE_V2, compressed, CRC-checked), and writes the footer.
 *
 * A writer is used by one thread at a time. Output goes to an exclusively
 * created temporary file beside the target (core/file.h); only a successful
 * mt_parquet_writer_close fsyncs and renames it into place, and
 * mt_parquet_writer_destroy removes it otherwise. After any
 * failed call the writer is poisoned (further calls are MT_ESTATE). The
 * output depends only on the input and options (no clocks, no random ids).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/config_keys.h"
#include "core/file.h"
#include "parquet/pq_encode.h"
#include "parquet/pq_thrift_write.h"

#define CREATED_BY "manta version 0.1.0"

struct mt_parquet_writer {
    char *path;
    mt_atomic_file af;
    mt_type *schema;
    pq_w_schema ws;
    mt_parquet_codec codec;
    int level, page_version;
    int64_t rg_rows, page_bytes, dict_limit;
    bool use_dict, stats;
    char **kv;
    int64_t offset, num_rows;
    mt_table **parts;
    int32_t nparts, parts_cap;
    int64_t pending_rows;
    pq_w_row_group_meta *rgs;
    pq_w_stats **rg_stats;
    int32_t nrg, rg_cap;
    bool failed, closed;
    pq_buf chunk, page, vals, comp; /* scratch, reused across chunks */
    uint32_t *idx;
    int64_t idx_cap;
};

/* The state of one column chunk being encoded. */
typedef struct chunk {
    const pq_w_leaf *leaf;
    const pq_levels *lv;
    const pq_values *v;
    pq_dict *dict;       /* NULL when the chunk is not dictionary-encoded */
    bool dict_active;    /* false once fallen back to PLAIN */
    bool used_dict, used_plain;
    int64_t uncompressed, compressed; /* page headers included */
} chunk;

static mt_status io_error(mt_parquet_writer *w, mt_error *err)
{
    return mt_error_set_errno(err, MT_EIO, errno, "write to %s failed", w->path);
}

static mt_status file_write(mt_parquet_writer *w, const void *p, size_t n, mt_error *err)
{
    if (n && fwrite(p, 1, n, w->af.fp) != n) return io_error(w, err);
    w->offset += (int64_t)n;
    return MT_OK;
}

/* ---- Pages ------------------------------------------------------------- */

/* Compresses `body` if needed; the payload is what goes on disk. */
static mt_status compress_body(mt_parquet_writer *w, const pq_buf *body, const uint8_t **payload,
                               size_t *plen, mt_error *err)
{
    if (w->codec == MT_PARQUET_UNCOMPRESSED) {
        *payload = body->data;
        *plen = body->len;
        return MT_OK;
    }
    w->comp.len = 0;
    MT_RETURN_NOT_OK(pq_buf_reserve(&w->comp, pq_compress_bound(w->codec, body->len), err));
    MT_RETURN_NOT_OK(pq_compress(w->codec, w->level, body->data, body->len, w->comp.data,
                                 plen, err));
    *payload = w->comp.data;
    return MT_OK;
}

/* Appends header + payload to `dst` and accounts the sizes. */
static mt_status emit_page(mt_parquet_writer *w, chunk *c, pq_w_page_header *h,
                           const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2,
                           size_t uncompressed, pq_buf *dst, mt_error *err)
{
    if (uncompressed > INT32_MAX || n1 + n2 > INT32_MAX)
        return mt_error_set(err, MT_ERANGE, "page of %zu bytes is too large", uncompressed);
    h->uncompressed_size = (int32_t)uncompressed;
    h->compressed_size = (int32_t)(n1 + n2);
    /* CRC over the concatenation: zlib's crc32 continues from the first part. */
    uLong crc = pq_crc32(p1, n1);
    if (n2) crc = crc32(crc, p2, (uInt)n2);
    h->crc = (uint32_t)crc;
    size_t before = dst->len;
    MT_RETURN_NOT_OK(pq_tw_page_header(h, dst, err));
    size_t hlen = dst->len - before;
    MT_RETURN_NOT_OK(pq_buf_append(dst, p1, n1, err));
    MT_RETURN_NOT_OK(pq_buf_append(dst, p2, n2, err));
    c->uncompressed += (int64_t)(hlen + uncompressed);
    c->compressed += (int64_t)(hlen + n1 + n2);
    return MT_OK;
}

/* Encodes values [a, b) into `out`, through the dictionary while it is active. */
static mt_status encode_values(mt_parquet_writer *w, chunk *c, int64_t a, int64_t b,
                               pq_buf *out, int *encoding, mt_error *err)
{
    if (c->dict_active && b > a) {
        if (b - a > w->idx_cap) {
            uint32_t *p = mt_realloc(w->idx, (size_t)(b - a) * sizeof *p);
            if (!p) return mt_error_set(err, MT_ENOMEM, "out of memory encoding a page");
            w->idx = p;
            w->idx_cap = b - a;
        }
        bool overflow;
        MT_RETURN_NOT_OK(pq_dict_add(c->dict, c->v, a, b, w->dict_limit, w->idx, &overflow, err));
        if (!overflow) {
            int32_t n = pq_dict_size(c->dict);
            int bw = pq_w_bit_width((uint64_t)(n > 1 ? n - 1 : 1));
            uint8_t byte = (uint8_t)bw;
            MT_RETURN_NOT_OK(pq_buf_append(out, &byte, 1, err));
            MT_RETURN_NOT_OK(pq_rle_encode32(w->idx, b - a, bw, out, err));
            *encoding = PQ_RLE_DICTIONARY;
            c->used_dict = true;
            return MT_OK;
        }
        /* Fallback: earlier pages stay dictionary-encoded, the rest is PLAIN. */
        c->dict_active = false;
    }
    c->used_plain = true;
    *encoding = PQ_PLAIN;
    return pq_plain_encode(c->v, a, b, out, err);
}

static mt_status levels_v1(const int16_t *lv, int64_t n, int16_t max, pq_buf *out, mt_error *err)
{
    size_t at = out->len;
    MT_RETURN_NOT_OK(pq_buf_reserve(out, 4, err));
    out->len += 4;
    MT_RETURN_NOT_OK(pq_rle_encode16(lv, n, pq_w_bit_width((uint64_t)max), out, err));
    uint32_t len = (uint32_t)(out->len - at - 4);
    memcpy(out->data + at, &len, 4);
    return MT_OK;
}

static int64_t count_rows(const pq_levels *lv, int64_t s, int64_t e)
{
    if (!lv->rep) return e - s;
    int64_t rows = 0;
    for (int64_t i = s; i < e; i++) rows += lv->rep[i] == 0;
    return rows;
}

/* Encodes slots [s, e) holding values [a, b) as one data page appended to w->chunk. */
static mt_status write_data_page(mt_parquet_writer *w, chunk *c, int64_t s, int64_t e, int64_t a,
                                 int64_t b, mt_error *err)
{
    const pq_levels *lv = c->lv;
    const pq_w_leaf *l = c->leaf;
    pq_w_page_header h = {.num_values = (int32_t)(e - s)};
    const uint8_t *payload;
    size_t plen;
    w->page.len = 0;
    if (w->page_version != 2) {
        h.type = PQ_DATA_PAGE;
        if (l->max_rep) MT_RETURN_NOT_OK(levels_v1(lv->rep + s, e - s, l->max_rep, &w->page, err));
        if (l->max_def) MT_RETURN_NOT_OK(levels_v1(lv->def + s, e - s, l->max_def, &w->page, err));
        MT_RETURN_NOT_OK(encode_values(w, c, a, b, &w->page, &h.encoding, err));
        MT_RETURN_NOT_OK(compress_body(w, &w->page, &payload, &plen, err));
        return emit_page(w, c, &h, payload, plen, NULL, 0, w->page.len, &w->chunk, err);
    }
    h.type = PQ_DATA_PAGE_V2;
    h.num_nulls = (int32_t)((e - s) - (b - a));
    h.num_rows = (int32_t)count_rows(lv, s, e);
    h.is_compressed = w->codec != MT_PARQUET_UNCOMPRESSED;
    if (l->max_rep) {
        MT_RETURN_NOT_OK(pq_rle_encode16(lv->rep + s, e - s, pq_w_bit_width((uint64_t)l->max_rep),
                                         &w->page, err));
        h.rep_len = (int32_t)w->page.len;
    }
    if (l->max_def) {
        MT_RETURN_NOT_OK(pq_rle_encode16(lv->def + s, e - s, pq_w_bit_width((uint64_t)l->max_def),
                                         &w->page, err));
        h.def_len = (int32_t)w->page.len - h.rep_len;
    }
    w->vals.len = 0;
    MT_RETURN_NOT_OK(encode_values(w, c, a, b, &w->vals, &h.encoding, err));
    MT_RETURN_NOT_OK(compress_body(w, &w->vals, &payload, &plen, err));
    return emit_page(w, c, &h, w->page.data, w->page.len, payload, plen,
                     w->page.len + w->vals.len, &w->chunk, err);
}

/* Finds the end of the page starting at slot s / value a: about page_bytes of values. */
static void page_end(const mt_parquet_writer *w, const chunk *c, int64_t s, int64_t a,
                     int64_t *e_out, int64_t *b_out)
{
    const pq_levels *lv = c->lv;
    const pq_values *v = c->v;
    int64_t n = lv->num_levels, budget = w->page_bytes;
    bool dense = !lv->rep && lv->num_values == lv->num_levels;
    if (dense && v->physical != PQ_BYTE_ARRAY) {
        int64_t per = v->physical == PQ_BOOLEAN ? budget * 8 : budget / (v->width ? v->width : 1);
        int64_t e = s + (per > 0 ? per : 1);
        *e_out = *b_out = e < n ? e : n;
        return;
    }
    int16_t max_def = c->leaf->max_def;
    int64_t size = 0, e = s, b = a;
    while (e < n) {
        if (e > s && size >= budget && (!lv->rep || lv->rep[e] == 0)) break;
        size += 1; /* levels, roughly */
        if (!lv->def || lv->def[e] == max_def) {
            if (v->physical == PQ_BYTE_ARRAY) {
                int64_t p = pq_values_pos(v, b);
                size += 4 + v->offsets[p + 1] - v->offsets[p];
            } else {
                size += v->width;
            }
            b++;
        }
        e++;
    }
    *e_out = e;
    *b_out = b;
}

/* ---- Column chunks ----------------------------------------------------- */

static void add_encoding(pq_w_chunk_meta *m, int enc)
{
    for (int32_t i = 0; i < m->num_encodings; i++)
        if (m->encodings[i] == enc) return;
    int32_t i = m->num_encodings++;
    while (i > 0 && m->encodings[i - 1] > enc) {
        m->encodings[i] = m->encodings[i - 1];
        i--;
    }
    m->encodings[i] = enc;
}

/* Writes the dictionary page (if any) then the buffered data pages to the file. */
static mt_status flush_chunk(mt_parquet_writer *w, chunk *c, pq_w_chunk_meta *m, mt_error *err)
{
    m->dictionary_page_offset = -1;
    if (c->used_dict) {
        const pq_buf *body = pq_dict_plain(c->dict);
        const uint8_t *payload;
        size_t plen;
        pq_w_page_header h = {.type = PQ_DICTIONARY_PAGE, .num_values = pq_dict_size(c->dict)};
        h.encoding = w->page_version == 2 ? PQ_PLAIN : PQ_PLAIN_DICTIONARY;
        add_encoding(m, h.encoding);
        add_encoding(m, PQ_RLE_DICTIONARY);
        MT_RETURN_NOT_OK(compress_body(w, body, &payload, &plen, err));
        w->page.len = 0;
        MT_RETURN_NOT_OK(emit_page(w, c, &h, payload, plen, NULL, 0, body->len, &w->page, err));
        m->dictionary_page_offset = w->offset;
        MT_RETURN_NOT_OK(file_write(w, w->page.data, w->page.len, err));
    }
    if (c->used_plain) add_encoding(m, PQ_PLAIN);
    if (c->leaf->max_def || c->leaf->max_rep || c->used_dict) add_encoding(m, PQ_RLE);
    m->data_page_offset = w->offset;
    MT_RETURN_NOT_OK(file_write(w, w->chunk.data, w->chunk.len, err));
    m->total_uncompressed_size = c->uncompressed;
    m->total_compressed_size = c->compressed;
    return MT_OK;
}

static mt_status encode_chunk(mt_parquet_writer *w, chunk *c, pq_w_chunk_meta *m,
                              pq_w_stats *st, mt_error *err)
{
    const pq_w_leaf *l = c->leaf;
    st->null_count = c->lv->num_levels - c->lv->num_values;
    if (w->stats) {
        MT_RETURN_NOT_OK(pq_w_stats_update(st, l, c->v, err));
        pq_w_stats_truncate(st, l);
    }
    if (w->use_dict && l->physical != PQ_BOOLEAN && c->v->n > 0) {
        MT_RETURN_NOT_OK(pq_dict_create(l->physical, c->v->width, &c->dict, err));
        c->dict_active = true;
    }
    w->chunk.len = 0;
    int64_t s = 0, a = 0, n = c->lv->num_levels;
    do {
        int64_t e, b;
        page_end(w, c, s, a, &e, &b);
        MT_RETURN_NOT_OK(write_data_page(w, c, s, e, a, b, err));
        s = e;
        a = b;
    } while (s < n);
    m->physical = l->physical;
    m->path_len = l->path_len;
    m->path = l->path;
    m->codec = w->codec;
    m->num_values = n;
    m->has_stats = w->stats;
    m->stats = st;
    return flush_chunk(w, c, m, err);
}

/* Shreds, converts and writes leaf `li` of column array `col`. */
static mt_status write_chunk(mt_parquet_writer *w, int32_t li, const mt_array *col,
                             pq_w_chunk_meta *m, pq_w_stats *st, mt_error *err)
{
    pq_levels lv;
    pq_values v;
    memset(&v, 0, sizeof v);
    chunk c = {.leaf = &w->ws.leaves[li], .lv = &lv, .v = &v};
    mt_status rc = pq_w_shred(&w->ws, li, col, &lv, err);
    if (rc == MT_OK) rc = pq_values_convert(c.leaf, &lv, &v, err);
    if (rc == MT_OK) rc = encode_chunk(w, &c, m, st, err);
    pq_dict_destroy(c.dict);
    pq_values_fini(&v);
    pq_levels_fini(&lv);
    return rc;
}

/* ---- Row groups -------------------------------------------------------- */

static void join_path(const pq_w_leaf *l, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int32_t i = 0; i < l->path_len && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "." : "", l->path[i]);
}

static mt_status reserve_row_group(mt_parquet_writer *w, mt_error *err)
{
    if (w->nrg == w->rg_cap) {
        int32_t cap = w->rg_cap ? w->rg_cap * 2 : 8;
        pq_w_row_group_meta *r = mt_realloc(w->rgs, (size_t)cap * sizeof *r);
        if (r) w->rgs = r;
        pq_w_stats **s = r ? mt_realloc(w->rg_stats, (size_t)cap * sizeof *s) : NULL;
        if (!s) return mt_error_set(err, MT_ENOMEM, "out of memory");
        w->rg_stats = s;
        w->rg_cap = cap;
    }
    if (w->nrg >= INT16_MAX) return mt_error_set(err, MT_ERANGE, "too many row groups");
    int32_t nl = w->ws.num_leaves;
    pq_w_row_group_meta *rg = &w->rgs[w->nrg];
    memset(rg, 0, sizeof *rg);
    rg->columns = mt_calloc((size_t)(nl ? nl : 1), sizeof *rg->columns);
    w->rg_stats[w->nrg] = mt_calloc((size_t)(nl ? nl : 1), sizeof **w->rg_stats);
    w->nrg++; /* counted now so that close/destroy free it */
    if (!rg->columns || !w->rg_stats[w->nrg - 1]) return mt_error_set(err, MT_ENOMEM, "out of memory");
    rg->num_columns = nl;
    return MT_OK;
}

/* The rows of pending part tables for top-level column i, as one array. */
static mt_status gather_column(mt_parquet_writer *w, int32_t i, mt_array **out, mt_error *err)
{
    if (w->nparts == 1) {
        *out = mt_array_retain(w->parts[0]->columns[i]);
        return MT_OK;
    }
    mt_array *arrs[w->nparts];
    for (int32_t p = 0; p < w->nparts; p++) arrs[p] = w->parts[p]->columns[i];
    return mt_array_concat(arrs, w->nparts, out, err);
}

static mt_status write_columns(mt_parquet_writer *w, pq_w_row_group_meta *rg, pq_w_stats *st,
                               mt_error *err)
{
    int32_t li = 0;
    for (int32_t f = 0; f < w->schema->num_fields; f++) {
        mt_array *col = NULL;
        mt_status rc = gather_column(w, f, &col, err);
        for (; rc == MT_OK && li < w->ws.num_leaves && w->ws.leaves[li].field == f; li++) {
            rc = write_chunk(w, li, col, &rg->columns[li], &st[li], err);
            if (rc != MT_OK) {
                char path[256];
                join_path(&w->ws.leaves[li], path, sizeof path);
                mt_error_prefix(err, "row group %d, column '%s'", w->nrg - 1, path);
            }
        }
        mt_array_release(col);
        if (rc != MT_OK) return rc;
    }
    return MT_OK;
}

static void release_parts(mt_parquet_writer *w)
{
    for (int32_t i = 0; i < w->nparts; i++) mt_table_release(w->parts[i]);
    w->nparts = 0;
    w->pending_rows = 0;
}

static mt_status flush_row_group(mt_parquet_writer *w, mt_error *err)
{
    if (w->pending_rows == 0) return MT_OK;
    MT_RETURN_NOT_OK(reserve_row_group(w, err));
    pq_w_row_group_meta *rg = &w->rgs[w->nrg - 1];
    rg->file_offset = w->offset;
    rg->num_rows = w->pending_rows;
    rg->ordinal = (int16_t)(w->nrg - 1);
    mt_status rc = write_columns(w, rg, w->rg_stats[w->nrg - 1], err);
    for (int32_t i = 0; rc == MT_OK && i < rg->num_columns; i++) {
        rg->total_byte_size += rg->columns[i].total_uncompressed_size;
        rg->total_compressed_size += rg->columns[i].total_compressed_size;
    }
    w->num_rows += w->pending_rows;
    release_parts(w);
    return rc;
}

/* ---- Public API -------------------------------------------------------- */

static int64_t opt_or_config(int64_t v, enum mt__config_key key)
{
    return v > 0 ? v : mt__config_int64_at(key);
}

static mt_status copy_kv(mt_parquet_writer *w, const char *const *kv, mt_error *err)
{
    if (!kv) return MT_OK;
    size_t n = 0;
    while (kv[n]) n++;
    if (n % 2) return mt_error_set(err, MT_EINVAL, "key-value metadata key '%s' has no value",
                                   kv[n - 1]);
    w->kv = mt_calloc(n + 1, sizeof *w->kv);
    if (!w->kv) return mt_error_set(err, MT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(w->kv[i] = mt_strdup(kv[i]))) return mt_error_set(err, MT_ENOMEM, "out of memory");
    return MT_OK;
}

static mt_status apply_options(mt_parquet_writer *w, const mt_parquet_write_options *o,
                               mt_error *err)
{
    static const mt_parquet_write_options defaults;
    if (!o) o = &defaults;
    switch (o->codec) {
    case MT_PARQUET_UNCOMPRESSED: case MT_PARQUET_SNAPPY: case MT_PARQUET_GZIP:
    case MT_PARQUET_BROTLI: case MT_PARQUET_ZSTD: case MT_PARQUET_LZ4_RAW:
        break;
    default:
        return mt_error_set(err, MT_EUNSUPPORTED, "codec %s cannot be written",
                            mt_parquet_codec_name(o->codec));
    }
    if (o->page_version < 0 || o->page_version > 2)
        return mt_error_set(err, MT_EINVAL, "page_version must be 1 or 2, not %d", o->page_version);
    if (o->row_group_rows < 0 || o->page_bytes < 0 || o->dictionary_page_bytes < 0)
        return mt_error_set(err, MT_EINVAL, "negative row group, page or dictionary size");
    w->codec = o->codec;
    w->level = o->compression_level;
    w->page_version = o->page_version == 2 ? 2 : 1;
    w->rg_rows = opt_or_config(o->row_group_rows, MT__CFG_parquet_row_group_rows);
    w->page_bytes = opt_or_config(o->page_bytes, MT__CFG_parquet_page_bytes);
    w->dict_limit = opt_or_config(o->dictionary_page_bytes, MT__CFG_parquet_dictionary_page_bytes);
    if (w->rg_rows <= 0) w->rg_rows = 1048576;
    if (w->page_bytes <= 0) w->page_bytes = 1048576;
    w->use_dict = o->dictionary != MT_PARQUET_DICT_OFF;
    w->stats = !o->no_statistics;
    return copy_kv(w, o->kv_metadata, err);
}

static mt_status open_file(mt_parquet_writer *w, const char *path, mt_error *err)
{
    w->path = mt_strdup(path);
    if (!w->path) return mt_error_set(err, MT_ENOMEM, "out of memory");
    MT_RETURN_NOT_OK(mt_atomic_file_open(&w->af, path, 0666, err));
    return file_write(w, "PAR1", 4, err);
}

mt_status mt_parquet_writer_open(const char *path, const mt_type *schema,
                                 const mt_parquet_write_options *opts, mt_parquet_writer **out,
                                 mt_error *err)
{
    *out = NULL;
    if (!path || !schema)
        return mt_error_set(err, MT_EINVAL, "parquet writer: path and schema are required");
    mt_parquet_writer *w = mt_calloc(1, sizeof *w);
    if (!w) return mt_error_set(err, MT_ENOMEM, "writing %s: out of memory", path);
    w->schema = mt_type_retain((mt_type *)schema);
    mt_status rc = apply_options(w, opts, err);
    if (rc == MT_OK) rc = pq_w_schema_build(schema, &w->ws, err);
    if (rc == MT_OK) rc = open_file(w, path, err);
    if (rc != MT_OK) {
        w->failed = true;
        mt_parquet_writer_destroy(w);
        mt_error_prefix(err, "writing %s", path);
        return rc;
    }
    *out = w;
    return MT_OK;
}

/* MT_ETYPE naming the first column whose name, type or nullability differs. */
static mt_status schema_mismatch(const mt_type *want, const mt_type *got, mt_error *err)
{
    if (!got || got->id != MT_TYPE_STRUCT || got->num_fields != want->num_fields)
        return mt_error_set(err, MT_ETYPE, "table has %d columns, the file's schema has %d",
                            got ? got->num_fields : 0, want->num_fields);
    for (int32_t i = 0; i < want->num_fields; i++) {
        const mt_field *a = &want->fields[i], *b = &got->fields[i];
        if (strcmp(a->name, b->name) != 0)
            return mt_error_set(err, MT_ETYPE, "column %d is named '%s', expected '%s'", i,
                                b->name, a->name);
        if (!mt_type_equal(a->type, b->type) || a->nullable != b->nullable) {
            char ta[128], tb[128];
            mt_type_to_string(a->type, ta, sizeof ta);
            mt_type_to_string(b->type, tb, sizeof tb);
            return mt_error_set(err, MT_ETYPE, "column '%s': table has %s%s, the file has %s%s",
                                a->name, tb, b->nullable ? "" : " not null", ta,
                                a->nullable ? "" : " not null");
        }
    }
    return mt_error_set(err, MT_ETYPE, "schema mismatch");
}

static mt_status add_part(mt_parquet_writer *w, mt_table *t, int64_t off, int64_t len,
                          mt_error *err)
{
    if (w->nparts == w->parts_cap) {
        int32_t cap = w->parts_cap ? w->parts_cap * 2 : 8;
        mt_table **p = mt_realloc(w->parts, (size_t)cap * sizeof *p);
        if (!p) return mt_error_set(err, MT_ENOMEM, "out of memory");
        w->parts = p;
        w->parts_cap = cap;
    }
    mt_table *slice;
    if (off == 0 && len == t->num_rows) {
        slice = mt_table_retain(t);
    } else {
        MT_RETURN_NOT_OK(mt_table_slice(t, off, len, &slice, err));
    }
    w->parts[w->nparts++] = slice;
    w->pending_rows += len;
    return MT_OK;
}

mt_status mt_parquet_writer_write(mt_parquet_writer *w, const mt_table *t, mt_error *err)
{
    if (!w || !t) return mt_error_set(err, MT_EINVAL, "parquet writer: NULL writer or table");
    if (w->failed || w->closed)
        return mt_error_set(err, MT_ESTATE, "writing %s: writer already %s", w->path,
                            w->closed ? "closed" : "failed");
    mt_status rc = MT_OK;
    if (!mt_type_equal(t->schema, w->schema)) {
        rc = schema_mismatch(w->schema, t->schema, err);
        mt_error_prefix(err, "writing %s", w->path);
        return rc; /* the file is untouched: the writer stays usable */
    }
    for (int64_t off = 0; rc == MT_OK && off < t->num_rows;) {
        int64_t take = w->rg_rows - w->pending_rows;
        if (take > t->num_rows - off) take = t->num_rows - off;
        rc = add_part(w, (mt_table *)t, off, take, err);
        off += take;
        if (rc == MT_OK && w->pending_rows >= w->rg_rows) rc = flush_row_group(w, err);
    }
    if (rc != MT_OK) {
        w->failed = true;
        mt_error_prefix(err, "writing %s", w->path);
    }
    return rc;
}

static mt_status write_footer(mt_parquet_writer *w, mt_error *err)
{
    pq_w_file_meta m = {
        .version = 2, .schema = &w->ws, .num_rows = w->num_rows, .num_row_groups = w->nrg,
        .row_groups = w->rgs, .kv = (const char *const *)w->kv, .created_by = CREATED_BY,
    };
    w->page.len = 0;
    MT_RETURN_NOT_OK(pq_tw_file_meta(&m, &w->page, err));
    if (w->page.len > UINT32_MAX) return mt_error_set(err, MT_ERANGE, "footer too large");
    uint32_t len = (uint32_t)w->page.len;
    MT_RETURN_NOT_OK(file_write(w, w->page.data, w->page.len, err));
    MT_RETURN_NOT_OK(file_write(w, &len, 4, err));
    return file_write(w, "PAR1", 4, err);
}

mt_status mt_parquet_writer_close(mt_parquet_writer *w, mt_error *err)
{
    if (!w) return mt_error_set(err, MT_EINVAL, "parquet writer: NULL writer");
    if (w->failed || w->closed)
        return mt_error_set(err, MT_ESTATE, "writing %s: writer already %s", w->path,
                            w->closed ? "closed" : "failed");
    mt_status rc = flush_row_group(w, err);
    if (rc == MT_OK) rc = write_footer(w, err);
    if (rc == MT_OK) {
        rc = mt_atomic_file_commit(&w->af, err); /* its message names the file */
        w->failed = rc != MT_OK;
        if (rc != MT_OK) return rc;
    }
    if (rc != MT_OK) {
        w->failed = true;
        mt_error_prefix(err, "writing %s", w->path);
        return rc;
    }
    w->closed = true;
    return MT_OK;
}

void mt_parquet_writer_destroy(mt_parquet_writer *w)
{
    if (!w) return;
    mt_atomic_file_abort(&w->af);
    release_parts(w);
    mt_free(w->parts);
    for (int32_t i = 0; i < w->nrg; i++) {
        for (int32_t j = 0; w->rg_stats[i] && j < w->ws.num_leaves; j++)
            pq_w_stats_fini(&w->rg_stats[i][j]);
        mt_free(w->rg_stats[i]);
        mt_free(w->rgs[i].columns);
    }
    mt_free(w->rgs);
    mt_free(w->rg_stats);
    for (size_t i = 0; w->kv && w->kv[i]; i++) mt_free(w->kv[i]);
    mt_free(w->kv);
    pq_w_schema_fini(&w->ws);
    mt_type_release(w->schema);
    pq_buf_fini(&w->chunk);
    pq_buf_fini(&w->page);
    pq_buf_fini(&w->vals);
    pq_buf_fini(&w->comp);
    mt_free(w->idx);
    mt_free(w->path);
    mt_free(w);
}

mt_status mt_parquet_write_table(const char *path, const mt_table *t,
                                 const mt_parquet_write_options *opts, mt_error *err)
{
    if (!t) return mt_error_set(err, MT_EINVAL, "writing %s: NULL table", path ? path : "?");
    mt_parquet_writer *w;
    MT_RETURN_NOT_OK(mt_parquet_writer_open(path, t->schema, opts, &w, err));
    mt_status rc = mt_parquet_writer_write(w, t, err);
    if (rc == MT_OK) rc = mt_parquet_writer_close(w, err);
    mt_parquet_writer_destroy(w);
    return rc;
}
