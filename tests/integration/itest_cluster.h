/*
 * itest_cluster.h — fixture for the integration tests: starts a real Manta
 * cluster (`manta start --head`) in a private temp dir on a free port, finds
 * its processes, stops it, and always kills whatever is left.
 *
 * Which processes belong to a cluster: every process whose environment holds
 * MANTA_ITEST_TAG=<tag> (set before `manta start`, inherited by the daemons,
 * workers and drivers started from here) or whose command line names the
 * cluster's private dir. Cleanup never depends on the test finishing: a
 * watchdog process (forked before anything else, single-threaded) waits on a
 * pipe whose write end only the test process holds; when the test process
 * ends for any reason (pass, failed assertion, crash, SIGKILL) the pipe
 * closes and the watchdog SIGKILLs every tagged process and removes the dir.
 *
 * Hosts: with ITEST_NETNS=1 (netns_run.sh) every node joined with
 * itest_join_at runs in a network namespace of its own, reached only by IP
 * across a bridge; tests name nodes through itest_node_ip / itest_node_ns
 * and the head through c->host_ip, so the same test runs either way.
 *
 * Threads: call from the test's main thread only. Helpers are header-static
 * (each test executable includes this once).
 */
#ifndef MANTA_ITEST_CLUSTER_H
#define MANTA_ITEST_CLUSTER_H

/* nftw, pipe2: include this header before any system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manta/core.h"

#define ITEST_UNUSED __attribute__((unused))
#define ITEST_MAX_PIDS 256

typedef struct itest_cluster {
    char dir[128];          /* private temp root (--temp-dir) */
    char tag[64];           /* MANTA_ITEST_TAG value */
    char session[512];      /* resolved session folder */
    char gcs_address[128];  /* from session.json */
    char node_address[128];
    char node_socket[640];
    int gcs_port;
    int gcs_pid, node_pid;
    int watchdog_fd;        /* write end of the watchdog pipe, -1 if none */
    int watchdog_pid;
    bool started;
    char host_ip[32];       /* the head's address: 127.0.0.1, or this test's bridge address (ITEST_NETNS) */
    int net;                /* ITEST_NETNS: this test's subnet, 10.(200 + net / 250).(net % 250).0/24 */
    int nnodes;             /* nodes joined with itest_join_at */
    struct itest_joined { char sub[32], ns[40], ip[32]; } nodes[8]; /* ns: its network namespace (ITEST_NETNS), or "" */
} itest_cluster;

/* ---- small utilities ----------------------------------------------------- */

static ITEST_UNUSED double itest_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static ITEST_UNUSED void itest_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Path of the manta CLI: env MANTA_BIN (ctest sets it), else the build tree. */
static ITEST_UNUSED const char *itest_manta_bin(void)
{
    const char *b = getenv("MANTA_BIN");
    return (b && *b) ? b : MT_BINARY_DIR "/manta";
}

/* Reads a whole small file into buf (NUL-terminated); returns bytes or -1. */
static ITEST_UNUSED ssize_t itest_read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    return (ssize_t)n;
}

/* Finds "key": in a flat JSON text; copies a string or number value. 0 if found. */
static ITEST_UNUSED int itest_json_get(const char *json, const char *key, char *out, size_t cap)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    while (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n')
        p++;
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p && *p != '"' && n + 1 < cap)
            out[n++] = *p++;
    } else {
        while (*p && *p != ',' && *p != '}' && *p != ' ' && *p != '\n' && n + 1 < cap)
            out[n++] = *p++;
    }
    out[n] = 0;
    return 0;
}

/* A TCP port that was free a moment ago on 127.0.0.1. */
static ITEST_UNUSED int itest_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    cr_assert(fd >= 0);
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static ITEST_UNUSED bool itest_pid_alive(int pid)
{
    if (pid <= 0)
        return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (itest_read_file(path, buf, sizeof buf) <= 0)
        return false;
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X'; /* zombies count as gone */
}

/* ---- process discovery --------------------------------------------------- */

/* Whether /proc/<pid> has `tag` in its environment or `dir` in its command line. */
static ITEST_UNUSED bool itest_proc_matches(int pid, const char *tag, const char *dir)
{
    static char buf[65536];
    char path[64], want[96];
    snprintf(want, sizeof want, "MANTA_ITEST_TAG=%s", tag);
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    ssize_t n = itest_read_file(path, buf, sizeof buf);
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
        if (strcmp(buf + i, want) == 0)
            return true;
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    n = itest_read_file(path, buf, sizeof buf);
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
        if (strstr(buf + i, dir))
            return true;
    return false;
}

/* Live (non-zombie) processes of the cluster, excluding this process; returns the count. */
static ITEST_UNUSED int itest_find_pids(const char *tag, const char *dir, int *out, int max,
                                        int exclude)
{
    DIR *d = opendir("/proc");
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == getpid() || pid == exclude)
            continue;
        if (itest_proc_matches((int)pid, tag, dir) && itest_pid_alive((int)pid))
            out[n++] = (int)pid;
    }
    closedir(d);
    return n;
}

/* Processes of the cluster whose command line contains `word` (e.g. "worker"). */
static ITEST_UNUSED int itest_find_role(const itest_cluster *c, const char *word, int *out,
                                        int max)
{
    int all[ITEST_MAX_PIDS], n = itest_find_pids(c->tag, c->dir, all, ITEST_MAX_PIDS,
                                                 c->watchdog_pid);
    int k = 0;
    for (int i = 0; i < n && k < max; i++) {
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/cmdline", all[i]);
        ssize_t len = itest_read_file(path, buf, sizeof buf);
        for (ssize_t j = 0; j < len; j += (ssize_t)strlen(buf + j) + 1)
            if (strcmp(buf + j, word) == 0) {
                out[k++] = all[i];
                break;
            }
    }
    return k;
}

static ITEST_UNUSED int itest_rm_entry(const char *p, const struct stat *sb, int flag,
                                       struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

/* SIGKILLs every process of the cluster until none is left (bounded). */
static ITEST_UNUSED int itest_kill_all(const char *tag, const char *dir, int exclude)
{
    int pids[ITEST_MAX_PIDS], killed = 0;
    for (int round = 0; round < 50; round++) {
        int n = itest_find_pids(tag, dir, pids, ITEST_MAX_PIDS, exclude);
        if (n == 0)
            break;
        for (int i = 0; i < n; i++)
            if (kill(pids[i], SIGKILL) == 0)
                killed++;
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
        itest_sleep_ms(20);
    }
    return killed;
}

/* ---- network namespaces (ITEST_NETNS) ------------------------------------- */

/*
 * With ITEST_NETNS=1 (tests/integration/netns_run.sh sets it, as root) the
 * head binds an address on a bridge made for this test process, and every
 * node joined with itest_join_at lives in a network namespace of its own,
 * wired to the bridge by a veth pair, with an address of its own: the nodes
 * reach each other only over those addresses, as separate hosts would.
 * Names carry the test process's pid (bridge mtb<pid>, namespaces
 * mti<pid>-<k>, veths mv<pid>x<k>), so the watchdog removes them even when
 * the test dies, and the next test removes them if the watchdog died too.
 */
static ITEST_UNUSED bool itest_netns_mode(void)
{
    const char *e = getenv("ITEST_NETNS");
    return e && *e && strcmp(e, "0") != 0;
}

/* Runs a shell command (formatted), its output discarded; returns its exit status. */
static ITEST_UNUSED __attribute__((format(printf, 1, 2))) int itest_sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " >/dev/null 2>&1", sizeof cmd - strlen(cmd) - 1);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Address `host` in subnet `net` (0..12499): 10.(200 + net / 250).(net % 250).host. */
static ITEST_UNUSED void itest_net_ip(int net, int host, char *out, size_t cap)
{
    snprintf(out, cap, "10.%d.%d.%d", 200 + (net / 250) % 50, net % 250, host);
}

/* Removes the namespaces, veth pairs and the bridge of test process pid (safe when there are none). */
static ITEST_UNUSED void itest_net_drop(int pid)
{
    if (pid <= 0) return;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "mti%d-", pid);
    DIR *d = opendir("/run/netns");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) itest_sh("ip netns del %s", e->d_name);
    if (d) closedir(d);
    char veth[32]; /* a veth pair whose move into its namespace failed stays here */
    snprintf(veth, sizeof veth, "mv%dx", pid);
    if ((d = opendir("/sys/class/net"))) {
        while ((e = readdir(d)))
            if (!strncmp(e->d_name, veth, strlen(veth))) itest_sh("ip link del %s", e->d_name);
        closedir(d);
    }
    char br[32];
    snprintf(br, sizeof br, "/sys/class/net/mtb%d", pid);
    if (access(br, F_OK) == 0) itest_sh("ip link del mtb%d", pid);
}

/* Whether some interface here already has an address in subnet net (another test's bridge). */
static ITEST_UNUSED bool itest_net_taken(int net)
{
    char ip[32], cmd[96], line[256];
    itest_net_ip(net, 0, ip, sizeof ip);
    snprintf(cmd, sizeof cmd, "ip -o -4 addr show to %s/24 2>/dev/null", ip);
    FILE *f = popen(cmd, "r");
    bool taken = f && fgets(line, sizeof line, f) != NULL;
    if (f) pclose(f);
    return taken;
}

/*
 * The bridge and the head's address on it (ITEST_NETNS). Under a lock
 * shared by all test processes it first removes what tests that died
 * without their watchdog left (bridges mtb<pid> of pids gone), then takes
 * the first free subnet from one its pid suggests.
 */
static ITEST_UNUSED void itest_net_up(itest_cluster *c)
{
    int pid = (int)getpid();
    int lock = open("/run/manta-itest-net.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    cr_assert_geq(lock, 0, "cannot open /run/manta-itest-net.lock: %s", strerror(errno));
    while (flock(lock, LOCK_EX) != 0 && errno == EINTR) {
    }
    DIR *d = opendir("/sys/class/net");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int other = 0;
        if (sscanf(e->d_name, "mtb%d", &other) == 1 && other > 0 && other != pid && kill(other, 0) != 0 && errno == ESRCH)
            itest_net_drop(other);
    }
    if (d) closedir(d);
    itest_net_drop(pid);
    c->net = -1;
    for (int i = 0; i < 12500 && c->net < 0; i++)
        if (!itest_net_taken((pid + i) % 12500)) c->net = (pid + i) % 12500;
    cr_assert_geq(c->net, 0, "no free 10.x.y.0/24 subnet for the test bridge");
    itest_net_ip(c->net, 1, c->host_ip, sizeof c->host_ip);
    int rc = itest_sh("ip link add mtb%d type bridge && ip addr add %s/24 dev mtb%d && ip link set mtb%d up", pid,
                      c->host_ip, pid, pid);
    flock(lock, LOCK_UN);
    close(lock);
    cr_assert_eq(rc, 0, "cannot make bridge mtb%d with %s (ITEST_NETNS needs root and ip(8))", pid, c->host_ip);
}

/* A namespace for the next joined node, wired to the bridge; its name and address go to n. */
static ITEST_UNUSED void itest_net_add(itest_cluster *c, char *ns, size_t ns_cap, char *ip, size_t ip_cap)
{
    int pid = (int)getpid(), k = c->nnodes + 2;
    snprintf(ns, ns_cap, "mti%d-%d", pid, k);
    itest_net_ip(c->net, k, ip, ip_cap);
    char v[32], p[32]; /* at most 13 characters (pid_max is 2^22): interface names end at 15 */
    snprintf(v, sizeof v, "mv%dx%d", pid, k);
    snprintf(p, sizeof p, "mp%dx%d", pid, k);
    cr_assert_eq(itest_sh("ip netns add %s && ip link add %s type veth peer name %s && ip link set %s netns %s && "
                          "ip link set %s master mtb%d up && ip netns exec %s ip addr add %s/24 dev %s && "
                          "ip netns exec %s ip link set %s up && ip netns exec %s ip link set lo up",
                          ns, v, p, p, ns, v, pid, ns, ip, p, ns, p, ns),
                 0, "cannot make namespace %s with %s", ns, ip);
}

/* The watchdog: blocks until the test process is gone, then cleans up. */
static ITEST_UNUSED void itest_watchdog_main(int rfd, const char *tag, const char *dir)
{
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    char b;
    while (read(rfd, &b, 1) != 0 && errno == EINTR) {
    }
    itest_kill_all(tag, dir, getpid());
    itest_net_drop(atoi(tag)); /* the tag starts with the test process's pid */
    if (!getenv("ITEST_KEEP"))
        nftw(dir, itest_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    _exit(0);
}

/* ---- running the CLI ------------------------------------------------------ */

/*
 * Runs `manta ARGS...` (NULL-terminated argv after the program) inside
 * network namespace ns (`ip netns exec`; NULL or "": here), stdout and
 * stderr into out (NUL-terminated, truncated); returns the exit status, or
 * -1 on timeout (the child is killed).
 */
static ITEST_UNUSED int itest_run_cli_in(const char *ns, char *const *args, char *out, size_t cap, int timeout_ms)
{
    char path[160];
    snprintf(path, sizeof path, "%s/itest-cli-%d.out", P_tmpdir, (int)getpid());
    char *argv[40];
    int argc = 0;
    if (ns && *ns) {
        argv[argc++] = "ip", argv[argc++] = "netns", argv[argc++] = "exec";
        argv[argc++] = (char *)ns;
    }
    argv[argc++] = (char *)itest_manta_bin();
    for (int i = 0; args[i] && argc < 39; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1), dup2(fd, 2);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    double deadline = itest_now() + timeout_ms / 1000.0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (itest_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        itest_sleep_ms(10);
    }
    if (out)
        itest_read_file(path, out, cap);
    unlink(path);
    if (status == -1)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* itest_run_cli_in here. */
static ITEST_UNUSED int itest_run_cli(char *const *args, char *out, size_t cap, int timeout_ms)
{
    return itest_run_cli_in(NULL, args, out, cap, timeout_ms);
}

/* ---- cluster lifecycle ---------------------------------------------------- */

/* Creates the private dir, the tag and the watchdog. Call first in every test. */
static ITEST_UNUSED void itest_prepare(itest_cluster *c)
{
    memset(c, 0, sizeof *c);
    c->watchdog_fd = -1;
    /* Short root: unix socket paths (<session>/sockets/w-<40 hex>.sock) must fit in 108 bytes. */
    const char *root = getenv("TMPDIR");
    if (!root || !*root || strlen(root) > 8)
        root = P_tmpdir;
    snprintf(c->dir, sizeof c->dir, "%s/mti.XXXXXX", root);
    cr_assert_not_null(mkdtemp(c->dir), "mkdtemp %s: %s", c->dir, strerror(errno));
    snprintf(c->tag, sizeof c->tag, "%d-%ld-%s", (int)getpid(), (long)time(NULL),
             strrchr(c->dir, '.') + 1);
    setenv("MANTA_ITEST_TAG", c->tag, 1);
    setenv("MANTA_TEMP_DIR", c->dir, 1);
    int p[2];
    cr_assert(pipe2(p, O_CLOEXEC) == 0);
    fflush(NULL);
    pid_t w = fork();
    cr_assert(w >= 0);
    if (w == 0) {
        close(p[1]);
        for (int fd = 3; fd < 1024; fd++)
            if (fd != p[0])
                close(fd);
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
        itest_watchdog_main(p[0], c->tag, c->dir);
    }
    close(p[0]);
    c->watchdog_fd = p[1];
    c->watchdog_pid = w;
    snprintf(c->host_ip, sizeof c->host_ip, "127.0.0.1");
    if (itest_netns_mode()) itest_net_up(c);
}

/* Reads session_latest/session.json into c. 0 on success. */
static ITEST_UNUSED int itest_load_session(itest_cluster *c)
{
    char link[256], json[8192], v[64];
    snprintf(link, sizeof link, "%s/session_latest", c->dir);
    if (!realpath(link, c->session))
        return -1;
    char path[700];
    snprintf(path, sizeof path, "%s/session.json", c->session);
    if (itest_read_file(path, json, sizeof json) <= 0)
        return -1;
    itest_json_get(json, "gcs_address", c->gcs_address, sizeof c->gcs_address);
    itest_json_get(json, "node_address", c->node_address, sizeof c->node_address);
    itest_json_get(json, "node_socket", c->node_socket, sizeof c->node_socket);
    if (itest_json_get(json, "gcs_pid", v, sizeof v) == 0)
        c->gcs_pid = atoi(v);
    if (itest_json_get(json, "node_pid", v, sizeof v) == 0)
        c->node_pid = atoi(v);
    return 0;
}

/*
 * `manta start --head` with the private temp dir and a free port, plus
 * `extra` arguments (NULL-terminated list, may be NULL). Asserts success.
 */
static ITEST_UNUSED void itest_start(itest_cluster *c, const char *const *extra)
{
    char port[16], out[8192];
    c->gcs_port = itest_free_port();
    snprintf(port, sizeof port, "%d", c->gcs_port);
    char *args[28] = {"start", "--head", "--temp-dir", c->dir, "--port", port};
    int n = 6;
    bool has_ip = false;
    for (int i = 0; extra && extra[i] && n < 25; i++) {
        has_ip |= !strcmp(extra[i], "--node-ip-address");
        args[n++] = (char *)extra[i];
    }
    if (itest_netns_mode() && !has_ip) args[n++] = "--node-ip-address", args[n++] = c->host_ip;
    args[n] = NULL;
    double t0 = itest_now();
    int rc = itest_run_cli(args, out, sizeof out, 60000);
    cr_assert_eq(rc, 0, "manta start --head exited %d after %.1f s:\n%s", rc, itest_now() - t0,
                 out);
    cr_assert_eq(itest_load_session(c), 0, "no session.json under %s after manta start:\n%s",
                 c->dir, out);
    cr_assert(itest_pid_alive(c->gcs_pid), "control store pid %d not alive", c->gcs_pid);
    cr_assert(itest_pid_alive(c->node_pid), "node daemon pid %d not alive", c->node_pid);
    c->started = true;
}

/* Number of live processes of the cluster right now. */
static ITEST_UNUSED int itest_count(const itest_cluster *c)
{
    int pids[ITEST_MAX_PIDS];
    return itest_find_pids(c->tag, c->dir, pids, ITEST_MAX_PIDS, c->watchdog_pid);
}

/* Waits up to timeout_ms for the cluster to have no live process; returns what is left. */
static ITEST_UNUSED int itest_wait_gone(const itest_cluster *c, int timeout_ms)
{
    double deadline = itest_now() + timeout_ms / 1000.0;
    int n;
    while ((n = itest_count(c)) > 0 && itest_now() < deadline) {
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
        itest_sleep_ms(50);
    }
    return n;
}

/* Describes the live processes of the cluster (for failure messages). */
static ITEST_UNUSED void itest_describe(const itest_cluster *c, char *out, size_t cap)
{
    int pids[ITEST_MAX_PIDS];
    int n = itest_find_pids(c->tag, c->dir, pids, ITEST_MAX_PIDS, c->watchdog_pid);
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < n && used + 200 < cap; i++) {
        char path[64], buf[160];
        snprintf(path, sizeof path, "/proc/%d/cmdline", pids[i]);
        ssize_t len = itest_read_file(path, buf, sizeof buf);
        for (ssize_t j = 0; j + 1 < len; j++)
            if (!buf[j])
                buf[j] = ' ';
        used += (size_t)snprintf(out + used, cap - used, " [%d: %s]", pids[i], buf);
    }
}

/*
 * `manta stop` (graceful) and asserts that no process of this cluster is
 * left within 15 s. Whatever is left is killed anyway.
 */
static ITEST_UNUSED void itest_stop_check(itest_cluster *c)
{
    char out[4096], left[4096];
    char *args[] = {"stop", "--temp-dir", c->dir, NULL};
    int rc = itest_run_cli(args, out, sizeof out, 30000);
    if (rc == 2) { /* no --temp-dir flag: MANTA_TEMP_DIR (set in itest_prepare) scopes it */
        char *plain[] = {"stop", NULL};
        rc = itest_run_cli(plain, out, sizeof out, 30000);
    }
    int n = itest_wait_gone(c, 15000);
    itest_describe(c, left, sizeof left);
    c->started = false;
    itest_kill_all(c->tag, c->dir, c->watchdog_pid);
    cr_expect_eq(rc, 0, "manta stop exited %d:\n%s", rc, out);
    cr_assert_eq(n, 0, "%d processes of the session left after manta stop:%s\nstop said: %s", n,
                 left, out);
}

/* Teardown (use as .fini): kill everything, close the watchdog pipe (it removes the dir). */
static ITEST_UNUSED void itest_teardown(itest_cluster *c)
{
    if (!c->dir[0])
        return;
    itest_kill_all(c->tag, c->dir, c->watchdog_pid);
    itest_net_drop((int)getpid());
    if (c->watchdog_fd >= 0) {
        close(c->watchdog_fd);
        c->watchdog_fd = -1;
        waitpid(c->watchdog_pid, NULL, 0);
    }
    c->dir[0] = 0;
}

/* As itest_teardown, stopping the node joined under <dir>/<sub> with `manta stop` first. */
static ITEST_UNUSED void itest_teardown_joined(itest_cluster *c, const char *sub)
{
    char dir[300], out[4096];
    snprintf(dir, sizeof dir, "%s/%s", c->dir, sub);
    char *args[] = {"stop", "--temp-dir", dir, NULL};
    if (c->dir[0]) itest_run_cli(args, out, sizeof out, 20000);
    itest_teardown(c);
}

/*
 * Re-runs this test executable as a second process with ITEST_ROLE=role and
 * `env` (one extra "NAME=value", or NULL) added, stdout+stderr to out_path,
 * inside network namespace ns (NULL or "": this one); a constructor in the
 * test file dispatches on ITEST_ROLE before Criterion's main. Returns the
 * child's pid.
 */
static ITEST_UNUSED pid_t itest_spawn_role_in(const char *ns, const char *role, const char *env, const char *out_path)
{
    extern char **environ;
    char role_env[64], self[4096];
    snprintf(role_env, sizeof role_env, "ITEST_ROLE=%s", role);
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(sl, 0);
    self[sl] = 0;
    char *envp[256];
    int n = 0;
    for (char **e = environ; *e && n < 252; e++)
        if (strncmp(*e, "ITEST_", 6) != 0)
            envp[n++] = *e;
    envp[n++] = role_env;
    if (env)
        envp[n++] = (char *)env;
    envp[n] = NULL;
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert(fd >= 0, "%s: %s", out_path, strerror(errno));
    char *plain[] = {"itest-role", (char *)role, NULL};
    char *in_ns[] = {"ip", "netns", "exec", (char *)ns, self, (char *)role, NULL};
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(fd, 1), dup2(fd, 2);
        if (ns && *ns) execvpe("ip", in_ns, envp);
        else execve(self, plain, envp);
        _exit(127);
    }
    close(fd);
    return pid;
}

static ITEST_UNUSED pid_t itest_spawn_role(const char *role, const char *env, const char *out_path)
{
    return itest_spawn_role_in(NULL, role, env, out_path);
}

/*
 * Joins a node daemon to the started cluster (`manta start --address`) in
 * <dir>/<sub> with 1 CPU, a 256 MiB store and `resources_json` (may be
 * NULL); its temp dir goes to bdir. `ip` is its --node-ip-address (NULL:
 * the default, 127.0.0.1); with ITEST_NETNS the node runs in a network
 * namespace of its own instead, at the address itest_node_ip names. Stop
 * it with `manta stop --temp-dir bdir` (itest_teardown removes the namespace).
 */
static ITEST_UNUSED void itest_join_at(itest_cluster *c, const char *sub, const char *resources_json, const char *ip,
                                       char *bdir, size_t cap)
{
    char tok[128] = "", path[700], addr[64], out[8192];
    snprintf(path, sizeof path, "%s/token", c->session);
    cr_assert_gt(itest_read_file(path, tok, sizeof tok), 0, "no token in %s", c->session);
    tok[strcspn(tok, "\n")] = 0;
    snprintf(bdir, cap, "%s/%s", c->dir, sub);
    cr_assert_eq(mkdir(bdir, 0700), 0);
    cr_assert_lt(c->nnodes, (int)(sizeof c->nodes / sizeof *c->nodes), "too many joined nodes");
    struct itest_joined *n = &c->nodes[c->nnodes];
    snprintf(n->sub, sizeof n->sub, "%s", sub);
    n->ns[0] = 0;
    snprintf(n->ip, sizeof n->ip, "%s", ip ? ip : "127.0.0.1");
    if (itest_netns_mode()) itest_net_add(c, n->ns, sizeof n->ns, n->ip, sizeof n->ip);
    c->nnodes++;
    snprintf(addr, sizeof addr, "%s:%d", c->host_ip, c->gcs_port);
    char *args[] = {"start", "--address", addr, "--temp-dir", bdir, "--token", tok, "--num-cpus", "1",
                    "--object-store-memory", "268435456", "--resources", (char *)(resources_json ? resources_json : "{}"),
                    "--node-ip-address", n->ip, NULL};
    int rc = itest_run_cli_in(n->ns, args, out, sizeof out, 60000);
    cr_assert_eq(rc, 0, "joining node %s at %s exited %d:\n%s", sub, n->ip, rc, out);
}

static ITEST_UNUSED void itest_join(itest_cluster *c, const char *sub, const char *resources_json, char *bdir,
                                    size_t cap)
{
    itest_join_at(c, sub, resources_json, NULL, bdir, cap);
}

/* The address of the node joined as sub (its node:<ip> resource names it). */
static ITEST_UNUSED const char *itest_node_ip(const itest_cluster *c, const char *sub)
{
    for (int i = 0; i < c->nnodes; i++)
        if (!strcmp(c->nodes[i].sub, sub)) return c->nodes[i].ip;
    cr_assert_fail("no node joined as %s", sub);
    return NULL;
}

/* The network namespace of the node joined as sub ("" when it shares this one). */
static ITEST_UNUSED const char *itest_node_ns(const itest_cluster *c, const char *sub)
{
    for (int i = 0; i < c->nnodes; i++)
        if (!strcmp(c->nodes[i].sub, sub)) return c->nodes[i].ns;
    return "";
}

/* Whether process pid was started under dir (its command line names it): which node ran a worker. */
static ITEST_UNUSED bool itest_runs_under(int pid, const char *dir)
{
    char path[64], buf[4096] = {0};
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    for (size_t i = 0; i < n; i++)
        if (!buf[i]) buf[i] = ' ';
    return strstr(buf, dir) != NULL;
}

/* kill -9 of every process started under dir (a joined node's daemon and its workers); returns how many. */
static ITEST_UNUSED int itest_kill_node(const char *dir)
{
    int killed = 0;
    for (int round = 0; round < 20; round++) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        int found = 0;
        while (d && (e = readdir(d))) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (*end || pid <= 0 || pid == getpid() || !itest_runs_under((int)pid, dir)) continue;
            if (kill((pid_t)pid, SIGKILL) == 0) found++;
        }
        if (d) closedir(d);
        killed += found;
        if (!found) break;
        usleep(20000);
    }
    return killed;
}

/* Connects this process as a driver to the started cluster (never starts one). */
static ITEST_UNUSED void itest_connect(const itest_cluster *c)
{
    mt_error err = {0};
    mt_init_options o = {.temp_dir = c->dir, .no_start = true};
    mt_status st = mt_init_ex(&o, &err);
    cr_assert_eq(st, MT_OK, "mt_init_ex: %s: %s", mt_status_name(st), err.msg);
    cr_assert_str_eq(mt_session_dir(), c->session);
    cr_assert(!mt_cluster_is_embedded());
}

/* Gets one int64 result (asserting success within timeout_ms). */
static ITEST_UNUSED int64_t itest_get_i64(mt_ref *r, int64_t timeout_ms)
{
    mt_value v = {0};
    mt_error err = {0};
    mt_status st = mt_get(&r, 1, timeout_ms, &v, &err);
    cr_assert_eq(st, MT_OK, "mt_get: %s: %s", mt_status_name(st), err.msg);
    int64_t x = 0;
    st = mt_value_i64(&v, &x, &err);
    cr_assert_eq(st, MT_OK, "mt_value_i64: %s: %s", mt_status_name(st), err.msg);
    mt_value_release(&v);
    return x;
}

/* Asserts the cluster still serves: manta.add_i64(40, 2) returns 42. */
static ITEST_UNUSED void itest_check_serving(void)
{
    mt_arg args[2] = {MT_ARG_I64(40), MT_ARG_I64(2)};
    mt_ref *r = NULL;
    mt_error err = {0};
    cr_assert_eq(mt_task_submit("manta.add_i64", args, 2, NULL, &r, &err), MT_OK, "%s",
                 err.msg);
    cr_assert_eq(itest_get_i64(r, 30000), 42);
    mt_ref_release(r);
}

/* Calls actor a's "incr" n times and checks it answers 1..n (a fresh manta.Counter). */
static ITEST_UNUSED void itest_counter_counts_to(mt_actor *a, int n)
{
    mt_error err = {0};
    for (int i = 1; i <= n; i++) {
        mt_ref *r = NULL;
        cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r, &err), MT_OK, "%s", err.msg);
        cr_assert_eq(itest_get_i64(r, 30000), i);
        mt_ref_release(r);
    }
}

/*
 * Calls actor a's "incr" after its worker or node was killed, without
 * waiting between calls: the first call may fail only if it went out before
 * the driver saw the death (it was in flight when the actor died; its
 * message goes in first_failure); the call after that one must wait for
 * the restart and answer. MT_OK with the answer in *x, else the failure in
 * err; *took gets the seconds from the first call.
 */
static ITEST_UNUSED mt_status itest_counter_incr_after_death(mt_actor *a, int64_t *x, double *took,
                                                             char first_failure[MT_ERROR_MSG_MAX], mt_error *err)
{
    mt_status st = MT_EIO;
    double t0 = itest_now();
    first_failure[0] = 0;
    for (int i = 0; i < 2 && st != MT_OK; i++) {
        mt_ref *r = NULL;
        mt_value v;
        st = mt_actor_call(a, "incr", NULL, 0, 1, &r, err);
        if (st == MT_OK) st = mt_get(&r, 1, 30000, &v, err);
        if (st == MT_OK) st = mt_value_i64(&v, x, err), mt_value_release(&v);
        if (r) mt_ref_release(r);
        if (st != MT_OK && i == 0) {
            snprintf(first_failure, MT_ERROR_MSG_MAX, "%s", err->msg);
            if (!strstr(err->msg, " died")) break; /* any other failure is the answer */
        }
    }
    *took = itest_now() - t0;
    return st;
}

#endif /* MANTA_ITEST_CLUSTER_H */
