/*
 * node_objects.c — the object-store methods of the node daemon (CREATE, SEAL,
 * GET, RELEASE, DELETE) on top of src/store, with per-connection pin and
 * creation tracking and GET waiters that are answered when the object is
 * sealed or their timeout fires. Main thread only.
 * Invariants: a client's pins map holds exactly the store pins taken on its
 * behalf (released when it closes); a waiter is in its object's list and its
 * client's list until it is answered, timed out or cancelled, and its memory
 * is freed only from its timer's close callback.
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <string.h>

#include "node/node_int.h"
#include "store/store_client.h"

#define UNPACK(type, fn, cl, m, what)                                                  \
    type *req = fn(&mt_rpc_pb_allocator, (m)->len, (m)->payload);                      \
    if (!req) {                                                                        \
        mt__node_reply((cl), (m), MT_EINVAL, NULL, "malformed %s payload", (what));    \
        return;                                                                        \
    }

static bool take_id(node_client *cl, const mt_rpc_msg *m, ProtobufCBinaryData b, mt_id *id,
                    const char *what)
{
    if (mt__node_id_from_pb(b, id)) return true;
    mt__node_reply(cl, m, MT_EINVAL, NULL, "%s: object_id must be %d bytes, got %zu", what,
                   MT_ID_SIZE, b.len);
    return false;
}

/* Applies a request's contained_ids to a just-created object (aborting it on error). */
static mt_status set_contained(mt__node *n, mt_id id, size_t count, const ProtobufCBinaryData *ids, mt_error *err)
{
    if (count == 0) return MT_OK;
    mt_id small[16], *v = count <= 16 ? small : mt_malloc(count * sizeof *v);
    mt_status st = v ? MT_OK : mt_error_set(err, MT_ENOMEM, "contained ids");
    for (size_t k = 0; st == MT_OK && k < count; k++)
        if (!mt__node_id_from_pb(ids[k], &v[k]))
            st = mt_error_set(err, MT_EINVAL, "contained_ids[%zu] must be %d bytes", k, MT_ID_SIZE);
    if (st == MT_OK && count > 1000000) st = mt_error_set(err, MT_EINVAL, "more than 1000000 contained ids");
    if (st == MT_OK) st = mt_store_object_set_contained(n->store, id, v, (int)count, err);
    if (v != small) mt_free(v);
    if (st != MT_OK) mt_store_object_abort(n->store, id, NULL);
    return st;
}

static bool pin_add(node_client *cl, mt_id id)
{
    void **v = mt_idmap_put(&cl->pins, id);
    if (!v) return false;
    *v = (void *)((intptr_t)*v + 1);
    return true;
}

static void reply_get(node_client *cl, const mt_rpc_msg *m, mt_id id, const mt_store_ref *ref)
{
    Manta__GetObjectReply r = MANTA__GET_OBJECT_REPLY__INIT;
    r.offset = ref->offset;
    r.size = ref->size;
    r.in_arena = ref->where == MT_STORE_IN_ARENA;
    r.spill_path = (char *)(ref->where == MT_STORE_ON_DISK && ref->path ? ref->path : "");
    mt_id owner, creator;
    if (mt_store_object_owner(cl->node->store, id, &owner, &creator) && !mt_id_is_nil(owner))
        r.owner_id = (ProtobufCBinaryData){MT_ID_SIZE, owner.bytes};
    mt__node_reply(cl, m, MT_OK, &r.base, NULL);
}

/* Pins `id` for `cl` and answers `m` when the object is there; else returns the store's error in err. */
static mt_status try_get(node_client *cl, const mt_rpc_msg *m, mt_id id, mt_error *err)
{
    mt_store_ref ref;
    mt_status st = mt_store_object_get(cl->node->store, id, &ref, err);
    /* The owner deleted it, but this connection still pins it (a borrowed
     * ref): it may read it again while the pin lasts. */
    if (st == MT_ENOTFOUND && mt_idmap_find(&cl->pins, id))
        st = mt_store_object_get_pinned(cl->node->store, id, &ref, err);
    if (st != MT_OK) return st;
    if (!pin_add(cl, id)) {
        mt_store_object_release(cl->node->store, id, NULL);
        mt__node_reply(cl, m, MT_ENOMEM, NULL, "out of memory tracking a pin");
        return MT_OK; /* answered */
    }
    reply_get(cl, m, id, &ref);
    return MT_OK;
}

/*
 * The start CREATE_OBJECT and PUT_OBJECT share: parks the request when
 * spilling must make room first (false: it is answered later, in arrival
 * order), else creates the entry and pins the objects it contains; *st says
 * how that went (a failed pin aborts the entry again).
 */
static bool create_entry(node_client *cl, const mt_rpc_msg *m, bool put, mt_id id, int64_t size, bool primary,
                         size_t ncontained, ProtobufCBinaryData *contained, mt_store_ref *ref, mt_status *st,
                         mt_error *err)
{
    mt__node *n = cl->node;
    bool wait = false;
    if (!mt__node_spill_must_park(n)) {
        *st = mt_store_object_create_ex(n->store, id, size, primary, mt__node_spill_no_wait(n) ? NULL : &wait, ref, err);
        if (*st != MT_OK || !wait) {
            if (*st == MT_OK && (*st = set_contained(n, id, ncontained, contained, err)) != MT_OK)
                mt_store_object_abort(n->store, id, NULL);
            return true;
        }
    }
    mt__node_spill_park(cl, m, put);
    return false;
}

void mt__node_obj_create(node_client *cl, const mt_rpc_msg *m)
{
    UNPACK(Manta__CreateObjectRequest, manta__create_object_request__unpack, cl, m, "CREATE_OBJECT");
    mt_id id;
    if (!take_id(cl, m, req->object_id, &id, "CREATE_OBJECT")) goto done;
    if (req->size < 0) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "CREATE_OBJECT: negative size %lld", (long long)req->size);
        goto done;
    }
    /* A worker creates its task's results for the caller; anyone else owns what it creates. */
    mt_id owner = cl->client_id;
    if (req->owner_id.len == MT_ID_SIZE) {
        mt_id named;
        memcpy(named.bytes, req->owner_id.data, MT_ID_SIZE);
        if (!mt_id_equal(named, owner) && !cl->worker) {
            mt__node_reply(cl, m, MT_EPERM, NULL, "CREATE_OBJECT: only workers may create objects for another owner");
            goto done;
        }
        owner = named;
    } else if (req->owner_id.len != 0) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "CREATE_OBJECT: owner_id must be %d bytes", MT_ID_SIZE);
        goto done;
    }
    mt_store_ref ref;
    mt_error err;
    mt_status st;
    if (!create_entry(cl, m, false, id, req->size, req->primary, req->n_contained_ids, req->contained_ids, &ref, &st,
                      &err))
        goto done;
    if (st != MT_OK) {
        mt__node_reply(cl, m, st, NULL, "%s", err.msg);
        goto done;
    }
    if (!mt_idmap_put(&cl->creating, id)) {
        mt_store_object_abort(cl->node->store, id, NULL);
        mt__node_reply(cl, m, MT_ENOMEM, NULL, "out of memory tracking a creation");
        goto done;
    }
    mt_store_object_set_owner(cl->node->store, id, owner, cl->client_id, NULL);
    Manta__CreateObjectReply r = MANTA__CREATE_OBJECT_REPLY__INIT;
    r.offset = ref.offset;
    r.in_arena = ref.where == MT_STORE_IN_ARENA;
    r.spill_path = (char *)(ref.where == MT_STORE_ON_DISK && ref.path ? ref.path : "");
    mt__node_reply(cl, m, MT_OK, &r.base, NULL);
    mt__node_spill_kick(cl->node);
done:
    manta__create_object_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

static void waiter_closed(uv_handle_t *h) { mt_free(h->data); }

/* Unlinks a waiter from its client's list and frees it (via its timer). */
static void waiter_drop(node_waiter *w)
{
    node_client *cl = w->client;
    if (w->cprev) w->cprev->cnext = w->cnext;
    else cl->waiters = w->cnext;
    if (w->cnext) w->cnext->cprev = w->cprev;
    uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

/* Removes `w` from its object's list. */
static void waiter_unlink_id(mt__node *n, node_waiter *w)
{
    void **v = mt_idmap_find(&n->waiters, w->id);
    if (!v) return;
    node_waiter **pp = (node_waiter **)v;
    while (*pp && *pp != w) pp = &(*pp)->next_same_id;
    if (*pp) *pp = w->next_same_id;
    if (!*(node_waiter **)v) mt_idmap_del(&n->waiters, w->id);
}

static void wake_waiters(mt__node *n, mt_id id)
{
    void **v = mt_idmap_find(&n->waiters, id);
    if (!v) return;
    node_waiter *w = *v;
    mt_idmap_del(&n->waiters, id);
    while (w) {
        node_waiter *next = w->next_same_id;
        uv_timer_stop(&w->timer);
        mt_error err;
        mt_status st = try_get(w->client, &w->req, id, &err);
        if (st != MT_OK) mt__node_reply(w->client, &w->req, st, NULL, "%s", err.msg);
        waiter_drop(w);
        w = next;
    }
}

void mt__node_obj_sealed(mt__node *n, mt_id id) { wake_waiters(n, id); }

void mt__node_obj_put(node_client *cl, const mt_rpc_msg *m)
{
    UNPACK(Manta__PutObjectRequest, manta__put_object_request__unpack, cl, m, "PUT_OBJECT");
    mt_id id;
    if (!take_id(cl, m, req->object_id, &id, "PUT_OBJECT")) goto done;
    mt__node *n = cl->node;
    mt_store_ref ref;
    mt_error err;
    int64_t size = (int64_t)req->data.len;
    mt_status st;
    if (!create_entry(cl, m, true, id, size, true, req->n_contained_ids, req->contained_ids, &ref, &st, &err))
        goto done;
    if (st == MT_OK) {
        mt_store_object_set_owner(n->store, id, cl->client_id, cl->client_id, NULL);
        if (ref.where == MT_STORE_IN_ARENA) {
            if (size) memcpy(mt_store_base(n->store) + ref.offset, req->data.data, (size_t)size);
        } else {
            uint8_t *w = NULL;
            st = mt_store_map_file_rw(ref.path, size, &w, &err);
            if (st == MT_OK) {
                memcpy(w, req->data.data, (size_t)size);
                mt_store_unmap_file(w, size);
            }
        }
        if (st == MT_OK) st = mt_store_object_seal(n->store, id, &err);
        else mt_store_object_abort(n->store, id, NULL);
    }
    if (st != MT_OK) {
        mt__node_reply(cl, m, st, NULL, "%s", err.msg);
        goto done;
    }
    mt__node_reply(cl, m, MT_OK, NULL, NULL);
    wake_waiters(n, id);
    mt__node_spill_kick(n);
done:
    manta__put_object_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

void mt__node_obj_seal(node_client *cl, const mt_rpc_msg *m)
{
    UNPACK(Manta__ObjectIdRequest, manta__object_id_request__unpack, cl, m, "SEAL_OBJECT");
    mt_id id;
    if (!take_id(cl, m, req->object_id, &id, "SEAL_OBJECT")) goto done;
    if (!mt_idmap_find(&cl->creating, id) && mt_store_object_contains(cl->node->store, id, NULL)) {
        mt__node_reply(cl, m, MT_EPERM, NULL, "SEAL_OBJECT: only the connection that created an object may seal it");
        goto done;
    }
    mt_error err;
    mt_status st = mt_store_object_seal(cl->node->store, id, &err);
    if (st != MT_OK) {
        mt__node_reply(cl, m, st, NULL, "%s", err.msg);
        goto done;
    }
    mt_idmap_del(&cl->creating, id);
    mt__node_reply(cl, m, MT_OK, NULL, NULL);
    wake_waiters(cl->node, id);
done:
    manta__object_id_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

static void waiter_timeout(uv_timer_t *t)
{
    node_waiter *w = t->data;
    char hex[2 * MT_ID_SIZE + 1];
    mt_id_hex(w->id, hex);
    waiter_unlink_id(w->client->node, w);
    mt__node_reply(w->client, &w->req, MT_ETIMEOUT, NULL, "object %s was not sealed in time", hex);
    waiter_drop(w);
}

static void add_waiter(node_client *cl, const mt_rpc_msg *m, mt_id id, int64_t timeout_ms)
{
    mt__node *n = cl->node;
    node_waiter *w = mt_calloc(1, sizeof *w);
    void **v = w ? mt_idmap_put(&n->waiters, id) : NULL;
    if (!v) {
        mt_free(w);
        mt__node_reply(cl, m, MT_ENOMEM, NULL, "out of memory queueing a GET");
        return;
    }
    w->client = cl;
    w->req = mt__node_msg_for_reply(m);
    w->id = id;
    uv_timer_init(n->loop, &w->timer);
    w->timer.data = w;
    if (timeout_ms > 0) uv_timer_start(&w->timer, waiter_timeout, (uint64_t)timeout_ms, 0);
    /* Append so waiters are answered in arrival order. */
    node_waiter **pp = (node_waiter **)v;
    while (*pp) pp = &(*pp)->next_same_id;
    *pp = w;
    w->cnext = cl->waiters;
    if (cl->waiters) cl->waiters->cprev = w;
    cl->waiters = w;
}

void mt__node_obj_get(node_client *cl, const mt_rpc_msg *m)
{
    UNPACK(Manta__GetObjectRequest, manta__get_object_request__unpack, cl, m, "GET_OBJECT");
    mt_id id;
    if (!take_id(cl, m, req->object_id, &id, "GET_OBJECT")) goto done;
    mt_error err;
    /* An object the store had and no longer has after the get was lost (its
     * spill file is gone): say so now, a waiter would wait in vain. */
    bool had = mt_store_object_contains(cl->node->store, id, NULL);
    mt_status st = try_get(cl, m, id, &err);
    if (st == MT_ENOTFOUND && (req->must_exist || had))
        mt__node_reply(cl, m, st, NULL, "%s", err.msg);
    else if ((st == MT_ENOTFOUND || st == MT_ESTATE) && req->timeout_ms != 0)
        add_waiter(cl, m, id, req->timeout_ms);
    else if (st != MT_OK)
        mt__node_reply(cl, m, st, NULL, "%s", err.msg);
done:
    manta__get_object_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

void mt__node_obj_release(node_client *cl, const mt_rpc_msg *m)
{
    UNPACK(Manta__ObjectIdRequest, manta__object_id_request__unpack, cl, m, "RELEASE_OBJECT");
    mt_id id;
    if (!take_id(cl, m, req->object_id, &id, "RELEASE_OBJECT")) goto done;
    void **v = mt_idmap_find(&cl->pins, id);
    if (!v) {
        char hex[2 * MT_ID_SIZE + 1];
        mt_id_hex(id, hex);
        mt__node_reply(cl, m, MT_ESTATE, NULL, "object %s is not pinned by this connection", hex);
        goto done;
    }
    mt_store_object_release(cl->node->store, id, NULL);
    intptr_t left = (intptr_t)*v - 1;
    if (left == 0) mt_idmap_del(&cl->pins, id);
    else *v = (void *)left;
    mt__node_reply(cl, m, MT_OK, NULL, NULL);
done:
    manta__object_id_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

enum { READ_MAX = 64 << 20 };

/* READ_OBJECT: bytes [offset, offset + length) of an object this connection holds a pin on. */
void mt__node_obj_read(node_client *cl, const mt_rpc_msg *m)
{
    UNPACK(Manta__ReadObjectRequest, manta__read_object_request__unpack, cl, m, "READ_OBJECT");
    mt_id id;
    mt_store_ref ref;
    mt_error err;
    uint8_t *tmp = NULL;
    if (!take_id(cl, m, req->object_id, &id, "READ_OBJECT")) goto done;
    if (!mt_idmap_find(&cl->pins, id)) {
        mt__node_reply(cl, m, MT_ESTATE, NULL, "READ_OBJECT: the object is not pinned by this connection (GET it first)");
        goto done;
    }
    mt_status st = mt_store_object_get_pinned(cl->node->store, id, &ref, &err);
    if (st != MT_OK) {
        mt__node_reply(cl, m, st, NULL, "%s", err.msg);
        goto done;
    }
    int64_t off = req->offset, len = req->length;
    if (off < 0 || len < 0 || off > ref.size || len > READ_MAX) {
        mt_store_object_release(cl->node->store, id, NULL);
        mt__node_reply(cl, m, MT_EINVAL, NULL, "READ_OBJECT: bytes %lld+%lld of an object of %lld", (long long)off,
                       (long long)len, (long long)ref.size);
        goto done;
    }
    if (len > ref.size - off) len = ref.size - off;
    Manta__ReadObjectReply r = MANTA__READ_OBJECT_REPLY__INIT;
    r.total_size = ref.size;
    r.data.len = (size_t)len;
    if (ref.where == MT_STORE_IN_ARENA) {
        r.data.data = mt_store_base(cl->node->store) + ref.offset + off;
    } else { /* on disk only: read the piece from its spill file */
        tmp = mt_malloc((size_t)len + 1);
        int fd = ref.path ? open(ref.path, O_RDONLY | O_CLOEXEC) : -1;
        ssize_t got = fd >= 0 && tmp ? pread(fd, tmp, (size_t)len, off) : -1;
        if (fd >= 0) close(fd);
        if (got != len) {
            mt_store_object_release(cl->node->store, id, NULL);
            mt__node_reply(cl, m, MT_EIO, NULL, "READ_OBJECT: reading the spilled object failed");
            goto done;
        }
        r.data.data = tmp;
    }
    mt__node_reply(cl, m, MT_OK, &r.base, NULL); /* packed now: the pin may go */
    mt_store_object_release(cl->node->store, id, NULL);
done:
    mt_free(tmp);
    manta__read_object_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

void mt__node_obj_delete(node_client *cl, const mt_rpc_msg *m)
{
    UNPACK(Manta__ObjectIdRequest, manta__object_id_request__unpack, cl, m, "DELETE_OBJECT");
    mt_id id;
    if (!take_id(cl, m, req->object_id, &id, "DELETE_OBJECT")) goto done;
    mt_id owner, creator;
    if (mt_store_object_owner(cl->node->store, id, &owner, &creator) &&
        !mt_id_equal(cl->client_id, owner) && !mt_id_equal(cl->client_id, creator)) {
        char hex[2 * MT_ID_SIZE + 1];
        mt_id_hex(id, hex);
        mt__node_reply(cl, m, MT_EPERM, NULL, "DELETE_OBJECT: object %s belongs to another process", hex);
        goto done;
    }
    mt_error err;
    mt_status st = mt_store_object_delete(cl->node->store, id, &err);
    if (st == MT_OK) mt__node_reply(cl, m, MT_OK, NULL, NULL);
    else mt__node_reply(cl, m, st, NULL, "%s", err.msg);
done:
    manta__object_id_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

void mt__node_obj_client_closed(node_client *cl)
{
    mt__node *n = cl->node;
    for (size_t i = 0; i < cl->pins.cap; i++) {
        mt_idmap_slot *s = &cl->pins.slots[i];
        if (!s->used) continue;
        for (intptr_t k = (intptr_t)s->val; k > 0; k--) mt_store_object_release(n->store, s->key, NULL);
    }
    for (size_t i = 0; i < cl->creating.cap; i++) {
        mt_idmap_slot *s = &cl->creating.slots[i];
        bool sealed = false;
        if (s->used && mt_store_object_contains(n->store, s->key, &sealed) && !sealed) {
            char hex[2 * MT_ID_SIZE + 1];
            mt_id_hex(s->key, hex);
            MT_LOG(MT_LOG_INFO, "NODE-ABORT", "aborting unsealed object %s of a closed connection", hex);
            mt_store_object_abort(n->store, s->key, NULL);
        }
    }
    while (cl->waiters) {
        node_waiter *w = cl->waiters;
        uv_timer_stop(&w->timer);
        waiter_unlink_id(n, w);
        waiter_drop(w);
    }
}

void mt__node_obj_shutdown(mt__node *n)
{
    for (node_client *cl = n->clients; cl; cl = cl->next) {
        while (cl->waiters) {
            node_waiter *w = cl->waiters;
            uv_timer_stop(&w->timer);
            waiter_unlink_id(n, w);
            waiter_drop(w);
        }
    }
    mt_idmap_fini(&n->waiters);
}

/* ---- LIST_OBJECTS (manta list objects) ------------------------------------ */

typedef struct list_ctx {
    mt__node *node;
    Manta__StoreObjectInfo *infos;
    Manta__StoreObjectInfo **ptrs;
    mt_id *ids; /* object and owner id of each listed one, kept while the reply is packed */
    size_t n, cap, limit;
} list_ctx;

static bool list_one(const mt_store_object_info *o, void *ud)
{
    list_ctx *x = ud;
    if (x->limit && x->n >= x->limit) return true; /* counted, not listed */
    if (x->n == x->cap) return true;
    Manta__StoreObjectInfo *i = &x->infos[x->n];
    manta__store_object_info__init(i);
    x->ids[2 * x->n] = o->id; /* copied: o lives only for this call */
    x->ids[2 * x->n + 1] = o->owner;
    i->size = o->size;
    i->sealed = o->sealed;
    i->primary = o->primary;
    i->spilled = o->on_disk;
    i->pins = o->pins;
    x->ptrs[x->n++] = i;
    return true;
}

void mt__node_obj_list(node_client *cl, const mt_rpc_msg *m)
{
    UNPACK(Manta__ListObjectsRequest, manta__list_objects_request__unpack, cl, m, "LIST_OBJECTS");
    mt__node *n = cl->node;
    mt_store_stats st;
    mt_store_get_stats(n->store, &st);
    size_t cap = (size_t)st.num_objects + 1;
    list_ctx x = {.node = n, .cap = cap, .limit = req->limit > 0 ? (size_t)req->limit : 0};
    x.infos = mt_calloc(cap, sizeof *x.infos);
    x.ptrs = mt_calloc(cap, sizeof *x.ptrs);
    mt_id *ids = x.ids = mt_calloc(cap * 2, sizeof *ids);
    if (!x.infos || !x.ptrs || !ids) {
        mt__node_reply(cl, m, MT_ENOMEM, NULL, "out of memory listing objects");
        goto done;
    }
    Manta__ListObjectsReply r = MANTA__LIST_OBJECTS_REPLY__INIT;
    r.total = mt_store_list(n->store, list_one, &x);
    for (size_t k = 0; k < x.n; k++) {
        Manta__StoreObjectInfo *i = &x.infos[k];
        i->object_id = (ProtobufCBinaryData){MT_ID_SIZE, ids[2 * k].bytes};
        i->owner_id = (ProtobufCBinaryData){mt_id_is_nil(ids[2 * k + 1]) ? 0 : MT_ID_SIZE, ids[2 * k + 1].bytes};
        i->owner_kind = (char *)"";
        if (mt_id_equal(ids[2 * k + 1], n->node_id)) {
            i->owner_kind = (char *)"node";
            i->owner_pid = (int32_t)getpid();
        } else {
            for (const node_client *o = n->clients; o; o = o->next)
                if (mt_id_equal(o->client_id, ids[2 * k + 1])) {
                    i->owner_kind = (char *)o->kind;
                    i->owner_pid = o->pid > 0 ? o->pid : 0;
                    if (o->pid > 0) break;
                }
        }
    }
    r.n_objects = x.n;
    r.objects = x.ptrs;
    mt__node_reply(cl, m, MT_OK, &r.base, NULL);
done:
    mt_free(ids);
    mt_free(x.infos);
    mt_free(x.ptrs);
    manta__list_objects_request__free_unpacked(req, &mt_rpc_pb_allocator);
}
