/*
 * conn.c — the async connection's I/O: a raw non-blocking socket watched by
 * a uv_poll handle; one growing read buffer (all complete frames parsed per
 * read); one output buffer of encoded frames flushed from a uv_prepare
 * handle, so every frame queued during one loop iteration leaves in as few
 * send calls as possible, just before the loop blocks. Descriptors travel
 * with the frame they belong to (SCM_RIGHTS on the send that starts it).
 *
 * Threads: the loop thread of the connection only.
 * Invariants: a conn's memory lives until all its handles have closed, so
 * code that ran a user callback re-checks c->closing / c->sock and stops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

static void conn_close_obj(void *obj) { mt_rpc_conn_close(obj); }

mt_rpc_conn *mt__rpc_conn_new(uv_loop_t *loop, const mt_rpc_handlers *h, void *ud)
{
    mt_rpc_conn *c = mt_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->loop = loop;
    if (h) c->h = *h;
    c->ud = ud;
    c->peer_pid = -1;
    c->next_req = 1;
    c->nrfds = 0;
    uv_prepare_init(loop, &c->flush);
    uv_timer_init(loop, &c->call_timer);
    uv_timer_init(loop, &c->dial_timer);
    c->flush.data = c->call_timer.data = c->dial_timer.data = c;
    c->handles_open = 3;
    mt__rpc_registry_add(loop, c, conn_close_obj);
    return c;
}

static void sock_close_cb(uv_handle_t *h)
{
    mt__rpc_sock *s = h->data;
    close(s->fd);
    mt_free(s);
}

static void poll_cb(uv_poll_t *p, int status, int events);

void mt__rpc_conn_poll_events(mt_rpc_conn *c, int events)
{
    if (!c->sock || c->sock->events == events) return;
    c->sock->events = events;
    uv_poll_start(&c->sock->poll, events, poll_cb);
}

mt_status mt__rpc_conn_attach(mt_rpc_conn *c, int fd, mt_error *err)
{
    mt__rpc_sock *s = mt_calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return mt_error_set(err, MT_ENOMEM, "rpc: out of memory");
    }
    s->fd = fd;
    s->conn = c;
    int rc = uv_poll_init(c->loop, &s->poll, fd);
    if (rc != 0) {
        close(fd);
        mt_free(s);
        return mt_error_set(err, MT_EIO, "rpc: watching socket: %s", uv_strerror(rc));
    }
    s->poll.data = s;
    c->sock = s;
    if (c->is_unix) {
        struct ucred cr;
        socklen_t sl = sizeof cr;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) == 0 && cr.pid > 0)
            c->peer_pid = cr.pid;
    }
    return MT_OK;
}

void mt__rpc_conn_drop_sock(mt_rpc_conn *c)
{
    if (c->sock) {
        c->sock->conn = NULL;
        uv_close((uv_handle_t *)&c->sock->poll, sock_close_cb);
        c->sock = NULL;
    }
}

void mt__rpc_conn_detach(mt_rpc_conn *c)
{
    mt__rpc_conn_drop_sock(c);
    for (size_t i = 0; i < c->nfds; i++) close(c->fds[i].fd);
    c->nfds = 0;
    for (int i = 0; i < c->nrfds; i++) close(c->rfds[i]);
    c->nrfds = 0;
    c->out.off = c->out.len = 0;
    c->out_pos = c->sent_pos = 0;
    c->in.off = c->in.len = 0;
    if (c->flush_armed) uv_prepare_stop(&c->flush);
    c->flush_armed = false;
}

/* The socket failed or the peer sent garbage. */
static void lost(mt_rpc_conn *c)
{
    if (c->is_server) mt_rpc_conn_close(c);
    else mt__rpc_dial_lost(c);
}

static void do_flush(mt_rpc_conn *c);

static void flush_cb(uv_prepare_t *p)
{
    mt_rpc_conn *c = p->data;
    uv_prepare_stop(p);
    c->flush_armed = false;
    do_flush(c);
}

void mt__rpc_conn_arm_flush(mt_rpc_conn *c)
{
    if (c->flush_armed || !c->sock || c->state == RPC_ST_CONNECTING) return;
    c->flush_armed = true;
    uv_prepare_start(&c->flush, flush_cb);
}

/* Writes out as much of `out` as the socket takes, one sendmsg per descriptor boundary. */
static void do_flush(mt_rpc_conn *c)
{
    while (c->sock && c->out.len > c->out.off) {
        size_t n = c->out.len - c->out.off;
        int fd = -1;
        if (c->nfds > 0) {
            if (c->fds[0].at == c->sent_pos) {
                fd = c->fds[0].fd;
                if (c->nfds > 1 && c->fds[1].at - c->sent_pos < n) n = (size_t)(c->fds[1].at - c->sent_pos);
            } else if (c->fds[0].at - c->sent_pos < n) {
                n = (size_t)(c->fds[0].at - c->sent_pos);
            }
        }
        ssize_t w = mt__rpc_sendmsg(c->sock->fd, c->out.data + c->out.off, n, fd);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            MT_LOG(MT_LOG_DEBUG, "RPC-LOST", "writing to %s: %s", c->addr, strerror(errno));
            lost(c);
            return;
        }
        if (fd >= 0) {
            close(fd);
            memmove(c->fds, c->fds + 1, (--c->nfds) * sizeof *c->fds);
        }
        c->out.off += (size_t)w;
        c->sent_pos += (uint64_t)w;
    }
    if (!c->sock) return;
    bool pending = c->out.len > c->out.off;
    if (!pending && c->out.cap > (4u << 20)) mt__rpc_buf_free(&c->out);
    mt__rpc_conn_poll_events(c, UV_READABLE | (pending ? UV_WRITABLE : 0));
}

mt_status mt__rpc_conn_queue(mt_rpc_conn *c, const mt__rpc_hdr *h, const ProtobufCMessage *msg,
                             const void *raw, size_t rawlen, int fd, mt_error *err)
{
    if (c->closing) return mt_error_set(err, MT_ESTATE, "connection to %s is closed", c->addr);
    mt__rpc_hdr hh = *h;
    int dupfd = -1;
    if (fd >= 0) {
        if (!c->is_unix)
            return mt_error_set(err, MT_EINVAL, "passing a descriptor to %s: unix sockets only", c->addr);
        if (c->nfds == c->capfds) {
            size_t cap = c->capfds ? c->capfds * 2 : 8;
            mt__rpc_fdmark *f = mt_realloc(c->fds, cap * sizeof *f);
            if (!f) return mt_error_set(err, MT_ENOMEM, "rpc: out of memory");
            c->fds = f;
            c->capfds = cap;
        }
        dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dupfd < 0) return mt_error_set_errno(err, MT_EIO, errno, "passing descriptor %d", fd);
        hh.flags |= MT_RPC_FLAG_FD;
    }
    size_t before = c->out.len - c->out.off;
    mt_status st = mt__rpc_buf_frame(&c->out, &hh, msg, raw, rawlen, err);
    if (st != MT_OK) {
        if (dupfd >= 0) close(dupfd);
        return st;
    }
    if (dupfd >= 0) c->fds[c->nfds++] = (mt__rpc_fdmark){c->out_pos, dupfd};
    c->out_pos += (c->out.len - c->out.off) - before;
    mt__rpc_conn_arm_flush(c);
    return MT_OK;
}

/* Builds a Status payload into buf (for locally generated failures). */
static void dispatch(mt_rpc_conn *c, mt_rpc_msg *m)
{
    if (c->is_server && c->state != RPC_ST_READY) {
        mt__rpc_server_auth(c, m);
        return;
    }
    if (m->flags & MT_RPC_FLAG_REPLY) {
        if (!c->is_server && c->state == RPC_ST_AUTHING && m->req_id == 0 &&
            m->method == MT_RPC_METHOD_AUTH) {
            mt__rpc_dial_auth_reply(c, m);
            return;
        }
        mt__rpc_pending p;
        if (mt__rpc_calls_take(c, m->req_id, &p)) {
            mt__rpc_calls_complete(c, &p, (mt_status)m->status, m);
        } else {
            MT_LOG(MT_LOG_DEBUG, "RPC-LATE", "dropping reply %llu from %s (timed out or unknown)",
                   (unsigned long long)m->req_id, c->addr);
            if (m->fd >= 0) close(m->fd);
        }
        return;
    }
    if (c->h.on_request) {
        c->h.on_request(c, m, c->ud);
        return;
    }
    if (m->fd >= 0) close(m->fd);
    if (!(m->flags & MT_RPC_FLAG_ONEWAY))
        mt_rpc_reply(c, m, MT_EUNSUPPORTED, NULL, "no handler for requests on this connection", -1, NULL);
}

/* Parses every complete frame in `in`; stops when a callback closed or detached the socket. */
static void parse_frames(mt_rpc_conn *c)
{
    mt__rpc_sock *sock = c->sock;
    while (c->sock == sock && !c->closing) {
        /* Until a peer has authenticated it may send one small Auth frame only:
         * nobody can make the server reserve a big buffer without the token. */
        size_t maxf = c->is_server && c->state != RPC_ST_READY ? MT_RPC_PREAUTH_MAX_FRAME
                                                               : mt__rpc_max_frame();
        size_t have = c->in.len - c->in.off, need;
        mt_rpc_msg m;
        switch (mt__rpc_frame_parse(have ? c->in.data + c->in.off : NULL, have, maxf, c->nrfds > 0, &m, &need)) {
        case MT__RPC_FRAME_NEED:
            if (need > MT_RPC_HEADER_BYTES && !mt__rpc_buf_reserve(&c->in, need - have)) {
                MT_LOG(MT_LOG_ERROR, "RPC-NOMEM", "closing connection %s: no memory for a %zu-byte frame",
                       c->addr, need - MT_RPC_HEADER_BYTES);
                lost(c);
            }
            return;
        case MT__RPC_FRAME_OVERSIZE:
            MT_LOG(MT_LOG_WARN, "RPC-OVERSIZE", "closing connection %s: frame of %zu bytes exceeds rpc_max_frame_bytes %zu",
                   c->addr, need - MT_RPC_HEADER_BYTES, maxf);
            lost(c);
            return;
        case MT__RPC_FRAME_NO_FD:
            MT_LOG(MT_LOG_WARN, "RPC-GARBAGE", "closing connection %s: frame flagged with a descriptor carries none", c->addr);
            lost(c);
            return;
        case MT__RPC_FRAME_OK:
            break;
        }
        if (m.flags & MT_RPC_FLAG_FD) {
            m.fd = c->rfds[0];
            memmove(c->rfds, c->rfds + 1, (size_t)(--c->nrfds) * sizeof(int));
        }
        c->in.off += need;
        dispatch(c, &m);
    }
}

static void do_read(mt_rpc_conn *c)
{
    size_t room = c->is_server && c->state != RPC_ST_READY ? MT_RPC_PREAUTH_MAX_FRAME + MT_RPC_HEADER_BYTES
                                                           : 65536;
    if (!mt__rpc_buf_reserve(&c->in, room)) {
        MT_LOG(MT_LOG_ERROR, "RPC-NOMEM", "closing connection %s: out of memory", c->addr);
        lost(c);
        return;
    }
    ssize_t n = mt__rpc_recvmsg(c->sock->fd, c->in.data + c->in.len, c->in.cap - c->in.len,
                                c->rfds, &c->nrfds, 16);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
        MT_LOG(MT_LOG_DEBUG, "RPC-LOST", "connection %s: %s", c->addr, n == 0 ? "closed by peer" : strerror(errno));
        lost(c);
        return;
    }
    c->in.len += (size_t)n;
    parse_frames(c);
    /* after a huge frame, give the memory back once the buffer drains */
    if (c->in.off == c->in.len && c->in.cap > (4u << 20)) mt__rpc_buf_free(&c->in);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    mt__rpc_sock *s = p->data;
    mt_rpc_conn *c = s->conn;
    if (!c) return;
    if (status < 0) {
        MT_LOG(MT_LOG_DEBUG, "RPC-LOST", "connection %s: %s", c->addr, uv_strerror(status));
        lost(c);
        return;
    }
    if (c->state == RPC_ST_CONNECTING) {
        if (!(events & (UV_WRITABLE | UV_READABLE))) return;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr) {
            MT_LOG(MT_LOG_DEBUG, "RPC-CONNECT", "connecting to %s: %s", c->addr, strerror(soerr));
            lost(c);
            return;
        }
        mt__rpc_dial_connected(c);
        return;
    }
    if (events & UV_WRITABLE) do_flush(c);
    if ((events & UV_READABLE) && s->conn == c && c->sock == s && !c->closing) do_read(c);
}

static void handle_closed(uv_handle_t *h)
{
    mt_rpc_conn *c = h->data;
    if (--c->handles_open > 0) return;
    mt__rpc_calls_free(c);
    mt__rpc_buf_free(&c->in);
    mt__rpc_buf_free(&c->out);
    mt_free(c->fds);
    mt_free(c);
}

void mt_rpc_conn_close(mt_rpc_conn *c)
{
    if (!c || c->closing) return;
    c->closing = true;
    c->state = RPC_ST_CLOSED;
    mt__rpc_registry_remove(c);
    if (c->server) mt__rpc_server_unlink(c);
    mt__rpc_conn_detach(c);
    mt__rpc_calls_fail(c, 0, true);
    uv_timer_stop(&c->call_timer);
    uv_timer_stop(&c->dial_timer);
    if (c->h.on_close) c->h.on_close(c, c->ud);
    uv_close((uv_handle_t *)&c->flush, handle_closed);
    uv_close((uv_handle_t *)&c->call_timer, handle_closed);
    uv_close((uv_handle_t *)&c->dial_timer, handle_closed);
}

void mt_rpc_conn_set_userdata(mt_rpc_conn *c, void *ud) { c->ud = ud; }
void *mt_rpc_conn_userdata(const mt_rpc_conn *c) { return c->ud; }
int mt_rpc_conn_peer_pid(const mt_rpc_conn *c) { return c ? c->peer_pid : -1; }

/* ---- requests and replies ---------------------------------------------------- */

mt_status mt_rpc_send(mt_rpc_conn *c, uint16_t method, const ProtobufCMessage *msg, mt_error *err)
{
    mt__rpc_hdr h = {0, method, MT_RPC_FLAG_ONEWAY, 0, 0};
    return mt__rpc_conn_queue(c, &h, msg, NULL, 0, -1, err);
}

mt_status mt_rpc_reply(mt_rpc_conn *c, const mt_rpc_msg *req, mt_status st,
                       const ProtobufCMessage *reply, const char *text, int fd, mt_error *err)
{
    if (req->flags & MT_RPC_FLAG_ONEWAY) return MT_OK;
    mt__rpc_hdr h = {0, req->method, MT_RPC_FLAG_REPLY, req->req_id, (int32_t)st};
    Manta__Status s = MANTA__STATUS__INIT;
    if (!reply) {
        s.status = (int32_t)st;
        s.message = (char *)(text ? text : "");
        reply = &s.base;
    }
    return mt__rpc_conn_queue(c, &h, reply, NULL, 0, fd, err);
}

mt_status mt_rpc_reply_raw(mt_rpc_conn *c, const mt_rpc_msg *req, mt_status st,
                           const void *payload, size_t len, mt_error *err)
{
    if (req->flags & MT_RPC_FLAG_ONEWAY) return MT_OK;
    mt__rpc_hdr h = {0, req->method, MT_RPC_FLAG_REPLY, req->req_id, (int32_t)st};
    return mt__rpc_conn_queue(c, &h, NULL, payload, len, -1, err);
}
