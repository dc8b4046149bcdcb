/*
 * driver_pull.c — objects from other nodes: a ref whose object lives in
 * another node's store (its owner's node: the ref's owner address) is
 * copied into this node's store before it is read. The copy is a
 * secondary (evictable) object under the same id, so later gets on this
 * node find it; the transfer pins the object at the source (GET), reads it
 * in chunks (READ_OBJECT) straight into the new object's bytes, seals it
 * and unpins the source.
 *
 * Threads: called with the driver lock held. Connections to other nodes
 * are kept (one per address) until mt_shutdown.
 */
#include <stdio.h>
#include <string.h>

#include "core/config_keys.h"
#include "proto/node.pb-c.h"
#include "store/store_client.h"
#include "worker/worker_int.h"

enum { CHUNK = 1 << 20 }; /* measured best here: bigger pieces cost fresh pages per reply */

typedef struct remote {
    char addr[300];
    mt_rpc_client *c;
    struct remote *next;
} remote;

static remote *remotes;

mt_status mt__drv_remote_client(const char *addr, mt_rpc_client **out, const char **addr_out, mt_error *err)
{
    for (remote *r = remotes; r; r = r->next)
        if (!strcmp(r->addr, addr)) {
            if (addr_out) *addr_out = r->addr;
            *out = r->c;
            return MT_OK;
        }
    remote *r = mt_calloc(1, sizeof *r);
    if (!r) return mt_error_set(err, MT_ENOMEM, "connecting to node %s", addr);
    snprintf(r->addr, sizeof r->addr, "%s", addr);
    mt_status st = mt_rpc_client_connect_id(addr, mt__drv.token, "driver", mt__drv.driver_id,
                                            MT_CFG_INT64(rpc_connect_timeout_ms), &r->c, err);
    if (st != MT_OK) {
        mt_free(r);
        return mt_error_prefix(err, "connecting to node %s", addr);
    }
    r->next = remotes;
    remotes = r;
    *out = r->c;
    if (addr_out) *addr_out = r->addr;
    return MT_OK;
}

void mt__drv_remotes_close(void)
{
    while (remotes) {
        remote *r = remotes;
        remotes = r->next;
        mt_rpc_client_close(r->c);
        mt_free(r);
    }
}

/* The bytes [0, size) of the source's pinned object into dst. */
static mt_status read_all(mt_rpc_client *c, mt_id id, uint8_t *dst, int64_t size, mt_error *err)
{
    for (int64_t off = 0; off < size;) {
        Manta__ReadObjectRequest req = MANTA__READ_OBJECT_REQUEST__INIT;
        req.object_id.data = id.bytes;
        req.object_id.len = MT_ID_SIZE;
        req.offset = off;
        req.length = size - off < CHUNK ? size - off : CHUNK;
        Manta__ReadObjectReply *rep = NULL;
        MT_RETURN_NOT_OK(mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_READ_OBJECT, &req.base,
                                            &manta__read_object_reply__descriptor, 0, (ProtobufCMessage **)&rep,
                                            NULL, err));
        bool ok = rep->total_size == size && rep->data.len > 0 && (int64_t)rep->data.len <= size - off;
        if (ok) memcpy(dst + off, rep->data.data, rep->data.len);
        off += ok ? (int64_t)rep->data.len : 0;
        protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
        if (!ok) return mt_error_set(err, MT_ECORRUPT, "the source node sent a bad piece at byte %lld", (long long)off);
    }
    return MT_OK;
}

mt_status mt__drv_pull(mt_id id, const char *addr, mt_error *err)
{
    char hex[2 * MT_ID_SIZE + 1];
    mt_id_hex(id, hex);
    mt_rpc_client *c = NULL;
    MT_RETURN_NOT_OK(mt__drv_remote_client(addr, &c, NULL, err));
    Manta__GetObjectRequest g = MANTA__GET_OBJECT_REQUEST__INIT;
    g.object_id.data = id.bytes;
    g.object_id.len = MT_ID_SIZE;
    g.timeout_ms = 10000;
    g.must_exist = true;
    Manta__GetObjectReply *grep = NULL;
    mt_status st = mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_GET_OBJECT, &g.base, &manta__get_object_reply__descriptor,
                                      0, (ProtobufCMessage **)&grep, NULL, err);
    if (st != MT_OK) return mt_error_prefix(err, "object %s on node %s", hex, addr);
    int64_t size = grep->size;
    protobuf_c_message_free_unpacked(&grep->base, &mt_rpc_pb_allocator);

    Manta__CreateObjectRequest cr = MANTA__CREATE_OBJECT_REQUEST__INIT;
    cr.object_id.data = id.bytes;
    cr.object_id.len = MT_ID_SIZE;
    cr.size = size;
    cr.primary = false; /* a cached copy: evictable */
    Manta__CreateObjectReply *crep = NULL;
    st = mt__drv_node_call(MANTA__NODE_METHOD__NODE_CREATE_OBJECT, &cr.base, &manta__create_object_reply__descriptor,
                           (ProtobufCMessage **)&crep, NULL, err);
    if (st == MT_EEXIST) { /* another reader here pulled it first: its copy serves */
        mt__object_id_send(c, MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, id);
        return MT_OK;
    }
    if (st == MT_OK) {
        uint8_t *dst = NULL, *map = NULL;
        if (crep->in_arena && crep->offset >= 0 && crep->offset + size <= mt__drv.capacity) dst = mt__drv.arena + crep->offset;
        else if (crep->in_arena) st = mt_error_set(err, MT_ECORRUPT, "store gave an offset outside the arena");
        else if ((st = mt_store_map_file_rw(crep->spill_path, size, &map, err)) == MT_OK) dst = map;
        if (st == MT_OK) st = read_all(c, id, dst, size, err);
        if (map) mt_store_unmap_file(map, size);
        protobuf_c_message_free_unpacked(&crep->base, &mt_rpc_pb_allocator);
        mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_SEAL_OBJECT, id);
        if (st != MT_OK) mt__drv_object_id_send(MANTA__NODE_METHOD__NODE_DELETE_OBJECT, id);
    }
    mt__object_id_send(c, MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, id);
    if (st != MT_OK) return mt_error_prefix(err, "copying object %s from node %s", hex, addr);
    MT_LOG(MT_LOG_DEBUG, "OBJECT-PULLED", "object %s (%lld bytes) copied from %s", hex, (long long)size, addr);
    return MT_OK;
}
