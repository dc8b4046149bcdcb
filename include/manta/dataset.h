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
/*
 * Ray's from_items: `json_items` is a JSON array of objects (keys become
 * columns, in first-seen order; a missing key is null) or of plain values
 * (one column "item"). Values are bool, integers (int64), numbers (double;
 * integers and numbers mixed give double), strings or null; anything else
 * fails naming the item and key. One block.
 */
MT_API mt_dataset *mt_from_items(const char *json_items);

typedef struct mt_read_csv_options {
    char delimiter;             /* 0 = ',' */
    const char *const *columns; /* NULL-terminated projection; NULL = every column */
} mt_read_csv_options;
/*
 * Reads CSV (docs/data/csv.md): `path` is a file, a directory (its *.csv
 * files, sorted) or a glob. One read task per file, the header names the
 * columns and types are inferred per file when the task runs, so files
 * must agree on their types.
 */
MT_API mt_dataset *mt_read_csv(const char *path, const mt_read_csv_options *opts);
MT_API mt_dataset *mt_read_csv_paths(const char *const *paths, const mt_read_csv_options *opts);

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
    double num_cpus;     /* CPUs each task running this step asks for (0 = 1; fused steps: the largest) */
    const mt_resource *resources; /* other resources each such task asks for (custom ones pin it to nodes that have them) */
    int num_resources;
    const void *arg;     /* bytes passed to every call (copied) */
    size_t arg_len;
} mt_map_batches_options;

/*
 * A batch class: stateful batch processing for actor pools (Ray's callable
 * class with ActorPoolStrategy). `init` builds the state once per actor from
 * the pool's argument bytes (loading a model, say); `call` turns a batch into
 * another with it; `fini` frees it when the actor ends (may be NULL).
 */
typedef mt_status (*mt_batch_init_fn)(const void *arg, size_t arg_len, void **state, mt_error *err);
typedef mt_status (*mt_batch_call_fn)(void *state, mt_table *in, mt_table **out, mt_error *err);
typedef void (*mt_batch_fini_fn)(void *state);
MT_API mt_status mt_batch_class_register(const char *name, mt_batch_init_fn init, mt_batch_call_fn call,
                                         mt_batch_fini_fn fini);
#define MT_BATCH_CLASS(name, init, call, fini)                                        \
    __attribute__((constructor)) static void mt__register_batch_class_##name(void) \
    {                                                                              \
        mt_batch_class_register(#name, (init), (call), (fini));                    \
    }

typedef struct mt_actor_pool_options {
    int size;           /* actors in the pool; 0 = 2 */
    double num_cpus;    /* per actor; 0 = 1 */
    int64_t batch_size; /* rows per call; 0 = 4096; -1 = whole blocks */
    const void *arg;    /* bytes given to every actor's init (copied) */
    size_t arg_len;
} mt_actor_pool_options;
/*
 * Runs the batch class `class_name` over every block on a pool of actors
 * (each block goes to the actor with the fewest pending; the pool starts
 * before the first block and ends after the last). Runs when called: the
 * result holds the output blocks, in input order. An init failure fails the
 * call naming the class; a batch failure names the block.
 */
MT_API mt_dataset *mt_map_batches_actors(mt_dataset *ds, const char *class_name, const mt_actor_pool_options *opts);

/* Applies the registered batch function `fn_name` to every batch of every block. */
MT_API mt_dataset *mt_map_batches(mt_dataset *ds, const char *fn_name, const mt_map_batches_options *opts);
/*
 * Keeps the rows for which the registered batch function `fn_name` says
 * true: it returns a table whose first column is bool, one value per row of
 * its batch (null counts as false). opts as for map_batches.
 */
MT_API mt_dataset *mt_filter(mt_dataset *ds, const char *fn_name, const mt_map_batches_options *opts);
/*
 * Adds column `name` (or replaces the column of that name, in place):
 * the registered batch function `fn_name` returns a table whose first
 * column holds one value per row of its batch.
 */
MT_API mt_dataset *mt_add_column(mt_dataset *ds, const char *name, const char *fn_name,
                                 const mt_map_batches_options *opts);
/* The first n rows. */
MT_API mt_dataset *mt_limit(mt_dataset *ds, int64_t n);
/*
 * The rows of datasets[0], then datasets[1], …: their schemas must be
 * equal (when known before running; otherwise reading the result fails).
 * Datasets with operators or a limit are materialised first; plain sources
 * are joined as they are (lazy).
 */
MT_API mt_dataset *mt_union(mt_dataset *const *datasets, int n);

/* ---- Splitting and repartitioning (split.c) ------------------------------
 * These run the plan now (the row counts decide where to cut); the parts
 * are lazy datasets reading slices of its blocks. parts_out has room for
 * the number of parts; on failure each part is a dataset in the error state
 * and the status says why. */

/*
 * n parts in order. equal: row counts differ by at most one (cuts inside
 * blocks); otherwise whole blocks are dealt out contiguously, balanced by
 * rows (Ray's default), cutting blocks only when there are fewer than n.
 */
MT_API mt_status mt_split(mt_dataset *ds, int n, bool equal, mt_dataset **parts_out);
/* n + 1 parts cut at the row indices (ascending, clamped to the row count). */
MT_API mt_status mt_split_at_indices(mt_dataset *ds, const int64_t *indices, int n, mt_dataset **parts_out);

typedef struct mt_train_test_split_options {
    bool shuffle;  /* shuffle globally first (mt_random_shuffle); Ray's default: no */
    uint64_t seed; /* for the shuffle; 0 = a random one */
} mt_train_test_split_options;
/*
 * Ray's train_test_split: test_size in (0, 1) is the test fraction (train
 * gets int((1 - test_size) * rows) rows, as Ray computes it), test_size >= 1
 * an absolute test row count. Without shuffle the order is kept and the
 * test part is the tail.
 */
MT_API mt_status mt_train_test_split(mt_dataset *ds, double test_size, const mt_train_test_split_options *opts,
                                     mt_dataset **train_out, mt_dataset **test_out);
/* The same rows in n blocks: shuffle false keeps the order with (nearly)
 * equal row counts; true shuffles every row at random into the n blocks (Ray's). */
MT_API mt_dataset *mt_repartition(mt_dataset *ds, int n, bool shuffle);

/* ---- Shuffles and aggregations (shuffle.c, agg.c) -------------------------
 * A partitioned exchange: map tasks (fused with the plan's reads and
 * operators) cut their block into partitions, reduce tasks merge one
 * partition each. These run when called and return datasets over the
 * reduce outputs. */

/* Every row in a random order decided by seed (0 = a random seed): the same
 * seed over the same plan gives the same order. */
MT_API mt_dataset *mt_random_shuffle(mt_dataset *ds, uint64_t seed);

/*
 * Sorts by `key` (numeric, bool, date/time or string): ascending, or
 * descending; nulls and NaN come last in both directions; rows with equal
 * keys keep their order (stable). A range-partitioned exchange: sampled
 * bounds, one range per output block.
 */
MT_API mt_dataset *mt_sort(mt_dataset *ds, const char *key, bool descending);

typedef enum mt_agg_kind {
    MT_AGG_COUNT, /* "count()": rows of the group */
    MT_AGG_SUM,   /* "sum(c)": int64 for integer columns, else double */
    MT_AGG_MIN,   /* "min(c)", "max(c)": int64 for integer columns, else double */
    MT_AGG_MAX,
    MT_AGG_MEAN,  /* "mean(c)": double */
    MT_AGG_STD,   /* "std(c)": double, with ddof (Ray's default 1) */
} mt_agg_kind;

typedef struct mt_agg {
    mt_agg_kind kind;
    const char *on; /* the column (NULL for COUNT) */
    int ddof;       /* STD: 0 = Ray's ddof 1; set ddof_set for an explicit 0 */
    bool ddof_set;
} mt_agg;

/* Groups by `key` (a numeric, bool, date/time or string column): only the
 * aggregations below apply to the result. */
MT_API mt_dataset *mt_groupby(mt_dataset *ds, const char *key);
/*
 * Aggregates a grouped dataset (one row per key, sorted by key ascending,
 * the null key last, columns key then one per aggregation) or a whole one
 * (one row). Nulls are skipped (Ray's ignore_nulls=True); a group without
 * values has a null result.
 */
MT_API mt_dataset *mt_aggregate(mt_dataset *ds, const mt_agg *aggs, int n);
/* Ray's shorthands: mt_mean(mt_groupby(ds, "k"), "v") is groupby("k").mean("v"). */
MT_API mt_dataset *mt_group_count(mt_dataset *grouped);
MT_API mt_dataset *mt_sum(mt_dataset *ds, const char *on);
MT_API mt_dataset *mt_min(mt_dataset *ds, const char *on);
MT_API mt_dataset *mt_max(mt_dataset *ds, const char *on);
MT_API mt_dataset *mt_mean(mt_dataset *ds, const char *on);
MT_API mt_dataset *mt_std(mt_dataset *ds, const char *on);

/* ---- Execution and consumption ------------------------------------------ */

/* Runs the plan now; the result holds its blocks in the object store. */
MT_API mt_dataset *mt_materialize(mt_dataset *ds);
/*
 * Streams a dataset in batches of batch_size rows (the last may be
 * shorter; 0 = Ray's default 256; -1 = whole blocks), in order: blocks are
 * computed as the iteration goes, a bounded number ahead (backpressure),
 * and each block leaves the object store's pins once its batches are
 * taken. One iterator, one thread.
 */
typedef struct mt_batch_iter mt_batch_iter;
typedef struct mt_iter_batches_options {
    int64_t batch_size;
    bool drop_last; /* drop a final batch shorter than batch_size */
} mt_iter_batches_options;
MT_API mt_batch_iter *mt_iter_batches(mt_dataset *ds, const mt_iter_batches_options *opts);
/* The next batch (caller releases): MT_OK with *batch NULL at the end; an error names the block. */
MT_API mt_status mt_batch_iter_next(mt_batch_iter *it, mt_table **batch, mt_error *err);
/* Ends the iteration early or late (drops the blocks not taken). NULL-tolerant. */
MT_API void mt_batch_iter_free(mt_batch_iter *it);

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
/* As mt_write_parquet, as CSV files (<write id>_<block>.csv, with a header). */
MT_API mt_status mt_write_csv(mt_dataset *ds, const char *dir, mt_error *err);

/* ---- Errors and lifetime -------------------------------------------------- */

/* MT_OK, or the sticky error of the first failed step (message in err). */
MT_API mt_status mt_dataset_status(const mt_dataset *ds, mt_error *err);
/* A dataset in the error state (for libraries built on datasets: their failures travel the same way). */
MT_API mt_dataset *mt_dataset_failed(mt_status st, const char *msg);
MT_API mt_dataset *mt_dataset_retain(mt_dataset *ds);
MT_API void mt_dataset_release(mt_dataset *ds); /* NULL-tolerant */

#ifdef __cplusplus
}
#endif

#endif /* MANTA_DATASET_H */
