/*
 * cluster_start.c — starting the daemons of a new session on this machine
 * (`manta start`, embedded clusters): session folder + token, `manta
 * gcs-server` (head only), `manta node-daemon`, wait for their ready files,
 * write session.json; and the "is a cluster already running here" check.
 * Caller's thread; on failure everything started is killed again.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "core/file.h"
#include "gcs/session.h"

typedef struct starter {
    const mt_cluster_start_options *o;
    char bin[MT_SESSION_PATH_MAX];
    char dir[MT_SESSION_PATH_MAX];
    const char *ip;
    int64_t timeout_ms;
    int pids[2];
    size_t n_pids;
} starter;

/* Spawns `manta <argv...>` logging to logs/<log>, waits for <ready>. */
static mt_status start_daemon(starter *s, char **argv, const char *log, const char *ready,
                              int *pid_out, mt_error *err)
{
    char log_path[MT_SESSION_PATH_MAX], ready_path[MT_SESSION_PATH_MAX];
    MT_RETURN_NOT_OK(mt_session_path(s->dir, log, log_path, sizeof log_path, err));
    MT_RETURN_NOT_OK(mt_session_path(s->dir, ready, ready_path, sizeof ready_path, err));
    MT_RETURN_NOT_OK(mt_session_spawn(s->bin, argv, log_path, s->o->embedded, pid_out, err));
    s->pids[s->n_pids++] = *pid_out;
    mt_status st = mt_session_wait_ready(ready_path, *pid_out, s->timeout_ms, err);
    if (st != MT_OK) mt_error_prefix(err, "%s did not start (log: %s)", argv[1], log_path);
    return st;
}

static mt_status start_gcs(starter *s, mt_session_info *out, mt_error *err)
{
    char port[16];
    int p = s->o->port >= 0 ? s->o->port : (int)MT_CFG_INT64(gcs_port);
    snprintf(port, sizeof port, "%d", p);
    char *argv[] = {s->bin, "gcs-server", "--session-dir", s->dir, "--port", port,
                    "--node-ip-address", (char *)s->ip, NULL};
    MT_RETURN_NOT_OK(start_daemon(s, argv, "logs/gcs.log", "gcs.ready", &out->gcs_pid, err));
    char ready[MT_SESSION_PATH_MAX];
    MT_RETURN_NOT_OK(mt_session_path(s->dir, "gcs.ready", ready, sizeof ready, err));
    return mt_session_ready_get(ready, "address", out->gcs_address, sizeof out->gcs_address, err);
}

static mt_status start_node(starter *s, mt_session_info *out, mt_error *err)
{
    char *argv[24];
    int n = 0;
    argv[n++] = s->bin;
    argv[n++] = "node-daemon";
    argv[n++] = "--session-dir";
    argv[n++] = s->dir;
    argv[n++] = "--gcs-address";
    argv[n++] = out->gcs_address;
    if (!s->o->join_address) argv[n++] = "--head";
    const char *flags[] = {"--num-cpus", s->o->num_cpus, "--num-gpus", s->o->num_gpus,
                           "--resources", s->o->resources, "--object-store-memory",
                           s->o->object_store_memory, "--node-ip-address", s->ip};
    for (int i = 0; i < 10; i += 2)
        if (flags[i + 1]) {
            argv[n++] = (char *)flags[i];
            argv[n++] = (char *)flags[i + 1];
        }
    argv[n] = NULL;
    MT_RETURN_NOT_OK(start_daemon(s, argv, "logs/node.log", "node.ready", &out->node_pid, err));
    char ready[MT_SESSION_PATH_MAX];
    MT_RETURN_NOT_OK(mt_session_path(s->dir, "node.ready", ready, sizeof ready, err));
    MT_RETURN_NOT_OK(mt_session_ready_get(ready, "node_id", out->node_id, sizeof out->node_id, err));
    mt_session_ready_get(ready, "address", out->node_address, sizeof out->node_address, NULL);
    if (mt_session_ready_get(ready, "socket", out->node_socket, sizeof out->node_socket, NULL) != MT_OK)
        snprintf(out->node_socket, sizeof out->node_socket, "unix://%s/sockets/node.sock", s->dir);
    return MT_OK;
}

/* Join: the token comes from --token, --token-file, MANTA_TOKEN (config
 * `token`) or, on the head's own machine, the latest local session. */
static mt_status join_token(starter *s, mt_error *err)
{
    uint8_t tok[MT_RPC_TOKEN_BYTES];
    const char *hex = s->o->token && *s->o->token ? s->o->token : NULL;
    if (!hex && !s->o->token_file && *MT_CFG_STRING(token)) hex = MT_CFG_STRING(token);
    if (hex) {
        if (mt_rpc_token_parse(hex, tok, err) != MT_OK)
            return mt_error_prefix(err, "joining %s: bad token", s->o->join_address);
    } else {
        char src[MT_SESSION_PATH_MAX], latest[MT_SESSION_PATH_MAX];
        if (s->o->token_file) {
            snprintf(src, sizeof src, "%s", s->o->token_file);
        } else {
            mt_status st = mt_session_latest(s->o->temp_dir, latest, sizeof latest, err);
            if (st != MT_OK)
                return mt_error_set(err, MT_ENOTFOUND,
                                    "joining %s needs the cluster token: pass --token, --token-file "
                                    "or set MANTA_TOKEN (the head's token is in its session folder)",
                                    s->o->join_address);
            MT_RETURN_NOT_OK(mt_session_path(latest, "token", src, sizeof src, err));
        }
        MT_RETURN_NOT_OK(mt_rpc_token_load(src, tok, err));
    }
    char dst[MT_SESSION_PATH_MAX], text[2 * MT_RPC_TOKEN_BYTES + 2];
    MT_RETURN_NOT_OK(mt_session_path(s->dir, "token", dst, sizeof dst, err));
    for (int i = 0; i < MT_RPC_TOKEN_BYTES; i++) snprintf(text + 2 * i, 3, "%02x", tok[i]);
    strcat(text, "\n");
    return mt_file_write_atomic(dst, text, strlen(text), 0600, err);
}

static mt_status prepare(starter *s, mt_session_info *out, mt_error *err)
{
    MT_RETURN_NOT_OK(mt_session_find_bin(s->bin, sizeof s->bin, err));
    /* session_latest moves to the new session only once it is up (mt_cluster_start). */
    MT_RETURN_NOT_OK(mt_session_create(s->o->temp_dir, s->dir, sizeof s->dir, err));
    snprintf(out->session_dir, sizeof out->session_dir, "%s", s->dir);
    snprintf(out->node_ip, sizeof out->node_ip, "%s", s->ip);
    if (s->o->join_address) {
        const char *a = s->o->join_address;
        if (!strncmp(a, "tcp://", 6))
            snprintf(out->gcs_address, sizeof out->gcs_address, "%s", a);
        else
            snprintf(out->gcs_address, sizeof out->gcs_address, "tcp://%s", a);
        return join_token(s, err);
    }
    char tok[MT_SESSION_PATH_MAX];
    uint8_t token[MT_RPC_TOKEN_BYTES];
    MT_RETURN_NOT_OK(mt_session_path(s->dir, "token", tok, sizeof tok, err));
    return mt_rpc_token_create(tok, token, err);
}

/* Removes a session folder no daemon ever ran in (a refused join): only what prepare() made. */
static void remove_unstarted(const char *dir)
{
    static const char *const files[] = {"token", "logs", "sockets", "spill"};
    char p[MT_SESSION_PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (mt_session_path(dir, files[i], p, sizeof p, NULL) == MT_OK && unlink(p) != 0) rmdir(p);
    rmdir(dir);
}

mt_status mt_cluster_start(const mt_cluster_start_options *o, mt_session_info *out, mt_error *err)
{
    memset(out, 0, sizeof *out);
    starter s = {.o = o, .ip = o->node_ip ? o->node_ip : "127.0.0.1",
                 .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : MT_CFG_INT64(daemon_start_timeout_ms)};
    mt_status st = prepare(&s, out, err);
    if (st == MT_OK && !o->join_address) st = start_gcs(&s, out, err);
    if (st == MT_OK) st = start_node(&s, out, err);
    if (st == MT_OK) st = mt_session_write_info(out, err);
    if (st == MT_OK && !o->embedded) st = mt_session_point_latest(o->temp_dir, s.dir, err);
    /* A failed start leaves session_latest as it was; the failed session's
     * folder stays for its logs, which the message points at. */
    if (st != MT_OK && s.n_pids) mt_session_kill(s.pids, s.n_pids, false, MT_CFG_INT64(daemon_stop_grace_ms));
    if (st != MT_OK && !s.n_pids && s.dir[0]) remove_unstarted(s.dir);
    return st;
}

/* True when something accepts TCP connections at "tcp://HOST:PORT" (500 ms). */
static bool tcp_answers(const char *address)
{
    mt_rpc_addr a;
    if (mt_rpc_addr_parse(address, &a, NULL) != MT_OK || a.is_unix) return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a.port)};
    if (inet_pton(AF_INET, a.host, &sa.sin_addr) != 1) return false;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        ok = true;
    } else if (errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int e = 0;
        socklen_t l = sizeof e;
        ok = poll(&p, 1, 500) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) == 0 && e == 0;
    }
    close(fd);
    return ok;
}

bool mt_cluster_running(const char *temp_dir, mt_session_info *out)
{
    char dir[MT_SESSION_PATH_MAX];
    mt_session_info info;
    if (mt_session_latest(temp_dir, dir, sizeof dir, NULL) != MT_OK) return false;
    if (mt_session_read_info(dir, &info, NULL) != MT_OK) return false;
    bool alive = mt_session_pid_alive(info.node_pid) ||
                 (info.gcs_pid > 0 && mt_session_pid_alive(info.gcs_pid));
    if (!alive) return false;
    if (info.gcs_pid > 0 && !tcp_answers(info.gcs_address)) return false;
    if (out) *out = info;
    return true;
}
