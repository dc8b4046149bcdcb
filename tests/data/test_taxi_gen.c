/*
 * test_taxi_gen.c — the synthetic taxi table: schema, determinism across
 * chunkings and seeds, streaming, and that 200k rows reproduce the documented
 * January 2021 NYC TLC distributions (TAXI-DISTRIBUTIONS.md) within tolerances.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "manta/datagen.h"

static mt_table *gen(int64_t rows, uint64_t seed, int64_t offset)
{
    mt_table *t = NULL;
    mt_error err;
    mt_error_clear(&err);
    cr_assert_eq(mt_datagen_taxi(rows, seed, offset, &t, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(t->num_rows, rows);
    return t;
}

static const double *dcol(const mt_table *t, int c) { return MT_ARRAY_VALUES(t->columns[c], double); }
static const int64_t *icol(const mt_table *t, int c) { return MT_ARRAY_VALUES(t->columns[c], int64_t); }
static bool tip(const mt_table *t, int64_t i)
{
    const mt_array *a = t->columns[6];
    int64_t j = a->offset + i;
    return (a->buffers[1]->data[j >> 3] >> (j & 7)) & 1;
}

Test(taxi_gen, schema)
{
    static const char *names[] = {"passenger_count", "trip_distance", "fare_amount",
                                  "trip_duration",   "hour",          "day_of_week",
                                  "is_big_tip"};
    static const mt_type_id ids[] = {MT_TYPE_FLOAT64, MT_TYPE_FLOAT64, MT_TYPE_FLOAT64,
                                     MT_TYPE_INT64,   MT_TYPE_INT64,   MT_TYPE_INT64,
                                     MT_TYPE_BOOL};
    mt_table *t = gen(10, 0, 0);
    cr_assert_eq(t->num_columns, 7);
    for (int i = 0; i < 7; i++) {
        cr_assert_str_eq(t->schema->fields[i].name, names[i]);
        cr_assert_eq(t->schema->fields[i].type->id, ids[i]);
        cr_assert_eq(t->columns[i]->length, 10);
        cr_assert_eq(mt_array_null_count(t->columns[i]), 0);
    }
    mt_table_release(t);
}

static bool rows_equal(const mt_table *a, int64_t ia, const mt_table *b, int64_t ib)
{
    for (int c = 0; c < 3; c++)
        if (memcmp(&dcol(a, c)[ia], &dcol(b, c)[ib], 8)) return false;
    for (int c = 3; c < 6; c++)
        if (icol(a, c)[ia] != icol(b, c)[ib]) return false;
    return tip(a, ia) == tip(b, ib);
}

Test(taxi_gen, same_seed_same_rows_regardless_of_chunking)
{
    mt_table *whole = gen(1000, 42, 0), *p1 = gen(333, 42, 0), *p2 = gen(667, 42, 333);
    mt_table *again = gen(1000, 42, 0), *other = gen(1000, 43, 0);
    int differ = 0;
    for (int64_t i = 0; i < 1000; i++) {
        cr_assert(rows_equal(whole, i, again, i), "row %lld", (long long)i);
        cr_assert(rows_equal(whole, i, i < 333 ? p1 : p2, i < 333 ? i : i - 333), "row %lld",
                  (long long)i);
        differ += !rows_equal(whole, i, other, i);
    }
    cr_assert_gt(differ, 990, "seed 43 should change almost every row (%d differ)", differ);
    mt_table_release(whole), mt_table_release(p1), mt_table_release(p2);
    mt_table_release(again), mt_table_release(other);
}

typedef struct stream_ctx {
    int calls;
    int64_t rows;
    int fail_at;
} stream_ctx;

static mt_status on_chunk(void *ctx, mt_table *chunk, mt_error *err)
{
    stream_ctx *s = ctx;
    s->calls++;
    s->rows += chunk->num_rows;
    if (s->calls == s->fail_at) return mt_error_set(err, MT_EIO, "sink full");
    return MT_OK;
}

Test(taxi_gen, stream_chunks_and_errors)
{
    mt_error err;
    mt_error_clear(&err);
    stream_ctx s = {0};
    cr_assert_eq(mt_datagen_taxi_stream(2500, 1, 1000, on_chunk, &s, &err), MT_OK);
    cr_assert_eq(s.calls, 3);
    cr_assert_eq(s.rows, 2500);
    stream_ctx f = {.fail_at = 2};
    cr_assert_eq(mt_datagen_taxi_stream(2500, 1, 1000, on_chunk, &f, &err), MT_EIO);
    cr_assert_str_eq(err.msg, "sink full");
    cr_assert_eq(f.calls, 2);
    mt_table *t = NULL;
    cr_assert_eq(mt_datagen_taxi(-1, 0, 0, &t, &err), MT_EINVAL);
    cr_assert_null(t);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int64_t n)
{
    double *c = mt_malloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double m = c[n / 2];
    mt_free(c);
    return m;
}

Test(taxi_gen, matches_documented_distributions)
{
    enum { N = 200000 };
    mt_table *t = gen(N, 0, 0);
    const double *pc = dcol(t, 0), *d = dcol(t, 1), *f = dcol(t, 2);
    const int64_t *dur = icol(t, 3), *hour = icol(t, 4), *dow = icol(t, 5);
    double sd = 0, sf = 0, sdd = 0, sff = 0, sdf = 0, spc = 0;
    int64_t big = 0, one = 0, two = 0, h16 = 0, fri = 0, neg = 0, zero = 0;
    double *mins = mt_malloc(N * sizeof *mins);
    for (int64_t i = 0; i < N; i++) {
        sd += d[i], sf += f[i], sdd += d[i] * d[i], sff += f[i] * f[i], sdf += d[i] * f[i];
        spc += pc[i];
        big += tip(t, i), one += pc[i] == 1, two += pc[i] == 2;
        h16 += hour[i] == 16, fri += dow[i] == 5, neg += f[i] < 0, zero += d[i] == 0;
        cr_assert(hour[i] >= 0 && hour[i] < 24 && dow[i] >= 0 && dow[i] < 7);
        cr_assert(d[i] >= 0 && dur[i] >= 0);
        mins[i] = dur[i] / 60.0;
    }
    double md = sd / N, mf = sf / N;
    double corr = (sdf / N - md * mf) / sqrt((sdd / N - md * md) * (sff / N - mf * mf));
    cr_expect(fabs(spc / N - 1.41) < 0.02, "mean passenger_count %f (doc 1.41)", spc / N);
    cr_expect(fabs((double)one / N - 0.746) < 0.01, "share 1 passenger %f", (double)one / N);
    cr_expect(fabs((double)two / N - 0.140) < 0.01, "share 2 passengers %f", (double)two / N);
    cr_expect(fabs(md - 2.81) < 0.25, "mean trip_distance %f (doc 2.81)", md);
    cr_expect(fabs(median(d, N) - 1.67) < 0.1, "median distance %f (doc 1.67)", median(d, N));
    cr_expect(fabs(mf - 11.83) < 1.0, "mean fare %f (doc 11.83)", mf);
    cr_expect(fabs(median(f, N) - 8.5) < 0.6, "median fare %f (doc 8.5)", median(f, N));
    cr_expect(fabs(corr - 0.91) < 0.04, "corr(distance, fare) %f (doc 0.91)", corr);
    cr_expect(fabs(median(mins, N) - 8.88) < 0.8, "median minutes %f (doc 8.88)", median(mins, N));
    cr_expect(fabs((double)big / N - 0.549) < 0.025, "big tips %f (doc 0.549)", (double)big / N);
    cr_expect(fabs((double)h16 / N - 0.088) < 0.004, "hour 16 share %f", (double)h16 / N);
    cr_expect(fabs((double)fri / N - 0.180) < 0.005, "friday share %f", (double)fri / N);
    cr_expect(fabs((double)neg / N - 0.004) < 0.003, "negative fares %f", (double)neg / N);
    cr_expect(fabs((double)zero / N - 0.012) < 0.003, "zero distance %f", (double)zero / N);
    mt_free(mins);
    mt_table_release(t);
}
