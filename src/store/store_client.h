/*
 * store_client.h — client side of the shared-memory object store: mapping
 * the arena memfd received from the node daemon (read-write, so producers
 * write new objects in place and readers read zero-copy) and mapping spill
 * files of objects that live ON_DISK (read-only for readers, read-write for
 * the creator of an object too big for the arena).
 *
 * Threads: any; these functions keep no state. A mapping is owned by the
 * caller and must be unmapped with the matching function.
 */
#ifndef MANTA_STORE_CLIENT_H
#define MANTA_STORE_CLIENT_H

#include <stdint.h>

#include "manta/base.h"

/* Flags for mt_store_map_create. */
#define MT_STORE_MAP_POPULATE 1 /* pre-fault the pages now (MAP_POPULATE) */

/*
 * Maps the arena memfd `fd` of `capacity` bytes read-write and shared.
 * The fd is not consumed (the caller may close it after mapping).
 * MT_EINVAL for a bad fd/capacity, MT_EIO when mmap fails.
 */
mt_status mt_store_map_create(int fd, int64_t capacity, int flags, uint8_t **base_out,
                              mt_error *err);
/* Unmaps an arena mapping made by mt_store_map_create. NULL is allowed. */
void mt_store_map_destroy(uint8_t *base, int64_t capacity);

/*
 * Maps the spill file `path` (an ON_DISK object of `size` bytes) read-only.
 * The file must hold at least `size` bytes (MT_ECORRUPT otherwise).
 * A size of 0 yields a non-NULL pointer to no bytes.
 */
mt_status mt_store_map_file(const char *path, int64_t size, const uint8_t **base_out,
                            mt_error *err);
/*
 * Maps the spill file `path` read-write for the creator of an ON_DISK object
 * (the store created it with the object's size); write the bytes, unmap, seal.
 */
mt_status mt_store_map_file_rw(const char *path, int64_t size, uint8_t **base_out,
                               mt_error *err);
/* Unmaps a file mapping from mt_store_map_file / _rw. NULL is allowed. */
void mt_store_unmap_file(const void *base, int64_t size);

#endif /* MANTA_STORE_CLIENT_H */
