/*
 * node_spill.c — spilling off the loop thread. The store runs with
 * spill_async: when an object fits only after primary copies go to disk,
 * CREATE_OBJECT / PUT_OBJECT is parked here (a copy of the request) and
 * spill jobs run on libuv's thread pool (at most max_io_workers at once,
 * Ray's name). Each finished job retries the parked requests in arrival
 * order. Spills also start ahead of demand, whenever the arena holds more
 * than object_spilling_threshold of its capacity (Ray's 0.8), so most
 * creates never wait. When no spill can help (nothing left to spill, or a
 * spill just failed) a parked request is retried without waiting: it gets a
 * spill file of its own, or the store's error (MT_ENOSPC on a full disk).
 * Spilled objects are read from their files (readers map them), so no
 * restore I/O runs on the loop either.
 *
 * Threads: the loop thread, except spill_work (a pool thread, which only
 * writes a file from pinned arena bytes).
 * Invariants: while any request is parked every new create/put parks behind
 * it (creates are answered in arrival order); a parked request's client is
 * live (its entries go when it closes); the store is destroyed only after
 * the loop ran every queued job's completion.
 */
#include <string.h>

#include "core/config_keys.h"
#include "node/node_int.h"

struct node_parked {
    node_client *client;
    mt_rpc_msg msg; /* its payload is `copy` */
    uint8_t *copy;
    bool put;
    struct node_parked *next;
};

typedef struct spill_job {
    uv_work_t req;
    mt__node *node;
    mt_store_spill_job job;
} spill_job;

bool mt__node_spill_must_park(const mt__node *n) { return n->park_head && !n->park_retrying; }

bool mt__node_spill_no_wait(const mt__node *n) { return n->park_no_wait; }

void mt__node_spill_park(node_client *cl, const mt_rpc_msg *m, bool put)
{
    mt__node *n = cl->node;
    node_parked *p = mt_calloc(1, sizeof *p);
    uint8_t *copy = p && m->len ? mt_malloc(m->len) : NULL;
    if (!p || (m->len && !copy)) {
        mt_free(p);
        mt__node_reply(cl, m, MT_ENOMEM, NULL, "out of memory queueing an object creation");
        return;
    }
    p->client = cl;
    p->put = put;
    p->msg = mt__node_msg_for_reply(m);
    if (m->len) memcpy(copy, m->payload, m->len);
    p->copy = copy;
    p->msg.payload = copy;
    p->msg.len = m->len;
    if (n->park_retrying) { /* the head of the queue waits again: it stays first */
        p->next = n->park_head;
        n->park_head = p;
        if (!n->park_tail) n->park_tail = p;
        n->park_requeued = true;
    } else {
        if (n->park_tail) n->park_tail->next = p;
        else n->park_head = p;
        n->park_tail = p;
    }
    n->num_parked++;
    mt__node_spill_kick(n);
}

static void parked_free(node_parked *p)
{
    mt_free(p->copy);
    mt_free(p);
}

/* Answers parked requests, first come first served, until one has to wait again. */
static void retry_parked(mt__node *n, bool no_wait)
{
    if (n->park_retrying) return; /* a retry is running further up the stack */
    while (n->park_head && !n->stopping) {
        node_parked *p = n->park_head;
        n->park_head = p->next;
        if (!n->park_head) n->park_tail = NULL;
        n->num_parked--;
        n->park_retrying = true;
        n->park_no_wait = no_wait;
        n->park_requeued = false;
        if (p->put) mt__node_obj_put(p->client, &p->msg);
        else mt__node_obj_create(p->client, &p->msg);
        n->park_retrying = n->park_no_wait = false;
        bool again = n->park_requeued;
        parked_free(p);
        if (again) break;
    }
}

static void spill_work(uv_work_t *req)
{
    spill_job *j = req->data;
    mt_store_spill_write(&j->job);
}

static void spill_done(uv_work_t *req, int status)
{
    (void)status;
    spill_job *j = req->data;
    mt__node *n = j->node;
    n->spills_in_flight--;
    mt_store_spill_finish(n->store, &j->job);
    bool failed = j->job.st != MT_OK;
    if (failed) {
        MT_LOG(MT_LOG_WARN, "NODE-SPILL", "%s", j->job.err.msg);
        n->spill_failed_ms = mt_time_now_ns() / 1000000;
    }
    mt_free(j);
    if (n->stopping) return;
    retry_parked(n, failed);
    mt__node_pull_room(n, failed);
    mt__node_spill_kick(n);
}

/* Whether more should go to disk now: a request waits, or the arena is above the threshold. */
static bool want_spill(const mt__node *n)
{
    if (n->park_head || n->pull_wants_room) return true;
    double thr = MT_CFG_DOUBLE(object_spilling_threshold);
    return (double)mt_store_spill_pressure(n->store) > thr * (double)mt_store_capacity(n->store);
}

void mt__node_spill_kick(mt__node *n)
{
    if (n->stopping) return;
    /* A spill failed just now (full disk?): no new jobs for a second; waiting
     * requests take their own file or the store's error meanwhile. */
    bool backoff = n->spill_failed_ms && mt_time_now_ns() / 1000000 - n->spill_failed_ms < 1000;
    int64_t max = MT_CFG_INT64(max_io_workers);
    while (!backoff && n->spills_in_flight < max && want_spill(n)) {
        spill_job *j = mt_calloc(1, sizeof *j);
        if (!j) break;
        if (!mt_store_spill_begin(n->store, &j->job)) {
            mt_free(j);
            break;
        }
        j->node = n;
        j->req.data = j;
        if (uv_queue_work(n->loop, &j->req, spill_work, spill_done) != 0) {
            j->job.st = mt_error_set(&j->job.err, MT_EINTERNAL, "cannot queue a spill job");
            mt_store_spill_finish(n->store, &j->job);
            mt_free(j);
            break;
        }
        n->spills_in_flight++;
    }
    /* Nothing in flight will make room: the head must not wait for ever. */
    if (n->park_head && n->spills_in_flight == 0) retry_parked(n, true);
    if (n->pull_wants_room && n->spills_in_flight == 0) mt__node_pull_room(n, true);
}

void mt__node_spill_client_closed(node_client *cl)
{
    mt__node *n = cl->node;
    node_parked **pp = &n->park_head, *last = NULL;
    while (*pp) {
        node_parked *p = *pp;
        if (p->client == cl) {
            *pp = p->next;
            n->num_parked--;
            parked_free(p);
        } else {
            last = p;
            pp = &p->next;
        }
    }
    n->park_tail = last;
}

void mt__node_spill_shutdown(mt__node *n)
{
    while (n->park_head) {
        node_parked *p = n->park_head;
        n->park_head = p->next;
        parked_free(p);
    }
    n->park_tail = NULL;
    n->num_parked = 0;
}
