/*
 * wire.c — the driver<->worker byte path: growable buffers, frame headers
 * (the 24-byte format of proto/common.proto), protobuf field appends that
 * let a batch be built by concatenating already-packed specs, non-blocking
 * flush/fill on raw sockets, and a blocking connect + auth.
 *
 * Threads: no globals; each buffer/fd belongs to one thread at a time.
 * Invariant: off <= len <= cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/common.pb-c.h"
#include "worker/worker_int.h"

mt_status mt__wbuf_reserve(mt__wbuf *b, size_t extra, mt_error *err)
{
    if (b->len + extra <= b->cap) return MT_OK;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *p = mt_realloc(b->p, cap);
    if (!p) return mt_error_set(err, MT_ENOMEM, "wire buffer of %zu bytes", cap);
    b->p = p;
    b->cap = cap;
    return MT_OK;
}

void mt__wbuf_free(mt__wbuf *b)
{
    mt_free(b->p);
    memset(b, 0, sizeof *b);
}

void mt__wbuf_compact(mt__wbuf *b)
{
    if (b->off == b->len) {
        b->off = b->len = 0;
    } else if (b->off > 65536 && b->off * 2 > b->len) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

mt_status mt__wire_begin_frame(mt__wbuf *out, uint16_t method, uint16_t flags, uint64_t req_id,
                               int32_t status, size_t *hdr_off_out, mt_error *err)
{
    MT_RETURN_NOT_OK(mt__wbuf_reserve(out, MT_RPC_HEADER_BYTES, err));
    uint8_t *h = out->p + out->len;
    put_le(h, 0, 4);
    put_le(h + 4, method, 2);
    put_le(h + 6, flags, 2);
    put_le(h + 8, req_id, 8);
    put_le(h + 16, (uint32_t)status, 4);
    put_le(h + 20, 0, 4);
    if (hdr_off_out) *hdr_off_out = out->len;
    out->len += MT_RPC_HEADER_BYTES;
    return MT_OK;
}

void mt__wire_patch_len(mt__wbuf *out, size_t hdr_off)
{
    put_le(out->p + hdr_off, out->len - hdr_off - MT_RPC_HEADER_BYTES, 4);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

mt_status mt__pb_append_field(mt__wbuf *out, uint32_t field, const ProtobufCMessage *msg,
                              mt_error *err)
{
    size_t sz = protobuf_c_message_get_packed_size(msg);
    MT_RETURN_NOT_OK(mt__wbuf_reserve(out, sz + 16, err));
    out->len += put_varint(out->p + out->len, ((uint64_t)field << 3) | 2);
    out->len += put_varint(out->p + out->len, sz);
    out->len += protobuf_c_message_pack(msg, out->p + out->len);
    return MT_OK;
}

mt_status mt__pb_append_bytes(mt__wbuf *out, uint32_t field, const void *p, size_t n,
                              mt_error *err)
{
    MT_RETURN_NOT_OK(mt__wbuf_reserve(out, n + 16, err));
    out->len += put_varint(out->p + out->len, ((uint64_t)field << 3) | 2);
    out->len += put_varint(out->p + out->len, n);
    if (n) memcpy(out->p + out->len, p, n);
    out->len += n;
    return MT_OK;
}

int mt__wire_next_frame(mt__wbuf *in, size_t max, mt_rpc_msg *msg)
{
    size_t avail = in->len - in->off;
    if (avail < MT_RPC_HEADER_BYTES) return 0;
    const uint8_t *h = in->p + in->off;
    uint64_t len = get_le(h, 4);
    if (len > max) return -1;
    if (avail < MT_RPC_HEADER_BYTES + len) return 0;
    msg->method = (uint16_t)get_le(h + 4, 2);
    msg->flags = (uint16_t)get_le(h + 6, 2);
    msg->req_id = get_le(h + 8, 8);
    msg->status = (int32_t)get_le(h + 16, 4);
    msg->payload = h + MT_RPC_HEADER_BYTES;
    msg->len = (size_t)len;
    msg->fd = -1;
    in->off += MT_RPC_HEADER_BYTES + (size_t)len;
    return 1;
}

mt_status mt__wire_flush(int fd, mt__wbuf *out, mt_error *err)
{
    while (out->off < out->len) {
        ssize_t n = send(fd, out->p + out->off, out->len - out->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            out->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return mt_error_set_errno(err, MT_EIO, errno, "writing to worker connection");
    }
    mt__wbuf_compact(out);
    return MT_OK;
}

mt_status mt__wire_fill(int fd, mt__wbuf *in, bool *eof, mt_error *err)
{
    *eof = false;
    mt__wbuf_compact(in);
    for (;;) {
        MT_RETURN_NOT_OK(mt__wbuf_reserve(in, 65536, err));
        ssize_t n = recv(fd, in->p + in->len, in->cap - in->len, MSG_DONTWAIT);
        if (n > 0) {
            in->len += (size_t)n;
            if ((size_t)n < 65536) return MT_OK;
            continue;
        }
        if (n == 0) {
            *eof = true;
            return MT_OK;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MT_OK;
        *eof = true;
        return MT_OK;
    }
}

bool mt__wire_token_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

static mt_status wait_auth_reply(int fd, const char *address, mt_error *err)
{
    mt__wbuf in = {0};
    mt_status st = MT_OK;
    int64_t deadline = mt_time_now_ns() + mt_config_int64("rpc_connect_timeout_ms") * 1000000;
    for (;;) {
        mt_rpc_msg m;
        int r = mt__wire_next_frame(&in, 4096, &m);
        if (r == 1) {
            if (m.status != 0)
                st = mt_error_set(err, MT_EIO, "worker %s refused authentication", address);
            break;
        }
        int64_t left = (deadline - mt_time_now_ns()) / 1000000;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        bool eof = false;
        if (r < 0 || left <= 0 || poll(&p, 1, (int)left) <= 0 ||
            mt__wire_fill(fd, &in, &eof, err) != MT_OK || eof) {
            st = mt_error_set(err, MT_EIO, "authenticating to worker %s failed", address);
            break;
        }
    }
    mt__wbuf_free(&in);
    return st;
}

mt_status mt__wire_connect(const char *address, const uint8_t token[MT_RPC_TOKEN_BYTES],
                           const char *kind, mt_id client_id, int *fd_out, mt_error *err)
{
    mt_rpc_addr a;
    MT_RETURN_NOT_OK(mt_rpc_addr_parse(address, &a, err));
    if (!a.is_unix) return mt_error_set(err, MT_EUNSUPPORTED, "worker address %s is not a unix socket", address);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "socket");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", a.path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        mt_status st = mt_error_set_errno(err, MT_EIO, errno, "connecting to worker %s", address);
        close(fd);
        return st;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    Manta__AuthRequest req = MANTA__AUTH_REQUEST__INIT;
    req.token.data = (uint8_t *)token;
    req.token.len = MT_RPC_TOKEN_BYTES;
    req.client_kind = (char *)kind;
    req.client_id.data = client_id.bytes;
    req.client_id.len = MT_ID_SIZE;
    req.pid = getpid();
    mt__wbuf out = {0};
    size_t h;
    mt_status st = mt__wire_begin_frame(&out, MT_RPC_METHOD_AUTH, 0, 1, 0, &h, err);
    if (st == MT_OK) {
        MT_RETURN_NOT_OK(mt__wbuf_reserve(&out, protobuf_c_message_get_packed_size(&req.base), err));
        out.len += protobuf_c_message_pack(&req.base, out.p + out.len);
        mt__wire_patch_len(&out, h);
        while (st == MT_OK && out.off < out.len) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 1000);
            st = mt__wire_flush(fd, &out, err);
        }
    }
    mt__wbuf_free(&out);
    if (st == MT_OK) st = wait_auth_reply(fd, address, err);
    if (st != MT_OK) {
        close(fd);
        return st;
    }
    *fd_out = fd;
    return MT_OK;
}
