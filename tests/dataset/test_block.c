/* Blocks: tables as object bytes (src/dataset/block.c) — round trips of
 * every layout, slices normalised, zero-copy decode with exactly one
 * on_free, and corrupt bytes refused without a crash or a leak. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/ds_int.h"

static mt_array *ints(const int64_t *v, const bool *valid, int n)
{
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_INT64));
    for (int i = 0; i < n; i++)
        if (valid && !valid[i]) mt_array_builder_append_null(b, NULL);
        else mt_array_builder_append_int(b, v[i], NULL);
    mt_array *a = NULL;
    cr_assert_eq(mt_array_builder_finish(b, &a, NULL), MT_OK);
    mt_array_builder_destroy(b);
    return a;
}

static mt_array *strs(int n)
{
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_UTF8));
    for (int i = 0; i < n; i++) {
        char s[32];
        int len = snprintf(s, sizeof s, "row-%d%s", i, i % 3 ? "" : "-long-tail");
        if (i == 4) mt_array_builder_append_null(b, NULL);
        else mt_array_builder_append_bytes(b, s, len, NULL);
    }
    mt_array *a = NULL;
    cr_assert_eq(mt_array_builder_finish(b, &a, NULL), MT_OK);
    mt_array_builder_destroy(b);
    return a;
}

static mt_array *bools(int n)
{
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_BOOL));
    for (int i = 0; i < n; i++) mt_array_builder_append_bool(b, i % 3 == 1, NULL);
    mt_array *a = NULL;
    cr_assert_eq(mt_array_builder_finish(b, &a, NULL), MT_OK);
    mt_array_builder_destroy(b);
    return a;
}

/* list<int64>: row i holds i % 4 items. */
static mt_array *lists(int n)
{
    int32_t *off = malloc(sizeof *off * (size_t)(n + 1));
    off[0] = 0;
    for (int i = 0; i < n; i++) off[i + 1] = off[i] + i % 4;
    int64_t *vals = malloc(sizeof *vals * (size_t)(off[n] + 1));
    for (int i = 0; i < off[n]; i++) vals[i] = 1000 + i;
    mt_array *items = ints(vals, NULL, off[n]);
    mt_buffer *ob = mt_buffer_new((int64_t)sizeof *off * (n + 1));
    memcpy(ob->data, off, sizeof *off * (size_t)(n + 1));
    mt_buffer *bufs[2] = {NULL, ob};
    mt_type *lt = mt_type_list(mt_type_new(MT_TYPE_INT64), true, "element");
    mt_array *a = mt_array_new(lt, n, 0, 0, bufs, 2, &items, 1);
    mt_type_release(lt);
    mt_buffer_release(ob);
    mt_array_release(items);
    free(off);
    free(vals);
    return a;
}

static mt_table *sample(int n)
{
    int64_t v[64] = {0};
    bool valid[64] = {0};
    for (int i = 0; i < n; i++) v[i] = (int64_t)i * 1000003 - 7, valid[i] = i % 5 != 2;
    mt_array *cols[4] = {ints(v, valid, n), strs(n), bools(n), lists(n)};
    const char *names[4] = {"id", "name", "flag", "items"};
    mt_type *types[4];
    bool nullable[4] = {true, true, false, true};
    for (int i = 0; i < 4; i++) types[i] = cols[i]->type;
    mt_type *schema = mt_type_struct(4, names, types, nullable);
    mt_table *t = NULL;
    cr_assert_eq(mt_table_new(schema, cols, n, &t, NULL), MT_OK);
    mt_type_release(schema);
    for (int i = 0; i < 4; i++) mt_array_release(cols[i]);
    return t;
}

static int g_freed;
static void count_free(void *p)
{
    (void)p;
    g_freed++;
}

static uint8_t *encode(const mt_table *t, size_t *len)
{
    mt_error err;
    cr_assert_eq(mt__block_size(t, len, &err), MT_OK, "%s", err.msg);
    uint8_t *buf = aligned_alloc(64, (*len + 63) & ~(size_t)63);
    cr_assert_eq(mt__block_encode(t, buf, *len, &err), MT_OK, "%s", err.msg);
    return buf;
}

Test(block, round_trips_every_column_and_shares_the_bytes)
{
    mt_table *t = sample(40);
    size_t len;
    uint8_t *buf = encode(t, &len);
    int64_t rows = 0;
    cr_assert_eq(mt__block_rows(buf, len, &rows, NULL), MT_OK);
    cr_assert_eq(rows, 40);
    mt_table *back = NULL;
    mt_error err;
    g_freed = 0;
    cr_assert_eq(mt__block_decode(buf, len, count_free, NULL, "block 0", &back, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_table_equal(t, back), "decoded table differs");
    const uint8_t *p = back->columns[0]->buffers[1]->data;
    cr_assert(p >= buf && p < buf + len, "values were copied, not wrapped");
    cr_assert_eq((uintptr_t)p % 64, 0);
    cr_assert_eq(g_freed, 0);
    mt_table_release(back);
    cr_assert_eq(g_freed, 1, "on_free runs once, when the last buffer goes");
    mt_table_release(t);
    free(buf);
}

Test(block, slices_are_normalised)
{
    mt_table *t = sample(40);
    for (int64_t off = 0; off < 12; off++) {
        mt_table *s = NULL;
        cr_assert_eq(mt_table_slice(t, off, 17, &s, NULL), MT_OK);
        size_t len;
        uint8_t *buf = encode(s, &len);
        mt_table *back = NULL;
        mt_error err;
        cr_assert_eq(mt__block_decode(buf, len, NULL, NULL, "slice", &back, &err), MT_OK, "offset %lld: %s",
                     (long long)off, err.msg);
        cr_assert(mt_table_equal(s, back), "slice at %lld differs", (long long)off);
        cr_assert_eq(back->columns[3]->offset, 0);
        mt_table_release(back);
        mt_table_release(s);
        free(buf);
    }
    mt_table_release(t);
}

Test(block, empty_table)
{
    mt_table *t = sample(0);
    size_t len;
    uint8_t *buf = encode(t, &len);
    mt_table *back = NULL;
    cr_assert_eq(mt__block_decode(buf, len, NULL, NULL, "empty", &back, NULL), MT_OK);
    cr_assert_eq(back->num_rows, 0);
    cr_assert(mt_type_equal(back->schema, t->schema));
    mt_table_release(back);
    mt_table_release(t);
    free(buf);
}

Test(block, corrupt_bytes_are_refused_without_leaks)
{
    mt_table *t = sample(20);
    size_t len;
    uint8_t *buf = encode(t, &len);
    mt_alloc_stats before, after;
    mt_alloc_get_stats(&before);
    mt_error err;
    mt_table *back = NULL;
    g_freed = 0;
    cr_assert_eq(mt__block_decode(buf, 10, count_free, NULL, "short", &back, &err), MT_ECORRUPT);
    cr_assert(strstr(err.msg, "short"), "%s", err.msg);
    cr_assert_eq(g_freed, 1, "a failed decode still lets go of the bytes");
    cr_assert_null(back);
    uint8_t *copy = aligned_alloc(64, (len + 63) & ~(size_t)63);
    uint32_t hdr;
    memcpy(&hdr, buf + 8, 4);
    int ok = 0, bad = 0;
    for (size_t i = 0; i < 20 + hdr; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(copy, buf, len);
            copy[i] ^= (uint8_t)(1u << bit);
            g_freed = 0;
            mt_status st = mt__block_decode(copy, len, count_free, NULL, "flipped", &back, NULL);
            if (st == MT_OK) {
                ok++;
                mt_table_release(back);
            } else {
                bad++;
                cr_assert_null(back);
            }
            cr_assert_eq(g_freed, 1, "byte %zu bit %d: on_free ran %d times", i, bit, g_freed);
        }
    }
    cr_assert_gt(bad, 0);
    mt_alloc_get_stats(&after);
    cr_assert_eq(after.live_allocations, before.live_allocations, "a decode leaked");
    free(copy);
    free(buf);
    mt_table_release(t);
}

/* Picked rows (the shuffle's direct gather) decode exactly as the same rows taken first and encoded. */
Test(block, picked_rows_match_take_then_encode)
{
    mt_table *t = sample(40), *flat = NULL, *src[3] = {0}, *all = NULL, *want = NULL;
    mt_error err;
    cr_assert_eq(mt_table_select(t, (const char *[]){"id", "name", "flag", NULL}, &flat, &err), MT_OK, "%s", err.msg);
    cr_assert(mt__block_pickable(flat->schema));
    cr_assert(!mt__block_pickable(t->schema), "a list column is not picked directly");
    /* three sources at odd offsets (slices), so bitmaps and offsets start mid-buffer */
    cr_assert_eq(mt_table_slice(flat, 3, 11, &src[0], NULL), MT_OK);
    cr_assert_eq(mt_table_slice(flat, 17, 9, &src[1], NULL), MT_OK);
    cr_assert_eq(mt_table_slice(flat, 1, 20, &src[2], NULL), MT_OK);
    cr_assert_eq(mt_table_concat(src, 3, &all, NULL), MT_OK);
    int32_t tab[40];
    int64_t rows[40], global[40];
    int64_t first[3] = {0, 11, 20};
    for (int i = 0; i < 40; i++) {
        tab[i] = (i * 7) % 3;
        rows[i] = (i * 5 + 3) % src[tab[i]]->num_rows;
        global[i] = first[tab[i]] + rows[i];
    }
    cr_assert_eq(mt__ds_take_rows(all, global, 40, &want, &err), MT_OK, "%s", err.msg);
    mt__ds_pick pk = {.tables = (const mt_table *const *)src, .ntables = 3, .tab = tab, .rows = rows, .n = 40};
    mt__block_pick_plan *pl = NULL;
    size_t len = 0;
    cr_assert_eq(mt__block_pick_plan_make(&pk, &pl, &len, &err), MT_OK, "%s", err.msg);
    uint8_t *buf = aligned_alloc(64, (len + 63) & ~(size_t)63);
    mt__block_pick_write(pl, buf);
    mt__block_pick_plan_free(pl);
    mt_table *back = NULL;
    cr_assert_eq(mt__block_decode(buf, len, NULL, NULL, "picked", &back, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_table_equal(want, back), "picked rows differ from take + encode");
    cr_assert_eq(mt_array_null_count(back->columns[0]), mt_array_null_count(want->columns[0]));
    mt_table_release(back);
    free(buf);
    /* one source, no tab: the plain gather */
    pk = (mt__ds_pick){.tables = (const mt_table *const *)&flat, .ntables = 1, .rows = global, .n = 40};
    cr_assert_eq(mt__block_pick_plan_make(&pk, &pl, &len, &err), MT_OK, "%s", err.msg);
    mt__block_pick_plan_free(pl);
    /* a row past its source's end is refused before anything is read */
    rows[5] = src[tab[5]]->num_rows;
    pk = (mt__ds_pick){.tables = (const mt_table *const *)src, .ntables = 3, .tab = tab, .rows = rows, .n = 40};
    cr_assert_eq(mt__block_pick_plan_make(&pk, &pl, &len, &err), MT_ERANGE);
    cr_assert(strstr(err.msg, "out of range"), "%s", err.msg);
    for (int i = 0; i < 3; i++) mt_table_release(src[i]);
    mt_table_release(all);
    mt_table_release(want);
    mt_table_release(flat);
    mt_table_release(t);
}
