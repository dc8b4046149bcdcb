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
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "proto/node.pb-c.h"
#include "store/store_client.h"
#include "worker/worker_int.h"

typedef struct sval {
    uint32_t magic;
    mt_ref *ref;
    const uint8_t *file_map;
    int64_t map_size;
} sval;

mt_ref *mt__ref_new(mt_id id, bool owned)
{
    mt_ref *r = mt_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->magic = MT__REF_MAGIC;
    r->rc = 1;
    r->id = id;
    r->owned = owned;
    return r;
}

void mt__ref_unref(mt_ref *r)
{
    if (!r || --r->rc > 0) return;
    if (r->in_store && r->owned && mt__drv.inited)
        mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_DELETE_OBJECT, r->id);
    else if (r->in_store && r->pinned && mt__drv.inited) /* a borrowed ref lets go of its pin */
        mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, r->id);
    mt_free(r->data);
    mt_free(r->msg);
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
 * "MTRF" | u8 version 1 | u8 flags (1 = in the store) | 20-byte id | u64 size
 * | the value's bytes when not in the store. */

#define REF_HDR (4 + 1 + 1 + MT_ID_SIZE + 8)

size_t mt__ref_encoded_size(const mt_ref *r) { return REF_HDR + (r->in_store ? 0 : r->size); }

void mt__ref_encode(const mt_ref *r, uint8_t *out)
{
    memcpy(out, "MTRF", 4);
    out[4] = 1;
    out[5] = r->in_store ? 1 : 0;
    memcpy(out + 6, r->id.bytes, MT_ID_SIZE);
    uint64_t n = r->size;
    memcpy(out + 6 + MT_ID_SIZE, &n, 8);
    if (!r->in_store && r->size) memcpy(out + REF_HDR, r->data, r->size);
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
    if (p && len >= REF_HDR) memcpy(&size, p + 6 + MT_ID_SIZE, 8);
    if (!p || len < REF_HDR || memcmp(p, "MTRF", 4) || p[4] != 1 || p[5] > 1 ||
        (p[5] == 0 && size != len - REF_HDR) || (p[5] == 1 && len != REF_HDR))
        return mt_error_set(err, MT_EPARSE, "mt_ref_from_bytes: %zu bytes are not a ref", len);
    mt_id id;
    memcpy(id.bytes, p + 6, MT_ID_SIZE);
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    mt_ref *r = st == MT_OK ? mt__ref_new(id, false) : NULL;
    if (st == MT_OK && !r) st = mt_error_set(err, MT_ENOMEM, "mt_ref_from_bytes");
    if (st == MT_OK && p[5] == 0) {
        mt__ref_set_inline(r, p + REF_HDR, (size_t)size);
        if (r->state != MT__OBJ_READY) st = mt_error_set(err, MT_ENOMEM, "mt_ref_from_bytes of %llu bytes",
                                                         (unsigned long long)size);
    } else if (st == MT_OK) {
        /* a pin of our own: the object stays readable while this ref lives */
        Manta__GetObjectRequest req = MANTA__GET_OBJECT_REQUEST__INIT;
        req.object_id.data = id.bytes;
        req.object_id.len = MT_ID_SIZE;
        req.timeout_ms = 10000;
        Manta__GetObjectReply *rep = NULL;
        st = mt__drv_node_call(MANTA__NODE_METHOD__NODE_GET_OBJECT, &req.base, &manta__get_object_reply__descriptor,
                               (ProtobufCMessage **)&rep, NULL, err);
        if (st == MT_OK) {
            r->in_store = true;
            r->pinned = true;
            r->size = (size_t)rep->size;
            r->state = MT__OBJ_READY;
            protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
        } else {
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

static mt_status put_store(mt_ref *r, const void *data, size_t size, mt_error *err)
{
    Manta__CreateObjectRequest req = MANTA__CREATE_OBJECT_REQUEST__INIT;
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

MT_API mt_status mt_put(const void *data, size_t size, mt_ref **ref_out, mt_error *err)
{
    pthread_mutex_lock(&mt__drv.lock);
    mt_status st = mt__drv_check(err);
    int64_t maxb = mt_config_int64("max_object_bytes");
    if (st == MT_OK && maxb > 0 && (int64_t)size > maxb)
        st = mt_error_set(err, MT_EINVAL, "object of %zu bytes is above max_object_bytes (%lld)", size, (long long)maxb);
    mt_ref *r = NULL;
    if (st == MT_OK && !(r = mt__ref_new(mt__task_id_new(), true))) st = mt_error_set(err, MT_ENOMEM, "mt_put");
    if (st == MT_OK) {
        if ((int64_t)size <= mt__drv.inline_max) {
            mt__ref_set_inline(r, data, size);
            if (r->state != MT__OBJ_READY) st = mt_error_set(err, MT_ENOMEM, "mt_put of %zu bytes", size);
        } else {
            st = put_store(r, data, size, err);
            if (st != MT_OK) mt_error_prefix(err, "mt_put of %zu bytes", size);
        }
        if (st != MT_OK) {
            mt__ref_unref(r);
            r = NULL;
        }
    }
    pthread_mutex_unlock(&mt__drv.lock);
    if (st == MT_OK) *ref_out = r;
    return st;
}

/* ---- Values ---------------------------------------------------------------- */

static mt_status value_of(mt_ref *r, mt_value *v, mt_error *err)
{
    if (!r->in_store) {
        r->rc++;
        *v = (mt_value){.data = r->data ? (const void *)r->data : (const void *)"", .size = r->size, .priv_ = r};
        return MT_OK;
    }
    Manta__GetObjectRequest req = MANTA__GET_OBJECT_REQUEST__INIT;
    req.object_id.data = r->id.bytes;
    req.object_id.len = MT_ID_SIZE;
    req.timeout_ms = 10000;
    Manta__GetObjectReply *rep = NULL;
    MT_RETURN_NOT_OK(mt__drv_node_call(MANTA__NODE_METHOD__NODE_GET_OBJECT, &req.base,
                                       &manta__get_object_reply__descriptor, (ProtobufCMessage **)&rep, NULL, err));
    sval *s = mt_calloc(1, sizeof *s);
    mt_status st = s ? MT_OK : mt_error_set(err, MT_ENOMEM, "value");
    if (st == MT_OK && rep->in_arena) {
        if (rep->offset < 0 || rep->size < 0 || rep->offset + rep->size > mt__drv.capacity)
            st = mt_error_set(err, MT_ECORRUPT, "store object outside the arena");
        else
            *v = (mt_value){.data = mt__drv.arena + rep->offset, .size = (size_t)rep->size, .priv_ = s};
    } else if (st == MT_OK) {
        st = mt_store_map_file(rep->spill_path, rep->size, &s->file_map, err);
        s->map_size = rep->size;
        if (st == MT_OK) *v = (mt_value){.data = s->file_map, .size = (size_t)rep->size, .priv_ = s};
    }
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    if (st != MT_OK) {
        mt_free(s);
        mt__drv_object_id_call(MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, r->id, NULL);
        return st;
    }
    s->magic = MT__SVAL_MAGIC;
    s->ref = r;
    r->rc++;
    return MT_OK;
}

static void value_release_locked(mt_value *v)
{
    if (!v || !v->priv_) return;
    uint32_t magic = *(uint32_t *)v->priv_;
    if (magic == MT__SVAL_MAGIC) {
        sval *s = v->priv_;
        if (s->file_map) mt_store_unmap_file(s->file_map, s->map_size);
        if (mt__drv.inited) mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, s->ref->id);
        mt__ref_unref(s->ref);
        mt_free(s);
    } else {
        mt__ref_unref(v->priv_);
    }
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
    for (; st == MT_OK && got < n; got++) st = value_of(refs[got], &values_out[got], err);
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
