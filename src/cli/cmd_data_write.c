/*
 * cmd_data_write.c — the writing subcommands of `manta data`: convert (CSV <->
 * Parquet, Parquet -> Parquet with new options) and gen-taxi (the synthetic
 * taxi table). Both stream: Parquet input is read one row group at a time and
 * the generator produces one row group at a time, so memory stays bounded.
 * Main thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "core/config_keys.h"
#include "cli/cli_int.h"
#include "manta/datagen.h"

typedef struct write_flags {
    const char *codec, *level, *dict, *page_version, *page_size, *rg_size;
} write_flags;

/* Turns the textual flags into writer options (codec default snappy, like pyarrow). */
static int parse_write_flags(const char *cmd, const write_flags *f, mt_parquet_write_options *o)
{
    memset(o, 0, sizeof *o);
    o->codec = MT_PARQUET_SNAPPY;
    mt_error err;
    mt_error_clear(&err);
    if (f->codec && mt_parquet_codec_parse(f->codec, &o->codec, &err) != MT_OK)
        return cli_usage_error(cmd, "unknown codec '%s' (none, snappy, gzip, brotli, zstd, lz4_raw)",
                               f->codec);
    int64_t v;
    if (f->level) {
        if (!cli_parse_count(f->level, &v) || v > 22)
            return cli_usage_error(cmd, "--compression-level needs 0..22, not '%s'", f->level);
        o->compression_level = (int)v;
    }
    if (f->dict) {
        if (strcmp(f->dict, "on") && strcmp(f->dict, "off"))
            return cli_usage_error(cmd, "--dictionary must be on or off, not '%s'", f->dict);
        o->dictionary = !strcmp(f->dict, "on") ? MT_PARQUET_DICT_ON : MT_PARQUET_DICT_OFF;
    }
    if (f->page_version) {
        if (strcmp(f->page_version, "1") && strcmp(f->page_version, "2"))
            return cli_usage_error(cmd, "--page-version must be 1 or 2, not '%s'", f->page_version);
        o->page_version = f->page_version[0] - '0';
    }
    if (f->page_size) {
        if (!cli_parse_count(f->page_size, &v) || v == 0)
            return cli_usage_error(cmd, "--page-size needs a positive byte count, not '%s'",
                                   f->page_size);
        o->page_bytes = v;
    }
    if (f->rg_size) {
        if (!cli_parse_count(f->rg_size, &v) || v == 0)
            return cli_usage_error(cmd, "--row-group-size needs a positive row count, not '%s'",
                                   f->rg_size);
        o->row_group_rows = v;
    }
    return CLI_OK;
}

/* Copies every chunk of `src` into `sink`. */
static mt_status pump(cli_source *src, cli_sink *sink, mt_error *err)
{
    for (;;) {
        mt_table *t = NULL;
        MT_RETURN_NOT_OK(cli_source_next(src, &t, err));
        if (!t) return MT_OK;
        mt_status st = cli_sink_write(sink, t, err);
        mt_table_release(t);
        MT_RETURN_NOT_OK(st);
    }
}

/* Reads the schema of a Parquet file for --schema-from (a new reference). */
static mt_status schema_from(const char *path, mt_type **out, mt_error *err)
{
    mt_parquet_reader *r = NULL;
    MT_RETURN_NOT_OK(mt_parquet_reader_open(path, NULL, &r, err));
    *out = mt_type_retain((mt_type *)mt_parquet_reader_schema(r));
    mt_parquet_reader_destroy(r);
    return MT_OK;
}

static mt_status convert(const char *in, const char *out, const char *schema_path,
                         const mt_parquet_write_options *wo, mt_error *err)
{
    cli_kind kind;
    MT_RETURN_NOT_OK(cli_kind_of_output(out, &kind, err));
    cli_source_options so = {0};
    if (schema_path) MT_RETURN_NOT_OK(schema_from(schema_path, &so.csv_schema, err));
    cli_source src;
    mt_status st = cli_source_open(&src, in, &so, err);
    mt_type_release(so.csv_schema);
    MT_RETURN_NOT_OK(st);
    cli_sink sink;
    st = cli_sink_open(&sink, out, cli_source_schema(&src), wo, err);
    if (st == MT_OK) st = pump(&src, &sink, err);
    if (st == MT_OK) st = cli_sink_close(&sink, err);
    cli_sink_destroy(&sink);
    cli_source_close(&src);
    return st;
}

int cli_cmd_convert(int argc, char **argv)
{
    write_flags f = {0};
    const char *schema_path = NULL;
    cli_opt opts[] = {
        {"--codec", NULL, &f.codec, NULL},         {"--compression-level", NULL, &f.level, NULL},
        {"--dictionary", NULL, &f.dict, NULL},     {"--page-version", NULL, &f.page_version, NULL},
        {"--page-size", NULL, &f.page_size, NULL}, {"--row-group-size", NULL, &f.rg_size, NULL},
        {"--schema-from", NULL, &schema_path, NULL},
    };
    const char *pos[2];
    bool help;
    int rc = cli_parse_args("convert", argc, argv, opts, 7, pos, 2, 2, &help);
    if (rc) return rc;
    if (help) return cli_data_sub_help("convert");
    mt_parquet_write_options wo;
    if ((rc = parse_write_flags("convert", &f, &wo))) return rc;
    mt_error err;
    mt_error_clear(&err);
    cli_kind kind;
    if (cli_kind_of_output(pos[1], &kind, &err) != MT_OK)
        return cli_usage_error("convert", "%s", err.msg);
    return convert(pos[0], pos[1], schema_path, &wo, &err) == MT_OK ? CLI_OK : cli_fail(&err);
}

static mt_status write_chunk(void *ctx, mt_table *chunk, mt_error *err)
{
    return cli_sink_write(ctx, chunk, err);
}

int cli_cmd_gen_taxi(int argc, char **argv)
{
    write_flags f = {0};
    const char *rows_s = NULL, *seed_s = NULL, *out = NULL;
    cli_opt opts[] = {
        {"--rows", NULL, &rows_s, NULL},     {"--seed", NULL, &seed_s, NULL},
        {"--out", "-o", &out, NULL},         {"--codec", NULL, &f.codec, NULL},
        {"--row-group-size", NULL, &f.rg_size, NULL}, {"--dictionary", NULL, &f.dict, NULL},
        {"--page-version", NULL, &f.page_version, NULL},
    };
    bool help;
    int rc = cli_parse_args("gen-taxi", argc, argv, opts, 7, NULL, 0, 0, &help);
    if (rc) return rc;
    if (help) return cli_data_sub_help("gen-taxi");
    int64_t rows = 2000000, seed = 0;
    if (rows_s && !cli_parse_count(rows_s, &rows))
        return cli_usage_error("gen-taxi", "--rows needs a non-negative row count, not '%s'", rows_s);
    if (seed_s && !cli_parse_count(seed_s, &seed))
        return cli_usage_error("gen-taxi", "--seed needs a non-negative integer, not '%s'", seed_s);
    if (!out) return cli_usage_error("gen-taxi", "--out FILE is required");
    mt_parquet_write_options wo;
    if ((rc = parse_write_flags("gen-taxi", &f, &wo))) return rc;
    mt_error err;
    mt_error_clear(&err);
    cli_kind kind;
    if (cli_kind_of_output(out, &kind, &err) != MT_OK)
        return cli_usage_error("gen-taxi", "%s", err.msg);
    int64_t chunk = wo.row_group_rows ? wo.row_group_rows : MT_CFG_INT64(parquet_row_group_rows);
    mt_type *schema = mt_datagen_taxi_schema();
    cli_sink sink;
    mt_status st = cli_sink_open(&sink, out, schema, &wo, &err);
    if (st == MT_OK) st = mt_datagen_taxi_stream(rows, (uint64_t)seed, chunk, write_chunk, &sink, &err);
    if (st == MT_OK) st = cli_sink_close(&sink, &err);
    cli_sink_destroy(&sink);
    mt_type_release(schema);
    return st == MT_OK ? CLI_OK : cli_fail(&err);
}
