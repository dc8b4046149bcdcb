/*
 * arrow_c.c — the Arrow C Data Interface: export of types (ArrowSchema) and
 * arrays (ArrowArray), zero-copy, and import of both. Tables travel as
 * STRUCT arrays whose children are the columns.
 *
 * Threads: any. An exported ArrowArray holds one reference to the exported
 * array (hence to its buffers) until its release callback runs, on any thread.
 * Imported buffers wrap the producer's memory; one refcounted owner per
 * imported array tree holds the moved ArrowArray and calls its release when
 * the last wrapping buffer goes. On failure nothing is moved: the caller
 * still owns its structs and no memory of ours is left behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"

#define MAX_DEPTH 64

/* ---- Schema export ----------------------------------------------------- */

typedef struct schema_priv {
    char *format, *name;
    struct ArrowSchema **children; /* pointers into `storage` */
    struct ArrowSchema *storage;
} schema_priv;

static void schema_release(struct ArrowSchema *s)
{
    if (!s || !s->release) return;
    schema_priv *p = s->private_data;
    for (int64_t i = 0; i < s->n_children; i++)
        if (p->children[i]->release) p->children[i]->release(p->children[i]);
    mt_free(p->children);
    mt_free(p->storage);
    mt_free(p->format);
    mt_free(p->name);
    mt_free(p);
    s->release = NULL;
}

static const char *unit_char(mt_time_unit u) { return &"smun"[(unsigned)u & 3]; }

/* Writes the format string of `t` into buf (cap >= 64 + timezone length). */
static void format_of(const mt_type *t, char *buf, size_t cap)
{
    static const char *simple[] = {
        [MT_TYPE_NA] = "n",     [MT_TYPE_BOOL] = "b",    [MT_TYPE_INT8] = "c",   [MT_TYPE_INT16] = "s",
        [MT_TYPE_INT32] = "i",  [MT_TYPE_INT64] = "l",   [MT_TYPE_UINT8] = "C",  [MT_TYPE_UINT16] = "S",
        [MT_TYPE_UINT32] = "I", [MT_TYPE_UINT64] = "L",  [MT_TYPE_FLOAT16] = "e", [MT_TYPE_FLOAT32] = "f",
        [MT_TYPE_FLOAT64] = "g", [MT_TYPE_UTF8] = "u",   [MT_TYPE_BINARY] = "z", [MT_TYPE_DATE32] = "tdD",
        [MT_TYPE_LIST] = "+l",  [MT_TYPE_STRUCT] = "+s", [MT_TYPE_MAP] = "+m",
    };
    switch (t->id) {
    case MT_TYPE_FIXED_BINARY:
        snprintf(buf, cap, "w:%d", (int)t->byte_width);
        break;
    case MT_TYPE_DECIMAL128:
        snprintf(buf, cap, "d:%d,%d", (int)t->precision, (int)t->scale);
        break;
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64:
        snprintf(buf, cap, "tt%c", *unit_char(t->unit));
        break;
    case MT_TYPE_TIMESTAMP:
        snprintf(buf, cap, "ts%c:%s", *unit_char(t->unit), t->timezone ? t->timezone : "");
        break;
    default:
        snprintf(buf, cap, "%s", simple[t->id]);
    }
}

static mt_status export_schema(const mt_type *t, const char *name, bool nullable,
                               struct ArrowSchema *out, mt_error *err)
{
    memset(out, 0, sizeof *out);
    schema_priv *p = mt_calloc(1, sizeof *p);
    size_t cap = 64 + (t->timezone ? strlen(t->timezone) : 0);
    if (p) p->format = mt_malloc(cap);
    if (p && name) p->name = mt_strdup(name);
    int32_t n = t->num_fields;
    if (p && n > 0) {
        p->children = mt_calloc((size_t)n, sizeof(struct ArrowSchema *));
        p->storage = mt_calloc((size_t)n, sizeof(struct ArrowSchema));
    }
    if (!p || !p->format || (name && !p->name) || (n > 0 && (!p->children || !p->storage))) {
        if (p) {
            mt_free(p->children);
            mt_free(p->storage);
            mt_free(p->format);
            mt_free(p->name);
        }
        mt_free(p);
        return mt_error_set(err, MT_ENOMEM, "out of memory exporting a schema");
    }
    format_of(t, p->format, cap);
    out->format = p->format;
    out->name = p->name;
    out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
    out->private_data = p;
    out->release = schema_release;
    out->children = p->children;
    for (int32_t i = 0; i < n; i++) {
        p->children[i] = &p->storage[i];
        const mt_field *f = &t->fields[i];
        mt_status st = export_schema(f->type, f->name, f->nullable, p->children[i], err);
        if (st != MT_OK) {
            out->n_children = i;
            schema_release(out);
            return st;
        }
    }
    out->n_children = n;
    return MT_OK;
}

mt_status mt_type_export(const mt_type *t, const char *name, bool nullable,
                         struct ArrowSchema *out, mt_error *err)
{
    return export_schema(t, name, nullable, out, err);
}

/* ---- Array export ------------------------------------------------------ */

typedef struct array_priv {
    mt_array *array;
    const void *bufs[3];
    struct ArrowArray **children;
    struct ArrowArray *storage;
} array_priv;

static void array_release(struct ArrowArray *a)
{
    if (!a || !a->release) return;
    array_priv *p = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++)
        if (p->children[i]->release) p->children[i]->release(p->children[i]);
    mt_free(p->children);
    mt_free(p->storage);
    mt_array_release(p->array);
    mt_free(p);
    a->release = NULL;
}

mt_status mt_array_export(mt_array *a, struct ArrowArray *out, mt_error *err)
{
    memset(out, 0, sizeof *out);
    int32_t n = a->num_children;
    array_priv *p = mt_calloc(1, sizeof *p);
    if (p && n > 0) {
        p->children = mt_calloc((size_t)n, sizeof(struct ArrowArray *));
        p->storage = mt_calloc((size_t)n, sizeof(struct ArrowArray));
    }
    if (!p || (n > 0 && (!p->children || !p->storage))) {
        if (p) {
            mt_free(p->children);
            mt_free(p->storage);
        }
        mt_free(p);
        return mt_error_set(err, MT_ENOMEM, "out of memory exporting an array");
    }
    p->array = mt_array_retain(a);
    int nb = mt_array_num_buffers(a->type);
    for (int i = 0; i < nb; i++) p->bufs[i] = a->buffers[i] ? a->buffers[i]->data : NULL;
    out->length = a->length;
    out->offset = a->offset;
    out->null_count = mt_array_null_count(a);
    out->n_buffers = nb;
    out->buffers = p->bufs;
    out->children = p->children;
    out->private_data = p;
    out->release = array_release;
    for (int32_t i = 0; i < n; i++) {
        p->children[i] = &p->storage[i];
        mt_status st = mt_array_export(a->children[i], p->children[i], err);
        if (st != MT_OK) {
            out->n_children = i;
            array_release(out);
            return st;
        }
    }
    out->n_children = n;
    return MT_OK;
}

/* ---- Schema import ----------------------------------------------------- */

static mt_status import_type(const struct ArrowSchema *s, int depth, mt_type **out, mt_error *err);

static mt_status import_children(const struct ArrowSchema *s, int depth, mt_type **types,
                                 mt_error *err)
{
    for (int64_t i = 0; i < s->n_children; i++) {
        mt_status st = s->children[i] ? import_type(s->children[i], depth + 1, &types[i], err)
                                      : mt_error_set(err, MT_EINVAL, "child %lld is NULL",
                                                     (long long)i);
        if (st != MT_OK) {
            for (int64_t j = 0; j < i; j++) mt_type_release(types[j]);
            return st;
        }
    }
    return MT_OK;
}

static bool child_nullable(const struct ArrowSchema *s, int64_t i)
{
    return (s->children[i]->flags & ARROW_FLAG_NULLABLE) != 0;
}

static mt_status import_nested(const struct ArrowSchema *s, int depth, mt_type **out, mt_error *err)
{
    char kind = s->format[1];
    int64_t n = s->n_children;
    if (kind != 'l' && kind != 's' && kind != 'm')
        return mt_error_set(err, MT_EUNSUPPORTED, "unsupported Arrow format '%s'", s->format);
    if (n < 0 || n > 100000 || (n > 0 && !s->children) || (kind != 's' && n != 1))
        return mt_error_set(err, MT_EINVAL, "format '%s' with %lld children", s->format, (long long)n);
    mt_type **types = mt_calloc(n > 0 ? (size_t)n : 1, sizeof(mt_type *));
    const char **names = mt_calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
    bool *nullables = mt_calloc(n > 0 ? (size_t)n : 1, sizeof(bool));
    mt_status st = types && names && nullables ? import_children(s, depth, types, err)
                                                : mt_error_set(err, MT_ENOMEM, "out of memory importing a schema");
    mt_type *t = NULL;
    if (st == MT_OK) {
        for (int64_t i = 0; i < n; i++) {
            names[i] = s->children[i]->name ? s->children[i]->name : "";
            nullables[i] = child_nullable(s, i);
        }
        if (kind == 'l') {
            t = mt_type_list(types[0], nullables[0], names[0]);
        } else if (kind == 's') {
            t = mt_type_struct((int32_t)n, names, types, nullables);
        } else if (types[0]->id != MT_TYPE_STRUCT || types[0]->num_fields != 2) {
            st = mt_error_set(err, MT_EINVAL, "map entries must be a struct of 2 fields");
        } else {
            const mt_type *e = types[0];
            t = mt_type_map(e->fields[0].type, e->fields[1].type, e->fields[1].nullable);
        }
        if (st == MT_OK && !t) st = mt_error_set(err, MT_ENOMEM, "out of memory importing a schema");
        for (int64_t i = 0; i < n; i++) mt_type_release(types[i]);
    }
    mt_free(types);
    mt_free(names);
    mt_free(nullables);
    *out = t;
    return st;
}

static mt_type *primitive_of(const char *f)
{
    static const char codes[] = "nbcsilCSILefguz";
    static const mt_type_id ids[] = {MT_TYPE_NA,     MT_TYPE_BOOL,    MT_TYPE_INT8,    MT_TYPE_INT16,
                                     MT_TYPE_INT32,  MT_TYPE_INT64,   MT_TYPE_UINT8,   MT_TYPE_UINT16,
                                     MT_TYPE_UINT32, MT_TYPE_UINT64,  MT_TYPE_FLOAT16, MT_TYPE_FLOAT32,
                                     MT_TYPE_FLOAT64, MT_TYPE_UTF8,   MT_TYPE_BINARY};
    if (f[0] && !f[1]) {
        const char *c = strchr(codes, f[0]);
        if (c) return mt_type_new(ids[c - codes]);
    }
    if (strcmp(f, "tdD") == 0) return mt_type_new(MT_TYPE_DATE32);
    return NULL;
}

static bool parse_int(const char *p, char **end, int32_t lo, int32_t hi, int32_t *out)
{
    if (*p < '0' || *p > '9') return false;
    long v = strtol(p, end, 10);
    if (v < lo || v > hi) return false;
    *out = (int32_t)v;
    return true;
}

static mt_status import_param(const char *f, mt_type **out, mt_error *err)
{
    static const char units[] = "smun";
    char *end = NULL;
    int32_t a, b;
    mt_type *t = NULL;
    if (f[0] == 'w' && f[1] == ':' && parse_int(f + 2, &end, 0, INT32_MAX, &a) && !*end) {
        t = mt_type_fixed_binary(a);
    } else if (f[0] == 'd' && f[1] == ':' && parse_int(f + 2, &end, 1, 38, &a) && *end == ',' &&
               parse_int(end + 1, &end, -1000, 1000, &b) && (!*end || strcmp(end, ",128") == 0)) {
        t = mt_type_decimal128(a, b);
    } else if (f[0] == 't' && f[1] == 't' && f[2] && strchr(units, f[2]) && !f[3]) {
        t = mt_type_time((mt_time_unit)(strchr(units, f[2]) - units));
    } else if (f[0] == 't' && f[1] == 's' && f[2] && strchr(units, f[2]) && f[3] == ':') {
        t = mt_type_timestamp((mt_time_unit)(strchr(units, f[2]) - units), f[4] ? f + 4 : NULL);
    } else {
        return mt_error_set(err, MT_EUNSUPPORTED, "unsupported Arrow format '%s'", f);
    }
    if (!t) return mt_error_set(err, MT_ENOMEM, "out of memory importing a schema");
    *out = t;
    return MT_OK;
}

static mt_status import_type(const struct ArrowSchema *s, int depth, mt_type **out, mt_error *err)
{
    if (!s->release) return mt_error_set(err, MT_EINVAL, "schema was already released");
    if (!s->format) return mt_error_set(err, MT_EINVAL, "schema without a format");
    if (s->dictionary)
        return mt_error_set(err, MT_EUNSUPPORTED, "dictionary-encoded fields are not supported");
    if (depth > MAX_DEPTH)
        return mt_error_set(err, MT_EUNSUPPORTED, "schema nested more than %d levels", MAX_DEPTH);
    if (s->format[0] == '+') return import_nested(s, depth, out, err);
    if (s->n_children != 0)
        return mt_error_set(err, MT_EINVAL, "format '%s' with children", s->format);
    mt_type *t = primitive_of(s->format);
    if (t) {
        *out = t;
        return MT_OK;
    }
    return import_param(s->format, out, err);
}

mt_status mt_type_import(const struct ArrowSchema *schema, mt_type **out, mt_error *err)
{
    if (!schema) return mt_error_set(err, MT_EINVAL, "no schema to import");
    return import_type(schema, 0, out, err);
}

/* ---- Array import ------------------------------------------------------ */

/* Holds the moved ArrowArray of one import; released when the last buffer goes. */
typedef struct import_owner {
    struct ArrowArray array;
    int64_t refs;
    bool moved;
} import_owner;

static void owner_unref(import_owner *o)
{
    if (!mt__data_ref_dec(&o->refs)) return;
    if (o->moved && o->array.release) o->array.release(&o->array);
    mt_free(o);
}

static void foreign_free(mt_buffer *buf) { owner_unref(buf->owner); }

/* Wraps foreign buffer i of `a` (size `bytes`); NULL memory of an empty buffer becomes owned. */
static mt_status wrap(const struct ArrowArray *a, int i, int64_t bytes, import_owner *o,
                      mt_buffer **out, mt_error *err)
{
    const void *p = a->buffers[i];
    if (!p) {
        /* Producers may leave the buffers of an empty array NULL (even offsets). */
        if (bytes > 0 && (a->length > 0 || bytes > (1 << 20)))
            return mt_error_set(err, MT_EINVAL, "buffer %d is NULL but %lld bytes are needed", i,
                                (long long)bytes);
        *out = mt_buffer_new(bytes);
        return *out ? MT_OK : mt_error_set(err, MT_ENOMEM, "out of memory importing an array");
    }
    *out = mt_buffer_wrap((uint8_t *)(uintptr_t)p, bytes, foreign_free, o);
    if (!*out) return mt_error_set(err, MT_ENOMEM, "out of memory importing an array");
    mt__data_ref_inc(&o->refs);
    return MT_OK;
}

/* Sizes of the buffers of `a` of type `t`, from its length and offset (and offsets). */
static mt_status buffer_sizes(const struct ArrowArray *a, const mt_type *t, int64_t *sz,
                              mt_error *err)
{
    int64_t end = a->offset + a->length;
    sz[0] = mt__data_bitmap_bytes(end);
    if (t->id == MT_TYPE_BOOL)
        sz[1] = mt__data_bitmap_bytes(end);
    else if (mt__data_is_varbin(t->id) || mt__data_is_list_like(t->id))
        sz[1] = 4 * (end + 1);
    else
        sz[1] = end * mt__data_fixed_width(t);
    sz[2] = 0;
    if (mt__data_is_varbin(t->id) && a->buffers[1]) {
        int32_t last;
        memcpy(&last, (const uint8_t *)a->buffers[1] + 4 * end, 4);
        if (last < 0) return mt_error_set(err, MT_EINVAL, "negative last offset %d", (int)last);
        sz[2] = last;
    }
    return MT_OK;
}

static mt_status import_tree(const struct ArrowArray *a, mt_type *t, import_owner *o, int depth,
                             mt_array **out, mt_error *err);

static mt_status import_kids(const struct ArrowArray *a, mt_type *t, import_owner *o, int depth,
                             mt_array **kids, mt_error *err)
{
    for (int32_t i = 0; i < t->num_fields; i++) {
        mt_status st = a->children[i]
                           ? import_tree(a->children[i], t->fields[i].type, o, depth + 1, &kids[i], err)
                           : mt_error_set(err, MT_EINVAL, "child %d is NULL", (int)i);
        if (st != MT_OK) {
            for (int32_t j = 0; j < i; j++) mt_array_release(kids[j]);
            return st;
        }
    }
    return MT_OK;
}

static mt_status check_shape(const struct ArrowArray *a, const mt_type *t, int depth, mt_error *err)
{
    int nb = mt_array_num_buffers(t);
    if (depth > MAX_DEPTH) return mt_error_set(err, MT_EUNSUPPORTED, "array nested too deeply");
    if (a->dictionary) return mt_error_set(err, MT_EUNSUPPORTED, "dictionary arrays are not supported");
    if (a->length < 0 || a->offset < 0 || a->offset > INT64_MAX / 32 - a->length)
        return mt_error_set(err, MT_EINVAL, "bad length %lld or offset %lld", (long long)a->length,
                            (long long)a->offset);
    if (a->n_buffers != nb || (nb > 0 && !a->buffers))
        return mt_error_set(err, MT_EINVAL, "array has %lld buffers, its type needs %d",
                            (long long)a->n_buffers, nb);
    if (a->n_children != t->num_fields || (t->num_fields > 0 && !a->children))
        return mt_error_set(err, MT_EINVAL, "array has %lld children, its type has %d",
                            (long long)a->n_children, (int)t->num_fields);
    return MT_OK;
}

static mt_status import_tree(const struct ArrowArray *a, mt_type *t, import_owner *o, int depth,
                             mt_array **out, mt_error *err)
{
    MT_RETURN_NOT_OK(check_shape(a, t, depth, err));
    int nb = (int)a->n_buffers;
    int64_t sz[3];
    mt_buffer *bufs[3] = {NULL, NULL, NULL};
    mt_status st = buffer_sizes(a, t, sz, err);
    for (int i = 0; i < nb && st == MT_OK; i++) {
        if (i == 0 && !a->buffers[0]) continue; /* no validity bitmap */
        st = wrap(a, i, sz[i], o, &bufs[i], err);
    }
    int32_t nk = t->num_fields;
    mt_array **kids = mt_calloc(nk > 0 ? (size_t)nk : 1, sizeof(mt_array *));
    if (st == MT_OK && !kids) st = mt_error_set(err, MT_ENOMEM, "out of memory importing an array");
    if (st == MT_OK) st = import_kids(a, t, o, depth, kids, err);
    if (st != MT_OK) {
        for (int i = 0; i < 3; i++) mt_buffer_release(bufs[i]);
        mt_free(kids);
        return st;
    }
    int64_t nulls = a->null_count < 0 ? -1 : a->null_count;
    mt_array *r = mt__data_array_take(t, a->length, nulls, bufs, 3, kids, nk);
    mt_free(kids);
    if (!r) return mt_error_set(err, MT_ENOMEM, "out of memory importing an array");
    r->offset = a->offset;
    if (!r->buffers[0] && t->id != MT_TYPE_NA && a->null_count > 0) {
        mt_array_release(r);
        return mt_error_set(err, MT_EINVAL, "null_count %lld without a validity bitmap",
                            (long long)a->null_count);
    }
    *out = r;
    return MT_OK;
}

mt_status mt_array_import(struct ArrowArray *array, mt_type *type, mt_array **out, mt_error *err)
{
    if (!array || !array->release) return mt_error_set(err, MT_EINVAL, "array was already released");
    import_owner *o = mt_calloc(1, sizeof *o);
    if (!o) return mt_error_set(err, MT_ENOMEM, "out of memory importing an array");
    o->refs = 1; /* ours until the end of this call */
    mt_array *r = NULL;
    mt_status st = import_tree(array, type, o, 0, &r, err);
    if (st == MT_OK) st = mt_array_validate(r, err);
    if (st != MT_OK) {
        mt_array_release(r); /* drops the buffers' references; `moved` is false */
        owner_unref(o);
        mt_error_prefix(err, "importing an Arrow array");
        return st;
    }
    o->array = *array;
    o->moved = true;
    array->release = NULL;
    owner_unref(o);
    *out = r;
    return MT_OK;
}

/* ---- Tables ------------------------------------------------------------ */

mt_status mt_table_export(mt_table *t, struct ArrowSchema *schema_out,
                          struct ArrowArray *array_out, mt_error *err)
{
    mt_array *s = mt_array_new(t->schema, t->num_rows, 0, 0, NULL, 0, t->columns, t->num_columns);
    if (!s) return mt_error_set(err, MT_ENOMEM, "out of memory exporting a table");
    mt_status st = mt_type_export(t->schema, "", false, schema_out, err);
    if (st == MT_OK) {
        st = mt_array_export(s, array_out, err);
        if (st != MT_OK) schema_out->release(schema_out);
    }
    mt_array_release(s);
    return st;
}

/* Columns of an imported struct array: its children over the struct's slots. */
static mt_status table_from_struct(mt_array *s, mt_table **out, mt_error *err)
{
    if (mt_array_null_count(s) > 0)
        return mt_error_set(err, MT_EINVAL, "a table cannot have null rows (%lld)",
                            (long long)mt_array_null_count(s));
    int32_t n = s->num_children;
    mt_array **cols = mt_calloc(n > 0 ? (size_t)n : 1, sizeof(mt_array *));
    if (!cols) return mt_error_set(err, MT_ENOMEM, "out of memory importing a table");
    mt_status st = MT_OK;
    int32_t made = 0;
    for (; made < n && st == MT_OK; made++)
        st = mt_array_slice(s->children[made], s->offset, s->length, &cols[made], err);
    if (st == MT_OK) st = mt_table_new(s->type, cols, s->length, out, err);
    for (int32_t i = 0; i < n; i++) mt_array_release(cols[i]);
    mt_free(cols);
    return st;
}

/*
 * On success both structs are consumed (released / moved). On failure before
 * the array is moved (bad schema, null rows, bad array) the caller keeps
 * both; only an out-of-memory after the move leaves the array consumed.
 */
mt_status mt_table_import(struct ArrowSchema *schema, struct ArrowArray *array, mt_table **out,
                          mt_error *err)
{
    mt_type *t = NULL;
    MT_RETURN_NOT_OK(mt_type_import(schema, &t, err));
    if (t->id != MT_TYPE_STRUCT) {
        char name[128];
        mt_type_to_string(t, name, sizeof name);
        mt_type_release(t);
        return mt_error_set(err, MT_ETYPE, "a table must be a struct, not %s", name);
    }
    /* Check the struct's own rows before moving the array. */
    if (array && array->release && array->null_count > 0) {
        mt_type_release(t);
        return mt_error_set(err, MT_EINVAL, "a table cannot have null rows (%lld)",
                            (long long)array->null_count);
    }
    mt_array *s = NULL;
    mt_status st = mt_array_import(array, t, &s, err);
    mt_type_release(t);
    if (st != MT_OK) return st;
    st = table_from_struct(s, out, err);
    mt_array_release(s);
    if (st == MT_OK && schema->release) schema->release(schema);
    return st;
}
