/*
 * bench/data — the tutorial's data steps on the 2M-row taxi table, each
 * timed (median of 3 after a warm-up), on an embedded cluster, beside
 * pandas doing the same work (../shared/bench-peers/data_bench.py, run
 * with /usr/bin/python3 when pandas is importable there).
 *
 * Ours: the Parquet file is read into the object store once
 * (read_parquet_materialize); groupby, split, min-max and CSV then start
 * from the stored blocks, as pandas starts from its in-memory frame. The
 * data section end to end starts from the file: read, train_test_split(0.3),
 * repartition(5), count, groupby mean, MinMaxScaler fit.
 *
 * usage: data [--rows N] [--cpus N] [--nodes N] [--no-peer]    (make bench-data)
 * --nodes N > 1 starts a head and N-1 joined nodes with `manta start`
 * (--cpus each, separate daemons on this host) instead of an embedded
 * cluster: the 1 -> N node scaling figures. Prints `name: value unit` lines and `<step>_ratio_vs_pandas: R` (our
 * time / pandas' time).
 */
#include <libgen.h>
#include <limits.h>
#include <manta/manta.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_nodes.h"

static void die(const char *what, const mt_error *err)
{
    fprintf(stderr, "bench/data: %s: %s\n", what, err ? err->msg : "failed");
    mt_shutdown();
    exit(1);
}

static mt_dataset *ok(mt_dataset *ds, const char *what)
{
    mt_error err;
    if (mt_dataset_status(ds, &err) != MT_OK) die(what, &err);
    return ds;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef double (*step_fn)(void *arg);

/* The median of 3 timed runs after one warm-up. */
static double timed(step_fn fn, void *arg)
{
    double t[3];
    fn(arg);
    for (int i = 0; i < 3; i++) {
        double t0 = bn_now_s();
        fn(arg);
        t[i] = bn_now_s() - t0;
    }
    qsort(t, 3, sizeof *t, cmp_d);
    return t[1];
}

typedef struct ctx {
    const char *file;
    mt_dataset *stored; /* the table in the object store */
    char dir[PATH_MAX];
    int64_t rows;
} ctx;

static double step_read(void *a)
{
    ctx *c = a;
    mt_dataset *m = ok(mt_materialize(mt_read_parquet(c->file, NULL)), "read_parquet");
    mt_dataset_release(m);
    return 0;
}

static double step_groupby(void *a)
{
    ctx *c = a;
    mt_dataset *g = ok(mt_mean(mt_groupby(c->stored, "passenger_count"), "fare_amount"), "groupby");
    if (mt_count(g) != 7) die("groupby: expected 7 groups", NULL);
    mt_dataset_release(g);
    return 0;
}

static double step_split(void *a)
{
    ctx *c = a;
    mt_dataset *tr = NULL, *va = NULL;
    mt_train_test_split(c->stored, 0.3, &(mt_train_test_split_options){.shuffle = true, .seed = 1}, &tr, &va);
    ok(tr, "train_test_split");
    if (mt_count(tr) + mt_count(va) != c->rows) die("split: rows lost", NULL);
    mt_dataset_release(tr);
    mt_dataset_release(va);
    return 0;
}

static double step_minmax(void *a)
{
    ctx *c = a;
    mt_error err;
    mt_preprocessor *p = mt_min_max_scaler(MT_COLUMNS("trip_distance", "fare_amount"));
    if (mt_preprocessor_fit(p, c->stored, &err) != MT_OK) die("MinMaxScaler.fit", &err);
    mt_dataset *m = ok(mt_materialize(mt_preprocessor_transform(p, c->stored)), "MinMaxScaler.transform");
    mt_dataset_release(m);
    mt_preprocessor_free(p);
    return 0;
}

static double step_section(void *a)
{
    ctx *c = a;
    mt_error err;
    mt_dataset *ds = ok(mt_read_parquet(c->file, NULL), "read_parquet");
    mt_dataset *tr = NULL, *va = NULL;
    mt_train_test_split(ds, 0.3, NULL, &tr, &va);
    mt_dataset *rp = ok(mt_repartition(ok(tr, "train_test_split"), 5, false), "repartition");
    if (mt_count(rp) + mt_count(va) != c->rows) die("data section: rows lost", NULL);
    mt_dataset *g = ok(mt_mean(mt_groupby(ds, "passenger_count"), "fare_amount"), "groupby");
    mt_preprocessor *p = mt_min_max_scaler(MT_COLUMNS("trip_distance", "trip_duration"));
    if (mt_preprocessor_fit(p, rp, &err) != MT_OK) die("MinMaxScaler.fit", &err);
    mt_preprocessor_free(p);
    mt_dataset *all[] = {ds, tr, va, rp, g};
    for (int i = 0; i < 5; i++) mt_dataset_release(all[i]);
    return 0;
}

static double step_csv_write(void *a)
{
    ctx *c = a;
    mt_error err;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
    if (system(cmd) != 0) die("rm", NULL);
    if (mt_write_csv(c->stored, c->dir, &err) != MT_OK) die("write_csv", &err);
    return 0;
}

static double step_csv_read(void *a)
{
    ctx *c = a;
    mt_dataset *m = ok(mt_materialize(mt_read_csv(c->dir, NULL)), "read_csv");
    if (mt_count(m) != c->rows) die("read_csv: row count", NULL);
    mt_dataset_release(m);
    return 0;
}

/* ---- pandas --------------------------------------------------------------- */

typedef struct peer {
    bool ran;
    double groupby, split, minmax, csv_write, csv_read;
} peer;

static void run_pandas(int64_t rows, const char *tmp, peer *p)
{
    char src[PATH_MAX], script[PATH_MAX + 64], cmd[2 * PATH_MAX + 128], line[512];
    snprintf(src, sizeof src, "%s", __FILE__); /* absolute in CMake builds */
    const char *env = getenv("MANTA_BENCH_PEERS");
    if (env) snprintf(script, sizeof script, "%s/data_bench.py", env);
    else snprintf(script, sizeof script, "%s/../shared/bench-peers/data_bench.py", dirname(dirname(src)));
    if (access(script, R_OK) != 0 || system("/usr/bin/python3 -c 'import pandas' >/dev/null 2>&1") != 0) {
        printf("note: pandas peer not run (needs %s and pandas for /usr/bin/python3)\n", script);
        return;
    }
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --rows %lld --repeats 3 --dir '%s/peer' 2>&1", script,
             (long long)rows, tmp);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        fputs(line, stdout);
        double v;
        char name[128];
        if (sscanf(line, "%127[^:]: %lf", name, &v) != 2) continue;
        if (!strcmp(name, "pandas_groupby_mean_seconds")) p->groupby = v;
        else if (!strcmp(name, "pandas_split_70_30_seconds")) p->split = v;
        else if (!strcmp(name, "pandas_minmax_2cols_seconds")) p->minmax = v;
        else if (!strcmp(name, "pandas_csv_write_seconds")) p->csv_write = v;
        else if (!strcmp(name, "pandas_csv_read_seconds")) p->csv_read = v;
    }
    p->ran = pclose(f) == 0 && p->groupby > 0;
    if (!p->ran) printf("note: pandas peer failed\n");
}

static void report(const char *name, double ours, double theirs)
{
    printf("%s_seconds: %.4f s\n", name, ours);
    if (theirs > 0) printf("%s_ratio_vs_pandas: %.3f ratio\n", name, ours / theirs);
}

int main(int argc, char **argv)
{
    int64_t rows = 2000000;
    int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    bool with_peer = true;
    int nodes = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc) rows = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--cpus") && i + 1 < argc) cpus = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--nodes") && i + 1 < argc) nodes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-peer")) with_peer = false;
        else {
            fprintf(stderr, "usage: data [--rows N] [--cpus N] [--nodes N] [--no-peer]\n");
            return 2;
        }
    }
    bn_find_manta();
    setenv("MANTA_DATASET_PROGRESS_BARS", "0", 1);
    const char *tmp = bn_make_tmp("mtdata"); /* removed at exit, also when a step fails */
    if (nodes < 1 || nodes > 8) die("--nodes: 1 to 8", NULL);
    printf("cores: %ld\nnodes: %d\ncpus: %d\nrows: %lld\n", sysconf(_SC_NPROCESSORS_ONLN), nodes, cpus * nodes, (long long)rows);

    /* the table, as the demo makes it (seed 0), written once here */
    ctx c = {.rows = rows};
    char file[PATH_MAX + 32];
    snprintf(file, sizeof file, "%s/taxi.parquet", tmp);
    snprintf(c.dir, sizeof c.dir, "%s/csv", tmp);
    c.file = file;
    mt_error err;
    mt_table *t = NULL;
    double t0 = bn_now_s();
    if (mt_datagen_taxi(rows, 0, 0, &t, &err) != MT_OK) die("generating the taxi table", &err);
    mt_parquet_write_options wo = {.codec = MT_PARQUET_SNAPPY, .row_group_rows = (rows + 7) / 8};
    if (mt_parquet_write_table(file, t, &wo, &err) != MT_OK) die("writing the taxi table", &err);
    mt_table_release(t);
    printf("generate_and_write_seconds: %.3f s\n", bn_now_s() - t0);

    mt_init_options o = {.temp_dir = tmp, .num_cpus = cpus, .object_store_memory = (int64_t)2 << 30};
    t0 = bn_now_s();
    if (nodes > 1) {
        bn_start(tmp, nodes, cpus, (int64_t)2 << 30);
        o.no_start = true;
    }
    if (mt_init_ex(&o, &err) != MT_OK) die("mt_init", &err);
    printf("cluster_start_seconds: %.3f s\n", bn_now_s() - t0);
    c.stored = ok(mt_materialize(mt_read_parquet(file, NULL)), "read_parquet");

    peer pd = {0};
    double read = timed(step_read, &c), groupby = timed(step_groupby, &c), split = timed(step_split, &c);
    double minmax = timed(step_minmax, &c), section = timed(step_section, &c);
    double csv_w = timed(step_csv_write, &c), csv_r = timed(step_csv_read, &c);
    mt_dataset_release(c.stored);
    mt_shutdown();
    bn_stop_all();
    if (with_peer) run_pandas(rows, tmp, &pd);

    report("read_parquet_materialize", read, 0);
    printf("read_parquet_materialize: %.0f rows/s\n", (double)rows / read);
    report("groupby_mean", groupby, pd.groupby);
    printf("groupby_mean: %.0f rows/s\n", (double)rows / groupby);
    report("train_test_split_shuffle", split, pd.split);
    report("minmax_2cols", minmax, pd.minmax);
    report("csv_write", csv_w, pd.csv_write);
    report("csv_read", csv_r, pd.csv_read);
    double pandas_section = pd.ran ? pd.groupby + pd.split + pd.minmax : 0;
    report("data_section_end_to_end", section, pandas_section);
    if (pd.ran) printf("note: pandas' data section = its groupby + split + min-max from memory; ours starts from the Parquet file\n");
    return 0;
}
