/*
 * client_map.c — client-side mappings of the object store: the arena memfd
 * (read-write, shared: producers write new objects in place, readers read
 * zero-copy) and spill files of ON_DISK objects (read-only for readers,
 * read-write for the creator of an object too big for the arena).
 *
 * Threads: any; no state. Every mapping belongs to the caller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_client.h"

/* What a zero-byte mapping points at: non-NULL, never dereferenced. */
static const uint8_t empty_object[1];

mt_status mt_store_map_create(int fd, int64_t capacity, int flags, uint8_t **base_out,
                              mt_error *err)
{
    *base_out = NULL;
    if (fd < 0 || capacity <= 0)
        return mt_error_set(err, MT_EINVAL, "mapping the object store: bad fd %d or capacity %lld",
                            fd, (long long)capacity);
    int mflags = MAP_SHARED | ((flags & MT_STORE_MAP_POPULATE) ? MAP_POPULATE : 0);
    void *p = mmap(NULL, (size_t)capacity, PROT_READ | PROT_WRITE, mflags, fd, 0);
    if (p == MAP_FAILED)
        return mt_error_set_errno(err, MT_EIO, errno, "mapping the object store (%lld bytes)",
                                  (long long)capacity);
    (void)madvise(p, (size_t)capacity, MADV_HUGEPAGE); /* where shmem THP is "advise" */
    *base_out = p;
    return MT_OK;
}

void mt_store_map_destroy(uint8_t *base, int64_t capacity)
{
    if (base && capacity > 0) munmap(base, (size_t)capacity);
}

static mt_status map_file(const char *path, int64_t size, bool rw, void **out, mt_error *err)
{
    *out = NULL;
    if (size < 0) return mt_error_set(err, MT_EINVAL, "mapping %s: negative size", path);
    int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "opening %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < size) {
        long long have = (long long)st.st_size;
        close(fd);
        return mt_error_set(err, MT_ECORRUPT, "spill file %s: holds %lld of %lld bytes", path,
                            have, (long long)size);
    }
    if (size == 0) {
        close(fd);
        *out = (void *)empty_object;
        return MT_OK;
    }
    void *p = mmap(NULL, (size_t)size, PROT_READ | (rw ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file */
    if (p == MAP_FAILED) return mt_error_set_errno(err, MT_EIO, e, "mapping %s", path);
    *out = p;
    return MT_OK;
}

mt_status mt_store_map_file(const char *path, int64_t size, const uint8_t **base_out,
                            mt_error *err)
{
    void *p;
    mt_status st = map_file(path, size, false, &p, err);
    *base_out = p;
    return st;
}

mt_status mt_store_map_file_rw(const char *path, int64_t size, uint8_t **base_out,
                               mt_error *err)
{
    void *p;
    mt_status st = map_file(path, size, true, &p, err);
    *base_out = p;
    return st;
}

void mt_store_unmap_file(const void *base, int64_t size)
{
    if (base && base != empty_object && size > 0) munmap((void *)base, (size_t)size);
}
