/*
 * driver_cluster.c — finding the cluster mt_init joins: an address
 * (control store host:port of a live local session, the latest or any
 * other), else the latest live local session, else an embedded single-node
 * cluster started like `manta start --head` (gcs-server, then node-daemon,
 * as child processes, into a new session folder) that mt_shutdown stops.
 *
 * An embedded cluster belongs to its driver: its session does not become
 * session_latest (other drivers join it only by naming its address), and
 * its daemons get SIGTERM when the driver dies (PR_SET_PDEATHSIG, set in
 * the child between vfork and exec). Linux sends that signal when the
 * spawning *thread* ends, so the daemons are spawned by a keeper thread
 * that lives until mt_shutdown has stopped them.
 *
 * Threads: called under mt__drv.lock; the keeper thread only runs
 * start_daemons and then waits. Invariant: gcs_pid/node_pid are set only
 * for daemons this process started (and must reap).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config_keys.h"
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

/* The keeper thread (see the top): it spawns the daemons and outlives them. */
static struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, done, quit;
    sigset_t child_mask; /* the signal mask daemons start with (mt_init's caller's) */
    const mt_init_options *o;
    mt_session_info *info;
    mt_error *err;
    mt_status st;
} keeper = {.m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/*
 * vfork + exec (no copy of the address space, as posix_spawn), so that the
 * child can ask for SIGTERM when its parent thread ends. The child only
 * makes system calls before exec.
 */
static mt_status spawn(const char *bin, char *const argv[], const char *log, int *pid_out, mt_error *err)
{
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (logfd < 0 || nullfd < 0) {
        mt_status st = mt_error_set_errno(err, MT_EIO, errno, "opening %s", logfd < 0 ? log : "/dev/null");
        if (logfd >= 0) close(logfd);
        if (nullfd >= 0) close(nullfd);
        return st;
    }
    pid_t parent = getpid();
    pid_t pid = vfork();
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(127);
        if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0) _exit(127);
        sigprocmask(SIG_SETMASK, &keeper.child_mask, NULL);
        execve(bin, argv, environ);
        _exit(127);
    }
    int e = errno;
    close(logfd);
    close(nullfd);
    if (pid < 0) return mt_error_set_errno(err, MT_EIO, e, "starting %s %s", bin, argv[1]);
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

static void *keeper_main(void *arg)
{
    (void)arg;
    mt_status st = start_daemons(keeper.o, keeper.info, keeper.err);
    pthread_mutex_lock(&keeper.m);
    keeper.st = st;
    keeper.done = true;
    pthread_cond_broadcast(&keeper.cv);
    while (!keeper.quit) pthread_cond_wait(&keeper.cv, &keeper.m);
    pthread_mutex_unlock(&keeper.m);
    return NULL;
}

/* Runs start_daemons on the keeper thread and waits for it. */
static mt_status start_daemons_kept(const mt_init_options *o, mt_session_info *info, mt_error *err)
{
    keeper.o = o;
    keeper.info = info;
    keeper.err = err;
    keeper.done = keeper.quit = false;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &keeper.child_mask); /* the keeper takes no signals */
    int rc = pthread_create(&keeper.thread, NULL, keeper_main, NULL);
    pthread_sigmask(SIG_SETMASK, &keeper.child_mask, NULL);
    if (rc != 0) return mt_error_set_errno(err, MT_EINTERNAL, rc, "starting the cluster keeper thread");
    keeper.running = true;
    pthread_mutex_lock(&keeper.m);
    while (!keeper.done) pthread_cond_wait(&keeper.cv, &keeper.m);
    pthread_mutex_unlock(&keeper.m);
    return keeper.st;
}

static void keeper_stop(void)
{
    if (!keeper.running) return;
    pthread_mutex_lock(&keeper.m);
    keeper.quit = true;
    pthread_cond_broadcast(&keeper.cv);
    pthread_mutex_unlock(&keeper.m);
    pthread_join(keeper.thread, NULL);
    keeper.running = false;
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
    mt_status st = start_daemons_kept(o, &info, err);
    if (st != MT_OK) {
        mt_error_prefix(err, "starting a local cluster in %s", info.session_dir);
        mt__drv_stop_cluster();
        return st;
    }
    mt__drv.embedded = true;
    use_info(&info);
    return MT_OK;
}

static bool same_address(const char *addr, const mt_session_info *info)
{
    const char *a = strncmp(addr, "tcp://", 6) ? addr : addr + 6;
    const char *g = strncmp(info->gcs_address, "tcp://", 6) ? info->gcs_address : info->gcs_address + 6;
    return !strcmp(a, g);
}

/* A live session other than the latest (an embedded one) whose control store is at `addr`. */
static bool find_by_address(const char *temp_dir, const char *addr, mt_session_info *info)
{
    const char *root = mt_session_temp_root(temp_dir);
    DIR *d = opendir(root);
    if (!d) return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char dir[MT_SESSION_PATH_MAX];
        if (strncmp(e->d_name, "session_", 8) || !strcmp(e->d_name, "session_latest") ||
            mt_session_path(root, e->d_name, dir, sizeof dir, NULL) != MT_OK)
            continue;
        found = mt_session_read_info(dir, info, NULL) == MT_OK && session_alive(info) && same_address(addr, info);
    }
    closedir(d);
    return found;
}

mt_status mt__drv_find_cluster(const mt_init_options *o, mt_error *err)
{
    static mt_session_info info;
    char dir[MT_SESSION_PATH_MAX];
    const char *addr = o->address && *o->address ? o->address : MT_CFG_STRING(address);
    bool have = mt_session_latest(o->temp_dir, dir, sizeof dir, NULL) == MT_OK &&
                mt_session_read_info(dir, &info, NULL) == MT_OK && session_alive(&info);
    if (addr && *addr) {
        if ((have && same_address(addr, &info)) || find_by_address(o->temp_dir, addr, &info)) {
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
    keeper_stop();
}
