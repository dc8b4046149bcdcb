/*
 * client.c — the blocking client: one non-blocking socket driven with
 * poll(2), for tools, tests and synchronous fast paths. Single-threaded:
 * callers serialise. A received frame's payload lives in the read buffer
 * until the next receive; descriptors passed with frames (SCM_RIGHTS) queue
 * in arrival order and are handed to the frame flagged MT_RPC_FLAG_FD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

struct mt_rpc_client {
    int fd;
    char addr[300];
    mt__rpc_buf in;
    size_t consumed; /* bytes of the frame handed out by the last recv */
    int rfds[16];
    int nrfds;
    uint64_t next_req;
    bool answered; /* the last call got a reply (success or error) from the peer */
    mt_rpc_client_stale_fn stale; /* replies that came after their call gave up */
    void *stale_ud;
};

static int64_t now_ms(void) { return mt_time_now_ns() / 1000000; }

/* Waits for `ev` on the socket until `deadline` (0 = forever). */
static mt_status wait_fd(mt_rpc_client *c, short ev, int64_t deadline, mt_error *err)
{
    for (;;) {
        int ms = -1;
        if (deadline) {
            int64_t left = deadline - now_ms();
            if (left <= 0) return MT_ETIMEOUT;
            ms = left > 1000000 ? 1000000 : (int)left;
        }
        struct pollfd p = {c->fd, ev, 0};
        int n = poll(&p, 1, ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return mt_error_set_errno(err, MT_EIO, errno, "poll on %s", c->addr);
        if (n > 0) return MT_OK;
    }
}

static mt_status lost(mt_rpc_client *c, mt_error *err)
{
    return mt_error_set(err, MT_EIO, "connection to %s lost", c->addr);
}

static mt_status write_all(mt_rpc_client *c, const uint8_t *p, size_t n, mt_error *err)
{
    while (n > 0) {
        ssize_t w = mt__rpc_sendmsg(c->fd, p, n, -1);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            mt_status st = wait_fd(c, POLLOUT, 0, err);
            if (st != MT_OK) return st;
            continue;
        }
        if (w < 0) return errno == EPIPE || errno == ECONNRESET ? lost(c, err)
                                                                : mt_error_set_errno(err, MT_EIO, errno, "writing to %s", c->addr);
        p += w;
        n -= (size_t)w;
    }
    return MT_OK;
}

static mt_status send_frame(mt_rpc_client *c, const mt__rpc_hdr *h, const ProtobufCMessage *msg,
                            const void *raw, size_t len, mt_error *err)
{
    mt__rpc_buf b = {0};
    uint8_t stackbuf[4096];
    size_t plen = msg ? protobuf_c_message_get_packed_size(msg) : len;
    mt_status st;
    if (plen + MT_RPC_HEADER_BYTES <= sizeof stackbuf && plen <= mt__rpc_max_frame()) {
        mt__rpc_hdr hh = *h;
        hh.len = (uint32_t)plen;
        mt__rpc_hdr_put(stackbuf, &hh);
        if (msg) protobuf_c_message_pack(msg, stackbuf + MT_RPC_HEADER_BYTES);
        else if (plen) memcpy(stackbuf + MT_RPC_HEADER_BYTES, raw, plen);
        return write_all(c, stackbuf, plen + MT_RPC_HEADER_BYTES, err);
    }
    st = mt__rpc_buf_frame(&b, h, msg, raw, len, err);
    if (st == MT_OK) st = write_all(c, b.data, b.len, err);
    mt__rpc_buf_free(&b);
    return st;
}

/* Reads more bytes into the buffer; MT_EIO on EOF. */
static mt_status fill(mt_rpc_client *c, int64_t deadline, mt_error *err)
{
    for (;;) {
        if (!mt__rpc_buf_reserve(&c->in, 65536))
            return mt_error_set(err, MT_ENOMEM, "rpc client: out of memory");
        ssize_t n = mt__rpc_recvmsg(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, c->rfds,
                                    &c->nrfds, 16);
        if (n > 0) {
            c->in.len += (size_t)n;
            return MT_OK;
        }
        if (n == 0) return lost(c, err);
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            if (errno == ECONNRESET) return lost(c, err);
            return mt_error_set_errno(err, MT_EIO, errno, "reading from %s", c->addr);
        }
        mt_status st = wait_fd(c, POLLIN, deadline, err);
        if (st != MT_OK) return st;
    }
}

static mt_status recv_until(mt_rpc_client *c, int64_t deadline, mt_rpc_msg *out, mt_error *err)
{
    c->in.off += c->consumed;
    c->consumed = 0;
    size_t maxf = mt__rpc_max_frame();
    for (;;) {
        size_t have = c->in.len - c->in.off, need;
        switch (mt__rpc_frame_parse(have ? c->in.data + c->in.off : NULL, have, maxf, c->nrfds > 0, out, &need)) {
        case MT__RPC_FRAME_OK:
            if (out->flags & MT_RPC_FLAG_FD) {
                out->fd = c->rfds[0];
                memmove(c->rfds, c->rfds + 1, (size_t)(--c->nrfds) * sizeof(int));
            }
            c->consumed = need;
            return MT_OK;
        case MT__RPC_FRAME_OVERSIZE:
            return mt_error_set(err, MT_ECORRUPT, "frame of %zu bytes from %s exceeds rpc_max_frame_bytes",
                                need - MT_RPC_HEADER_BYTES, c->addr);
        case MT__RPC_FRAME_NO_FD:
            return mt_error_set(err, MT_ECORRUPT, "frame from %s flagged with a descriptor carries none", c->addr);
        case MT__RPC_FRAME_NEED:
            if (need > MT_RPC_HEADER_BYTES && !mt__rpc_buf_reserve(&c->in, need - have))
                return mt_error_set(err, MT_ENOMEM, "rpc client: out of memory for a %zu-byte frame",
                                    need - MT_RPC_HEADER_BYTES);
            break;
        }
        mt_status st = fill(c, deadline, err);
        if (st != MT_OK) return st;
    }
}

mt_status mt_rpc_client_recv(mt_rpc_client *c, int64_t timeout_ms, mt_rpc_msg *out, mt_error *err)
{
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    mt_status st = recv_until(c, deadline, out, err);
    if (st == MT_ETIMEOUT)
        return mt_error_set(err, MT_ETIMEOUT, "receive from %s timed out after %lld ms", c->addr,
                            (long long)timeout_ms);
    return st;
}

mt_status mt_rpc_client_send(mt_rpc_client *c, uint16_t method, uint16_t flags, const void *payload,
                             size_t len, uint64_t *req_id_out, mt_error *err)
{
    mt__rpc_hdr h = {0, method, (uint16_t)(flags & ~MT_RPC_FLAG_FD), c->next_req++, 0};
    if (req_id_out) *req_id_out = h.req_id;
    return send_frame(c, &h, NULL, payload, len, err);
}

/* Decodes an error reply's Status into err. */
static mt_status remote_error(mt_rpc_client *c, const mt_rpc_msg *m, uint16_t method, mt_error *err)
{
    mt_status st = (mt_status)m->status;
    Manta__Status *s = manta__status__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (s && s->message && *s->message) mt_error_set(err, st, "%s", s->message);
    else mt_error_set(err, st, "call %u to %s failed: %s", method, c->addr, mt_status_message(st));
    if (s) manta__status__free_unpacked(s, &mt_rpc_pb_allocator);
    return st;
}

static mt_status wait_reply(mt_rpc_client *c, uint64_t id, uint16_t method, int64_t timeout_ms,
                            mt_rpc_msg *m, mt_error *err)
{
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    for (;;) {
        mt_status st = recv_until(c, deadline, m, err);
        if (st == MT_ETIMEOUT)
            return mt_error_set(err, MT_ETIMEOUT, "call %u to %s timed out after %lld ms", method,
                                c->addr, (long long)timeout_ms);
        if (st != MT_OK) return st;
        if ((m->flags & MT_RPC_FLAG_REPLY) && m->req_id == id) return MT_OK;
        if ((m->flags & MT_RPC_FLAG_REPLY) && c->stale) c->stale(c, m, c->stale_ud);
        if (m->fd >= 0) close(m->fd); /* a stale reply or a push: dropped */
    }
}

mt_status mt_rpc_client_call(mt_rpc_client *c, uint16_t method, const ProtobufCMessage *req,
                             const ProtobufCMessageDescriptor *reply_desc, int64_t timeout_ms,
                             ProtobufCMessage **reply_out, int *fd_out, mt_error *err)
{
    if (reply_out) *reply_out = NULL;
    if (fd_out) *fd_out = -1;
    mt__rpc_hdr h = {0, method, 0, c->next_req++, 0};
    c->answered = false;
    MT_RETURN_NOT_OK(send_frame(c, &h, req, NULL, 0, err));
    mt_rpc_msg m;
    MT_RETURN_NOT_OK(wait_reply(c, h.req_id, method, timeout_ms, &m, err));
    c->answered = true;
    if (m.status != MT_OK) {
        if (m.fd >= 0) close(m.fd);
        return remote_error(c, &m, method, err);
    }
    if (reply_desc && reply_out) {
        *reply_out = protobuf_c_message_unpack(reply_desc, &mt_rpc_pb_allocator, m.len, m.payload);
        if (!*reply_out) {
            if (m.fd >= 0) close(m.fd);
            return mt_error_set(err, MT_ECORRUPT, "call %u to %s: undecodable %s reply", method,
                                c->addr, reply_desc->name);
        }
    }
    if (fd_out) *fd_out = m.fd;
    else if (m.fd >= 0) close(m.fd);
    return MT_OK;
}

static mt_status authenticate(mt_rpc_client *c, const uint8_t *token, const char *kind, mt_id id,
                              int64_t deadline, mt_error *err)
{
    Manta__AuthRequest ar = MANTA__AUTH_REQUEST__INIT;
    ar.token.data = (uint8_t *)token;
    ar.token.len = MT_RPC_TOKEN_BYTES;
    ar.client_kind = (char *)(kind ? kind : "cli");
    ar.client_id.data = id.bytes;
    ar.client_id.len = MT_ID_SIZE;
    ar.pid = (int32_t)getpid();
    mt__rpc_hdr h = {0, MT_RPC_METHOD_AUTH, 0, 0, 0};
    MT_RETURN_NOT_OK(send_frame(c, &h, &ar.base, NULL, 0, err));
    mt_rpc_msg m;
    mt_status st = recv_until(c, deadline, &m, err);
    if (st == MT_ETIMEOUT)
        return mt_error_set(err, MT_ETIMEOUT, "authenticating to %s timed out", c->addr);
    if (st != MT_OK) return mt_error_prefix(err, "authenticating");
    if (m.fd >= 0) close(m.fd);
    if (m.method != MT_RPC_METHOD_AUTH || !(m.flags & MT_RPC_FLAG_REPLY))
        return mt_error_set(err, MT_ECORRUPT, "authenticating to %s: unexpected frame method %u",
                            c->addr, m.method);
    if (m.status != MT_OK) return remote_error(c, &m, MT_RPC_METHOD_AUTH, err);
    return MT_OK;
}

static mt_status connect_wait(mt_rpc_client *c, int64_t deadline, mt_error *err)
{
    mt_status st = wait_fd(c, POLLOUT, deadline, err);
    if (st == MT_ETIMEOUT)
        return mt_error_set(err, MT_ETIMEOUT, "connecting to %s timed out", c->addr);
    if (st != MT_OK) return st;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) return mt_error_set_errno(err, MT_EIO, soerr, "connecting to %s", c->addr);
    return MT_OK;
}

mt_status mt_rpc_client_connect(const char *address, const uint8_t token[MT_RPC_TOKEN_BYTES],
                                const char *client_kind, int64_t timeout_ms,
                                mt_rpc_client **out, mt_error *err)
{
    return mt_rpc_client_connect_id(address, token, client_kind, mt_id_random(), timeout_ms, out, err);
}

mt_status mt_rpc_client_connect_id(const char *address, const uint8_t token[MT_RPC_TOKEN_BYTES],
                                   const char *client_kind, mt_id client_id, int64_t timeout_ms,
                                   mt_rpc_client **out, mt_error *err)
{
    *out = NULL;
    mt_rpc_addr a;
    MT_RETURN_NOT_OK(mt_rpc_addr_parse(address, &a, err));
    if (timeout_ms <= 0) timeout_ms = MT_CFG_INT64(rpc_connect_timeout_ms);
    int64_t deadline = now_ms() + timeout_ms;
    mt_rpc_client *c = mt_calloc(1, sizeof *c);
    if (!c) return mt_error_set(err, MT_ENOMEM, "rpc client: out of memory");
    c->next_req = 1;
    mt__rpc_addr_format(&a, c->addr, sizeof c->addr);
    bool inprog;
    mt_status st = mt__rpc_sock_connect(&a, &c->fd, &inprog, err);
    if (st != MT_OK) {
        mt_free(c);
        return st;
    }
    if (inprog) st = connect_wait(c, deadline, err);
    if (st == MT_OK) st = authenticate(c, token, client_kind, client_id, deadline, err);
    if (st != MT_OK) {
        mt_rpc_client_close(c);
        return st;
    }
    *out = c;
    return MT_OK;
}

bool mt_rpc_client_peer_closed(const mt_rpc_client *c)
{
    if (!c || c->fd < 0) return true;
    struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return true;
    if (!(p.revents & (POLLIN | POLLRDHUP))) return false;
    char b;
    ssize_t k = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

mt_status mt_rpc_client_redial(mt_rpc_client *c, const uint8_t token[MT_RPC_TOKEN_BYTES], const char *client_kind,
                               mt_id client_id, int64_t timeout_ms, mt_error *err)
{
    mt_rpc_client *fresh = NULL;
    MT_RETURN_NOT_OK(mt_rpc_client_connect_id(c->addr, token, client_kind, client_id, timeout_ms, &fresh, err));
    if (c->fd >= 0) close(c->fd);
    for (int i = 0; i < c->nrfds; i++) close(c->rfds[i]);
    mt__rpc_buf_free(&c->in);
    fresh->stale = c->stale;
    fresh->stale_ud = c->stale_ud;
    *c = *fresh; /* the same struct, so whoever holds c keeps it */
    mt_free(fresh);
    return MT_OK;
}

int mt_rpc_client_fd(const mt_rpc_client *c) { return c ? c->fd : -1; }

bool mt_rpc_client_answered(const mt_rpc_client *c) { return c && c->answered; }

void mt_rpc_client_on_stale(mt_rpc_client *c, mt_rpc_client_stale_fn fn, void *ud)
{
    c->stale = fn;
    c->stale_ud = ud;
}

bool mt_rpc_client_buffered(const mt_rpc_client *c)
{
    if (!c) return false;
    size_t have = c->in.len - c->in.off - c->consumed;
    if (have < MT_RPC_HEADER_BYTES) return false;
    mt__rpc_hdr h;
    mt__rpc_hdr_get(c->in.data + c->in.off + c->consumed, &h);
    return have >= MT_RPC_HEADER_BYTES + (size_t)h.len;
}

void mt_rpc_client_close(mt_rpc_client *c)
{
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    for (int i = 0; i < c->nrfds; i++) close(c->rfds[i]);
    mt__rpc_buf_free(&c->in);
    mt_free(c);
}
