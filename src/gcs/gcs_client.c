/*
 * gcs_client.c — blocking calls to the control store over one mt_rpc_client.
 * Each call encodes its request, waits for the reply and maps the reply's
 * status. Single-threaded per client (callers serialise); see gcs_client.h.
 */
#include "gcs/gcs_client.h"

#include <string.h>

struct mt_gcs_client {
    mt_rpc_client *rpc;
    int64_t timeout_ms;
};

mt_status mt_gcs_client_connect(const char *address, const uint8_t token[MT_RPC_TOKEN_BYTES],
                                const char *client_kind, int64_t timeout_ms,
                                mt_gcs_client **out, mt_error *err)
{
    *out = NULL;
    mt_gcs_client *c = mt_calloc(1, sizeof *c);
    if (!c) return mt_error_set(err, MT_ENOMEM, "control store client: out of memory");
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    mt_status st = mt_rpc_client_connect(address, token, client_kind ? client_kind : "cli",
                                         c->timeout_ms, &c->rpc, err);
    if (st != MT_OK) {
        mt_free(c);
        mt_error_prefix(err, "connecting to the control store at %s", address);
        return st;
    }
    *out = c;
    return MT_OK;
}

void mt_gcs_client_close(mt_gcs_client *c)
{
    if (!c) return;
    mt_rpc_client_close(c->rpc);
    mt_free(c);
}

void mt_gcs_reply_free(void *reply)
{
    if (reply) protobuf_c_message_free_unpacked((ProtobufCMessage *)reply, &mt_rpc_pb_allocator);
}

/* Calls `method`; on success *out holds the reply (or it is freed when out is NULL). */
static mt_status call(mt_gcs_client *c, uint16_t method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                      mt_error *err)
{
    ProtobufCMessage *reply = NULL;
    if (out) *out = NULL;
    mt_status st = mt_rpc_client_call(c->rpc, method, req, desc, c->timeout_ms, &reply, NULL, err);
    if (st != MT_OK) {
        mt_gcs_reply_free(reply);
        return st;
    }
    if (out)
        *out = reply;
    else
        mt_gcs_reply_free(reply);
    return MT_OK;
}

static mt_status call_status(mt_gcs_client *c, uint16_t method, const ProtobufCMessage *req,
                             mt_error *err)
{
    return call(c, method, req, &manta__status__descriptor, NULL, err);
}

mt_status mt_gcs_register_node(mt_gcs_client *c, const Manta__NodeInfo *node, mt_error *err)
{
    Manta__RegisterNodeRequest req = MANTA__REGISTER_NODE_REQUEST__INIT;
    req.node = (Manta__NodeInfo *)node;
    return call_status(c, MANTA__GCS_METHOD__GCS_REGISTER_NODE, &req.base, err);
}

mt_status mt_gcs_heartbeat(mt_gcs_client *c, const Manta__HeartbeatRequest *req, mt_error *err)
{
    return call_status(c, MANTA__GCS_METHOD__GCS_HEARTBEAT, &req->base, err);
}

mt_status mt_gcs_heartbeat_view(mt_gcs_client *c, const Manta__HeartbeatRequest *req, Manta__ClusterStatusReply **out,
                                mt_error *err)
{
    return call(c, MANTA__GCS_METHOD__GCS_HEARTBEAT, &req->base, &manta__cluster_status_reply__descriptor,
                (ProtobufCMessage **)out, err);
}

mt_status mt_gcs_unregister_node(mt_gcs_client *c, mt_id node_id, mt_error *err)
{
    Manta__NodeIdRequest req = MANTA__NODE_ID_REQUEST__INIT;
    req.node_id.data = node_id.bytes;
    req.node_id.len = MT_ID_SIZE;
    return call_status(c, MANTA__GCS_METHOD__GCS_UNREGISTER_NODE, &req.base, err);
}

mt_status mt_gcs_cluster_status(mt_gcs_client *c, Manta__ClusterStatusReply **out, mt_error *err)
{
    Manta__Empty req = MANTA__EMPTY__INIT;
    return call(c, MANTA__GCS_METHOD__GCS_GET_CLUSTER_STATUS, &req.base,
                &manta__cluster_status_reply__descriptor, (ProtobufCMessage **)out, err);
}

mt_status mt_gcs_register_actor(mt_gcs_client *c, const Manta__ActorInfo *actor, mt_error *err)
{
    Manta__RegisterActorRequest req = MANTA__REGISTER_ACTOR_REQUEST__INIT;
    req.actor = (Manta__ActorInfo *)actor;
    return call_status(c, MANTA__GCS_METHOD__GCS_REGISTER_ACTOR, &req.base, err);
}

mt_status mt_gcs_lookup_actor(mt_gcs_client *c, const char *name, const char *ns,
                              Manta__LookupActorReply **out, mt_error *err)
{
    Manta__LookupActorRequest req = MANTA__LOOKUP_ACTOR_REQUEST__INIT;
    req.name = (char *)(name ? name : "");
    req.namespace_ = (char *)(ns ? ns : "");
    return call(c, MANTA__GCS_METHOD__GCS_LOOKUP_ACTOR, &req.base,
                &manta__lookup_actor_reply__descriptor, (ProtobufCMessage **)out, err);
}

mt_status mt_gcs_remove_actor(mt_gcs_client *c, mt_id actor_id, mt_error *err)
{
    Manta__ActorIdRequest req = MANTA__ACTOR_ID_REQUEST__INIT;
    req.actor_id.data = actor_id.bytes;
    req.actor_id.len = MT_ID_SIZE;
    return call_status(c, MANTA__GCS_METHOD__GCS_REMOVE_ACTOR, &req.base, err);
}

static mt_status send_oneway(mt_gcs_client *c, uint16_t method, const ProtobufCMessage *m, mt_error *err)
{
    uint8_t small[1024];
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = n <= sizeof small ? small : mt_malloc(n);
    if (!buf) return mt_error_set(err, MT_ENOMEM, "control store message of %zu bytes", n);
    protobuf_c_message_pack(m, buf);
    mt_status st = mt_rpc_client_send(c->rpc, method, MT_RPC_FLAG_ONEWAY, buf, n, NULL, err);
    if (buf != small) mt_free(buf);
    return st;
}

mt_status mt_gcs_report_placement_group(mt_gcs_client *c, const Manta__PlacementGroupInfo *pg, mt_error *err)
{
    return send_oneway(c, MANTA__GCS_METHOD__GCS_REGISTER_PLACEMENT_GROUP, &pg->base, err);
}

mt_status mt_gcs_forget_placement_group(mt_gcs_client *c, mt_id id, mt_error *err)
{
    Manta__PlacementGroupIdRequest req = MANTA__PLACEMENT_GROUP_ID_REQUEST__INIT;
    req.placement_group_id.data = id.bytes;
    req.placement_group_id.len = MT_ID_SIZE;
    return send_oneway(c, MANTA__GCS_METHOD__GCS_REMOVE_PLACEMENT_GROUP, &req.base, err);
}

mt_status mt_gcs_list_placement_groups(mt_gcs_client *c, Manta__ListPlacementGroupsReply **out, mt_error *err)
{
    Manta__Empty req = MANTA__EMPTY__INIT;
    return call(c, MANTA__GCS_METHOD__GCS_LIST_PLACEMENT_GROUPS, &req.base, &manta__list_placement_groups_reply__descriptor,
                (ProtobufCMessage **)out, err);
}

mt_status mt_gcs_report_task_events(mt_gcs_client *c, const Manta__AddTaskEventsRequest *req, mt_error *err)
{
    return send_oneway(c, MANTA__GCS_METHOD__GCS_ADD_TASK_EVENTS, &req->base, err);
}

mt_status mt_gcs_list_tasks(mt_gcs_client *c, int limit, Manta__ListTasksReply **out, mt_error *err)
{
    Manta__ListTasksRequest req = MANTA__LIST_TASKS_REQUEST__INIT;
    req.limit = limit > 0 ? limit : 0;
    return call(c, MANTA__GCS_METHOD__GCS_LIST_TASKS, &req.base, &manta__list_tasks_reply__descriptor,
                (ProtobufCMessage **)out, err);
}

mt_status mt_gcs_list_actors(mt_gcs_client *c, const char *ns, bool all_namespaces,
                             Manta__ListActorsReply **out, mt_error *err)
{
    Manta__ListActorsRequest req = MANTA__LIST_ACTORS_REQUEST__INIT;
    req.namespace_ = (char *)(ns ? ns : "");
    req.all_namespaces = all_namespaces;
    return call(c, MANTA__GCS_METHOD__GCS_LIST_ACTORS, &req.base,
                &manta__list_actors_reply__descriptor, (ProtobufCMessage **)out, err);
}

mt_status mt_gcs_kv_put(mt_gcs_client *c, const char *ns, const char *key, const void *value,
                        size_t len, bool overwrite, mt_error *err)
{
    Manta__KvPutRequest req = MANTA__KV_PUT_REQUEST__INIT;
    req.ns = (char *)(ns ? ns : "");
    req.key = (char *)key;
    req.value.data = (uint8_t *)value;
    req.value.len = len;
    req.overwrite = overwrite;
    return call_status(c, MANTA__GCS_METHOD__GCS_KV_PUT, &req.base, err);
}

mt_status mt_gcs_kv_get(mt_gcs_client *c, const char *ns, const char *key, uint8_t **value_out,
                        size_t *len_out, mt_error *err)
{
    *value_out = NULL;
    *len_out = 0;
    Manta__KvKeyRequest req = MANTA__KV_KEY_REQUEST__INIT;
    req.ns = (char *)(ns ? ns : "");
    req.key = (char *)key;
    Manta__KvGetReply *reply = NULL;
    MT_RETURN_NOT_OK(call(c, MANTA__GCS_METHOD__GCS_KV_GET, &req.base,
                          &manta__kv_get_reply__descriptor, (ProtobufCMessage **)&reply, err));
    uint8_t *copy = mt_malloc(reply->value.len + 1);
    if (!copy) {
        mt_gcs_reply_free(reply);
        return mt_error_set(err, MT_ENOMEM, "kv get '%s': out of memory", key);
    }
    if (reply->value.len) memcpy(copy, reply->value.data, reply->value.len);
    copy[reply->value.len] = 0;
    *value_out = copy;
    *len_out = reply->value.len;
    mt_gcs_reply_free(reply);
    return MT_OK;
}

mt_status mt_gcs_kv_del(mt_gcs_client *c, const char *ns, const char *key, mt_error *err)
{
    Manta__KvKeyRequest req = MANTA__KV_KEY_REQUEST__INIT;
    req.ns = (char *)(ns ? ns : "");
    req.key = (char *)key;
    return call_status(c, MANTA__GCS_METHOD__GCS_KV_DEL, &req.base, err);
}

mt_status mt_gcs_register_job(mt_gcs_client *c, const char *entrypoint, int driver_pid,
                              mt_id *job_id_out, mt_error *err)
{
    Manta__RegisterJobRequest req = MANTA__REGISTER_JOB_REQUEST__INIT;
    req.entrypoint = (char *)(entrypoint ? entrypoint : "");
    req.driver_pid = driver_pid;
    Manta__RegisterJobReply *reply = NULL;
    MT_RETURN_NOT_OK(call(c, MANTA__GCS_METHOD__GCS_REGISTER_JOB, &req.base,
                          &manta__register_job_reply__descriptor, (ProtobufCMessage **)&reply,
                          err));
    mt_status st = MT_OK;
    if (reply->job_id.len != MT_ID_SIZE)
        st = mt_error_set(err, MT_ECORRUPT, "register job: reply job id has %zu bytes",
                          reply->job_id.len);
    else
        memcpy(job_id_out->bytes, reply->job_id.data, MT_ID_SIZE);
    mt_gcs_reply_free(reply);
    return st;
}

mt_status mt_gcs_finish_job(mt_gcs_client *c, mt_id job_id, mt_error *err)
{
    Manta__JobIdRequest req = MANTA__JOB_ID_REQUEST__INIT;
    req.job_id.data = job_id.bytes;
    req.job_id.len = MT_ID_SIZE;
    return call_status(c, MANTA__GCS_METHOD__GCS_FINISH_JOB, &req.base, err);
}
