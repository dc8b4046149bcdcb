/* Framed streams on raw sockets (rpc.h mt_rpc_stream): the server-side gate
 * (pre-auth cap, token check, deadline, AuthReply), connect + auth, and
 * in-place frame building — the transport of the driver<->worker path. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

static uint8_t g_token[MT_RPC_TOKEN_BYTES];

static void init_token(void)
{
    for (int i = 0; i < MT_RPC_TOKEN_BYTES; i++) g_token[i] = (uint8_t)(7 * i + 1);
}

/* Writes an Auth frame with `token` and client id byte `who` to fd. */
static void send_auth_raw(int fd, const uint8_t *token, uint8_t who)
{
    mt_id id;
    memset(id.bytes, who, MT_ID_SIZE);
    Manta__AuthRequest ar = MANTA__AUTH_REQUEST__INIT;
    ar.token.data = (uint8_t *)token;
    ar.token.len = MT_RPC_TOKEN_BYTES;
    ar.client_kind = "test";
    ar.client_id.data = id.bytes;
    ar.client_id.len = MT_ID_SIZE;
    mt_rpc_buf b = {0};
    mt__rpc_hdr h = {0, MT_RPC_METHOD_AUTH, 0, 5, 0};
    cr_assert_eq(mt__rpc_buf_frame(&b, &h, &ar.base, NULL, 0, NULL), MT_OK);
    cr_assert_eq(write(fd, b.data, b.len), (ssize_t)b.len);
    mt_rpc_buf_free(&b);
}

static int pump(mt_rpc_stream *s, mt_rpc_msg *m)
{
    bool eof = false;
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    poll(&p, 1, 2000);
    cr_assert_eq(mt_rpc_stream_fill(s, &eof, NULL), MT_OK);
    return mt_rpc_stream_next(s, 1 << 20, m);
}

Test(stream, the_gate_refuses_a_big_frame_before_auth)
{
    init_token();
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    mt_rpc_stream s;
    mt_id me = {{1}};
    mt_rpc_stream_accept(&s, sv[0], g_token, me, 10000);
    uint8_t hdr[MT_RPC_HEADER_BYTES];
    mt__rpc_hdr h = {256u << 20, MT_RPC_METHOD_AUTH, 0, 1, 0}; /* claims 256 MiB */
    mt__rpc_hdr_put(hdr, &h);
    cr_assert_eq(write(sv[1], hdr, sizeof hdr), (ssize_t)sizeof hdr);
    mt_rpc_msg m;
    cr_assert_eq(pump(&s, &m), -1);
    cr_assert_lt(s.in.cap, 1 << 20, "nothing near the claimed size was reserved");
    mt_rpc_stream_close(&s);
    close(sv[1]);
}

Test(stream, the_gate_refuses_a_wrong_token_and_frames_before_auth)
{
    init_token();
    uint8_t other[MT_RPC_TOKEN_BYTES] = {0};
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    mt_rpc_stream s;
    mt_rpc_stream_accept(&s, sv[0], g_token, (mt_id){{1}}, 10000);
    send_auth_raw(sv[1], other, 3);
    mt_rpc_msg m;
    cr_assert_eq(pump(&s, &m), -1);
    cr_assert(!s.authed);
    mt_rpc_stream_close(&s);
    close(sv[1]);

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    mt_rpc_stream_accept(&s, sv[0], g_token, (mt_id){{1}}, 10000);
    uint8_t buf[64];
    mt__rpc_hdr h = {2, 300, MT_RPC_FLAG_ONEWAY, 1, 0}; /* a task push before Auth */
    mt__rpc_hdr_put(buf, &h);
    cr_assert_eq(write(sv[1], buf, MT_RPC_HEADER_BYTES + 2), MT_RPC_HEADER_BYTES + 2);
    cr_assert_eq(pump(&s, &m), -1);
    mt_rpc_stream_close(&s);
    close(sv[1]);
}

Test(stream, auth_is_answered_and_later_frames_come_through)
{
    init_token();
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    mt_rpc_stream s;
    mt_id me;
    memset(me.bytes, 0xab, MT_ID_SIZE);
    mt_rpc_stream_accept(&s, sv[0], g_token, me, 0);
    cr_assert(mt_rpc_stream_auth_expired(&s, mt_time_now_ns()), "a zero timeout expires at once");
    send_auth_raw(sv[1], g_token, 9);
    uint8_t buf[64];
    mt__rpc_hdr h = {5, 300, MT_RPC_FLAG_ONEWAY, 2, 0};
    mt__rpc_hdr_put(buf, &h);
    memcpy(buf + MT_RPC_HEADER_BYTES, "hello", 5);
    cr_assert_eq(write(sv[1], buf, MT_RPC_HEADER_BYTES + 5), MT_RPC_HEADER_BYTES + 5);
    mt_rpc_msg m;
    int r = pump(&s, &m);
    if (r == 0) r = pump(&s, &m);
    cr_assert_eq(r, 1);
    cr_assert(s.authed);
    cr_assert(!mt_rpc_stream_auth_expired(&s, mt_time_now_ns()));
    cr_assert_eq(m.method, 300);
    cr_assert_eq(m.len, 5);
    cr_assert_eq(memcmp(m.payload, "hello", 5), 0);
    cr_assert_eq(s.peer_id.bytes[0], 9);
    cr_assert_eq(s.peer_id.bytes[MT_ID_SIZE - 1], 9);
    /* The AuthReply is queued with our id. */
    cr_assert_eq(mt_rpc_stream_flush(&s, NULL), MT_OK);
    uint8_t rep[256];
    ssize_t n = read(sv[1], rep, sizeof rep);
    cr_assert_gt(n, MT_RPC_HEADER_BYTES);
    mt__rpc_hdr rh;
    mt__rpc_hdr_get(rep, &rh);
    cr_assert_eq(rh.method, MT_RPC_METHOD_AUTH);
    cr_assert_eq(rh.flags, MT_RPC_FLAG_REPLY);
    cr_assert_eq(rh.req_id, 5);
    Manta__AuthReply *ar = manta__auth_reply__unpack(NULL, rh.len, rep + MT_RPC_HEADER_BYTES);
    cr_assert_not_null(ar);
    cr_assert_eq(ar->server_id.len, MT_ID_SIZE);
    cr_assert_eq(ar->server_id.data[0], 0xab);
    manta__auth_reply__free_unpacked(ar, NULL);
    mt_rpc_stream_close(&s);
    close(sv[1]);
}

/* ---- connect + frames built in place ---- */

typedef struct server_arg {
    int lfd;
    int got_fields;
    char got[64];
} server_arg;

static void *serve_one(void *p)
{
    server_arg *a = p;
    int fd = accept(a->lfd, NULL, NULL);
    mt_rpc_stream s;
    mt_rpc_stream_accept(&s, fd, g_token, (mt_id){{2}}, 5000);
    for (int i = 0; i < 200; i++) {
        mt_rpc_msg m;
        bool eof = false;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        poll(&pf, 1, 50);
        mt_rpc_stream_fill(&s, &eof, NULL);
        int r = mt_rpc_stream_next(&s, 1 << 20, &m);
        mt_rpc_stream_flush(&s, NULL); /* the AuthReply */
        if (r == 1) {
            /* two length-delimited field-1 entries: "ab" and "cde" */
            const uint8_t *q = m.payload, *end = m.payload + m.len;
            while (q < end && q[0] == 0x0a) {
                memcpy(a->got + strlen(a->got), q + 2, q[1]);
                q += 2 + q[1];
                a->got_fields++;
            }
            break;
        }
        if (r < 0 || eof) break;
    }
    mt_rpc_stream_close(&s);
    return NULL;
}

Test(stream, connect_authenticates_and_frames_grow_by_field_appends)
{
    init_token();
    char path[108];
    snprintf(path, sizeof path, "/tmp/manta-stream-%d.sock", (int)getpid());
    unlink(path);
    server_arg a = {.lfd = socket(AF_UNIX, SOCK_STREAM, 0)};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    cr_assert_eq(bind(a.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(a.lfd, 4), 0);
    pthread_t th;
    pthread_create(&th, NULL, serve_one, &a);
    char addr[140];
    snprintf(addr, sizeof addr, "unix://%s", path);
    mt_rpc_stream c;
    mt_error err;
    cr_assert_eq(mt_rpc_stream_connect(&c, addr, g_token, "test", (mt_id){{4}}, &err), MT_OK, "%s", err.msg);
    size_t hdr_off;
    cr_assert_eq(mt_rpc_buf_begin_frame(&c.out, 300, MT_RPC_FLAG_ONEWAY, 0, 0, &hdr_off, &err), MT_OK);
    cr_assert_eq(mt_rpc_buf_append_bytes(&c.out, 1, "ab", 2, &err), MT_OK);
    cr_assert_eq(mt_rpc_buf_append_bytes(&c.out, 1, "cde", 3, &err), MT_OK);
    mt_rpc_buf_patch_len(&c.out, hdr_off);
    cr_assert_eq(mt_rpc_stream_flush(&c, &err), MT_OK);
    pthread_join(th, NULL);
    cr_assert_eq(a.got_fields, 2);
    cr_assert_str_eq(a.got, "abcde");
    mt_rpc_stream_close(&c);
    close(a.lfd);
    unlink(path);
    /* Nobody listening: a clear error, nothing left open. */
    cr_assert_neq(mt_rpc_stream_connect(&c, addr, g_token, "test", (mt_id){{4}}, &err), MT_OK);
    cr_assert(strstr(err.msg, path), "%s", err.msg);
    cr_assert_eq(c.fd, -1);
}
