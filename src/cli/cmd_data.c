/*
 * cmd_data.c — `manta data <sub>`: the dispatcher, help texts and the reading
 * subcommands (schema, count, show, cat, meta, groupby). Writing subcommands
 * (convert, gen-taxi) live in cmd_data_write.c. Main thread only. Every
 * subcommand returns the exit status (0 ok, 1 data error, 2 usage).
 */
#include <string.h>

#include "cli/cli_int.h"

typedef struct subcmd {
    const char *name;
    const char *usage;
    const char *doc;
    int (*run)(int argc, char **argv);
} subcmd;

static int cmd_schema(int argc, char **argv);
static int cmd_count(int argc, char **argv);
static int cmd_show(int argc, char **argv);
static int cmd_cat(int argc, char **argv);
static int cmd_meta(int argc, char **argv);

static const subcmd subcmds[] = {
    {"schema", "schema FILE [--columns a,b]", "print the column names and types (Ray's format)",
     cmd_schema},
    {"count", "count FILE", "print the number of rows (Parquet: from the footer)", cmd_count},
    {"show", "show FILE [-n N] [--columns a,b]", "print the first N rows (default 20), one dict per line",
     cmd_show},
    {"cat", "cat FILE [--format jsonl|csv] [--columns a,b]",
     "print every row as JSON lines (default) or CSV", cmd_cat},
    {"meta", "meta FILE", "print the Parquet footer: schema, row groups, column chunks", cmd_meta},
    {"convert",
     "convert IN OUT [--codec C] [--compression-level L] [--dictionary on|off]\n"
     "                       [--page-version 1|2] [--page-size BYTES] [--row-group-size ROWS]\n"
     "                       [--schema-from FILE.parquet]",
     "convert between CSV and Parquet (or rewrite Parquet); format from the extension",
     cli_cmd_convert},
    {"gen-taxi", "gen-taxi --out FILE [--rows N] [--seed S] [--codec C] [--row-group-size R]",
     "generate the synthetic NYC taxi table (default 2,000,000 rows, seed 0)", cli_cmd_gen_taxi},
    {"groupby", "groupby FILE --key COLUMN --mean COLUMN",
     "mean of a column per key value, sorted by key (Ray's groupby().mean())", cli_cmd_groupby},
};
enum { NSUB = sizeof subcmds / sizeof subcmds[0] };

static const subcmd *find_sub(const char *name)
{
    for (int i = 0; i < NSUB; i++)
        if (!strcmp(subcmds[i].name, name)) return &subcmds[i];
    return NULL;
}

static void data_help(FILE *out)
{
    fprintf(out, "usage: manta data <subcommand> [args]\n\nsubcommands:\n");
    for (int i = 0; i < NSUB; i++) fprintf(out, "  %-9s %s\n", subcmds[i].name, subcmds[i].doc);
    fprintf(out, "\nFiles ending in .parquet or .pq (or starting with PAR1) are Parquet; others CSV.\n"
                 "Run 'manta data <subcommand> --help' for its options.\n");
}

int cli_data_sub_help(const char *name)
{
    const subcmd *s = find_sub(name);
    printf("usage: manta data %s\n\n%s\n", s->usage, s->doc);
    return CLI_OK;
}

int cli_data_main(int argc, char **argv)
{
    if (argc < 1) {
        data_help(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
        data_help(stdout);
        return CLI_OK;
    }
    const subcmd *s = find_sub(argv[0]);
    if (!s) {
        fprintf(stderr, "manta: data: unknown subcommand '%s' (see 'manta data --help')\n", argv[0]);
        return CLI_USAGE;
    }
    return s->run(argc - 1, argv + 1);
}

/* Parses "FILE [--columns a,b]" style arguments shared by the reading commands. */
typedef struct read_args {
    const char *file;
    const char *columns;
    const char *n;
    const char *format;
    bool help;
} read_args;

static int parse_read(const char *cmd, int argc, char **argv, read_args *a, bool with_cols,
                      bool with_n, bool with_format)
{
    memset(a, 0, sizeof *a);
    cli_opt opts[3] = {{0}};
    int k = 0;
    if (with_cols) opts[k++] = (cli_opt){"--columns", NULL, &a->columns, NULL};
    if (with_n) opts[k++] = (cli_opt){"--limit", "-n", &a->n, NULL};
    if (with_format) opts[k++] = (cli_opt){"--format", NULL, &a->format, NULL};
    int rc = cli_parse_args(cmd, argc, argv, opts, k, &a->file, 1, 1, &a->help);
    if (rc == CLI_OK && a->help) return cli_data_sub_help(cmd), -1;
    return rc;
}

/* Opens a source with an optional --columns projection; returns an exit status. */
static int open_source(cli_source *src, const read_args *a)
{
    mt_error err;
    mt_error_clear(&err);
    char **cols = cli_split_list(a->columns);
    cli_source_options o = {.columns = (const char *const *)cols};
    mt_status st = cli_source_open(src, a->file, &o, &err);
    cli_free_list(cols);
    return st == MT_OK ? CLI_OK : cli_fail(&err);
}

static int cmd_schema(int argc, char **argv)
{
    read_args a;
    int rc = parse_read("schema", argc, argv, &a, true, false, false);
    if (rc) return rc < 0 ? CLI_OK : rc;
    cli_source src;
    if ((rc = open_source(&src, &a))) return rc;
    mt_table_print_schema(cli_source_schema(&src), stdout);
    cli_source_close(&src);
    return CLI_OK;
}

static int cmd_count(int argc, char **argv)
{
    read_args a;
    int rc = parse_read("count", argc, argv, &a, false, false, false);
    if (rc) return rc < 0 ? CLI_OK : rc;
    cli_source src;
    if ((rc = open_source(&src, &a))) return rc;
    printf("%lld\n", (long long)cli_source_num_rows(&src));
    cli_source_close(&src);
    return CLI_OK;
}

static int cmd_show(int argc, char **argv)
{
    read_args a;
    int rc = parse_read("show", argc, argv, &a, true, true, false);
    if (rc) return rc < 0 ? CLI_OK : rc;
    int64_t limit = 20;
    if (a.n && !cli_parse_count(a.n, &limit))
        return cli_usage_error("show", "-n needs a non-negative row count, not '%s'", a.n);
    cli_source src;
    if ((rc = open_source(&src, &a))) return rc;
    mt_error err;
    mt_error_clear(&err);
    mt_status st = MT_OK;
    while (limit > 0 && st == MT_OK) {
        mt_table *t = NULL;
        st = cli_source_next(&src, &t, &err);
        if (st != MT_OK || !t) break;
        int64_t n = t->num_rows < limit ? t->num_rows : limit;
        st = mt_table_print_rows(t, 0, n, stdout, &err);
        limit -= n;
        mt_table_release(t);
    }
    cli_source_close(&src);
    return st == MT_OK ? CLI_OK : cli_fail(&err);
}

static int cmd_cat(int argc, char **argv)
{
    read_args a;
    int rc = parse_read("cat", argc, argv, &a, true, false, true);
    if (rc) return rc < 0 ? CLI_OK : rc;
    bool csv = a.format && !strcmp(a.format, "csv");
    if (a.format && !csv && strcmp(a.format, "jsonl"))
        return cli_usage_error("cat", "--format must be jsonl or csv, not '%s'", a.format);
    cli_source src;
    if ((rc = open_source(&src, &a))) return rc;
    mt_error err;
    mt_error_clear(&err);
    mt_status st = MT_OK;
    for (bool first = true; st == MT_OK; first = false) {
        mt_table *t = NULL;
        st = cli_source_next(&src, &t, &err);
        if (st != MT_OK || !t) break;
        mt_csv_write_options wo = {.no_header = !first};
        st = csv ? mt_csv_write_stream(stdout, t, &wo, &err) : mt_table_write_jsonl(t, stdout, &err);
        mt_table_release(t);
    }
    cli_source_close(&src);
    if (st == MT_OK && fflush(stdout) != 0)
        st = mt_error_set(&err, MT_EIO, "writing standard output failed");
    return st == MT_OK ? CLI_OK : cli_fail(&err);
}

static int cmd_meta(int argc, char **argv)
{
    read_args a;
    int rc = parse_read("meta", argc, argv, &a, false, false, false);
    if (rc) return rc < 0 ? CLI_OK : rc;
    mt_error err;
    mt_error_clear(&err);
    mt_parquet_reader *r = NULL;
    cli_kind kind;
    mt_status st = cli_kind_of_input(a.file, &kind, &err);
    if (st == MT_OK) st = mt_parquet_reader_open(a.file, NULL, &r, &err);
    if (st == MT_OK) st = mt_parquet_reader_print_meta(r, stdout, &err);
    mt_parquet_reader_destroy(r);
    return st == MT_OK ? CLI_OK : cli_fail(&err);
}

int cli_cmd_groupby(int argc, char **argv)
{
    read_args a = {0};
    const char *key = NULL, *mean = NULL;
    cli_opt opts[] = {{"--key", NULL, &key, NULL}, {"--mean", NULL, &mean, NULL}};
    int rc = cli_parse_args("groupby", argc, argv, opts, 2, &a.file, 1, 1, &a.help);
    if (rc) return rc;
    if (a.help) return cli_data_sub_help("groupby");
    if (!key || !mean) return cli_usage_error("groupby", "--key and --mean are required");
    mt_error err;
    mt_error_clear(&err);
    const char *cols[] = {key, mean, NULL};
    cli_source src;
    cli_source_options o = {.columns = !strcmp(key, mean) ? NULL : cols};
    if (cli_source_open(&src, a.file, &o, &err) != MT_OK) return cli_fail(&err);
    mt_table *all = NULL, *res = NULL;
    mt_status st = MT_OK;
    if (src.kind == CLI_PARQUET) {
        st = mt_parquet_read_table(a.file, &(mt_parquet_read_options){.columns = o.columns}, &all,
                                   &err);
    } else {
        st = cli_source_next(&src, &all, &err);
    }
    if (st == MT_OK) st = mt_table_groupby_mean(all, key, mean, &res, &err);
    if (st == MT_OK) st = mt_table_print_rows(res, 0, res->num_rows, stdout, &err);
    mt_table_release(all);
    mt_table_release(res);
    cli_source_close(&src);
    return st == MT_OK ? CLI_OK : cli_fail(&err);
}
