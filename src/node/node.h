/*
 * node.h — the node daemon's entry point (`manta node-daemon`, src/cli/cmd_node.c).
 *
 * The daemon runs a uv loop on the calling (main) thread until SIGTERM/SIGINT
 * or a fatal start-up error; see src/node/README.md for what it owns.
 */
#ifndef MANTA_NODE_H
#define MANTA_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "manta/base.h"

typedef struct mt_node_options {
    const char *session_dir;    /* required: holds token, logs/, sockets/, spill/ */
    const char *gcs_address;    /* "tcp://IP:PORT"; NULL = run without a control store (tests) */
    bool is_head;
    double num_cpus;            /* < 0 = number of online CPUs */
    double num_gpus;            /* < 0 = 0 */
    const char *resources_json; /* {"name": quantity, ...} custom resources; NULL = none */
    int64_t object_store_memory; /* 0 = config object_store_memory (0 = store default) */
    const char *node_ip;        /* NULL = 127.0.0.1 */
    int port;                   /* TCP port; 0 = any */
    const char *worker_program; /* NULL = /proc/self/exe (tests substitute a fake worker) */
} mt_node_options;

/*
 * Runs the daemon to completion. Returns MT_OK after a clean shutdown, or the
 * start-up failure (err says what). Main thread only; installs signal handlers.
 */
mt_status mt_node_daemon_run(const mt_node_options *opts, mt_error *err);

/* Checks a --resources JSON object the way the daemon will read it
 * (numbers >= 0; CPU, GPU, memory, object_store_memory have their own flags). */
mt_status mt_node_resources_check(const char *json, mt_error *err);

#endif /* MANTA_NODE_H */
