/*
 * cli_runtime.h — entry points of the cluster subcommands of `manta`.
 * Each returns the process exit status (0 ok, 1 failure, 2 usage).
 */
#ifndef MANTA_CLI_RUNTIME_H
#define MANTA_CLI_RUNTIME_H

int cli_start_main(int argc, char **argv);       /* manta start   (cmd_cluster.c) */
int cli_stop_main(int argc, char **argv);        /* manta stop    (cmd_cluster.c) */
int cli_status_main(int argc, char **argv);      /* manta status  (cmd_cluster.c) */
int cli_list_main(int argc, char **argv);        /* manta list    (cmd_list.c) */
int cli_summary_main(int argc, char **argv);     /* manta summary (cmd_list.c) */

/* Connects to the control store of `address`, or of the latest session under
 * temp_dir, with that session's token; prints "manta <cmd>: …" and returns
 * NULL when it cannot (cmd_cluster.c). */
struct mt_gcs_client;
struct mt_gcs_client *cli_gcs_connect(const char *cmd, const char *address, const char *temp_dir);
int cli_gcs_server_main(int argc, char **argv);  /* manta gcs-server (internal daemon, cmd_gcs.c) */
int cli_node_daemon_main(int argc, char **argv); /* manta node-daemon (internal daemon, cmd_node.c) */
int cli_worker_main(int argc, char **argv);      /* manta worker (internal, cmd_worker.c) */

#endif
