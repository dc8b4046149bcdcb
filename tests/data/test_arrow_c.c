/*
 * test_arrow_c.c — Arrow C Data Interface: format strings, export → import
 * round trips of every type (zero-copy), tables, release ordering, bad
 * input, and OOM at every allocation without leaks.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "data/data_test_util.h"
#include "manta/data.h"

TestSuite(arrow_c, .init = leak_check_setup, .fini = leak_check_teardown);

static void check_format(mt_type *t, const char *want)
{
    struct ArrowSchema s;
    mt_error err;
    cr_assert_eq(mt_type_export(t, "col", true, &s, &err), MT_OK);
    cr_assert_str_eq(s.format, want);
    cr_assert_str_eq(s.name, "col");
    cr_assert_eq(s.flags, ARROW_FLAG_NULLABLE);
    mt_type *back;
    cr_assert_eq(mt_type_import(&s, &back, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_type_equal(t, back), "%s", want);
    s.release(&s);
    cr_assert_null(s.release);
    mt_type_release(back);
    mt_type_release(t);
}

Test(arrow_c, format_strings)
{
    const char *prim = "nbcsilCSILefguz";
    mt_type_id ids[] = {MT_TYPE_NA,     MT_TYPE_BOOL,    MT_TYPE_INT8,    MT_TYPE_INT16,
                        MT_TYPE_INT32,  MT_TYPE_INT64,   MT_TYPE_UINT8,   MT_TYPE_UINT16,
                        MT_TYPE_UINT32, MT_TYPE_UINT64,  MT_TYPE_FLOAT16, MT_TYPE_FLOAT32,
                        MT_TYPE_FLOAT64, MT_TYPE_UTF8,   MT_TYPE_BINARY};
    for (int i = 0; prim[i]; i++) {
        char f[2] = {prim[i], 0};
        check_format(mt_type_new(ids[i]), f);
    }
    check_format(mt_type_new(MT_TYPE_DATE32), "tdD");
    check_format(mt_type_fixed_binary(16), "w:16");
    check_format(mt_type_decimal128(9, 2), "d:9,2");
    check_format(mt_type_time(MT_UNIT_SECOND), "tts");
    check_format(mt_type_time(MT_UNIT_MILLI), "ttm");
    check_format(mt_type_time(MT_UNIT_MICRO), "ttu");
    check_format(mt_type_time(MT_UNIT_NANO), "ttn");
    check_format(mt_type_timestamp(MT_UNIT_MICRO, "UTC"), "tsu:UTC");
    check_format(mt_type_timestamp(MT_UNIT_NANO, NULL), "tsn:");
    mt_type *i32 = mt_type_new(MT_TYPE_INT32), *u = mt_type_new(MT_TYPE_UTF8);
    check_format(mt_type_list(i32, false, "element"), "+l");
    check_format(mt_type_map(u, i32, true), "+m");
    const char *names[] = {"a", "b"};
    mt_type *ty[] = {i32, u};
    bool nn[] = {false, true};
    check_format(mt_type_struct(2, names, ty, nn), "+s");
}

Test(arrow_c, schema_children_and_flags)
{
    mt_type *i32 = mt_type_new(MT_TYPE_INT32);
    mt_type *m = mt_type_map(mt_type_new(MT_TYPE_UTF8), i32, false);
    struct ArrowSchema s;
    mt_error err;
    cr_assert_eq(mt_type_export(m, NULL, false, &s, &err), MT_OK);
    cr_assert_null(s.name);
    cr_assert_eq(s.flags, 0, "map keys sorted flag is off");
    cr_assert_eq(s.n_children, 1);
    cr_assert_str_eq(s.children[0]->name, "entries");
    cr_assert_str_eq(s.children[0]->format, "+s");
    cr_assert_eq(s.children[0]->flags, 0);
    cr_assert_str_eq(s.children[0]->children[0]->name, "key");
    cr_assert_eq(s.children[0]->children[0]->flags, 0);
    cr_assert_str_eq(s.children[0]->children[1]->name, "value");
    cr_assert_eq(s.children[0]->children[1]->flags, 0);
    s.release(&s);
    mt_type_release(m);
}

Test(arrow_c, import_rejects_bad_schemas)
{
    mt_type *t;
    mt_error err;
    struct ArrowSchema s;
    cr_assert_eq(mt_type_export(mt_type_new(MT_TYPE_INT32), "x", true, &s, &err), MT_OK);
    const char *orig = s.format;
    const char *bad[] = {"U", "vu", "w:", "w:-1", "d:9", "d:9,2,256", "tsx:", "ttq", "+w:3", "+", "ii", "tdm"};
    mt_status codes[] = {MT_EUNSUPPORTED, MT_EUNSUPPORTED, MT_EUNSUPPORTED, MT_EUNSUPPORTED,
                         MT_EUNSUPPORTED, MT_EUNSUPPORTED, MT_EUNSUPPORTED, MT_EUNSUPPORTED,
                         MT_EUNSUPPORTED, MT_EUNSUPPORTED, MT_EUNSUPPORTED, MT_EUNSUPPORTED};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s.format = bad[i];
        cr_assert_eq(mt_type_import(&s, &t, &err), codes[i], "%s", bad[i]);
    }
    s.format = "U";
    mt_type_import(&s, &t, &err);
    cr_assert_str_eq(err.msg, "unsupported Arrow format 'U'");
    s.format = "+l"; /* a list without its child */
    cr_assert_eq(mt_type_import(&s, &t, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "format '+l' with 0 children");
    s.format = orig;
    s.release(&s);
    cr_assert_eq(mt_type_import(&s, &t, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "schema was already released");
}

static mt_array *build(mt_type *t, int n)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(t);
    for (int i = 0; i < n; i++) {
        if (i % 4 == 3) {
            mt_array_builder_append_null(b, &err);
            continue;
        }
        switch (t->id) {
        case MT_TYPE_BOOL: mt_array_builder_append_bool(b, i % 3 == 0, &err); break;
        case MT_TYPE_FLOAT32:
        case MT_TYPE_FLOAT64: mt_array_builder_append_double(b, i * 0.5, &err); break;
        case MT_TYPE_FLOAT16: mt_array_builder_append_uint(b, 0x3c00 + i, &err); break;
        case MT_TYPE_UTF8:
        case MT_TYPE_BINARY: mt_array_builder_append_bytes(b, "abcdefgh", i % 8, &err); break;
        case MT_TYPE_FIXED_BINARY:
        case MT_TYPE_DECIMAL128: {
            uint8_t v[16] = {(uint8_t)i, 1, 2};
            mt_array_builder_append_bytes(b, v, t->byte_width, &err);
            break;
        }
        default: mt_array_builder_append_int(b, i * 1000 - 7, &err); break;
        }
    }
    return dt_finish(b);
}

/* Export → import; checks equality and zero-copy, then releases in the given order. */
static void round_trip(mt_array *a, bool release_source_first)
{
    mt_error err;
    struct ArrowSchema s;
    struct ArrowArray arr;
    cr_assert_eq(mt_type_export(a->type, "v", true, &s, &err), MT_OK);
    cr_assert_eq(mt_array_export(a, &arr, &err), MT_OK);
    cr_assert_eq(arr.n_buffers, mt_array_num_buffers(a->type));
    mt_type *t;
    cr_assert_eq(mt_type_import(&s, &t, &err), MT_OK, "%s", err.msg);
    mt_array *b;
    cr_assert_eq(mt_array_import(&arr, t, &b, &err), MT_OK, "%s", err.msg);
    cr_assert_null(arr.release, "moved");
    cr_assert(mt_array_equal(a, b));
    for (int i = 1; i < mt_array_num_buffers(a->type); i++)
        if (a->buffers[i]) cr_assert_eq(a->buffers[i]->data, b->buffers[i]->data, "zero-copy");
    mt_array *sb;
    cr_assert_eq(mt_array_slice(b, 1, b->length - 1, &sb, &err), MT_OK);
    if (release_source_first) mt_array_release(a);
    mt_array_release(b);
    s.release(&s);
    mt_type_release(t);
    cr_assert_eq(mt_array_validate(sb, &err), MT_OK, "slice keeps the import alive");
    mt_array_release(sb);
    if (!release_source_first) mt_array_release(a);
}

Test(arrow_c, round_trip_every_flat_type)
{
    mt_type *types[] = {
        mt_type_new(MT_TYPE_BOOL),    mt_type_new(MT_TYPE_INT8),     mt_type_new(MT_TYPE_INT16),
        mt_type_new(MT_TYPE_INT32),   mt_type_new(MT_TYPE_INT64),    mt_type_new(MT_TYPE_UINT8),
        mt_type_new(MT_TYPE_UINT16),  mt_type_new(MT_TYPE_UINT32),   mt_type_new(MT_TYPE_UINT64),
        mt_type_new(MT_TYPE_FLOAT16), mt_type_new(MT_TYPE_FLOAT32),  mt_type_new(MT_TYPE_FLOAT64),
        mt_type_new(MT_TYPE_UTF8),    mt_type_new(MT_TYPE_BINARY),   mt_type_new(MT_TYPE_DATE32),
        mt_type_fixed_binary(5),      mt_type_decimal128(20, 4),     mt_type_time(MT_UNIT_MILLI),
        mt_type_time(MT_UNIT_NANO),   mt_type_timestamp(MT_UNIT_MICRO, "UTC"),
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        mt_array *a = build(types[i], 37);
        mt_array *s;
        mt_error err;
        cr_assert_eq(mt_array_slice(a, 3, 30, &s, &err), MT_OK);
        round_trip(a, i % 2 == 0);
        round_trip(s, i % 2 == 1);
        mt_type_release(types[i]);
    }
}

Test(arrow_c, round_trip_null_and_nested)
{
    mt_error err;
    mt_type *i32 = mt_type_new(MT_TYPE_INT32), *u = mt_type_new(MT_TYPE_UTF8);
    round_trip(mt_array_new_null(mt_type_new(MT_TYPE_NA), 5), true);
    mt_array *items = build(i32, 10);
    mt_type *lt = mt_type_list(i32, true, "element");
    mt_buffer *off = mt_buffer_new(16);
    memcpy(off->data, (int32_t[]){0, 4, 4, 10}, 16);
    mt_buffer *valid = mt_buffer_new(1);
    valid->data[0] = 0x5;
    mt_buffer *lb[] = {valid, off};
    mt_array *l = mt_array_new(lt, 3, 0, 1, lb, 2, &items, 1);
    cr_assert_eq(mt_array_validate(l, &err), MT_OK);
    const char *names[] = {"s", "l"};
    mt_array *strs = build(u, 4);
    mt_type *ty[] = {u, lt};
    mt_type *st = mt_type_struct(2, names, ty, NULL);
    mt_array *kids[] = {strs, l};
    mt_array *sa0 = mt_array_new(st, 3, 0, 0, NULL, 0, kids, 2), *sa;
    mt_array_slice(sa0, 1, 2, &sa, &err);
    round_trip(mt_array_retain(sa), true);
    mt_type *mt = mt_type_map(u, i32, true);
    mt_array *m = mt_array_new_null(mt, 4);
    round_trip(m, false);
    mt_array *all[] = {items, l, strs, sa0, sa};
    for (int k = 0; k < 5; k++) mt_array_release(all[k]);
    mt_buffer_release(off);
    mt_buffer_release(valid);
    mt_type_release(lt);
    mt_type_release(st);
    mt_type_release(mt);
}

Test(arrow_c, import_rejects_bad_arrays_without_taking_them)
{
    mt_error err;
    mt_array *a = build(mt_type_new(MT_TYPE_UTF8), 8);
    struct ArrowArray arr;
    cr_assert_eq(mt_array_export(a, &arr, &err), MT_OK);
    mt_array *b;
    cr_assert_eq(mt_array_import(&arr, mt_type_new(MT_TYPE_INT32), &b, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "importing an Arrow array: array has 3 buffers, its type needs 2");
    cr_assert_not_null(arr.release, "still the caller's");
    arr.null_count = 7;
    cr_assert_eq(mt_array_import(&arr, mt_type_new(MT_TYPE_UTF8), &b, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "importing an Arrow array: string array: null_count 7 but the bitmap has 2 nulls");
    cr_assert_not_null(arr.release);
    arr.release(&arr);
    cr_assert_eq(mt_array_import(&arr, mt_type_new(MT_TYPE_UTF8), &b, &err), MT_EINVAL);
    mt_array_release(a);
}

static mt_table *small_table(void)
{
    mt_error err;
    mt_type *i64 = mt_type_new(MT_TYPE_INT64), *u = mt_type_new(MT_TYPE_UTF8);
    const char *names[] = {"id", "name"};
    mt_type *ty[] = {i64, u};
    mt_type *schema = mt_type_struct(2, names, ty, NULL);
    mt_array *cols[] = {build(i64, 9), build(u, 9)};
    mt_table *t;
    cr_assert_eq(mt_table_new(schema, cols, 9, &t, &err), MT_OK);
    mt_array_release(cols[0]);
    mt_array_release(cols[1]);
    mt_type_release(schema);
    return t;
}

Test(arrow_c, table_round_trip)
{
    mt_error err;
    mt_table *t = small_table(), *sl;
    cr_assert_eq(mt_table_slice(t, 2, 5, &sl, &err), MT_OK);
    struct ArrowSchema s;
    struct ArrowArray a;
    cr_assert_eq(mt_table_export(sl, &s, &a, &err), MT_OK);
    cr_assert_str_eq(s.format, "+s");
    cr_assert_eq(a.length, 5);
    cr_assert_eq(a.n_children, 2);
    mt_table *back;
    cr_assert_eq(mt_table_import(&s, &a, &back, &err), MT_OK, "%s", err.msg);
    cr_assert_null(a.release);
    cr_assert_null(s.release, "schema consumed on success");
    cr_assert(mt_table_equal(sl, back));
    cr_assert_eq(back->num_rows, 5);
    mt_table_release(t);
    mt_table_release(sl);
    mt_table_release(back);
}

Test(arrow_c, oom_at_every_allocation)
{
    mt_table *t = small_table();
    int failures = 0;
    for (int k = 1; k < 80; k++) {
        mt_error err;
        struct ArrowSchema s;
        struct ArrowArray a;
        mt_alloc_fail_after(k, false);
        mt_status st = mt_table_export(t, &s, &a, &err);
        mt_table *back = NULL;
        if (st == MT_OK) {
            st = mt_table_import(&s, &a, &back, &err);
            if (a.release) a.release(&a);
            if (s.release) s.release(&s);
        }
        mt_alloc_fail_after(0, false);
        if (st != MT_OK) {
            cr_assert_eq(st, MT_ENOMEM, "k=%d: %s", k, err.msg);
            failures++;
        } else {
            cr_assert(mt_table_equal(t, back));
        }
        mt_table_release(back);
    }
    cr_assert_gt(failures, 20);
    mt_table_release(t);
}

static int foreign_releases;
static void foreign_release(struct ArrowArray *a)
{
    foreign_releases++;
    a->release = NULL;
}

Test(arrow_c, foreign_array_released_once_after_last_buffer)
{
    mt_error err;
    static const int32_t offsets[] = {0, 3, 3, 5};
    static const char bytes[] = "abcde";
    static const uint8_t valid[] = {0x5};
    const void *bufs[] = {valid, offsets, bytes};
    struct ArrowArray a = {.length = 3, .null_count = 1, .n_buffers = 3, .buffers = bufs,
                           .release = foreign_release};
    foreign_releases = 0;
    mt_array *m;
    cr_assert_eq(mt_array_import(&a, mt_type_new(MT_TYPE_UTF8), &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m->buffers[2]->data, (const uint8_t *)bytes, "zero-copy");
    cr_assert_eq(m->buffers[2]->size, 5);
    mt_array *s;
    cr_assert_eq(mt_array_slice(m, 2, 1, &s, &err), MT_OK);
    mt_array_release(m);
    cr_assert_eq(foreign_releases, 0);
    cr_assert_eq(memcmp(s->buffers[2]->data + 3, "de", 2), 0);
    mt_array_release(s);
    cr_assert_eq(foreign_releases, 1);

    /* An empty array may come with NULL offsets and data. */
    const void *none[] = {NULL, NULL, NULL};
    struct ArrowArray e = {.length = 0, .n_buffers = 3, .buffers = none, .release = foreign_release};
    cr_assert_eq(mt_array_import(&e, mt_type_new(MT_TYPE_UTF8), &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(foreign_releases, 2, "no foreign buffer kept: released at once");
    cr_assert_eq(m->length, 0);
    cr_assert_eq(mt_array_validate(m, &err), MT_OK);
    mt_array_release(m);
    struct ArrowArray f = {.length = 2, .n_buffers = 3, .buffers = none, .release = foreign_release};
    cr_assert_eq(mt_array_import(&f, mt_type_new(MT_TYPE_UTF8), &m, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "importing an Arrow array: buffer 1 is NULL but 12 bytes are needed");
    cr_assert_not_null(f.release);
}
