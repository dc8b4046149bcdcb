/* Tests of the rpc transport end to end: a server on its own loop thread,
 * blocking and async clients over unix sockets and TCP; echo, pipelining,
 * authentication failures, garbage, timeouts, late replies, reconnect, fd
 * passing, error replies, connection loss, port 0. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/common.pb-c.h"
#include "rpc/rpc.h"

enum { M_ECHO = 900, M_FAIL = 901, M_HOLD = 902, M_FD = 903, M_LATE = 904, M_DROP = 905 };

static uint8_t token[MT_RPC_TOKEN_BYTES];
static mt_rpc_loop *sloop;   /* server loop */
static mt_rpc_server *server;
static char saddr[512];
static int accepts, peer_pid_seen;

typedef struct late_reply {
    uv_timer_t t;
    mt_rpc_conn *c;
    mt_rpc_msg req;
} late_reply;

static void late_fire(uv_timer_t *t)
{
    late_reply *l = t->data;
    mt_rpc_reply_raw(l->c, &l->req, MT_OK, "late", 4, NULL);
    uv_close((uv_handle_t *)t, (uv_close_cb)mt_free);
}

static void on_request(mt_rpc_conn *c, const mt_rpc_msg *m, void *ud)
{
    (void)ud;
    switch (m->method) {
    case M_ECHO: mt_rpc_reply_raw(c, m, MT_OK, m->payload, m->len, NULL); break;
    case M_FAIL: mt_rpc_reply(c, m, MT_ENOTFOUND, NULL, "no such thing", -1, NULL); break;
    case M_HOLD: break; /* never answered */
    case M_FD: {
        int fd = memfd_create("rpc-test", MFD_CLOEXEC);
        cr_assert_eq(write(fd, "hello fd", 8), 8);
        mt_rpc_reply(c, m, MT_OK, NULL, "", fd, NULL);
        close(fd); /* the transport keeps its own copy until sent */
        break;
    }
    case M_LATE: {
        late_reply *l = mt_calloc(1, sizeof *l);
        l->c = c;
        l->req = *m;
        l->req.payload = NULL;
        l->req.len = 0;
        uv_timer_init(mt_rpc_loop_uv(sloop), &l->t);
        l->t.data = l;
        uv_timer_start(&l->t, late_fire, 150, 0);
        break;
    }
    case M_DROP: mt_rpc_conn_close(c); break; /* close from inside a callback */
    default: mt_rpc_reply(c, m, MT_EUNSUPPORTED, NULL, "unknown method", -1, NULL);
    }
    if (m->fd >= 0) close(m->fd);
}

static void on_accept(mt_rpc_conn *c, const mt_rpc_msg *auth, void *ud)
{
    (void)auth;
    (void)ud;
    __atomic_add_fetch(&accepts, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&peer_pid_seen, mt_rpc_conn_peer_pid(c), __ATOMIC_SEQ_CST);
}

/* Runs fn(arg) on the loop thread and waits for it. */
typedef struct onloop {
    void (*fn)(void *);
    void *arg;
    sem_t done;
} onloop;
static void onloop_run(void *p)
{
    onloop *o = p;
    o->fn(o->arg);
    sem_post(&o->done);
}
static void run_on(mt_rpc_loop *l, void (*fn)(void *), void *arg)
{
    onloop o = {.fn = fn, .arg = arg};
    sem_init(&o.done, 0, 0);
    cr_assert_eq(mt_rpc_loop_post(l, onloop_run, &o, NULL), MT_OK);
    sem_wait(&o.done);
    sem_destroy(&o.done);
}

static const char *listen_at;
static void do_listen(void *arg)
{
    (void)arg;
    mt_rpc_handlers h = {on_request, NULL, on_accept};
    mt_error err;
    mt_status st = mt_rpc_server_listen(mt_rpc_loop_uv(sloop), listen_at, token, &h, NULL, &server, &err);
    cr_assert_eq(st, MT_OK, "%s", err.msg);
    snprintf(saddr, sizeof saddr, "%s", mt_rpc_server_address(server));
}
static void do_close_server(void *arg)
{
    (void)arg;
    mt_rpc_server_close(server);
    server = NULL;
}

static char unix_addr[300];

static void start_server(const char *addr)
{
    if (!sloop) cr_assert_eq(mt_rpc_loop_start("srv", &sloop, NULL), MT_OK);
    listen_at = addr;
    run_on(sloop, do_listen, NULL);
}

static int64_t live_at_start;

static void setup(void)
{
    (void)mt_config_int64("rpc_max_frame_bytes");
    mt_alloc_stats as;
    mt_alloc_get_stats(&as);
    live_at_start = as.live_allocations;
    mt_log_set_level(MT_LOG_ERROR);
    for (int i = 0; i < MT_RPC_TOKEN_BYTES; i++) token[i] = (uint8_t)(i * 7 + 1);
    snprintf(unix_addr, sizeof unix_addr, "unix://%s/rpc-%d.sock", MT_BINARY_DIR, (int)getpid());
    if (strlen(unix_addr) > 100) snprintf(unix_addr, sizeof unix_addr, "unix:///tmp/rpc-%d.sock", (int)getpid());
    accepts = 0;
}

/* Stops the loops, then checks that nothing the test made is still allocated. */
static void teardown(void)
{
    mt_rpc_loop_stop(sloop); /* closes the server and its connections */
    sloop = NULL;
    server = NULL;
    mt_alloc_stats as;
    mt_alloc_get_stats(&as);
    cr_assert_eq(as.live_allocations, live_at_start, "leaked %lld allocations",
                 (long long)(as.live_allocations - live_at_start));
}

static void echo_blocking(const char *addr)
{
    mt_rpc_client *cl;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(addr, token, "test", 2000, &cl, &err), MT_OK, "%s", err.msg);
    uint64_t id;
    cr_assert_eq(mt_rpc_client_send(cl, M_ECHO, 0, "ping", 4, &id, &err), MT_OK);
    mt_rpc_msg m;
    cr_assert_eq(mt_rpc_client_recv(cl, 2000, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.req_id, id);
    cr_assert_eq(m.method, M_ECHO);
    cr_assert_eq(m.flags, MT_RPC_FLAG_REPLY);
    cr_assert_eq(m.status, 0);
    cr_assert_eq(m.len, 4);
    cr_assert_eq(memcmp(m.payload, "ping", 4), 0);
    /* typed call: the echo of a Status decodes as the same Status */
    Manta__Status s = MANTA__STATUS__INIT, *r = NULL;
    s.status = 7;
    s.message = "typed";
    cr_assert_eq(mt_rpc_client_call(cl, M_ECHO, &s.base, &manta__status__descriptor, 2000,
                                    (ProtobufCMessage **)&r, NULL, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(r->status, 7);
    cr_assert_str_eq(r->message, "typed");
    protobuf_c_message_free_unpacked(&r->base, &mt_rpc_pb_allocator);
    mt_rpc_client_close(cl);
}

static void noop(void) {}
TestSuite(transport, .init = setup, .fini = noop);

Test(transport, echo_over_unix)
{
    start_server(unix_addr);
    cr_assert_str_eq(saddr, unix_addr);
    echo_blocking(unix_addr);
    cr_assert_eq(__atomic_load_n(&peer_pid_seen, __ATOMIC_SEQ_CST), getpid());
    teardown();
}

Test(transport, echo_over_tcp_with_port_zero)
{
    start_server("tcp://127.0.0.1:0");
    cr_assert_eq(strncmp(saddr, "tcp://127.0.0.1:", 16), 0, "%s", saddr);
    int port = atoi(saddr + 16);
    cr_assert(port > 0 && port < 65536, "%s", saddr);
    echo_blocking(saddr);
    cr_assert_eq(__atomic_load_n(&peer_pid_seen, __ATOMIC_SEQ_CST), -1);
    teardown();
}

Test(transport, ten_thousand_pipelined_blocking)
{
    start_server(unix_addr);
    mt_rpc_client *cl;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(unix_addr, token, "test", 2000, &cl, &err), MT_OK);
    uint64_t first = 0;
    for (uint32_t i = 0; i < 10000; i++) {
        uint64_t id;
        cr_assert_eq(mt_rpc_client_send(cl, M_ECHO, 0, &i, sizeof i, &id, &err), MT_OK);
        if (i == 0) first = id;
    }
    for (uint32_t i = 0; i < 10000; i++) {
        mt_rpc_msg m;
        cr_assert_eq(mt_rpc_client_recv(cl, 5000, &m, &err), MT_OK, "%s", err.msg);
        uint32_t v;
        cr_assert_eq(m.len, 4);
        memcpy(&v, m.payload, 4);
        cr_assert_eq(v, i);
        cr_assert_eq(m.req_id, first + i);
    }
    mt_rpc_client_close(cl);
    teardown();
}

/* The blocking client tells that its server went away without blocking, and dials the new one in place. */
Test(transport, a_blocking_client_sees_its_peer_close_and_dials_again_in_place)
{
    start_server(unix_addr);
    mt_rpc_client *cl;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(unix_addr, token, "test", 2000, &cl, &err), MT_OK, "%s", err.msg);
    cr_assert_not(mt_rpc_client_peer_closed(cl));
    mt_rpc_loop_stop(sloop); /* the server and its connections close */
    sloop = NULL;
    server = NULL;
    bool closed = false;
    for (int i = 0; i < 200 && !(closed = mt_rpc_client_peer_closed(cl)); i++) usleep(5000);
    cr_assert(closed, "the client did not see its server close");
    mt_rpc_client *same = cl;
    cr_assert_neq(mt_rpc_client_redial(cl, token, "test", mt_id_random(), 500, &err), MT_OK, "nothing listens yet");
    cr_assert(mt_rpc_client_peer_closed(cl), "a failed redial leaves the client as it was");
    start_server(unix_addr);
    cr_assert_eq(mt_rpc_client_redial(cl, token, "test", mt_id_random(), 2000, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(cl, same);
    cr_assert_not(mt_rpc_client_peer_closed(cl));
    uint64_t id;
    cr_assert_eq(mt_rpc_client_send(cl, M_ECHO, 0, "ping", 4, &id, &err), MT_OK);
    mt_rpc_msg m;
    cr_assert_eq(mt_rpc_client_recv(cl, 2000, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.req_id, id);
    cr_assert_eq(memcmp(m.payload, "ping", 4), 0);
    mt_rpc_client_close(cl);
    teardown();
}

Test(transport, bad_token_closes_only_that_client)
{
    start_server(unix_addr);
    uint8_t bad[MT_RPC_TOKEN_BYTES];
    memcpy(bad, token, sizeof bad);
    bad[31] ^= 1;
    mt_rpc_client *cl = NULL;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(unix_addr, bad, "test", 2000, &cl, &err), MT_EIO);
    cr_assert_null(cl);
    char want[400];
    snprintf(want, sizeof want, "authenticating: connection to %s lost", unix_addr);
    cr_assert_str_eq(err.msg, want);
    echo_blocking(unix_addr);
    cr_assert_eq(__atomic_load_n(&accepts, __ATOMIC_SEQ_CST), 1);
    teardown();
}

/* Connects a raw socket, writes `bytes`, returns true when the server closed it. */
static bool raw_closed_after(const char *path, const void *bytes, size_t n)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(path), sizeof un.sun_path);
    memcpy(un.sun_path, path, strlen(path) + 1);
    cr_assert_eq(connect(fd, (struct sockaddr *)&un, sizeof un), 0);
    cr_assert_eq(write(fd, bytes, n), (ssize_t)n);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[64];
    ssize_t r = read(fd, b, sizeof b);
    close(fd);
    return r == 0;
}

Test(transport, garbage_oversize_and_non_auth_frames_close_the_connection)
{
    start_server(unix_addr);
    const char *path = unix_addr + 7;
    uint8_t garbage[64];
    memset(garbage, 0xff, sizeof garbage);
    cr_assert(raw_closed_after(path, garbage, sizeof garbage)); /* length 0xffffffff: oversize */
    uint8_t *f;
    size_t n;
    Manta__Status s = MANTA__STATUS__INIT;
    cr_assert_eq(mt_rpc_frame_encode(M_ECHO, 0, 1, 0, &s.base, &f, &n, NULL), MT_OK);
    cr_assert(raw_closed_after(path, f, n)); /* a request before Auth */
    mt_free(f);
    cr_assert_eq(mt_rpc_frame_encode(MT_RPC_METHOD_AUTH, 0, 0, 0, NULL, &f, &n, NULL), MT_OK);
    memcpy(f + 24 - 24, "\x03\x00\x00\x00", 4); /* claims 3 payload bytes: "\xff\xff\xff" */
    uint8_t bad[27];
    memcpy(bad, f, 24);
    memset(bad + 24, 0xff, 3);
    cr_assert(raw_closed_after(path, bad, sizeof bad)); /* undecodable AuthRequest */
    mt_free(f);
    echo_blocking(unix_addr);
    teardown();
}

Test(transport, error_reply_carries_status_and_message)
{
    start_server(unix_addr);
    mt_rpc_client *cl;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(unix_addr, token, "test", 2000, &cl, &err), MT_OK);
    Manta__Status s = MANTA__STATUS__INIT, *r = NULL;
    cr_assert_eq(mt_rpc_client_call(cl, M_FAIL, &s.base, &manta__status__descriptor, 2000,
                                    (ProtobufCMessage **)&r, NULL, &err), MT_ENOTFOUND);
    cr_assert_null(r);
    cr_assert_str_eq(err.msg, "no such thing");
    cr_assert_eq(err.code, MT_ENOTFOUND);
    cr_assert_eq(mt_rpc_client_call(cl, 999, &s.base, NULL, 2000, NULL, NULL, &err), MT_EUNSUPPORTED);
    cr_assert_str_eq(err.msg, "unknown method");
    mt_rpc_client_close(cl);
    teardown();
}

Test(transport, blocking_call_timeout)
{
    start_server(unix_addr);
    mt_rpc_client *cl;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(unix_addr, token, "test", 2000, &cl, &err), MT_OK);
    Manta__Status s = MANTA__STATUS__INIT;
    int64_t t0 = mt_time_now_ns();
    cr_assert_eq(mt_rpc_client_call(cl, M_HOLD, &s.base, NULL, 50, NULL, NULL, &err), MT_ETIMEOUT);
    int64_t ms = (mt_time_now_ns() - t0) / 1000000;
    cr_assert(ms >= 49 && ms < 1000, "%lld", (long long)ms);
    char want[400];
    snprintf(want, sizeof want, "call 902 to %s timed out after 50 ms", unix_addr);
    cr_assert_str_eq(err.msg, want);
    mt_rpc_client_close(cl);
    teardown();
}

typedef struct stale_seen {
    int n;
    uint16_t method;
    char payload[8];
} stale_seen;

static void on_stale(mt_rpc_client *c, const mt_rpc_msg *m, void *ud)
{
    (void)c;
    stale_seen *s = ud;
    s->n++;
    s->method = m->method;
    snprintf(s->payload, sizeof s->payload, "%.*s", (int)m->len, (const char *)m->payload);
}

/* A call that gave up is not "answered"; its reply, when it comes, goes to the stale hook. */
Test(transport, a_reply_after_its_call_gave_up_goes_to_the_stale_hook)
{
    start_server(unix_addr);
    mt_rpc_client *cl;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(unix_addr, token, "test", 2000, &cl, &err), MT_OK);
    stale_seen seen = {0};
    mt_rpc_client_on_stale(cl, on_stale, &seen);
    Manta__Status s = MANTA__STATUS__INIT;
    cr_assert_eq(mt_rpc_client_call(cl, M_LATE, &s.base, NULL, 50, NULL, NULL, &err), MT_ETIMEOUT);
    cr_assert_not(mt_rpc_client_answered(cl), "a call that timed out was answered");
    cr_assert_eq(mt_rpc_client_call(cl, M_FAIL, &s.base, NULL, 2000, NULL, NULL, &err), MT_ENOTFOUND);
    cr_assert(mt_rpc_client_answered(cl), "an error reply is an answer");
    usleep(200 * 1000); /* the late reply (150 ms) is on its way */
    cr_assert_eq(mt_rpc_client_call(cl, M_FAIL, &s.base, NULL, 2000, NULL, NULL, &err), MT_ENOTFOUND);
    cr_assert_eq(seen.n, 1, "the late reply reached the hook %d times", seen.n);
    cr_assert_eq(seen.method, M_LATE);
    cr_assert_str_eq(seen.payload, "late");
    mt_rpc_client_close(cl);
    teardown();
}

Test(transport, fd_passing_blocking)
{
    start_server(unix_addr);
    mt_rpc_client *cl;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(unix_addr, token, "test", 2000, &cl, &err), MT_OK);
    Manta__Status s = MANTA__STATUS__INIT;
    for (int round = 0; round < 3; round++) {
        int fd = -1;
        cr_assert_eq(mt_rpc_client_call(cl, M_FD, &s.base, NULL, 2000, NULL, &fd, &err), MT_OK, "%s", err.msg);
        cr_assert_geq(fd, 0);
        char buf[16] = {0};
        cr_assert_eq(pread(fd, buf, sizeof buf, 0), 8);
        cr_assert_str_eq(buf, "hello fd");
        close(fd);
    }
    mt_rpc_client_close(cl);
    teardown();
}

/* ---- async connections -------------------------------------------------- */

static mt_rpc_loop *cloop; /* client loop */
static mt_rpc_conn *conn;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
typedef struct result {
    int n;           /* callbacks seen */
    mt_status st;
    char text[256];  /* Status message of failures, or the payload */
    uint32_t order[10000];
    int closes;
} result;
static result res;

static void reply_cb(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *r, void *ud)
{
    (void)c;
    pthread_mutex_lock(&mu);
    int i = res.n++;
    res.st = st;
    res.text[0] = 0;
    if (st != MT_OK) {
        Manta__Status *s = manta__status__unpack(&mt_rpc_pb_allocator, r->len, r->payload);
        if (s) {
            snprintf(res.text, sizeof res.text, "%s", s->message);
            cr_assert_eq(s->status, (int32_t)st);
            manta__status__free_unpacked(s, &mt_rpc_pb_allocator);
        }
    } else if (r->fd >= 0) {
        ssize_t k = pread(r->fd, res.text, sizeof res.text - 1, 0);
        res.text[k > 0 ? k : 0] = 0;
        close(r->fd);
    } else if (r->len == 4 && i < 10000) {
        memcpy(&res.order[i], r->payload, 4);
    } else {
        snprintf(res.text, sizeof res.text, "%.*s", (int)r->len, (const char *)r->payload);
    }
    (void)ud;
    pthread_mutex_unlock(&mu);
}

static void on_close_cb(mt_rpc_conn *c, void *ud)
{
    (void)c;
    (void)ud;
    pthread_mutex_lock(&mu);
    res.closes++;
    pthread_mutex_unlock(&mu);
}

static bool reconnect_opt;
static void do_connect(void *arg)
{
    mt_rpc_connect_options o = {.client_kind = "test", .reconnect = reconnect_opt};
    mt_rpc_handlers h = {.on_close = on_close_cb};
    mt_error err;
    cr_assert_eq(mt_rpc_connect(mt_rpc_loop_uv(cloop), arg, token, &o, &h, NULL, &conn, &err), MT_OK, "%s", err.msg);
}

typedef struct callreq {
    uint16_t method;
    int64_t timeout;
    const void *p;
    size_t n;
    mt_status st;
} callreq;
static void do_call(void *arg)
{
    callreq *q = arg;
    q->st = mt_rpc_call_raw(conn, q->method, q->p, q->n, q->timeout, reply_cb, NULL, NULL);
}
static void call_async(uint16_t method, const void *p, size_t n, int64_t timeout)
{
    callreq q = {method, timeout, p, n, MT_OK};
    run_on(cloop, do_call, &q);
    cr_assert_eq(q.st, MT_OK);
}
static void do_pipeline(void *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < 10000; i++) {
        uint32_t v = i;
        cr_assert_eq(mt_rpc_call_raw(conn, M_ECHO, &v, 4, 5000, reply_cb, NULL, NULL), MT_OK);
    }
}
/* Waits until `n` callbacks were seen (or 5 s). */
static int wait_n(int n)
{
    for (int i = 0; i < 5000; i++) {
        pthread_mutex_lock(&mu);
        int k = res.n;
        pthread_mutex_unlock(&mu);
        if (k >= n) return k;
        usleep(1000);
    }
    return -1;
}

static void async_setup(void)
{
    setup();
    memset(&res, 0, sizeof res);
    reconnect_opt = false;
    cr_assert_eq(mt_rpc_loop_start("cli", &cloop, NULL), MT_OK);
}
static void async_teardown(void)
{
    mt_rpc_loop_stop(cloop); /* closes the connection: on_close, no leaks */
    cloop = NULL;
    conn = NULL;
    teardown();
}

TestSuite(async, .init = async_setup, .fini = noop);

Test(async, ten_thousand_pipelined_calls_answered_in_order)
{
    start_server(unix_addr);
    run_on(cloop, do_connect, unix_addr);
    run_on(cloop, do_pipeline, NULL); /* queued before the connection is even up */
    cr_assert_eq(wait_n(10000), 10000);
    cr_assert_eq(res.st, MT_OK);
    for (uint32_t i = 0; i < 10000; i++) cr_assert_eq(res.order[i], i, "reply %u", i);
    async_teardown();
}

Test(async, echo_and_error_over_tcp)
{
    start_server("tcp://127.0.0.1:0");
    run_on(cloop, do_connect, saddr);
    call_async(M_ECHO, "abcdefgh", 8, 2000);
    cr_assert_eq(wait_n(1), 1);
    cr_assert_str_eq(res.text, "abcdefgh");
    call_async(M_FAIL, "", 0, 2000);
    cr_assert_eq(wait_n(2), 2);
    cr_assert_eq(res.st, MT_ENOTFOUND);
    cr_assert_str_eq(res.text, "no such thing");
    async_teardown();
}

Test(async, timeout_then_late_reply_is_dropped)
{
    start_server(unix_addr);
    run_on(cloop, do_connect, unix_addr);
    call_async(M_LATE, "", 0, 30);
    cr_assert_eq(wait_n(1), 1);
    cr_assert_eq(res.st, MT_ETIMEOUT);
    char want[400];
    snprintf(want, sizeof want, "call 904 to %s timed out after 30 ms", unix_addr);
    cr_assert_str_eq(res.text, want);
    usleep(300 * 1000); /* the late reply arrives now and must be ignored */
    call_async(M_ECHO, "next!", 5, 2000);
    cr_assert_eq(wait_n(2), 2);
    usleep(50 * 1000);
    cr_assert_eq(res.n, 2);
    cr_assert_eq(res.st, MT_OK);
    cr_assert_str_eq(res.text, "next!");
    async_teardown();
}

Test(async, connection_loss_fails_in_flight_calls_once)
{
    start_server(unix_addr);
    run_on(cloop, do_connect, unix_addr);
    call_async(M_HOLD, "", 0, 0);
    call_async(M_HOLD, "", 0, 0);
    call_async(M_DROP, "", 0, 0); /* the server closes the connection from its handler */
    cr_assert_eq(wait_n(3), 3);
    usleep(50 * 1000);
    cr_assert_eq(res.n, 3);
    cr_assert_eq(res.st, MT_EIO);
    char want[400];
    snprintf(want, sizeof want, "connection to %s lost", unix_addr);
    cr_assert_str_eq(res.text, want);
    cr_assert_eq(res.closes, 1);
    async_teardown();
}

Test(async, fd_passing)
{
    start_server(unix_addr);
    run_on(cloop, do_connect, unix_addr);
    call_async(M_FD, "", 0, 2000);
    cr_assert_eq(wait_n(1), 1);
    cr_assert_eq(res.st, MT_OK);
    cr_assert_str_eq(res.text, "hello fd");
    async_teardown();
}

static void do_close_conn(void *arg)
{
    (void)arg;
    mt_rpc_conn_close(conn);
    conn = NULL;
}

Test(async, close_with_calls_in_flight)
{
    start_server(unix_addr);
    run_on(cloop, do_connect, unix_addr);
    call_async(M_HOLD, "", 0, 1000);
    call_async(M_ECHO, "x", 1, 1000);
    run_on(cloop, do_close_conn, NULL);
    cr_assert_geq(wait_n(2), 1);
    cr_assert_eq(res.closes, 1);
    cr_assert_eq(res.n, 2);
    cr_assert_eq(res.st, MT_EIO);
    async_teardown();
}

Test(async, reconnects_after_server_restart)
{
    start_server(unix_addr);
    reconnect_opt = true;
    run_on(cloop, do_connect, unix_addr);
    call_async(M_ECHO, "one", 3, 2000);
    cr_assert_eq(wait_n(1), 1);
    cr_assert_str_eq(res.text, "one");
    call_async(M_HOLD, "", 0, 0);
    run_on(sloop, do_close_server, NULL);
    cr_assert_eq(wait_n(2), 2); /* the held call fails with the lost connection */
    cr_assert_eq(res.st, MT_EIO);
    usleep(30 * 1000);
    start_server(unix_addr);
    int seen = 2;
    for (int tries = 0; tries < 100; tries++) {
        call_async(M_ECHO, "two", 3, 2000);
        seen++;
        cr_assert_eq(wait_n(seen), seen);
        if (res.st == MT_OK) break;
        usleep(20 * 1000);
    }
    cr_assert_eq(res.st, MT_OK);
    cr_assert_str_eq(res.text, "two");
    cr_assert_eq(res.closes, 0);
    cr_assert_eq(__atomic_load_n(&accepts, __ATOMIC_SEQ_CST), 2);
    async_teardown();
}

Test(transport, silent_client_is_closed_after_the_auth_timeout)
{
    mt_error err;
    cr_assert_eq(mt_config_set("rpc_connect_timeout_ms", "100", &err), MT_OK);
    start_server(unix_addr);
    int64_t t0 = mt_time_now_ns();
    cr_assert(raw_closed_after(unix_addr + 7, "", 0));
    int64_t ms = (mt_time_now_ns() - t0) / 1000000;
    cr_assert(ms >= 90 && ms < 2000, "%lld", (long long)ms);
    echo_blocking(unix_addr);
    teardown();
}

Test(transport, eight_megabyte_frames_echo_intact)
{
    start_server(unix_addr);
    mt_rpc_client *cl;
    mt_error err;
    cr_assert_eq(mt_rpc_client_connect(unix_addr, token, "test", 2000, &cl, &err), MT_OK);
    size_t n = 8u << 20;
    uint8_t *big = mt_malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (uint8_t)(i * 31 + (i >> 13));
    for (int round = 0; round < 2; round++) {
        uint64_t id;
        cr_assert_eq(mt_rpc_client_send(cl, M_ECHO, 0, big, n, &id, &err), MT_OK, "%s", err.msg);
        mt_rpc_msg m;
        cr_assert_eq(mt_rpc_client_recv(cl, 5000, &m, &err), MT_OK, "%s", err.msg);
        cr_assert_eq(m.req_id, id);
        cr_assert_eq(m.len, n);
        cr_assert_eq(memcmp(m.payload, big, n), 0);
    }
    mt_free(big);
    mt_rpc_client_close(cl);
    teardown();
}
