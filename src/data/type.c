/*
 * type.c — Arrow logical types: constructors, reference counting, deep
 * equality, field lookup and pyarrow-style names.
 *
 * Threads: any. Types are immutable once returned; refcounts are atomic.
 * Invariant: primitive types (mt_type_new) are immortal singletons
 * (refcount_ < 0), so mt_type_new never fails and retain/release on them are
 * no-ops; every other type is heap allocated and freed at refcount 0.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "data/data_int.h"

#define IMMORTAL INT64_MIN

#define PRIM(ID, W) [ID] = {.id = ID, .byte_width = W, .refcount_ = IMMORTAL}
static mt_type prims[MT_TYPE_DATE32 + 1] = {
    PRIM(MT_TYPE_NA, 0),      PRIM(MT_TYPE_BOOL, 0),    PRIM(MT_TYPE_INT8, 1),
    PRIM(MT_TYPE_INT16, 2),   PRIM(MT_TYPE_INT32, 4),   PRIM(MT_TYPE_INT64, 8),
    PRIM(MT_TYPE_UINT8, 1),   PRIM(MT_TYPE_UINT16, 2),  PRIM(MT_TYPE_UINT32, 4),
    PRIM(MT_TYPE_UINT64, 8),  PRIM(MT_TYPE_FLOAT16, 2), PRIM(MT_TYPE_FLOAT32, 4),
    PRIM(MT_TYPE_FLOAT64, 8), PRIM(MT_TYPE_UTF8, 0),    PRIM(MT_TYPE_BINARY, 0),
    PRIM(MT_TYPE_DATE32, 4),
};

mt_type *mt_type_new(mt_type_id id)
{
    assert((id <= MT_TYPE_BINARY || id == MT_TYPE_DATE32) && "mt_type_new: not a primitive id");
    return &prims[id];
}

static mt_type *type_alloc(mt_type_id id, int32_t num_fields)
{
    mt_type *t = mt_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->id = id;
    t->refcount_ = 1;
    if (num_fields > 0) {
        t->fields = mt_calloc((size_t)num_fields, sizeof(mt_field));
        if (!t->fields) {
            mt_free(t);
            return NULL;
        }
        t->num_fields = num_fields;
    }
    return t;
}

mt_type *mt_type_fixed_binary(int32_t byte_width)
{
    assert(byte_width >= 0);
    mt_type *t = type_alloc(MT_TYPE_FIXED_BINARY, 0);
    if (t) t->byte_width = byte_width;
    return t;
}

mt_type *mt_type_decimal128(int32_t precision, int32_t scale)
{
    mt_type *t = type_alloc(MT_TYPE_DECIMAL128, 0);
    if (!t) return NULL;
    t->byte_width = 16;
    t->precision = precision;
    t->scale = scale;
    return t;
}

mt_type *mt_type_time(mt_time_unit unit)
{
    bool t32 = unit == MT_UNIT_SECOND || unit == MT_UNIT_MILLI;
    mt_type *t = type_alloc(t32 ? MT_TYPE_TIME32 : MT_TYPE_TIME64, 0);
    if (!t) return NULL;
    t->byte_width = t32 ? 4 : 8;
    t->unit = unit;
    return t;
}

mt_type *mt_type_timestamp(mt_time_unit unit, const char *timezone)
{
    mt_type *t = type_alloc(MT_TYPE_TIMESTAMP, 0);
    if (!t) return NULL;
    t->byte_width = 8;
    t->unit = unit;
    if (timezone) {
        t->timezone = mt_strdup(timezone);
        if (!t->timezone) {
            mt_free(t);
            return NULL;
        }
    }
    return t;
}

mt_type *mt_type_list(mt_type *item, bool item_nullable, const char *item_name)
{
    assert(item);
    mt_type *t = type_alloc(MT_TYPE_LIST, 1);
    if (!t) return NULL;
    t->fields[0].name = mt_strdup(item_name ? item_name : "item");
    if (!t->fields[0].name) {
        mt_type_release(t);
        return NULL;
    }
    t->fields[0].type = mt_type_retain(item);
    t->fields[0].nullable = item_nullable;
    return t;
}

mt_type *mt_type_struct(int32_t n, const char *const *names, mt_type *const *types,
                        const bool *nullables)
{
    assert(n >= 0);
    mt_type *t = type_alloc(MT_TYPE_STRUCT, n);
    if (!t) return NULL;
    for (int32_t i = 0; i < n; i++) {
        t->fields[i].name = mt_strdup(names[i] ? names[i] : "");
        if (!t->fields[i].name) {
            mt_type_release(t);
            return NULL;
        }
        t->fields[i].type = mt_type_retain(types[i]);
        t->fields[i].nullable = nullables ? nullables[i] : true;
    }
    return t;
}

mt_type *mt_type_map(mt_type *key, mt_type *value, bool value_nullable)
{
    const char *names[2] = {"key", "value"};
    mt_type *types[2] = {key, value};
    bool nullables[2] = {false, value_nullable};
    mt_type *entries = mt_type_struct(2, names, types, nullables);
    if (!entries) return NULL;
    mt_type *t = type_alloc(MT_TYPE_MAP, 1);
    if (!t) {
        mt_type_release(entries);
        return NULL;
    }
    t->fields[0].name = mt_strdup("entries");
    t->fields[0].type = entries; /* reference moves */
    t->fields[0].nullable = false;
    if (!t->fields[0].name) {
        mt_type_release(t);
        return NULL;
    }
    return t;
}

mt_type *mt_type_retain(mt_type *t)
{
    if (t && __atomic_load_n(&t->refcount_, __ATOMIC_RELAXED) >= 0) mt__data_ref_inc(&t->refcount_);
    return t;
}

void mt_type_release(mt_type *t)
{
    if (!t || __atomic_load_n(&t->refcount_, __ATOMIC_RELAXED) < 0) return;
    if (!mt__data_ref_dec(&t->refcount_)) return;
    for (int32_t i = 0; i < t->num_fields; i++) {
        mt_free(t->fields[i].name);
        mt_type_release(t->fields[i].type);
    }
    mt_free(t->fields);
    mt_free(t->timezone);
    mt_free(t);
}

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

/* `names`: whether child field names take part (not for LIST/MAP, as Arrow). */
static bool type_eq(const mt_type *a, const mt_type *b, bool names)
{
    if (a == b) return true;
    if (!a || !b) return false;
    if (a->id != b->id || a->byte_width != b->byte_width || a->num_fields != b->num_fields)
        return false;
    switch (a->id) {
    case MT_TYPE_DECIMAL128:
        return a->precision == b->precision && a->scale == b->scale;
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64:
        return a->unit == b->unit;
    case MT_TYPE_TIMESTAMP:
        return a->unit == b->unit && str_eq(a->timezone, b->timezone);
    default:
        break;
    }
    bool child_names = a->id != MT_TYPE_LIST && a->id != MT_TYPE_MAP && names;
    for (int32_t i = 0; i < a->num_fields; i++) {
        const mt_field *fa = &a->fields[i], *fb = &b->fields[i];
        if (fa->nullable != fb->nullable) return false;
        if (child_names && !str_eq(fa->name, fb->name)) return false;
        /* MAP entries: key/value names are ignored too. */
        if (!type_eq(fa->type, fb->type, a->id == MT_TYPE_MAP ? false : true)) return false;
    }
    return true;
}

bool mt_type_equal(const mt_type *a, const mt_type *b) { return type_eq(a, b, true); }

int32_t mt_type_field_index(const mt_type *t, const char *name)
{
    if (!t || !name || t->id != MT_TYPE_STRUCT) return -1;
    for (int32_t i = 0; i < t->num_fields; i++)
        if (strcmp(t->fields[i].name, name) == 0) return i;
    return -1;
}

int mt_type_bit_width(const mt_type *t)
{
    if (!t) return 0;
    if (t->id == MT_TYPE_BOOL) return 1;
    return 8 * mt__data_fixed_width(t);
}

int32_t mt__data_fixed_width(const mt_type *t)
{
    switch (t->id) {
    case MT_TYPE_NA:
    case MT_TYPE_BOOL:
    case MT_TYPE_UTF8:
    case MT_TYPE_BINARY:
    case MT_TYPE_LIST:
    case MT_TYPE_STRUCT:
    case MT_TYPE_MAP:
        return 0;
    default:
        return t->byte_width;
    }
}

/* ---- Names ------------------------------------------------------------- */

typedef struct sbuf {
    char *buf;
    size_t cap, len;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) MT_PRINTF(2, 3);
static void put(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = s->len < s->cap ? s->cap - s->len : 0;
    int n = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) s->len += (size_t)n;
}

static const char *unit_name(mt_time_unit u)
{
    static const char *n[] = {"s", "ms", "us", "ns"};
    return (unsigned)u < 4 ? n[u] : "?";
}

static void type_name(sbuf *s, const mt_type *t);

static void field_name(sbuf *s, const mt_field *f)
{
    put(s, "%s: ", f->name ? f->name : "");
    type_name(s, f->type);
    if (!f->nullable) put(s, " not null");
}

static void type_name(sbuf *s, const mt_type *t)
{
    static const char *simple[] = {
        [MT_TYPE_NA] = "null",       [MT_TYPE_BOOL] = "bool",       [MT_TYPE_INT8] = "int8",
        [MT_TYPE_INT16] = "int16",   [MT_TYPE_INT32] = "int32",     [MT_TYPE_INT64] = "int64",
        [MT_TYPE_UINT8] = "uint8",   [MT_TYPE_UINT16] = "uint16",   [MT_TYPE_UINT32] = "uint32",
        [MT_TYPE_UINT64] = "uint64", [MT_TYPE_FLOAT16] = "halffloat", [MT_TYPE_FLOAT32] = "float",
        [MT_TYPE_FLOAT64] = "double", [MT_TYPE_UTF8] = "string",    [MT_TYPE_BINARY] = "binary",
        [MT_TYPE_DATE32] = "date32[day]",
    };
    switch (t->id) {
    case MT_TYPE_FIXED_BINARY:
        put(s, "fixed_size_binary[%d]", (int)t->byte_width);
        return;
    case MT_TYPE_DECIMAL128:
        put(s, "decimal128(%d, %d)", (int)t->precision, (int)t->scale);
        return;
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64:
        put(s, "time%d[%s]", t->id == MT_TYPE_TIME32 ? 32 : 64, unit_name(t->unit));
        return;
    case MT_TYPE_TIMESTAMP:
        if (t->timezone)
            put(s, "timestamp[%s, tz=%s]", unit_name(t->unit), t->timezone);
        else
            put(s, "timestamp[%s]", unit_name(t->unit));
        return;
    case MT_TYPE_LIST:
        put(s, "list<");
        field_name(s, &t->fields[0]);
        put(s, ">");
        return;
    case MT_TYPE_STRUCT:
        put(s, "struct<");
        for (int32_t i = 0; i < t->num_fields; i++) {
            if (i) put(s, ", ");
            field_name(s, &t->fields[i]);
        }
        put(s, ">");
        return;
    case MT_TYPE_MAP: {
        const mt_type *e = t->fields[0].type;
        put(s, "map<");
        type_name(s, e->fields[0].type);
        put(s, ", ");
        type_name(s, e->fields[1].type);
        if (!e->fields[1].nullable) put(s, " not null");
        put(s, ">");
        return;
    }
    default:
        if ((unsigned)t->id < sizeof simple / sizeof simple[0] && simple[t->id])
            put(s, "%s", simple[t->id]);
        else
            put(s, "unknown");
    }
}

size_t mt_type_to_string(const mt_type *t, char *buf, size_t cap)
{
    sbuf s = {buf, cap, 0};
    if (cap) buf[0] = '\0';
    if (!t) {
        put(&s, "null");
        return s.len;
    }
    type_name(&s, t);
    return s.len;
}
