/*
 * page_reader.c — turns one column chunk of a mapped Parquet file into a
 * stream of pages: decodes each PageHeader, checks sizes against the chunk,
 * verifies the CRC, and decompresses into one reusable scratch buffer.
 *
 * Used by one thread at a time (the one reading the row group). Invariants:
 * page headers start inside the declared chunk [start, end) and every page
 * lies inside the file (a page may run past a chunk size that some writers
 * understate, as DuckDB tolerates); every size from a header is checked
 * (non-negative, inside the file, at most parquet_max_page_bytes) before use; uncompressed pages are handed out
 * as pointers into the file image without copying; a page is valid until the
 * next call.
 */
#include <string.h>

#include "core/config_keys.h"
#include "parquet/pq_int.h"
#include "parquet/pq_thrift.h"

struct pq_page_reader {
    const uint8_t *file;
    size_t pos, end;         /* page headers start in [pos, end), the declared chunk */
    size_t limit;            /* page bytes must end by here (the file's end) */
    int codec;
    bool verify_crc;
    int64_t num_values;      /* from the column metadata */
    int64_t values_seen;     /* in data pages so far */
    int64_t max_page;
    int page_index;          /* pages returned or skipped so far */
    uint8_t *scratch;
    size_t scratch_cap;
    char *ctx;
};

typedef struct page_header {
    int type;
    int32_t uncompressed, compressed;
    bool has_crc;
    int32_t crc;
    bool has_v1, has_v2, has_dict;
    bool is_compressed; /* v2 */
    pq_page page;       /* filled except data/len */
} page_header;

/* Reads the i32 fields of a DataPageHeader / DictionaryPageHeader / V2 header. */
static mt_status sub_header(pq_tr *t, int kind, page_header *h, mt_error *err)
{
    pq_page *p = &h->page;
    MT_RETURN_NOT_OK(pq_tr_enter(t, err));
    int16_t last = 0, id = 0;
    int ty = 0;
    mt_status st;
    for (;;) {
        st = pq_tr_field(t, &last, &id, &ty, err);
        if (st != MT_OK || ty == PQ_TT_STOP) break;
        int32_t *dst = NULL, tmp = 0;
        if (ty == PQ_TT_I32) {
            if (id == 1) dst = &p->num_values;
            else if (kind == PQ_DATA_PAGE_V2)
                dst = id == 2 ? &p->num_nulls : id == 3 ? &p->num_rows : id == 5 ? &p->def_len
                      : id == 6 ? &p->rep_len : id == 4 ? &tmp : NULL;
            else if (id >= 2 && id <= 4 && (kind == PQ_DATA_PAGE || id == 2)) dst = &tmp;
        }
        if (dst) {
            st = pq_tr_i32(t, dst, err);
            if (kind == PQ_DATA_PAGE_V2 ? id == 4 : id == 2) p->encoding = tmp;
            if (kind == PQ_DATA_PAGE && id == 3) p->def_encoding = tmp;
            if (kind == PQ_DATA_PAGE && id == 4) p->rep_encoding = tmp;
        } else if (ty == PQ_TT_TRUE || ty == PQ_TT_FALSE) {
            if (kind == PQ_DICTIONARY_PAGE && id == 3) p->is_sorted = ty == PQ_TT_TRUE;
            if (kind == PQ_DATA_PAGE_V2 && id == 7) h->is_compressed = ty == PQ_TT_TRUE;
        } else {
            st = pq_tr_skip(t, ty, err);
        }
        if (st != MT_OK) break;
    }
    pq_tr_leave(t);
    return st;
}

static mt_status header_decode(pq_tr *t, page_header *h, mt_error *err)
{
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->uncompressed = h->compressed = -1;
    h->is_compressed = true;
    int16_t last = 0, id = 0;
    int ty = 0;
    for (;;) {
        MT_RETURN_NOT_OK(pq_tr_field(t, &last, &id, &ty, err));
        if (ty == PQ_TT_STOP) break;
        mt_status st;
        if (ty == PQ_TT_I32 && id >= 1 && id <= 4) {
            int32_t v = 0;
            st = pq_tr_i32(t, &v, err);
            if (id == 1) h->type = v;
            if (id == 2) h->uncompressed = v;
            if (id == 3) h->compressed = v;
            if (id == 4) h->has_crc = true, h->crc = v;
        } else if (ty == PQ_TT_STRUCT && (id == 5 || id == 7 || id == 8)) {
            int kind = id == 5 ? PQ_DATA_PAGE : id == 7 ? PQ_DICTIONARY_PAGE : PQ_DATA_PAGE_V2;
            if (id == 5) h->has_v1 = true;
            if (id == 7) h->has_dict = true;
            if (id == 8) h->has_v2 = true;
            st = sub_header(t, kind, h, err);
        } else {
            st = pq_tr_skip(t, ty, err);
        }
        MT_RETURN_NOT_OK(st);
    }
    return MT_OK;
}

/* Checks a decoded header against the chunk bytes that follow it. */
static mt_status header_check(const pq_page_reader *pr, const page_header *h, size_t avail,
                              mt_error *err)
{
    if (h->compressed < 0 || h->uncompressed < 0)
        return mt_error_set(err, MT_ECORRUPT, "invalid page sizes (compressed %d, uncompressed %d)",
                            (int)h->compressed, (int)h->uncompressed);
    if ((size_t)h->compressed > avail)
        return mt_error_set(err, MT_ECORRUPT,
                            "page of %d bytes extends past the end of the file (%zu bytes left)",
                            (int)h->compressed, avail);
    if (h->compressed > pr->max_page || h->uncompressed > pr->max_page)
        return mt_error_set(err, MT_ECORRUPT,
                            "page too large: %d bytes exceeds parquet_max_page_bytes (%lld)",
                            (int)(h->compressed > h->uncompressed ? h->compressed : h->uncompressed),
                            (long long)pr->max_page);
    const pq_page *p = &h->page;
    if ((h->type == PQ_DATA_PAGE && !h->has_v1) || (h->type == PQ_DATA_PAGE_V2 && !h->has_v2) ||
        (h->type == PQ_DICTIONARY_PAGE && !h->has_dict))
        return mt_error_set(err, MT_ECORRUPT, "page of type %d lacks its type-specific header",
                            h->type);
    if (p->num_values < 0 || p->num_nulls < 0 || p->num_rows < 0)
        return mt_error_set(err, MT_ECORRUPT, "negative value count in page header");
    if (h->type == PQ_DATA_PAGE_V2 &&
        (p->def_len < 0 || p->rep_len < 0 ||
         (int64_t)p->def_len + p->rep_len > h->compressed ||
         (int64_t)p->def_len + p->rep_len > h->uncompressed))
        return mt_error_set(err, MT_ECORRUPT, "invalid level lengths (rep %d, def %d) in v2 page",
                            (int)p->rep_len, (int)p->def_len);
    return MT_OK;
}

static mt_status scratch_reserve(pq_page_reader *pr, size_t n, mt_error *err)
{
    if (n <= pr->scratch_cap && pr->scratch) return MT_OK;
    size_t cap = pr->scratch_cap ? pr->scratch_cap : 4096;
    while (cap < n) cap *= 2;
    uint8_t *p = mt_malloc(cap);
    if (!p) return mt_error_set(err, MT_ENOMEM, "out of memory for a page of %zu bytes", n);
    mt_free(pr->scratch);
    pr->scratch = p;
    pr->scratch_cap = cap;
    return MT_OK;
}

/* Fills page->data/len from the stored bytes `src` (compressed size h->compressed). */
static mt_status page_body(pq_page_reader *pr, const page_header *h, const uint8_t *src,
                           pq_page *page, mt_error *err)
{
    size_t comp = (size_t)h->compressed, uncomp = (size_t)h->uncompressed;
    size_t levels = 0;
    if (h->type == PQ_DATA_PAGE_V2) levels = (size_t)h->page.rep_len + (size_t)h->page.def_len;
    bool compressed = pr->codec != MT_PARQUET_UNCOMPRESSED &&
                      !(h->type == PQ_DATA_PAGE_V2 && !h->is_compressed);
    if (!compressed) {
        /* Stored as is: hand out the mapped bytes (sizes should agree; trust the stored one). */
        page->data = src;
        page->len = comp;
        return MT_OK;
    }
    MT_RETURN_NOT_OK(pq_decompress_precheck(pr->codec, src + levels, comp - levels,
                                            uncomp - levels, err));
    MT_RETURN_NOT_OK(scratch_reserve(pr, uncomp, err));
    if (levels) memcpy(pr->scratch, src, levels);
    MT_RETURN_NOT_OK(pq_decompress(pr->codec, src + levels, comp - levels, pr->scratch + levels,
                                   uncomp - levels, err));
    page->data = pr->scratch;
    page->len = uncomp;
    return MT_OK;
}

/* Reads the next header; *eof at the end of the chunk. Sets *src to the page bytes. */
static mt_status next_header(pq_page_reader *pr, page_header *h, const uint8_t **src, bool *eof,
                             mt_error *err)
{
    *eof = false;
    if (pr->pos >= pr->end || (pr->num_values > 0 && pr->values_seen >= pr->num_values) ||
        pr->num_values == 0) {
        *eof = true;
        return MT_OK;
    }
    pq_tr t;
    pq_tr_init(&t, pr->file + pr->pos, pr->limit - pr->pos);
    mt_status st = header_decode(&t, h, err);
    if (st != MT_OK) return mt_error_prefix(err, "bad page header");
    size_t hdr_len = (size_t)(t.p - (pr->file + pr->pos));
    MT_RETURN_NOT_OK(header_check(pr, h, pr->limit - pr->pos - hdr_len, err));
    *src = pr->file + pr->pos + hdr_len;
    pr->pos += hdr_len + (size_t)h->compressed;
    if (h->type == PQ_DATA_PAGE || h->type == PQ_DATA_PAGE_V2)
        pr->values_seen += h->page.num_values;
    return MT_OK;
}

static mt_status next_page(pq_page_reader *pr, pq_page *page, bool *eof, bool headers_only,
                           mt_error *err)
{
    for (;;) {
        page_header h;
        const uint8_t *src = NULL;
        MT_RETURN_NOT_OK(next_header(pr, &h, &src, eof, err));
        if (*eof) return MT_OK;
        pr->page_index++;
        if (h.type != PQ_DATA_PAGE && h.type != PQ_DATA_PAGE_V2 && h.type != PQ_DICTIONARY_PAGE)
            continue; /* index pages and unknown page types carry nothing we read */
        if (!headers_only && h.has_crc && pr->verify_crc &&
            pq_crc32(src, (size_t)h.compressed) != (uint32_t)h.crc)
            return mt_error_set(err, MT_ECHECKSUM, "page CRC mismatch");
        *page = h.page;
        page->type = h.type;
        page->data = NULL;
        page->len = (size_t)h.uncompressed;
        if (headers_only) return MT_OK;
        return page_body(pr, &h, src, page, err);
    }
}

static mt_status with_context(pq_page_reader *pr, mt_status st, mt_error *err)
{
    if (st == MT_OK) return MT_OK;
    mt_error_prefix(err, "page %d", pr->page_index - 1 < 0 ? 0 : pr->page_index - 1);
    if (pr->ctx) mt_error_prefix(err, "%s", pr->ctx);
    return st;
}

mt_status pq_page_reader_next(pq_page_reader *pr, pq_page *page, bool *eof, mt_error *err)
{
    int before = pr->page_index;
    mt_status st = next_page(pr, page, eof, false, err);
    if (st != MT_OK && pr->page_index == before) pr->page_index++; /* header failed */
    return with_context(pr, st, err);
}

mt_status pq_page_reader_next_header(pq_page_reader *pr, pq_page *page, bool *eof, mt_error *err)
{
    int before = pr->page_index;
    mt_status st = next_page(pr, page, eof, true, err);
    if (st != MT_OK && pr->page_index == before) pr->page_index++;
    return with_context(pr, st, err);
}

mt_status pq_page_reader_create(const uint8_t *file, size_t file_len, const pq_column_chunk *cc,
                                bool verify_crc, const char *ctx, pq_page_reader **out,
                                mt_error *err)
{
    const char *c = ctx && *ctx ? ctx : NULL;
    if (!cc->has_meta_data)
        return mt_error_set(err, MT_ECORRUPT, "%s%scolumn chunk has no metadata", c ? c : "",
                            c ? ": " : "");
    int64_t start = cc->data_page_offset;
    if (cc->dictionary_page_offset > 0 && cc->dictionary_page_offset < start)
        start = cc->dictionary_page_offset;
    if (start < 0 || (uint64_t)start >= file_len || cc->total_compressed_size < 0)
        return mt_error_set(err, MT_ECORRUPT,
                            "%s%scolumn chunk offset %lld is outside the file (%zu bytes)",
                            c ? c : "", c ? ": " : "", (long long)start, file_len);
    pq_page_reader *pr = mt_calloc(1, sizeof *pr);
    if (!pr) return mt_error_set(err, MT_ENOMEM, "out of memory");
    pr->file = file;
    pr->pos = (size_t)start;
    /* Clamp: old writers overstate total_compressed_size; we never read past the file. */
    uint64_t room = file_len - (uint64_t)start;
    pr->end = pr->pos + ((uint64_t)cc->total_compressed_size < room
                             ? (size_t)cc->total_compressed_size : (size_t)room);
    pr->limit = file_len;
    pr->codec = cc->codec;
    pr->verify_crc = verify_crc;
    pr->num_values = cc->num_values;
    pr->max_page = MT_CFG_INT64(parquet_max_page_bytes);
    if (pr->max_page <= 0 || pr->max_page > INT32_MAX) pr->max_page = INT32_MAX;
    if (c && !(pr->ctx = mt_strdup(c))) {
        mt_free(pr);
        return mt_error_set(err, MT_ENOMEM, "out of memory");
    }
    *out = pr;
    return MT_OK;
}

void pq_page_reader_destroy(pq_page_reader *pr)
{
    if (!pr) return;
    mt_free(pr->scratch);
    mt_free(pr->ctx);
    mt_free(pr);
}
