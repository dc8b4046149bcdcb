/*
 * fuzz_parquet_reader.c — libFuzzer target for the whole Parquet read path:
 * opens the input as an in-memory file image, prints its metadata to a
 * null sink, reads every row group, and destroys everything. Any crash,
 * sanitizer report or leak (accounted allocator) is a finding.
 * Single-threaded; built only with -DMANTA_FUZZ=ON (clang).
 */
#include <stdio.h>
#include <stdlib.h>

#include "manta/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink) {
        sink = fopen("/dev/null", "w");
        /* Warm up lazily initialised globals so they do not count as leaks. */
        (void)mt_config_int64("parquet_max_page_bytes");
        (void)mt_config_bool("parquet_verify_crc");
    }
    mt_alloc_stats before, after;
    mt_alloc_get_stats(&before);
    mt_parquet_reader *r = NULL;
    mt_error err;
    if (mt_parquet_reader_open_memory("fuzz.parquet", data, size, NULL, &r, &err) == MT_OK) {
        if (sink) mt_parquet_reader_print_meta(r, sink, &err);
        int32_t n = mt_parquet_reader_num_row_groups(r);
        for (int32_t g = 0; g < n; g++) {
            mt_table *t = NULL;
            if (mt_parquet_reader_read_row_group(r, g, &t, &err) == MT_OK) mt_table_release(t);
        }
        mt_parquet_reader_destroy(r);
    }
    mt_alloc_get_stats(&after);
    if (after.live_allocations != before.live_allocations) abort(); /* leak */
    return 0;
}
