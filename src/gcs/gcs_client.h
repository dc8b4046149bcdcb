/*
 * gcs_client.h — blocking wrappers over mt_rpc_client for the methods of
 * proto/gcs.proto (the control store). Used by the CLI, drivers/workers
 * (named actors, KV, jobs) and tests; the node daemon may use them or call
 * the same methods asynchronously.
 *
 * Threads: one mt_gcs_client is used by one thread at a time (callers
 * serialise), like mt_rpc_client. Every call waits at most `timeout_ms` given
 * at connect (0 = 10 s). A remote error comes back as its status with the
 * control store's message in err (e.g. MT_EEXIST "actor name 'x' is taken in
 * namespace 'y'"). Replies returned as protobuf messages are owned by the
 * caller: free them with mt_gcs_reply_free.
 */
#ifndef MANTA_GCS_CLIENT_H
#define MANTA_GCS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manta/base.h"
#include "proto/gcs.pb-c.h"
#include "rpc/rpc.h"

typedef struct mt_gcs_client mt_gcs_client;

/* Connects and authenticates to "tcp://HOST:PORT" or "HOST:PORT". */
mt_status mt_gcs_client_connect(const char *address, const uint8_t token[MT_RPC_TOKEN_BYTES],
                                const char *client_kind, int64_t timeout_ms,
                                mt_gcs_client **out, mt_error *err);
/* Closes the connection. NULL-tolerant. */
void mt_gcs_client_close(mt_gcs_client *c);

/* Frees a reply returned by the calls below. NULL-tolerant. */
void mt_gcs_reply_free(void *reply);

/* ---- Nodes ---- */
/* Registers (or re-registers) a node; node->node_id must be MT_ID_SIZE bytes. */
mt_status mt_gcs_register_node(mt_gcs_client *c, const Manta__NodeInfo *node, mt_error *err);
/* Heartbeat; MT_ENOTFOUND when the control store does not know the node (re-register). */
mt_status mt_gcs_heartbeat(mt_gcs_client *c, const Manta__HeartbeatRequest *req, mt_error *err);
/* A heartbeat with want_view set: *out (free with mt_gcs_reply_free) is the view, or what changed since req's version. */
mt_status mt_gcs_heartbeat_view(mt_gcs_client *c, const Manta__HeartbeatRequest *req, Manta__ClusterStatusReply **out,
                                mt_error *err);
mt_status mt_gcs_unregister_node(mt_gcs_client *c, mt_id node_id, mt_error *err);
/* Every node (alive and dead) with its resources. *out freed with mt_gcs_reply_free. */
mt_status mt_gcs_cluster_status(mt_gcs_client *c, Manta__ClusterStatusReply **out, mt_error *err);

/* ---- Actors ---- */
/* MT_EEXIST when actor->name is non-empty and taken (by a live actor) in actor->namespace_. */
mt_status mt_gcs_register_actor(mt_gcs_client *c, const Manta__ActorInfo *actor, mt_error *err);
/* MT_ENOTFOUND when no actor has that name in that namespace. *out: mt_gcs_reply_free. */
mt_status mt_gcs_lookup_actor(mt_gcs_client *c, const char *name, const char *ns,
                              Manta__LookupActorReply **out, mt_error *err);
/* MT_ENOTFOUND when unknown. */
mt_status mt_gcs_remove_actor(mt_gcs_client *c, mt_id actor_id, mt_error *err);
/* Actors of namespace `ns` (or of all namespaces). *out: mt_gcs_reply_free. */
mt_status mt_gcs_list_actors(mt_gcs_client *c, const char *ns, bool all_namespaces,
                             Manta__ListActorsReply **out, mt_error *err);

/* ---- Placement groups ---- */
/* Reports a group (added or replaced by id) without waiting for the reply: one-way. */
mt_status mt_gcs_report_placement_group(mt_gcs_client *c, const Manta__PlacementGroupInfo *pg, mt_error *err);
/* Drops a removed group, one-way. */
mt_status mt_gcs_forget_placement_group(mt_gcs_client *c, mt_id id, mt_error *err);
/* Every PENDING and CREATED group. *out: mt_gcs_reply_free. */
mt_status mt_gcs_list_placement_groups(mt_gcs_client *c, Manta__ListPlacementGroupsReply **out, mt_error *err);

/* ---- Tasks ---- */
/* An owner's task state changes, one-way. */
mt_status mt_gcs_report_task_events(mt_gcs_client *c, const Manta__AddTaskEventsRequest *req, mt_error *err);
/* The oldest `limit` task attempts the control store keeps (0: all). *out: mt_gcs_reply_free. */
mt_status mt_gcs_list_tasks(mt_gcs_client *c, int limit, Manta__ListTasksReply **out, mt_error *err);

/* ---- KV ---- */
/* MT_EEXIST when the key exists and !overwrite. */
mt_status mt_gcs_kv_put(mt_gcs_client *c, const char *ns, const char *key, const void *value,
                        size_t len, bool overwrite, mt_error *err);
/* *value_out (mt_malloc, NUL-terminated for convenience, free with mt_free); MT_ENOTFOUND. */
mt_status mt_gcs_kv_get(mt_gcs_client *c, const char *ns, const char *key, uint8_t **value_out,
                        size_t *len_out, mt_error *err);
/* MT_ENOTFOUND when missing. */
mt_status mt_gcs_kv_del(mt_gcs_client *c, const char *ns, const char *key, mt_error *err);

/* ---- Jobs ---- */
mt_status mt_gcs_register_job(mt_gcs_client *c, const char *entrypoint, int driver_pid,
                              mt_id *job_id_out, mt_error *err);
mt_status mt_gcs_finish_job(mt_gcs_client *c, mt_id job_id, mt_error *err);

#endif /* MANTA_GCS_CLIENT_H */
