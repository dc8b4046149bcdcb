/* Tests of the CSV reader and writer (csv_read.c, csv_infer.c, csv_write.c):
 * RFC 4180 quoting, CRLF, BOM, inference and widening, null handling,
 * explicit schemas, every malformed case with its exact message, round trips. */
#include <criterion/criterion.h>
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manta/data.h"

static mt_table *read_ok(const char *csv, const mt_csv_read_options *o)
{
    mt_table *t = NULL;
    mt_error err;
    mt_status st = mt_csv_read_memory("t.csv", csv, strlen(csv), o, &t, &err);
    cr_assert_eq(st, MT_OK, "%s", err.msg);
    return t;
}

static void read_fails(const char *csv, const mt_csv_read_options *o, mt_status code,
                       const char *msg)
{
    mt_table *t = NULL;
    mt_error err;
    mt_error_clear(&err);
    cr_assert_eq(mt_csv_read_memory("t.csv", csv, strlen(csv), o, &t, &err), code, "%s", err.msg);
    cr_assert_str_eq(err.msg, msg);
    cr_assert_null(t);
}

static char *jsonl(const mt_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(mt_table_write_jsonl(t, f, NULL), MT_OK);
    fclose(f);
    return buf;
}

static char *schema_str(const mt_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mt_table_print_schema(t->schema, f);
    fclose(f);
    return buf;
}

static void expect_table(const char *csv, const mt_csv_read_options *o, const char *schema,
                         const char *rows)
{
    mt_table *t = read_ok(csv, o);
    char *s = schema_str(t), *r = jsonl(t);
    cr_assert_str_eq(s, schema);
    cr_assert_str_eq(r, rows);
    free(s);
    free(r);
    mt_table_release(t);
}

Test(csv_read, infers_every_kind)
{
    expect_table("i,f,b,d,ts,s\n"
                 "1,2.5,true,2021-01-02,2021-01-02 03:04:05.5,x\n"
                 "-7,1e3,FALSE,1969-12-31,2021-01-02T00:00:00,NA\n",
                 NULL,
                 "Column  Type\n------  ----\ni       int64\nf       double\nb       bool\n"
                 "d       date32[day]\nts      timestamp[us]\ns       string\n",
                 "{\"i\":\"1\",\"f\":2.5,\"b\":true,\"d\":\"2021-01-02\","
                 "\"ts\":\"2021-01-02T03:04:05.5\",\"s\":\"x\"}\n"
                 "{\"i\":\"-7\",\"f\":1000,\"b\":false,\"d\":\"1969-12-31\","
                 "\"ts\":\"2021-01-02T00:00:00\",\"s\":null}\n");
}

Test(csv_read, quoting_crlf_bom_and_nulls)
{
    expect_table("\xEF\xBB\xBFname,note,n\r\n"
                 "\"a,b\",\"say \"\"hi\"\"\",1\r\n"
                 "\"multi\nline\",\"\",\r\n"
                 "NULL,N/A,NaN",
                 NULL, "Column  Type\n------  ----\nname    string\nnote    string\nn       double\n",
                 "{\"name\":\"a,b\",\"note\":\"say \\\"hi\\\"\",\"n\":1}\n"
                 "{\"name\":\"multi\\nline\",\"note\":\"\",\"n\":null}\n"
                 "{\"name\":null,\"note\":null,\"n\":\"NaN\"}\n");
}

Test(csv_read, widens_when_later_rows_disagree)
{
    mt_csv_read_options o = {.infer_rows = 1};
    expect_table("a,b,c,d,e\n1,true,2021-01-01,,1\n2.5,x,2021-01-01 10:00:00,7,\"\"\n", &o,
                 "Column  Type\n------  ----\na       double\nb       string\n"
                 "c       timestamp[us]\nd       int64\ne       int64\n",
                 "{\"a\":1,\"b\":\"true\",\"c\":\"2021-01-01T00:00:00\",\"d\":null,\"e\":\"1\"}\n"
                 "{\"a\":2.5,\"b\":\"x\",\"c\":\"2021-01-01T10:00:00\",\"d\":\"7\",\"e\":null}\n");
}

Test(csv_read, int_overflow_becomes_double_and_all_null_is_string)
{
    expect_table("a,b\n9223372036854775807,\n9223372036854775808,\n", NULL,
                 "Column  Type\n------  ----\na       double\nb       string\n",
                 "{\"a\":9223372036854776000,\"b\":null}\n{\"a\":9223372036854776000,\"b\":null}\n");
}

Test(csv_read, no_header_delimiter_and_custom_nulls)
{
    const char *nulls[] = {"-", NULL};
    mt_csv_read_options o = {.no_header = true, .delimiter = ';', .null_values = nulls};
    expect_table("1;-\n2;NA\n", &o, "Column  Type\n------  ----\nf0      int64\nf1      string\n",
                 "{\"f0\":\"1\",\"f1\":null}\n{\"f0\":\"2\",\"f1\":\"NA\"}\n");
}

Test(csv_read, empty_input_header_only_and_blank_lines)
{
    mt_table *t = read_ok("", NULL);
    cr_assert_eq(t->num_columns, 0);
    cr_assert_eq(t->num_rows, 0);
    mt_table_release(t);
    expect_table("a,b\n", NULL, "Column  Type\n------  ----\na       string\nb       string\n", "");
    expect_table("a,b\n\n1,2\n\n", NULL, "Column  Type\n------  ----\na       int64\nb       int64\n",
                 "{\"a\":\"1\",\"b\":\"2\"}\n");
    /* One column: an empty line is a null value. */
    expect_table("a\n1\n\n3\n", NULL, "Column  Type\n------  ----\na       int64\n",
                 "{\"a\":\"1\"}\n{\"a\":null}\n{\"a\":\"3\"}\n");
}

Test(csv_read, malformed_inputs_name_line_and_column)
{
    read_fails("a,b\n1,2\n3\n", NULL, MT_EPARSE, "t.csv:3: expected 2 fields, found 1");
    read_fails("a,b\n1,2,3\n", NULL, MT_EPARSE, "t.csv:2: expected 2 fields, found 3");
    read_fails("a,b\n1,\"x\ny\n", NULL, MT_EPARSE, "t.csv:2:3: unterminated quoted field");
    read_fails("a,b\n1,x\"y\n", NULL, MT_EPARSE, "t.csv:2:4: quote inside unquoted field");
    read_fails("a,b\n\"q\nq\"z,1\n", NULL, MT_EPARSE,
               "t.csv:3:3: unexpected character after closing quote");
    mt_csv_read_options bad = {.delimiter = '"'};
    read_fails("a\n", &bad, MT_EINVAL, "t.csv: invalid CSV delimiter or quote");
}

static mt_type *schema2(mt_type *a, mt_type *b, const char *na, const char *nb)
{
    const char *names[] = {na, nb};
    mt_type *types[] = {a, b};
    mt_type *s = mt_type_struct(2, names, types, NULL);
    mt_type_release(a);
    mt_type_release(b);
    return s;
}

Test(csv_read, explicit_schema_overrides_inference)
{
    mt_type *s = schema2(mt_type_new(MT_TYPE_UTF8), mt_type_new(MT_TYPE_INT16), "x", "y");
    mt_csv_read_options o = {.schema = s};
    /* Header columns not in the schema are dropped; schema order wins. */
    expect_table("y,z,x\n1,a,007\n-2,b,\"\"\n", &o,
                 "Column  Type\n------  ----\nx       string\ny       int16\n",
                 "{\"x\":\"007\",\"y\":1}\n{\"x\":\"\",\"y\":-2}\n");
    read_fails("y,x\n1,a\n\"abc\",b\n", &o, MT_EPARSE,
               "t.csv:3:1: cannot parse 'abc' as int16 for column 'y'");
    read_fails("y,x\n1,a\n2,\"p\nq\"\n99999,c\n", &o, MT_EPARSE,
               "t.csv:5:1: cannot parse '99999' as int16 for column 'y'");
    read_fails("x\n1\n", &o, MT_EPARSE, "t.csv: column 'y' of the schema is not in the header");
    mt_type_release(s);

    s = schema2(mt_type_decimal128(5, 2), mt_type_timestamp(MT_UNIT_MILLI, "UTC"), "d", "t");
    o.schema = s;
    expect_table("d,t\n1.5,2021-01-01T00:00:00.123Z\n-0.05,2021-01-01\n", &o,
                 "Column  Type\n------  ----\nd       decimal128(5, 2)\nt       timestamp[ms, tz=UTC]\n",
                 "{\"d\":\"1.50\",\"t\":\"2021-01-01T00:00:00.123Z\"}\n"
                 "{\"d\":\"-0.05\",\"t\":\"2021-01-01T00:00:00Z\"}\n");
    read_fails("d,t\n1.555,2021-01-01\n", &o, MT_EPARSE,
               "t.csv:2:1: cannot parse '1.555' as decimal128(5, 2) for column 'd'");
    mt_type_release(s);
}

static mt_table *sample_table(void)
{
    const char *csv = "i,f,b,d,ts,s\n"
                      "1,2.5,true,2021-01-02,2021-01-02 03:04:05.123456,\"a,b\"\n"
                      "-7,1.0,false,,2021-01-02 00:00:00,\"\"\n"
                      ",1e+16,,1900-03-01,,\"NA\"\n"
                      "42,-0.1,true,2000-02-29,1970-01-01 00:00:00.000001,\" pad \"\n"
                      "5,NaN,false,2021-01-01,,\"line\nbreak \"\"q\"\"\"\n";
    return read_ok(csv, NULL);
}

Test(csv_write, round_trip_is_identical)
{
    mt_table *t = sample_table();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mt_error err;
    cr_assert_eq(mt_csv_write_stream(f, t, NULL, &err), MT_OK, "%s", err.msg);
    fclose(f);
    cr_assert_str_eq(buf, "i,f,b,d,ts,s\n"
                          "1,2.5,true,2021-01-02,2021-01-02T03:04:05.123456,\"a,b\"\n"
                          "-7,1.0,false,,2021-01-02T00:00:00,\"\"\n"
                          ",1e+16,,1900-03-01,,\"NA\"\n"
                          "42,-0.1,true,2000-02-29,1970-01-01T00:00:00.000001,\" pad \"\n"
                          "5,NaN,false,2021-01-01,,\"line\nbreak \"\"q\"\"\"\n");
    mt_table *back = read_ok(buf, NULL);
    cr_assert(mt_table_equal(t, back));
    char *a = jsonl(t), *b = jsonl(back);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    free(buf);
    mt_table_release(back);
    mt_table_release(t);
}

/* Every integer width, float16/32 widened to double, binary as "0x" hex. */
Test(csv_write, integer_float_and_binary_columns)
{
    mt_type *ts[] = {mt_type_new(MT_TYPE_INT8), mt_type_new(MT_TYPE_UINT16),
                     mt_type_new(MT_TYPE_UINT64), mt_type_new(MT_TYPE_FLOAT16),
                     mt_type_new(MT_TYPE_FLOAT32), mt_type_new(MT_TYPE_BINARY),
                     mt_type_fixed_binary(2)};
    mt_array *cols[7];
    for (int c = 0; c < 7; c++) {
        mt_array_builder *b = mt_array_builder_new(ts[c]);
        switch (c) {
        case 0: mt_array_builder_append_int(b, -128, NULL); break;
        case 1: mt_array_builder_append_uint(b, 65535, NULL); break;
        case 2: mt_array_builder_append_uint(b, UINT64_MAX, NULL); break;
        case 3: mt_array_builder_append_uint(b, 0xBE00, NULL); break; /* -1.5 */
        case 4: mt_array_builder_append_double(b, 1.1f, NULL); break;
        case 5: mt_array_builder_append_bytes(b, "\x00\xff", 2, NULL); break;
        default: mt_array_builder_append_bytes(b, "ab", 2, NULL); break;
        }
        mt_array_builder_append_null(b, NULL);
        cr_assert_eq(mt_array_builder_finish(b, &cols[c], NULL), MT_OK);
        mt_array_builder_destroy(b);
    }
    const char *names[] = {"i8", "u16", "u64", "f16", "f32", "bin", "fix"};
    mt_type *schema = mt_type_struct(7, names, ts, NULL);
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_table_new(schema, cols, 2, &t, &err), MT_OK, "%s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(mt_csv_write_stream(f, t, NULL, &err), MT_OK, "%s", err.msg);
    fclose(f);
    cr_assert_str_eq(buf, "i8,u16,u64,f16,f32,bin,fix\n"
                          "-128,65535,18446744073709551615,-1.5,1.100000023841858,0x00ff,0x6162\n"
                          ",,,,,,\n");
    free(buf);
    mt_table_release(t);
    mt_type_release(schema);
    for (int c = 0; c < 7; c++) {
        mt_array_release(cols[c]);
        mt_type_release(ts[c]);
    }
}

Test(csv_write, file_is_renamed_into_place_and_nested_is_rejected)
{
    char path[256];
    snprintf(path, sizeof path, "%s/csv_write_test_%d.csv", MT_BINARY_DIR, (int)getpid());
    mt_table *t = sample_table();
    mt_error err;
    mt_csv_write_options o = {.delimiter = '\t'};
    cr_assert_eq(mt_csv_write(path, t, &o, &err), MT_OK, "%s", err.msg);
    mt_csv_read_options ro = {.delimiter = '\t'};
    mt_table *back = NULL;
    cr_assert_eq(mt_csv_read(path, &ro, &back, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_table_equal(t, back));
    mt_table_release(back);
    unlink(path);
    mt_table_release(t);

    mt_type *i32 = mt_type_new(MT_TYPE_INT32), *lt = mt_type_list(i32, true, NULL);
    mt_array *la = mt_array_new_null(lt, 2);
    const char *names[] = {"xs"};
    mt_type *s = mt_type_struct(1, names, &lt, NULL);
    mt_table *nt = NULL;
    cr_assert_eq(mt_table_new(s, &la, 2, &nt, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_csv_write(path, nt, NULL, &err), MT_EUNSUPPORTED);
    char want[400];
    snprintf(want, sizeof want, "%s: CSV cannot hold nested column 'xs'", path);
    cr_assert_str_eq(err.msg, want);
    cr_assert_neq(access(path, F_OK), 0);
    char pattern[300];
    snprintf(pattern, sizeof pattern, "%s.tmp-*", path);
    glob_t g;
    cr_assert_neq(glob(pattern, 0, NULL, &g), 0, "no temporary file left");
    globfree(&g);
    mt_table_release(nt);
    mt_array_release(la);
    mt_type_release(s);
    mt_type_release(lt);
    mt_type_release(i32);
    mt_error e2;
    cr_assert_eq(mt_csv_read("/nonexistent/x.csv", NULL, &back, &e2), MT_EIO);
}

Test(csv_read, many_blocks_restart_and_no_leaks)
{
    mt_error err;
    cr_assert_eq(mt_config_set("csv_block_rows", "2", &err), MT_OK, "%s", err.msg);
    mt_alloc_stats before, after;
    mt_alloc_get_stats(&before);
    mt_csv_read_options o = {.infer_rows = 2};
    /* Row 6 (a later block) turns column a into float64 and b into string. */
    expect_table("a,b\n1,2021-01-01\n2,\n3,2021-01-03\n4,2021-01-04\n5.5,x\n6,2021-01-06\n", &o,
                 "Column  Type\n------  ----\na       double\nb       string\n",
                 "{\"a\":1,\"b\":\"2021-01-01\"}\n{\"a\":2,\"b\":null}\n{\"a\":3,\"b\":\"2021-01-03\"}\n"
                 "{\"a\":4,\"b\":\"2021-01-04\"}\n{\"a\":5.5,\"b\":\"x\"}\n{\"a\":6,\"b\":\"2021-01-06\"}\n");
    read_fails("a,b\n1,2\n3,4\n5,6\n7\n", &o, MT_EPARSE, "t.csv:5: expected 2 fields, found 1");
    read_fails("a,b\n1,2\n3,4\n5,\"6\n", &o, MT_EPARSE, "t.csv:4:3: unterminated quoted field");
    mt_alloc_get_stats(&after);
    cr_assert_eq(after.live_allocations, before.live_allocations);
    cr_assert_eq(after.live_bytes, before.live_bytes);
    cr_assert_eq(mt_config_set("csv_block_rows", "65536", &err), MT_OK);
}
