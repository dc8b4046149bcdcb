/* libFuzzer target: mt_csv_read_memory on arbitrary bytes, with inference and
 * with an explicit schema, then every output path (JSON, Python repr, CSV)
 * over the result. Must never crash, hang or leak. */
#include <stdint.h>
#include <stdio.h>

#include "manta/data.h"

static void exercise(const mt_table *t)
{
    FILE *null_out = fopen("/dev/null", "w");
    if (!null_out) return;
    mt_table_write_jsonl(t, null_out, NULL);
    mt_table_print_rows(t, 0, 1000, null_out, NULL);
    mt_csv_write_stream(null_out, t, NULL, NULL);
    fclose(null_out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_table *t = NULL;
    mt_csv_read_options o = {.infer_rows = 2};
    if (size > 0 && data[0] == ';') o.delimiter = ';';
    if (mt_csv_read_memory("fuzz.csv", (const char *)data, size, &o, &t, NULL) == MT_OK) {
        exercise(t);
        mt_table_release(t);
    }
    mt_type *types[] = {mt_type_new(MT_TYPE_INT8), mt_type_decimal128(10, 3),
                        mt_type_timestamp(MT_UNIT_NANO, "UTC"), mt_type_fixed_binary(2)};
    const char *names[] = {"a", "b", "c", "d"};
    mt_type *s = mt_type_struct(4, names, types, NULL);
    mt_csv_read_options so = {.schema = s, .no_header = size > 1 && data[1] == '#'};
    t = NULL;
    if (mt_csv_read_memory("fuzz.csv", (const char *)data, size, &so, &t, NULL) == MT_OK) {
        exercise(t);
        mt_table_release(t);
    }
    mt_type_release(s);
    for (int i = 0; i < 4; i++) mt_type_release(types[i]);
    return 0;
}
