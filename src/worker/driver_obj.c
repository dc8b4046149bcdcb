/*
 * driver_obj.c — object refs and values on the driver: reference counts,
 * mt_put (small objects kept in this process, big ones written once into
 * the node's shared-memory arena), mt_get/mt_wait (pumping worker sockets
 * until results arrive), zero-copy values pinned in the store.
 *
 * Threads: public calls take mt__drv.lock. Invariants: a ref's bytes never
 * change once READY; the owner deletes a stored object exactly once, when
 * the last ref goes; a store value holds one pin until released.
 */
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "proto/node.pb-c.h"
#include "store/store_client.h"
#include "worker/worker_int.h"

#define LINGER_MAX 64 /* read pins kept after their values are released */

static void linger_remove(mt_ref *r)
{
    mt__driver *d = &mt__drv;
    if (!r->lingering) return;
    if (r->lprev) r->lprev->lnext = r->lnext;
    else d->lingering = r->lnext;
    if (r->lnext) r->lnext->lprev = r->lprev;
    else d->lingering_tail = r->lprev;
    r->lnext = r->lprev = NULL;
    r->lingering = false;
    d->nlingering--;
}

/* Lets go of a ref's read pin (pipelined RELEASE). */
static void vpin_drop(mt_ref *r)
{
    if (!r->vpin) return;
    linger_remove(r);
    if (r->vfile_map) mt_store_unmap_file(r->vfile_map, (int64_t)r->size);
    r->vfile_map = NULL;
    r->vdata = NULL;
    r->vpin = false;
    if (mt__drv.inited) mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, r->id);
}

/* The last value of r went: keep its pin on the lingering list (newest first), evicting the oldest. */
static void linger_add(mt_ref *r)
{
    mt__driver *d = &mt__drv;
    r->lprev = NULL;
    r->lnext = d->lingering;
    if (d->lingering) d->lingering->lprev = r;
    else d->lingering_tail = r;
    d->lingering = r;
    r->lingering = true;
    d->nlingering++;
    while (d->nlingering > LINGER_MAX) vpin_drop(d->lingering_tail);
}

void mt__drv_lingering_fini(void)
{
    while (mt__drv.lingering) vpin_drop(mt__drv.lingering);
}

/* Takes r's read pin from a GET reply: maps the bytes. */
static mt_status vpin_take(mt_ref *r, const Manta__GetObjectReply *rep, mt_error *err)
{
    if (rep->in_arena) {
        if (rep->offset < 0 || rep->size < 0 || rep->offset + rep->size > mt__drv.capacity)
            return mt_error_set(err, MT_ECORRUPT, "store object outside the arena");
        r->vdata = mt__drv.arena + rep->offset;
    } else {
        MT_RETURN_NOT_OK(mt_store_map_file(rep->spill_path, rep->size, &r->vfile_map, err));
        r->vdata = r->vfile_map;
    }
    r->size = (size_t)rep->size;
    r->vpin = true;
    return MT_OK;
}

static mt_status get_local(mt_id id, Manta__GetObjectReply **rep, mt_error *err);

/* GET_OBJECT (pins at the node; waits up to 10 s for the seal). An object
 * this node lacks whose owner lives on another node (remote_addr) is copied
 * here first. */
static mt_status get_pinned_from(mt_id id, const char *remote_addr, Manta__GetObjectReply **rep, mt_error *err)
{
    mt_status st = get_local(id, rep, err);
    if (st != MT_ENOTFOUND || !remote_addr || !*remote_addr || !strcmp(remote_addr, mt__drv.node_address)) return st;
    MT_RETURN_NOT_OK(mt__drv_pull(id, remote_addr, err));
    return get_local(id, rep, err);
}

static mt_status get_local(mt_id id, Manta__GetObjectReply **rep, mt_error *err)
{
    Manta__GetObjectRequest req = MANTA__GET_OBJECT_REQUEST__INIT;
    req.object_id.data = (uint8_t *)id.bytes;
    req.object_id.len = MT_ID_SIZE;
    req.timeout_ms = 10000;
    req.must_exist = true; /* made already: only its seal may still be on its way */
    return mt__drv_node_call(MANTA__NODE_METHOD__NODE_GET_OBJECT, &req.base, &manta__get_object_reply__descriptor,
                             (ProtobufCMessage **)rep, NULL, err);
}

mt_ref *mt__ref_new(mt_id id, bool owned)
{
    mt_ref *r = mt_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->magic = MT__REF_MAGIC;
    r->rc = 1;
    r->id = id;
    r->owned = owned;
    r->owner = mt__drv.driver_id;
    r->owner_node = mt__drv.node_id;
    return r;
}

/*
 * The owner's delete: this node's store (the object, or the copy pulled
 * here) and, for a result made on another node, that node's primary copy,
 * over the connection the task's lease used (none left: the node is gone,
 * and so is the copy). Copies other nodes pulled are secondaries: evicted.
 */
void mt__drv_delete_stored(mt_id id, const char *made_at)
{
    mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_DELETE_OBJECT, id);
    if (made_at) mt__object_id_send(mt__drv_remote_find(made_at), MANTA__NODE_METHOD__NODE_DELETE_OBJECT, id);
}

void mt__ref_unref(mt_ref *r)
{
    if (!r || --r->rc > 0) return;
    vpin_drop(r);
    if (r->in_store && r->owned && mt__drv.inited) mt__drv_delete_stored(r->id, r->loc_addr);
    mt__lineage_unref(r->lineage);
    mt_free(r->data);
    mt_free(r->msg);
    mt_free(r->owner_addr);
    mt_free(r->loc_addr);
    mt_free(r);
}

void mt__ref_set_inline(mt_ref *r, const void *data, size_t size)
{
    r->data = size ? mt_malloc(size) : NULL;
    if (size && !r->data) {
        mt__ref_fail(r, MT_ENOMEM, "out of memory holding a result");
        return;
    }
    if (size) memcpy(r->data, data, size);
    r->size = size;
    r->state = MT__OBJ_READY;
}

void mt__ref_fail(mt_ref *r, mt_status code, const char *msg)
{
    r->state = MT__OBJ_FAILED;
    r->code = code ? code : MT_EINTERNAL;
    mt_free(r->msg);
    r->msg = mt_strdup(msg ? msg : "");
}

MT_API mt_ref *mt_ref_retain(mt_ref *ref)
{
    if (!ref) return NULL;
    pthread_mutex_lock(&mt__drv.lock);
    ref->rc++;
    pthread_mutex_unlock(&mt__drv.lock);
    return ref;
}

MT_API void mt_ref_release(mt_ref *ref)
{
    if (!ref) return;
    pthread_mutex_lock(&mt__drv.lock);
    mt__ref_unref(ref);
    pthread_mutex_unlock(&mt__drv.lock);
}

MT_API mt_id mt_ref_id(const mt_ref *ref) { return ref ? ref->id : mt_id_nil(); }

/* ---- Refs as bytes -------------------------------------------------------------
 * "MTRF" | u8 version 2 | u8 flags (1 = in the store) | 20-byte id | u64 size
 * | owner: 20-byte process id, 20-byte node id, u8 length + node address
 * | the value's bytes when not in the store. */

#define REF_FIXED (4 + 1 + 1 + MT_ID_SIZE + 8 + 2 * MT_ID_SIZE + 1)
#define REF_OFF_SIZE (6 + MT_ID_SIZE)
#define REF_OFF_OWNER (REF_OFF_SIZE + 8)

static const char *owner_addr(const mt_ref *r) { return r->owner_addr ? r->owner_addr : mt__drv.node_address; }

static size_t owner_addr_len(const mt_ref *r)
{
    size_t n = strlen(owner_addr(r));
    return n > 255 ? 255 : n;
}

size_t mt__ref_encoded_size(const mt_ref *r) { return REF_FIXED + owner_addr_len(r) + (r->in_store ? 0 : r->size); }

void mt__ref_encode(const mt_ref *r, uint8_t *out)
{
    memcpy(out, "MTRF", 4);
    out[4] = 2;
    out[5] = r->in_store ? 1 : 0;
    memcpy(out + 6, r->id.bytes, MT_ID_SIZE);
    uint64_t n = r->size;
    memcpy(out + REF_OFF_SIZE, &n, 8);
    memcpy(out + REF_OFF_OWNER, r->owner.bytes, MT_ID_SIZE);
    memcpy(out + REF_OFF_OWNER + MT_ID_SIZE, r->owner_node.bytes, MT_ID_SIZE);
    size_t al = owner_addr_len(r);
    out[REF_FIXED - 1] = (uint8_t)al;
    memcpy(out + REF_FIXED, owner_addr(r), al);
    if (!r->in_store && r->size) memcpy(out + REF_FIXED + al, r->data, r->size);
}

MT_API mt_status mt_ref_owner(const mt_ref *ref, mt_owner_address *out, mt_error *err)
{
    if (!ref || !out || ref->magic != MT__REF_MAGIC) return mt_error_set(err, MT_EINVAL, "mt_ref_owner: bad ref");
    pthread_mutex_lock(&mt__drv.lock);
    out->worker_id = ref->owner;
    out->node_id = ref->owner_node;
    snprintf(out->node_address, sizeof out->node_address, "%.255s", owner_addr(ref));
    pthread_mutex_unlock(&mt__drv.lock);
    return MT_OK;
}

/* Checks the framing of ref bytes; *hdr_out is where the value (if inline) starts. */
static bool ref_bytes_ok(const uint8_t *p, size_t len, size_t *hdr_out, uint64_t *size_out)
{
    if (!p || len < REF_FIXED || memcmp(p, "MTRF", 4) || p[4] != 2 || p[5] > 1) return false;
    size_t hdr = REF_FIXED + p[REF_FIXED - 1];
    if (len < hdr || memchr(p + REF_FIXED, 0, p[REF_FIXED - 1])) return false;
    uint64_t size;
    memcpy(&size, p + REF_OFF_SIZE, 8);
    if ((p[5] == 0 && size != len - hdr) || (p[5] == 1 && len != hdr)) return false;
    *hdr_out = hdr;
    *size_out = size;
    return true;
}

/* Fills a decoded ref's owner from its bytes (owner_addr stays NULL when it is our own node). */
static mt_status ref_take_owner(mt_ref *r, const uint8_t *p, mt_error *err)
{
    memcpy(r->owner.bytes, p + REF_OFF_OWNER, MT_ID_SIZE);
    memcpy(r->owner_node.bytes, p + REF_OFF_OWNER + MT_ID_SIZE, MT_ID_SIZE);
    size_t al = p[REF_FIXED - 1];
    const char *a = (const char *)p + REF_FIXED;
    if (al == strlen(mt__drv.node_address) && !memcmp(a, mt__drv.node_address, al)) return MT_OK;
    r->owner_addr = mt_strndup(a, al);
    return r->owner_addr ? MT_OK : mt_error_set(err, MT_ENOMEM, "mt_ref_from_bytes: owner address");
}

MT_API mt_status mt_ref_to_bytes(mt_ref *ref, void *buf, size_t cap, size_t *len_out, mt_error *err)
{
    if (!ref || !len_out || ref->magic != MT__REF_MAGIC) return mt_error_set(err, MT_EINVAL, "mt_ref_to_bytes: bad ref");
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    while (st == MT_OK && ref->state == MT__OBJ_PENDING) st = mt__drv_pump(-1, err);
    if (st == MT_OK && ref->state == MT__OBJ_FAILED) st = mt_error_set(err, ref->code, "%s", ref->msg);
    if (st == MT_OK) {
        *len_out = mt__ref_encoded_size(ref);
        if (*len_out > cap || !buf)
            st = mt_error_set(err, MT_ERANGE, "mt_ref_to_bytes: needs %zu bytes, buffer holds %zu", *len_out, cap);
        else
            mt__ref_encode(ref, buf);
    }
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

MT_API mt_status mt_ref_from_bytes(const void *data, size_t len, mt_ref **out, mt_error *err)
{
    *out = NULL;
    const uint8_t *p = data;
    uint64_t size = 0;
    size_t hdr = 0;
    if (!ref_bytes_ok(p, len, &hdr, &size))
        return mt_error_set(err, MT_EPARSE, "mt_ref_from_bytes: %zu bytes are not a ref", len);
    mt_id id;
    memcpy(id.bytes, p + 6, MT_ID_SIZE);
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    mt_ref *r = st == MT_OK ? mt__ref_new(id, false) : NULL;
    if (st == MT_OK && !r) st = mt_error_set(err, MT_ENOMEM, "mt_ref_from_bytes");
    if (st == MT_OK) st = ref_take_owner(r, p, err);
    if (st == MT_OK && p[5] == 0) {
        mt__ref_set_inline(r, p + hdr, (size_t)size);
        if (r->state != MT__OBJ_READY) st = mt_error_set(err, MT_ENOMEM, "mt_ref_from_bytes of %llu bytes",
                                                         (unsigned long long)size);
    } else if (st == MT_OK) {
        /* a pin of our own: the object stays readable while this ref lives
         * (it never lingers: vcount stays above 0 until the ref goes) */
        Manta__GetObjectReply *rep = NULL;
        st = get_pinned_from(id, r->owner_addr, &rep, err);
        if (st == MT_OK) {
            r->in_store = true;
            st = vpin_take(r, rep, err);
            if (st != MT_OK) mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, id);
            r->vcount = 1; /* the borrow itself */
            r->state = MT__OBJ_READY;
            protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
        }
        if (st != MT_OK) {
            char hex[2 * MT_ID_SIZE + 1];
            mt_id_hex(id, hex);
            mt_error_prefix(err, "mt_ref_from_bytes: object %s", hex);
        }
    }
    if (st != MT_OK) mt__ref_unref(r);
    else *out = r;
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

/* Ids of the stored objects whose refs an object holds (mt_put_ex contains). */
typedef struct contained_ids {
    ProtobufCBinaryData *v;
    size_t n;
} contained_ids;

static mt_status put_store(mt_ref *r, const void *data, size_t size, const contained_ids *c, mt_error *err)
{
    Manta__CreateObjectRequest req = MANTA__CREATE_OBJECT_REQUEST__INIT;
    req.contained_ids = c->v;
    req.n_contained_ids = c->n;
    req.object_id.data = r->id.bytes;
    req.object_id.len = MT_ID_SIZE;
    req.size = (int64_t)size;
    req.primary = true;
    Manta__CreateObjectReply *rep = NULL;
    MT_RETURN_NOT_OK(mt__drv_node_call(MANTA__NODE_METHOD__NODE_CREATE_OBJECT, &req.base,
                                       &manta__create_object_reply__descriptor, (ProtobufCMessage **)&rep,
                                       NULL, err));
    mt_status st = MT_OK;
    if (rep->in_arena) {
        if (rep->offset < 0 || rep->offset + (int64_t)size > mt__drv.capacity)
            st = mt_error_set(err, MT_ECORRUPT, "store gave offset %lld outside the arena", (long long)rep->offset);
        else
            memcpy(mt__drv.arena + rep->offset, data, size);
    } else {
        uint8_t *m = NULL;
        st = mt_store_map_file_rw(rep->spill_path, (int64_t)size, &m, err);
        if (st == MT_OK) {
            memcpy(m, data, size);
            mt_store_unmap_file(m, (int64_t)size);
        }
    }
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    /* Sealing is pipelined: the connection keeps it ahead of whatever this
     * driver sends next, and readers elsewhere wait for the seal. */
    mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_SEAL_OBJECT, r->id);
    if (st != MT_OK) {
        mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_DELETE_OBJECT, r->id);
        return st;
    }
    r->in_store = true;
    r->size = size;
    r->state = MT__OBJ_READY;
    return MT_OK;
}

/* ---- Pipelined puts ---------------------------------------------------------
 * A small stored object travels inside one PUT_OBJECT message (the node
 * creates, copies and seals it) sent on the store connection without
 * waiting: mt_put returns a pending ref that becomes ready when the answer
 * comes (read by the pump), or fails with the node's error. The ref is
 * held until then, so its delete never overtakes its put. */

#define PUT_PIPELINED_MAX 65536 /* bytes; bigger objects are written in place (create + seal) */

static mt_status put_answer(mt_status st, const mt_rpc_msg *m)
{
    mt__driver *d = &mt__drv;
    mt_ref *r = d->puts[d->puts_head].ref;
    d->puts_head = (d->puts_head + 1) % 256;
    d->nputs--;
    if (st == MT_OK && m->status == MT_OK) {
        r->state = MT__OBJ_READY;
    } else {
        char msg[MT_ERROR_MSG_MAX] = "the node did not answer";
        mt_status code = st != MT_OK ? st : (mt_status)m->status;
        Manta__Status *s = m && st == MT_OK ? manta__status__unpack(&mt_rpc_pb_allocator, m->len, m->payload) : NULL;
        if (s && s->message) snprintf(msg, sizeof msg, "mt_put of %zu bytes: %s", r->size, s->message);
        if (s) manta__status__free_unpacked(s, &mt_rpc_pb_allocator);
        r->in_store = false; /* nothing to delete */
        mt__ref_fail(r, code, msg);
    }
    d->deps_changed = true;
    mt__ref_unref(r); /* the put's hold */
    return st;
}

mt_status mt__drv_puts_drain(bool wait, mt_error *err)
{
    mt__driver *d = &mt__drv;
    while (d->nputs > 0 && d->store) {
        struct pollfd p = {.fd = mt_rpc_client_fd(d->store), .events = POLLIN};
        if (!wait && !mt_rpc_client_buffered(d->store) && poll(&p, 1, 0) <= 0) return MT_OK;
        mt_rpc_msg m;
        mt_status st = mt_rpc_client_recv(d->store, MT_CFG_INT64(rpc_call_timeout_ms), &m, err);
        if (st != MT_OK) {
            while (d->nputs > 0) put_answer(st, NULL);
            return st;
        }
        if (m.fd >= 0) close(m.fd);
        if (!(m.flags & MT_RPC_FLAG_REPLY) || m.req_id != d->puts[d->puts_head].req) continue;
        put_answer(MT_OK, &m);
        wait = false; /* one was enough; take the rest that are already here */
    }
    return MT_OK;
}

void mt__drv_puts_drain_all(void)
{
    while (mt__drv.nputs > 0 && mt__drv_puts_drain(true, NULL) == MT_OK) {}
}

static mt_status put_pipelined(mt_ref *r, const void *data, size_t size, const contained_ids *c, mt_error *err)
{
    mt__driver *d = &mt__drv;
    if (d->nputs == 256) MT_RETURN_NOT_OK(mt__drv_puts_drain(true, err)); /* a full window */
    Manta__PutObjectRequest req = MANTA__PUT_OBJECT_REQUEST__INIT;
    req.contained_ids = c->v;
    req.n_contained_ids = c->n;
    req.object_id.data = r->id.bytes;
    req.object_id.len = MT_ID_SIZE;
    req.data.data = (uint8_t *)data;
    req.data.len = size;
    uint8_t small[1024], *buf = small;
    size_t n = protobuf_c_message_get_packed_size(&req.base);
    if (n > sizeof small && !(buf = mt_malloc(n))) return mt_error_set(err, MT_ENOMEM, "mt_put of %zu bytes", size);
    protobuf_c_message_pack(&req.base, buf);
    uint64_t id = 0;
    mt_status st = mt_rpc_client_send(d->store, MANTA__NODE_METHOD__NODE_PUT_OBJECT, 0, buf, n, &id, err);
    if (buf != small) mt_free(buf);
    if (st != MT_OK) return st;
    int slot = (d->puts_head + d->nputs) % 256;
    d->puts[slot].req = id;
    d->puts[slot].ref = r;
    d->nputs++;
    r->rc++;
    r->in_store = true;
    r->size = size;
    r->state = MT__OBJ_PENDING;
    mt__drv_bg_kick(); /* the answer may come while the application is elsewhere */
    return MT_OK;
}

/*
 * Waits for each contained ref and collects the ids of the stored ones
 * (small values travel inside the ref bytes and need no keeping). Called
 * with the lock held; c->v is mt_malloc'd (NULL when none).
 */
static mt_status collect_contained(const mt_put_options *o, contained_ids *c, mt_error *err)
{
    c->v = NULL;
    c->n = 0;
    if (!o || o->num_contains <= 0) return MT_OK;
    if (!o->contains) return mt_error_set(err, MT_EINVAL, "mt_put_ex: contains is NULL");
    c->v = mt_calloc((size_t)o->num_contains, sizeof *c->v);
    if (!c->v) return mt_error_set(err, MT_ENOMEM, "mt_put_ex: %d contained refs", o->num_contains);
    for (int i = 0; i < o->num_contains; i++) {
        mt_ref *r = o->contains[i];
        if (!r || r->magic != MT__REF_MAGIC) return mt_error_set(err, MT_EINVAL, "mt_put_ex: contains[%d] is not a ref", i);
        while (r->state == MT__OBJ_PENDING) MT_RETURN_NOT_OK(mt__drv_pump(-1, err));
        if (r->state == MT__OBJ_FAILED) return mt_error_set(err, r->code, "mt_put_ex: contains[%d]: %s", i, r->msg);
        if (!r->in_store) continue;
        c->v[c->n].data = r->id.bytes;
        c->v[c->n].len = MT_ID_SIZE;
        c->n++;
    }
    return MT_OK;
}

mt_status mt__refs_stored_ids(mt_ref *const *refs, int n, mt_id **ids_out, int *n_out, mt_error *err)
{
    *ids_out = NULL;
    *n_out = 0;
    contained_ids c = {0};
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    if (st == MT_OK) st = collect_contained(&(mt_put_options){.contains = refs, .num_contains = n}, &c, err);
    mt_id *ids = st == MT_OK && c.n ? mt_malloc(c.n * sizeof *ids) : NULL;
    if (st == MT_OK && c.n && !ids) st = mt_error_set(err, MT_ENOMEM, "contained refs");
    for (size_t i = 0; st == MT_OK && i < c.n; i++) memcpy(ids[i].bytes, c.v[i].data, MT_ID_SIZE);
    pthread_mutex_unlock(&mt__drv.lock);
    mt_free(c.v);
    if (st != MT_OK) {
        mt_free(ids);
        return st;
    }
    *ids_out = ids;
    *n_out = (int)c.n;
    return MT_OK;
}

MT_API mt_status mt_put(const void *data, size_t size, mt_ref **ref_out, mt_error *err)
{
    return mt_put_ex(data, size, NULL, ref_out, err);
}

MT_API mt_status mt_put_ex(const void *data, size_t size, const mt_put_options *opts, mt_ref **ref_out, mt_error *err)
{
    pthread_mutex_lock(&mt__drv.lock);
    contained_ids c = {0};
    mt_status st = mt__drv_check(err);
    if (st == MT_OK) st = collect_contained(opts, &c, err);
    int64_t maxb = MT_CFG_INT64(max_object_bytes);
    if (st == MT_OK && maxb > 0 && (int64_t)size > maxb)
        st = mt_error_set(err, MT_EINVAL, "object of %zu bytes is above max_object_bytes (%lld)", size, (long long)maxb);
    mt_ref *r = NULL;
    if (st == MT_OK && !(r = mt__ref_new(mt__task_id_new(), true))) st = mt_error_set(err, MT_ENOMEM, "mt_put");
    if (st == MT_OK) {
        /* An object holding stored refs lives in the store, which keeps them for it. */
        if ((int64_t)size <= mt__drv.inline_max && c.n == 0) {
            mt__ref_set_inline(r, data, size);
            if (r->state != MT__OBJ_READY) st = mt_error_set(err, MT_ENOMEM, "mt_put of %zu bytes", size);
        } else {
            /* One that holds refs is created on the node connection, before any
             * later release of those refs on it can delete them. */
            st = size <= PUT_PIPELINED_MAX && mt__drv.store && c.n == 0 ? put_pipelined(r, data, size, &c, err)
                                                            : put_store(r, data, size, &c, err);
            if (st != MT_OK) mt_error_prefix(err, "mt_put of %zu bytes", size);
        }
        if (st != MT_OK) {
            mt__ref_unref(r);
            r = NULL;
        }
    }
    pthread_mutex_unlock(&mt__drv.lock);
    mt_free(c.v);
    if (st == MT_OK) *ref_out = r;
    return st;
}

/* ---- Values ---------------------------------------------------------------- */

/*
 * Pins the stored objects among refs[0, n) that this driver has not pinned
 * yet with pipelined GETs (one round trip for the lot instead of one each).
 * Failures are left to value_of, which asks again and reports them.
 */
static void prefetch_pins(mt_ref *const *refs, int n)
{
    enum { MAXP = LINGER_MAX }; /* each lingers until value_of takes it */
    uint64_t ids[MAXP];
    mt_ref *who[MAXP];
    int k = 0;
    for (int i = 0; i < n && k < MAXP; i++) {
        mt_ref *r = refs[i];
        if (!r->in_store || r->vpin || r->state != MT__OBJ_READY) continue;
        bool dup = false;
        for (int j = 0; j < k && !dup; j++) dup = who[j] == r;
        if (dup) continue;
        Manta__GetObjectRequest req = MANTA__GET_OBJECT_REQUEST__INIT;
        req.object_id.data = r->id.bytes;
        req.object_id.len = MT_ID_SIZE;
        req.timeout_ms = 10000;
        uint8_t buf[64];
        size_t len = protobuf_c_message_pack(&req.base, buf);
        if (mt_rpc_client_send(mt__drv.node, MANTA__NODE_METHOD__NODE_GET_OBJECT, 0, buf, len, &ids[k], NULL) != MT_OK)
            break;
        who[k++] = r;
    }
    if (k == 0) return;
    int left = k;
    while (left > 0) {
        mt_rpc_msg m;
        if (mt_rpc_client_recv(mt__drv.node, MT_CFG_INT64(rpc_call_timeout_ms), &m, NULL) != MT_OK) return;
        if (m.fd >= 0) close(m.fd);
        int j = 0;
        while (j < k && (!(m.flags & MT_RPC_FLAG_REPLY) || ids[j] != m.req_id)) j++;
        if (j == k) continue; /* a stale answer */
        ids[j] = 0;
        left--;
        if (m.status != MT_OK) continue;
        Manta__GetObjectReply *rep = manta__get_object_reply__unpack(&mt_rpc_pb_allocator, m.len, m.payload);
        if (rep && vpin_take(who[j], rep, NULL) == MT_OK) linger_add(who[j]); /* held until its value is taken */
        else mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, who[j]->id);
        if (rep) manta__get_object_reply__free_unpacked(rep, &mt_rpc_pb_allocator);
    }
}

/*
 * Copies the objects among refs[0, n) that live on other nodes into this
 * node's store together (the node runs the transfers at once, within its
 * budget) before value_of reads them one by one. Failures are left to
 * value_of, which asks again and reports them (or rebuilds the object).
 */
static void prefetch_remote(mt_ref *const *refs, int n)
{
    enum { MAXP = 256 };
    mt_id ids[MAXP];
    const char *addrs[MAXP];
    int k = 0;
    for (int i = 0; i < n && k < MAXP; i++) {
        mt_ref *r = refs[i];
        if (!r->in_store || r->vpin || r->state != MT__OBJ_READY) continue;
        const char *at = r->owned ? r->loc_addr : r->owner_addr;
        if (!at || !*at || !strcmp(at, mt__drv.node_address)) continue;
        ids[k] = r->id;
        addrs[k++] = at;
    }
    if (k > 1) mt__drv_pull_many(ids, addrs, k, NULL, NULL);
}

/* Waits for a rebuild of `r` (pending) until deadline_ns (0 = none). */
static mt_status wait_rebuilt(mt_ref *r, int64_t deadline_ns, int64_t timeout_ms, mt_error *err)
{
    while (r->state == MT__OBJ_PENDING) {
        int64_t left = -1;
        if (deadline_ns) {
            left = (deadline_ns - mt_time_now_ns()) / 1000000;
            if (left <= 0) {
                char hex[2 * MT_ID_SIZE + 1];
                mt_id_hex(r->id, hex);
                return mt_error_set(err, MT_ETIMEOUT, "get timed out after %lld ms while object %s, lost, was being rebuilt",
                                    (long long)timeout_ms, hex);
            }
        }
        MT_RETURN_NOT_OK(mt__drv_pump(left, err));
    }
    return MT_OK;
}

/* Gives back a pin a GET took for a ref that no longer wants it. */
static void pin_give_back(mt_ref *r, Manta__GetObjectReply *rep)
{
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, r->id);
}

static mt_status value_of(mt_ref *r, int64_t deadline_ns, int64_t timeout_ms, mt_value *v, mt_error *err)
{
    /* A copy from another node lets go of the lock, so each turn reads the ref afresh:
     * another thread's get may have pinned it, or begun (or finished) its rebuild. */
    for (;;) {
        MT_RETURN_NOT_OK(wait_rebuilt(r, deadline_ns, timeout_ms, err));
        if (r->state == MT__OBJ_FAILED) return mt_error_set(err, r->code, "%s", r->msg);
        if (!r->in_store || r->vpin) break; /* inline, or pinned already */
        /* the first get of this ref: one round trip */
        Manta__GetObjectReply *rep = NULL;
        const char *at = r->owned ? r->loc_addr : r->owner_addr;
        char *asked = mt_strdup(at ? at : "");
        if (!asked) return mt_error_set(err, MT_ENOMEM, "mt_get");
        int32_t attempt = r->lineage ? r->lineage->attempt : 0;
        mt_status gst = get_pinned_from(r->id, at, &rep, err);
        bool moved = strcmp(asked, (r->owned ? r->loc_addr : r->owner_addr) ? (r->owned ? r->loc_addr : r->owner_addr) : "");
        mt_free(asked);
        if (!mt__drv.inited) { /* shut down during the copy: nothing of the runtime may be touched */
            if (gst == MT_OK) protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
            return mt_error_set(err, MT_ECANCELLED, "manta was shut down during a get");
        }
        if (r->vpin || r->state != MT__OBJ_READY || !r->in_store || moved ||
            attempt != (r->lineage ? r->lineage->attempt : 0)) {
            /* Changed meanwhile (pinned by another thread's get, or rebuilt: what this copy
             * found out is about a place the object no longer is): look again. */
            if (gst == MT_OK) pin_give_back(r, rep);
            continue;
        }
        if (gst == MT_OK) {
            mt_status st = vpin_take(r, rep, err);
            if (st == MT_OK) {
                protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
                break;
            }
            pin_give_back(r, rep);
            return st;
        }
        /* Lost from the store, or its node is unreachable (the owner still holds it): rebuild it
         * from its lineage, wherever the task runs now. */
        if ((gst == MT_ENOTFOUND || (gst == MT_EIO && r->loc_addr)) && r->owned && r->lineage) {
            if (gst == MT_EIO) { /* the node that held the only copy is gone */
                MT_LOG(MT_LOG_INFO, "DRIVER-OBJECT-LOST", "%s; rebuilding it", err ? err->msg : "its node is unreachable");
                mt_free(r->loc_addr);
                r->loc_addr = NULL;
            }
            MT_RETURN_NOT_OK(mt__task_rebuild(r, err));
            continue;
        }
        if (gst == MT_ENOTFOUND && r->owned && !r->lineage && err && strstr(err->msg, "was lost")) {
            char msg[MT_ERROR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return mt_error_set(err, gst, "%s; it cannot be rebuilt (no task made it, or its lineage was not kept)", msg);
        }
        return gst;
    }
    if (r->in_store) {
        linger_remove(r);
        r->vcount++;
    }
    r->rc++;
    const void *data = r->in_store ? (const void *)r->vdata : r->data ? (const void *)r->data : (const void *)"";
    *v = (mt_value){.data = data, .size = r->size, .priv_ = r};
    return MT_OK;
}

static void value_release_locked(mt_value *v)
{
    if (!v || !v->priv_) return;
    mt_ref *r = v->priv_;
    if (r->in_store && r->vpin && --r->vcount == 0 && r->rc > 1) linger_add(r);
    mt__ref_unref(r);
    *v = (mt_value){0};
}

MT_API void mt_value_release(mt_value *v)
{
    if (!v || !v->priv_) return;
    pthread_mutex_lock(&mt__drv.lock);
    value_release_locked(v);
    pthread_mutex_unlock(&mt__drv.lock);
}

MT_API mt_status mt_value_i64(const mt_value *v, int64_t *out, mt_error *err)
{
    if (!v || v->size != sizeof(int64_t))
        return mt_error_set(err, MT_ETYPE, "value of %zu bytes is not an int64", v ? v->size : 0);
    memcpy(out, v->data, sizeof *out);
    return MT_OK;
}

/* ---- get / wait ---------------------------------------------------------------- */

static int count_done(mt_ref *const *refs, int n, int *first_failed)
{
    int k = 0;
    *first_failed = -1;
    for (int i = 0; i < n; i++) {
        if (refs[i]->state != MT__OBJ_PENDING) k++;
        if (refs[i]->state == MT__OBJ_FAILED && *first_failed < 0) *first_failed = i;
    }
    return k;
}

static void worker_blocked(bool on)
{
    if (!mt__drv.node) return;
    uint64_t id;
    mt_rpc_client_send(mt__drv.node,
                       on ? MANTA__NODE_METHOD__NODE_WORKER_BLOCKED : MANTA__NODE_METHOD__NODE_WORKER_UNBLOCKED,
                       MT_RPC_FLAG_ONEWAY, NULL, 0, &id, NULL);
}

/* Pumps until `want` of the refs are done (or one failed when stop_on_fail). */
static mt_status wait_done(mt_ref *const *refs, int n, int want, int64_t timeout_ms, bool stop_on_fail,
                           int *done_out, mt_error *err)
{
    int64_t start = mt_time_now_ns();
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : start + timeout_ms * 1000000;
    int64_t spin_until = start + mt__drv.spin_ns;
    int failed;
    bool blocked = false;
    mt_status st = MT_OK;
    for (;;) {
        int done = count_done(refs, n, &failed);
        *done_out = done;
        if (done >= want || (stop_on_fail && failed >= 0)) break;
        int64_t now = mt_time_now_ns();
        if (now >= deadline) {
            st = MT_ETIMEOUT;
            break;
        }
        if (now < spin_until) { /* see mt__driver.spin_ns */
            if ((st = mt__drv_pump(0, err)) != MT_OK) break;
            sched_yield();
            continue;
        }
        if (!blocked && mt__drv_in_worker()) {
            /* A task that waits frees its CPU for the tasks it waits on (Ray does the same). */
            worker_blocked(true);
            blocked = true;
        }
        int64_t left = deadline == INT64_MAX ? -1 : (deadline - now + 999999) / 1000000;
        if ((st = mt__drv_pump(left, err)) != MT_OK) break;
    }
    if (blocked) worker_blocked(false);
    return st;
}

MT_API mt_status mt_get(mt_ref *const *refs, int n, int64_t timeout_ms, mt_value *values_out, mt_error *err)
{
    pthread_mutex_lock(&mt__drv.lock);
    int64_t deadline_ns = timeout_ms >= 0 ? mt_time_now_ns() + timeout_ms * 1000000 : 0; /* 0 = forever */
    mt_status st = mt__drv_check(err);
    for (int i = 0; st == MT_OK && i < n; i++)
        if (!refs[i]) st = mt_error_set(err, MT_EINVAL, "mt_get: ref %d is NULL", i);
    int done = 0, failed = -1;
    if (st == MT_OK) {
        st = wait_done(refs, n, n, timeout_ms, true, &done, err);
        if (st == MT_ETIMEOUT)
            mt_error_set(err, MT_ETIMEOUT, "get timed out after %lld ms (%d of %d objects ready)",
                         (long long)timeout_ms, done, n);
    }
    if (st == MT_OK) count_done(refs, n, &failed);
    if (st == MT_OK && failed >= 0) st = mt_error_set(err, refs[failed]->code, "%s", refs[failed]->msg);
    int got = 0;
    if (st == MT_OK && n > 1) prefetch_remote(refs, n);
    if (st == MT_OK) st = mt__drv_check(err); /* the copies let go of the lock: shut down meanwhile? */
    for (; st == MT_OK && got < n; got++) {
        if (n > 1 && got % LINGER_MAX == 0) prefetch_pins(refs + got, n - got < LINGER_MAX ? n - got : LINGER_MAX);
        st = value_of(refs[got], deadline_ns, timeout_ms, &values_out[got], err);
    }
    if (st != MT_OK)
        for (int i = 0; i < got - 1; i++) value_release_locked(&values_out[i]);
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}

MT_API mt_status mt_wait(mt_ref *const *refs, int n, int num_returns, int64_t timeout_ms, bool *ready_out,
                         int *num_ready_out, mt_error *err)
{
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    if (st == MT_OK && (num_returns < 0 || num_returns > n))
        st = mt_error_set(err, MT_EINVAL, "mt_wait: num_returns %d not in 0..%d", num_returns, n);
    for (int i = 0; st == MT_OK && i < n; i++)
        if (!refs[i]) st = mt_error_set(err, MT_EINVAL, "mt_wait: ref %d is NULL", i);
    int done = 0;
    if (st == MT_OK) {
        st = wait_done(refs, n, num_returns, timeout_ms, false, &done, err);
        if (st == MT_ETIMEOUT) st = MT_OK;
    }
    if (st == MT_OK) {
        for (int i = 0; ready_out && i < n; i++) ready_out[i] = refs[i]->state != MT__OBJ_PENDING;
        if (num_ready_out) *num_ready_out = done;
    }
    pthread_mutex_unlock(&mt__drv.lock);
    return st;
}
