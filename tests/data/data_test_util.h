/*
 * data_test_util.h — the allocator leak check shared by the data tests: a
 * suite fixture that records the live allocation count before each test and
 * checks after it that the test freed everything (and clears any failure
 * injection it left armed); and small array constructors.
 *
 * Threads: Criterion runs each test in its own process, so the file-static
 * snapshot is private to one test. Include once per test file, then
 * declare suites as `TestSuite(name, .init = leak_check_setup,
 * .fini = leak_check_teardown);`.
 */
#ifndef MT_TESTS_DATA_TEST_UTIL_H
#define MT_TESTS_DATA_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "manta/data.h"

static mt_alloc_stats leak_check_before;

static inline void leak_check_setup(void) { mt_alloc_get_stats(&leak_check_before); }

/*
 * Criterion 2.4 ignores assertion failures (and exits) inside a .fini
 * fixture: the test still counts as passed. Only the runner's exit status
 * changes when a fixture dies, so a leak aborts; ctest then reports it.
 */
static inline void leak_check_teardown(void)
{
    mt_alloc_fail_after(0, false);
    mt_alloc_stats after;
    mt_alloc_get_stats(&after);
    if (after.live_allocations == leak_check_before.live_allocations) return;
    cr_log_error("leaked %lld allocations",
                 (long long)(after.live_allocations - leak_check_before.live_allocations));
    abort();
}

/* Finishes builder b into a new array (asserting success) and destroys b. */
static inline mt_array *dt_finish(mt_array_builder *b)
{
    mt_array *a = NULL;
    mt_error err;
    cr_assert_eq(mt_array_builder_finish(b, &a, &err), MT_OK, "%s", err.msg);
    mt_array_builder_destroy(b);
    return a;
}

/* utf8 array of the C strings v[0..n); NULL entries are nulls. */
static inline mt_array *dt_strs(const char *const *v, int n)
{
    mt_error err;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_UTF8));
    for (int i = 0; i < n; i++) {
        if (!v[i])
            mt_array_builder_append_null(b, &err);
        else
            mt_array_builder_append_bytes(b, v[i], (int64_t)strlen(v[i]), &err);
    }
    return dt_finish(b);
}

#endif /* MT_TESTS_DATA_TEST_UTIL_H */
