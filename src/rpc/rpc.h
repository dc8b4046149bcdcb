/*
 * rpc.h — Manta's message transport: length-prefixed frames carrying
 * protobuf-c payloads over TCP and unix sockets, on libuv loops.
 *
 * Frame: a 24-byte little-endian header (u32 payload length, u16 method,
 * u16 flags, u64 request id, i32 status, u32 reserved) then the payload; see
 * proto/common.proto. Flags: MT_RPC_FLAG_REPLY, MT_RPC_FLAG_ONEWAY,
 * MT_RPC_FLAG_FD (a file descriptor travels with the frame over a unix
 * socket, SCM_RIGHTS). Frames larger than config rpc_max_frame_bytes close
 * the connection.
 *
 * Authentication: the first frame a client sends is method MT_RPC_METHOD_AUTH
 * with an AuthRequest holding the cluster token. A server closes any
 * connection whose first frame is not a valid Auth with the right token, or
 * that sends garbage (bad header, oversize frame, undecodable payload), and
 * stays up. Until authenticated, a server dispatches nothing.
 *
 * Two client flavours:
 *   - async (mt_rpc_conn on a uv loop): request ids, per-call timeouts,
 *     reply callbacks, automatic reconnect with backoff when asked;
 *   - blocking (mt_rpc_client): one socket, used from one thread at a time,
 *     for tools, tests and latency-critical synchronous paths.
 *
 * Threads: everything on an mt_rpc_conn/server runs on its loop's thread;
 * calls from other threads must go through mt_rpc_loop_post. mt_rpc_client is
 * single-threaded (callers serialise).
 *
 * Locally generated failures (MT_ETIMEOUT, MT_EIO) reach the reply callback
 * with a manta.Status payload holding the message, like remote error replies.
 * Blocking-client timeouts: 0 (or less) = wait forever.
 *
 * Async contract (STYLE): a call either fails now and never calls back, or
 * returns MT_OK and calls back exactly once (reply, error reply, timeout, or
 * connection loss — then status MT_EIO).
 */
#ifndef MANTA_RPC_H
#define MANTA_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "manta/base.h"

#define MT_RPC_HEADER_BYTES 24
/* Largest frame a server accepts before the peer has authenticated (an
 * AuthRequest is under 200 bytes); bigger claims close the connection. */
#define MT_RPC_PREAUTH_MAX_FRAME 4096
#define MT_RPC_METHOD_AUTH 1
#define MT_RPC_FLAG_REPLY 1u
#define MT_RPC_FLAG_ONEWAY 2u
#define MT_RPC_FLAG_FD 4u
#define MT_RPC_TOKEN_BYTES 32

typedef struct mt_rpc_msg {
    uint16_t method;
    uint16_t flags;
    uint64_t req_id;
    int32_t status;           /* replies: mt_status of the call */
    const uint8_t *payload;   /* valid during the callback only */
    size_t len;
    int fd;                   /* received descriptor (MT_RPC_FLAG_FD), else -1; the callback owns it */
} mt_rpc_msg;

typedef struct mt_rpc_conn mt_rpc_conn;
typedef struct mt_rpc_server mt_rpc_server;

/* Incoming request or one-way frame on a connection (server side, or a client receiving pushes). */
typedef void (*mt_rpc_request_cb)(mt_rpc_conn *c, const mt_rpc_msg *msg, void *ud);
/* Completion of mt_rpc_call: st is MT_OK with the reply, the remote's error status, MT_ETIMEOUT or MT_EIO. */
typedef void (*mt_rpc_reply_cb)(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *reply, void *ud);
/* Connection closed (peer gone, garbage, explicit close). Called once, then the conn is freed. */
typedef void (*mt_rpc_close_cb)(mt_rpc_conn *c, void *ud);
/* Server: a client authenticated; `auth` is its AuthRequest payload. */
typedef void (*mt_rpc_accept_cb)(mt_rpc_conn *c, const mt_rpc_msg *auth, void *ud);

typedef struct mt_rpc_handlers {
    mt_rpc_request_cb on_request;
    mt_rpc_close_cb on_close;
    mt_rpc_accept_cb on_accept; /* servers only; may be NULL */
} mt_rpc_handlers;

/* Parses "tcp://HOST:PORT", "HOST:PORT" (tcp), or "unix:///path" / "unix:/path". */
typedef struct mt_rpc_addr {
    bool is_unix;
    char host[256];  /* tcp */
    int port;        /* tcp */
    char path[108];  /* unix */
} mt_rpc_addr;
mt_status mt_rpc_addr_parse(const char *text, mt_rpc_addr *out, mt_error *err);

/* ---- Tokens ------------------------------------------------------------- */

/* Creates a random token file (mode 0600, MT_RPC_TOKEN_BYTES hex-encoded). */
mt_status mt_rpc_token_create(const char *path, uint8_t token[MT_RPC_TOKEN_BYTES], mt_error *err);
/* Reads a token file; refuses files readable by group/other. */
mt_status mt_rpc_token_load(const char *path, uint8_t token[MT_RPC_TOKEN_BYTES], mt_error *err);
/* Decodes MT_RPC_TOKEN_BYTES from hex text (one trailing newline allowed). */
mt_status mt_rpc_token_parse(const char *hex, uint8_t token[MT_RPC_TOKEN_BYTES], mt_error *err);

/* ---- Loops -------------------------------------------------------------- */

typedef struct mt_rpc_loop mt_rpc_loop;
/* A uv loop running on its own thread (drivers); daemons may use a uv loop on their main thread directly. */
mt_status mt_rpc_loop_start(const char *name, mt_rpc_loop **out, mt_error *err);
uv_loop_t *mt_rpc_loop_uv(mt_rpc_loop *l);
/* Runs fn(arg) on the loop thread soon; safe from any thread. */
mt_status mt_rpc_loop_post(mt_rpc_loop *l, void (*fn)(void *), void *arg, mt_error *err);
/* Stops the loop, closing every handle on it, and joins the thread. NULL-tolerant. */
void mt_rpc_loop_stop(mt_rpc_loop *l);
bool mt_rpc_loop_on_thread(const mt_rpc_loop *l);

/* ---- Servers ------------------------------------------------------------ */

/*
 * Listens on `address` (port 0 = pick one; unix path removed first if stale).
 * Every accepted connection must authenticate with `token`.
 */
mt_status mt_rpc_server_listen(uv_loop_t *loop, const char *address,
                               const uint8_t token[MT_RPC_TOKEN_BYTES], const mt_rpc_handlers *h,
                               void *ud, mt_rpc_server **out, mt_error *err);
/* The bound address, e.g. "tcp://127.0.0.1:40123". */
const char *mt_rpc_server_address(const mt_rpc_server *s);
/* Closes the listener and all its connections. NULL-tolerant. */
void mt_rpc_server_close(mt_rpc_server *s);

/* ---- Async connections --------------------------------------------------- */

typedef struct mt_rpc_connect_options {
    const char *client_kind;  /* AuthRequest.client_kind */
    mt_id client_id;
    bool reconnect;           /* reconnect with backoff on loss; calls in flight fail with MT_EIO */
    int64_t connect_timeout_ms; /* 0 = 5000 */
} mt_rpc_connect_options;

/* Connects and authenticates; calls made before the connection is up are queued. */
mt_status mt_rpc_connect(uv_loop_t *loop, const char *address,
                         const uint8_t token[MT_RPC_TOKEN_BYTES], const mt_rpc_connect_options *o,
                         const mt_rpc_handlers *h, void *ud, mt_rpc_conn **out, mt_error *err);
/* Sends a request; `cb` runs once. timeout_ms 0 = none. */
mt_status mt_rpc_call(mt_rpc_conn *c, uint16_t method, const ProtobufCMessage *req,
                      int64_t timeout_ms, mt_rpc_reply_cb cb, void *ud, mt_error *err);
/* As mt_rpc_call with a pre-encoded payload. */
mt_status mt_rpc_call_raw(mt_rpc_conn *c, uint16_t method, const void *payload, size_t len,
                          int64_t timeout_ms, mt_rpc_reply_cb cb, void *ud, mt_error *err);
/* One-way frame (no reply expected). */
mt_status mt_rpc_send(mt_rpc_conn *c, uint16_t method, const ProtobufCMessage *msg, mt_error *err);
/*
 * Replies to request `req` with status `st` and message `reply` (may be NULL:
 * then a Status{status, message} payload is sent with `text`). `fd` >= 0 is
 * passed along (unix sockets only) and not closed.
 */
mt_status mt_rpc_reply(mt_rpc_conn *c, const mt_rpc_msg *req, mt_status st,
                       const ProtobufCMessage *reply, const char *text, int fd, mt_error *err);
mt_status mt_rpc_reply_raw(mt_rpc_conn *c, const mt_rpc_msg *req, mt_status st,
                           const void *payload, size_t len, mt_error *err);
void mt_rpc_conn_set_userdata(mt_rpc_conn *c, void *ud);
void *mt_rpc_conn_userdata(const mt_rpc_conn *c);
/* Peer credentials of a unix connection (pid), or -1. */
int mt_rpc_conn_peer_pid(const mt_rpc_conn *c);
/* Closes the connection; in-flight calls complete with MT_EIO; on_close runs. */
void mt_rpc_conn_close(mt_rpc_conn *c);

/* ---- Blocking client ----------------------------------------------------- */

typedef struct mt_rpc_client mt_rpc_client;

/* Connects and authenticates synchronously (a fresh random client id). */
mt_status mt_rpc_client_connect(const char *address, const uint8_t token[MT_RPC_TOKEN_BYTES],
                                const char *client_kind, int64_t timeout_ms,
                                mt_rpc_client **out, mt_error *err);
/* As mt_rpc_client_connect, presenting `client_id` (a process's id across its
 * connections: the node ties object ownership to it). */
mt_status mt_rpc_client_connect_id(const char *address, const uint8_t token[MT_RPC_TOKEN_BYTES],
                                   const char *client_kind, mt_id client_id, int64_t timeout_ms,
                                   mt_rpc_client **out, mt_error *err);
/*
 * Sends a request and waits for its reply. On success *reply_out is a
 * protobuf-c message unpacked with `reply_desc` (free with
 * protobuf_c_message_free_unpacked); when the remote answers with an error
 * status, returns it with the remote message in err. `fd_out` (may be NULL)
 * receives a passed descriptor or -1.
 */
mt_status mt_rpc_client_call(mt_rpc_client *c, uint16_t method, const ProtobufCMessage *req,
                             const ProtobufCMessageDescriptor *reply_desc, int64_t timeout_ms,
                             ProtobufCMessage **reply_out, int *fd_out, mt_error *err);
/* Pipelining: send now, receive later (replies come back in order of arrival). */
mt_status mt_rpc_client_send(mt_rpc_client *c, uint16_t method, uint16_t flags,
                             const void *payload, size_t len, uint64_t *req_id_out, mt_error *err);
/* Receives the next frame; payload stays valid until the next receive. */
mt_status mt_rpc_client_recv(mt_rpc_client *c, int64_t timeout_ms, mt_rpc_msg *out, mt_error *err);
/* Whether a whole frame is already buffered (poll on the fd cannot tell). */
bool mt_rpc_client_buffered(const mt_rpc_client *c);
int mt_rpc_client_fd(const mt_rpc_client *c);
/* True when the peer has closed the connection (or it failed); never blocks. */
bool mt_rpc_client_peer_closed(const mt_rpc_client *c);
/* Whether the last mt_rpc_client_call got the peer's reply, success or error (else it was
 * lost on the way: the connection failed or the call timed out). */
bool mt_rpc_client_answered(const mt_rpc_client *c);
/* A reply that comes after its call gave up (timed out) goes to fn, from inside a later
 * mt_rpc_client_call on c (fn may send on c, not receive); without fn it is dropped. */
typedef void (*mt_rpc_client_stale_fn)(mt_rpc_client *c, const mt_rpc_msg *m, void *ud);
void mt_rpc_client_on_stale(mt_rpc_client *c, mt_rpc_client_stale_fn fn, void *ud);
/* Connects c again to its address (after its peer restarted); c is unchanged when that fails. */
mt_status mt_rpc_client_redial(mt_rpc_client *c, const uint8_t token[MT_RPC_TOKEN_BYTES], const char *client_kind,
                               mt_id client_id, int64_t timeout_ms, mt_error *err);
void mt_rpc_client_close(mt_rpc_client *c);

/* ---- Framed streams on a raw socket (stream.c) ---------------------------- */

/*
 * The same frames and the same authentication gate on a plain non-blocking
 * socket that the caller drives from its own poll loop: worker processes and
 * the driver's task-push connections, where a uv loop's wakeups would cost
 * more than the work. Server side, mt_rpc_stream_accept arms the gate: until
 * the peer's Auth frame has passed mt_rpc_stream_next (which answers it
 * itself), frames are capped at MT_RPC_PREAUTH_MAX_FRAME and
 * mt_rpc_stream_auth_expired tells when to close a silent peer.
 *
 * Threads: a stream belongs to one thread at a time. Invariants: off <= len
 * <= cap in both buffers; an open frame (mt_rpc_buf_begin_frame) is
 * addressed relative to `off`, which must not move while it is open, so
 * close it (mt_rpc_buf_patch_len) before flushing.
 */
typedef struct mt_rpc_buf {
    uint8_t *data;
    size_t off; /* consumed prefix */
    size_t len; /* end of valid bytes */
    size_t cap;
} mt_rpc_buf;

typedef struct mt_rpc_stream {
    int fd;                    /* -1 = none */
    mt_rpc_buf in, out;
    bool authed;               /* client streams: true once connected */
    int64_t auth_deadline_ns;  /* server: the peer must authenticate by then */
    const uint8_t *token;      /* server: the token peers must present (not owned) */
    mt_id server_id;           /* server: sent back in the AuthReply */
    mt_id peer_id;             /* server: the peer's client id, once authenticated */
} mt_rpc_stream;

/* Server side: takes an accepted socket (made non-blocking here) and arms the gate. */
void mt_rpc_stream_accept(mt_rpc_stream *s, int fd, const uint8_t token[MT_RPC_TOKEN_BYTES],
                          mt_id server_id, int64_t auth_timeout_ms);
/* Client side: connects to a unix address, authenticates (rpc_connect_timeout_ms), non-blocking after. */
mt_status mt_rpc_stream_connect(mt_rpc_stream *s, const char *address,
                                const uint8_t token[MT_RPC_TOKEN_BYTES], const char *kind,
                                mt_id client_id, mt_error *err);
/* Reads what the socket has (never blocks); *eof on peer close or a read error. */
mt_status mt_rpc_stream_fill(mt_rpc_stream *s, bool *eof, mt_error *err);
/* Writes what the socket takes (never blocks); MT_EIO when the peer is gone. */
mt_status mt_rpc_stream_flush(mt_rpc_stream *s, mt_error *err);
/*
 * The next whole frame of an authenticated peer into *msg (payload valid
 * until the next fill): 1. 0: need more bytes. -1: close the stream (a frame
 * over `max` bytes, a bad or refused Auth frame; logged). A server stream
 * answers the Auth frame itself and returns the frames after it.
 */
int mt_rpc_stream_next(mt_rpc_stream *s, size_t max, mt_rpc_msg *msg);
/* Server: true when the peer has not authenticated by its deadline. */
bool mt_rpc_stream_auth_expired(const mt_rpc_stream *s, int64_t now_ns);
/* Closes the socket and frees both buffers; the stream can be reused. */
void mt_rpc_stream_close(mt_rpc_stream *s);
/* The frame size limit (config rpc_max_frame_bytes, read once). */
size_t mt_rpc_max_frame(void);
/*
 * accept4 (non-blocking, close-on-exec) on a listening socket, shedding a
 * pending connection when out of descriptors (spare descriptor *spare, -1 =
 * none yet; logged, rate-limited) so the listener does not spin. Returns the
 * fd, or -1 with errno (EAGAIN when nothing is pending, EMFILE after shedding).
 */
int mt_rpc_accept(int lfd, int *spare, const char *where);

/* Buffers: room for `extra` more bytes (MT_ENOMEM), and release. */
mt_status mt_rpc_buf_reserve(mt_rpc_buf *b, size_t extra, mt_error *err);
void mt_rpc_buf_free(mt_rpc_buf *b);
/* Opens a frame at the end of `out`; *hdr_off_out (for patch_len) is relative to out->off. */
mt_status mt_rpc_buf_begin_frame(mt_rpc_buf *out, uint16_t method, uint16_t flags, uint64_t req_id,
                                 int32_t status, size_t *hdr_off_out, mt_error *err);
/* Closes the open frame: its header's length becomes everything after it. */
void mt_rpc_buf_patch_len(mt_rpc_buf *out, size_t hdr_off);
/* Appends protobuf field `field` (length-delimited) holding `msg` packed, or raw bytes: a
 * repeated field of an open frame grows by concatenation. */
mt_status mt_rpc_buf_append_field(mt_rpc_buf *out, uint32_t field, const ProtobufCMessage *msg,
                                  mt_error *err);
mt_status mt_rpc_buf_append_bytes(mt_rpc_buf *out, uint32_t field, const void *p, size_t n,
                                  mt_error *err);

/* ---- Helpers ------------------------------------------------------------- */

/* Encodes header + payload into a new buffer (mt_malloc) of *len_out bytes. */
mt_status mt_rpc_frame_encode(uint16_t method, uint16_t flags, uint64_t req_id, int32_t status,
                              const ProtobufCMessage *msg, uint8_t **out, size_t *len_out,
                              mt_error *err);
/* protobuf-c allocator backed by mt_malloc (pass to protobuf_c_message_unpack). */
extern ProtobufCAllocator mt_rpc_pb_allocator;

#endif /* MANTA_RPC_H */
