/*
 * node_pull.c — copies of other nodes' objects (Ray's pull manager).
 *
 * NODE_PULL_OBJECTS names objects and the nodes that hold them. For each one
 * not here yet the node starts a transfer (one per object, shared by every
 * requester): GET at the source pins it there and tells its size; the
 * transfer then waits until its size fits the pull memory budget
 * (pull_memory_budget_bytes, default a quarter of the store; the oldest
 * waiting transfer always runs when none is active, so an object bigger than
 * the budget still comes), creates a secondary (evictable) copy in the local
 * store and reads the bytes in 1 MiB pieces, written straight into the
 * copy; pull_chunks_in_flight pieces are asked ahead of each source node,
 * for its active transfers oldest first. When the last piece
 * is in, the copy is sealed, local GET waiters are woken, the source pin is
 * dropped and every requester's slot is answered; a request is answered once
 * all its slots are.
 *
 * Peers: one connection per source address, opened on first use and kept.
 * A source that could not be reached fails new transfers from it at once for
 * a second (MT_EIO), so readers of a dead node's objects go to their
 * lineage quickly.
 *
 * Threads: the loop thread only. Invariants: a transfer is in n->pulls until
 * it finished or failed; its memory goes only when no call of it is in
 * flight (ops == 0); bytes counted in pull_bytes_active are exactly the sizes
 * of transfers in state PULL_ACTIVE; a requester's slot is answered exactly
 * once, or dropped with its connection.
 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "node/node_int.h"
#include "store/store_client.h"

enum { MSG_CAP = 2 * MT_ERROR_MSG_MAX + 256, CHUNK = 1 << 20, GET_WAIT_MS = 10000, CALL_TIMEOUT_MS = 30000, PEER_RETRY_MS = 1000 };

typedef enum pull_state { PULL_SIZING, PULL_QUEUED, PULL_ACTIVE, PULL_OVER } pull_state;

struct node_pull_peer {
    mt__node *node;
    char address[160];
    mt_rpc_conn *conn;   /* NULL until used, or after it closed */
    int64_t failed_ns;   /* when it last could not be reached (0 = never) */
    char failed_msg[MT_ERROR_MSG_MAX];
    int chunks_out;      /* pieces requested of it and not answered yet (all its transfers) */
    struct node_pull_peer *next;
};

/* One PULL_OBJECTS request waiting for its slots. */
typedef struct pull_req {
    node_client *client;
    mt_rpc_msg msg;
    int n, left;
    int32_t *statuses;
    char **messages;
    struct pull_req *next, *prev; /* n->pull_reqs */
} pull_req;

typedef struct pull_waiter {
    pull_req *req;
    int slot;
    struct pull_waiter *next;
} pull_waiter;

struct node_pull {
    mt__node *node;
    mt_id id;
    mt_id owner; /* the source's owner of the object (nil: unknown): the copy keeps it */
    char hex[2 * MT_ID_SIZE + 1];
    node_pull_peer *peer;
    pull_state state;
    bool source_pinned, created;
    int64_t size, next_off, got;
    int ops;               /* calls in flight */
    uint8_t *dst;          /* where the copy's bytes go (arena, or a mapped spill file) */
    uint8_t *file_map;
    pull_waiter *waiters;
    struct node_pull *qnext; /* n->pull_queue (PULL_QUEUED, oldest first) */
    struct node_pull *anext; /* n->pull_active (PULL_ACTIVE, in the order they started) */
};

typedef struct pull_chunk {
    node_pull *p;
    int64_t off, len;
} pull_chunk;

static int64_t budget(const mt__node *n)
{
    int64_t b = MT_CFG_INT64(pull_memory_budget_bytes);
    return b > 0 ? b : mt_store_capacity(n->store) / 4;
}

/* ---- requests ------------------------------------------------------------ */

static void req_free(pull_req *r)
{
    for (int i = 0; i < r->n; i++) mt_free(r->messages[i]);
    mt_free(r->messages);
    mt_free(r->statuses);
    mt_free(r);
}

static void req_unlink(mt__node *n, pull_req *r)
{
    if (r->prev) r->prev->next = r->next;
    else n->pull_reqs = r->next;
    if (r->next) r->next->prev = r->prev;
}

static void req_answer(mt__node *n, pull_req *r)
{
    Manta__PullObjectsReply rep = MANTA__PULL_OBJECTS_REPLY__INIT;
    rep.n_statuses = (size_t)r->n;
    rep.statuses = r->statuses;
    rep.n_messages = (size_t)r->n;
    rep.messages = r->messages;
    mt__node_reply(r->client, &r->msg, MT_OK, &rep.base, NULL);
    req_unlink(n, r);
    req_free(r);
}

static void slot_done(mt__node *n, pull_req *r, int slot, mt_status st, const char *msg)
{
    r->statuses[slot] = (int32_t)st;
    if (st != MT_OK && msg) {
        size_t len = strlen(msg);
        char *copy = mt_malloc(len + 1);
        if (copy) {
            memcpy(copy, msg, len + 1);
            mt_free(r->messages[slot]);
            r->messages[slot] = copy;
        }
    }
    if (--r->left == 0) req_answer(n, r);
}

/* ---- transfers ----------------------------------------------------------- */

static void pull_admit(mt__node *n, bool no_wait);
static void peer_pump(node_pull_peer *pe);
static void pull_sealed(node_pull *p);

static void pull_free_if_idle(node_pull *p)
{
    if (p->state == PULL_OVER && p->ops == 0) mt_free(p);
}

static void queue_remove(mt__node *n, node_pull *p)
{
    for (node_pull **pp = &n->pull_queue; *pp; pp = &(*pp)->qnext)
        if (*pp == p) {
            *pp = p->qnext;
            n->pulls_queued--;
            return;
        }
}

/* The transfer is over (st says how): answers its waiters and lets its memory go. */
static void pull_finish(node_pull *p, mt_status st, const char *msg)
{
    mt__node *n = p->node;
    if (p->state == PULL_OVER) return;
    if (p->state == PULL_QUEUED) queue_remove(n, p);
    bool was_active = p->state == PULL_ACTIVE;
    if (was_active) {
        n->pull_bytes_active -= p->size;
        n->pulls_active--;
        for (node_pull **pp = &n->pull_active; *pp; pp = &(*pp)->anext)
            if (*pp == p) {
                *pp = p->anext;
                break;
            }
    }
    p->state = PULL_OVER;
    if (p->file_map) mt_store_unmap_file(p->file_map, p->size);
    p->file_map = NULL;
    if (p->created && st != MT_OK) mt_store_object_abort(n->store, p->id, NULL);
    if (p->source_pinned && p->peer->conn) {
        Manta__ObjectIdRequest rel = MANTA__OBJECT_ID_REQUEST__INIT;
        rel.object_id.data = p->id.bytes;
        rel.object_id.len = MT_ID_SIZE;
        mt_rpc_send(p->peer->conn, MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, &rel.base, NULL);
    }
    mt_idmap_del(&n->pulls, p->id);
    if (st == MT_OK) {
        n->pulls_done++;
        n->pull_bytes_done += p->size;
        MT_LOG(MT_LOG_DEBUG, "NODE-PULLED", "object %s (%lld bytes) copied from %s", p->hex, (long long)p->size,
               p->peer->address);
    } else {
        n->pulls_failed++;
        MT_LOG(MT_LOG_INFO, "NODE-PULL-FAILED", "%s", msg);
    }
    while (p->waiters) {
        pull_waiter *w = p->waiters;
        p->waiters = w->next;
        pull_req *r = w->req;
        int slot = w->slot;
        mt_free(w);
        slot_done(n, r, slot, st, msg);
    }
    node_pull_peer *pe = p->peer;
    pull_free_if_idle(p);
    if (was_active && !n->stopping) {
        pull_admit(n, false);
        peer_pump(pe); /* its pieces left: another transfer from that node may ask for more */
    }
}

static void pull_failf(node_pull *p, mt_status st, const char *fmt, const char *detail)
{
    char msg[MSG_CAP];
    snprintf(msg, sizeof msg, fmt, p->hex, p->peer->address, detail);
    pull_finish(p, st, msg);
}

/* The remote's message of an error reply (or a generic one). */
static void reply_text(const mt_rpc_msg *m, mt_status st, char *buf, size_t cap)
{
    Manta__Status *s = m && m->len ? manta__status__unpack(&mt_rpc_pb_allocator, m->len, m->payload) : NULL;
    snprintf(buf, cap, "%s", s && s->message && *s->message ? s->message : mt_status_name(st));
    if (s) manta__status__free_unpacked(s, &mt_rpc_pb_allocator);
}

static void on_chunk(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *m, void *ud)
{
    (void)c;
    pull_chunk *ch = ud;
    node_pull *p = ch->p;
    int64_t off = ch->off, len = ch->len;
    mt_free(ch);
    p->ops--;
    p->peer->chunks_out--;
    if (p->state != PULL_ACTIVE) {
        pull_free_if_idle(p);
        return;
    }
    char text[MT_ERROR_MSG_MAX];
    if (st != MT_OK) {
        reply_text(m, st, text, sizeof text);
        pull_failf(p, st == MT_ETIMEOUT ? MT_ETIMEOUT : MT_EIO, "copying object %s from node %s: %s", text);
        return;
    }
    Manta__ReadObjectReply *r = manta__read_object_reply__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    bool ok = r && r->total_size == p->size && (int64_t)r->data.len == len;
    if (ok) memcpy(p->dst + off, r->data.data, r->data.len);
    if (r) manta__read_object_reply__free_unpacked(r, &mt_rpc_pb_allocator);
    if (!ok) {
        snprintf(text, sizeof text, "the source sent a bad piece at byte %lld", (long long)off);
        pull_failf(p, MT_ECORRUPT, "copying object %s from node %s: %s", text);
        return;
    }
    p->got += len;
    if (p->got == p->size) pull_sealed(p); /* also asks the peer for the next transfer's pieces */
    else peer_pump(p->peer);
}

static void pull_sealed(node_pull *p)
{
    mt__node *n = p->node;
    mt_error err;
    if (p->file_map) mt_store_unmap_file(p->file_map, p->size);
    p->file_map = NULL;
    if (mt_store_object_seal(n->store, p->id, &err) != MT_OK) {
        pull_failf(p, MT_EINTERNAL, "sealing the copy of object %s from node %s: %s", err.msg);
        return;
    }
    p->created = false; /* sealed: no abort from here on */
    mt_id id = p->id;
    pull_finish(p, MT_OK, NULL); /* may free p */
    mt__node_obj_sealed(n, id);
}

/* Asks for the next piece of p; false when that failed (p is over). */
static bool chunk_send(node_pull *p)
{
    pull_chunk *ch = mt_malloc(sizeof *ch);
    if (!ch) {
        pull_failf(p, MT_ENOMEM, "copying object %s from node %s: %s", "out of memory");
        return false;
    }
    ch->p = p;
    ch->off = p->next_off;
    ch->len = p->size - ch->off < CHUNK ? p->size - ch->off : CHUNK;
    Manta__ReadObjectRequest req = MANTA__READ_OBJECT_REQUEST__INIT;
    req.object_id.data = p->id.bytes;
    req.object_id.len = MT_ID_SIZE;
    req.offset = ch->off;
    req.length = ch->len;
    mt_error err;
    if (!p->peer->conn ||
        mt_rpc_call(p->peer->conn, MANTA__NODE_METHOD__NODE_READ_OBJECT, &req.base, CALL_TIMEOUT_MS, on_chunk, ch, &err) !=
            MT_OK) {
        mt_free(ch);
        pull_failf(p, MT_EIO, "copying object %s from node %s: %s", p->peer->conn ? err.msg : "connection lost");
        return false;
    }
    p->ops++;
    p->peer->chunks_out++;
    p->next_off += ch->len;
    return true;
}

/*
 * Keeps pull_chunks_in_flight pieces requested of node pe, for its active
 * transfers in the order they started (the oldest finishes first; a
 * source's output buffer never holds more than those pieces).
 */
static void peer_pump(node_pull_peer *pe)
{
    mt__node *n = pe->node;
    int64_t ahead = MT_CFG_INT64(pull_chunks_in_flight);
    for (node_pull *p = n->pull_active; p && pe->chunks_out < ahead && !n->stopping;) {
        if (p->peer != pe || p->next_off >= p->size) {
            p = p->anext;
            continue;
        }
        if (!chunk_send(p)) p = n->pull_active; /* p is gone from the list: look again */
    }
}

/* Creates the local copy of a queued transfer and starts reading; false when the store must make room first. */
static bool pull_start(node_pull *p, bool no_wait)
{
    mt__node *n = p->node;
    mt_store_ref ref;
    mt_error err;
    bool wait = false;
    mt_status st = mt_store_object_create_ex(n->store, p->id, p->size, false, no_wait ? NULL : &wait, &ref, &err);
    if (st == MT_OK && wait) return false;
    queue_remove(n, p);
    if (st == MT_EEXIST) { /* made here meanwhile (a rebuild, another copy): readers wait for its seal */
        pull_finish(p, MT_OK, NULL);
        return true;
    }
    if (st != MT_OK) {
        pull_failf(p, st, "making room for object %s from node %s: %s", err.msg);
        return true;
    }
    p->created = true;
    /* Owned as the source's copy is: the owner's delete and the owner's death free this copy too. */
    mt_store_object_set_owner(n->store, p->id, mt_id_is_nil(p->owner) ? n->node_id : p->owner, n->node_id, NULL);
    if (ref.where == MT_STORE_IN_ARENA) {
        p->dst = mt_store_base(n->store) + ref.offset;
    } else if ((st = mt_store_map_file_rw(ref.path, p->size, &p->file_map, &err)) == MT_OK) {
        p->dst = p->file_map;
    } else {
        pull_failf(p, st, "writing the copy of object %s from node %s: %s", err.msg);
        return true;
    }
    p->state = PULL_ACTIVE;
    node_pull **tail = &n->pull_active;
    while (*tail) tail = &(*tail)->anext;
    *tail = p;
    n->pulls_active++;
    n->pull_bytes_active += p->size;
    if (n->pulls_active > n->pulls_active_peak) n->pulls_active_peak = n->pulls_active;
    if (n->pull_bytes_active > n->pull_bytes_active_peak) n->pull_bytes_active_peak = n->pull_bytes_active;
    if (p->size == 0) pull_sealed(p);
    else peer_pump(p->peer);
    return true;
}

/* Starts queued transfers, oldest first, while they fit the budget (one always may). */
static void pull_admit(mt__node *n, bool no_wait)
{
    int64_t b = budget(n);
    n->pull_wants_room = false;
    while (n->pull_queue && !n->stopping) {
        node_pull *p = n->pull_queue;
        if (n->pulls_active > 0 && n->pull_bytes_active + p->size > b) return;
        if (!pull_start(p, no_wait)) { /* spills must make room: retried when one finishes */
            n->pull_wants_room = true;
            mt__node_spill_kick(n);
            return;
        }
    }
}

void mt__node_pull_room(mt__node *n, bool no_wait)
{
    if (n->pull_wants_room) pull_admit(n, no_wait);
}

static void on_sized(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *m, void *ud)
{
    (void)c;
    node_pull *p = ud;
    p->ops--;
    if (p->state != PULL_SIZING) {
        pull_free_if_idle(p);
        return;
    }
    char text[MT_ERROR_MSG_MAX];
    if (st != MT_OK) {
        reply_text(m, st, text, sizeof text);
        /* Not there (deleted, lost): the reader may rebuild it; unreachable: MT_EIO, the node is gone. */
        mt_status code = st == MT_ENOTFOUND || st == MT_ETIMEOUT ? st : MT_EIO;
        pull_failf(p, code, "object %s on node %s: %s", text);
        return;
    }
    Manta__GetObjectReply *r = manta__get_object_reply__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    p->source_pinned = r != NULL;
    int64_t size = r ? r->size : -1;
    if (r && r->owner_id.len == MT_ID_SIZE) memcpy(p->owner.bytes, r->owner_id.data, MT_ID_SIZE);
    if (r) manta__get_object_reply__free_unpacked(r, &mt_rpc_pb_allocator);
    if (size < 0) {
        pull_failf(p, MT_ECORRUPT, "object %s on node %s: %s", "a malformed answer from the source");
        return;
    }
    p->size = size;
    p->state = PULL_QUEUED;
    mt__node *n = p->node;
    node_pull **tail = &n->pull_queue;
    while (*tail) tail = &(*tail)->qnext;
    *tail = p;
    n->pulls_queued++;
    pull_admit(n, false);
}

/* ---- peers --------------------------------------------------------------- */

static void on_peer_request(mt_rpc_conn *c, const mt_rpc_msg *m, void *ud)
{
    (void)c;
    (void)ud;
    if (m->fd >= 0) close(m->fd); /* nothing is pushed on these connections */
}

static void on_peer_close(mt_rpc_conn *c, void *ud)
{
    (void)c;
    node_pull_peer *pe = ud;
    pe->conn = NULL;
    if (!pe->node->stopping) {
        pe->failed_ns = mt_time_now_ns();
        snprintf(pe->failed_msg, sizeof pe->failed_msg, "the connection to it closed");
    }
}

static node_pull_peer *peer_get(mt__node *n, const char *address, mt_error *err)
{
    node_pull_peer *pe = n->pull_peers;
    while (pe && strcmp(pe->address, address)) pe = pe->next;
    if (!pe) {
        if (strlen(address) >= sizeof pe->address) {
            mt_error_set(err, MT_EINVAL, "source address of %zu characters", strlen(address));
            return NULL;
        }
        pe = mt_calloc(1, sizeof *pe);
        if (!pe) {
            mt_error_set(err, MT_ENOMEM, "out of memory");
            return NULL;
        }
        pe->node = n;
        snprintf(pe->address, sizeof pe->address, "%s", address);
        pe->next = n->pull_peers;
        n->pull_peers = pe;
    }
    if (pe->conn) return pe;
    if (pe->failed_ns && mt_time_now_ns() - pe->failed_ns < (int64_t)PEER_RETRY_MS * 1000000) {
        mt_error_set(err, MT_EIO, "unreachable %lld ms ago (%s)", (long long)((mt_time_now_ns() - pe->failed_ns) / 1000000),
                     pe->failed_msg);
        return NULL;
    }
    static const mt_rpc_handlers h = {.on_request = on_peer_request, .on_close = on_peer_close};
    mt_rpc_connect_options o = {.client_kind = "node", .client_id = n->node_id};
    mt_status st = mt_rpc_connect(n->loop, address, n->token, &o, &h, pe, &pe->conn, err);
    if (st != MT_OK) {
        pe->conn = NULL;
        pe->failed_ns = mt_time_now_ns();
        snprintf(pe->failed_msg, sizeof pe->failed_msg, "%s", err->msg);
        return NULL;
    }
    pe->failed_ns = 0;
    return pe;
}

/* ---- the method ---------------------------------------------------------- */

static bool numeric_tcp(const char *address)
{
    mt_rpc_addr a;
    uint8_t buf[sizeof(struct in6_addr)];
    return mt_rpc_addr_parse(address, &a, NULL) == MT_OK && !a.is_unix && a.port > 0 &&
           (inet_pton(AF_INET, a.host, buf) == 1 || inet_pton(AF_INET6, a.host, buf) == 1);
}

/* Slot `slot` of r for object id from `source`: answered now, or waits on a transfer. */
static void pull_one(mt__node *n, pull_req *r, int slot, mt_id id, const char *source)
{
    char hex[2 * MT_ID_SIZE + 1], msg[MSG_CAP];
    mt_id_hex(id, hex);
    void **v = mt_idmap_find(&n->pulls, id);
    node_pull *p = v ? *v : NULL;
    if (!p) {
        bool sealed = false;
        if (mt_store_object_contains(n->store, id, &sealed)) { /* here (or being made here: GET waits for it) */
            slot_done(n, r, slot, MT_OK, NULL);
            return;
        }
        if (!source || !*source || !strcmp(source, n->node_address)) {
            snprintf(msg, sizeof msg, "object %s is not on this node and no other node was named", hex);
            slot_done(n, r, slot, MT_ENOTFOUND, msg);
            return;
        }
        mt_error err;
        if (!numeric_tcp(source)) { /* node addresses are tcp://IP:PORT; a name would block the loop on DNS */
            snprintf(msg, sizeof msg, "object %s: source '%.200s' is not tcp://IP:PORT", hex, source);
            slot_done(n, r, slot, MT_EINVAL, msg);
            return;
        }
        node_pull_peer *pe = peer_get(n, source, &err);
        if (!pe) {
            snprintf(msg, sizeof msg, "object %s on node %s: %s", hex, source, err.msg);
            slot_done(n, r, slot, err.code == MT_EINVAL ? MT_EINVAL : MT_EIO, msg);
            return;
        }
        p = mt_calloc(1, sizeof *p);
        void **nv = p ? mt_idmap_put(&n->pulls, id) : NULL;
        if (!nv) {
            mt_free(p);
            slot_done(n, r, slot, MT_ENOMEM, "out of memory starting a transfer");
            return;
        }
        *nv = p;
        p->node = n;
        p->id = id;
        memcpy(p->hex, hex, sizeof hex);
        p->peer = pe;
        p->state = PULL_SIZING;
        Manta__GetObjectRequest g = MANTA__GET_OBJECT_REQUEST__INIT;
        g.object_id.data = p->id.bytes;
        g.object_id.len = MT_ID_SIZE;
        g.timeout_ms = GET_WAIT_MS;
        g.must_exist = true;
        if (mt_rpc_call(pe->conn, MANTA__NODE_METHOD__NODE_GET_OBJECT, &g.base, GET_WAIT_MS + CALL_TIMEOUT_MS, on_sized, p,
                        &err) != MT_OK) {
            mt_idmap_del(&n->pulls, id);
            mt_free(p);
            snprintf(msg, sizeof msg, "object %s on node %s: %s", hex, source, err.msg);
            slot_done(n, r, slot, MT_EIO, msg);
            return;
        }
        p->ops++;
    }
    pull_waiter *w = mt_malloc(sizeof *w);
    if (!w) {
        slot_done(n, r, slot, MT_ENOMEM, "out of memory waiting for a transfer");
        return;
    }
    *w = (pull_waiter){.req = r, .slot = slot, .next = p->waiters};
    p->waiters = w;
}

void mt__node_pull_objects(node_client *cl, const mt_rpc_msg *m)
{
    mt__node *n = cl->node;
    Manta__PullObjectsRequest *req = manta__pull_objects_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!req) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "malformed PULL_OBJECTS payload");
        return;
    }
    pull_req *r = NULL;
    if (req->n_objects > 100000) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "PULL_OBJECTS: %zu objects in one request (at most 100000)", req->n_objects);
        goto done;
    }
    for (size_t i = 0; i < req->n_objects; i++)
        if (req->objects[i]->object_id.len != MT_ID_SIZE) {
            mt__node_reply(cl, m, MT_EINVAL, NULL, "PULL_OBJECTS: objects[%zu].object_id must be %d bytes, got %zu", i,
                           MT_ID_SIZE, req->objects[i]->object_id.len);
            goto done;
        }
    r = mt_calloc(1, sizeof *r);
    size_t k = req->n_objects ? req->n_objects : 1;
    if (r) {
        r->statuses = mt_calloc(k, sizeof *r->statuses);
        r->messages = mt_calloc(k, sizeof *r->messages);
    }
    for (size_t i = 0; r && r->messages && i < req->n_objects; i++)
        if (!(r->messages[i] = mt_calloc(1, 1))) {
            r->n = (int)i;
            req_free(r);
            r = NULL;
        }
    if (!r || !r->statuses || !r->messages) {
        if (r) req_free(r);
        mt__node_reply(cl, m, MT_ENOMEM, NULL, "out of memory queueing a pull");
        goto done;
    }
    r->client = cl;
    r->msg = mt__node_msg_for_reply(m);
    r->n = (int)req->n_objects;
    r->left = r->n + 1; /* one for this call: answered below if nothing waits */
    r->next = n->pull_reqs;
    if (r->next) r->next->prev = r;
    n->pull_reqs = r;
    for (int i = 0; i < r->n; i++) {
        mt_id id;
        memcpy(id.bytes, req->objects[i]->object_id.data, MT_ID_SIZE);
        pull_one(n, r, i, id, req->objects[i]->source);
    }
    if (--r->left == 0) req_answer(n, r);
done:
    manta__pull_objects_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

/* ---- connections closing, shutdown, stats ---------------------------------- */

static void drop_waiters_of(mt__node *n, pull_req *r)
{
    for (size_t i = 0; i < n->pulls.cap; i++) {
        if (!n->pulls.slots[i].used) continue;
        node_pull *p = n->pulls.slots[i].val;
        for (pull_waiter **wp = &p->waiters; *wp;) {
            if ((*wp)->req == r) {
                pull_waiter *w = *wp;
                *wp = w->next;
                mt_free(w);
            } else {
                wp = &(*wp)->next;
            }
        }
    }
}

void mt__node_pull_client_closed(node_client *cl)
{
    mt__node *n = cl->node;
    for (pull_req *r = n->pull_reqs, *next; r; r = next) {
        next = r->next;
        if (r->client != cl) continue;
        drop_waiters_of(n, r); /* its transfers go on: the copies stay cached */
        req_unlink(n, r);
        req_free(r);
    }
}

void mt__node_pull_shutdown(mt__node *n)
{
    while (n->pull_reqs) {
        pull_req *r = n->pull_reqs;
        drop_waiters_of(n, r);
        req_unlink(n, r);
        req_free(r);
    }
    for (size_t i = 0; i < n->pulls.cap; i++) {
        if (!n->pulls.slots[i].used) continue;
        node_pull *p = n->pulls.slots[i].val;
        pull_finish(p, MT_ESTATE, "the node is shutting down"); /* removes p from the map: look again */
        i = (size_t)-1;
        if (!n->pulls.cap) break;
    }
    for (node_pull_peer *pe = n->pull_peers; pe; pe = pe->next)
        if (pe->conn) mt_rpc_conn_close(pe->conn); /* fails the calls still in flight: their transfers are freed */
    while (n->pull_peers) {
        node_pull_peer *pe = n->pull_peers;
        n->pull_peers = pe->next;
        mt_free(pe);
    }
    mt_idmap_fini(&n->pulls);
}

void mt__node_pull_stats(const mt__node *n, Manta__NodeStatsReply *r)
{
    r->pulls_active = n->pulls_active;
    r->pulls_queued = n->pulls_queued;
    r->pull_bytes_active = n->pull_bytes_active;
    r->pull_budget_bytes = budget(n);
    r->pulls_done = n->pulls_done;
    r->pulls_failed = n->pulls_failed;
    r->pull_bytes_done = n->pull_bytes_done;
    r->pulls_active_peak = n->pulls_active_peak;
    r->pull_bytes_active_peak = n->pull_bytes_active_peak;
}
