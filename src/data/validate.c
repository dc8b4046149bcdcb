/*
 * validate.c — full structural validation of an array tree, for arrays
 * built from untrusted input (files, foreign ArrowArrays): every buffer the
 * layout needs is present and covers offset+length values, offsets start at
 * >= 0, never decrease and stay within the data or child, children have the
 * right types and lengths, and a known null_count matches the bitmap.
 * UTF-8 encoding is not checked. Failures are MT_ECORRUPT naming the type and
 * the buffer or slot at fault; nesting deeper than 64 levels is refused.
 *
 * Threads: any; reads only.
 */
#include <stdio.h>
#include <string.h>

#include "data/data_int.h"

#define MAX_DEPTH 64

static mt_status bad(const mt_array *a, mt_error *err, const char *fmt, ...) MT_PRINTF(3, 4);
static mt_status bad(const mt_array *a, mt_error *err, const char *fmt, ...)
{
    char tn[160], msg[300];
    mt_type_to_string(a->type, tn, sizeof tn);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mt_error_set(err, MT_ECORRUPT, "%s array: %s", tn, msg);
}

static mt_status need_buffer(const mt_array *a, int i, int64_t bytes, const char *what,
                             mt_error *err)
{
    const mt_buffer *b = a->buffers[i];
    if (!b) return bad(a, err, "%s buffer missing", what);
    if (b->size < bytes || (b->size > 0 && !b->data))
        return bad(a, err, "%s buffer has %lld bytes, needs %lld", what, (long long)b->size,
                   (long long)bytes);
    return MT_OK;
}

static mt_status check_offsets(const mt_array *a, int64_t limit, const char *what, mt_error *err)
{
    int64_t end = a->offset + a->length;
    MT_RETURN_NOT_OK(need_buffer(a, 1, 4 * (end + 1), "offsets", err));
    const uint8_t *p = a->buffers[1]->data;
    int32_t prev;
    memcpy(&prev, p + 4 * a->offset, 4);
    if (prev < 0) return bad(a, err, "offset at slot 0 is negative (%d)", (int)prev);
    for (int64_t i = a->offset + 1; i <= end; i++) {
        int32_t cur;
        memcpy(&cur, p + 4 * i, 4);
        if (cur < prev)
            return bad(a, err, "offsets decrease at slot %lld (%d after %d)",
                       (long long)(i - a->offset), (int)cur, (int)prev);
        prev = cur;
    }
    if (prev > limit)
        return bad(a, err, "last offset %d is beyond the %s (%lld)", (int)prev, what,
                   (long long)limit);
    return MT_OK;
}

static mt_status validate_at(const mt_array *a, int depth, mt_error *err);

static mt_status check_children(const mt_array *a, int64_t need, int depth, mt_error *err)
{
    const mt_type *t = a->type;
    if (a->num_children != t->num_fields)
        return bad(a, err, "has %d children, type has %d", (int)a->num_children,
                   (int)t->num_fields);
    for (int32_t k = 0; k < a->num_children; k++) {
        const mt_array *c = a->children[k];
        if (!c) return bad(a, err, "child %d missing", (int)k);
        if (!mt_type_equal(c->type, t->fields[k].type))
            return bad(a, err, "child %d has the wrong type", (int)k);
        if (t->id == MT_TYPE_STRUCT && c->length < need)
            return bad(a, err, "child '%s' has %lld values, needs %lld", t->fields[k].name,
                       (long long)c->length, (long long)need);
        mt_status st = validate_at(c, depth + 1, err);
        if (st != MT_OK) {
            mt_error_prefix(err, "child '%s'", t->fields[k].name);
            return st;
        }
    }
    return MT_OK;
}

static mt_status check_nulls(const mt_array *a, mt_error *err)
{
    if (a->type->id == MT_TYPE_NA) return MT_OK;
    int64_t end = a->offset + a->length;
    if (!a->buffers[0]) {
        if (a->null_count > 0)
            return bad(a, err, "null_count %lld without a validity bitmap", (long long)a->null_count);
        return MT_OK;
    }
    MT_RETURN_NOT_OK(need_buffer(a, 0, mt__data_bitmap_bytes(end), "validity", err));
    if (a->null_count >= 0) {
        int64_t n = a->length - mt__data_popcount(a->buffers[0]->data, a->offset, a->length);
        if (n != a->null_count)
            return bad(a, err, "null_count %lld but the bitmap has %lld nulls",
                       (long long)a->null_count, (long long)n);
    }
    return MT_OK;
}

static mt_status validate_at(const mt_array *a, int depth, mt_error *err)
{
    if (depth > MAX_DEPTH) return bad(a, err, "nested more than %d levels", MAX_DEPTH);
    if (a->length < 0 || a->offset < 0 || a->offset > INT64_MAX / 32 - a->length)
        return bad(a, err, "bad length %lld or offset %lld", (long long)a->length,
                   (long long)a->offset);
    if (a->null_count > a->length)
        return bad(a, err, "null_count %lld exceeds length %lld", (long long)a->null_count,
                   (long long)a->length);
    MT_RETURN_NOT_OK(check_nulls(a, err));
    const mt_type *t = a->type;
    int64_t end = a->offset + a->length;
    switch (t->id) {
    case MT_TYPE_NA:
        return MT_OK;
    case MT_TYPE_BOOL:
        return need_buffer(a, 1, mt__data_bitmap_bytes(end), "values", err);
    case MT_TYPE_UTF8:
    case MT_TYPE_BINARY:
        if (!a->buffers[2]) return bad(a, err, "data buffer missing");
        return check_offsets(a, a->buffers[2]->size, "data buffer", err);
    case MT_TYPE_LIST:
    case MT_TYPE_MAP:
        MT_RETURN_NOT_OK(check_children(a, 0, depth, err));
        return check_offsets(a, a->children[0]->length, "child", err);
    case MT_TYPE_STRUCT:
        return check_children(a, end, depth, err);
    default: {
        int64_t w = mt__data_fixed_width(t);
        if (w > 0 && end > INT64_MAX / w) return bad(a, err, "length overflows");
        return need_buffer(a, 1, end * w, "values", err);
    }
    }
}

mt_status mt_array_validate(const mt_array *a, mt_error *err)
{
    if (!a || !a->type) return mt_error_set(err, MT_EINVAL, "no array to validate");
    return validate_at(a, 0, err);
}
