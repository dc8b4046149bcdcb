/*
 * wire.c — the driver<->worker byte path on raw unix sockets: frames in the
 * src/rpc format (header codec, byte buffers and token check are rpc's own,
 * from rpc/rpc_int.h), an open frame that grows by protobuf field appends so
 * a batch is built by concatenating already-packed specs, non-blocking
 * flush/fill, and a blocking connect + auth.
 *
 * Threads: no globals; each buffer/fd belongs to one thread at a time.
 * Invariants: off <= len <= cap; an open frame is addressed relative to the
 * buffer's `off` (reserving may compact the consumed prefix away), so `off`
 * must not move while a frame is open: close it before flushing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "proto/common.pb-c.h"
#include "proto/node.pb-c.h"
#include "worker/worker_int.h"

mt_status mt__wire_reserve(mt__rpc_buf *b, size_t extra, mt_error *err)
{
    if (!mt__rpc_buf_reserve(b, extra)) return mt_error_set(err, MT_ENOMEM, "wire buffer: %zu more bytes", extra);
    return MT_OK;
}

mt_status mt__wire_begin_frame(mt__rpc_buf *out, uint16_t method, uint16_t flags, uint64_t req_id,
                               int32_t status, size_t *hdr_off_out, mt_error *err)
{
    MT_RETURN_NOT_OK(mt__wire_reserve(out, MT_RPC_HEADER_BYTES, err));
    mt__rpc_hdr h = {0, method, flags, req_id, status};
    mt__rpc_hdr_put(out->data + out->len, &h);
    if (hdr_off_out) *hdr_off_out = out->len - out->off;
    out->len += MT_RPC_HEADER_BYTES;
    return MT_OK;
}

void mt__wire_patch_len(mt__rpc_buf *out, size_t hdr_off)
{
    uint8_t *p = out->data + out->off + hdr_off;
    mt__rpc_hdr h;
    mt__rpc_hdr_get(p, &h);
    h.len = (uint32_t)(out->data + out->len - p - MT_RPC_HEADER_BYTES);
    mt__rpc_hdr_put(p, &h);
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

mt_status mt__pb_append_field(mt__rpc_buf *out, uint32_t field, const ProtobufCMessage *msg,
                              mt_error *err)
{
    size_t sz = protobuf_c_message_get_packed_size(msg);
    MT_RETURN_NOT_OK(mt__wire_reserve(out, sz + 16, err));
    out->len += put_varint(out->data + out->len, ((uint64_t)field << 3) | 2);
    out->len += put_varint(out->data + out->len, sz);
    out->len += protobuf_c_message_pack(msg, out->data + out->len);
    return MT_OK;
}

mt_status mt__pb_append_bytes(mt__rpc_buf *out, uint32_t field, const void *p, size_t n,
                              mt_error *err)
{
    MT_RETURN_NOT_OK(mt__wire_reserve(out, n + 16, err));
    out->len += put_varint(out->data + out->len, ((uint64_t)field << 3) | 2);
    out->len += put_varint(out->data + out->len, n);
    if (n) memcpy(out->data + out->len, p, n);
    out->len += n;
    return MT_OK;
}

int mt__wire_next_frame(mt__rpc_buf *in, size_t max, mt_rpc_msg *msg)
{
    size_t avail = in->len - in->off;
    if (avail < MT_RPC_HEADER_BYTES) return 0;
    mt__rpc_hdr h;
    mt__rpc_hdr_get(in->data + in->off, &h);
    if (h.len > max) return -1;
    if (avail < MT_RPC_HEADER_BYTES + (size_t)h.len) return 0;
    *msg = (mt_rpc_msg){h.method, h.flags, h.req_id, h.status, in->data + in->off + MT_RPC_HEADER_BYTES, h.len, -1};
    in->off += MT_RPC_HEADER_BYTES + (size_t)h.len;
    return 1;
}

mt_status mt__wire_flush(int fd, mt__rpc_buf *out, mt_error *err)
{
    while (out->off < out->len) {
        ssize_t n = send(fd, out->data + out->off, out->len - out->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            out->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return mt_error_set_errno(err, MT_EIO, errno, "writing to worker connection");
    }
    if (out->off == out->len) out->off = out->len = 0;
    return MT_OK;
}

mt_status mt__wire_fill(int fd, mt__rpc_buf *in, bool *eof, mt_error *err)
{
    *eof = false;
    for (;;) {
        MT_RETURN_NOT_OK(mt__wire_reserve(in, 65536, err));
        ssize_t n = recv(fd, in->data + in->len, in->cap - in->len, MSG_DONTWAIT);
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

static mt_status wait_auth_reply(int fd, const char *address, mt_error *err)
{
    mt__rpc_buf in = {0};
    mt_status st = MT_OK;
    int64_t deadline = mt_time_now_ns() + MT_CFG_INT64(rpc_connect_timeout_ms) * 1000000;
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
    mt__rpc_buf_free(&in);
    return st;
}

/* Sends the Auth frame on a connected non-blocking socket. */
static mt_status send_auth(int fd, const uint8_t token[MT_RPC_TOKEN_BYTES], const char *kind, mt_id client_id,
                           mt_error *err)
{
    Manta__AuthRequest req = MANTA__AUTH_REQUEST__INIT;
    req.token.data = (uint8_t *)token;
    req.token.len = MT_RPC_TOKEN_BYTES;
    req.client_kind = (char *)kind;
    req.client_id.data = client_id.bytes;
    req.client_id.len = MT_ID_SIZE;
    req.pid = getpid();
    mt__rpc_buf out = {0};
    mt__rpc_hdr h = {0, MT_RPC_METHOD_AUTH, 0, 1, 0};
    mt_status st = mt__rpc_buf_frame(&out, &h, &req.base, NULL, 0, err);
    while (st == MT_OK && out.off < out.len) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 1000);
        st = mt__wire_flush(fd, &out, err);
    }
    mt__rpc_buf_free(&out);
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
    mt_status st = MT_OK;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        st = mt_error_set_errno(err, MT_EIO, errno, "connecting to worker %s", address);
    if (st == MT_OK) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        st = send_auth(fd, token, kind, client_id, err);
    }
    if (st == MT_OK) st = wait_auth_reply(fd, address, err);
    if (st != MT_OK) {
        close(fd);
        return st;
    }
    *fd_out = fd;
    return MT_OK;
}

void mt__wire_object_id_send(mt_rpc_client *c, uint16_t method, mt_id id)
{
    if (!c) return;
    uint8_t buf[64];
    Manta__ObjectIdRequest req = MANTA__OBJECT_ID_REQUEST__INIT;
    req.object_id.data = id.bytes;
    req.object_id.len = MT_ID_SIZE;
    size_t n = protobuf_c_message_pack(&req.base, buf);
    uint64_t rid;
    mt_rpc_client_send(c, method, MT_RPC_FLAG_ONEWAY, buf, n, &rid, NULL);
}
