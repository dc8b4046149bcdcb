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
#include <stdint.h>

#include "manta/base.h"
#include "rpc/rpc.h"

#define MT_SESSION_PATH_MAX 4096

/* The contents of session.json. Strings are empty when absent. */
typedef struct mt_session_info {
    char session_dir[MT_SESSION_PATH_MAX];
    char gcs_address[256];   /* tcp://IP:PORT */
    char node_id[2 * MT_ID_SIZE + 1];
    char node_address[256];  /* tcp://IP:PORT */
    char node_socket[MT_SESSION_PATH_MAX + 8]; /* unix://PATH */
    char node_ip[64];
    int gcs_pid;             /* 0 when absent */
    int node_pid;
} mt_session_info;

/* The temp root: `temp_dir` if not NULL/empty, else config `temp_dir`. */
const char *mt_session_temp_root(const char *temp_dir);

/*
 * Creates <root>/session_<date>_<pid>/ with logs/, sockets/, spill/
 * (mode 0700 for the session folder) and points <root>/session_latest at it
 * (replacing the old link atomically). Writes the folder path into dir_out.
 * Does not create the token (see mt_rpc_token_create).
 */
mt_status mt_session_create(const char *temp_dir, char *dir_out, size_t cap, mt_error *err);

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

#endif /* MANTA_GCS_SESSION_H */
