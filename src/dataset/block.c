/*
 * block.c — tables as block objects (format in ds_int.h): an encoder that
 * normalises slices while it writes (offset 0, rebased offsets, shifted
 * bitmaps) and a zero-copy decoder whose buffers wrap the block's bytes.
 *
 * Threads: none; pure functions of their arguments. Invariants: a decoded
 * table passed mt_array_validate column by column; every byte the decoder
 * reads was bounds-checked first; a picked block decodes exactly as the
 * block of the same rows taken first would; on failure nothing leaks and on_free runs
 * (once) if no buffer was made.
 */
#include <stdatomic.h>
#include <string.h>

#include "dataset/ds_int.h"

#define BLOCK_FIXED 20 /* "MTBK", version, 3 pad, u32 header bytes, u64 rows */
#define MAX_DEPTH 64
#define ABSENT UINT64_MAX

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* ---- Encoding ------------------------------------------------------------ */

typedef struct writer {
    uint8_t *out;    /* NULL: measuring */
    size_t hdr;      /* header bytes so far (from BLOCK_FIXED) */
    size_t payload;  /* payload end, from the block's start */
    size_t cap;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (w->out) memcpy(w->out + BLOCK_FIXED + w->hdr, p, n);
    w->hdr += n;
}

static void put_u8(writer *w, uint8_t v) { put(w, &v, 1); }
static void put_i32(writer *w, int32_t v) { put(w, &v, 4); }
static void put_i64(writer *w, int64_t v) { put(w, &v, 8); }

static void put_str(writer *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 65535) n = 65535;
    uint16_t l = (uint16_t)n;
    put(w, &l, 2);
    put(w, s ? s : "", n);
}

static void put_type(writer *w, const mt_type *t)
{
    put_u8(w, (uint8_t)t->id);
    switch (t->id) {
    case MT_TYPE_FIXED_BINARY: put_i32(w, t->byte_width); break;
    case MT_TYPE_DECIMAL128: put_i32(w, t->precision); put_i32(w, t->scale); break;
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64: put_u8(w, (uint8_t)t->unit); break;
    case MT_TYPE_TIMESTAMP:
        put_u8(w, (uint8_t)t->unit);
        put_u8(w, t->timezone != NULL);
        if (t->timezone) put_str(w, t->timezone);
        break;
    case MT_TYPE_LIST:
    case MT_TYPE_STRUCT:
    case MT_TYPE_MAP:
        put_i32(w, t->num_fields);
        for (int32_t i = 0; i < t->num_fields; i++) {
            put_str(w, t->fields[i].name);
            put_u8(w, t->fields[i].nullable);
            put_type(w, t->fields[i].type);
        }
        break;
    default: break;
    }
}

/* Reserves `n` payload bytes (64-byte aligned start) and records them in the header. */
static uint8_t *payload(writer *w, size_t n)
{
    size_t at = align64(w->payload);
    put_i64(w, (int64_t)n);
    uint64_t off = at;
    put(w, &off, 8);
    w->payload = at + n;
    return w->out ? w->out + at : NULL;
}

static void put_absent(writer *w)
{
    put_i64(w, 0);
    uint64_t off = ABSENT;
    put(w, &off, 8);
}

/* Copies bits [from, from + n) of src to dst starting at bit 0. */
static void copy_bits(uint8_t *dst, const uint8_t *src, int64_t from, int64_t n)
{
    if ((from & 7) == 0) {
        memcpy(dst, src + (from >> 3), (size_t)((n + 7) >> 3));
        return;
    }
    memset(dst, 0, (size_t)((n + 7) >> 3));
    for (int64_t i = 0; i < n; i++)
        if ((src[(from + i) >> 3] >> ((from + i) & 7)) & 1) dst[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static int64_t count_bits(const uint8_t *src, int64_t from, int64_t n)
{
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) c += (src[(from + i) >> 3] >> ((from + i) & 7)) & 1;
    return c;
}

/* One array node for rows [rel, rel + n) of `a` (rel before a's own offset). */
static void put_node(writer *w, const mt_array *a, int64_t rel, int64_t n)
{
    int64_t at = a->offset + rel;
    const mt_buffer *v = a->buffers[0];
    put_i64(w, n);
    if (a->type->id == MT_TYPE_NA) {
        put_i64(w, n);
        return;
    }
    put_i64(w, v ? n - count_bits(v->data, at, n) : 0);
    if (v && n > 0) {
        uint8_t *d = payload(w, (size_t)((n + 7) >> 3));
        if (d) copy_bits(d, v->data, at, n);
    } else {
        put_absent(w);
    }
    switch (a->type->id) {
    case MT_TYPE_BOOL: {
        uint8_t *d = payload(w, (size_t)((n + 7) >> 3));
        if (d && n) copy_bits(d, a->buffers[1]->data, at, n);
        break;
    }
    case MT_TYPE_UTF8:
    case MT_TYPE_BINARY:
    case MT_TYPE_LIST:
    case MT_TYPE_MAP: {
        const int32_t *off = (const int32_t *)a->buffers[1]->data + at;
        int32_t *d = (int32_t *)payload(w, (size_t)(n + 1) * 4);
        if (d)
            for (int64_t i = 0; i <= n; i++) d[i] = off[i] - off[0];
        if (a->type->id == MT_TYPE_UTF8 || a->type->id == MT_TYPE_BINARY) {
            size_t bytes = (size_t)(off[n] - off[0]);
            uint8_t *b = payload(w, bytes);
            if (b && bytes) memcpy(b, a->buffers[2]->data + off[0], bytes);
        } else {
            put_node(w, a->children[0], off[0], off[n] - off[0]);
        }
        break;
    }
    case MT_TYPE_STRUCT:
        for (int32_t i = 0; i < a->num_children; i++) put_node(w, a->children[i], at, n);
        break;
    default: { /* fixed width */
        size_t width = (size_t)mt_type_bit_width(a->type) / 8;
        uint8_t *d = payload(w, width * (size_t)n);
        if (d && n) memcpy(d, a->buffers[1]->data + width * (size_t)at, width * (size_t)n);
        break;
    }
    }
}

static void put_table(writer *w, const void *arg)
{
    const mt_table *t = arg;
    put_type(w, t->schema);
    for (int32_t i = 0; i < t->num_columns; i++) put_node(w, t->columns[i], 0, t->num_rows);
}

typedef void (*body_fn)(writer *w, const void *arg);

/* Bytes of the block `body` writes: the header measured first, as payload offsets depend on its end. */
static mt_status measure(body_fn body, const void *arg, size_t *size_out, mt_error *err)
{
    writer w = {0};
    body(&w, arg);
    size_t start = align64(BLOCK_FIXED + w.hdr);
    w.payload = start;
    w.hdr = 0;
    body(&w, arg);
    if (w.hdr > UINT32_MAX) return mt_error_set(err, MT_ERANGE, "block: a header of %zu bytes", w.hdr);
    *size_out = w.payload > start ? w.payload : start;
    return MT_OK;
}

/* Writes the fixed part, the header and the payload of the block `body` writes. */
static void emit(body_fn body, const void *arg, int64_t rows, uint8_t *out)
{
    writer m = {0};
    body(&m, arg);
    uint32_t hdr = (uint32_t)m.hdr;
    size_t start = align64(BLOCK_FIXED + hdr);
    memset(out, 0, start);
    writer w = {.out = out, .payload = start};
    body(&w, arg);
    memcpy(out, "MTBK", 4);
    out[4] = 1;
    memcpy(out + 8, &hdr, 4);
    memcpy(out + 12, &rows, 8);
}

mt_status mt__block_size(const mt_table *t, size_t *size_out, mt_error *err)
{
    if (!t) return mt_error_set(err, MT_EINVAL, "block: no table");
    return measure(put_table, t, size_out, err);
}

mt_status mt__block_encode(const mt_table *t, uint8_t *out, size_t size, mt_error *err)
{
    size_t need = 0;
    MT_RETURN_NOT_OK(mt__block_size(t, &need, err));
    if (size < need) return mt_error_set(err, MT_ERANGE, "block: %zu bytes given, %zu needed", size, need);
    emit(put_table, t, t->num_rows, out);
    return MT_OK;
}

/* ---- Encoding picked rows --------------------------------------------------- */

/*
 * A picked block is written from its sources directly: validity and bool
 * bits, fixed-width values and variable-width bytes are gathered into the
 * payload, with no table built in between. Flat types only (no list,
 * struct or map): mt__ds_store_pick falls back to take + encode for those.
 */
struct mt__block_pick_plan {
    mt__ds_pick p;
    int32_t ncols;
    int64_t *nulls;   /* per column: null rows picked */
    bool *validity;   /* per column: some source has a validity bitmap */
    size_t *bytes;    /* per column: value bytes picked (utf8, binary) */
    size_t size;
};

static bool get_bit(const uint8_t *p, int64_t i) { return (p[i >> 3] >> (i & 7)) & 1; }

static const mt_array *pick_col(const mt__ds_pick *p, int32_t c, int64_t i)
{
    return p->tables[p->tab ? p->tab[i] : 0]->columns[c];
}

bool mt__block_pickable(const mt_type *schema)
{
    for (int32_t i = 0; i < schema->num_fields; i++) {
        mt_type_id id = schema->fields[i].type->id;
        if (id == MT_TYPE_LIST || id == MT_TYPE_STRUCT || id == MT_TYPE_MAP) return false;
    }
    return true;
}

/* Bits of rows picked from column c into d (bits == 0: validity, absent bitmap = all set; 1: bool values). */
static void pick_bits(const mt__ds_pick *p, int32_t c, int which, uint8_t *d)
{
    memset(d, 0, (size_t)((p->n + 7) >> 3));
    for (int64_t i = 0; i < p->n; i++) {
        const mt_array *a = pick_col(p, c, i);
        const mt_buffer *b = a->buffers[which];
        if (!b || (which == 0 && a->null_count == 0) || get_bit(b->data, a->offset + p->rows[i]))
            d[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
}

/* Fixed-width values of the picked rows; one source's rows as plain loads and stores. */
static void pick_fixed(const mt__ds_pick *p, int32_t c, size_t w, uint8_t *restrict d)
{
    const uint8_t *base[MT__DS_PICK_MAX];
    for (int k = 0; k < p->ntables; k++) {
        const mt_array *a = p->tables[k]->columns[c];
        base[k] = a->buffers[1]->data + w * (size_t)a->offset;
    }
    const int64_t *rows = p->rows;
    if (!p->tab && w == 8) {
        for (int64_t i = 0; i < p->n; i++) memcpy(d + 8 * i, base[0] + 8 * rows[i], 8);
    } else if (!p->tab && w == 4) {
        for (int64_t i = 0; i < p->n; i++) memcpy(d + 4 * i, base[0] + 4 * rows[i], 4);
    } else if (w == 8) {
        for (int64_t i = 0; i < p->n; i++) memcpy(d + 8 * i, base[p->tab[i]] + 8 * rows[i], 8);
    } else if (w == 4) {
        for (int64_t i = 0; i < p->n; i++) memcpy(d + 4 * i, base[p->tab[i]] + 4 * rows[i], 4);
    } else {
        for (int64_t i = 0; i < p->n; i++) memcpy(d + w * (size_t)i, base[p->tab ? p->tab[i] : 0] + w * (size_t)rows[i], w);
    }
}

static void put_pick_column(writer *w, const mt__block_pick_plan *pl, int32_t c)
{
    const mt__ds_pick *p = &pl->p;
    mt_type_id id = p->tables[0]->columns[c]->type->id;
    int64_t n = p->n;
    put_i64(w, n);
    if (id == MT_TYPE_NA) {
        put_i64(w, n);
        return;
    }
    put_i64(w, pl->nulls[c]);
    if (pl->validity[c] && n > 0) {
        uint8_t *d = payload(w, (size_t)((n + 7) >> 3));
        if (d) pick_bits(p, c, 0, d);
    } else {
        put_absent(w);
    }
    if (id == MT_TYPE_BOOL) {
        uint8_t *d = payload(w, (size_t)((n + 7) >> 3));
        if (d && n) pick_bits(p, c, 1, d);
    } else if (id == MT_TYPE_UTF8 || id == MT_TYPE_BINARY) {
        int32_t *o = (int32_t *)payload(w, (size_t)(n + 1) * 4);
        uint8_t *b = payload(w, pl->bytes[c]);
        if (!o) return;
        o[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            const mt_array *a = pick_col(p, c, i);
            const int32_t *off = (const int32_t *)a->buffers[1]->data + a->offset + p->rows[i];
            int32_t len = off[1] - off[0];
            if (len) memcpy(b + o[i], a->buffers[2]->data + off[0], (size_t)len);
            o[i + 1] = o[i] + len;
        }
    } else {
        size_t width = (size_t)mt_type_bit_width(p->tables[0]->columns[c]->type) / 8;
        uint8_t *d = payload(w, width * (size_t)n);
        if (d && n) pick_fixed(p, c, width, d);
    }
}

static void put_pick(writer *w, const void *arg)
{
    const mt__block_pick_plan *pl = arg;
    put_type(w, pl->p.tables[0]->schema);
    for (int32_t c = 0; c < pl->ncols; c++) put_pick_column(w, pl, c);
}

void mt__block_pick_plan_free(mt__block_pick_plan *pl)
{
    if (!pl) return;
    mt_free(pl->nulls);
    mt_free(pl->validity);
    mt_free(pl->bytes);
    mt_free(pl);
}

/* Checks every source and row, then counts nulls and value bytes per column. */
static mt_status plan_columns(mt__block_pick_plan *pl, mt_error *err)
{
    const mt__ds_pick *p = &pl->p;
    const mt_table *t0 = p->tables[0];
    for (int k = 1; k < p->ntables; k++)
        if (!mt_type_equal(p->tables[k]->schema, t0->schema))
            return mt_error_set(err, MT_ETYPE, "block: picking from tables of different schemas");
    for (int64_t i = 0; i < p->n; i++) {
        int32_t k = p->tab ? p->tab[i] : 0;
        if (k < 0 || k >= p->ntables || p->rows[i] < 0 || p->rows[i] >= p->tables[k]->num_rows)
            return mt_error_set(err, MT_ERANGE, "block: picked row %lld of source %d is out of range",
                                (long long)p->rows[i], (int)k);
    }
    for (int32_t c = 0; c < pl->ncols; c++) {
        mt_type_id id = t0->columns[c]->type->id;
        for (int k = 0; k < p->ntables; k++) { /* a bitmap known to hold no nulls is not read */
            const mt_array *a = p->tables[k]->columns[c];
            pl->validity[c] |= a->buffers[0] != NULL && a->null_count != 0;
        }
        if (id == MT_TYPE_NA) continue;
        int64_t nulls = 0;
        size_t bytes = 0;
        for (int64_t i = 0; i < p->n && (pl->validity[c] || id == MT_TYPE_UTF8 || id == MT_TYPE_BINARY); i++) {
            const mt_array *a = pick_col(p, c, i);
            int64_t at = a->offset + p->rows[i];
            if (a->buffers[0] && a->null_count != 0 && !get_bit(a->buffers[0]->data, at)) nulls++;
            if (id == MT_TYPE_UTF8 || id == MT_TYPE_BINARY) {
                const int32_t *off = (const int32_t *)a->buffers[1]->data + at;
                bytes += (size_t)(off[1] - off[0]);
            }
        }
        if (bytes > INT32_MAX)
            return mt_error_set(err, MT_ERANGE, "block: column '%s' would hold %zu bytes (more than 2 GiB)",
                                t0->schema->fields[c].name, bytes);
        pl->nulls[c] = nulls;
        pl->bytes[c] = bytes;
    }
    return MT_OK;
}

mt_status mt__block_pick_plan_make(const mt__ds_pick *p, mt__block_pick_plan **out, size_t *size, mt_error *err)
{
    if (!p || p->ntables < 1 || p->ntables > MT__DS_PICK_MAX || !mt__block_pickable(p->tables[0]->schema))
        return mt_error_set(err, MT_EINVAL, "block: these rows cannot be picked directly");
    mt__block_pick_plan *pl = mt_calloc(1, sizeof *pl);
    int32_t nc = p->tables[0]->num_columns;
    if (pl) {
        pl->p = *p;
        pl->ncols = nc;
        pl->nulls = mt_calloc((size_t)nc + 1, sizeof *pl->nulls);
        pl->validity = mt_calloc((size_t)nc + 1, sizeof *pl->validity);
        pl->bytes = mt_calloc((size_t)nc + 1, sizeof *pl->bytes);
    }
    mt_status st = pl && pl->nulls && pl->validity && pl->bytes ? MT_OK : mt_error_set(err, MT_ENOMEM, "block");
    if (st == MT_OK) st = plan_columns(pl, err);
    if (st == MT_OK) st = measure(put_pick, pl, &pl->size, err);
    if (st != MT_OK) {
        mt__block_pick_plan_free(pl);
        return st;
    }
    *out = pl;
    *size = pl->size;
    return MT_OK;
}

void mt__block_pick_write(const mt__block_pick_plan *pl, uint8_t *out) { emit(put_pick, pl, pl->p.n, out); }

/* ---- Decoding ------------------------------------------------------------ */

typedef struct holder {
    _Atomic int rc;
    void (*on_free)(void *);
    void *owner;
} holder;

static void holder_unref(holder *h)
{
    if (atomic_fetch_sub(&h->rc, 1) != 1) return;
    if (h->on_free) h->on_free(h->owner);
    mt_free(h);
}

static void buffer_gone(mt_buffer *b) { holder_unref(b->owner); }

typedef struct reader {
    const uint8_t *data;
    size_t len;
    const uint8_t *h;   /* header cursor */
    const uint8_t *end; /* header end */
    size_t payload_start;
    holder *hold;
    const char *what;
    mt_error *err;
    bool failed;
    mt_status code; /* of the first failure */
} reader;

static bool fail(reader *r, const char *why)
{
    if (!r->failed) {
        mt_error_set(r->err, MT_ECORRUPT, "%s: bad block: %s", r->what, why);
        r->code = MT_ECORRUPT;
    }
    r->failed = true;
    return false;
}

static bool oom(reader *r)
{
    if (!r->failed) {
        mt_error_set(r->err, MT_ENOMEM, "%s: out of memory decoding a block", r->what);
        r->code = MT_ENOMEM;
    }
    r->failed = true;
    return false;
}

static bool get(reader *r, void *p, size_t n)
{
    if ((size_t)(r->end - r->h) < n) return fail(r, "header ends early");
    memcpy(p, r->h, n);
    r->h += n;
    return true;
}

static char *get_str(reader *r)
{
    uint16_t n;
    if (!get(r, &n, 2)) return NULL;
    if ((size_t)(r->end - r->h) < n) return fail(r, "header ends early"), NULL;
    if (memchr(r->h, 0, n)) return fail(r, "a name holds a NUL byte"), NULL;
    char *s = mt_strndup((const char *)r->h, n);
    if (!s) oom(r);
    r->h += n;
    return s;
}

static mt_type *get_type(reader *r, int depth)
{
    uint8_t id;
    if (depth > MAX_DEPTH) return fail(r, "types nest too deep"), NULL;
    if (!get(r, &id, 1)) return NULL;
    int32_t a = 0, b = 0;
    uint8_t u = 0, has_tz = 0;
    switch (id) {
    case MT_TYPE_NA: case MT_TYPE_BOOL: case MT_TYPE_INT8: case MT_TYPE_INT16: case MT_TYPE_INT32:
    case MT_TYPE_INT64: case MT_TYPE_UINT8: case MT_TYPE_UINT16: case MT_TYPE_UINT32: case MT_TYPE_UINT64:
    case MT_TYPE_FLOAT16: case MT_TYPE_FLOAT32: case MT_TYPE_FLOAT64: case MT_TYPE_UTF8: case MT_TYPE_BINARY:
    case MT_TYPE_DATE32:
        return mt_type_new((mt_type_id)id);
    case MT_TYPE_FIXED_BINARY:
        if (!get(r, &a, 4)) return NULL;
        if (a <= 0) return fail(r, "fixed_size_binary width"), NULL;
        return mt_type_fixed_binary(a);
    case MT_TYPE_DECIMAL128:
        if (!get(r, &a, 4) || !get(r, &b, 4)) return NULL;
        if (a < 1 || a > 38 || b < 0 || b > a) return fail(r, "decimal precision/scale"), NULL;
        return mt_type_decimal128(a, b);
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64:
        if (!get(r, &u, 1)) return NULL;
        if ((id == MT_TYPE_TIME32) != (u <= MT_UNIT_MILLI) || u > MT_UNIT_NANO) return fail(r, "time unit"), NULL;
        return mt_type_time((mt_time_unit)u);
    case MT_TYPE_TIMESTAMP: {
        if (!get(r, &u, 1) || !get(r, &has_tz, 1)) return NULL;
        if (u > MT_UNIT_NANO) return fail(r, "timestamp unit"), NULL;
        char *tz = has_tz ? get_str(r) : NULL;
        if (has_tz && !tz) return NULL;
        mt_type *t = mt_type_timestamp((mt_time_unit)u, tz);
        mt_free(tz);
        return t;
    }
    case MT_TYPE_LIST:
    case MT_TYPE_STRUCT:
    case MT_TYPE_MAP:
        break;
    default:
        return fail(r, "unknown type id"), NULL;
    }
    int32_t n;
    if (!get(r, &n, 4)) return NULL;
    if (n < 0 || n > 100000 || (id != MT_TYPE_STRUCT && n != 1)) return fail(r, "field count"), NULL;
    char **names = mt_calloc((size_t)(n ? n : 1), sizeof *names);
    mt_type **types = mt_calloc((size_t)(n ? n : 1), sizeof *types);
    bool *nullable = mt_calloc((size_t)(n ? n : 1), sizeof *nullable);
    mt_type *t = NULL;
    bool ok = names && types && nullable;
    if (!ok) oom(r);
    for (int32_t i = 0; ok && i < n; i++) {
        uint8_t nb = 0;
        ok = (names[i] = get_str(r)) && get(r, &nb, 1) && (types[i] = get_type(r, depth + 1));
        nullable[i] = nb;
    }
    if (ok && id == MT_TYPE_LIST) t = mt_type_list(types[0], nullable[0], names[0]);
    if (ok && id == MT_TYPE_STRUCT) t = mt_type_struct(n, (const char *const *)names, types, nullable);
    if (ok && id == MT_TYPE_MAP) {
        if (types[0]->id != MT_TYPE_STRUCT || types[0]->num_fields != 2) ok = fail(r, "map entries");
        else t = mt_type_map(types[0]->fields[0].type, types[0]->fields[1].type, types[0]->fields[1].nullable);
    }
    if (ok && !t) ok = oom(r);
    for (int32_t i = 0; i < n && names; i++) mt_free(names[i]);
    for (int32_t i = 0; i < n && types; i++) mt_type_release(types[i]);
    mt_free(names);
    mt_free(types);
    mt_free(nullable);
    return ok ? t : NULL;
}

/* One buffer reference from the header: NULL and *absent when the block has none. */
static mt_buffer *get_buffer(reader *r, bool *absent)
{
    int64_t size;
    uint64_t off;
    *absent = false;
    if (!get(r, &size, 8) || !get(r, &off, 8)) return NULL;
    if (off == ABSENT) {
        *absent = true;
        return NULL;
    }
    if (size < 0 || off < r->payload_start || off % 64 || off > r->len || (uint64_t)size > r->len - off)
        return fail(r, "a buffer lies outside the block"), NULL;
    mt_buffer *b = mt_buffer_wrap((uint8_t *)r->data + off, size, buffer_gone, r->hold);
    if (!b) return oom(r), NULL;
    atomic_fetch_add(&r->hold->rc, 1);
    return b;
}

static mt_array *get_node(reader *r, mt_type *t, int depth)
{
    int64_t n, nulls;
    if (depth > MAX_DEPTH) return fail(r, "arrays nest too deep"), NULL;
    if (!get(r, &n, 8) || !get(r, &nulls, 8)) return NULL;
    if (n < 0 || nulls < 0 || nulls > n) return fail(r, "array length or null count"), NULL;
    if (t->id == MT_TYPE_NA) return mt_array_new_null(t, n);
    mt_buffer *bufs[3] = {0};
    mt_array *kids[64], **children = kids;
    int32_t nkids = 0;
    bool absent = false, ok = true;
    int nb = mt_array_num_buffers(t);
    for (int i = 0; ok && i < nb; i++) {
        bufs[i] = get_buffer(r, &absent);
        ok = bufs[i] || (absent && (i == 0 || n == 0));
        if (!ok && absent) fail(r, "a required buffer is missing");
    }
    if (ok && nulls && !bufs[0]) ok = fail(r, "nulls without a validity bitmap");
    int32_t want = t->id == MT_TYPE_STRUCT || t->id == MT_TYPE_LIST || t->id == MT_TYPE_MAP ? t->num_fields : 0;
    if (ok && want > 64 && !(children = mt_calloc((size_t)want, sizeof *children))) {
        children = kids;
        ok = oom(r);
    }
    for (int32_t i = 0; ok && i < want; i++) {
        children[i] = get_node(r, t->fields[i].type, depth + 1);
        ok = children[i] != NULL;
        if (ok) nkids++;
    }
    mt_array *a = NULL;
    if (ok) {
        a = mt_array_new(t, n, 0, bufs[0] ? -1 : 0, bufs, nb, children, nkids);
        if (!a) oom(r);
    }
    for (int i = 0; i < 3; i++) mt_buffer_release(bufs[i]);
    for (int32_t i = 0; i < nkids; i++) mt_array_release(children[i]);
    if (children != kids) mt_free(children);
    return a;
}

mt_status mt__block_rows(const uint8_t *data, size_t len, int64_t *rows, mt_error *err)
{
    if (!data || len < BLOCK_FIXED || memcmp(data, "MTBK", 4) || data[4] != 1)
        return mt_error_set(err, MT_ECORRUPT, "bad block: not a Manta block");
    memcpy(rows, data + 12, 8);
    if (*rows < 0) return mt_error_set(err, MT_ECORRUPT, "bad block: negative row count");
    return MT_OK;
}

static void aligned_free(void *p) { mt_free_aligned(p); }

mt_status mt__block_decode(const uint8_t *data, size_t len, void (*on_free)(void *), void *owner,
                           const char *what, mt_table **out, mt_error *err)
{
    *out = NULL;
    if ((uintptr_t)data % 64) { /* an inline value inside a message: buffers must be aligned */
        uint8_t *copy = mt_malloc_aligned(len ? len : 1);
        if (copy && len) memcpy(copy, data, len);
        if (on_free) on_free(owner);
        if (!copy) return mt_error_set(err, MT_ENOMEM, "%s: a block of %zu bytes", what, len);
        data = copy;
        on_free = aligned_free;
        owner = copy;
    }
    int64_t rows;
    uint32_t hdr = 0;
    mt_status st = mt__block_rows(data, len, &rows, err);
    if (st != MT_OK) mt_error_prefix(err, "%s", what);
    if (st == MT_OK) memcpy(&hdr, data + 8, 4);
    if (st == MT_OK && hdr > len - BLOCK_FIXED) st = mt_error_set(err, MT_ECORRUPT, "%s: bad block: header too long", what);
    holder *hold = st == MT_OK ? mt_malloc(sizeof *hold) : NULL;
    if (st == MT_OK && !hold) st = mt_error_set(err, MT_ENOMEM, "%s: decoding a block", what);
    if (st != MT_OK) {
        if (on_free) on_free(owner);
        return st;
    }
    atomic_init(&hold->rc, 1); /* the decoder's own, dropped at the end */
    hold->on_free = on_free;
    hold->owner = owner;
    reader r = {.data = data, .len = len, .h = data + BLOCK_FIXED, .end = data + BLOCK_FIXED + hdr,
                .payload_start = align64(BLOCK_FIXED + hdr), .hold = hold, .what = what, .err = err};
    mt_type *schema = get_type(&r, 0);
    if (!schema && !r.failed) oom(&r);
    if (schema && schema->id != MT_TYPE_STRUCT) fail(&r, "the schema is not a struct");
    int32_t ncol = schema && !r.failed ? schema->num_fields : 0;
    mt_array *cols[64], **columns = cols;
    if (ncol > 64 && !(columns = mt_calloc((size_t)ncol, sizeof *columns))) {
        columns = cols;
        ncol = 0;
        oom(&r);
    }
    int32_t got = 0;
    for (int32_t i = 0; !r.failed && i < ncol; i++) {
        columns[i] = get_node(&r, schema->fields[i].type, 1);
        if (!columns[i]) break;
        got++;
        if (columns[i]->length != rows) fail(&r, "a column's length differs from the row count");
        else if (mt_array_validate(columns[i], err) != MT_OK) {
            mt_error_prefix(err, "%s: bad block: column %s", what, schema->fields[i].name);
            r.failed = true;
            r.code = MT_ECORRUPT;
        }
    }
    if (!r.failed && r.h != r.end) fail(&r, "trailing header bytes");
    mt_table *t = NULL;
    if (!r.failed && (r.code = mt_table_new(schema, columns, rows, &t, err)) != MT_OK) r.failed = true;
    for (int32_t i = 0; i < got; i++) mt_array_release(columns[i]);
    if (columns != cols) mt_free(columns);
    mt_type_release(schema);
    st = r.failed ? (r.code != MT_OK ? r.code : MT_ECORRUPT) : MT_OK;
    holder_unref(hold);
    if (st == MT_OK) *out = t;
    return st;
}
