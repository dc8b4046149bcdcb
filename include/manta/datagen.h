/*
 * manta/datagen.h — synthetic data sets for demos, tests and benchmarks.
 *
 * The taxi generator produces the table used by Ray's NYC-taxi tutorial:
 *
 *   passenger_count  double   trip_distance  double   fare_amount  double
 *   trip_duration    int64    (seconds)      hour     int64 (0-23)
 *   day_of_week      int64    (0 = Sunday)   is_big_tip bool (tip > 20 % of fare)
 *
 * with values drawn from the distributions observed in real NYC TLC yellow-taxi
 * records of January 2021 (shared/testdata/TAXI-DISTRIBUTIONS.md). Every value of
 * row i depends only on (seed, i): a counter-based PRNG makes chunks independent,
 * so any chunking of the same rows with the same seed yields identical values.
 *
 * Thread safety: every function may be called from any thread; chunks may be
 * generated concurrently.
 */
#ifndef MANTA_DATAGEN_H
#define MANTA_DATAGEN_H

#include "manta/base.h"
#include "manta/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The taxi table's schema (a STRUCT type); a new reference the caller releases. */
MT_API mt_type *mt_datagen_taxi_schema(void);

/*
 * Generates rows [offset_row, offset_row + rows) of the taxi table for `seed`
 * into a new table (*out, caller releases). Returns MT_EINVAL for negative
 * rows/offset, MT_ENOMEM when allocation fails.
 */
MT_API mt_status mt_datagen_taxi(int64_t rows, uint64_t seed, int64_t offset_row, mt_table **out,
                                 mt_error *err);

/*
 * Called with each generated chunk, in row order. The chunk is released after
 * the callback returns (retain it to keep it). A status other than MT_OK stops
 * generation and is returned by mt_datagen_taxi_stream.
 */
typedef mt_status (*mt_datagen_chunk_fn)(void *ctx, mt_table *chunk, mt_error *err);

/*
 * Generates `rows` rows for `seed` in chunks of at most `chunk_rows` rows
 * (0 = 1,048,576), handing each to `fn`. Memory stays bounded by one chunk.
 */
MT_API mt_status mt_datagen_taxi_stream(int64_t rows, uint64_t seed, int64_t chunk_rows,
                                        mt_datagen_chunk_fn fn, void *ctx, mt_error *err);

#ifdef __cplusplus
}
#endif
#endif /* MANTA_DATAGEN_H */
