/*
 * driver_cluster.c — finding the cluster mt_init joins: an address
 * (control store host:port of a live local session, the latest or any
 * other), else the latest live local session, else an embedded single-node
 * cluster started by the same launcher as `manta start --head`
 * (mt_cluster_start: gcs-server, then node-daemon, as child processes, into
 * a new session folder) that mt_shutdown stops.
 *
 * An embedded cluster belongs to its driver: its session does not become
 * session_latest (other drivers join it only by naming its address), and
 * its daemons get SIGTERM when the driver dies (PR_SET_PDEATHSIG: the
 * launcher's `embedded` option). Linux sends that signal when the
 * spawning *thread* ends, so the daemons are spawned by a keeper thread
 * that lives until mt_shutdown has stopped them.
 *
 * Threads: called under mt__drv.lock; the keeper thread only runs
 * start_daemons and then waits. Invariant: gcs_pid/node_pid are set only
 * for daemons this process started (and must reap).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/config_keys.h"
#include "gcs/session.h"
#include "worker/worker_int.h"


static void use_info(const mt_session_info *info)
{
    mt__driver *d = &mt__drv;
    snprintf(d->session_dir, sizeof d->session_dir, "%s", info->session_dir);
    snprintf(d->node_socket, sizeof d->node_socket, "%s", info->node_socket);
    snprintf(d->gcs_address, sizeof d->gcs_address, "%s", info->gcs_address);
}

/* The session's node daemon runs, and its control store too when it is local
 * (a joined node's session has none: gcs_pid 0). */
static bool session_alive(const mt_session_info *info)
{
    return info->node_pid > 0 && mt_session_pid_alive(info->node_pid) && info->node_socket[0] &&
           (info->gcs_pid <= 0 || mt_session_pid_alive(info->gcs_pid));
}

/* The keeper thread (see the top): it starts the daemons and outlives them. */
static struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, done, quit;
    const mt_init_options *o;
    mt_session_info *info;
    mt_error *err;
    mt_status st;
} keeper = {.m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Stops the embedded daemons this process started (children: reaped). */
static void stop_children(void)
{
    int pids[2];
    size_t n = 0;
    if (mt__drv.node_pid > 0) pids[n++] = mt__drv.node_pid;
    if (mt__drv.gcs_pid > 0) pids[n++] = mt__drv.gcs_pid;
    if (n) mt_session_kill(pids, n, false, MT_CFG_INT64(daemon_stop_grace_ms));
    mt__drv.node_pid = mt__drv.gcs_pid = 0;
}

/* The one launcher `manta start --head` uses, with the daemons tied to this thread. */
static mt_status start_daemons(const mt_init_options *o, mt_session_info *info, mt_error *err)
{
    char cpus[32], mem[32];
    mt_cluster_start_options co = {.temp_dir = o->temp_dir, .port = 0, .embedded = true};
    if (o->num_cpus > 0) {
        snprintf(cpus, sizeof cpus, "%g", o->num_cpus);
        co.num_cpus = cpus;
    }
    if (o->object_store_memory > 0) {
        snprintf(mem, sizeof mem, "%lld", (long long)o->object_store_memory);
        co.object_store_memory = mem;
    }
    mt_status st = mt_cluster_start(&co, info, err);
    if (st != MT_OK && info->session_dir[0])
        mt_error_prefix(err, "starting a local cluster in %s", info->session_dir);
    else if (st != MT_OK)
        mt_error_prefix(err, "starting a local cluster");
    return st;
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
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the keeper takes no signals */
    int rc = pthread_create(&keeper.thread, NULL, keeper_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
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
    mt_status st = start_daemons_kept(o, &info, err); /* a failed start kills what it started */
    if (st == MT_OK) {
        mt__drv.gcs_pid = info.gcs_pid;
        mt__drv.node_pid = info.node_pid;
    }
    if (st != MT_OK) {
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
    stop_children();
    keeper_stop();
}
