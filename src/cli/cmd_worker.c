/*
 * cmd_worker.c — `manta worker --session-dir DIR --node-socket ADDR
 * --worker-id HEX`: the worker process the node daemon starts (internal).
 * Runs on the main thread; logs to <session>/logs/worker-<id>.log (the node
 * daemon also points stdout/stderr there). Exit 0 when the node goes away,
 * 1 on a start-up failure, 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli_runtime.h"
#include "dataset/ds_int.h"
#include "preprocess/pp_int.h"
#include "manta/base.h"
#include "worker/worker_int.h"

int cli_worker_main(int argc, char **argv)
{
    const char *dir = NULL, *sock = NULL, *id = NULL;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--session-dir")) dir = argv[i + 1];
        else if (!strcmp(argv[i], "--node-socket")) sock = argv[i + 1];
        else if (!strcmp(argv[i], "--worker-id")) id = argv[i + 1];
        else {
            fprintf(stderr, "manta worker: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!dir || !sock || !id || argc % 2) {
        fprintf(stderr, "usage: manta worker --session-dir DIR --node-socket ADDR --worker-id HEX\n");
        return 2;
    }
    char log[4200];
    mt_error err;
    snprintf(log, sizeof log, "%s/logs/worker-%s.log", dir, id);
    if (mt_log_open(log, &err) != MT_OK) fprintf(stderr, "manta worker: %s\n", err.msg);
    mt__dataset_register();    /* manta.data.* tasks */
    mt__preprocess_register(); /* the batch function preprocessors run */
    return mt__worker_main(dir, sock, id);
}
