/*
 * cluster_proc.c — process helpers for the daemons of a session: spawning
 * (detached: posix_spawn + setsid; tied: vfork + PR_SET_PDEATHSIG; output to
 * a log file), waiting for a ready file, finding every process of a session
 * and stopping them. Used by the CLI (`manta start/stop`) and by embedded
 * clusters; caller's thread.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcs/session.h"

extern char **environ;

/*
 * vfork + exec (no copy of the address space, as posix_spawn), so that the
 * child can ask for SIGTERM when its parent thread ends. The child only
 * makes system calls before exec.
 */
static mt_status spawn_tied(const char *bin, char *const argv[], const char *log_path, int *pid_out,
                            mt_error *err)
{
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (logfd < 0 || nullfd < 0) {
        mt_status st = mt_error_set_errno(err, MT_EIO, errno, "opening %s", logfd < 0 ? log_path : "/dev/null");
        if (logfd >= 0) close(logfd);
        if (nullfd >= 0) close(nullfd);
        return st;
    }
    sigset_t none;
    sigemptyset(&none);
    pid_t parent = getpid();
    pid_t pid = vfork();
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(127);
        if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0) _exit(127);
        sigprocmask(SIG_SETMASK, &none, NULL);
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

mt_status mt_session_spawn(const char *bin, char *const argv[], const char *log_path, bool tied,
                           int *pid_out, mt_error *err)
{
    if (tied) return spawn_tied(bin, argv, log_path, pid_out, err);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) return mt_error_set_errno(err, MT_EIO, rc, "starting %s %s", bin, argv[1]);
    *pid_out = (int)pid;
    return MT_OK;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* True (and the exit status in *status) when `pid` is our child and has exited. */
static bool child_exited(int pid, int *status)
{
    pid_t r = waitpid(pid, status, WNOHANG);
    return r == pid;
}

mt_status mt_session_wait_ready(const char *path, int pid, int64_t timeout_ms, mt_error *err)
{
    int64_t deadline = mt_time_now_ns() + timeout_ms * 1000000;
    for (;;) {
        if (access(path, F_OK) == 0) return MT_OK;
        int status = 0;
        if (child_exited(pid, &status) || !mt_session_pid_alive(pid)) {
            if (access(path, F_OK) == 0) return MT_OK;
            if (WIFEXITED(status))
                return mt_error_set(err, MT_ESTATE, "process %d exited with status %d", pid,
                                    WEXITSTATUS(status));
            if (WIFSIGNALED(status))
                return mt_error_set(err, MT_ESTATE, "process %d was killed by signal %d", pid,
                                    WTERMSIG(status));
            return mt_error_set(err, MT_ESTATE, "process %d exited", pid);
        }
        if (mt_time_now_ns() > deadline)
            return mt_error_set(err, MT_ETIMEOUT, "process %d not ready after %lld ms", pid,
                                (long long)timeout_ms);
        sleep_ms(2);
    }
}

static size_t add_pid(int *pids, size_t n, size_t cap, int pid)
{
    if (pid <= 0 || pid == (int)getpid() || !mt_session_pid_alive(pid)) return n;
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid) return n;
    if (n < cap) pids[n++] = pid;
    return n;
}

/* True when /proc/<pid>/cmdline is a manta process mentioning session_dir. */
static bool cmdline_names(int pid, const char *session_dir)
{
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = 0;
    const char *arg0 = strrchr(buf, '/');
    arg0 = arg0 ? arg0 + 1 : buf;
    if (strcmp(arg0, "manta") != 0) return false;
    size_t dl = strlen(session_dir);
    for (ssize_t off = 0; off < n; off += (ssize_t)strlen(buf + off) + 1)
        if (!strncmp(buf + off, session_dir, dl) && (buf[off + dl] == 0 || buf[off + dl] == '/'))
            return true;
    return false;
}

static int ready_pid(const char *session_dir, const char *name)
{
    char path[MT_SESSION_PATH_MAX], v[32];
    if (mt_session_path(session_dir, name, path, sizeof path, NULL) != MT_OK) return 0;
    return mt_session_ready_get(path, "pid", v, sizeof v, NULL) == MT_OK ? atoi(v) : 0;
}

size_t mt_session_pids(const char *session_dir, int *pids, size_t cap)
{
    size_t n = 0;
    mt_session_info info;
    if (mt_session_read_info(session_dir, &info, NULL) == MT_OK) {
        n = add_pid(pids, n, cap, info.node_pid);
        n = add_pid(pids, n, cap, info.gcs_pid);
    }
    n = add_pid(pids, n, cap, ready_pid(session_dir, "node.ready"));
    n = add_pid(pids, n, cap, ready_pid(session_dir, "gcs.ready"));
    DIR *d = opendir("/proc");
    if (!d) return n;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        if (cmdline_names((int)pid, session_dir)) n = add_pid(pids, n, cap, (int)pid);
    }
    closedir(d);
    return n;
}

static bool any_alive(const int *pids, size_t n)
{
    bool alive = false;
    for (size_t i = 0; i < n; i++) {
        int status;
        child_exited(pids[i], &status);
        if (mt_session_pid_alive(pids[i])) alive = true;
    }
    return alive;
}

size_t mt_session_kill(const int *pids, size_t n, bool force, int64_t grace_ms)
{
    size_t sent = 0;
    for (size_t i = 0; i < n; i++)
        if (kill(pids[i], force ? SIGKILL : SIGTERM) == 0) sent++;
    int64_t deadline = mt_time_now_ns() + grace_ms * 1000000;
    while (any_alive(pids, n) && mt_time_now_ns() < deadline) sleep_ms(5);
    if (any_alive(pids, n)) {
        for (size_t i = 0; i < n; i++)
            if (mt_session_pid_alive(pids[i])) kill(pids[i], SIGKILL);
        deadline = mt_time_now_ns() + 5000 * 1000000LL;
        while (any_alive(pids, n) && mt_time_now_ns() < deadline) sleep_ms(5);
    }
    return sent;
}

void mt_session_log_tail(const char *path, int lines, FILE *out)
{
    FILE *f = fopen(path, "re");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long start = size > 8192 ? size - 8192 : 0;
    fseek(f, start, SEEK_SET);
    char buf[8193];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    int seen = 0;
    size_t i = n;
    while (i > 0) {
        if (buf[i - 1] == '\n' && i != n && ++seen >= lines) break;
        i--;
    }
    fputs(buf + i, out);
    if (n && buf[n - 1] != '\n') fputc('\n', out);
}
