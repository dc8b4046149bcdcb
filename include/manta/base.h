/*
 * manta/base.h — the foundation every Manta module builds on: status codes and
 * the error model, the accounted allocator, logging, the configuration table
 * and fixed-size ids.
 *
 * Thread safety: every function here may be called from any thread.
 */
#ifndef MANTA_BASE_H
#define MANTA_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MT_BUILDING_LIBRARY)
#define MT_API __attribute__((visibility("default")))
#else
#define MT_API
#endif

#define MT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- Status codes ------------------------------------------------------ */

/*
 * Every status, with its stable numeric value and default message. The values
 * cross the wire and appear in exit codes of tools, so they never change;
 * new codes are appended.
 */
#define MT_STATUS_LIST(X)                                                   \
    X(MT_OK, 0, "ok")                                                       \
    X(MT_EINVAL, 1, "invalid argument")                                     \
    X(MT_ENOMEM, 2, "out of memory")                                        \
    X(MT_EIO, 3, "I/O error")                                               \
    X(MT_ENOTFOUND, 4, "not found")                                         \
    X(MT_EEXIST, 5, "already exists")                                       \
    X(MT_ECORRUPT, 6, "corrupt data")                                       \
    X(MT_EUNSUPPORTED, 7, "not supported")                                  \
    X(MT_ETYPE, 8, "type mismatch")                                         \
    X(MT_ERANGE, 9, "value out of range")                                   \
    X(MT_EPARSE, 10, "parse error")                                         \
    X(MT_ETIMEOUT, 11, "timed out")                                         \
    X(MT_ECANCELLED, 12, "cancelled")                                       \
    X(MT_ECHECKSUM, 13, "checksum mismatch")                                \
    X(MT_ESTATE, 14, "invalid state")                                       \
    X(MT_EINTERNAL, 15, "internal error")                                 \
    X(MT_ENOSPC, 16, "no space left")                                    \
    X(MT_EPERM, 17, "permission denied")

typedef enum mt_status {
#define MT__STATUS_ENUM(name, value, msg) name = value,
    MT_STATUS_LIST(MT__STATUS_ENUM)
#undef MT__STATUS_ENUM
} mt_status;

/* Returns the constant name of a status ("MT_ECORRUPT"); "MT_UNKNOWN" otherwise. */
MT_API const char *mt_status_name(mt_status st);
/* Returns the default one-line message of a status ("corrupt data"). */
MT_API const char *mt_status_message(mt_status st);

/*
 * Copies `s` into out (cap bytes, always terminated), writing control
 * characters (C0, DEL, C1) as \n, \r, \t, \xNN or \u00NN so that text from
 * files (column names, metadata) cannot drive a terminal. Returns the length
 * written (truncated to fit). Error messages are escaped this way already.
 */
MT_API size_t mt_escape_controls(const char *s, char *out, size_t cap);
/* Writes `s` to the stdio stream `fp` escaped as by mt_escape_controls (no truncation). */
MT_API void mt_fputs_escaped(const char *s, void *fp);

/* ---- Errors ------------------------------------------------------------ */

#define MT_ERROR_MSG_MAX 512

/*
 * Detail for a failed call. Passed last to fallible functions; NULL allowed.
 * `msg` is one line without a trailing newline, outermost context first
 * ("reading taxi.parquet: row group 3: bad page header").
 */
typedef struct mt_error {
    mt_status code;
    int sys_errno;
    char msg[MT_ERROR_MSG_MAX];
} mt_error;

/* Clears `err` to MT_OK with an empty message. NULL is allowed. */
MT_API void mt_error_clear(mt_error *err);

/*
 * Sets `err` (if not NULL) to `code` with a formatted message and returns
 * `code`, so that `return mt_error_set(err, MT_EINVAL, "...")` reads well.
 */
MT_API mt_status mt_error_set(mt_error *err, mt_status code, const char *fmt, ...) MT_PRINTF(3, 4);

/* As mt_error_set, also recording errno `sys_errno` and appending strerror. */
MT_API mt_status mt_error_set_errno(mt_error *err, mt_status code, int sys_errno,
                                    const char *fmt, ...) MT_PRINTF(4, 5);

/*
 * Prefixes context to an error already set: "context: previous message".
 * Returns err->code (or MT_OK for a NULL err, so callers must keep their own
 * status when err may be NULL).
 */
MT_API mt_status mt_error_prefix(mt_error *err, const char *fmt, ...) MT_PRINTF(2, 3);

/* Returns from the enclosing function when `expr` yields a status != MT_OK. */
#define MT_RETURN_NOT_OK(expr)                                              \
    do {                                                                    \
        mt_status mt__st = (expr);                                          \
        if (mt__st != MT_OK) return mt__st;                                 \
    } while (0)

/* ---- Accounted allocator ----------------------------------------------- */

/*
 * All Manta allocations go through these. They count live allocations and
 * bytes (so tests can assert there are no leaks) and can be told to fail
 * (so tests can inject out-of-memory). They return NULL on failure; sizes
 * that overflow also return NULL.
 */
MT_API void *mt_malloc(size_t size);
MT_API void *mt_calloc(size_t n, size_t size);
MT_API void *mt_realloc(void *ptr, size_t size);
MT_API void mt_free(void *ptr);
MT_API char *mt_strdup(const char *s);
MT_API char *mt_strndup(const char *s, size_t n);
/* 64-byte aligned allocation (Arrow buffers); free with mt_free_aligned. */
MT_API void *mt_malloc_aligned(size_t size);
MT_API void *mt_realloc_aligned(void *ptr, size_t old_size, size_t new_size);
MT_API void mt_free_aligned(void *ptr);

typedef struct mt_alloc_stats {
    int64_t live_allocations; /* currently allocated blocks */
    int64_t live_bytes;       /* currently allocated bytes */
    int64_t peak_bytes;       /* high-water mark of live_bytes */
    int64_t total_allocations;
    /* Blocks meant to live until exit (function registry, configuration
     * strings), not included in live_*: */
    int64_t permanent_allocations;
    int64_t permanent_bytes;
} mt_alloc_stats;

MT_API void mt_alloc_get_stats(mt_alloc_stats *out);
/*
 * Makes allocation number `nth` from now (1 = the next one) and, if `sticky`,
 * every later one fail. 0 disables injection. For tests.
 */
MT_API void mt_alloc_fail_after(int64_t nth, bool sticky);

/* ---- Logging ----------------------------------------------------------- */

typedef enum mt_log_level {
    MT_LOG_DEBUG = 0,
    MT_LOG_INFO = 1,
    MT_LOG_WARN = 2,
    MT_LOG_ERROR = 3,
    MT_LOG_OFF = 4,
} mt_log_level;

MT_API extern int mt__log_threshold;
MT_API void mt__log_write(mt_log_level level, const char *event, const char *file, int line,
                          const char *fmt, ...) MT_PRINTF(5, 6);
/* Sends log lines to `path` (appending), or to stderr when NULL. */
MT_API mt_status mt_log_open(const char *path, mt_error *err);
MT_API void mt_log_set_level(mt_log_level level);

/*
 * MT_LOG(MT_LOG_INFO, "STORE-EVICT", "freed %zu bytes", n): the level is
 * checked before any argument is evaluated. Event ids are short and stable.
 */
#define MT_LOG(level, event, ...)                                           \
    do {                                                                    \
        if ((int)(level) >= mt__log_threshold)                              \
            mt__log_write((level), (event), __FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

/* ---- Configuration ----------------------------------------------------- */

/*
 * Every tunable lives in src/core/config_table.h as
 * MT_CONFIG(type, name, default, doc). Each is overridable by the environment
 * variable MANTA_<NAME> (upper case) read once by mt_config_load(), and by
 * mt_config_set() (flags). Types: int64, double, bool, string.
 */
typedef enum mt_config_type {
    MT_CONFIG_INT64,
    MT_CONFIG_DOUBLE,
    MT_CONFIG_BOOL,
    MT_CONFIG_STRING,
} mt_config_type;

/* Loads MANTA_* overrides from the environment; idempotent. */
MT_API mt_status mt_config_load(mt_error *err);
/* Sets a tunable by name from text ("row_group_rows", "131072"). */
MT_API mt_status mt_config_set(const char *name, const char *value, mt_error *err);
MT_API int64_t mt_config_int64(const char *name);
MT_API double mt_config_double(const char *name);
MT_API bool mt_config_bool(const char *name);
MT_API const char *mt_config_string(const char *name);
/* Writes "name = value  # doc" lines for every tunable to `fp` (a FILE *). */
MT_API void mt_config_dump(void *fp);

/* ---- Ids --------------------------------------------------------------- */

#define MT_ID_SIZE 20

/* A fixed-size unique id (objects, tasks, nodes, jobs), passed by value. */
typedef struct mt_id {
    uint8_t bytes[MT_ID_SIZE];
} mt_id;

/* Returns a random id from the OS entropy source. */
MT_API mt_id mt_id_random(void);
MT_API mt_id mt_id_nil(void);
MT_API bool mt_id_is_nil(mt_id id);
MT_API bool mt_id_equal(mt_id a, mt_id b);
/* Writes 2*MT_ID_SIZE lowercase hex digits and a NUL into `out` (41 bytes). */
MT_API void mt_id_hex(mt_id id, char out[2 * MT_ID_SIZE + 1]);
MT_API mt_status mt_id_from_hex(const char *hex, mt_id *out, mt_error *err);

/* ---- Time -------------------------------------------------------------- */

/* Monotonic clock in nanoseconds. */
MT_API int64_t mt_time_now_ns(void);

#ifdef __cplusplus
}
#endif
#endif /* MANTA_BASE_H */
