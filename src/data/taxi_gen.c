/*
 * taxi_gen.c — the synthetic NYC-taxi table of Ray's tutorial (manta/datagen.h).
 *
 * Owns the per-row model: hour, day of week and passenger count are drawn from
 * the January 2021 categorical shares; distance from a mixture (1.2 % zero, a
 * lognormal body of city trips and a lognormal tail of airport/outer-borough
 * trips); duration from distance and a distance-dependent lognormal speed;
 * fare from the 2021 meter ($2.50 + per mile + slow-traffic time, rounded to
 * $0.50, JFK flat fare $52) with multiplicative noise, negated for a third of
 * no-charge/dispute trips; tips only on card trips, with the tipped tip/fare
 * ratio following the observed quantiles, so is_big_tip = tip > 20 % of fare.
 *
 * Invariant: every value of row i is a function of (seed, i) only — each row
 * seeds its own splitmix64 stream — so chunks are independent and any chunking
 * yields identical bytes. Pure functions; any thread.
 */
#include <math.h>
#include <stdint.h>

#include "manta/datagen.h"

enum { TAXI_COLS = 7 };

static const char *const taxi_names[TAXI_COLS] = {
    "passenger_count", "trip_distance", "fare_amount", "trip_duration",
    "hour",            "day_of_week",   "is_big_tip",
};

/* Percent shares, January 2021 (TAXI-DISTRIBUTIONS.md). */
static const double hour_share[24] = {1.4, 0.5, 0.5, 0.1, 0.3, 0.5, 1.2, 3.4, 4.9, 5.7, 6.1, 6.0,
                                      6.7, 7.1, 7.7, 7.6, 8.8, 7.7, 7.2, 4.7, 3.5, 3.8, 2.7, 2.0};
static const double dow_share[7] = {10.6, 12.7, 13.8, 13.9, 15.5, 18.0, 15.6};
static const double pc_share[7] = {2.3, 74.6, 14.0, 4.0, 1.2, 2.1, 1.8}; /* index = count */

/* Tipped card trips: tip/fare quantile knots (p, ratio) interpolated linearly. */
static const double tip_p[7] = {0.0, 0.10, 0.25, 0.50, 0.75, 0.90, 1.0};
static const double tip_r[7] = {0.02, 0.143, 0.228, 0.283, 0.338, 0.412, 0.75};

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static rng row_rng(uint64_t seed, int64_t row)
{
    uint64_t k = seed ^ 0x5851F42D4C957F2Dull;
    uint64_t key = splitmix(&k);
    uint64_t s = key ^ ((uint64_t)row * 0xD1B54A32D192ED03ull);
    rng r = {splitmix(&s)};
    return r;
}

/* Uniform in (0, 1): 53 random bits, never 0. */
static double unif(rng *r)
{
    return ((double)(splitmix(&r->s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gauss(rng *r)
{
    double u1 = unif(r), u2 = unif(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static int categorical(rng *r, const double *pct, int n)
{
    double total = 0;
    for (int i = 0; i < n; i++) total += pct[i];
    double u = unif(r) * total, acc = 0;
    for (int i = 0; i < n - 1; i++) {
        acc += pct[i];
        if (u < acc) return i;
    }
    return n - 1;
}

static double round_to(double v, double step) { return nearbyint(v / step) * step; }

typedef struct taxi_row {
    double passengers, distance, fare;
    int64_t duration, hour, dow;
    bool big_tip;
} taxi_row;

static double draw_distance(rng *r, bool *long_trip)
{
    double u = unif(r);
    *long_trip = false;
    if (u < 0.012) return 0.0;
    double d;
    if (u < 0.132) {
        *long_trip = true;
        d = exp(2.05 + 0.62 * gauss(r));
    } else {
        d = exp(0.40 + 0.64 * gauss(r));
    }
    return round_to(fmin(d, 60.0), 0.01);
}

static double tip_ratio(rng *r)
{
    double p = unif(r);
    for (int i = 1; i < 7; i++)
        if (p <= tip_p[i])
            return tip_r[i - 1] +
                   (tip_r[i] - tip_r[i - 1]) * (p - tip_p[i - 1]) / (tip_p[i] - tip_p[i - 1]);
    return tip_r[6];
}

static void gen_row(uint64_t seed, int64_t row, taxi_row *o)
{
    rng r = row_rng(seed, row);
    o->hour = categorical(&r, hour_share, 24);
    o->dow = categorical(&r, dow_share, 7);
    o->passengers = categorical(&r, pc_share, 7);
    bool long_trip;
    double d = draw_distance(&r, &long_trip);
    double minutes;
    if (d > 0) {
        double speed = exp(log(10.0) + 0.30 * log(fmax(d, 0.1)) + 0.36 * gauss(&r));
        minutes = d / speed * 60.0 - 0.4 * log(unif(&r));
    } else {
        minutes = exp(1.2 + 0.9 * gauss(&r));
    }
    double slow = fmax(0.0, minutes - d * 5.0);
    double fare = (2.5 + 2.7 * d + 0.7 * slow) * exp(0.2 * gauss(&r));
    fare = fmax(2.5, round_to(fare, 0.5));
    if (long_trip && d > 10 && unif(&r) < 0.12) fare = 52.0; /* JFK flat fare */
    /* payment: card 73.2 %, cash 25.7 %, no charge 0.8 %, dispute 0.3 % (non-null shares) */
    double pay = unif(&r);
    bool card = pay < 0.732;
    if (pay >= 0.989 && unif(&r) < 0.35) fare = -fare;
    bool big = false;
    if (card && fare > 0 && unif(&r) < 0.959) {
        double tip = round_to(tip_ratio(&r) * fare, 0.01);
        big = tip > 0.2 * fare;
    }
    o->distance = d;
    o->fare = fare;
    o->duration = (int64_t)llround(minutes * 60.0);
    o->big_tip = big;
}

mt_type *mt_datagen_taxi_schema(void)
{
    static const mt_type_id ids[TAXI_COLS] = {MT_TYPE_FLOAT64, MT_TYPE_FLOAT64, MT_TYPE_FLOAT64,
                                              MT_TYPE_INT64,   MT_TYPE_INT64,   MT_TYPE_INT64,
                                              MT_TYPE_BOOL};
    mt_type *types[TAXI_COLS];
    bool nullable[TAXI_COLS];
    for (int i = 0; i < TAXI_COLS; i++) {
        types[i] = mt_type_new(ids[i]);
        nullable[i] = true;
    }
    mt_type *schema = mt_type_struct(TAXI_COLS, taxi_names, types, nullable);
    for (int i = 0; i < TAXI_COLS; i++) mt_type_release(types[i]);
    return schema;
}

static mt_status fill_buffers(int64_t rows, uint64_t seed, int64_t offset, mt_buffer **bufs)
{
    double *pc = (double *)bufs[0]->data, *dist = (double *)bufs[1]->data;
    double *fare = (double *)bufs[2]->data;
    int64_t *dur = (int64_t *)bufs[3]->data, *hour = (int64_t *)bufs[4]->data;
    int64_t *dow = (int64_t *)bufs[5]->data;
    uint8_t *tip = bufs[6]->data;
    for (int64_t i = 0; i < rows; i++) {
        taxi_row t;
        gen_row(seed, offset + i, &t);
        pc[i] = t.passengers;
        dist[i] = t.distance;
        fare[i] = t.fare;
        dur[i] = t.duration;
        hour[i] = t.hour;
        dow[i] = t.dow;
        if (t.big_tip) tip[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
    return MT_OK;
}

mt_status mt_datagen_taxi(int64_t rows, uint64_t seed, int64_t offset_row, mt_table **out,
                          mt_error *err)
{
    *out = NULL;
    if (rows < 0 || offset_row < 0 || rows > INT64_MAX / 8 - offset_row)
        return mt_error_set(err, MT_EINVAL, "taxi generator: bad row range (%lld rows at %lld)",
                            (long long)rows, (long long)offset_row);
    mt_buffer *bufs[TAXI_COLS] = {0};
    mt_array *cols[TAXI_COLS] = {0};
    mt_type *schema = mt_datagen_taxi_schema();
    mt_status st = schema ? MT_OK : MT_ENOMEM;
    for (int c = 0; c < TAXI_COLS && st == MT_OK; c++) {
        bufs[c] = mt_buffer_new(c == 6 ? (rows + 7) / 8 : rows * 8);
        if (!bufs[c]) st = MT_ENOMEM;
    }
    if (st == MT_OK) st = fill_buffers(rows, seed, offset_row, bufs);
    for (int c = 0; c < TAXI_COLS && st == MT_OK; c++) {
        mt_buffer *b[2] = {NULL, bufs[c]};
        cols[c] = mt_array_new(schema->fields[c].type, rows, 0, 0, b, 2, NULL, 0);
        if (!cols[c]) st = MT_ENOMEM;
    }
    if (st == MT_OK) st = mt_table_new(schema, cols, rows, out, err);
    else mt_error_set(err, st, "taxi generator: out of memory for %lld rows", (long long)rows);
    for (int c = 0; c < TAXI_COLS; c++) {
        mt_array_release(cols[c]);
        mt_buffer_release(bufs[c]);
    }
    mt_type_release(schema);
    return st;
}

mt_status mt_datagen_taxi_stream(int64_t rows, uint64_t seed, int64_t chunk_rows,
                                 mt_datagen_chunk_fn fn, void *ctx, mt_error *err)
{
    if (rows < 0) return mt_error_set(err, MT_EINVAL, "taxi generator: negative row count");
    if (chunk_rows <= 0) chunk_rows = 1048576;
    for (int64_t off = 0; off < rows; off += chunk_rows) {
        int64_t n = rows - off < chunk_rows ? rows - off : chunk_rows;
        mt_table *t = NULL;
        MT_RETURN_NOT_OK(mt_datagen_taxi(n, seed, off, &t, err));
        mt_status st = fn(ctx, t, err);
        mt_table_release(t);
        if (st != MT_OK) return st;
    }
    return MT_OK;
}
