/*
 * worker_int.h — declarations shared inside the worker module: the
 * function registry, task execution in the worker process, and the driver
 * state. Driver<->worker sockets are rpc's framed streams (mt_rpc_stream:
 * the daemons' frames and auth gate on a raw socket and our own poll loop).
 *
 * Threads: a stream and the exec helpers are single-threaded; the
 * registry is locked; the driver state is guarded by mt__drv.lock.
 */
#ifndef MANTA_WORKER_INT_H
#define MANTA_WORKER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strtab.h"
#include "manta/core.h"
#include "proto/gcs.pb-c.h"
#include "proto/worker.pb-c.h"
#include "rpc/rpc.h"

/* ---- Node messages (exec.c) ------------------------------------------ */

/* A one-way ObjectIdRequest (seal, release, delete: pipelined; the connection keeps their order). */
void mt__object_id_send(mt_rpc_client *c, uint16_t method, mt_id id);

/* ---- Registry (registry.c) --------------------------------------------- */

typedef struct mt__actor_class {
    char *name;
    mt_remote_fn init;
    mt_actor_fini_fn fini;
} mt__actor_class;

/* Looks up an actor class; NULL if unknown. */
const mt__actor_class *mt__actor_class_lookup(const char *name);
/* Registers the built-in functions (builtins.c); called once by the registry. */
void mt__builtins_register(void);

/* ---- Ids ---------------------------------------------------------------- */

/* The object id of return `i` of task `task_id` (task ids end in four zero bytes). */
mt_id mt__task_return_id(mt_id task_id, uint32_t i);
/* A fresh task id (random, last four bytes zero). */
mt_id mt__task_id_new(void);

/* ---- Worker process (worker_main.c, exec.c) ---------------------------- */

#define MT__WORKER_MAX_CONNS 256

typedef struct mt__wconn {
    mt_rpc_stream s;  /* s.peer_id: the client id from its Auth frame, the caller of its tasks */
    size_t frame_hdr; /* the open result frame (mt_rpc_buf_begin_frame's offset), or SIZE_MAX */
} mt__wconn;

typedef struct mt__worker {
    char session_dir[4096];
    char address[4200];
    char tcp_address[128]; /* tcp://<node ip>:<port>, for drivers on other nodes */
    char node_ip[64];
    uint8_t token[MT_RPC_TOKEN_BYTES];
    mt_id worker_id, node_id;
    char node_hex[2 * MT_ID_SIZE + 1];
    mt_rpc_client *node;
    uint8_t *arena;
    int64_t capacity;
    int64_t inline_max;
    int lfd, tcp_lfd;
    mt__wconn *conns[MT__WORKER_MAX_CONNS];
    int nconns;
    mt_rpc_buf scratch; /* inline return bytes of the running task */
    /* The actor hosted here (at most one). */
    const mt__actor_class *actor_class;
    void *actor_state;
    bool actor_alive;
    char actor_error[MT_ERROR_MSG_MAX];
    /* Loaded code paths (dlopen handles kept for the process lifetime). */
    char *paths[64];
    int npaths;
    /* One-entry lookup cache. */
    char last_name[256];
    mt_remote_fn last_fn;
    bool exiting;
    int pid;
    int64_t spin_ns; /* polls without blocking this long after work before sleeping */
    size_t max_frame; /* rpc_max_frame_bytes, read once */
    int64_t auth_timeout_ns; /* rpc_connect_timeout_ms, read once */
    int spare_fd;            /* for shedding connections when out of descriptors */
} mt__worker;

/* Runs one task spec and appends its result to c->out (exec.c). */
void mt__worker_run_task(mt__worker *w, mt__wconn *c, const Manta__TaskSpec *spec);
/* Ends the hosted actor (runs its fini). */
void mt__worker_actor_end(mt__worker *w);
int mt__worker_main(const char *session_dir, const char *node_socket, const char *worker_hex);
/* exec.c: the worker's cache of pinned arguments, emptied when idle. */
void mt__worker_args_idle(mt__worker *w);
bool mt__worker_args_cached(void);

/* ---- Driver (driver*.c) ------------------------------------------------ */

#include <pthread.h>

#define MT__REF_MAGIC 0x52454621u

typedef enum { MT__OBJ_PENDING = 0, MT__OBJ_READY = 1, MT__OBJ_FAILED = 2 } mt__obj_state;

/*
 * Lineage (Ray's): how a task's stored result was made — its packed spec,
 * its resource shape and the argument refs it read (kept alive with it) —
 * so a result lost from the store (its spill file gone, later a dead node)
 * is rebuilt by running the task again (mt__task_rebuild). Shared by the
 * task's stored result refs (rc), freed with the last; bounded by config
 * max_lineage_bytes of specs per driver. A rebuild of one return of a
 * multi-return task stores only that return (TaskSpec.skip_returns).
 */
typedef struct mt__lineage {
    int rc;     /* result refs holding it */
    int nrets;  /* the task's num_returns */
    uint8_t *spec;
    size_t spec_len;
    char *fn_name;
    struct mt__shape *shape;
    int retries_left; /* rebuilds left (-1 = forever): the task's max_retries */
    struct mt_ref **deps;
    int ndeps;
    mt_id task_id;
    uint64_t seq; /* the spec's: results are matched by it */
    int32_t attempt; /* the last run's (a rebuild is the next attempt) */
    uint32_t job_id;
    mt_id parent_id;
} mt__lineage;

struct mt_ref {
    uint32_t magic;
    int rc;
    mt_id id;
    uint8_t state;
    bool in_store; /* bytes live in the node's store under `id` */
    bool owned;    /* this driver deletes it when the last ref goes */
    /* Reading a stored object: one node pin per ref, taken by the first get
     * (or by mt_ref_from_bytes) and kept while values are out, then kept a
     * while on the driver's lingering list so repeated gets cost no round
     * trip (driver_obj.c). */
    bool vpin;
    int vcount;                    /* values handed out and not released */
    const uint8_t *vdata;          /* the bytes while vpin (arena or file map) */
    const uint8_t *vfile_map;      /* when the object lives in a file */
    struct mt_ref *lnext, *lprev;  /* on mt__drv.lingering while vpin && !vcount */
    bool lingering;
    uint8_t *data; /* inline bytes (mt_malloc), when READY and !in_store */
    size_t size;
    mt_status code; /* FAILED */
    char *msg;      /* FAILED */
    mt__lineage *lineage; /* a stored task result that can be rebuilt; freed with the ref */
    /* Owner address (Ray's): the owning process, its node and that node's
     * address. owner_addr NULL = ours (mt__drv.node_address). */
    mt_id owner, owner_node;
    char *owner_addr;
    /* Where an owned result lives when a task on another node made it (NULL: our node). */
    char *loc_addr;
};

/* Resources one task or actor may demand (a lease request carries them all). */
#define MT__MAX_RESOURCES 16

typedef struct mt__shape mt__shape;
typedef struct mt__lease mt__lease;

typedef struct mt__task {
    struct mt__task *next;
    uint64_t seq;
    mt__shape *shape;  /* normal tasks */
    mt_actor *actor;   /* actor calls */
    uint8_t *spec;     /* packed TaskSpec (kept for retries) */
    size_t spec_len;
    char *fn_name;
    int retries_left;  /* -1 = forever */
    int nrets;
    mt_ref **rets;     /* retained */
    mt_ref *ret1[1];
    mt_id task_id;
    /* Ref arguments, retained until the task is done (a submitted task keeps
     * its inputs alive, as in Ray), and while waiting for them (driver_deps.c):
     * the arguments copied at submit and what the spec needs. */
    mt_ref **deps;
    int ndeps;
    mt_arg *wargs;
    int nwargs;
    int kind;          /* Manta__TaskKind, while waiting */
    const char *ran_on; /* the address of the node whose worker ran it, when not ours */
    bool cancelled;    /* mt_cancel on a task already sent: fail it whatever comes back */
    char *spec_fn;     /* the spec's function (an actor call's method), while waiting */
    /* What `manta list tasks` shows (task_events.c). */
    mt_id parent_id;   /* the task that submitted it (nil: a driver) */
    uint32_t job_id;
    int32_t attempt;   /* 0, then one more per retry */
    uint32_t tev_gen;  /* with tev_slot: this attempt's record in the driver's current report */
    int32_t tev_slot;
    uint8_t ttype;     /* Manta__TaskType */
    bool tev_named;    /* this attempt's first record (its name) is out */
    bool tev_running;  /* reported RUNNING (the first in flight on its worker) */
} mt__task;

typedef struct mt__taskq {
    mt__task *head, *tail;
    int n;
} mt__taskq;

struct mt__lease {
    mt__lease *next;    /* in its shape's list */
    mt_rpc_stream s;
    size_t frame_hdr;   /* the open push frame (mt_rpc_buf_begin_frame's offset), or SIZE_MAX */
    mt_id lease_id, worker_id;
    int worker_pid;
    mt__taskq inflight;
    int64_t idle_since_ns; /* on mt__drv.dying: the deadline for the worker's notice */
    bool dead;          /* the node reported its worker dead */
    mt__shape *shape;   /* task lease */
    mt_actor *actor;    /* actor connection */
    mt_rpc_client *node;   /* the node that granted it when not ours (driver_pull.c keeps it) */
    const char *node_addr; /* that node's address (lives as long as the connection) */
    mt_id node_id;         /* the granting node (nil when it did not say) */
};

struct mt__shape {
    mt__shape *next;
    char key[512];
    mt_resource *res;   /* owned copy of the demand */
    char **res_names;
    int nres;
    mt__lease *leases;
    int nleases, max_leases;
    bool requesting;
    bool remote_only;            /* only another node can run it: max_leases is that node's CPUs */
    mt_id pg_id;                 /* nil, or the placement group whose bundle it runs in */
    int bundle;                  /* with pg_id: the bundle, or -1 for any */
    bool spread;                 /* SPREAD: each new lease from the next node in turn */
    int next_node;
    int64_t spill_off_until_ns;  /* a spilled request found no room: ask here without spillback until then */
    mt__taskq pending;
};

struct mt_actor {
    int rc;
    mt_id actor_id;
    char *class_name, *name, *ns;
    bool owner, dead;
    int restarts_left;  /* -1 = forever */
    char *death_msg;
    mt_status death_code;
    mt__lease *conn;
    uint8_t *ctor_spec;
    size_t ctor_len;
    mt_resource *res;
    char **res_names;
    int nres;
    mt_id pg_id;         /* nil, or the placement group its worker runs in */
    int bundle;          /* with pg_id: the bundle, or -1 for any */
    mt_rpc_client *node; /* the node its worker was leased from when not ours (a cached remote client) */
    bool default_res;    /* no resources given: {CPU: 1} to place, nothing held */
    bool detached;       /* outlives its creator */
    char worker_address[4200];
    mt_id worker_id, lease_id;
    int worker_pid;
    mt_actor *next_live; /* list of handles with a connection (for pumping) */
    int nwaiting;        /* calls waiting for arguments: later calls queue behind them */
    bool starting;       /* created, its worker not up yet: calls wait (driver_deps.c) */
    uint64_t lease_req;  /* while starting: its lease request on mt__drv.leases */
    mt_actor *next_starting;
    mt_id node_id;        /* its worker's node, once leased (nil when not known) */
    mt_id ctor_task_id;   /* its creation task (manta list tasks): one attempt per start */
    int32_t ctor_attempt;
    mt_id ctor_parent;
    uint32_t ctor_job;
    /* Restarting (after its worker or node died): tried again by the pump until it starts or restart_until_ns. */
    int64_t restart_at_ns, restart_until_ns;
    char *restart_why;  /* how it died, for the message when restarting fails */
    char avoid[300];    /* a node that did not answer: not chosen again while restarting */
    bool up;            /* its creation task went to its worker (this start) */
    mt_actor *next_restarting;
};

typedef struct mt__driver {
    pthread_mutex_t lock;
    bool inited, embedded;
    char session_dir[4096];
    char node_socket[4200];
    char gcs_address[600];
    char ns[256];
    char code_path[4096];
    uint8_t token[MT_RPC_TOKEN_BYTES];
    mt_id driver_id, node_id;
    char node_address[300]; /* the node's tcp address: refs we own carry it (owner address) */
    mt_rpc_client *node;   /* blocking calls (objects, actor leases) */
    mt_rpc_client *store;  /* pipelined PUT_OBJECTs; their answers are read by the pump (driver_obj.c) */
    /* Puts sent and not yet answered, oldest first (answers come in order). */
    struct { uint64_t req; mt_ref *ref; } puts[256];
    int puts_head, nputs;
    mt_rpc_client *leases; /* async task lease requests + WORKER_DIED notices */
    uint64_t lease_req_id;  /* outstanding request on `leases`, 0 = none */
    mt__shape *lease_req_shape;
    void *gcs;             /* mt_gcs_client, opened on demand */
    uint8_t *arena;
    int64_t capacity;
    int64_t inline_max;
    /* A waiting call polls without blocking this long before it sleeps (config wait_spin_us). */
    int64_t spin_ns;
    size_t max_frame;      /* rpc_max_frame_bytes, read once at mt_init */
    int pipeline;          /* max_tasks_in_flight_per_worker, read once at mt_init (1..256) */
    double node_cpus;
    double cluster_cpus;        /* alive nodes' CPUs (driver_resources.c), 0 until asked */
    bool retry_soon;            /* a shape waits to ask a busy bundle again */
    char **nodes;               /* alive nodes' addresses (driver_resources.c) */
    int nnodes;
    struct mt_placement_group *pgs; /* live groups this driver created (driver_pg.c) */
    int64_t cluster_cpus_at_ns;
    uint64_t next_seq;
    int64_t lineage_bytes; /* specs kept as lineage (max_lineage_bytes) */
    mt__shape *shapes;
    mt_actor *actors;      /* handles with live connections */
    mt__task *waiting, *waiting_tail; /* submitted tasks whose ref arguments are pending (FIFO) */
    mt_actor *starting;    /* actors whose lease request is out (driver_actor.c) */
    mt_actor *restarting;  /* actors to start again, tried by the pump (driver_actor.c) */
    mt_ref *lingering, *lingering_tail; /* read pins kept after their values went (LRU, driver_obj.c) */
    int nlingering;
    int nwaiting;
    bool deps_changed;     /* a task finished since the waiting list was last looked at */
    bool node_lost;        /* the node daemon's connection closed: calls fail with node_lost_msg */
    char node_lost_msg[MT_ERROR_MSG_MAX];
    /* Task leases whose worker died, with tasks to fail once the node's notice says how (driver_task.c). */
    mt__lease *dying;
    int gcs_pid, node_pid; /* embedded cluster children */
    /* Recent WORKER_DIED notices: worker id -> signal. */
    struct { mt_id worker_id; int sig, code; } died[16];
    int ndied;
    /* Housekeeping thread (driver_bg.c); bg_cv pairs with `lock`. */
    pthread_t bg_thread;
    pthread_cond_t bg_cv;
    bool bg_running, bg_stop, bg_parked;
    /* Task state changes since the last report to the control store (task_events.c). */
    struct mt__tev *tev;
    int32_t ntev, cap_tev;
    mt_strtab tev_names;   /* task names, interned */
    uint32_t tev_gen;
    int64_t tev_dropped, tev_next_ns, tev_retry_ns, tev_backoff_ms, tev_interval_ms;
    uint32_t job_id;       /* this driver's job (tasks carry it; a worker's runtime takes its task's) */
    /* In a worker: the task running now and its job (exec.c sets them through mt__drv_set_task_context). */
    mt_id cur_task;
    uint32_t cur_job;
} mt__driver;

extern mt__driver mt__drv;

/* task_events.c: every call under mt__drv.lock */
struct mt__tev;
/* At mt_init: the report interval, this driver's job id. */
void mt__tev_start(void);
/* A new task of `type` (Manta__TaskType): its parent and job from the running task, if any. */
void mt__tev_init_task(mt__task *t, int type);
/* t's current attempt reached `state` (Manta__TaskState). */
void mt__tev_state(mt__task *t, int state);
/* t was pushed to lease l's worker: SUBMITTED_TO_WORKER or RUNNING, with the worker and node. */
void mt__tev_on_worker(mt__task *t, const mt__lease *l, int state);
/* Ray's ErrorType name for a failure of t with code. */
const char *mt__tev_error_type(const mt__task *t, mt_status code);
void mt__tev_failed(mt__task *t, const char *error_type, const char *msg);
/* t's attempt finished (RUNNING's time filled in when it ran and finished within one result batch). */
void mt__tev_finished(mt__task *t);
/* t's attempt failed (error_type, msg) and it is tried again: the next attempt starts in `state`. */
void mt__tev_retry(mt__task *t, const char *error_type, const char *msg, int state);
/* Actor a's creation task, attempt `attempt`, failed before it reached a worker (never placed, killed, lost). */
void mt__tev_actor_start_failed(mt_actor *a, int32_t attempt, mt_status code, const char *msg);
/* Reports what changed to the control store, when the interval has passed (or force). */
void mt__tev_flush(bool force);
/* At shutdown: reports the rest, frees the buffer. */
void mt__tev_fini(void);

/* driver.c */
/* The driver's control-store connection (made on first use; driver_actor.c). */
struct mt_gcs_client;
mt_status mt__drv_gcs(struct mt_gcs_client **out, mt_error *err);
/* In a worker: the task now running (nil: none) and its job, for the tasks it submits. */
void mt__drv_set_task_context(mt_id task_id, uint32_t job_id);
/* Closes that connection (it failed); the next mt__drv_gcs connects again. */
void mt__drv_gcs_reset(void);
/* CPUs of the alive nodes, refreshed at most once a second (the node's own until a query succeeds). */
double mt__drv_cluster_cpus(void);
/* The alive nodes' addresses, this node first (same cache); the array stays the driver's. */
int mt__drv_alive_nodes(char ***addrs);
void mt__drv_nodes_free(void);
/* Another alive node whose total fits the demand (one with it available now preferred), or NULL. */
const Manta__NodeInfo *mt__drv_node_for(const Manta__ClusterStatusReply *cs, const mt_resource *res, int n);
/* The same, skipping the node at `avoid` (may be NULL), and with allow_self, considering this one too. */
const Manta__NodeInfo *mt__drv_node_for_ex(const Manta__ClusterStatusReply *cs, const mt_resource *res, int n,
                                           const char *avoid, bool allow_self);

/* driver_pg.c: placement groups as the task path sees them */
mt_status mt__pg_check(const mt_placement_group *pg, int bundle_index, mt_id *id, int *bundle, mt_error *err);
/* The node address of bundle `bundle` (-1: the first bundle's) of live placed group id, or NULL. */
/* Node addr of group id did not answer: its bundles move once the control store lists it dead (driver_pg.c).
 * MT_OK moved, MT_ETIMEOUT not now. */
mt_status mt__pg_node_lost(mt_id id, const char *addr, mt_error *err);
const char *mt__pg_node_for(mt_id id, int bundle);
/* CPUs of that bundle (-1: of the group's bundles on the first bundle's node). */
double mt__pg_cpus_for(mt_id id, int bundle);
/* Removes every group this driver placed (mt_shutdown). */
void mt__pg_shutdown(void);
/* A kept connection to the node at `addr`; *addr_out lives as long as it (driver_pull.c). */
mt_status mt__drv_remote_client(const char *addr, mt_rpc_client **out, const char **addr_out, mt_error *err);
/* Copies object `id` from the node at `addr` into this node's store (driver_pull.c). */
mt_status mt__drv_pull(mt_id id, const char *addr, mt_error *err);
/* Several at once (the node copies them concurrently); st_out[i] (may be NULL) per object. */
mt_status mt__drv_pull_many(const mt_id *ids, const char *const *addrs, int n, mt_status *st_out, mt_error *err);
void mt__drv_remotes_close(void);
/* The connection pulls use (their own, so the lock can go while the node copies); closed at shutdown. */
void mt__drv_puller_close(void);
/* Another connection to this node, presenting the driver id (driver.c). */
mt_status mt__drv_node_connect_extra(mt_rpc_client **out, mt_error *err);
/* The kept connection to `addr`, NULL when there is none (never connects). */
mt_rpc_client *mt__drv_remote_find(const char *addr);
mt_status mt__drv_node_call(uint16_t method, const ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *desc, ProtobufCMessage **reply,
                            int *fd_out, mt_error *err);
mt_status mt__drv_object_id_call(uint16_t method, mt_id id, mt_error *err);
/* The same without waiting (seal, release, delete: pipelined on the node connection). */
void mt__drv_object_id_send(uint16_t method, mt_id id);
mt_status mt__drv_check(mt_error *err); /* in a worker, starts the in-worker runtime on first use */
/* worker_main.c / exec.c: task code in this process gets the runtime of a driver. */
void mt__drv_set_worker(const char *session_dir, const char *node_socket, mt_id worker_id);
void mt__drv_set_code_path(const char *code_path);
bool mt__drv_in_worker(void);
/* driver_cluster.c: find or start the cluster; fills session_dir, node_socket, gcs_address. */
mt_status mt__drv_find_cluster(const mt_init_options *o, mt_error *err);
void mt__drv_stop_cluster(void);
/* driver_obj.c */
mt_ref *mt__ref_new(mt_id id, bool owned);
void mt__ref_unref(mt_ref *r); /* under the lock */
/* Deletes a stored object on this node and, when made_at is another node's address, there too (one-way). */
void mt__drv_delete_stored(mt_id id, const char *made_at);
void mt__ref_set_inline(mt_ref *r, const void *data, size_t size);
void mt__ref_fail(mt_ref *r, mt_status code, const char *msg);
/* Waits for refs[0, n) and gives the ids of the stored ones (mt_malloc'd, NULL when none). */
mt_status mt__refs_stored_ids(mt_ref *const *refs, int n, mt_id **ids_out, int *n_out, mt_error *err);
size_t mt__ref_encoded_size(const mt_ref *r);
/* Runs the task that made stored result `r` again (it was lost): r is pending until it is back. */
mt_status mt__task_rebuild(mt_ref *r, mt_error *err);
void mt__lineage_unref(mt__lineage *l); /* a READY ref as bytes (mt_ref_to_bytes) */
void mt__drv_lingering_fini(void); /* lets go of every lingering read pin */
/* Reads the answers to pipelined puts; `wait` blocks for at least one (when there are any). */
mt_status mt__drv_puts_drain(bool wait, mt_error *err);
void mt__drv_puts_drain_all(void); /* before closing: every put answered (or failed) */
void mt__ref_encode(const mt_ref *r, uint8_t *out);
/* driver_task.c */
mt_status mt__drv_pump(int64_t timeout_ms, mt_error *err);
void mt__drv_tasks_fini(void);
mt_status mt__encode_spec(const char *fn, Manta__TaskKind kind, mt_id task_id, mt_id actor_id,
                          const mt_arg *args, int nargs, int nrets, uint64_t seq,
                          uint8_t **spec_out, size_t *len_out, mt_ref **failed_dep, mt_error *err);
mt__task *mt__task_new(const char *fn, int nrets, mt_ref **refs_out, mt_id task_id);
void mt__task_free(mt__task *t);
void mt__task_fail(mt__task *t, mt_status code, const char *msg);
/* As mt__task_fail, naming the failure for manta list tasks (Ray's ErrorType). */
void mt__task_fail_as(mt__task *t, mt_status code, const char *msg, const char *error_type);
mt_status mt__lease_push(mt__lease *l, mt__task *t, mt_error *err);
void mt__lease_close(mt__lease *l);
mt_status mt__lease_connect(mt__lease *l, const char *address, mt_error *err);
int mt__drv_died_signal(mt_id worker_id);
void mt__drv_return_idle_leases(void);
/* driver_bg.c: the thread that pumps while the application is outside the runtime. */
mt_status mt__drv_bg_start(mt_error *err);
void mt__drv_bg_stop(void); /* under the lock; releases it while joining */
void mt__drv_bg_kick(void); /* under the lock: there is work to tick for */
void mt__task_enqueue(mt__task *t); /* a normal task whose arguments are ready: queue and dispatch */
/* driver_deps.c: submitted tasks whose arguments are still pending */
mt_status mt__task_take_deps(mt__task *t, const mt_arg *args, int nargs, bool *pending, mt_error *err);
/* A sent normal task (spec kept) waits again for its deps: one was lost and is being rebuilt. */
void mt__task_wait_again(mt__task *t);
mt_status mt__task_park(mt__task *t, int kind, const char *spec_fn, const mt_arg *args, int nargs, mt_error *err);
void mt__drv_release_waiting(void);
void mt__drv_waiting_fail(mt_status code, const char *msg); /* fails every waiting task */
bool mt__drv_waiting_cancel(mt_ref *ref); /* drops the waiting task of `ref` (failed: cancelled) */
/* driver_actor.c */
void mt__actor_conn_lost(mt_actor *a);
void mt__actors_fini(void);
void mt__actor_send(mt__task *t, bool may_pump); /* an actor call whose arguments are ready */
void mt__actor_unref(mt_actor *a); /* mt_actor_release under the lock */
void mt__actors_node_lost(const char *msg); /* every live actor is dead with `msg` */
/* Tries the restarts that are due (the pump); the time of the next one in *next_ns (unchanged if none). */
void mt__actors_restart_due(int64_t *next_ns);
void mt__actor_ctor_ready(mt__task *t); /* the constructor's arguments are ready: lease its worker, async */
bool mt__actor_lease_reply(const mt_rpc_msg *m); /* a lease reply for a starting actor (false: not one) */
void mt__actor_fail_start(mt_actor *a, mt_status code, const char *msg); /* it will never start */

#endif /* MANTA_WORKER_INT_H */
