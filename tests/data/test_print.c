/* Tests of Ray's text formats (print.c): the schema table and ds.show() rows
 * as Python dict reprs, and Python float repr corner cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/print_int.h"
#include "manta/data.h"

static char *py(double v)
{
    static char buf[64];
    mt__data_format_py(v, buf, sizeof buf);
    return buf;
}

Test(py_repr, floats)
{
    cr_assert_str_eq(py(1.0), "1.0");
    cr_assert_str_eq(py(2.5), "2.5");
    cr_assert_str_eq(py(-0.0), "-0.0");
    cr_assert_str_eq(py(1e16), "1e+16");
    cr_assert_str_eq(py(1e15), "1000000000000000.0");
    cr_assert_str_eq(py(0.0001), "0.0001");
    cr_assert_str_eq(py(0.00001), "1e-05");
    cr_assert_str_eq(py(NAN), "nan");
    cr_assert_str_eq(py(-INFINITY), "-inf");
    cr_assert_str_eq(py(1.7976931348623157e308), "1.7976931348623157e+308");
    cr_assert_str_eq(py(5e-324), "5e-324");
}

static char *capture_schema(const mt_type *schema)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mt_table_print_schema(schema, f);
    fclose(f);
    return buf;
}

Test(print, schema_table)
{
    mt_type *ts[] = {mt_type_new(MT_TYPE_FLOAT64), mt_type_new(MT_TYPE_INT64),
                     mt_type_new(MT_TYPE_BOOL)};
    const char *names[] = {"passenger_count", "hour", "is_big_tip"};
    mt_type *s = mt_type_struct(3, names, ts, NULL);
    char *got = capture_schema(s);
    cr_assert_str_eq(got, "Column           Type\n"
                          "------           ----\n"
                          "passenger_count  double\n"
                          "hour             int64\n"
                          "is_big_tip       bool\n");
    free(got);
    mt_type_release(s);
    const char *short_names[] = {"id"};
    s = mt_type_struct(1, short_names, ts, NULL);
    got = capture_schema(s);
    cr_assert_str_eq(got, "Column  Type\n------  ----\nid      double\n");
    free(got);
    mt_type_release(s);
    for (int i = 0; i < 3; i++) mt_type_release(ts[i]);
}

static mt_array *col(mt_type *t, int kind, const void *vals, int n)
{
    mt_array_builder *b = mt_array_builder_new(t);
    for (int i = 0; i < n; i++) {
        if (kind == 0) mt_array_builder_append_double(b, ((const double *)vals)[i], NULL);
        else if (kind == 1) mt_array_builder_append_int(b, ((const int64_t *)vals)[i], NULL);
        else if (kind == 2) mt_array_builder_append_bool(b, ((const int64_t *)vals)[i], NULL);
        else {
            const char *s = ((const char *const *)vals)[i];
            if (s) mt_array_builder_append_bytes(b, s, (int64_t)strlen(s), NULL);
            else mt_array_builder_append_null(b, NULL);
        }
    }
    mt_array *a = NULL;
    cr_assert_eq(mt_array_builder_finish(b, &a, NULL), MT_OK);
    mt_array_builder_destroy(b);
    return a;
}

Test(print, rows_as_python_dicts)
{
    mt_type *f64 = mt_type_new(MT_TYPE_FLOAT64), *i64 = mt_type_new(MT_TYPE_INT64),
            *bl = mt_type_new(MT_TYPE_BOOL), *s = mt_type_new(MT_TYPE_UTF8),
            *d = mt_type_new(MT_TYPE_DATE32), *ts = mt_type_timestamp(MT_UNIT_MICRO, NULL),
            *tsz = mt_type_timestamp(MT_UNIT_MILLI, "UTC"), *dec = mt_type_decimal128(5, 2),
            *bin = mt_type_new(MT_TYPE_BINARY);
    double fv[] = {1.0, 2.5, 1e16};
    int64_t iv[] = {720, -3, 0}, bv[] = {0, 1, 0}, dv[] = {18628, 0, -1};
    int64_t tv[] = {1609459200000000LL, 1609459200500000LL, 1609459201000000LL};
    int64_t tzv[] = {0, 1500, 61000};
    const char *sv[] = {"it's", "a\"b'c\n", NULL};
    const char *binv[] = {"\x00'\xff", "ab", ""};
    mt_array *cols[9] = {col(f64, 0, fv, 3), col(i64, 1, iv, 3), col(bl, 2, bv, 3),
                         col(s, 3, sv, 3), col(d, 1, dv, 3), col(ts, 1, tv, 3),
                         col(tsz, 1, tzv, 3), NULL, NULL};
    mt_array_builder *b = mt_array_builder_new(dec);
    uint8_t raw[16] = {150};
    mt_array_builder_append_bytes(b, raw, 16, NULL);
    memset(raw, 0xff, 16);
    mt_array_builder_append_bytes(b, raw, 16, NULL); /* -0.01 */
    mt_array_builder_append_null(b, NULL);
    mt_array_builder_finish(b, &cols[7], NULL);
    mt_array_builder_destroy(b);
    b = mt_array_builder_new(bin);
    mt_array_builder_append_bytes(b, binv[0], 3, NULL);
    mt_array_builder_append_bytes(b, binv[1], 2, NULL);
    mt_array_builder_append_bytes(b, binv[2], 0, NULL);
    mt_array_builder_finish(b, &cols[8], NULL);
    mt_array_builder_destroy(b);
    const char *names[] = {"f", "i", "b", "s", "d", "ts", "tsz", "dec", "bin"};
    mt_type *types[] = {f64, i64, bl, s, d, ts, tsz, dec, bin};
    mt_type *schema = mt_type_struct(9, names, types, NULL);
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_table_new(schema, cols, 3, &t, &err), MT_OK, "%s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(mt_table_print_rows(t, 0, 10, f, &err), MT_OK);
    fclose(f);
    cr_assert_str_eq(buf,
        "{'f': 1.0, 'i': 720, 'b': False, 's': \"it's\", 'd': datetime.date(2021, 1, 1), "
        "'ts': datetime.datetime(2021, 1, 1, 0, 0), "
        "'tsz': datetime.datetime(1970, 1, 1, 0, 0, tzinfo=<UTC>), 'dec': Decimal('1.50'), "
        "'bin': b\"\\x00'\\xff\"}\n"
        "{'f': 2.5, 'i': -3, 'b': True, 's': 'a\"b\\'c\\n', 'd': datetime.date(1970, 1, 1), "
        "'ts': datetime.datetime(2021, 1, 1, 0, 0, 0, 500000), "
        "'tsz': datetime.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=<UTC>), "
        "'dec': Decimal('-0.01'), 'bin': b'ab'}\n"
        "{'f': 1e+16, 'i': 0, 'b': False, 's': None, 'd': datetime.date(1969, 12, 31), "
        "'ts': datetime.datetime(2021, 1, 1, 0, 0, 1), "
        "'tsz': datetime.datetime(1970, 1, 1, 0, 1, 1, tzinfo=<UTC>), 'dec': None, 'bin': b''}\n");
    free(buf);
    /* offset/limit select rows; past the end prints nothing. */
    buf = NULL;
    f = open_memstream(&buf, &len);
    cr_assert_eq(mt_table_print_rows(t, 2, 5, f, &err), MT_OK);
    cr_assert_eq(mt_table_print_rows(t, 7, 5, f, &err), MT_OK);
    fclose(f);
    cr_assert_eq(strncmp(buf, "{'f': 1e+16,", 12), 0);
    cr_assert_eq(strchr(buf, '\n'), buf + strlen(buf) - 1);
    free(buf);
    cr_assert_eq(mt_table_print_rows(t, -1, 5, stdout, &err), MT_EINVAL);
    mt_table_release(t);
    mt_type_release(schema);
    for (int i = 0; i < 9; i++) {
        mt_array_release(cols[i]);
        mt_type_release(types[i]);
    }
}

static mt_array *finish_col(mt_array_builder *b)
{
    mt_array *a = NULL;
    cr_assert_eq(mt_array_builder_finish(b, &a, NULL), MT_OK);
    mt_array_builder_destroy(b);
    return a;
}

/* All rows of the table (schema, cols) as mt_table_print_rows writes them (malloc'ed). */
static char *print_all(mt_type *schema, mt_array **cols, int64_t rows)
{
    mt_table *t = NULL;
    mt_error err;
    cr_assert_eq(mt_table_new(schema, cols, rows, &t, &err), MT_OK, "%s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(mt_table_print_rows(t, 0, rows, f, &err), MT_OK, "%s", err.msg);
    fclose(f);
    mt_table_release(t);
    return buf;
}

/* Lists print as Python lists, structs as dicts, maps as lists of (key, value) tuples. */
Test(print, nested_rows)
{
    mt_type *i32 = mt_type_new(MT_TYPE_INT32), *s = mt_type_new(MT_TYPE_UTF8);
    mt_array_builder *b = mt_array_builder_new(i32);
    mt_array_builder_append_int(b, 1, NULL);
    mt_array_builder_append_null(b, NULL);
    mt_array_builder_append_int(b, 3, NULL);
    mt_array *items = finish_col(b);
    b = mt_array_builder_new(s);
    mt_array_builder_append_bytes(b, "a", 1, NULL);
    mt_array_builder_append_bytes(b, "b", 1, NULL);
    mt_array_builder_append_bytes(b, "c", 1, NULL);
    mt_array *keys = finish_col(b);
    int32_t o[] = {0, 2, 3};
    mt_buffer *off = mt_buffer_new(sizeof o);
    memcpy(off->data, o, sizeof o);
    mt_buffer *lbufs[] = {NULL, off}, *none[] = {NULL};

    mt_type *lt = mt_type_list(i32, true, NULL);
    const char *fnames[] = {"k", "n"};
    mt_type *ft[] = {s, i32};
    mt_type *st = mt_type_struct(2, fnames, ft, NULL);
    mt_type *mt = mt_type_map(s, i32, true);
    mt_array *kids[] = {keys, items};
    mt_array *entries = mt_array_new(mt->fields[0].type, 3, 0, 0, none, 1, kids, 2);
    mt_array *cols[] = {mt_array_new(lt, 2, 0, 0, lbufs, 2, &items, 1),
                        mt_array_new(st, 2, 0, 0, none, 1, kids, 2),
                        mt_array_new(mt, 2, 0, 0, lbufs, 2, &entries, 1)};
    const char *names[] = {"xs", "st", "m"};
    mt_type *types[] = {lt, st, mt};
    mt_type *schema = mt_type_struct(3, names, types, NULL);
    char *buf = print_all(schema, cols, 2);
    cr_assert_str_eq(buf,
                     "{'xs': [1, None], 'st': {'k': 'a', 'n': 1}, 'm': [('a', 1), ('b', None)]}\n"
                     "{'xs': [3], 'st': {'k': 'b', 'n': None}, 'm': [('c', 3)]}\n");
    free(buf);
    for (int i = 0; i < 3; i++) mt_array_release(cols[i]);
    mt_array_release(entries);
    mt_array_release(items);
    mt_array_release(keys);
    mt_buffer_release(off);
    mt_type_release(schema);
    mt_type_release(lt);
    mt_type_release(st);
    mt_type_release(mt);
    mt_type_release(i32);
    mt_type_release(s);
}
