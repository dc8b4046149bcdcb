/*
 * file.c — whole-or-nothing files (core/file.h). Any thread.
 */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void atomic_reset(mt_atomic_file *af)
{
    mt_free(af->path);
    mt_free(af->tmp);
    memset(af, 0, sizeof *af);
}

mt_status mt_atomic_file_open(mt_atomic_file *af, const char *path, mode_t mode, mt_error *err)
{
    memset(af, 0, sizeof *af);
    size_t cap = strlen(path) + 48;
    af->path = mt_strdup(path);
    af->tmp = mt_malloc(cap);
    if (!af->path || !af->tmp) {
        atomic_reset(af);
        return mt_error_set(err, MT_ENOMEM, "%s: out of memory", path);
    }
    /* A random name nobody can plant in advance; O_EXCL|O_NOFOLLOW refuse
     * anything already there, symlinks included. */
    int fd = -1, e = 0;
    for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
        mt_id r = mt_id_random();
        snprintf(af->tmp, cap, "%s.tmp-%02x%02x%02x%02x%02x%02x", path, r.bytes[0], r.bytes[1],
                 r.bytes[2], r.bytes[3], r.bytes[4], r.bytes[5]);
        fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        e = errno;
        if (fd < 0 && e != EEXIST) break;
    }
    if (fd < 0) {
        mt_status st = mt_error_set_errno(err, MT_EIO, e, "cannot create a temporary file for %s", path);
        atomic_reset(af);
        return st;
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        e = errno;
        close(fd);
        unlink(af->tmp);
        atomic_reset(af);
        return mt_error_set_errno(err, MT_ENOMEM, e, "%s: out of memory", path);
    }
    return MT_OK;
}

/* fsyncs the folder holding `path` so the rename itself is durable. */
static void sync_parent(const char *path)
{
    char *copy = mt_strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    mt_free(copy);
}

mt_status mt_atomic_file_commit(mt_atomic_file *af, mt_error *err)
{
    if (!af->fp) return mt_error_set(err, MT_ESTATE, "%s: file already closed", af->path ? af->path : "?");
    int e = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) e = errno ? errno : EIO;
    if (!e && fsync(fileno(af->fp)) != 0) e = errno;
    if (fclose(af->fp) != 0 && !e) e = errno;
    af->fp = NULL;
    if (!e && rename(af->tmp, af->path) != 0) e = errno;
    mt_status st = MT_OK;
    if (e) {
        unlink(af->tmp);
        st = mt_error_set_errno(err, e == ENOSPC ? MT_ENOSPC : MT_EIO, e, "writing %s", af->path);
    } else {
        sync_parent(af->path);
    }
    atomic_reset(af);
    return st;
}

void mt_atomic_file_abort(mt_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
        unlink(af->tmp);
    }
    atomic_reset(af);
}

mt_status mt_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                               mt_error *err)
{
    mt_atomic_file af;
    MT_RETURN_NOT_OK(mt_atomic_file_open(&af, path, mode, err));
    if (len && fwrite(data, 1, len, af.fp) != len) {
        int e = errno;
        mt_atomic_file_abort(&af);
        return mt_error_set_errno(err, MT_EIO, e, "writing %s", path);
    }
    return mt_atomic_file_commit(&af, err);
}
