/*
 * nyc_taxi.c — the Ray AIR tutorial's data section in C, on the cluster:
 * read the taxi Parquet file as a Dataset, split it 70/30 (Ray's
 * train_test_split), repartition the training part into 5 blocks, look at
 * the schema, counts and first rows, compute the mean fare per passenger
 * count (a distributed groupby), and fit a MinMaxScaler on trip_distance
 * and trip_duration, then apply it to the validation part.
 *
 * usage: nyc_taxi [FILE.parquet]   (default data/nyc_taxi_2021.parquet)
 * Joins MANTA_ADDRESS or the latest local session, else starts an embedded
 * cluster that is stopped at the end.
 */
#include <manta/manta.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Exits with the dataset's error, naming the step. */
static void check(mt_dataset *ds, const char *step)
{
    mt_error err;
    if (mt_dataset_status(ds, &err) == MT_OK) return;
    fprintf(stderr, "nyc_taxi: %s: %s\n", step, err.msg);
    mt_shutdown();
    exit(1);
}

static void step(const char *code) { printf("\n>>> %s\n", code); }

static void took(double t0) { printf("(%.3f s)\n", now() - t0); }

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "data/nyc_taxi_2021.parquet";
    mt_error err;
    if (mt_init_ex(NULL, &err) != MT_OK) {
        fprintf(stderr, "nyc_taxi: %s\n", err.msg);
        return 1;
    }

    step("dataset = ray.data.read_parquet(path)");
    double t0 = now();
    mt_dataset *ds = mt_read_parquet(path, NULL);
    check(ds, "read_parquet");
    printf("%lld blocks\n", (long long)mt_num_blocks(ds));
    took(t0);

    step("dataset.schema()");
    mt_print_schema(ds);
    check(ds, "schema");

    step("train_dataset, valid_dataset = dataset.train_test_split(test_size=0.3)");
    t0 = now();
    mt_dataset *train = NULL, *valid = NULL;
    mt_train_test_split(ds, 0.3, NULL, &train, &valid);
    check(train, "train_test_split");
    check(valid, "train_test_split");
    took(t0);

    step("train_dataset = train_dataset.repartition(5)");
    t0 = now();
    train = mt_repartition(train, 5, false);
    check(train, "repartition");
    printf("%lld blocks\n", (long long)mt_num_blocks(train));
    took(t0);

    step("dataset.count(), train_dataset.count(), valid_dataset.count()");
    printf("Number of samples: %lld (train %lld, valid %lld)\n", (long long)mt_count(ds), (long long)mt_count(train),
           (long long)mt_count(valid));
    check(train, "count");

    step("train_dataset.show(5)");
    mt_show(train, 5);
    check(train, "show");

    step("dataset.groupby(\"passenger_count\").mean(\"fare_amount\").show()");
    t0 = now();
    mt_dataset *means = mt_mean(mt_groupby(ds, "passenger_count"), "fare_amount");
    check(means, "groupby");
    mt_show(means, 20);
    took(t0);

    step("preprocessor = MinMaxScaler(columns=[\"trip_distance\", \"trip_duration\"]); preprocessor.fit(train_dataset)");
    t0 = now();
    mt_preprocessor *scaler = mt_min_max_scaler(MT_COLUMNS("trip_distance", "trip_duration"));
    if (mt_preprocessor_fit(scaler, train, &err) != MT_OK) {
        fprintf(stderr, "nyc_taxi: MinMaxScaler.fit: %s\n", err.msg);
        mt_shutdown();
        return 1;
    }
    char repr[256];
    mt_preprocessor_repr(scaler, repr, sizeof repr);
    char *stats = mt_preprocessor_stats_json(scaler);
    printf("%s\nstats_: %s\n", repr, stats ? stats : "?");
    mt_free(stats);
    took(t0);

    step("preprocessor.transform(valid_dataset).show(3)");
    mt_dataset *scaled = mt_preprocessor_transform(scaler, valid);
    check(scaled, "transform");
    mt_show(scaled, 3);
    check(scaled, "transform");

    mt_preprocessor_free(scaler);
    mt_shutdown();
    return 0;
}
