/*
 * cmd_cluster.c — `manta start`, `manta stop`, `manta status`: the user's
 * cluster commands (Ray's `ray start/stop/status`). Argument parsing and
 * terminal text live here; the work is in src/gcs (cluster_start.c,
 * cluster_proc.c, gcs_client.c, gcs_status_fmt.c). Main thread only.
 * Exit status: 0 ok, 1 failure, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_runtime.h"
#include "core/config_keys.h"
#include "gcs/gcs_client.h"
#include "gcs/gcs_int.h"
#include "gcs/session.h"
#include "node/node.h"

/* ---- start ---- */

static const char *START_USAGE =
    "usage: manta start --head [--port 6379] [--num-cpus N] [--num-gpus N] [--resources JSON]\n"
    "                   [--object-store-memory BYTES] [--temp-dir DIR] [--node-ip-address IP] [--block]\n"
    "       manta start --address HOST:PORT [--token HEX | --token-file FILE] [same resource flags] [--block]\n"
    "\n"
    "A node joining from another machine needs the cluster token: --token, --token-file or\n"
    "MANTA_TOKEN (the head's token is the file 'token' in its session folder).\n";

typedef struct start_args {
    mt_cluster_start_options o;
    bool head, block;
} start_args;

/* A number in [0, 9e13] (the node's resource bound). */
static bool start_number_ok(const char *v)
{
    char *end;
    double d = strtod(v, &end);
    return end != v && !*end && d >= 0 && d <= 9e13;
}

/* --object-store-memory: a whole number of bytes, at most the machine's RAM. */
static int start_check_store(const char *v)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || errno || n <= 0) {
        fprintf(stderr, "manta start: bad --object-store-memory '%s' (a whole number of bytes)\n", v);
        return 2;
    }
    int64_t ram = (int64_t)sysconf(_SC_PHYS_PAGES) * (int64_t)sysconf(_SC_PAGESIZE);
    if (ram > 0 && n > ram) {
        fprintf(stderr, "manta start: --object-store-memory %s is larger than this machine's memory "
                        "(%lld bytes)\n", v, (long long)ram);
        return 2;
    }
    return 0;
}

/* Returns 0 to go on, 2 on a usage error, -1 after printing --help. */
static int start_parse(int argc, char **argv, start_args *a)
{
    memset(a, 0, sizeof *a);
    a->o.port = -1;
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **dst = NULL;
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            fputs(START_USAGE, stdout);
            return -1;
        }
        if (!strcmp(f, "--head")) a->head = true;
        else if (!strcmp(f, "--block")) a->block = true;
        else if (!strcmp(f, "--port") && v) {
            char *end;
            long p = strtol(v, &end, 10);
            if (*end || p < 0 || p > 65535) {
                fprintf(stderr, "manta start: bad --port '%s'\n", v);
                return 2;
            }
            a->o.port = (int)p;
            i++;
        } else if (!strcmp(f, "--num-cpus")) dst = &a->o.num_cpus;
        else if (!strcmp(f, "--num-gpus")) dst = &a->o.num_gpus;
        else if (!strcmp(f, "--resources")) dst = &a->o.resources;
        else if (!strcmp(f, "--object-store-memory")) dst = &a->o.object_store_memory;
        else if (!strcmp(f, "--temp-dir")) dst = &a->o.temp_dir;
        else if (!strcmp(f, "--node-ip-address")) dst = &a->o.node_ip;
        else if (!strcmp(f, "--address")) dst = &a->o.join_address;
        else if (!strcmp(f, "--token-file")) dst = &a->o.token_file;
        else if (!strcmp(f, "--token")) dst = &a->o.token;
        else {
            fprintf(stderr, "manta start: unexpected argument '%s'\n%s", f, START_USAGE);
            return 2;
        }
        if (dst) {
            if (!v) {
                fprintf(stderr, "manta start: %s needs a value\n%s", f, START_USAGE);
                return 2;
            }
            bool numeric = dst == &a->o.num_cpus || dst == &a->o.num_gpus;
            if (numeric && !start_number_ok(v)) {
                fprintf(stderr, "manta start: bad %s '%s' (a number in [0, 9e13])\n", f, v);
                return 2;
            }
            if (dst == &a->o.object_store_memory && start_check_store(v)) return 2;
            mt_error e;
            if (dst == &a->o.resources && mt_node_resources_check(v, &e) != MT_OK) {
                fprintf(stderr, "manta start: %s\n", e.msg);
                return 2;
            }
            uint8_t tok[MT_RPC_TOKEN_BYTES];
            if (dst == &a->o.token && mt_rpc_token_parse(v, tok, &e) != MT_OK) {
                fprintf(stderr, "manta start: bad --token: %s\n", e.msg);
                return 2;
            }
            *dst = v;
            i++;
        }
    }
    if (a->head == (a->o.join_address != NULL)) {
        fprintf(stderr, "manta start: give either --head or --address\n%s", START_USAGE);
        return 2;
    }
    return 0;
}

/* "tcp://127.0.0.1:6379" -> "127.0.0.1:6379" */
static const char *hostport(const char *address)
{
    return strncmp(address, "tcp://", 6) ? address : address + 6;
}

static void print_started(const mt_session_info *s, bool head)
{
    const char *hp = hostport(s->gcs_address);
    printf("Local node IP: %s\n\n", s->node_ip);
    printf("--------------------\nManta runtime started.\n--------------------\n\n");
    if (!head) {
        printf("To terminate the Manta runtime, run\n  manta stop\n");
        return;
    }
    printf("Next steps\n"
           "  To add another node to this Manta cluster, run\n"
           "    manta start --address='%s'\n\n"
           "  To connect to this Manta cluster from a C program on this machine:\n"
           "    mt_init(NULL);\n"
           "  or from anywhere, point the driver at the control store:\n"
           "    MANTA_ADDRESS='%s' ./driver\n\n"
           "  To see the status of the cluster, use\n"
           "    manta status\n\n"
           "  To terminate the Manta runtime, run\n"
           "    manta stop\n",
           hp, hp);
    fflush(stdout);
}

static volatile sig_atomic_t g_stop_signal;
static void on_stop_signal(int sig) { g_stop_signal = sig; }

/* --block: watch the daemons; one dying ends `manta start` with status 1. */
static int block_until_death(const mt_session_info *s)
{
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    const int pids[2] = {s->gcs_pid, s->node_pid};
    const char *names[2] = {"gcs-server", "node-daemon"};
    for (;;) {
        for (int i = 0; i < 2; i++) {
            if (pids[i] <= 0) continue;
            int status;
            waitpid(pids[i], &status, WNOHANG);
            if (!mt_session_pid_alive(pids[i])) {
                fprintf(stderr, "Manta processes died unexpectedly:\n  %s (pid %d); see %s/logs/\n",
                        names[i], pids[i], s->session_dir);
                int all[256];
                size_t n = mt_session_pids(s->session_dir, all, 256);
                mt_session_kill(all, n, false, MT_CFG_INT64(daemon_stop_grace_ms));
                return 1;
            }
        }
        if (g_stop_signal) {
            int all[256];
            size_t n = mt_session_pids(s->session_dir, all, 256);
            mt_session_kill(all, n, false, MT_CFG_INT64(daemon_stop_grace_ms));
            return 0;
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int cli_start_main(int argc, char **argv)
{
    start_args a;
    int rc = start_parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    mt_session_info running;
    if (a.head && mt_cluster_running(a.o.temp_dir, &running)) {
        fprintf(stderr, "Manta is already running at %s (session %s); run 'manta stop' first\n",
                hostport(running.gcs_address), running.session_dir);
        return 1;
    }
    /* A session whose control store died while its node daemon lives on: a
     * new head would orphan that daemon (and its workers and objects). */
    char latest[MT_SESSION_PATH_MAX];
    if (a.head && mt_session_latest(a.o.temp_dir, latest, sizeof latest, NULL) == MT_OK &&
        mt_session_read_info(latest, &running, NULL) == MT_OK && running.gcs_pid > 0 &&
        !mt_session_pid_alive(running.gcs_pid) && mt_session_pid_alive(running.node_pid)) {
        fprintf(stderr, "manta start: the control store of session %s (pid %d) is gone but its node daemon "
                        "(pid %d) still runs; run 'manta stop' to end that session first\n",
                running.session_dir, running.gcs_pid, running.node_pid);
        return 1;
    }
    mt_error err;
    mt_error_clear(&err);
    mt_session_info s;
    if (mt_cluster_start(&a.o, &s, &err) != MT_OK) {
        fprintf(stderr, "manta start: %s\n", err.msg);
        const char *log = strstr(err.msg, "(log: ");
        if (log) {
            char path[MT_SESSION_PATH_MAX];
            snprintf(path, sizeof path, "%s", log + 6);
            path[strcspn(path, ")")] = 0;
            fprintf(stderr, "---- last lines of %s ----\n", path);
            mt_session_log_tail(path, 20, stderr);
        }
        return 1;
    }
    print_started(&s, a.head);
    return a.block ? block_until_death(&s) : 0;
}

/* ---- stop ---- */

/*
 * Stops the node daemon and workers first (the node daemon unregisters and
 * reaps its workers), then the control store.
 */
static size_t stop_session(const char *dir, int *pids, size_t n, bool force, int64_t grace_ms)
{
    char ready[MT_SESSION_PATH_MAX], v[32];
    int gcs = 0;
    if (mt_session_path(dir, "gcs.ready", ready, sizeof ready, NULL) == MT_OK &&
        mt_session_ready_get(ready, "pid", v, sizeof v, NULL) == MT_OK)
        gcs = atoi(v);
    size_t k = 0;
    bool has_gcs = false;
    for (size_t i = 0; i < n; i++) {
        if (pids[i] == gcs) has_gcs = true;
        else pids[k++] = pids[i];
    }
    size_t sent = k ? mt_session_kill(pids, k, force, grace_ms) : 0;
    if (has_gcs) sent += mt_session_kill(&gcs, 1, force, grace_ms);
    return sent;
}

/* Stops every session folder under the temp root that still has processes. */
int cli_stop_main(int argc, char **argv)
{
    bool force = false;
    const char *temp_dir = NULL;
    int64_t grace_ms = MT_CFG_INT64(daemon_stop_grace_ms);
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: manta stop [--force] [--grace-period SECONDS] [--temp-dir DIR]\n\n"
                   "stops every Manta process this user started on this machine\n");
            return 0;
        }
        if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f")) force = true;
        else if (!strcmp(argv[i], "--temp-dir") && i + 1 < argc) temp_dir = argv[++i];
        else if ((!strcmp(argv[i], "--grace-period") || !strcmp(argv[i], "-g")) && i + 1 < argc) {
            char *end;
            double g = strtod(argv[++i], &end);
            if (end == argv[i] || *end || !(g >= 0 && g <= 86400)) {
                fprintf(stderr, "manta stop: bad --grace-period '%s' (seconds in [0, 86400])\n", argv[i]);
                return 2;
            }
            grace_ms = (int64_t)(g * 1000);
        } else {
            fprintf(stderr, "usage: manta stop [--force] [--grace-period SECONDS] [--temp-dir DIR]\n");
            return 2;
        }
    }
    const char *root = mt_session_temp_root(temp_dir);
    DIR *d = opendir(root);
    size_t total = 0;
    while (d) {
        struct dirent *e = readdir(d);
        if (!e) break;
        if (strncmp(e->d_name, "session_", 8) || !strcmp(e->d_name, "session_latest")) continue;
        char dir[MT_SESSION_PATH_MAX];
        if (mt_session_path(root, e->d_name, dir, sizeof dir, NULL) != MT_OK) continue;
        int pids[1024];
        size_t n = mt_session_pids(dir, pids, 1024);
        if (n == 0) continue;
        total += stop_session(dir, pids, n, force, grace_ms);
        char sock[MT_SESSION_PATH_MAX];
        if (mt_session_path(dir, "sockets", sock, sizeof sock, NULL) == MT_OK) {
            DIR *sd = opendir(sock);
            struct dirent *se;
            while (sd && (se = readdir(sd))) {
                char p[MT_SESSION_PATH_MAX];
                if (se->d_name[0] != '.' && mt_session_path(sock, se->d_name, p, sizeof p, NULL) == MT_OK)
                    unlink(p);
            }
            if (sd) closedir(sd);
        }
    }
    if (d) closedir(d);
    if (total == 0)
        printf("Did not find any active Manta processes.\n");
    else
        printf("Stopped all %zu Manta processes.\n", total);
    return 0;
}

/* ---- status ---- */

mt_gcs_client *cli_gcs_connect(const char *cmd, const char *address, const char *temp_dir)
{
    mt_error err;
    mt_error_clear(&err);
    char dir[MT_SESSION_PATH_MAX];
    mt_session_info info;
    uint8_t token[MT_RPC_TOKEN_BYTES];
    if (mt_session_latest(temp_dir, dir, sizeof dir, &err) != MT_OK ||
        (!address && mt_session_read_info(dir, &info, &err) != MT_OK)) {
        fprintf(stderr, "manta %s: could not find any running Manta instance (%s)\n", cmd, err.msg);
        return NULL;
    }
    if (!address) address = info.gcs_address;
    mt_gcs_client *c = NULL;
    if (mt_session_load_token(dir, token, &err) != MT_OK ||
        mt_gcs_client_connect(address, token, "cli", MT_CFG_INT64(rpc_connect_timeout_ms), &c, &err) != MT_OK) {
        fprintf(stderr, "manta %s: %s\n", cmd, err.msg);
        return NULL;
    }
    return c;
}

int cli_status_main(int argc, char **argv)
{
    const char *address = NULL, *temp_dir = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: manta status [--address HOST:PORT] [--temp-dir DIR]\n\n"
                   "prints the cluster's nodes, resource usage and pending demands\n");
            return 0;
        }
        if (!strcmp(argv[i], "--address") && i + 1 < argc) address = argv[++i];
        else if (!strcmp(argv[i], "--temp-dir") && i + 1 < argc) temp_dir = argv[++i];
        else {
            fprintf(stderr, "usage: manta status [--address HOST:PORT] [--temp-dir DIR]\n");
            return 2;
        }
    }
    mt_error err;
    mt_error_clear(&err);
    mt_gcs_client *c = cli_gcs_connect("status", address, temp_dir);
    if (!c) return 1;
    Manta__ClusterStatusReply *r = NULL;
    if (mt_gcs_cluster_status(c, &r, &err) != MT_OK) {
        fprintf(stderr, "manta status: %s\n", err.msg);
        mt_gcs_client_close(c);
        return 1;
    }
    mt__gcs_status_print(r, stdout);
    mt_gcs_reply_free(r);
    mt_gcs_client_close(c);
    return 0;
}
