/*
 * cmd_node.c — `manta node-daemon`: parses the daemon's flags and runs it
 * (src/node). Internal subcommand started by `manta start` / mt_init().
 * Main thread only. Exit status: 0 after a clean shutdown, 1 when the daemon
 * could not start (message on stderr and in logs/node.log), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_runtime.h"
#include "node/node.h"

static const char *USAGE =
    "usage: manta node-daemon --session-dir DIR [--gcs-address tcp://IP:PORT] [--head]\n"
    "         [--num-cpus N] [--num-gpus N] [--resources JSON] [--object-store-memory BYTES]\n"
    "         [--node-ip-address IP] [--port P]\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "manta: node-daemon: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", USAGE);
    return 2;
}

/* A number in [0, 9e13]: the resource limit (node_res.c), and exact as an int64 (no UB casts). */
static bool parse_num(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0 && v <= 9e13)) return false;
    *out = v;
    return true;
}

/* Applies option `name` with `val`; returns 0, or 2 after printing a usage error. */
static int apply(mt_node_options *o, const char *name, const char *val)
{
    double d;
    if (!strcmp(name, "--session-dir")) o->session_dir = val;
    else if (!strcmp(name, "--gcs-address")) o->gcs_address = val;
    else if (!strcmp(name, "--resources")) o->resources_json = val;
    else if (!strcmp(name, "--node-ip-address")) o->node_ip = val;
    else if (!strcmp(name, "--worker-program")) o->worker_program = val;
    else if (!strcmp(name, "--num-cpus") || !strcmp(name, "--num-gpus")) {
        if (!parse_num(val, &d)) return usage_error("bad number '%s'", val);
        if (name[6] == 'c') o->num_cpus = d;
        else o->num_gpus = d;
    } else if (!strcmp(name, "--object-store-memory") || !strcmp(name, "--port")) {
        if (!parse_num(val, &d) || d != (double)(int64_t)d) return usage_error("bad integer '%s'", val);
        if (name[2] == 'p') {
            if (d > 65535) return usage_error("bad port '%s'", val);
            o->port = (int)d;
        } else {
            o->object_store_memory = (int64_t)d;
        }
    } else {
        return usage_error("unknown option '%s'", name);
    }
    return 0;
}

int cli_node_daemon_main(int argc, char **argv)
{
    mt_node_options o = {.num_cpus = -1, .num_gpus = -1};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (!strcmp(a, "--head")) {
            o.is_head = true;
            continue;
        }
        char name[64];
        const char *eq = strchr(a, '=');
        const char *val;
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
            if (i + 1 >= argc) return usage_error("option '%s' needs a value", a);
            val = argv[++i];
        }
        int rc = apply(&o, name, val);
        if (rc) return rc;
    }
    if (!o.session_dir) return usage_error("%s", "--session-dir is required");
    mt_error err;
    mt_error_clear(&err);
    if (mt_node_daemon_run(&o, &err) != MT_OK) {
        fprintf(stderr, "manta: node-daemon: %s\n", err.msg);
        return 1;
    }
    return 0;
}
