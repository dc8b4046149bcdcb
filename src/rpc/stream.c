/*
 * stream.c — framed streams on a raw non-blocking socket (rpc.h): the
 * frames, parser and authentication gate of the uv transport, for callers
 * that run their own poll loop (workers, the driver's task pushes). Frames
 * are built in place: an open frame grows by protobuf field appends, so a
 * batch is the concatenation of already-packed specs.
 *
 * Threads: none of its own; a stream belongs to one thread at a time.
 * Invariants: see rpc.h (off <= len <= cap; `off` must not move while a
 * frame is open). A server stream hands out no frame before its peer's
 * Auth frame passed mt__rpc_auth_check.
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
#include "rpc/rpc_int.h"

mt_status mt_rpc_buf_reserve(mt_rpc_buf *b, size_t extra, mt_error *err)
{
    if (!mt__rpc_buf_reserve(b, extra)) return mt_error_set(err, MT_ENOMEM, "rpc buffer: %zu more bytes", extra);
    return MT_OK;
}

void mt_rpc_buf_free(mt_rpc_buf *b) { mt__rpc_buf_free(b); }

size_t mt_rpc_max_frame(void) { return mt__rpc_max_frame(); }

int mt_rpc_accept(int lfd, int *spare, const char *where) { return mt__rpc_accept(lfd, spare, where); }

mt_status mt_rpc_buf_begin_frame(mt_rpc_buf *out, uint16_t method, uint16_t flags, uint64_t req_id,
                                 int32_t status, size_t *hdr_off_out, mt_error *err)
{
    MT_RETURN_NOT_OK(mt_rpc_buf_reserve(out, MT_RPC_HEADER_BYTES, err));
    mt__rpc_hdr h = {0, method, flags, req_id, status};
    mt__rpc_hdr_put(out->data + out->len, &h);
    if (hdr_off_out) *hdr_off_out = out->len - out->off;
    out->len += MT_RPC_HEADER_BYTES;
    return MT_OK;
}

void mt_rpc_buf_patch_len(mt_rpc_buf *out, size_t hdr_off)
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

mt_status mt_rpc_buf_append_field(mt_rpc_buf *out, uint32_t field, const ProtobufCMessage *msg,
                                  mt_error *err)
{
    size_t sz = protobuf_c_message_get_packed_size(msg);
    MT_RETURN_NOT_OK(mt_rpc_buf_reserve(out, sz + 16, err));
    out->len += put_varint(out->data + out->len, ((uint64_t)field << 3) | 2);
    out->len += put_varint(out->data + out->len, sz);
    out->len += protobuf_c_message_pack(msg, out->data + out->len);
    return MT_OK;
}

mt_status mt_rpc_buf_append_bytes(mt_rpc_buf *out, uint32_t field, const void *p, size_t n,
                                  mt_error *err)
{
    MT_RETURN_NOT_OK(mt_rpc_buf_reserve(out, n + 16, err));
    out->len += put_varint(out->data + out->len, ((uint64_t)field << 3) | 2);
    out->len += put_varint(out->data + out->len, n);
    if (n) memcpy(out->data + out->len, p, n);
    out->len += n;
    return MT_OK;
}

void mt_rpc_stream_accept(mt_rpc_stream *s, int fd, const uint8_t token[MT_RPC_TOKEN_BYTES],
                          mt_id server_id, int64_t auth_timeout_ms)
{
    memset(s, 0, sizeof *s);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->fd = fd;
    s->token = token;
    s->server_id = server_id;
    s->auth_deadline_ns = mt_time_now_ns() + auth_timeout_ms * 1000000;
}

bool mt_rpc_stream_auth_expired(const mt_rpc_stream *s, int64_t now_ns)
{
    return !s->authed && now_ns >= s->auth_deadline_ns;
}

void mt_rpc_stream_close(mt_rpc_stream *s)
{
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    mt__rpc_buf_free(&s->in);
    mt__rpc_buf_free(&s->out);
    s->authed = false;
}

mt_status mt_rpc_stream_flush(mt_rpc_stream *s, mt_error *err)
{
    mt_rpc_buf *out = &s->out;
    while (out->off < out->len) {
        ssize_t n = send(s->fd, out->data + out->off, out->len - out->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            out->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return mt_error_set_errno(err, MT_EIO, errno, "writing to a stream");
    }
    if (out->off == out->len) out->off = out->len = 0;
    return MT_OK;
}

mt_status mt_rpc_stream_fill(mt_rpc_stream *s, bool *eof, mt_error *err)
{
    mt_rpc_buf *in = &s->in;
    *eof = false;
    for (;;) {
        MT_RETURN_NOT_OK(mt_rpc_buf_reserve(in, 65536, err));
        ssize_t n = recv(s->fd, in->data + in->len, in->cap - in->len, MSG_DONTWAIT);
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

/* A server stream's first frame: the gate shared with the uv servers. */
static bool take_auth(mt_rpc_stream *s, const mt_rpc_msg *m)
{
    char why[96];
    if (!mt__rpc_auth_check(m, s->token, why, sizeof why)) {
        MT_LOG(MT_LOG_WARN, "RPC-AUTH", "closing a stream connection: %s", why);
        return false;
    }
    mt__rpc_auth_client_id(m, &s->peer_id);
    Manta__AuthReply rep = MANTA__AUTH_REPLY__INIT;
    rep.server_id.data = s->server_id.bytes;
    rep.server_id.len = MT_ID_SIZE;
    mt__rpc_hdr h = {0, MT_RPC_METHOD_AUTH, MT_RPC_FLAG_REPLY, m->req_id, 0};
    if (mt__rpc_buf_frame(&s->out, &h, &rep.base, NULL, 0, NULL) != MT_OK) return false;
    s->authed = true;
    return true;
}

int mt_rpc_stream_next(mt_rpc_stream *s, size_t max, mt_rpc_msg *msg)
{
    for (;;) {
        mt_rpc_buf *in = &s->in;
        size_t have = in->len - in->off, need;
        size_t cap = s->authed ? max : MT_RPC_PREAUTH_MAX_FRAME;
        switch (mt__rpc_frame_parse(have ? in->data + in->off : NULL, have, cap, false, msg, &need)) {
        case MT__RPC_FRAME_NEED:
            return 0;
        case MT__RPC_FRAME_OVERSIZE:
            MT_LOG(MT_LOG_WARN, "RPC-BAD-FRAME", "closing a stream connection: a %zu-byte frame exceeds %zu",
                   need - MT_RPC_HEADER_BYTES, cap);
            return -1;
        case MT__RPC_FRAME_NO_FD:
            MT_LOG(MT_LOG_WARN, "RPC-BAD-FRAME", "closing a stream connection: a frame flagged with a descriptor");
            return -1;
        case MT__RPC_FRAME_OK:
            break;
        }
        in->off += need;
        if (s->authed) return 1;
        if (!take_auth(s, msg)) return -1;
    }
}

static mt_status wait_auth_reply(mt_rpc_stream *s, const char *address, mt_error *err)
{
    mt_status st = MT_OK;
    int64_t deadline = mt_time_now_ns() + MT_CFG_INT64(rpc_connect_timeout_ms) * 1000000;
    s->authed = true; /* a client reads the server's frames as they come */
    for (;;) {
        mt_rpc_msg m;
        int r = mt_rpc_stream_next(s, MT_RPC_PREAUTH_MAX_FRAME, &m);
        if (r == 1) {
            if (m.status != 0 || m.method != MT_RPC_METHOD_AUTH)
                st = mt_error_set(err, MT_EIO, "%s refused authentication", address);
            break;
        }
        int64_t left = (deadline - mt_time_now_ns()) / 1000000;
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        bool eof = false;
        if (r < 0 || left <= 0 || poll(&p, 1, (int)left) <= 0 || mt_rpc_stream_fill(s, &eof, err) != MT_OK ||
            eof) {
            st = mt_error_set(err, MT_EIO, "authenticating to %s failed", address);
            break;
        }
    }
    return st;
}

/* Sends the Auth frame and waits until it has left. */
static mt_status send_auth(mt_rpc_stream *s, const uint8_t token[MT_RPC_TOKEN_BYTES], const char *kind,
                           mt_id client_id, mt_error *err)
{
    Manta__AuthRequest req = MANTA__AUTH_REQUEST__INIT;
    req.token.data = (uint8_t *)token;
    req.token.len = MT_RPC_TOKEN_BYTES;
    req.client_kind = (char *)kind;
    req.client_id.data = client_id.bytes;
    req.client_id.len = MT_ID_SIZE;
    req.pid = getpid();
    mt__rpc_hdr h = {0, MT_RPC_METHOD_AUTH, 0, 1, 0};
    mt_status st = mt__rpc_buf_frame(&s->out, &h, &req.base, NULL, 0, err);
    int64_t deadline = mt_time_now_ns() + MT_CFG_INT64(rpc_connect_timeout_ms) * 1000000;
    while (st == MT_OK && s->out.off < s->out.len) {
        if (mt_time_now_ns() > deadline) return mt_error_set(err, MT_ETIMEOUT, "sending authentication");
        struct pollfd p = {.fd = s->fd, .events = POLLOUT};
        poll(&p, 1, 100);
        st = mt_rpc_stream_flush(s, err);
    }
    return st;
}

mt_status mt_rpc_stream_connect(mt_rpc_stream *s, const char *address,
                                const uint8_t token[MT_RPC_TOKEN_BYTES], const char *kind,
                                mt_id client_id, mt_error *err)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    mt_rpc_addr a;
    MT_RETURN_NOT_OK(mt_rpc_addr_parse(address, &a, err));
    int fd = -1;
    bool inprogress = false;
    MT_RETURN_NOT_OK(mt__rpc_sock_connect(&a, &fd, &inprogress, err)); /* unix, or tcp (a worker of another node) */
    s->fd = fd;
    mt_status st = MT_OK;
    if (inprogress) { /* wait for the connect, bounded like every connect */
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t len = sizeof soerr;
        int rc = poll(&p, 1, (int)MT_CFG_INT64(rpc_connect_timeout_ms));
        if (rc <= 0) st = mt_error_set(err, MT_ETIMEOUT, "connecting to %s: timed out", address);
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr)
            st = mt_error_set_errno(err, MT_EIO, soerr ? soerr : errno, "connecting to %s", address);
    }
    if (st == MT_OK) st = send_auth(s, token, kind, client_id, err);
    if (st == MT_OK) st = wait_auth_reply(s, address, err);
    if (st != MT_OK) mt_rpc_stream_close(s);
    return st;
}
