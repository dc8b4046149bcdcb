/*
 * stub.c — temporary placeholders for rpc.h so other modules link while the
 * transport is being written. Every function fails with MT_EUNSUPPORTED.
 */
#include <stdlib.h>

#include "rpc/rpc.h"

static void *pb_alloc(void *ad, size_t n) { (void)ad; return mt_malloc(n); }
static void pb_free(void *ad, void *p) { (void)ad; mt_free(p); }
ProtobufCAllocator mt_rpc_pb_allocator = {pb_alloc, pb_free, NULL};

#define NYI(err) mt_error_set((err), MT_EUNSUPPORTED, "rpc: not implemented yet")

mt_status mt_rpc_addr_parse(const char *t, mt_rpc_addr *o, mt_error *err) { (void)t; (void)o; return NYI(err); }
mt_status mt_rpc_token_create(const char *p, uint8_t t[MT_RPC_TOKEN_BYTES], mt_error *err) { (void)p; (void)t; return NYI(err); }
mt_status mt_rpc_token_load(const char *p, uint8_t t[MT_RPC_TOKEN_BYTES], mt_error *err) { (void)p; (void)t; return NYI(err); }
mt_status mt_rpc_loop_start(const char *n, mt_rpc_loop **o, mt_error *err) { (void)n; *o = NULL; return NYI(err); }
uv_loop_t *mt_rpc_loop_uv(mt_rpc_loop *l) { (void)l; return NULL; }
mt_status mt_rpc_loop_post(mt_rpc_loop *l, void (*fn)(void *), void *a, mt_error *err) { (void)l; (void)fn; (void)a; return NYI(err); }
void mt_rpc_loop_stop(mt_rpc_loop *l) { (void)l; }
bool mt_rpc_loop_on_thread(const mt_rpc_loop *l) { (void)l; return false; }
mt_status mt_rpc_server_listen(uv_loop_t *loop, const char *a, const uint8_t t[MT_RPC_TOKEN_BYTES], const mt_rpc_handlers *h,
                               void *ud, mt_rpc_server **o, mt_error *err) { (void)loop; (void)a; (void)t; (void)h; (void)ud; *o = NULL; return NYI(err); }
const char *mt_rpc_server_address(const mt_rpc_server *s) { (void)s; return ""; }
void mt_rpc_server_close(mt_rpc_server *s) { (void)s; }
mt_status mt_rpc_connect(uv_loop_t *loop, const char *a, const uint8_t t[MT_RPC_TOKEN_BYTES], const mt_rpc_connect_options *o,
                         const mt_rpc_handlers *h, void *ud, mt_rpc_conn **out, mt_error *err) { (void)loop; (void)a; (void)t; (void)o; (void)h; (void)ud; *out = NULL; return NYI(err); }
mt_status mt_rpc_call(mt_rpc_conn *c, uint16_t m, const ProtobufCMessage *r, int64_t to, mt_rpc_reply_cb cb, void *ud, mt_error *err) { (void)c; (void)m; (void)r; (void)to; (void)cb; (void)ud; return NYI(err); }
mt_status mt_rpc_call_raw(mt_rpc_conn *c, uint16_t m, const void *p, size_t n, int64_t to, mt_rpc_reply_cb cb, void *ud, mt_error *err) { (void)c; (void)m; (void)p; (void)n; (void)to; (void)cb; (void)ud; return NYI(err); }
mt_status mt_rpc_send(mt_rpc_conn *c, uint16_t m, const ProtobufCMessage *msg, mt_error *err) { (void)c; (void)m; (void)msg; return NYI(err); }
mt_status mt_rpc_reply(mt_rpc_conn *c, const mt_rpc_msg *q, mt_status st, const ProtobufCMessage *r, const char *t, int fd, mt_error *err) { (void)c; (void)q; (void)st; (void)r; (void)t; (void)fd; return NYI(err); }
mt_status mt_rpc_reply_raw(mt_rpc_conn *c, const mt_rpc_msg *q, mt_status st, const void *p, size_t n, mt_error *err) { (void)c; (void)q; (void)st; (void)p; (void)n; return NYI(err); }
void mt_rpc_conn_set_userdata(mt_rpc_conn *c, void *ud) { (void)c; (void)ud; }
void *mt_rpc_conn_userdata(const mt_rpc_conn *c) { (void)c; return NULL; }
int mt_rpc_conn_peer_pid(const mt_rpc_conn *c) { (void)c; return -1; }
void mt_rpc_conn_close(mt_rpc_conn *c) { (void)c; }
mt_status mt_rpc_client_connect(const char *a, const uint8_t t[MT_RPC_TOKEN_BYTES], const char *k, int64_t to, mt_rpc_client **o, mt_error *err) { (void)a; (void)t; (void)k; (void)to; *o = NULL; return NYI(err); }
mt_status mt_rpc_client_call(mt_rpc_client *c, uint16_t m, const ProtobufCMessage *r, const ProtobufCMessageDescriptor *d, int64_t to,
                             ProtobufCMessage **ro, int *fo, mt_error *err) { (void)c; (void)m; (void)r; (void)d; (void)to; (void)ro; (void)fo; return NYI(err); }
mt_status mt_rpc_client_send(mt_rpc_client *c, uint16_t m, uint16_t f, const void *p, size_t n, uint64_t *id, mt_error *err) { (void)c; (void)m; (void)f; (void)p; (void)n; (void)id; return NYI(err); }
mt_status mt_rpc_client_recv(mt_rpc_client *c, int64_t to, mt_rpc_msg *o, mt_error *err) { (void)c; (void)to; (void)o; return NYI(err); }
int mt_rpc_client_fd(const mt_rpc_client *c) { (void)c; return -1; }
void mt_rpc_client_close(mt_rpc_client *c) { (void)c; }
mt_status mt_rpc_frame_encode(uint16_t m, uint16_t f, uint64_t id, int32_t s, const ProtobufCMessage *msg, uint8_t **o, size_t *n, mt_error *err) { (void)m; (void)f; (void)id; (void)s; (void)msg; *o = NULL; *n = 0; return NYI(err); }
