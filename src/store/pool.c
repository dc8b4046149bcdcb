/*
 * pool.c — fixed-size item pool for the store's metadata (entries, allocator
 * blocks), so that create/delete of small objects never calls the heap
 * allocator in the steady state. Items come from chunks of 256 that live
 * until mt__store_pool_fini.
 *
 * Threads: the node daemon's loop thread (one pool per store).
 * Invariant: every item is either handed out or on free_list, never both.
 */
#include <string.h>

#include "store/store_int.h"

#define POOL_CHUNK_ITEMS 256

typedef struct pool_chunk {
    struct pool_chunk *next;
    max_align_t items[]; /* POOL_CHUNK_ITEMS * item_size bytes */
} pool_chunk;

void mt__store_pool_init(mt__store_pool *p, size_t item_size)
{
    p->item_size = (item_size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    p->free_list = NULL;
    p->chunks = NULL;
}

void mt__store_pool_fini(mt__store_pool *p)
{
    pool_chunk *c = p->chunks;
    while (c) {
        pool_chunk *next = c->next;
        mt_free(c);
        c = next;
    }
    p->chunks = NULL;
    p->free_list = NULL;
}

static bool pool_grow(mt__store_pool *p)
{
    pool_chunk *c = mt_malloc(sizeof(pool_chunk) + POOL_CHUNK_ITEMS * p->item_size);
    if (!c) return false;
    c->next = p->chunks;
    p->chunks = c;
    uint8_t *items = (uint8_t *)c->items;
    for (int i = POOL_CHUNK_ITEMS - 1; i >= 0; i--) {
        void *it = items + (size_t)i * p->item_size;
        *(void **)it = p->free_list;
        p->free_list = it;
    }
    return true;
}

void *mt__store_pool_get(mt__store_pool *p)
{
    if (!p->free_list && !pool_grow(p)) return NULL;
    void *it = p->free_list;
    p->free_list = *(void **)it;
    memset(it, 0, p->item_size);
    return it;
}

void mt__store_pool_put(mt__store_pool *p, void *item)
{
    *(void **)item = p->free_list;
    p->free_list = item;
}
