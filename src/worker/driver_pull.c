/*
 * driver_pull.c — objects from other nodes and connections to other nodes.
 * A ref whose object lives in another node's store is copied into this
 * node's store before it is read: the driver asks its own node
 * (PULL_OBJECTS), which runs the transfer (src/node/node_pull.c) and keeps
 * the copy as a secondary (evictable) object under the same id, so later
 * gets on this node find it. Connections to other nodes' daemons (remote
 * leases, bundle reservations) are kept here, one per address, until
 * mt_shutdown.
 *
 * Threads: called with the driver lock held. A pull lets go of it while
 * the node copies (a 1 GiB object takes seconds; the driver's other
 * threads and its housekeeping go on meanwhile): it asks on a connection
 * of its own, kept for pulls, under pull_lock, which is never held while
 * taking the driver lock.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "core/config_keys.h"
#include "proto/node.pb-c.h"
#include "store/store_client.h"
#include "worker/worker_int.h"

typedef struct remote {
    char addr[300];
    mt_rpc_client *c;
    struct remote *next;
} remote;

static remote *remotes;

/*
 * A lease another node granted after the call asking for it gave up (an
 * actor restart's ask waits only seconds) would hold that node's worker
 * until this driver exits: it goes straight back.
 */
static void late_grant_return(mt_rpc_client *c, const mt_rpc_msg *m, void *ud)
{
    (void)ud;
    if (m->method != MANTA__NODE_METHOD__NODE_REQUEST_LEASE || m->status != MT_OK) return;
    Manta__RequestLeaseReply *r = manta__request_lease_reply__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (r && r->status == 0 && r->lease_id.len == MT_ID_SIZE) {
        Manta__ReturnLeaseRequest req = MANTA__RETURN_LEASE_REQUEST__INIT;
        req.lease_id = r->lease_id;
        uint8_t buf[128];
        size_t n = protobuf_c_message_pack(&req.base, buf);
        uint64_t id;
        MT_LOG(MT_LOG_INFO, "DRIVER-LEASE", "returning a lease that came after its request gave up");
        mt_rpc_client_send(c, MANTA__NODE_METHOD__NODE_RETURN_LEASE, 0, buf, n, &id, NULL); /* its answer: dropped */
    }
    if (r) manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
}

mt_status mt__drv_remote_client(const char *addr, mt_rpc_client **out, const char **addr_out, mt_error *err)
{
    for (remote *r = remotes; r; r = r->next)
        if (!strcmp(r->addr, addr)) {
            /* Its node closed the connection (it died; one may have come back
             * at the same address, as a new node): dial again, in place,
             * since leases and actors hold this client. */
            if (mt_rpc_client_peer_closed(r->c) &&
                mt_rpc_client_redial(r->c, mt__drv.token, "driver", mt__drv.driver_id, MT_CFG_INT64(rpc_connect_timeout_ms),
                                     err) != MT_OK) {
                mt_error_prefix(err, "node %s closed its connection, and connecting again", addr);
                return err ? (err->code = MT_EIO) : MT_EIO;
            }
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
    mt_rpc_client_on_stale(r->c, late_grant_return, NULL);
    r->next = remotes;
    remotes = r;
    *out = r->c;
    if (addr_out) *addr_out = r->addr;
    return MT_OK;
}

mt_rpc_client *mt__drv_remote_find(const char *addr)
{
    for (remote *r = remotes; addr && r; r = r->next)
        if (!strcmp(r->addr, addr)) return r->c;
    return NULL;
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

static pthread_mutex_t pull_lock = PTHREAD_MUTEX_INITIALIZER;
static mt_rpc_client *puller; /* under pull_lock; set or cleared also under the driver lock */
static int puller_fd = -1;    /* its socket, read under the driver lock to cut a pull short at shutdown */

static bool puller_fd_ready(void) { return puller_fd >= 0; }

void mt__drv_puller_close(void)
{
    /* under the driver lock; a pull in flight (which does not hold it) fails at once */
    if (puller_fd >= 0) shutdown(puller_fd, SHUT_RDWR);
    pthread_mutex_lock(&pull_lock);
    mt_rpc_client_close(puller);
    puller = NULL;
    puller_fd = -1;
    pthread_mutex_unlock(&pull_lock);
}

/* Sends the pull request and waits for the answer without the driver lock. */
static mt_status pull_call(const Manta__PullObjectsRequest *req, Manta__PullObjectsReply **rep, mt_error *err)
{
    if (!puller_fd_ready()) {
        mt_rpc_client *c = NULL;
        MT_RETURN_NOT_OK(mt__drv_node_connect_extra(&c, err));
        pthread_mutex_lock(&pull_lock);
        if (!puller) {
            puller = c;
            puller_fd = mt_rpc_client_fd(c);
            c = NULL;
        }
        pthread_mutex_unlock(&pull_lock);
        mt_rpc_client_close(c); /* another thread connected first */
    }
    pthread_mutex_unlock(&mt__drv.lock);
    pthread_mutex_lock(&pull_lock);
    mt_status st = puller ? mt_rpc_client_call(puller, MANTA__NODE_METHOD__NODE_PULL_OBJECTS, &req->base,
                                               &manta__pull_objects_reply__descriptor, 0, (ProtobufCMessage **)rep, NULL, err)
                          : mt_error_set(err, MT_ECANCELLED, "manta was shut down during a pull");
    pthread_mutex_unlock(&pull_lock);
    pthread_mutex_lock(&mt__drv.lock);
    if (!mt__drv.inited) { /* shut down meanwhile: whatever the call said, nothing may go on */
        if (st == MT_OK) protobuf_c_message_free_unpacked(&(*rep)->base, &mt_rpc_pb_allocator);
        *rep = NULL;
        st = mt_error_set(err, MT_ECANCELLED, "manta was shut down during a pull");
    }
    return st;
}

/*
 * Asks this node to copy objects ids[0, n) from the nodes at addrs[0, n);
 * the node runs the transfers (several at once, within its pull memory
 * budget) and answers when each is here or failed. st_out (may be NULL)
 * gets each object's status; the first failure is returned in err.
 */
mt_status mt__drv_pull_many(const mt_id *ids, const char *const *addrs, int n, mt_status *st_out, mt_error *err)
{
    if (n <= 0) return MT_OK;
    Manta__PullObject one[16], *obj = n <= 16 ? one : mt_calloc((size_t)n, sizeof *obj);
    Manta__PullObject *ptr_one[16], **ptrs = n <= 16 ? ptr_one : mt_calloc((size_t)n, sizeof *ptrs);
    mt_id id_one[16], *idc = n <= 16 ? id_one : mt_calloc((size_t)n, sizeof *idc);
    /* The request is built from copies: the lock goes while the node copies, and refs may change meanwhile. */
    size_t text = 0;
    for (int i = 0; i < n; i++) text += strlen(addrs[i]) + 1;
    char *addr_copy = mt_malloc(text ? text : 1);
    mt_status st = MT_OK;
    if (!obj || !ptrs || !idc || !addr_copy) st = mt_error_set(err, MT_ENOMEM, "pulling %d objects", n);
    for (size_t i = 0, at = 0; st == MT_OK && i < (size_t)n; i++) {
        size_t len = strlen(addrs[i]) + 1;
        memcpy(addr_copy + at, addrs[i], len);
        idc[i] = ids[i];
        manta__pull_object__init(&obj[i]);
        obj[i].object_id.data = idc[i].bytes;
        obj[i].object_id.len = MT_ID_SIZE;
        obj[i].source = addr_copy + at;
        ptrs[i] = &obj[i];
        at += len;
    }
    Manta__PullObjectsReply *rep = NULL;
    if (st == MT_OK) {
        Manta__PullObjectsRequest req = MANTA__PULL_OBJECTS_REQUEST__INIT;
        req.n_objects = (size_t)n;
        req.objects = ptrs;
        st = pull_call(&req, &rep, err);
    }
    if (st == MT_OK && (rep->n_statuses != (size_t)n || rep->n_messages != (size_t)n))
        st = mt_error_set(err, MT_ECORRUPT, "the node answered a pull of %d objects with %zu statuses", n, rep->n_statuses);
    mt_status first = MT_OK; /* the call's own failure, else the first object's */
    for (int i = 0; i < n; i++) {
        mt_status one_st = st != MT_OK ? st : (mt_status)rep->statuses[i];
        if (st_out) st_out[i] = one_st;
        if (st == MT_OK && one_st != MT_OK && first == MT_OK) first = mt_error_set(err, one_st, "%s", rep->messages[i]);
    }
    if (st == MT_OK) st = first;
    if (rep) protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    if (obj != one) mt_free(obj);
    if (ptrs != ptr_one) mt_free(ptrs);
    if (idc != id_one) mt_free(idc);
    mt_free(addr_copy);
    return st;
}

mt_status mt__drv_pull(mt_id id, const char *addr, mt_error *err)
{
    return mt__drv_pull_many(&id, &addr, 1, NULL, err);
}
