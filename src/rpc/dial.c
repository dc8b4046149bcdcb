/*
 * dial.c — the client side of async connections: non-blocking connect,
 * authentication (the AuthRequest goes first, calls queued behind it leave
 * in the same write), the connect timeout, and reconnect with exponential
 * backoff (10 ms doubling to 1 s). Calls written on a socket that is lost
 * fail with MT_EIO; calls made while disconnected wait for the next socket.
 *
 * Threads: the connection's loop thread only.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 1000

static void dial_timer_cb(uv_timer_t *t);

static void schedule_retry(mt_rpc_conn *c)
{
    c->state = RPC_ST_IDLE;
    if (c->backoff_ms < BACKOFF_MIN_MS) c->backoff_ms = BACKOFF_MIN_MS;
    uv_timer_start(&c->dial_timer, dial_timer_cb, (uint64_t)c->backoff_ms, 0);
    c->backoff_ms *= 2;
    if (c->backoff_ms > BACKOFF_MAX_MS) c->backoff_ms = BACKOFF_MAX_MS;
}

/* Starts one connection attempt. */
static mt_status dial_start(mt_rpc_conn *c, mt_error *err)
{
    int fd;
    bool inprog;
    MT_RETURN_NOT_OK(mt__rpc_sock_connect(&c->target, &fd, &inprog, err));
    MT_RETURN_NOT_OK(mt__rpc_conn_attach(c, fd, err));
    uv_timer_start(&c->dial_timer, dial_timer_cb, (uint64_t)c->connect_timeout_ms, 0);
    if (inprog) {
        c->state = RPC_ST_CONNECTING;
        mt__rpc_conn_poll_events(c, UV_WRITABLE);
    } else {
        mt__rpc_dial_connected(c);
    }
    return MT_OK;
}

static void dial_timer_cb(uv_timer_t *t)
{
    mt_rpc_conn *c = t->data;
    if (c->closing) return;
    if (c->state == RPC_ST_IDLE) {
        mt_error e;
        if (dial_start(c, &e) != MT_OK) {
            MT_LOG(MT_LOG_DEBUG, "RPC-CONNECT", "%s", e.msg);
            schedule_retry(c);
        }
        return;
    }
    if (c->state == RPC_ST_CONNECTING || c->state == RPC_ST_AUTHING) {
        MT_LOG(MT_LOG_WARN, "RPC-CONNECT", "%s %s timed out after %lld ms",
               c->is_server ? "authentication on" : "connecting to", c->addr,
               (long long)c->connect_timeout_ms);
        mt__rpc_dial_lost(c);
    }
}

void mt__rpc_dial_arm_timeout(mt_rpc_conn *c, int64_t ms)
{
    uv_timer_start(&c->dial_timer, dial_timer_cb, ms > 0 ? (uint64_t)ms : 5000, 0);
}

/* Puts the AuthRequest frame in front of anything already queued. */
static mt_status queue_auth(mt_rpc_conn *c, mt_error *err)
{
    Manta__AuthRequest ar = MANTA__AUTH_REQUEST__INIT;
    ar.token.data = c->token;
    ar.token.len = MT_RPC_TOKEN_BYTES;
    ar.client_kind = c->client_kind;
    ar.client_id.data = c->client_id.bytes;
    ar.client_id.len = MT_ID_SIZE;
    ar.pid = (int32_t)getpid();
    mt__rpc_buf a = {0};
    mt__rpc_hdr h = {0, MT_RPC_METHOD_AUTH, 0, 0, 0};
    MT_RETURN_NOT_OK(mt__rpc_buf_frame(&a, &h, &ar.base, NULL, 0, err));
    size_t n = a.len, queued = c->out.len - c->out.off;
    if (!mt__rpc_buf_reserve(&c->out, n)) {
        mt__rpc_buf_free(&a);
        return mt_error_set(err, MT_ENOMEM, "rpc: out of memory");
    }
    memmove(c->out.data + c->out.off + n, c->out.data + c->out.off, queued);
    memcpy(c->out.data + c->out.off, a.data, n);
    c->out.len += n;
    c->out_pos += n;
    for (size_t i = 0; i < c->nfds; i++) c->fds[i].at += n;
    mt__rpc_buf_free(&a);
    return MT_OK;
}

void mt__rpc_dial_connected(mt_rpc_conn *c)
{
    mt_error e;
    c->state = RPC_ST_AUTHING;
    if (queue_auth(c, &e) != MT_OK) {
        MT_LOG(MT_LOG_ERROR, "RPC-CONNECT", "%s", e.msg);
        mt__rpc_dial_lost(c);
        return;
    }
    mt__rpc_conn_poll_events(c, UV_READABLE);
    mt__rpc_conn_arm_flush(c);
}

void mt__rpc_dial_auth_reply(mt_rpc_conn *c, const mt_rpc_msg *m)
{
    Manta__AuthReply *r = manta__auth_reply__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    int32_t st = m->status ? m->status : (r ? r->status : MT_ECORRUPT);
    if (st != MT_OK) {
        MT_LOG(MT_LOG_WARN, "RPC-AUTH", "%s refused authentication: %s", c->addr,
               r && r->message ? r->message : mt_status_message((mt_status)st));
        if (r) manta__auth_reply__free_unpacked(r, &mt_rpc_pb_allocator);
        mt__rpc_dial_lost(c);
        return;
    }
    if (r) manta__auth_reply__free_unpacked(r, &mt_rpc_pb_allocator);
    c->state = RPC_ST_READY;
    c->backoff_ms = BACKOFF_MIN_MS;
    uv_timer_stop(&c->dial_timer);
}

void mt__rpc_dial_lost(mt_rpc_conn *c)
{
    if (c->closing) return;
    if (!c->reconnect) {
        mt_rpc_conn_close(c);
        return;
    }
    bool was_connected = c->state == RPC_ST_AUTHING || c->state == RPC_ST_READY;
    uv_timer_stop(&c->dial_timer);
    c->state = RPC_ST_IDLE;
    if (was_connected) {
        uint64_t gen = c->gen++;
        mt__rpc_conn_detach(c); /* drops the unsent output of this socket */
        mt__rpc_calls_fail(c, gen, false);
    } else {
        mt__rpc_conn_drop_sock(c); /* never connected: queued calls wait for the next attempt */
    }
    if (!c->closing) schedule_retry(c);
}

mt_status mt_rpc_connect(uv_loop_t *loop, const char *address,
                         const uint8_t token[MT_RPC_TOKEN_BYTES], const mt_rpc_connect_options *o,
                         const mt_rpc_handlers *h, void *ud, mt_rpc_conn **out, mt_error *err)
{
    *out = NULL;
    mt_rpc_addr a;
    MT_RETURN_NOT_OK(mt_rpc_addr_parse(address, &a, err));
    mt_rpc_conn *c = mt__rpc_conn_new(loop, h, ud);
    if (!c) return mt_error_set(err, MT_ENOMEM, "rpc: out of memory");
    c->target = a;
    c->is_unix = a.is_unix;
    mt__rpc_addr_format(&a, c->addr, sizeof c->addr);
    memcpy(c->token, token, MT_RPC_TOKEN_BYTES);
    snprintf(c->client_kind, sizeof c->client_kind, "%s", o && o->client_kind ? o->client_kind : "driver");
    c->client_id = o && !mt_id_is_nil(o->client_id) ? o->client_id : mt_id_random();
    c->reconnect = o && o->reconnect;
    c->connect_timeout_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->state = RPC_ST_IDLE;
    mt_status st = dial_start(c, err);
    if (st != MT_OK) {
        if (!c->reconnect) {
            c->h.on_close = NULL;
            mt_rpc_conn_close(c);
            return st;
        }
        MT_LOG(MT_LOG_DEBUG, "RPC-CONNECT", "%s; retrying", err ? err->msg : address);
        mt_error_clear(err);
        schedule_retry(c);
    }
    *out = c;
    return MT_OK;
}
