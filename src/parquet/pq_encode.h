/*
 * pq_encode.h — writer internals shared by writer*.c and encode_*.c.
 *
 * The writer turns one leaf column of a row group into pages in four steps:
 *   1. shred (writer_schema.c): Arrow arrays -> definition/repetition levels
 *      plus the positions of the defined leaf values (Dremel);
 *   2. convert (encode_plain.c): those values -> their Parquet physical
 *      representation (pq_values), zero-copy where the layouts agree;
 *   3. statistics (writer_stats.c) over the physical values;
 *   4. encode (encode_*.c): levels with the RLE/bit-packed hybrid, values
 *      PLAIN or through the chunk's dictionary.
 * Everything here is single-threaded (one writer, one thread). Buffers grow
 * through the accounted allocator; every function that allocates returns a
 * status and leaves its outputs safe to free on failure.
 */
#ifndef MANTA_PQ_ENCODE_H
#define MANTA_PQ_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "parquet/pq_int.h"

/* ---- Growable byte buffer --------------------------------------------- */

typedef struct pq_buf {
    uint8_t *data;
    size_t len, cap;
} pq_buf;

/* Ensures room for `extra` more bytes. */
mt_status pq_buf_reserve(pq_buf *b, size_t extra, mt_error *err);
mt_status pq_buf_append(pq_buf *b, const void *p, size_t n, mt_error *err);
void pq_buf_fini(pq_buf *b);

/* ---- Writer schema (writer_schema.c) ---------------------------------- */

/* One Parquet leaf column with the Arrow type it comes from. */
typedef struct pq_w_leaf {
    const mt_type *type;  /* the Arrow leaf type (borrowed from the schema) */
    int physical;         /* enum pq_physical */
    int32_t type_length;  /* FIXED_LEN_BYTE_ARRAY width */
    int16_t max_def, max_rep;
    int32_t path_len;
    char **path;          /* path_in_schema (owned) */
    int32_t field;        /* top-level field index */
    bool top_nullable;    /* the top-level field is nullable */
    int32_t num_steps;
    int32_t *steps;       /* Arrow child index per nesting step from the column to the leaf */
    bool sort_signed;     /* statistics order: signed (true) or unsigned */
} pq_w_leaf;

typedef struct pq_w_schema {
    int32_t num_elems;
    pq_schema_element *elems; /* depth-first, elems[0] = root "schema" */
    int32_t num_leaves;
    pq_w_leaf *leaves;
} pq_w_schema;

/* Maps an Arrow STRUCT schema to Parquet; errors name the column. */
mt_status pq_w_schema_build(const mt_type *schema, pq_w_schema *out, mt_error *err);
void pq_w_schema_fini(pq_w_schema *s);

/* Levels and defined-value positions of one leaf over a run of rows. */
typedef struct pq_levels {
    int64_t num_levels;   /* level slots */
    int16_t *def, *rep;   /* NULL when max_def / max_rep is 0 */
    const mt_array *leaf; /* the leaf array the positions refer to */
    int64_t num_values;   /* defined leaf values */
    int64_t *pos;         /* absolute positions (offset included) in leaf; NULL: contiguous */
    int64_t first;        /* contiguous: position of value 0 */
} pq_levels;

/*
 * Shreds leaf `li` of top-level column `col` (an array of the leaf's
 * top-level field, `length` rows). Non-nullable fields holding nulls are
 * MT_EINVAL.
 */
mt_status pq_w_shred(const pq_w_schema *s, int32_t li, const mt_array *col, pq_levels *out,
                     mt_error *err);
void pq_levels_fini(pq_levels *l);

/* ---- Physical values (encode_plain.c) --------------------------------- */

/*
 * The defined values of a leaf in physical form. Fixed-width types
 * (BOOLEAN as one byte 0/1, INT32, INT64, FLOAT, DOUBLE, FLBA) are `n`
 * values of `width` bytes at `fixed`. BYTE_ARRAY values are views into the
 * Arrow buffers: value k is bytes[offsets[p] .. offsets[p+1]) with
 * p = pos ? pos[k] : first + k.
 */
typedef struct pq_values {
    int physical;
    int32_t width;
    int64_t n;
    const uint8_t *fixed;
    uint8_t *owned;        /* allocation behind `fixed`, if any */
    const int32_t *offsets;
    const uint8_t *bytes;
    const int64_t *pos;
    int64_t first;
} pq_values;

static inline int64_t pq_values_pos(const pq_values *v, int64_t k)
{
    return v->pos ? v->pos[k] : v->first + k;
}

mt_status pq_values_convert(const pq_w_leaf *leaf, const pq_levels *lv, pq_values *out,
                            mt_error *err);
void pq_values_fini(pq_values *v);
/* Bytes the PLAIN encoding of values [a, b) takes. */
size_t pq_plain_size(const pq_values *v, int64_t a, int64_t b);
/* Appends the PLAIN encoding of values [a, b). */
mt_status pq_plain_encode(const pq_values *v, int64_t a, int64_t b, pq_buf *out, mt_error *err);

/* ---- RLE / bit-packed hybrid (encode_rle.c) --------------------------- */

/* Bits needed for values 0..max. */
int pq_w_bit_width(uint64_t max);
/* Appends `n` levels at `bit_width` (no length prefix). */
mt_status pq_rle_encode16(const int16_t *v, int64_t n, int bit_width, pq_buf *out,
                          mt_error *err);
mt_status pq_rle_encode32(const uint32_t *v, int64_t n, int bit_width, pq_buf *out,
                          mt_error *err);

/* ---- Dictionary (encode_dict.c) --------------------------------------- */

typedef struct pq_dict pq_dict;

mt_status pq_dict_create(int physical, int32_t width, pq_dict **out, mt_error *err);
void pq_dict_destroy(pq_dict *d);
/*
 * Looks up / inserts values [a, b) of `v`, writing their indices to
 * `idx`. Sets *overflow (and leaves the dictionary as it was) when the PLAIN
 * dictionary would exceed `limit` bytes.
 */
mt_status pq_dict_add(pq_dict *d, const pq_values *v, int64_t a, int64_t b, int64_t limit,
                      uint32_t *idx, bool *overflow, mt_error *err);
int32_t pq_dict_size(const pq_dict *d);
/* The PLAIN-encoded dictionary page body. */
const pq_buf *pq_dict_plain(const pq_dict *d);

/* ---- Statistics (writer_stats.c) -------------------------------------- */

typedef struct pq_w_stats {
    bool has_min_max;
    bool min_truncated, max_truncated; /* bounds, not values (is_*_value_exact = false) */
    int64_t null_count;
    pq_buf min, max; /* PLAIN bytes of one value (BYTE_ARRAY: without length) */
} pq_w_stats;

/* BYTE_ARRAY min/max longer than this are truncated to bounds (parquet-mr's
 * and arrow-rs's column-index default): a prefix for min, a prefix with its
 * last character incremented for max, both valid UTF-8. */
#define PQ_STATS_TRUNCATE_BYTES 64

/* Folds values [0, v->n) into `st` (min/max as Parquet orders them). */
mt_status pq_w_stats_update(pq_w_stats *st, const pq_w_leaf *leaf, const pq_values *v,
                            mt_error *err);
/* Truncates long BYTE_ARRAY min/max (after the chunk's last update). */
void pq_w_stats_truncate(pq_w_stats *st, const pq_w_leaf *leaf);
void pq_w_stats_fini(pq_w_stats *st);

#endif /* MANTA_PQ_ENCODE_H */
