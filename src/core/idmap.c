/*
 * idmap.c — the id-keyed hash map of idmap.h: open addressing, linear
 * probing, backward-shift deletion.
 */
#include <string.h>

#include "core/idmap.h"
#include "manta/base.h"

static size_t hash_of(mt_id id)
{
    uint64_t h;
    memcpy(&h, id.bytes, sizeof h);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return (size_t)(h ^ (h >> 32));
}

void **mt_idmap_find(const mt_idmap *m, mt_id key)
{
    if (m->n == 0) return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash_of(key) & mask;; i = (i + 1) & mask) {
        mt_idmap_slot *s = &m->slots[i];
        if (!s->used) return NULL;
        if (!memcmp(s->key.bytes, key.bytes, MT_ID_SIZE)) return &s->val;
    }
}

static bool grow(mt_idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    mt_idmap_slot *ns = mt_calloc(ncap, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].used) continue;
        size_t j = hash_of(m->slots[i].key) & (ncap - 1);
        while (ns[j].used) j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    mt_free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return true;
}

void **mt_idmap_put(mt_idmap *m, mt_id key)
{
    void **found = mt_idmap_find(m, key);
    if (found) return found;
    if ((m->n + 1) * 2 > m->cap && !grow(m)) return NULL;
    size_t mask = m->cap - 1, i = hash_of(key) & mask;
    while (m->slots[i].used) i = (i + 1) & mask;
    m->slots[i].used = true;
    m->slots[i].key = key;
    m->slots[i].val = NULL;
    m->n++;
    return &m->slots[i].val;
}

bool mt_idmap_del(mt_idmap *m, mt_id key)
{
    void **v = mt_idmap_find(m, key);
    if (!v) return false;
    size_t mask = m->cap - 1;
    size_t i = (size_t)((mt_idmap_slot *)((char *)v - offsetof(mt_idmap_slot, val)) - m->slots);
    m->slots[i].used = false;
    m->n--;
    /* Backward shift: move later entries of the cluster into the hole when allowed. */
    for (size_t j = (i + 1) & mask; m->slots[j].used; j = (j + 1) & mask) {
        size_t home = hash_of(m->slots[j].key) & mask;
        bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
        if (!movable) continue;
        m->slots[i] = m->slots[j];
        m->slots[j].used = false;
        i = j;
    }
    return true;
}

void mt_idmap_fini(mt_idmap *m)
{
    mt_free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
