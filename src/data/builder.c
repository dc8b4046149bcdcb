/*
 * builder.c — append-only builders for flat array types. Values go into
 * owned buffers grown geometrically (amortised O(1) appends); finish moves
 * the buffers into a new array and leaves the builder empty for reuse.
 *
 * Threads: a builder belongs to one thread at a time.
 * Invariants: `cap` slots fit in every buffer (validity bits, values or
 * offsets); buffers are zero-filled beyond what was written, so a null slot
 * needs no writes except the repeated offset of variable-width types. The
 * validity bitmap is dropped at finish when there were no nulls.
 */
#include <assert.h>
#include <string.h>

#include "data/data_int.h"

struct mt_array_builder {
    mt_type *type;
    int64_t length, null_count, cap;
    int32_t width; /* bytes per fixed-width value; 0 for BOOL and var-width */
    bool varbin;
    mt_buffer *validity, *values, *data; /* values: bits, fixed values or offsets */
};

static bool flat_type(const mt_type *t)
{
    return t->id != MT_TYPE_NA && t->id != MT_TYPE_LIST && t->id != MT_TYPE_STRUCT &&
           t->id != MT_TYPE_MAP;
}

mt_array_builder *mt_array_builder_new(mt_type *type)
{
    assert(type && flat_type(type) && "builders support flat types only");
    mt_array_builder *b = mt_calloc(1, sizeof *b);
    if (!b) return NULL;
    b->type = mt_type_retain(type);
    b->width = mt__data_fixed_width(type);
    b->varbin = mt__data_is_varbin(type->id);
    return b;
}

static void drop_buffers(mt_array_builder *b)
{
    mt_buffer_release(b->validity);
    mt_buffer_release(b->values);
    mt_buffer_release(b->data);
    b->validity = b->values = b->data = NULL;
    b->length = b->null_count = b->cap = 0;
}

void mt_array_builder_destroy(mt_array_builder *b)
{
    if (!b) return;
    drop_buffers(b);
    mt_type_release(b->type);
    mt_free(b);
}

static int64_t values_bytes(const mt_array_builder *b, int64_t slots)
{
    if (b->varbin) return 4 * (slots + 1);
    if (b->width == 0) return mt__data_bitmap_bytes(slots);
    return slots * b->width;
}

static mt_status ensure_buffer(mt_buffer **buf, int64_t bytes, mt_error *err)
{
    if (!*buf) {
        *buf = mt_buffer_new(bytes);
        if (!*buf) return mt_error_set(err, MT_ENOMEM, "out of memory in an array builder");
        (*buf)->size = 0;
        return MT_OK;
    }
    return mt_buffer_reserve(*buf, bytes, err);
}

/* Makes room for `slots` values in total. */
static mt_status grow_to(mt_array_builder *b, int64_t slots, mt_error *err)
{
    if (slots <= b->cap && b->values) return MT_OK;
    if (slots > INT64_MAX / 16)
        return mt_error_set(err, MT_ENOMEM, "array builder of %lld values is too large",
                            (long long)slots);
    MT_RETURN_NOT_OK(ensure_buffer(&b->validity, mt__data_bitmap_bytes(slots), err));
    MT_RETURN_NOT_OK(ensure_buffer(&b->values, values_bytes(b, slots), err));
    if (b->varbin) MT_RETURN_NOT_OK(ensure_buffer(&b->data, 64, err));
    b->cap = slots;
    return MT_OK;
}

mt_status mt_array_builder_reserve(mt_array_builder *b, int64_t n, mt_error *err)
{
    if (n < 0) return mt_error_set(err, MT_EINVAL, "negative reserve %lld", (long long)n);
    return grow_to(b, b->length + n, err);
}

/* Room for one more value, doubling the capacity when full. */
static inline mt_status room1(mt_array_builder *b, mt_error *err)
{
    if (b->length < b->cap) return MT_OK;
    int64_t want = b->cap * 2;
    if (want < 64) want = 64;
    return grow_to(b, want, err);
}

static inline void set_valid(mt_array_builder *b)
{
    mt__data_bit_set(b->validity->data, b->length, true);
}

static inline void end_offset(mt_array_builder *b)
{
    int32_t off = (int32_t)b->data->size;
    memcpy(b->values->data + 4 * (b->length + 1), &off, 4);
}

mt_status mt_array_builder_append_null(mt_array_builder *b, mt_error *err)
{
    MT_RETURN_NOT_OK(room1(b, err));
    if (b->varbin) end_offset(b);
    b->null_count++;
    b->length++;
    return MT_OK;
}

mt_status mt_array_builder_append_bool(mt_array_builder *b, bool v, mt_error *err)
{
    assert(b->type->id == MT_TYPE_BOOL);
    MT_RETURN_NOT_OK(room1(b, err));
    set_valid(b);
    if (v) mt__data_bit_set(b->values->data, b->length, true);
    b->length++;
    return MT_OK;
}

static inline void put_fixed(mt_array_builder *b, uint64_t bits)
{
    uint8_t *p = b->values->data + (size_t)b->length * (size_t)b->width;
    switch (b->width) {
    case 1: *p = (uint8_t)bits; break;
    case 2: { uint16_t v = (uint16_t)bits; memcpy(p, &v, 2); break; }
    case 4: { uint32_t v = (uint32_t)bits; memcpy(p, &v, 4); break; }
    default: memcpy(p, &bits, 8); break;
    }
}

static bool int_like(mt_type_id id)
{
    return (id >= MT_TYPE_INT8 && id <= MT_TYPE_UINT64) || id == MT_TYPE_DATE32 ||
           id == MT_TYPE_TIME32 || id == MT_TYPE_TIME64 || id == MT_TYPE_TIMESTAMP;
}

mt_status mt_array_builder_append_int(mt_array_builder *b, int64_t v, mt_error *err)
{
    assert(int_like(b->type->id));
    MT_RETURN_NOT_OK(room1(b, err));
    set_valid(b);
    put_fixed(b, (uint64_t)v);
    b->length++;
    return MT_OK;
}

mt_status mt_array_builder_append_uint(mt_array_builder *b, uint64_t v, mt_error *err)
{
    assert(int_like(b->type->id) || b->type->id == MT_TYPE_FLOAT16);
    MT_RETURN_NOT_OK(room1(b, err));
    set_valid(b);
    put_fixed(b, v);
    b->length++;
    return MT_OK;
}

mt_status mt_array_builder_append_double(mt_array_builder *b, double v, mt_error *err)
{
    assert(b->type->id == MT_TYPE_FLOAT32 || b->type->id == MT_TYPE_FLOAT64);
    MT_RETURN_NOT_OK(room1(b, err));
    set_valid(b);
    uint8_t *p = b->values->data + (size_t)b->length * (size_t)b->width;
    if (b->width == 4) {
        float f = (float)v;
        memcpy(p, &f, 4);
    } else {
        memcpy(p, &v, 8);
    }
    b->length++;
    return MT_OK;
}

mt_status mt_array_builder_append_bytes(mt_array_builder *b, const void *p, int64_t n,
                                        mt_error *err)
{
    mt_type_id id = b->type->id;
    assert(b->varbin || id == MT_TYPE_FIXED_BINARY || id == MT_TYPE_DECIMAL128);
    assert(n >= 0);
    MT_RETURN_NOT_OK(room1(b, err));
    if (!b->varbin) {
        assert(n == b->width && "fixed-width value of the wrong size");
        if (n) memcpy(b->values->data + (size_t)b->length * (size_t)b->width, p, (size_t)n);
    } else {
        if (n > INT32_MAX - b->data->size)
            return mt_error_set(err, MT_ERANGE, "%s data exceeds 2 GiB in one array",
                                id == MT_TYPE_UTF8 ? "string" : "binary");
        MT_RETURN_NOT_OK(mt_buffer_append(b->data, p, n, err));
        end_offset(b);
    }
    set_valid(b);
    b->length++;
    return MT_OK;
}

int64_t mt_array_builder_length(const mt_array_builder *b) { return b->length; }

mt_status mt_array_builder_finish(mt_array_builder *b, mt_array **out, mt_error *err)
{
    mt_status st = grow_to(b, b->length, err);
    if (st != MT_OK) {
        drop_buffers(b);
        return st;
    }
    int64_t len = b->length, nulls = b->null_count;
    mt_buffer *bufs[3] = {b->validity, b->values, b->data};
    bufs[0]->size = mt__data_bitmap_bytes(len);
    bufs[1]->size = values_bytes(b, len);
    if (nulls == 0) {
        mt_buffer_release(bufs[0]);
        bufs[0] = NULL;
    }
    b->validity = b->values = b->data = NULL;
    drop_buffers(b);
    mt_array *a = mt__data_array_take(b->type, len, nulls, bufs, 3, NULL, 0);
    if (!a) return mt_error_set(err, MT_ENOMEM, "out of memory finishing an array");
    *out = a;
    return MT_OK;
}
