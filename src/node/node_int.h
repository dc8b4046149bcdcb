/*
 * node_int.h — declarations shared by the files of the node daemon.
 *
 * Everything here runs on the daemon's main thread (its uv loop); nothing is
 * locked. Ownership: the mt__node struct owns the store, the rpc servers, the
 * worker list, the lease queue and one node_client per connection. A client
 * owns its pins, its unsealed creations, its object waiters and the leases it
 * holds; closing the connection releases all four.
 */
#ifndef MANTA_NODE_INT_H
#define MANTA_NODE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "manta/base.h"
#include "core/idmap.h"
#include "node/node.h"
#include "proto/common.pb-c.h"
#include "proto/node.pb-c.h"
#include "rpc/rpc.h"
#include "store/store.h"

/* ---- Resource sets (fixed point, 1/10000 units, like Ray) -------------- */

#define NODE_RES_MAX 32
#define NODE_GONE_MAX 1024 /* notices of owners' actors and groups kept while the control store is away */
#define NODE_RES_NAME 64
#define NODE_RES_SCALE 10000

typedef struct node_res {
    int n;
    char name[NODE_RES_MAX][NODE_RES_NAME];
    int64_t q[NODE_RES_MAX];
} node_res;

/* A protobuf view of a node_res (points into it; valid while it lives). */
typedef struct node_res_pb {
    Manta__ResourceSet set;
    Manta__ResourceSet__QuantitiesEntry e[NODE_RES_MAX];
    Manta__ResourceSet__QuantitiesEntry *ep[NODE_RES_MAX];
} node_res_pb;

void mt__node_res_clear(node_res *r);
/* Adds `q` (fixed point) to resource `name`, creating it. MT_ERANGE when full. */
mt_status mt__node_res_add_named(node_res *r, const char *name, int64_t q, mt_error *err);
int64_t mt__node_res_get(const node_res *r, const char *name);
/* Demand from the wire: names 1..63 chars, finite quantities >= 0; empty = {CPU: 1}. */
mt_status mt__node_res_from_pb(const Manta__ResourceSet *pb, node_res *out, mt_error *err);
void mt__node_res_to_pb(const node_res *r, node_res_pb *out);
/* Parses {"name": number, ...} (custom resources flag). */
mt_status mt__node_res_parse_json(const char *text, node_res *out, mt_error *err);
bool mt__node_res_fits(const node_res *avail, const node_res *demand);
void mt__node_res_sub(node_res *avail, const node_res *demand);
void mt__node_res_add(node_res *avail, const node_res *demand);
/* "{CPU: 64, GPU: 0.5}" */
void mt__node_res_format(const node_res *r, char *buf, size_t cap);

/* ---- Daemon state -------------------------------------------------------- */

typedef struct mt__node mt__node;
typedef struct node_worker node_worker;
typedef struct node_lease node_lease;
typedef struct node_waiter node_waiter;
typedef struct node_pending node_pending;
typedef struct node_pull node_pull;
typedef struct node_pull_peer node_pull_peer;

/* Per-connection state (rpc userdata). */
/*
 * A connection's userdata is the server's node_srv_ud until on_accept swaps
 * in its node_client; both start with a magic word so handlers can tell.
 */
#define NODE_MAGIC_CLIENT 0x6e636c69u
#define NODE_MAGIC_SRV 0x6e737276u

typedef struct node_client {
    uint32_t magic;
    mt__node *node;
    mt_rpc_conn *conn;
    bool is_unix;
    int pid;
    char kind[16];
    mt_id client_id;      /* from its AuthRequest: one per process across connections */
    mt_idmap pins;      /* object id -> (intptr_t) pin count */
    mt_idmap creating;  /* object ids created and not yet sealed */
    node_waiter *waiters; /* GET calls waiting for a seal */
    node_worker *worker;  /* the worker that registered on this connection */
    struct node_client *next, *prev;
} node_client;

typedef enum node_worker_state {
    NODE_W_STARTING = 0,
    NODE_W_IDLE = 1,
    NODE_W_LEASED = 2,
    NODE_W_STOPPING = 3,
} node_worker_state;

struct node_worker {
    mt__node *node;
    mt_id id;
    uv_process_t proc;
    int pid;
    node_worker_state state;
    bool exited;
    char address[256];
    char tcp_address[128]; /* the same worker over TCP (for clients of other nodes), or "" */
    node_client *client;  /* registration connection */
    node_lease *lease;
    int64_t started_ns, idle_since_ns;
    struct node_worker *next;
};

/* A placement-group bundle reserved on this node: its resources left n->avail for `avail`. */
typedef struct node_bundle {
    mt_id pg;
    int index;
    node_res total, avail;
    node_client *holder; /* released when its connection closes */
    struct node_bundle *next;
} node_bundle;

struct node_lease {
    mt_id id;
    node_worker *worker;
    node_client *holder; /* NULL once its connection closed */
    node_res demand;
    mt_id pg;            /* taken from bundle (pg, bundle) when pg is not nil */
    int bundle;
    bool for_actor;
    bool blocked;        /* its task waits on objects: `demand` is back in avail meanwhile */
    bool detached;       /* outlives its holder (holder becomes NULL) */
    mt_id actor_id;      /* for_actor: the actor (named actors are removed from the control store with it) */
};

struct node_pending {
    node_client *client;
    mt_rpc_msg req;       /* header of the request (payload not kept) */
    node_res demand;
    bool for_actor;
    bool hold_nothing;    /* place by demand, hold nothing */
    bool detached;
    bool allow_spillback; /* may still be answered with a peer's address (mt__node_lease_respill) */
    mt_id pg;             /* from a bundle of this group (nil: the node's own resources) */
    int bundle;           /* that bundle, or -1: any of the group's here */
    mt_id actor_id;
    bool timed;
    uv_timer_t timer;
    int64_t enqueued_ns;
    struct node_pending *next, *prev;
};

struct node_waiter {
    node_client *client;
    mt_rpc_msg req;
    mt_id id;
    uv_timer_t timer;
    node_waiter *next_same_id;          /* list per object id (node->waiters map) */
    node_waiter *cnext, *cprev;         /* list per client */
};

typedef struct node_infeasible {
    node_res demand;
    int64_t at_ns;
} node_infeasible;

#define NODE_INFEASIBLE_MAX 16

typedef struct node_srv_ud {
    uint32_t magic;
    mt__node *node;
    bool is_unix;
} node_srv_ud;

/* Another alive node as of the last heartbeat reply: where busy lease requests may spill. */
typedef struct node_peer {
    mt_id id;
    char address[160];   /* tcp://ip:port */
    node_res reported;   /* its availability as the control store last listed it */
    node_res avail;      /* that, less what this node has spilled to it since: valid while charge_gen == n->view_gen */
    uint64_t charge_gen;
} node_peer;

struct mt__node {
    uv_loop_t *loop;
    int64_t gcs_ok_ns;       /* last successful register/heartbeat reply (0 = never) */
    bool gcs_giving_up;      /* told clients it lost the control store; shutting down next tick */
    mt_node_options opts;
    char session_dir[512];
    char node_socket[160];   /* unix://… */
    char node_address[300];  /* tcp://… */
    char worker_program[4096];
    char spill_dir[600];
    uint8_t token[MT_RPC_TOKEN_BYTES];
    mt_id node_id;
    char node_hex[2 * MT_ID_SIZE + 1];
    int64_t start_ms;

    mt_store *store;
    mt_rpc_server *unix_srv, *tcp_srv;
    node_srv_ud srv_ud[2];

    node_res total, avail;
    node_client *clients;
    node_worker *workers;
    int num_workers, num_starting, num_idle, pool_target;
    node_pending *pending_head, *pending_tail;
    int num_pending;
    mt_idmap waiters; /* object id -> node_waiter list */

    /* background spilling (node_spill.c) */
    struct node_parked *park_head, *park_tail; /* creates waiting for room */
    int num_parked, spills_in_flight;
    bool park_retrying, park_no_wait, park_requeued;
    int64_t spill_failed_ms; /* when a spill last failed (0 = never) */
    node_infeasible infeasible[NODE_INFEASIBLE_MAX];
    int num_infeasible;

    uv_timer_t maint_timer;
    uv_signal_t sig_term, sig_int;

    /* transfers from other nodes (node_pull.c) */
    mt_idmap pulls;             /* object id -> node_pull */
    node_pull *pull_queue;        /* sized, waiting for the budget or store room */
    node_pull *pull_active;       /* copying bytes, in the order they started */
    struct pull_req *pull_reqs;   /* PULL_OBJECTS requests not answered yet */
    node_pull_peer *pull_peers;
    int pulls_active, pulls_queued, pulls_active_peak;
    int64_t pull_bytes_active, pull_bytes_active_peak, pulls_done, pulls_failed, pull_bytes_done;
    bool pull_wants_room;         /* the queue's head waits for spills */

    /* control store */
    mt_rpc_conn *gcs;
    uv_timer_t hb_timer;
    node_bundle *bundles; /* placement-group reservations (node_bundle.c) */
    node_peer *peers; /* the cluster view from heartbeat replies (node_gcs.c) */
    int num_peers, cap_peers;
    mt_idmap peer_index;           /* peer node id -> index in peers, plus one */
    uint64_t view_epoch, view_version; /* the view held (0: none): heartbeats ask for what changed since */
    uint64_t view_gen;             /* bumped by every view reply: spill charges last until the next */
    int64_t hb_sent_ns;  /* when the last heartbeat left */
    int64_t view_ns;     /* when the last one asking for the view left */
    node_res hb_avail;   /* the availability it carried */
    bool gcs_registered, gcs_in_flight, ready_written;
    bool hb_view_asked;  /* the heartbeat in flight asked for the view */
    struct { uint16_t method; bool sent; mt_id id; } gone[NODE_GONE_MAX]; /* owners' actors and groups that */
    int ngone;                                                            /* went, until the store answers */

    /* shutdown */
    bool stopping, gcs_stopped;
    uv_timer_t kill_timer;
    int exit_status;
};

/* node_rpc.c: dispatch, replies */
extern const mt_rpc_handlers mt__node_handlers;
mt_status mt__node_reply(node_client *cl, const mt_rpc_msg *req, mt_status st,
                         const ProtobufCMessage *reply, const char *fmt, ...) MT_PRINTF(5, 6);
bool mt__node_id_from_pb(ProtobufCBinaryData b, mt_id *out);
/*
 * The part of request m to keep for a deferred reply (a queued lease, a
 * waiting GET): the header only; payload and fd belong to the rpc layer and
 * are gone once the request callback returns.
 */
mt_rpc_msg mt__node_msg_for_reply(const mt_rpc_msg *m);

/* node_spill.c: spilling on the thread pool; creates that wait for room */
typedef struct node_parked node_parked;
bool mt__node_spill_must_park(const mt__node *n); /* earlier creates wait: queue behind them */
bool mt__node_spill_no_wait(const mt__node *n);   /* this retry must not wait again */
void mt__node_spill_park(node_client *cl, const mt_rpc_msg *m, bool put);
void mt__node_spill_kick(mt__node *n);            /* start spill jobs when they are wanted */
void mt__node_spill_client_closed(node_client *cl);
void mt__node_spill_shutdown(mt__node *n);

/* node_objects.c: object store methods */
void mt__node_obj_create(node_client *cl, const mt_rpc_msg *m);
void mt__node_obj_seal(node_client *cl, const mt_rpc_msg *m);
void mt__node_obj_put(node_client *cl, const mt_rpc_msg *m);
void mt__node_obj_get(node_client *cl, const mt_rpc_msg *m);
void mt__node_obj_release(node_client *cl, const mt_rpc_msg *m);
void mt__node_obj_read(node_client *cl, const mt_rpc_msg *m);
void mt__node_obj_delete(node_client *cl, const mt_rpc_msg *m);
void mt__node_obj_list(node_client *cl, const mt_rpc_msg *m);
/* Connection gone: drop its pins, abort its unsealed objects, cancel its waits. */
void mt__node_obj_client_closed(node_client *cl);
/* Shutdown: cancel every waiter (no reply). */
void mt__node_obj_shutdown(mt__node *n);
/* Object `id` was sealed here by the node itself (a finished transfer): answer its GET waiters. */
void mt__node_obj_sealed(mt__node *n, mt_id id);

/* node_pull.c: copies of other nodes' objects */
void mt__node_pull_objects(node_client *cl, const mt_rpc_msg *m);
/* Spills finished: a transfer waiting for store room tries again (no_wait: it takes a spill file). */
void mt__node_pull_room(mt__node *n, bool no_wait);
void mt__node_pull_client_closed(node_client *cl);
void mt__node_pull_shutdown(mt__node *n);
void mt__node_pull_stats(const mt__node *n, Manta__NodeStatsReply *r);

/* node_pool.c: worker processes */
mt_status mt__node_pool_start_worker(mt__node *n, mt_error *err);
void mt__node_pool_register(node_client *cl, const mt_rpc_msg *m);
void mt__node_pool_kill(node_client *cl, const mt_rpc_msg *m);
void mt__node_pool_maintain(mt__node *n);
void mt__node_pool_signal_all(mt__node *n, int signum);
node_worker *mt__node_pool_find(mt__node *n, mt_id id);
/* Moves a worker to the idle list (or kills it when dirty / stopping). */
void mt__node_pool_release(mt__node *n, node_worker *w, bool dirty);
node_worker *mt__node_pool_take_idle(mt__node *n);

/* node_lease.c: leases and resource accounting */
void mt__node_lease_request(node_client *cl, const mt_rpc_msg *m);
void mt__node_lease_return(node_client *cl, const mt_rpc_msg *m);
/* Grants queued requests that now fit; starts workers when needed. */
void mt__node_lease_schedule(mt__node *n);
void mt__node_lease_worker_died(mt__node *n, node_worker *w, int64_t exit_status, int sig);
void mt__node_lease_client_closed(node_client *cl);
/* node_gcs.c: an actor whose owner went away is gone (frees its name in the control store). */
void mt__node_gcs_actor_gone(mt__node *n, mt_id actor_id);
/* node_gcs.c: a placement group whose creator went away is gone (its bundles here were released). */
void mt__node_gcs_pg_gone(mt__node *n, mt_id pg_id);
/* A worker's task blocks on / returns from mt_get (its in-worker runtime tells us). */
void mt__node_lease_worker_blocked(node_client *cl, bool blocked);
void mt__node_lease_shutdown(mt__node *n);
/*
 * Pending demands for heartbeats/stats (queued requests plus recent
 * infeasible ones, at most 64) as protobuf ResourceSets: *out is NULL when
 * there are none, else points to storage valid until the next call.
 */
size_t mt__node_lease_demands_pb(mt__node *n, Manta__ResourceSet ***out);

/* node_gcs.c: control-store registration and heartbeats */
mt_status mt__node_gcs_start(mt__node *n, mt_error *err);
/* The peer with the most CPU available that fits `d` now (its view is charged with d), or NULL. */
node_peer *mt__node_gcs_spill_target(mt__node *n, const node_res *d);
/* Queued requests that allow spillback and still do not fit here go to peers that now have room. */
void mt__node_lease_respill(mt__node *n);

/* node_bundle.c: placement-group bundles */
void mt__node_bundles_reserve(node_client *cl, const mt_rpc_msg *m);
void mt__node_bundles_release(node_client *cl, const mt_rpc_msg *m);
/* The bundle (pg, index) — index -1: the first of pg's here that fits `d` (any, when d is NULL) — or NULL. */
node_bundle *mt__node_bundle_find(mt__node *n, mt_id pg, int index, const node_res *d);
/* Bundles a closed connection held are released. */
void mt__node_bundles_client_closed(node_client *cl);
void mt__node_bundles_shutdown(mt__node *n);
/* Ends the leases and queued requests of group pg (all bundles when index < 0): workers killed. */
void mt__node_lease_end_group(mt__node *n, mt_id pg, int index, const char *why);
void mt__node_gcs_stop(mt__node *n, void (*done)(mt__node *));
mt_status mt__node_write_ready(mt__node *n, mt_error *err);

/* node_daemon.c */
void mt__node_begin_shutdown(mt__node *n);
/* Called when the last worker exited during shutdown. */
void mt__node_shutdown_progress(mt__node *n);

#endif /* MANTA_NODE_INT_H */
