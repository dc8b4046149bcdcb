/*
 * pq_thrift.h — a bounds-checked reader of the Thrift compact protocol, the
 * encoding of Parquet's footer and page headers (internal to the parquet
 * module).
 *
 * A pq_tr is a cursor over [p, end). Every read checks the remaining bytes
 * first and fails with MT_ECORRUPT ("truncated thrift data", "varint too
 * long", ...) instead of reading past the end; list/map sizes are bounded by
 * the remaining bytes (every element takes at least one byte), and skipping
 * unknown fields recurses at most PQ_TR_MAX_DEPTH levels. Single-threaded; the
 * cursor never owns the bytes it reads.
 */
#ifndef MANTA_PQ_THRIFT_H
#define MANTA_PQ_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manta/base.h"

/* Compact-protocol type ids as they appear in field headers. */
enum pq_tr_type {
    PQ_TT_STOP = 0,
    PQ_TT_TRUE = 1, /* BOOLEAN_TRUE; in lists/maps: BOOL */
    PQ_TT_FALSE = 2,
    PQ_TT_BYTE = 3,
    PQ_TT_I16 = 4,
    PQ_TT_I32 = 5,
    PQ_TT_I64 = 6,
    PQ_TT_DOUBLE = 7,
    PQ_TT_BINARY = 8,
    PQ_TT_LIST = 9,
    PQ_TT_SET = 10,
    PQ_TT_MAP = 11,
    PQ_TT_STRUCT = 12,
};

#define PQ_TR_MAX_DEPTH 64

typedef struct pq_tr {
    const uint8_t *p;
    const uint8_t *end;
    int depth; /* current struct nesting, checked against PQ_TR_MAX_DEPTH */
} pq_tr;

static inline void pq_tr_init(pq_tr *t, const uint8_t *p, size_t n)
{
    t->p = p;
    t->end = p + n;
    t->depth = 0;
}

static inline size_t pq_tr_remaining(const pq_tr *t) { return (size_t)(t->end - t->p); }

/* Unsigned LEB128 varint of at most 10 bytes. */
mt_status pq_tr_varint(pq_tr *t, uint64_t *out, mt_error *err);
/* Zigzag varints. i32/i16 reject values out of their range. */
mt_status pq_tr_i64(pq_tr *t, int64_t *out, mt_error *err);
mt_status pq_tr_i32(pq_tr *t, int32_t *out, mt_error *err);
mt_status pq_tr_byte(pq_tr *t, int8_t *out, mt_error *err);
mt_status pq_tr_double(pq_tr *t, double *out, mt_error *err);
/* Length-prefixed bytes; *out points into the buffer. */
mt_status pq_tr_binary(pq_tr *t, const uint8_t **out, uint32_t *len, mt_error *err);
/* As pq_tr_binary, returning an mt_malloc'ed NUL-terminated copy. */
mt_status pq_tr_string(pq_tr *t, char **out, mt_error *err);

/*
 * Reads the next field header of the struct being read. `last_id` is the
 * previous field id of this struct (start at 0). Sets *type (PQ_TT_STOP at
 * the end of the struct) and *id. For booleans the value is in the type:
 * PQ_TT_TRUE or PQ_TT_FALSE.
 */
mt_status pq_tr_field(pq_tr *t, int16_t *last_id, int16_t *id, int *type, mt_error *err);
/*
 * Reads a list or set header: element type and size. The size is checked
 * against the remaining bytes. Boolean elements are one byte each.
 */
mt_status pq_tr_list(pq_tr *t, int *elem_type, int32_t *size, mt_error *err);
/* Reads one boolean element of a list (one byte: 1 true, 0 or 2 false). */
mt_status pq_tr_list_bool(pq_tr *t, bool *out, mt_error *err);
/* Enters/leaves a nested struct, enforcing the depth limit. */
mt_status pq_tr_enter(pq_tr *t, mt_error *err);
static inline void pq_tr_leave(pq_tr *t) { t->depth--; }
/* Skips a value of compact type `type` (a field's value, or a list element). */
mt_status pq_tr_skip(pq_tr *t, int type, mt_error *err);
/* Skips a list-element value (booleans take one byte there). */
mt_status pq_tr_skip_elem(pq_tr *t, int type, mt_error *err);

#endif /* MANTA_PQ_THRIFT_H */
