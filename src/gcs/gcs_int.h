/*
 * gcs_int.h — declarations shared inside the control store (src/gcs): the
 * in-memory tables (gcs_tables.c), their SQLite persistence (gcs_persist.c),
 * the RPC front end (gcs_server.c) and the `manta status` text
 * (gcs_status_fmt.c).
 *
 * Threads: the tables and the server run on the control store's loop thread
 * only; nothing here locks.
 *
 * Invariants: table entries own deep copies of the protobuf messages they
 * hold (unpacked with mt_rpc_pb_allocator); a live actor's (namespace, name)
 * is unique when the name is non-empty; node and actor ids are MT_ID_SIZE
 * bytes.
 */
#ifndef MANTA_GCS_INT_H
#define MANTA_GCS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "manta/base.h"
#include "proto/gcs.pb-c.h"

#define MT_GCS_ACTOR_DEAD 3

typedef struct mt__gcs_tables mt__gcs_tables;
typedef struct mt__gcs_persist mt__gcs_persist;
typedef struct mt__gcs_pgs mt__gcs_pgs;
typedef struct mt__gcs_tasks mt__gcs_tasks;

/* ---- Placement groups (gcs_pg.c) ---- */

/* `persist` may be NULL (memory only); else its groups are loaded and every change is written through. */
mt_status mt__gcs_pgs_create(mt__gcs_persist *persist, mt__gcs_pgs **out, mt_error *err);
void mt__gcs_pgs_destroy(mt__gcs_pgs *t);
mt_status mt__gcs_pg_register(mt__gcs_pgs *t, const Manta__PlacementGroupInfo *p, mt_error *err);
mt_status mt__gcs_pg_remove(mt__gcs_pgs *t, ProtobufCBinaryData id, mt_error *err);
/* An array (mt_free it) of pointers into the table, valid until its next change. */
size_t mt__gcs_pg_list(const mt__gcs_pgs *t, bool pending_only, Manta__PlacementGroupInfo ***out);

/* ---- Tasks (gcs_tasks.c): owners' state reports, one row per attempt, memory only ---- */

mt_status mt__gcs_tasks_create(mt__gcs_tasks **out, mt_error *err);
void mt__gcs_tasks_destroy(mt__gcs_tasks *t);
/* Merges a report; MT_EINVAL (naming how many) when some events were malformed (the rest still count). */
mt_status mt__gcs_tasks_add(mt__gcs_tasks *t, const Manta__AddTaskEventsRequest *req, mt_error *err);
/* The oldest `limit` rows (0: all) as an mt_calloc'd array of messages pointing into the table
 * (valid until its next change); mt_free the array. Returns the count. */
size_t mt__gcs_tasks_list(const mt__gcs_tasks *t, size_t limit, Manta__TaskEvent **out);
size_t mt__gcs_tasks_count(const mt__gcs_tasks *t);
/* Owners' dropped events plus rows evicted for room. */
int64_t mt__gcs_tasks_dropped(const mt__gcs_tasks *t);

/* ---- Tables (gcs_tables.c) ---- */

/* `persist` may be NULL (memory only); the tables do not own it. */
mt_status mt__gcs_tables_create(mt__gcs_persist *persist, mt__gcs_tables **out, mt_error *err);
void mt__gcs_tables_destroy(mt__gcs_tables *t);

/* Adds or replaces a node (alive, heartbeat = now). MT_EINVAL for a bad id. */
mt_status mt__gcs_node_register(mt__gcs_tables *t, const Manta__NodeInfo *n, int64_t now_ms,
                                mt_error *err);
/* Updates resources; MT_ENOTFOUND for an unknown or dead node (it must re-register). */
mt_status mt__gcs_node_heartbeat(mt__gcs_tables *t, const Manta__HeartbeatRequest *hb,
                                 int64_t now_ms, mt_error *err);
/* Marks the node dead (clean shutdown). MT_ENOTFOUND when unknown. */
mt_status mt__gcs_node_unregister(mt__gcs_tables *t, ProtobufCBinaryData id, mt_error *err);
/* Marks alive nodes whose last heartbeat is older than dead_after_ms dead; returns how many. */
int mt__gcs_nodes_check_dead(mt__gcs_tables *t, int64_t now_ms, int64_t dead_after_ms);
/* Fills reply->nodes with pointers into the table (valid until the next change). */
mt_status mt__gcs_cluster_view(mt__gcs_tables *t, Manta__ClusterStatusReply *reply,
                               mt_error *err);
/*
 * A heartbeat's view: with the epoch and version of a view the asker holds,
 * only the nodes changed since (reply->view_delta); otherwise every node.
 * The reply carries the current epoch and version either way.
 */
mt_status mt__gcs_cluster_view_since(mt__gcs_tables *t, uint64_t epoch, uint64_t version,
                                     Manta__ClusterStatusReply *reply, mt_error *err);
/* Frees the array set by mt__gcs_cluster_view (not the nodes). */
void mt__gcs_cluster_view_done(Manta__ClusterStatusReply *reply);
size_t mt__gcs_node_count(const mt__gcs_tables *t, bool alive_only);

/* Adds or updates (same actor id) an actor. MT_EEXIST when the name is taken. */
mt_status mt__gcs_actor_register(mt__gcs_tables *t, const Manta__ActorInfo *a, mt_error *err);
/* The live actor with that name; NULL (and MT_ENOTFOUND in err) otherwise. */
const Manta__ActorInfo *mt__gcs_actor_lookup(mt__gcs_tables *t, const char *name, const char *ns,
                                             mt_error *err);
mt_status mt__gcs_actor_remove(mt__gcs_tables *t, ProtobufCBinaryData id, mt_error *err);
/* Fills an mt_malloc'd array of pointers into the table; free the array with mt_free. */
mt_status mt__gcs_actor_list(mt__gcs_tables *t, const char *ns, bool all, Manta__ActorInfo ***out,
                             size_t *n_out, mt_error *err);

mt_status mt__gcs_kv_put(mt__gcs_tables *t, const char *ns, const char *key,
                         ProtobufCBinaryData value, bool overwrite, mt_error *err);
/* Points *value at the stored bytes (valid until the next change). MT_ENOTFOUND. */
mt_status mt__gcs_kv_get(mt__gcs_tables *t, const char *ns, const char *key,
                         ProtobufCBinaryData *value, mt_error *err);
mt_status mt__gcs_kv_del(mt__gcs_tables *t, const char *ns, const char *key, mt_error *err);

mt_status mt__gcs_job_register(mt__gcs_tables *t, const char *entrypoint, int pid,
                               int64_t now_ms, mt_id *id_out, mt_error *err);
mt_status mt__gcs_job_finish(mt__gcs_tables *t, ProtobufCBinaryData id, int64_t now_ms,
                             mt_error *err);

/* Wall clock in milliseconds (what NodeInfo times are reported in). */
int64_t mt__gcs_wall_ms(void);

/* ---- Persistence (gcs_persist.c): SQLite, one row per record ---- */

/* Opens (creating) the database at `path`. */
mt_status mt__gcs_persist_open(const char *path, mt__gcs_persist **out, mt_error *err);
void mt__gcs_persist_close(mt__gcs_persist *p);
/* Saves/deletes a record of `table` ("nodes", "actors", "jobs") keyed by id: packed protobuf. */
mt_status mt__gcs_persist_put(mt__gcs_persist *p, const char *table, ProtobufCBinaryData id,
                              const ProtobufCMessage *msg, mt_error *err);
mt_status mt__gcs_persist_del(mt__gcs_persist *p, const char *table, ProtobufCBinaryData id,
                              mt_error *err);
mt_status mt__gcs_persist_kv_put(mt__gcs_persist *p, const char *ns, const char *key,
                                 ProtobufCBinaryData value, mt_error *err);
mt_status mt__gcs_persist_kv_del(mt__gcs_persist *p, const char *ns, const char *key,
                                 mt_error *err);
/* Reloads every record into `t` (nodes come back with heartbeat = now_ms). */
/* Calls fn with each row's record of `table` ("placement_groups"…). */
mt_status mt__gcs_persist_each(mt__gcs_persist *p, const char *table,
                               void (*fn)(const uint8_t *blob, size_t len, void *ud), void *ud, mt_error *err);
mt_status mt__gcs_persist_load(mt__gcs_persist *p, mt__gcs_tables *t, int64_t now_ms,
                               mt_error *err);
/* Used by the loader: inserts without persisting again. */
mt_status mt__gcs_tables_restore(mt__gcs_tables *t, const char *table, const uint8_t *blob,
                                 size_t len, int64_t now_ms, mt_error *err);
mt_status mt__gcs_tables_restore_kv(mt__gcs_tables *t, const char *ns, const char *key,
                                    const uint8_t *value, size_t len, mt_error *err);

/* ---- Server (gcs_server.c) ---- */

typedef struct mt__gcs_server mt__gcs_server;
typedef struct mt__gcs_server_options {
    const char *address;         /* tcp://IP:PORT (port 0 = pick one) */
    const uint8_t *token;        /* MT_RPC_TOKEN_BYTES */
    const char *db_path;         /* SQLite file; NULL = memory only */
    int64_t node_dead_after_ms;  /* 0 = config node_dead_after_ms */
} mt__gcs_server_options;

mt_status mt__gcs_server_start(uv_loop_t *loop, const mt__gcs_server_options *o,
                               mt__gcs_server **out, mt_error *err);
const char *mt__gcs_server_address(const mt__gcs_server *s);
/* Closes the listener, timer and tables; run the loop afterwards to finish closing. */
void mt__gcs_server_stop(mt__gcs_server *s);
/*
 * Decodes the request of `method` from payload[0..len) into *out (free with
 * protobuf_c_message_free_unpacked on mt_rpc_pb_allocator) and checks the
 * fields every handler relies on. MT_EUNSUPPORTED (unknown method),
 * MT_EPARSE (does not decode), MT_EINVAL (register node/actor without one).
 * Pure; the server runs it on every request.
 */
mt_status mt__gcs_request_decode(uint16_t method, const uint8_t *payload, size_t len,
                                 ProtobufCMessage **out, mt_error *err);
/* Applies a decoded request of a method whose reply is a plain Status to the tables. */
mt_status mt__gcs_apply(mt__gcs_tables *t, uint16_t method, const ProtobufCMessage *req,
                        mt_error *err);

/* ---- Status text (gcs_status_fmt.c) ---- */

/* Writes Ray's `ray status` shape for `r` to `out`. */
void mt__gcs_status_print(const Manta__ClusterStatusReply *r, FILE *out);
/* "7.87GiB", "88B", "1.50KiB": Ray's byte formatting. */
void mt__gcs_format_bytes(double bytes, char *out, size_t cap);

#endif /* MANTA_GCS_INT_H */
