/*
 * pq_schema.c — maps a Parquet schema (the footer's depth-first element list)
 * to an Arrow STRUCT type, a tree of pq_node (one per Arrow node, with the
 * definition/repetition levels that select its instances) and the leaf
 * descriptors (pq_leaf, with the physical→Arrow conversion of each column).
 *
 * The mapping follows pyarrow, including the backward-compatibility rules for
 * LIST and MAP of Parquet's LogicalTypes.md. Built once per reader on the
 * opening thread, immutable afterwards. Invariants: the element list is
 * bounds-checked (every num_children fits, depth <= PQ_MAX_DEPTH), so levels
 * fit in uint8_t; leaves are numbered in schema order, which is the order of
 * the column chunks of a row group.
 */
#include <stdio.h>

#include "parquet/pq_value.h"

typedef struct ptree {
    const pq_schema_element *el;
    int32_t nkids;
    struct ptree *kids;
} ptree;

typedef struct build_ctx {
    const pq_file_meta *m;
    pq_schema *s;
    int32_t cursor;
    int32_t leaf_cap;
    char path[1024];
    const pq_schema_element *path_el; /* element whose name ends `path` */
    mt_error *err;
} build_ctx;

static void ptree_free(ptree *t)
{
    if (!t->kids) return;
    for (int32_t i = 0; i < t->nkids; i++) ptree_free(&t->kids[i]);
    mt_free(t->kids);
    t->kids = NULL;
}

static mt_status ptree_parse(build_ctx *c, ptree *t, int depth)
{
    const pq_file_meta *m = c->m;
    if (c->cursor >= m->num_schema)
        return mt_error_set(c->err, MT_ECORRUPT, "schema: element list ends early");
    const pq_schema_element *el = &m->schema[c->cursor++];
    t->el = el;
    t->nkids = 0;
    t->kids = NULL;
    if (depth > PQ_MAX_DEPTH)
        return mt_error_set(c->err, MT_EUNSUPPORTED, "schema: nesting deeper than %d at '%s'",
                            PQ_MAX_DEPTH, el->name ? el->name : "");
    if (el->num_children < 0 || el->num_children > m->num_schema - c->cursor)
        return mt_error_set(c->err, MT_ECORRUPT, "schema: element '%s' claims %d children",
                            el->name ? el->name : "", el->num_children);
    if (el->num_children == 0) {
        if (el->type < 0 && depth > 0)
            return mt_error_set(c->err, MT_ECORRUPT, "schema: group '%s' has no children",
                                el->name ? el->name : "");
        return MT_OK;
    }
    t->kids = mt_calloc((size_t)el->num_children, sizeof(ptree));
    if (!t->kids) return mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
    t->nkids = el->num_children;
    for (int32_t i = 0; i < t->nkids; i++) MT_RETURN_NOT_OK(ptree_parse(c, &t->kids[i], depth + 1));
    return MT_OK;
}

/* ---- Leaf types -------------------------------------------------------- */

static mt_type *int_type(int bits, bool is_signed, pq_leaf *lf)
{
    static const mt_type_id s[] = {MT_TYPE_INT8, MT_TYPE_INT16, MT_TYPE_INT32, MT_TYPE_INT64};
    static const mt_type_id u[] = {MT_TYPE_UINT8, MT_TYPE_UINT16, MT_TYPE_UINT32, MT_TYPE_UINT64};
    int k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;
    lf->width = bits / 8;
    if (lf->physical == PQ_INT32 && bits == 8) lf->conv = PQ_CONV_I32_I8;
    if (lf->physical == PQ_INT32 && bits == 16) lf->conv = PQ_CONV_I32_I16;
    return mt_type_new(is_signed ? s[k] : u[k]);
}

static mt_status decimal_type(build_ctx *c, pq_leaf *lf, int32_t prec, int32_t scale,
                              mt_type **out)
{
    const pq_schema_element *el = lf->el;
    int32_t bytes = el->type == PQ_INT32 ? 4 : el->type == PQ_INT64 ? 8
                  : el->type == PQ_FIXED_LEN_BYTE_ARRAY ? el->type_length : 16;
    if (prec < 1 || prec > 38 || scale < 0 || scale > prec || bytes > 16)
        return mt_error_set(c->err, MT_EUNSUPPORTED,
                            "column '%s': decimal(%d, %d) stored in %d bytes does not fit decimal128",
                            lf->path, prec, scale, bytes);
    lf->width = 16;
    lf->conv = el->type == PQ_INT32 ? PQ_CONV_I32_DEC : el->type == PQ_INT64 ? PQ_CONV_I64_DEC
             : el->type == PQ_BYTE_ARRAY ? PQ_CONV_BA_DEC : PQ_CONV_FLBA_DEC;
    lf->store = PQ_STORE_FIXED;
    *out = mt_type_decimal128(prec, scale);
    return MT_OK;
}

static const mt_time_unit unit_of[] = {MT_UNIT_MILLI, MT_UNIT_MICRO, MT_UNIT_NANO};

/* The logical annotation of a leaf; NULL type when it does not apply here. */
static mt_status logical_leaf(build_ctx *c, pq_leaf *lf, mt_type **out)
{
    const pq_schema_element *el = lf->el;
    const pq_logical_type *lt = &el->logical;
    int t = el->type;
    int unit = lt->unit >= 0 && lt->unit <= 2 ? lt->unit : -1;
    *out = NULL;
    switch (lt->kind) {
    case PQ_LT_STRING: case PQ_LT_ENUM: case PQ_LT_JSON:
        if (t == PQ_BYTE_ARRAY) *out = mt_type_new(MT_TYPE_UTF8);
        break;
    case PQ_LT_DECIMAL:
        if (t == PQ_INT32 || t == PQ_INT64 || t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY)
            return decimal_type(c, lf, lt->precision, lt->scale, out);
        break;
    case PQ_LT_DATE:
        if (t == PQ_INT32) *out = mt_type_new(MT_TYPE_DATE32);
        break;
    case PQ_LT_TIME:
        if (t == PQ_INT32 && unit == PQ_MILLIS) *out = mt_type_time(MT_UNIT_MILLI);
        if (t == PQ_INT64 && unit > PQ_MILLIS) *out = mt_type_time(unit_of[unit]);
        break;
    case PQ_LT_TIMESTAMP:
        if (t == PQ_INT64 && unit >= 0)
            *out = mt_type_timestamp(unit_of[unit], lt->is_adjusted_to_utc ? "UTC" : NULL);
        break;
    case PQ_LT_INTEGER:
        if ((t == PQ_INT32 && lt->bit_width >= 8 && lt->bit_width <= 32 && lt->bit_width != 24)
            || (t == PQ_INT64 && lt->bit_width == 64))
            *out = int_type(lt->bit_width, lt->is_signed, lf);
        break;
    case PQ_LT_FLOAT16:
        if (t == PQ_FIXED_LEN_BYTE_ARRAY && el->type_length == 2) {
            *out = mt_type_new(MT_TYPE_FLOAT16);
            lf->width = 2;
        }
        break;
    default:
        break;
    }
    return MT_OK;
}

static mt_status converted_leaf(build_ctx *c, pq_leaf *lf, mt_type **out)
{
    const pq_schema_element *el = lf->el;
    int t = el->type;
    *out = NULL;
    switch (el->converted_type) {
    case PQ_CT_UTF8: case PQ_CT_ENUM: case PQ_CT_JSON:
        if (t == PQ_BYTE_ARRAY) *out = mt_type_new(MT_TYPE_UTF8);
        break;
    case PQ_CT_DECIMAL:
        if (t == PQ_INT32 || t == PQ_INT64 || t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY)
            return decimal_type(c, lf, el->precision, el->scale, out);
        break;
    case PQ_CT_DATE:
        if (t == PQ_INT32) *out = mt_type_new(MT_TYPE_DATE32);
        break;
    case PQ_CT_TIME_MILLIS:
        if (t == PQ_INT32) *out = mt_type_time(MT_UNIT_MILLI);
        break;
    case PQ_CT_TIME_MICROS:
        if (t == PQ_INT64) *out = mt_type_time(MT_UNIT_MICRO);
        break;
    case PQ_CT_TIMESTAMP_MILLIS: case PQ_CT_TIMESTAMP_MICROS:
        if (t == PQ_INT64)
            *out = mt_type_timestamp(el->converted_type == PQ_CT_TIMESTAMP_MILLIS ? MT_UNIT_MILLI
                                                                                  : MT_UNIT_MICRO,
                                     "UTC");
        break;
    case PQ_CT_INT_8: case PQ_CT_INT_16: case PQ_CT_INT_32:
    case PQ_CT_UINT_8: case PQ_CT_UINT_16: case PQ_CT_UINT_32:
        if (t == PQ_INT32) {
            int k = el->converted_type;
            int bits = (k == PQ_CT_INT_8 || k == PQ_CT_UINT_8) ? 8
                     : (k == PQ_CT_INT_16 || k == PQ_CT_UINT_16) ? 16 : 32;
            *out = int_type(bits, k >= PQ_CT_INT_8, lf);
        }
        break;
    case PQ_CT_INT_64: case PQ_CT_UINT_64:
        if (t == PQ_INT64) *out = int_type(64, el->converted_type == PQ_CT_INT_64, lf);
        break;
    default:
        break;
    }
    return MT_OK;
}

static mt_type *physical_leaf(pq_leaf *lf)
{
    const pq_schema_element *el = lf->el;
    switch (el->type) {
    case PQ_BOOLEAN: lf->store = PQ_STORE_BOOL; return mt_type_new(MT_TYPE_BOOL);
    case PQ_INT32: lf->width = 4; return mt_type_new(MT_TYPE_INT32);
    case PQ_INT64: lf->width = 8; return mt_type_new(MT_TYPE_INT64);
    case PQ_INT96:
        /* Microseconds: Spark/Hive precision, and no overflow before year 294247. */
        lf->width = 8;
        lf->conv = PQ_CONV_I96_TS;
        lf->i96_unit = MT_UNIT_MICRO;
        return mt_type_timestamp(MT_UNIT_MICRO, NULL);
    case PQ_FLOAT: lf->width = 4; return mt_type_new(MT_TYPE_FLOAT32);
    case PQ_DOUBLE: lf->width = 8; return mt_type_new(MT_TYPE_FLOAT64);
    case PQ_BYTE_ARRAY: lf->store = PQ_STORE_BINARY; return mt_type_new(MT_TYPE_BINARY);
    default: lf->width = el->type_length; return mt_type_fixed_binary(el->type_length);
    }
}

static mt_status leaf_type(build_ctx *c, pq_leaf *lf, mt_type **out)
{
    const pq_schema_element *el = lf->el;
    static const int32_t pw[] = {0, 4, 8, 12, 4, 8, 0, 0};
    if (el->type < PQ_BOOLEAN || el->type > PQ_FIXED_LEN_BYTE_ARRAY)
        return mt_error_set(c->err, MT_ECORRUPT, "column '%s': bad physical type %d", lf->path,
                            el->type);
    if (el->type == PQ_FIXED_LEN_BYTE_ARRAY && (el->type_length <= 0 || el->type_length > (1 << 20)))
        return mt_error_set(c->err, MT_ECORRUPT, "column '%s': bad fixed length %d", lf->path,
                            el->type_length);
    lf->physical = el->type;
    lf->phys_width = el->type == PQ_FIXED_LEN_BYTE_ARRAY ? el->type_length : pw[el->type];
    lf->store = el->type == PQ_BOOLEAN ? PQ_STORE_BOOL
              : el->type == PQ_BYTE_ARRAY ? PQ_STORE_BINARY : PQ_STORE_FIXED;
    lf->conv = PQ_CONV_NONE;
    mt_type *t = NULL;
    MT_RETURN_NOT_OK(logical_leaf(c, lf, &t));
    if (!t && (el->logical.kind == PQ_LT_NONE || el->logical.kind == PQ_LT_UNRECOGNISED
               || el->logical.kind == PQ_LT_UNKNOWN))
        MT_RETURN_NOT_OK(converted_leaf(c, lf, &t));
    if (!t) {
        lf->store = el->type == PQ_BOOLEAN ? PQ_STORE_BOOL
                  : el->type == PQ_BYTE_ARRAY ? PQ_STORE_BINARY : PQ_STORE_FIXED;
        lf->conv = PQ_CONV_NONE;
        t = physical_leaf(lf);
    }
    if (!t) return mt_error_set(c->err, MT_ENOMEM, "column '%s': out of memory", lf->path);
    /* Annotations that keep the physical layout (DATE, TIME, TIMESTAMP, INT32/64). */
    if (lf->store == PQ_STORE_FIXED && lf->width == 0) lf->width = lf->phys_width;
    *out = t;
    return MT_OK;
}

/* ---- Tree mapping ------------------------------------------------------ */

static mt_status map_field(build_ctx *c, const ptree *t, uint8_t pdef, uint8_t prep, uint8_t sdef,
                           bool as_req, const char *name, pq_node *n);

static mt_status map_leaf(build_ctx *c, const ptree *t, pq_node *n)
{
    pq_schema *s = c->s;
    if (s->num_leaves == c->leaf_cap) {
        int32_t cap = c->leaf_cap ? c->leaf_cap * 2 : 16;
        pq_leaf *nl = mt_realloc(s->leaves, (size_t)cap * sizeof(pq_leaf));
        if (!nl) return mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
        s->leaves = nl;
        c->leaf_cap = cap;
    }
    pq_leaf *lf = &s->leaves[s->num_leaves];
    memset(lf, 0, sizeof *lf);
    lf->el = t->el;
    lf->column = s->num_leaves;
    lf->path = mt_strdup(c->path);
    n->leaf = s->num_leaves++;
    n->num_leaves = 1;
    n->kind = PQ_NODE_LEAF;
    if (!lf->path) return mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
    return leaf_type(c, lf, &n->type);
}

static mt_status make_struct(build_ctx *c, pq_node *n)
{
    const char **names = mt_calloc((size_t)n->num_children + 1, sizeof(char *));
    mt_type **types = mt_calloc((size_t)n->num_children + 1, sizeof(mt_type *));
    bool *nulls = mt_calloc((size_t)n->num_children + 1, sizeof(bool));
    mt_status st = MT_OK;
    if (names && types && nulls) {
        for (int32_t i = 0; i < n->num_children; i++) {
            names[i] = n->children[i].name;
            types[i] = n->children[i].type;
            nulls[i] = n->children[i].nullable;
        }
        n->type = mt_type_struct(n->num_children, names, types, nulls);
    }
    if (!n->type) st = mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
    mt_free(names);
    mt_free(types);
    mt_free(nulls);
    return st;
}

static mt_status alloc_children(build_ctx *c, pq_node *n, int32_t k)
{
    n->children = mt_calloc((size_t)k, sizeof(pq_node));
    if (!n->children) return mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
    n->num_children = k;
    return MT_OK;
}

static void count_leaves(pq_node *n)
{
    n->leaf = n->children[0].leaf;
    n->num_leaves = 0;
    for (int32_t i = 0; i < n->num_children; i++) n->num_leaves += n->children[i].num_leaves;
}

/* Group children as struct fields of `n` (def/rep already set on n). */
static mt_status map_struct(build_ctx *c, const ptree *t, pq_node *n)
{
    n->kind = PQ_NODE_STRUCT;
    MT_RETURN_NOT_OK(alloc_children(c, n, t->nkids));
    for (int32_t i = 0; i < t->nkids; i++)
        MT_RETURN_NOT_OK(map_field(c, &t->kids[i], n->def, n->slot_rep, n->slot_def, false, NULL,
                                   &n->children[i]));
    count_leaves(n);
    return make_struct(c, n);
}

/* `n` becomes a list whose items are described by `item` at (def, rep) = (d, r). */
static mt_status map_list_of(build_ctx *c, const ptree *item, bool item_req, const char *item_name,
                             uint8_t d, uint8_t r, pq_node *n)
{
    n->kind = PQ_NODE_LIST;
    MT_RETURN_NOT_OK(alloc_children(c, n, 1));
    /* The item's slot is "the list is non-empty": def >= d, and a new item at rep <= r. */
    MT_RETURN_NOT_OK(map_field(c, item, d, r, d, item_req, item_name, &n->children[0]));
    count_leaves(n);
    pq_node *it = &n->children[0];
    n->type = mt_type_list(it->type, it->nullable, it->name);
    return n->type ? MT_OK : mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
}

static bool is_list_ann(const pq_schema_element *el)
{
    return el->logical.kind == PQ_LT_LIST || el->converted_type == PQ_CT_LIST;
}

static bool is_map_ann(const pq_schema_element *el)
{
    return el->logical.kind == PQ_LT_MAP || el->converted_type == PQ_CT_MAP
        || el->converted_type == PQ_CT_MAP_KEY_VALUE;
}

/* Appends an intermediate group name (list/key_value) to the path; returns the old length. */
static size_t path_push(build_ctx *c, const char *name)
{
    size_t plen = strlen(c->path);
    if (plen + strlen(name) + 2 < sizeof c->path)
        snprintf(c->path + plen, sizeof c->path - plen, ".%s", name);
    return plen;
}

static mt_status map_list(build_ctx *c, const ptree *t, pq_node *n)
{
    const ptree *rep = &t->kids[0];
    uint8_t d = (uint8_t)(n->def + 1), r = (uint8_t)(n->slot_rep + 1);
    const pq_schema_element *re = rep->el;
    char tuple[300];
    snprintf(tuple, sizeof tuple, "%s_tuple", t->el->name ? t->el->name : "");
    /* Backward-compatibility rules: the repeated field itself is the element. */
    if (rep->nkids == 0 || rep->nkids > 1 || strcmp(re->name, "array") == 0
        || strcmp(re->name, tuple) == 0)
        return map_list_of(c, rep, true, re->name, d, r, n);
    /* Standard 3-level list: the single child of the repeated group. */
    size_t plen = path_push(c, re->name);
    mt_status st = map_list_of(c, &rep->kids[0], false, NULL, d, r, n);
    c->path[plen] = '\0';
    return st;
}

static mt_status map_map_kv(build_ctx *c, const ptree *t, pq_node *n);

static mt_status map_map(build_ctx *c, const ptree *t, pq_node *n)
{
    size_t plen = path_push(c, t->kids[0].el->name ? t->kids[0].el->name : "");
    mt_status st = map_map_kv(c, t, n);
    c->path[plen] = '\0';
    return st;
}

static mt_status map_map_kv(build_ctx *c, const ptree *t, pq_node *n)
{
    const ptree *kv = &t->kids[0];
    uint8_t d = (uint8_t)(n->def + 1), r = (uint8_t)(n->slot_rep + 1);
    if (kv->nkids == 1) /* key-only map: a list of keys, as arrow-rs reads it */
        return map_list_of(c, &kv->kids[0], false, NULL, d, r, n);
    if (kv->nkids != 2) { /* not a key/value pair: a list of the repeated group */
        c->path[strlen(c->path) - strlen(kv->el->name) - 1] = '\0';
        return map_list_of(c, kv, true, kv->el->name, d, r, n);
    }
    n->kind = PQ_NODE_MAP;
    MT_RETURN_NOT_OK(alloc_children(c, n, 1));
    pq_node *e = &n->children[0];
    e->name = mt_strdup("entries");
    if (!e->name) return mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
    e->slot_def = d;
    e->slot_rep = r;
    e->def = d;
    e->kind = PQ_NODE_STRUCT;
    MT_RETURN_NOT_OK(alloc_children(c, e, 2));
    MT_RETURN_NOT_OK(map_field(c, &kv->kids[0], d, r, d, false, "key", &e->children[0]));
    MT_RETURN_NOT_OK(map_field(c, &kv->kids[1], d, r, d, false, "value", &e->children[1]));
    count_leaves(e);
    MT_RETURN_NOT_OK(make_struct(c, e));
    count_leaves(n);
    n->type = mt_type_map(e->children[0].type, e->children[1].type, e->children[1].nullable);
    return n->type ? MT_OK : mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
}

/* A non-repeated node at def `n->def` (after its own optional). */
static mt_status map_inner(build_ctx *c, const ptree *t, pq_node *n)
{
    if (t->nkids == 0) return map_leaf(c, t, n);
    if (is_list_ann(t->el) && t->nkids == 1 && t->kids[0].el->repetition == PQ_REPEATED)
        return map_list(c, t, n);
    if (is_map_ann(t->el) && t->nkids == 1 && t->kids[0].el->repetition == PQ_REPEATED
        && t->kids[0].nkids >= 1)
        return map_map(c, t, n);
    return map_struct(c, t, n);
}

/*
 * Maps `t` as a child whose parent is present at def `pdef` and whose slots
 * exist at def >= `sdef` (a struct field exists wherever the struct's slot
 * does, even when the struct is null).
 */
static mt_status map_field(build_ctx *c, const ptree *t, uint8_t pdef, uint8_t prep, uint8_t sdef,
                           bool as_req, const char *name, pq_node *n)
{
    const pq_schema_element *el = t->el;
    size_t plen = strlen(c->path);
    const char *nm = el->name ? el->name : "";
    if (plen + strlen(nm) + 2 >= sizeof c->path)
        return mt_error_set(c->err, MT_EUNSUPPORTED, "schema: path of '%s' too long", nm);
    const pq_schema_element *saved = c->path_el;
    if (c->path_el != el) /* a repeated field is mapped twice: as list, then as item */
        snprintf(c->path + plen, sizeof c->path - plen, "%s%s", plen ? "." : "", nm);
    c->path_el = el;
    n->name = mt_strdup(name ? name : nm);
    if (!n->name) return mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
    n->slot_def = sdef;
    n->slot_rep = prep;
    mt_status st;
    if (el->repetition == PQ_REPEATED && !as_req) {
        /* Repeated field outside a LIST: a non-null list of required items. */
        n->def = pdef;
        n->nullable = false;
        st = map_list_of(c, t, true, nm, (uint8_t)(pdef + 1), (uint8_t)(prep + 1), n);
    } else {
        n->nullable = el->repetition == PQ_OPTIONAL && !as_req;
        n->def = (uint8_t)(pdef + (n->nullable ? 1 : 0));
        st = map_inner(c, t, n);
    }
    if (st == MT_OK && n->kind == PQ_NODE_LEAF) {
        c->s->leaves[n->leaf].max_def = n->def;
        c->s->leaves[n->leaf].max_rep = prep;
    }
    c->path[plen] = '\0';
    c->path_el = saved;
    return st;
}

static void node_fini(pq_node *n)
{
    for (int32_t i = 0; i < n->num_children; i++) node_fini(&n->children[i]);
    mt_free(n->children);
    mt_free(n->name);
    mt_type_release(n->type);
}

void pq_schema_destroy(pq_schema *s)
{
    if (!s) return;
    for (int32_t i = 0; i < s->num_fields; i++) node_fini(&s->fields[i]);
    mt_free(s->fields);
    for (int32_t i = 0; i < s->num_leaves; i++) mt_free(s->leaves[i].path);
    mt_free(s->leaves);
    mt_type_release(s->arrow);
    mt_free(s);
}

static mt_status build_fields(build_ctx *c, const ptree *root)
{
    pq_schema *s = c->s;
    s->fields = mt_calloc((size_t)root->nkids + 1, sizeof(pq_node));
    if (!s->fields) return mt_error_set(c->err, MT_ENOMEM, "schema: out of memory");
    s->num_fields = root->nkids;
    for (int32_t i = 0; i < root->nkids; i++)
        MT_RETURN_NOT_OK(map_field(c, &root->kids[i], 0, 0, 0, false, NULL, &s->fields[i]));
    pq_node top = {.kind = PQ_NODE_STRUCT, .num_children = s->num_fields, .children = s->fields};
    MT_RETURN_NOT_OK(make_struct(c, &top));
    s->arrow = top.type;
    return MT_OK;
}

mt_status pq_schema_build(const pq_file_meta *m, pq_schema **out, mt_error *err)
{
    *out = NULL;
    if (!m->schema || m->num_schema < 1)
        return mt_error_set(err, MT_ECORRUPT, "schema: no elements");
    pq_schema *s = mt_calloc(1, sizeof *s);
    if (!s) return mt_error_set(err, MT_ENOMEM, "schema: out of memory");
    build_ctx c = {.m = m, .s = s, .err = err};
    ptree root = {0};
    mt_status st = ptree_parse(&c, &root, 0);
    if (st == MT_OK && c.cursor != m->num_schema)
        st = mt_error_set(err, MT_ECORRUPT, "schema: %d elements after the root's children",
                          m->num_schema - c.cursor);
    if (st == MT_OK) st = build_fields(&c, &root);
    ptree_free(&root);
    if (st != MT_OK) {
        pq_schema_destroy(s);
        return st;
    }
    *out = s;
    return MT_OK;
}

const mt_type *pq_schema_arrow(const pq_schema *s)
{
    return s ? s->arrow : NULL;
}
