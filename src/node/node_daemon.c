/*
 * node_daemon.c — lifecycle of `manta node-daemon`: session paths, logging,
 * token, resources, the object store, the two rpc servers (unix socket and
 * TCP), the worker prestart, the maintenance timer, signals and the orderly
 * shutdown (SIGTERM: stop serving, SIGTERM workers then SIGKILL after 2 s,
 * unregister, unlink sockets, exit 0).
 * Main thread; the uv loop runs here. Invariant: after `stopping` is set no
 * lease is granted and no worker started; the loop ends once every worker
 * has been reaped and the control store was told.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_keys.h"
#include "node/node_int.h"

static mt_status make_dirs(mt__node *n, mt_error *err)
{
    static const char *sub[] = {"logs", "sockets", "spill"};
    for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", n->session_dir, sub[i]);
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return mt_error_set_errno(err, MT_EIO, errno, "creating %s", p);
    }
    return MT_OK;
}

static mt_status setup_paths(mt__node *n, mt_error *err)
{
    const mt_node_options *o = &n->opts;
    if (!o->session_dir || !o->session_dir[0])
        return mt_error_set(err, MT_EINVAL, "--session-dir is required");
    if (strlen(o->session_dir) >= sizeof n->session_dir)
        return mt_error_set(err, MT_ERANGE, "session dir path too long");
    snprintf(n->session_dir, sizeof n->session_dir, "%s", o->session_dir);
    int len = snprintf(n->node_socket, sizeof n->node_socket, "unix://%s/sockets/node.sock", n->session_dir);
    if (len < 0 || (size_t)len - 7 >= sizeof(((mt_rpc_addr *)0)->path))
        return mt_error_set(err, MT_ERANGE, "%s/sockets/node.sock: path too long for a unix socket",
                            n->session_dir);
    const char *spill = MT_CFG_STRING(spill_dir);
    if (spill && spill[0]) snprintf(n->spill_dir, sizeof n->spill_dir, "%s", spill);
    else snprintf(n->spill_dir, sizeof n->spill_dir, "%s/spill", n->session_dir);
    if (o->worker_program) {
        snprintf(n->worker_program, sizeof n->worker_program, "%s", o->worker_program);
    } else {
        ssize_t k = readlink("/proc/self/exe", n->worker_program, sizeof n->worker_program - 1);
        if (k <= 0) return mt_error_set_errno(err, MT_EIO, errno, "reading /proc/self/exe");
        n->worker_program[k] = '\0';
    }
    MT_RETURN_NOT_OK(make_dirs(n, err));
    char p[700];
    snprintf(p, sizeof p, "%s/logs/node.log", n->session_dir);
    MT_RETURN_NOT_OK(mt_log_open(p, err));
    snprintf(p, sizeof p, "%s/token", n->session_dir);
    return mt_rpc_token_load(p, n->token, err);
}

static const char *const base_resources[] = {"CPU", "GPU", "memory", "object_store_memory"};

mt_status mt_node_resources_check(const char *json, mt_error *err)
{
    node_res r;
    MT_RETURN_NOT_OK(mt__node_res_parse_json(json, &r, err));
    for (size_t i = 0; i < sizeof base_resources / sizeof *base_resources; i++)
        if (mt__node_res_get(&r, base_resources[i]) != 0)
            return mt_error_set(err, MT_EINVAL, "--resources: use the flag for %s", base_resources[i]);
    return MT_OK;
}

static mt_status setup_resources(mt__node *n, mt_error *err)
{
    const mt_node_options *o = &n->opts;
    mt__node_res_clear(&n->total);
    if (o->resources_json) {
        MT_RETURN_NOT_OK(mt_node_resources_check(o->resources_json, err));
        MT_RETURN_NOT_OK(mt__node_res_parse_json(o->resources_json, &n->total, err));
    }
    double cpus = o->num_cpus >= 0 ? o->num_cpus : (double)sysconf(_SC_NPROCESSORS_ONLN);
    double gpus = o->num_gpus > 0 ? o->num_gpus : 0;
    int64_t ram = (int64_t)sysconf(_SC_PHYS_PAGES) * (int64_t)sysconf(_SC_PAGESIZE);
    int64_t store = mt_store_capacity(n->store);
    int64_t mem = ram / 10 * 7 - store;
    if (mem < 0) mem = 0;
    struct { const char *name; double q; } base[] = {
        {"CPU", cpus}, {"GPU", gpus}, {"memory", (double)mem}, {"object_store_memory", (double)store},
    };
    for (size_t i = 0; i < sizeof base / sizeof *base; i++) {
        if (base[i].q <= 0 && strcmp(base[i].name, "CPU")) continue;
        MT_RETURN_NOT_OK(mt__node_res_add_named(&n->total, base[i].name,
                                                (int64_t)(base[i].q * NODE_RES_SCALE + 0.5), err));
    }
    /* Ray's node resources: "node:<ip>" on every node, "node:__internal_head__" on the head; 1 each,
     * so a demand of 0.01 of one pins work to that node */
    char node_res_name[NODE_RES_NAME];
    snprintf(node_res_name, sizeof node_res_name, "node:%s", o->node_ip && *o->node_ip ? o->node_ip : "127.0.0.1");
    if (mt__node_res_get(&n->total, node_res_name) == 0)
        MT_RETURN_NOT_OK(mt__node_res_add_named(&n->total, node_res_name, NODE_RES_SCALE, err));
    if (o->is_head && mt__node_res_get(&n->total, "node:__internal_head__") == 0)
        MT_RETURN_NOT_OK(mt__node_res_add_named(&n->total, "node:__internal_head__", NODE_RES_SCALE, err));
    n->avail = n->total;
    int64_t pre = MT_CFG_INT64(worker_prestart);
    n->pool_target = (int)(pre > 0 ? pre : (int64_t)cpus);
    if (n->pool_target > 256) n->pool_target = 256;
    return MT_OK;
}

static mt_status setup_store(mt__node *n, mt_error *err)
{
    mt_store_options so = {0};
    char name[64];
    snprintf(name, sizeof name, "manta-store-%.12s", n->node_hex);
    so.capacity = n->opts.object_store_memory > 0 ? n->opts.object_store_memory
                                                  : MT_CFG_INT64(object_store_memory);
    int64_t ram = (int64_t)sysconf(_SC_PHYS_PAGES) * (int64_t)sysconf(_SC_PAGESIZE);
    if (ram > 0 && so.capacity > ram)
        return mt_error_set(err, MT_EINVAL,
                            "--object-store-memory %lld is larger than this machine's memory (%lld bytes)",
                            (long long)so.capacity, (long long)ram);
    so.spill_dir = n->spill_dir;
    so.max_object_bytes = MT_CFG_INT64(max_object_bytes);
    so.name = name;
    so.spill_async = true; /* spills run on the thread pool (node_spill.c) */
    MT_RETURN_NOT_OK(mt_store_create(&so, &n->store, err));
    MT_LOG(MT_LOG_INFO, "NODE-STORE", "object store: %lld bytes, spill to %s",
           (long long)mt_store_capacity(n->store), n->spill_dir);
    return MT_OK;
}

static mt_status setup_servers(mt__node *n, mt_error *err)
{
    n->srv_ud[0] = (node_srv_ud){NODE_MAGIC_SRV, n, true};
    n->srv_ud[1] = (node_srv_ud){NODE_MAGIC_SRV, n, false};
    MT_RETURN_NOT_OK(mt_rpc_server_listen(n->loop, n->node_socket, n->token, &mt__node_handlers,
                                          &n->srv_ud[0], &n->unix_srv, err));
    char tcp[300];
    snprintf(tcp, sizeof tcp, "tcp://%s:%d", n->opts.node_ip ? n->opts.node_ip : "127.0.0.1", n->opts.port);
    MT_RETURN_NOT_OK(mt_rpc_server_listen(n->loop, tcp, n->token, &mt__node_handlers, &n->srv_ud[1],
                                          &n->tcp_srv, err));
    snprintf(n->node_address, sizeof n->node_address, "%s", mt_rpc_server_address(n->tcp_srv));
    return MT_OK;
}

static void on_maint(uv_timer_t *t) { mt__node_pool_maintain(t->data); }

static void on_signal(uv_signal_t *s, int signum)
{
    MT_LOG(MT_LOG_INFO, "NODE-SIGNAL", "signal %d: shutting down", signum);
    mt__node_begin_shutdown(s->data);
}

static void on_kill_timer(uv_timer_t *t)
{
    mt__node *n = t->data;
    MT_LOG(MT_LOG_WARN, "NODE-SHUTDOWN", "%d workers still running after 2 s: SIGKILL", n->num_workers);
    mt__node_pool_signal_all(n, SIGKILL);
}

static void on_gcs_stopped(mt__node *n)
{
    n->gcs_stopped = true;
    mt__node_shutdown_progress(n);
}

void mt__node_shutdown_progress(mt__node *n)
{
    if (!n->stopping || n->num_workers > 0 || !n->gcs_stopped) return;
    if (!uv_is_closing((uv_handle_t *)&n->kill_timer)) uv_close((uv_handle_t *)&n->kill_timer, NULL);
}

void mt__node_begin_shutdown(mt__node *n)
{
    if (n->stopping) return;
    n->stopping = true;
    MT_LOG(MT_LOG_INFO, "NODE-SHUTDOWN", "stopping %d workers", n->num_workers);
    mt__node_lease_shutdown(n);
    mt__node_bundles_shutdown(n);
    mt__node_obj_shutdown(n);
    mt__node_spill_shutdown(n);
    mt__node_pull_shutdown(n);
    mt_rpc_server_close(n->unix_srv);
    mt_rpc_server_close(n->tcp_srv);
    n->unix_srv = n->tcp_srv = NULL;
    uv_close((uv_handle_t *)&n->maint_timer, NULL);
    uv_close((uv_handle_t *)&n->sig_term, NULL);
    uv_close((uv_handle_t *)&n->sig_int, NULL);
    for (node_worker *w = n->workers; w; w = w->next)
        if (w->state != NODE_W_STOPPING) {
            if (w->state == NODE_W_STARTING) n->num_starting--;
            if (w->state == NODE_W_IDLE) n->num_idle--;
            w->state = NODE_W_STOPPING;
        }
    mt__node_pool_signal_all(n, SIGTERM);
    uv_timer_start(&n->kill_timer, on_kill_timer, (uint64_t)MT_CFG_INT64(worker_stop_grace_ms), 0);
    mt__node_gcs_stop(n, on_gcs_stopped);
}

static mt_status start(mt__node *n, mt_error *err)
{
    MT_RETURN_NOT_OK(setup_paths(n, err));
    MT_RETURN_NOT_OK(setup_store(n, err));
    MT_RETURN_NOT_OK(setup_resources(n, err));
    MT_RETURN_NOT_OK(setup_servers(n, err));
    uv_signal_start(&n->sig_term, on_signal, SIGTERM);
    uv_signal_start(&n->sig_int, on_signal, SIGINT);
    for (int i = 0; i < n->pool_target; i++) MT_RETURN_NOT_OK(mt__node_pool_start_worker(n, err));
    int64_t period = MT_CFG_INT64(worker_start_timeout_ms);
    int64_t idle = MT_CFG_INT64(worker_idle_ms);
    if (idle < period) period = idle;
    period /= 4;
    period = period < 10 ? 10 : period > 1000 ? 1000 : period;
    uv_timer_start(&n->maint_timer, on_maint, (uint64_t)period, (uint64_t)period);
    char buf[512];
    mt__node_res_format(&n->total, buf, sizeof buf);
    MT_LOG(MT_LOG_INFO, "NODE-START", "node %s pid %d: %s, %d workers prestarted", n->node_hex,
           (int)getpid(), buf, n->pool_target);
    return mt__node_gcs_start(n, err);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void teardown(mt__node *n, uv_loop_t *loop)
{
    if (!n->stopping) {
        /* Start-up failed: kill what was started and let the loop drain. */
        mt__node_begin_shutdown(n);
        mt__node_pool_signal_all(n, SIGKILL);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    char p[700];
    snprintf(p, sizeof p, "%s/sockets/node.sock", n->session_dir);
    unlink(p);
    mt_store_destroy(n->store);
}

mt_status mt_node_daemon_run(const mt_node_options *opts, mt_error *err)
{
    signal(SIGPIPE, SIG_IGN);
    mt__node *n = mt_calloc(1, sizeof *n);
    uv_loop_t *loop = mt_malloc(sizeof *loop);
    if (!n || !loop || uv_loop_init(loop) != 0) {
        mt_free(n);
        mt_free(loop);
        return mt_error_set(err, MT_ENOMEM, "node daemon: cannot set up its event loop");
    }
    n->loop = loop;
    n->opts = *opts;
    n->node_id = mt_id_random();
    mt_id_hex(n->node_id, n->node_hex);
    n->start_ms = mt_time_now_ns() / 1000000;
    /* Every handle exists from here on, so shutdown can close them whatever start() reached. */
    uv_signal_init(loop, &n->sig_term);
    uv_signal_init(loop, &n->sig_int);
    uv_timer_init(loop, &n->maint_timer);
    uv_timer_init(loop, &n->kill_timer);
    uv_timer_init(loop, &n->hb_timer);
    n->sig_term.data = n->sig_int.data = n->maint_timer.data = n->kill_timer.data = n;
    n->hb_timer.data = n;
    mt_status st = start(n, err);
    if (st == MT_OK) uv_run(loop, UV_RUN_DEFAULT);
    else MT_LOG(MT_LOG_ERROR, "NODE-START", "%s", err ? err->msg : "start failed");
    teardown(n, loop);
    mt_free(loop);
    mt_free(n);
    return st;
}
