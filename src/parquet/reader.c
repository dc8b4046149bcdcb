/*
 * reader.c — the public Parquet reader: maps the file, checks the magic and
 * footer, decodes the metadata, builds the (projected) Arrow schema, and
 * reads row groups into tables by calling the value half per column.
 *
 * A reader is used by one thread at a time; separate readers are
 * independent. Invariants: the file image [data, data+len) stays mapped (or
 * caller-owned, for open_memory) for the reader's lifetime and is never
 * written; every error message starts with the file's path; every row group
 * has exactly one column chunk per schema leaf (checked at open), so the
 * value half may index chunks by leaf.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "parquet/pq_int.h"

struct mt_parquet_reader {
    char *path;
    const uint8_t *data;
    size_t len;
    void *map; /* our mapping, or NULL for open_memory */
    pq_file_meta meta;
    pq_schema *schema;
    mt_type *projected; /* STRUCT of the projected top-level fields */
    int32_t num_proj;
    int32_t *proj; /* indices of projected fields in the full schema */
    bool verify_crc;
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checks the magic numbers and decodes the footer of r->data. */
static mt_status parse_footer(mt_parquet_reader *r, mt_error *err)
{
    const uint8_t *d = r->data;
    size_t n = r->len;
    if (n < 12) return mt_error_set(err, MT_ECORRUPT, "not a Parquet file (too short)");
    if (memcmp(d + n - 4, "PARE", 4) == 0)
        return mt_error_set(err, MT_EUNSUPPORTED, "encrypted Parquet is not supported");
    if (memcmp(d, "PAR1", 4) != 0 || memcmp(d + n - 4, "PAR1", 4) != 0)
        return mt_error_set(err, MT_ECORRUPT, "not a Parquet file (no PAR1 magic)");
    uint32_t flen = le32(d + n - 8);
    if (flen == 0 || flen > n - 12)
        return mt_error_set(err, MT_ECORRUPT, "footer length %u does not fit in a %zu-byte file",
                            flen, n);
    MT_RETURN_NOT_OK(pq_meta_decode(d + n - 8 - flen, flen, &r->meta, err));
    if (r->meta.has_encryption_algorithm)
        return mt_error_set(err, MT_EUNSUPPORTED, "encrypted Parquet is not supported");
    return MT_OK;
}

/* Every row group must carry one unencrypted chunk per schema leaf. */
static mt_status check_row_groups(const pq_file_meta *m, mt_error *err)
{
    int32_t leaves = 0;
    for (int32_t i = 1; i < m->num_schema; i++) leaves += m->schema[i].num_children == 0;
    for (int32_t g = 0; g < m->num_row_groups; g++) {
        const pq_row_group *rg = &m->row_groups[g];
        for (int32_t c = 0; c < rg->num_columns; c++)
            if (rg->columns[c].encrypted)
                return mt_error_set(err, MT_EUNSUPPORTED, "encrypted Parquet is not supported");
        if (rg->num_columns != leaves)
            return mt_error_set(err, MT_ECORRUPT,
                                "row group %d has %d column chunks but the schema has %d leaf "
                                "columns",
                                (int)g, (int)rg->num_columns, (int)leaves);
    }
    return MT_OK;
}

static mt_status project(mt_parquet_reader *r, const char *const *cols, mt_error *err)
{
    const mt_type *full = pq_schema_arrow(r->schema);
    int32_t n = 0;
    if (cols)
        while (cols[n]) n++;
    else
        n = full->num_fields;
    r->proj = mt_calloc(n ? (size_t)n : 1, sizeof(int32_t));
    const char **names = mt_calloc(n ? (size_t)n : 1, sizeof(char *));
    mt_type **types = mt_calloc(n ? (size_t)n : 1, sizeof(mt_type *));
    bool *nullables = mt_calloc(n ? (size_t)n : 1, sizeof(bool));
    mt_status st = MT_OK;
    if (!r->proj || !names || !types || !nullables)
        st = mt_error_set(err, MT_ENOMEM, "out of memory");
    for (int32_t i = 0; i < n && st == MT_OK; i++) {
        int32_t k = cols ? mt_type_field_index(full, cols[i]) : i;
        if (k < 0) {
            st = mt_error_set(err, MT_ENOTFOUND, "no column '%s' in %s", cols[i], r->path);
            break;
        }
        r->proj[i] = k;
        names[i] = full->fields[k].name;
        types[i] = full->fields[k].type;
        nullables[i] = full->fields[k].nullable;
    }
    r->num_proj = n;
    if (st == MT_OK && !(r->projected = mt_type_struct(n, names, types, nullables)))
        st = mt_error_set(err, MT_ENOMEM, "out of memory");
    mt_free(names);
    mt_free(types);
    mt_free(nullables);
    return st;
}

/* Everything after the image is in place; errors still lack the path prefix. */
static mt_status open_image(mt_parquet_reader *r, const mt_parquet_read_options *opts,
                            mt_error *err)
{
    MT_RETURN_NOT_OK(parse_footer(r, err));
    MT_RETURN_NOT_OK(check_row_groups(&r->meta, err));
    MT_RETURN_NOT_OK(pq_schema_build(&r->meta, &r->schema, err));
    int v = opts ? opts->verify_crc : 0;
    r->verify_crc = v > 0 || (v == 0 && MT_CFG_BOOL(parquet_verify_crc));
    return project(r, opts ? opts->columns : NULL, err);
}

static mt_status finish_open(mt_parquet_reader *r, const mt_parquet_read_options *opts,
                             mt_parquet_reader **out, mt_error *err)
{
    mt_status st = open_image(r, opts, err);
    if (st != MT_OK) {
        /* The "no column" message already names the file. */
        if (st != MT_ENOTFOUND || !err || strncmp(err->msg, "no column '", 11) != 0)
            mt_error_prefix(err, "%s", r->path);
        mt_parquet_reader_destroy(r);
        return st;
    }
    *out = r;
    return MT_OK;
}

static mt_parquet_reader *reader_new(const char *name, mt_error *err)
{
    mt_parquet_reader *r = mt_calloc(1, sizeof *r);
    if (r && !(r->path = mt_strdup(name ? name : "(memory)"))) {
        mt_free(r);
        r = NULL;
    }
    if (!r) mt_error_set(err, MT_ENOMEM, "out of memory opening %s", name ? name : "(memory)");
    return r;
}

mt_status mt_parquet_reader_open_memory(const char *name, const uint8_t *data, size_t len,
                                        const mt_parquet_read_options *opts,
                                        mt_parquet_reader **out, mt_error *err)
{
    mt_parquet_reader *r = reader_new(name, err);
    if (!r) return MT_ENOMEM;
    r->data = data;
    r->len = data ? len : 0;
    return finish_open(r, opts, out, err);
}

static mt_status map_file(mt_parquet_reader *r, mt_error *err)
{
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mt_error_set_errno(err, errno == ENOENT ? MT_ENOTFOUND : MT_EIO, errno,
                                  "cannot open");
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return mt_error_set_errno(err, MT_EIO, e, "cannot stat");
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return mt_error_set(err, MT_EINVAL, "not a regular file");
    }
    if (sb.st_size < 12) {
        close(fd);
        return mt_error_set(err, MT_ECORRUPT, "not a Parquet file (too short)");
    }
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return mt_error_set_errno(err, MT_EIO, e, "cannot map");
    r->map = p;
    r->data = p;
    r->len = (size_t)sb.st_size;
    return MT_OK;
}

mt_status mt_parquet_reader_open(const char *path, const mt_parquet_read_options *opts,
                                 mt_parquet_reader **out, mt_error *err)
{
    if (!path) return mt_error_set(err, MT_EINVAL, "no path given");
    mt_parquet_reader *r = reader_new(path, err);
    if (!r) return MT_ENOMEM;
    mt_status st = map_file(r, err);
    if (st != MT_OK) {
        mt_error_prefix(err, "%s", path);
        mt_parquet_reader_destroy(r);
        return st;
    }
    return finish_open(r, opts, out, err);
}

void mt_parquet_reader_destroy(mt_parquet_reader *r)
{
    if (!r) return;
    if (r->map) munmap(r->map, r->len);
    pq_schema_destroy(r->schema);
    pq_meta_fini(&r->meta);
    mt_type_release(r->projected);
    mt_free(r->proj);
    mt_free(r->path);
    mt_free(r);
}

const mt_type *mt_parquet_reader_schema(const mt_parquet_reader *r) { return r->projected; }

int64_t mt_parquet_reader_num_rows(const mt_parquet_reader *r) { return r->meta.num_rows; }

int32_t mt_parquet_reader_num_row_groups(const mt_parquet_reader *r)
{
    return r->meta.num_row_groups;
}

int64_t mt_parquet_reader_row_group_num_rows(const mt_parquet_reader *r, int32_t rg)
{
    if (rg < 0 || rg >= r->meta.num_row_groups) return -1;
    return r->meta.row_groups[rg].num_rows;
}

/* Adds "path: row group N: column 'x'" unless the value half already did. */
static void field_context(const mt_parquet_reader *r, int32_t rg, const char *name,
                          mt_error *err)
{
    if (!err) return;
    size_t pl = strlen(r->path);
    if (strncmp(err->msg, r->path, pl) == 0 && err->msg[pl] == ':') return;
    if (strncmp(err->msg, "row group ", 10) != 0)
        mt_error_prefix(err, "row group %d: column '%s'", (int)rg, name);
    mt_error_prefix(err, "%s", r->path);
}

mt_status mt_parquet_reader_read_row_group(mt_parquet_reader *r, int32_t rg, mt_table **out,
                                           mt_error *err)
{
    if (rg < 0 || rg >= r->meta.num_row_groups)
        return mt_error_set(err, MT_EINVAL, "%s: row group %d out of range (file has %d)",
                            r->path, (int)rg, (int)r->meta.num_row_groups);
    int64_t rows = r->meta.row_groups[rg].num_rows;
    mt_array **cols = mt_calloc(r->num_proj ? (size_t)r->num_proj : 1, sizeof(mt_array *));
    if (!cols) return mt_error_set(err, MT_ENOMEM, "%s: out of memory", r->path);
    mt_status st = MT_OK;
    for (int32_t i = 0; i < r->num_proj && st == MT_OK; i++) {
        st = pq_read_field(r->schema, &r->meta, rg, r->proj[i], r->data, r->len, r->verify_crc,
                           r->path, &cols[i], err);
        if (st != MT_OK) field_context(r, rg, r->projected->fields[i].name, err);
    }
    if (st == MT_OK) {
        st = mt_table_new(r->projected, cols, rows, out, err);
        if (st != MT_OK) mt_error_prefix(err, "%s: row group %d", r->path, (int)rg);
    }
    for (int32_t i = 0; i < r->num_proj; i++) mt_array_release(cols[i]);
    mt_free(cols);
    return st;
}

static mt_status empty_table(mt_parquet_reader *r, mt_table **out, mt_error *err)
{
    int32_t n = r->projected->num_fields;
    mt_array **cols = mt_calloc(n ? (size_t)n : 1, sizeof(mt_array *));
    mt_status st = cols ? MT_OK : mt_error_set(err, MT_ENOMEM, "out of memory");
    for (int32_t i = 0; i < n && st == MT_OK; i++)
        if (!(cols[i] = mt_array_new_null(r->projected->fields[i].type, 0)))
            st = mt_error_set(err, MT_ENOMEM, "out of memory");
    if (st == MT_OK) st = mt_table_new(r->projected, cols, 0, out, err);
    for (int32_t i = 0; cols && i < n; i++) mt_array_release(cols[i]);
    mt_free(cols);
    return st;
}

static mt_status read_all(mt_parquet_reader *r, mt_table **out, mt_error *err)
{
    int32_t n = r->meta.num_row_groups;
    if (n == 0) return empty_table(r, out, err);
    if (n == 1) return mt_parquet_reader_read_row_group(r, 0, out, err);
    mt_table **parts = mt_calloc((size_t)n, sizeof(mt_table *));
    if (!parts) return mt_error_set(err, MT_ENOMEM, "%s: out of memory", r->path);
    mt_status st = MT_OK;
    for (int32_t g = 0; g < n && st == MT_OK; g++)
        st = mt_parquet_reader_read_row_group(r, g, &parts[g], err);
    if (st == MT_OK && (st = mt_table_concat(parts, n, out, err)) != MT_OK)
        mt_error_prefix(err, "%s", r->path);
    for (int32_t g = 0; g < n; g++) mt_table_release(parts[g]);
    mt_free(parts);
    return st;
}

mt_status mt_parquet_read_table(const char *path, const mt_parquet_read_options *opts,
                                mt_table **out, mt_error *err)
{
    mt_parquet_reader *r = NULL;
    MT_RETURN_NOT_OK(mt_parquet_reader_open(path, opts, &r, err));
    mt_status st = read_all(r, out, err);
    mt_parquet_reader_destroy(r);
    return st;
}

/* For meta_print.c: the decoded footer and the image. */
const pq_file_meta *pq_reader_meta(const mt_parquet_reader *r, const uint8_t **data, size_t *len,
                                   const char **path)
{
    *data = r->data;
    *len = r->len;
    *path = r->path;
    return &r->meta;
}
