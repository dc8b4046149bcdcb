/*
 * bench/core.c — the core runtime microbenchmark, shaped like Ray's
 * `ray microbenchmark` (ray/_private/ray_perf.py): tasks sync/async, several
 * clients, actor calls 1:1 / 1:n / n:n, small puts and gets, large puts,
 * placement groups created and removed;
 * then the store path with inlining off and one task in flight per worker
 * (Ray's pipeline depth): small put/get through the store, async tasks, and
 * tasks with a 1 MiB argument and a 1 MiB return; and the raw limit of this
 * machine, a unix-socket ping-pong between two processes (blocking, spinning).
 * Prints one `name: value unit` line per figure, then, when the Dask peer
 * (bench/peers/dask_core.py, run with /usr/bin/python3) is installed, its
 * figures for the same shapes as `dask_<name>` and `<name>_ratio_vs_dask`
 * (our time / Dask's time for the same work = Dask's rate / our rate).
 *
 * It starts an embedded cluster (mt_init in a private temp dir; the `manta`
 * binary next to this one's build tree) and stops it at the end. The
 * multi-client figures re-run this program as client drivers
 * (MANTA_BENCH_ROLE) that join the same session. Timing follows ray_perf's
 * timeit with shorter loops: a warm-up, then REPEATS loops of SECONDS each,
 * mean reported (env PEER_BENCH_WARMUP / PEER_BENCH_SECONDS /
 * PEER_BENCH_REPEATS, shared with the peer script).
 *
 * Threads: the main thread only (plus the runtime's own).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcs/session.h"
#include "manta/core.h"

enum { BATCH = 1000, CLIENTS = 4, BIG_MIB = 100, MAX_ACTORS = 16 };

static double g_warmup = 0.3, g_seconds = 1.0;
static int g_repeats = 2;
static const char *g_task_fn = "manta.nop";
static char g_temp[PATH_MAX];

typedef struct result {
    char name[64];
    double value;
    char unit[16];
} result;
static result g_results[32];
static int g_nresults;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Stops the embedded cluster (mt_shutdown), removes the temp dir, exits 1. */
static void die(const char *what, mt_status st, const mt_error *err)
{
    fprintf(stderr, "core bench: %s: %s: %s\n", what, mt_status_name(st), err ? err->msg : "");
    mt_shutdown();
    if (!getenv("MANTA_BENCH_ROLE") && g_temp[0]) {
        char rm[PATH_MAX + 16];
        snprintf(rm, sizeof rm, "rm -rf '%s'", g_temp);
        if (system(rm) != 0)
            fprintf(stderr, "core bench: could not remove %s\n", g_temp);
    }
    exit(1);
}

#define CHECK(what, call)                                                                \
    do {                                                                                 \
        mt_error err_ = {0};                                                             \
        mt_status st_ = (call);                                                          \
        if (st_ != MT_OK)                                                                \
            die((what), st_, &err_);                                                     \
    } while (0)

static void emit(const char *name, double value, const char *unit)
{
    printf("%s: %.6g %s\n", name, value, unit);
    fflush(stdout);
    if (g_nresults < 32) {
        result *r = &g_results[g_nresults++];
        snprintf(r->name, sizeof r->name, "%s", name);
        snprintf(r->unit, sizeof r->unit, "%s", unit);
        r->value = value;
    }
}

/* ray_perf.timeit: warm up, then `repeats` loops of `seconds`; mean of multiplier*calls/s. */
static double timeit(const char *name, void (*fn)(void *), void *ctx, double multiplier,
                     const char *unit)
{
    double t0 = now_s();
    while (now_s() - t0 < g_warmup)
        fn(ctx);
    double sum = 0;
    for (int r = 0; r < g_repeats; r++) {
        long count = 0;
        double el;
        t0 = now_s();
        do {
            fn(ctx);
            count++;
            el = now_s() - t0;
        } while (el < g_seconds);
        sum += multiplier * (double)count / el;
    }
    double mean = sum / g_repeats;
    emit(name, mean, unit);
    return mean;
}

/* ---- operations ------------------------------------------------------------ */

static mt_ref *submit_small(void)
{
    mt_ref *r = NULL;
    mt_arg ok = MT_ARG_BYTES("ok", 2);
    int nargs = strcmp(g_task_fn, "manta.echo") == 0 ? 1 : 0;
    CHECK("submit", mt_task_submit(g_task_fn, &ok, nargs, NULL, &r, &err_));
    return r;
}

static void get_release(mt_ref **refs, int n)
{
    static mt_value vals[BATCH * MAX_ACTORS];
    CHECK("get", mt_get(refs, n, 30000, vals, &err_));
    for (int i = 0; i < n; i++) {
        mt_value_release(&vals[i]);
        mt_ref_release(refs[i]);
    }
}

static void task_sync(void *ctx)
{
    (void)ctx;
    mt_ref *r = submit_small();
    get_release(&r, 1);
}

static void task_async(void *ctx)
{
    (void)ctx;
    static mt_ref *refs[BATCH];
    for (int i = 0; i < BATCH; i++)
        refs[i] = submit_small();
    get_release(refs, BATCH);
}

typedef struct actors {
    mt_actor *a[MAX_ACTORS];
    int n;
} actors;

static mt_ref *call_small(mt_actor *a)
{
    mt_ref *r = NULL;
    CHECK("actor call", mt_actor_call(a, "get", NULL, 0, 1, &r, &err_));
    return r;
}

static void actor_sync(void *ctx)
{
    mt_ref *r = call_small(((actors *)ctx)->a[0]);
    get_release(&r, 1);
}

/* BATCH calls per actor, round robin over the actors, then get them all. */
static void actor_async(void *ctx)
{
    actors *as = ctx;
    static mt_ref *refs[BATCH * MAX_ACTORS];
    int n = BATCH * as->n;
    for (int i = 0; i < n; i++)
        refs[i] = call_small(as->a[i % as->n]);
    get_release(refs, n);
}

static void put_small(void *ctx)
{
    (void)ctx;
    int64_t zero = 0;
    mt_ref *r = NULL;
    CHECK("put", mt_put(&zero, sizeof zero, &r, &err_));
    mt_ref_release(r);
}

static void get_small(void *ctx)
{
    mt_ref *r = ctx;
    mt_value v = {0};
    CHECK("get", mt_get(&r, 1, 10000, &v, &err_));
    mt_value_release(&v);
}

typedef struct big {
    void *src, *dst;
    size_t n;
} big;

static void put_big(void *ctx)
{
    big *b = ctx;
    mt_ref *r = NULL;
    CHECK("put large", mt_put(b->src, b->n, &r, &err_));
    mt_ref_release(r);
}

static void memcpy_big(void *ctx)
{
    big *b = ctx;
    memcpy(b->dst, b->src, b->n);
    __asm__ __volatile__("" ::"r"(b->dst) : "memory");
}

/* ---- client processes (multi_client_tasks_async, n_n_actor_calls_async) ---- */

/*
 * Child side: join the session, run one warm-up batch, say "ready", wait for "go" on
 * stdin, run batches for `seconds`, print "<operations> <elapsed>".
 */
static int client_main(const char *role)
{
    mt_error err = {0};
    mt_init_options o = {.temp_dir = g_temp, .no_start = true};
    if (mt_init_ex(&o, &err) != MT_OK) {
        fprintf(stderr, "client: mt_init: %s\n", err.msg);
        return 1;
    }
    actors as = {.n = 0};
    bool tasks = strcmp(role, "tasks") == 0;
    if (!tasks) {
        int n = atoi(getenv("MANTA_BENCH_ACTORS") ? getenv("MANTA_BENCH_ACTORS") : "1");
        for (int i = 0; i < n && i < MAX_ACTORS; i++) {
            char name[32];
            snprintf(name, sizeof name, "bench_actor_%d", i);
            CHECK("lookup", mt_actor_lookup(name, "bench", &as.a[as.n++], &err_));
        }
    }
    void (*fn)(void *) = tasks ? task_async : actor_async;
    long per = tasks ? BATCH : (long)BATCH * as.n;
    fn(&as); /* warm-up batch (idle drivers return their leases within ~150 ms) */
    printf("ready\n");
    fflush(stdout);
    char go[8];
    if (!fgets(go, sizeof go, stdin))
        return 1;
    long ops = 0;
    double t0 = now_s(), el;
    do {
        fn(&as);
        ops += per;
        el = now_s() - t0;
    } while (el < g_seconds * g_repeats);
    printf("%ld %.6f\n", ops, el);
    fflush(stdout);
    for (int i = 0; i < as.n; i++)
        mt_actor_release(as.a[i]);
    mt_shutdown();
    return 0;
}

typedef struct child {
    pid_t pid;
    FILE *to, *from;
} child;

static void spawn_client(child *c, const char *role)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
        die("pipe", MT_EIO, NULL);
    fflush(NULL);
    c->pid = fork();
    if (c->pid == 0) {
        dup2(in[0], 0), dup2(out[1], 1);
        setenv("MANTA_BENCH_ROLE", role, 1);
        execl("/proc/self/exe", "core-bench-client", (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    c->to = fdopen(in[1], "w");
    c->from = fdopen(out[0], "r");
}

/* Runs CLIENTS client drivers concurrently; returns total operations per second. */
static double run_clients(const char *name, const char *role, const char *unit)
{
    child cs[CLIENTS];
    char line[128];
    for (int i = 0; i < CLIENTS; i++)
        spawn_client(&cs[i], role);
    for (int i = 0; i < CLIENTS; i++)
        if (!fgets(line, sizeof line, cs[i].from) || strncmp(line, "ready", 5) != 0)
            die("a client driver failed to start", MT_EIO, NULL);
    for (int i = 0; i < CLIENTS; i++)
        fputs("go\n", cs[i].to), fflush(cs[i].to);
    double ops = 0, el_max = 0;
    for (int i = 0; i < CLIENTS; i++) {
        long n = 0;
        double el = 0;
        if (!fgets(line, sizeof line, cs[i].from) || sscanf(line, "%ld %lf", &n, &el) != 2)
            die("a client driver failed", MT_EIO, NULL);
        ops += (double)n;
        el_max = el > el_max ? el : el_max;
        fclose(cs[i].to), fclose(cs[i].from);
        waitpid(cs[i].pid, NULL, 0);
    }
    double rate = ops / el_max;
    emit(name, rate, unit);
    return rate;
}

/* ---- benchmark stages ------------------------------------------------------ */

static void pick_task_fn(void)
{
    mt_ref *r = submit_small();
    mt_value v = {0};
    mt_error err = {0};
    if (mt_get(&r, 1, 30000, &v, &err) != MT_OK) { /* nop returns nothing: use echo */
        fprintf(stdout, "# manta.nop not gettable (%s); using manta.echo\n", err.msg);
        g_task_fn = "manta.echo";
    }
    mt_value_release(&v);
    mt_ref_release(r);
}

static void bench_tasks(void)
{
    /* ray_perf's order; this driver's idle leases go back while the clients start. */
    pick_task_fn();
    timeit("single_client_tasks_sync", task_sync, NULL, 1, "tasks/s");
    timeit("single_client_tasks_async", task_async, NULL, BATCH, "tasks/s");
    run_clients("multi_client_tasks_async", "tasks", "tasks/s");
}

/* Ray's placement_group_create/removal: one 1-CPU bundle, created, waited for, removed, released. */
static void pg_create_remove(void *ctx)
{
    (void)ctx;
    static const mt_resource cpu1[1] = {{"CPU", 1}};
    mt_bundle b = {cpu1, 1};
    mt_placement_group *pg = NULL;
    mt_error err;
    mt_status st = mt_placement_group_create(&b, 1, MT_PG_PACK, NULL, &pg, &err);
    if (st == MT_OK) st = mt_placement_group_wait(pg, 10000, &err);
    if (st == MT_OK) st = mt_placement_group_remove(pg, &err);
    if (st != MT_OK) die("placement group", st, &err);
    mt_placement_group_release(pg);
}

static void bench_placement(void) { timeit("placement_group_create_removal", pg_create_remove, NULL, 1, "/s"); }

static void bench_actors(int ncpu)
{
    actors one = {.n = 1};
    CHECK("create actor", mt_actor_create("manta.Counter", NULL, 0, NULL, &one.a[0], &err_));
    timeit("1_1_actor_calls_sync", actor_sync, &one, 1, "calls/s");
    timeit("1_1_actor_calls_async", actor_async, &one, BATCH, "calls/s");
    mt_actor_release(one.a[0]);

    /* ray_perf: cpu_count // 2 actors (at least 2 here, or 1:n would be 1:1). */
    actors many = {.n = ncpu / 2 < 2 ? 2 : ncpu / 2};
    if (many.n > MAX_ACTORS)
        many.n = MAX_ACTORS;
    for (int i = 0; i < many.n; i++) {
        char name[32];
        snprintf(name, sizeof name, "bench_actor_%d", i);
        mt_actor_options o = {.name = name, .ns = "bench"};
        CHECK("create actor", mt_actor_create("manta.Counter", NULL, 0, &o, &many.a[i], &err_));
    }
    timeit("1_n_actor_calls_async", actor_async, &many, (double)BATCH * many.n, "calls/s");
    char n[16];
    snprintf(n, sizeof n, "%d", many.n);
    setenv("MANTA_BENCH_ACTORS", n, 1);
    run_clients("n_n_actor_calls_async", "actors", "calls/s");
    for (int i = 0; i < many.n; i++)
        mt_actor_release(many.a[i]);
}

/* Small puts, then repeated gets of one small object. */
static void put_get_small(const char *put_name, const char *get_name)
{
    timeit(put_name, put_small, NULL, 1, "calls/s");
    int64_t zero = 0;
    mt_ref *r = NULL;
    CHECK("put", mt_put(&zero, sizeof zero, &r, &err_));
    timeit(get_name, get_small, r, 1, "calls/s");
    mt_ref_release(r);
}

static void bench_objects(void)
{
    put_get_small("single_client_put_calls", "single_client_get_calls");

    big b = {.n = (size_t)BIG_MIB << 20};
    b.src = malloc(b.n);
    b.dst = malloc(b.n);
    if (!b.src || !b.dst)
        die("malloc", MT_ENOMEM, NULL);
    memset(b.src, 1, b.n);
    memset(b.dst, 2, b.n);
    double gb = (double)b.n / 1e9;
    timeit("single_client_put_gigabytes", put_big, &b, gb, "GB/s");
    timeit("memcpy_gigabytes", memcpy_big, &b, gb, "GB/s");
    free(b.src);
    free(b.dst);
}

/* ---- the store path (inlining off, Ray's pipeline depth of 1) -------------- */

typedef struct mib {
    mt_ref *arg; /* a 1 MiB object in the store */
} mib;

/* BATCH_MIB tasks taking a 1 MiB stored argument, then get them: manta.echo
 * returns it (a 1 MiB stored result each: one memcpy per task), manta.nop not. */
#define BATCH_MIB 20
static void task_mib_fn(mib *m, const char *fn)
{
    static mt_ref *refs[BATCH_MIB];
    mt_arg a = MT_ARG_REF(m->arg);
    for (int i = 0; i < BATCH_MIB; i++)
        CHECK("submit", mt_task_submit(fn, &a, 1, NULL, &refs[i], &err_));
    get_release(refs, BATCH_MIB);
}
static void task_mib(void *ctx) { task_mib_fn(ctx, "manta.echo"); }
static void task_mib_arg(void *ctx) { task_mib_fn(ctx, "manta.nop"); }

/* DISTINCT small stored objects put, then each got once: only the gets are timed
 * (first gets of objects this driver has not read: one pipelined GET per 64). */
#define DISTINCT 256
static void bench_get_distinct(void)
{
    static mt_ref *refs[DISTINCT];
    static mt_value vals[DISTINCT];
    int64_t x = 7;
    double timed = 0;
    long gets = 0;
    for (int round = 0; timed < g_seconds * g_repeats; round++) {
        for (int i = 0; i < DISTINCT; i++)
            CHECK("put", mt_put(&x, sizeof x, &refs[i], &err_));
        mt_value warm;
        CHECK("get", mt_get(&refs[0], 1, 30000, &warm, &err_)); /* the puts are answered */
        mt_value_release(&warm);
        double t0 = now_s();
        CHECK("get", mt_get(refs + 1, DISTINCT - 1, 30000, vals, &err_));
        if (round > 0) { /* the first round warms up */
            timed += now_s() - t0;
            gets += DISTINCT - 1;
        }
        for (int i = 0; i < DISTINCT - 1; i++)
            mt_value_release(&vals[i]);
        for (int i = 0; i < DISTINCT; i++)
            mt_ref_release(refs[i]);
    }
    emit("store_get_distinct_calls", (double)gets / timed, "calls/s");
}

/*
 * Child: joins with MANTA_INLINE_OBJECT_BYTES=0 and
 * MANTA_MAX_TASKS_IN_FLIGHT_PER_WORKER=1 (set by the parent), so every object
 * goes through the node's store and each worker has one task at a time, as
 * in Ray; prints its own figures.
 */
static int storepath_main(void)
{
    mt_error err = {0};
    mt_init_options o = {.temp_dir = g_temp, .no_start = true};
    if (mt_init_ex(&o, &err) != MT_OK) {
        fprintf(stderr, "storepath: mt_init: %s\n", err.msg);
        return 1;
    }
    put_get_small("store_put_calls", "store_get_calls");
    bench_get_distinct();
    timeit("depth1_tasks_async", task_async, NULL, BATCH, "tasks/s");
    static char buf[1 << 20];
    memset(buf, 5, sizeof buf);
    mib m = {NULL};
    CHECK("put 1 MiB", mt_put(buf, sizeof buf, &m.arg, &err_));
    timeit("depth1_tasks_1mib_arg", task_mib_arg, &m, BATCH_MIB, "tasks/s");
    timeit("depth1_tasks_1mib_arg_1mib_return", task_mib, &m, BATCH_MIB, "tasks/s");
    mt_ref_release(m.arg);
    mt_shutdown();
    return 0;
}

static void bench_storepath(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) die("fork", MT_EIO, NULL);
    if (pid == 0) {
        setenv("MANTA_BENCH_ROLE", "storepath", 1);
        setenv("MANTA_INLINE_OBJECT_BYTES", "0", 1);
        setenv("MANTA_MAX_TASKS_IN_FLIGHT_PER_WORKER", "1", 1);
        execl("/proc/self/exe", "core-bench-storepath", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the store-path client failed", MT_EIO, NULL);
}

/* ---- the raw limit: unix-socket ping-pong between two processes ------------ */

static double pingpong(bool spin)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair", MT_EIO, NULL);
    int flags = spin ? MSG_DONTWAIT : 0;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        char b[8];
        for (;;) {
            ssize_t n = recv(sv[1], b, sizeof b, flags);
            if (n == 0) _exit(0);
            if (n < 0) {
                if (errno == EAGAIN) continue;
                _exit(1);
            }
            if (send(sv[1], b, (size_t)n, 0) != n) _exit(1);
        }
    }
    close(sv[1]);
    char b[8] = "ping";
    long n = 0;
    double t0 = now_s(), el;
    do {
        for (int i = 0; i < 1000; i++) {
            if (send(sv[0], b, sizeof b, 0) != (ssize_t)sizeof b) die("send", MT_EIO, NULL);
            ssize_t got;
            while ((got = recv(sv[0], b, sizeof b, flags)) < 0 && errno == EAGAIN) {}
            if (got != (ssize_t)sizeof b) die("recv", MT_EIO, NULL);
        }
        n += 1000;
        el = now_s() - t0;
    } while (el < g_seconds);
    close(sv[0]);
    waitpid(pid, NULL, 0);
    return (double)n / el;
}

static void bench_raw(void)
{
    emit("raw_unix_pingpong_blocking", pingpong(false), "round trips/s");
    emit("raw_unix_pingpong_spinning", pingpong(true), "round trips/s");
}

/* ---- the Dask peer --------------------------------------------------------- */

static void run_peer(void)
{
    char src[PATH_MAX], cmd[PATH_MAX + 128], line[512];
    snprintf(src, sizeof src, "%s", __FILE__); /* absolute in CMake builds */
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/peers/dask_core.py' 2>&1", dirname(src));
    if (access("/usr/bin/python3", X_OK) != 0) {
        printf("# dask peer skipped: /usr/bin/python3 not found\n");
        return;
    }
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) {
        printf("# dask peer skipped: cannot run %s\n", cmd);
        return;
    }
    while (fgets(line, sizeof line, p)) {
        char name[64], unit[16];
        double v;
        if (line[0] == '#' || sscanf(line, "%63[^:]: %lf %15s", name, &v, unit) != 3) {
            fputs(line[0] == '#' ? line : "# dask: ", stdout);
            if (line[0] != '#')
                fputs(line, stdout);
            continue;
        }
        printf("dask_%s: %.6g %s\n", name, v, unit);
        for (int i = 0; i < g_nresults; i++)
            if (strcmp(g_results[i].name, name) == 0 && g_results[i].value > 0 && v > 0)
                /* our time / Dask's time: rates invert, durations (unit s) do not */
                printf("%s_ratio_vs_dask: %.4g\n", name,
                       strcmp(unit, "s") == 0 ? g_results[i].value / v : v / g_results[i].value);
        fflush(stdout);
    }
    pclose(p);
}

/* ---- main -------------------------------------------------------------------- */

static void setup_env(void)
{
    const char *e;
    if ((e = getenv("PEER_BENCH_WARMUP")))
        g_warmup = atof(e);
    if ((e = getenv("PEER_BENCH_SECONDS")))
        g_seconds = atof(e);
    if ((e = getenv("PEER_BENCH_REPEATS")) && atoi(e) > 0)
        g_repeats = atoi(e);
    if (!getenv("MANTA_BIN")) { /* <build>/bench/core -> <build>/manta */
        char exe[PATH_MAX] = "", bin[PATH_MAX + 16];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = 0;
            snprintf(bin, sizeof bin, "%s/../manta", dirname(exe));
            if (access(bin, X_OK) == 0)
                setenv("MANTA_BIN", bin, 1);
        }
    }
}

/* `core [GROUP...]`: tasks, actors, objects, storepath, raw, peer; none = all. */
static bool want(int argc, char **argv, const char *group)
{
    if (argc < 2) return true;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], group)) return true;
    return false;
}

int main(int argc, char **argv)
{
    setup_env();
    const char *role = getenv("MANTA_BENCH_ROLE");
    if (role) {
        snprintf(g_temp, sizeof g_temp, "%s", getenv("MANTA_BENCH_TEMP"));
        return strcmp(role, "storepath") == 0 ? storepath_main() : client_main(role);
    }
    signal(SIGPIPE, SIG_IGN);
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    printf("cores: %d\n", ncpu);
    snprintf(g_temp, sizeof g_temp, "%s/mtb.XXXXXX", P_tmpdir);
    if (!mkdtemp(g_temp))
        die("mkdtemp", MT_EIO, NULL);
    setenv("MANTA_BENCH_TEMP", g_temp, 1);

    double t0 = now_s();
    mt_init_options o = {.temp_dir = g_temp, .num_cpus = ncpu};
    CHECK("mt_init (embedded cluster)", mt_init_ex(&o, &err_));
    emit("cluster_start", now_s() - t0, "s");
    /* Client drivers join the embedded cluster by its address (it is not the temp dir's latest session). */
    mt_session_info info;
    CHECK("reading session.json", mt_session_read_info(mt_session_dir(), &info, &err_));
    setenv("MANTA_ADDRESS", info.gcs_address, 1);
    if (want(argc, argv, "tasks")) bench_tasks();
    if (want(argc, argv, "actors")) bench_actors(ncpu);
    if (want(argc, argv, "objects")) bench_objects();
    if (want(argc, argv, "storepath")) bench_storepath();
    if (want(argc, argv, "placement")) bench_placement();
    if (want(argc, argv, "raw")) bench_raw();
    mt_shutdown();

    char rm[PATH_MAX + 16];
    snprintf(rm, sizeof rm, "rm -rf '%s'", g_temp);
    if (system(rm) != 0)
        fprintf(stderr, "core bench: could not remove %s\n", g_temp);
    if (want(argc, argv, "peer")) run_peer();
    return 0;
}
