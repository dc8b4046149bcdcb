/*
 * rpc_int.h — declarations shared inside src/rpc: the frame header codec, a
 * growable byte buffer, socket helpers, and the async connection object that
 * conn.c (I/O), call.c (pending calls, timeouts), dial.c (client connect and
 * reconnect) and server.c (listen, accept, auth) all work on.
 *
 * Threads: everything on an mt__rpc_conn runs on its uv loop's thread.
 * Invariants: `out` holds complete encoded frames only; `fds` lists the
 * descriptors (dup'ed, owned) that travel with frames in `out`, in order.
 */
#ifndef MANTA_RPC_INT_H
#define MANTA_RPC_INT_H

#include <sys/types.h>

#include "rpc/rpc.h"

/* ---- Frame header (frame.c) ---------------------------------------------- */

typedef struct mt__rpc_hdr {
    uint32_t len;
    uint16_t method;
    uint16_t flags;
    uint64_t req_id;
    int32_t status;
} mt__rpc_hdr;

void mt__rpc_hdr_put(uint8_t *p, const mt__rpc_hdr *h);
void mt__rpc_hdr_get(const uint8_t *p, mt__rpc_hdr *h);
/* rpc_max_frame_bytes from the configuration, read once. */
size_t mt__rpc_max_frame(void);
/* Constant-time comparison of two tokens. */
bool mt__rpc_token_equal(const uint8_t *a, const uint8_t *b, size_t n);

/* Outcome of mt__rpc_frame_parse. */
typedef enum mt__rpc_frame_result {
    MT__RPC_FRAME_OK,       /* *out is the first frame; *need its size (header + payload) */
    MT__RPC_FRAME_NEED,     /* incomplete: *need is how many bytes the frame needs in all */
    MT__RPC_FRAME_OVERSIZE, /* the header's length (*need - header) exceeds max_frame: close */
    MT__RPC_FRAME_NO_FD,    /* flagged MT_RPC_FLAG_FD but no descriptor arrived: garbage */
} mt__rpc_frame_result;

/*
 * Decodes the frame at the front of received bytes p[0..have): the one
 * parser of the async (conn.c) and blocking (client.c) readers. Pure: on OK
 * out->payload points into p and out->fd is -1 (the caller hands it the
 * next received descriptor when the frame is flagged and fd_available).
 */
mt__rpc_frame_result mt__rpc_frame_parse(const uint8_t *p, size_t have, size_t max_frame,
                                         bool fd_available, mt_rpc_msg *out, size_t *need);
/*
 * The server's gate on the first frame of a connection: true when it is an
 * Auth request (not a reply, not one-way) whose AuthRequest decodes and
 * carries `token`; else false with the reason in why[cap]. Pure.
 */
bool mt__rpc_auth_check(const mt_rpc_msg *m, const uint8_t token[MT_RPC_TOKEN_BYTES], char *why,
                        size_t cap);
/* The client_id (MT_ID_SIZE bytes) of an Auth frame that passed the gate; false if absent. */
bool mt__rpc_auth_client_id(const mt_rpc_msg *m, mt_id *out);

/*
 * accept4 (non-blocking, close-on-exec) on a listening socket. When the
 * process is out of descriptors (EMFILE/ENFILE) the pending connection is
 * taken with the spare descriptor *spare (kept open on /dev/null; -1 = none
 * yet) and closed at once, so the listener does not stay readable and spin;
 * that is logged (rate-limited). Returns the fd, or -1 with errno (EAGAIN
 * when nothing is pending, EMFILE after shedding one).
 */
int mt__rpc_accept(int lfd, int *spare, const char *where);

/* ---- Byte buffer ---------------------------------------------------------- */

typedef mt_rpc_buf mt__rpc_buf; /* rpc.h */

/* Ensures room for `n` more bytes after len (compacting first); false on OOM. */
bool mt__rpc_buf_reserve(mt__rpc_buf *b, size_t n);
void mt__rpc_buf_free(mt__rpc_buf *b);
/*
 * Appends one frame (header + payload packed from `msg` or copied from
 * `raw`/`rawlen`) to `b`. Returns MT_ENOMEM / MT_ERANGE (oversize).
 */
mt_status mt__rpc_buf_frame(mt__rpc_buf *b, const mt__rpc_hdr *h, const ProtobufCMessage *msg,
                            const void *raw, size_t rawlen, mt_error *err);

/* ---- Sockets (addr.c) ----------------------------------------------------- */

/* Creates a non-blocking, close-on-exec socket and starts connecting; *inprogress tells EINPROGRESS. */
mt_status mt__rpc_sock_connect(const mt_rpc_addr *a, int *fd_out, bool *inprogress, mt_error *err);
/* Binds and listens; fills `bound` with the canonical address text. */
mt_status mt__rpc_sock_listen(const mt_rpc_addr *a, int *fd_out, char *bound, size_t boundcap,
                              mt_error *err);
void mt__rpc_sock_nodelay(int fd);
/* Formats an address as "tcp://host:port" or "unix://path". */
void mt__rpc_addr_format(const mt_rpc_addr *a, char *out, size_t cap);
/*
 * sendmsg of iov with, when fd >= 0, that descriptor attached (SCM_RIGHTS).
 * Returns bytes written, or -1 with errno.
 */
ssize_t mt__rpc_sendmsg(int sock, const void *buf, size_t len, int fd);
/*
 * recvmsg into buf; received descriptors are appended to fds[*nfds] (up to
 * cap; extras are closed). Returns bytes, 0 on EOF, -1 with errno.
 */
ssize_t mt__rpc_recvmsg(int sock, void *buf, size_t len, int *fds, int *nfds, int cap);

/* ---- Async connections ----------------------------------------------------- */

typedef struct mt__rpc_pending {
    uint64_t req_id; /* 0 = empty slot */
    uint64_t gen;    /* socket generation the call travels on */
    mt_rpc_reply_cb cb;
    void *ud;
    int64_t deadline_ms; /* 0 = none */
    int64_t timeout_ms;
    uint16_t method;
} mt__rpc_pending;

typedef struct mt__rpc_heap_ent {
    int64_t deadline_ms;
    uint64_t req_id;
} mt__rpc_heap_ent;

typedef struct mt__rpc_fdmark {
    uint64_t at; /* stream position (bytes ever queued) where the frame carrying `fd` starts */
    int fd;
} mt__rpc_fdmark;

typedef struct mt__rpc_sock {
    uv_poll_t poll;
    int fd;
    int events;
    struct mt_rpc_conn *conn; /* NULL once detached (closing) */
} mt__rpc_sock;

enum { RPC_ST_IDLE, RPC_ST_CONNECTING, RPC_ST_AUTHING, RPC_ST_READY, RPC_ST_CLOSED };

struct mt_rpc_conn {
    uv_loop_t *loop;
    mt__rpc_sock *sock;
    int state;
    bool closing;
    bool is_server;     /* accepted by a server */
    bool is_unix;
    bool reconnect;
    int handles_open;   /* embedded handles not yet closed */
    mt_rpc_handlers h;
    void *ud;
    char addr[300];
    mt_rpc_addr target;
    uint8_t token[MT_RPC_TOKEN_BYTES];
    char client_kind[32];
    mt_id client_id;
    int64_t connect_timeout_ms;
    int64_t backoff_ms;
    uint64_t gen;       /* generation of the current / next socket */
    int peer_pid;
    /* I/O */
    mt__rpc_buf in;
    mt__rpc_buf out;
    uint64_t out_pos;   /* bytes ever queued on this socket */
    uint64_t sent_pos;  /* bytes ever written */
    mt__rpc_fdmark *fds;
    size_t nfds, capfds;
    int rfds[16];       /* received descriptors not yet handed to a frame */
    int nrfds;
    uv_prepare_t flush;
    bool flush_armed;
    /* calls */
    uint64_t next_req;
    mt__rpc_pending *tab;
    size_t tabcap, tabn;
    unsigned tabbits;   /* log2(tabcap) */
    mt__rpc_heap_ent *heap;
    size_t heapn, heapcap;
    uv_timer_t call_timer;
    uv_timer_t dial_timer; /* connect timeout / reconnect backoff */
    /* server side */
    struct mt_rpc_server *server;
    struct mt_rpc_conn *srv_prev, *srv_next;
};

/* conn.c */
mt_rpc_conn *mt__rpc_conn_new(uv_loop_t *loop, const mt_rpc_handlers *h, void *ud);
mt_status mt__rpc_conn_attach(mt_rpc_conn *c, int fd, mt_error *err);
/* Closes the socket only (a connect attempt that failed), keeping queued output. */
void mt__rpc_conn_drop_sock(mt_rpc_conn *c);
/* Drops the socket and discards its unsent output and received descriptors. */
void mt__rpc_conn_detach(mt_rpc_conn *c);
void mt__rpc_conn_arm_flush(mt_rpc_conn *c);
void mt__rpc_conn_poll_events(mt_rpc_conn *c, int events);
mt_status mt__rpc_conn_queue(mt_rpc_conn *c, const mt__rpc_hdr *h, const ProtobufCMessage *msg,
                             const void *raw, size_t rawlen, int fd, mt_error *err);
/* Connected (socket writable after a non-blocking connect): dial.c. */
void mt__rpc_dial_connected(mt_rpc_conn *c);
void mt__rpc_dial_lost(mt_rpc_conn *c);
/* Closes (or, reconnecting, retries) c unless it authenticates within `ms`. */
void mt__rpc_dial_arm_timeout(mt_rpc_conn *c, int64_t ms);
void mt__rpc_dial_auth_reply(mt_rpc_conn *c, const mt_rpc_msg *m);
/* server.c: the first frame of an accepted connection. Returns false when it closed c. */
bool mt__rpc_server_auth(mt_rpc_conn *c, const mt_rpc_msg *m);
void mt__rpc_server_unlink(mt_rpc_conn *c);

/* call.c */
mt_status mt__rpc_calls_add(mt_rpc_conn *c, const mt__rpc_pending *p, mt_error *err);
/* Removes and returns the call with this id; false when unknown (late or stray reply). */
bool mt__rpc_calls_take(mt_rpc_conn *c, uint64_t req_id, mt__rpc_pending *out);
/* Completes every pending call of generation `gen` (or all when all=true) with MT_EIO. */
void mt__rpc_calls_fail(mt_rpc_conn *c, uint64_t gen, bool all);
void mt__rpc_calls_complete(mt_rpc_conn *c, const mt__rpc_pending *p, mt_status st,
                            const mt_rpc_msg *reply);
void mt__rpc_calls_free(mt_rpc_conn *c);
void mt__rpc_calls_timer_cb(uv_timer_t *t);

/* Registry of live rpc objects per uv loop (so mt_rpc_loop_stop closes them). */
typedef struct mt__rpc_obj mt__rpc_obj;
void mt__rpc_registry_add(uv_loop_t *loop, void *obj, void (*close)(void *));
void mt__rpc_registry_remove(void *obj);
/* Closes every registered object on `loop` (loop thread). */
void mt__rpc_registry_close_loop(uv_loop_t *loop);

#endif /* MANTA_RPC_INT_H */
