/*
 * node_pool.c — the node's worker processes: spawning (`<program> worker
 * --session-dir DIR --node-socket unix://… --worker-id HEX` through uv_spawn,
 * i.e. fork+exec, output to logs/worker-<id>.log, OMP_WAIT_POLICY=PASSIVE),
 * registration, exit handling, start timeouts, idle trimming and kills.
 * Main thread only. Invariants: num_workers counts every process not yet
 * reaped; num_starting/num_idle count workers in those states; a worker's
 * memory is freed only from its process handle's close callback, after exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "node/node_int.h"

extern char **environ;

node_worker *mt__node_pool_find(mt__node *n, mt_id id)
{
    for (node_worker *w = n->workers; w; w = w->next)
        if (mt_id_equal(w->id, id)) return w;
    return NULL;
}

static void unlink_worker(mt__node *n, node_worker *w)
{
    for (node_worker **pp = &n->workers; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            return;
        }
    }
}

static void proc_closed(uv_handle_t *h) { mt_free(h->data); }

static void leave_state(mt__node *n, node_worker *w)
{
    if (w->state == NODE_W_STARTING) n->num_starting--;
    else if (w->state == NODE_W_IDLE) n->num_idle--;
}

static void worker_exited(uv_process_t *p, int64_t exit_status, int sig)
{
    node_worker *w = p->data;
    mt__node *n = w->node;
    char hex[2 * MT_ID_SIZE + 1];
    mt_id_hex(w->id, hex);
    MT_LOG(w->state == NODE_W_STOPPING ? MT_LOG_INFO : MT_LOG_WARN, "NODE-WORKER-EXIT",
           "worker %s (pid %d) exited: status %lld, signal %d", hex, w->pid, (long long)exit_status, sig);
    w->exited = true;
    /* A killed worker cannot remove its own socket; do it when it is ours. */
    char sock_prefix[600];
    snprintf(sock_prefix, sizeof sock_prefix, "unix://%s/sockets/w-", n->session_dir);
    if (!strncmp(w->address, sock_prefix, strlen(sock_prefix)) && !strstr(w->address, ".."))
        unlink(w->address + 7);
    if (w->state == NODE_W_LEASED) mt__node_lease_worker_died(n, w, exit_status, sig);
    leave_state(n, w);
    if (w->client) w->client->worker = NULL;
    unlink_worker(n, w);
    n->num_workers--;
    uv_close((uv_handle_t *)p, proc_closed);
    if (n->stopping) mt__node_shutdown_progress(n);
    else mt__node_lease_schedule(n);
}

/* environ plus OMP_WAIT_POLICY=PASSIVE (replacing any other value). */
static char **worker_env(void)
{
    size_t n = 0;
    while (environ[n]) n++;
    char **env = mt_calloc(n + 2, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OMP_WAIT_POLICY=", 16)) env[k++] = environ[i];
    env[k++] = (char *)"OMP_WAIT_POLICY=PASSIVE";
    env[k] = NULL;
    return env;
}

static mt_status spawn(mt__node *n, node_worker *w, const char *hex, int log_fd, mt_error *err)
{
    char *args[] = {n->worker_program, (char *)"worker", (char *)"--session-dir", n->session_dir,
                    (char *)"--node-socket", n->node_socket, (char *)"--worker-id", (char *)hex,
                    NULL};
    char **env = worker_env();
    if (!env) return mt_error_set(err, MT_ENOMEM, "out of memory starting a worker");
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = log_fd},
        {.flags = UV_INHERIT_FD, .data.fd = log_fd},
    };
    uv_process_options_t o = {0};
    o.file = n->worker_program;
    o.args = args;
    o.env = env;
    o.exit_cb = worker_exited;
    o.stdio_count = 3;
    o.stdio = stdio;
    w->proc.data = w;
    int rc = uv_spawn(n->loop, &w->proc, &o);
    mt_free(env);
    if (rc != 0) {
        uv_close((uv_handle_t *)&w->proc, proc_closed);
        return mt_error_set(err, MT_EIO, "starting worker %s: %s: %s", hex, n->worker_program,
                            uv_strerror(rc));
    }
    return MT_OK;
}

mt_status mt__node_pool_start_worker(mt__node *n, mt_error *err)
{
    node_worker *w = mt_calloc(1, sizeof *w);
    if (!w) return mt_error_set(err, MT_ENOMEM, "out of memory starting a worker");
    w->node = n;
    w->id = mt_id_random();
    char hex[2 * MT_ID_SIZE + 1], log_path[700];
    mt_id_hex(w->id, hex);
    snprintf(log_path, sizeof log_path, "%s/logs/worker-%s.log", n->session_dir, hex);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        mt_free(w);
        return mt_error_set_errno(err, MT_EIO, errno, "opening %s", log_path);
    }
    mt_status st = spawn(n, w, hex, fd, err); /* frees w on failure (close callback) */
    close(fd);
    if (st != MT_OK) return st;
    w->pid = w->proc.pid;
    w->state = NODE_W_STARTING;
    w->started_ns = mt_time_now_ns();
    w->next = n->workers;
    n->workers = w;
    n->num_workers++;
    n->num_starting++;
    MT_LOG(MT_LOG_INFO, "NODE-WORKER-START", "started worker %s (pid %d)", hex, w->pid);
    return MT_OK;
}

void mt__node_pool_register(node_client *cl, const mt_rpc_msg *m)
{
    Manta__RegisterWorkerRequest *req =
        manta__register_worker_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!req) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "malformed REGISTER_WORKER payload");
        return;
    }
    mt_id id;
    node_worker *w = NULL;
    const char *addr = req->address ? req->address : "";
    if (!mt__node_id_from_pb(req->worker_id, &id)) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "REGISTER_WORKER: worker_id must be %d bytes", MT_ID_SIZE);
    } else if (!(w = mt__node_pool_find(cl->node, id))) {
        mt__node_reply(cl, m, MT_ENOTFOUND, NULL, "REGISTER_WORKER: this node did not start that worker");
    } else if (w->state != NODE_W_STARTING) {
        mt__node_reply(cl, m, MT_ESTATE, NULL, "REGISTER_WORKER: worker already registered");
    } else if (!addr[0] || strlen(addr) >= sizeof w->address) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "REGISTER_WORKER: bad address");
    } else {
        snprintf(w->address, sizeof w->address, "%s", addr);
        snprintf(w->tcp_address, sizeof w->tcp_address, "%s",
                 req->tcp_address && !strncmp(req->tcp_address, "tcp://", 6) ? req->tcp_address : "");
        w->client = cl;
        cl->worker = w;
        cl->node->num_starting--;
        w->state = NODE_W_IDLE;
        cl->node->num_idle++;
        w->idle_since_ns = mt_time_now_ns();
        Manta__RegisterWorkerReply r = MANTA__REGISTER_WORKER_REPLY__INIT;
        mt__node_reply(cl, m, MT_OK, &r.base, NULL);
        mt__node_lease_schedule(cl->node);
    }
    manta__register_worker_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

static void stop_worker(mt__node *n, node_worker *w, int sig)
{
    leave_state(n, w);
    w->state = NODE_W_STOPPING;
    if (!w->exited) uv_process_kill(&w->proc, sig);
}

void mt__node_pool_kill(node_client *cl, const mt_rpc_msg *m)
{
    Manta__KillWorkerRequest *req =
        manta__kill_worker_request__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
    if (!req) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "malformed KILL_WORKER payload");
        return;
    }
    mt_id id;
    node_worker *w = NULL;
    if (!mt__node_id_from_pb(req->worker_id, &id)) {
        mt__node_reply(cl, m, MT_EINVAL, NULL, "KILL_WORKER: worker_id must be %d bytes", MT_ID_SIZE);
    } else if (!(w = mt__node_pool_find(cl->node, id))) {
        mt__node_reply(cl, m, MT_ENOTFOUND, NULL, "KILL_WORKER: no such worker on this node");
    } else if (!w->lease || (!w->lease->detached && (!w->lease->holder || mt_id_is_nil(cl->client_id) ||
                                                     !mt_id_equal(w->lease->holder->client_id, cl->client_id)))) {
        /* Only the process holding the worker's lease may stop it (the node stops
         * idle ones); a detached actor has no holder: any client may (as Ray). */
        mt__node_reply(cl, m, MT_EPERM, NULL, "KILL_WORKER: the worker is not leased to you");
    } else {
        /* A leased worker stays LEASED so its exit is reported to the lease holder. */
        if (!w->exited) uv_process_kill(&w->proc, req->force ? SIGKILL : SIGTERM);
        if (w->state == NODE_W_IDLE || w->state == NODE_W_STARTING) stop_worker(cl->node, w, 0);
        mt__node_reply(cl, m, MT_OK, NULL, NULL);
    }
    manta__kill_worker_request__free_unpacked(req, &mt_rpc_pb_allocator);
}

node_worker *mt__node_pool_take_idle(mt__node *n)
{
    node_worker *best = NULL;
    for (node_worker *w = n->workers; w; w = w->next)
        if (w->state == NODE_W_IDLE && (!best || w->idle_since_ns > best->idle_since_ns)) best = w;
    if (!best) return NULL;
    n->num_idle--;
    best->state = NODE_W_LEASED;
    return best;
}

void mt__node_pool_release(mt__node *n, node_worker *w, bool dirty)
{
    if (w->exited) return;
    if (dirty || n->stopping) {
        w->state = NODE_W_STOPPING;
        uv_process_kill(&w->proc, SIGKILL);
        return;
    }
    w->state = NODE_W_IDLE;
    w->idle_since_ns = mt_time_now_ns();
    n->num_idle++;
}

void mt__node_pool_maintain(mt__node *n)
{
    int64_t now = mt_time_now_ns();
    int64_t start_to = MT_CFG_INT64(worker_start_timeout_ms) * 1000000;
    int64_t idle_to = MT_CFG_INT64(worker_idle_ms) * 1000000;
    int actor_workers = 0;
    for (node_worker *w = n->workers; w; w = w->next)
        if (w->lease && w->lease->for_actor) actor_workers++;
    int surplus = n->num_workers - actor_workers - n->pool_target;
    for (node_worker *w = n->workers; w; w = w->next) {
        char hex[2 * MT_ID_SIZE + 1];
        mt_id_hex(w->id, hex);
        if (w->state == NODE_W_STARTING && now - w->started_ns > start_to) {
            MT_LOG(MT_LOG_WARN, "NODE-WORKER-TIMEOUT", "worker %s (pid %d) did not register in %lld ms; killing it",
                   hex, w->pid, (long long)(start_to / 1000000));
            stop_worker(n, w, SIGKILL);
        } else if (w->state == NODE_W_IDLE && surplus > 0 && now - w->idle_since_ns > idle_to) {
            MT_LOG(MT_LOG_INFO, "NODE-WORKER-TRIM", "stopping idle worker %s (pid %d)", hex, w->pid);
            stop_worker(n, w, SIGTERM);
            surplus--;
        }
    }
}

void mt__node_pool_signal_all(mt__node *n, int signum)
{
    for (node_worker *w = n->workers; w; w = w->next)
        if (!w->exited) uv_process_kill(&w->proc, signum);
}
