/*
 * value_text.c — the pieces of element text that every formatter shares
 * (canonical JSON in json_value.c, Python reprs in print.c, CSV in
 * csv_write.c): integers in decimal, floats widened to double, the bytes of
 * a string element, "0x" hex, and the walk over list/struct/map elements,
 * whose punctuation each format supplies.
 *
 * Threads: any; arrays are only read. Invariant: nothing here reads outside
 * the buffers of a validated array.
 */
#include <string.h>

#include "data/print_int.h"

void mt__data_int_to_sb(mt__data_sb *sb, const mt_array *a, int64_t i)
{
    switch (a->type->id) {
    case MT_TYPE_INT8: mt__data_sb_printf(sb, "%d", MT_ARRAY_VALUES(a, int8_t)[i]); break;
    case MT_TYPE_INT16: mt__data_sb_printf(sb, "%d", MT_ARRAY_VALUES(a, int16_t)[i]); break;
    case MT_TYPE_INT32: mt__data_sb_printf(sb, "%d", MT_ARRAY_VALUES(a, int32_t)[i]); break;
    case MT_TYPE_INT64: mt__data_sb_printf(sb, "%lld", (long long)MT_ARRAY_VALUES(a, int64_t)[i]); break;
    case MT_TYPE_UINT8: mt__data_sb_printf(sb, "%u", MT_ARRAY_VALUES(a, uint8_t)[i]); break;
    case MT_TYPE_UINT16: mt__data_sb_printf(sb, "%u", MT_ARRAY_VALUES(a, uint16_t)[i]); break;
    case MT_TYPE_UINT32: mt__data_sb_printf(sb, "%u", MT_ARRAY_VALUES(a, uint32_t)[i]); break;
    case MT_TYPE_UINT64:
        mt__data_sb_printf(sb, "%llu", (unsigned long long)MT_ARRAY_VALUES(a, uint64_t)[i]);
        break;
    default: break;
    }
}

double mt__data_float_at(const mt_array *a, int64_t i)
{
    switch (a->type->id) {
    case MT_TYPE_FLOAT16: return mt__data_half_to_double(MT_ARRAY_VALUES(a, uint16_t)[i]);
    case MT_TYPE_FLOAT32: return (double)MT_ARRAY_VALUES(a, float)[i];
    default: return MT_ARRAY_VALUES(a, double)[i];
    }
}

const uint8_t *mt__data_var_bytes(const mt_array *a, int64_t i, int64_t *n)
{
    const int32_t *off = MT_ARRAY_VALUES(a, int32_t);
    *n = (int64_t)off[i + 1] - off[i];
    if (!a->buffers[2] || *n <= 0) {
        *n = 0;
        return (const uint8_t *)"";
    }
    return a->buffers[2]->data + off[i];
}

void mt__data_hex_to_sb(mt__data_sb *sb, const uint8_t *p, int64_t n)
{
    static const char hexd[] = "0123456789abcdef";
    mt__data_sb_puts(sb, "0x");
    for (int64_t k = 0; k < n; k++) {
        char two[2] = {hexd[p[k] >> 4], hexd[p[k] & 15]};
        mt__data_sb_put(sb, two, 2);
    }
}

static void struct_to_sb(mt__data_sb *sb, const mt_array *a, int64_t i,
                         const mt__data_nested_style *st)
{
    const mt_type *t = a->type;
    mt__data_sb_putc(sb, '{');
    for (int32_t k = 0; k < t->num_fields && k < a->num_children; k++) {
        if (k) mt__data_sb_puts(sb, st->sep);
        const char *name = t->fields[k].name ? t->fields[k].name : "";
        st->name(sb, (const uint8_t *)name, strlen(name));
        mt__data_sb_puts(sb, st->field_sep);
        st->value(sb, a->children[k], a->offset + i);
    }
    mt__data_sb_putc(sb, '}');
}

void mt__data_nested_to_sb(mt__data_sb *sb, const mt_array *a, int64_t i,
                           const mt__data_nested_style *st)
{
    if (a->type->id == MT_TYPE_STRUCT) {
        struct_to_sb(sb, a, i, st);
        return;
    }
    const int32_t *off = MT_ARRAY_VALUES(a, int32_t);
    const mt_array *c = a->children[0];
    mt__data_sb_putc(sb, '[');
    for (int32_t k = off[i]; k < off[i + 1]; k++) {
        if (k > off[i]) mt__data_sb_puts(sb, st->sep);
        if (a->type->id == MT_TYPE_LIST) {
            st->value(sb, c, k);
            continue;
        }
        /* MAP: c is the entries struct <key, value>. */
        mt__data_sb_puts(sb, st->entry_open);
        st->value(sb, c->children[0], c->offset + k);
        mt__data_sb_puts(sb, st->entry_mid);
        if (c->num_children > 1) st->value(sb, c->children[1], c->offset + k);
        else mt__data_sb_puts(sb, st->null);
        mt__data_sb_puts(sb, st->entry_close);
    }
    mt__data_sb_putc(sb, ']');
}
