/*
 * taxi_data.c — the data part of the Ray AIR tutorial, in C: generate a
 * taxi table, write it as Parquet, read it back, print its schema, count and
 * first rows, and the mean fare by passenger count.
 *
 * usage: taxi_data [ROWS] [OUT.parquet]
 */
#include <manta/manta.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const mt_error *err)
{
    fprintf(stderr, "taxi_data: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv)
{
    int64_t rows = argc > 1 ? atoll(argv[1]) : 100000;
    const char *path = argc > 2 ? argv[2] : "taxi_example.parquet";
    mt_error err;
    mt_table *gen = NULL, *ds = NULL, *means = NULL;

    if (mt_datagen_taxi(rows, 42, 0, &gen, &err) != MT_OK) return fail(&err);
    mt_parquet_write_options wopts = {.codec = MT_PARQUET_SNAPPY};
    if (mt_parquet_write_table(path, gen, &wopts, &err) != MT_OK) return fail(&err);
    mt_table_release(gen);

    if (mt_parquet_read_table(path, NULL, &ds, &err) != MT_OK) return fail(&err);
    mt_table_print_schema(ds->schema, stdout);
    printf("Number of samples: %lld\n", (long long)ds->num_rows);
    if (mt_table_print_rows(ds, 0, 5, stdout, &err) != MT_OK) return fail(&err);
    if (mt_table_groupby_mean(ds, "passenger_count", "fare_amount", &means, &err) != MT_OK)
        return fail(&err);
    if (mt_table_print_rows(means, 0, 20, stdout, &err) != MT_OK) return fail(&err);
    mt_table_release(means);
    mt_table_release(ds);
    return 0;
}
