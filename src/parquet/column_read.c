/*
 * column_read.c — reads the column chunks of one top-level field of a row
 * group: per leaf, the dictionary page, then data pages (v1 and v2),
 * decoding definition/repetition levels and the non-null values; then hands
 * the leaves to assemble.c (pq_read_field). Flat leaves (a top-level field,
 * max_rep 0, max_def <= 1) keep no level arrays: a page whose levels are one
 * all-valid RLE stream costs nothing, others write a validity bitmap that
 * exists only once a null was seen. Unrepeated leaves size their outputs
 * once per row group.
 *
 * Single-threaded per reader. Invariants checked here: level values never
 * exceed the leaf's maxima; each page yields exactly num_values levels; a
 * row group's first repetition level is 0; a flat column yields exactly the
 * row group's rows; a page holds a bounded number of values relative to its
 * size (so a few bytes cannot demand a huge allocation).
 */
#include <stdio.h>

#include "parquet/pq_value.h"

typedef struct col_state {
    const pq_leaf *leaf;
    pq_column_data *out;
    pq_dict dict;
    int64_t level_cap;
    int64_t num_rows;
    int64_t presize;   /* values sized for up front (flat and unrepeated leaves) */
    int64_t valid_cap; /* flat: bits of room in out->valid */
    int page;
} col_state;

static mt_status grow_levels(col_state *c, int64_t n, mt_error *err)
{
    int64_t need = c->out->num_levels + n;
    if (need <= c->level_cap) return MT_OK;
    int64_t cap = c->level_cap * 2 > need ? c->level_cap * 2 : need;
    if (c->leaf->max_def) {
        uint8_t *d = mt_realloc(c->out->def, (size_t)cap);
        if (!d) return mt_error_set(err, MT_ENOMEM, "out of memory for %lld levels", (long long)cap);
        c->out->def = d;
    }
    if (c->leaf->max_rep) {
        uint8_t *r = mt_realloc(c->out->rep, (size_t)cap);
        if (!r) return mt_error_set(err, MT_ENOMEM, "out of memory for %lld levels", (long long)cap);
        c->out->rep = r;
    }
    c->level_cap = cap;
    return MT_OK;
}

/* The bytes of an RLE level stream: v1 has a 4-byte length prefix, v2 is [p, p+len). */
static mt_status level_stream(const uint8_t **p, size_t *len, bool v2, size_t *l, mt_error *err)
{
    *l = *len;
    if (v2) return MT_OK;
    uint32_t l32;
    if (*len < 4) return mt_error_set(err, MT_ECORRUPT, "levels: missing length prefix");
    memcpy(&l32, *p, 4);
    if (l32 > *len - 4) return mt_error_set(err, MT_ECORRUPT, "levels: length %u exceeds the page", l32);
    *p += 4, *len -= 4, *l = l32;
    return MT_OK;
}

static mt_status level_max_error(int mx, int max, mt_error *err)
{
    return mt_error_set(err, MT_ECORRUPT, "level %d exceeds the maximum %d", mx, max);
}

/* One level stream; advances p and len past it (v1) or decodes [p, p+len) (v2). */
static mt_status read_levels(const uint8_t **p, size_t *len, int enc, bool v2, int max,
                             uint8_t *out, int64_t n, mt_error *err)
{
    int bw = pq_bit_width((uint32_t)max);
    if (!v2 && enc == PQ_BIT_PACKED) {
        size_t used;
        MT_RETURN_NOT_OK(pq_bitpacked_levels(*p, *len, bw, out, n, &used, err));
        *p += used, *len -= used;
    } else if (!v2 && enc != PQ_RLE) {
        return mt_error_set(err, MT_EUNSUPPORTED, "level encoding %d", enc);
    } else {
        size_t l;
        MT_RETURN_NOT_OK(level_stream(p, len, v2, &l, err));
        pq_rle r;
        pq_rle_init(&r, *p, l, bw, n);
        if (bw == 0) memset(out, 0, (size_t)n);
        else MT_RETURN_NOT_OK(pq_rle_get_u8(&r, out, n, err));
        *p += l, *len -= l;
    }
    uint8_t mx = 0;
    for (int64_t i = 0; i < n; i++) mx = out[i] > mx ? out[i] : mx;
    if (mx > max) return level_max_error(mx, max, err);
    return MT_OK;
}

/* ---- Flat leaves: definition levels straight into a validity bitmap ---- */

static void bits_fill(uint8_t *b, int64_t off, int64_t n, bool v)
{
    for (; n > 0 && (off & 7); off++, n--)
        b[off >> 3] = (uint8_t)((b[off >> 3] & ~(1u << (off & 7))) | ((unsigned)v << (off & 7)));
    int64_t whole = n >> 3;
    if (whole > 0) memset(b + (off >> 3), v ? 0xff : 0, (size_t)whole);
    off += whole * 8, n -= whole * 8;
    for (; n > 0; off++, n--)
        b[off >> 3] = (uint8_t)((b[off >> 3] & ~(1u << (off & 7))) | ((unsigned)v << (off & 7)));
}

/* Room for `bits` validity bits; the first null creates the bitmap, all valid so far. */
static mt_status ensure_valid(col_state *c, int64_t bits, mt_error *err)
{
    pq_column_data *o = c->out;
    if (o->valid && bits <= c->valid_cap) return MT_OK;
    int64_t cap = c->valid_cap * 2 > bits ? c->valid_cap * 2 : bits;
    if (!o->valid && c->presize > cap) cap = c->presize;
    mt_buffer *b = mt_buffer_new_uninit((cap + 7) / 8);
    if (!b) return mt_error_set(err, MT_ENOMEM, "out of memory for %lld validity bits", (long long)cap);
    if (o->valid) memcpy(b->data, o->valid->data, (size_t)((o->num_levels + 7) / 8));
    else bits_fill(b->data, 0, o->num_levels, true);
    mt_buffer_release(o->valid);
    o->valid = b;
    c->valid_cap = cap;
    return MT_OK;
}

static void put_bits(uint8_t *b, int64_t off, const uint32_t *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++, off++)
        b[off >> 3] = (uint8_t)((b[off >> 3] & ~(1u << (off & 7))) | ((v[i] & 1u) << (off & 7)));
}

/* RLE levels (bit width 1) of `nv` slots into the bitmap; *nn = valid slots. */
static mt_status rle_def_bits(col_state *c, pq_rle *r, int64_t nv, int64_t *nn, mt_error *err)
{
    MT_RETURN_NOT_OK(ensure_valid(c, c->out->num_levels + nv, err));
    uint8_t *b = c->out->valid->data;
    int64_t off = c->out->num_levels, valid = 0;
    uint32_t buf[1024];
    for (int64_t left = nv; left > 0;) {
        pq_rle_chunk ch;
        MT_RETURN_NOT_OK(pq_rle_next_chunk(r, buf, left < 1024 ? left : 1024, &ch, err));
        if (ch.run) {
            if (ch.value > 1) return level_max_error((int)ch.value, 1, err);
            bits_fill(b, off, ch.n, ch.value == 1);
            valid += ch.value ? ch.n : 0;
        } else {
            for (int64_t i = 0; i < ch.n; i++) valid += buf[i]; /* bit width 1: 0 or 1 */
            put_bits(b, off, buf, ch.n);
        }
        off += ch.n, left -= ch.n;
    }
    *nn = valid;
    return MT_OK;
}

/* Definition levels (max 1) of a flat leaf's page; advances p and len like read_levels. */
static mt_status flat_levels(col_state *c, const uint8_t **p, size_t *len, int enc, bool v2,
                             int64_t nv, int64_t *nn, mt_error *err)
{
    if (!v2 && enc == PQ_BIT_PACKED) { /* legacy: through a level array */
        uint8_t *tmp = mt_malloc(nv > 0 ? (size_t)nv : 1);
        if (!tmp) return mt_error_set(err, MT_ENOMEM, "out of memory for %lld levels", (long long)nv);
        mt_status st = read_levels(p, len, enc, v2, 1, tmp, nv, err);
        if (st == MT_OK) st = ensure_valid(c, c->out->num_levels + nv, err);
        int64_t valid = 0;
        for (int64_t i = 0; st == MT_OK && i < nv; i++) {
            int64_t j = c->out->num_levels + i;
            uint8_t *b = c->out->valid->data;
            b[j >> 3] = (uint8_t)((b[j >> 3] & ~(1u << (j & 7))) | ((unsigned)tmp[i] << (j & 7)));
            valid += tmp[i];
        }
        mt_free(tmp);
        *nn = valid;
        return st;
    }
    if (!v2 && enc != PQ_RLE) return mt_error_set(err, MT_EUNSUPPORTED, "level encoding %d", enc);
    size_t l;
    MT_RETURN_NOT_OK(level_stream(p, len, v2, &l, err));
    if (pq_rle_is_const(*p, l, 1, nv, 1)) { /* the common case: no nulls, nothing to do */
        *nn = nv;
        if (c->out->valid) {
            MT_RETURN_NOT_OK(ensure_valid(c, c->out->num_levels + nv, err));
            bits_fill(c->out->valid->data, c->out->num_levels, nv, true);
        }
    } else {
        pq_rle r;
        pq_rle_init(&r, *p, l, 1, nv);
        MT_RETURN_NOT_OK(rle_def_bits(c, &r, nv, nn, err));
    }
    *p += l, *len -= l;
    return MT_OK;
}

static mt_status decode_values(col_state *c, int enc, const uint8_t *p, size_t len, int64_t nn,
                               mt_error *err)
{
    pq_sink *s = &c->out->sink;
    size_t used;
    switch (enc) {
    case PQ_PLAIN: return pq_decode_plain(s, p, len, nn, &used, err);
    case PQ_PLAIN_DICTIONARY:
    case PQ_RLE_DICTIONARY: return pq_decode_dict(s, &c->dict, p, len, nn, err);
    case PQ_RLE:
        if (c->leaf->physical != PQ_BOOLEAN) break;
        return pq_decode_rle_bool(s, p, len, nn, err);
    case PQ_DELTA_BINARY_PACKED: return pq_decode_delta_binary(s, p, len, nn, err);
    case PQ_DELTA_LENGTH_BYTE_ARRAY:
        if (c->leaf->physical != PQ_BYTE_ARRAY) break;
        return pq_decode_delta_length(s, p, len, nn, err);
    case PQ_DELTA_BYTE_ARRAY:
        if (c->leaf->physical != PQ_BYTE_ARRAY && c->leaf->physical != PQ_FIXED_LEN_BYTE_ARRAY) break;
        return pq_decode_delta_byte_array(s, p, len, nn, err);
    case PQ_BYTE_STREAM_SPLIT: return pq_decode_bss(s, p, len, nn, err);
    default: break;
    }
    return mt_error_set(err, MT_EUNSUPPORTED, "encoding %d is not supported for this column", enc);
}

static mt_status data_page(col_state *c, const pq_page *pg, mt_error *err)
{
    const pq_leaf *lf = c->leaf;
    pq_column_data *o = c->out;
    int64_t nv = pg->num_values;
    const uint8_t *p = pg->data;
    size_t len = pg->len;
    bool v2 = pg->type == PQ_DATA_PAGE_V2;
    if (nv < 0) return mt_error_set(err, MT_ECORRUPT, "negative num_values %lld", (long long)nv);
    if (nv > (1 << 20) && (uint64_t)nv / 256 > len)
        return mt_error_set(err, MT_ECORRUPT, "%lld values in a page of %zu bytes", (long long)nv, len);
    if (lf->max_rep == 0 && o->num_levels + nv > c->num_rows)
        return mt_error_set(err, MT_ECORRUPT, "column holds more values than the row group's %lld rows",
                            (long long)c->num_rows);
    if (!o->flat) MT_RETURN_NOT_OK(grow_levels(c, nv, err));
    const uint8_t *lp = p;
    size_t llen = len;
    if (v2) {
        if (pg->rep_len < 0 || pg->def_len < 0 || (uint64_t)pg->rep_len + (uint64_t)pg->def_len > len)
            return mt_error_set(err, MT_ECORRUPT, "v2 level lengths %d + %d exceed the page (%zu bytes)",
                                pg->rep_len, pg->def_len, len);
        llen = (size_t)pg->rep_len;
    }
    if (lf->max_rep) {
        uint8_t *rep = o->rep + o->num_levels;
        MT_RETURN_NOT_OK(read_levels(&lp, &llen, pg->rep_encoding, v2, lf->max_rep, rep, nv, err));
        if (o->num_levels == 0 && nv > 0 && rep[0] != 0)
            return mt_error_set(err, MT_ECORRUPT, "first repetition level of the row group is %d, not 0",
                                rep[0]);
    }
    if (v2) lp = p + pg->rep_len, llen = (size_t)pg->def_len;
    int64_t nn = nv;
    if (lf->max_def && o->flat) {
        MT_RETURN_NOT_OK(flat_levels(c, &lp, &llen, pg->def_encoding, v2, nv, &nn, err));
        o->null_count += nv - nn;
    } else if (lf->max_def) {
        uint8_t *def = o->def + o->num_levels;
        MT_RETURN_NOT_OK(read_levels(&lp, &llen, pg->def_encoding, v2, lf->max_def, def, nv, err));
        nn = 0;
        for (int64_t i = 0; i < nv; i++) nn += def[i] == lf->max_def;
    }
    if (v2) lp = p + pg->rep_len + pg->def_len, llen = len - (size_t)pg->rep_len - (size_t)pg->def_len;
    if (v2 && lf->max_def == 0 && pg->num_nulls > 0)
        return mt_error_set(err, MT_ECORRUPT, "required column page claims %d nulls", pg->num_nulls);
    o->num_levels += nv;
    return decode_values(c, pg->encoding, lp, llen, nn, err);
}

static mt_status dict_page(col_state *c, const pq_page *pg, mt_error *err)
{
    if (pg->num_values < 0)
        return mt_error_set(err, MT_ECORRUPT, "dictionary page with %d values", pg->num_values);
    if (pg->encoding != PQ_PLAIN && pg->encoding != PQ_PLAIN_DICTIONARY)
        return mt_error_set(err, MT_EUNSUPPORTED, "dictionary page encoding %d", pg->encoding);
    if (c->leaf->physical == PQ_BOOLEAN)
        return mt_error_set(err, MT_ECORRUPT, "dictionary page in a BOOLEAN column");
    return pq_dict_load(&c->dict, c->leaf, pg->data, pg->len, pg->num_values, err);
}

static mt_status read_pages(col_state *c, pq_page_reader *pr, mt_error *err)
{
    for (;;) {
        pq_page pg;
        bool eof = false;
        MT_RETURN_NOT_OK(pq_page_reader_next(pr, &pg, &eof, err));
        if (eof) return MT_OK;
        mt_status st;
        if (pg.type == PQ_DICTIONARY_PAGE) st = dict_page(c, &pg, err);
        else if (pg.type == PQ_DATA_PAGE || pg.type == PQ_DATA_PAGE_V2) st = data_page(c, &pg, err);
        else st = MT_OK;
        if (st != MT_OK) {
            mt_error_prefix(err, "page %d", c->page);
            return st;
        }
        c->page++;
    }
}

/*
 * Unrepeated leaves hold at most num_rows levels and values: size the level
 * array and the value sink once, uninitialised. The row count is the file's
 * word, so the size is capped at 16 values per byte of the chunk (at least
 * 2^20): a small file cannot demand a huge allocation. RLE can hold more
 * values per byte; beyond the cap, buffers simply grow.
 */
static mt_status presize(col_state *c, const pq_column_chunk *cc, size_t file_len, mt_error *err)
{
    if (c->leaf->max_rep) return MT_OK;
    uint64_t bytes = cc->total_compressed_size > 0 ? (uint64_t)cc->total_compressed_size : 0;
    if (bytes > file_len) bytes = file_len;
    uint64_t cap = bytes * 16 > (1u << 20) ? bytes * 16 : (1u << 20);
    int64_t n = (uint64_t)c->num_rows < cap ? c->num_rows : (int64_t)cap;
    c->presize = n;
    if (n == 0) return MT_OK;
    if (!c->out->flat && c->leaf->max_def) MT_RETURN_NOT_OK(grow_levels(c, n, err));
    return pq_sink_reserve(&c->out->sink, n, 0, err);
}

mt_status pq_column_read(const pq_leaf *leaf, const pq_column_chunk *cc, int64_t num_rows,
                         const uint8_t *file, size_t file_len, bool verify_crc, bool flat,
                         const char *ctx, pq_column_data *out, mt_error *err)
{
    memset(out, 0, sizeof *out);
    out->sink.leaf = leaf;
    out->flat = flat && leaf->max_rep == 0 && leaf->max_def <= 1;
    if (!cc->has_meta_data || cc->encrypted)
        return mt_error_set(err, MT_EUNSUPPORTED, "%s: encrypted column chunk", ctx);
    if (cc->type != leaf->physical)
        return mt_error_set(err, MT_ECORRUPT, "%s: chunk type %d differs from the schema's %d", ctx,
                            cc->type, leaf->physical);
    col_state c = {.leaf = leaf, .out = out, .num_rows = num_rows};
    pq_page_reader *pr = NULL;
    MT_RETURN_NOT_OK(pq_page_reader_create(file, file_len, cc, verify_crc, ctx, &pr, err));
    mt_status st = presize(&c, cc, file_len, err);
    if (st == MT_OK) st = read_pages(&c, pr, err);
    pq_page_reader_destroy(pr);
    pq_dict_fini(&c.dict);
    if (st != MT_OK) {
        if (strncmp(err ? err->msg : "", ctx, strlen(ctx)) != 0) mt_error_prefix(err, "%s", ctx);
        return st;
    }
    int64_t rows = out->num_levels;
    if (leaf->max_rep) {
        rows = 0;
        for (int64_t i = 0; i < out->num_levels; i++) rows += out->rep[i] == 0;
    }
    if (rows != num_rows)
        return mt_error_set(err, MT_ECORRUPT, "%s: column holds %lld rows, the row group %lld", ctx,
                            (long long)rows, (long long)num_rows);
    if (out->valid && out->null_count == 0) { /* levels not in one all-valid run, yet no nulls */
        mt_buffer_release(out->valid);
        out->valid = NULL;
    }
    if (out->valid) { /* exact size, and no stray bits past the last slot */
        out->valid->size = (rows + 7) / 8;
        if (rows & 7) out->valid->data[rows >> 3] &= (uint8_t)((1u << (rows & 7)) - 1);
    }
    return MT_OK;
}

void pq_column_data_fini(pq_column_data *c)
{
    mt_free(c->def);
    mt_free(c->rep);
    mt_buffer_release(c->valid);
    mt_buffer_release(c->sink.values);
    mt_buffer_release(c->sink.offsets);
    memset(c, 0, sizeof *c);
}

mt_status pq_read_field(const pq_schema *s, const pq_file_meta *m, int32_t rg, int32_t field,
                        const uint8_t *file, size_t file_len, bool verify_crc, const char *path,
                        mt_array **out, mt_error *err)
{
    *out = NULL;
    if (rg < 0 || rg >= m->num_row_groups || field < 0 || field >= s->num_fields)
        return mt_error_set(err, MT_EINVAL, "row group %d, field %d out of range", rg, field);
    const pq_node *node = &s->fields[field];
    const pq_row_group *g = &m->row_groups[rg];
    if (g->num_rows < 0 || g->num_rows > INT32_MAX)
        return mt_error_set(err, MT_ECORRUPT, "row group %d: %lld rows", rg, (long long)g->num_rows);
    pq_column_data *cols = mt_calloc((size_t)node->num_leaves, sizeof *cols);
    if (!cols) return mt_error_set(err, MT_ENOMEM, "out of memory");
    mt_status st = MT_OK;
    for (int32_t i = 0; i < node->num_leaves && st == MT_OK; i++) {
        const pq_leaf *lf = &s->leaves[node->leaf + i];
        char ctx[600];
        snprintf(ctx, sizeof ctx, "row group %d, column '%s'", rg, lf->path);
        if (lf->column >= g->num_columns)
            st = mt_error_set(err, MT_ECORRUPT, "%s: row group has only %d column chunks", ctx,
                              g->num_columns);
        else
            st = pq_column_read(lf, &g->columns[lf->column], g->num_rows, file, file_len, verify_crc,
                                node->kind == PQ_NODE_LEAF, ctx, &cols[i], err);
    }
    if (st == MT_OK) {
        st = pq_assemble(s, node, cols, g->num_rows, out, err);
        if (st != MT_OK && strncmp(err ? err->msg : "", "row group ", 10) != 0)
            mt_error_prefix(err, "row group %d, column '%s'", rg, node->name);
    }
    for (int32_t i = 0; i < node->num_leaves; i++) pq_column_data_fini(&cols[i]);
    mt_free(cols);
    (void)path;
    return st;
}
