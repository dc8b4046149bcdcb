/*
 * frame.c — the 24-byte frame header codec (little-endian), the frame
 * parser both readers use, the server's Auth-frame check, the growable byte
 * buffers connections read into and write from, frame encoding, and the
 * protobuf-c allocator on mt_malloc. Pure functions; any thread.
 */
#include <stdio.h>
#include <string.h>

#include "core/config_keys.h"
#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

static void *pb_alloc(void *ad, size_t n)
{
    (void)ad;
    return mt_malloc(n ? n : 1);
}

static void pb_free(void *ad, void *p)
{
    (void)ad;
    mt_free(p);
}

ProtobufCAllocator mt_rpc_pb_allocator = {pb_alloc, pb_free, NULL};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32); }

void mt__rpc_hdr_put(uint8_t *p, const mt__rpc_hdr *h)
{
    put32(p, h->len);
    put16(p + 4, h->method);
    put16(p + 6, h->flags);
    put64(p + 8, h->req_id);
    put32(p + 16, (uint32_t)h->status);
    put32(p + 20, 0);
}

void mt__rpc_hdr_get(const uint8_t *p, mt__rpc_hdr *h)
{
    h->len = get32(p);
    h->method = get16(p + 4);
    h->flags = get16(p + 6);
    h->req_id = get64(p + 8);
    h->status = (int32_t)get32(p + 16);
}

size_t mt__rpc_max_frame(void)
{
    int64_t v = MT_CFG_INT64(rpc_max_frame_bytes);
    if (v <= 0 || v > (int64_t)UINT32_MAX) v = UINT32_MAX;
    return (size_t)v;
}

mt__rpc_frame_result mt__rpc_frame_parse(const uint8_t *p, size_t have, size_t max_frame,
                                         bool fd_available, mt_rpc_msg *out, size_t *need)
{
    *need = MT_RPC_HEADER_BYTES;
    if (have < MT_RPC_HEADER_BYTES) return MT__RPC_FRAME_NEED;
    mt__rpc_hdr h;
    mt__rpc_hdr_get(p, &h);
    *need = MT_RPC_HEADER_BYTES + (size_t)h.len;
    if (h.len > max_frame) return MT__RPC_FRAME_OVERSIZE;
    if (have < *need) return MT__RPC_FRAME_NEED;
    if ((h.flags & MT_RPC_FLAG_FD) && !fd_available) return MT__RPC_FRAME_NO_FD;
    *out = (mt_rpc_msg){h.method, h.flags, h.req_id, h.status, p + MT_RPC_HEADER_BYTES, h.len, -1};
    return MT__RPC_FRAME_OK;
}

bool mt__rpc_auth_check(const mt_rpc_msg *m, const uint8_t token[MT_RPC_TOKEN_BYTES], char *why,
                        size_t cap)
{
    if (m->method != MT_RPC_METHOD_AUTH || (m->flags & (MT_RPC_FLAG_REPLY | MT_RPC_FLAG_ONEWAY))) {
        snprintf(why, cap, "first frame is method %u, not Auth", m->method);
        return false;
    }
    Manta__AuthRequest *ar = manta__auth_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!ar) {
        snprintf(why, cap, "undecodable AuthRequest");
        return false;
    }
    bool ok = ar->token.len == MT_RPC_TOKEN_BYTES &&
              mt__rpc_token_equal(ar->token.data, token, MT_RPC_TOKEN_BYTES);
    manta__auth_request__free_unpacked(ar, &mt_rpc_pb_allocator);
    if (!ok) snprintf(why, cap, "wrong token");
    return ok;
}

bool mt__rpc_auth_client_id(const mt_rpc_msg *m, mt_id *out)
{
    Manta__AuthRequest *ar = manta__auth_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    bool ok = ar && ar->client_id.len == MT_ID_SIZE;
    if (ok) memcpy(out->bytes, ar->client_id.data, MT_ID_SIZE);
    if (ar) manta__auth_request__free_unpacked(ar, &mt_rpc_pb_allocator);
    return ok;
}

bool mt__rpc_token_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    volatile uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= (uint8_t)(a[i] ^ b[i]);
    return acc == 0;
}

bool mt__rpc_buf_reserve(mt__rpc_buf *b, size_t n)
{
    if (b->off == b->len) b->off = b->len = 0;
    if (b->cap - b->len >= n) return true;
    if (b->off > 0 && b->cap - (b->len - b->off) >= n) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        return true;
    }
    size_t need = b->len - b->off + n, cap = b->cap ? b->cap : 4096;
    while (cap < need) cap *= 2;
    uint8_t *d = mt_malloc(cap);
    if (!d) return false;
    if (b->len > b->off) memcpy(d, b->data + b->off, b->len - b->off);
    mt_free(b->data);
    b->data = d;
    b->len -= b->off;
    b->off = 0;
    b->cap = cap;
    return true;
}

void mt__rpc_buf_free(mt__rpc_buf *b)
{
    mt_free(b->data);
    memset(b, 0, sizeof *b);
}

mt_status mt__rpc_buf_frame(mt__rpc_buf *b, const mt__rpc_hdr *h, const ProtobufCMessage *msg,
                            const void *raw, size_t rawlen, mt_error *err)
{
    size_t plen = msg ? protobuf_c_message_get_packed_size(msg) : rawlen;
    if (plen > mt__rpc_max_frame() || plen > UINT32_MAX)
        return mt_error_set(err, MT_ERANGE, "rpc frame of %zu bytes exceeds rpc_max_frame_bytes %zu",
                            plen, mt__rpc_max_frame());
    if (!mt__rpc_buf_reserve(b, MT_RPC_HEADER_BYTES + plen))
        return mt_error_set(err, MT_ENOMEM, "rpc: out of memory queueing a %zu-byte frame", plen);
    mt__rpc_hdr hh = *h;
    hh.len = (uint32_t)plen;
    uint8_t *p = b->data + b->len;
    mt__rpc_hdr_put(p, &hh);
    if (msg) protobuf_c_message_pack(msg, p + MT_RPC_HEADER_BYTES);
    else if (plen) memcpy(p + MT_RPC_HEADER_BYTES, raw, plen);
    b->len += MT_RPC_HEADER_BYTES + plen;
    return MT_OK;
}

mt_status mt_rpc_frame_encode(uint16_t method, uint16_t flags, uint64_t req_id, int32_t status,
                              const ProtobufCMessage *msg, uint8_t **out, size_t *len_out,
                              mt_error *err)
{
    *out = NULL;
    *len_out = 0;
    mt__rpc_buf b = {0};
    mt__rpc_hdr h = {0, method, flags, req_id, status};
    mt_status st = mt__rpc_buf_frame(&b, &h, msg, NULL, 0, err);
    if (st != MT_OK) {
        mt__rpc_buf_free(&b);
        return st;
    }
    *out = b.data;
    *len_out = b.len;
    return MT_OK;
}
