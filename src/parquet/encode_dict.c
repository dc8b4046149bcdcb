/*
 * encode_dict.c — the per-column-chunk dictionary: a hash table from value
 * bytes to dictionary index, and the PLAIN-encoded dictionary page body.
 *
 * Single-threaded (one column chunk at a time). Values are compared by their
 * physical bytes, so -0.0 and 0.0 (and NaN payloads) stay distinct, as the
 * round trip requires. Invariants: `plain` holds exactly `n` entries in
 * insertion order; every entry is reachable from `slots` (open addressing,
 * linear probing, power-of-two size, at most half full).
 */
#include <string.h>

#include "parquet/pq_encode.h"

struct pq_dict {
    int physical;
    int32_t width;   /* fixed-width entries; 0 for BYTE_ARRAY */
    pq_buf plain;
    int32_t n, cap;
    uint32_t *ent_off;  /* BYTE_ARRAY: offset of the entry's length prefix in plain */
    uint64_t *ent_hash;
    int32_t *slots;     /* entry + 1, 0 = empty */
    uint32_t nslots;
};

static inline uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    while (n >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        h = (h ^ x) * 0x100000001b3ULL + (h >> 29);
        p += 8;
        n -= 8;
    }
    uint64_t x = 0;
    memcpy(&x, p, n);
    return mix(h ^ x);
}

mt_status pq_dict_create(int physical, int32_t width, pq_dict **out, mt_error *err)
{
    pq_dict *d = mt_calloc(1, sizeof *d);
    if (!d) return mt_error_set(err, MT_ENOMEM, "out of memory creating a dictionary");
    d->physical = physical;
    d->width = physical == PQ_BYTE_ARRAY ? 0 : width;
    *out = d;
    return MT_OK;
}

void pq_dict_destroy(pq_dict *d)
{
    if (!d) return;
    pq_buf_fini(&d->plain);
    mt_free(d->ent_off);
    mt_free(d->ent_hash);
    mt_free(d->slots);
    mt_free(d);
}

int32_t pq_dict_size(const pq_dict *d) { return d->n; }
const pq_buf *pq_dict_plain(const pq_dict *d) { return &d->plain; }

static const uint8_t *entry(const pq_dict *d, int32_t e, size_t *len)
{
    if (d->width) {
        *len = (size_t)d->width;
        return d->plain.data + (size_t)e * (size_t)d->width;
    }
    uint32_t l;
    memcpy(&l, d->plain.data + d->ent_off[e], 4);
    *len = l;
    return d->plain.data + d->ent_off[e] + 4;
}

static void slots_insert(pq_dict *d, int32_t e)
{
    uint32_t mask = d->nslots - 1, s = (uint32_t)d->ent_hash[e] & mask;
    while (d->slots[s]) s = (s + 1) & mask;
    d->slots[s] = e + 1;
}

static mt_status rehash(pq_dict *d, uint32_t nslots, mt_error *err)
{
    int32_t *slots = mt_calloc(nslots, sizeof *slots);
    if (!slots) return mt_error_set(err, MT_ENOMEM, "out of memory growing a dictionary");
    mt_free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    for (int32_t e = 0; e < d->n; e++) slots_insert(d, e);
    return MT_OK;
}

static mt_status grow_entries(pq_dict *d, mt_error *err)
{
    if (d->cap >= INT32_MAX / 2) return mt_error_set(err, MT_ERANGE, "dictionary too large");
    int32_t cap = d->cap ? d->cap * 2 : 1024;
    uint64_t *h = mt_realloc(d->ent_hash, (size_t)cap * sizeof *h);
    if (!h) return mt_error_set(err, MT_ENOMEM, "out of memory growing a dictionary");
    d->ent_hash = h;
    if (!d->width) {
        uint32_t *o = mt_realloc(d->ent_off, (size_t)cap * sizeof *o);
        if (!o) return mt_error_set(err, MT_ENOMEM, "out of memory growing a dictionary");
        d->ent_off = o;
    }
    d->cap = cap;
    if ((uint32_t)cap * 2 > d->nslots) return rehash(d, (uint32_t)cap * 2, err);
    return MT_OK;
}

/* Index of the value (p, len) with hash h, inserting it if new. */
static mt_status lookup(pq_dict *d, const uint8_t *p, size_t len, uint64_t h, uint32_t *idx,
                        mt_error *err)
{
    if (d->n == d->cap) MT_RETURN_NOT_OK(grow_entries(d, err));
    uint32_t mask = d->nslots - 1, s = (uint32_t)h & mask;
    for (int32_t e; (e = d->slots[s]) != 0; s = (s + 1) & mask) {
        if (d->ent_hash[e - 1] != h) continue;
        size_t elen;
        const uint8_t *ep = entry(d, e - 1, &elen);
        if (elen == len && memcmp(ep, p, len) == 0) {
            *idx = (uint32_t)(e - 1);
            return MT_OK;
        }
    }
    if (d->width) {
        MT_RETURN_NOT_OK(pq_buf_append(&d->plain, p, len, err));
    } else {
        if (d->plain.len > UINT32_MAX - 4 - len)
            return mt_error_set(err, MT_ERANGE, "dictionary too large");
        d->ent_off[d->n] = (uint32_t)d->plain.len;
        uint32_t l = (uint32_t)len;
        MT_RETURN_NOT_OK(pq_buf_append(&d->plain, &l, 4, err));
        MT_RETURN_NOT_OK(pq_buf_append(&d->plain, p, len, err));
    }
    d->ent_hash[d->n] = h;
    d->slots[s] = d->n + 1;
    *idx = (uint32_t)d->n++;
    return MT_OK;
}

mt_status pq_dict_add(pq_dict *d, const pq_values *v, int64_t a, int64_t b, int64_t limit,
                      uint32_t *idx, bool *overflow, mt_error *err)
{
    int32_t n0 = d->n;
    size_t len0 = d->plain.len;
    *overflow = false;
    for (int64_t k = a; k < b; k++) {
        const uint8_t *p;
        size_t len;
        if (d->width) {
            len = (size_t)d->width;
            p = v->fixed + (size_t)k * len;
        } else {
            int64_t q = pq_values_pos(v, k);
            p = v->bytes + v->offsets[q];
            len = (size_t)(v->offsets[q + 1] - v->offsets[q]);
        }
        uint64_t h;
        if (d->width == 4) {
            uint32_t x;
            memcpy(&x, p, 4);
            h = mix(x);
        } else if (d->width == 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            h = mix(x);
        } else {
            h = hash_bytes(p, len);
        }
        MT_RETURN_NOT_OK(lookup(d, p, len, h, &idx[k - a], err));
        if ((int64_t)d->plain.len > limit) {
            *overflow = true;
            d->n = n0;
            d->plain.len = len0;
            return rehash(d, d->nslots, err);
        }
    }
    return MT_OK;
}
