/*
 * manta/dataset.h — Ray Data in C: a Dataset is a lazy plan over blocks
 * (columnar tables stored as objects in the cluster's object store), run
 * as tasks on the cluster when something consumes it.
 *
 * Errors are sticky (cairo's model): a call that fails returns a dataset
 * in the error state, and a call on a failed dataset returns one in the
 * same state, so a pipeline is checked once with mt_dataset_status().
 *
 * Lifetimes: datasets are reference counted and also owned by the session:
 * mt_shutdown() frees every dataset still alive, so a short driver needs no
 * frees; a long-running one calls mt_dataset_release() when done.
 * Transformations never consume their input: each returns a new handle.
 *
 * Threads: a dataset may be used from any thread, one call at a time.
 * Needs mt_init() (the cluster runs the work).
 */
#ifndef MANTA_DATASET_H
#define MANTA_DATASET_H

#include <stdio.h>

#include "manta/core.h"
#include "manta/data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mt_dataset mt_dataset;

/* A NULL-terminated list of column names: MT_COLUMNS("a", "b"). */
#define MT_COLUMNS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- Sources ----------------------------------------------------------- */

typedef struct mt_read_parquet_options {
    const char *const *columns; /* NULL-terminated projection; NULL = every column */
    /* Consecutive row groups of a file are read as one block until it holds
     * at least this many rows; 0 = one block per row group. */
    int64_t rows_per_block;
} mt_read_parquet_options;

/*
 * Reads Parquet: `path` is a file, a directory (its *.parquet files, sorted),
 * or a glob; "file://" prefixes are accepted. One read task per row-group
 * range. The footers are read now (schema, row counts); missing files and
 * bad footers fail here, naming the file.
 */
MT_API mt_dataset *mt_read_parquet(const char *path, const mt_read_parquet_options *opts);
/* As mt_read_parquet over a NULL-terminated list of paths. */
MT_API mt_dataset *mt_read_parquet_paths(const char *const *paths, const mt_read_parquet_options *opts);
/* A dataset of one table (put into the store as one block; the table is not consumed). */
MT_API mt_dataset *mt_from_table(mt_table *table);
/* Rows 0..n-1 in an int64 column "id", in `num_blocks` blocks (0 = a default). */
MT_API mt_dataset *mt_range(int64_t n, int num_blocks);

/* ---- Transformations (lazy; fused into the read tasks) ----------------- */

MT_API mt_dataset *mt_select_columns(mt_dataset *ds, const char *const *columns);
MT_API mt_dataset *mt_drop_columns(mt_dataset *ds, const char *const *columns);
/* pairs: old, new, old, new, …, NULL. */
MT_API mt_dataset *mt_rename_columns(mt_dataset *ds, const char *const *pairs);

/*
 * A batch function: turns one batch (a table) into another. `arg` is the
 * bytes given to mt_map_batches (may be NULL/0). *out is a new table (may be
 * `in` retained). A failure carries the function's message; the dataset's
 * error names the block.
 */
typedef mt_status (*mt_batch_fn)(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err);
/* Registers a batch function by name (in the driver and in the job's code
 * library, so workers find it); MT_EEXIST for a different fn under a taken name. */
MT_API mt_status mt_batch_fn_register(const char *name, mt_batch_fn fn);
/* Defines and registers a batch function at load time. */
#define MT_BATCH_FN(fn)                                                                  \
    static mt_status fn(mt_table *, const void *, size_t, mt_table **, mt_error *);     \
    __attribute__((constructor)) static void mt__register_batch_##fn(void)             \
    {                                                                                    \
        mt_batch_fn_register(#fn, fn);                                                   \
    }                                                                                    \
    static mt_status fn

typedef struct mt_map_batches_options {
    int64_t batch_size;  /* rows per call; 0 = Ray's default 4096; -1 = the whole block */
    const void *arg;     /* bytes passed to every call (copied) */
    size_t arg_len;
} mt_map_batches_options;

/* Applies the registered batch function `fn_name` to every batch of every block. */
MT_API mt_dataset *mt_map_batches(mt_dataset *ds, const char *fn_name, const mt_map_batches_options *opts);
/* The first n rows. */
MT_API mt_dataset *mt_limit(mt_dataset *ds, int64_t n);

/* ---- Execution and consumption ------------------------------------------ */

/* Runs the plan now; the result holds its blocks in the object store. */
MT_API mt_dataset *mt_materialize(mt_dataset *ds);
/* Rows; from metadata when the plan keeps row counts. -1 on error (see mt_dataset_status). */
MT_API int64_t mt_count(mt_dataset *ds);
/* The schema (a STRUCT type owned by the dataset), or NULL on error. */
MT_API const mt_type *mt_dataset_schema(mt_dataset *ds);
/* Blocks of the plan's output (materialised datasets: exact). -1 on error. */
MT_API int64_t mt_num_blocks(mt_dataset *ds);
/* Ray's schema print: a "Column  Type" table. */
MT_API void mt_print_schema(mt_dataset *ds);
/* Prints the first n rows, one {'col': value, …} per line (Ray's show). */
MT_API void mt_show(mt_dataset *ds, int64_t n);
/* The first n rows as one table (caller releases); NULL on error. */
MT_API mt_table *mt_take_table(mt_dataset *ds, int64_t n);
/* The whole dataset as one table in this process (caller releases); NULL on error. */
MT_API mt_table *mt_to_table(mt_dataset *ds);
/*
 * Writes one Parquet file per block into directory `dir` (created),
 * named <write id>_<block index, 6 digits>.parquet. Files appear whole
 * (written aside and renamed); a failure leaves none of this write's files.
 */
MT_API mt_status mt_write_parquet(mt_dataset *ds, const char *dir, mt_error *err);

/* ---- Errors and lifetime -------------------------------------------------- */

/* MT_OK, or the sticky error of the first failed step (message in err). */
MT_API mt_status mt_dataset_status(const mt_dataset *ds, mt_error *err);
MT_API mt_dataset *mt_dataset_retain(mt_dataset *ds);
MT_API void mt_dataset_release(mt_dataset *ds); /* NULL-tolerant */

#ifdef __cplusplus
}
#endif

#endif /* MANTA_DATASET_H */
