/*
 * worker_main.c — the `manta worker` process: connects to its node daemon,
 * maps the object store, listens on unix://<session>/sockets/w-<id>.sock,
 * registers, then serves task pushes from drivers on a poll() loop on its
 * main thread, running each task to completion in push order.
 *
 * Threads: main thread only (tasks run on it; idle = blocked in poll).
 * Invariants: a connection must authenticate with the session token in its
 * first frame or it is closed; results of one connection leave in push
 * order; the process exits when its node daemon goes away.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "gcs/session.h"
#include "proto/common.pb-c.h"
#include "proto/node.pb-c.h"
#include "store/store_client.h"
#include "worker/worker_int.h"

#define FLUSH_EVERY_NS 1000000 /* send finished results at least every 1 ms while busy */

static void conn_close(mt__worker *w, int i)
{
    mt__wconn *c = w->conns[i];
    mt_rpc_stream_close(&c->s);
    mt_free(c);
    w->conns[i] = w->conns[--w->nconns];
}

static mt_status node_setup(mt__worker *w, const char *node_socket, mt_error *err)
{
    MT_RETURN_NOT_OK(mt_rpc_client_connect(node_socket, w->token, "worker", MT_CFG_INT64(rpc_connect_timeout_ms), &w->node, err));
    Manta__GetNodeInfoRequest req = MANTA__GET_NODE_INFO_REQUEST__INIT;
    Manta__GetNodeInfoReply *rep = NULL;
    int fd = -1;
    MT_RETURN_NOT_OK(mt_rpc_client_call(w->node, MANTA__NODE_METHOD__NODE_GET_INFO, &req.base,
                                        &manta__get_node_info_reply__descriptor, MT_CFG_INT64(rpc_call_timeout_ms),
                                        (ProtobufCMessage **)&rep, &fd, err));
    mt_status st = MT_OK;
    if (rep->node_id.len == MT_ID_SIZE) memcpy(w->node_id.bytes, rep->node_id.data, MT_ID_SIZE);
    mt_id_hex(w->node_id, w->node_hex);
    w->capacity = rep->store_capacity;
    const char *na = rep->node_address && !strncmp(rep->node_address, "tcp://", 6) ? rep->node_address + 6 : "";
    const char *colon = strrchr(na, ':');
    snprintf(w->node_ip, sizeof w->node_ip, "%.*s", colon ? (int)(colon - na) : 0, na);
    if (fd < 0) st = mt_error_set(err, MT_EIO, "node %s sent no store descriptor", node_socket);
    else st = mt_store_map_create(fd, w->capacity, 0, &w->arena, err);
    if (fd >= 0) close(fd);
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    return st;
}

static mt_status listen_setup(mt__worker *w, const char *worker_hex, mt_error *err)
{
    char path[4096];
    MT_RETURN_NOT_OK(mt_session_path(w->session_dir, "sockets/w-", path, sizeof path, err));
    size_t n = strlen(path);
    snprintf(path + n, sizeof path - n, "%.12s.sock", worker_hex);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return mt_error_set(err, MT_ERANGE, "socket path %s is %zu bytes, unix sockets allow %zu", path, strlen(path),
                            sizeof sa.sun_path - 1);
    strcpy(sa.sun_path, path);
    unlink(path);
    w->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (w->lfd < 0 || bind(w->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(w->lfd, 64) != 0)
        return mt_error_set_errno(err, MT_EIO, errno, "listening on %s", path);
    snprintf(w->address, sizeof w->address, "unix://%s", path);
    /* and on the node's IP, for drivers of other nodes (their node names this address in their lease) */
    struct sockaddr_in in = {.sin_family = AF_INET};
    if (!w->node_ip[0] || inet_pton(AF_INET, w->node_ip, &in.sin_addr) != 1) return MT_OK;
    w->tcp_lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    socklen_t len = sizeof in;
    if (w->tcp_lfd < 0 || bind(w->tcp_lfd, (struct sockaddr *)&in, sizeof in) != 0 || listen(w->tcp_lfd, 64) != 0 ||
        getsockname(w->tcp_lfd, (struct sockaddr *)&in, &len) != 0)
        return mt_error_set_errno(err, MT_EIO, errno, "listening on %s (TCP)", w->node_ip);
    snprintf(w->tcp_address, sizeof w->tcp_address, "tcp://%s:%d", w->node_ip, (int)ntohs(in.sin_port));
    return MT_OK;
}

static mt_status register_worker(mt__worker *w, mt_error *err)
{
    Manta__RegisterWorkerRequest req = MANTA__REGISTER_WORKER_REQUEST__INIT;
    req.worker_id.data = w->worker_id.bytes;
    req.worker_id.len = MT_ID_SIZE;
    req.pid = getpid();
    req.address = w->address;
    req.tcp_address = w->tcp_address;
    ProtobufCMessage *rep = NULL;
    mt_status st = mt_rpc_client_call(w->node, MANTA__NODE_METHOD__NODE_REGISTER_WORKER, &req.base,
                                      &manta__register_worker_reply__descriptor, MT_CFG_INT64(rpc_call_timeout_ms), &rep, NULL, err);
    if (rep) protobuf_c_message_free_unpacked(rep, &mt_rpc_pb_allocator);
    return st;
}

static void close_frame(mt__wconn *c) { c->frame_hdr = SIZE_MAX; }

/* Runs every task of a batch frame; returns false to drop the connection. */
static bool handle_batch(mt__worker *w, mt__wconn *c, const mt_rpc_msg *m, int64_t *last_flush)
{
    Manta__TaskBatch *b = manta__task_batch__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!b) {
        MT_LOG(MT_LOG_WARN, "WORKER-BAD-FRAME", "undecodable task batch of %zu bytes", m->len);
        return false;
    }
    for (size_t i = 0; i < b->n_tasks; i++) {
        mt__worker_run_task(w, c, b->tasks[i]);
        int64_t now = mt_time_now_ns();
        if (now - *last_flush > FLUSH_EVERY_NS && i + 1 < b->n_tasks) {
            close_frame(c);
            mt_rpc_stream_flush(&c->s, NULL);
            *last_flush = now;
        }
    }
    manta__task_batch__free_unpacked(b, &mt_rpc_pb_allocator);
    return true;
}

/* Reads and handles what a connection sent; returns false when it must close. */
static bool serve_conn(mt__worker *w, mt__wconn *c)
{
    bool eof = false;
    if (mt_rpc_stream_fill(&c->s, &eof, NULL) != MT_OK) return false;
    int64_t last_flush = mt_time_now_ns();
    mt_rpc_msg m;
    int r;
    /* The stream answers the Auth frame (pre-auth frames capped, as on the daemons' sockets). */
    while ((r = mt_rpc_stream_next(&c->s, w->max_frame, &m)) == 1) {
        if (m.method == MANTA__WORKER_METHOD__WORKER_PUSH_TASKS) {
            if (!handle_batch(w, c, &m, &last_flush)) return false;
        } else if (m.method == MANTA__WORKER_METHOD__WORKER_EXIT) {
            w->exiting = true;
        } else {
            MT_LOG(MT_LOG_WARN, "WORKER-BAD-FRAME", "unknown method %u", m.method);
            return false;
        }
    }
    close_frame(c);
    if (r < 0) return false;
    if (mt_rpc_stream_flush(&c->s, NULL) != MT_OK) return false;
    return !eof;
}

/* Closes connections that did not authenticate within rpc_connect_timeout_ms. */
static void close_silent(mt__worker *w)
{
    int64_t now = mt_time_now_ns();
    for (int i = w->nconns - 1; i >= 0; i--)
        if (mt_rpc_stream_auth_expired(&w->conns[i]->s, now)) {
            MT_LOG(MT_LOG_WARN, "WORKER-AUTH", "closing a connection that did not authenticate in time");
            conn_close(w, i);
        }
}

static void accept_conns(mt__worker *w, int lfd)
{
    for (;;) {
        int fd = mt_rpc_accept(lfd, &w->spare_fd, lfd == w->lfd ? w->address : w->tcp_address);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) continue;
        if (fd < 0) return;
        mt__wconn *c = w->nconns < MT__WORKER_MAX_CONNS ? mt_calloc(1, sizeof *c) : NULL;
        if (!c) {
            close(fd);
            continue;
        }
        mt_rpc_stream_accept(&c->s, fd, w->token, w->worker_id, w->auth_timeout_ns / 1000000);
        c->frame_hdr = SIZE_MAX;
        w->conns[w->nconns++] = c;
    }
}

/* True while the node connection is healthy. */
static bool node_alive(mt__worker *w)
{
    mt_rpc_msg m;
    mt_status st = mt_rpc_client_recv(w->node, 1, &m, NULL);
    if (st == MT_OK && m.fd >= 0) close(m.fd);
    return st == MT_OK || st == MT_ETIMEOUT;
}

static void serve(mt__worker *w)
{
    struct pollfd pf[MT__WORKER_MAX_CONNS + 3];
    int64_t spin_until = 0;
    while (!w->exiting) {
        int n = 0;
        pf[n++] = (struct pollfd){.fd = w->lfd, .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = mt_rpc_client_fd(w->node), .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = w->tcp_lfd, .events = POLLIN}; /* -1: ignored by poll */
        for (int i = 0; i < w->nconns; i++)
            pf[n++] = (struct pollfd){.fd = w->conns[i]->s.fd,
                                      .events = (short)(POLLIN | (w->conns[i]->s.out.off < w->conns[i]->s.out.len ? POLLOUT : 0))};
        int64_t now = mt_time_now_ns(), first_deadline = INT64_MAX;
        for (int i = 0; i < w->nconns; i++)
            if (!w->conns[i]->s.authed && w->conns[i]->s.auth_deadline_ns < first_deadline)
                first_deadline = w->conns[i]->s.auth_deadline_ns;
        int wait_ms = now < spin_until ? 0
                      : first_deadline == INT64_MAX ? -1
                      : (int)((first_deadline - now) / 1000000 + 1);
        bool idle_wait = wait_ms == -1 && mt__worker_args_cached();
        if (idle_wait) wait_ms = 1000; /* idle a second: let go of cached arguments */
        int rc = poll(pf, (nfds_t)n, wait_ms < -1 ? 0 : wait_ms);
        if (rc == 0 && idle_wait) {
            mt__worker_args_idle(w);
            continue;
        }
        if (first_deadline != INT64_MAX && mt_time_now_ns() >= first_deadline) {
            close_silent(w);
            continue;
        }
        if (rc < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (rc == 0) { /* spinning: see mt__worker.spin_ns */
            sched_yield();
            continue;
        }
        if (pf[1].revents && !node_alive(w)) {
            MT_LOG(MT_LOG_INFO, "WORKER-NODE-GONE", "node daemon connection closed; exiting");
            return;
        }
        int nc = w->nconns;
        for (int i = nc - 1; i >= 0; i--) {
            short ev = pf[3 + i].revents;
            if (!ev) continue;
            mt__wconn *c = w->conns[i];
            bool ok = true;
            if (ev & (POLLIN | POLLHUP | POLLERR)) ok = serve_conn(w, c);
            else if (ev & POLLOUT) ok = mt_rpc_stream_flush(&c->s, NULL) == MT_OK;
            if (!ok) conn_close(w, i);
        }
        if (pf[0].revents) accept_conns(w, w->lfd);
        if (pf[2].revents) accept_conns(w, w->tcp_lfd);
        spin_until = mt_time_now_ns() + w->spin_ns;
    }
}

int mt__worker_main(const char *session_dir, const char *node_socket, const char *worker_hex)
{
    static mt__worker w; /* large; one per process */
    mt_error err;
    mt_error_clear(&err);
    signal(SIGPIPE, SIG_IGN);
    snprintf(w.session_dir, sizeof w.session_dir, "%s", session_dir);
    w.lfd = w.tcp_lfd = -1;
    w.spare_fd = -1;
    w.inline_max = MT_CFG_INT64(inline_object_bytes);
    w.spin_ns = MT_CFG_INT64(wait_spin_us) * 1000;
    w.max_frame = mt_rpc_max_frame();
    w.auth_timeout_ns = MT_CFG_INT64(rpc_connect_timeout_ms) * 1000000;
    w.pid = (int)getpid();
    mt_status st = mt_id_from_hex(worker_hex, &w.worker_id, &err);
    if (st == MT_OK) st = mt_session_load_token(session_dir, w.token, &err);
    if (st == MT_OK) st = node_setup(&w, node_socket, &err);
    if (st == MT_OK) st = listen_setup(&w, worker_hex, &err);
    if (st == MT_OK) st = register_worker(&w, &err);
    if (st != MT_OK) {
        fprintf(stderr, "manta worker %s: %s\n", worker_hex, err.msg);
        return 1;
    }
    MT_LOG(MT_LOG_INFO, "WORKER-START", "worker %s pid %d listening on %s", worker_hex, (int)getpid(), w.address);
    mt__drv_set_worker(session_dir, node_socket, w.worker_id); /* task code may submit, put, get, call actors */
    serve(&w);
    mt__worker_actor_end(&w);
    mt_shutdown(); /* the in-worker runtime, if task code started it: returns its leases */
    while (w.nconns) conn_close(&w, 0);
    if (w.tcp_lfd >= 0) close(w.tcp_lfd);
    if (w.lfd >= 0) {
        close(w.lfd);
        unlink(w.address + strlen("unix://"));
    }
    mt_rpc_client_close(w.node);
    mt_store_map_destroy(w.arena, w.capacity);
    mt_rpc_buf_free(&w.scratch);
    for (int i = 0; i < w.npaths; i++) mt_free(w.paths[i]);
    return 0;
}
