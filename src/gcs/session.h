/*
 * session.h — the session folder convention shared by every Manta process.
 *
 * A session lives in <temp_dir>/session_<YYYY-MM-DD_HH-MM-SS>_<pid>/ with
 * `token` (0600), `session.json`, `gcs.ready`, `node.ready`, `logs/`,
 * `sockets/`, `spill/`; <temp_dir>/session_latest links to the newest one.
 * These helpers create that layout, write/read session.json atomically
 * (write a temp file, then rename), parse the `key=value` ready files, load
 * the token and locate the `manta` executable.
 *
 * Threads: every function is reentrant (no globals); callers pass buffers.
 */
#ifndef MANTA_GCS_SESSION_H
#define MANTA_GCS_SESSION_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "manta/base.h"
#include "rpc/rpc.h"

#define MT_SESSION_PATH_MAX 4096

/* The contents of session.json. Strings are empty when absent. */
typedef struct mt_session_info {
    char session_dir[MT_SESSION_PATH_MAX];
    char gcs_address[512];   /* tcp://IP:PORT */
    char node_id[2 * MT_ID_SIZE + 1];
    char node_address[512];  /* tcp://IP:PORT */
    char node_socket[MT_SESSION_PATH_MAX + 32]; /* unix://PATH */
    char node_ip[64];
    int gcs_pid;             /* 0 when absent */
    int node_pid;
} mt_session_info;

/* The temp root: `temp_dir` if not NULL/empty, else config `temp_dir`, else
 * the per-user /tmp/manta-<uid>. */
const char *mt_session_temp_root(const char *temp_dir);

/*
 * Creates <root>/session_<date>_<pid>/ with logs/, sockets/, spill/ (mode
 * 0700) and writes the folder path into dir_out. The root is created 0700
 * when missing and refused when another user owns it or group/other may
 * write it. session_latest is not touched (mt_session_point_latest does
 * that once the session is up, so a failed start changes nothing). Does not
 * create the token (see mt_rpc_token_create).
 */
mt_status mt_session_create(const char *temp_dir, char *dir_out, size_t cap, mt_error *err);

/* Points <root>/session_latest at `dir` (replacing the old link atomically). */
mt_status mt_session_point_latest(const char *temp_dir, const char *dir, mt_error *err);

/* MT_EINVAL unless `dir` is a directory owned by this user without group/other
 * write; `what` names it in the message ("temp root", "session folder"). */
mt_status mt_session_check_owner(const char *dir, const char *what, mt_error *err);

/*
 * Resolves <root>/session_latest into dir_out (an absolute path).
 * MT_ENOTFOUND when there is no session (no link, or a dangling one).
 */
mt_status mt_session_latest(const char *temp_dir, char *dir_out, size_t cap, mt_error *err);

/* Joins session_dir and a relative name ("logs/gcs.log") into out. MT_ERANGE if too long. */
mt_status mt_session_path(const char *session_dir, const char *name, char *out, size_t cap,
                          mt_error *err);

/* Writes <info->session_dir>/session.json atomically (mode 0600). */
mt_status mt_session_write_info(const mt_session_info *info, mt_error *err);

/* Reads <session_dir>/session.json. MT_ENOTFOUND if missing, MT_EPARSE if malformed. */
mt_status mt_session_read_info(const char *session_dir, mt_session_info *out, mt_error *err);

/* Loads <session_dir>/token (see mt_rpc_token_load). */
mt_status mt_session_load_token(const char *session_dir, uint8_t token[MT_RPC_TOKEN_BYTES],
                                mt_error *err);

/*
 * Writes a `key=value` ready file atomically: `lines` is the whole text
 * ("address=tcp://...\npid=12\n"). Readers never see a partial file.
 */
mt_status mt_session_write_ready(const char *path, const char *lines, mt_error *err);

/*
 * Looks up `key` in a `key=value` ready file and copies its value into out.
 * MT_ENOTFOUND when the file or the key is missing.
 */
mt_status mt_session_ready_get(const char *path, const char *key, char *out, size_t cap,
                               mt_error *err);

/*
 * Locates the `manta` executable: config `bin` (env MANTA_BIN), then
 * /proc/self/exe when this process is `manta`, then `manta` on PATH.
 * MT_ENOTFOUND when none is executable.
 */
mt_status mt_session_find_bin(char *out, size_t cap, mt_error *err);

/* True when process `pid` exists (and is not a zombie). */
bool mt_session_pid_alive(int pid);

/* ---- Daemons of a session (cluster_proc.c, cluster_start.c) ---- */

/*
 * Starts `bin` with `argv` (argv[0] included, NULL-terminated), stdin from
 * /dev/null, stdout/stderr appended to `log_path`, with no signal blocked.
 * Detached (`tied` false): in its own session (setsid), via posix_spawn.
 * Tied: in the caller's process group, and it gets SIGTERM when the calling
 * *thread* ends (PR_SET_PDEATHSIG; vfork + exec). Never plain fork, so it is
 * safe from threaded programs. *pid_out receives the child's pid.
 */
mt_status mt_session_spawn(const char *bin, char *const argv[], const char *log_path, bool tied, int *pid_out,
                           mt_error *err);

/*
 * Waits until the ready file `path` exists (polling every 2 ms) while `pid`
 * is alive. MT_ETIMEOUT after timeout_ms; MT_ESTATE when the process exited
 * first (its exit status in the message).
 */
mt_status mt_session_wait_ready(const char *path, int pid, int64_t timeout_ms, mt_error *err);

/*
 * The pids of every live process of a session: the daemons of session.json
 * and gcs.ready/node.ready, and any `manta` process whose command line names
 * the session folder (workers). Writes up to `cap` pids; returns the count.
 */
size_t mt_session_pids(const char *session_dir, int *pids, size_t cap);

/*
 * Signals `pids` with SIGTERM (SIGKILL when force), waits up to grace_ms for
 * them to exit, then SIGKILLs the rest and waits for them to be gone.
 * Returns how many were signalled.
 */
size_t mt_session_kill(const int *pids, size_t n, bool force, int64_t grace_ms);

/* Appends the last `lines` lines of the file `path` to `out` (for error reports). */
void mt_session_log_tail(const char *path, int lines, FILE *out);

typedef struct mt_cluster_start_options {
    const char *temp_dir;            /* NULL = config temp_dir */
    int port;                        /* control store port; -1 = config gcs_port; 0 = any free */
    const char *node_ip;             /* NULL = 127.0.0.1 */
    const char *num_cpus;            /* passed to the node daemon as text; NULL = its default */
    const char *num_gpus;
    const char *resources;           /* JSON object */
    const char *object_store_memory; /* bytes */
    const char *join_address;        /* non-NULL: join this control store (no gcs-server) */
    const char *token_file;          /* join: token file to copy */
    const char *token;               /* join: token as hex; NULL = token_file, config token, latest session's */
    int64_t timeout_ms;              /* per daemon; 0 = config daemon_start_timeout_ms */
    /* An embedded cluster (mt_init): daemons tied to the calling thread
     * (mt_session_spawn), session_latest left alone (other drivers join it
     * only by its address). */
    bool embedded;
} mt_cluster_start_options;

/*
 * Creates a session folder + token and starts `manta gcs-server` (head) and
 * `manta node-daemon`, waits for both to be ready and writes session.json
 * (filled into *out). On failure every process it started is killed and
 * the message names the daemon and ends with its log path.
 */
mt_status mt_cluster_start(const mt_cluster_start_options *o, mt_session_info *out, mt_error *err);

/*
 * True when the latest session under temp_dir has its daemons alive and its
 * control store answering on TCP; *out (may be NULL) receives session.json.
 */
bool mt_cluster_running(const char *temp_dir, mt_session_info *out);

#endif /* MANTA_GCS_SESSION_H */
