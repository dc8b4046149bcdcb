/*
 * Placement groups on three nodes on loopback: a head with 2 CPUs and
 * nodes B (127.0.0.2) and C (127.0.0.3) with 1 CPU each, separate daemons
 * (with ITEST_NETNS, B and C each in a network namespace of its own).
 * Each strategy places where it must (STRICT_SPREAD one node per bundle and
 * pending when bundles outnumber nodes, STRICT_PACK one node, PACK few,
 * SPREAD many); reservation is atomic (a group that cannot be placed
 * holds nothing); tasks run inside their bundle, on its node, no more at
 * once than it holds; removal frees the resources and kills tasks in it;
 * the bundles of a node killed with -9 are placed again on the alive nodes
 * and their tasks run there.
 */
#include "itest_cluster.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <manta/manta.h>

static itest_cluster C;
static char g_b[300], g_c[300];

static void setup(void)
{
    itest_prepare(&C);
    const char *two[] = {"--num-cpus", "2", NULL};
    itest_start(&C, two);
    itest_join_at(&C, "b", NULL, "127.0.0.2", g_b, sizeof g_b);
    itest_join_at(&C, "c", NULL, "127.0.0.3", g_c, sizeof g_c);
    itest_connect(&C);
}

/* As setup, with nodes marked dead 3 s after their last heartbeat. */
static void setup_fast_death(void)
{
    setenv("MANTA_NODE_DEAD_AFTER_MS", "3000", 1); /* the daemons started below inherit it */
    setup();
    unsetenv("MANTA_NODE_DEAD_AFTER_MS");
}

static void teardown(void)
{
    mt_shutdown();
    char out[4096];
    char *sb[] = {"stop", "--temp-dir", g_b, NULL}, *sc[] = {"stop", "--temp-dir", g_c, NULL};
    itest_run_cli(sb, out, sizeof out, 20000);
    itest_run_cli(sc, out, sizeof out, 20000);
    itest_teardown(&C);
}

/* Whether node address "tcp://IP:PORT" is the node joined as sub. */
static bool on_node(const char *address, const char *sub)
{
    char want[64];
    snprintf(want, sizeof want, "//%s:", itest_node_ip(&C, sub));
    return strstr(address, want) != NULL;
}

static double cpus_available(void)
{
    mt_resource *r = NULL;
    int n = 0;
    mt_error err = {0};
    cr_assert_eq(mt_available_resources(&r, &n, &err), MT_OK, "%s", err.msg);
    double q = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(r[i].name, "CPU")) q = r[i].quantity;
    mt_resources_free(r, n);
    return q;
}

/* Waits (up to 5 s) for the cluster's available CPUs, as the nodes report them, to be `want`. */
static void expect_available(double want, const char *why)
{
    double t0 = itest_now(), got = -1;
    while ((got = cpus_available()) != want && itest_now() - t0 < 5) usleep(50000);
    cr_assert_eq(got, want, "%s: %g CPUs available, %g expected", why, got, want);
}

static const mt_resource CPU1[1] = {{"CPU", 1}};

static mt_placement_group *group(int n, mt_pg_strategy s)
{
    mt_bundle b[8];
    for (int i = 0; i < n; i++) b[i] = (mt_bundle){CPU1, 1};
    mt_placement_group *pg = NULL;
    mt_error err = {0};
    cr_assert_eq(mt_placement_group_create(b, n, s, "test", &pg, &err), MT_OK, "%s", err.msg);
    return pg;
}

static int distinct_nodes(const mt_placement_group *pg, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++) {
        const char *a = mt_placement_group_bundle_node(pg, i);
        cr_assert(a, "bundle %d is not placed", i);
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) seen = !strcmp(mt_placement_group_bundle_node(pg, k), a);
        d += !seen;
    }
    return d;
}

Test(placement, each_strategy_places_where_it_must, .init = setup, .fini = teardown, .timeout = 180)
{
    mt_error err = {0};
    expect_available(4, "the three nodes");
    struct { mt_pg_strategy s; int n, nodes; } cases[] = {
        {MT_PG_STRICT_SPREAD, 3, 3}, {MT_PG_SPREAD, 3, 3}, {MT_PG_STRICT_PACK, 2, 1}, {MT_PG_PACK, 3, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        mt_placement_group *pg = group(cases[c].n, cases[c].s);
        cr_assert_eq(mt_placement_group_wait(pg, 10000, &err), MT_OK, "strategy %d: %s", (int)cases[c].s, err.msg);
        cr_assert_eq(distinct_nodes(pg, cases[c].n), cases[c].nodes, "strategy %d", (int)cases[c].s);
        expect_available(4 - cases[c].n, "reserved");
        if (c == 0) { /* listed as CREATED while it lives, gone once removed */
            char out[16384];
            char *ls[] = {"list", "placement-groups", "--temp-dir", C.dir, NULL};
            cr_assert_eq(itest_run_cli(ls, out, sizeof out, 20000), 0, "%s", out);
            cr_assert(strstr(out, "PLACEMENT_GROUP_ID") && strstr(out, "CREATED") && strstr(out, "Total: 1"), "%s", out);
        }
        cr_assert_eq(mt_placement_group_remove(pg, &err), MT_OK, "%s", err.msg);
        cr_assert_eq(mt_placement_group_remove(pg, &err), MT_OK, "removing twice is fine");
        expect_available(4, "removed");
        mt_placement_group_release(pg);
    }
    char out[16384];
    char *ls[] = {"list", "placement-groups", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(ls, out, sizeof out, 20000), 0, "%s", out);
    cr_assert(strstr(out, "Total: 0"), "removed groups are not listed:\n%s", out);
}

Test(placement, infeasible_groups_stay_pending_and_hold_nothing, .init = setup, .fini = teardown, .timeout = 180)
{
    mt_error err = {0};
    expect_available(4, "the three nodes");
    mt_placement_group *spread = group(4, MT_PG_STRICT_SPREAD); /* 4 bundles, 3 nodes */
    cr_assert_eq(mt_placement_group_wait(spread, 1000, &err), MT_ETIMEOUT);
    cr_assert(strstr(err.msg, "not placed within 1000 ms"), "%s", err.msg);
    cr_assert_null(mt_placement_group_bundle_node(spread, 0));
    mt_placement_group *pack = group(3, MT_PG_STRICT_PACK); /* no node has 3 CPUs */
    cr_assert_eq(mt_placement_group_wait(pack, 500, &err), MT_ETIMEOUT);
    expect_available(4, "a pending group holds nothing");
    /* the control store lists both as PENDING, and `manta status` shows their bundles as demand */
    char out[16384];
    char *ls[] = {"list", "placement-groups", "--format", "json", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(ls, out, sizeof out, 20000), 0, "%s", out);
    cr_assert(strstr(out, "\"state\": \"PENDING\"") && strstr(out, "\"strategy\": \"STRICT_SPREAD\"") &&
                  strstr(out, "\"strategy\": \"STRICT_PACK\""), "%s", out);
    char *st[] = {"status", "--temp-dir", C.dir, NULL};
    cr_assert_eq(itest_run_cli(st, out, sizeof out, 20000), 0, "%s", out);
    cr_assert(strstr(out, " {'CPU': 1.0} * 4 (STRICT_SPREAD): 1+ pending placement groups"), "%s", out);
    cr_assert(strstr(out, " {'CPU': 1.0} * 3 (STRICT_PACK): 1+ pending placement groups"), "%s", out);
    /* a task asking for a pending group's bundle fails at once */
    mt_task_options o = {.placement_group = pack, .bundle_index = MT_BUNDLE(0)};
    mt_ref *r = NULL;
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &o, &r, &err), MT_OK, "%s", err.msg);
    mt_value v;
    cr_assert_eq(mt_get(&r, 1, 10000, &v, &err), MT_ESTATE);
    cr_assert(strstr(err.msg, "not placed"), "%s", err.msg);
    mt_ref_release(r);
    mt_placement_group_release(spread);
    mt_placement_group_release(pack);
    /* bad groups fail at create */
    mt_placement_group *bad = NULL;
    mt_bundle none = {CPU1, 0}, zero = {(mt_resource[]){{"CPU", 0}}, 1};
    cr_assert_eq(mt_placement_group_create(&none, 1, MT_PG_PACK, NULL, &bad, &err), MT_EINVAL);
    cr_assert_eq(mt_placement_group_create(&zero, 1, MT_PG_PACK, NULL, &bad, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, "empty"), "%s", err.msg);
    cr_assert_eq(mt_placement_group_create(&(mt_bundle){CPU1, 1}, 0, MT_PG_PACK, NULL, &bad, &err), MT_EINVAL);
    cr_assert_eq(mt_placement_group_create(&(mt_bundle){CPU1, 1}, 1, (mt_pg_strategy)9, NULL, &bad, &err), MT_EINVAL);
    cr_assert_null(bad);
}

Test(placement, tasks_run_in_their_bundle_and_die_with_it, .init = setup, .fini = teardown, .timeout = 180)
{
    mt_error err = {0};
    expect_available(4, "the three nodes");
    mt_placement_group *pg = group(3, MT_PG_STRICT_SPREAD);
    cr_assert_eq(mt_placement_group_wait(pg, 10000, &err), MT_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++) { /* each bundle's task runs on that bundle's node */
        mt_task_options o = {.placement_group = pg, .bundle_index = MT_BUNDLE(i)};
        mt_ref *r = NULL;
        cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &o, &r, &err), MT_OK, "%s", err.msg);
        int pid = (int)itest_get_i64(r, 30000);
        mt_ref_release(r);
        const char *node = mt_placement_group_bundle_node(pg, i);
        bool on_b = itest_runs_under(pid, g_b), on_c = itest_runs_under(pid, g_c);
        if (on_node(node, "b")) cr_assert(on_b, "bundle %d is on B; its task ran elsewhere", i);
        else if (on_node(node, "c")) cr_assert(on_c, "bundle %d is on C; its task ran elsewhere", i);
        else cr_assert(!on_b && !on_c, "bundle %d is on the head; its task ran elsewhere", i);
    }
    /* a 1-CPU bundle runs its tasks one at a time */
    mt_task_options in0 = {.placement_group = pg, .bundle_index = MT_BUNDLE(0)};
    mt_ref *r[2] = {0};
    double t0 = itest_now();
    for (int i = 0; i < 2; i++) {
        mt_arg a = MT_ARG_I64(700);
        cr_assert_eq(mt_task_submit("manta.sleep_ms", &a, 1, &in0, &r[i], &err), MT_OK, "%s", err.msg);
    }
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(itest_get_i64(r[i], 30000), 700);
        mt_ref_release(r[i]);
    }
    cr_assert_geq(itest_now() - t0, 1.35, "two 0.7 s tasks in a 1-CPU bundle overlapped");
    /* removal kills what runs inside */
    mt_arg a = MT_ARG_I64(20000);
    mt_ref *longr = NULL;
    mt_task_options once = {.placement_group = pg, .bundle_index = MT_BUNDLE(1), .max_retries = MT_RETRIES_NONE};
    cr_assert_eq(mt_task_submit("manta.sleep_ms", &a, 1, &once, &longr, &err), MT_OK, "%s", err.msg);
    usleep(500000);
    cr_assert_eq(mt_placement_group_remove(pg, &err), MT_OK, "%s", err.msg);
    mt_value v;
    t0 = itest_now();
    cr_assert_neq(mt_get(&longr, 1, 15000, &v, &err), MT_OK, "a task of a removed group finished");
    cr_assert_lt(itest_now() - t0, 10, "the task was not killed with its group");
    mt_ref_release(longr);
    expect_available(4, "removed");
    mt_placement_group_release(pg);
}

/* SPREAD: three tasks submitted together run on the three nodes, one each. */
Test(placement, spread_tasks_go_to_every_node, .init = setup, .fini = teardown, .timeout = 120)
{
    mt_error err = {0};
    expect_available(4, "the three nodes");
    mt_task_options o = {.scheduling_strategy = MT_SCHED_SPREAD};
    mt_ref *r[3] = {0};
    for (int i = 0; i < 3; i++) cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &o, &r[i], &err), MT_OK, "%s", err.msg);
    int on_b = 0, on_c = 0, on_head = 0;
    for (int i = 0; i < 3; i++) {
        int pid = (int)itest_get_i64(r[i], 30000);
        mt_ref_release(r[i]);
        if (itest_runs_under(pid, g_b)) on_b++;
        else if (itest_runs_under(pid, g_c)) on_c++;
        else on_head++;
    }
    cr_assert(on_b == 1 && on_c == 1 && on_head == 1, "head %d, B %d, C %d", on_head, on_b, on_c);
    o.scheduling_strategy = (mt_scheduling_strategy)7;
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &o, &r[0], &err), MT_EINVAL);
}

/* Actors in bundles run on the bundles' nodes: the one whose node dies goes with it, the others answer. */
Test(placement, actors_run_in_their_bundles, .init = setup, .fini = teardown, .timeout = 180)
{
    mt_error err = {0};
    expect_available(4, "the three nodes");
    mt_placement_group *pg = group(3, MT_PG_STRICT_SPREAD);
    cr_assert_eq(mt_placement_group_wait(pg, 10000, &err), MT_OK, "%s", err.msg);
    mt_actor *a[3] = {0};
    int on_c = -1;
    for (int i = 0; i < 3; i++) {
        mt_actor_options o = {.resources = CPU1, .num_resources = 1, .placement_group = pg, .bundle_index = MT_BUNDLE(i)};
        cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &a[i], &err), MT_OK, "%s", err.msg);
        if (on_node(mt_placement_group_bundle_node(pg, i), "c")) on_c = i;
    }
    cr_assert_geq(on_c, 0, "no bundle on C");
    for (int round = 1; round <= 2; round++)
        for (int i = 0; i < 3; i++) {
            mt_ref *r = NULL;
            cr_assert_eq(mt_actor_call(a[i], "incr", NULL, 0, 1, &r, &err), MT_OK, "%s", err.msg);
            cr_assert_eq(itest_get_i64(r, 30000), round, "actor %d", i);
            mt_ref_release(r);
        }
    /* kill -9 of node C: its bundle's actor goes with it, the others answer */
    int killed = 0;
    for (int k = 0; k < 3; k++) {
        int pids[64];
        int n = itest_find_pids("-", g_c, pids, 64, getpid());
        for (int i = 0; i < n; i++) killed += kill(pids[i], SIGKILL) == 0;
        if (!n) break;
        itest_sleep_ms(50);
    }
    cr_assert_gt(killed, 0, "no process of node C");
    for (int i = 0; i < 3; i++) {
        mt_ref *r = NULL;
        mt_value v;
        mt_status st = mt_actor_call(a[i], "incr", NULL, 0, 1, &r, &err);
        if (st == MT_OK) st = mt_get(&r, 1, 30000, &v, &err);
        if (i == on_c) {
            cr_assert_neq(st, MT_OK, "the actor on the killed node still answered");
        } else {
            cr_assert_eq(st, MT_OK, "actor %d: %s", i, err.msg);
            mt_value_release(&v);
        }
        if (r) mt_ref_release(r);
        mt_actor_release(a[i]);
    }
    mt_placement_group_release(pg);
}

/*
 * A placed STRICT_SPREAD group of two 1-CPU bundles and one of them on
 * joined node B or C: its index in *lost, that node's temp dir in *dir, and
 * the addresses of its node and of the other bundle's node (300 bytes each).
 */
static mt_placement_group *spread_pair(int *lost_out, const char **dir, char *kept_node, char *dead_node)
{
    mt_error err = {0};
    expect_available(4, "the three nodes");
    mt_placement_group *pg = group(2, MT_PG_STRICT_SPREAD);
    cr_assert_eq(mt_placement_group_wait(pg, 10000, &err), MT_OK, "%s", err.msg);
    int lost = -1;
    for (int i = 0; i < 2 && lost < 0; i++) {
        const char *node = mt_placement_group_bundle_node(pg, i);
        if (on_node(node, "b")) lost = i, *dir = g_b;
        else if (on_node(node, "c")) lost = i, *dir = g_c;
    }
    cr_assert_geq(lost, 0, "one bundle is on a joined node");
    snprintf(kept_node, 300, "%s", mt_placement_group_bundle_node(pg, 1 - lost));
    snprintf(dead_node, 300, "%s", mt_placement_group_bundle_node(pg, lost));
    *lost_out = lost;
    return pg;
}

/*
 * A STRICT_SPREAD group of two bundles; the joined node holding one of them
 * is killed (-9). A task asked into that bundle waits until the control
 * store marks the node dead, then the bundle is reserved again on the one
 * alive node holding no bundle of the group, and the task runs there; the
 * other bundle stays where it was, and the control store lists the group
 * CREATED with the bundle's new node.
 */
Test(placement, a_dead_node_s_bundles_are_placed_again_elsewhere, .init = setup_fast_death, .fini = teardown, .timeout = 120)
{
    mt_error err = {0};
    char kept_node[300], dead_node[300];
    const char *dir = NULL;
    int lost = -1;
    mt_placement_group *pg = spread_pair(&lost, &dir, kept_node, dead_node);
    /* the bundle's node works before the kill */
    mt_task_options in_lost = {.placement_group = pg, .bundle_index = MT_BUNDLE(lost)};
    mt_ref *r = NULL;
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &in_lost, &r, &err), MT_OK, "%s", err.msg);
    cr_assert(itest_runs_under((int)itest_get_i64(r, 30000), dir));
    mt_ref_release(r);
    cr_assert_gt(itest_kill_node(dir), 0, "no process of the bundle's node found");
    double t0 = itest_now();
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &in_lost, &r, &err), MT_OK, "%s", err.msg);
    int pid = (int)itest_get_i64(r, 60000);
    double took = itest_now() - t0;
    mt_ref_release(r);
    const char *now_at = mt_placement_group_bundle_node(pg, lost);
    cr_assert(now_at && strcmp(now_at, dead_node) && strcmp(now_at, kept_node),
              "bundle %d moved off %s and not onto %s (the other bundle's node): now %s", lost, dead_node, kept_node,
              now_at ? now_at : "(none)");
    cr_assert(!itest_runs_under(pid, dir), "the task ran on the killed node");
    cr_assert_str_eq(mt_placement_group_bundle_node(pg, 1 - lost), kept_node, "the other bundle stays");
    cr_assert_lt(took, 20, "the task ran %.1f s after the kill", took);
    cr_log_info("bundle %d: %s -> %s; its task ran %.2f s after the kill", lost, dead_node, now_at, took);
    mt_task_options in_kept = {.placement_group = pg, .bundle_index = MT_BUNDLE(1 - lost)};
    cr_assert_eq(mt_task_submit("manta.pid", NULL, 0, &in_kept, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_gt(itest_get_i64(r, 30000), 0);
    mt_ref_release(r);
    char out[16384], want[400];
    char *pgs[] = {"list", "placement-groups", "--format", "json", "--temp-dir", C.dir, NULL};
    snprintf(want, sizeof want, "\"%s\"", now_at);
    bool listed = false; /* the driver's report is one-way */
    for (double t1 = itest_now(); !listed && itest_now() - t1 < 10; itest_sleep_ms(100))
        listed = itest_run_cli(pgs, out, sizeof out, 20000) == 0 && strstr(out, "\"state\": \"CREATED\"");
    cr_assert(listed, "%s", out);
    mt_placement_group_release(pg);
}

/*
 * An actor (max_restarts 1) in a STRICT_SPREAD bundle on a joined node that
 * is killed (-9): once the control store marks the node dead, the owner
 * places the bundle again on the one node holding no bundle of the group
 * and starts the actor there, from its constructor.
 */
Test(placement, an_actor_in_a_dead_node_s_bundle_restarts_where_the_bundle_moves, .init = setup_fast_death,
     .fini = teardown, .timeout = 120)
{
    mt_error err = {0};
    char kept_node[300], dead_node[300];
    const char *dir = NULL;
    int lost = -1;
    mt_placement_group *pg = spread_pair(&lost, &dir, kept_node, dead_node);
    mt_actor_options o = {.placement_group = pg, .bundle_index = MT_BUNDLE(lost), .max_restarts = 1};
    mt_actor *a = NULL;
    cr_assert_eq(mt_actor_create("manta.Counter", NULL, 0, &o, &a, &err), MT_OK, "%s", err.msg);
    itest_counter_counts_to(a, 2);
    cr_assert_gt(itest_kill_node(dir), 0, "no process of the bundle's node found");
    int64_t x = -1;
    double took = 0;
    char first[MT_ERROR_MSG_MAX];
    mt_status st = itest_counter_incr_after_death(a, &x, &took, first, &err);
    cr_assert_eq(st, MT_OK, "the actor after its bundle's node was killed (first call: %s): %s", first, err.msg);
    if (first[0]) cr_log_info("the call in flight when the node died: %s", first);
    cr_assert_eq(x, 1, "a restarted actor starts from its constructor again");
    const char *now_at = mt_placement_group_bundle_node(pg, lost);
    cr_assert(now_at && strcmp(now_at, dead_node) && strcmp(now_at, kept_node),
              "bundle %d moved off %s and not onto %s: now %s", lost, dead_node, kept_node, now_at ? now_at : "(none)");
    cr_assert_lt(took, 20, "the actor answered %.1f s after the kill", took);
    cr_log_info("bundle %d: %s -> %s; its actor answered again %.2f s after the kill", lost, dead_node, now_at, took);
    mt_actor_release(a);
    mt_placement_group_release(pg);
}
