/*
 * writer_schema.c — maps an Arrow schema to Parquet schema elements (as
 * pyarrow writes them: LogicalType plus the matching converted type,
 * standard 3-level LIST and MAP groups) and shreds Arrow arrays into
 * definition/repetition levels (Dremel).
 *
 * Single-threaded. Invariants: elems are depth-first with elems[0] the root;
 * each leaf records the Arrow child path (`steps`) from its top-level column
 * to the leaf array, used by the shredder. Slices are honoured: a struct's
 * offset applies to its children, list offsets index the child logically.
 */
#include <stdio.h>
#include <string.h>

#include "parquet/pq_encode.h"

#define MAX_DEPTH 64

typedef struct sbuild {
    pq_w_schema *s;
    int32_t elem_cap, leaf_cap;
    const char *path[MAX_DEPTH];
    int32_t steps[MAX_DEPTH];
    int32_t depth, nsteps;
    mt_error *err;
} sbuild;

static pq_schema_element *new_elem(sbuild *b, const char *name, int rep)
{
    pq_w_schema *s = b->s;
    if (s->num_elems == b->elem_cap) {
        int32_t cap = b->elem_cap ? b->elem_cap * 2 : 16;
        pq_schema_element *e = mt_realloc(s->elems, (size_t)cap * sizeof *e);
        if (!e) return NULL;
        s->elems = e;
        b->elem_cap = cap;
    }
    pq_schema_element *e = &s->elems[s->num_elems];
    memset(e, 0, sizeof *e);
    e->name = mt_strdup(name);
    if (!e->name) return NULL;
    s->num_elems++;
    e->type = -1;
    e->repetition = rep;
    e->converted_type = -1;
    e->field_id = -1;
    return e;
}

static void set_int(pq_schema_element *e, pq_w_leaf *l, int physical, int bits, bool is_signed)
{
    static const int ct[2][4] = {{PQ_CT_UINT_8, PQ_CT_UINT_16, PQ_CT_UINT_32, PQ_CT_UINT_64},
                                 {PQ_CT_INT_8, PQ_CT_INT_16, PQ_CT_INT_32, PQ_CT_INT_64}};
    int i = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;
    e->type = physical;
    e->converted_type = ct[is_signed][i];
    e->logical.kind = PQ_LT_INTEGER;
    e->logical.bit_width = bits;
    e->logical.is_signed = is_signed;
    l->sort_signed = is_signed;
}

static int32_t decimal_bytes(int32_t precision)
{
    /* Smallest n with 2^(8n-1) > 10^precision. */
    double lim = 1;
    for (int32_t i = 0; i < precision; i++) lim *= 10;
    int32_t n = 1;
    double cap = 128;
    while (cap <= lim && n < 16) {
        n++;
        cap *= 256;
    }
    return n;
}

static void set_time_unit(pq_schema_element *e, mt_time_unit u, bool ms_ct, bool us_ct,
                          int ct_ms, int ct_us)
{
    e->logical.unit = u <= MT_UNIT_MILLI ? PQ_MILLIS : u == MT_UNIT_MICRO ? PQ_MICROS : PQ_NANOS;
    if (e->logical.unit == PQ_MILLIS && ms_ct) e->converted_type = ct_ms;
    if (e->logical.unit == PQ_MICROS && us_ct) e->converted_type = ct_us;
}

/* Fills the physical/logical type of a leaf; MT_EUNSUPPORTED for others. */
static mt_status map_leaf(const mt_type *t, pq_schema_element *e, pq_w_leaf *l)
{
    l->sort_signed = true;
    switch (t->id) {
    case MT_TYPE_NA: e->type = PQ_INT32; e->logical.kind = PQ_LT_UNKNOWN; break;
    case MT_TYPE_BOOL: e->type = PQ_BOOLEAN; break;
    case MT_TYPE_INT8: set_int(e, l, PQ_INT32, 8, true); break;
    case MT_TYPE_INT16: set_int(e, l, PQ_INT32, 16, true); break;
    case MT_TYPE_INT32: set_int(e, l, PQ_INT32, 32, true); break;
    case MT_TYPE_INT64: set_int(e, l, PQ_INT64, 64, true); break;
    case MT_TYPE_UINT8: set_int(e, l, PQ_INT32, 8, false); break;
    case MT_TYPE_UINT16: set_int(e, l, PQ_INT32, 16, false); break;
    case MT_TYPE_UINT32: set_int(e, l, PQ_INT32, 32, false); break;
    case MT_TYPE_UINT64: set_int(e, l, PQ_INT64, 64, false); break;
    case MT_TYPE_FLOAT16:
        e->type = PQ_FIXED_LEN_BYTE_ARRAY;
        e->type_length = 2;
        e->logical.kind = PQ_LT_FLOAT16;
        break;
    case MT_TYPE_FLOAT32: e->type = PQ_FLOAT; break;
    case MT_TYPE_FLOAT64: e->type = PQ_DOUBLE; break;
    case MT_TYPE_UTF8:
        e->type = PQ_BYTE_ARRAY;
        e->converted_type = PQ_CT_UTF8;
        e->logical.kind = PQ_LT_STRING;
        l->sort_signed = false;
        break;
    case MT_TYPE_BINARY: e->type = PQ_BYTE_ARRAY; l->sort_signed = false; break;
    case MT_TYPE_FIXED_BINARY:
        if (t->byte_width <= 0) return MT_EUNSUPPORTED;
        e->type = PQ_FIXED_LEN_BYTE_ARRAY;
        e->type_length = t->byte_width;
        l->sort_signed = false;
        break;
    case MT_TYPE_DECIMAL128:
        if (t->precision < 1 || t->precision > 38) return MT_EUNSUPPORTED;
        e->type = t->precision <= 9 ? PQ_INT32 : t->precision <= 18 ? PQ_INT64
                                                                    : PQ_FIXED_LEN_BYTE_ARRAY;
        if (e->type == PQ_FIXED_LEN_BYTE_ARRAY) e->type_length = decimal_bytes(t->precision);
        e->converted_type = PQ_CT_DECIMAL;
        e->scale = e->logical.scale = t->scale;
        e->precision = e->logical.precision = t->precision;
        e->logical.kind = PQ_LT_DECIMAL;
        break;
    case MT_TYPE_DATE32:
        e->type = PQ_INT32;
        e->converted_type = PQ_CT_DATE;
        e->logical.kind = PQ_LT_DATE;
        break;
    case MT_TYPE_TIME32:
    case MT_TYPE_TIME64:
        e->type = t->id == MT_TYPE_TIME32 ? PQ_INT32 : PQ_INT64;
        e->logical.kind = PQ_LT_TIME;
        e->logical.is_adjusted_to_utc = true;
        set_time_unit(e, t->unit, true, true, PQ_CT_TIME_MILLIS, PQ_CT_TIME_MICROS);
        break;
    case MT_TYPE_TIMESTAMP: {
        bool utc = t->timezone != NULL;
        e->type = PQ_INT64;
        e->logical.kind = PQ_LT_TIMESTAMP;
        e->logical.is_adjusted_to_utc = utc;
        /* Converted type even when naive, as pyarrow and arrow-rs write it (DuckDB needs it). */
        set_time_unit(e, t->unit, true, true, PQ_CT_TIMESTAMP_MILLIS, PQ_CT_TIMESTAMP_MICROS);
        break;
    }
    default:
        return MT_EUNSUPPORTED;
    }
    l->physical = e->type;
    l->type_length = e->type_length;
    return MT_OK;
}

static mt_status add_node(sbuild *b, const char *name, const mt_type *t, bool nullable,
                          int16_t def, int16_t rep);

static mt_status add_leaf(sbuild *b, pq_schema_element *e, const mt_type *t, int16_t def,
                          int16_t rep)
{
    pq_w_schema *s = b->s;
    if (s->num_leaves == b->leaf_cap) {
        int32_t cap = b->leaf_cap ? b->leaf_cap * 2 : 8;
        pq_w_leaf *l = mt_realloc(s->leaves, (size_t)cap * sizeof *l);
        if (!l) return mt_error_set(b->err, MT_ENOMEM, "out of memory");
        s->leaves = l;
        b->leaf_cap = cap;
    }
    pq_w_leaf *l = &s->leaves[s->num_leaves];
    memset(l, 0, sizeof *l);
    if (map_leaf(t, e, l) != MT_OK) {
        char tn[128];
        mt_type_to_string(t, tn, sizeof tn);
        return mt_error_set(b->err, MT_EUNSUPPORTED, "column '%s': type %s cannot be written",
                            b->path[0], tn);
    }
    s->num_leaves++;
    l->type = t;
    l->max_def = def;
    l->max_rep = rep;
    l->path = mt_calloc((size_t)b->depth, sizeof *l->path);
    l->steps = mt_calloc((size_t)b->nsteps + 1, sizeof *l->steps);
    if (!l->path || !l->steps) return mt_error_set(b->err, MT_ENOMEM, "out of memory");
    l->path_len = b->depth;
    for (int32_t i = 0; i < b->depth; i++)
        if (!(l->path[i] = mt_strdup(b->path[i])))
            return mt_error_set(b->err, MT_ENOMEM, "out of memory");
    memcpy(l->steps, b->steps, (size_t)b->nsteps * sizeof *l->steps);
    l->num_steps = b->nsteps;
    return MT_OK;
}

/* A group element with children (`names`, `types`, `nulls`), stepping `steps[i]`. */
static mt_status add_group(sbuild *b, pq_schema_element *e, int32_t n, const char *const *names,
                           mt_type *const *types, const bool *nulls, const int32_t *steps,
                           int16_t def, int16_t rep)
{
    e->num_children = n;
    for (int32_t i = 0; i < n; i++) {
        b->steps[b->nsteps++] = steps[i];
        MT_RETURN_NOT_OK(add_node(b, names[i], types[i], nulls[i], def, rep));
        b->nsteps--;
    }
    return MT_OK;
}

static mt_status add_nested(sbuild *b, pq_schema_element *e, const mt_type *t, int16_t def,
                            int16_t rep)
{
    static const int32_t zero = 0, kv_steps[2] = {0, 1};
    if (t->id == MT_TYPE_STRUCT) {
        if (t->num_fields == 0)
            return mt_error_set(b->err, MT_EUNSUPPORTED, "column '%s': empty struct cannot be "
                                "written", b->path[0]);
        const char *names[t->num_fields];
        mt_type *types[t->num_fields];
        bool nulls[t->num_fields];
        int32_t steps[t->num_fields];
        for (int32_t i = 0; i < t->num_fields; i++) {
            names[i] = t->fields[i].name;
            types[i] = t->fields[i].type;
            nulls[i] = t->fields[i].nullable;
            steps[i] = i;
        }
        return add_group(b, e, t->num_fields, names, types, nulls, steps, def, rep);
    }
    bool is_map = t->id == MT_TYPE_MAP;
    e->converted_type = is_map ? PQ_CT_MAP : PQ_CT_LIST;
    e->logical.kind = is_map ? PQ_LT_MAP : PQ_LT_LIST;
    e->num_children = 1;
    pq_schema_element *r = new_elem(b, is_map ? "key_value" : "list", PQ_REPEATED);
    if (!r) return mt_error_set(b->err, MT_ENOMEM, "out of memory");
    b->path[b->depth++] = is_map ? "key_value" : "list";
    if (is_map) b->steps[b->nsteps++] = 0; /* map -> entries struct */
    mt_status st;
    if (!is_map) {
        const char *nm = "element";
        st = add_group(b, r, 1, &nm, &t->fields[0].type, &t->fields[0].nullable, &zero,
                       (int16_t)(def + 1), (int16_t)(rep + 1));
    } else {
        const mt_type *ent = t->fields[0].type;
        const char *names[2] = {"key", "value"};
        mt_type *types[2] = {ent->fields[0].type, ent->fields[1].type};
        bool nulls[2] = {false, ent->fields[1].nullable};
        st = add_group(b, r, 2, names, types, nulls, kv_steps, (int16_t)(def + 1),
                       (int16_t)(rep + 1));
    }
    if (is_map) b->nsteps--;
    b->depth--;
    return st;
}

static mt_status add_node(sbuild *b, const char *name, const mt_type *t, bool nullable,
                          int16_t def, int16_t rep)
{
    if (b->depth + 2 >= MAX_DEPTH || b->nsteps + 2 >= MAX_DEPTH)
        return mt_error_set(b->err, MT_EUNSUPPORTED, "column '%s': nesting too deep",
                            b->depth ? b->path[0] : name);
    if (t->id == MT_TYPE_NA) nullable = true;
    pq_schema_element *e = new_elem(b, name, nullable ? PQ_OPTIONAL : PQ_REQUIRED);
    if (!e) return mt_error_set(b->err, MT_ENOMEM, "out of memory");
    if (nullable) def++;
    b->path[b->depth++] = name;
    mt_status st;
    if (t->id == MT_TYPE_STRUCT || t->id == MT_TYPE_LIST || t->id == MT_TYPE_MAP)
        st = add_nested(b, e, t, def, rep);
    else
        st = add_leaf(b, e, t, def, rep);
    b->depth--;
    return st;
}

mt_status pq_w_schema_build(const mt_type *schema, pq_w_schema *out, mt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!schema || schema->id != MT_TYPE_STRUCT)
        return mt_error_set(err, MT_EINVAL, "the schema must be a struct type");
    sbuild b = {.s = out, .err = err};
    pq_schema_element *root = new_elem(&b, "schema", -1);
    if (!root) return mt_error_set(err, MT_ENOMEM, "out of memory");
    root->num_children = schema->num_fields;
    for (int32_t i = 0; i < schema->num_fields; i++) {
        int32_t first = out->num_leaves;
        const mt_field *f = &schema->fields[i];
        MT_RETURN_NOT_OK(add_node(&b, f->name, f->type, f->nullable, 0, 0));
        for (int32_t j = first; j < out->num_leaves; j++) {
            out->leaves[j].field = i;
            out->leaves[j].top_nullable = f->nullable || f->type->id == MT_TYPE_NA;
        }
    }
    return MT_OK;
}

void pq_w_schema_fini(pq_w_schema *s)
{
    if (!s) return;
    for (int32_t i = 0; i < s->num_elems; i++) mt_free(s->elems[i].name);
    mt_free(s->elems);
    for (int32_t i = 0; i < s->num_leaves; i++) {
        for (int32_t j = 0; s->leaves[i].path && j < s->leaves[i].path_len; j++)
            mt_free(s->leaves[i].path[j]);
        mt_free(s->leaves[i].path);
        mt_free(s->leaves[i].steps);
    }
    mt_free(s->leaves);
    memset(s, 0, sizeof *s);
}

/* ---- Shredding --------------------------------------------------------- */

typedef struct shred {
    const pq_w_leaf *leaf;
    pq_levels *out;
    int64_t cap_levels, cap_pos;
    mt_status st;
    mt_error *err;
} shred;

static bool grow(void **p, int64_t *cap, int64_t need, size_t elem)
{
    int64_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = mt_realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static bool grow_levels(shred *s)
{
    pq_levels *o = s->out;
    int64_t c = s->cap_levels ? s->cap_levels * 2 : 64;
    if (s->leaf->max_def) {
        int16_t *q = mt_realloc(o->def, (size_t)c * sizeof *q);
        if (!q) return false;
        o->def = q;
    }
    if (s->leaf->max_rep) {
        int16_t *q = mt_realloc(o->rep, (size_t)c * sizeof *q);
        if (!q) return false;
        o->rep = q;
    }
    s->cap_levels = c;
    return true;
}

static void emit(shred *s, int16_t def, int16_t rep, int64_t pos)
{
    pq_levels *o = s->out;
    if (o->num_levels == s->cap_levels && !grow_levels(s)) {
        s->st = mt_error_set(s->err, MT_ENOMEM, "out of memory shredding levels");
        return;
    }
    if (o->def) o->def[o->num_levels] = def;
    if (o->rep) o->rep[o->num_levels] = rep;
    o->num_levels++;
    if (pos < 0) return;
    if (o->num_values == s->cap_pos && !grow((void **)&o->pos, &s->cap_pos, s->cap_pos + 1, 8)) {
        s->st = mt_error_set(s->err, MT_ENOMEM, "out of memory shredding values");
        return;
    }
    o->pos[o->num_values++] = pos;
}

static mt_status null_error(const pq_w_leaf *l, mt_error *err)
{
    char path[256] = "";
    size_t n = 0;
    for (int32_t i = 0; i < l->path_len && n < sizeof path; i++)
        n += (size_t)snprintf(path + n, sizeof path - n, "%s%s", i ? "." : "", l->path[i]);
    return mt_error_set(err, MT_EINVAL, "column '%s': null value in non-nullable field '%s'",
                        l->path[0], path);
}

static void walk(shred *s, const mt_array *a, bool nullable, int32_t d, int64_t i, int16_t def,
                 int16_t rep, int16_t rdepth, bool entries)
{
    if (s->st != MT_OK) return;
    if (a->type->id == MT_TYPE_NA) nullable = true;
    if (!mt_array_is_valid(a, i)) {
        if (!nullable) s->st = null_error(s->leaf, s->err);
        else emit(s, def, rep, -1);
        return;
    }
    if (nullable) def++;
    if (d == s->leaf->num_steps) {
        emit(s, def, rep, a->offset + i);
        return;
    }
    const mt_type *t = a->type;
    int32_t step = s->leaf->steps[d];
    if (t->id == MT_TYPE_STRUCT) {
        bool cn = entries ? (step == 1 && t->fields[1].nullable) : t->fields[step].nullable;
        walk(s, a->children[step], cn, d + 1, a->offset + i, def, rep, rdepth, false);
        return;
    }
    const int32_t *off = (const int32_t *)a->buffers[1]->data + a->offset + i;
    int32_t first = off[0], end = off[1];
    if (first >= end) {
        emit(s, def, rep, -1);
        return;
    }
    bool cn = t->id == MT_TYPE_LIST ? t->fields[0].nullable : false;
    for (int32_t k = first; k < end && s->st == MT_OK; k++)
        walk(s, a->children[0], cn, d + 1, k, (int16_t)(def + 1),
             k == first ? rep : (int16_t)(rdepth + 1), (int16_t)(rdepth + 1),
             t->id == MT_TYPE_MAP);
}

/* A top-level flat column: levels straight from the validity bitmap. */
static mt_status shred_flat(const pq_w_leaf *l, const mt_array *col, pq_levels *o, mt_error *err)
{
    int64_t n = col->length;
    o->num_levels = n;
    o->first = col->offset;
    bool is_na = col->type->id == MT_TYPE_NA;
    const mt_buffer *vb = col->buffers[0];
    if (l->max_def == 0) {
        if (vb && mt_array_null_count((mt_array *)col) > 0) return null_error(l, err);
        o->num_values = n;
        return MT_OK;
    }
    o->def = mt_malloc((size_t)(n ? n : 1) * sizeof *o->def);
    if (!o->def) return mt_error_set(err, MT_ENOMEM, "out of memory shredding levels");
    if (is_na || !vb) {
        for (int64_t i = 0; i < n; i++) o->def[i] = is_na ? 0 : 1;
        o->num_values = is_na ? 0 : n;
        return MT_OK;
    }
    const uint8_t *bits = vb->data;
    int64_t valid = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = col->offset + i;
        int16_t v = (bits[j >> 3] >> (j & 7)) & 1;
        o->def[i] = v;
        valid += v;
    }
    o->num_values = valid;
    if (valid == n) return MT_OK;
    o->pos = mt_malloc((size_t)(valid ? valid : 1) * sizeof *o->pos);
    if (!o->pos) return mt_error_set(err, MT_ENOMEM, "out of memory shredding values");
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (o->def[i]) o->pos[k++] = col->offset + i;
    return MT_OK;
}

static const mt_array *leaf_array(const pq_w_leaf *l, const mt_array *col)
{
    const mt_array *a = col;
    for (int32_t d = 0; d < l->num_steps; d++) a = a->children[l->steps[d]];
    return a;
}

mt_status pq_w_shred(const pq_w_schema *sc, int32_t li, const mt_array *col, pq_levels *out,
                     mt_error *err)
{
    memset(out, 0, sizeof *out);
    const pq_w_leaf *l = &sc->leaves[li];
    out->leaf = leaf_array(l, col);
    if (l->num_steps == 0) return shred_flat(l, col, out, err);
    shred s = {.leaf = l, .out = out, .err = err};
    if (!grow((void **)&out->pos, &s.cap_pos, col->length, 8))
        return mt_error_set(err, MT_ENOMEM, "out of memory shredding values");
    for (int64_t i = 0; i < col->length && s.st == MT_OK; i++)
        walk(&s, col, l->top_nullable, 0, i, 0, 0, 0, false);
    return s.st;
}

void pq_levels_fini(pq_levels *l)
{
    if (!l) return;
    mt_free(l->def);
    mt_free(l->rep);
    mt_free(l->pos);
    memset(l, 0, sizeof *l);
}
