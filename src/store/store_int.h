/*
 * store_int.h — declarations shared inside the store module: the arena
 * (memfd + mapping), the allocator over it (metadata outside the shared
 * memory), the object table, the LRU lists and spill files.
 *
 * Threads: everything here runs on the node daemon's loop thread only.
 * Invariants: an entry is in exactly one LRU list iff it is sealed, in the
 * arena, unpinned and not deleted; an in-arena entry owns exactly one
 * allocator block (or none when its size is 0); an ON_DISK entry owns its
 * spill file `path`.
 */
#ifndef MANTA_STORE_INT_H
#define MANTA_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "manta/base.h"
#include "store/store.h"

#define MT__STORE_ALIGN 64

/* ---- Fixed-size node pool (entries, blocks): no malloc per operation ---- */

typedef struct mt__store_pool {
    size_t item_size;
    void *free_list;   /* singly linked through the first word of each free item */
    void *chunks;      /* singly linked chunks, freed on fini */
} mt__store_pool;

void mt__store_pool_init(mt__store_pool *p, size_t item_size);
void mt__store_pool_fini(mt__store_pool *p);
void *mt__store_pool_get(mt__store_pool *p); /* zeroed; NULL when out of memory */
void mt__store_pool_put(mt__store_pool *p, void *item);

/* ---- Arena (arena.c) ---------------------------------------------------- */

/* Resolves capacity 0 to 30% of physical RAM capped by the size of /dev/shm. */
int64_t mt__store_default_capacity(void);
mt_status mt__store_arena_open(const char *name, int64_t capacity, int *fd_out,
                               uint8_t **base_out, mt_error *err);
void mt__store_arena_close(int fd, uint8_t *base, int64_t capacity);
/* Returns the pages of [off, off+size) to the OS (whole pages inside only). */
void mt__store_arena_punch(int fd, uint8_t *base, int64_t off, int64_t size);

/* ---- Allocator (alloc.c): TLSF-style segregated fits, O(1) -------------- */

#define MT__STORE_FL 48
#define MT__STORE_SL 16

typedef struct mt__store_block {
    int64_t off, size;
    struct mt__store_block *phys_prev, *phys_next;
    struct mt__store_block *free_prev, *free_next;
    bool free;
    bool clean; /* free and its pages were given back (trim); cleared on allocation */
} mt__store_block;

typedef struct mt__store_alloc {
    int64_t capacity, used, free_blocks;
    int64_t touched; /* high-water mark: no allocation has reached past it */
    uint64_t fl_bitmap;
    uint32_t sl_bitmap[MT__STORE_FL];
    mt__store_block *bins[MT__STORE_FL][MT__STORE_SL];
    mt__store_pool pool;
} mt__store_alloc;

mt_status mt__store_alloc_init(mt__store_alloc *a, int64_t capacity, mt_error *err);
void mt__store_alloc_fini(mt__store_alloc *a);
/* Returns a block of at least `size` bytes (rounded up to 64), or NULL. */
mt__store_block *mt__store_alloc_get(mt__store_alloc *a, int64_t size);
/* Frees `b`, coalescing with free neighbours; returns the merged free block. */
mt__store_block *mt__store_alloc_put(mt__store_alloc *a, mt__store_block *b);
int64_t mt__store_alloc_largest_free(const mt__store_alloc *a);
/* Calls fn on every free block not yet `clean` of at least min_size bytes, marking it clean. */
int64_t mt__store_alloc_trim(mt__store_alloc *a, int64_t min_size,
                             void (*fn)(void *ctx, int64_t off, int64_t size), void *ctx);

/* ---- Entries and the object table (table.c) ----------------------------- */

struct mt__store_lru;

typedef struct mt__store_entry {
    mt_id id;
    mt_id owner, creator;   /* client ids (nil = unknown): who may delete it */
    int64_t size;
    mt__store_block *block; /* IN_ARENA and size > 0 */
    char *path;             /* ON_DISK: spill file (mt_malloc'd) */
    int disk_fd;            /* ON_DISK and unsealed: the file the creator writes; else -1 */
    int32_t pins;
    bool sealed, primary, deleted, on_disk;
    bool spilling;          /* a background spill holds a pin and is writing its file */
    int32_t ncontained;     /* objects whose refs are inside this one: each pinned once by it */
    int32_t held;           /* pins from objects containing this one: readable even once deleted */
    mt_id *contained;       /* mt_malloc'd; released when this entry is destroyed */
    struct mt__store_entry *lru_prev, *lru_next;
    struct mt__store_lru *lru; /* the list it is in, or NULL */
} mt__store_entry;

typedef struct mt__store_table {
    mt__store_entry **slots;
    uint64_t mask; /* slot count - 1 (power of two) */
    int64_t count;
} mt__store_table;

mt_status mt__store_table_init(mt__store_table *t, mt_error *err);
void mt__store_table_fini(mt__store_table *t);
mt__store_entry *mt__store_table_find(const mt__store_table *t, mt_id id);
/* Inserts `e` (its id must be absent); MT_ENOMEM when growing fails. */
mt_status mt__store_table_insert(mt__store_table *t, mt__store_entry *e, mt_error *err);
void mt__store_table_remove(mt__store_table *t, mt__store_entry *e);

/* ---- The store ---------------------------------------------------------- */

typedef struct mt__store_lru {
    mt__store_entry *head, *tail; /* head = least recently used */
    int64_t count, bytes;         /* bytes: arena bytes of the members' blocks */
} mt__store_lru;

struct mt_store {
    int fd;
    uint8_t *base;
    int64_t capacity, max_object_bytes;
    char *spill_dir; /* NULL = no spilling */
    mt__store_alloc alloc;
    mt__store_table table;
    mt__store_pool entries;
    mt__store_lru secondary, primary;
    mt_store_stats stats; /* counters; capacity/used/num_* filled on read */
    int64_t num_pinned, num_deleted; /* entries with pins > 0; deleted but still pinned */
    bool spill_async;                /* spills are background jobs (mt_store_spill_begin); no restores */
    int64_t spilling_bytes;          /* arena bytes of entries being spilled in the background */
};

/* ---- LRU and making room (evict.c) -------------------------------------- */

void mt__store_lru_push(mt__store_lru *l, mt__store_entry *e); /* as most recent */
void mt__store_lru_remove(mt__store_entry *e);                 /* if in a list */
/* Entry became unpinned-and-sealed-in-arena, or stopped being so. */
void mt__store_lru_update(mt_store *s, mt__store_entry *e);
/*
 * Allocates `size` bytes, evicting unpinned secondary copies and then
 * spilling unpinned primary copies (LRU first) until it fits. Returns NULL
 * in *out when nothing more can be freed; MT_EIO only if a spill write fails.
 * With spill_async nothing is spilled here: *wait_out (may be NULL) says
 * whether background spills could make the room.
 */
mt_status mt__store_make_room(mt_store *s, int64_t size, mt__store_block **out, bool *wait_out, mt_error *err);
/* Frees the arena block of `e` (if any); its pages stay warm until a trim. */
void mt__store_free_block(mt_store *s, mt__store_entry *e);

/* ---- Spill files (spill.c) ---------------------------------------------- */

/* Writes the bytes of in-arena `e` to spill_dir/<hex>, frees its arena block. */
mt_status mt__store_spill(mt_store *s, mt__store_entry *e, mt_error *err);
/* Drops one pin; the last one frees a deleted object or makes it evictable (store.c). */
void mt__store_unpin(mt_store *s, mt__store_entry *e);
/* Reads ON_DISK `e` into `b` (an arena block of its size), removes the file. */
mt_status mt__store_restore(mt_store *s, mt__store_entry *e, mt__store_block *b, mt_error *err);
/* Creates spill_dir/<hex> of e->size bytes for a creator to write. */
mt_status mt__store_disk_create(mt_store *s, mt__store_entry *e, mt_error *err);
/* Removes the spill file of `e` (if any) and forgets it. */
void mt__store_disk_remove(mt__store_entry *e);

#endif /* MANTA_STORE_INT_H */
