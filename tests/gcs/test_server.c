/*
 * test_server.c — a real `manta gcs-server` process on loopback (port 0, a
 * private session folder), driven through the blocking client: every
 * method, dead-node detection with a 300 ms timeout, a garbage connection,
 * SIGTERM and recovery of actors/KV from SQLite after a restart.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcs/gcs_client.h"
#include "gcs/session.h"

static char g_dir[256];
static char g_addr[512];
static uint8_t g_token[MT_RPC_TOKEN_BYTES];
static int g_pid;

static const char *manta_bin(void)
{
    const char *b = getenv("MANTA_BIN");
    return b && b[0] ? b : MT_BINARY_DIR "/manta";
}

static void start_server(void)
{
    char ready[300], log[300];
    snprintf(ready, sizeof ready, "%s/gcs.ready", g_dir);
    snprintf(log, sizeof log, "%s/logs/gcs.log", g_dir);
    unlink(ready);
    setenv("MANTA_NODE_DEAD_AFTER_MS", "300", 1);
    char *argv[] = {(char *)manta_bin(), "gcs-server", "--session-dir", g_dir, "--port", "0", NULL};
    mt_error err;
    cr_assert_eq(mt_session_spawn(manta_bin(), argv, log, false, &g_pid, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_session_wait_ready(ready, g_pid, 10000, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_session_ready_get(ready, "address", g_addr, sizeof g_addr, &err), MT_OK);
    char pid[32];
    cr_assert_eq(mt_session_ready_get(ready, "pid", pid, sizeof pid, &err), MT_OK);
    cr_assert_eq(atoi(pid), g_pid);
}

static int stop_server(void)
{
    int status = -1;
    if (g_pid > 0) {
        kill(g_pid, SIGTERM);
        waitpid(g_pid, &status, 0);
        g_pid = 0;
    }
    return status;
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/mt-gcs-test-XXXXXX", tmp && tmp[0] ? tmp : P_tmpdir);
    cr_assert_not_null(mkdtemp(g_dir));
    char p[300];
    snprintf(p, sizeof p, "%s/logs", g_dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/token", g_dir);
    mt_error err;
    cr_assert_eq(mt_rpc_token_create(p, g_token, &err), MT_OK, "%s", err.msg);
    start_server();
}

static void teardown(void)
{
    stop_server();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
}

TestSuite(server, .init = setup, .fini = teardown, .timeout = 60);

static mt_gcs_client *connect_client(void)
{
    mt_gcs_client *c = NULL;
    mt_error err;
    cr_assert_eq(mt_gcs_client_connect(g_addr, g_token, "driver", 5000, &c, &err), MT_OK, "%s",
                 err.msg);
    return c;
}

static void register_node(mt_gcs_client *c, mt_id *id)
{
    Manta__NodeInfo n = MANTA__NODE_INFO__INIT;
    n.node_id = (ProtobufCBinaryData){MT_ID_SIZE, id->bytes};
    n.node_address = "tcp://127.0.0.1:9";
    n.node_ip = "127.0.0.1";
    n.pid = 1234;
    mt_error err;
    cr_assert_eq(mt_gcs_register_node(c, &n, &err), MT_OK, "%s", err.msg);
}

static bool node_alive(mt_gcs_client *c)
{
    Manta__ClusterStatusReply *r = NULL;
    mt_error err;
    cr_assert_eq(mt_gcs_cluster_status(c, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(r->n_nodes, 1);
    cr_assert_eq(r->nodes[0]->pid, 1234);
    bool alive = r->nodes[0]->alive;
    mt_gcs_reply_free(r);
    return alive;
}

Test(server, nodes_heartbeats_and_dead_detection)
{
    mt_gcs_client *c = connect_client();
    mt_id id = mt_id_random();
    register_node(c, &id);
    Manta__HeartbeatRequest hb = MANTA__HEARTBEAT_REQUEST__INIT;
    hb.node_id = (ProtobufCBinaryData){MT_ID_SIZE, id.bytes};
    mt_error err;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(mt_gcs_heartbeat(c, &hb, &err), MT_OK, "%s", err.msg);
        usleep(100 * 1000);
    }
    cr_assert(node_alive(c), "heartbeats every 100 ms keep a node alive with a 300 ms limit");
    usleep(800 * 1000);
    cr_assert(!node_alive(c), "no heartbeat for 800 ms marks it dead");
    cr_assert_eq(mt_gcs_heartbeat(c, &hb, &err), MT_ENOTFOUND);
    register_node(c, &id);
    cr_assert(node_alive(c));
    cr_assert_eq(mt_gcs_unregister_node(c, id, &err), MT_OK);
    cr_assert(!node_alive(c));
    mt_gcs_client_close(c);
}

Test(server, actors_kv_jobs)
{
    mt_gcs_client *c = connect_client();
    mt_error err;
    mt_id a1 = mt_id_random(), a2 = mt_id_random();
    Manta__ActorInfo a = MANTA__ACTOR_INFO__INIT;
    a.actor_id = (ProtobufCBinaryData){MT_ID_SIZE, a1.bytes};
    a.name = "counter";
    a.namespace_ = "app";
    a.worker_address = "unix:///x/w.sock";
    a.state = 1;
    cr_assert_eq(mt_gcs_register_actor(c, &a, &err), MT_OK, "%s", err.msg);
    a.actor_id = (ProtobufCBinaryData){MT_ID_SIZE, a2.bytes};
    cr_assert_eq(mt_gcs_register_actor(c, &a, &err), MT_EEXIST);
    cr_assert_str_eq(err.msg, "actor name 'counter' is taken in namespace 'app'");
    Manta__LookupActorReply *lr = NULL;
    cr_assert_eq(mt_gcs_lookup_actor(c, "counter", "app", &lr, &err), MT_OK, "%s", err.msg);
    cr_assert_str_eq(lr->actor->worker_address, "unix:///x/w.sock");
    cr_assert_eq(memcmp(lr->actor->actor_id.data, a1.bytes, MT_ID_SIZE), 0);
    mt_gcs_reply_free(lr);
    cr_assert_eq(mt_gcs_lookup_actor(c, "counter", "other", &lr, &err), MT_ENOTFOUND);
    cr_assert_null(lr);
    Manta__ListActorsReply *ls = NULL;
    cr_assert_eq(mt_gcs_list_actors(c, "app", false, &ls, &err), MT_OK);
    cr_assert_eq(ls->n_actors, 1);
    mt_gcs_reply_free(ls);
    cr_assert_eq(mt_gcs_remove_actor(c, a1, &err), MT_OK);
    cr_assert_eq(mt_gcs_remove_actor(c, a1, &err), MT_ENOTFOUND);

    uint8_t *v;
    size_t len;
    cr_assert_eq(mt_gcs_kv_put(c, "ns", "key", "value", 5, false, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_gcs_kv_put(c, "ns", "key", "other", 5, false, &err), MT_EEXIST);
    cr_assert_eq(mt_gcs_kv_get(c, "ns", "key", &v, &len, &err), MT_OK);
    cr_assert_eq(len, 5);
    cr_assert_str_eq((char *)v, "value");
    mt_free(v);
    cr_assert_eq(mt_gcs_kv_del(c, "ns", "key", &err), MT_OK);
    cr_assert_eq(mt_gcs_kv_get(c, "ns", "key", &v, &len, &err), MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "no key 'key' in namespace 'ns'");

    mt_id job;
    cr_assert_eq(mt_gcs_register_job(c, "./driver", getpid(), &job, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_gcs_finish_job(c, job, &err), MT_OK);
    cr_assert_eq(mt_gcs_finish_job(c, mt_id_random(), &err), MT_ENOTFOUND);
    mt_gcs_client_close(c);
}

/* Sends garbage on a raw TCP connection; true when the server closes it. */
static bool garbage_closed(void)
{
    mt_rpc_addr a;
    cr_assert_eq(mt_rpc_addr_parse(g_addr, &a, NULL), MT_OK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a.port)};
    inet_pton(AF_INET, a.host, &sa.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char junk[64];
    memset(junk, 0x5a, sizeof junk);
    cr_assert_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    bool closed = false;
    if (poll(&p, 1, 3000) == 1) {
        char buf[64];
        closed = read(fd, buf, sizeof buf) <= 0;
    }
    close(fd);
    return closed;
}

Test(server, garbage_connection_closed_server_stays_up)
{
    cr_assert(garbage_closed());
    uint8_t wrong[MT_RPC_TOKEN_BYTES];
    memset(wrong, 7, sizeof wrong);
    mt_gcs_client *bad = NULL;
    mt_error err;
    cr_assert_neq(mt_gcs_client_connect(g_addr, wrong, "cli", 2000, &bad, &err), MT_OK);
    cr_assert_null(bad);
    mt_gcs_client *c = connect_client();
    cr_assert_eq(mt_gcs_kv_put(c, "", "k", "v", 1, true, &err), MT_OK, "%s", err.msg);
    mt_gcs_client_close(c);
}

Test(server, sigterm_and_recovery)
{
    mt_gcs_client *c = connect_client();
    mt_error err;
    mt_id a1 = mt_id_random();
    Manta__ActorInfo a = MANTA__ACTOR_INFO__INIT;
    a.actor_id = (ProtobufCBinaryData){MT_ID_SIZE, a1.bytes};
    a.name = "survivor";
    a.state = 1;
    cr_assert_eq(mt_gcs_register_actor(c, &a, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_gcs_kv_put(c, "cfg", "x", "42", 2, true, &err), MT_OK, "%s", err.msg);
    mt_gcs_client_close(c);
    int status = stop_server();
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM: clean exit 0 (status %d)",
              status);

    start_server();
    c = connect_client();
    Manta__LookupActorReply *lr = NULL;
    cr_assert_eq(mt_gcs_lookup_actor(c, "survivor", "", &lr, &err), MT_OK, "%s", err.msg);
    mt_gcs_reply_free(lr);
    uint8_t *v;
    size_t len;
    cr_assert_eq(mt_gcs_kv_get(c, "cfg", "x", &v, &len, &err), MT_OK, "%s", err.msg);
    cr_assert_str_eq((char *)v, "42");
    mt_free(v);
    mt_gcs_client_close(c);
}
