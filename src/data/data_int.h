/*
 * data_int.h — declarations shared between the files of src/data: bitmap
 * helpers, atomic refcount helpers and internal constructors. Not public.
 *
 * Thread safety: the helpers are pure functions over caller memory; the
 * refcount helpers are atomic.
 */
#ifndef MT_DATA_INT_H
#define MT_DATA_INT_H

#include <stdint.h>
#include <string.h>

#include "manta/data.h"

/* ---- Refcounts (atomic) ------------------------------------------------ */

static inline void mt__data_ref_inc(int64_t *rc)
{
    __atomic_add_fetch(rc, 1, __ATOMIC_RELAXED);
}
/* Returns true when this was the last reference. */
static inline bool mt__data_ref_dec(int64_t *rc)
{
    return __atomic_sub_fetch(rc, 1, __ATOMIC_ACQ_REL) == 0;
}

/* ---- Bitmaps (LSB first, as Arrow) ------------------------------------- */

static inline bool mt__data_bit_get(const uint8_t *bits, int64_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}
static inline void mt__data_bit_set(uint8_t *bits, int64_t i, bool v)
{
    uint8_t m = (uint8_t)(1u << (i & 7));
    if (v)
        bits[i >> 3] |= m;
    else
        bits[i >> 3] &= (uint8_t)~m;
}
static inline int64_t mt__data_bitmap_bytes(int64_t nbits)
{
    return (nbits + 7) / 8;
}
/* Number of set bits in bits[offset, offset+length). */
int64_t mt__data_popcount(const uint8_t *bits, int64_t offset, int64_t length);
/* Copies `length` bits from src at bit `src_off` to dst at bit `dst_off`. */
void mt__data_bits_copy(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off,
                        int64_t length);
/* Sets bits [off, off+length) of dst to `v`. */
void mt__data_bits_fill(uint8_t *dst, int64_t off, int64_t length, bool v);

/* ---- Internal helpers -------------------------------------------------- */

/* Bytes of buffers[1] used per value for fixed-width types (0: not fixed / BOOL). */
int32_t mt__data_fixed_width(const mt_type *t);
/* True for types laid out as validity + int32 offsets + bytes. */
static inline bool mt__data_is_varbin(mt_type_id id)
{
    return id == MT_TYPE_UTF8 || id == MT_TYPE_BINARY;
}
static inline bool mt__data_is_list_like(mt_type_id id)
{
    return id == MT_TYPE_LIST || id == MT_TYPE_MAP;
}
/* A new array taking ownership of the references in buffers/children (no retain). */
mt_array *mt__data_array_take(mt_type *type, int64_t length, int64_t null_count,
                              mt_buffer **buffers, int nbuf, mt_array **children,
                              int32_t nchild);

#endif /* MT_DATA_INT_H */
