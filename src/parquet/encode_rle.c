/*
 * encode_rle.c — the RLE / bit-packed hybrid encoder used for definition
 * and repetition levels and for dictionary indices.
 *
 * Single-threaded. Runs of eight or more equal values become RLE runs; the
 * rest is bit-packed in groups of eight, a section ending where a group of
 * eight equal values begins. A final partial group is padded with zeros
 * (readers stop at the page's value count). The output buffer is reserved
 * once for the worst case, so the inner loops make no calls.
 */
#include "parquet/pq_encode.h"

int pq_w_bit_width(uint64_t max)
{
    int w = 0;
    while (max) {
        w++;
        max >>= 1;
    }
    return w;
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static size_t worst_case(int64_t n, int bit_width)
{
    return (size_t)(n / 8 + 2) * (size_t)(bit_width + 12) + 16;
}

#define DEFINE_RLE_ENCODER(NAME, T)                                                     \
    mt_status NAME(const T *v, int64_t n, int bit_width, pq_buf *out, mt_error *err)    \
    {                                                                                   \
        MT_RETURN_NOT_OK(pq_buf_reserve(out, worst_case(n, bit_width), err));           \
        uint8_t *p = out->data + out->len;                                              \
        int value_bytes = (bit_width + 7) / 8;                                          \
        int64_t i = 0;                                                                  \
        while (i < n) {                                                                 \
            T v0 = v[i];                                                                \
            int64_t j = i + 1;                                                          \
            while (j < n && v[j] == v0) j++;                                            \
            if (j - i >= 8) {                                                           \
                p = put_varint(p, (uint64_t)(j - i) << 1);                              \
                uint64_t x = (uint64_t)v0;                                              \
                for (int b = 0; b < value_bytes; b++) *p++ = (uint8_t)(x >> (8 * b));   \
                i = j;                                                                  \
                continue;                                                               \
            }                                                                           \
            int64_t k = i, groups = 0;                                                  \
            while (k < n) {                                                             \
                if (n - k >= 8) {                                                       \
                    const T *g = v + k;                                                 \
                    if (g[1] == g[0] && g[2] == g[0] && g[3] == g[0] && g[4] == g[0] && \
                        g[5] == g[0] && g[6] == g[0] && g[7] == g[0] && groups > 0)     \
                        break;                                                          \
                }                                                                       \
                groups++;                                                               \
                k += 8;                                                                 \
            }                                                                           \
            p = put_varint(p, ((uint64_t)groups << 1) | 1);                             \
            uint64_t acc = 0;                                                           \
            int nb = 0;                                                                 \
            for (int64_t q = i; q < i + groups * 8; q++) {                              \
                uint64_t x = q < n ? (uint64_t)v[q] : 0;                                \
                acc |= x << nb;                                                         \
                nb += bit_width;                                                        \
                while (nb >= 8) {                                                       \
                    *p++ = (uint8_t)acc;                                                \
                    acc >>= 8;                                                          \
                    nb -= 8;                                                            \
                }                                                                       \
            }                                                                           \
            i = k < n ? k : n;                                                          \
        }                                                                               \
        out->len = (size_t)(p - out->data);                                             \
        return MT_OK;                                                                   \
    }

DEFINE_RLE_ENCODER(pq_rle_encode16, int16_t)
DEFINE_RLE_ENCODER(pq_rle_encode32, uint32_t)
