/*
 * call.c — outstanding calls of an async connection: an open-addressing
 * table keyed by request id (Fibonacci-hashed, linear probing,
 * backward-shift deletion), a min-heap of deadlines with lazy deletion driving one uv_timer
 * per connection, and completion. Locally generated failures (timeout,
 * connection loss) reach the callback with a manta.Status payload carrying
 * the message, exactly like a remote error reply.
 *
 * Threads: the connection's loop thread only.
 */
#include <stdio.h>
#include <string.h>

#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

/* Fibonacci hashing: sequential ids spread evenly, so probe runs stay short. */
static size_t slot_of(const mt_rpc_conn *c, uint64_t id)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> (64 - c->tabbits));
}

static bool table_grow(mt_rpc_conn *c)
{
    size_t ncap = c->tabcap ? c->tabcap * 2 : 64;
    mt__rpc_pending *old = c->tab, *nt = mt_calloc(ncap, sizeof *nt);
    if (!nt) return false;
    size_t ocap = c->tabcap;
    c->tab = nt;
    c->tabcap = ncap;
    c->tabbits = 0;
    while (((size_t)1 << c->tabbits) < ncap) c->tabbits++;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].req_id) continue;
        size_t j = slot_of(c, old[i].req_id);
        while (nt[j].req_id) j = (j + 1) & (ncap - 1);
        nt[j] = old[i];
    }
    mt_free(old);
    return true;
}

static bool heap_push(mt_rpc_conn *c, int64_t deadline, uint64_t id)
{
    if (c->heapn == c->heapcap) {
        size_t cap = c->heapcap ? c->heapcap * 2 : 64;
        mt__rpc_heap_ent *h = mt_realloc(c->heap, cap * sizeof *h);
        if (!h) return false;
        c->heap = h;
        c->heapcap = cap;
    }
    size_t i = c->heapn++;
    while (i > 0 && c->heap[(i - 1) / 2].deadline_ms > deadline) {
        c->heap[i] = c->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->heap[i] = (mt__rpc_heap_ent){deadline, id};
    return true;
}

static void heap_pop(mt_rpc_conn *c)
{
    mt__rpc_heap_ent last = c->heap[--c->heapn];
    size_t i = 0, n = c->heapn;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l >= n) break;
        m = l;
        if (l + 1 < n && c->heap[l + 1].deadline_ms < c->heap[l].deadline_ms) m = l + 1;
        if (c->heap[m].deadline_ms >= last.deadline_ms) break;
        c->heap[i] = c->heap[m];
        i = m;
    }
    if (n) c->heap[i] = last;
}

static void arm_timer(mt_rpc_conn *c)
{
    if (c->heapn == 0 || c->closing) {
        uv_timer_stop(&c->call_timer);
        return;
    }
    int64_t delay = c->heap[0].deadline_ms - (int64_t)uv_now(c->loop);
    uv_timer_start(&c->call_timer, mt__rpc_calls_timer_cb, delay > 0 ? (uint64_t)delay : 0, 0);
}

mt_status mt__rpc_calls_add(mt_rpc_conn *c, const mt__rpc_pending *p, mt_error *err)
{
    if ((c->tabn + 1) * 2 > c->tabcap && !table_grow(c))
        return mt_error_set(err, MT_ENOMEM, "rpc: out of memory for a call to %s", c->addr);
    if (p->deadline_ms) {
        bool first = c->heapn == 0 || p->deadline_ms < c->heap[0].deadline_ms;
        if (!heap_push(c, p->deadline_ms, p->req_id))
            return mt_error_set(err, MT_ENOMEM, "rpc: out of memory for a call to %s", c->addr);
        if (first) arm_timer(c);
    }
    size_t j = slot_of(c, p->req_id);
    while (c->tab[j].req_id) j = (j + 1) & (c->tabcap - 1);
    c->tab[j] = *p;
    c->tabn++;
    return MT_OK;
}

/* Backward-shift deletion keeps linear probing chains intact. */
static void table_remove_at(mt_rpc_conn *c, size_t i)
{
    size_t mask = c->tabcap - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!c->tab[j].req_id) break;
        size_t home = slot_of(c, c->tab[j].req_id);
        /* move j into the hole i when home is not cyclically within (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            c->tab[i] = c->tab[j];
            i = j;
        }
    }
    c->tab[i].req_id = 0;
    c->tabn--;
    if (c->tabn == 0) c->heapn = 0; /* every heap entry is stale now */
}

bool mt__rpc_calls_take(mt_rpc_conn *c, uint64_t req_id, mt__rpc_pending *out)
{
    if (!c->tabn || !req_id) return false;
    size_t j = slot_of(c, req_id);
    while (c->tab[j].req_id) {
        if (c->tab[j].req_id == req_id) {
            *out = c->tab[j];
            table_remove_at(c, j);
            return true;
        }
        j = (j + 1) & (c->tabcap - 1);
    }
    return false;
}

/* Completes a call with a locally generated failure carrying `text`. */
static void fail_one(mt_rpc_conn *c, const mt__rpc_pending *p, mt_status st, const char *text)
{
    Manta__Status s = MANTA__STATUS__INIT;
    s.status = (int32_t)st;
    s.message = (char *)text;
    uint8_t buf[MT_ERROR_MSG_MAX + 32];
    size_t n = protobuf_c_message_get_packed_size(&s.base);
    if (n > sizeof buf) n = 0;
    else protobuf_c_message_pack(&s.base, buf);
    mt_rpc_msg m = {p->method, MT_RPC_FLAG_REPLY, p->req_id, (int32_t)st, buf, n, -1};
    p->cb(c, st, &m, p->ud);
}

void mt__rpc_calls_complete(mt_rpc_conn *c, const mt__rpc_pending *p, mt_status st,
                            const mt_rpc_msg *reply)
{
    (void)c;
    p->cb(c, st, reply, p->ud);
}

void mt__rpc_calls_fail(mt_rpc_conn *c, uint64_t gen, bool all)
{
    if (!c->tabn) return;
    size_t n = 0;
    mt__rpc_pending *v = mt_malloc(c->tabn * sizeof *v);
    for (size_t i = 0; i < c->tabcap && v;) {
        if (c->tab[i].req_id && (all || c->tab[i].gen == gen)) {
            v[n++] = c->tab[i];
            table_remove_at(c, i); /* may shift a later entry into i: look at i again */
            continue;
        }
        i++;
    }
    if (!v) { /* no memory for the snapshot: complete them one by one from the table */
        for (size_t i = 0; i < c->tabcap; i++) {
            if (!c->tab[i].req_id || !(all || c->tab[i].gen == gen)) continue;
            mt__rpc_pending p = c->tab[i];
            table_remove_at(c, i);
            i = (size_t)-1; /* restart: callbacks may have changed the table */
            char text[400];
            snprintf(text, sizeof text, "connection to %s lost", c->addr);
            fail_one(c, &p, MT_EIO, text);
        }
        return;
    }
    /* order by request id so callers see failures in the order they called */
    for (size_t i = 1; i < n; i++) {
        mt__rpc_pending x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1].req_id > x.req_id) { v[j] = v[j - 1]; j--; }
        v[j] = x;
    }
    char text[400];
    snprintf(text, sizeof text, "connection to %s lost", c->addr);
    for (size_t i = 0; i < n; i++) fail_one(c, &v[i], MT_EIO, text);
    mt_free(v);
    if (!c->closing) arm_timer(c);
}

void mt__rpc_calls_timer_cb(uv_timer_t *t)
{
    mt_rpc_conn *c = t->data;
    int64_t now = (int64_t)uv_now(c->loop);
    while (!c->closing && c->heapn > 0 && c->heap[0].deadline_ms <= now) {
        mt__rpc_heap_ent e = c->heap[0];
        heap_pop(c);
        mt__rpc_pending p;
        if (!mt__rpc_calls_take(c, e.req_id, &p)) continue;
        if (p.deadline_ms != e.deadline_ms) { /* cannot happen: ids are unique */
            continue;
        }
        char text[400];
        snprintf(text, sizeof text, "call %u to %s timed out after %lld ms", p.method, c->addr,
                 (long long)p.timeout_ms);
        fail_one(c, &p, MT_ETIMEOUT, text);
    }
    arm_timer(c);
}

void mt__rpc_calls_free(mt_rpc_conn *c)
{
    mt_free(c->tab);
    mt_free(c->heap);
    c->tab = NULL;
    c->heap = NULL;
    c->tabcap = c->tabn = c->heapn = c->heapcap = 0;
}

static mt_status call_common(mt_rpc_conn *c, uint16_t method, const ProtobufCMessage *req,
                             const void *payload, size_t len, int64_t timeout_ms,
                             mt_rpc_reply_cb cb, void *ud, mt_error *err)
{
    if (c->closing) return mt_error_set(err, MT_ESTATE, "connection to %s is closed", c->addr);
    mt__rpc_pending p = {0};
    p.req_id = c->next_req++;
    p.gen = c->gen;
    p.cb = cb;
    p.ud = ud;
    p.method = method;
    p.timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
    p.deadline_ms = timeout_ms > 0 ? (int64_t)uv_now(c->loop) + timeout_ms : 0;
    mt__rpc_hdr h = {0, method, 0, p.req_id, 0};
    MT_RETURN_NOT_OK(mt__rpc_calls_add(c, &p, err));
    mt_status st = mt__rpc_conn_queue(c, &h, req, payload, len, -1, err);
    if (st != MT_OK) {
        mt__rpc_pending drop;
        mt__rpc_calls_take(c, p.req_id, &drop);
    }
    return st;
}

mt_status mt_rpc_call(mt_rpc_conn *c, uint16_t method, const ProtobufCMessage *req,
                      int64_t timeout_ms, mt_rpc_reply_cb cb, void *ud, mt_error *err)
{
    return call_common(c, method, req, NULL, 0, timeout_ms, cb, ud, err);
}

mt_status mt_rpc_call_raw(mt_rpc_conn *c, uint16_t method, const void *payload, size_t len,
                          int64_t timeout_ms, mt_rpc_reply_cb cb, void *ud, mt_error *err)
{
    return call_common(c, method, NULL, payload, len, timeout_ms, cb, ud, err);
}
