/*
 * server.c — listeners: a raw listening socket watched by uv_poll, accept4
 * in batches, TCP_NODELAY and peer credentials on each connection, and the
 * authentication gate (first frame must be Auth with the right token,
 * compared in constant time). A bad client is closed with a WARN log line;
 * the server keeps serving the others.
 *
 * Threads: the server's loop thread only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

struct mt_rpc_server {
    uv_loop_t *loop;
    uv_poll_t poll;
    int fd;
    bool closing;
    mt_rpc_addr a;
    char addr[300];
    uint8_t token[MT_RPC_TOKEN_BYTES];
    mt_rpc_handlers h;
    void *ud;
    mt_rpc_conn *conns;
    uint64_t accepted;
    int spare_fd; /* kept for shedding connections when out of descriptors */
};

static void server_close_obj(void *obj) { mt_rpc_server_close(obj); }

void mt__rpc_server_unlink(mt_rpc_conn *c)
{
    mt_rpc_server *s = c->server;
    if (!s) return;
    if (c->srv_prev) c->srv_prev->srv_next = c->srv_next;
    else s->conns = c->srv_next;
    if (c->srv_next) c->srv_next->srv_prev = c->srv_prev;
    c->server = NULL;
    c->srv_prev = c->srv_next = NULL;
}

static void reject(mt_rpc_conn *c, const char *why)
{
    MT_LOG(MT_LOG_WARN, "RPC-AUTH", "closing connection %s (peer pid %d): %s", c->addr, c->peer_pid, why);
    mt_rpc_conn_close(c);
}

bool mt__rpc_server_auth(mt_rpc_conn *c, const mt_rpc_msg *m)
{
    if (m->fd >= 0) close(m->fd);
    char why[96];
    if (!mt__rpc_auth_check(m, c->token, why, sizeof why)) {
        reject(c, why);
        return false;
    }
    Manta__AuthReply rep = MANTA__AUTH_REPLY__INIT;
    rep.message = "";
    mt_error e;
    if (mt_rpc_reply(c, m, MT_OK, &rep.base, NULL, -1, &e) != MT_OK) {
        reject(c, e.msg);
        return false;
    }
    c->state = RPC_ST_READY;
    uv_timer_stop(&c->dial_timer);
    if (c->h.on_accept) c->h.on_accept(c, m, c->ud);
    return !c->closing;
}

int mt__rpc_accept(int lfd, int *spare, const char *where)
{
    if (*spare < 0) *spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0 || (errno != EMFILE && errno != ENFILE)) return fd;
    int e = errno;
    if (*spare >= 0) {
        close(*spare);
        *spare = -1;
        int victim = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (victim >= 0) close(victim);
        *spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    MT_LOG(MT_LOG_ERROR, "RPC-EMFILE", "%s: out of file descriptors (%s); refused a connection",
           where, strerror(e));
    errno = e;
    return -1;
}

static void accept_one(mt_rpc_server *s, int fd)
{
    mt_rpc_conn *c = mt__rpc_conn_new(s->loop, &s->h, s->ud);
    if (!c) {
        close(fd);
        MT_LOG(MT_LOG_ERROR, "RPC-ACCEPT", "%s: out of memory for a connection", s->addr);
        return;
    }
    c->is_server = true;
    c->is_unix = s->a.is_unix;
    c->state = RPC_ST_AUTHING;
    memcpy(c->token, s->token, MT_RPC_TOKEN_BYTES);
    snprintf(c->addr, sizeof c->addr, "%.250s#%llu", s->addr, (unsigned long long)++s->accepted);
    if (!s->a.is_unix) mt__rpc_sock_nodelay(fd);
    mt_error e;
    if (mt__rpc_conn_attach(c, fd, &e) != MT_OK) {
        MT_LOG(MT_LOG_ERROR, "RPC-ACCEPT", "%s: %s", s->addr, e.msg);
        c->h.on_close = NULL;
        mt_rpc_conn_close(c);
        return;
    }
    c->server = s;
    c->srv_next = s->conns;
    if (s->conns) s->conns->srv_prev = c;
    s->conns = c;
    mt__rpc_conn_poll_events(c, UV_READABLE);
    c->connect_timeout_ms = MT_CFG_INT64(rpc_connect_timeout_ms);
    mt__rpc_dial_arm_timeout(c, c->connect_timeout_ms); /* a silent client is closed */
}

static void listen_cb(uv_poll_t *p, int status, int events)
{
    mt_rpc_server *s = p->data;
    (void)events;
    if (status < 0 || s->closing) return;
    for (int i = 0; i < 64; i++) {
        int fd = mt__rpc_accept(s->fd, &s->spare_fd, s->addr);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) continue; /* shed; take the next one */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                MT_LOG(MT_LOG_WARN, "RPC-ACCEPT", "%s: accept: %s", s->addr, strerror(errno));
            return;
        }
        accept_one(s, fd);
    }
}

mt_status mt_rpc_server_listen(uv_loop_t *loop, const char *address,
                               const uint8_t token[MT_RPC_TOKEN_BYTES], const mt_rpc_handlers *h,
                               void *ud, mt_rpc_server **out, mt_error *err)
{
    *out = NULL;
    mt_rpc_server *s = mt_calloc(1, sizeof *s);
    if (!s) return mt_error_set(err, MT_ENOMEM, "rpc server: out of memory");
    mt_status st = mt_rpc_addr_parse(address, &s->a, err);
    if (st == MT_OK) st = mt__rpc_sock_listen(&s->a, &s->fd, s->addr, sizeof s->addr, err);
    if (st != MT_OK) {
        mt_free(s);
        return st;
    }
    int rc = uv_poll_init(loop, &s->poll, s->fd);
    if (rc != 0) {
        close(s->fd);
        mt_free(s);
        return mt_error_set(err, MT_EIO, "listening on %s: %s", address, uv_strerror(rc));
    }
    s->loop = loop;
    s->poll.data = s;
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    memcpy(s->token, token, MT_RPC_TOKEN_BYTES);
    if (h) s->h = *h;
    s->ud = ud;
    uv_poll_start(&s->poll, UV_READABLE, listen_cb);
    mt__rpc_registry_add(loop, s, server_close_obj);
    *out = s;
    return MT_OK;
}

const char *mt_rpc_server_address(const mt_rpc_server *s) { return s ? s->addr : ""; }

static void listener_closed(uv_handle_t *h)
{
    mt_rpc_server *s = h->data;
    close(s->fd);
    if (s->spare_fd >= 0) close(s->spare_fd);
    mt_free(s);
}

void mt_rpc_server_close(mt_rpc_server *s)
{
    if (!s || s->closing) return;
    s->closing = true;
    mt__rpc_registry_remove(s);
    if (s->a.is_unix) unlink(s->a.path);
    while (s->conns) mt_rpc_conn_close(s->conns);
    uv_close((uv_handle_t *)&s->poll, listener_closed);
}
