/*
 * cli_io.c — where the `manta` command reads and writes tables.
 *
 * A cli_source yields a file's rows as a sequence of tables: one per row group
 * for Parquet (memory bounded by a row group), the whole table for CSV (the
 * CSV reader has no streaming API). A cli_sink streams tables into a Parquet
 * writer, or into an exclusively created temporary file for CSV (core/file.h),
 * renamed into place on close so a failed run leaves nothing behind. Main thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_int.h"

/* Checks every projected name exists in `schema`. */
static mt_status check_columns(const char *path, const mt_type *schema,
                               const char *const *columns, mt_error *err)
{
    for (const char *const *c = columns; c && *c; c++) {
        if (mt_type_field_index(schema, *c) >= 0) continue;
        char have[256] = "";
        size_t len = 0;
        for (int32_t i = 0; i < schema->num_fields && len < sizeof have; i++)
            len += (size_t)snprintf(have + len, sizeof have - len, "%s%s", i ? ", " : "",
                                    schema->fields[i].name);
        return mt_error_set(err, MT_ENOTFOUND, "%s: no column named '%s' (columns: %s)", path, *c,
                            have);
    }
    return MT_OK;
}

static mt_status open_parquet(cli_source *s, const char *path, const cli_source_options *o,
                              mt_error *err)
{
    MT_RETURN_NOT_OK(mt_parquet_reader_open(path, NULL, &s->pq, err));
    if (!o || !o->columns) return MT_OK;
    MT_RETURN_NOT_OK(check_columns(path, mt_parquet_reader_schema(s->pq), o->columns, err));
    mt_parquet_reader_destroy(s->pq);
    s->pq = NULL;
    mt_parquet_read_options ro = {.columns = o->columns};
    return mt_parquet_reader_open(path, &ro, &s->pq, err);
}

static mt_status open_csv(cli_source *s, const char *path, const cli_source_options *o,
                          mt_error *err)
{
    mt_csv_read_options co = {0};
    if (o) co.schema = o->csv_schema;
    MT_RETURN_NOT_OK(mt_csv_read(path, &co, &s->csv, err));
    if (!o || !o->columns) return MT_OK;
    MT_RETURN_NOT_OK(check_columns(path, s->csv->schema, o->columns, err));
    mt_table *sel = NULL;
    MT_RETURN_NOT_OK(mt_table_select(s->csv, o->columns, &sel, err));
    mt_table_release(s->csv);
    s->csv = sel;
    return MT_OK;
}

mt_status cli_source_open(cli_source *s, const char *path, const cli_source_options *o,
                          mt_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    MT_RETURN_NOT_OK(cli_kind_of_input(path, &s->kind, err));
    mt_status st = s->kind == CLI_PARQUET ? open_parquet(s, path, o, err) : open_csv(s, path, o, err);
    if (st != MT_OK) {
        cli_source_close(s);
        return st;
    }
    if (s->csv) s->csv_schema = mt_type_retain(s->csv->schema);
    return MT_OK;
}

const mt_type *cli_source_schema(const cli_source *s)
{
    return s->kind == CLI_PARQUET ? mt_parquet_reader_schema(s->pq) : s->csv_schema;
}

int64_t cli_source_num_rows(const cli_source *s)
{
    if (s->kind == CLI_PARQUET) return mt_parquet_reader_num_rows(s->pq);
    return s->csv ? s->csv->num_rows : 0;
}

mt_status cli_source_next(cli_source *s, mt_table **out, mt_error *err)
{
    *out = NULL;
    if (s->kind == CLI_CSV) {
        *out = s->csv; /* moves the reference */
        s->csv = NULL;
        return MT_OK;
    }
    if (s->next_rg >= mt_parquet_reader_num_row_groups(s->pq)) return MT_OK;
    return mt_parquet_reader_read_row_group(s->pq, s->next_rg++, out, err);
}

void cli_source_close(cli_source *s)
{
    mt_parquet_reader_destroy(s->pq);
    mt_table_release(s->csv);
    mt_type_release(s->csv_schema);
    memset(s, 0, sizeof *s);
}

mt_status cli_sink_open(cli_sink *s, const char *path, const mt_type *schema,
                        const mt_parquet_write_options *o, mt_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    MT_RETURN_NOT_OK(cli_kind_of_output(path, &s->kind, err));
    if (s->kind == CLI_PARQUET) return mt_parquet_writer_open(path, schema, o, &s->pw, err);
    return mt_atomic_file_open(&s->csv, path, 0666, err);
}

mt_status cli_sink_write(cli_sink *s, const mt_table *t, mt_error *err)
{
    if (s->kind == CLI_PARQUET) return mt_parquet_writer_write(s->pw, t, err);
    mt_csv_write_options wo = {.no_header = s->wrote_header};
    s->wrote_header = true;
    mt_status st = mt_csv_write_stream(s->csv.fp, t, &wo, err);
    if (st != MT_OK) mt_error_prefix(err, "writing %s", s->path);
    return st;
}

mt_status cli_sink_close(cli_sink *s, mt_error *err)
{
    if (s->kind == CLI_PARQUET) return mt_parquet_writer_close(s->pw, err);
    return mt_atomic_file_commit(&s->csv, err);
}

void cli_sink_destroy(cli_sink *s)
{
    mt_parquet_writer_destroy(s->pw);
    mt_atomic_file_abort(&s->csv);
    memset(s, 0, sizeof *s);
}
