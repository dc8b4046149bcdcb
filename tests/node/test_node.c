/*
 * test_node.c — starts a real `manta node-daemon` (MANTA_BIN) on a fresh
 * session folder and talks to it with the blocking rpc client: store arena
 * passing, object lifecycle across connections, GET waits, pin cleanup on
 * disconnect, leases and resources, infeasible demands, worker death notices,
 * garbage connections. Workers are this test binary itself (a constructor
 * turns `<test> worker …` into a fake worker that registers and idles), so the
 * tests do not depend on the real worker program. The daemon is always
 * killed in the fixture's fini (and dies with the test process: PDEATHSIG).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/node_test_util.h"
#include "proto/node.pb-c.h"
#include "rpc/rpc.h"

/* ---- Fake worker (runs before Criterion's main when argv[1] == "worker") ---- */

static void fake_worker(int argc, char **argv)
{
    const char *dir = NULL, *sock = NULL, *hex = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--session-dir")) dir = argv[i + 1];
        if (!strcmp(argv[i], "--node-socket")) sock = argv[i + 1];
        if (!strcmp(argv[i], "--worker-id")) hex = argv[i + 1];
    }
    if (!dir || !sock || !hex) _exit(3);
    if (getenv("MT_TEST_FAKE_WORKER_SILENT")) {
        for (;;) pause();
    }
    char path[600], addr[700];
    uint8_t token[MT_RPC_TOKEN_BYTES];
    snprintf(path, sizeof path, "%s/token", dir);
    if (mt_rpc_token_load(path, token, NULL) != MT_OK) _exit(4);
    mt_rpc_client *c;
    if (mt_rpc_client_connect(sock, token, "worker", 5000, &c, NULL) != MT_OK) _exit(5);
    mt_id id;
    if (mt_id_from_hex(hex, &id, NULL) != MT_OK) _exit(6);
    snprintf(addr, sizeof addr, "unix://%s/sockets/w-%s.sock", dir, hex);
    Manta__RegisterWorkerRequest rq = MANTA__REGISTER_WORKER_REQUEST__INIT;
    rq.worker_id.data = id.bytes;
    rq.worker_id.len = MT_ID_SIZE;
    rq.pid = getpid();
    rq.address = addr;
    ProtobufCMessage *rep = NULL;
    if (mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_REGISTER_WORKER, &rq.base,
                           &manta__register_worker_reply__descriptor, 5000, &rep, NULL, NULL) != MT_OK)
        _exit(7);
    protobuf_c_message_free_unpacked(rep, &mt_rpc_pb_allocator);
    for (;;) {
        mt_rpc_msg m;
        mt_status st = mt_rpc_client_recv(c, 60000, &m, NULL);
        if (st != MT_OK && st != MT_ETIMEOUT) _exit(0); /* the node went away */
    }
}

__attribute__((constructor)) static void maybe_fake_worker(void)
{
    static char buf[8192];
    int fd = open("/proc/self/cmdline", O_RDONLY);
    if (fd < 0) return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return;
    buf[n] = '\0';
    char *argv[32];
    int argc = 0;
    for (char *p = buf; p < buf + n && argc < 32; p += strlen(p) + 1) argv[argc++] = p;
    if (argc >= 2 && !strcmp(argv[1], "worker")) fake_worker(argc, argv);
}

/* ---- Fixture ------------------------------------------------------------- */

static char g_dir[256];
static char g_sock[320];
static pid_t g_daemon = -1;
static uint8_t g_token[MT_RPC_TOKEN_BYTES];

static void start_daemon(const char *num_cpus)
{
    nt_session_create(g_dir, "mt-node", g_token);
    snprintf(g_sock, sizeof g_sock, "unix://%s/sockets/node.sock", g_dir);
    char self[4096], path[512];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert(k > 0);
    self[k] = '\0';
    char *argv[] = {"manta", "node-daemon", "--session-dir", g_dir, "--num-cpus", (char *)num_cpus,
                    "--object-store-memory", "67108864", "--worker-program", self, NULL};
    g_daemon = nt_spawn(argv);
    snprintf(path, sizeof path, "%s/node.ready", g_dir);
    cr_assert(nt_wait_path(path, 10000), "node daemon did not become ready");
}

/*
 * The fini. A clean SIGTERM shutdown exits 0 (and, in sanitizer builds,
 * without leak reports). Criterion 2.4 ignores assertion failures inside a
 * .fini (the test still passes), so a bad exit aborts the test process
 * after cleanup: the runner then exits non-zero and ctest reports it.
 */
static void stop_daemon(void)
{
    int status = 0;
    bool ran = g_daemon > 0;
    if (ran) status = nt_stop_pid(&g_daemon, 5000);
    nt_session_remove(g_dir);
    if (ran && !(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        cr_log_error("node daemon did not exit 0 after SIGTERM: wait status %d", status);
        abort();
    }
}

static void setup2(void) { start_daemon("2"); }

static mt_rpc_client *connect_node(void) { return nt_connect(g_dir, g_token); }

static mt_status call(mt_rpc_client *c, int method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *d, ProtobufCMessage **out, int *fd,
                      mt_error *err)
{
    mt_error_clear(err);
    ProtobufCMessage *rep = NULL;
    mt_status st = mt_rpc_client_call(c, (uint16_t)method, req, d, 5000, &rep, fd, err);
    if (out) *out = rep;
    else if (rep) protobuf_c_message_free_unpacked(rep, &mt_rpc_pb_allocator);
    return st;
}

static Manta__NodeStatsReply *stats(mt_rpc_client *c)
{
    Manta__GetNodeInfoRequest e = MANTA__GET_NODE_INFO_REQUEST__INIT;
    ProtobufCMessage *r = NULL;
    mt_error err;
    cr_assert_eq(call(c, MANTA__NODE_METHOD__NODE_GET_STATS, &e.base, &manta__node_stats_reply__descriptor,
                      &r, NULL, &err), MT_OK, "%s", err.msg);
    return (Manta__NodeStatsReply *)r;
}

static double res_get(const Manta__ResourceSet *s, const char *name)
{
    for (size_t i = 0; s && i < s->n_quantities; i++)
        if (!strcmp(s->quantities[i]->key, name)) return s->quantities[i]->value;
    return 0;
}

/* Waits until every prestarted worker registered. */
static void wait_idle_workers(mt_rpc_client *c, int want)
{
    for (int i = 0; i < 500; i++) {
        Manta__NodeStatsReply *s = stats(c);
        int idle = s->num_idle_workers;
        protobuf_c_message_free_unpacked(&s->base, &mt_rpc_pb_allocator);
        if (idle >= want) return;
        usleep(10000);
    }
    cr_assert_fail("workers did not register");
}

/* ---- Object helpers ---------------------------------------------------------- */

static mt_status create_obj(mt_rpc_client *c, mt_id id, int64_t size, int64_t *off, mt_error *err)
{
    Manta__CreateObjectRequest rq = MANTA__CREATE_OBJECT_REQUEST__INIT;
    rq.object_id.data = id.bytes;
    rq.object_id.len = MT_ID_SIZE;
    rq.size = size;
    rq.primary = true;
    ProtobufCMessage *r = NULL;
    mt_status st = call(c, MANTA__NODE_METHOD__NODE_CREATE_OBJECT, &rq.base,
                        &manta__create_object_reply__descriptor, &r, NULL, err);
    if (st == MT_OK) {
        Manta__CreateObjectReply *cr = (Manta__CreateObjectReply *)r;
        cr_assert(cr->in_arena);
        *off = cr->offset;
        protobuf_c_message_free_unpacked(r, &mt_rpc_pb_allocator);
    }
    return st;
}

static mt_status id_call(mt_rpc_client *c, int method, mt_id id, mt_error *err)
{
    Manta__ObjectIdRequest rq = MANTA__OBJECT_ID_REQUEST__INIT;
    rq.object_id.data = id.bytes;
    rq.object_id.len = MT_ID_SIZE;
    return call(c, method, &rq.base, &manta__status__descriptor, NULL, NULL, err);
}

static uint8_t *map_arena(mt_rpc_client *c, int64_t *cap)
{
    Manta__GetNodeInfoRequest rq = MANTA__GET_NODE_INFO_REQUEST__INIT;
    ProtobufCMessage *r = NULL;
    int fd = -1;
    mt_error err;
    cr_assert_eq(call(c, MANTA__NODE_METHOD__NODE_GET_INFO, &rq.base, &manta__get_node_info_reply__descriptor,
                      &r, &fd, &err), MT_OK, "%s", err.msg);
    Manta__GetNodeInfoReply *info = (Manta__GetNodeInfoReply *)r;
    cr_assert(info->store_fd_attached);
    cr_assert(fd >= 0);
    *cap = info->store_capacity;
    protobuf_c_message_free_unpacked(r, &mt_rpc_pb_allocator);
    uint8_t *p = mmap(NULL, (size_t)*cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    cr_assert(p != MAP_FAILED);
    return p;
}

/* Sends a pre-encoded request without waiting; returns its request id. */
static uint64_t send_req(mt_rpc_client *c, int method, const ProtobufCMessage *m)
{
    uint8_t buf[1024];
    size_t n = protobuf_c_message_pack(m, buf);
    uint64_t id = 0;
    cr_assert_eq(mt_rpc_client_send(c, (uint16_t)method, 0, buf, n, &id, NULL), MT_OK);
    return id;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Tests: info and objects ---------------------------------------------- */

TestSuite(node, .init = setup2, .fini = stop_daemon, .timeout = 60);

Test(node, get_info_passes_the_arena_and_resources)
{
    mt_rpc_client *c = connect_node();
    Manta__GetNodeInfoRequest rq = MANTA__GET_NODE_INFO_REQUEST__INIT;
    ProtobufCMessage *r = NULL;
    int fd = -1;
    mt_error err;
    cr_assert_eq(call(c, MANTA__NODE_METHOD__NODE_GET_INFO, &rq.base,
                      &manta__get_node_info_reply__descriptor, &r, &fd, &err), MT_OK, "%s", err.msg);
    Manta__GetNodeInfoReply *info = (Manta__GetNodeInfoReply *)r;
    cr_assert_eq(info->store_capacity, 67108864);
    cr_assert(info->store_fd_attached);
    cr_assert_eq(info->node_id.len, MT_ID_SIZE);
    cr_assert_str_eq(info->session_dir, g_dir);
    cr_assert_eq(res_get(info->resources_total, "CPU"), 2.0);
    cr_assert_eq(res_get(info->resources_total, "object_store_memory"), 67108864.0);
    cr_assert(fd >= 0);
    struct stat sb;
    cr_assert_eq(fstat(fd, &sb), 0);
    cr_assert_eq(sb.st_size, 67108864);
    close(fd);
    protobuf_c_message_free_unpacked(r, &mt_rpc_pb_allocator);
    mt_rpc_client_close(c);
}

Test(node, object_written_through_mapping_is_seen_by_another_connection)
{
    mt_rpc_client *a = connect_node(), *b = connect_node();
    int64_t cap, off;
    uint8_t *base = map_arena(a, &cap);
    mt_id id = mt_id_random();
    mt_error err;
    cr_assert_eq(create_obj(a, id, 4096, &off, &err), MT_OK, "%s", err.msg);
    cr_assert(off >= 0 && off + 4096 <= cap);
    for (int i = 0; i < 4096; i++) base[off + i] = (uint8_t)(i * 7);
    cr_assert_eq(create_obj(a, id, 10, &off, &err), MT_EEXIST);
    cr_assert_eq(id_call(a, MANTA__NODE_METHOD__NODE_SEAL_OBJECT, id, &err), MT_OK, "%s", err.msg);

    int64_t cap2;
    uint8_t *base2 = map_arena(b, &cap2);
    Manta__GetObjectRequest g = MANTA__GET_OBJECT_REQUEST__INIT;
    g.object_id.data = id.bytes;
    g.object_id.len = MT_ID_SIZE;
    ProtobufCMessage *r = NULL;
    cr_assert_eq(call(b, MANTA__NODE_METHOD__NODE_GET_OBJECT, &g.base, &manta__get_object_reply__descriptor,
                      &r, NULL, &err), MT_OK, "%s", err.msg);
    Manta__GetObjectReply *gr = (Manta__GetObjectReply *)r;
    cr_assert(gr->in_arena);
    cr_assert_eq(gr->size, 4096);
    for (int i = 0; i < 4096; i++) cr_assert_eq(base2[gr->offset + i], (uint8_t)(i * 7));
    protobuf_c_message_free_unpacked(r, &mt_rpc_pb_allocator);
    cr_assert_eq(id_call(b, MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, id, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(id_call(b, MANTA__NODE_METHOD__NODE_RELEASE_OBJECT, id, &err), MT_ESTATE);
    cr_assert(strstr(err.msg, "is not pinned by this connection") != NULL, "%s", err.msg);
    munmap(base, (size_t)cap);
    munmap(base2, (size_t)cap2);
    mt_rpc_client_close(a);
    mt_rpc_client_close(b);
}

Test(node, get_waits_for_a_later_seal_and_times_out_otherwise)
{
    mt_rpc_client *a = connect_node(), *b = connect_node();
    mt_id id = mt_id_random();
    Manta__GetObjectRequest g = MANTA__GET_OBJECT_REQUEST__INIT;
    g.object_id.data = id.bytes;
    g.object_id.len = MT_ID_SIZE;
    g.timeout_ms = 10000;
    uint64_t rid = send_req(b, MANTA__NODE_METHOD__NODE_GET_OBJECT, &g.base);
    usleep(100000);
    int64_t off;
    mt_error err;
    cr_assert_eq(create_obj(a, id, 100, &off, &err), MT_OK, "%s", err.msg);
    mt_rpc_msg m;
    cr_assert_eq(mt_rpc_client_recv(b, 200, &m, &err), MT_ETIMEOUT, "GET answered before the seal");
    cr_assert_eq(id_call(a, MANTA__NODE_METHOD__NODE_SEAL_OBJECT, id, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_rpc_client_recv(b, 5000, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.req_id, rid);
    cr_assert_eq(m.status, MT_OK);
    Manta__GetObjectReply *gr = manta__get_object_reply__unpack(&mt_rpc_pb_allocator, m.len, m.payload);
    cr_assert(gr != NULL);
    cr_assert_eq(gr->size, 100);
    cr_assert_eq(gr->offset, off);
    manta__get_object_reply__free_unpacked(gr, &mt_rpc_pb_allocator);

    mt_id missing = mt_id_random();
    g.object_id.data = missing.bytes;
    g.timeout_ms = 150;
    int64_t t0 = now_ms();
    cr_assert_eq(call(b, MANTA__NODE_METHOD__NODE_GET_OBJECT, &g.base, &manta__get_object_reply__descriptor,
                      NULL, NULL, &err), MT_ETIMEOUT);
    cr_assert(now_ms() - t0 >= 140);
    cr_assert(strstr(err.msg, "was not sealed in time") != NULL, "%s", err.msg);
    g.timeout_ms = 0;
    cr_assert_eq(call(b, MANTA__NODE_METHOD__NODE_GET_OBJECT, &g.base, &manta__get_object_reply__descriptor,
                      NULL, NULL, &err), MT_ENOTFOUND);
    mt_rpc_client_close(a);
    mt_rpc_client_close(b);
}

static int64_t store_used(mt_rpc_client *c)
{
    Manta__NodeStatsReply *s = stats(c);
    int64_t n = s->store_used;
    protobuf_c_message_free_unpacked(&s->base, &mt_rpc_pb_allocator);
    return n;
}

/* Polls until the arena's used bytes satisfy want_zero (== 0) or not (> 0). */
static int64_t wait_used(mt_rpc_client *c, bool want_zero)
{
    int64_t used = store_used(c);
    for (int i = 0; i < 200 && (used == 0) != want_zero; i++) {
        usleep(10000);
        used = store_used(c);
    }
    return used;
}

Test(node, pins_and_unsealed_objects_are_dropped_when_a_client_disconnects)
{
    mt_rpc_client *a = connect_node(), *b = connect_node();
    mt_id id = mt_id_random();
    int64_t off;
    mt_error err;
    cr_assert_eq(store_used(a), 0);
    cr_assert_eq(create_obj(a, id, 1000, &off, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(id_call(a, MANTA__NODE_METHOD__NODE_SEAL_OBJECT, id, &err), MT_OK, "%s", err.msg);
    Manta__GetObjectRequest g = MANTA__GET_OBJECT_REQUEST__INIT;
    g.object_id.data = id.bytes;
    g.object_id.len = MT_ID_SIZE;
    cr_assert_eq(call(b, MANTA__NODE_METHOD__NODE_GET_OBJECT, &g.base, &manta__get_object_reply__descriptor,
                      NULL, NULL, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(id_call(a, MANTA__NODE_METHOD__NODE_DELETE_OBJECT, id, &err), MT_OK, "%s", err.msg);
    cr_assert(store_used(a) >= 1000, "a pinned object must keep its bytes after delete");
    mt_rpc_client_close(b); /* b never released its pin */
    cr_assert_eq(wait_used(a, true), 0, "the pin of a closed connection was not released");

    mt_rpc_client *c = connect_node();
    mt_id id2 = mt_id_random();
    cr_assert_eq(create_obj(c, id2, 500, &off, &err), MT_OK, "%s", err.msg);
    cr_assert(store_used(a) >= 500);
    mt_rpc_client_close(c); /* never sealed */
    cr_assert_eq(wait_used(a, true), 0, "an unsealed object of a closed connection was not aborted");
    g.object_id.data = id2.bytes;
    cr_assert_eq(call(a, MANTA__NODE_METHOD__NODE_GET_OBJECT, &g.base, &manta__get_object_reply__descriptor,
                      NULL, NULL, &err), MT_ENOTFOUND);
    mt_rpc_client_close(a);
}

/* ---- Tests: leases -------------------------------------------------------- */

static Manta__RequestLeaseReply *lease(mt_rpc_client *c, const char *res, double q, mt_status want,
                                      mt_error *err)
{
    Manta__ResourceSet rs = MANTA__RESOURCE_SET__INIT;
    Manta__ResourceSet__QuantitiesEntry e = MANTA__RESOURCE_SET__QUANTITIES_ENTRY__INIT;
    Manta__ResourceSet__QuantitiesEntry *ep = &e;
    e.key = (char *)res;
    e.value = q;
    rs.n_quantities = 1;
    rs.quantities = &ep;
    Manta__RequestLeaseRequest rq = MANTA__REQUEST_LEASE_REQUEST__INIT;
    rq.resources = &rs;
    ProtobufCMessage *r = NULL;
    mt_status st = call(c, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, &rq.base,
                        &manta__request_lease_reply__descriptor, &r, NULL, err);
    cr_assert_eq(st, want, "lease %s=%g: %s (%s)", res, q, mt_status_name(st), err->msg);
    return (Manta__RequestLeaseReply *)r;
}

static mt_status return_lease(mt_rpc_client *c, ProtobufCBinaryData id, mt_error *err)
{
    Manta__ReturnLeaseRequest rq = MANTA__RETURN_LEASE_REQUEST__INIT;
    rq.lease_id = id;
    return call(c, MANTA__NODE_METHOD__NODE_RETURN_LEASE, &rq.base, &manta__status__descriptor, NULL,
                NULL, err);
}

Test(node, third_lease_waits_until_one_of_two_cpus_is_returned)
{
    mt_rpc_client *c = connect_node(), *d = connect_node();
    wait_idle_workers(c, 2);
    mt_error err;
    Manta__RequestLeaseReply *l1 = lease(c, "CPU", 1, MT_OK, &err);
    Manta__RequestLeaseReply *l2 = lease(c, "CPU", 1, MT_OK, &err);
    cr_assert_neq(l1->worker_pid, l2->worker_pid);
    cr_assert(strstr(l1->worker_address, "/sockets/w-") != NULL, "%s", l1->worker_address);

    Manta__RequestLeaseRequest rq = MANTA__REQUEST_LEASE_REQUEST__INIT; /* empty = {CPU: 1} */
    uint64_t rid = send_req(d, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, &rq.base);
    mt_rpc_msg m;
    cr_assert_eq(mt_rpc_client_recv(d, 300, &m, &err), MT_ETIMEOUT, "third lease granted beyond 2 CPUs");
    Manta__NodeStatsReply *s = stats(c);
    cr_assert_eq(s->num_pending_leases, 1);
    cr_assert_eq(res_get(s->resources_available, "CPU"), 0.0);
    cr_assert_eq(s->n_pending_demands, 1);
    cr_assert_eq(res_get(s->pending_demands[0], "CPU"), 1.0);
    protobuf_c_message_free_unpacked(&s->base, &mt_rpc_pb_allocator);

    cr_assert_eq(return_lease(c, l1->lease_id, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(return_lease(c, l1->lease_id, &err), MT_ENOTFOUND);
    cr_assert_eq(mt_rpc_client_recv(d, 5000, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.req_id, rid);
    cr_assert_eq(m.status, MT_OK);
    Manta__RequestLeaseReply *l3 = manta__request_lease_reply__unpack(&mt_rpc_pb_allocator, m.len, m.payload);
    cr_assert_eq(l3->worker_pid, l1->worker_pid, "the returned worker is reused");
    manta__request_lease_reply__free_unpacked(l3, &mt_rpc_pb_allocator);

    /* Fractional demands add up exactly: 0.5 fits after the close of d frees its CPU. */
    mt_rpc_client_close(d);
    Manta__RequestLeaseReply *h = NULL;
    for (int i = 0; i < 100 && !h; i++) {
        Manta__NodeStatsReply *st = stats(c);
        double cpu = res_get(st->resources_available, "CPU");
        protobuf_c_message_free_unpacked(&st->base, &mt_rpc_pb_allocator);
        if (cpu == 1.0) h = lease(c, "CPU", 0.5, MT_OK, &err);
        else usleep(10000);
    }
    cr_assert(h != NULL, "closing the holder did not return its lease");
    protobuf_c_message_free_unpacked(&h->base, &mt_rpc_pb_allocator);
    protobuf_c_message_free_unpacked(&l1->base, &mt_rpc_pb_allocator);
    protobuf_c_message_free_unpacked(&l2->base, &mt_rpc_pb_allocator);
    mt_rpc_client_close(c);
}

Test(node, infeasible_demand_fails_with_the_exact_message)
{
    mt_rpc_client *c = connect_node();
    mt_error err;
    lease(c, "CPU", 64, MT_EUNSUPPORTED, &err);
    cr_assert_str_eq(err.msg, "no node can satisfy {CPU: 64}");
    lease(c, "GPU", 1, MT_EUNSUPPORTED, &err);
    cr_assert_str_eq(err.msg, "no node can satisfy {GPU: 1}");
    lease(c, "CPU", -1, MT_EINVAL, &err);
    Manta__NodeStatsReply *s = stats(c);
    cr_assert_eq(s->n_pending_demands, 2, "infeasible demands are reported");
    cr_assert_eq(res_get(s->pending_demands[0], "CPU"), 64.0);
    protobuf_c_message_free_unpacked(&s->base, &mt_rpc_pb_allocator);
    mt_rpc_client_close(c);
}

Test(node, sigkill_of_a_leased_worker_notifies_the_holder)
{
    mt_rpc_client *c = connect_node();
    wait_idle_workers(c, 2);
    mt_error err;
    Manta__RequestLeaseReply *l = lease(c, "CPU", 2, MT_OK, &err);
    cr_assert(l->worker_pid > 0);
    cr_assert_eq(kill(l->worker_pid, SIGKILL), 0);
    mt_rpc_msg m;
    cr_assert_eq(mt_rpc_client_recv(c, 5000, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.method, MANTA__NODE_METHOD__NODE_WORKER_DIED);
    cr_assert(m.flags & MT_RPC_FLAG_ONEWAY);
    Manta__WorkerDiedNotice *n = manta__worker_died_notice__unpack(&mt_rpc_pb_allocator, m.len, m.payload);
    cr_assert(n != NULL);
    cr_assert_eq(n->signal, SIGKILL);
    cr_assert_eq(n->worker_id.len, MT_ID_SIZE);
    cr_assert_eq(memcmp(n->worker_id.data, l->worker_id.data, MT_ID_SIZE), 0);
    cr_assert_eq(memcmp(n->lease_id.data, l->lease_id.data, MT_ID_SIZE), 0);
    manta__worker_died_notice__free_unpacked(n, &mt_rpc_pb_allocator);
    cr_assert_eq(return_lease(c, l->lease_id, &err), MT_ENOTFOUND, "the dead worker's lease is forgotten");
    /* Its 2 CPUs are free again and a replacement worker gets leased. */
    Manta__RequestLeaseReply *l2 = lease(c, "CPU", 2, MT_OK, &err);
    cr_assert_neq(l2->worker_pid, l->worker_pid);
    /* KILL_WORKER force on the new one: same notice. */
    Manta__KillWorkerRequest k = MANTA__KILL_WORKER_REQUEST__INIT;
    k.worker_id = l2->worker_id;
    k.force = true;
    cr_assert_eq(call(c, MANTA__NODE_METHOD__NODE_KILL_WORKER, &k.base, &manta__status__descriptor, NULL,
                      NULL, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_rpc_client_recv(c, 5000, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.method, MANTA__NODE_METHOD__NODE_WORKER_DIED);
    protobuf_c_message_free_unpacked(&l->base, &mt_rpc_pb_allocator);
    protobuf_c_message_free_unpacked(&l2->base, &mt_rpc_pb_allocator);
    mt_rpc_client_close(c);
}

/* ---- Tests: hostile input ------------------------------------------------- */

static int raw_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sockets/node.sock", g_dir);
    cr_assert(n > 0 && (size_t)n < sizeof sa.sun_path);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    cr_assert_eq(rc, 0, "connect %s: %s", sa.sun_path, strerror(errno));
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

Test(node, garbage_and_unauthenticated_connections_are_closed)
{
    int fd = raw_connect();
    char junk[64];
    memset(junk, 0xAB, sizeof junk);
    cr_assert_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    char buf[64];
    cr_assert(read(fd, buf, sizeof buf) <= 0, "garbage connection left open");
    close(fd);

    fd = raw_connect(); /* a well-formed GET_INFO frame without Auth first */
    uint8_t *frame = NULL;
    size_t len = 0;
    Manta__GetNodeInfoRequest rq = MANTA__GET_NODE_INFO_REQUEST__INIT;
    cr_assert_eq(mt_rpc_frame_encode(MANTA__NODE_METHOD__NODE_GET_INFO, 0, 1, 0, &rq.base, &frame, &len, NULL), MT_OK);
    cr_assert_eq(write(fd, frame, len), (ssize_t)len);
    mt_free(frame);
    cr_assert(read(fd, buf, sizeof buf) <= 0, "unauthenticated request was served");
    close(fd);

    uint8_t bad[MT_RPC_TOKEN_BYTES];
    memset(bad, 1, sizeof bad);
    mt_rpc_client *x = NULL;
    mt_error err;
    if (mt_rpc_client_connect(g_sock, bad, "driver", 2000, &x, NULL) == MT_OK) {
        /* The client may not wait for the auth verdict; the first call must fail then. */
        Manta__GetNodeInfoRequest gi = MANTA__GET_NODE_INFO_REQUEST__INIT;
        cr_assert_neq(call(x, MANTA__NODE_METHOD__NODE_GET_INFO, &gi.base,
                           &manta__get_node_info_reply__descriptor, NULL, NULL, &err), MT_OK,
                      "a wrong token was served");
        mt_rpc_client_close(x);
    }

    mt_rpc_client *c = connect_node(); /* still serving */
    cr_assert_eq(mt_rpc_client_send(c, 999, 0, "", 0, NULL, &err), MT_OK);
    mt_rpc_msg m;
    cr_assert_eq(mt_rpc_client_recv(c, 5000, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.status, MT_EUNSUPPORTED);
    cr_assert_eq(mt_rpc_client_send(c, MANTA__NODE_METHOD__NODE_CREATE_OBJECT, 0, "\xff\xff\xff", 3, NULL, &err), MT_OK);
    cr_assert_eq(mt_rpc_client_recv(c, 5000, &m, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(m.status, MT_EINVAL);
    Manta__NodeStatsReply *s = stats(c);
    cr_assert_eq(res_get(s->resources_total, "CPU"), 2.0);
    protobuf_c_message_free_unpacked(&s->base, &mt_rpc_pb_allocator);
    mt_rpc_client_close(c);
}

/* PULL_OBJECTS: one status per object (here already, not here and no source, a source that is not
 * tcp://IP:PORT, an unreachable source), a malformed id refuses the whole call; LIST_OBJECTS lists. */
Test(node, pull_objects_answers_each_object_and_list_objects_shows_the_store)
{
    mt_rpc_client *c = connect_node();
    mt_id here = mt_id_random(), ids[4] = {here, mt_id_random(), mt_id_random(), mt_id_random()};
    int64_t off;
    mt_error err;
    cr_assert_eq(create_obj(c, here, 16, &off, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(id_call(c, MANTA__NODE_METHOD__NODE_SEAL_OBJECT, here, &err), MT_OK, "%s", err.msg);
    const char *sources[4] = {"tcp://127.0.0.1:1", "", "tcp://no-such-host.invalid:9", "tcp://127.0.0.1:1"};
    Manta__PullObject po[4], *pp[4];
    for (int i = 0; i < 4; i++) {
        manta__pull_object__init(&po[i]);
        po[i].object_id.data = ids[i].bytes;
        po[i].object_id.len = MT_ID_SIZE;
        po[i].source = (char *)sources[i];
        pp[i] = &po[i];
    }
    Manta__PullObjectsRequest rq = MANTA__PULL_OBJECTS_REQUEST__INIT;
    rq.n_objects = 4;
    rq.objects = pp;
    ProtobufCMessage *r = NULL;
    cr_assert_eq(call(c, MANTA__NODE_METHOD__NODE_PULL_OBJECTS, &rq.base, &manta__pull_objects_reply__descriptor, &r, NULL,
                      &err), MT_OK, "%s", err.msg);
    Manta__PullObjectsReply *pr = (Manta__PullObjectsReply *)r;
    cr_assert_eq(pr->n_statuses, 4);
    cr_assert_eq(pr->statuses[0], MT_OK);
    cr_assert_eq(pr->statuses[1], MT_ENOTFOUND, "%s", pr->messages[1]);
    cr_assert_eq(pr->statuses[2], MT_EINVAL, "%s", pr->messages[2]);
    cr_assert(strstr(pr->messages[2], "is not tcp://IP:PORT"), "%s", pr->messages[2]);
    cr_assert_eq(pr->statuses[3], MT_EIO, "%s", pr->messages[3]);
    cr_assert(strstr(pr->messages[3], "tcp://127.0.0.1:1"), "%s", pr->messages[3]);
    protobuf_c_message_free_unpacked(r, &mt_rpc_pb_allocator);

    po[0].object_id.len = 3;
    cr_assert_eq(call(c, MANTA__NODE_METHOD__NODE_PULL_OBJECTS, &rq.base, &manta__pull_objects_reply__descriptor, NULL,
                      NULL, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, "objects[0].object_id must be"), "%s", err.msg);

    Manta__ListObjectsRequest lq = MANTA__LIST_OBJECTS_REQUEST__INIT;
    cr_assert_eq(call(c, MANTA__NODE_METHOD__NODE_LIST_OBJECTS, &lq.base, &manta__list_objects_reply__descriptor, &r, NULL,
                      &err), MT_OK, "%s", err.msg);
    Manta__ListObjectsReply *lr = (Manta__ListObjectsReply *)r;
    bool found = false;
    for (size_t i = 0; i < lr->n_objects; i++)
        if (lr->objects[i]->object_id.len == MT_ID_SIZE && !memcmp(lr->objects[i]->object_id.data, here.bytes, MT_ID_SIZE)) {
            found = true;
            cr_assert_eq(lr->objects[i]->size, 16);
            cr_assert(lr->objects[i]->sealed && lr->objects[i]->primary && !lr->objects[i]->spilled);
            cr_assert_str_eq(lr->objects[i]->owner_kind, "driver");
        }
    cr_assert(found, "the sealed object is listed");
    cr_assert_eq(lr->total, (int64_t)lr->n_objects);
    protobuf_c_message_free_unpacked(r, &mt_rpc_pb_allocator);
    mt_rpc_client_close(c);
}
