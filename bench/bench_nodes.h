/*
 * bench_nodes.h — benchmarks that need a cluster of separate node daemons
 * on this host: `manta start --head` in a root folder, then nodes joined
 * with `manta start --address` in root/node1, root/node2, …; all stopped
 * at exit. MANTA_BIN names the manta binary (bn_find_manta). Also the
 * monotonic clock the cluster benchmarks time with.
 */
#ifndef MANTA_BENCH_NODES_H
#define MANTA_BENCH_NODES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libgen.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char bn_root[PATH_MAX / 2], bn_token[256];
static int bn_port, bn_nodes, bn_joined; /* bn_joined: node folders made so far (node1..) */
static bool bn_up[64];

static double bn_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sets MANTA_BIN, when unset, to the manta binary beside this build tree's bench folder. */
static void bn_find_manta(void)
{
    if (getenv("MANTA_BIN")) return;
    char exe[PATH_MAX] = "", bin[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    snprintf(bin, sizeof bin, "%s/../manta", dirname(exe));
    if (access(bin, X_OK) == 0) setenv("MANTA_BIN", bin, 1);
}

static void bn_fail(const char *what)
{
    fprintf(stderr, "bench: %s failed\n", what);
    exit(1);
}

static char bn_tmp[PATH_MAX / 2];

static void bn_remove_tmp(void)
{
    char cmd[PATH_MAX];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", bn_tmp);
    if (bn_tmp[0] && system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", bn_tmp);
}

/*
 * A fresh temp folder <tmpdir>/<prefix>.XXXXXX, removed at exit (registered
 * before bn_start, so it goes after the nodes are stopped, also on failure).
 */
static const char *bn_make_tmp(const char *prefix)
{
    snprintf(bn_tmp, sizeof bn_tmp, "%s/%s.XXXXXX", P_tmpdir, prefix);
    if (!mkdtemp(bn_tmp)) bn_fail("mkdtemp");
    atexit(bn_remove_tmp);
    return bn_tmp;
}

static int bn_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* The temp dir of node i (0: the head). */
static void bn_dir(int i, char *buf, size_t cap)
{
    if (i) snprintf(buf, cap, "%s/node%d", bn_root, i);
    else snprintf(buf, cap, "%s", bn_root);
}

static void bn_stop_all(void)
{
    char cmd[PATH_MAX * 2], dir[PATH_MAX];
    for (int i = bn_joined; i >= 0; i--) {
        if (!bn_up[i]) continue;
        bn_dir(i, dir, sizeof dir);
        snprintf(cmd, sizeof cmd, "'%s' stop --temp-dir '%s' >/dev/null 2>&1", getenv("MANTA_BIN"), dir);
        if (system(cmd) != 0) fprintf(stderr, "bench: stopping node %d failed\n", i);
        bn_up[i] = false;
    }
}

/* Joins one more node with cpus CPUs; returns its index. */
static int bn_join(int cpus, int64_t store)
{
    char cmd[PATH_MAX * 2], dir[PATH_MAX];
    int i = ++bn_joined;
    if (i >= 64) bn_fail("joining a 64th node");
    bn_dir(i, dir, sizeof dir);
    if (mkdir(dir, 0700) != 0) bn_fail("mkdir");
    snprintf(cmd, sizeof cmd, "'%s' start --address 127.0.0.1:%d --temp-dir '%s' --token %s --num-cpus %d "
             "--object-store-memory %lld >/dev/null", getenv("MANTA_BIN"), bn_port, dir, bn_token, cpus, (long long)store);
    if (system(cmd) != 0) bn_fail("manta start --address");
    bn_up[i] = true;
    bn_nodes++;
    return i;
}

/* `manta start --head` in root, then nodes-1 joins, each with cpus CPUs and a store of `store` bytes. */
static void bn_start(const char *root, int nodes, int cpus, int64_t store)
{
    char cmd[PATH_MAX * 2], path[PATH_MAX];
    bn_port = bn_free_port();
    snprintf(bn_root, sizeof bn_root, "%s", root);
    snprintf(cmd, sizeof cmd, "'%s' start --head --temp-dir '%s' --port %d --num-cpus %d --object-store-memory %lld >/dev/null",
             getenv("MANTA_BIN"), root, bn_port, cpus, (long long)store);
    if (system(cmd) != 0) bn_fail("manta start --head");
    bn_up[0] = true;
    bn_nodes = 1;
    atexit(bn_stop_all);
    snprintf(path, sizeof path, "%s/session_latest/token", root);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(bn_token, sizeof bn_token, f)) bn_fail("reading the session token");
    fclose(f);
    bn_token[strcspn(bn_token, "\n")] = 0;
    for (int i = 1; i < nodes; i++) bn_join(cpus, store);
}

#endif /* MANTA_BENCH_NODES_H */
