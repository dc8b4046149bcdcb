/*
 * csv_read.c — the RFC 4180 CSV reader: a scanner that splits the input
 * into records and field extents (block by block, csv_block_rows records at
 * a time), and the driver that infers column types (csv_infer.c) and fills
 * one builder per column.
 *
 * Threads: one call runs on the caller's thread; nothing is shared.
 * Invariants: the scanner never reads past data[len); every field extent
 * lies inside the input; a column whose inferred type fails on a later value
 * is widened (csv_infer.c lattice) and the data pass restarts, so valid CSV
 * never fails under inference. Lines and columns in messages are 1-based
 * (columns count bytes from the start of the line).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "data/print_int.h"

typedef struct csv_field {
    int64_t start; /* first byte of the content (after an opening quote) */
    uint32_t len;
    uint8_t quoted, escaped;
} csv_field;

typedef struct csv_row {
    int64_t start, line;
} csv_row;

typedef struct csv_scan {
    const char *name;
    const uint8_t *data;
    size_t len, pos, line_start;
    int64_t line;
    uint8_t delim, quote;
    uint8_t special[256];
    int32_t ncols; /* fields per record; -1 until the first record */
    csv_field *fields;
    int64_t nfields, fields_cap;
    csv_row *rows;
    int64_t nrows, rows_cap;
} csv_scan;

#define MAX_BLOCK_FIELDS (1 << 20)

static mt_status grow(void **p, int64_t *cap, int64_t need, size_t elem, mt_error *err)
{
    if (need <= *cap) return MT_OK;
    int64_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = mt_realloc(*p, (size_t)c * elem);
    if (!q) return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    *p = q;
    *cap = c;
    return MT_OK;
}

static mt_status push_field(csv_scan *s, size_t start, size_t len, bool quoted, bool escaped,
                            mt_error *err)
{
    if (len > UINT32_MAX)
        return mt_error_set(err, MT_EUNSUPPORTED, "%s:%lld: field longer than 4 GiB", s->name,
                            (long long)s->line);
    MT_RETURN_NOT_OK(grow((void **)&s->fields, &s->fields_cap, s->nfields + 1,
                          sizeof(csv_field), err));
    s->fields[s->nfields++] = (csv_field){(int64_t)start, (uint32_t)len, quoted, escaped};
    return MT_OK;
}

static void count_lines(csv_scan *s, size_t from, size_t to)
{
    const uint8_t *nl;
    while (from < to && (nl = memchr(s->data + from, '\n', to - from)) != NULL) {
        s->line++;
        from = (size_t)(nl - s->data) + 1;
        s->line_start = from;
    }
}

static long long col_of(const csv_scan *s, size_t at) { return (long long)(at - s->line_start + 1); }

static mt_status scan_quoted(csv_scan *s, mt_error *err)
{
    size_t q0 = s->pos, p = q0 + 1;
    long long qline = (long long)s->line, qcol = col_of(s, q0);
    bool escaped = false;
    for (;;) {
        const uint8_t *hit = memchr(s->data + p, s->quote, s->len - p);
        size_t q = hit ? (size_t)(hit - s->data) : s->len;
        count_lines(s, p, q);
        if (!hit)
            return mt_error_set(err, MT_EPARSE, "%s:%lld:%lld: unterminated quoted field",
                                s->name, qline, qcol);
        if (q + 1 < s->len && s->data[q + 1] == s->quote) {
            escaped = true;
            p = q + 2;
            continue;
        }
        MT_RETURN_NOT_OK(push_field(s, q0 + 1, q - q0 - 1, true, escaped, err));
        s->pos = p = q + 1;
        if (p < s->len && s->data[p] != s->delim && s->data[p] != '\n' && s->data[p] != '\r')
            return mt_error_set(err, MT_EPARSE, "%s:%lld:%lld: unexpected character after "
                                "closing quote", s->name, (long long)s->line, col_of(s, p));
        return MT_OK;
    }
}

static mt_status scan_unquoted(csv_scan *s, mt_error *err)
{
    size_t p = s->pos, start = p;
    while (p < s->len && !s->special[s->data[p]]) p++;
    if (p < s->len && s->data[p] == s->quote)
        return mt_error_set(err, MT_EPARSE, "%s:%lld:%lld: quote inside unquoted field",
                            s->name, (long long)s->line, col_of(s, p));
    s->pos = p;
    return push_field(s, start, p - start, false, false, err);
}

static void consume_newline(csv_scan *s)
{
    if (s->pos < s->len && s->data[s->pos] == '\r') s->pos++;
    if (s->pos < s->len && s->data[s->pos] == '\n') s->pos++;
    s->line++;
    s->line_start = s->pos;
}

/* Scans one record into s->fields; *got = false at the end of the input. */
static mt_status scan_record(csv_scan *s, bool *got, mt_error *err)
{
    /* Blank lines separate nothing; with one column they are a null value. */
    while (s->ncols != 1 && s->pos < s->len &&
           (s->data[s->pos] == '\n' || s->data[s->pos] == '\r'))
        consume_newline(s);
    *got = s->pos < s->len;
    if (!*got) return MT_OK;
    int64_t first = s->nfields, line = s->line;
    size_t start = s->pos;
    for (;;) {
        if (s->pos < s->len && s->data[s->pos] == s->quote)
            MT_RETURN_NOT_OK(scan_quoted(s, err));
        else
            MT_RETURN_NOT_OK(scan_unquoted(s, err));
        if (s->pos < s->len && s->data[s->pos] == s->delim) {
            s->pos++;
            continue;
        }
        break;
    }
    if (s->pos < s->len) consume_newline(s);
    int64_t nf = s->nfields - first;
    if (s->ncols < 0) s->ncols = (int32_t)(nf > INT32_MAX ? INT32_MAX : nf);
    if (nf != s->ncols)
        return mt_error_set(err, MT_EPARSE, "%s:%lld: expected %d fields, found %lld", s->name,
                            (long long)line, s->ncols, (long long)nf);
    MT_RETURN_NOT_OK(grow((void **)&s->rows, &s->rows_cap, s->nrows + 1, sizeof(csv_row), err));
    s->rows[s->nrows++] = (csv_row){(int64_t)start, line};
    return MT_OK;
}

/* Scans up to max_rows records (fewer when the block's fields fill up). */
static mt_status scan_block(csv_scan *s, int64_t max_rows, mt_error *err)
{
    bool got = true;
    s->nfields = 0;
    s->nrows = 0;
    while (got && s->nrows < max_rows && s->nfields < MAX_BLOCK_FIELDS)
        MT_RETURN_NOT_OK(scan_record(s, &got, err));
    return MT_OK;
}

/* Content of a field; escaped quotes are undone into `scratch`. */
static const char *field_text(const csv_scan *s, const csv_field *f, mt__data_sb *scratch,
                              size_t *n)
{
    const char *p = (const char *)s->data + f->start;
    *n = f->len;
    if (!f->escaped) return p;
    scratch->len = 0;
    for (size_t i = 0; i < f->len; i++) {
        mt__data_sb_putc(scratch, p[i]);
        if ((uint8_t)p[i] == s->quote) i++; /* "" → " */
    }
    if (scratch->failed) return NULL;
    *n = scratch->len;
    return scratch->data ? scratch->data : "";
}

/* ---- driver ---------------------------------------------------------------- */

typedef struct csv_col {
    int32_t src;   /* field index in a record */
    char *name;
    mt_type *type; /* owned reference */
    mt__data_csv_kind kind;
    mt_array_builder *b;
} csv_col;

typedef struct csv_ctx {
    csv_scan s;
    bool infer;
    const char *const *nulls;
    int32_t ncols;
    csv_col *cols;
    size_t data_pos, data_line_start;
    int64_t data_line;
    mt__data_sb scratch;
} csv_ctx;

static const char *const default_nulls[] = {"", "NA", "N/A", "NULL", "null", NULL};

static bool is_null(const csv_ctx *x, const csv_field *f, const char *p, size_t n, bool text)
{
    if (f->quoted) return n == 0 && !text;
    for (const char *const *v = x->nulls; *v; v++)
        if (strlen(*v) == n && memcmp(*v, p, n) == 0) return true;
    return false;
}

static void set_kind(csv_col *c, mt__data_csv_kind k)
{
    mt_type_release(c->type);
    c->kind = k;
    c->type = mt__data_csv_kind_type(k);
}

/* Classifies the first infer_rows records. */
static mt_status infer_types(csv_ctx *x, int64_t infer_rows, mt_error *err)
{
    MT_RETURN_NOT_OK(scan_block(&x->s, infer_rows, err));
    for (int32_t c = 0; c < x->ncols; c++) {
        csv_col *col = &x->cols[c];
        mt__data_csv_kind k = MT__CSV_NONE;
        for (int64_t r = 0; r < x->s.nrows && k != MT__CSV_STRING; r++) {
            const csv_field *f = &x->s.fields[r * x->s.ncols + col->src];
            size_t n;
            const char *p = field_text(&x->s, f, &x->scratch, &n);
            if (!p) return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
            if (!is_null(x, f, p, n, false)) k = mt__data_csv_join(k, mt__data_csv_classify(p, n));
        }
        set_kind(col, k);
    }
    return MT_OK;
}

static mt_status parse_error(const csv_ctx *x, int64_t r, const csv_field *f, const csv_col *col,
                             const char *p, size_t n, mt_error *err)
{
    const csv_scan *s = &x->s;
    size_t at = (size_t)f->start - f->quoted, ls = (size_t)s->rows[r].start;
    int64_t line = s->rows[r].line;
    while (ls > 0 && s->data[ls - 1] != '\n') ls--;
    for (size_t i = (size_t)s->rows[r].start; i < at; i++)
        if (s->data[i] == '\n') line++, ls = i + 1;
    char tname[64];
    mt_type_to_string(col->type, tname, sizeof tname);
    return mt_error_set(err, MT_EPARSE, "%s:%lld:%lld: cannot parse '%.*s' as %s for column '%s'",
                        s->name, (long long)line, (long long)(at - ls + 1), n > 64 ? 64 : (int)n,
                        p, tname, col->name);
}

/* Appends the block's values of one column; *restart when inference must widen it. */
static mt_status convert_column(csv_ctx *x, csv_col *col, bool *restart, mt_error *err)
{
    const csv_scan *s = &x->s;
    bool text = col->type->id == MT_TYPE_UTF8 || col->type->id == MT_TYPE_BINARY;
    for (int64_t r = 0; r < s->nrows; r++) {
        const csv_field *f = &s->fields[r * s->ncols + col->src];
        size_t n;
        bool ok = true;
        const char *p = field_text(s, f, &x->scratch, &n);
        if (!p) return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
        if (is_null(x, f, p, n, text)) {
            MT_RETURN_NOT_OK(mt_array_builder_append_null(col->b, err));
            continue;
        }
        if (x->infer && col->kind == MT__CSV_NONE && !(f->quoted && n == 0)) ok = false;
        else MT_RETURN_NOT_OK(mt__data_csv_append(col->b, col->type, p, n, &ok, err));
        if (ok) continue;
        if (!x->infer) return parse_error(x, r, f, col, p, n, err);
        set_kind(col, mt__data_csv_join(col->kind, mt__data_csv_classify(p, n)));
        *restart = true;
        return MT_OK;
    }
    return MT_OK;
}

static void destroy_builders(csv_ctx *x)
{
    for (int32_t c = 0; c < x->ncols; c++) {
        mt_array_builder_destroy(x->cols[c].b);
        x->cols[c].b = NULL;
    }
}

/* One pass over all data records; *restart when a column's type was widened. */
static mt_status data_pass(csv_ctx *x, int64_t block_rows, int64_t *nrows, bool *restart,
                           mt_error *err)
{
    x->s.pos = x->data_pos;
    x->s.line = x->data_line;
    x->s.line_start = x->data_line_start;
    *nrows = 0;
    for (int32_t c = 0; c < x->ncols; c++)
        if (!(x->cols[c].b = mt_array_builder_new(x->cols[c].type)))
            return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    for (;;) {
        MT_RETURN_NOT_OK(scan_block(&x->s, block_rows, err));
        if (x->s.nrows == 0) return MT_OK;
        for (int32_t c = 0; c < x->ncols; c++) {
            MT_RETURN_NOT_OK(convert_column(x, &x->cols[c], restart, err));
            if (*restart) return MT_OK;
        }
        *nrows += x->s.nrows;
    }
}

static mt_status build_table(csv_ctx *x, int64_t nrows, mt_table **out, mt_error *err)
{
    mt_status st = MT_OK;
    int32_t n = x->ncols;
    mt_array **arrays = mt_calloc((size_t)n + 1, sizeof *arrays);
    const char **names = mt_calloc((size_t)n + 1, sizeof *names);
    mt_type **types = mt_calloc((size_t)n + 1, sizeof *types);
    bool *nullable = mt_calloc((size_t)n + 1, sizeof *nullable);
    mt_type *schema = NULL;
    if (!arrays || !names || !types || !nullable) st = mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    for (int32_t c = 0; st == MT_OK && c < n; c++) {
        names[c] = x->cols[c].name;
        types[c] = x->cols[c].type;
        nullable[c] = true;
        st = mt_array_builder_finish(x->cols[c].b, &arrays[c], err);
    }
    if (st == MT_OK && !(schema = mt_type_struct(n, names, types, nullable)))
        st = mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    if (st == MT_OK) st = mt_table_new(schema, arrays, nrows, out, err);
    for (int32_t c = 0; arrays && c < n; c++) mt_array_release(arrays[c]);
    mt_type_release(schema);
    mt_free(arrays);
    mt_free(names);
    mt_free(types);
    mt_free(nullable);
    return st;
}

static bool readable_type(const mt_type *t)
{
    return t->id != MT_TYPE_NA && t->id != MT_TYPE_FLOAT16 && t->id != MT_TYPE_LIST &&
           t->id != MT_TYPE_STRUCT && t->id != MT_TYPE_MAP;
}

/* Reads the header (or peeks the first record for its width) into `names`. */
static mt_status read_header(csv_ctx *x, bool no_header, char ***names, mt_error *err)
{
    csv_scan *s = &x->s;
    size_t pos0 = s->pos;
    bool got;
    MT_RETURN_NOT_OK(scan_record(s, &got, err));
    if (!got) return MT_OK;
    int32_t n = s->ncols;
    *names = mt_calloc((size_t)n + 1, sizeof **names);
    if (!*names) return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    for (int32_t c = 0; c < n; c++) {
        char tmp[24];
        size_t len = 0;
        const char *p = tmp;
        if (no_header) snprintf(tmp, sizeof tmp, "f%d", c), len = strlen(tmp);
        else p = field_text(s, &s->fields[c], &x->scratch, &len);
        if (!p || !((*names)[c] = mt_strndup(p, len)))
            return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    }
    if (no_header) {
        s->pos = pos0;
        s->line = 1;
        s->line_start = pos0;
    }
    return MT_OK;
}

static mt_status plan_schema(csv_ctx *x, const mt_type *schema, char **names, bool no_header,
                             mt_error *err)
{
    if (!schema || schema->id != MT_TYPE_STRUCT)
        return mt_error_set(err, MT_EINVAL, "%s: the CSV schema must be a struct type", x->s.name);
    x->cols = mt_calloc((size_t)schema->num_fields + 1, sizeof *x->cols);
    if (!x->cols) return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    for (int32_t k = 0; k < schema->num_fields; k++) {
        const mt_field *f = &schema->fields[k];
        csv_col *col = &x->cols[x->ncols];
        if (!readable_type(f->type))
            return mt_error_set(err, MT_EUNSUPPORTED, "%s: CSV cannot hold %s column '%s'",
                                x->s.name, f->type->id == MT_TYPE_FLOAT16 ? "float16" : "nested",
                                f->name);
        col->src = -1;
        for (int32_t c = 0; names && c < x->s.ncols && col->src < 0; c++)
            if (no_header ? c == k : strcmp(names[c], f->name) == 0) col->src = c;
        if (col->src < 0 && names)
            return mt_error_set(err, MT_EPARSE, "%s: column '%s' of the schema is not in the %s",
                                x->s.name, f->name, no_header ? "data" : "header");
        col->name = f->name;
        col->type = mt_type_retain(f->type);
        col->kind = MT__CSV_STRING;
        x->ncols++;
    }
    return MT_OK;
}

static mt_status plan_infer(csv_ctx *x, char **names, int64_t infer_rows, mt_error *err)
{
    int32_t n = names ? x->s.ncols : 0;
    x->cols = mt_calloc((size_t)n + 1, sizeof *x->cols);
    if (!x->cols) return mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    for (int32_t c = 0; c < n; c++) {
        x->cols[c].src = c;
        x->cols[c].name = names[c];
        x->ncols++;
        set_kind(&x->cols[c], MT__CSV_NONE);
    }
    if (n == 0) return MT_OK;
    return infer_types(x, infer_rows, err);
}

static mt_status read_all(csv_ctx *x, const mt_csv_read_options *o, mt_table **out,
                          mt_error *err)
{
    char **names = NULL;
    int64_t infer_rows = o->infer_rows > 0 ? o->infer_rows : MT_CFG_INT64(csv_infer_rows);
    int64_t block_rows = MT_CFG_INT64(csv_block_rows);
    if (infer_rows <= 0) infer_rows = 1000;
    if (block_rows <= 0) block_rows = 65536;
    mt_status st = read_header(x, o->no_header, &names, err);
    x->data_pos = x->s.pos;
    x->data_line = x->s.line;
    x->data_line_start = x->s.line_start;
    if (st == MT_OK && o->no_header && o->schema && names) x->s.ncols = o->schema->num_fields;
    if (st == MT_OK) st = o->schema ? plan_schema(x, o->schema, names, o->no_header, err)
                                    : plan_infer(x, names, infer_rows, err);
    int64_t nrows = 0;
    for (int attempt = 0; st == MT_OK; attempt++) {
        bool restart = false;
        st = names ? data_pass(x, block_rows, &nrows, &restart, err) : MT_OK;
        if (st != MT_OK || !restart) break;
        destroy_builders(x);
    }
    if (st == MT_OK && !names) {
        for (int32_t c = 0; c < x->ncols; c++)
            if (!(x->cols[c].b = mt_array_builder_new(x->cols[c].type)))
                st = mt_error_set(err, MT_ENOMEM, "CSV: out of memory");
    }
    if (st == MT_OK) st = build_table(x, nrows, out, err);
    destroy_builders(x);
    for (int32_t c = 0; c < x->ncols; c++) mt_type_release(x->cols[c].type);
    for (int32_t c = 0; names && names[c]; c++) mt_free(names[c]);
    mt_free(names);
    return st;
}

mt_status mt_csv_read_memory(const char *name, const char *data, size_t len,
                             const mt_csv_read_options *opts, mt_table **out, mt_error *err)
{
    mt_csv_read_options defaults = {0};
    const mt_csv_read_options *o = opts ? opts : &defaults;
    csv_ctx x = {0};
    x.s.name = name ? name : "<memory>";
    x.s.delim = (uint8_t)(o->delimiter ? o->delimiter : ',');
    x.s.quote = (uint8_t)(o->quote ? o->quote : '"');
    if (x.s.delim == x.s.quote || x.s.delim == '\n' || x.s.delim == '\r' || x.s.quote == '\n' ||
        x.s.quote == '\r')
        return mt_error_set(err, MT_EINVAL, "%s: invalid CSV delimiter or quote", x.s.name);
    x.s.special[x.s.delim] = x.s.special[x.s.quote] = x.s.special['\n'] = x.s.special['\r'] = 1;
    x.s.data = (const uint8_t *)(data ? data : "");
    x.s.len = data ? len : 0;
    if (x.s.len >= 3 && memcmp(x.s.data, "\xEF\xBB\xBF", 3) == 0) x.s.data += 3, x.s.len -= 3;
    x.s.line = 1;
    x.s.ncols = -1;
    x.infer = o->schema == NULL;
    x.nulls = o->null_values ? o->null_values : default_nulls;
    mt_status st = read_all(&x, o, out, err);
    mt_free(x.cols);
    mt_free(x.s.fields);
    mt_free(x.s.rows);
    mt__data_sb_fini(&x.scratch);
    return st;
}

mt_status mt_csv_read(const char *path, const mt_csv_read_options *opts, mt_table **out,
                      mt_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "%s: cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return mt_error_set_errno(err, MT_EIO, e, "%s: cannot stat", path);
    }
    size_t len = (size_t)st.st_size;
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return mt_error_set_errno(err, MT_EIO, e, "%s: cannot map", path);
        }
    }
    close(fd);
    mt_status s = mt_csv_read_memory(path, map, len, opts, out, err);
    if (map) munmap(map, len);
    return s;
}
