/*
 * test_writer.c — the Parquet writer: every type and option written and
 * read back with our reader (mt_table_equal), row group cutting, streaming
 * writes, statistics and encodings in the footer, dictionary fallback,
 * schema mismatch, determinism, and failure safety (no file left behind,
 * no leak, under injected allocation failures).
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "data/data_test_util.h"
#include "manta/parquet.h"
#include "parquet/pq_int.h"

#define TMP(name) MT_BINARY_DIR "/pqw_" name ".parquet"

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
    return dt_finish(b);
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

/* ---- Nested (the oracle's nested table, read with our reader) ---------- */

static mt_table *nested_source(void)
{
    return read_back(MT_SOURCE_DIR "/../shared/testdata/oracle-generated/"
                                   "nested_wasm_snappy_dict_v1.parquet");
}

Test(writer, nested_types_all_page_layouts)
{
    mt_table *t = nested_source();
    cr_assert_eq(t->num_rows, 1000);
    for (int v = 1; v <= 2; v++)
        for (int d = 1; d <= 2; d++) {
            mt_parquet_write_options o = {.codec = MT_PARQUET_ZSTD, .page_version = v,
                                          .dictionary = d, .page_bytes = 200,
                                          .row_group_rows = 333};
            roundtrip(t, &o, TMP("nested"));
        }
    mt_table_release(t);
}

Test(writer, nested_slice_honours_offsets)
{
    mt_table *t = nested_source(), *s = NULL;
    mt_error err;
    cr_assert_eq(mt_table_slice(t, 37, 501, &s, &err), MT_OK, "%s", err.msg);
    roundtrip(s, NULL, TMP("nested_slice"));
    mt_table_release(s);
    mt_table_release(t);
}

Test(writer, flat_slice_honours_offsets)
{
    mt_table *t = flat_table(300), *s = NULL;
    mt_error err;
    cr_assert_eq(mt_table_slice(t, 13, 250, &s, &err), MT_OK, "%s", err.msg);
    roundtrip(s, NULL, TMP("flat_slice"));
    mt_table_release(s);
    mt_table_release(t);
}

/* ---- Row groups and streaming ----------------------------------------- */

static void assert_row_groups(const char *path, int32_t n, const int64_t *rows)
{
    mt_parquet_reader *r = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_reader_open(path, NULL, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_parquet_reader_num_row_groups(r), n);
    for (int32_t i = 0; i < n; i++) cr_assert_eq(mt_parquet_reader_row_group_num_rows(r, i), rows[i]);
    mt_parquet_reader_destroy(r);
}

Test(writer, row_groups_cut_at_row_group_rows)
{
    mt_table *t = flat_table(25);
    mt_parquet_write_options o = {.row_group_rows = 10};
    mt_error err;
    cr_assert_eq(mt_parquet_write_table(TMP("rg"), t, &o, &err), MT_OK, "%s", err.msg);
    assert_row_groups(TMP("rg"), 3, (const int64_t[]){10, 10, 5});
    mt_table *u = read_back(TMP("rg"));
    assert_tables_equal(t, u);
    mt_table_release(u);
    mt_table_release(t);
    unlink(TMP("rg"));
}

Test(writer, streaming_writes_span_row_groups)
{
    mt_table *t = flat_table(21), *parts[3], *all = NULL;
    mt_error err;
    mt_parquet_writer *w = NULL;
    mt_parquet_write_options o = {.row_group_rows = 10, .codec = MT_PARQUET_SNAPPY};
    cr_assert_eq(mt_parquet_writer_open(TMP("stream"), t->schema, &o, &w, &err), MT_OK, "%s",
                 err.msg);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(mt_table_slice(t, i * 7, 7, &parts[i], &err), MT_OK);
        cr_assert_eq(mt_parquet_writer_write(w, parts[i], &err), MT_OK, "%s", err.msg);
    }
    cr_assert_eq(access(TMP("stream"), F_OK), -1, "the file appears only at close");
    cr_assert_eq(mt_parquet_writer_close(w, &err), MT_OK, "%s", err.msg);
    mt_parquet_writer_destroy(w);
    assert_row_groups(TMP("stream"), 3, (const int64_t[]){10, 10, 1});
    cr_assert_eq(mt_table_concat(parts, 3, &all, &err), MT_OK);
    mt_table *u = read_back(TMP("stream"));
    assert_tables_equal(all, u);
    for (int i = 0; i < 3; i++) mt_table_release(parts[i]);
    mt_table_release(all);
    mt_table_release(u);
    mt_table_release(t);
    unlink(TMP("stream"));
}

Test(writer, empty_table_writes_a_valid_file)
{
    mt_table *t = flat_table(0);
    mt_error err;
    cr_assert_eq(mt_parquet_write_table(TMP("empty"), t, NULL, &err), MT_OK, "%s", err.msg);
    assert_row_groups(TMP("empty"), 0, NULL);
    mt_table *u = read_back(TMP("empty"));
    cr_assert_eq(u->num_rows, 0);
    cr_assert(mt_type_equal(u->schema, t->schema));
    mt_table_release(u);
    mt_table_release(t);
    unlink(TMP("empty"));
}

/* ---- Errors and failure safety ---------------------------------------- */

static bool tmp_files_left(const char *path)
{
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s.tmp-*", path);
    glob_t g;
    bool any = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    return any;
}

Test(writer, schema_mismatch_is_etype_naming_the_column)
{
    mt_table *t = flat_table(10), *other = temporal_table(10);
    mt_parquet_writer *w = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_writer_open(TMP("mismatch"), t->schema, NULL, &w, &err), MT_OK);
    cr_assert_eq(mt_parquet_writer_write(w, other, &err), MT_ETYPE);
    cr_assert_str_eq(err.msg, "writing " TMP("mismatch") ": table has 7 columns, the file's "
                              "schema has 18");
    /* Same names, one type changed. */
    mt_type *types[N_FLAT];
    const char *names[N_FLAT];
    bool nulls[N_FLAT];
    for (int i = 0; i < N_FLAT; i++) {
        types[i] = t->schema->fields[i].type;
        names[i] = t->schema->fields[i].name;
        nulls[i] = t->schema->fields[i].nullable;
    }
    types[3] = mt_type_new(MT_TYPE_INT64);
    mt_table *bad = make_table(N_FLAT, names, types, nulls, 4, 0);
    cr_assert_eq(mt_parquet_writer_write(w, bad, &err), MT_ETYPE);
    cr_assert_str_eq(err.msg, "writing " TMP("mismatch") ": column 'i32': table has int64, the "
                              "file has int32");
    /* The writer is still usable after a rejected table. */
    cr_assert_eq(mt_parquet_writer_write(w, t, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_parquet_writer_close(w, &err), MT_OK, "%s", err.msg);
    mt_parquet_writer_destroy(w);
    mt_table *u = read_back(TMP("mismatch"));
    assert_tables_equal(t, u);
    mt_table_release(u);
    mt_table_release(bad);
    mt_table_release(other);
    mt_table_release(t);
    unlink(TMP("mismatch"));
}

Test(writer, null_in_required_column_fails_and_leaves_nothing)
{
    const char *names[] = {"x"};
    mt_type *ty = mt_type_new(MT_TYPE_INT32);
    mt_array *col = make_col(ty, 10, 5, 1);
    bool nullable = false;
    mt_type *schema = mt_type_struct(1, names, &ty, &nullable);
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_table_new(schema, &col, 10, &t, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_parquet_write_table(TMP("required"), t, NULL, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "writing " TMP("required") ": row group 0, column 'x': column "
                              "'x': null value in non-nullable field 'x'");
    cr_assert_eq(access(TMP("required"), F_OK), -1);
    cr_assert(!tmp_files_left(TMP("required")));
    mt_table_release(t);
    mt_type_release(schema);
    mt_array_release(col);
    mt_type_release(ty);
}

Test(writer, unsupported_codec_and_bad_options)
{
    mt_table *t = flat_table(3);
    mt_error err;
    mt_parquet_write_options o = {.codec = MT_PARQUET_LZ4};
    cr_assert_eq(mt_parquet_write_table(TMP("lz4"), t, &o, &err), MT_EUNSUPPORTED);
    cr_assert_str_eq(err.msg, "writing " TMP("lz4") ": codec lz4 cannot be written");
    mt_parquet_write_options v = {.page_version = 3};
    cr_assert_eq(mt_parquet_write_table(TMP("lz4"), t, &v, &err), MT_EINVAL);
    cr_assert_eq(access(TMP("lz4"), F_OK), -1);
    cr_assert(!tmp_files_left(TMP("lz4")));
    mt_table_release(t);
}

Test(writer, unwritable_directory_is_eio_naming_the_path)
{
    mt_table *t = flat_table(3);
    mt_error err;
    cr_assert_eq(mt_parquet_write_table("/nonexistent-dir/x.parquet", t, NULL, &err), MT_EIO);
    cr_assert(strstr(err.msg, "writing /nonexistent-dir/x.parquet: cannot create a temporary file "
                              "for /nonexistent-dir/x.parquet: ") == err.msg, "%s", err.msg);
    mt_table_release(t);
}

Test(writer, destroy_without_close_removes_the_temporary_file)
{
    mt_table *t = flat_table(30);
    mt_parquet_writer *w = NULL;
    mt_error err;
    mt_parquet_write_options o = {.row_group_rows = 10};
    cr_assert_eq(mt_parquet_writer_open(TMP("abandon"), t->schema, &o, &w, &err), MT_OK);
    cr_assert_eq(mt_parquet_writer_write(w, t, &err), MT_OK, "%s", err.msg);
    cr_assert(tmp_files_left(TMP("abandon")));
    mt_parquet_writer_destroy(w);
    cr_assert(!tmp_files_left(TMP("abandon")));
    cr_assert_eq(access(TMP("abandon"), F_OK), -1);
    mt_table_release(t);
}

Test(writer, allocation_failures_leave_no_file_and_no_leak)
{
    mt_table *src = nested_source();
    mt_table *flat = flat_table(200);
    mt_table *tables[2] = {src, flat};
    mt_parquet_write_options o = {.codec = MT_PARQUET_SNAPPY, .page_bytes = 300,
                                  .row_group_rows = 400, .page_version = 2};
    for (int ti = 0; ti < 2; ti++) {
        int failures = 0;
        for (int64_t k = 1;; k += (k < 300 ? 1 : 37)) {
            mt_alloc_stats before, after;
            mt_alloc_get_stats(&before);
            mt_error err;
            mt_alloc_fail_after(k, false);
            mt_status st = mt_parquet_write_table(TMP("oom"), tables[ti], &o, &err);
            mt_alloc_fail_after(0, false);
            mt_alloc_get_stats(&after);
            cr_assert_eq(after.live_allocations, before.live_allocations, "leak at k=%lld",
                         (long long)k);
            if (st == MT_OK) break;
            failures++;
            cr_assert_eq(st, MT_ENOMEM, "k=%lld: %s", (long long)k, err.msg);
            cr_assert(strstr(err.msg, "writing " TMP("oom")) == err.msg, "%s", err.msg);
            cr_assert_eq(access(TMP("oom"), F_OK), -1, "k=%lld left the file", (long long)k);
            cr_assert(!tmp_files_left(TMP("oom")), "k=%lld left the temporary file", (long long)k);
        }
        cr_assert_gt(failures, 20);
        mt_table *u = read_back(TMP("oom"));
        assert_tables_equal(tables[ti], u);
        mt_table_release(u);
        unlink(TMP("oom"));
    }
    mt_table_release(flat);
    mt_table_release(src);
}

Test(writer, output_is_deterministic)
{
    mt_table *t = nested_source();
    mt_error err;
    mt_parquet_write_options o = {.codec = MT_PARQUET_GZIP, .page_bytes = 1000};
    cr_assert_eq(mt_parquet_write_table(TMP("det1"), t, &o, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_parquet_write_table(TMP("det2"), t, &o, &err), MT_OK, "%s", err.msg);
    FILE *a = fopen(TMP("det1"), "rb"), *b = fopen(TMP("det2"), "rb");
    cr_assert(a && b);
    int ca, cb;
    long n = 0;
    do {
        ca = fgetc(a);
        cb = fgetc(b);
        cr_assert_eq(ca, cb, "files differ at byte %ld", n);
        n++;
    } while (ca != EOF);
    cr_assert_gt(n, 1000);
    fclose(a);
    fclose(b);
    unlink(TMP("det1"));
    unlink(TMP("det2"));
    mt_table_release(t);
}

/* ---- Footer: statistics, encodings, metadata --------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = mt_malloc((size_t)n);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Decodes the footer of `path` into *m (pq_meta_fini by the caller). */
static void footer(const char *path, pq_file_meta *m)
{
    size_t n;
    uint8_t *p = slurp(path, &n);
    cr_assert(n > 12 && memcmp(p, "PAR1", 4) == 0 && memcmp(p + n - 4, "PAR1", 4) == 0);
    uint32_t flen;
    memcpy(&flen, p + n - 8, 4);
    mt_error err;
    cr_assert_eq(pq_meta_decode(p + n - 8 - flen, flen, m, &err), MT_OK, "%s", err.msg);
    mt_free(p);
}

static mt_table *one_column(mt_type *ty, mt_array *col)
{
    const char *names[] = {"c"};
    bool nullable = true;
    mt_type *schema = mt_type_struct(1, names, &ty, &nullable);
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_table_new(schema, &col, col->length, &t, &err), MT_OK, "%s", err.msg);
    mt_type_release(schema);
    return t;
}

static const pq_statistics *stats_of(const pq_file_meta *m, int col)
{
    cr_assert_eq(m->num_row_groups, 1);
    return &m->row_groups[0].columns[col].stats;
}

Test(writer, statistics_follow_parquet_orders)
{
    /* int32 signed, uint32 unsigned, double ignoring NaN with -0 as min, strings bytewise. */
    mt_type *ti = mt_type_new(MT_TYPE_INT32), *tu = mt_type_new(MT_TYPE_UINT32),
            *td = mt_type_new(MT_TYPE_FLOAT64), *ts = mt_type_new(MT_TYPE_UTF8);
    mt_array_builder *bi = mt_array_builder_new(ti), *bu = mt_array_builder_new(tu),
                     *bd = mt_array_builder_new(td), *bs = mt_array_builder_new(ts);
    mt_error err;
    const int32_t iv[] = {5, -7, 3, 0};
    const uint32_t uv[] = {5, 4000000000u, 3, 0};
    const double dv[] = {NAN, 0.0, 2.5, 1.0};
    const char *sv[] = {"b", "\xc3\xa9", "a", "ab"};
    for (int i = 0; i < 4; i++) {
        mt_array_builder_append_int(bi, iv[i], &err);
        mt_array_builder_append_uint(bu, uv[i], &err);
        mt_array_builder_append_double(bd, dv[i], &err);
        mt_array_builder_append_bytes(bs, sv[i], (int64_t)strlen(sv[i]), &err);
    }
    mt_array_builder_append_null(bi, &err);
    mt_array_builder_append_null(bu, &err);
    mt_array_builder_append_null(bd, &err);
    mt_array_builder_append_null(bs, &err);
    mt_array *cols[4] = {dt_finish(bi), dt_finish(bu), dt_finish(bd), dt_finish(bs)};
    const char *names[] = {"i", "u", "d", "s"};
    mt_type *types[] = {ti, tu, td, ts};
    bool nulls[] = {true, true, true, true};
    mt_type *schema = mt_type_struct(4, names, types, nulls);
    mt_table *t = NULL;
    cr_assert_eq(mt_table_new(schema, cols, 5, &t, &err), MT_OK);
    const char *kv[] = {"origin", "test", "k2", "", NULL};
    mt_parquet_write_options o = {.kv_metadata = kv};
    cr_assert_eq(mt_parquet_write_table(TMP("stats"), t, &o, &err), MT_OK, "%s", err.msg);
    pq_file_meta m;
    footer(TMP("stats"), &m);
    cr_assert_str_eq(m.created_by, "manta version 0.1.0");
    cr_assert_eq(m.num_rows, 5);
    cr_assert_eq(m.num_kv, 2);
    cr_assert_str_eq(m.kv[0].key, "origin");
    cr_assert_str_eq(m.kv[0].value, "test");
    cr_assert_str_eq(m.kv[1].key, "k2");
    cr_assert_str_eq(m.kv[1].value, "");
    int32_t i32;
    uint32_t u32;
    double f64;
    const pq_statistics *s = stats_of(&m, 0);
    cr_assert(s->has_null_count && s->null_count == 1 && !s->legacy_min_max);
    memcpy(&i32, s->min, 4); cr_assert_eq(i32, -7);
    memcpy(&i32, s->max, 4); cr_assert_eq(i32, 5);
    s = stats_of(&m, 1);
    memcpy(&u32, s->min, 4); cr_assert_eq(u32, 0);
    memcpy(&u32, s->max, 4); cr_assert_eq(u32, 4000000000u);
    s = stats_of(&m, 2);
    memcpy(&f64, s->min, 8); cr_assert(f64 == 0 && signbit(f64), "min is -0.0");
    memcpy(&f64, s->max, 8); cr_assert_eq(f64, 2.5);
    s = stats_of(&m, 3);
    cr_assert_eq(s->min_len, 1);
    cr_assert_eq(memcmp(s->min, "a", 1), 0);
    cr_assert_eq(s->max_len, 2);
    cr_assert_eq(memcmp(s->max, "\xc3\xa9", 2), 0);
    pq_meta_fini(&m);

    o.no_statistics = true;
    cr_assert_eq(mt_parquet_write_table(TMP("stats"), t, &o, &err), MT_OK, "%s", err.msg);
    footer(TMP("stats"), &m);
    for (int c = 0; c < 4; c++) {
        cr_assert_null(stats_of(&m, c)->min);
        cr_assert(!stats_of(&m, c)->has_null_count);
    }
    pq_meta_fini(&m);
    unlink(TMP("stats"));
    for (int i = 0; i < 4; i++) {
        mt_array_release(cols[i]);
        mt_type_release(types[i]);
    }
    mt_type_release(schema);
    mt_table_release(t);
}

static bool has_encoding(const pq_column_chunk *c, int enc)
{
    for (int32_t i = 0; i < c->num_encodings; i++)
        if (c->encodings[i] == enc) return true;
    return false;
}

Test(writer, dictionary_falls_back_to_plain_mid_chunk)
{
    mt_type *ts = mt_type_new(MT_TYPE_UTF8);
    mt_array_builder *b = mt_array_builder_new(ts);
    mt_error err;
    for (int i = 0; i < 2000; i++) { /* low cardinality first, then all distinct */
        char buf[32];
        int n = i < 1000 ? snprintf(buf, sizeof buf, "v%d", i % 10)
                         : snprintf(buf, sizeof buf, "distinct-%d", i);
        mt_array_builder_append_bytes(b, buf, n, &err);
    }
    mt_array *col = dt_finish(b);
    mt_table *t = one_column(ts, col);
    mt_parquet_write_options o = {.page_bytes = 1000, .dictionary_page_bytes = 2000};
    roundtrip(t, &o, TMP("fallback"));
    cr_assert_eq(mt_parquet_write_table(TMP("fallback"), t, &o, &err), MT_OK, "%s", err.msg);
    pq_file_meta m;
    footer(TMP("fallback"), &m);
    const pq_column_chunk *c = &m.row_groups[0].columns[0];
    cr_assert(c->dictionary_page_offset == 4, "dictionary page first");
    cr_assert(has_encoding(c, PQ_PLAIN_DICTIONARY));
    cr_assert(has_encoding(c, PQ_RLE_DICTIONARY));
    cr_assert(has_encoding(c, PQ_PLAIN), "fell back to PLAIN");
    cr_assert_eq(c->num_values, 2000);
    cr_assert_eq(c->codec, MT_PARQUET_UNCOMPRESSED);
    pq_meta_fini(&m);

    o.dictionary = MT_PARQUET_DICT_OFF;
    o.page_version = 2;
    cr_assert_eq(mt_parquet_write_table(TMP("fallback"), t, &o, &err), MT_OK, "%s", err.msg);
    footer(TMP("fallback"), &m);
    c = &m.row_groups[0].columns[0];
    cr_assert_eq(c->dictionary_page_offset, -1);
    cr_assert(!has_encoding(c, PQ_RLE_DICTIONARY) && has_encoding(c, PQ_PLAIN));
    pq_meta_fini(&m);
    unlink(TMP("fallback"));
    mt_table_release(t);
    mt_array_release(col);
    mt_type_release(ts);
}

Test(writer, seconds_are_written_as_milliseconds)
{
    mt_type *tt = mt_type_time(MT_UNIT_SECOND), *tms = mt_type_time(MT_UNIT_MILLI);
    mt_array_builder *b = mt_array_builder_new(tt);
    mt_error err;
    mt_array_builder_append_int(b, 3661, &err);
    mt_array_builder_append_null(b, &err);
    mt_array_builder_append_int(b, 59, &err);
    mt_array *col = dt_finish(b);
    mt_table *t = one_column(tt, col);
    cr_assert_eq(mt_parquet_write_table(TMP("secs"), t, NULL, &err), MT_OK, "%s", err.msg);
    mt_table *u = read_back(TMP("secs"));
    cr_assert(mt_type_equal(u->columns[0]->type, tms));
    cr_assert_eq(MT_ARRAY_VALUES(u->columns[0], int32_t)[0], 3661000);
    cr_assert(!mt_array_is_valid(u->columns[0], 1));
    cr_assert_eq(MT_ARRAY_VALUES(u->columns[0], int32_t)[2], 59000);
    mt_table_release(u);
    mt_table_release(t);
    mt_array_release(col);
    mt_type_release(tt);
    mt_type_release(tms);
    unlink(TMP("secs"));
}

Test(writer, null_type_column)
{
    /* Written as pyarrow does: an OPTIONAL INT32 with logical type UNKNOWN, all null. */
    mt_type *tn = mt_type_new(MT_TYPE_NA);
    mt_array *col = mt_array_new_null(tn, 9);
    mt_table *t = one_column(tn, col);
    mt_error err;
    cr_assert_eq(mt_parquet_write_table(TMP("null"), t, NULL, &err), MT_OK, "%s", err.msg);
    pq_file_meta m;
    footer(TMP("null"), &m);
    cr_assert_eq(m.num_schema, 2);
    cr_assert_eq(m.schema[1].type, PQ_INT32);
    cr_assert_eq(m.schema[1].repetition, PQ_OPTIONAL);
    cr_assert_eq(m.schema[1].logical.kind, PQ_LT_UNKNOWN);
    cr_assert_eq(m.row_groups[0].columns[0].stats.null_count, 9);
    pq_meta_fini(&m);
    mt_table *u = read_back(TMP("null"));
    cr_assert_eq(u->num_rows, 9);
    cr_assert_eq(mt_array_null_count(u->columns[0]), 9);
    mt_table_release(u);
    mt_table_release(t);
    mt_array_release(col);
    mt_type_release(tn);
    unlink(TMP("null"));
}
