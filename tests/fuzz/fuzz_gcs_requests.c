/* libFuzzer target: the control store's request path without a socket. The
 * input is a sequence of requests, each [method index][len lo][len hi]
 * [payload]; each is decoded and checked by mt__gcs_request_decode (what the
 * server runs on every frame) and then applied to one in-memory table set
 * exactly as the server dispatches it (mt__gcs_apply, or the lookup / list /
 * KV get / job / cluster-status table calls), with the reply packed as the
 * server would send it; the status text is printed to /dev/null. Task
 * reports go to a task table (mt__gcs_tasks_add) and are listed back. Index 19
 * feeds the payload to the persistence loader (mt__gcs_tables_restore).
 * Cross-request state (names taken, actors removed, KV overwrite) is
 * exercised. Must never crash, leak or trigger UB. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcs/gcs_int.h"
#include "rpc/rpc.h"

static const uint16_t METHODS[] = {
    MANTA__GCS_METHOD__GCS_REGISTER_NODE,  MANTA__GCS_METHOD__GCS_HEARTBEAT,
    MANTA__GCS_METHOD__GCS_UNREGISTER_NODE, MANTA__GCS_METHOD__GCS_GET_CLUSTER_STATUS,
    MANTA__GCS_METHOD__GCS_REGISTER_ACTOR, MANTA__GCS_METHOD__GCS_LOOKUP_ACTOR,
    MANTA__GCS_METHOD__GCS_REMOVE_ACTOR,   MANTA__GCS_METHOD__GCS_LIST_ACTORS,
    MANTA__GCS_METHOD__GCS_KV_PUT,         MANTA__GCS_METHOD__GCS_KV_GET,
    MANTA__GCS_METHOD__GCS_KV_DEL,         MANTA__GCS_METHOD__GCS_REGISTER_JOB,
    MANTA__GCS_METHOD__GCS_FINISH_JOB,     MANTA__GCS_METHOD__GCS_ADD_TASK_EVENTS,
    MANTA__GCS_METHOD__GCS_LIST_TASKS,     7 /* unknown */,
};
#define NMETHODS (sizeof METHODS / sizeof *METHODS)

static FILE *g_null;

static void check(bool ok)
{
    if (!ok) abort();
}

/* Packs a reply as mt_rpc_reply would. */
static void pack(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = mt_malloc(n ? n : 1);
    if (!buf) return;
    check(protobuf_c_message_pack(m, buf) == n);
    mt_free(buf);
}

static void answer(mt__gcs_tables *t, mt__gcs_tasks *tasks, uint16_t method, const ProtobufCMessage *req)
{
    mt_error e;
    mt_error_clear(&e);
    switch (method) {
    case MANTA__GCS_METHOD__GCS_ADD_TASK_EVENTS:
        if (mt__gcs_tasks_add(tasks, (const void *)req, &e) != MT_OK) check(e.msg[0] != 0);
        return;
    case MANTA__GCS_METHOD__GCS_LIST_TASKS: {
        const Manta__ListTasksRequest *q = (const void *)req;
        Manta__TaskEvent *rows = NULL;
        size_t n = mt__gcs_tasks_list(tasks, q->limit > 0 ? (size_t)q->limit : 0, &rows);
        check(n <= mt__gcs_tasks_count(tasks));
        Manta__TaskEvent **ptrs = n ? mt_malloc(n * sizeof *ptrs) : NULL;
        Manta__ListTasksReply r = MANTA__LIST_TASKS_REPLY__INIT;
        r.message = "";
        for (size_t i = 0; ptrs && i < n; i++) ptrs[i] = &rows[i];
        r.tasks = ptrs;
        r.n_tasks = ptrs ? n : 0;
        pack(&r.base);
        mt_free(ptrs);
        mt_free(rows);
        return;
    }
    case MANTA__GCS_METHOD__GCS_GET_CLUSTER_STATUS: {
        Manta__ClusterStatusReply r = MANTA__CLUSTER_STATUS_REPLY__INIT;
        if (mt__gcs_cluster_view(t, &r, &e) != MT_OK) return;
        r.message = "";
        pack(&r.base);
        mt__gcs_status_print(&r, g_null);
        mt__gcs_cluster_view_done(&r);
        return;
    }
    case MANTA__GCS_METHOD__GCS_LOOKUP_ACTOR: {
        const Manta__LookupActorRequest *q = (const void *)req;
        const Manta__ActorInfo *a = mt__gcs_actor_lookup(t, q->name, q->namespace_, &e);
        if (!a) return;
        Manta__LookupActorReply r = MANTA__LOOKUP_ACTOR_REPLY__INIT;
        r.message = "";
        r.actor = (Manta__ActorInfo *)a;
        pack(&r.base);
        return;
    }
    case MANTA__GCS_METHOD__GCS_LIST_ACTORS: {
        const Manta__ListActorsRequest *q = (const void *)req;
        Manta__ListActorsReply r = MANTA__LIST_ACTORS_REPLY__INIT;
        r.message = "";
        if (mt__gcs_actor_list(t, q->namespace_, q->all_namespaces, &r.actors, &r.n_actors, &e) != MT_OK)
            return;
        pack(&r.base);
        mt_free(r.actors);
        return;
    }
    case MANTA__GCS_METHOD__GCS_KV_GET: {
        const Manta__KvKeyRequest *q = (const void *)req;
        Manta__KvGetReply r = MANTA__KV_GET_REPLY__INIT;
        r.message = "";
        if (mt__gcs_kv_get(t, q->ns, q->key, &r.value, &e) == MT_OK) pack(&r.base);
        return;
    }
    case MANTA__GCS_METHOD__GCS_REGISTER_JOB: {
        const Manta__RegisterJobRequest *q = (const void *)req;
        mt_id id;
        mt__gcs_job_register(t, q->entrypoint, q->driver_pid, mt__gcs_wall_ms(), &id, &e);
        return;
    }
    default:
        if (mt__gcs_apply(t, method, req, &e) != MT_OK) check(e.msg[0] != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_null) g_null = fopen("/dev/null", "w");
    mt__gcs_tables *t = NULL;
    mt_error e;
    mt__gcs_tasks *tasks = NULL;
    if (mt__gcs_tables_create(NULL, &t, &e) != MT_OK || mt__gcs_tasks_create(&tasks, &e) != MT_OK) abort();
    while (size >= 3) {
        unsigned which = data[0] % 20;
        size_t len = (size_t)data[1] | ((size_t)data[2] << 8);
        data += 3;
        size -= 3;
        if (len > size) len = size;
        if (which == 19) {
            static const char *const tables[] = {"nodes", "actors", "jobs", "bogus"};
            mt__gcs_tables_restore(t, tables[len % 4], data, len, 1000, &e);
            mt__gcs_tables_restore_kv(t, "ns", "k", data, len, &e);
        } else {
            uint16_t method = METHODS[which % NMETHODS];
            ProtobufCMessage *req = NULL;
            if (mt__gcs_request_decode(method, data, len, &req, &e) == MT_OK) {
                answer(t, tasks, method, req);
                protobuf_c_message_free_unpacked(req, &mt_rpc_pb_allocator);
            } else {
                check(req == NULL && e.msg[0] != 0);
            }
        }
        data += len;
        size -= len;
        mt__gcs_nodes_check_dead(t, mt_time_now_ns() / 1000000, 1000);
    }
    mt__gcs_tables_destroy(t);
    mt__gcs_tasks_destroy(tasks);
    return 0;
}
