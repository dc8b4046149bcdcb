/*
 * exec.c — running one task in the worker process: resolving arguments
 * (inline bytes, or store objects pinned through the node and read
 * zero-copy from the mapped arena), finding the function (registry, then
 * the spec's code path via dlopen), the task context API (mt_return...),
 * creating big results in the store, and encoding the result.
 *
 * Threads: the worker's main thread only (the context API is only valid
 * inside a running task). Invariant: every pin taken for an argument is
 * released before the result is sent; every store object a task created is
 * sealed.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "proto/node.pb-c.h"
#include "store/store_client.h"
#include "worker/worker_int.h"

#define MAX_RETURNS 1024

typedef struct ret_slot {
    bool in_store;
    size_t off;     /* inline, copied by mt_return: offset in w->scratch */
    uint8_t *block; /* inline, filled in place (mt_return_alloc): its own block, stable until sent */
    size_t size;
    uint8_t *file_map; /* ON_DISK creation: writable file mapping to unmap before seal */
    bool skipped;      /* a rebuild's return that is computed but neither stored nor sent */
} ret_slot;

struct mt_task_ctx {
    mt__worker *w;
    const char *name;
    mt_id task_id;
    mt_id owner; /* the caller (the pushing connection's client id): owns the results */
    int num_returns, nret;
    ret_slot *rets;
    bool is_create;
    mt_id *contained; /* mt_return_contains: the stored objects the next result holds */
    int ncontained;
    const uint32_t *skip; /* the spec's skip_returns */
    size_t nskip;
    mt_id lost_arg;       /* an argument the store no longer has (nil = none) */
    const char *code_path; /* the spec's: the job's code library */
};

/* Whether the next return is one a rebuild must not store (TaskSpec.skip_returns). */
static bool next_is_skipped(const mt_task_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nskip; i++)
        if (ctx->skip[i] == (uint32_t)ctx->nret) return true;
    return false;
}

static mt_status node_call(mt__worker *w, uint16_t method, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *desc, ProtobufCMessage **reply,
                           mt_error *err)
{
    ProtobufCMessage *r = NULL;
    mt_status st = mt_rpc_client_call(w->node, method, req, desc, MT_CFG_INT64(rpc_call_timeout_ms), &r, NULL, err);
    if (reply) *reply = r;
    else if (r) protobuf_c_message_free_unpacked(r, &mt_rpc_pb_allocator);
    return st;
}

/* Seal, release, delete: pipelined (no answer awaited; the connection keeps their order). */
static void object_id_send(mt__worker *w, uint16_t method, mt_id id) { mt__object_id_send(w->node, method, id); }

/* ---- Context API --------------------------------------------------------- */

static mt_status next_slot(mt_task_ctx *ctx, ret_slot **out, mt_error *err)
{
    if (ctx->nret >= ctx->num_returns)
        return mt_error_set(err, MT_ERANGE, "%s: more results than num_returns (%d)", ctx->name, ctx->num_returns);
    *out = &ctx->rets[ctx->nret];
    memset(*out, 0, sizeof **out);
    return MT_OK;
}

static mt_status create_in_store(mt_task_ctx *ctx, ret_slot *s, size_t size, void **ptr, mt_error *err)
{
    mt__worker *w = ctx->w;
    mt_id id = mt__task_return_id(ctx->task_id, (uint32_t)ctx->nret);
    Manta__CreateObjectRequest req = MANTA__CREATE_OBJECT_REQUEST__INIT;
    req.object_id.data = id.bytes;
    req.object_id.len = MT_ID_SIZE;
    req.size = (int64_t)size;
    req.primary = true;
    if (!mt_id_is_nil(ctx->owner)) {
        req.owner_id.data = ctx->owner.bytes;
        req.owner_id.len = MT_ID_SIZE;
    }
    ProtobufCBinaryData cids[64], *cv = cids;
    if (ctx->ncontained > 64 && !(cv = mt_malloc((size_t)ctx->ncontained * sizeof *cv)))
        return mt_error_set(err, MT_ENOMEM, "%s: contained refs", ctx->name);
    for (int i = 0; i < ctx->ncontained; i++) cv[i] = (ProtobufCBinaryData){MT_ID_SIZE, ctx->contained[i].bytes};
    req.contained_ids = cv;
    req.n_contained_ids = (size_t)ctx->ncontained;
    Manta__CreateObjectReply *rep = NULL;
    mt_status cst = node_call(w, MANTA__NODE_METHOD__NODE_CREATE_OBJECT, &req.base, &manta__create_object_reply__descriptor,
                              (ProtobufCMessage **)&rep, err);
    if (cv != cids) mt_free(cv);
    mt_free(ctx->contained);
    ctx->contained = NULL;
    ctx->ncontained = 0;
    MT_RETURN_NOT_OK(cst);
    mt_status st = MT_OK;
    if (rep->in_arena) {
        if (rep->offset < 0 || rep->offset + (int64_t)size > w->capacity)
            st = mt_error_set(err, MT_ECORRUPT, "store gave offset %lld outside the arena", (long long)rep->offset);
        else
            *ptr = w->arena + rep->offset;
    } else {
        uint8_t *m = NULL;
        st = mt_store_map_file_rw(rep->spill_path, (int64_t)size, &m, err);
        s->file_map = m;
        *ptr = m;
    }
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    if (st != MT_OK) return st;
    s->in_store = true;
    s->size = size;
    ctx->nret++;
    return MT_OK;
}

/*
 * The caller fills the returned memory until the task function returns, so
 * it must not move: an inline result gets a block of its own (freed once the
 * result is encoded), never a pointer into w->scratch, which a later return
 * may reallocate.
 */
MT_API mt_status mt_return_alloc(mt_task_ctx *ctx, size_t size, void **ptr_out, mt_error *err)
{
    ret_slot *s = NULL;
    MT_RETURN_NOT_OK(next_slot(ctx, &s, err));
    s->skipped = next_is_skipped(ctx);
    if (s->skipped) {
        mt_free(ctx->contained);
        ctx->contained = NULL;
        ctx->ncontained = 0;
    } else if ((int64_t)size > ctx->w->inline_max || ctx->ncontained) {
        return create_in_store(ctx, s, size, ptr_out, err);
    }
    s->block = mt_malloc(size ? size : 1);
    if (!s->block) return mt_error_set(err, MT_ENOMEM, "%s: result of %zu bytes", ctx->name, size);
    s->size = size;
    *ptr_out = s->block;
    ctx->nret++;
    return MT_OK;
}

/* Copies an inline result into w->scratch (one buffer reused by every task: no allocation per result). */
MT_API mt_status mt_return_contains(mt_task_ctx *ctx, mt_ref *const *refs, int n, mt_error *err)
{
    if (!ctx || n < 0 || (n > 0 && !refs)) return mt_error_set(err, MT_EINVAL, "mt_return_contains: bad arguments");
    mt_free(ctx->contained);
    ctx->contained = NULL;
    ctx->ncontained = 0;
    return mt__refs_stored_ids(refs, n, &ctx->contained, &ctx->ncontained, err);
}

MT_API mt_status mt_return(mt_task_ctx *ctx, const void *data, size_t size, mt_error *err)
{
    if ((int64_t)size > ctx->w->inline_max || ctx->ncontained || next_is_skipped(ctx)) {
        void *p;
        MT_RETURN_NOT_OK(mt_return_alloc(ctx, size, &p, err));
        if (size) memcpy(p, data, size);
        return MT_OK;
    }
    ret_slot *s = NULL;
    MT_RETURN_NOT_OK(next_slot(ctx, &s, err));
    MT_RETURN_NOT_OK(mt_rpc_buf_reserve(&ctx->w->scratch, size, err));
    s->off = ctx->w->scratch.len;
    s->size = size;
    if (size) memcpy(ctx->w->scratch.data + s->off, data, size);
    ctx->w->scratch.len += size;
    ctx->nret++;
    return MT_OK;
}

MT_API mt_status mt_return_i64(mt_task_ctx *ctx, int64_t v, mt_error *err)
{
    return mt_return(ctx, &v, sizeof v, err);
}

MT_API const char *mt_task_name(const mt_task_ctx *ctx) { return ctx->name; }

static bool load_code_path(mt__worker *w, const char *path, mt_error *err);

MT_API mt_status mt_task_load_code(mt_task_ctx *ctx, mt_error *err)
{
    if (!ctx || !ctx->code_path || !*ctx->code_path) return MT_OK;
    return load_code_path(ctx->w, ctx->code_path, err) ? MT_OK : (err ? err->code : MT_ENOTFOUND);
}
MT_API int mt_task_num_returns(const mt_task_ctx *ctx) { return ctx->num_returns; }

MT_API void mt_actor_set_state(mt_task_ctx *ctx, void *state)
{
    if (ctx->is_create) ctx->w->actor_state = state;
}

MT_API void *mt_actor_state(mt_task_ctx *ctx) { return ctx->w->actor_state; }

MT_API mt_status mt_arg_i64(const mt_arg *args, int nargs, int i, int64_t *out, mt_error *err)
{
    if (i < 0 || i >= nargs) return mt_error_set(err, MT_EINVAL, "argument %d missing (%d given)", i, nargs);
    if (args[i].size != sizeof(int64_t))
        return mt_error_set(err, MT_ETYPE, "argument %d is %zu bytes, not an int64", i, args[i].size);
    memcpy(out, args[i].data, sizeof *out);
    return MT_OK;
}

/* ---- Arguments -------------------------------------------------------------- */

typedef struct pinned {
    mt_id id;
    const uint8_t *file_map;
    int64_t size;
    bool cached; /* the pin belongs to the worker's argument cache */
} pinned;

/*
 * Stored arguments stay pinned in a small per-worker cache after their task
 * (objects are immutable and ids never reused), so a worker running many
 * tasks on the same input asks the node once. Bounded by entries and bytes,
 * and emptied when the worker has been idle a second (mt__worker_args_idle).
 */
#define ARG_CACHE 16
#define ARG_CACHE_MAX_BYTES ((int64_t)64 << 20)

static struct arg_cache_entry {
    mt_id id;
    const uint8_t *data, *file_map;
    int64_t size;
    uint64_t used;
    bool live;
} arg_cache[ARG_CACHE];
static uint64_t arg_clock;
static int64_t arg_cache_bytes;

static void arg_cache_drop(mt__worker *w, struct arg_cache_entry *e)
{
    if (!e->live) return;
    if (e->file_map) mt_store_unmap_file(e->file_map, e->size);
    object_id_send(w, MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, e->id);
    arg_cache_bytes -= e->size;
    memset(e, 0, sizeof *e);
}

void mt__worker_args_idle(mt__worker *w)
{
    for (int i = 0; i < ARG_CACHE; i++) arg_cache_drop(w, &arg_cache[i]);
}

bool mt__worker_args_cached(void) { return arg_cache_bytes > 0 || arg_cache[0].live; }

static struct arg_cache_entry *arg_cache_find(mt_id id)
{
    for (int i = 0; i < ARG_CACHE; i++)
        if (arg_cache[i].live && mt_id_equal(arg_cache[i].id, id)) return &arg_cache[i];
    return NULL;
}

/* Moves a fresh pin into the cache (evicting the least recently used); false if it does not fit. */
static bool arg_cache_put(mt__worker *w, mt_id id, const uint8_t *data, const uint8_t *file_map, int64_t size)
{
    if (size > ARG_CACHE_MAX_BYTES / 4) return false;
    struct arg_cache_entry *slot = NULL;
    for (int i = 0; i < ARG_CACHE && !slot; i++)
        if (!arg_cache[i].live) slot = &arg_cache[i];
    while (!slot || arg_cache_bytes + size > ARG_CACHE_MAX_BYTES) {
        struct arg_cache_entry *old = NULL;
        for (int i = 0; i < ARG_CACHE; i++)
            if (arg_cache[i].live && (!old || arg_cache[i].used < old->used)) old = &arg_cache[i];
        if (!old) return false;
        arg_cache_drop(w, old);
        if (!slot) slot = old;
    }
    *slot = (struct arg_cache_entry){.id = id, .data = data, .file_map = file_map, .size = size,
                                     .used = ++arg_clock, .live = true};
    arg_cache_bytes += size;
    return true;
}

/* An argument stored on another node (the task was leased here from a driver elsewhere):
 * copied into this node's store first, by the node, unless it is here already. */
static mt_status fetch_remote_arg(const Manta__TaskArg *a, mt_id id, mt_error *err)
{
    if (!a->location || !*a->location) return MT_OK;
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    if (st == MT_OK && strcmp(a->location, mt__drv.node_address) != 0) st = mt__drv_pull(id, a->location, err);
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

/* The task's arguments on other nodes, copied here together (the node runs the copies at once);
 * failures are left to pin_arg, which asks again for each and reports it. */
static void prefetch_remote_args(const Manta__TaskSpec *spec)
{
    enum { MAXP = 64 };
    mt_id ids[MAXP];
    const char *addrs[MAXP];
    int k = 0, located = 0;
    for (size_t i = 0; i < spec->n_args; i++) located += spec->args[i]->in_store && spec->args[i]->location && *spec->args[i]->location;
    if (located < 2) return; /* nothing to copy together: no lock taken on the task path */
    pthread_mutex_lock(&mt__drv.lock);
    if (mt__drv_check(NULL) == MT_OK)
        for (size_t i = 0; i < spec->n_args && k < MAXP; i++) {
            const Manta__TaskArg *a = spec->args[i];
            if (!a->in_store || !a->location || !*a->location || a->object_id.len != MT_ID_SIZE ||
                !strcmp(a->location, mt__drv.node_address))
                continue;
            memcpy(ids[k].bytes, a->object_id.data, MT_ID_SIZE);
            if (arg_cache_find(ids[k])) continue;
            addrs[k++] = a->location;
        }
    if (k > 1) mt__drv_pull_many(ids, addrs, k, NULL, NULL);
    pthread_mutex_unlock(&mt__drv.lock);
}

static mt_status pin_arg(mt__worker *w, const Manta__TaskArg *a, mt_arg *out, pinned *p, mt_error *err)
{
    if (a->object_id.len != MT_ID_SIZE) return mt_error_set(err, MT_EINVAL, "argument object id of %zu bytes", a->object_id.len);
    memcpy(p->id.bytes, a->object_id.data, MT_ID_SIZE);
    p->file_map = NULL;
    p->size = 0;
    p->cached = false;
    struct arg_cache_entry *hit = arg_cache_find(p->id);
    if (hit) {
        hit->used = ++arg_clock;
        p->cached = true;
        *out = (mt_arg){.data = hit->data, .size = (size_t)hit->size};
        return MT_OK;
    }
    MT_RETURN_NOT_OK(fetch_remote_arg(a, p->id, err));
    Manta__GetObjectRequest req = MANTA__GET_OBJECT_REQUEST__INIT;
    req.object_id = a->object_id;
    req.timeout_ms = 60000;
    Manta__GetObjectReply *rep = NULL;
    MT_RETURN_NOT_OK(node_call(w, MANTA__NODE_METHOD__NODE_GET_OBJECT, &req.base, &manta__get_object_reply__descriptor,
                               (ProtobufCMessage **)&rep, err));
    mt_status st = MT_OK;
    if (rep->in_arena) {
        if (rep->offset < 0 || rep->size < 0 || rep->offset + rep->size > w->capacity)
            st = mt_error_set(err, MT_ECORRUPT, "store object outside the arena");
        else
            *out = (mt_arg){.data = w->arena + rep->offset, .size = (size_t)rep->size};
    } else {
        st = mt_store_map_file(rep->spill_path, rep->size, &p->file_map, err);
        p->size = rep->size;
        if (st == MT_OK) *out = (mt_arg){.data = p->file_map, .size = (size_t)rep->size};
    }
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    if (st != MT_OK) object_id_send(w, MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, p->id);
    else if (arg_cache_put(w, p->id, out->data, p->file_map, (int64_t)out->size)) p->cached = true;
    return st;
}

static void unpin_all(mt__worker *w, pinned *p, int n)
{
    for (int i = 0; i < n; i++) {
        if (p[i].cached) continue; /* the cache keeps it */
        if (p[i].file_map) mt_store_unmap_file(p[i].file_map, p[i].size);
        object_id_send(w, MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, p[i].id);
    }
}

/* ---- Finding the function ----------------------------------------------------- */

static bool load_code_path(mt__worker *w, const char *path, mt_error *err)
{
    for (int i = 0; i < w->npaths; i++)
        if (!strcmp(w->paths[i], path)) return true;
    if (w->npaths == (int)(sizeof w->paths / sizeof w->paths[0])) {
        mt_error_set(err, MT_ERANGE, "too many code paths");
        return false;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        mt_error_set(err, MT_ENOTFOUND, "loading code path %s: %s", path, dlerror());
        return false;
    }
    w->paths[w->npaths++] = mt_strdup(path);
    MT_LOG(MT_LOG_INFO, "WORKER-DLOPEN", "loaded %s", path);
    return true;
}

static mt_remote_fn find_fn(mt__worker *w, const char *name, const char *code_path, mt_error *err)
{
    if (w->last_fn && !strcmp(w->last_name, name)) return w->last_fn;
    mt_remote_fn fn = mt_remote_lookup(name);
    if (!fn && code_path && *code_path) {
        if (!load_code_path(w, code_path, err)) return NULL;
        fn = mt_remote_lookup(name);
    }
    if (!fn) {
        mt_error_set(err, MT_ENOTFOUND, "no remote function '%s' (code path %s)", name,
                     code_path && *code_path ? code_path : "none: built-ins only");
        return NULL;
    }
    if (strlen(name) < sizeof w->last_name) {
        strcpy(w->last_name, name);
        w->last_fn = fn;
    }
    return fn;
}

static mt_remote_fn find_actor_fn(mt__worker *w, const Manta__TaskSpec *spec, bool *system, mt_error *err)
{
    *system = true;
    if (spec->kind == MANTA__TASK_KIND__TASK_ACTOR_CREATE) {
        if (w->actor_class) {
            mt_error_set(err, MT_ESTATE, "worker %d already hosts an actor", (int)getpid());
            return NULL;
        }
        const mt__actor_class *c = mt__actor_class_lookup(spec->function);
        if (!c && *spec->code_path && load_code_path(w, spec->code_path, err))
            c = mt__actor_class_lookup(spec->function);
        if (!c) {
            mt_error_set(err, MT_ENOTFOUND, "no actor class '%s' (code path %s)", spec->function,
                         *spec->code_path ? spec->code_path : "none: built-ins only");
            return NULL;
        }
        w->actor_class = c;
        return c->init;
    }
    if (!w->actor_class) {
        mt_error_set(err, MT_ESTATE, "no actor on worker %d", (int)getpid());
        return NULL;
    }
    if (!w->actor_alive) {
        mt_error_set(err, MT_ESTATE, "actor %s failed to start: %s", w->actor_class->name, w->actor_error);
        return NULL;
    }
    char full[512];
    size_t a = strlen(w->actor_class->name), b = strlen(spec->function);
    if (a + 1 + b >= sizeof full) {
        mt_error_set(err, MT_EINVAL, "method name %s.%s too long", w->actor_class->name, spec->function);
        return NULL;
    }
    memcpy(full, w->actor_class->name, a); /* per call: no printf */
    full[a] = '.';
    memcpy(full + a + 1, spec->function, b + 1);
    return find_fn(w, full, spec->code_path, err);
}

/* ---- Running ------------------------------------------------------------------- */

static mt_status seal_returns(mt_task_ctx *ctx, mt_status st, mt_error *err)
{
    for (int i = 0; i < ctx->nret; i++) {
        ret_slot *s = &ctx->rets[i];
        if (!s->in_store) continue;
        if (s->file_map) mt_store_unmap_file(s->file_map, (int64_t)s->size);
        s->file_map = NULL;
        mt_id id = mt__task_return_id(ctx->task_id, (uint32_t)i);
        /* pipelined: the caller's get waits at the node for the seal */
        object_id_send(ctx->w, MANTA__NODE_METHOD__NODE_SEAL_OBJECT, id);
        if (st != MT_OK) object_id_send(ctx->w, MANTA__NODE_METHOD__NODE_DELETE_OBJECT, id);
    }
    return st;
}

static void append_result(mt__worker *w, mt__wconn *c, const Manta__TaskSpec *spec, mt_task_ctx *ctx,
                          mt_status st, bool system, const mt_error *err)
{
    Manta__TaskResult res = MANTA__TASK_RESULT__INIT;
    Manta__ReturnValue rv[8], *rvp[8];
    Manta__ReturnValue *rvs = rv;
    Manta__ReturnValue **rvps = rvp;
    int n = st == MT_OK ? ctx->num_returns : 0;
    if (n > 8) {
        rvs = mt_malloc(sizeof *rvs * (size_t)n);
        rvps = mt_malloc(sizeof *rvps * (size_t)n);
        if (!rvs || !rvps) {
            n = 0;
            st = MT_ENOMEM;
        }
    }
    res.seq = spec->seq;
    res.status = st;
    res.message = st == MT_OK ? "" : (char *)err->msg;
    res.system_error = system;
    res.worker_pid = w->pid;
    res.node_id.data = w->node_id.bytes;
    res.node_id.len = MT_ID_SIZE;
    if (!mt_id_is_nil(ctx->lost_arg)) {
        res.lost_object_id.data = ctx->lost_arg.bytes;
        res.lost_object_id.len = MT_ID_SIZE;
    }
    for (int i = 0; i < n; i++) {
        manta__return_value__init(&rvs[i]);
        rvps[i] = &rvs[i];
        if (i < ctx->nret && ctx->rets[i].skipped) {
            continue; /* an empty inline value: the driver drops it */
        } else if (i < ctx->nret && ctx->rets[i].in_store) {
            rvs[i].in_store = true;
            rvs[i].size = (int64_t)ctx->rets[i].size;
        } else if (i < ctx->nret) {
            rvs[i].data.data = ctx->rets[i].block ? ctx->rets[i].block : w->scratch.data + ctx->rets[i].off;
            rvs[i].data.len = ctx->rets[i].size;
            rvs[i].size = (int64_t)ctx->rets[i].size;
        }
    }
    res.n_returns = (size_t)n;
    res.returns = rvps;
    if (c->frame_hdr == SIZE_MAX)
        mt_rpc_buf_begin_frame(&c->s.out, MANTA__WORKER_METHOD__WORKER_TASK_RESULTS, MT_RPC_FLAG_ONEWAY, 0, 0,
                             &c->frame_hdr, NULL);
    if (c->frame_hdr != SIZE_MAX && mt_rpc_buf_append_field(&c->s.out, 1, &res.base, NULL) == MT_OK)
        mt_rpc_buf_patch_len(&c->s.out, c->frame_hdr);
    if (rvs != rv) mt_free(rvs);
    if (rvps != rvp) mt_free(rvps);
}

void mt__worker_run_task(mt__worker *w, mt__wconn *c, const Manta__TaskSpec *spec)
{
    mt_error err;
    mt_error_clear(&err);
    ret_slot slots[8];
    mt_task_ctx ctx = {.w = w, .name = spec->function, .num_returns = spec->num_returns ? (int)spec->num_returns : 1,
                       .rets = slots, .is_create = spec->kind == MANTA__TASK_KIND__TASK_ACTOR_CREATE};
    if (spec->task_id.len == MT_ID_SIZE) memcpy(ctx.task_id.bytes, spec->task_id.data, MT_ID_SIZE);
    ctx.owner = c->s.peer_id;
    ctx.code_path = spec->code_path;
    ctx.skip = spec->skip_returns;
    ctx.nskip = spec->n_skip_returns;
    if (spec->code_path && *spec->code_path) mt__drv_set_code_path(spec->code_path); /* for nested tasks */
    mt_arg argv[16], *args = argv;
    pinned pv[16], *pins = pv;
    int npins = 0;
    bool system = true;
    mt_status st = MT_OK;
    w->scratch.len = w->scratch.off = 0;
    if (ctx.num_returns > MAX_RETURNS) st = mt_error_set(&err, MT_ERANGE, "num_returns %d above %d", ctx.num_returns, MAX_RETURNS);
    if (st == MT_OK && ctx.num_returns > 8 && !(ctx.rets = mt_malloc(sizeof *ctx.rets * (size_t)ctx.num_returns)))
        st = mt_error_set(&err, MT_ENOMEM, "returns");
    if (st == MT_OK && spec->n_args > 16 &&
        (!(args = mt_malloc(sizeof *args * spec->n_args)) || !(pins = mt_malloc(sizeof *pins * spec->n_args))))
        st = mt_error_set(&err, MT_ENOMEM, "arguments");
    if (st == MT_OK && spec->n_args > 1) prefetch_remote_args(spec);
    for (size_t i = 0; st == MT_OK && i < spec->n_args; i++) {
        const Manta__TaskArg *a = spec->args[i];
        if (!a->in_store) {
            args[i] = (mt_arg){.data = a->data.data, .size = a->data.len};
            continue;
        }
        memset(&pins[npins], 0, sizeof pins[npins]);
        st = pin_arg(w, a, &args[i], &pins[npins], &err);
        if (st == MT_OK) npins++;
        else mt_error_prefix(&err, "argument %zu", i);
        if (st == MT_ENOTFOUND && a->object_id.len == MT_ID_SIZE) memcpy(ctx.lost_arg.bytes, a->object_id.data, MT_ID_SIZE);
    }
    mt_remote_fn fn = NULL;
    if (st == MT_OK) {
        fn = spec->kind == MANTA__TASK_KIND__TASK_NORMAL ? find_fn(w, spec->function, spec->code_path, &err)
                                                          : find_actor_fn(w, spec, &system, &err);
        if (!fn) st = err.code;
    }
    if (st == MT_OK) {
        system = false;
        mt__drv_set_task_context(ctx.task_id, spec->job_id); /* tasks it submits name it as their parent, and carry on its job */
        st = fn(&ctx, args, (int)spec->n_args, &err);
        mt__drv_set_task_context(mt_id_nil(), 0);
        if (st != MT_OK && !err.msg[0]) mt_error_set(&err, st, "%s", mt_status_message(st));
        if (ctx.is_create) {
            w->actor_alive = st == MT_OK;
            if (st != MT_OK) snprintf(w->actor_error, sizeof w->actor_error, "%s", err.msg);
        }
        st = seal_returns(&ctx, st, &err);
    }
    unpin_all(w, pins, npins);
    append_result(w, c, spec, &ctx, st, system, &err);
    for (int i = 0; i < ctx.nret; i++) mt_free(ctx.rets[i].block);
    if (ctx.rets != slots) mt_free(ctx.rets);
    mt_free(ctx.contained);
    if (args != argv) mt_free(args);
    if (pins != pv) mt_free(pins);
}

void mt__worker_actor_end(mt__worker *w)
{
    if (w->actor_class && w->actor_alive && w->actor_class->fini) w->actor_class->fini(w->actor_state);
    w->actor_alive = false;
    w->actor_state = NULL;
}

void mt__object_id_send(mt_rpc_client *c, uint16_t method, mt_id id)
{
    if (!c) return;
    uint8_t buf[64];
    Manta__ObjectIdRequest req = MANTA__OBJECT_ID_REQUEST__INIT;
    req.object_id.data = id.bytes;
    req.object_id.len = MT_ID_SIZE;
    size_t n = protobuf_c_message_pack(&req.base, buf);
    uint64_t rid;
    mt_rpc_client_send(c, method, MT_RPC_FLAG_ONEWAY, buf, n, &rid, NULL);
}
