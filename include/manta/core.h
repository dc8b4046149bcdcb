/*
 * manta/core.h — the core runtime API: connect to a cluster, run remote
 * functions (tasks) and stateful actors, and share immutable objects.
 *
 * A driver calls mt_init() once, then submits tasks by function name with
 * arguments that are bytes or object refs, and gets their results back as
 * refs that mt_get() resolves. Functions are registered by name with
 * MT_REMOTE() in a shared library (the job's code path) that workers dlopen;
 * built-ins ("manta.echo", "manta.add_i64", ... and the actor class
 * "manta.Counter") are always present.
 *
 * Errors follow base.h: fallible calls return mt_status and fill the
 * optional mt_error. A failed task surfaces from mt_get() as the task's own
 * status with "task NAME failed on node HEX worker PID: MESSAGE"; a worker
 * that died (after max_retries) as MT_EIO "worker PID running NAME died
 * (signal N)"; a missing function as MT_ENOTFOUND "no remote function 'x'
 * (code path ...)"; a timeout as MT_ETIMEOUT.
 *
 * Threads: every driver call may be made from any thread (calls are
 * serialised on one internal lock). Task functions run on the worker's main
 * thread, one at a time.
 *
 * Ownership: refs and actor handles are reference counted; each one a call
 * hands out is owned by the caller, who releases it (mt_ref_release,
 * mt_actor_release). When the last ref to an object goes, its owner (the
 * driver that put it or submitted its task) deletes it. mt_shutdown()
 * releases whatever is still held.
 */
#ifndef MANTA_CORE_H
#define MANTA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "manta/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Session ----------------------------------------------------------- */

/* Options of mt_init; zero-initialised fields mean the default. */
typedef struct mt_init_options {
    /* Control store "host:port" to join; NULL = config `address` (MANTA_ADDRESS),
     * then the latest local session, else start an embedded cluster. */
    const char *address;
    double num_cpus;             /* embedded cluster only; 0 = online CPUs */
    int64_t object_store_memory; /* embedded cluster only; 0 = config default */
    /* Shared library with this job's MT_REMOTE functions; workers dlopen it.
     * NULL = built-ins (and functions linked into the driver, for local tests). */
    const char *code_path;
    const char *ns;              /* namespace for named actors; NULL = "default" */
    const char *temp_dir;        /* root of session folders; NULL = config temp_dir */
    bool no_start;               /* never start an embedded cluster: MT_ENOTFOUND instead */
} mt_init_options;

/* Connects this process to a cluster (see mt_init_options.address). MT_ESTATE if already initialised. */
MT_API mt_status mt_init_ex(const mt_init_options *opts, mt_error *err);
/* mt_init_ex without error detail. */
MT_API mt_status mt_init(const mt_init_options *opts);
/* Releases every handle, returns leases, stops an embedded cluster. Idempotent. */
MT_API void mt_shutdown(void);
MT_API bool mt_is_initialized(void);
/* Runs fn(arg) at the start of mt_shutdown (newest first, once; the runtime
 * still works then): for libraries that own handles on the session's behalf.
 * Registering the same pair twice keeps one. MT_ERANGE past 32 hooks. */
MT_API mt_status mt_at_shutdown(void (*fn)(void *), void *arg);
/* The session folder this driver is connected to ("" before mt_init). */
MT_API const char *mt_session_dir(void);
/* Whether mt_init started the cluster (mt_shutdown stops it). */
MT_API bool mt_cluster_is_embedded(void);

/* ---- Objects ----------------------------------------------------------- */

typedef struct mt_ref mt_ref;

/* A reference-counted handle to an object, pending or ready. */
MT_API mt_ref *mt_ref_retain(mt_ref *ref);
MT_API void mt_ref_release(mt_ref *ref); /* NULL-tolerant */
MT_API mt_id mt_ref_id(const mt_ref *ref);
/*
 * Refs travel as bytes: inside an object, or as a task argument
 * (MT_ARG_BORROW passes the ref itself instead of its value). Encoding
 * waits until the ref is ready (a failed ref is its error); a small value
 * travels inside the bytes, a stored one by id. *len_out is the length, or
 * the length needed when MT_ERANGE. mt_ref_from_bytes, in a driver or in
 * task code, gives a borrowed ref that keeps a stored object readable until
 * released, even after its owner released it. MT_EPARSE for other bytes.
 */
MT_API mt_status mt_ref_to_bytes(mt_ref *ref, void *buf, size_t cap, size_t *len_out, mt_error *err);
MT_API mt_status mt_ref_from_bytes(const void *data, size_t len, mt_ref **out, mt_error *err);

/*
 * The owner of a ref's object (Ray's owner address), carried in its bytes:
 * the process that created it — the putter, or the submitter of the task
 * that returns it — as its client id (a driver's id, or the worker's id for
 * objects task code made), the node that process runs on, and the node's
 * address ("tcp://IP:PORT"), where borrowers reach the owner.
 */
typedef struct mt_owner_address {
    mt_id worker_id;
    mt_id node_id;
    char node_address[256];
} mt_owner_address;
MT_API mt_status mt_ref_owner(const mt_ref *ref, mt_owner_address *out, mt_error *err);

/*
 * Copies `size` bytes into a new object owned by this driver. Small objects
 * (config inline_object_bytes) stay in this process's memory; larger ones
 * are written once into the node's shared-memory store. *ref_out on success.
 * MT_EINVAL for objects above config max_object_bytes.
 */
MT_API mt_status mt_put(const void *data, size_t size, mt_ref **ref_out, mt_error *err);
/*
 * mt_put for an object that holds refs (their mt_ref_to_bytes encodings):
 * list them in `contains` and the object keeps their values alive as long as
 * it lives (Ray's nested refs), so whoever reads it later can still turn the
 * bytes into refs (mt_ref_from_bytes) after the inner refs' owners let go.
 * Waits for pending contained refs; a failed one fails the put.
 */
typedef struct mt_put_options {
    mt_ref *const *contains;
    int num_contains;
} mt_put_options;
MT_API mt_status mt_put_ex(const void *data, size_t size, const mt_put_options *opts, mt_ref **ref_out,
                           mt_error *err);

/* A resolved object: `data` stays valid until mt_value_release (zero-copy from the store when big). */
typedef struct mt_value {
    const void *data;
    size_t size;
    void *priv_; /* owned by the runtime */
} mt_value;
MT_API void mt_value_release(mt_value *v); /* NULL-tolerant, idempotent */
/* Convenience: the value as int64 (MT_ETYPE unless exactly 8 bytes). */
MT_API mt_status mt_value_i64(const mt_value *v, int64_t *out, mt_error *err);

/*
 * Waits up to timeout_ms (-1 = forever) for all `n` objects and fills
 * values_out[0..n). All or nothing: on failure no value is returned and the
 * status is the first failed object's error (task failure, worker died,
 * MT_ETIMEOUT "get timed out after N ms (K of M objects ready)").
 */
MT_API mt_status mt_get(mt_ref *const *refs, int n, int64_t timeout_ms, mt_value *values_out,
                        mt_error *err);

/*
 * Waits until `num_returns` of the `n` objects are ready (finished or
 * failed) or timeout_ms passes (-1 = forever; 0 = poll). ready_out[i] tells
 * which (may be NULL); *num_ready_out how many (may be NULL). Returns MT_OK
 * on timeout too — the caller looks at the counts, like ray.wait.
 */
MT_API mt_status mt_wait(mt_ref *const *refs, int n, int num_returns, int64_t timeout_ms,
                         bool *ready_out, int *num_ready_out, mt_error *err);

/*
 * Cancels the task that produces `ref` (Ray's ray.cancel). A task not yet
 * sent to a worker (waiting for arguments, or queued) is dropped. One sent
 * already: with force its worker is killed (other tasks on that worker are
 * retried, not cancelled); without force a C function cannot be
 * interrupted, so it runs on but its result is dropped. Either way the
 * ref (all of the task's refs) fails with MT_ECANCELLED at once. A finished task, or
 * a ref from mt_put, is left as is (MT_OK). Actor calls as tasks, but never
 * with force (MT_EUNSUPPORTED, as Ray).
 */
MT_API mt_status mt_cancel(mt_ref *ref, bool force, mt_error *err);

/* ---- Arguments --------------------------------------------------------- */

/* One argument: bytes (data, size) or an object ref (ref != NULL). */
typedef struct mt_arg {
    const void *data;
    size_t size;
    mt_ref *ref;  /* submit side only; NULL in task functions */
    bool borrow;  /* with ref: the task gets the ref's bytes (mt_ref_from_bytes), not its value */
} mt_arg;

#define MT_ARG_BYTES(p, n) ((mt_arg){.data = (p), .size = (n)})
#define MT_ARG_STR(s) ((mt_arg){.data = (s), .size = strlen(s)})
#define MT_ARG_I64(v) ((mt_arg){.data = &(int64_t){(v)}, .size = sizeof(int64_t)})
#define MT_ARG_REF(r) ((mt_arg){.ref = (r)})
#define MT_ARG_BORROW(r) ((mt_arg){.ref = (r), .borrow = true})

/* Reads an argument as int64 (MT_ETYPE with the argument index unless exactly 8 bytes). */
MT_API mt_status mt_arg_i64(const mt_arg *args, int nargs, int i, int64_t *out, mt_error *err);

/* ---- Remote functions (worker side) ------------------------------------ */

typedef struct mt_task_ctx mt_task_ctx;

/*
 * A remote function. It reads its arguments (valid during the call), emits
 * its results with mt_return / mt_return_alloc (once per return value, in
 * order), and returns MT_OK, or an error status with a message in err.
 */
typedef mt_status (*mt_remote_fn)(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err);

/* Registers `fn` under `name` in this process (MT_EEXIST if taken by another function). */
MT_API mt_status mt_remote_register(const char *name, mt_remote_fn fn);
MT_API mt_remote_fn mt_remote_lookup(const char *name);

/* Registers fn under its own name when the program or library loads. */
#define MT_REMOTE(fn) MT_REMOTE_NAMED(#fn, fn)
#define MT_REMOTE_NAMED(name, fn)                                                     \
    __attribute__((constructor)) static void mt__remote_reg_##fn(void)               \
    {                                                                                 \
        mt_remote_register((name), (fn));                                             \
    }

/* Emits the next result (copied). MT_ERANGE past num_returns. */
MT_API mt_status mt_return(mt_task_ctx *ctx, const void *data, size_t size, mt_error *err);
/*
 * Emits the next result by reserving `size` bytes to fill in place (in the
 * store when big). *ptr_out stays valid, and keeps its place, until the task
 * function returns, whatever other results it emits meanwhile.
 */
MT_API mt_status mt_return_alloc(mt_task_ctx *ctx, size_t size, void **ptr_out, mt_error *err);
MT_API mt_status mt_return_i64(mt_task_ctx *ctx, int64_t v, mt_error *err);
/*
 * The next result holds these refs (their mt_ref_to_bytes encodings): it
 * keeps their values alive while it lives, after this task ends and after
 * their owners let go — as mt_put_ex's `contains`. Waits for pending refs.
 */
MT_API mt_status mt_return_contains(mt_task_ctx *ctx, mt_ref *const *refs, int n, mt_error *err);
/* The function name being run ("manta.echo", "Counter.incr"). */
MT_API const char *mt_task_name(const mt_task_ctx *ctx);
/* Loads the job's code library (mt_init's code_path) into this worker, if
 * not yet: for task code that looks up functions registered by name in it
 * (batch functions of map_batches). MT_OK when the job has none. */
MT_API mt_status mt_task_load_code(mt_task_ctx *ctx, mt_error *err);
/* How many results the caller asked for. */
MT_API int mt_task_num_returns(const mt_task_ctx *ctx);

/* ---- Actors ------------------------------------------------------------ */

/*
 * An actor class: `init` runs as the constructor (its args are the
 * creation args; it sets the state with mt_actor_set_state), methods are
 * remote functions registered as "<Class>.<method>", `fini` frees the state
 * when the actor exits (may be NULL).
 */
typedef void (*mt_actor_fini_fn)(void *state);
MT_API mt_status mt_actor_class_register(const char *class_name, mt_remote_fn init,
                                         mt_actor_fini_fn fini);
MT_API void mt_actor_set_state(mt_task_ctx *ctx, void *state);
MT_API void *mt_actor_state(mt_task_ctx *ctx);

#define MT_ACTOR_CLASS(cls, init, fini)                                               \
    __attribute__((constructor)) static void mt__actor_reg_##cls(void)               \
    {                                                                                 \
        mt_actor_class_register(#cls, (init), (fini));                                \
    }
#define MT_ACTOR_METHOD(cls, method, fn) MT_REMOTE_NAMED(#cls "." #method, fn)

/* ---- Submitting tasks -------------------------------------------------- */

/* A named resource quantity ("CPU", "GPU", "memory", or custom). */
typedef struct mt_resource {
    const char *name;
    double quantity;
} mt_resource;

/*
 * What the cluster holds, summed over its alive nodes (Ray's
 * ray.cluster_resources() and ray.available_resources()): *out is an array
 * of *n {name, quantity}, freed with mt_resources_free. Availability is as
 * of each node's last heartbeat.
 */
MT_API mt_status mt_cluster_resources(mt_resource **out, int *n, mt_error *err);
MT_API mt_status mt_available_resources(mt_resource **out, int *n, mt_error *err);
MT_API void mt_resources_free(mt_resource *r, int n);

/* ---- Placement groups -------------------------------------------------- */

/*
 * Ray's placement groups: bundles of resources reserved together on the
 * cluster's nodes, atomically (all bundles or none), by strategy:
 * PACK (as few nodes as possible, best effort), SPREAD (as many as
 * possible, best effort), STRICT_PACK (one node), STRICT_SPREAD (a node per
 * bundle). Tasks then run inside a bundle. A group lives until removed or
 * until the process that created it disconnects.
 */
typedef enum mt_pg_strategy {
    MT_PG_PACK = 0,
    MT_PG_SPREAD,
    MT_PG_STRICT_PACK,
    MT_PG_STRICT_SPREAD,
} mt_pg_strategy;

typedef struct mt_bundle {
    const mt_resource *resources;
    int num_resources;
} mt_bundle;

typedef struct mt_placement_group mt_placement_group;

#define MT_PG_MAX_BUNDLES 256

/*
 * Asks for a group of n bundles (1..MT_PG_MAX_BUNDLES) and tries to place it
 * once; returns the handle at once, placed or still pending (Ray's
 * placement_group()). Bad bundles or a strategy out of range fail here.
 */
MT_API mt_status mt_placement_group_create(const mt_bundle *bundles, int n, mt_pg_strategy strategy, const char *name,
                                           mt_placement_group **out, mt_error *err);
/* Waits until the group is placed (Ray's pg.ready()); timeout_ms < 0: forever. MT_ETIMEOUT while it cannot be. */
MT_API mt_status mt_placement_group_wait(mt_placement_group *pg, int64_t timeout_ms, mt_error *err);
/* Frees the bundles; tasks running in them are killed (Ray's remove_placement_group). Idempotent. */
MT_API mt_status mt_placement_group_remove(mt_placement_group *pg, mt_error *err);
/* Drops the handle (removing the group first if it is still placed). */
MT_API void mt_placement_group_release(mt_placement_group *pg);
MT_API mt_id mt_placement_group_id(const mt_placement_group *pg);
/* The address of the node bundle i is reserved on (tcp://ip:port), or NULL while pending. */
MT_API const char *mt_placement_group_bundle_node(const mt_placement_group *pg, int i);

/* mt_task_options.bundle_index: any bundle of the group (Ray's -1), or bundle i. */
#define MT_BUNDLE_ANY 0
#define MT_BUNDLE(i) ((i) + 1)

/* max_retries value meaning "never retry" (0 in the struct means the default). */
#define MT_RETRIES_NONE (-2)
/* max_retries / max_restarts value meaning "forever". */
#define MT_RETRIES_INFINITE (-1)

/* Ray's scheduling_strategy for plain tasks. */
typedef enum mt_scheduling_strategy {
    MT_SCHED_DEFAULT = 0, /* this node first, spilling to nodes with room when it is busy */
    MT_SCHED_SPREAD,      /* each new worker from the next alive node in turn (best effort) */
} mt_scheduling_strategy;

/* Options of mt_task_submit; zero = default. */
typedef struct mt_task_options {
    int num_returns;               /* 0 = 1 */
    const mt_resource *resources;  /* NULL = {CPU: 1}; else the whole demand (CPU 0 allowed) */
    int num_resources;
    int max_retries;               /* 0 = config task_max_retries (3); MT_RETRIES_NONE; MT_RETRIES_INFINITE */
    mt_placement_group *placement_group; /* run inside this placed group's bundle; the demand comes from it */
    int bundle_index;              /* MT_BUNDLE_ANY (0) or MT_BUNDLE(i) */
    mt_scheduling_strategy scheduling_strategy; /* ignored inside a placement group */
} mt_task_options;

/*
 * Submits `fn_name` with args. refs_out receives num_returns new refs (the
 * caller's array). Ref arguments are resolved by this driver before the task
 * is pushed. Fails now only for bad arguments or a lost cluster; the task's
 * own errors surface from mt_get on its refs.
 */
MT_API mt_status mt_task_submit(const char *fn_name, const mt_arg *args, int nargs,
                                const mt_task_options *opts, mt_ref **refs_out, mt_error *err);

/* ---- Using actors ------------------------------------------------------ */

typedef struct mt_actor mt_actor;

typedef struct mt_actor_options {
    const mt_resource *resources; /* NULL = {CPU: 1} to schedule (as Ray) */
    int num_resources;
    int max_restarts;             /* 0 = config actor_max_restarts (0); MT_RETRIES_INFINITE */
    const char *name;             /* register under this name (unique per namespace) */
    const char *ns;               /* NULL = the driver's namespace */
    bool get_if_exists;           /* a live actor of that name is returned instead of MT_EEXIST */
    bool detached;                /* Ray's lifetime="detached": outlives its creator until killed
                                     (mt_actor_kill with no_restart); otherwise it ends with its
                                     creator and its name is freed */
    mt_placement_group *placement_group; /* run in this placed group's bundle (on its node) */
    int bundle_index;             /* MT_BUNDLE_ANY (0) or MT_BUNDLE(i) */
} mt_actor_options;

/* Starts an actor of `class_name` (its constructor runs on a dedicated worker). */
MT_API mt_status mt_actor_create(const char *class_name, const mt_arg *args, int nargs,
                                 const mt_actor_options *opts, mt_actor **out, mt_error *err);
/*
 * Calls `method` asynchronously; calls from one handle run in call order.
 * num_returns 0 = 1; refs_out receives them.
 */
MT_API mt_status mt_actor_call(mt_actor *a, const char *method, const mt_arg *args, int nargs,
                               int num_returns, mt_ref **refs_out, mt_error *err);
/* Finds a named actor (ns NULL = the driver's namespace). MT_ENOTFOUND if none. */
MT_API mt_status mt_actor_lookup(const char *name, const char *ns, mt_actor **out, mt_error *err);
/*
 * Kills the actor's worker; with no_restart it stays dead, else it restarts if it may.
 * An actor not started yet (its constructor's arguments, its worker or its restart still
 * coming) is killed too: with no_restart it never starts, and its calls fail.
 */
MT_API mt_status mt_actor_kill(mt_actor *a, bool no_restart, mt_error *err);
MT_API mt_id mt_actor_id(const mt_actor *a);
/*
 * Actor handles travel as bytes: as a task argument (MT_ARG_BYTES) or
 * inside an object. mt_actor_to_bytes (waiting for the actor's worker to
 * be up) writes at most MT_ACTOR_HANDLE_MAX bytes into buf (*len_out = how many); mt_actor_from_bytes, in a driver
 * or in task code, gives a handle to the same actor (calls from it run in
 * its own call order; it does not own the actor). MT_EPARSE for bytes that
 * are not a handle.
 */
#define MT_ACTOR_HANDLE_MAX 8192
MT_API mt_status mt_actor_to_bytes(mt_actor *a, void *buf, size_t cap, size_t *len_out, mt_error *err);
MT_API mt_status mt_actor_from_bytes(const void *data, size_t len, mt_actor **out, mt_error *err);
/* Releases the handle; the creator's last release of an unnamed actor ends it. */
MT_API void mt_actor_release(mt_actor *a);

#ifdef __cplusplus
}
#endif
#endif /* MANTA_CORE_H */
