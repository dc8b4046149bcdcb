/*
 * ds_int.h — declarations shared inside src/dataset: the block codec
 * (block.c), the plan (dataset.c), the per-block operator chain (ops.c)
 * and the task functions workers run (tasks.c).
 *
 * Threads: a plan (mt_dataset) is used by one thread at a time; task
 * functions run on a worker's main thread.
 */
#ifndef MANTA_DS_INT_H
#define MANTA_DS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "manta/dataset.h"

/* ---- Blocks as bytes (block.c) -------------------------------------------
 * A block is a table stored as one object:
 *   "MTBK" u8 version 1, 3 pad | u32 header bytes | u64 rows
 *   | header: the schema (type tree), then per array node
 *     (i64 length, i64 null_count, per layout buffer: i64 size, u64 payload
 *     offset or ~0 when absent; children follow their parent)
 *   | payload: the buffers, each 64-byte aligned from the block's start.
 * Arrays are written with offset 0 (slices are normalised), so a decoded
 * block's buffers wrap the bytes where they lie: zero-copy. */

/* Bytes mt__block_encode will write for `t`. */
mt_status mt__block_size(const mt_table *t, size_t *size_out, mt_error *err);
/* Writes the block of `t` into out[0..size) (size from mt__block_size; out 64-byte aligned is best). */
mt_status mt__block_encode(const mt_table *t, uint8_t *out, size_t size, mt_error *err);
/*
 * Decodes a block in place: the table's buffers point into data[0..len),
 * which must stay valid until `on_free(owner)` runs — called once, when the
 * last buffer goes (NULL: the bytes outlive the table). Checks everything
 * (MT_ECORRUPT naming `what`, nothing leaked).
 */
mt_status mt__block_decode(const uint8_t *data, size_t len, void (*on_free)(void *), void *owner,
                           const char *what, mt_table **out, mt_error *err);
/*
 * Rows picked from up to MT__DS_PICK_MAX tables of one schema: row i of the
 * result is row rows[i] of tables[tab ? tab[i] : 0]. A block of them is
 * written straight from the sources (flat schemas: mt__block_pickable).
 */
#define MT__DS_PICK_MAX 1024
typedef struct mt__ds_pick {
    const mt_table *const *tables;
    int ntables;
    const int32_t *tab;
    const int64_t *rows;
    int64_t n;
} mt__ds_pick;
typedef struct mt__block_pick_plan mt__block_pick_plan;
bool mt__block_pickable(const mt_type *schema);
/* Checks the pick (sources' schemas, every row) and sizes its block. */
mt_status mt__block_pick_plan_make(const mt__ds_pick *p, mt__block_pick_plan **out, size_t *size, mt_error *err);
/* Writes the block into out[0..size) (size from the plan). */
void mt__block_pick_write(const mt__block_pick_plan *pl, uint8_t *out);
void mt__block_pick_plan_free(mt__block_pick_plan *pl);
/* Rows of a block from its header alone. */
mt_status mt__block_rows(const uint8_t *data, size_t len, int64_t *rows, mt_error *err);

/* ---- Paths (paths.c) -------------------------------------------------------- */

typedef struct mt__ds_paths {
    char **v;
    int n, cap;
} mt__ds_paths;

/* Appends the files `path` names: a file, a directory's files ending in
 * `ext` (not hidden or _-prefixed, sorted) or a glob; "file://" accepted.
 * `what` ("read_parquet") starts error messages. */
mt_status mt__ds_expand(const char *path, const char *ext, const char *what, mt__ds_paths *l, mt_error *err);
void mt__ds_paths_free(mt__ds_paths *l);

/* ---- Batch functions (batch_fn.c) ---------------------------------------- */

mt_batch_fn mt__batch_fn_lookup(const char *name);

typedef struct mt__batch_class {
    mt_batch_init_fn init;
    mt_batch_call_fn call;
    mt_batch_fini_fn fini;
} mt__batch_class;
bool mt__batch_class_lookup(const char *name, mt__batch_class *out);
/* Registers the actor class actor pools use (the worker process calls it at start). */
void mt__actor_pool_register(void);

/* ---- Per-block operators (ops.c) ------------------------------------------ */

typedef enum mt__ds_op_kind {
    MT__DS_SELECT,
    MT__DS_DROP,
    MT__DS_RENAME, /* names: old, new, old, new, … */
    MT__DS_MAP,
    MT__DS_FILTER,     /* fn returns a one-column bool table: rows where true stay */
    MT__DS_ADD_COLUMN, /* names[0] = the column; fn returns a one-column table */
} mt__ds_op_kind;

/* Operators whose output rows (or schema) only running can tell. */
static inline bool mt__ds_op_is_fn(const mt__ds_op_kind k)
{
    return k == MT__DS_MAP || k == MT__DS_FILTER || k == MT__DS_ADD_COLUMN;
}

typedef struct mt__ds_op {
    mt__ds_op_kind kind;
    char **names;
    int nnames;
    char *fn;           /* MAP, FILTER, ADD_COLUMN: a registered batch function */
    int64_t batch_size; /* rows per call, -1 = whole block */
    uint8_t *arg;       /* bytes passed to every call */
    double num_cpus;    /* the task's CPU demand for this step (0 = 1) */
    mt_resource *res;   /* other resources of the step (names owned) */
    int nres;
    size_t arg_len;
} mt__ds_op;

void mt__ds_op_free(mt__ds_op *op);
/* An owned copy of a resource list (names copied); MT_ENOMEM. */
mt_status mt__ds_res_copy(const mt_resource *src, int n, mt_resource **out, int *nout);
mt_status mt__ds_op_copy(const mt__ds_op *src, mt__ds_op *dst, mt_error *err);
/* The schema after `op` (a new reference), or NULL when only running it can tell (MAP). */
mt_status mt__ds_op_schema(const mt__ds_op *op, const mt_type *in, mt_type **out, mt_error *err);
/* Runs ops[0..n) over `in` (not consumed); *out is a new reference. `what` names the block in errors. */
mt_status mt__ds_ops_apply(const mt__ds_op *ops, int n, mt_table *in, const char *what, mt_table **out,
                           mt_error *err);

/* ---- Inputs and task specs (spec.c) ---------------------------------------- */

typedef enum mt__ds_input_kind {
    MT__DS_IN_PARQUET, /* row groups [rg_begin, rg_end) of path */
    MT__DS_IN_RANGE,   /* ids [start, end) */
    MT__DS_IN_BLOCK,   /* a stored block (refs[0]) */
    MT__DS_IN_SLICES,  /* the concatenation of slices of stored blocks */
    MT__DS_IN_CSV,     /* a CSV file (path, delimiter) */
} mt__ds_input_kind;

typedef struct mt__ds_slice {
    int ref;        /* index into the input's refs */
    int64_t offset, length;
} mt__ds_slice;

typedef struct mt__ds_input {
    mt__ds_input_kind kind;
    char *path;
    int32_t rg_begin, rg_end;
    char delimiter; /* CSV */
    int64_t start, end;
    mt_ref **refs; /* retained */
    int nrefs;
    mt__ds_slice *slices;
    int nslices;
    int64_t rows;  /* before any op; -1 unknown */
} mt__ds_input;

void mt__ds_input_free(mt__ds_input *in);
mt_status mt__ds_input_copy(const mt__ds_input *src, mt__ds_input *dst, mt_error *err);

/* What one task does: read `in` (projected to `columns`), run the ops, then
 * store the block or (write_path) write it as a Parquet file. */
typedef struct mt__ds_task {
    int64_t index; /* the block's position, for messages and file names */
    const mt__ds_input *in;
    char *const *columns; /* parquet projection, NULL = all */
    int ncolumns;
    const mt__ds_op *ops;
    int nops;
    const char *write_path;
    const char *write_format; /* "parquet" (NULL) or "csv" */
    const char *shuffle; /* JSON object text: the map side of a shuffle (shuffle.c) */
} mt__ds_task;

/* Compact JSON text of o, in an mt_malloc block; NULL when out of memory. */
char *mt__ds_json_text(const json_t *o);
/* A deep copy (session-owned), or NULL with err. */
mt_dataset *mt__ds_copy(const mt_dataset *src, mt_error *err);
/* JSON text of a task (mt_free it). Block refs travel as the task's arguments 1.. in order. */
mt_status mt__ds_task_encode(const mt__ds_task *t, char **json_out, mt_error *err);

/* ---- Plans (dataset.c) and their execution (exec.c) ------------------------- */

struct mt_dataset {
    int rc;
    mt_status st;            /* sticky */
    char msg[MT_ERROR_MSG_MAX];
    mt__ds_input *inputs;    /* one task each */
    int ninputs;
    char **columns;          /* parquet projection (NULL = all) */
    int ncolumns;
    mt__ds_op *ops;          /* run after reading each input */
    int nops;
    int64_t limit;           /* -1 = none: only the first `limit` rows */
    char *group_key;         /* mt_groupby: only aggregations apply */
    mt_type *schema;         /* known (owned) or NULL until run */
    struct mt_dataset *prev, *next; /* the session's live datasets */
};

typedef struct mt__ds_block {
    mt_ref *ref; /* the stored block (NULL after a write) */
    int64_t rows;
    int64_t cut; /* rows of the stored block past `rows` (a limit cut it; read a prefix) */
} mt__ds_block;

/* Where a run writes instead of storing blocks: <dir>/<id>_<index 6 digits>.<format>. */
typedef struct mt__ds_write {
    const char *dir, *id;
    const char *format; /* "parquet" or "csv" */
} mt__ds_write;

/*
 * A running plan: its tasks start as outputs are taken, at most config
 * dataset_max_tasks_in_flight at once (backpressure), outputs come in
 * input order. stop_rows >= 0: no new task once that many rows are in.
 * The executor holds its own copy of the plan. With a write, each task
 * writes its block as a file; stopping before the end or after a failure
 * removes every file of this write.
 */
typedef struct mt__ds_exec mt__ds_exec;
mt_status mt__ds_exec_start(const mt_dataset *ds, int64_t stop_rows, const mt__ds_write *w, const char *label,
                            mt__ds_exec **out, mt_error *err);
/* The next output (its ref moves to the caller; NULL for a write); *end true when there is none. */
mt_status mt__ds_exec_next(mt__ds_exec *ex, mt__ds_block *out, bool *end, mt_error *err);
/* Ends the run: unfinished tasks are dropped (a write's files removed unless it completed). NULL-tolerant. */
void mt__ds_exec_stop(mt__ds_exec *ex);
/* All outputs of a run at once (mt__ds_exec_* underneath). */
mt_status mt__ds_execute(const mt_dataset *ds, int64_t stop_rows, const mt__ds_write *w, mt__ds_block **out,
                         int *nout, mt_error *err);
void mt__ds_blocks_free(mt__ds_block *b, int n);
/* Runs ds with its limit applied (a block cut by the limit has its rows lowered: read a prefix). */
mt_status mt__ds_run_blocks(const mt_dataset *ds, mt__ds_block **out, int *n, mt_error *err);
/* A new dataset (session-owned) over `inputs` (moved in) with `schema` (retained). */
mt_dataset *mt__ds_from_inputs(mt__ds_input *inputs, int n, const mt_type *schema, mt_error *err);
/* A dataset in the error state (never NULL). */
mt_dataset *mt__ds_fail(mt_status st, const char *msg);
mt_dataset *mt__ds_check(mt_dataset *ds);
/* A stored block fetched and decoded in this process (the value is held by the table's buffers). */
mt_status mt__ds_fetch(mt_ref *block, const char *what, mt_table **out, mt_error *err);

/* ---- Worker side (tasks.c) ------------------------------------------------- */

/* Registers manta.data.* task functions (the worker process calls it at start). */
void mt__dataset_register(void);
void mt__shuffle_register(void);
/* A task's table: its input read (arguments 1.. are its blocks) and its operators run. */
mt_status mt__ds_task_table(mt_task_ctx *ctx, json_t *task, const mt_arg *args, int nargs, mt_table **out,
                            mt_error *err);
/* Returns `t` as the task's next result, encoded in place in the object store. */
mt_status mt__ds_store_block(mt_task_ctx *ctx, const mt_table *t, mt_error *err);
/* The alive nodes' CPUs (mt_cluster_resources), else this machine's: sizes windows and reduces. */
int mt__ds_cluster_cpus(void);
/* Stores the picked rows as one more return: gathered straight into the store where the schema allows. */
mt_status mt__ds_store_pick(mt_task_ctx *ctx, const mt__ds_pick *p, mt_error *err);

/* ---- Exchanges (shuffle.c) and sorting (sort.c) ------------------------------ */

/*
 * Runs a partitioned exchange: a map task per input of ds (`shuffle_json`:
 * the "shuffle" object its partition step reads), then p reduce tasks (the
 * JSON of reduce_base with "index" set). *out: the reduce outputs in order.
 */
mt_status mt__ds_exchange(const mt_dataset *ds, const char *shuffle_json, int p, json_t *reduce_base,
                          mt__ds_block **out, int *nout, mt_error *err);
/* A dataset over stored blocks (refs retained). */
mt_dataset *mt__ds_over(mt__ds_block *b, int n, const mt_type *schema, mt_error *err);
/* Every row of ds at random into p blocks (seed 0 = a random one). */
mt_dataset *mt__ds_shuffle_into(mt_dataset *ds, uint64_t seed, int p);
/* What a shuffle starts from: ds itself, or its materialised result after a limit. */
mt_dataset *mt__ds_shuffle_source(mt_dataset *ds);
/* Range partitioning for sort: part[r] for each row from sh's "key", "bounds", "descending". */
mt_status mt__ds_range_parts(const mt_table *t, json_t *sh, int32_t *part, mt_error *err);
/* t sorted by key (stable; nulls and NaN last in both directions). */
mt_status mt__ds_sort_table(const mt_table *t, const char *key, bool descending, mt_table **out, mt_error *err);
void mt__sort_register(void);

/* ---- Aggregation states (agg.c) --------------------------------------------- */

/* Partial states of `aggs` per key group of `t` (key NULL: one group): a table of key + state columns. */
mt_status mt__agg_partial(const mt_table *t, const char *key, json_t *aggs, mt_table **out, mt_error *err);
/* Merges concatenated partial states and finishes them: key + one column per aggregation, sorted by key. */
mt_status mt__agg_final(const mt_table *partials, const char *key, json_t *aggs, mt_table **out, mt_error *err);
/* Rows `rows[0..n)` of t, in that order (the column types aggregations produce and group on). */
mt_status mt__ds_take_rows(const mt_table *t, const int64_t *rows, int64_t n, mt_table **out, mt_error *err);

#endif /* MANTA_DS_INT_H */
