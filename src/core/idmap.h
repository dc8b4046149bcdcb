/*
 * idmap.h — a hash map from mt_id to a pointer-sized value (the node's pins,
 * creations and waiters; the control store's task table). Open addressing
 * with linear probing and backward-shift deletion (no tombstones), so lookups
 * stay short under churn. The hash is SipHash-1-3 of all 20 bytes under a
 * per-process random key, since other processes choose the ids. Not
 * thread-safe: one owner at a time. Invariant: load <= 1/2.
 */
#ifndef MANTA_CORE_IDMAP_H
#define MANTA_CORE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "manta/base.h"

typedef struct mt_idmap_slot {
    mt_id key;
    void *val;
    bool used;
} mt_idmap_slot;

typedef struct mt_idmap {
    mt_idmap_slot *slots;
    size_t cap, n; /* cap is 0 or a power of two */
} mt_idmap;

void **mt_idmap_find(const mt_idmap *m, mt_id key);
/* Inserts (or finds) `key`; returns its value slot, NULL on out of memory. */
void **mt_idmap_put(mt_idmap *m, mt_id key);
bool mt_idmap_del(mt_idmap *m, mt_id key);
void mt_idmap_fini(mt_idmap *m);

#endif
