/*
 * idmap.c — the id-keyed hash map of idmap.h: open addressing, linear
 * probing, backward-shift deletion.
 */
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "core/idmap.h"
#include "manta/base.h"

/*
 * SipHash-1-3 of the whole 20-byte id under a key drawn once per process:
 * ids come from other processes (an owner picks its task ids), so a hash of
 * chosen bytes with a known function would let one flood a table with
 * collisions. The key makes the slots unpredictable from outside.
 */
static uint64_t key0, key1;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_init(void)
{
    uint64_t k[2] = {0x736f6d6570736575ull, 0x646f72616e646f6dull};
    if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) { /* no entropy yet: time and address still differ per process */
        k[0] ^= (uint64_t)(uintptr_t)&k ^ (uint64_t)mt_time_now_ns();
        k[1] ^= (uint64_t)mt_time_now_ns() * 0x9e3779b97f4a7c15ull;
    }
    key0 = k[0];
    key1 = k[1];
}

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                                       \
    do {                                                                                                               \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                                      \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                                         \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                                         \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                                      \
    } while (0)

/* The key is set before any map has slots (grow), so before any hash. */
static size_t hash_of(mt_id id)
{
    uint64_t v0 = key0 ^ 0x736f6d6570736575ull, v1 = key1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = key0 ^ 0x6c7967656e657261ull, v3 = key1 ^ 0x7465646279746573ull;
    uint64_t m[3] = {0, 0, 0};
    memcpy(m, id.bytes, MT_ID_SIZE); /* 20 bytes: two words and a half */
    m[2] |= (uint64_t)MT_ID_SIZE << 56;
    for (int i = 0; i < 3; i++) {
        v3 ^= m[i];
        SIPROUND;
        v0 ^= m[i];
    }
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return (size_t)(v0 ^ v1 ^ v2 ^ v3);
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
    pthread_once(&key_once, key_init);
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
