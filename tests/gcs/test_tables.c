/*
 * test_tables.c — the control store's tables in process (no sockets):
 * node registration, heartbeats, dead-node detection on an explicit clock,
 * actor name uniqueness per namespace, KV, jobs, SQLite recovery and the
 * `manta status` text.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcs/gcs_int.h"

static mt_id make_id(uint8_t b)
{
    mt_id id;
    memset(id.bytes, b, MT_ID_SIZE);
    return id;
}

static ProtobufCBinaryData bin(mt_id *id) { return (ProtobufCBinaryData){MT_ID_SIZE, id->bytes}; }

static Manta__NodeInfo node_info(mt_id *id, Manta__ResourceSet *total)
{
    Manta__NodeInfo n = MANTA__NODE_INFO__INIT;
    n.node_id = bin(id);
    n.node_address = "tcp://127.0.0.1:1";
    n.node_ip = "127.0.0.1";
    n.resources_total = total;
    n.object_store_capacity = 1024 * 1024 * 1024;
    return n;
}

Test(tables, node_heartbeat_and_dead_detection)
{
    mt__gcs_tables *t;
    mt_error err;
    cr_assert_eq(mt__gcs_tables_create(NULL, &t, &err), MT_OK);
    mt_id a = make_id(1), b = make_id(2), unknown = make_id(9);
    Manta__NodeInfo na = node_info(&a, NULL), nb = node_info(&b, NULL);
    cr_assert_eq(mt__gcs_node_register(t, &na, 1000, &err), MT_OK);
    cr_assert_eq(mt__gcs_node_register(t, &nb, 1000, &err), MT_OK);
    cr_assert_eq(mt__gcs_node_count(t, true), 2);

    Manta__HeartbeatRequest hb = MANTA__HEARTBEAT_REQUEST__INIT;
    hb.node_id = bin(&a);
    hb.object_store_used = 77;
    cr_assert_eq(mt__gcs_node_heartbeat(t, &hb, 1400, &err), MT_OK);
    /* b last seen at 1000, a at 1400; limit 500 -> at 1600 only b is dead. */
    cr_assert_eq(mt__gcs_nodes_check_dead(t, 1600, 500), 1);
    cr_assert_eq(mt__gcs_node_count(t, true), 1);
    cr_assert_eq(mt__gcs_nodes_check_dead(t, 1600, 500), 0, "a dead node is counted once");

    hb.node_id = bin(&b);
    cr_assert_eq(mt__gcs_node_heartbeat(t, &hb, 1700, &err), MT_ENOTFOUND);
    cr_assert(strstr(err.msg, "marked dead"), "%s", err.msg);
    hb.node_id = bin(&unknown);
    cr_assert_eq(mt__gcs_node_heartbeat(t, &hb, 1700, &err), MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "node 0909090909090909090909090909090909090909 is not registered");

    /* Re-registering revives the node. */
    cr_assert_eq(mt__gcs_node_register(t, &nb, 1800, &err), MT_OK);
    cr_assert_eq(mt__gcs_node_count(t, true), 2);
    cr_assert_eq(mt__gcs_node_count(t, false), 2);
    cr_assert_eq(mt__gcs_node_unregister(t, bin(&a), &err), MT_OK);
    cr_assert_eq(mt__gcs_node_count(t, true), 1);

    Manta__ClusterStatusReply r = MANTA__CLUSTER_STATUS_REPLY__INIT;
    cr_assert_eq(mt__gcs_cluster_view(t, &r, &err), MT_OK);
    cr_assert_eq(r.n_nodes, 2);
    cr_assert_eq(r.nodes[0]->object_store_used, 77);
    mt__gcs_cluster_view_done(&r);

    Manta__NodeInfo bad = MANTA__NODE_INFO__INIT;
    cr_assert_eq(mt__gcs_node_register(t, &bad, 0, &err), MT_EINVAL);
    mt__gcs_tables_destroy(t);
}

/* A view since (epoch, version); returns the number of nodes listed, ids' first bytes in `which`. */
static size_t view_since(mt__gcs_tables *t, uint64_t epoch, uint64_t version, Manta__ClusterStatusReply *r, char *which)
{
    mt_error err;
    *r = (Manta__ClusterStatusReply)MANTA__CLUSTER_STATUS_REPLY__INIT;
    cr_assert_eq(mt__gcs_cluster_view_since(t, epoch, version, r, &err), MT_OK, "%s", err.msg);
    for (size_t i = 0; i < r->n_nodes; i++) which[i] = (char)('0' + r->nodes[i]->node_id.data[0]);
    which[r->n_nodes] = 0;
    return r->n_nodes;
}

/*
 * Heartbeat views come as deltas: the whole table for a node that holds no
 * view (or one of another run), then only the nodes whose availability,
 * registration or liveness changed since the version it holds.
 */
Test(tables, heartbeat_views_list_only_what_changed)
{
    mt__gcs_tables *t;
    mt_error err;
    cr_assert_eq(mt__gcs_tables_create(NULL, &t, &err), MT_OK);
    mt_id a = make_id(1), b = make_id(2), c = make_id(3);
    Manta__NodeInfo na = node_info(&a, NULL), nb = node_info(&b, NULL), nc = node_info(&c, NULL);
    cr_assert_eq(mt__gcs_node_register(t, &na, 1000, &err), MT_OK);
    cr_assert_eq(mt__gcs_node_register(t, &nb, 1000, &err), MT_OK);
    cr_assert_eq(mt__gcs_node_register(t, &nc, 1000, &err), MT_OK);
    Manta__ClusterStatusReply r;
    char which[8];
    cr_assert_eq(view_since(t, 0, 0, &r, which), 3);
    cr_assert_not(r.view_delta);
    uint64_t epoch = r.view_epoch, v = r.view_version;
    cr_assert_neq(epoch, 0);
    mt__gcs_cluster_view_done(&r);

    cr_assert_eq(view_since(t, epoch, v, &r, which), 0, "nothing changed: %s", which);
    cr_assert(r.view_delta);
    cr_assert_eq(r.view_version, v);
    mt__gcs_cluster_view_done(&r);

    Manta__ResourceSet__QuantitiesEntry cpu = MANTA__RESOURCE_SET__QUANTITIES_ENTRY__INIT, *cp[1] = {&cpu};
    cpu.key = "CPU";
    cpu.value = 3;
    Manta__ResourceSet avail = MANTA__RESOURCE_SET__INIT;
    avail.n_quantities = 1;
    avail.quantities = cp;
    Manta__HeartbeatRequest hb = MANTA__HEARTBEAT_REQUEST__INIT;
    hb.node_id = bin(&b);
    hb.resources_available = &avail;
    cr_assert_eq(mt__gcs_node_heartbeat(t, &hb, 1100, &err), MT_OK);
    hb.node_id = bin(&c);
    hb.resources_available = NULL; /* a heartbeat that says nothing new */
    cr_assert_eq(mt__gcs_node_heartbeat(t, &hb, 1100, &err), MT_OK);
    cr_assert_eq(view_since(t, epoch, v, &r, which), 1);
    cr_assert_str_eq(which, "2", "only b changed");
    cr_assert(r.view_delta);
    cr_assert_gt(r.view_version, v);
    v = r.view_version;
    mt__gcs_cluster_view_done(&r);

    hb.node_id = bin(&b); /* the same availability again: no change */
    hb.resources_available = &avail;
    cr_assert_eq(mt__gcs_node_heartbeat(t, &hb, 1200, &err), MT_OK);
    cr_assert_eq(view_since(t, epoch, v, &r, which), 0, "%s", which);
    mt__gcs_cluster_view_done(&r);

    cr_assert_eq(mt__gcs_node_unregister(t, bin(&a), &err), MT_OK); /* a leaves */
    cr_assert_eq(view_since(t, epoch, v, &r, which), 1);
    cr_assert_str_eq(which, "1");
    cr_assert_not(r.nodes[0]->alive, "a leaving is listed, so holders drop it");
    v = r.view_version;
    mt__gcs_cluster_view_done(&r);
    cr_assert_eq(mt__gcs_nodes_check_dead(t, 1800, 500), 2, "b and c missed their heartbeats");
    cr_assert_eq(view_since(t, epoch, v, &r, which), 2);
    cr_assert_str_eq(which, "23");
    mt__gcs_cluster_view_done(&r);

    cr_assert_eq(view_since(t, epoch ^ 2, v, &r, which), 3, "a view of another run: the whole table");
    cr_assert_not(r.view_delta);
    mt__gcs_cluster_view_done(&r);
    cr_assert_eq(view_since(t, epoch, v + 5, &r, which), 3, "a version from the future: the whole table");
    cr_assert_not(r.view_delta);
    mt__gcs_cluster_view_done(&r);
    mt__gcs_tables_destroy(t);
}

static Manta__ActorInfo actor(mt_id *id, const char *name, const char *ns)
{
    Manta__ActorInfo a = MANTA__ACTOR_INFO__INIT;
    a.actor_id = bin(id);
    a.name = (char *)name;
    a.namespace_ = (char *)ns;
    a.state = 1;
    return a;
}

Test(tables, actor_names_unique_per_namespace)
{
    mt__gcs_tables *t;
    mt_error err;
    cr_assert_eq(mt__gcs_tables_create(NULL, &t, &err), MT_OK);
    mt_id i1 = make_id(1), i2 = make_id(2), i3 = make_id(3);
    Manta__ActorInfo a1 = actor(&i1, "counter", "ns1"), a2 = actor(&i2, "counter", "ns1"),
                     a3 = actor(&i3, "counter", "ns2");
    cr_assert_eq(mt__gcs_actor_register(t, &a1, &err), MT_OK);
    cr_assert_eq(mt__gcs_actor_register(t, &a2, &err), MT_EEXIST);
    cr_assert_str_eq(err.msg, "actor name 'counter' is taken in namespace 'ns1'");
    cr_assert_eq(mt__gcs_actor_register(t, &a3, &err), MT_OK);
    /* The same actor re-registering (state change) is an update, not a collision. */
    a1.state = 2;
    cr_assert_eq(mt__gcs_actor_register(t, &a1, &err), MT_OK);

    const Manta__ActorInfo *found = mt__gcs_actor_lookup(t, "counter", "ns2", &err);
    cr_assert_not_null(found);
    cr_assert_eq(found->actor_id.data[0], 3);
    cr_assert_null(mt__gcs_actor_lookup(t, "nope", "ns1", &err));
    cr_assert_eq(err.code, MT_ENOTFOUND);
    cr_assert_str_eq(err.msg, "no actor named 'nope' in namespace 'ns1'");

    Manta__ActorInfo **list;
    size_t n;
    cr_assert_eq(mt__gcs_actor_list(t, "ns1", false, &list, &n, &err), MT_OK);
    cr_assert_eq(n, 1);
    mt_free(list);
    cr_assert_eq(mt__gcs_actor_list(t, NULL, true, &list, &n, &err), MT_OK);
    cr_assert_eq(n, 2);
    mt_free(list);

    /* A dead actor frees its name. */
    a1.state = MT_GCS_ACTOR_DEAD;
    cr_assert_eq(mt__gcs_actor_register(t, &a1, &err), MT_OK);
    cr_assert_eq(mt__gcs_actor_register(t, &a2, &err), MT_OK);
    cr_assert_eq(mt__gcs_actor_remove(t, bin(&i2), &err), MT_OK);
    cr_assert_eq(mt__gcs_actor_remove(t, bin(&i2), &err), MT_ENOTFOUND);
    mt__gcs_tables_destroy(t);
}

Test(tables, kv_and_jobs)
{
    mt__gcs_tables *t;
    mt_error err;
    cr_assert_eq(mt__gcs_tables_create(NULL, &t, &err), MT_OK);
    ProtobufCBinaryData v1 = {3, (uint8_t *)"abc"}, v2 = {2, (uint8_t *)"xy"}, got;
    cr_assert_eq(mt__gcs_kv_put(t, "ns", "k", v1, false, &err), MT_OK);
    cr_assert_eq(mt__gcs_kv_put(t, "ns", "k", v2, false, &err), MT_EEXIST);
    cr_assert_str_eq(err.msg, "key 'k' exists in namespace 'ns'");
    cr_assert_eq(mt__gcs_kv_get(t, "ns", "k", &got, &err), MT_OK);
    cr_assert_eq(got.len, 3);
    cr_assert_eq(memcmp(got.data, "abc", 3), 0);
    cr_assert_eq(mt__gcs_kv_put(t, "ns", "k", v2, true, &err), MT_OK);
    cr_assert_eq(mt__gcs_kv_get(t, "ns", "k", &got, &err), MT_OK);
    cr_assert_eq(got.len, 2);
    cr_assert_eq(mt__gcs_kv_get(t, "other", "k", &got, &err), MT_ENOTFOUND);
    cr_assert_eq(mt__gcs_kv_del(t, "ns", "k", &err), MT_OK);
    cr_assert_eq(mt__gcs_kv_del(t, "ns", "k", &err), MT_ENOTFOUND);
    cr_assert_eq(mt__gcs_kv_put(t, "ns", "", v1, true, &err), MT_EINVAL);

    mt_id job, other = make_id(4);
    cr_assert_eq(mt__gcs_job_register(t, "./driver", 42, 0, &job, &err), MT_OK);
    cr_assert(!mt_id_is_nil(job));
    cr_assert_eq(mt__gcs_job_finish(t, bin(&job), 0, &err), MT_OK);
    cr_assert_eq(mt__gcs_job_finish(t, bin(&job), 0, &err), MT_ESTATE);
    cr_assert_eq(mt__gcs_job_finish(t, bin(&other), 0, &err), MT_ENOTFOUND);
    mt__gcs_tables_destroy(t);
}

Test(tables, sqlite_recovery)
{
    char dir[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/mt-gcs-db-XXXXXX", tmp && tmp[0] ? tmp : P_tmpdir);
    cr_assert_not_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/gcs.db", dir);
    mt_error err;
    mt__gcs_persist *p;
    mt__gcs_tables *t;
    cr_assert_eq(mt__gcs_persist_open(path, &p, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt__gcs_tables_create(p, &t, &err), MT_OK);
    mt_id n1 = make_id(1), a1 = make_id(5), a2 = make_id(6);
    Manta__NodeInfo ni = node_info(&n1, NULL);
    Manta__ActorInfo x = actor(&a1, "keep", ""), y = actor(&a2, "gone", "");
    ProtobufCBinaryData v = {5, (uint8_t *)"hello"};
    cr_assert_eq(mt__gcs_node_register(t, &ni, 0, &err), MT_OK);
    cr_assert_eq(mt__gcs_actor_register(t, &x, &err), MT_OK);
    cr_assert_eq(mt__gcs_actor_register(t, &y, &err), MT_OK);
    cr_assert_eq(mt__gcs_actor_remove(t, bin(&a2), &err), MT_OK);
    cr_assert_eq(mt__gcs_kv_put(t, "cfg", "greeting", v, true, &err), MT_OK);
    cr_assert_eq(mt__gcs_kv_put(t, "cfg", "tmp", v, true, &err), MT_OK);
    cr_assert_eq(mt__gcs_kv_del(t, "cfg", "tmp", &err), MT_OK);
    mt__gcs_tables_destroy(t);
    mt__gcs_persist_close(p);

    cr_assert_eq(mt__gcs_persist_open(path, &p, &err), MT_OK);
    cr_assert_eq(mt__gcs_tables_create(p, &t, &err), MT_OK);
    cr_assert_eq(mt__gcs_persist_load(p, t, 5000, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt__gcs_node_count(t, true), 1);
    cr_assert_not_null(mt__gcs_actor_lookup(t, "keep", "", &err));
    cr_assert_null(mt__gcs_actor_lookup(t, "gone", "", &err));
    ProtobufCBinaryData got;
    cr_assert_eq(mt__gcs_kv_get(t, "cfg", "greeting", &got, &err), MT_OK);
    cr_assert_eq(got.len, 5);
    cr_assert_eq(mt__gcs_kv_get(t, "cfg", "tmp", &got, &err), MT_ENOTFOUND);
    /* A recovered node that never heartbeats again is declared dead. */
    cr_assert_eq(mt__gcs_nodes_check_dead(t, 5000 + 1001, 1000), 1);
    mt__gcs_tables_destroy(t);
    mt__gcs_persist_close(p);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(tables, status_text)
{
    Manta__ResourceSet__QuantitiesEntry cpu = MANTA__RESOURCE_SET__QUANTITIES_ENTRY__INIT,
                                        mem = MANTA__RESOURCE_SET__QUANTITIES_ENTRY__INIT,
                                        cpu_av = MANTA__RESOURCE_SET__QUANTITIES_ENTRY__INIT;
    cpu.key = "CPU"; cpu.value = 2;
    mem.key = "memory"; mem.value = 1024.0 * 1024 * 1024;
    cpu_av.key = "CPU"; cpu_av.value = 0.5;
    Manta__ResourceSet__QuantitiesEntry *tq[] = {&mem, &cpu}, *aq[] = {&cpu_av, &mem};
    Manta__ResourceSet total = MANTA__RESOURCE_SET__INIT, avail = MANTA__RESOURCE_SET__INIT,
                       demand = MANTA__RESOURCE_SET__INIT;
    total.n_quantities = 2; total.quantities = tq;
    avail.n_quantities = 2; avail.quantities = aq;
    Manta__ResourceSet__QuantitiesEntry *dq[] = {&cpu};
    demand.n_quantities = 1; demand.quantities = dq;
    Manta__ResourceSet *demands[] = {&demand, &demand};
    mt_id a = make_id(0xab), b = make_id(0xcd);
    Manta__NodeInfo na = node_info(&a, &total), nb = node_info(&b, &total);
    na.alive = true;
    na.resources_available = &avail;
    na.object_store_used = 88;
    na.n_pending_demands = 2;
    na.pending_demands = demands;
    nb.alive = false;
    Manta__NodeInfo *nodes[] = {&na, &nb};
    Manta__ClusterStatusReply r = MANTA__CLUSTER_STATUS_REPLY__INIT;
    r.n_nodes = 2;
    r.nodes = nodes;
    r.time_ms = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    mt__gcs_status_print(&r, f);
    fclose(f);
    const char *body = strchr(text, '\n') + 1;
    cr_assert(!strncmp(text, "======== Autoscaler status: ", 28), "%s", text);
    cr_assert_str_eq(body,
        "Node status\n"
        "---------------------------------------------------------------\n"
        "Active:\n"
        " 1 node_abababababababababababababababababababab\n"
        "Pending:\n"
        " (no pending nodes)\n"
        "Recent failures:\n"
        " node_cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd: NodeDied (ip: 127.0.0.1)\n"
        "\n"
        "Resources\n"
        "---------------------------------------------------------------\n"
        "Usage:\n"
        " 1.5/2.0 CPU\n"
        " 0B/1.00GiB memory\n"
        " 88B/1.00GiB object_store_memory\n"
        "\n"
        "Demands:\n"
        " {'CPU': 2.0}: 2+ pending tasks/actors\n");
    free(text);
    char buf[32];
    mt__gcs_format_bytes(7.87 * 1024 * 1024 * 1024, buf, sizeof buf);
    cr_assert_str_eq(buf, "7.87GiB");
    mt__gcs_format_bytes(1536, buf, sizeof buf);
    cr_assert_str_eq(buf, "1.50KiB");
}
