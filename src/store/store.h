/*
 * store.h — the node's shared-memory object store (plasma's role).
 *
 * One arena per node: a memfd of `capacity` bytes that the node daemon
 * creates and passes to drivers and workers, which map it (read-write for
 * writers of new objects, zero-copy reads). Objects are immutable byte
 * buffers named by mt_id: create (allocate) → write → seal → get (pin) →
 * release (unpin) → delete.
 *
 * Memory policy when an allocation does not fit:
 *   1. evict unpinned secondary copies (primary == false), least recently used first;
 *   2. spill unpinned primary copies to files under spill_dir (LRU first) and free
 *      their arena space; a later get restores them into the arena (evicting/
 *      spilling others as needed), transparently — or, with spill_async, the
 *      caller runs the spills as background jobs, waits for room, and readers
 *      map the spill files;
 *   3. an object bigger than the arena (or that cannot fit even after 1–2) is
 *      created directly as a spill file, which readers map read-only;
 *   4. only when spilling is disabled (spill_dir NULL) or the disk fails does
 *      create return MT_ENOMEM with a message naming the sizes.
 * Objects larger than max_object_bytes are refused with MT_EINVAL.
 *
 * Threads: single-threaded — the node daemon calls it from its loop thread.
 * The arena's allocator metadata lives outside the shared memory, so clients
 * cannot corrupt it; clients only read/write object bytes at offsets the
 * store gave them.
 */
#ifndef MANTA_STORE_H
#define MANTA_STORE_H

#include <stdint.h>

#include "manta/base.h"

typedef struct mt_store mt_store;

typedef struct mt_store_options {
    int64_t capacity;         /* arena bytes; 0 = 30% of physical RAM (capped by /dev/shm) */
    const char *spill_dir;    /* NULL = no spilling */
    int64_t max_object_bytes; /* 0 = no limit beyond disk */
    const char *name;         /* memfd name, e.g. "manta-store-<node>" */
    bool spill_async;         /* spills are background jobs (mt_store_spill_begin/write/finish) and
                                 spilled objects are read from their files, never restored: the
                                 caller's thread does no spill or restore I/O */
} mt_store_options;

typedef enum mt_store_location {
    MT_STORE_IN_ARENA = 0,  /* bytes at offset in the arena */
    MT_STORE_ON_DISK = 1,   /* bytes in the spill file `path` (whole file) */
} mt_store_location;

typedef struct mt_store_ref {
    mt_store_location where;
    int64_t offset; /* IN_ARENA */
    int64_t size;
    const char *path; /* ON_DISK; owned by the store, valid while pinned */
} mt_store_ref;

typedef struct mt_store_stats {
    int64_t capacity, used, num_objects, num_pinned;
    int64_t spilled_bytes, spilled_objects, restored_objects, evicted_objects, evicted_bytes;
} mt_store_stats;

mt_status mt_store_create(const mt_store_options *opts, mt_store **out, mt_error *err);
void mt_store_destroy(mt_store *s); /* removes spill files */
/* The memfd of the arena (owned by the store; dup it to pass it on). */
int mt_store_fd(const mt_store *s);
int64_t mt_store_capacity(const mt_store *s);
/* The arena mapped in this process (the daemon can read/write objects directly). */
uint8_t *mt_store_base(const mt_store *s);

/*
 * Allocates an object of `size` bytes, unsealed and pinned once by the creator.
 * MT_EEXIST if the id exists. Where it lives is returned in *ref.
 */
mt_status mt_store_object_create(mt_store *s, mt_id id, int64_t size, bool primary,
                                 mt_store_ref *ref, mt_error *err);
/*
 * mt_store_object_create, for a store with spill_async: when the object fits
 * only after background spills finish, nothing is created and *wait_out is
 * true (try again once a spill finishes; give wait_out NULL to take a spill
 * file at once instead).
 */
mt_status mt_store_object_create_ex(mt_store *s, mt_id id, int64_t size, bool primary, bool *wait_out,
                                    mt_store_ref *ref, mt_error *err);
/* Marks the object complete and immutable, and drops the creator's pin. */
mt_status mt_store_object_seal(mt_store *s, mt_id id, mt_error *err);
/* Aborts an unsealed object (creator failed): frees it. */
mt_status mt_store_object_abort(mt_store *s, mt_id id, mt_error *err);
/*
 * Pins a sealed object and says where it is, restoring it from disk into the
 * arena when it fits. MT_ENOTFOUND if unknown; MT_ESTATE if not yet sealed.
 */
mt_status mt_store_object_get(mt_store *s, mt_id id, mt_store_ref *ref, mt_error *err);
/* Unpins once. */
/* Another pin on an object that is pinned already, even if deleted meanwhile (its pinners may read on). */
mt_status mt_store_object_get_pinned(mt_store *s, mt_id id, mt_store_ref *ref, mt_error *err);
mt_status mt_store_object_release(mt_store *s, mt_id id, mt_error *err);
/* The owner no longer references it: free now, or when the last pin goes. */
mt_status mt_store_object_delete(mt_store *s, mt_id id, mt_error *err);
/*
 * Records, before seal, the objects (sealed or not yet) whose refs are inside object `id` (Ray's
 * nested refs): each is pinned by it until it is freed, so a reader of `id`
 * can still turn those refs into values after their owners let go.
 * MT_ENOTFOUND names a contained object that is not (or no longer) there.
 */
mt_status mt_store_object_set_contained(mt_store *s, mt_id id, const mt_id *ids, int n, mt_error *err);
bool mt_store_object_contains(const mt_store *s, mt_id id, bool *sealed_out);
/* Records who owns and who created an object (client ids). */
mt_status mt_store_object_set_owner(mt_store *s, mt_id id, mt_id owner, mt_id creator, mt_error *err);
/* The owner and creator of a live object; false if there is none. */
bool mt_store_object_owner(const mt_store *s, mt_id id, mt_id *owner, mt_id *creator);
/* Deletes (as mt_store_object_delete) every live object owned by `owner`; returns how many. */
int64_t mt_store_delete_owned_by(mt_store *s, mt_id owner);
void mt_store_get_stats(const mt_store *s, mt_store_stats *out);
/* One live object, for listings (manta list objects). */
typedef struct mt_store_object_info {
    mt_id id, owner;
    int64_t size;
    int32_t pins;
    bool sealed, primary, on_disk;
} mt_store_object_info;
/* Calls fn for each live (not deleted) object until it returns false; returns how many it was called for. */
int64_t mt_store_list(const mt_store *s, bool (*fn)(const mt_store_object_info *, void *), void *ud);

/*
 * Background spilling (spill_async). begin picks the least recently used
 * unpinned primary copy in the arena, pins it and fills *job (false when
 * there is none); write copies its bytes to the job's file and may run on
 * any thread (it touches no store state: the pinned bytes cannot move);
 * finish, back on the store's thread, frees the arena block when nobody
 * pinned the object meanwhile (else the file is dropped and the object stays
 * in memory) and returns the arena bytes freed. A failed write is in
 * job->st / job->err. spill_pressure: arena bytes in use, less those being
 * spilled now.
 */
typedef struct mt_store_spill_job {
    mt_id id;
    const uint8_t *src;
    int64_t size;
    char *path; /* owned by the job until finish */
    mt_status st;
    mt_error err;
} mt_store_spill_job;
bool mt_store_spill_begin(mt_store *s, mt_store_spill_job *job);
void mt_store_spill_write(mt_store_spill_job *job);
int64_t mt_store_spill_finish(mt_store *s, mt_store_spill_job *job);
int64_t mt_store_spill_pressure(const mt_store *s);

/*
 * Allocator detail (added with the implementation): free arena bytes, the
 * largest free block (the biggest object that fits without evicting), the
 * number of free blocks (fragmentation), and the bytes that eviction of
 * unpinned secondary copies / spilling of unpinned primary copies could free.
 */
typedef struct mt_store_alloc_stats {
    int64_t free_bytes, largest_free_block, free_blocks;
    int64_t evictable_bytes, spillable_bytes;
} mt_store_alloc_stats;
void mt_store_get_alloc_stats(const mt_store *s, mt_store_alloc_stats *out);
/*
 * Gives the pages of free arena blocks of at least `min_block_bytes` back to
 * the OS (hole punch in the memfd; every mapping then reads zeros there), and
 * returns how many bytes that covered (blocks already given back are skipped).
 * Freed blocks otherwise keep their pages, because faulting them in again
 * costs far more than the copy itself; call this when idle or under memory
 * pressure. (Added with the implementation.)
 */
int64_t mt_store_trim(mt_store *s, int64_t min_block_bytes);

#endif /* MANTA_STORE_H */
