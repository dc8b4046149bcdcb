/*
 * itest_node.h — raw connections to a test cluster's node daemon (after
 * itest_cluster.h): what another process, or a CLI, sees of it.
 */
#ifndef MANTA_ITEST_NODE_H
#define MANTA_ITEST_NODE_H

#include "proto/common.pb-c.h"
#include "proto/gcs.pb-c.h"
#include "proto/node.pb-c.h"
#include "rpc/rpc.h"

/* A client of the head's node with a fresh client id (another process's view). */
static ITEST_UNUSED mt_rpc_client *itest_node_client(const itest_cluster *c)
{
    char path[700];
    snprintf(path, sizeof path, "%s/token", c->session);
    uint8_t token[MT_RPC_TOKEN_BYTES];
    mt_error err = {0};
    cr_assert_eq(mt_rpc_token_load(path, token, &err), MT_OK, "%s", err.msg);
    mt_rpc_client *cl = NULL;
    cr_assert_eq(mt_rpc_client_connect(c->node_socket, token, "cli", 5000, &cl, &err), MT_OK, "%s", err.msg);
    return cl;
}

/* The head node's GET_STATS answer (free with protobuf_c_message_free_unpacked). */
static ITEST_UNUSED Manta__NodeStatsReply *itest_node_stats(mt_rpc_client *cl)
{
    Manta__Empty e = MANTA__EMPTY__INIT;
    Manta__NodeStatsReply *r = NULL;
    mt_error err = {0};
    cr_assert_eq(mt_rpc_client_call(cl, MANTA__NODE_METHOD__NODE_GET_STATS, &e.base, &manta__node_stats_reply__descriptor,
                                    5000, (ProtobufCMessage **)&r, NULL, &err),
                 MT_OK, "%s", err.msg);
    return r;
}

#endif
