/*
 * thrift_read.c — the Thrift compact-protocol decoder used for Parquet
 * footers and page headers (see pq_thrift.h).
 *
 * Runs on the thread that owns the reader. Invariants: the cursor never moves
 * past `end`; every failure is MT_ECORRUPT with a message saying what was
 * wrong; recursion (skipping nested values) is bounded by PQ_TR_MAX_DEPTH.
 */
#include "parquet/pq_thrift.h"

#include <string.h>

static mt_status truncated(mt_error *err)
{
    return mt_error_set(err, MT_ECORRUPT, "truncated thrift data");
}

mt_status pq_tr_varint(pq_tr *t, uint64_t *out, mt_error *err)
{
    const uint8_t *p = t->p;
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= t->end) return truncated(err);
        uint8_t b = *p++;
        if (shift == 63 && (b & 0x7e)) break;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            t->p = p;
            *out = v;
            return MT_OK;
        }
    }
    return mt_error_set(err, MT_ECORRUPT, "thrift varint too long");
}

mt_status pq_tr_i64(pq_tr *t, int64_t *out, mt_error *err)
{
    uint64_t u = 0;
    MT_RETURN_NOT_OK(pq_tr_varint(t, &u, err));
    *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return MT_OK;
}

mt_status pq_tr_i32(pq_tr *t, int32_t *out, mt_error *err)
{
    int64_t v = 0;
    MT_RETURN_NOT_OK(pq_tr_i64(t, &v, err));
    if (v < INT32_MIN || v > INT32_MAX)
        return mt_error_set(err, MT_ECORRUPT, "thrift i32 out of range: %lld", (long long)v);
    *out = (int32_t)v;
    return MT_OK;
}

mt_status pq_tr_byte(pq_tr *t, int8_t *out, mt_error *err)
{
    if (t->p >= t->end) return truncated(err);
    *out = (int8_t)*t->p++;
    return MT_OK;
}

mt_status pq_tr_double(pq_tr *t, double *out, mt_error *err)
{
    if (pq_tr_remaining(t) < 8) return truncated(err);
    memcpy(out, t->p, 8); /* little-endian on the wire, as on our targets */
    t->p += 8;
    return MT_OK;
}

mt_status pq_tr_binary(pq_tr *t, const uint8_t **out, uint32_t *len, mt_error *err)
{
    uint64_t n = 0;
    MT_RETURN_NOT_OK(pq_tr_varint(t, &n, err));
    if (n > pq_tr_remaining(t))
        return mt_error_set(err, MT_ECORRUPT, "thrift binary length %llu exceeds the %zu bytes left",
                            (unsigned long long)n, pq_tr_remaining(t));
    *out = t->p;
    *len = (uint32_t)n;
    t->p += n;
    return MT_OK;
}

mt_status pq_tr_string(pq_tr *t, char **out, mt_error *err)
{
    const uint8_t *p = NULL;
    uint32_t n = 0;
    MT_RETURN_NOT_OK(pq_tr_binary(t, &p, &n, err));
    char *s = mt_strndup((const char *)p, n);
    if (!s) return mt_error_set(err, MT_ENOMEM, "out of memory copying a thrift string");
    *out = s;
    return MT_OK;
}

mt_status pq_tr_field(pq_tr *t, int16_t *last_id, int16_t *id, int *type, mt_error *err)
{
    if (t->p >= t->end) return truncated(err);
    uint8_t b = *t->p++;
    int ty = b & 0x0f;
    if (ty == PQ_TT_STOP) {
        *type = PQ_TT_STOP;
        *id = 0;
        return MT_OK;
    }
    if (ty > PQ_TT_STRUCT) return mt_error_set(err, MT_ECORRUPT, "invalid thrift field type %d", ty);
    int delta = b >> 4;
    if (delta) {
        int v = *last_id + delta;
        if (v > INT16_MAX) return mt_error_set(err, MT_ECORRUPT, "thrift field id overflow");
        *id = (int16_t)v;
    } else {
        int32_t v;
        MT_RETURN_NOT_OK(pq_tr_i32(t, &v, err));
        if (v < INT16_MIN || v > INT16_MAX)
            return mt_error_set(err, MT_ECORRUPT, "thrift field id %d out of range", (int)v);
        *id = (int16_t)v;
    }
    *last_id = *id;
    *type = ty;
    return MT_OK;
}

mt_status pq_tr_list(pq_tr *t, int *elem_type, int32_t *size, mt_error *err)
{
    if (t->p >= t->end) return truncated(err);
    uint8_t b = *t->p++;
    int ty = b & 0x0f;
    uint64_t n = b >> 4;
    if (n == 15) MT_RETURN_NOT_OK(pq_tr_varint(t, &n, err));
    if (ty == PQ_TT_STOP || ty > PQ_TT_STRUCT)
        return mt_error_set(err, MT_ECORRUPT, "invalid thrift list element type %d", ty);
    if (n > pq_tr_remaining(t) || n > INT32_MAX)
        return mt_error_set(err, MT_ECORRUPT, "thrift list size %llu exceeds the %zu bytes left",
                            (unsigned long long)n, pq_tr_remaining(t));
    *elem_type = ty == PQ_TT_FALSE ? PQ_TT_TRUE : ty;
    *size = (int32_t)n;
    return MT_OK;
}

mt_status pq_tr_list_bool(pq_tr *t, bool *out, mt_error *err)
{
    if (t->p >= t->end) return truncated(err);
    *out = *t->p++ == 1;
    return MT_OK;
}

mt_status pq_tr_enter(pq_tr *t, mt_error *err)
{
    if (t->depth >= PQ_TR_MAX_DEPTH)
        return mt_error_set(err, MT_ECORRUPT, "thrift nesting deeper than %d", PQ_TR_MAX_DEPTH);
    t->depth++;
    return MT_OK;
}

static mt_status skip_struct(pq_tr *t, mt_error *err)
{
    MT_RETURN_NOT_OK(pq_tr_enter(t, err));
    int16_t last = 0, id;
    int ty;
    for (;;) {
        mt_status st = pq_tr_field(t, &last, &id, &ty, err);
        if (st == MT_OK && ty == PQ_TT_STOP) break;
        if (st == MT_OK) st = pq_tr_skip(t, ty, err);
        if (st != MT_OK) {
            pq_tr_leave(t);
            return st;
        }
    }
    pq_tr_leave(t);
    return MT_OK;
}

static mt_status skip_list(pq_tr *t, mt_error *err)
{
    int ety = 0;
    int32_t n = 0;
    MT_RETURN_NOT_OK(pq_tr_list(t, &ety, &n, err));
    for (int32_t i = 0; i < n; i++) MT_RETURN_NOT_OK(pq_tr_skip_elem(t, ety, err));
    return MT_OK;
}

static mt_status skip_map(pq_tr *t, mt_error *err)
{
    uint64_t n = 0;
    MT_RETURN_NOT_OK(pq_tr_varint(t, &n, err));
    if (n == 0) return MT_OK;
    if (t->p >= t->end) return truncated(err);
    uint8_t kv = *t->p++;
    int kt = kv >> 4, vt = kv & 0x0f;
    if (n > pq_tr_remaining(t) / 2)
        return mt_error_set(err, MT_ECORRUPT, "thrift map size %llu exceeds the bytes left",
                            (unsigned long long)n);
    if (kt == PQ_TT_STOP || kt > PQ_TT_STRUCT || vt == PQ_TT_STOP || vt > PQ_TT_STRUCT)
        return mt_error_set(err, MT_ECORRUPT, "invalid thrift map types %d/%d", kt, vt);
    for (uint64_t i = 0; i < n; i++) {
        MT_RETURN_NOT_OK(pq_tr_skip_elem(t, kt, err));
        MT_RETURN_NOT_OK(pq_tr_skip_elem(t, vt, err));
    }
    return MT_OK;
}

mt_status pq_tr_skip(pq_tr *t, int type, mt_error *err)
{
    uint64_t u = 0;
    switch (type) {
    case PQ_TT_TRUE:
    case PQ_TT_FALSE: return MT_OK; /* the value lives in the field header */
    case PQ_TT_BYTE:
        if (t->p >= t->end) return truncated(err);
        t->p++;
        return MT_OK;
    case PQ_TT_I16:
    case PQ_TT_I32:
    case PQ_TT_I64: return pq_tr_varint(t, &u, err);
    case PQ_TT_DOUBLE:
        if (pq_tr_remaining(t) < 8) return truncated(err);
        t->p += 8;
        return MT_OK;
    case PQ_TT_BINARY: {
        const uint8_t *p = NULL;
        uint32_t n = 0;
        return pq_tr_binary(t, &p, &n, err);
    }
    case PQ_TT_LIST:
    case PQ_TT_SET: {
        MT_RETURN_NOT_OK(pq_tr_enter(t, err));
        mt_status st = skip_list(t, err);
        pq_tr_leave(t);
        return st;
    }
    case PQ_TT_MAP: {
        MT_RETURN_NOT_OK(pq_tr_enter(t, err));
        mt_status st = skip_map(t, err);
        pq_tr_leave(t);
        return st;
    }
    case PQ_TT_STRUCT: return skip_struct(t, err);
    default: return mt_error_set(err, MT_ECORRUPT, "invalid thrift type %d", type);
    }
}

mt_status pq_tr_skip_elem(pq_tr *t, int type, mt_error *err)
{
    if (type == PQ_TT_TRUE || type == PQ_TT_FALSE) {
        if (t->p >= t->end) return truncated(err);
        t->p++;
        return MT_OK;
    }
    return pq_tr_skip(t, type, err);
}
