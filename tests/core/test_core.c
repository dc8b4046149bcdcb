/* Tests of the core module: status names, error context, allocator accounting
 * and failure injection, config overrides, ids. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manta/base.h"

Test(status, names_and_messages)
{
    cr_assert_str_eq(mt_status_name(MT_ECORRUPT), "MT_ECORRUPT");
    cr_assert_str_eq(mt_status_message(MT_ENOMEM), "out of memory");
    cr_assert_str_eq(mt_status_name((mt_status)999), "MT_UNKNOWN");
    cr_assert_eq(MT_OK, 0);
}

Test(error, set_and_prefix)
{
    mt_error err;
    mt_error_clear(&err);
    cr_assert_eq(mt_error_set(&err, MT_ECORRUPT, "bad page header at %d", 42), MT_ECORRUPT);
    mt_error_prefix(&err, "reading %s", "taxi.parquet");
    cr_assert_str_eq(err.msg, "reading taxi.parquet: bad page header at 42");
    cr_assert_eq(err.code, MT_ECORRUPT);
    cr_assert_eq(mt_error_set(NULL, MT_EIO, "x"), MT_EIO);
    mt_error_set(&err, MT_EIO, "line\nbreak");
    cr_assert_null(strchr(err.msg, '\n'));
}

Test(alloc, accounting_and_alignment)
{
    mt_alloc_stats before, mid, after;
    mt_alloc_get_stats(&before);
    void *p = mt_malloc(100);
    char *s = mt_strdup("hello");
    void *q = mt_malloc_aligned(1000);
    cr_assert_eq((uintptr_t)p % 64, 0);
    cr_assert_eq((uintptr_t)q % 64, 0);
    mt_alloc_get_stats(&mid);
    cr_assert_eq(mid.live_allocations - before.live_allocations, 3);
    cr_assert_eq(mid.live_bytes - before.live_bytes, 100 + 6 + 1000);
    p = mt_realloc(p, 5000);
    memset(p, 1, 5000);
    mt_free(p);
    mt_free(s);
    mt_free_aligned(q);
    mt_free(NULL);
    mt_alloc_get_stats(&after);
    cr_assert_eq(after.live_allocations, before.live_allocations);
    cr_assert_eq(after.live_bytes, before.live_bytes);
    cr_assert_null(mt_malloc(SIZE_MAX - 10));
    cr_assert_null(mt_calloc(SIZE_MAX / 2, 4));
}

Test(alloc, failure_injection)
{
    mt_alloc_fail_after(2, false);
    void *a = mt_malloc(8);
    void *b = mt_malloc(8);
    void *c = mt_malloc(8);
    cr_assert_not_null(a);
    cr_assert_null(b);
    cr_assert_not_null(c);
    mt_free(a);
    mt_free(c);
    mt_alloc_fail_after(1, true);
    cr_assert_null(mt_malloc(1));
    cr_assert_null(mt_malloc(1));
    mt_alloc_fail_after(0, false);
    void *d = mt_malloc(1);
    cr_assert_not_null(d);
    mt_free(d);
}

Test(config, defaults_env_and_set)
{
    cr_assert_eq(mt_config_int64("parquet_row_group_rows"), 1048576);
    setenv("MANTA_CSV_INFER_ROWS", "77", 1);
    mt_error err;
    cr_assert_eq(mt_config_load(&err), MT_OK);
    cr_assert_eq(mt_config_int64("csv_infer_rows"), 77);
    cr_assert_eq(mt_config_set("parquet_verify_crc", "false", &err), MT_OK);
    cr_assert_eq(mt_config_bool("parquet_verify_crc"), false);
    cr_assert_eq(mt_config_set("no_such_knob", "1", &err), MT_ENOTFOUND);
    cr_assert_eq(mt_config_set("csv_infer_rows", "abc", &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "config csv_infer_rows: 'abc' is not an integer");
    setenv("MANTA_CSV_BLOCK_ROWS", "lots", 1);
    cr_assert_eq(mt_config_load(&err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "environment MANTA_CSV_BLOCK_ROWS: config csv_block_rows: 'lots' is not an integer");
    unsetenv("MANTA_CSV_BLOCK_ROWS");
    cr_assert_str_eq(mt_config_string("temp_dir"), "");
}

/* Config strings and function registrations live until exit: they are the
 * allocator's permanent blocks, never live ones a leak check would count. */
Test(alloc, config_strings_and_registrations_are_permanent_blocks)
{
    mt_alloc_stats before, after;
    (void)mt_config_string("spill_dir"); /* defaults filled in */
    mt_alloc_get_stats(&before);
    mt_error err;
    cr_assert_eq(mt_config_set("spill_dir", "/nowhere/in/particular", &err), MT_OK);
    cr_assert_eq(mt_config_set("spill_dir", "/somewhere/else", &err), MT_OK);
    mt_alloc_get_stats(&after);
    cr_assert_eq(after.live_allocations, before.live_allocations);
    cr_assert_eq(after.live_bytes, before.live_bytes);
    cr_assert_eq(after.permanent_allocations, before.permanent_allocations); /* each replaced string is freed */
    cr_assert_gt(after.permanent_bytes, before.permanent_bytes);
    cr_assert_str_eq(mt_config_string("spill_dir"), "/somewhere/else");
    cr_assert_eq(mt_config_set("spill_dir", "", &err), MT_OK);
}

Test(config, bounds_are_checked_and_keep_the_old_value)
{
    mt_error err;
    cr_assert_eq(mt_config_set("max_tasks_in_flight_per_worker", "0", &err), MT_ERANGE);
    cr_assert_str_eq(err.msg, "config max_tasks_in_flight_per_worker: 0 is outside 1..256");
    cr_assert_eq(mt_config_int64("max_tasks_in_flight_per_worker"), 256);
    cr_assert_eq(mt_config_set("object_spilling_threshold", "1.5", &err), MT_ERANGE);
    cr_assert_str_eq(err.msg, "config object_spilling_threshold: 1.5 is outside 0..1");
    cr_assert_eq(mt_config_set("object_spilling_threshold", "0.5", &err), MT_OK);
    cr_assert_float_eq(mt_config_double("object_spilling_threshold"), 0.5, 1e-12);
    setenv("MANTA_GCS_PORT", "70000", 1);
    cr_assert_eq(mt_config_load(&err), MT_ERANGE);
    cr_assert_str_eq(err.msg, "environment MANTA_GCS_PORT: config gcs_port: 70000 is outside 1..65535");
    unsetenv("MANTA_GCS_PORT");
    cr_assert_eq(mt_config_int64("gcs_port"), 6379);
}

Test(id, random_hex_roundtrip)
{
    mt_id a = mt_id_random(), b = mt_id_random(), c;
    cr_assert_not(mt_id_equal(a, b));
    cr_assert(mt_id_is_nil(mt_id_nil()));
    char hex[2 * MT_ID_SIZE + 1];
    mt_id_hex(a, hex);
    cr_assert_eq(strlen(hex), 40);
    mt_error err;
    cr_assert_eq(mt_id_from_hex(hex, &c, &err), MT_OK);
    cr_assert(mt_id_equal(a, c));
    cr_assert_eq(mt_id_from_hex("zz", &c, &err), MT_EINVAL);
}

static void log_burst(int n)
{
    for (int i = 0; i < n; i++) MT_LOG(MT_LOG_ERROR, "TEST-BURST", "line %d", i);
}

Test(log, repeats_from_one_site_are_rate_limited)
{
    char path[256];
    snprintf(path, sizeof path, "%s/log-burst-%d.log", MT_BINARY_DIR, (int)getpid());
    unlink(path);
    mt_error err;
    cr_assert_eq(mt_log_open(path, &err), MT_OK, "%s", err.msg);
    /* start at the beginning of a second so the burst stays in one window */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    usleep((useconds_t)((1000000000 - ts.tv_nsec) / 1000 + 1000));
    log_burst(1000);
    clock_gettime(CLOCK_REALTIME, &ts);
    usleep((useconds_t)((1000000000 - ts.tv_nsec) / 1000 + 1000));
    log_burst(1);
    mt_log_open(NULL, NULL);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[1200];
    int lines = 0;
    bool noted = false;
    while (fgets(line, sizeof line, f)) {
        lines++;
        if (strstr(line, "line 0 (990 similar lines dropped)")) noted = true;
    }
    fclose(f);
    unlink(path);
    cr_assert_eq(lines, 11, "10 lines of the burst and the one after it, got %d", lines);
    cr_assert(noted, "the line after the burst says how many were dropped");
}

Test(escape, control_characters_are_shown_not_sent)
{
    char out[128];
    cr_assert_eq(mt_escape_controls("plain é name", out, sizeof out), strlen("plain é name"));
    cr_assert_str_eq(out, "plain é name");
    mt_escape_controls("a\x1b[2Jb\n\t\x7f\xc2\x9b!", out, sizeof out);
    cr_assert_str_eq(out, "a\\x1b[2Jb\\n\\t\\x7f\\u009b!");
    mt_escape_controls("\x01\x02\x03", out, 9); /* truncated at a whole escape */
    cr_assert_str_eq(out, "\\x01\\x02");
    mt_error err;
    mt_error_set(&err, MT_EINVAL, "no column '%s'", "x\x1b]0;pwned\x07");
    cr_assert_str_eq(err.msg, "no column 'x\\x1b]0;pwned\\x07'");
}
