/* A dataset three times the object store streams: map_batches into
 * write_parquet, and iter_batches over stored blocks, on a 64 MiB store,
 * with the peak RSS of the driver and of every worker asserted below a
 * bound a fraction of the data's size. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <manta/manta.h>

#include "worker/worker_test_util.h"

/* The window is fixed so the bounds hold on any number of cores. */
static void setup_ds(void)
{
    setenv("MANTA_DATASET_MAX_TASKS_IN_FLIGHT", "4", 1);
    start(MT_BINARY_DIR "/tests/libmanta_test_batchfns.so");
}

enum { ROWS = 3 * (64 << 20) / 64, BLOCKS = 48 }; /* 64 bytes a row: 192 MiB, 4 MiB blocks */

/* Peak resident KiB of every worker of this test's cluster (their command lines name its folder). */
static long workers_peak_kib(int *nworkers)
{
    long peak = 0;
    *nworkers = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[4096] = {0};
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (!buf[i]) buf[i] = ' ';
        if (!strstr(buf, " worker ") || !strstr(buf, tmpdir)) continue;
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        if (!(f = fopen(path, "r"))) continue;
        char line[256];
        while (fgets(line, sizeof line, f)) {
            long kib;
            if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) {
                peak = kib > peak ? kib : peak;
                (*nworkers)++;
            }
        }
        fclose(f);
    }
    if (d) closedir(d);
    return peak;
}

/* Sanitizer builds keep shadow memory and freed blocks: RSS says nothing there. */
static bool rss_meaningful(void)
{
    const char *s = getenv("MT_SANITIZE");
    return !s || strcmp(s, "1");
}

static long self_peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

Test(streaming, three_times_the_store_through_map_batches_and_write_parquet, .init = setup_ds, .fini = teardown,
     .timeout = 180)
{
    long before = self_peak_kib();
    char dir[400];
    snprintf(dir, sizeof dir, "%s/out", tmpdir);
    mt_dataset *ds = mt_map_batches(mt_range(ROWS, BLOCKS), "widen", &(mt_map_batches_options){.batch_size = -1});
    mt_error err;
    cr_assert_eq(mt_write_parquet(ds, dir, &err), MT_OK, "%s", err.msg);
    mt_dataset *back = mt_read_parquet(dir, NULL);
    cr_assert_eq(mt_num_blocks(back), BLOCKS, "one file per block");
    cr_assert_eq(mt_count(back), ROWS, "every row written (counted from the footers)");
    int nw = 0;
    long wpeak = workers_peak_kib(&nw), dpeak = self_peak_kib();
    cr_assert_gt(nw, 0, "the workers were found");
    cr_log_info("driver peak %ld KiB (+%ld), worker peak %ld KiB over %d workers", dpeak, dpeak - before, wpeak, nw);
    if (!rss_meaningful()) return;
    cr_assert_lt(dpeak - before, 48 << 10, "the driver holds no data: +%ld KiB", dpeak - before);
    cr_assert_lt(wpeak, 96 << 10, "a worker holds a few blocks at most: %ld KiB", wpeak);
}

Test(streaming, iter_batches_over_three_times_the_store, .init = setup_ds, .fini = teardown, .timeout = 180)
{
    long before = self_peak_kib();
    mt_dataset *ds = mt_map_batches(mt_range(ROWS, BLOCKS), "widen", &(mt_map_batches_options){.batch_size = -1});
    mt_batch_iter *it = mt_iter_batches(ds, &(mt_iter_batches_options){.batch_size = 100000});
    cr_assert_not_null(it);
    mt_table *b;
    mt_error err;
    int64_t rows = 0;
    double sum = 0;
    mt_status st;
    while ((st = mt_batch_iter_next(it, &b, &err)) == MT_OK && b) {
        const double *x7 = (const double *)b->columns[7]->buffers[1]->data + b->columns[7]->offset;
        const int64_t *id = (const int64_t *)b->columns[0]->buffers[1]->data + b->columns[0]->offset;
        for (int64_t i = 0; i < b->num_rows; i++) {
            cr_assert_eq(id[i], rows + i, "in order");
            sum += x7[i];
        }
        rows += b->num_rows;
        mt_table_release(b);
    }
    cr_assert_eq(st, MT_OK, "%s", err.msg);
    mt_batch_iter_free(it);
    cr_assert_eq(rows, ROWS);
    cr_assert_eq(sum, 7.0 * ((double)ROWS * (ROWS - 1) / 2), "every value seen once");
    long dpeak = self_peak_kib();
    int nw = 0;
    long wpeak = workers_peak_kib(&nw);
    cr_log_info("driver peak %ld KiB (+%ld), worker peak %ld KiB", dpeak, dpeak - before, wpeak);
    if (!rss_meaningful()) return;
    cr_assert_lt(dpeak - before, 64 << 10, "the driver maps a few blocks at a time: +%ld KiB", dpeak - before);
    cr_assert_lt(wpeak, 96 << 10, "workers: %ld KiB", wpeak);
}
