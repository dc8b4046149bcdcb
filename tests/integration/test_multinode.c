/*
 * Two nodes on loopback: a head (control store + node A) and a node B
 * joined with `manta start --address` as separate daemons. A driver on A
 * puts an object; a driver on B (this executable re-run with ITEST_ROLE,
 * joined to B's session) turns the ref's bytes into a ref and reads the
 * object: it is pulled from A in chunks into B's store and compared byte
 * for byte; a second read is served from B's copy.
 */
#include "itest_cluster.h"

#include <pthread.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>

#include <manta/manta.h>

static itest_cluster C;

static uint8_t byte_at(size_t i) { return (uint8_t)((i * 2654435761u) >> 13); }

/* ITEST_ROLE=reader_on_b: reads the ref in ITEST_REF_FILE through node B. */
static int reader_on_b(void)
{
    mt_error err = {0};
    char bdir[400];
    snprintf(bdir, sizeof bdir, "%s", getenv("ITEST_REF_FILE"));
    snprintf(strrchr(bdir, '/'), 3, "/b"); /* node B's temp dir sits beside the ref file */
    mt_init_options o = {.temp_dir = bdir, .no_start = true};
    if (mt_init_ex(&o, &err) != MT_OK) return printf("init: %s\n", err.msg), 10;
    uint8_t buf[MT_ACTOR_HANDLE_MAX];
    FILE *f = fopen(getenv("ITEST_REF_FILE"), "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    mt_ref *r = NULL;
    double t0 = itest_now();
    if (mt_ref_from_bytes(buf, n, &r, &err) != MT_OK) return printf("from_bytes: %s\n", err.msg), 11;
    mt_value v;
    if (mt_get(&r, 1, 30000, &v, &err) != MT_OK) return printf("get: %s\n", err.msg), 12;
    double t1 = itest_now();
    for (size_t i = 0; i < v.size; i++)
        if (((const uint8_t *)v.data)[i] != byte_at(i)) return printf("byte %zu differs\n", i), 13;
    size_t size = v.size;
    mt_value_release(&v);
    mt_ref_release(r);
    /* again: B's copy serves (the ref is new; the object is already here) */
    if (mt_ref_from_bytes(buf, n, &r, &err) != MT_OK || mt_get(&r, 1, 30000, &v, &err) != MT_OK)
        return printf("second read: %s\n", err.msg), 14;
    bool same = v.size == size && ((const uint8_t *)v.data)[size - 1] == byte_at(size - 1);
    mt_value_release(&v);
    mt_ref_release(r);
    printf("OK %zu bytes in %.3f s\n", size, t1 - t0);
    mt_shutdown();
    return same ? 0 : 15;
}

/* ITEST_ROLE=survivor_reader: a new driver finds the named actor "survivor" and calls it. */
static int survivor_reader(void)
{
    mt_error err = {0};
    mt_init_options o = {.address = getenv("ITEST_GCS"), .no_start = true};
    if (mt_init_ex(&o, &err) != MT_OK) return printf("init: %s\n", err.msg), 10;
    mt_actor *a = NULL;
    if (mt_actor_lookup("survivor", "itest", &a, &err) != MT_OK) return printf("lookup: %s\n", err.msg), 11;
    mt_ref *r = NULL;
    mt_value v = {0};
    int64_t x = 0;
    if (mt_actor_call(a, "incr", NULL, 0, 1, &r, &err) != MT_OK || mt_get(&r, 1, 30000, &v, &err) != MT_OK ||
        mt_value_i64(&v, &x, &err) != MT_OK)
        return printf("incr: %s\n", err.msg), 12;
    printf("incr=%lld\n", (long long)x);
    mt_value_release(&v);
    mt_ref_release(r);
    mt_actor_release(a);
    /* node B is back in the control store's table: work pinned to it is leased there */
    mt_resource special[2] = {{"CPU", 1}, {"special", 1}};
    mt_task_options to = {.resources = special, .num_resources = 2};
    if (mt_task_submit("manta.pid", NULL, 0, &to, &r, &err) != MT_OK || mt_get(&r, 1, 30000, &v, &err) != MT_OK ||
        mt_value_i64(&v, &x, &err) != MT_OK)
        return printf("pinned task: %s\n", err.msg), 13;
    printf("pid=%lld\n", (long long)x);
    mt_value_release(&v);
    mt_ref_release(r);
    mt_shutdown();
    return 0;
}

/* ITEST_ROLE=group_holder: a driver that places the group "orphan", says "held" and waits to be killed. */
static int group_holder(void)
{
    mt_error err = {0};
    mt_init_options o = {.address = getenv("ITEST_GCS"), .no_start = true};
    if (mt_init_ex(&o, &err) != MT_OK) return printf("init: %s\n", err.msg), 10;
    mt_placement_group *pg = NULL;
    mt_resource quarter[1] = {{"CPU", 0.25}};
    mt_bundle bundle = {quarter, 1};
    if (mt_placement_group_create(&bundle, 1, MT_PG_PACK, "orphan", &pg, &err) != MT_OK ||
        mt_placement_group_wait(pg, 30000, &err) != MT_OK)
        return printf("group: %s\n", err.msg), 11;
    printf("held\n");
    fflush(stdout);
    for (;;) pause();
}

__attribute__((constructor)) static void role_dispatch(void)
{
    const char *role = getenv("ITEST_ROLE");
    int rc = -1;
    if (role && !strcmp(role, "reader_on_b")) rc = reader_on_b();
    else if (role && !strcmp(role, "survivor_reader")) rc = survivor_reader();
    else if (role && !strcmp(role, "group_holder")) rc = group_holder();
    if (rc >= 0) {
        fflush(stdout);
        _exit(rc);
    }
}

static void join_b(char *bdir, size_t cap) { itest_join(&C, "b", "{\"special\": 2}", bdir, cap); }

static void setup(void) { itest_prepare(&C); }

/* A head (all CPUs) and node B, this process connected as a driver. */
static void start_with_b(char *bdir, size_t cap)
{
    itest_start(&C, NULL);
    join_b(bdir, cap);
    itest_connect(&C);
}
static void teardown(void) { itest_teardown_joined(&C, "b"); }

Test(multinode, list_nodes_shows_both_nodes, .init = setup, .fini = teardown, .timeout = 120)
{
    itest_start(&C, NULL);
    char bdir[300], out[16384];
    join_b(bdir, sizeof bdir);
    char *json[] = {"list", "nodes", "--format", "json", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(json, out, sizeof out, 20000), 0, "%s", out);
    int alive = 0;
    for (const char *p = out; (p = strstr(p, "\"state\": \"ALIVE\"")); p++) alive++;
    cr_assert_eq(alive, 2, "%s", out);
    cr_assert(strstr(out, "\"is_head_node\": true") && strstr(out, "\"is_head_node\": false"), "%s", out);
    cr_assert(strstr(out, "\"special\": 2.0"), "node B's custom resource: %s", out);
    char head_res[64];
    snprintf(head_res, sizeof head_res, "\"node:%s\": 1.0", C.host_ip);
    cr_assert(strstr(out, head_res), "a resource name with ':' survives the JSON (%s): %s", head_res, out);
    char *table[] = {"list", "nodes", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(table, out, sizeof out, 20000), 0, "%s", out);
    cr_assert(strstr(out, "======== List: ") && strstr(out, "Total: 2") && strstr(out, "NODE_ID") &&
                  strstr(out, "RESOURCES_TOTAL"), "%s", out);
    char *bad[] = {"list", "runtime-envs", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(bad, out, sizeof out, 20000), 2, "%s", out);
}

Test(multinode, a_custom_resource_pins_tasks_to_the_node_that_has_it, .init = setup, .fini = teardown, .timeout = 120)
{
    char bdir[300];
    start_with_b(bdir, sizeof bdir);
    mt_error err = {0};
    mt_resource special[2] = {{"CPU", 1}, {"special", 1}};
    mt_task_options o = {.resources = special, .num_resources = 2};
    mt_ref *r = NULL;
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &o, &r, &err), MT_OK, "%s", err.msg);
    int64_t pid = itest_get_i64(r, 30000);
    mt_ref_release(r);
    cr_assert(itest_runs_under((int)pid, bdir), "the task ran in worker %lld, not on node B", (long long)pid);
    mt_ref *local = NULL;
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, NULL, &local, &err), MT_OK, "%s", err.msg);
    int64_t lpid = itest_get_i64(local, 30000);
    mt_ref_release(local);
    cr_assert_not(itest_runs_under((int)lpid, bdir), "a plain task stays on the driver's node");
    /* a stored result made on B is read here (pulled from B) */
    int64_t size = 3 << 20;
    mt_arg a = MT_ARG_I64(size);
    mt_ref *big = NULL;
    cr_assert_eq(mt_task_submit("manta.bytes", &a, 1, &o, &big, &err), MT_OK, "%s", err.msg);
    mt_value v;
    cr_assert_eq(mt_get(&big, 1, 30000, &v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq((int64_t)v.size, size);
    const uint8_t *b = v.data;
    for (int64_t i = 0; i < size; i++) cr_assert_eq(b[i], (uint8_t)((i * 7 + 3) & 0xff), "byte %lld", (long long)i);
    mt_value_release(&v);
    mt_ref_release(big);
    /* an argument made here is copied to the worker on B */
    size_t asz = 2u << 20;
    uint8_t *adata = malloc(asz);
    int64_t sum = 0;
    for (size_t i = 0; i < asz; i++) adata[i] = byte_at(i), sum += adata[i];
    mt_ref *arg = NULL;
    cr_assert_eq(mt_put(adata, asz, &arg, &err), MT_OK, "%s", err.msg);
    free(adata);
    mt_arg ra = MT_ARG_REF(arg);
    mt_ref *dg = NULL;
    cr_assert_eq(mt_task_submit("manta.digest", &ra, 1, &o, &dg, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_get(&dg, 1, 30000, &v, &err), MT_OK, "%s", err.msg);
    const int64_t *d = v.data;
    cr_assert(v.size == 16 && d[0] == (int64_t)asz && d[1] == sum, "digest on B: %lld bytes, sum %lld (want %lld)",
              (long long)d[0], (long long)d[1], (long long)sum);
    mt_value_release(&v);
    mt_ref_release(dg);
    mt_ref_release(arg);
    /* no node has it: a clear error */
    mt_resource none[1] = {{"nowhere", 1}};
    mt_task_options no = {.resources = none, .num_resources = 1};
    mt_ref *x = NULL;
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &no, &x, &err), MT_OK);
    cr_assert_neq(mt_get(&x, 1, 30000, &v, &err), MT_OK);
    cr_assert(strstr(err.msg, "nowhere"), "%s", err.msg);
    mt_ref_release(x);
    mt_shutdown();
}

Test(multinode, an_object_made_on_one_node_is_read_on_another, .init = setup, .fini = teardown, .timeout = 120)
{
    itest_start(&C, (const char *const[]){"--object-store-memory", "268435456", NULL});
    char bdir[300];
    join_b(bdir, sizeof bdir);
    itest_connect(&C);
    size_t size = getenv("ITEST_MB") ? (size_t)atoi(getenv("ITEST_MB")) << 20 : 48u << 20;
    uint8_t *data = malloc(size);
    for (size_t i = 0; i < size; i++) data[i] = byte_at(i);
    mt_ref *r = NULL;
    mt_error err = {0};
    cr_assert_eq(mt_put(data, size, &r, &err), MT_OK, "%s", err.msg);
    free(data);
    uint8_t buf[MT_ACTOR_HANDLE_MAX];
    size_t n = 0;
    cr_assert_eq(mt_ref_to_bytes(r, buf, sizeof buf, &n, &err), MT_OK, "%s", err.msg);
    char refpath[300], outpath[300], env1[400], out[4096];
    snprintf(refpath, sizeof refpath, "%s/ref.bin", C.dir);
    snprintf(outpath, sizeof outpath, "%s/reader.out", C.dir);
    FILE *f = fopen(refpath, "wb");
    cr_assert(f && fwrite(buf, 1, n, f) == n);
    fclose(f);
    snprintf(env1, sizeof env1, "ITEST_REF_FILE=%s", refpath);
    pid_t pid = itest_spawn_role_in(itest_node_ns(&C, "b"), "reader_on_b", env1, outpath);
    int status = 0;
    double deadline = itest_now() + 90;
    while (waitpid(pid, &status, WNOHANG) == 0 && itest_now() < deadline) itest_sleep_ms(20);
    if (itest_now() >= deadline) kill(pid, SIGKILL), waitpid(pid, &status, 0);
    itest_read_file(outpath, out, sizeof out);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reader on node B failed:\n%s", out);
    char want[64];
    snprintf(want, sizeof want, "OK %zu bytes", size);
    cr_assert(strstr(out, want), "%s", out);
    cr_log_info("%s", out);
    mt_ref_release(r);
    mt_shutdown();
}

static double resource_of(bool available, const char *name)
{
    mt_resource *r = NULL;
    int n = 0;
    mt_error err = {0};
    mt_status st = available ? mt_available_resources(&r, &n, &err) : mt_cluster_resources(&r, &n, &err);
    cr_assert_eq(st, MT_OK, "%s", err.msg);
    double q = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(r[i].name, name)) q = r[i].quantity;
    mt_resources_free(r, n);
    return q;
}

/* A 1-CPU head and node B, this process connected, B's report in and heard by the head. */
static void start_two_one_cpu_nodes(char *bdir, size_t cap)
{
    const char *one_cpu[] = {"--num-cpus", "1", NULL};
    itest_start(&C, one_cpu);
    join_b(bdir, cap);
    itest_connect(&C);
    double t0 = itest_now();
    while (resource_of(true, "CPU") < 2 && itest_now() - t0 < 10) usleep(50000);
    usleep(1200000); /* a node learns of a new peer at its next 1 s heartbeat */
}

/*
 * A head with 1 CPU and node B with 1 CPU: two 3 s tasks run at once, one
 * on each node (the busy head names B in its reply; the driver leases
 * there), so both are done well before the 6 s they take one after the
 * other, and for a while no CPU in the cluster is available.
 */
Test(multinode, busy_work_spills_to_a_node_with_room, .init = setup, .fini = teardown, .timeout = 120)
{
    char bdir[300];
    start_two_one_cpu_nodes(bdir, sizeof bdir);
    cr_assert_eq(resource_of(false, "CPU"), 2);
    cr_assert_eq(resource_of(false, "special"), 2);
    double t0;
    mt_error err = {0};
    mt_ref *r[2] = {0};
    t0 = itest_now();
    for (int i = 0; i < 2; i++) {
        mt_arg a = MT_ARG_I64(3000);
        cr_assert_eq(mt_task_submit("manta.sleep_ms", &a, 1, NULL, &r[i], &err), MT_OK, "%s", err.msg);
    }
    bool all_busy = false;
    while (!all_busy && itest_now() - t0 < 2.8) {
        all_busy = resource_of(true, "CPU") == 0;
        usleep(100000);
    }
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(itest_get_i64(r[i], 30000), 3000);
        mt_ref_release(r[i]);
    }
    double took = itest_now() - t0;
    cr_assert(all_busy, "both nodes' CPUs were never in use at once");
    cr_assert_lt(took, 5.5, "the two tasks ran one after the other (%.2f s)", took);
}

/* Ray's node resources: node B at 127.0.0.2 (or its namespace's address) has "node:<ip>"; the head has "node:__internal_head__". */
Test(multinode, node_ip_resources_pin_work_to_a_node, .init = setup, .fini = teardown, .timeout = 120)
{
    itest_start(&C, NULL);
    char bdir[300], b_res[64];
    itest_join_at(&C, "b", NULL, "127.0.0.2", bdir, sizeof bdir);
    snprintf(b_res, sizeof b_res, "node:%s", itest_node_ip(&C, "b"));
    itest_connect(&C);
    cr_assert_eq(resource_of(false, b_res), 1);
    cr_assert_eq(resource_of(false, "node:__internal_head__"), 1);
    mt_error err = {0};
    mt_resource on_b[2] = {{"CPU", 1}, {b_res, 0.01}}, on_head[2] = {{"CPU", 1}, {"node:__internal_head__", 0.01}};
    mt_task_options ob = {.resources = on_b, .num_resources = 2}, oh = {.resources = on_head, .num_resources = 2};
    for (int i = 0; i < 3; i++) {
        mt_ref *rb = NULL, *rh = NULL;
        cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &ob, &rb, &err), MT_OK, "%s", err.msg);
        cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &oh, &rh, &err), MT_OK, "%s", err.msg);
        int64_t pb = itest_get_i64(rb, 30000), ph = itest_get_i64(rh, 30000);
        mt_ref_release(rb);
        mt_ref_release(rh);
        cr_assert(itest_runs_under((int)pb, bdir), "%s work ran in worker %lld, not on node B", b_res, (long long)pb);
        cr_assert(!itest_runs_under((int)ph, bdir), "head work ran on node B");
    }
    char out[8192];
    char *st[] = {"status", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(st, out, sizeof out, 20000), 0, "%s", out);
    cr_assert(!strstr(out, "node:"), "node resources are labels, not listed under Usage:\n%s", out);
}

/*
 * kill -9 of a whole node mid-job: a 3 s task runs on the head, a 6 s
 * task spills to node B; B dies once both run. The lost task is retried and
 * runs on the head once it is free; the control store marks B dead after
 * node_dead_after_ms, and the head stops spilling to it.
 */
Test(multinode, a_killed_node_s_tasks_are_retried_elsewhere, .init = setup, .fini = teardown, .timeout = 120)
{
    const char *one_cpu[] = {"--num-cpus", "1", NULL};
    setenv("MANTA_NODE_DEAD_AFTER_MS", "2000", 1); /* the daemons started below inherit it */
    itest_start(&C, one_cpu);
    char bdir[300];
    join_b(bdir, sizeof bdir);
    unsetenv("MANTA_NODE_DEAD_AFTER_MS");
    itest_connect(&C);
    double t0 = itest_now();
    while (resource_of(true, "CPU") < 2 && itest_now() - t0 < 10) usleep(50000);
    usleep(300000); /* the head has heard B's report */
    mt_error err = {0};
    mt_arg short_a = MT_ARG_I64(3000), long_a = MT_ARG_I64(6000);
    mt_ref *first = NULL, *lost = NULL;
    cr_assert_eq(mt_task_submit("manta.sleep_ms", &short_a, 1, NULL, &first, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_task_submit("manta.sleep_ms", &long_a, 1, NULL, &lost, &err), MT_OK, "%s", err.msg);
    t0 = itest_now();
    bool both = false;
    while (!both && itest_now() - t0 < 2.5) {
        both = resource_of(true, "CPU") == 0;
        if (!both) usleep(50000);
    }
    cr_assert(both, "both tasks are running, one on each node");
    double killed_at = itest_now();
    cr_assert_gt(itest_kill_node(bdir), 0, "no process of node B found");
    cr_assert_eq(itest_get_i64(first, 30000), 3000);
    cr_assert_eq(itest_get_i64(lost, 30000), 6000, "the task of the killed node was retried");
    double took = itest_now() - killed_at;
    mt_ref_release(first);
    mt_ref_release(lost);
    cr_assert_lt(took, 14, "retried and done %.1f s after the kill", took);
    t0 = itest_now();
    while (resource_of(false, "CPU") > 1 && itest_now() - t0 < 10) usleep(100000);
    cr_assert_eq(resource_of(false, "CPU"), 1, "the control store marked node B dead");
}

/*
 * Head restart: the control store is killed (-9) and started again on its
 * port from its persisted tables; both node daemons reconnect and register
 * again, and a new driver finds the detached named actor made before the
 * kill, with its state. A placement group this driver holds across the
 * restart is still listed by the restarted control store (its table is in
 * gcs.db).
 */
Test(multinode, a_restarted_head_gets_its_nodes_back_and_named_actors_stay_reachable, .init = setup, .fini = teardown,
     .timeout = 120)
{
    char bdir[300];
    start_with_b(bdir, sizeof bdir);
    mt_error err = {0};
    mt_actor *a = NULL;
    mt_actor_options ao = {.name = "survivor", .ns = "itest", .detached = true};
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &ao, &a, &err), MT_OK, "%s", err.msg);
    mt_ref *r = NULL;
    cr_assert_eq(mt_actor_call(a, "incr", NULL, 0, 1, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(itest_get_i64(r, 30000), 1);
    mt_ref_release(r);
    mt_actor_release(a);
    mt_placement_group *pg = NULL;
    mt_resource half[1] = {{"CPU", 0.5}};
    mt_bundle bundle = {half, 1};
    cr_assert_eq(mt_placement_group_create(&bundle, 1, MT_PG_PACK, "kept", &pg, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_placement_group_wait(pg, 30000, &err), MT_OK, "%s", err.msg);
    char out[16384];
    char *pgs[] = {"list", "placement-groups", "--format", "json", "--temp-dir", C.dir, NULL};
    bool listed = false; /* the driver's report is one-way: kill only once the store has it */
    for (double t0 = itest_now(); !listed && itest_now() - t0 < 20; itest_sleep_ms(100))
        listed = itest_run_cli(pgs, out, sizeof out, 20000) == 0 && strstr(out, "\"state\": \"CREATED\"");
    cr_assert(listed, "the control store never listed the group:\n%s", out);
    /* another driver's group, whose driver dies while the control store is down */
    char hout[700], htext[4096] = "", genv[64];
    snprintf(hout, sizeof hout, "%s/holder.out", C.dir);
    snprintf(genv, sizeof genv, "ITEST_GCS=%s:%d", C.host_ip, C.gcs_port);
    pid_t holder = itest_spawn_role("group_holder", genv, hout);
    for (double t0 = itest_now(); !strstr(htext, "held") && itest_now() - t0 < 30; itest_sleep_ms(100))
        itest_read_file(hout, htext, sizeof htext);
    cr_assert(strstr(htext, "held"), "the other driver's group: %s", htext);
    listed = false;
    for (double t0 = itest_now(); !listed && itest_now() - t0 < 20; itest_sleep_ms(100))
        listed = itest_run_cli(pgs, out, sizeof out, 20000) == 0 && strstr(out, "\"name\": \"orphan\"");
    cr_assert(listed, "the control store never listed the other driver's group:\n%s", out);

    cr_assert_eq(kill(C.gcs_pid, SIGKILL), 0);
    itest_sleep_ms(200);
    kill(holder, SIGKILL); /* while the control store is down */
    waitpid(holder, NULL, 0);
    itest_sleep_ms(500);
    char port[16], log[700];
    snprintf(port, sizeof port, "%d", C.gcs_port);
    snprintf(log, sizeof log, "%s/gcs-restart.out", C.dir);
    pid_t g = fork();
    if (g == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        execl(itest_manta_bin(), itest_manta_bin(), "gcs-server", "--session-dir", C.session, "--port", port,
              "--node-ip-address", C.host_ip, (char *)NULL);
        _exit(127);
    }
    cr_assert_gt(g, 0);
    char *json[] = {"list", "nodes", "--format", "json", "--temp-dir", C.dir, NULL};
    int alive = 0;
    for (double t0 = itest_now(); alive != 2 && itest_now() - t0 < 20; itest_sleep_ms(200)) {
        alive = 0;
        if (itest_run_cli(json, out, sizeof out, 20000) != 0) continue;
        for (const char *p = out; (p = strstr(p, "\"state\": \"ALIVE\"")); p++) alive++;
    }
    cr_assert_eq(alive, 2, "both nodes came back to the restarted control store:\n%s", out);
    cr_assert_eq(itest_run_cli(pgs, out, sizeof out, 20000), 0, "%s", out);
    cr_assert(strstr(out, "\"name\": \"kept\"") && strstr(out, "\"state\": \"CREATED\""),
              "the restarted control store lists the group:\n%s", out);
    bool orphan = true; /* the node that held its bundle tells the store once it is registered again */
    for (double t0 = itest_now(); orphan && itest_now() - t0 < 10; itest_sleep_ms(100))
        orphan = itest_run_cli(pgs, out, sizeof out, 20000) != 0 || strstr(out, "\"name\": \"orphan\"");
    cr_assert_not(orphan, "the group of the driver that died while the store was down is still listed:\n%s", out);
    cr_assert(strstr(out, "\"name\": \"kept\""), "%s", out);
    char rout[700], text[4096] = "", env[64];
    snprintf(rout, sizeof rout, "%s/survivor.out", C.dir);
    snprintf(env, sizeof env, "ITEST_GCS=%s:%d", C.host_ip, C.gcs_port);
    pid_t pid = itest_spawn_role("survivor_reader", env, rout);
    int status = 0;
    waitpid(pid, &status, 0);
    itest_read_file(rout, text, sizeof text);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the new driver: %s", text);
    cr_assert(strstr(text, "incr=2"), "the named actor kept its state across the restart: %s", text);
    const char *pp = strstr(text, "pid=");
    cr_assert(pp && itest_runs_under(atoi(pp + 4), bdir), "a task pinned to node B ran there after the restart: %s", text);
    mt_placement_group_release(pg);
    mt_shutdown();
    kill(g, SIGTERM);
    waitpid(g, NULL, 0);
}

/* One thread's read of the 3 MiB manta.bytes result: its status and the first wrong byte (-1: none). */
typedef struct lost_read {
    mt_ref *ref;
    mt_status st;
    ssize_t bad;
    char msg[MT_ERROR_MSG_MAX];
} lost_read;

static void *read_lost(void *arg)
{
    lost_read *l = arg;
    mt_error err = {0};
    mt_value v = {0};
    l->bad = 0;
    l->st = mt_get(&l->ref, 1, 30000, &v, &err);
    snprintf(l->msg, sizeof l->msg, "%s", err.msg);
    if (l->st != MT_OK) return NULL;
    const uint8_t *b = v.data;
    l->bad = v.size == (size_t)3 << 20 ? -1 : (ssize_t)v.size;
    for (size_t i = 0; l->bad < 0 && i < v.size; i += 4093)
        if (b[i] != (uint8_t)((i * 7 + 3) & 0xff)) l->bad = (ssize_t)i;
    mt_value_release(&v);
    return NULL;
}

/*
 * Lineage across nodes: a 3 MiB result made on node B, whose only copy is
 * in B's store, is rebuilt on the head when B is killed before anyone read
 * it; the bytes are the same, for two threads reading it at once.
 */
Test(multinode, a_result_lost_with_its_node_is_rebuilt_elsewhere, .init = setup, .fini = teardown, .timeout = 120)
{
    char bdir[300];
    start_two_one_cpu_nodes(bdir, sizeof bdir);
    double t0;
    mt_error err = {0};
    mt_resource on_head[2] = {{"CPU", 1}, {"node:__internal_head__", 0.01}};
    mt_task_options ho = {.resources = on_head, .num_resources = 2};
    mt_arg fa = MT_ARG_I64(1500), size = MT_ARG_I64(3 << 20);
    mt_ref *filler = NULL, *big = NULL;
    cr_assert_eq(mt_task_submit("manta.sleep_ms", &fa, 1, &ho, &filler, &err), MT_OK, "%s", err.msg);
    for (t0 = itest_now(); resource_of(true, "CPU") > 1 && itest_now() - t0 < 5;) usleep(20000);
    cr_assert_eq(mt_task_submit("manta.bytes", &size, 1, NULL, &big, &err), MT_OK, "%s", err.msg);
    bool ready = false;
    int nready = 0;
    cr_assert_eq(mt_wait(&big, 1, 1, 10000, &ready, &nready, &err), MT_OK, "%s", err.msg); /* made (on B: the head is busy) */
    cr_assert_eq(nready, 1);
    cr_assert_eq(itest_get_i64(filler, 30000), 1500, "the filler held the head's CPU meanwhile");
    cr_assert_gt(itest_kill_node(bdir), 0);
    /* Two threads read it at once: the one whose copy fails second finds the rebuild under way and waits for it. */
    lost_read other = {.ref = big};
    pthread_t th;
    pthread_create(&th, NULL, read_lost, &other);
    lost_read mine = {.ref = big};
    read_lost(&mine);
    pthread_join(th, NULL);
    cr_assert_eq(mine.st, MT_OK, "the lost result was not rebuilt: %s", mine.msg);
    cr_assert_eq(other.st, MT_OK, "a second thread reading the lost result at once: %s", other.msg);
    cr_assert_eq(mine.bad, -1, "byte %zd", mine.bad);
    cr_assert_eq(other.bad, -1, "byte %zd (second thread)", other.bad);
    mt_ref_release(filler);
    mt_ref_release(big);
}

/* A manta.Counter (max_restarts 1) needing {CPU: 1, special: 1}, which counted to 2. */
static mt_actor *special_counter(void)
{
    mt_error err = {0};
    mt_resource special[2] = {{"CPU", 1}, {"special", 1}};
    mt_actor_options o = {.resources = special, .num_resources = 2, .max_restarts = 1};
    mt_actor *a = NULL;
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &a, &err), MT_OK, "%s", err.msg);
    itest_counter_counts_to(a, 2);
    return a;
}

/* An actor whose demand only node B has runs there, and restarts there after its worker is killed. */
Test(multinode, an_actor_pinned_by_a_custom_resource_runs_and_restarts_on_that_node, .init = setup, .fini = teardown,
     .timeout = 120)
{
    char bdir[300];
    start_with_b(bdir, sizeof bdir);
    mt_error err = {0};
    mt_actor *a = special_counter();
    cr_assert_eq(mt_actor_kill(a, false, &err), MT_OK, "%s", err.msg); /* may restart */
    int64_t x = -1;
    double took = 0;
    char first[MT_ERROR_MSG_MAX];
    mt_status st = itest_counter_incr_after_death(a, &x, &took, first, &err);
    cr_assert_eq(st, MT_OK, "the restarted actor (first call: %s): %s", first, err.msg);
    if (first[0]) cr_log_info("the call in flight when the worker died: %s", first);
    cr_assert_eq(x, 1, "a restarted actor starts from its constructor again");
    mt_actor_release(a);
    mt_actor *none = NULL;
    mt_resource nowhere[1] = {{"nowhere", 1}};
    mt_actor_options no = {.resources = nowhere, .num_resources = 1};
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &no, &none, &err), MT_OK, "%s", err.msg);
    mt_ref *nr = NULL;
    mt_value v;
    cr_assert_eq(mt_actor_call(none, "incr", NULL, 0, 1, &nr, &err), MT_OK, "%s", err.msg);
    cr_assert_neq(mt_get(&nr, 1, 30000, &v, &err), MT_OK);
    cr_assert(strstr(err.msg, "could not be placed"), "%s", err.msg);
    mt_ref_release(nr);
    mt_actor_release(none);
}

/*
 * kill -9 of the node an actor runs on: the actor (max_restarts 1) starts
 * again on the one other node with its demand, without waiting for the
 * control store to mark the dead node (node_dead_after_ms is 10 s here):
 * the owner skips the node that no longer answers. Calls made meanwhile
 * wait for the restart.
 */
Test(multinode, an_actor_on_a_killed_node_restarts_on_another, .init = setup, .fini = teardown, .timeout = 120)
{
    char bdir[300], cdir[300];
    start_with_b(bdir, sizeof bdir);
    mt_error err = {0};
    mt_actor *a = special_counter();
    itest_join_at(&C, "c", "{\"special\": 1}", NULL, cdir, sizeof cdir); /* joins after the actor started on B */
    for (double t0 = itest_now(); resource_of(false, "special") < 3 && itest_now() - t0 < 10;) itest_sleep_ms(50);
    cr_assert_eq(resource_of(false, "special"), 3, "node C's report reached the head");
    cr_assert_gt(itest_kill_node(bdir), 0, "no process of node B found");
    int64_t x = -1;
    double took = 0;
    char first[MT_ERROR_MSG_MAX];
    mt_status st = itest_counter_incr_after_death(a, &x, &took, first, &err);
    cr_assert_eq(st, MT_OK, "the actor after its node was killed (first call: %s): %s", first, err.msg);
    if (first[0]) cr_log_info("the call in flight when the node died: %s", first);
    cr_assert_eq(x, 1, "a restarted actor starts from its constructor again");
    cr_assert_lt(took, 8, "restarted %.1f s after the kill", took);
    cr_log_info("the actor answered again %.2f s after its node was killed", took);
    mt_actor_release(a);
    char out[4096];
    char *sc[] = {"stop", "--temp-dir", cdir, NULL};
    itest_run_cli(sc, out, sizeof out, 20000);
}
