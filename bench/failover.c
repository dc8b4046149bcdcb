/*
 * bench/failover — time from `kill -9` of a whole node to its task running
 * elsewhere. A head with 1 CPU and a joined node B with 1 CPU (separate
 * daemons, `manta start`): a 1 s filler pinned to the head
 * (node:__internal_head__) holds its CPU, so a 2 s task spills to B; once both run, every process of B gets SIGKILL. The task's
 * worker connection closes, the driver retries it, and it runs on the head
 * as soon as the filler has finished. Its rerun started at
 * (its completion - 2 s); the figure is that start minus the later of the
 * kill and the filler's end — the failover cost itself, without the wait
 * for a free CPU. Median of ROUNDS, a fresh node B each round (the
 * control store here marks a silent node dead after 1 s, so the killed
 * one leaves the view before the next round).
 *
 * usage: failover    (make bench-failover). Prints `name: value unit` lines.
 */
#include <dirent.h>
#include <libgen.h>
#include <manta/manta.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_nodes.h"

#define ROUNDS 3
#define TASK_MS 2000
#define FILLER_MS 1000

static void die(const char *what, const mt_error *err)
{
    fprintf(stderr, "bench/failover: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static double cpus(bool available)
{
    mt_resource *r = NULL;
    int n = 0;
    mt_error err;
    if ((available ? mt_available_resources(&r, &n, &err) : mt_cluster_resources(&r, &n, &err)) != MT_OK) die("resources", &err);
    double q = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(r[i].name, "CPU")) q = r[i].quantity;
    mt_resources_free(r, n);
    return q;
}

/* SIGKILL to every process whose command line names dir (the node daemon and its workers). */
static int kill_node(const char *dir)
{
    int killed = 0;
    for (int round = 0; round < 20; round++) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        int found = 0;
        while (d && (e = readdir(d))) {
            char *end, path[64], buf[4096] = {0};
            long pid = strtol(e->d_name, &end, 10);
            if (*end || pid <= 0 || pid == getpid()) continue;
            snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
            FILE *f = fopen(path, "r");
            size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
            if (f) fclose(f);
            for (size_t i = 0; i < n; i++)
                if (!buf[i]) buf[i] = ' ';
            if (strstr(buf, dir) && kill((pid_t)pid, SIGKILL) == 0) found++;
        }
        if (d) closedir(d);
        killed += found;
        if (!found) break;
        usleep(10000);
    }
    return killed;
}

static int64_t get_i64(mt_ref *r)
{
    mt_value v;
    mt_error err;
    int64_t x = 0;
    if (mt_get(&r, 1, 60000, &v, &err) != MT_OK || mt_value_i64(&v, &x, &err) != MT_OK) die("get", &err);
    mt_value_release(&v);
    return x;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One round on a freshly joined node; returns the failover time in seconds. */
static double round_once(void)
{
    int b = bn_join(1, (int64_t)256 << 20);
    char bdir[PATH_MAX];
    bn_dir(b, bdir, sizeof bdir);
    double t0 = bn_now_s();
    while (cpus(true) < 2 && bn_now_s() - t0 < 10) usleep(20000); /* B has reported */
    usleep(1200000); /* and the head has heard of it (a node learns of new peers at its 1 s heartbeat) */
    mt_error err;
    mt_arg fa = MT_ARG_I64(FILLER_MS), ta = MT_ARG_I64(TASK_MS);
    mt_ref *filler = NULL, *task = NULL;
    static const mt_resource on_head[2] = {{"CPU", 1}, {"node:__internal_head__", 0.01}};
    mt_task_options fo = {.resources = on_head, .num_resources = 2};
    if (mt_task_submit("manta.sleep_ms", &fa, 1, &fo, &filler, &err) != MT_OK) die("submit", &err);
    t0 = bn_now_s();
    while (cpus(true) > 1 && bn_now_s() - t0 < 5) usleep(2000); /* the filler holds the head's CPU */
    if (mt_task_submit("manta.sleep_ms", &ta, 1, NULL, &task, &err) != MT_OK) die("submit", &err);
    t0 = bn_now_s();
    while (cpus(true) > 0 && bn_now_s() - t0 < 5) usleep(5000);
    if (cpus(true) > 0) { /* it ran here after all (the head's view of B was stale): try another round */
        get_i64(filler);
        get_i64(task);
        mt_ref_release(filler);
        mt_ref_release(task);
        kill_node(bdir);
        bn_up[b] = false;
        t0 = bn_now_s();
        while (cpus(false) > 1 && bn_now_s() - t0 < 10) usleep(50000);
        return -1;
    }
    double killed_at = bn_now_s();
    if (kill_node(bdir) == 0) die("no process of node B", NULL);
    bn_up[b] = false;
    get_i64(filler);
    double free_at = bn_now_s();
    get_i64(task);
    double rerun_at = bn_now_s() - TASK_MS / 1000.0;
    mt_ref_release(filler);
    mt_ref_release(task);
    double from = killed_at > free_at ? killed_at : free_at;
    t0 = bn_now_s();
    while (cpus(false) > 1 && bn_now_s() - t0 < 10) usleep(50000); /* B is marked dead before the next round */
    return rerun_at - from;
}

int main(void)
{
    bn_find_manta();
    const char *tmp = bn_make_tmp("mtfail");
    printf("cores: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    setenv("MANTA_NODE_DEAD_AFTER_MS", "1000", 1); /* rounds need the killed node gone from the view soon */
    bn_start(tmp, 1, 1, (int64_t)256 << 20);
    mt_init_options o = {.temp_dir = tmp, .no_start = true};
    mt_error err;
    if (mt_init_ex(&o, &err) != MT_OK) die("mt_init", &err);
    double t[ROUNDS];
    int done = 0;
    for (int tries = 0; done < ROUNDS && tries < 3 * ROUNDS; tries++) {
        double x = round_once();
        if (x < 0) continue;
        t[done] = x;
        printf("round_%d_kill_to_rerun: %.1f ms\n", done, x * 1e3);
        done++;
    }
    if (done < ROUNDS) die("the task did not spill to node B in enough rounds", NULL);
    qsort(t, ROUNDS, sizeof *t, cmp_d);
    printf("node_kill_to_task_rerun: %.1f ms\n", t[ROUNDS / 2] * 1e3);
    mt_shutdown();
    return 0;
}
