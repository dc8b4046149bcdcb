/*
 * bench/rpc.c — transport figures on this machine: blocking-client
 * ping-pong RTT over a unix socket and over TCP loopback against a uv server
 * on another thread, a pipelined burst (blocking client, windows of 1000),
 * and async pipelined calls from a loop thread. One line per figure.
 */
#define _GNU_SOURCE
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpc/rpc.h"

#define M_ECHO 900

static uint8_t token[MT_RPC_TOKEN_BYTES];
static mt_rpc_loop *sloop, *cloop;
static mt_rpc_server *server;
static char addr[300];
static const char *listen_at;
static sem_t sem;

static void on_request(mt_rpc_conn *c, const mt_rpc_msg *m, void *ud)
{
    (void)ud;
    mt_rpc_reply_raw(c, m, MT_OK, m->payload, m->len, NULL);
}

static void do_listen(void *arg)
{
    (void)arg;
    mt_rpc_handlers h = {on_request, NULL, NULL};
    mt_error err;
    if (mt_rpc_server_listen(mt_rpc_loop_uv(sloop), listen_at, token, &h, NULL, &server, &err) != MT_OK) {
        fprintf(stderr, "listen: %s\n", err.msg);
        _exit(1);
    }
    snprintf(addr, sizeof addr, "%s", mt_rpc_server_address(server));
    sem_post(&sem);
}

static double now_s(void) { return (double)mt_time_now_ns() / 1e9; }

static void rtt(const char *name, const char *a, int n)
{
    mt_rpc_client *cl;
    mt_error err;
    if (mt_rpc_client_connect(a, token, "bench", 2000, &cl, &err) != MT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        _exit(1);
    }
    mt_rpc_msg m;
    char payload[64] = {0};
    for (int i = 0; i < n / 10; i++) { /* warm up */
        mt_rpc_client_send(cl, M_ECHO, 0, payload, sizeof payload, NULL, &err);
        mt_rpc_client_recv(cl, 0, &m, &err);
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        mt_rpc_client_send(cl, M_ECHO, 0, payload, sizeof payload, NULL, &err);
        if (mt_rpc_client_recv(cl, 0, &m, &err) != MT_OK) _exit(1);
    }
    double dt = now_s() - t0;
    printf("%s: %.1f us\n", name, dt / n * 1e6);
    mt_rpc_client_close(cl);
}

static void pipelined(const char *a, int n, int window)
{
    mt_rpc_client *cl;
    mt_error err;
    if (mt_rpc_client_connect(a, token, "bench", 2000, &cl, &err) != MT_OK) _exit(1);
    char payload[64] = {0};
    mt_rpc_msg m;
    double t0 = now_s();
    for (int done = 0; done < n; done += window) {
        for (int i = 0; i < window; i++) mt_rpc_client_send(cl, M_ECHO, 0, payload, sizeof payload, NULL, &err);
        for (int i = 0; i < window; i++)
            if (mt_rpc_client_recv(cl, 0, &m, &err) != MT_OK) _exit(1);
    }
    double dt = now_s() - t0;
    printf("rpc_pipelined_msgs_per_s: %.0f msgs/s\n", n / dt);
    mt_rpc_client_close(cl);
}

/* Async: the client loop issues all calls at once, counts replies. */
static mt_rpc_conn *conn;
static int async_left, async_n;
static void async_reply(mt_rpc_conn *c, mt_status st, const mt_rpc_msg *r, void *ud)
{
    (void)c; (void)r; (void)ud;
    if (st != MT_OK) _exit(2);
    if (--async_left == 0) sem_post(&sem);
}
static void async_start(void *arg)
{
    (void)arg;
    char payload[64] = {0};
    for (int i = 0; i < async_n; i++)
        mt_rpc_call_raw(conn, M_ECHO, payload, sizeof payload, 0, async_reply, NULL, NULL);
}
static void async_connect(void *arg)
{
    mt_rpc_connect_options o = {.client_kind = "bench"};
    mt_error err;
    if (mt_rpc_connect(mt_rpc_loop_uv(cloop), arg, token, &o, NULL, NULL, &conn, &err) != MT_OK) _exit(1);
    sem_post(&sem);
}

static void async_bench(const char *a, int n)
{
    mt_rpc_loop_start("cli", &cloop, NULL);
    mt_rpc_loop_post(cloop, async_connect, (void *)a, NULL);
    sem_wait(&sem);
    async_n = async_left = n;
    double t0 = now_s();
    mt_rpc_loop_post(cloop, async_start, NULL, NULL);
    sem_wait(&sem);
    double dt = now_s() - t0;
    printf("rpc_async_calls_per_s: %.0f calls/s\n", n / dt);
    mt_rpc_loop_stop(cloop);
}

int main(void)
{
    mt_log_set_level(MT_LOG_ERROR);
    sem_init(&sem, 0, 0);
    mt_rpc_loop_start("srv", &sloop, NULL);
    char unixa[200];
    snprintf(unixa, sizeof unixa, "unix:///tmp/manta-bench-rpc-%d.sock", (int)getpid());
    listen_at = unixa;
    mt_rpc_loop_post(sloop, do_listen, NULL, NULL);
    sem_wait(&sem);
    rtt("rpc_unix_rtt_us", addr, 50000);
    pipelined(addr, 500000, 1000);
    async_bench(addr, 200000);
    listen_at = "tcp://127.0.0.1:0";
    mt_rpc_loop_post(sloop, do_listen, NULL, NULL);
    sem_wait(&sem);
    rtt("rpc_tcp_rtt_us", addr, 20000);
    mt_rpc_loop_stop(sloop);
    return 0;
}
