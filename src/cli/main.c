/*
 * main.c — the `manta` command: dispatches subcommands (`data` goes to
 * cmd_data.c). Runs on the main thread only; returns 0 on success, 1 on a
 * data/file error, 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli_int.h"
#include "cli/cli_runtime.h"
#include "manta/base.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: manta <command> [args]\n\n"
                 "commands:\n"
                 "  start    start Manta on this machine (--head for a new cluster)\n"
                 "  stop     stop the Manta processes this machine started\n"
                 "  status   print the cluster's nodes and resource usage\n"
                 "  list     list the cluster's nodes, actors, tasks, objects or placement groups (Ray's state API table or JSON)\n"
                 "  summary  summarise the cluster's tasks by function and state (Ray's ray summary tasks)\n"
                 "  data     inspect, convert and generate data files (manta data --help)\n"
                 "  config   print every tunable with its value\n"
                 "\nRun 'manta <command> --help' for its options; 'manta --version' for the version.\n");
}

int main(int argc, char **argv)
{
    mt_error err;
    mt_error_clear(&err);
    if (mt_config_load(&err) != MT_OK) {
        fprintf(stderr, "manta: %s\n", err.msg);
        return 2;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("manta %s\n", MT_VERSION_STRING);
        return 0;
    }
    if (!strcmp(argv[1], "data")) return cli_data_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "start")) return cli_start_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "stop")) return cli_stop_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "status")) return cli_status_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "list")) return cli_list_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "summary")) return cli_summary_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "gcs-server")) return cli_gcs_server_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "node-daemon")) return cli_node_daemon_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "worker")) return cli_worker_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "config")) {
        if (argc > 2) {
            bool help = !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h");
            fprintf(help ? stdout : stderr,
                    "usage: manta config\n\nprints every tunable with its value; set one with "
                    "MANTA_<NAME>=VALUE in the environment\n");
            return help ? 0 : 2;
        }
        mt_config_dump(stdout);
        return 0;
    }
    fprintf(stderr, "manta: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
