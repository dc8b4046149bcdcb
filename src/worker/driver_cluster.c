/*
 * driver_cluster.c — finding the cluster mt_init joins: an address
 * (control store host:port of a local session), else the latest live local
 * session, else an embedded single-node cluster started exactly like
 * `manta start --head` (gcs-server, then node-daemon, as child processes,
 * into a new session folder) that mt_shutdown stops.
 *
 * Threads: called under mt__drv.lock. Invariant: gcs_pid/node_pid are set
 * only for daemons this process started (and must reap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcs/session.h"
#include "worker/worker_int.h"

extern char **environ;

static void use_info(const mt_session_info *info)
{
    mt__driver *d = &mt__drv;
    snprintf(d->session_dir, sizeof d->session_dir, "%s", info->session_dir);
    snprintf(d->node_socket, sizeof d->node_socket, "%s", info->node_socket);
    snprintf(d->gcs_address, sizeof d->gcs_address, "%s", info->gcs_address);
}

static bool session_alive(const mt_session_info *info)
{
    return info->gcs_pid > 0 && info->node_pid > 0 && mt_session_pid_alive(info->gcs_pid) &&
           mt_session_pid_alive(info->node_pid) && info->node_socket[0];
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static mt_status spawn(const char *bin, char *const argv[], const char *log, int *pid_out, mt_error *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return mt_error_set_errno(err, MT_EIO, rc, "starting %s %s", bin, argv[1]);
    *pid_out = pid;
    return MT_OK;
}

/* Waits for `path` to hold `key`, while child `pid` lives. */
static mt_status wait_ready(const char *path, const char *key, int pid, char *out, size_t cap, mt_error *err)
{
    int64_t deadline = mt_time_now_ns() + 30LL * 1000000000;
    while (mt_time_now_ns() < deadline) {
        if (mt_session_ready_get(path, key, out, cap, NULL) == MT_OK) return MT_OK;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return mt_error_set(err, MT_EIO, "daemon %d exited before writing %s (see the logs next to it)", pid, path);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return mt_error_set(err, MT_ETIMEOUT, "%s did not appear within 30 s", path);
}

static void stop_child(int *pidp)
{
    int pid = *pidp;
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int64_t deadline = mt_time_now_ns() + 10LL * 1000000000;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (mt_time_now_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    *pidp = 0;
}

static mt_status start_daemons(const mt_init_options *o, mt_session_info *info, mt_error *err)
{
    mt__driver *d = &mt__drv;
    char bin[4096], log[4200], ready[4200], port[16], cpus[32], mem[32], gaddr[300];
    MT_RETURN_NOT_OK(mt_session_find_bin(bin, sizeof bin, err));
    snprintf(port, sizeof port, "%d", free_port());
    MT_RETURN_NOT_OK(mt_session_path(info->session_dir, "logs/gcs.log", log, sizeof log, err));
    char *gargv[] = {bin, "gcs-server", "--session-dir", info->session_dir, "--port", port, NULL};
    MT_RETURN_NOT_OK(spawn(bin, gargv, log, &d->gcs_pid, err));
    MT_RETURN_NOT_OK(mt_session_path(info->session_dir, "gcs.ready", ready, sizeof ready, err));
    MT_RETURN_NOT_OK(wait_ready(ready, "address", d->gcs_pid, gaddr, sizeof gaddr, err));
    snprintf(info->gcs_address, sizeof info->gcs_address, "%s", gaddr);
    char *nargv[16] = {bin, "node-daemon", "--session-dir", info->session_dir, "--gcs-address", gaddr, "--head"};
    int n = 7;
    if (o->num_cpus > 0) {
        snprintf(cpus, sizeof cpus, "%g", o->num_cpus);
        nargv[n++] = "--num-cpus";
        nargv[n++] = cpus;
    }
    if (o->object_store_memory > 0) {
        snprintf(mem, sizeof mem, "%lld", (long long)o->object_store_memory);
        nargv[n++] = "--object-store-memory";
        nargv[n++] = mem;
    }
    MT_RETURN_NOT_OK(mt_session_path(info->session_dir, "logs/node.log", log, sizeof log, err));
    MT_RETURN_NOT_OK(spawn(bin, nargv, log, &d->node_pid, err));
    MT_RETURN_NOT_OK(mt_session_path(info->session_dir, "node.ready", ready, sizeof ready, err));
    MT_RETURN_NOT_OK(wait_ready(ready, "socket", d->node_pid, info->node_socket, sizeof info->node_socket, err));
    mt_session_ready_get(ready, "address", info->node_address, sizeof info->node_address, NULL);
    mt_session_ready_get(ready, "node_id", info->node_id, sizeof info->node_id, NULL);
    snprintf(info->node_ip, sizeof info->node_ip, "127.0.0.1");
    info->gcs_pid = d->gcs_pid;
    info->node_pid = d->node_pid;
    return mt_session_write_info(info, err);
}

static mt_status start_embedded(const mt_init_options *o, mt_error *err)
{
    static mt_session_info info; /* large */
    memset(&info, 0, sizeof info);
    uint8_t token[MT_RPC_TOKEN_BYTES];
    char tok[MT_SESSION_PATH_MAX + 16];
    MT_RETURN_NOT_OK(mt_session_create(o->temp_dir, info.session_dir, sizeof info.session_dir, err));
    MT_RETURN_NOT_OK(mt_session_path(info.session_dir, "token", tok, sizeof tok, err));
    MT_RETURN_NOT_OK(mt_rpc_token_create(tok, token, err));
    mt_status st = start_daemons(o, &info, err);
    if (st != MT_OK) {
        mt_error_prefix(err, "starting a local cluster in %s", info.session_dir);
        mt__drv_stop_cluster();
        return st;
    }
    mt__drv.embedded = true;
    use_info(&info);
    return MT_OK;
}

mt_status mt__drv_find_cluster(const mt_init_options *o, mt_error *err)
{
    static mt_session_info info;
    char dir[MT_SESSION_PATH_MAX];
    const char *addr = o->address && *o->address ? o->address : mt_config_string("address");
    bool have = mt_session_latest(o->temp_dir, dir, sizeof dir, NULL) == MT_OK &&
                mt_session_read_info(dir, &info, NULL) == MT_OK && session_alive(&info);
    if (addr && *addr) {
        const char *a = strncmp(addr, "tcp://", 6) ? addr : addr + 6;
        const char *g = strncmp(info.gcs_address, "tcp://", 6) ? info.gcs_address : info.gcs_address + 6;
        if (have && !strcmp(a, g)) {
            use_info(&info);
            return MT_OK;
        }
        return mt_error_set(err, MT_ENOTFOUND, "no live local session with control store %s under %s", addr,
                            mt_session_temp_root(o->temp_dir));
    }
    if (have) {
        use_info(&info);
        return MT_OK;
    }
    if (o->no_start)
        return mt_error_set(err, MT_ENOTFOUND, "no running cluster under %s", mt_session_temp_root(o->temp_dir));
    return start_embedded(o, err);
}

void mt__drv_stop_cluster(void)
{
    stop_child(&mt__drv.node_pid);
    stop_child(&mt__drv.gcs_pid);
}
