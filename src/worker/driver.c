/*
 * driver.c — the driver's session: mt_init (find or start a cluster,
 * connect to the node daemon, map its object store), mt_shutdown, and the
 * blocking node-call helpers the other driver files use.
 *
 * Threads: any caller thread; every public entry point takes mt__drv.lock,
 * so driver calls are serialised. Sockets are pumped by whichever call
 * waits (mt_get, mt_wait, submit) and, between calls, by the housekeeping
 * thread of driver_bg.c (started here, stopped by mt_shutdown).
 * Invariant: mt__drv.inited implies node/leases clients and the arena map.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "gcs/gcs_client.h"
#include "gcs/session.h"
#include "proto/node.pb-c.h"
#include "store/store_client.h"
#include "worker/worker_int.h"

mt__driver mt__drv = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Set by the worker process: task code gets the same runtime as a driver. */
static struct {
    bool set;
    char session_dir[4096], node_socket[4200];
    mt_id worker_id;
} in_worker;

static mt_status node_connect(mt_error *err);

static int pipeline_depth(void)
{
    int64_t v = MT_CFG_INT64(max_tasks_in_flight_per_worker);
    return v < 1 ? 1 : v > 256 ? 256 : (int)v;
}

void mt__drv_set_worker(const char *session_dir, const char *node_socket, mt_id worker_id)
{
    pthread_mutex_lock(&mt__drv.lock);
    in_worker.set = true;
    snprintf(in_worker.session_dir, sizeof in_worker.session_dir, "%s", session_dir);
    snprintf(in_worker.node_socket, sizeof in_worker.node_socket, "%s", node_socket);
    in_worker.worker_id = worker_id;
    pthread_mutex_unlock(&mt__drv.lock);
}

bool mt__drv_in_worker(void) { return in_worker.set; }

void mt__drv_set_code_path(const char *code_path)
{
    pthread_mutex_lock(&mt__drv.lock);
    snprintf(mt__drv.code_path, sizeof mt__drv.code_path, "%s", code_path ? code_path : "");
    pthread_mutex_unlock(&mt__drv.lock);
}

void mt__drv_set_task_context(mt_id task_id, uint32_t job_id)
{
    pthread_mutex_lock(&mt__drv.lock); /* the task's own threads may submit meanwhile */
    mt__drv.cur_task = task_id;
    mt__drv.cur_job = job_id;
    pthread_mutex_unlock(&mt__drv.lock);
}

/*
 * The runtime inside a worker, started by the first runtime call of task
 * code: it connects to the worker's node as kind "worker" under the
 * worker's id (what the task puts, the worker owns; its blocked waits free
 * the lease's CPU), with the job's code path for nested tasks.
 */
static mt_status init_in_worker(mt_error *err)
{
    mt__driver *d = &mt__drv;
    d->driver_id = in_worker.worker_id;
    d->inline_max = MT_CFG_INT64(inline_object_bytes);
    d->spin_ns = MT_CFG_INT64(wait_spin_us) * 1000;
    d->max_frame = mt_rpc_max_frame();
    d->pipeline = pipeline_depth();
    d->next_seq = 1;
    snprintf(d->ns, sizeof d->ns, "default");
    snprintf(d->session_dir, sizeof d->session_dir, "%s", in_worker.session_dir);
    snprintf(d->node_socket, sizeof d->node_socket, "%s", in_worker.node_socket);
    mt_status st = mt_session_load_token(d->session_dir, d->token, err);
    if (st == MT_OK) st = node_connect(err);
    if (st == MT_OK) {
        d->inited = true;
        mt__tev_start();
        st = mt__drv_bg_start(err);
    }
    if (st != MT_OK) {
        mt_error_prefix(err, "starting the runtime in worker %s", d->session_dir);
        mt_rpc_client_close(d->leases);
        mt_rpc_client_close(d->node);
        mt_rpc_client_close(d->store);
        d->leases = d->node = d->store = NULL;
        d->inited = false;
    }
    return st;
}

mt_status mt__drv_check(mt_error *err)
{
    if (!mt__drv.inited && in_worker.set) MT_RETURN_NOT_OK(init_in_worker(err));
    if (!mt__drv.inited) return mt_error_set(err, MT_ESTATE, "manta is not initialised: call mt_init first");
    if (mt__drv.node_lost) return mt_error_set(err, MT_EIO, "%s", mt__drv.node_lost_msg);
    return MT_OK;
}

mt_status mt__drv_node_call(uint16_t method, const ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *desc, ProtobufCMessage **reply,
                            int *fd_out, mt_error *err)
{
    ProtobufCMessage *r = NULL;
    if (!mt__drv.node) { /* shut down while a pull had let go of the lock */
        if (reply) *reply = NULL;
        return mt_error_set(err, MT_ECANCELLED, "manta was shut down");
    }
    mt_status st = mt_rpc_client_call(mt__drv.node, method, req, desc, 0, &r, fd_out, err);
    if (reply) *reply = r;
    else if (r) protobuf_c_message_free_unpacked(r, &mt_rpc_pb_allocator);
    return st;
}

void mt__drv_object_id_send(uint16_t method, mt_id id) { mt__object_id_send(mt__drv.node, method, id); }

mt_status mt__drv_object_id_call(uint16_t method, mt_id id, mt_error *err)
{
    Manta__ObjectIdRequest req = MANTA__OBJECT_ID_REQUEST__INIT;
    req.object_id.data = id.bytes;
    req.object_id.len = MT_ID_SIZE;
    return mt__drv_node_call(method, &req.base, &manta__status__descriptor, NULL, NULL, err);
}

mt_status mt__drv_node_connect_extra(mt_rpc_client **out, mt_error *err)
{
    mt__driver *d = &mt__drv;
    return mt_rpc_client_connect_id(d->node_socket, d->token, in_worker.set ? "worker" : "driver", d->driver_id,
                                    MT_CFG_INT64(rpc_connect_timeout_ms), out, err);
}

static mt_status node_connect(mt_error *err)
{
    mt__driver *d = &mt__drv;
    /* Both connections present the driver id: the node ties ownership of its objects to it. */
    const char *kind = in_worker.set ? "worker" : "driver";
    MT_RETURN_NOT_OK(mt_rpc_client_connect_id(d->node_socket, d->token, kind, d->driver_id, MT_CFG_INT64(rpc_connect_timeout_ms), &d->node, err));
    MT_RETURN_NOT_OK(mt_rpc_client_connect_id(d->node_socket, d->token, kind, d->driver_id, MT_CFG_INT64(rpc_connect_timeout_ms), &d->leases, err));
    MT_RETURN_NOT_OK(mt_rpc_client_connect_id(d->node_socket, d->token, kind, d->driver_id, MT_CFG_INT64(rpc_connect_timeout_ms), &d->store, err));
    Manta__GetNodeInfoRequest req = MANTA__GET_NODE_INFO_REQUEST__INIT;
    Manta__GetNodeInfoReply *rep = NULL;
    int fd = -1;
    MT_RETURN_NOT_OK(mt__drv_node_call(MANTA__NODE_METHOD__NODE_GET_INFO, &req.base,
                                       &manta__get_node_info_reply__descriptor,
                                       (ProtobufCMessage **)&rep, &fd, err));
    if (rep->node_id.len == MT_ID_SIZE) memcpy(d->node_id.bytes, rep->node_id.data, MT_ID_SIZE);
    snprintf(d->node_address, sizeof d->node_address, "%s", rep->node_address ? rep->node_address : "");
    if (!d->gcs_address[0] && rep->gcs_address) snprintf(d->gcs_address, sizeof d->gcs_address, "%s", rep->gcs_address);
    d->capacity = rep->store_capacity;
    d->node_cpus = 1;
    if (rep->resources_total)
        for (size_t i = 0; i < rep->resources_total->n_quantities; i++)
            if (!strcmp(rep->resources_total->quantities[i]->key, "CPU"))
                d->node_cpus = rep->resources_total->quantities[i]->value;
    protobuf_c_message_free_unpacked(&rep->base, &mt_rpc_pb_allocator);
    if (fd < 0) return mt_error_set(err, MT_EIO, "node %s sent no object store descriptor", d->node_socket);
    mt_status st = mt_store_map_create(fd, d->capacity, 0, &d->arena, err);
    close(fd);
    return st;
}

static void drv_cleanup(void)
{
    mt__driver *d = &mt__drv;
    mt__actors_fini();
    mt__drv_tasks_fini();
    mt__pg_shutdown();
    mt__drv_nodes_free();
    mt__drv_lingering_fini();
    mt__drv_puts_drain_all();
    if (d->inited) mt__tev_fini(); /* what the tasks reached, failures at shutdown included */
    if (d->gcs) mt_gcs_client_close(d->gcs);
    d->gcs = NULL;
    mt__drv_remotes_close();
    mt__drv_puller_close();
    mt_rpc_client_close(d->leases);
    mt_rpc_client_close(d->node);
    mt_rpc_client_close(d->store);
    d->leases = d->node = d->store = NULL;
    if (d->arena) mt_store_map_destroy(d->arena, d->capacity);
    d->arena = NULL;
    mt__drv_stop_cluster();
    d->inited = false;
    d->embedded = false;
    d->session_dir[0] = 0;
}

MT_API mt_status mt_init_ex(const mt_init_options *opts, mt_error *err)
{
    mt_init_options none = {0};
    const mt_init_options *o = opts ? opts : &none;
    mt__driver *d = &mt__drv;
    pthread_mutex_lock(&d->lock);
    mt_status st = MT_OK;
    if (d->inited) {
        st = mt_error_set(err, MT_ESTATE, "manta is already initialised (session %s)", d->session_dir);
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    if ((st = mt_config_load(err)) != MT_OK) goto out;
    d->driver_id = mt_id_random();
    d->inline_max = MT_CFG_INT64(inline_object_bytes);
    d->spin_ns = MT_CFG_INT64(wait_spin_us) * 1000;
    d->max_frame = mt_rpc_max_frame();
    d->pipeline = pipeline_depth();
    d->next_seq = 1;
    snprintf(d->ns, sizeof d->ns, "%s", o->ns && *o->ns ? o->ns : "default");
    snprintf(d->code_path, sizeof d->code_path, "%s", o->code_path ? o->code_path : "");
    if (d->code_path[0] && d->code_path[0] != '/') {
        char cwd[2048];
        if (getcwd(cwd, sizeof cwd)) snprintf(d->code_path, sizeof d->code_path, "%s/%s", cwd, o->code_path);
    }
    st = mt__drv_find_cluster(o, err);
    if (st == MT_OK) st = mt_session_load_token(d->session_dir, d->token, err);
    if (st == MT_OK) st = node_connect(err);
    if (st == MT_OK) {
        d->inited = true;
        mt__tev_start();
        st = mt__drv_bg_start(err);
    }
    if (st != MT_OK) {
        mt_error_prefix(err, "mt_init");
        drv_cleanup();
    }
out:
    pthread_mutex_unlock(&d->lock);
    return st;
}

MT_API mt_status mt_init(const mt_init_options *opts) { return mt_init_ex(opts, NULL); }

/* Libraries' handles freed first thing in mt_shutdown (mt_at_shutdown), newest first. */
static struct {
    void (*fn)(void *);
    void *arg;
} shutdown_hooks[32];
static int nshutdown_hooks;
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;

MT_API mt_status mt_at_shutdown(void (*fn)(void *), void *arg)
{
    if (!fn) return MT_EINVAL;
    pthread_mutex_lock(&hooks_lock);
    mt_status st = MT_OK;
    bool have = false;
    for (int i = 0; i < nshutdown_hooks; i++) have |= shutdown_hooks[i].fn == fn && shutdown_hooks[i].arg == arg;
    if (!have && nshutdown_hooks == (int)(sizeof shutdown_hooks / sizeof *shutdown_hooks)) st = MT_ERANGE;
    else if (!have) shutdown_hooks[nshutdown_hooks++] = (typeof(shutdown_hooks[0])){fn, arg};
    pthread_mutex_unlock(&hooks_lock);
    return st;
}

static void run_shutdown_hooks(void)
{
    pthread_mutex_lock(&hooks_lock);
    while (nshutdown_hooks > 0) {
        typeof(shutdown_hooks[0]) h = shutdown_hooks[--nshutdown_hooks];
        pthread_mutex_unlock(&hooks_lock);
        h.fn(h.arg); /* may call the runtime (release refs): no lock of ours held */
        pthread_mutex_lock(&hooks_lock);
    }
    pthread_mutex_unlock(&hooks_lock);
}

MT_API void mt_shutdown(void)
{
    run_shutdown_hooks();
    pthread_mutex_lock(&mt__drv.lock);
    mt__drv_bg_stop();
    if (mt__drv.inited || mt__drv.gcs_pid || mt__drv.node_pid) drv_cleanup();
    pthread_mutex_unlock(&mt__drv.lock);
}

MT_API bool mt_is_initialized(void) { return mt__drv.inited; }
MT_API const char *mt_session_dir(void) { return mt__drv.session_dir; }
MT_API bool mt_cluster_is_embedded(void) { return mt__drv.embedded; }
