/*
 * concat.c — concatenation of arrays of one type into a new, compact array
 * (offset 0): validity bitmaps re-aligned bit by bit for inputs at any
 * offset, offsets of strings, lists and maps rebased, nested children
 * concatenated recursively from the slices the parents refer to.
 *
 * Threads: any; inputs are only read.
 * Invariant: inputs must be structurally valid (see validate.c); a total
 * over 2^31-1 offsets or values of a 32-bit offset type fails with MT_ERANGE.
 */
#include <string.h>

#include "data/data_int.h"

static mt_status oom(mt_error *err) { return mt_error_set(err, MT_ENOMEM, "out of memory concatenating arrays"); }

static mt_buffer *concat_validity(mt_array *const *arrays, int32_t n, int64_t total,
                                  int64_t *null_count)
{
    int64_t nulls = 0;
    for (int32_t i = 0; i < n; i++) nulls += mt_array_null_count(arrays[i]);
    *null_count = nulls;
    if (nulls == 0) return NULL;
    mt_buffer *v = mt_buffer_new(mt__data_bitmap_bytes(total));
    if (!v) return NULL;
    int64_t pos = 0;
    for (int32_t i = 0; i < n; i++) {
        const mt_array *a = arrays[i];
        if (a->buffers[0])
            mt__data_bits_copy(v->data, pos, a->buffers[0]->data, a->offset, a->length);
        else
            mt__data_bits_fill(v->data, pos, a->length, true);
        pos += a->length;
    }
    return v;
}

static mt_buffer *concat_fixed(mt_array *const *arrays, int32_t n, int64_t total)
{
    const mt_type *t = arrays[0]->type;
    bool bits = t->id == MT_TYPE_BOOL;
    int64_t w = mt__data_fixed_width(t);
    mt_buffer *v = mt_buffer_new(bits ? mt__data_bitmap_bytes(total) : total * w);
    if (!v) return NULL;
    int64_t pos = 0;
    for (int32_t i = 0; i < n; i++) {
        const mt_array *a = arrays[i];
        if (bits)
            mt__data_bits_copy(v->data, pos, a->buffers[1]->data, a->offset, a->length);
        else if (a->length > 0)
            memcpy(v->data + pos * w, a->buffers[1]->data + a->offset * w, (size_t)(a->length * w));
        pos += a->length;
    }
    return v;
}

static int32_t off_at(const mt_array *a, int64_t i)
{
    int32_t v;
    memcpy(&v, a->buffers[1]->data + 4 * (a->offset + i), 4);
    return v;
}

/* Rebased offsets; also returns each input's [start, end) range in starts/ends. */
static mt_status concat_offsets(mt_array *const *arrays, int32_t n, int64_t total,
                                int64_t *starts, int64_t *ends, mt_buffer **out, mt_error *err)
{
    int64_t sum = 0;
    for (int32_t i = 0; i < n; i++) {
        starts[i] = off_at(arrays[i], 0);
        ends[i] = off_at(arrays[i], arrays[i]->length);
        sum += ends[i] - starts[i];
    }
    if (sum > INT32_MAX)
        return mt_error_set(err, MT_ERANGE, "concatenated array needs %lld offsets, over 2^31-1",
                            (long long)sum);
    mt_buffer *o = mt_buffer_new(4 * (total + 1));
    if (!o) return oom(err);
    int32_t *dst = (int32_t *)o->data;
    int64_t pos = 0, base = 0;
    for (int32_t i = 0; i < n; i++) {
        const mt_array *a = arrays[i];
        for (int64_t k = 0; k < a->length; k++)
            dst[pos + k] = (int32_t)(base + off_at(a, k) - starts[i]);
        pos += a->length;
        base += ends[i] - starts[i];
    }
    dst[total] = (int32_t)base;
    *out = o;
    return MT_OK;
}

static mt_buffer *concat_bytes(mt_array *const *arrays, int32_t n, const int64_t *starts,
                               const int64_t *ends)
{
    int64_t sum = 0;
    for (int32_t i = 0; i < n; i++) sum += ends[i] - starts[i];
    mt_buffer *d = mt_buffer_new(sum);
    if (!d) return NULL;
    int64_t pos = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t len = ends[i] - starts[i];
        if (len > 0) memcpy(d->data + pos, arrays[i]->buffers[2]->data + starts[i], (size_t)len);
        pos += len;
    }
    return d;
}

/* Concatenates child `k` of every input over [starts[i], starts[i] + lens[i]). */
static mt_status concat_child(mt_array *const *arrays, int32_t n, int32_t k, const int64_t *starts,
                              const int64_t *lens, mt_array **out, mt_error *err)
{
    mt_array **parts = mt_calloc((size_t)n, sizeof(mt_array *));
    if (!parts) return oom(err);
    mt_status st = MT_OK;
    int32_t made = 0;
    for (; made < n && st == MT_OK; made++)
        st = mt_array_slice(arrays[made]->children[k], starts[made], lens[made], &parts[made], err);
    if (st == MT_OK)
        st = mt_array_concat(parts, n, out, err);
    else
        made--;
    for (int32_t i = 0; i < made; i++) mt_array_release(parts[i]);
    mt_free(parts);
    return st;
}

/* Children of concatenated LIST/MAP (ranges) or STRUCT (parent slots) inputs. */
static mt_status concat_children(mt_array *const *arrays, int32_t n, const int64_t *starts,
                                 const int64_t *ends, mt_array **kids, mt_error *err)
{
    const mt_type *t = arrays[0]->type;
    int64_t *s = mt_calloc((size_t)n * 2, sizeof(int64_t));
    if (!s) return oom(err);
    int64_t *lens = s + n;
    for (int32_t i = 0; i < n; i++) {
        bool list = mt__data_is_list_like(t->id);
        s[i] = list ? starts[i] : arrays[i]->offset;
        lens[i] = list ? ends[i] - starts[i] : arrays[i]->length;
    }
    mt_status st = MT_OK;
    int32_t k = 0;
    for (; k < t->num_fields && st == MT_OK; k++) st = concat_child(arrays, n, k, s, lens, &kids[k], err);
    if (st != MT_OK)
        for (int32_t j = 0; j < k - 1; j++) mt_array_release(kids[j]);
    mt_free(s);
    return st;
}

static mt_status concat_checked(mt_array *const *arrays, int32_t n, int64_t total, mt_array **out,
                                mt_error *err)
{
    mt_type *t = arrays[0]->type;
    mt_buffer *bufs[3] = {NULL, NULL, NULL};
    int64_t nulls = 0;
    int64_t *starts = mt_calloc((size_t)n * 2, sizeof(int64_t));
    int32_t nkids = t->num_fields;
    mt_array **kids = mt_calloc(nkids > 0 ? (size_t)nkids : 1, sizeof(mt_array *));
    mt_status st = MT_OK;
    if (!starts || !kids) {
        st = oom(err);
        goto fail;
    }
    int64_t *ends = starts + n;
    if (t->id != MT_TYPE_NA) {
        bufs[0] = concat_validity(arrays, n, total, &nulls);
        if (nulls > 0 && !bufs[0]) st = oom(err);
    }
    if (st == MT_OK && (mt__data_is_varbin(t->id) || mt__data_is_list_like(t->id)))
        st = concat_offsets(arrays, n, total, starts, ends, &bufs[1], err);
    else if (st == MT_OK && t->id != MT_TYPE_NA && t->id != MT_TYPE_STRUCT &&
             !(bufs[1] = concat_fixed(arrays, n, total)))
        st = oom(err);
    if (st == MT_OK && mt__data_is_varbin(t->id) && !(bufs[2] = concat_bytes(arrays, n, starts, ends)))
        st = oom(err);
    if (st == MT_OK && nkids > 0) st = concat_children(arrays, n, starts, ends, kids, err);
    if (st != MT_OK) goto fail;
    mt_free(starts);
    *out = mt__data_array_take(t, total, t->id == MT_TYPE_NA ? total : nulls, bufs, 3, kids, nkids);
    mt_free(kids);
    return *out ? MT_OK : oom(err);
fail:
    for (int i = 0; i < 3; i++) mt_buffer_release(bufs[i]);
    mt_free(kids);
    mt_free(starts);
    return st;
}

mt_status mt_array_concat(mt_array *const *arrays, int32_t n, mt_array **out, mt_error *err)
{
    if (n <= 0) return mt_error_set(err, MT_EINVAL, "no arrays to concatenate");
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!mt_type_equal(arrays[i]->type, arrays[0]->type)) {
            char a[128], b[128];
            mt_type_to_string(arrays[0]->type, a, sizeof a);
            mt_type_to_string(arrays[i]->type, b, sizeof b);
            return mt_error_set(err, MT_ETYPE, "cannot concatenate %s (array %d) with %s", b,
                                (int)i, a);
        }
        total += arrays[i]->length;
    }
    if (n == 1) {
        *out = mt_array_retain(arrays[0]);
        return MT_OK;
    }
    return concat_checked(arrays, n, total, out, err);
}
