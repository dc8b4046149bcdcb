/*
 * strtab.c — the interning table of strtab.h: open addressing on an FNV-1a
 * hash, linear probing, no deletion.
 */
#include <string.h>

#include "core/strtab.h"
#include "manta/base.h"

static size_t hash_of(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32));
}

static bool grow(mt_strtab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    char **ns = mt_calloc(ncap, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i]) continue;
        size_t j = hash_of(t->slots[i], strlen(t->slots[i])) & (ncap - 1);
        while (ns[j]) j = (j + 1) & (ncap - 1);
        ns[j] = t->slots[i];
    }
    mt_free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return true;
}

const char *mt_strtab_intern(mt_strtab *t, const char *s, size_t len, size_t max)
{
    if (t->cap) {
        for (size_t i = hash_of(s, len) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
            const char *e = t->slots[i];
            if (!e) break;
            if (!strncmp(e, s, len) && e[len] == 0) return e;
        }
    }
    if (t->n >= max || ((t->n + 1) * 2 > t->cap && !grow(t))) return NULL;
    char *c = mt_malloc(len + 1);
    if (!c) return NULL;
    memcpy(c, s, len);
    c[len] = 0;
    size_t i = hash_of(s, len) & (t->cap - 1);
    while (t->slots[i]) i = (i + 1) & (t->cap - 1);
    t->slots[i] = c;
    t->n++;
    return c;
}

void mt_strtab_fini(mt_strtab *t)
{
    for (size_t i = 0; i < t->cap; i++) mt_free(t->slots[i]);
    mt_free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}
