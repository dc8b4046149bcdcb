/* Tests of the public reader API (reader.c, page_reader.c, meta_print.c) over
 * real files of the shared corpus: shape, projection, error codes and
 * messages (bad magic, too short, encrypted, corrupt footer, CRC), CRC
 * verification switch, open_memory, metadata printing, and no leaks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manta/parquet.h"
#include "parquet/pq_int.h"

#define CORPUS MT_SOURCE_DIR "/../shared/testdata/parquet-testing/"

static int64_t live_allocs(void)
{
    mt_alloc_stats s;
    mt_alloc_get_stats(&s);
    return s.live_allocations;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

Test(reader, alltypes_plain_shape_and_values)
{
    int64_t before = live_allocs();
    mt_parquet_reader *r = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_reader_open(CORPUS "data/alltypes_plain.parquet", NULL, &r, &err),
                 MT_OK, "%s", err.msg);
    cr_assert_eq(mt_parquet_reader_num_rows(r), 8);
    cr_assert_eq(mt_parquet_reader_num_row_groups(r), 1);
    cr_assert_eq(mt_parquet_reader_row_group_num_rows(r, 0), 8);
    cr_assert_eq(mt_parquet_reader_row_group_num_rows(r, 1), -1);
    const mt_type *s = mt_parquet_reader_schema(r);
    cr_assert_eq(s->id, MT_TYPE_STRUCT);
    cr_assert_eq(s->num_fields, 11);
    cr_assert_str_eq(s->fields[0].name, "id");
    cr_assert_str_eq(s->fields[10].name, "timestamp_col");
    mt_table *t = NULL;
    cr_assert_eq(mt_parquet_reader_read_row_group(r, 0, &t, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(t->num_rows, 8);
    cr_assert_eq(t->num_columns, 11);
    cr_assert_eq(t->columns[0]->type->id, MT_TYPE_INT32);
    const int32_t *ids = MT_ARRAY_VALUES(t->columns[0], int32_t);
    const int32_t want[8] = {4, 5, 6, 7, 2, 3, 0, 1};
    for (int i = 0; i < 8; i++) cr_assert_eq(ids[i], want[i], "row %d", i);
    mt_table_release(t);
    cr_assert_eq(mt_parquet_reader_read_row_group(r, 1, &t, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, CORPUS "data/alltypes_plain.parquet: row group 1 out of range "
                                     "(file has 1)");
    mt_parquet_reader_destroy(r);
    cr_assert_eq(live_allocs(), before);
}

Test(reader, projection_orders_columns)
{
    const char *cols[] = {"string_col", "id", NULL};
    mt_parquet_read_options o = {.columns = cols};
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_read_table(CORPUS "data/alltypes_plain.snappy.parquet", &o, &t, &err),
                 MT_OK, "%s", err.msg);
    cr_assert_eq(t->num_columns, 2);
    cr_assert_eq(t->num_rows, 2);
    cr_assert_str_eq(t->schema->fields[0].name, "string_col");
    cr_assert_str_eq(t->schema->fields[1].name, "id");
    cr_assert_eq(t->columns[1]->type->id, MT_TYPE_INT32);
    mt_table_release(t);
}

Test(reader, unknown_column)
{
    const char *cols[] = {"id", "nope", NULL};
    mt_parquet_read_options o = {.columns = cols};
    mt_parquet_reader *r = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_reader_open(CORPUS "data/alltypes_plain.parquet", &o, &r, &err),
                 MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "no column 'nope' in " CORPUS "data/alltypes_plain.parquet");
    cr_assert_null(r);
}

Test(reader, multiple_row_groups_concatenate)
{
    mt_parquet_reader *r = NULL;
    mt_error err;
    const char *path = CORPUS "data/alltypes_tiny_pages_plain.parquet";
    cr_assert_eq(mt_parquet_reader_open(path, NULL, &r, &err), MT_OK, "%s", err.msg);
    int64_t n = mt_parquet_reader_num_rows(r);
    mt_parquet_reader_destroy(r);
    mt_table *t = NULL;
    cr_assert_eq(mt_parquet_read_table(path, NULL, &t, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(t->num_rows, n);
    cr_assert_eq(n, 7300);
    mt_table_release(t);
}

Test(reader, parquet_1481_corrupt_footer)
{
    mt_parquet_reader *r = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_reader_open(CORPUS "bad_data/PARQUET-1481.parquet", NULL, &r, &err),
                 MT_ECORRUPT);
    cr_assert(strstr(err.msg, "invalid physical type -7 in schema element") != NULL, "%s",
              err.msg);
    cr_assert(strncmp(err.msg, CORPUS "bad_data/PARQUET-1481.parquet: ",
                      strlen(CORPUS "bad_data/PARQUET-1481.parquet: ")) == 0,
              "%s", err.msg);
}

Test(reader, encrypted_files_unsupported)
{
    const char *files[] = {"data/uniform_encryption.parquet.encrypted",
                           "data/encrypt_columns_plaintext_footer.parquet.encrypted"};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, CORPUS "%s", files[i]);
        mt_parquet_reader *r = NULL;
        mt_error err;
        cr_assert_eq(mt_parquet_reader_open(path, NULL, &r, &err), MT_EUNSUPPORTED, "%s", path);
        cr_assert(strstr(err.msg, "encrypted Parquet is not supported") != NULL, "%s", err.msg);
    }
}

Test(reader, crc_verification)
{
    const char *path = CORPUS "data/datapage_v1-corrupt-checksum.parquet";
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_read_table(path, NULL, &t, &err), MT_ECHECKSUM);
    cr_assert(strstr(err.msg, "page CRC mismatch") != NULL, "%s", err.msg);
    cr_assert(strncmp(err.msg, path, strlen(path)) == 0, "%s", err.msg);
    cr_assert(strstr(err.msg, "page 0: page CRC mismatch") != NULL, "%s", err.msg);
    mt_parquet_read_options o = {.verify_crc = -1};
    cr_assert_eq(mt_parquet_read_table(path, &o, &t, &err), MT_OK, "%s", err.msg);
    cr_assert_gt(t->num_rows, 0);
    mt_table_release(t);
    /* a file with correct CRCs reads with verification on */
    o.verify_crc = 1;
    cr_assert_eq(mt_parquet_read_table(CORPUS "data/datapage_v1-snappy-compressed-checksum.parquet",
                                       &o, &t, &err),
                 MT_OK, "%s", err.msg);
    mt_table_release(t);
}

Test(reader, not_parquet_and_short_files)
{
    mt_parquet_reader *r = NULL;
    mt_error err;
    const uint8_t tiny[] = "PAR1PAR1";
    cr_assert_eq(mt_parquet_reader_open_memory("t.parquet", tiny, 8, NULL, &r, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "t.parquet: not a Parquet file (too short)");
    cr_assert_eq(mt_parquet_reader_open_memory("e.parquet", NULL, 0, NULL, &r, &err), MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "e.parquet: not a Parquet file (too short)");
    cr_assert_eq(mt_parquet_reader_open(CORPUS "data/bloom_filter.bin", NULL, &r, &err),
                 MT_ECORRUPT);
    cr_assert(strstr(err.msg, "not a Parquet file (no PAR1 magic)") != NULL, "%s", err.msg);
    cr_assert_eq(mt_parquet_reader_open(CORPUS "data/no-such-file.parquet", NULL, &r, &err),
                 MT_ENOTFOUND);
    /* footer length larger than the file */
    const uint8_t bad[] = {'P', 'A', 'R', '1', 0, 0, 0, 0, 0xff, 0, 0, 0, 'P', 'A', 'R', '1'};
    cr_assert_eq(mt_parquet_reader_open_memory("f.parquet", bad, sizeof bad, NULL, &r, &err),
                 MT_ECORRUPT);
    cr_assert_str_eq(err.msg, "f.parquet: footer length 255 does not fit in a 16-byte file");
    const uint8_t pare[] = {'P', 'A', 'R', 'E', 0, 0, 0, 0, 4, 0, 0, 0, 'P', 'A', 'R', 'E'};
    cr_assert_eq(mt_parquet_reader_open_memory("x.parquet", pare, sizeof pare, NULL, &r, &err),
                 MT_EUNSUPPORTED);
    cr_assert_str_eq(err.msg, "x.parquet: encrypted Parquet is not supported");
}

Test(reader, open_memory_equals_open_file)
{
    size_t len = 0;
    uint8_t *img = slurp(CORPUS "data/nested_lists.snappy.parquet", &len);
    mt_parquet_reader *r = NULL;
    mt_error err;
    mt_table *a = NULL, *b = NULL;
    cr_assert_eq(mt_parquet_reader_open_memory("mem", img, len, NULL, &r, &err), MT_OK, "%s",
                 err.msg);
    cr_assert_eq(mt_parquet_reader_read_row_group(r, 0, &a, &err), MT_OK, "%s", err.msg);
    mt_parquet_reader_destroy(r);
    cr_assert_eq(mt_parquet_read_table(CORPUS "data/nested_lists.snappy.parquet", NULL, &b, &err),
                 MT_OK, "%s", err.msg);
    cr_assert(mt_table_equal(a, b));
    mt_table_release(a);
    mt_table_release(b);
    /* every truncation of the image fails cleanly (never crashes) */
    for (size_t n = 0; n < len; n += 7) {
        if (mt_parquet_reader_open_memory("cut", img, n, NULL, &r, &err) == MT_OK) {
            mt_table *t = NULL;
            if (mt_parquet_reader_read_row_group(r, 0, &t, &err) == MT_OK) mt_table_release(t);
            mt_parquet_reader_destroy(r);
        }
    }
    free(img);
}

Test(reader, codecs_and_page_kinds_read)
{
    const char *files[] = {"data/hadoop_lz4_compressed.parquet",
                           "data/hadoop_lz4_compressed_larger.parquet",
                           "data/non_hadoop_lz4_compressed.parquet",
                           "data/lz4_raw_compressed.parquet",
                           "data/concatenated_gzip_members.parquet",
                           "data/byte_stream_split.zstd.parquet",
                           "data/datapage_v2.snappy.parquet",
                           "data/page_v2_empty_compressed.parquet",
                           "data/dict-page-offset-zero.parquet",
                           "data/nation.dict-malformed.parquet"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, CORPUS "%s", files[i]);
        mt_table *t = NULL;
        mt_error err;
        cr_assert_eq(mt_parquet_read_table(path, NULL, &t, &err), MT_OK, "%s", err.msg);
        mt_parquet_reader *r = NULL;
        cr_assert_eq(mt_parquet_reader_open(path, NULL, &r, &err), MT_OK);
        cr_assert_eq(t->num_rows, mt_parquet_reader_num_rows(r), "%s", path);
        mt_parquet_reader_destroy(r);
        mt_table_release(t);
    }
}

Test(reader, too_large_page_is_rejected)
{
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_read_table(CORPUS "data/large_string_map.brotli.parquet", NULL, &t,
                                       &err),
                 MT_ECORRUPT);
    cr_assert(strstr(err.msg, "page too large: 1073741828 bytes exceeds "
                              "parquet_max_page_bytes (1073741824)") != NULL,
              "%s", err.msg);
}

static char *print_meta(const char *path)
{
    mt_parquet_reader *r = NULL;
    mt_error err;
    cr_assert_eq(mt_parquet_reader_open(path, NULL, &r, &err), MT_OK, "%s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(mt_parquet_reader_print_meta(r, f, &err), MT_OK, "%s", err.msg);
    fclose(f);
    mt_parquet_reader_destroy(r);
    return buf;
}

Test(meta_print, alltypes_plain)
{
    char *s = print_meta(CORPUS "data/alltypes_plain.parquet");
    cr_assert(strstr(s, "version: 1\nnum_rows: 8\nnum_row_groups: 1\n") != NULL, "%s", s);
    cr_assert(strstr(s, "created_by: impala version 1.3.0-INTERNAL") != NULL, "%s", s);
    cr_assert(strstr(s, "message schema {\n  optional int32 id;\n  optional boolean bool_col;\n")
                  != NULL, "%s", s);
    cr_assert(strstr(s, "  optional int96 timestamp_col;\n}\n") != NULL, "%s", s);
    cr_assert(strstr(s, "row group 0: num_rows 8, total_byte_size 671\n") != NULL, "%s", s);
    cr_assert(strstr(s, "  column 'id' int32\n    codec: uncompressed\n"
                        "    encodings: RLE, PLAIN_DICTIONARY, PLAIN\n    num_values: 8\n"
                        "    compressed_size: 73, uncompressed_size: 73\n"
                        "    data_page_offset: 49, dictionary_page_offset: 4\n"
                        "    pages: 2 (1 DATA_PAGE, 1 DICTIONARY_PAGE)\n") != NULL, "%s", s);
    free(s);
}

Test(meta_print, nested_and_statistics)
{
    char *s = print_meta(CORPUS "data/nested_maps.snappy.parquet");
    cr_assert(strstr(s, "  optional group a (MAP) {\n    repeated group key_value {\n"
                        "      required binary key (UTF8);\n") != NULL, "%s", s);
    cr_assert(strstr(s, "    codec: snappy\n") != NULL, "%s", s);
    free(s);
    s = print_meta(CORPUS "data/alltypes_tiny_pages_plain.parquet");
    /* int32 id column: min 0, max 7299 with exact null count */
    cr_assert(strstr(s, "statistics: min 0 max 7299 null_count 0") != NULL, "%s", s);
    free(s);
}
