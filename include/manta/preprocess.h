/*
 * manta/preprocess.h — Ray's Preprocessors: fitted once on a dataset (a
 * distributed aggregation), then applied the same way to datasets
 * (lazily, as a fused map_batches) and to single batches (serving).
 *
 * Fitted state is Ray's `stats_` dict, readable by Ray's key names
 * ("min(trip_distance)", "unique_values(color)", …) and serialised with
 * the preprocessor's settings as JSON; a preprocessor loaded back from its
 * JSON transforms identically.
 *
 * Errors are sticky as for datasets: a constructor given bad arguments
 * returns a preprocessor in the error state, and fit/transform on it fail
 * with that error. Transforming a fittable preprocessor before fitting is
 * MT_ESTATE ("… is not fitted yet. Call fit() first", Ray's
 * PreprocessorNotFittedException). Columns: NULL-terminated lists
 * (MT_COLUMNS("a", "b")).
 *
 * Threads: a preprocessor is used by one thread at a time; transform_batch
 * on a fitted one only reads it.
 */
#ifndef MANTA_PREPROCESS_H
#define MANTA_PREPROCESS_H

#include "manta/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mt_preprocessor mt_preprocessor;

/* (x - min) / (max - min); a constant column gives 0. Stats min(c), max(c). Output float64. */
MT_API mt_preprocessor *mt_min_max_scaler(const char *const *columns);
/* (x - mean) / std, std with ddof (Ray's default 0); std 0 divides by 1. Stats mean(c), std(c). */
MT_API mt_preprocessor *mt_standard_scaler(const char *const *columns, int ddof);
/* x / max(|x|); 0 divides by 1. Stats abs_max(c). */
MT_API mt_preprocessor *mt_max_abs_scaler(const char *const *columns);
/*
 * (x - median) / (high_quantile - low_quantile); a zero range divides by 1.
 * Quantile q of a column's n non-null values is its sorted value at index
 * int(q * (n - 1)) (Ray's method). low/high 0 and 0: Ray's (0.25, 0.75).
 * Stats low_quantile(c), median(c), high_quantile(c).
 */
MT_API mt_preprocessor *mt_robust_scaler(const char *const *columns, double low, double high);
/* Each row's values over `columns` divided by their norm: "l2" (default, NULL), "l1" or "max";
 * a zero norm leaves the row as it is. Not fittable. */
MT_API mt_preprocessor *mt_normalizer(const char *const *columns, const char *norm);
/*
 * One column per category, "<column>_<value>", 1 where the row holds it,
 * else 0 (int64); the source column goes. Categories are the column's
 * distinct non-null values in ascending order, or with max_categories > 0
 * the most frequent ones (ties: the smaller value). Unseen values and
 * nulls are 0 in every column. Stats unique_values(c): {value: index}.
 */
MT_API mt_preprocessor *mt_one_hot_encoder(const char *const *columns, int max_categories);
/* Each value replaced by its index among the column's sorted distinct values
 * (int64); unseen values and nulls become null. Stats unique_values(c). */
MT_API mt_preprocessor *mt_ordinal_encoder(const char *const *columns);
/* As the ordinal encoder, for one label column. Stats unique_values(label). */
MT_API mt_preprocessor *mt_label_encoder(const char *label_column);
/*
 * Fills nulls (and NaN): strategy "mean" (default; the column becomes
 * float64), "most_frequent" (ties: the smaller value) or "constant"
 * (fill_value_json: a JSON number, string or bool). Stats mean(c) or
 * most_frequent(c); "constant" is not fittable.
 */
MT_API mt_preprocessor *mt_simple_imputer(const char *const *columns, const char *strategy, const char *fill_value_json);
/*
 * Merges numeric columns into one list<float64> column (default name
 * "concat_out", appended last): `include` (NULL = every column but
 * `exclude`) in schema order; the merged columns go. Not fittable.
 */
MT_API mt_preprocessor *mt_concatenator(const char *output_column_name, const char *const *include,
                                        const char *const *exclude);
/* Fits and applies the steps in order (each fitted on the output of those before). Takes the steps. */
MT_API mt_preprocessor *mt_chain(mt_preprocessor *const *steps, int n);

/* Fits on ds (runs it). Refitting replaces the stats. */
MT_API mt_status mt_preprocessor_fit(mt_preprocessor *p, mt_dataset *ds, mt_error *err);
/* ds transformed (lazy: a fused batch step); an error dataset if p is not fitted. */
MT_API mt_dataset *mt_preprocessor_transform(mt_preprocessor *p, mt_dataset *ds);
MT_API mt_dataset *mt_preprocessor_fit_transform(mt_preprocessor *p, mt_dataset *ds);
/* One batch, in this process (serving). *out is a new table. */
MT_API mt_status mt_preprocessor_transform_batch(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err);

/* MT_OK, or the sticky error (bad construction). */
MT_API mt_status mt_preprocessor_status(const mt_preprocessor *p, mt_error *err);
/* Fitted, or needs no fitting. */
MT_API bool mt_preprocessor_fitted(const mt_preprocessor *p);
/* A numeric fitted stat by Ray's key ("min(trip_distance)"); MT_ENOTFOUND if absent. */
MT_API mt_status mt_preprocessor_stat(const mt_preprocessor *p, const char *key, double *out, mt_error *err);
/* Ray's stats_ dict as JSON text (mt_free it); "{}" before fitting; NULL when out of memory. */
MT_API char *mt_preprocessor_stats_json(const mt_preprocessor *p);
/* Ray's repr: "MinMaxScaler(columns=['a', 'b'])". Returns the length it needs. */
MT_API size_t mt_preprocessor_repr(const mt_preprocessor *p, char *buf, size_t cap);
/* Settings and stats as JSON (mt_free it), and back. */
MT_API char *mt_preprocessor_to_json(const mt_preprocessor *p);
MT_API mt_status mt_preprocessor_from_json(const char *json, mt_preprocessor **out, mt_error *err);
MT_API void mt_preprocessor_free(mt_preprocessor *p); /* NULL-tolerant */

#ifdef __cplusplus
}
#endif

#endif /* MANTA_PREPROCESS_H */
