/*
 * worker_test_util.h — the fixture shared by the core-worker tests: each
 * test runs against its own embedded cluster (mt_init starts gcs-server and
 * node-daemon from MANTA_BIN) in a private temp dir that teardown removes.
 */
#ifndef MANTA_WORKER_TEST_UTIL_H
#define MANTA_WORKER_TEST_UTIL_H

#include <criterion/criterion.h>
#include <manta/core.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[256];

static inline void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
}

/* Starts an embedded 2-CPU cluster with a 64 MiB store; code_path may be NULL. */
static inline void start(const char *code_path)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mt-worker-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    mt_init_options o = {.temp_dir = tmpdir, .num_cpus = 2, .code_path = code_path,
                         .object_store_memory = 64 << 20};
    mt_error err;
    mt_status st = mt_init_ex(&o, &err);
    cr_assert_eq(st, MT_OK, "mt_init: %s", err.msg);
}

static inline void setup(void) { start(NULL); }
static inline void setup_user(void) { start(MT_BINARY_DIR "/tests/libmanta_test_userfns.so"); }

static inline void teardown(void)
{
    mt_shutdown();
    rm_rf(tmpdir);
}

/* Gets one int64 result, asserting success within 20 s. */
static inline int64_t get_i64(mt_ref *r)
{
    mt_value v;
    mt_error err;
    mt_status st = mt_get(&r, 1, 20000, &v, &err);
    cr_assert_eq(st, MT_OK, "mt_get: %s", err.msg);
    int64_t x = 0;
    cr_assert_eq(mt_value_i64(&v, &x, &err), MT_OK, "%s", err.msg);
    mt_value_release(&v);
    return x;
}

#endif
