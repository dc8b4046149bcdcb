/*
 * evict.c — the LRU lists of evictable objects and the policy that makes
 * room for an allocation: evict unpinned secondary copies first, then spill
 * unpinned primary copies, least recently used first, and never touch
 * anything when even that could not free enough bytes.
 *
 * Threads: the node daemon's loop thread.
 * Invariant: an entry is in `secondary` or `primary` iff it is sealed, in
 * the arena with a block, unpinned and not deleted (see lru_update).
 */
#include "store/store_int.h"

void mt__store_lru_push(mt__store_lru *l, mt__store_entry *e)
{
    e->lru = l;
    e->lru_next = NULL;
    e->lru_prev = l->tail;
    if (l->tail) l->tail->lru_next = e;
    else l->head = e;
    l->tail = e;
    l->count++;
    l->bytes += e->block->size;
}

void mt__store_lru_remove(mt__store_entry *e)
{
    mt__store_lru *l = e->lru;
    if (!l) return;
    if (e->lru_prev) e->lru_prev->lru_next = e->lru_next;
    else l->head = e->lru_next;
    if (e->lru_next) e->lru_next->lru_prev = e->lru_prev;
    else l->tail = e->lru_prev;
    l->count--;
    l->bytes -= e->block->size;
    e->lru = NULL;
    e->lru_prev = e->lru_next = NULL;
}

void mt__store_lru_update(mt_store *s, mt__store_entry *e)
{
    bool want = e->sealed && !e->on_disk && e->block && e->pins == 0 && !e->deleted;
    if (want && !e->lru) mt__store_lru_push(e->primary ? &s->primary : &s->secondary, e);
    else if (!want && e->lru) mt__store_lru_remove(e);
}

void mt__store_free_block(mt_store *s, mt__store_entry *e)
{
    if (!e->block) return;
    mt__store_alloc_put(&s->alloc, e->block);
    e->block = NULL;
}

/* Drops an unpinned secondary copy entirely: the primary lives elsewhere. */
static void evict_one(mt_store *s, mt__store_entry *e)
{
    mt__store_lru_remove(e);
    s->stats.evicted_objects++;
    s->stats.evicted_bytes += e->size;
    mt__store_free_block(s, e);
    mt__store_table_remove(&s->table, e);
    mt__store_pool_put(&s->entries, e);
}

mt_status mt__store_make_room(mt_store *s, int64_t size, mt__store_block **out, bool *wait_out, mt_error *err)
{
    if (wait_out) *wait_out = false;
    *out = mt__store_alloc_get(&s->alloc, size);
    if (*out || size > s->capacity) return MT_OK;
    int64_t need = (size + MT__STORE_ALIGN - 1) / MT__STORE_ALIGN * MT__STORE_ALIGN;
    int64_t reclaimable = s->alloc.capacity - s->alloc.used + s->secondary.bytes;
    if (s->spill_dir) reclaimable += s->primary.bytes + s->spilling_bytes;
    if (reclaimable < need) return MT_OK; /* hopeless: keep the cache intact */
    while (!*out) {
        if (s->secondary.head) {
            evict_one(s, s->secondary.head);
        } else if (s->spill_async) {
            /* Spills run as background jobs: the caller waits for them when they can help. */
            if (wait_out) *wait_out = s->spill_dir && (s->primary.head || s->spilling_bytes > 0);
            return MT_OK;
        } else if (s->spill_dir && s->primary.head) {
            MT_RETURN_NOT_OK(mt__store_spill(s, s->primary.head, err));
        } else {
            return MT_OK; /* fragmentation: enough bytes, no hole big enough */
        }
        *out = mt__store_alloc_get(&s->alloc, size);
    }
    return MT_OK;
}
