/*
 * table.c — the object table: an open-addressing hash map (linear probing,
 * backward-shift deletion, load factor <= 1/2) from mt_id to entry.
 * The hash mixes all 20 id bytes, because ids sharing a task prefix differ
 * only in their last bytes.
 *
 * Threads: the node daemon's loop thread.
 * Invariant: every entry is reachable from its home slot without crossing
 * an empty slot.
 */
#include <string.h>

#include "store/store_int.h"

#define TABLE_MIN_SLOTS 1024

static uint64_t id_hash(const mt_id *id)
{
    uint64_t a, b;
    uint32_t c;
    memcpy(&a, id->bytes, 8);
    memcpy(&b, id->bytes + 8, 8);
    memcpy(&c, id->bytes + 16, 4);
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)c << 29)) * 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 31);
}

static mt_status alloc_slots(mt__store_table *t, uint64_t n, mt_error *err)
{
    t->slots = mt_calloc(n, sizeof(*t->slots));
    if (!t->slots)
        return mt_error_set(err, MT_ENOMEM, "object store: growing the object table to %llu slots",
                            (unsigned long long)n);
    t->mask = n - 1;
    return MT_OK;
}

mt_status mt__store_table_init(mt__store_table *t, mt_error *err)
{
    t->count = 0;
    return alloc_slots(t, TABLE_MIN_SLOTS, err);
}

void mt__store_table_fini(mt__store_table *t)
{
    mt_free(t->slots);
    t->slots = NULL;
    t->count = 0;
}

mt__store_entry *mt__store_table_find(const mt__store_table *t, mt_id id)
{
    for (uint64_t i = id_hash(&id) & t->mask;; i = (i + 1) & t->mask) {
        mt__store_entry *e = t->slots[i];
        if (!e) return NULL;
        if (memcmp(e->id.bytes, id.bytes, MT_ID_SIZE) == 0) return e;
    }
}

static void place(mt__store_table *t, mt__store_entry *e)
{
    uint64_t i = id_hash(&e->id) & t->mask;
    while (t->slots[i]) i = (i + 1) & t->mask;
    t->slots[i] = e;
}

static mt_status grow(mt__store_table *t, mt_error *err)
{
    mt__store_entry **old = t->slots;
    uint64_t old_n = t->mask + 1;
    MT_RETURN_NOT_OK(alloc_slots(t, old_n * 2, err));
    for (uint64_t i = 0; i < old_n; i++)
        if (old[i]) place(t, old[i]);
    mt_free(old);
    return MT_OK;
}

mt_status mt__store_table_insert(mt__store_table *t, mt__store_entry *e, mt_error *err)
{
    if ((uint64_t)(t->count + 1) * 2 > t->mask + 1) MT_RETURN_NOT_OK(grow(t, err));
    place(t, e);
    t->count++;
    return MT_OK;
}

void mt__store_table_remove(mt__store_table *t, mt__store_entry *e)
{
    uint64_t i = id_hash(&e->id) & t->mask;
    while (t->slots[i] != e) i = (i + 1) & t->mask;
    t->slots[i] = NULL;
    t->count--;
    /* Backward shift: move later members of the cluster into the hole when allowed. */
    for (uint64_t j = (i + 1) & t->mask; t->slots[j]; j = (j + 1) & t->mask) {
        uint64_t home = id_hash(&t->slots[j]->id) & t->mask;
        /* j's entry may move to i iff home is not in the cyclic range (i, j]. */
        bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
}
