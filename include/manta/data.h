/*
 * manta/data.h — columnar tables in the Arrow memory layout.
 *
 * A table is a schema (a STRUCT type) plus one array per column, all of the
 * same length. Arrays use Arrow's layout exactly: a validity bitmap (bit set =
 * valid; absent when there are no nulls), 64-byte aligned, reference-counted
 * buffers, int32 offsets for variable-width values and lists, children for
 * nested types. Slices share buffers (zero-copy). Arrays and tables cross
 * library boundaries through the Arrow C Data Interface.
 *
 * Layout per type (buffers[0] is always validity, or NULL):
 *   NA                          no buffers
 *   BOOL                        [1] bit-packed values (LSB first)
 *   INT*, UINT*, FLOAT*, DATE32, TIME*, TIMESTAMP, FLOAT16 (as uint16 bits)
 *                               [1] values, native little-endian
 *   UTF8, BINARY                [1] int32 offsets (offset+length+1 used), [2] bytes
 *   FIXED_BINARY, DECIMAL128    [1] values, byte_width bytes each
 *                               (DECIMAL128: 16-byte little-endian two's complement)
 *   LIST                        [1] int32 offsets, children[0] = items
 *   MAP                         [1] int32 offsets, children[0] = STRUCT<key, value> entries
 *   STRUCT                      children[i] per field; a slice's offset applies to
 *                               the children too (Arrow semantics)
 *
 * Ownership: types, buffers, arrays and tables are reference counted.
 * `_create`/constructor functions return a new reference the caller owns;
 * functions taking a type, buffer or array to store *retain* it (the caller
 * keeps its own reference). `_release` tolerates NULL.
 *
 * Thread safety: reference counts are atomic; an object is immutable once
 * shared, so readers on many threads are safe. Builders are single-threaded.
 */
#ifndef MANTA_DATA_H
#define MANTA_DATA_H

#include <stdio.h>

#include "manta/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Types ------------------------------------------------------------- */

typedef enum mt_type_id {
    MT_TYPE_NA = 0,
    MT_TYPE_BOOL,
    MT_TYPE_INT8,
    MT_TYPE_INT16,
    MT_TYPE_INT32,
    MT_TYPE_INT64,
    MT_TYPE_UINT8,
    MT_TYPE_UINT16,
    MT_TYPE_UINT32,
    MT_TYPE_UINT64,
    MT_TYPE_FLOAT16,
    MT_TYPE_FLOAT32,
    MT_TYPE_FLOAT64,
    MT_TYPE_UTF8,
    MT_TYPE_BINARY,
    MT_TYPE_FIXED_BINARY,
    MT_TYPE_DECIMAL128,
    MT_TYPE_DATE32,
    MT_TYPE_TIME32, /* unit SECOND or MILLI */
    MT_TYPE_TIME64, /* unit MICRO or NANO */
    MT_TYPE_TIMESTAMP,
    MT_TYPE_LIST,
    MT_TYPE_STRUCT,
    MT_TYPE_MAP,
} mt_type_id;

typedef enum mt_time_unit {
    MT_UNIT_SECOND = 0,
    MT_UNIT_MILLI,
    MT_UNIT_MICRO,
    MT_UNIT_NANO,
} mt_time_unit;

typedef struct mt_type mt_type;

/* A named child of a nested type (or a column of a schema). */
typedef struct mt_field {
    char *name;
    mt_type *type;
    bool nullable;
} mt_field;

/* Immutable once created. Fields are read directly. */
struct mt_type {
    mt_type_id id;
    int32_t byte_width;       /* FIXED_BINARY width; 16 for DECIMAL128; bytes per value
                                 for fixed-width primitives; 0 otherwise */
    int32_t precision, scale; /* DECIMAL128 */
    mt_time_unit unit;        /* TIME32, TIME64, TIMESTAMP */
    char *timezone;           /* TIMESTAMP: NULL = naive, else e.g. "UTC" */
    int32_t num_fields;       /* LIST, MAP: 1; STRUCT: n */
    mt_field *fields;
    int64_t refcount_;        /* internal */
};

/* A primitive type (NA, BOOL, INT*, UINT*, FLOAT*, UTF8, BINARY, DATE32). */
MT_API mt_type *mt_type_new(mt_type_id id);
MT_API mt_type *mt_type_fixed_binary(int32_t byte_width);
MT_API mt_type *mt_type_decimal128(int32_t precision, int32_t scale);
/* TIME32 for SECOND/MILLI, TIME64 for MICRO/NANO. */
MT_API mt_type *mt_type_time(mt_time_unit unit);
/* `timezone` may be NULL (naive); it is copied. */
MT_API mt_type *mt_type_timestamp(mt_time_unit unit, const char *timezone);
/* list<item>; `item_name` NULL means "item". Retains `item`. */
MT_API mt_type *mt_type_list(mt_type *item, bool item_nullable, const char *item_name);
/* struct of `n` fields; names are copied and types retained. */
MT_API mt_type *mt_type_struct(int32_t n, const char *const *names, mt_type *const *types,
                               const bool *nullables);
/* map<key, value> as Arrow: entries struct "entries"{key (non-null), value}. */
MT_API mt_type *mt_type_map(mt_type *key, mt_type *value, bool value_nullable);
MT_API mt_type *mt_type_retain(mt_type *t);
MT_API void mt_type_release(mt_type *t);
MT_API bool mt_type_equal(const mt_type *a, const mt_type *b);
/* Index of the field called `name` in a STRUCT type, or -1. */
MT_API int32_t mt_type_field_index(const mt_type *t, const char *name);
/*
 * Writes pyarrow's name of the type ("double", "string", "list<item: int64>",
 * "timestamp[us, tz=UTC]", "decimal128(9, 2)", "struct<a: int32>") into
 * `buf`, truncated to `cap` bytes. Returns the untruncated length.
 */
MT_API size_t mt_type_to_string(const mt_type *t, char *buf, size_t cap);
/* Bits per value in buffers[1] for fixed-width types (BOOL 1), 0 otherwise. */
MT_API int mt_type_bit_width(const mt_type *t);

/* ---- Buffers ----------------------------------------------------------- */

typedef struct mt_buffer mt_buffer;
typedef void (*mt_buffer_free_fn)(mt_buffer *buf);

struct mt_buffer {
    uint8_t *data;
    int64_t size;     /* bytes in use */
    int64_t capacity; /* bytes allocated (owned buffers only) */
    int64_t refcount_;
    mt_buffer_free_fn free_fn; /* NULL: data came from mt_malloc_aligned */
    void *owner;               /* for free_fn (an imported ArrowArray, a mapping …) */
};

/* A new, owned, 64-byte aligned buffer of `size` bytes (zeroed), capacity >= size. */
MT_API mt_buffer *mt_buffer_new(int64_t size);
/*
 * As mt_buffer_new, but bytes [0, size) are left uninitialised (only the
 * padding [size, capacity) is zeroed): for producers that overwrite every
 * byte, so large outputs cost neither a memset nor touching untouched pages.
 */
MT_API mt_buffer *mt_buffer_new_uninit(int64_t size);
/* Wraps foreign memory; `free_fn(buf)` runs when the last reference goes. */
MT_API mt_buffer *mt_buffer_wrap(uint8_t *data, int64_t size, mt_buffer_free_fn free_fn,
                                 void *owner);
/* Grows an owned, unshared buffer to at least `capacity` bytes (new bytes zeroed). */
MT_API mt_status mt_buffer_reserve(mt_buffer *buf, int64_t capacity, mt_error *err);
/* Sets size, growing capacity geometrically as needed. */
MT_API mt_status mt_buffer_resize(mt_buffer *buf, int64_t size, mt_error *err);
MT_API mt_status mt_buffer_append(mt_buffer *buf, const void *data, int64_t n, mt_error *err);
MT_API mt_buffer *mt_buffer_retain(mt_buffer *buf);
MT_API void mt_buffer_release(mt_buffer *buf);

/* ---- Arrays ------------------------------------------------------------ */

typedef struct mt_array mt_array;

struct mt_array {
    mt_type *type;
    int64_t length;
    int64_t offset;     /* in values (bits for BOOL and validity) */
    int64_t null_count; /* -1 = not yet computed */
    mt_buffer *buffers[3];
    int32_t num_children;
    mt_array **children;
    int64_t refcount_;
};

/*
 * A new array referring to `buffers` (the type's number of buffers, see the
 * layout table; NULL entries allowed where the layout permits) and
 * `children`. Types, buffers and children are retained.
 */
MT_API mt_array *mt_array_new(mt_type *type, int64_t length, int64_t offset, int64_t null_count,
                              mt_buffer *const *buffers, int32_t num_buffers,
                              mt_array *const *children, int32_t num_children);
/* An array of `length` nulls of any type (nested children are empty or all-null). */
MT_API mt_array *mt_array_new_null(mt_type *type, int64_t length);
MT_API mt_array *mt_array_retain(mt_array *a);
MT_API void mt_array_release(mt_array *a);
/* Number of buffers the layout of `t` uses (validity included). */
MT_API int mt_array_num_buffers(const mt_type *t);
/* Null count, computing and caching it if unknown. */
MT_API int64_t mt_array_null_count(mt_array *a);
static inline bool mt_array_is_valid(const mt_array *a, int64_t i)
{
    const mt_buffer *v = a->buffers[0];
    if (!v) return a->type->id != MT_TYPE_NA;
    int64_t j = a->offset + i;
    return (v->data[j >> 3] >> (j & 7)) & 1;
}
/* Typed access to buffers[1] at logical index i (no bounds checks). */
#define MT_ARRAY_VALUES(a, T) ((const T *)(a)->buffers[1]->data + (a)->offset)
/* Zero-copy slice [offset, offset+length); a new reference. */
MT_API mt_status mt_array_slice(mt_array *a, int64_t offset, int64_t length, mt_array **out,
                                mt_error *err);
/* Concatenates arrays of equal type into one new array. */
MT_API mt_status mt_array_concat(mt_array *const *arrays, int32_t n, mt_array **out,
                                 mt_error *err);
/* Full structural validation: buffer sizes, offsets monotonic and in bounds, children lengths. */
MT_API mt_status mt_array_validate(const mt_array *a, mt_error *err);
/* Value equality (type, length, validity and values; ignores offsets and unused bytes). */
MT_API bool mt_array_equal(const mt_array *a, const mt_array *b);

/* ---- Builders ---------------------------------------------------------- */

/*
 * Appends values one by one to a growing array of a flat type (BOOL, INT*,
 * UINT*, FLOAT*, UTF8, BINARY, FIXED_BINARY, DECIMAL128, DATE32, TIME*,
 * TIMESTAMP). Single-threaded. Appending a value of the wrong kind for the type
 * is a programmer error (assertion).
 */
typedef struct mt_array_builder mt_array_builder;
MT_API mt_array_builder *mt_array_builder_new(mt_type *type);
MT_API void mt_array_builder_destroy(mt_array_builder *b);
MT_API mt_status mt_array_builder_reserve(mt_array_builder *b, int64_t n, mt_error *err);
MT_API mt_status mt_array_builder_append_null(mt_array_builder *b, mt_error *err);
MT_API mt_status mt_array_builder_append_bool(mt_array_builder *b, bool v, mt_error *err);
/* INT*, UINT* (value truncated to the width), DATE32, TIME*, TIMESTAMP. */
MT_API mt_status mt_array_builder_append_int(mt_array_builder *b, int64_t v, mt_error *err);
MT_API mt_status mt_array_builder_append_uint(mt_array_builder *b, uint64_t v, mt_error *err);
/* FLOAT32, FLOAT64 (FLOAT16 takes raw bits through append_uint). */
MT_API mt_status mt_array_builder_append_double(mt_array_builder *b, double v, mt_error *err);
/* UTF8, BINARY, FIXED_BINARY (n must equal the width), DECIMAL128 (16 bytes LE). */
MT_API mt_status mt_array_builder_append_bytes(mt_array_builder *b, const void *p, int64_t n,
                                               mt_error *err);
MT_API int64_t mt_array_builder_length(const mt_array_builder *b);
/* Finishes into a new array and resets the builder for reuse. */
MT_API mt_status mt_array_builder_finish(mt_array_builder *b, mt_array **out, mt_error *err);

/* ---- Tables ------------------------------------------------------------ */

typedef struct mt_table {
    mt_type *schema; /* STRUCT; field i describes column i */
    int64_t num_rows;
    int32_t num_columns;
    mt_array **columns;
    int64_t refcount_;
} mt_table;

/* A table over `columns` (retained), which must match `schema` (retained) and num_rows. */
MT_API mt_status mt_table_new(mt_type *schema, mt_array *const *columns, int64_t num_rows,
                              mt_table **out, mt_error *err);
MT_API mt_table *mt_table_retain(mt_table *t);
MT_API void mt_table_release(mt_table *t);
MT_API int32_t mt_table_column_index(const mt_table *t, const char *name);
MT_API mt_status mt_table_slice(mt_table *t, int64_t offset, int64_t length, mt_table **out,
                                mt_error *err);
/* Concatenates tables with equal schemas. */
MT_API mt_status mt_table_concat(mt_table *const *tables, int32_t n, mt_table **out,
                                 mt_error *err);
/* A table with only the named columns, in the given order (NULL-terminated list). */
MT_API mt_status mt_table_select(mt_table *t, const char *const *names, mt_table **out,
                                 mt_error *err);
MT_API bool mt_table_equal(const mt_table *a, const mt_table *b);

/*
 * Group by one key column and compute mean(value) per group, as Ray's
 * `ds.groupby(key).mean(value)`: a table with columns `key` and
 * `mean(value)` (float64), sorted by key ascending, nulls in the key form
 * their own group sorted last; null values are skipped (ignore_nulls=True).
 */
MT_API mt_status mt_table_groupby_mean(mt_table *t, const char *key, const char *value,
                                       mt_table **out, mt_error *err);

/*
 * A grouping of a table's rows by one key column (numeric, bool, date/time,
 * string or binary): the building block of distributed aggregations.
 * Groups of valid keys are 0..num_groups-1 in first-appearance order; a
 * null key forms one more group, num_groups, when has_null. order lists the
 * groups sorted by key ascending (-0.0 equals 0.0, NaNs last), the null-key
 * group at the end. hash[g] is the same for equal keys of the same type in
 * any table (partitioning).
 */
typedef struct mt_group_index {
    int64_t num_groups;
    bool has_null;
    int32_t *group;   /* per row */
    int64_t *order;   /* num_groups + has_null entries */
    uint64_t *hash;   /* per group (the null group's is 0) */
    void *priv_;
} mt_group_index;
MT_API mt_status mt_table_group_index(const mt_table *t, const char *key, mt_group_index **out, mt_error *err);
/* The key of every group, in `order` (the null-key group's is null): a new array of the key's type. */
MT_API mt_status mt_group_index_keys(const mt_group_index *g, mt_array **out, mt_error *err);
MT_API void mt_group_index_free(mt_group_index *g); /* NULL-tolerant */

/* ---- Printing (Ray formats and canonical JSON) ------------------------- */

/* Ray's schema table: "Column  Type" / "------  ----" / one padded row per column. */
MT_API void mt_table_print_schema(const mt_type *schema, FILE *out);
/* Ray's ds.show() rows: one Python dict repr per line, {'a': 1, 'b': 'x'}. */
MT_API mt_status mt_table_print_rows(const mt_table *t, int64_t offset, int64_t limit, FILE *out,
                                     mt_error *err);
/* Every row as one canonical JSON object per line (see docs/data/json-values.md). */
MT_API mt_status mt_table_write_jsonl(const mt_table *t, FILE *out, mt_error *err);

/* ---- Arrow C Data Interface -------------------------------------------- */

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4
struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};
struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};
#endif

/* Exports a type as an ArrowSchema (name = `name`, may be NULL). Caller releases. */
MT_API mt_status mt_type_export(const mt_type *t, const char *name, bool nullable,
                                struct ArrowSchema *out, mt_error *err);
/* Exports an array; the ArrowArray holds references until released. Zero-copy. */
MT_API mt_status mt_array_export(mt_array *a, struct ArrowArray *out, mt_error *err);
/* Imports a schema (does not take ownership of `schema`). */
MT_API mt_status mt_type_import(const struct ArrowSchema *schema, mt_type **out, mt_error *err);
/*
 * Imports an array of type `type`. On success takes ownership of `array` (it is
 * moved: `array->release` becomes NULL) and the buffers are used zero-copy.
 */
MT_API mt_status mt_array_import(struct ArrowArray *array, mt_type *type, mt_array **out,
                                 mt_error *err);
/* A table exports as a STRUCT array/schema whose fields are the columns. */
MT_API mt_status mt_table_export(mt_table *t, struct ArrowSchema *schema_out,
                                 struct ArrowArray *array_out, mt_error *err);
MT_API mt_status mt_table_import(struct ArrowSchema *schema, struct ArrowArray *array,
                                 mt_table **out, mt_error *err);

/* ---- CSV --------------------------------------------------------------- */

typedef struct mt_csv_read_options {
    char delimiter;             /* 0 = ',' */
    char quote;                 /* 0 = '"' */
    bool no_header;             /* true: columns are named f0, f1, … */
    const char *const *null_values; /* NULL-terminated; NULL = {"", "NA", "NULL", "null", "NaN"?} see docs */
    mt_type *schema;            /* explicit STRUCT schema overriding inference; NULL = infer */
    int64_t infer_rows;         /* 0 = config csv_infer_rows */
} mt_csv_read_options;

/*
 * Reads an RFC 4180 CSV file into a table. Errors name the file, line and
 * column ("taxi.csv:17:3: unterminated quoted field").
 */
MT_API mt_status mt_csv_read(const char *path, const mt_csv_read_options *opts, mt_table **out,
                             mt_error *err);
MT_API mt_status mt_csv_read_memory(const char *name, const char *data, size_t len,
                                    const mt_csv_read_options *opts, mt_table **out,
                                    mt_error *err);

typedef struct mt_csv_write_options {
    char delimiter;  /* 0 = ',' */
    bool no_header;
} mt_csv_write_options;

/* Writes a table (flat columns) as CSV; writes to a temporary file and renames on success. */
MT_API mt_status mt_csv_write(const char *path, const mt_table *t, const mt_csv_write_options *opts,
                              mt_error *err);
MT_API mt_status mt_csv_write_stream(FILE *out, const mt_table *t,
                                     const mt_csv_write_options *opts, mt_error *err);

#ifdef __cplusplus
}
#endif
#endif /* MANTA_DATA_H */
