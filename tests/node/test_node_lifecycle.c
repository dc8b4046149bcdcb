/*
 * test_node_lifecycle.c — the node daemon as a process: real `manta worker`
 * processes register, SIGTERM stops the workers, removes the socket and exits
 * 0; registration and heartbeats reach a real `manta gcs-server`; workers
 * that never register are killed and the lease request times out. Every test
 * kills what it started in the fini (daemons also die with the test via
 * PDEATHSIG).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcs/gcs_client.h"
#include "node/node_test_util.h"
#include "proto/node.pb-c.h"
#include "rpc/rpc.h"

static char g_dir[256];
static pid_t g_pids[2] = {-1, -1}; /* node daemon, control store */
static uint8_t g_token[MT_RPC_TOKEN_BYTES];

static void make_session(void) { nt_session_create(g_dir, "mt-nodel", g_token); }

static bool wait_file(const char *name, int ms)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    return nt_wait_path(path, ms);
}

static void read_key(const char *file, const char *key, char *out, size_t cap)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, file);
    FILE *f = fopen(path, "r");
    cr_assert(f != NULL, "%s", path);
    out[0] = '\0';
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == '=') {
            snprintf(out, cap, "%s", line + kl + 1);
            out[strcspn(out, "\n")] = '\0';
        }
    fclose(f);
}

static void fini(void)
{
    nt_stop_pid(&g_pids[0], 5000);
    nt_stop_pid(&g_pids[1], 5000);
    nt_session_remove(g_dir);
}

static mt_rpc_client *connect_node(void) { return nt_connect(g_dir, g_token); }

static Manta__RequestLeaseReply *lease(mt_rpc_client *c, int64_t timeout_ms, mt_status want, mt_error *err)
{
    Manta__RequestLeaseRequest rq = MANTA__REQUEST_LEASE_REQUEST__INIT;
    rq.timeout_ms = timeout_ms;
    ProtobufCMessage *r = NULL;
    mt_status st = mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, &rq.base,
                                      &manta__request_lease_reply__descriptor, 10000, &r, NULL, err);
    cr_assert_eq(st, want, "lease: %s %s", mt_status_name(st), err->msg);
    return (Manta__RequestLeaseReply *)r;
}

static void start_node(const char *gcs_address, const char *worker_program)
{
    char *argv[16] = {"manta", "node-daemon", "--session-dir", g_dir, "--num-cpus", "2",
                      "--object-store-memory", "33554432"};
    int k = 8;
    if (gcs_address) {
        argv[k++] = "--gcs-address";
        argv[k++] = (char *)gcs_address;
        argv[k++] = "--head";
    }
    if (worker_program) {
        argv[k++] = "--worker-program";
        argv[k++] = (char *)worker_program;
    }
    argv[k] = NULL;
    g_pids[0] = nt_spawn(argv);
}

TestSuite(node_lifecycle, .fini = fini, .timeout = 60);

Test(node_lifecycle, real_workers_register_and_sigterm_cleans_up)
{
    make_session();
    start_node(NULL, NULL);
    cr_assert(wait_file("node.ready", 10000), "node daemon did not become ready");
    char pid_text[32];
    read_key("node.ready", "pid", pid_text, sizeof pid_text);
    cr_assert_eq(atoi(pid_text), g_pids[0]);
    mt_rpc_client *c = connect_node();
    mt_error err;
    Manta__RequestLeaseReply *a = lease(c, 10000, MT_OK, &err); /* real `manta worker`s */
    Manta__RequestLeaseReply *b = lease(c, 10000, MT_OK, &err);
    pid_t wa = a->worker_pid, wb = b->worker_pid;
    cr_assert(wa > 0 && wb > 0 && wa != wb);
    protobuf_c_message_free_unpacked(&a->base, &mt_rpc_pb_allocator);
    protobuf_c_message_free_unpacked(&b->base, &mt_rpc_pb_allocator);
    mt_rpc_client_close(c);

    int status = nt_stop_pid(&g_pids[0], 5000);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "daemon status %d", status);
    cr_assert(kill(wa, 0) != 0 && errno == ESRCH, "worker %d survived the daemon", wa);
    cr_assert(kill(wb, 0) != 0 && errno == ESRCH, "worker %d survived the daemon", wb);
    char sock[320];
    snprintf(sock, sizeof sock, "%s/sockets/node.sock", g_dir);
    cr_assert(access(sock, F_OK) != 0, "node.sock left behind");
}

static Manta__NodeInfo *find_node(Manta__ClusterStatusReply *cs, const char *hex)
{
    for (size_t i = 0; i < cs->n_nodes; i++) {
        char h[2 * MT_ID_SIZE + 1];
        mt_id id;
        if (cs->nodes[i]->node_id.len != MT_ID_SIZE) continue;
        memcpy(id.bytes, cs->nodes[i]->node_id.data, MT_ID_SIZE);
        mt_id_hex(id, h);
        if (!strcmp(h, hex)) return cs->nodes[i];
    }
    return NULL;
}

static double res_get(const Manta__ResourceSet *s, const char *name)
{
    for (size_t i = 0; s && i < s->n_quantities; i++)
        if (!strcmp(s->quantities[i]->key, name)) return s->quantities[i]->value;
    return -1;
}

Test(node_lifecycle, registers_and_heartbeats_with_the_control_store)
{
    make_session();
    setenv("MANTA_HEARTBEAT_MS", "100", 1);
    char *gargv[] = {"manta", "gcs-server", "--session-dir", g_dir, "--port", "0", "--no-persist", NULL};
    g_pids[1] = nt_spawn(gargv);
    cr_assert(wait_file("gcs.ready", 10000), "control store did not become ready");
    char gaddr[256], hex[64];
    read_key("gcs.ready", "address", gaddr, sizeof gaddr);
    start_node(gaddr, NULL);
    cr_assert(wait_file("node.ready", 10000), "node daemon did not register");
    read_key("node.ready", "node_id", hex, sizeof hex);

    mt_gcs_client *g = NULL;
    mt_error err;
    cr_assert_eq(mt_gcs_client_connect(gaddr, g_token, "cli", 5000, &g, &err), MT_OK, "%s", err.msg);
    Manta__ClusterStatusReply *cs = NULL;
    cr_assert_eq(mt_gcs_cluster_status(g, &cs, &err), MT_OK, "%s", err.msg);
    Manta__NodeInfo *ni = find_node(cs, hex);
    cr_assert(ni != NULL, "node %s not in the control store", hex);
    cr_assert(ni->alive && ni->is_head);
    cr_assert_eq(res_get(ni->resources_total, "CPU"), 2.0);
    mt_gcs_reply_free(cs);

    mt_rpc_client *c = connect_node(); /* a lease shows up in the next heartbeat */
    Manta__RequestLeaseReply *l = lease(c, 10000, MT_OK, &err);
    double cpu = -1;
    for (int i = 0; i < 100 && cpu != 1.0; i++) {
        usleep(20000);
        cr_assert_eq(mt_gcs_cluster_status(g, &cs, &err), MT_OK, "%s", err.msg);
        ni = find_node(cs, hex);
        cpu = ni ? res_get(ni->resources_available, "CPU") : -1;
        mt_gcs_reply_free(cs);
    }
    cr_assert_eq(cpu, 1.0, "heartbeat did not report the leased CPU");
    protobuf_c_message_free_unpacked(&l->base, &mt_rpc_pb_allocator);
    mt_rpc_client_close(c);

    int status = nt_stop_pid(&g_pids[0], 5000); /* unregisters */
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_eq(mt_gcs_cluster_status(g, &cs, &err), MT_OK, "%s", err.msg);
    ni = find_node(cs, hex);
    cr_assert(ni == NULL || !ni->alive, "node still alive after a clean stop");
    mt_gcs_reply_free(cs);
    mt_gcs_client_close(g);
}

Test(node_lifecycle, workers_that_never_register_are_killed)
{
    make_session();
    char script[320];
    snprintf(script, sizeof script, "%s/silent-worker.sh", g_dir);
    FILE *f = fopen(script, "w");
    cr_assert(f != NULL);
    fputs("#!/bin/sh\necho silent worker $$\nexec sleep 600\n", f);
    fclose(f);
    chmod(script, 0700);
    setenv("MANTA_WORKER_START_TIMEOUT_MS", "300", 1);
    start_node(NULL, script);
    cr_assert(wait_file("node.ready", 10000));
    mt_rpc_client *c = connect_node();
    mt_error err;
    lease(c, 1000, MT_ETIMEOUT, &err);
    cr_assert_str_eq(err.msg, "lease request for {CPU: 1} timed out");
    mt_rpc_client_close(c);
    char log[512], line[512];
    snprintf(log, sizeof log, "%s/logs/node.log", g_dir);
    f = fopen(log, "r");
    cr_assert(f != NULL);
    bool seen = false;
    while (fgets(line, sizeof line, f)) seen = seen || strstr(line, "did not register in 300 ms");
    fclose(f);
    cr_assert(seen, "no NODE-WORKER-TIMEOUT line in node.log");
}
