/*
 * taxi_cluster_fns.c — the remote functions of the taxi_cluster example,
 * built as a shared library that workers dlopen (the job's code path).
 *
 * taxi_fare_partial(path, row_group) reads one row group of the taxi file
 * and returns, per passenger count 0..15, the sum of fares and the number
 * of trips (a taxi_partial struct), so the driver can merge the partial
 * aggregates of every row group into the mean fare per passenger count.
 */
#include <manta/manta.h>
#include <string.h>

#include "taxi_cluster.h"

static mt_status taxi_fare_partial(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    if (nargs != 2) return mt_error_set(err, MT_EINVAL, "taxi_fare_partial takes (path, row_group)");
    char path[4096];
    if (args[0].size >= sizeof path) return mt_error_set(err, MT_EINVAL, "path too long");
    memcpy(path, args[0].data, args[0].size);
    path[args[0].size] = '\0';
    int64_t rg;
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 1, &rg, err));

    const char *cols[] = {"passenger_count", "fare_amount", NULL};
    mt_parquet_read_options o = {.columns = cols};
    mt_parquet_reader *r = NULL;
    MT_RETURN_NOT_OK(mt_parquet_reader_open(path, &o, &r, err));
    mt_table *t = NULL;
    mt_status st = mt_parquet_reader_read_row_group(r, (int32_t)rg, &t, err);
    mt_parquet_reader_destroy(r);
    if (st != MT_OK) return st;

    taxi_partial p;
    memset(&p, 0, sizeof p);
    const mt_array *pc = t->columns[0], *fare = t->columns[1];
    const double *pcv = MT_ARRAY_VALUES(pc, double), *fv = MT_ARRAY_VALUES(fare, double);
    for (int64_t i = 0; i < t->num_rows; i++) {
        if (!mt_array_is_valid(pc, i) || !mt_array_is_valid(fare, i)) continue;
        double k = pcv[i];
        if (k < 0 || k >= TAXI_MAX_PASSENGERS || k != (double)(int)k) {
            p.other++;
            continue;
        }
        p.fare_sum[(int)k] += fv[i];
        p.trips[(int)k]++;
    }
    mt_table_release(t);
    return mt_return(ctx, &p, sizeof p, err);
}
MT_REMOTE(taxi_fare_partial)
