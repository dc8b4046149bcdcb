/*
 * test_ownership.c — objects belong to the process that made them. A driver
 * killed with SIGKILL leaves no objects in the store (its own puts and the
 * results of its tasks); another authenticated process can neither delete,
 * seal nor claim a driver's objects, nor kill a worker leased to someone
 * else. The owner driver is this executable re-run with ITEST_ROLE set.
 */
#include "integration/itest_cluster.h"

#include <sys/wait.h>

#include "integration/itest_node.h"

static itest_cluster C;

static void teardown(void)
{
    itest_teardown(&C);
}

#define BIG (256 * 1024) /* above inline_object_bytes: lives in the store */

/* ---- the owner driver: puts 20 objects, runs a task with a big result, waits to be killed ---- */

static int owner_driver(void)
{
    mt_error err = {0};
    mt_init_options o = {.temp_dir = getenv("MANTA_TEMP_DIR"), .no_start = true};
    if (mt_init_ex(&o, &err) != MT_OK) {
        printf("owner: mt_init_ex: %s\n", err.msg);
        return 20;
    }
    static char buf[BIG];
    memset(buf, 7, sizeof buf);
    mt_ref *refs[20];
    for (int i = 0; i < 20; i++)
        if (mt_put(buf, sizeof buf, &refs[i], &err) != MT_OK) {
            printf("owner: put: %s\n", err.msg);
            return 21;
        }
    /* a task result in the store, created by a worker on this driver's behalf */
    mt_arg a = MT_ARG_I64(BIG);
    mt_ref *r = NULL;
    mt_value v = {0};
    if (mt_task_submit("manta.bytes", &a, 1, NULL, &r, &err) != MT_OK || mt_get(&r, 1, 30000, &v, &err) != MT_OK) {
        printf("owner: task: %s\n", err.msg);
        return 22;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}

__attribute__((constructor)) static void role_dispatch(void)
{
    const char *role = getenv("ITEST_ROLE");
    if (role && strcmp(role, "owner_driver") == 0)
        _exit(owner_driver());
}

static mt_rpc_client *other_client(void) { return itest_node_client(&C); }

static int64_t store_objects(mt_rpc_client *c)
{
    Manta__NodeStatsReply *r = itest_node_stats(c);
    int64_t n = r->store_objects;
    protobuf_c_message_free_unpacked(&r->base, &mt_rpc_pb_allocator);
    return n;
}

static mt_status id_call(mt_rpc_client *c, int method, mt_id id, mt_error *err)
{
    Manta__ObjectIdRequest rq = MANTA__OBJECT_ID_REQUEST__INIT;
    rq.object_id.data = id.bytes;
    rq.object_id.len = MT_ID_SIZE;
    ProtobufCMessage *rep = NULL;
    mt_status st = mt_rpc_client_call(c, (uint16_t)method, &rq.base, &manta__status__descriptor, 5000, &rep, NULL, err);
    if (rep)
        protobuf_c_message_free_unpacked(rep, &mt_rpc_pb_allocator);
    return st;
}

Test(integration, killed_driver_leaves_no_objects, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    mt_rpc_client *c = other_client();
    cr_assert_eq(store_objects(c), 0);
    char out[700], text[4096];
    snprintf(out, sizeof out, "%s/owner.out", C.dir);
    char temp_env[600];
    snprintf(temp_env, sizeof temp_env, "MANTA_TEMP_DIR=%s", C.dir);
    pid_t pid = itest_spawn_role("owner_driver", temp_env, out);
    double deadline = itest_now() + 60;
    while (itest_read_file(out, text, sizeof text) <= 0 || !strstr(text, "ready\n")) {
        int st;
        cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "owner driver exited: %s", text);
        cr_assert(itest_now() < deadline, "owner driver not ready: %s", text);
        itest_sleep_ms(20);
    }
    cr_assert_eq(store_objects(c), 21, "20 puts and one task result");
    cr_assert_eq(kill(pid, SIGKILL), 0);
    waitpid(pid, NULL, 0);
    double t0 = itest_now();
    int64_t left = -1;
    while ((left = store_objects(c)) != 0 && itest_now() - t0 < 5)
        itest_sleep_ms(20);
    cr_assert_eq(left, 0, "%lld objects of the killed driver are still in the store", (long long)left);
    mt_rpc_client_close(c);
    itest_stop_check(&C);
}

Test(integration, others_cannot_touch_a_drivers_objects_or_workers, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);
    static char buf[BIG];
    memset(buf, 3, sizeof buf);
    mt_ref *ref = NULL;
    mt_error err = {0};
    cr_assert_eq(mt_put(buf, sizeof buf, &ref, &err), MT_OK, "%s", err.msg);
    mt_id id = mt_ref_id(ref);
    mt_rpc_client *c = other_client();
    cr_assert_eq(id_call(c, MANTA__NODE_METHOD__NODE_DELETE_OBJECT, id, &err), MT_EPERM, "%s", err.msg);
    cr_assert(strstr(err.msg, "belongs to another process"), "%s", err.msg);
    cr_assert_eq(id_call(c, MANTA__NODE_METHOD__NODE_SEAL_OBJECT, id, &err), MT_EPERM, "%s", err.msg);
    /* naming another owner is for workers only */
    Manta__CreateObjectRequest cr = MANTA__CREATE_OBJECT_REQUEST__INIT;
    mt_id fresh = mt_id_random(), victim = mt_id_random();
    cr.object_id.data = fresh.bytes;
    cr.object_id.len = MT_ID_SIZE;
    cr.size = 10;
    cr.owner_id.data = victim.bytes;
    cr.owner_id.len = MT_ID_SIZE;
    ProtobufCMessage *rep = NULL;
    cr_assert_eq(mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_CREATE_OBJECT, &cr.base,
                                    &manta__create_object_reply__descriptor, 5000, &rep, NULL, &err),
                 MT_EPERM, "%s", err.msg);
    /* the object is intact and the owner still reads it */
    mt_value v = {0};
    cr_assert_eq(mt_get(&ref, 1, 5000, &v, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(v.size, sizeof buf);
    cr_assert_eq(((const char *)v.data)[BIG - 1], 3);
    mt_value_release(&v);
    /* a worker leased by one process cannot be killed by another */
    mt_rpc_client *holder = other_client();
    Manta__ResourceSet rs = MANTA__RESOURCE_SET__INIT;
    Manta__ResourceSet__QuantitiesEntry e = MANTA__RESOURCE_SET__QUANTITIES_ENTRY__INIT, *ep = &e;
    e.key = "CPU";
    e.value = 1;
    rs.n_quantities = 1;
    rs.quantities = &ep;
    Manta__RequestLeaseRequest lr = MANTA__REQUEST_LEASE_REQUEST__INIT;
    lr.resources = &rs;
    Manta__RequestLeaseReply *l = NULL;
    cr_assert_eq(mt_rpc_client_call(holder, MANTA__NODE_METHOD__NODE_REQUEST_LEASE, &lr.base,
                                    &manta__request_lease_reply__descriptor, 10000, (ProtobufCMessage **)&l, NULL, &err),
                 MT_OK, "%s", err.msg);
    Manta__KillWorkerRequest k = MANTA__KILL_WORKER_REQUEST__INIT;
    k.worker_id = l->worker_id;
    k.force = true;
    cr_assert_eq(mt_rpc_client_call(c, MANTA__NODE_METHOD__NODE_KILL_WORKER, &k.base, &manta__status__descriptor, 5000,
                                    &rep, NULL, &err),
                 MT_EPERM, "%s", err.msg);
    cr_assert(itest_pid_alive(l->worker_pid), "the worker was killed by a stranger");
    cr_assert_eq(mt_rpc_client_call(holder, MANTA__NODE_METHOD__NODE_KILL_WORKER, &k.base, &manta__status__descriptor,
                                    5000, &rep, NULL, &err),
                 MT_OK, "the lease holder may: %s", err.msg);
    if (rep)
        protobuf_c_message_free_unpacked(rep, &mt_rpc_pb_allocator);
    protobuf_c_message_free_unpacked(&l->base, &mt_rpc_pb_allocator);
    mt_rpc_client_close(holder);
    mt_rpc_client_close(c);
    mt_ref_release(ref);
    itest_check_serving();
    mt_shutdown();
    itest_stop_check(&C);
}
