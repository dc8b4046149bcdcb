/*
 * spill.c — spill files: an object's bytes as one whole file
 * spill_dir/<40 hex digits of its id>. Spilling writes the in-arena bytes
 * out and frees the arena block; restoring reads them back into a fresh
 * block and removes the file; objects too big for the arena are created
 * directly as a file of their size that the creator writes (through a
 * read-write mapping) and that readers map read-only.
 *
 * Threads: the store's thread, except mt_store_spill_write (any thread: it
 * only writes a file from pinned arena bytes). The synchronous forms (a
 * store without spill_async) do their file I/O on the store's thread.
 * Invariant: e->path is set iff e->on_disk; the file holds e->size bytes once sealed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

static char *spill_path(const mt_store *s, mt_id id)
{
    char hex[2 * MT_ID_SIZE + 1];
    mt_id_hex(id, hex);
    size_t n = strlen(s->spill_dir) + 2 + sizeof(hex);
    char *p = mt_malloc(n);
    if (p) snprintf(p, n, "%s/%s", s->spill_dir, hex);
    return p;
}

static mt_status write_all(int fd, const uint8_t *p, int64_t n, const char *path, mt_error *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n > (1 << 30) ? (1 << 30) : (size_t)n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return mt_error_set_errno(err, MT_EIO, w < 0 ? errno : ENOSPC, "writing %s", path);
        p += w;
        n -= w;
    }
    return MT_OK;
}

/* Writes `size` bytes to a new file `path`; on failure nothing is left there. */
static mt_status write_file(const char *path, const uint8_t *src, int64_t size, mt_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "creating %s", path);
    /* Reserve the blocks first: a full disk is MT_ENOSPC before any byte moves. */
    int fe = size > 0 ? posix_fallocate(fd, 0, (off_t)size) : 0;
    mt_status st = MT_OK;
    if (fe != 0 && fe != EOPNOTSUPP && fe != EINVAL)
        st = mt_error_set_errno(err, fe == ENOSPC ? MT_ENOSPC : MT_EIO, fe, "spilling %lld bytes to %s",
                                (long long)size, path);
    if (st == MT_OK) st = write_all(fd, src, size, path, err);
    if (close(fd) != 0 && st == MT_OK) st = mt_error_set_errno(err, MT_EIO, errno, "closing %s", path);
    if (st != MT_OK) unlink(path);
    return st;
}

/* The object's arena block is no longer needed: its bytes are in `path` (taken over). */
static void spilled(mt_store *s, mt__store_entry *e, char *path)
{
    mt__store_lru_remove(e);
    mt__store_free_block(s, e);
    e->path = path;
    e->on_disk = true;
    s->stats.spilled_objects++;
    s->stats.spilled_bytes += e->size;
}

mt_status mt__store_spill(mt_store *s, mt__store_entry *e, mt_error *err)
{
    char *path = spill_path(s, e->id);
    if (!path) return mt_error_set(err, MT_ENOMEM, "object store: spill path");
    mt_status st = write_file(path, s->base + e->block->off, e->size, err);
    if (st != MT_OK) {
        mt_free(path);
        return st;
    }
    spilled(s, e, path);
    return MT_OK;
}

bool mt_store_spill_begin(mt_store *s, mt_store_spill_job *job)
{
    mt__store_entry *e = s->spill_dir ? s->primary.head : NULL;
    char *path = e ? spill_path(s, e->id) : NULL;
    if (!path) return false;
    mt__store_lru_remove(e);
    if (e->pins++ == 0) s->num_pinned++;
    e->spilling = true;
    s->spilling_bytes += e->block->size;
    *job = (mt_store_spill_job){.id = e->id, .src = s->base + e->block->off, .size = e->size, .path = path};
    return true;
}

void mt_store_spill_write(mt_store_spill_job *job)
{
    job->st = write_file(job->path, job->src, job->size, &job->err);
}

int64_t mt_store_spill_finish(mt_store *s, mt_store_spill_job *job)
{
    mt__store_entry *e = mt__store_table_find(&s->table, job->id);
    int64_t freed = 0;
    if (e && e->spilling) {
        e->spilling = false;
        s->spilling_bytes -= e->block->size;
        /* Read meanwhile (a reader holds its arena offset) or deleted: keep it in memory. */
        if (job->st == MT_OK && e->pins == 1 && !e->deleted) {
            freed = e->block->size;
            spilled(s, e, job->path);
            job->path = NULL;
        }
    }
    if (job->path) {
        if (job->st == MT_OK) unlink(job->path);
        mt_free(job->path);
        job->path = NULL;
    }
    if (e) mt__store_unpin(s, e);
    return freed;
}

int64_t mt_store_spill_pressure(const mt_store *s) { return s->alloc.used - s->spilling_bytes; }

static mt_status read_all(int fd, uint8_t *p, int64_t n, const char *path, mt_error *err)
{
    int64_t want = n, off = 0;
    while (off < want) {
        ssize_t r = pread(fd, p + off, (size_t)(want - off > (1 << 30) ? (1 << 30) : want - off), off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return mt_error_set_errno(err, MT_EIO, errno, "reading %s", path);
        if (r == 0)
            return mt_error_set(err, MT_ECORRUPT, "spill file %s: holds %lld of %lld bytes", path,
                                (long long)off, (long long)want);
        off += r;
    }
    return MT_OK;
}

mt_status mt__store_restore(mt_store *s, mt__store_entry *e, mt__store_block *b, mt_error *err)
{
    int fd = open(e->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "opening %s", e->path);
    mt_status st = read_all(fd, s->base + b->off, e->size, e->path, err);
    close(fd);
    if (st != MT_OK) return st;
    mt__store_disk_remove(e);
    e->block = b;
    s->stats.restored_objects++;
    return MT_OK;
}

mt_status mt__store_disk_create(mt_store *s, mt__store_entry *e, mt_error *err)
{
    char *path = spill_path(s, e->id);
    if (!path) return mt_error_set(err, MT_ENOMEM, "object store: spill path");
    /* The file is mapped and written through the mapping: its blocks are
     * allocated up front (posix_fallocate), so a full disk is MT_ENOSPC here
     * and never SIGBUS later. ftruncate only where the file system cannot
     * allocate (then the size is still right). */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int fe = fd < 0 ? errno : e->size > 0 ? posix_fallocate(fd, 0, (off_t)e->size) : 0;
    if (fd >= 0 && (fe == EOPNOTSUPP || fe == EINVAL)) fe = ftruncate(fd, (off_t)e->size) ? errno : 0;
    if (fd < 0 || fe != 0) {
        mt_status st = mt_error_set_errno(err, fe == ENOSPC ? MT_ENOSPC : MT_EIO, fe,
                                          "creating %s of %lld bytes", path, (long long)e->size);
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        mt_free(path);
        return st;
    }
    e->path = path;
    e->disk_fd = fd;
    e->on_disk = true;
    return MT_OK;
}

void mt__store_disk_remove(mt__store_entry *e)
{
    if (e->disk_fd >= 0) close(e->disk_fd);
    e->disk_fd = -1;
    if (e->path) unlink(e->path);
    mt_free(e->path);
    e->path = NULL;
    e->on_disk = false;
}
