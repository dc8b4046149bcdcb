/* cmd_worker.c — placeholder until the subcommand lands. */
#include <stdio.h>
#include "cli/cli_runtime.h"
int cli_worker_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "manta: not available yet\n"); return 1; }
