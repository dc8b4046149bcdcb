/*
 * Two hosts in one machine: a head in this network namespace on a veth
 * address and node B inside its own namespace (`ip netns`) on the other
 * end, each reaching the other only by IP. A task pinned to B by a custom
 * resource runs there (the driver reaches B's worker over TCP), its 3 MiB
 * result is pulled back to the head, and a 2 MiB argument made here is
 * copied to B. Needs root (namespaces and veth); skipped otherwise.
 */
#include "itest_cluster.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <manta/manta.h>

static itest_cluster C;
static char g_ns[32], g_veth[16], g_host_ip[32], g_ns_ip[32], g_b[300];

static int sh(const char *fmt, const char *a, const char *b, const char *c)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, a, b, c);
    return system(cmd);
}

/* A namespace with one end of a veth pair; the other end here. Returns false when this machine cannot. */
static bool make_net(void)
{
    int id = (int)(getpid() % 200) + 20;
    snprintf(g_ns, sizeof g_ns, "mtns%d", (int)getpid());
    snprintf(g_veth, sizeof g_veth, "mtv%d", id);
    snprintf(g_host_ip, sizeof g_host_ip, "10.%d.%d.1", 200 + id % 50, id);
    snprintf(g_ns_ip, sizeof g_ns_ip, "10.%d.%d.2", 200 + id % 50, id);
    if (geteuid() != 0 || sh("ip netns add %s 2>/dev/null%s%s", g_ns, "", "") != 0) return false;
    bool ok = sh("ip link add %s type veth peer name %sp 2>/dev/null%s", g_veth, g_veth, "") == 0 &&
              sh("ip link set %sp netns %s%s", g_veth, g_ns, "") == 0 &&
              sh("ip addr add %s/24 dev %s && ip link set %s up", g_host_ip, g_veth, g_veth) == 0 &&
              sh("ip netns exec %s ip addr add %s/24 dev %sp", g_ns, g_ns_ip, g_veth) == 0 &&
              sh("ip netns exec %s ip link set %sp up && ip netns exec %s ip link set lo up", g_ns, g_veth, g_ns) == 0;
    return ok;
}

static void drop_net(void)
{
    if (!g_ns[0]) return;
    sh("ip link del %s 2>/dev/null; ip netns del %s 2>/dev/null%s", g_veth, g_ns, "");
    g_ns[0] = 0;
}

static void setup(void) { itest_prepare(&C); }

static void teardown(void)
{
    mt_shutdown();
    if (g_b[0]) {
        char out[4096];
        char *args[] = {"stop", "--temp-dir", g_b, NULL};
        itest_run_cli(args, out, sizeof out, 20000);
    }
    itest_teardown(&C);
    drop_net();
}

Test(netns, a_node_in_another_network_namespace_runs_pinned_work_and_moves_objects, .init = setup, .fini = teardown,
     .timeout = 180)
{
    if (!make_net()) {
        drop_net();
        cr_skip_test("needs root and ip netns (network namespaces with a veth pair)");
    }
    const char *head[] = {"--node-ip-address", g_host_ip, "--num-cpus", "1", NULL};
    itest_start(&C, head);
    char tok[128] = "", path[700], cmd[2048];
    snprintf(path, sizeof path, "%s/token", C.session);
    cr_assert_gt(itest_read_file(path, tok, sizeof tok), 0);
    tok[strcspn(tok, "\n")] = 0;
    snprintf(g_b, sizeof g_b, "%s/b", C.dir);
    cr_assert_eq(mkdir(g_b, 0700), 0);
    snprintf(cmd, sizeof cmd,
             "ip netns exec %s '%s' start --address %s:%d --node-ip-address %s --temp-dir '%s' --token %s "
             "--num-cpus 1 --object-store-memory 268435456 --resources '{\"special\": 2}' >'%s/join.out' 2>&1",
             g_ns, itest_manta_bin(), g_host_ip, C.gcs_port, g_ns_ip, g_b, tok, C.dir);
    int rc = system(cmd);
    char out[8192] = "";
    snprintf(path, sizeof path, "%s/join.out", C.dir);
    itest_read_file(path, out, sizeof out);
    cr_assert_eq(rc, 0, "joining from the namespace: %s", out);
    itest_connect(&C);
    mt_error err = {0};
    mt_resource special[2] = {{"CPU", 1}, {"special", 1}};
    mt_task_options o = {.resources = special, .num_resources = 2};
    mt_ref *r = NULL;
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &o, &r, &err), MT_OK, "%s", err.msg);
    int64_t pid = itest_get_i64(r, 60000);
    mt_ref_release(r);
    cr_assert(itest_runs_under((int)pid, g_b), "the pinned task ran in worker %lld, not on node B", (long long)pid);
    /* a result made on B is pulled to the head */
    mt_arg n = MT_ARG_I64(3 << 20);
    mt_ref *big = NULL;
    cr_assert_eq(mt_task_submit("manta.bytes", &n, 1, &o, &big, &err), MT_OK, "%s", err.msg);
    mt_value v = {0};
    cr_assert_eq(mt_get(&big, 1, 60000, &v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(v.size, (size_t)3 << 20);
    for (size_t i = 0; i < v.size; i += 4099) cr_assert_eq(((const uint8_t *)v.data)[i], (uint8_t)((i * 7 + 3) & 0xff));
    mt_value_release(&v);
    mt_ref_release(big);
    /* an argument made here is copied to B */
    size_t sz = (size_t)2 << 20;
    uint8_t *buf = malloc(sz);
    int64_t sum = 0;
    for (size_t i = 0; i < sz; i++) sum += buf[i] = (uint8_t)(i * 13);
    mt_ref *put = NULL;
    cr_assert_eq(mt_put(buf, sz, &put, &err), MT_OK, "%s", err.msg);
    free(buf);
    mt_arg ra = MT_ARG_REF(put);
    mt_ref *dg = NULL;
    cr_assert_eq(mt_task_submit("manta.digest", &ra, 1, &o, &dg, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_get(&dg, 1, 60000, &v, &err), MT_OK, "%s", err.msg);
    const int64_t *d = v.data;
    cr_assert(v.size == 16 && d[0] == (int64_t)sz && d[1] == sum, "digest on B: %lld bytes, sum %lld (want %lld)",
              (long long)d[0], (long long)d[1], (long long)sum);
    mt_value_release(&v);
    mt_ref_release(dg);
    mt_ref_release(put);
}
