/*
 * buffer.c — reference-counted byte buffers: owned (64-byte aligned, from
 * mt_malloc_aligned, capacity a multiple of 64, zero-filled — or, from
 * mt_buffer_new_uninit, only their padding zeroed) or wrapping foreign
 * memory released through a free_fn.
 *
 * Threads: any for retain/release (atomic); growth only by the single owner
 * of an unshared, owned buffer.
 * Invariant: for owned buffers size <= capacity, capacity % 64 == 0 and
 * bytes [size, capacity) are zero unless a shrinking resize left old data
 * (or the owner of an uninitialised buffer shrank it), which growth
 * re-zeroes.
 */
#include <string.h>
#include <sys/mman.h>

#include "data/data_int.h"

static int64_t round64(int64_t n) { return (n + 63) & ~(int64_t)63; }

/*
 * Large uninitialised buffers are about to be written front to back (decoded
 * columns): ask for transparent huge pages on their 2 MiB-aligned middle, so
 * first touches fault 512 times less often. Only a hint; ignored where THP
 * is off or unsupported.
 */
static void advise_huge(uint8_t *p, int64_t cap)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (cap < 2 * (int64_t)huge) return;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + (uintptr_t)cap) & ~(huge - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p, (void)cap;
#endif
}

static mt_buffer *buffer_alloc(int64_t size, bool zero)
{
    if (size < 0 || size > INT64_MAX - 64) return NULL;
    mt_buffer *b = mt_calloc(1, sizeof *b);
    if (!b) return NULL;
    int64_t cap = round64(size > 0 ? size : 1);
    b->data = mt_malloc_aligned((size_t)cap);
    if (!b->data) {
        mt_free(b);
        return NULL;
    }
    if (zero) {
        memset(b->data, 0, (size_t)cap);
    } else {
        advise_huge(b->data, cap);
        memset(b->data + size, 0, (size_t)(cap - size)); /* the padding only */
    }
    b->size = size;
    b->capacity = cap;
    b->refcount_ = 1;
    return b;
}

mt_buffer *mt_buffer_new(int64_t size) { return buffer_alloc(size, true); }

mt_buffer *mt_buffer_new_uninit(int64_t size) { return buffer_alloc(size, false); }

mt_buffer *mt_buffer_wrap(uint8_t *data, int64_t size, mt_buffer_free_fn free_fn, void *owner)
{
    mt_buffer *b = mt_calloc(1, sizeof *b);
    if (!b) return NULL;
    b->data = data;
    b->size = size;
    b->capacity = size;
    b->refcount_ = 1;
    b->free_fn = free_fn;
    b->owner = owner;
    return b;
}

mt_status mt_buffer_reserve(mt_buffer *buf, int64_t capacity, mt_error *err)
{
    if (capacity <= buf->capacity) return MT_OK;
    if (buf->free_fn)
        return mt_error_set(err, MT_ESTATE, "cannot grow a buffer that wraps foreign memory");
    if (capacity > INT64_MAX / 2)
        return mt_error_set(err, MT_ENOMEM, "buffer of %lld bytes is too large",
                            (long long)capacity);
    int64_t cap = round64(capacity);
    uint8_t *p = mt_realloc_aligned(buf->data, (size_t)buf->capacity, (size_t)cap);
    if (!p)
        return mt_error_set(err, MT_ENOMEM, "out of memory growing a buffer to %lld bytes",
                            (long long)cap);
    memset(p + buf->capacity, 0, (size_t)(cap - buf->capacity));
    buf->data = p;
    buf->capacity = cap;
    return MT_OK;
}

mt_status mt_buffer_resize(mt_buffer *buf, int64_t size, mt_error *err)
{
    if (size < 0) return mt_error_set(err, MT_EINVAL, "negative buffer size %lld", (long long)size);
    if (size > buf->capacity) {
        int64_t want = buf->capacity * 2;
        if (want < size) want = size;
        MT_RETURN_NOT_OK(mt_buffer_reserve(buf, want, err));
    }
    if (size > buf->size) memset(buf->data + buf->size, 0, (size_t)(size - buf->size));
    buf->size = size;
    return MT_OK;
}

mt_status mt_buffer_append(mt_buffer *buf, const void *data, int64_t n, mt_error *err)
{
    if (n <= 0) return MT_OK;
    int64_t old = buf->size;
    if (old + n > buf->capacity) {
        int64_t want = buf->capacity * 2;
        if (want < old + n) want = old + n;
        MT_RETURN_NOT_OK(mt_buffer_reserve(buf, want, err));
    }
    memcpy(buf->data + old, data, (size_t)n);
    buf->size = old + n;
    return MT_OK;
}

mt_buffer *mt_buffer_retain(mt_buffer *buf)
{
    if (buf) mt__data_ref_inc(&buf->refcount_);
    return buf;
}

void mt_buffer_release(mt_buffer *buf)
{
    if (!buf || !mt__data_ref_dec(&buf->refcount_)) return;
    if (buf->free_fn)
        buf->free_fn(buf);
    else
        mt_free_aligned(buf->data);
    mt_free(buf);
}

/* ---- Bitmap helpers (shared through data_int.h) ------------------------ */

int64_t mt__data_popcount(const uint8_t *bits, int64_t offset, int64_t length)
{
    int64_t n = 0, i = offset, end = offset + length;
    for (; i < end && (i & 63); i++) n += mt__data_bit_get(bits, i);
    for (; i + 64 <= end; i += 64) {
        uint64_t w;
        memcpy(&w, bits + (i >> 3), 8);
        n += __builtin_popcountll(w);
    }
    for (; i < end; i++) n += mt__data_bit_get(bits, i);
    return n;
}

void mt__data_bits_copy(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off,
                        int64_t length)
{
    if (length <= 0) return;
    if ((dst_off & 7) == 0 && (src_off & 7) == 0) {
        int64_t whole = length >> 3;
        memcpy(dst + (dst_off >> 3), src + (src_off >> 3), (size_t)whole);
        for (int64_t i = whole << 3; i < length; i++)
            mt__data_bit_set(dst, dst_off + i, mt__data_bit_get(src, src_off + i));
        return;
    }
    int64_t i = 0;
    /* Align the destination, then move whole bytes assembled from two source bytes. */
    for (; i < length && ((dst_off + i) & 7); i++)
        mt__data_bit_set(dst, dst_off + i, mt__data_bit_get(src, src_off + i));
    int shift = (int)((src_off + i) & 7);
    for (; i + 8 <= length; i += 8) {
        const uint8_t *s = src + ((src_off + i) >> 3);
        unsigned v = s[0] >> shift;
        if (shift) v |= (unsigned)s[1] << (8 - shift);
        dst[(dst_off + i) >> 3] = (uint8_t)v;
    }
    for (; i < length; i++)
        mt__data_bit_set(dst, dst_off + i, mt__data_bit_get(src, src_off + i));
}

void mt__data_bits_fill(uint8_t *dst, int64_t off, int64_t length, bool v)
{
    int64_t i = 0;
    for (; i < length && ((off + i) & 7); i++) mt__data_bit_set(dst, off + i, v);
    int64_t whole = (length - i) >> 3;
    if (whole > 0) memset(dst + ((off + i) >> 3), v ? 0xff : 0, (size_t)whole);
    i += whole << 3;
    for (; i < length; i++) mt__data_bit_set(dst, off + i, v);
}
