/*
 * arena.c — the shared-memory arena: one memfd (MFD_CLOEXEC) sized with
 * ftruncate and mapped once, read-write and shared, in the node daemon.
 * Pages are faulted lazily on first write (no MAP_POPULATE, no fallocate):
 * the default arena is 30% of RAM and most of it is never touched; freed
 * blocks keep their pages (refaulting costs more than the copy) until
 * mt_store_trim punches holes in them.
 *
 * Threads: the node daemon's loop thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store/store_int.h"

int64_t mt__store_default_capacity(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    int64_t ram = (pages > 0 && page > 0) ? (int64_t)pages * page : (int64_t)1 << 30;
    int64_t cap = ram / 10 * 3;
    struct statvfs vfs;
    if (statvfs("/dev/shm", &vfs) == 0) {
        int64_t shm = (int64_t)vfs.f_bsize * (int64_t)vfs.f_blocks;
        if (shm > 0 && shm < cap) cap = shm;
    }
    return cap / MT__STORE_ALIGN * MT__STORE_ALIGN;
}

mt_status mt__store_arena_open(const char *name, int64_t capacity, int *fd_out,
                               uint8_t **base_out, mt_error *err)
{
    int fd = memfd_create(name ? name : "manta-store", MFD_CLOEXEC);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "object store: memfd_create");
    if (ftruncate(fd, (off_t)capacity) != 0) {
        int e = errno;
        close(fd);
        return mt_error_set_errno(err, MT_ENOMEM, e, "object store: sizing the arena to %lld bytes",
                                  (long long)capacity);
    }
    void *base = mmap(NULL, (size_t)capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        close(fd);
        return mt_error_set_errno(err, MT_ENOMEM, e, "object store: mapping %lld bytes",
                                  (long long)capacity);
    }
    /* Huge pages where shmem THP is "advise": 512x fewer first-touch faults. */
    (void)madvise(base, (size_t)capacity, MADV_HUGEPAGE);
    *fd_out = fd;
    *base_out = base;
    return MT_OK;
}

void mt__store_arena_close(int fd, uint8_t *base, int64_t capacity)
{
    if (base) munmap(base, (size_t)capacity);
    if (fd >= 0) close(fd);
}

void mt__store_arena_punch(int fd, uint8_t *base, int64_t off, int64_t size)
{
    int64_t page = sysconf(_SC_PAGESIZE);
    int64_t lo = (off + page - 1) / page * page, hi = (off + size) / page * page;
    if (hi <= lo) return;
    /* Frees the memfd pages themselves; every process's mapping sees zeros after. */
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, lo, hi - lo) != 0)
        (void)madvise(base + lo, (size_t)(hi - lo), MADV_REMOVE);
}
