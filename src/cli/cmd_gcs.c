/*
 * cmd_gcs.c — `manta gcs-server --session-dir DIR --port P
 * [--node-ip-address IP] [--no-persist]`: the control store daemon (started
 * by `manta start`, not by users). Runs a uv loop on the main thread, logs
 * to <session>/logs/gcs.log, keeps its tables in <session>/gcs.db (SQLite),
 * writes <session>/gcs.ready (`address=…`, `pid=…`) once listening (and,
 * started again in a running session, its pid into session.json), and
 * exits 0 on SIGTERM/SIGINT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/config_keys.h"
#include "cli/cli_runtime.h"
#include "gcs/gcs_int.h"
#include "gcs/session.h"
#include "rpc/rpc.h"

typedef struct gcs_args {
    const char *session_dir;
    const char *ip;
    int port;
    bool persist;
} gcs_args;

static int parse(int argc, char **argv, gcs_args *a)
{
    a->session_dir = NULL;
    a->ip = "127.0.0.1";
    a->port = (int)MT_CFG_INT64(gcs_port);
    a->persist = true;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--session-dir") && v) a->session_dir = argv[++i];
        else if (!strcmp(argv[i], "--port") && v) a->port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--node-ip-address") && v) a->ip = argv[++i];
        else if (!strcmp(argv[i], "--no-persist")) a->persist = false;
        else {
            fprintf(stderr, "manta gcs-server: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!a->session_dir || a->port < 0 || a->port > 65535) {
        fprintf(stderr, "usage: manta gcs-server --session-dir DIR --port P [--node-ip-address IP]\n");
        return 2;
    }
    return 0;
}

static void on_signal(uv_signal_t *h, int signum)
{
    MT_LOG(MT_LOG_INFO, "GCS-STOP", "signal %d: shutting down", signum);
    uv_stop(h->loop);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static mt_status write_ready(const char *session_dir, const char *address, mt_error *err)
{
    char path[MT_SESSION_PATH_MAX], text[512];
    MT_RETURN_NOT_OK(mt_session_path(session_dir, "gcs.ready", path, sizeof path, err));
    snprintf(text, sizeof text, "address=%s\npid=%d\n", address, (int)getpid());
    return mt_session_write_ready(path, text, err);
}

static int serve(const gcs_args *a, uv_loop_t *loop, mt_error *err)
{
    uint8_t token[MT_RPC_TOKEN_BYTES];
    char addr[300], db[MT_SESSION_PATH_MAX];
    if (mt_session_load_token(a->session_dir, token, err) != MT_OK) return 1;
    if (mt_session_path(a->session_dir, "gcs.db", db, sizeof db, err) != MT_OK) return 1;
    snprintf(addr, sizeof addr, "tcp://%s:%d", a->ip, a->port);
    mt__gcs_server_options o = {.address = addr, .token = token,
                                .db_path = a->persist ? db : NULL};
    mt__gcs_server *srv = NULL;
    if (mt__gcs_server_start(loop, &o, &srv, err) != MT_OK) return 1;
    const char *bound = mt__gcs_server_address(srv);
    if (write_ready(a->session_dir, bound, err) != MT_OK) {
        mt__gcs_server_stop(srv);
        return 1;
    }
    MT_LOG(MT_LOG_INFO, "GCS-START", "control store listening on %s (pid %d)", bound, (int)getpid());
    /* started again in a running session (a head restart): the session now names this process */
    static mt_session_info info;
    mt_error e2;
    if (mt_session_read_info(a->session_dir, &info, NULL) == MT_OK && info.gcs_pid > 0 && info.gcs_pid != (int)getpid()) {
        info.gcs_pid = (int)getpid();
        if (mt_session_write_info(&info, &e2) != MT_OK) MT_LOG(MT_LOG_WARN, "GCS-START", "session.json: %s", e2.msg);
    }
    uv_signal_t sigterm, sigint;
    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_run(loop, UV_RUN_DEFAULT);
    mt__gcs_server_stop(srv);
    return 0;
}

int cli_gcs_server_main(int argc, char **argv)
{
    gcs_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc;
    mt_error err;
    mt_error_clear(&err);
    char log_path[MT_SESSION_PATH_MAX];
    if (mt_session_path(a.session_dir, "logs/gcs.log", log_path, sizeof log_path, &err) == MT_OK)
        mt_log_open(log_path, &err);
    if (MT_CFG_INT64(log_level) == MT_LOG_WARN) mt_log_set_level(MT_LOG_INFO); /* default: daemons log info */
    uv_loop_t loop;
    uv_loop_init(&loop);
    rc = serve(&a, &loop, &err);
    if (rc) {
        MT_LOG(MT_LOG_ERROR, "GCS-FAIL", "%s", err.msg);
        fprintf(stderr, "manta gcs-server: %s\n", err.msg);
    }
    uv_walk(&loop, close_walk, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    mt_log_open(NULL, NULL);
    return rc;
}
