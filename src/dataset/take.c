/*
 * take.c — gathering rows of a table by index (shuffles, sorted aggregate
 * output): fixed-width values, bits and variable-width bytes are gathered
 * directly; struct children follow their parent's rows; lists and maps are
 * gathered as runs of one-row slices concatenated.
 *
 * Threads: any (pure). Invariant: every index is checked against the
 * table's row count before anything is read.
 */
#include <string.h>

#include "dataset/ds_int.h"

static bool bit(const uint8_t *p, int64_t i) { return (p[i >> 3] >> (i & 7)) & 1; }
static void set_bit(uint8_t *p, int64_t i) { p[i >> 3] |= (uint8_t)(1u << (i & 7)); }

static mt_status take_array(const mt_array *a, const int64_t *rows, int64_t n, mt_array **out, mt_error *err);

/* dst[i] = src[rows[i]] for values of w bytes; the common widths as plain loads and stores. */
static void gather(uint8_t *restrict dst, const uint8_t *restrict src, size_t w, const int64_t *rows, int64_t n)
{
    switch (w) {
    case 8:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 8 * i, src + 8 * rows[i], 8);
        break;
    case 4:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 4 * i, src + 4 * rows[i], 4);
        break;
    case 2:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 2 * i, src + 2 * rows[i], 2);
        break;
    case 1:
        for (int64_t i = 0; i < n; i++) dst[i] = src[rows[i]];
        break;
    default:
        for (int64_t i = 0; i < n; i++) memcpy(dst + w * (size_t)i, src + w * (size_t)rows[i], w);
    }
}

/* Lists and maps: one-row slices, concatenated. */
static mt_status take_by_slices(const mt_array *a, const int64_t *rows, int64_t n, mt_array **out, mt_error *err)
{
    if (n == 0) return mt_array_slice((mt_array *)a, 0, 0, out, err);
    mt_array **parts = mt_calloc((size_t)n, sizeof *parts);
    if (!parts) return mt_error_set(err, MT_ENOMEM, "take: %lld rows", (long long)n);
    mt_status st = MT_OK;
    int64_t got = 0;
    for (; st == MT_OK && got < n; got++) {
        st = mt_array_slice((mt_array *)a, rows[got], 1, &parts[got], err);
        if (st != MT_OK) break;
    }
    if (st == MT_OK) st = mt_array_concat(parts, (int32_t)n, out, err);
    for (int64_t i = 0; i < got; i++) mt_array_release(parts[i]);
    mt_free(parts);
    return st;
}

static mt_status take_array(const mt_array *a, const int64_t *rows, int64_t n, mt_array **out, mt_error *err)
{
    mt_type_id id = a->type->id;
    if (id == MT_TYPE_NA) return (*out = mt_array_new_null(a->type, n)) ? MT_OK : mt_error_set(err, MT_ENOMEM, "take");
    if (id == MT_TYPE_LIST || id == MT_TYPE_MAP) return take_by_slices(a, rows, n, out, err);
    mt_buffer *bufs[3] = {0};
    mt_array *kids[64], **children = kids;
    int32_t nkids = 0;
    mt_status st = MT_OK;
    int64_t nulls = 0;
    if (a->buffers[0]) {
        bufs[0] = mt_buffer_new((n + 7) / 8);
        if (!bufs[0]) st = mt_error_set(err, MT_ENOMEM, "take");
        for (int64_t i = 0; st == MT_OK && i < n; i++) {
            if (bit(a->buffers[0]->data, a->offset + rows[i])) set_bit(bufs[0]->data, i);
            else nulls++;
        }
    }
    if (st == MT_OK && id == MT_TYPE_BOOL) {
        bufs[1] = mt_buffer_new((n + 7) / 8);
        if (!bufs[1]) st = mt_error_set(err, MT_ENOMEM, "take");
        for (int64_t i = 0; st == MT_OK && i < n; i++)
            if (bit(a->buffers[1]->data, a->offset + rows[i])) set_bit(bufs[1]->data, i);
    } else if (st == MT_OK && (id == MT_TYPE_UTF8 || id == MT_TYPE_BINARY)) {
        const int32_t *off = (const int32_t *)a->buffers[1]->data + a->offset;
        int64_t bytes = 0;
        for (int64_t i = 0; i < n; i++) bytes += off[rows[i] + 1] - off[rows[i]];
        if (bytes > INT32_MAX) st = mt_error_set(err, MT_ERANGE, "take: %lld bytes of strings", (long long)bytes);
        if (st == MT_OK) {
            bufs[1] = mt_buffer_new((n + 1) * 4);
            bufs[2] = mt_buffer_new(bytes ? bytes : 1);
            if (!bufs[1] || !bufs[2]) st = mt_error_set(err, MT_ENOMEM, "take");
        }
        if (st == MT_OK) {
            int32_t *o = (int32_t *)bufs[1]->data, pos = 0;
            for (int64_t i = 0; i < n; i++) {
                int32_t len = off[rows[i] + 1] - off[rows[i]];
                o[i] = pos;
                memcpy(bufs[2]->data + pos, a->buffers[2]->data + off[rows[i]], (size_t)len);
                pos += len;
            }
            o[n] = pos;
            bufs[2]->size = bytes;
        }
    } else if (st == MT_OK && id == MT_TYPE_STRUCT) {
        if (a->num_children > 64 && !(children = mt_calloc((size_t)a->num_children, sizeof *children)))
            st = mt_error_set(err, MT_ENOMEM, "take");
        int64_t *shifted = st == MT_OK ? mt_malloc(sizeof *shifted * (size_t)(n ? n : 1)) : NULL;
        if (st == MT_OK && !shifted) st = mt_error_set(err, MT_ENOMEM, "take");
        for (int64_t i = 0; st == MT_OK && i < n; i++) shifted[i] = rows[i] + a->offset; /* the struct's offset */
        for (int32_t c = 0; st == MT_OK && c < a->num_children; c++) {
            st = take_array(a->children[c], shifted, n, &children[c], err);
            if (st == MT_OK) nkids++;
        }
        mt_free(shifted);
    } else if (st == MT_OK) {
        size_t w = (size_t)mt_type_bit_width(a->type) / 8;
        bufs[1] = mt_buffer_new_uninit((int64_t)(w * (size_t)n));
        if (!bufs[1]) st = mt_error_set(err, MT_ENOMEM, "take");
        const uint8_t *src = st == MT_OK ? a->buffers[1]->data + w * (size_t)a->offset : NULL;
        uint8_t *dst = st == MT_OK ? bufs[1]->data : NULL;
        if (st == MT_OK) gather(dst, src, w, rows, n);
    }
    if (st == MT_OK) {
        *out = mt_array_new(a->type, n, 0, nulls, bufs, mt_array_num_buffers(a->type), children, nkids);
        if (!*out) st = mt_error_set(err, MT_ENOMEM, "take");
    }
    for (int i = 0; i < 3; i++) mt_buffer_release(bufs[i]);
    for (int32_t i = 0; i < nkids; i++) mt_array_release(children[i]);
    if (children != kids) mt_free(children);
    return st;
}

mt_status mt__ds_take_rows(const mt_table *t, const int64_t *rows, int64_t n, mt_table **out, mt_error *err)
{
    for (int64_t i = 0; i < n; i++)
        if (rows[i] < 0 || rows[i] >= t->num_rows)
            return mt_error_set(err, MT_ERANGE, "take: row %lld of %lld", (long long)rows[i], (long long)t->num_rows);
    mt_array **cols = mt_calloc((size_t)t->num_columns + 1, sizeof *cols);
    if (!cols) return mt_error_set(err, MT_ENOMEM, "take");
    mt_status st = MT_OK;
    int32_t got = 0;
    for (; st == MT_OK && got < t->num_columns; got++) {
        st = take_array(t->columns[got], rows, n, &cols[got], err);
        if (st != MT_OK) break;
    }
    if (st == MT_OK) st = mt_table_new(t->schema, cols, n, out, err);
    for (int32_t i = 0; i < got; i++) mt_array_release(cols[i]);
    mt_free(cols);
    return st;
}
