/*
 * cli_int.h — declarations shared by the files of the `manta` command.
 *
 * The CLI is single-threaded (main thread). Conventions: a subcommand returns
 * the process exit status: 0 success, 1 data/file error (one line
 * "manta: <message>" on stderr), 2 usage error. Data moves through a
 * cli_source (reads a Parquet file row group by row group, or a CSV file
 * whole) and a cli_sink (streams tables into a Parquet writer or a CSV file),
 * so memory stays bounded by one row group for Parquet input.
 */
#ifndef MANTA_CLI_INT_H
#define MANTA_CLI_INT_H

#include <stdbool.h>
#include <stdio.h>

#include "core/file.h"

#include "manta/base.h"
#include "manta/data.h"
#include "manta/parquet.h"

/* ---- Exit statuses and messages ---------------------------------------- */

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Prints "manta: <err->msg>" to stderr; returns CLI_FAIL. */
int cli_fail(const mt_error *err);
/* Prints "manta: data <cmd>: <message>" and a help hint to stderr; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) MT_PRINTF(2, 3);

/* ---- Argument parsing --------------------------------------------------- */

/* One option: "--name VALUE", "--name=VALUE" or, for flags, "--name". */
typedef struct cli_opt {
    const char *name;  /* "--rows" */
    const char *alias; /* "-n" or NULL */
    const char **value; /* receives the value (options with a value) */
    bool *flag;         /* set to true (flags, value == NULL) */
} cli_opt;

/*
 * Parses argv[0..argc) (after the subcommand name) into options and up to
 * `max_pos` positionals; exactly `min_pos`..`max_pos` are required. "--help"
 * sets *help. Returns CLI_OK or CLI_USAGE (message printed).
 */
int cli_parse_args(const char *cmd, int argc, char **argv, const cli_opt *opts, int nopts,
                   const char **pos, int min_pos, int max_pos, bool *help);
/* Parses a non-negative decimal integer ("2000000", "2_000_000" not allowed). */
bool cli_parse_count(const char *s, int64_t *out);
/* Splits "a,b,c" into a NULL-terminated mt_malloc'd list (NULL for NULL input). */
char **cli_split_list(const char *s);
void cli_free_list(char **list);

/* ---- File kinds ---------------------------------------------------------- */

typedef enum cli_kind { CLI_PARQUET, CLI_CSV } cli_kind;

/* Kind of an output path from its extension (.parquet, .pq, .csv). */
mt_status cli_kind_of_output(const char *path, cli_kind *out, mt_error *err);
/* Kind of an existing input file: extension, or "PAR1" magic; errors if unreadable. */
mt_status cli_kind_of_input(const char *path, cli_kind *out, mt_error *err);

/* ---- Sources and sinks --------------------------------------------------- */

typedef struct cli_source {
    cli_kind kind;
    const char *path;
    mt_parquet_reader *pq;
    int32_t next_rg;
    mt_table *csv; /* CSV: whole (projected) table until handed out */
    mt_type *csv_schema;
} cli_source;

typedef struct cli_source_options {
    const char *const *columns; /* projection; NULL = all */
    mt_type *csv_schema;        /* explicit CSV schema (convert --schema-from) */
} cli_source_options;

/* Opens `path` (Parquet or CSV); unknown projected columns are an MT_ENOTFOUND error. */
mt_status cli_source_open(cli_source *s, const char *path, const cli_source_options *o,
                          mt_error *err);
const mt_type *cli_source_schema(const cli_source *s);
/* Rows according to the footer (Parquet) or the table (CSV). */
int64_t cli_source_num_rows(const cli_source *s);
/* The next chunk (a new reference), or *out = NULL at the end. */
mt_status cli_source_next(cli_source *s, mt_table **out, mt_error *err);
void cli_source_close(cli_source *s);

typedef struct cli_sink {
    cli_kind kind;
    const char *path;
    mt_parquet_writer *pw;
    mt_atomic_file csv; /* CSV output (core/file.h) */
    bool wrote_header;
} cli_sink;

/* Starts writing `path` (kind from its extension); `o` applies to Parquet. */
mt_status cli_sink_open(cli_sink *s, const char *path, const mt_type *schema,
                        const mt_parquet_write_options *o, mt_error *err);
mt_status cli_sink_write(cli_sink *s, const mt_table *t, mt_error *err);
/* Finishes the file and moves it into place. */
mt_status cli_sink_close(cli_sink *s, mt_error *err);
/* Frees the sink; removes the temporary file unless closed successfully. */
void cli_sink_destroy(cli_sink *s);

/* ---- Subcommands --------------------------------------------------------- */

int cli_data_main(int argc, char **argv);
/* Prints a data subcommand's usage and doc to stdout; returns CLI_OK. */
int cli_data_sub_help(const char *name);
int cli_cmd_convert(int argc, char **argv);
int cli_cmd_gen_taxi(int argc, char **argv);
int cli_cmd_groupby(int argc, char **argv);

#endif /* MANTA_CLI_INT_H */
