/* cmd_cluster.c — placeholder until the subcommand lands. */
#include <stdio.h>
#include "cli/cli_runtime.h"
int cli_start_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "manta: not available yet\n"); return 1; }
int cli_stop_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "manta: not available yet\n"); return 1; }
int cli_status_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "manta: not available yet\n"); return 1; }
