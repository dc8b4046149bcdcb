/*
 * core/file.h — files that appear whole or not at all.
 *
 * An mt_atomic_file writes into a fresh temporary file beside the target,
 * created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, random name), so a planted
 * file or symlink is never followed or overwritten; commit flushes, fsyncs,
 * renames over the target and fsyncs the directory. Abort (or a failed
 * commit) removes the temporary file; the target is untouched.
 *
 * Thread safety: one mt_atomic_file per thread; the functions are reentrant.
 */
#ifndef MANTA_CORE_FILE_H
#define MANTA_CORE_FILE_H

#include <stdio.h>
#include <sys/types.h>

#include "manta/base.h"

typedef struct mt_atomic_file {
    FILE *fp;   /* buffered writer on the temporary file */
    char *path; /* the target */
    char *tmp;  /* the temporary file, "<path>.tmp-<random>" */
} mt_atomic_file;

/* Creates the temporary file for `path` with permission bits `mode` (before umask). */
mt_status mt_atomic_file_open(mt_atomic_file *af, const char *path, mode_t mode, mt_error *err);
/* Flushes, fsyncs and renames into place; on failure the temporary file is removed. */
mt_status mt_atomic_file_commit(mt_atomic_file *af, mt_error *err);
/* Closes and removes the temporary file (no-op on a committed or zeroed file). */
void mt_atomic_file_abort(mt_atomic_file *af);

/* Writes `len` bytes to `path` through an mt_atomic_file. */
mt_status mt_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                               mt_error *err);

#endif
