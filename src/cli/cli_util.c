/*
 * cli_util.c — shared helpers of the `manta` command: error/usage reporting,
 * option parsing, comma lists and file-kind detection. Main thread only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

int cli_fail(const mt_error *err)
{
    fprintf(stderr, "manta: %s\n", err->msg[0] ? err->msg : mt_status_message(err->code));
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "manta: data %s: %s (see 'manta data %s --help')\n", cmd, msg, cmd);
    return CLI_USAGE;
}

static const cli_opt *find_opt(const cli_opt *opts, int nopts, const char *arg, size_t len)
{
    for (int i = 0; i < nopts; i++) {
        if (strlen(opts[i].name) == len && !strncmp(opts[i].name, arg, len)) return &opts[i];
        if (opts[i].alias && strlen(opts[i].alias) == len && !strncmp(opts[i].alias, arg, len))
            return &opts[i];
    }
    return NULL;
}

/* Handles argv[*i], an option; advances *i past its value. */
static int parse_one(const char *cmd, int argc, char **argv, int *i, const cli_opt *opts,
                     int nopts)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const cli_opt *o = find_opt(opts, nopts, arg, len);
    if (!o) return cli_usage_error(cmd, "unknown option '%.*s'", (int)len, arg);
    if (!o->value) {
        if (eq) return cli_usage_error(cmd, "option '%s' takes no value", o->name);
        *o->flag = true;
        return CLI_OK;
    }
    if (eq) {
        *o->value = eq + 1;
    } else {
        if (*i + 1 >= argc) return cli_usage_error(cmd, "option '%s' needs a value", o->name);
        *o->value = argv[++*i];
    }
    return CLI_OK;
}

int cli_parse_args(const char *cmd, int argc, char **argv, const cli_opt *opts, int nopts,
                   const char **pos, int min_pos, int max_pos, bool *help)
{
    int npos = 0;
    *help = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            *help = true;
            return CLI_OK;
        }
        if (arg[0] == '-' && arg[1] != '\0') {
            int rc = parse_one(cmd, argc, argv, &i, opts, nopts);
            if (rc != CLI_OK) return rc;
            continue;
        }
        if (npos >= max_pos) return cli_usage_error(cmd, "unexpected argument '%s'", arg);
        pos[npos++] = arg;
    }
    if (npos < min_pos)
        return cli_usage_error(cmd, "missing %s", npos == 0 && min_pos > 1 ? "input and output files"
                                                  : npos == 0               ? "input file"
                                                                            : "output file");
    for (int i = npos; i < max_pos; i++) pos[i] = NULL;
    return CLI_OK;
}

bool cli_parse_count(const char *s, int64_t *out)
{
    if (!s || !*s) return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        if (v > (INT64_MAX - (*p - '0')) / 10) return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

char **cli_split_list(const char *s)
{
    if (!s) return NULL;
    size_t n = 1;
    for (const char *p = s; *p; p++) n += *p == ',';
    char **list = mt_calloc(n + 1, sizeof *list);
    if (!list) return NULL;
    size_t k = 0;
    for (const char *p = s;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        list[k] = mt_strndup(p, len);
        if (!list[k]) {
            cli_free_list(list);
            return NULL;
        }
        k++;
        if (!e) break;
        p = e + 1;
    }
    return list;
}

void cli_free_list(char **list)
{
    if (!list) return;
    for (char **p = list; *p; p++) mt_free(*p);
    mt_free(list);
}

static bool has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), m = strlen(ext);
    return n > m && !strcasecmp(path + n - m, ext);
}

mt_status cli_kind_of_output(const char *path, cli_kind *out, mt_error *err)
{
    if (has_ext(path, ".parquet") || has_ext(path, ".pq")) {
        *out = CLI_PARQUET;
    } else if (has_ext(path, ".csv")) {
        *out = CLI_CSV;
    } else {
        return mt_error_set(err, MT_EINVAL,
                            "%s: cannot tell the output format (use .parquet, .pq or .csv)", path);
    }
    return MT_OK;
}

mt_status cli_kind_of_input(const char *path, cli_kind *out, mt_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return mt_error_set(err, MT_EIO, "%s: %s", path, strerror(errno));
    unsigned char head[4096];
    size_t n = fread(head, 1, sizeof head, fp);
    int read_errno = ferror(fp) ? errno : 0;
    fclose(fp);
    if (read_errno) return mt_error_set(err, MT_EIO, "%s: %s", path, strerror(read_errno));
    /* "PARE" starts a Parquet file whose footer is encrypted: the reader
     * then says so, instead of the CSV reader complaining about fields. */
    bool magic = n >= 4 && (!memcmp(head, "PAR1", 4) || !memcmp(head, "PARE", 4));
    if (has_ext(path, ".parquet") || has_ext(path, ".pq") || has_ext(path, ".parquet.encrypted") ||
        magic) {
        *out = CLI_PARQUET;
        return MT_OK;
    }
    /* Text has no NUL bytes; anything else is neither CSV nor Parquet. */
    if (memchr(head, 0, n))
        return mt_error_set(err, MT_EPARSE, "%s: not a CSV or Parquet file (binary data)", path);
    *out = CLI_CSV;
    return MT_OK;
}
