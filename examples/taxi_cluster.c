/*
 * taxi_cluster.c — Ray Core in C over the taxi data: one task per Parquet
 * row group computes partial fare sums on the cluster's workers; the driver
 * merges them into the mean fare per passenger count, printed in Ray's row
 * format.
 *
 * usage: taxi_cluster FILE.parquet [CODE_LIBRARY]
 * The code library defaults to libtaxi_cluster_fns.so next to this program.
 * Joins MANTA_ADDRESS or the latest local session, else starts an embedded
 * cluster that is stopped at the end.
 */
#include <limits.h>
#include <manta/manta.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taxi_cluster.h"

static int fail(const char *what, const mt_error *err)
{
    fprintf(stderr, "taxi_cluster: %s: %s\n", what, err->msg);
    mt_shutdown();
    return 1;
}

static void default_lib(const char *argv0, char *out, size_t cap)
{
    char exe[PATH_MAX];
    if (!realpath(argv0, exe)) snprintf(exe, sizeof exe, "%s", argv0);
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    int n = snprintf(out, cap, "%s/libtaxi_cluster_fns.so", slash ? exe : ".");
    if (n < 0 || (size_t)n >= cap) snprintf(out, cap, "libtaxi_cluster_fns.so");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: taxi_cluster FILE.parquet [CODE_LIBRARY]\n");
        return 2;
    }
    char path[PATH_MAX], lib[PATH_MAX];
    if (!realpath(argv[1], path)) {
        perror(argv[1]);
        return 1;
    }
    if (argc > 2) snprintf(lib, sizeof lib, "%s", argv[2]);
    else default_lib(argv[0], lib, sizeof lib);

    mt_error err;
    mt_parquet_reader *r = NULL;
    if (mt_parquet_reader_open(path, NULL, &r, &err) != MT_OK) return fail("opening", &err);
    int32_t nrg = mt_parquet_reader_num_row_groups(r);
    mt_parquet_reader_destroy(r);

    if (mt_init_ex(&(mt_init_options){.code_path = lib}, &err) != MT_OK)
        return fail("connecting to the cluster", &err);
    mt_ref **refs = calloc((size_t)nrg + 1, sizeof *refs);
    mt_value *vals = calloc((size_t)nrg + 1, sizeof *vals);
    for (int32_t i = 0; i < nrg; i++) {
        mt_arg args[2] = {MT_ARG_STR(path), MT_ARG_I64(i)};
        if (mt_task_submit("taxi_fare_partial", args, 2, NULL, &refs[i], &err) != MT_OK)
            return fail("submitting", &err);
    }
    if (mt_get(refs, nrg, -1, vals, &err) != MT_OK) return fail("getting results", &err);

    taxi_partial total;
    memset(&total, 0, sizeof total);
    for (int32_t i = 0; i < nrg; i++) {
        taxi_partial p;
        if (vals[i].size != sizeof p) {
            fprintf(stderr, "taxi_cluster: task %d returned %zu bytes\n", i, vals[i].size);
            return 1;
        }
        memcpy(&p, vals[i].data, sizeof p);
        for (int k = 0; k < TAXI_MAX_PASSENGERS; k++) {
            total.fare_sum[k] += p.fare_sum[k];
            total.trips[k] += p.trips[k];
        }
        mt_value_release(&vals[i]);
        mt_ref_release(refs[i]);
    }
    printf("%d tasks, one per row group, ran on the cluster\n", nrg);
    for (int k = 0; k < TAXI_MAX_PASSENGERS; k++)
        if (total.trips[k])
            printf("{'passenger_count': %d.0, 'mean(fare_amount)': %.17g}\n", k,
                   total.fare_sum[k] / (double)total.trips[k]);
    free(refs);
    free(vals);
    mt_shutdown();
    return 0;
}
