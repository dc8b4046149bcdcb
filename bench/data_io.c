/*
 * data_io.c — data-layer I/O benchmark (`make bench-data_io`).
 *
 * Generates (once, cached next to the binary in data/taxi_2m.parquet) the
 * 2,000,000-row synthetic taxi file with the CLI defaults (snappy), then
 * measures, single-threaded, best of N runs:
 *   - reading all 7 columns and 2 of 7 (fare_amount, passenger_count): every
 *     row group is decoded and every value summed (the same work the DuckDB
 *     peer does with SELECT sum(c), count_if(b) …);
 *   - the Parquet writer per codec, and CSV write/read throughput.
 * Prints one `name: value unit` line per figure, with DuckDB (through the
 * installed oracle, threads=1) beside ours when it is installed.
 * Runs on the main thread only.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manta/datagen.h"
#include "manta/parquet.h"

enum { TAXI_ROWS = 2000000, READ_RUNS = 5 };

typedef struct paths {
    char dir[PATH_MAX];     /* <build>/bench/data */
    char taxi[PATH_MAX];    /* cached 2M-row file */
    char scratch[PATH_MAX]; /* rewritten files */
    char csv[PATH_MAX];
    char oracle[PATH_MAX]; /* <build>/oracle */
    char peer[PATH_MAX];   /* <source>/bench/peers/duckdb_scan.mjs */
} paths;

static void die(const char *what, const mt_error *err)
{
    fprintf(stderr, "data_io: %s: %s\n", what, err->msg);
    exit(1);
}

/* out = a + b, truncated to PATH_MAX (paths that long are not supported). */
static void join(char *out, const char *a, const char *b)
{
    int n = snprintf(out, PATH_MAX, "%s%s", a, b);
    if (n < 0 || n >= PATH_MAX) out[0] = '\0';
}

static void init_paths(paths *p)
{
    char exe[PATH_MAX] = "", src[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) snprintf(exe, sizeof exe, "./data_io");
    char *bench_dir = dirname(exe); /* <build>/bench */
    join(p->dir, bench_dir, "/data");
    join(p->taxi, p->dir, "/taxi_2m.parquet");
    join(p->scratch, p->dir, "/scratch.parquet");
    join(p->csv, p->dir, "/taxi_2m.csv");
    join(p->oracle, bench_dir, "/../oracle");
    join(src, __FILE__, ""); /* absolute in CMake builds */
    join(p->peer, dirname(src), "/peers/duckdb_scan.mjs");
    mkdir(p->dir, 0755);
}

static double secs_since(int64_t t0) { return (double)(mt_time_now_ns() - t0) / 1e9; }

static int64_t file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

static mt_status write_chunk(void *ctx, mt_table *chunk, mt_error *err)
{
    return mt_parquet_writer_write(ctx, chunk, err);
}

static void ensure_taxi(const paths *p)
{
    if (file_bytes(p->taxi) > 0) return;
    mt_error err;
    mt_error_clear(&err);
    mt_parquet_write_options o = {.codec = MT_PARQUET_SNAPPY};
    mt_type *schema = mt_datagen_taxi_schema();
    mt_parquet_writer *w = NULL;
    int64_t t0 = mt_time_now_ns();
    mt_status st = mt_parquet_writer_open(p->taxi, schema, &o, &w, &err);
    if (st == MT_OK)
        st = mt_datagen_taxi_stream(TAXI_ROWS, 0, mt_config_int64("parquet_row_group_rows"),
                                    write_chunk, w, &err);
    if (st == MT_OK) st = mt_parquet_writer_close(w, &err);
    mt_parquet_writer_destroy(w);
    mt_type_release(schema);
    if (st != MT_OK) die("generating the taxi file", &err);
    printf("generate_taxi_2m_seconds: %.3f s\n", secs_since(t0));
}

/* Sums every value of every column (so no decoded value goes untouched). */
static double sum_f64(const double *v, int64_t n)
{
    /* Four independent accumulators: the same additions, without one long
     * dependency chain (DuckDB's sum is not a serial loop either). */
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += v[i];
        a1 += v[i + 1];
        a2 += v[i + 2];
        a3 += v[i + 3];
    }
    for (; i < n; i++) a0 += v[i];
    return (a0 + a1) + (a2 + a3);
}

static int64_t count_bits(const uint8_t *b, int64_t off, int64_t n)
{
    int64_t c = 0, i = 0;
    for (; i < n && ((off + i) & 7); i++) c += (b[(off + i) >> 3] >> ((off + i) & 7)) & 1;
    const uint8_t *p = b + ((off + i) >> 3);
    int64_t bytes = (n - i) >> 3;
    for (int64_t k = 0; k < bytes; k++) c += __builtin_popcount(p[k]);
    for (i += bytes * 8; i < n; i++) c += (b[(off + i) >> 3] >> ((off + i) & 7)) & 1;
    return c;
}

static double table_checksum(const mt_table *t)
{
    double acc = 0;
    for (int32_t c = 0; c < t->num_columns; c++) {
        const mt_array *a = t->columns[c];
        if (a->type->id == MT_TYPE_FLOAT64) {
            acc += sum_f64(MT_ARRAY_VALUES(a, double), a->length);
        } else if (a->type->id == MT_TYPE_INT64) {
            const int64_t *v = MT_ARRAY_VALUES(a, int64_t);
            int64_t s = 0;
            for (int64_t i = 0; i < a->length; i++) s += v[i];
            acc += (double)s;
        } else if (a->type->id == MT_TYPE_BOOL) {
            acc += (double)count_bits(a->buffers[1]->data, a->offset, a->length);
        }
    }
    return acc;
}

/* One full read; returns seconds and stores the checksum. */
static double read_once(const char *path, const char *const *cols, double *sum)
{
    mt_error err;
    mt_error_clear(&err);
    mt_parquet_read_options o = {.columns = cols};
    mt_parquet_reader *r = NULL;
    int64_t t0 = mt_time_now_ns();
    if (mt_parquet_reader_open(path, &o, &r, &err) != MT_OK) die("opening", &err);
    *sum = 0;
    for (int32_t rg = 0; rg < mt_parquet_reader_num_row_groups(r); rg++) {
        mt_table *t = NULL;
        if (mt_parquet_reader_read_row_group(r, rg, &t, &err) != MT_OK) die("reading", &err);
        *sum += table_checksum(t);
        mt_table_release(t);
    }
    mt_parquet_reader_destroy(r);
    return secs_since(t0);
}

/* Runs the DuckDB peer; returns its best seconds or -1 when unavailable. */
static double duckdb_seconds(const paths *p, const char *file, const char *cols)
{
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/node_modules/@duckdb/node-api/package.json", p->oracle);
    if (access(probe, R_OK) != 0 || access(p->peer, R_OK) != 0) return -1;
    char cmd[4 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "MANTA_ORACLE_DIR='%s' node '%s' '%s' %s --runs %d 2>/dev/null",
             p->oracle, p->peer, file, cols ? cols : "", READ_RUNS);
    FILE *fp = popen(cmd, "r");
    if (!fp) return -1;
    char line[4096];
    double s = -1;
    while (fgets(line, sizeof line, fp))
        if (!strncmp(line, "seconds: ", 9)) s = atof(line + 9);
    return pclose(fp) == 0 ? s : -1;
}

static void bench_read(const paths *p, const char *label, const char *const *cols,
                       const char *peer_cols)
{
    double best = 1e30, sum = 0;
    for (int i = 0; i < READ_RUNS; i++) {
        double s = read_once(p->taxi, cols, &sum);
        if (s < best) best = s;
    }
    double mb = (double)file_bytes(p->taxi) / 1e6;
    printf("read_parquet_%s_rows_per_s: %.3e rows/s\n", label, TAXI_ROWS / best);
    printf("read_parquet_%s_mb_per_s: %.1f MB/s\n", label, mb / best);
    printf("read_parquet_%s_seconds: %.4f s\n", label, best);
    printf("read_parquet_%s_checksum: %.6e sum\n", label, sum);
    double peer = duckdb_seconds(p, p->taxi, peer_cols);
    if (peer > 0) {
        printf("duckdb_read_parquet_%s_seconds: %.4f s\n", label, peer);
        printf("read_parquet_%s_ratio_vs_duckdb: %.2f ratio\n", label, best / peer);
    } else {
        printf("note: duckdb peer not run (oracle not installed: make oracle)\n");
    }
}

static void bench_write(const paths *p, const mt_table *t, mt_parquet_codec codec)
{
    mt_error err;
    mt_error_clear(&err);
    mt_parquet_write_options o = {.codec = codec};
    int64_t t0 = mt_time_now_ns();
    if (mt_parquet_write_table(p->scratch, t, &o, &err) != MT_OK) die("writing", &err);
    double s = secs_since(t0);
    const char *name = codec == MT_PARQUET_UNCOMPRESSED ? "none" : mt_parquet_codec_name(codec);
    printf("write_parquet_%s_rows_per_s: %.3e rows/s\n", name, t->num_rows / s);
    printf("write_parquet_%s_file_mb: %.1f MB\n", name, (double)file_bytes(p->scratch) / 1e6);
    remove(p->scratch);
}

static void bench_csv(const paths *p, const mt_table *t)
{
    mt_error err;
    mt_error_clear(&err);
    int64_t t0 = mt_time_now_ns();
    if (mt_csv_write(p->csv, t, NULL, &err) != MT_OK) die("writing CSV", &err);
    double ws = secs_since(t0);
    double mb = (double)file_bytes(p->csv) / 1e6;
    printf("write_csv_rows_per_s: %.3e rows/s\n", t->num_rows / ws);
    printf("write_csv_mb_per_s: %.1f MB/s\n", mb / ws);
    mt_table *back = NULL;
    t0 = mt_time_now_ns();
    if (mt_csv_read(p->csv, NULL, &back, &err) != MT_OK) die("reading CSV", &err);
    double rs = secs_since(t0);
    printf("read_csv_rows_per_s: %.3e rows/s\n", back->num_rows / rs);
    printf("read_csv_mb_per_s: %.1f MB/s\n", mb / rs);
    mt_table_release(back);
    remove(p->csv);
}

static void pandas_note(void)
{
    int rc = system("/usr/bin/python3 -c 'import pandas, pyarrow' >/dev/null 2>&1");
    if (rc != 0) printf("note: pandas peer skipped (pandas/pyarrow not importable by /usr/bin/python3)\n");
    else printf("note: pandas importable; pandas peer not implemented in this version\n");
}

int main(void)
{
    mt_error err;
    mt_error_clear(&err);
    if (mt_config_load(&err) != MT_OK) die("config", &err);
    paths p;
    init_paths(&p);
    printf("cores: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    ensure_taxi(&p);
    printf("taxi_file_mb: %.1f MB\n", (double)file_bytes(p.taxi) / 1e6);
    bench_read(&p, "all", NULL, NULL);
    const char *two[] = {"fare_amount", "passenger_count", NULL};
    bench_read(&p, "2cols", two, "fare_amount,passenger_count");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_mb: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    pandas_note();
    mt_table *t = NULL;
    if (mt_datagen_taxi(TAXI_ROWS, 0, 0, &t, &err) != MT_OK) die("generating", &err);
    static const mt_parquet_codec codecs[] = {MT_PARQUET_UNCOMPRESSED, MT_PARQUET_SNAPPY,
                                              MT_PARQUET_GZIP,         MT_PARQUET_ZSTD,
                                              MT_PARQUET_LZ4_RAW,      MT_PARQUET_BROTLI};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) bench_write(&p, t, codecs[i]);
    bench_csv(&p, t);
    mt_table_release(t);
    return 0;
}
