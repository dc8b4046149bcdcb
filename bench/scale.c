/*
 * bench/scale — the control store under many nodes: a real control store
 * (`manta start --head`), then N fake nodes (N = 100 and 1,000) registered
 * by THREADS client threads that send their heartbeats (each with its
 * available resources) as fast as the store answers, for SECONDS each:
 *   scale_<N>_heartbeats            heartbeats/s, plain (Status replies)
 *   scale_<N>_heartbeats_with_view  heartbeats/s when each reply carries
 *                                   every node's resources (a node's
 *                                   first view, or every view when every
 *                                   node's availability changes between
 *                                   two views of one node)
 *   scale_<N>_heartbeats_with_view_delta  the same with each fake node
 *                                   holding its last view, so replies list
 *                                   only the nodes changed since, when one
 *                                   heartbeat in ten changes its node's
 *                                   availability
 *   scale_<N>_cluster_status_reads  GCS_GET_CLUSTER_STATUS/s, the read
 *                                   behind every placement-group plan and
 *                                   lease-cap refresh
 *   scale_<N>_spillback_decisions  lease requests/s the head's real node
 *                                   daemon answers with a peer to ask
 *                                   (its CPU is held, so each request is
 *                                   a spillback decision over the N
 *                                   nodes of its view), 64 pipelined
 * The fake nodes never run work.
 *
 * usage: scale    (make bench-scale). Prints `name: value unit` lines.
 */
#include <manta/manta.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_nodes.h"
#include "gcs/gcs_client.h"
#include "gcs/session.h"
#include "proto/node.pb-c.h"
#include "rpc/rpc.h"

#define THREADS 4
#define SECONDS 1.0

static char g_addr[64];
static uint8_t g_token[MT_RPC_TOKEN_BYTES];

static void fail(const char *what, const mt_error *err)
{
    fprintf(stderr, "bench/scale: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

typedef struct job {
    int first, n;       /* this thread's fake nodes: ids first..first+n-1 */
    int mode;           /* 0 heartbeats, 1 heartbeats with view, 2 cluster status reads, 3 heartbeats with view deltas */
    long done;
    mt_gcs_client *c;
    uint64_t *epoch, *version; /* mode 3: the view each fake node holds */
    long listed;        /* modes 1 and 3: nodes the replies listed */
} job;

static mt_id fake_id(int i)
{
    mt_id id = {0};
    memcpy(id.bytes, "fake", 4);
    memcpy(id.bytes + 4, &i, sizeof i);
    return id;
}

static void quantities(Manta__ResourceSet *rs, Manta__ResourceSet__QuantitiesEntry *e, Manta__ResourceSet__QuantitiesEntry **ep,
                       double cpu)
{
    manta__resource_set__init(rs);
    manta__resource_set__quantities_entry__init(e);
    e->key = "CPU";
    e->value = cpu;
    ep[0] = e;
    rs->n_quantities = 1;
    rs->quantities = ep;
}

static double g_fake_cpus = 4;

static void register_nodes(job *j)
{
    for (int i = j->first; i < j->first + j->n; i++) {
        mt_id id = fake_id(i);
        char addr[64], ip[32];
        snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        snprintf(addr, sizeof addr, "tcp://%s:9", ip);
        Manta__ResourceSet tot, av;
        Manta__ResourceSet__QuantitiesEntry te, ae, *tp[1], *ap[1];
        quantities(&tot, &te, tp, g_fake_cpus);
        quantities(&av, &ae, ap, g_fake_cpus);
        Manta__NodeInfo ni = MANTA__NODE_INFO__INIT;
        ni.node_id.data = id.bytes;
        ni.node_id.len = MT_ID_SIZE;
        ni.node_address = addr;
        ni.node_ip = ip;
        ni.resources_total = &tot;
        ni.resources_available = &av;
        ni.alive = true;
        mt_error err;
        if (mt_gcs_register_node(j->c, &ni, &err) != MT_OK) fail("registering a fake node", &err);
    }
}

/* Value of fake node i's availability at its round'th heartbeat in mode 3: it changes one heartbeat in ten. */
static double delta_cpus(long round, int i) { return (double)(((round + i) / 10) % 5); }

static void *run(void *arg)
{
    job *j = arg;
    double t0 = bn_now_s();
    long k = 0;
    while (bn_now_s() - t0 < SECONDS) {
        mt_error err;
        if (j->mode == 2) {
            Manta__ClusterStatusReply *cs = NULL;
            if (mt_gcs_cluster_status(j->c, &cs, &err) != MT_OK) fail("cluster status", &err);
            mt_gcs_reply_free(cs);
        } else {
            int slot = (int)(k % j->n), i = j->first + slot;
            long round = k / j->n; /* this fake node's heartbeat count */
            mt_id id = fake_id(i);
            Manta__ResourceSet av;
            Manta__ResourceSet__QuantitiesEntry ae, *ap[1];
            /* modes 0-1: every heartbeat changes availability; mode 3: one in ten does (spread over the nodes) */
            quantities(&av, &ae, ap, j->mode == 3 ? delta_cpus(round, i) : (double)(k % 5));
            Manta__HeartbeatRequest hb = MANTA__HEARTBEAT_REQUEST__INIT;
            hb.node_id.data = id.bytes;
            hb.node_id.len = MT_ID_SIZE;
            hb.resources_available = &av;
            hb.want_view = j->mode == 1 || j->mode == 3;
            if (j->mode == 3) {
                hb.view_epoch = j->epoch[slot];
                hb.view_version = j->version[slot];
            }
            if (!hb.want_view) {
                if (mt_gcs_heartbeat(j->c, &hb, &err) != MT_OK) fail("heartbeat", &err);
            } else {
                Manta__ClusterStatusReply *cs = NULL;
                if (mt_gcs_heartbeat_view(j->c, &hb, &cs, &err) != MT_OK) fail("heartbeat", &err);
                j->listed += (long)cs->n_nodes;
                j->epoch[slot] = cs->view_epoch;
                j->version[slot] = cs->view_version;
                mt_gcs_reply_free(cs);
            }
        }
        k++;
    }
    j->done = k;
    return NULL;
}

static double g_listed_per_reply; /* nodes per view reply in the last measure */


/*
 * Sets every fake node to what its first mode-3 heartbeat reports, then gives
 * each the current view's epoch and version (one full view read), as
 * running nodes hold a view.
 */
static void hold_view(job *jobs)
{
    mt_error err;
    for (int t = 0; t < THREADS; t++)
        for (int i = jobs[t].first; i < jobs[t].first + jobs[t].n; i++) {
            mt_id nid = fake_id(i);
            Manta__ResourceSet av;
            Manta__ResourceSet__QuantitiesEntry ae, *ap[1];
            quantities(&av, &ae, ap, delta_cpus(0, i));
            Manta__HeartbeatRequest h = MANTA__HEARTBEAT_REQUEST__INIT;
            h.node_id.data = nid.bytes;
            h.node_id.len = MT_ID_SIZE;
            h.resources_available = &av;
            if (mt_gcs_heartbeat(jobs[t].c, &h, &err) != MT_OK) fail("heartbeat", &err);
        }
    mt_id id = fake_id(jobs[0].first);
    Manta__HeartbeatRequest hb = MANTA__HEARTBEAT_REQUEST__INIT;
    hb.node_id.data = id.bytes;
    hb.node_id.len = MT_ID_SIZE;
    hb.want_view = true;
    Manta__ClusterStatusReply *cs = NULL;
    if (mt_gcs_heartbeat_view(jobs[0].c, &hb, &cs, &err) != MT_OK) fail("heartbeat", &err);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < jobs[t].n; i++) jobs[t].epoch[i] = cs->view_epoch, jobs[t].version[i] = cs->view_version;
    mt_gcs_reply_free(cs);
}

/* THREADS threads doing `mode` for SECONDS; returns operations/s. */
static double measure(job *jobs, int mode)
{
    pthread_t th[THREADS];
    double t0 = bn_now_s();
    for (int t = 0; t < THREADS; t++) {
        jobs[t].mode = mode;
        jobs[t].done = 0;
        jobs[t].listed = 0;
        pthread_create(&th[t], NULL, run, &jobs[t]);
    }
    long total = 0, listed = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        total += jobs[t].done;
        listed += jobs[t].listed;
    }
    g_listed_per_reply = total ? (double)listed / (double)total : 0;
    return (double)total / (bn_now_s() - t0);
}

static mt_rpc_client *node_client(void)
{
    char dir[MT_SESSION_PATH_MAX], sock[MT_SESSION_PATH_MAX + 32];
    mt_error err;
    if (mt_session_latest(bn_root, dir, sizeof dir, &err) != MT_OK) fail("the head's session", &err);
    snprintf(sock, sizeof sock, "unix://%s/sockets/node.sock", dir);
    mt_rpc_client *c = NULL;
    if (mt_rpc_client_connect(sock, g_token, "driver", 10000, &c, &err) != MT_OK) fail("connecting to the node", &err);
    return c;
}

static size_t pack_lease(uint8_t *buf, size_t cap, bool spill)
{
    Manta__ResourceSet rs;
    Manta__ResourceSet__QuantitiesEntry e, *ep[1];
    quantities(&rs, &e, ep, 1);
    Manta__RequestLeaseRequest req = MANTA__REQUEST_LEASE_REQUEST__INIT;
    req.resources = &rs;
    req.allow_spillback = spill;
    return protobuf_c_message_get_packed_size(&req.base) <= cap ? protobuf_c_message_pack(&req.base, buf) : 0;
}

/* Spillback decisions/s of the head's node with its CPU held by `holder`'s lease. */
static double spill_decisions(mt_rpc_client *c)
{
    enum { WINDOW = 64 };
    uint8_t buf[128];
    size_t len = pack_lease(buf, sizeof buf, true);
    mt_error err;
    long sent = 0, got = 0;
    for (; sent < WINDOW; sent++)
        if (mt_rpc_client_send(c, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, 0, buf, len, NULL, &err) != MT_OK) fail("send", &err);
    double t0 = bn_now_s(), t = 0;
    while ((t = bn_now_s() - t0) < SECONDS || got < sent) {
        mt_rpc_msg m;
        if (mt_rpc_client_recv(c, 10000, &m, &err) != MT_OK) fail("a lease answer (the view ran out of room?)", &err);
        Manta__RequestLeaseReply *r = manta__request_lease_reply__unpack(&mt_rpc_pb_allocator, m.len, m.payload);
        bool spilled = m.status == MT_OK && r && r->spillback_address && *r->spillback_address;
        if (r) manta__request_lease_reply__free_unpacked(r, &mt_rpc_pb_allocator);
        if (!spilled) fail("a lease request was not spilled", NULL);
        got++;
        if (t < SECONDS && mt_rpc_client_send(c, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, 0, buf, len, NULL, &err) == MT_OK)
            sent++;
    }
    return (double)got / (bn_now_s() - t0);
}

int main(void)
{
    bn_find_manta();
    const char *tmp = bn_make_tmp("mtscale");
    printf("cores: %ld\nthreads: %d\n", sysconf(_SC_NPROCESSORS_ONLN), THREADS);
    bn_start(tmp, 1, 1, (int64_t)64 << 20);
    snprintf(g_addr, sizeof g_addr, "127.0.0.1:%d", bn_port);
    mt_error err;
    if (mt_rpc_token_parse(bn_token, g_token, &err) != MT_OK) fail("token", &err);
    job jobs[THREADS] = {0};
    for (int t = 0; t < THREADS; t++)
        if (mt_gcs_client_connect(g_addr, g_token, "node", 10000, &jobs[t].c, &err) != MT_OK) fail("connecting", &err);
    /* the head's one CPU, held for the whole run: lease requests there are spillback decisions */
    mt_rpc_client *holder = node_client(), *asker = node_client();
    {
        uint8_t buf[128];
        size_t len = pack_lease(buf, sizeof buf, false);
        mt_rpc_msg m;
        if (mt_rpc_client_send(holder, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, 0, buf, len, NULL, &err) != MT_OK ||
            mt_rpc_client_recv(holder, 30000, &m, &err) != MT_OK)
            fail("holding the head's CPU", &err);
        if (m.status != MT_OK) fail("the head's CPU lease was refused", NULL);
    }
    static const int sizes[] = {100, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int n = sizes[s];
        for (int t = 0; t < THREADS; t++) { /* registering again replaces: the smaller round's nodes are reused */
            jobs[t].first = t * (n / THREADS);
            jobs[t].n = n / THREADS;
            free(jobs[t].epoch);
            free(jobs[t].version);
            jobs[t].epoch = calloc((size_t)jobs[t].n, sizeof *jobs[t].epoch);
            jobs[t].version = calloc((size_t)jobs[t].n, sizeof *jobs[t].version);
            if (!jobs[t].epoch || !jobs[t].version) fail("out of memory", NULL);
            register_nodes(&jobs[t]);
        }
        char name[64];
        snprintf(name, sizeof name, "scale_%d_heartbeats", n);
        printf("%s: %.0f /s\n", name, measure(jobs, 0));
        printf("%s_with_view: %.0f /s\n", name, measure(jobs, 1));
        hold_view(jobs); /* every fake node starts holding the view of now, as running nodes do */
        printf("%s_with_view_delta: %.0f /s\n", name, measure(jobs, 3));
        printf("scale_%d_view_delta_nodes_per_reply: %.1f nodes\n", n, g_listed_per_reply);
        snprintf(name, sizeof name, "scale_%d_cluster_status_reads", n);
        printf("%s: %.0f /s\n", name, measure(jobs, 2));
        fflush(stdout);
        /* room for every decision: the view is charged with each one until the next heartbeat reply */
        g_fake_cpus = 1e6;
        for (int t = 0; t < THREADS; t++) register_nodes(&jobs[t]);
        g_fake_cpus = 4;
        usleep(2500000); /* the head's node hears of them at its next heartbeat */
        snprintf(name, sizeof name, "scale_%d_spillback_decisions", n);
        printf("%s: %.0f /s\n", name, spill_decisions(asker));
        fflush(stdout);
    }
    for (int t = 0; t < THREADS; t++) {
        mt_gcs_client_close(jobs[t].c);
        free(jobs[t].epoch);
        free(jobs[t].version);
    }
    mt_rpc_client_close(asker);
    mt_rpc_client_close(holder);
    return 0;
}
