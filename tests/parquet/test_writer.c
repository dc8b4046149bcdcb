/*
 * test_writer.c — the Parquet writer: every type and option written and
 * read back with our reader (mt_table_equal), row group cutting, streaming
 * writes, statistics and encodings in the footer, dictionary fallback,
 * schema mismatch, determinism, and failure safety (no file left behind,
 * no leak, under injected allocation failures).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manta/parquet.h"
#include "parquet/pq_int.h"

#define TMP(name) (MT_BINARY_DIR "/pqw_" name ".parquet")

static mt_array *finish(mt_array_builder *b)
{
    mt_array *a = NULL;
    mt_error err;
    cr_assert_eq(mt_array_builder_finish(b, &a, &err), MT_OK, "%s", err.msg);
    mt_array_builder_destroy(b);
    return a;
}

static uint64_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

static bool is_null(int64_t i, int every) { return every && i % every == 3; }

/* A column of `n` values of type `t` (released by the caller), nulls at i % every == 3. */
static mt_array *make_col(mt_type *t, int64_t n, int every, uint64_t seed)
{
    mt_array_builder *b = mt_array_builder_new(t);
    mt_error err;
    static const char *words[] = {"alpha", "", "gamma", "d\xc3\xa9lta", "epsilon", "zeta"};
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = rnd(&seed);
        mt_status st;
        if (is_null(i, every)) {
            st = mt_array_builder_append_null(b, &err);
        } else if (t->id == MT_TYPE_BOOL) {
            st = mt_array_builder_append_bool(b, r & 1, &err);
        } else if (t->id == MT_TYPE_FLOAT32 || t->id == MT_TYPE_FLOAT64) {
            double v = (double)(int64_t)(r % 2000001) / 7.0 - 100000;
            if (i % 50 == 7) v = NAN;
            if (i % 50 == 9) v = -0.0;
            st = mt_array_builder_append_double(b, v, &err);
        } else if (t->id == MT_TYPE_UTF8 || t->id == MT_TYPE_BINARY) {
            char buf[64];
            int len = snprintf(buf, sizeof buf, "%s%llu", words[r % 6],
                               (unsigned long long)(r % 97));
            st = mt_array_builder_append_bytes(b, buf, len, &err);
        } else if (t->id == MT_TYPE_FIXED_BINARY || t->id == MT_TYPE_DECIMAL128) {
            uint8_t buf[16];
            for (int k = 0; k < 16; k++) buf[k] = (uint8_t)rnd(&seed);
            if (t->id == MT_TYPE_DECIMAL128) { /* a value within the precision, signed */
                __int128 lim = 1;
                for (int k = 0; k < t->precision; k++) lim *= 10;
                __int128 v = (__int128)(r % 1000000007ULL) * (__int128)(rnd(&seed) % 1000000007ULL);
                v %= lim;
                if (r & 2) v = -v;
                memcpy(buf, &v, 16);
            }
            st = mt_array_builder_append_bytes(b, buf, t->byte_width, &err);
        } else if (t->id == MT_TYPE_FLOAT16) {
            st = mt_array_builder_append_uint(b, (r % 0x7c00) | (r & 0x8000), &err);
        } else if (t->id == MT_TYPE_TIME32 || t->id == MT_TYPE_DATE32) {
            st = mt_array_builder_append_int(b, (int64_t)(r % 86400), &err);
        } else {
            st = mt_array_builder_append_int(b, (int64_t)r * (i % 3 ? 1 : -1), &err);
        }
        cr_assert_eq(st, MT_OK, "%s", err.msg);
    }
    return finish(b);
}

static mt_table *make_table(int32_t n_cols, const char *const *names, mt_type **types,
                            const bool *nullable, int64_t rows, int every)
{
    mt_array *cols[64];
    mt_type *schema = mt_type_struct(n_cols, names, types, nullable);
    for (int32_t i = 0; i < n_cols; i++)
        cols[i] = make_col(types[i], rows, nullable[i] ? every : 0, 1000 + (uint64_t)i);
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_table_new(schema, cols, rows, &t, &err), MT_OK, "%s", err.msg);
    for (int32_t i = 0; i < n_cols; i++) mt_array_release(cols[i]);
    mt_type_release(schema);
    return t;
}

/* The flat non-temporal types (all read back as the same Arrow type). */
#define N_FLAT 18
static mt_table *flat_table(int64_t rows)
{
    static const char *names[N_FLAT] = {
        "b", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f16", "f32", "f64", "s",
        "bin", "fb", "d9", "d18", "d38"};
    mt_type *types[N_FLAT] = {
        mt_type_new(MT_TYPE_BOOL), mt_type_new(MT_TYPE_INT8), mt_type_new(MT_TYPE_INT16),
        mt_type_new(MT_TYPE_INT32), mt_type_new(MT_TYPE_INT64), mt_type_new(MT_TYPE_UINT8),
        mt_type_new(MT_TYPE_UINT16), mt_type_new(MT_TYPE_UINT32), mt_type_new(MT_TYPE_UINT64),
        mt_type_new(MT_TYPE_FLOAT16), mt_type_new(MT_TYPE_FLOAT32), mt_type_new(MT_TYPE_FLOAT64),
        mt_type_new(MT_TYPE_UTF8), mt_type_new(MT_TYPE_BINARY), mt_type_fixed_binary(3),
        mt_type_decimal128(7, 2), mt_type_decimal128(18, 4), mt_type_decimal128(38, 10)};
    bool nullable[N_FLAT];
    for (int i = 0; i < N_FLAT; i++) nullable[i] = i != 4; /* i64 is required */
    mt_table *t = make_table(N_FLAT, names, types, nullable, rows, 5);
    for (int i = 0; i < N_FLAT; i++) mt_type_release(types[i]);
    return t;
}

/* Dates, times and timestamps in the units Parquet has. */
#define N_TEMPORAL 7
static mt_table *temporal_table(int64_t rows)
{
    static const char *names[N_TEMPORAL] = {"date", "t_ms", "t_us", "t_ns", "ts_ms_utc",
                                            "ts_us", "ts_ns"};
    mt_type *types[N_TEMPORAL] = {
        mt_type_new(MT_TYPE_DATE32), mt_type_time(MT_UNIT_MILLI), mt_type_time(MT_UNIT_MICRO),
        mt_type_time(MT_UNIT_NANO), mt_type_timestamp(MT_UNIT_MILLI, "UTC"),
        mt_type_timestamp(MT_UNIT_MICRO, NULL), mt_type_timestamp(MT_UNIT_NANO, NULL)};
    bool nullable[N_TEMPORAL] = {true, true, false, true, true, true, true};
    mt_table *t = make_table(N_TEMPORAL, names, types, nullable, rows, 4);
    for (int i = 0; i < N_TEMPORAL; i++) mt_type_release(types[i]);
    return t;
}

static mt_table *read_back(const char *path)
{
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_read_table(path, NULL, &t, &err), MT_OK, "%s", err.msg);
    return t;
}

static void assert_tables_equal(const mt_table *a, const mt_table *b)
{
    cr_assert_eq(a->num_rows, b->num_rows);
    cr_assert_eq(a->num_columns, b->num_columns);
    for (int32_t i = 0; i < a->num_columns; i++) {
        char ta[128], tb[128];
        mt_type_to_string(a->columns[i]->type, ta, sizeof ta);
        mt_type_to_string(b->columns[i]->type, tb, sizeof tb);
        cr_assert(mt_array_equal(a->columns[i], b->columns[i]), "column '%s' differs (%s vs %s)",
                  a->schema->fields[i].name, ta, tb);
    }
    cr_assert(mt_table_equal(a, b));
}

static void roundtrip(const mt_table *t, const mt_parquet_write_options *o, const char *path)
{
    mt_error err;
    cr_assert_eq(mt_parquet_write_table(path, t, o, &err), MT_OK, "%s", err.msg);
    mt_table *u = read_back(path);
    assert_tables_equal(t, u);
    mt_table_release(u);
    unlink(path);
}

Test(writer, flat_types_default_options)
{
    mt_table *t = flat_table(1000);
    roundtrip(t, NULL, TMP("flat_default"));
    mt_table_release(t);
}

Test(writer, temporal_types)
{
    mt_table *t = temporal_table(500);
    roundtrip(t, NULL, TMP("temporal"));
    mt_parquet_write_options o = {.dictionary = MT_PARQUET_DICT_OFF, .page_version = 2};
    roundtrip(t, &o, TMP("temporal"));
    mt_table_release(t);
}

Test(writer, flat_types_every_codec_dictionary_and_page_version)
{
    static const mt_parquet_codec codecs[] = {MT_PARQUET_UNCOMPRESSED, MT_PARQUET_SNAPPY,
                                              MT_PARQUET_GZIP, MT_PARQUET_ZSTD,
                                              MT_PARQUET_LZ4_RAW, MT_PARQUET_BROTLI};
    mt_table *t = flat_table(700);
    for (int c = 0; c < 6; c++)
        for (int d = 1; d <= 2; d++)
            for (int v = 1; v <= 2; v++) {
                mt_parquet_write_options o = {.codec = codecs[c], .dictionary = d,
                                              .page_version = v, .page_bytes = 512,
                                              .row_group_rows = 300};
                roundtrip(t, &o, TMP("flat_matrix"));
            }
    mt_table_release(t);
}
