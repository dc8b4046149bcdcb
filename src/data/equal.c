/*
 * equal.c — logical equality of arrays: same type, length, validity and
 * values of the valid slots. Offsets, the bytes under null slots and unused
 * buffer space are ignored. Floats compare bit for bit (NaN equals an
 * identical NaN; 0.0 and -0.0 differ).
 *
 * Threads: any; reads immutable arrays only.
 */
#include <string.h>

#include "data/data_int.h"

static bool range_eq(const mt_array *a, int64_t ai, const mt_array *b, int64_t bi, int64_t n);

static inline int32_t off32(const mt_array *a, int64_t i)
{
    int32_t v;
    memcpy(&v, a->buffers[1]->data + 4 * (a->offset + i), 4);
    return v;
}

static bool slot_eq(const mt_array *a, int64_t i, const mt_array *b, int64_t j)
{
    switch (a->type->id) {
    case MT_TYPE_NA:
        return true;
    case MT_TYPE_BOOL:
        return mt__data_bit_get(a->buffers[1]->data, a->offset + i) ==
               mt__data_bit_get(b->buffers[1]->data, b->offset + j);
    case MT_TYPE_UTF8:
    case MT_TYPE_BINARY: {
        int32_t sa = off32(a, i), la = off32(a, i + 1) - sa;
        int32_t sb = off32(b, j), lb = off32(b, j + 1) - sb;
        return la == lb && (la == 0 || memcmp(a->buffers[2]->data + sa,
                                              b->buffers[2]->data + sb, (size_t)la) == 0);
    }
    case MT_TYPE_LIST:
    case MT_TYPE_MAP: {
        int32_t sa = off32(a, i), la = off32(a, i + 1) - sa;
        int32_t sb = off32(b, j), lb = off32(b, j + 1) - sb;
        return la == lb && range_eq(a->children[0], sa, b->children[0], sb, la);
    }
    case MT_TYPE_STRUCT:
        for (int32_t k = 0; k < a->num_children; k++)
            if (!range_eq(a->children[k], a->offset + i, b->children[k], b->offset + j, 1))
                return false;
        return true;
    default: {
        int32_t w = mt__data_fixed_width(a->type);
        return memcmp(a->buffers[1]->data + (a->offset + i) * w,
                      b->buffers[1]->data + (b->offset + j) * w, (size_t)w) == 0;
    }
    }
}

static bool has_nulls(const mt_array *a) { return a->buffers[0] != NULL; }

/* a[ai, ai+n) equals b[bi, bi+n), indices logical (before each array's offset). */
static bool range_eq(const mt_array *a, int64_t ai, const mt_array *b, int64_t bi, int64_t n)
{
    int32_t w = mt__data_fixed_width(a->type);
    if (w > 0 && !has_nulls(a) && !has_nulls(b))
        return n == 0 || memcmp(a->buffers[1]->data + (a->offset + ai) * w,
                                b->buffers[1]->data + (b->offset + bi) * w, (size_t)(n * w)) == 0;
    for (int64_t k = 0; k < n; k++) {
        bool va = mt_array_is_valid(a, ai + k), vb = mt_array_is_valid(b, bi + k);
        if (va != vb) return false;
        if (va && !slot_eq(a, ai + k, b, bi + k)) return false;
    }
    return true;
}

bool mt_array_equal(const mt_array *a, const mt_array *b)
{
    if (a == b) return true;
    if (!a || !b) return false;
    if (a->length != b->length || !mt_type_equal(a->type, b->type)) return false;
    return range_eq(a, 0, b, 0, a->length);
}
