/*
 * pq_value.h — declarations shared by the value half of the Parquet reader:
 * the schema tree (pq_schema.c), the RLE/bit-packed hybrid (rle.c), the value
 * decoders (decode_*.c), column chunk reading (column_read.c) and nested
 * assembly from levels (assemble.c).
 *
 * Single-threaded per reader. Invariants: every length or count taken from
 * the file is checked before use; levels fit in uint8_t because the schema
 * depth is limited to PQ_MAX_DEPTH; decoders never read outside [p, p+len)
 * and never write more than the count they were asked for.
 */
#ifndef MANTA_PQ_VALUE_H
#define MANTA_PQ_VALUE_H

#include <stdint.h>
#include <string.h>

#include "parquet/pq_int.h"

#define PQ_MAX_DEPTH 64

enum pq_node_kind { PQ_NODE_LEAF, PQ_NODE_STRUCT, PQ_NODE_LIST, PQ_NODE_MAP };

/* How a leaf's Arrow values are stored while reading. */
enum pq_store {
    PQ_STORE_BOOL,   /* bitmap, one bit per value */
    PQ_STORE_FIXED,  /* `width` bytes per value */
    PQ_STORE_BINARY, /* int32 offsets + bytes */
};

/* Conversion from the physical values to the Arrow values. */
enum pq_conv {
    PQ_CONV_NONE,     /* physical layout == Arrow layout */
    PQ_CONV_I32_I8,   /* INT32 truncated to 1 byte (int8, uint8) */
    PQ_CONV_I32_I16,  /* INT32 truncated to 2 bytes */
    PQ_CONV_I32_DEC,  /* INT32 sign-extended to decimal128 */
    PQ_CONV_I64_DEC,  /* INT64 sign-extended to decimal128 */
    PQ_CONV_I96_TS,   /* INT96 (nanos of day, Julian day) to int64 timestamp */
    PQ_CONV_BA_DEC,   /* big-endian BYTE_ARRAY to decimal128 */
    PQ_CONV_FLBA_DEC, /* big-endian FIXED_LEN_BYTE_ARRAY to decimal128 */
};

typedef struct pq_leaf {
    const pq_schema_element *el;
    int32_t column;     /* index of the column chunk in a row group */
    int physical;       /* enum pq_physical */
    int32_t phys_width; /* bytes per PLAIN value of fixed-width physical types, else 0 */
    uint8_t max_def, max_rep;
    int store;          /* enum pq_store */
    int32_t width;      /* Arrow bytes per value for PQ_STORE_FIXED */
    int conv;           /* enum pq_conv */
    int i96_unit;       /* PQ_CONV_I96_TS: mt_time_unit of the result */
    char *path;         /* dotted path for messages */
} pq_leaf;

/*
 * One Arrow node. Its instances in the levels of any leaf below it are the
 * entries with rep <= slot_rep and def >= slot_def; an instance is valid
 * (non-null) when def >= def.
 */
typedef struct pq_node {
    int kind;           /* enum pq_node_kind */
    char *name;
    mt_type *type;      /* owned reference */
    bool nullable;
    uint8_t slot_def, slot_rep, def;
    int32_t leaf;       /* first leaf below (or this leaf) */
    int32_t num_leaves; /* leaves below */
    int32_t num_children;
    struct pq_node *children; /* LIST: [item]; MAP: [entries struct]; STRUCT: fields */
} pq_node;

struct pq_schema {
    int32_t num_fields;
    pq_node *fields;
    int32_t num_leaves;
    pq_leaf *leaves;
    mt_type *arrow;
};

/* ---- RLE / bit-packed hybrid (rle.c) ----------------------------------- */

typedef struct pq_rle {
    const uint8_t *p, *end;
    int bit_width;
    int64_t remaining;    /* values the caller may still ask for */
    uint32_t rle_left;    /* values left in the current RLE run */
    uint32_t rle_value;
    uint32_t bp_left;     /* values left in the current bit-packed run */
    uint32_t buf[8];      /* unpacked group */
    int buf_pos;          /* next value in buf (8 = empty) */
} pq_rle;

/* `total`: the number of values the stream must supply; longer runs are corrupt. */
void pq_rle_init(pq_rle *d, const uint8_t *p, size_t len, int bit_width, int64_t total);
mt_status pq_rle_get_u32(pq_rle *d, uint32_t *out, int64_t n, mt_error *err);
mt_status pq_rle_get_u8(pq_rle *d, uint8_t *out, int64_t n, mt_error *err);
/*
 * The next stretch of at most `max` values (max > 0, at most the values
 * remaining): either an RLE run (run = true: `n` copies of `value`, nothing
 * written to buf) or `n` unpacked values in buf (room for `max`, rounded up to
 * 8). Lets consumers fill runs and fuse unpacking with their own loop.
 */
typedef struct pq_rle_chunk {
    bool run;
    uint32_t value;
    int64_t n;
    const uint8_t *packed; /* pq_rle_next_chunk_packed only, else NULL */
} pq_rle_chunk;
mt_status pq_rle_next_chunk(pq_rle *d, uint32_t *buf, int64_t max, pq_rle_chunk *c, mt_error *err);
/*
 * As pq_rle_next_chunk, but a stretch of whole bit-packed groups may come
 * back still packed: `packed` points at n / 8 groups of bit_width bytes each,
 * and 8-byte loads anywhere within them stay inside the stream (read each
 * value as pq_unpack_at does). Other stretches come back as before.
 */
mt_status pq_rle_next_chunk_packed(pq_rle *d, uint32_t *buf, int64_t max, pq_rle_chunk *c,
                                   mt_error *err);
/* Value k of a bit-packed group at `in` (an 8-byte load from in + k * bw / 8). */
static inline uint32_t pq_unpack_at(const uint8_t *in, int k, int bw)
{
    const uint64_t mask = bw == 32 ? 0xffffffffu : ((1ull << bw) - 1);
    int bit = k * bw;
    uint64_t w;
    memcpy(&w, in + (bit >> 3), 8);
    return (uint32_t)((w >> (bit & 7)) & mask);
}
/* True when [p, p+len) starts with RLE runs of `value` only, `n` values in all. */
bool pq_rle_is_const(const uint8_t *p, size_t len, int bit_width, int64_t n, uint32_t value);
/* Booleans (bit width 1) into a bitmap starting at bit `bit_off`. */
mt_status pq_rle_get_bits(pq_rle *d, uint8_t *bitmap, int64_t bit_off, int64_t n, mt_error *err);
/* Unpacks `n` (multiple of 8) values of `bw` bits (0..32) from `in` (n*bw/8 bytes). */
void pq_unpack32(const uint8_t *in, uint32_t *out, int64_t n, int bw);
/* Legacy BIT_PACKED levels (MSB first): n values of bw bits; *used = bytes consumed. */
mt_status pq_bitpacked_levels(const uint8_t *p, size_t len, int bw, uint8_t *out, int64_t n,
                              size_t *used, mt_error *err);
/* Copies n bits src[src_off..] to dst[dst_off..]. */
void pq_copy_bits(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off, int64_t n);
static inline int pq_bit_width(uint32_t max)
{
    return max == 0 ? 0 : 32 - __builtin_clz(max);
}

/* ---- Value sinks and decoders (decode_*.c) ----------------------------- */

/*
 * Where decoded values go: Arrow storage of one leaf. `values` holds fixed
 * values or bytes or bits; `offsets` (BINARY) holds count+1 int32 offsets.
 * `count` values are present; decoders append.
 */
typedef struct pq_sink {
    const pq_leaf *leaf;
    mt_buffer *values;
    mt_buffer *offsets;
    int64_t count;
    int64_t bytes; /* BINARY: bytes used in values */
} pq_sink;

/* Grows the sink for `n` more values (and `extra_bytes` more BINARY bytes). */
mt_status pq_sink_reserve(pq_sink *s, int64_t n, int64_t extra_bytes, mt_error *err);
/* Appends one BINARY value (caller reserved room for the offset). */
mt_status pq_sink_append_bytes(pq_sink *s, const uint8_t *p, int64_t n, mt_error *err);
/* Converts `n` physical fixed-width values (phys_width bytes each) into the sink. */
void pq_convert_fixed(const pq_leaf *leaf, const uint8_t *in, int64_t n, uint8_t *out);
/* Converts a big-endian two's complement of `n` bytes (<= 16) to 16-byte LE. */
void pq_decimal_be_to_le(const uint8_t *in, int32_t n, uint8_t out[16]);

/* PLAIN: decodes `n` values from [p, p+len) into the sink; *used = bytes consumed. */
mt_status pq_decode_plain(pq_sink *s, const uint8_t *p, size_t len, int64_t n, size_t *used,
                          mt_error *err);

/* A dictionary in Arrow storage of the leaf. */
typedef struct pq_dict {
    pq_sink values; /* count = dictionary size */
} pq_dict;
mt_status pq_dict_load(pq_dict *d, const pq_leaf *leaf, const uint8_t *p, size_t len, int64_t n,
                       mt_error *err);
void pq_dict_fini(pq_dict *d);
/* RLE_DICTIONARY indices (bit-width byte first) → `n` values appended to the sink. */
mt_status pq_decode_dict(pq_sink *s, const pq_dict *d, const uint8_t *p, size_t len, int64_t n,
                         mt_error *err);

/* DELTA_BINARY_PACKED into int64 (wrapping); *used = bytes consumed. */
mt_status pq_delta_decode_i64(const uint8_t *p, size_t len, int64_t n, int64_t *out, size_t *used,
                              mt_error *err);
mt_status pq_decode_delta_binary(pq_sink *s, const uint8_t *p, size_t len, int64_t n,
                                 mt_error *err);
mt_status pq_decode_delta_length(pq_sink *s, const uint8_t *p, size_t len, int64_t n,
                                 mt_error *err);
mt_status pq_decode_delta_byte_array(pq_sink *s, const uint8_t *p, size_t len, int64_t n,
                                     mt_error *err);
mt_status pq_decode_bss(pq_sink *s, const uint8_t *p, size_t len, int64_t n, mt_error *err);
/* RLE booleans with a 4-byte length prefix. */
mt_status pq_decode_rle_bool(pq_sink *s, const uint8_t *p, size_t len, int64_t n, mt_error *err);

/* ---- Column chunks and assembly ---------------------------------------- */

/*
 * A leaf's decoded column chunk. Generic (nested) leaves keep their levels
 * in def/rep. Flat leaves (a top-level field with max_rep 0, max_def <= 1)
 * keep no levels: their definition levels go straight into `valid`, which
 * stays NULL while every slot is valid.
 */
typedef struct pq_column_data {
    int64_t num_levels;
    uint8_t *def, *rep; /* mt_malloc'd; NULL when max_def / max_rep is 0, or flat */
    bool flat;
    mt_buffer *valid;   /* flat: validity of num_levels slots, NULL when no nulls */
    int64_t null_count; /* flat */
    pq_sink sink;       /* non-null values */
} pq_column_data;

/* `flat`: the leaf is a whole top-level field with max_rep 0 and max_def <= 1. */
mt_status pq_column_read(const pq_leaf *leaf, const pq_column_chunk *cc, int64_t num_rows,
                         const uint8_t *file, size_t file_len, bool verify_crc, bool flat,
                         const char *ctx, pq_column_data *out, mt_error *err);
void pq_column_data_fini(pq_column_data *c);

/* Builds the array of `node` from its leaves' data (indexed like s->leaves, minus node->leaf). */
mt_status pq_assemble(const pq_schema *s, const pq_node *node, pq_column_data *cols,
                      int64_t num_rows, mt_array **out, mt_error *err);

#endif /* MANTA_PQ_VALUE_H */
