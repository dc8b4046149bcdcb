/*
 * node_test_util.h — process and session helpers shared by the node daemon
 * tests: a fresh session folder with its auth token, `manta` subprocesses
 * that die with the test (PDEATHSIG), waiting for a file, stopping a child
 * with SIGTERM then SIGKILL, and connecting to the daemon's socket.
 *
 * Threads: the test's own thread only. Include after defining _GNU_SOURCE.
 */
#ifndef MT_TESTS_NODE_TEST_UTIL_H
#define MT_TESTS_NODE_TEST_UTIL_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpc/rpc.h"

static inline const char *nt_manta_bin(void)
{
    const char *b = getenv("MANTA_BIN");
    return b && b[0] ? b : MT_BINARY_DIR "/manta";
}

/* Makes a fresh folder $TMPDIR/<prefix>-XXXXXX in dir[256] with a new token file. */
static inline void nt_session_create(char dir[256], const char *prefix,
                                     uint8_t token[MT_RPC_TOKEN_BYTES])
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, 256, "%s/%s-XXXXXX", tmp && tmp[0] ? tmp : P_tmpdir, prefix);
    cr_assert(mkdtemp(dir) != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/token", dir);
    cr_assert_eq(mt_rpc_token_create(path, token, NULL), MT_OK);
}

static inline int nt_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

/* Removes the session folder (if any) and clears dir. */
static inline void nt_session_remove(char *dir)
{
    if (dir[0]) nftw(dir, nt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

/* fork+exec of `manta <argv…>` (argv[0] is the name), killed if this test process dies. */
static inline pid_t nt_spawn(char *const argv[])
{
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(9);
        execv(nt_manta_bin(), argv);
        _exit(127);
    }
    return pid;
}

static inline bool nt_wait_path(const char *path, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (access(path, F_OK) == 0) return true;
        usleep(10000);
    }
    return false;
}

/*
 * SIGTERM to *p, then SIGKILL if it has not exited within `ms`; sets *p to
 * -1. Returns the wait status, or -1 when it had to be killed (or *p <= 0).
 */
static inline int nt_stop_pid(pid_t *p, int ms)
{
    int status = -1;
    if (*p <= 0) return status;
    kill(*p, SIGTERM);
    for (int i = 0; i < ms / 10; i++) {
        if (waitpid(*p, &status, WNOHANG) == *p) {
            *p = -1;
            return status;
        }
        usleep(10000);
    }
    kill(*p, SIGKILL);
    waitpid(*p, &status, 0);
    *p = -1;
    return -1; /* did not stop in time */
}

/* A client of the node daemon of session `dir` (its sockets/node.sock). */
static inline mt_rpc_client *nt_connect(const char *dir, const uint8_t *token)
{
    char sock[320];
    snprintf(sock, sizeof sock, "unix://%s/sockets/node.sock", dir);
    mt_rpc_client *c = NULL;
    mt_error err;
    mt_status st = mt_rpc_client_connect(sock, token, "driver", 5000, &c, &err);
    cr_assert_eq(st, MT_OK, "connect: %s", err.msg);
    return c;
}

#endif /* MT_TESTS_NODE_TEST_UTIL_H */
