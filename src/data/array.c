/*
 * array.c — array construction, reference counting, null counts, all-null
 * arrays and zero-copy slices.
 *
 * Threads: any; arrays are immutable once shared except for the cached
 * null_count, which is written atomically with an idempotent value.
 * Invariant: an array holds one reference to its type, each non-NULL buffer
 * and each child; buffers beyond mt_array_num_buffers(type) are NULL.
 */
#include <string.h>

#include "data/data_int.h"

int mt_array_num_buffers(const mt_type *t)
{
    switch (t->id) {
    case MT_TYPE_NA:
        return 0;
    case MT_TYPE_STRUCT:
        return 1;
    case MT_TYPE_UTF8:
    case MT_TYPE_BINARY:
        return 3;
    default:
        return 2;
    }
}

mt_array *mt__data_array_take(mt_type *type, int64_t length, int64_t null_count,
                              mt_buffer **buffers, int nbuf, mt_array **children,
                              int32_t nchild)
{
    mt_array *a = mt_calloc(1, sizeof *a);
    if (a && nchild > 0) {
        a->children = mt_calloc((size_t)nchild, sizeof(mt_array *));
        if (!a->children) {
            mt_free(a);
            a = NULL;
        }
    }
    if (!a) {
        for (int i = 0; i < nbuf; i++) mt_buffer_release(buffers[i]);
        for (int32_t i = 0; i < nchild; i++) mt_array_release(children[i]);
        return NULL;
    }
    a->type = mt_type_retain(type);
    a->length = length;
    a->refcount_ = 1;
    for (int i = 0; i < nbuf && i < 3; i++) a->buffers[i] = buffers[i];
    for (int32_t i = 0; i < nchild; i++) a->children[i] = children[i];
    a->num_children = nchild;
    if (type->id == MT_TYPE_NA)
        null_count = length;
    else if (!a->buffers[0])
        null_count = 0;
    a->null_count = null_count;
    return a;
}

mt_array *mt_array_new(mt_type *type, int64_t length, int64_t offset, int64_t null_count,
                       mt_buffer *const *buffers, int32_t num_buffers, mt_array *const *children,
                       int32_t num_children)
{
    mt_buffer *bufs[3] = {NULL, NULL, NULL};
    for (int32_t i = 0; i < num_buffers && i < 3; i++) bufs[i] = mt_buffer_retain(buffers[i]);
    mt_array *kids[num_children > 0 ? num_children : 1];
    for (int32_t i = 0; i < num_children; i++) kids[i] = mt_array_retain(children[i]);
    mt_array *a = mt__data_array_take(type, length, null_count, bufs, 3, kids, num_children);
    if (a) a->offset = offset;
    return a;
}

mt_array *mt_array_retain(mt_array *a)
{
    if (a) mt__data_ref_inc(&a->refcount_);
    return a;
}

void mt_array_release(mt_array *a)
{
    if (!a || !mt__data_ref_dec(&a->refcount_)) return;
    for (int i = 0; i < 3; i++) mt_buffer_release(a->buffers[i]);
    for (int32_t i = 0; i < a->num_children; i++) mt_array_release(a->children[i]);
    mt_free(a->children);
    mt_type_release(a->type);
    mt_free(a);
}

int64_t mt_array_null_count(mt_array *a)
{
    int64_t n = __atomic_load_n(&a->null_count, __ATOMIC_RELAXED);
    if (n >= 0) return n;
    if (a->type->id == MT_TYPE_NA)
        n = a->length;
    else if (!a->buffers[0])
        n = 0;
    else
        n = a->length - mt__data_popcount(a->buffers[0]->data, a->offset, a->length);
    __atomic_store_n(&a->null_count, n, __ATOMIC_RELAXED);
    return n;
}

/* Children of an all-null array of type `t` with `length` slots. */
static bool null_children(mt_type *t, int64_t length, mt_array **kids)
{
    int32_t n = t->num_fields;
    for (int32_t i = 0; i < n; i++) {
        int64_t len = t->id == MT_TYPE_STRUCT ? length : 0;
        kids[i] = mt_array_new_null(t->fields[i].type, len);
        if (!kids[i]) {
            for (int32_t j = 0; j < i; j++) mt_array_release(kids[j]);
            return false;
        }
    }
    return true;
}

mt_array *mt_array_new_null(mt_type *type, int64_t length)
{
    mt_buffer *bufs[3] = {NULL, NULL, NULL};
    int nbuf = mt_array_num_buffers(type);
    int64_t sizes[3] = {mt__data_bitmap_bytes(length), 0, 0};
    if (type->id == MT_TYPE_BOOL)
        sizes[1] = mt__data_bitmap_bytes(length);
    else if (mt__data_is_varbin(type->id) || mt__data_is_list_like(type->id))
        sizes[1] = 4 * (length + 1);
    else
        sizes[1] = length * mt__data_fixed_width(type);
    for (int i = 0; i < nbuf; i++) {
        bufs[i] = mt_buffer_new(sizes[i]);
        if (!bufs[i]) {
            for (int j = 0; j < i; j++) mt_buffer_release(bufs[j]);
            return NULL;
        }
    }
    int32_t nchild = type->num_fields;
    mt_array *kids[nchild > 0 ? nchild : 1];
    if (!null_children(type, length, kids)) {
        for (int j = 0; j < nbuf; j++) mt_buffer_release(bufs[j]);
        return NULL;
    }
    return mt__data_array_take(type, length, length, bufs, nbuf, kids, nchild);
}

mt_status mt_array_slice(mt_array *a, int64_t offset, int64_t length, mt_array **out,
                         mt_error *err)
{
    if (offset < 0 || length < 0 || offset > a->length || length > a->length - offset)
        return mt_error_set(err, MT_ERANGE,
                            "slice [%lld, %lld) out of range for an array of length %lld",
                            (long long)offset, (long long)offset + (long long)length,
                            (long long)a->length);
    int64_t nc = __atomic_load_n(&a->null_count, __ATOMIC_RELAXED);
    int64_t null_count = -1;
    if (nc == 0)
        null_count = 0;
    else if (nc == a->length)
        null_count = length;
    mt_array *s = mt_array_new(a->type, length, a->offset + offset, null_count, a->buffers, 3,
                               a->children, a->num_children);
    if (!s) return mt_error_set(err, MT_ENOMEM, "out of memory slicing an array");
    *out = s;
    return MT_OK;
}
