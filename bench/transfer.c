/*
 * bench/transfer — moving objects between nodes: a head node (embedded, in
 * a private temp dir) and a second node daemon joined with `manta start
 * --address` on loopback. A driver on the head puts objects of 1 MiB,
 * 100 MiB and 1 GiB; a driver on the second node (this program re-run
 * with MANTA_BENCH_ROLE=reader) reads each through its own node, which
 * pulls it over TCP, and checks its bytes. Beside: plain memcpy of the same
 * sizes and a raw TCP copy over loopback (one socket, no framing).
 *
 * usage: transfer [--max-mib N]    (make bench-transfer)
 * Prints `transfer_<size>: X GB/s`, `memcpy_<size>`, `raw_tcp_<size>` and
 * `transfer_<size>_ratio_vs_raw_tcp` (our time / raw TCP's).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcs/session.h"
#include "manta/core.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const mt_error *err)
{
    fprintf(stderr, "bench/transfer: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static const size_t sizes[] = {1u << 20, 100u << 20, 1u << 30};
static const char *const names[] = {"1MiB", "100MiB", "1GiB"};
enum { NSIZES = 3, SMALL_COUNT = 32 }; /* 1 MiB: 32 objects, timed together */

static uint8_t pattern(size_t i, int k) { return (uint8_t)(i * 31 + (size_t)k * 7); }

/* ---- the reader on the second node ------------------------------------------ */

static int reader(const char *dir, int nsizes)
{
    char bdir[PATH_MAX];
    snprintf(bdir, sizeof bdir, "%s/b", dir);
    mt_error err;
    if (mt_init_ex(&(mt_init_options){.temp_dir = bdir, .no_start = true}, &err) != MT_OK) die("reader: mt_init", &err);
    for (int s = 0; s < nsizes; s++) {
        int count = s == 0 ? SMALL_COUNT : 1;
        double t = 0;
        for (int k = 0; k < count; k++) {
            char path[PATH_MAX + 32];
            uint8_t buf[MT_ACTOR_HANDLE_MAX];
            snprintf(path, sizeof path, "%s/ref_%d_%d", dir, s, k);
            FILE *f = fopen(path, "rb");
            size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
            if (f) fclose(f);
            mt_ref *r = NULL;
            mt_value v;
            double t0 = now_s();
            if (mt_ref_from_bytes(buf, n, &r, &err) != MT_OK || mt_get(&r, 1, 120000, &v, &err) != MT_OK)
                die("reader: get", &err);
            t += now_s() - t0;
            const uint8_t *p = v.data;
            for (size_t i = 0; i < v.size; i += 4093)
                if (p[i] != pattern(i, k)) die("reader: the bytes differ", NULL);
            if (v.size != sizes[s]) die("reader: wrong size", NULL);
            mt_value_release(&v);
            mt_ref_release(r);
        }
        printf("transfer_%s: %.3f GB/s\n", names[s], (double)sizes[s] * count / t / 1e9);
        printf("transfer_%s_seconds: %.6f s\n", names[s], t / count);
        fflush(stdout);
    }
    mt_shutdown();
    return 0;
}

/* ---- baselines ------------------------------------------------------------------ */

static double memcpy_seconds(size_t size)
{
    uint8_t *a = malloc(size), *b = malloc(size);
    if (!a || !b) die("memcpy: out of memory", NULL);
    memset(a, 1, size);
    memset(b, 2, size);
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double t0 = now_s();
        memcpy(b, a, size);
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    free(a);
    free(b);
    return best;
}

/* size bytes from a child over one loopback TCP connection (best of 3). */
static double raw_tcp_seconds(size_t size)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 1) || getsockname(ls, (struct sockaddr *)&sa, &sl))
        die("raw tcp: listen", NULL);
    uint8_t *buf = malloc(size);
    if (!buf) die("raw tcp: out of memory", NULL);
    memset(buf, 3, size);
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        pid_t pid = fork();
        if (pid == 0) {
            int c = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(c, (struct sockaddr *)&sa, sizeof sa)) _exit(1);
            for (size_t off = 0; off < size;) {
                ssize_t n = write(c, buf + off, size - off);
                if (n <= 0) _exit(1);
                off += (size_t)n;
            }
            close(c);
            _exit(0);
        }
        int a = accept(ls, NULL, NULL);
        double t0 = now_s();
        size_t got = 0;
        for (ssize_t n; got < size && (n = read(a, buf + got, size - got)) > 0;) got += (size_t)n;
        double t = now_s() - t0;
        close(a);
        waitpid(pid, NULL, 0);
        if (got != size) die("raw tcp: short read", NULL);
        best = t < best ? t : best;
    }
    free(buf);
    close(ls);
    return best;
}

/*
 * Several objects at once: results of manta.bytes made on the second node
 * (its custom resource "b"), read by this driver on the head one get each,
 * then another set of the same in one get (the head's node copies them
 * concurrently, within its pull budget).
 */
static void read_many_from_b(size_t size, int count, const char *name)
{
    mt_resource on_b[2] = {{"CPU", 1}, {"b", 1}};
    mt_task_options to = {.resources = on_b, .num_resources = 2};
    mt_ref **refs = calloc((size_t)count * 2, sizeof *refs);
    mt_value *vals = calloc((size_t)count, sizeof *vals);
    mt_error err;
    if (!refs || !vals) die("out of memory", NULL);
    for (int k = 0; k < 2 * count; k++) {
        mt_arg a = MT_ARG_I64((int64_t)size);
        if (mt_task_submit("manta.bytes", &a, 1, &to, &refs[k], &err) != MT_OK) die("submit", &err);
    }
    bool *ready = calloc((size_t)count * 2, 1);
    int nready = 0;
    if (!ready || mt_wait(refs, 2 * count, 2 * count, 300000, ready, &nready, &err) != MT_OK) die("wait", &err);
    free(ready);
    double t0 = now_s();
    for (int k = 0; k < count; k++) {
        if (mt_get(&refs[k], 1, 120000, &vals[0], &err) != MT_OK) die("get", &err);
        if (vals[0].size != size) die("wrong size", NULL);
        mt_value_release(&vals[0]);
    }
    double one = now_s() - t0;
    t0 = now_s();
    if (mt_get(refs + count, count, 120000, vals, &err) != MT_OK) die("get together", &err);
    double together = now_s() - t0;
    for (int k = 0; k < count; k++) {
        const uint8_t *p = vals[k].data;
        if (vals[k].size != size || p[size - 1] != (uint8_t)(((size - 1) * 7 + 3) & 0xff)) die("the bytes differ", NULL);
        mt_value_release(&vals[k]);
    }
    for (int k = 0; k < 2 * count; k++) mt_ref_release(refs[k]);
    free(refs);
    free(vals);
    double bytes = (double)size * count;
    printf("transfer_%s_x%d_one_get_each: %.3f GB/s\n", name, count, bytes / one / 1e9);
    printf("transfer_%s_x%d_one_get: %.3f GB/s\n", name, count, bytes / together / 1e9);
    printf("transfer_%s_x%d_ratio_vs_one_get_each: %.2f ratio\n", name, count, together / one);
}

/* ---- the head side ------------------------------------------------------------ */

static const char *manta_bin(void)
{
    static char bin[PATH_MAX + 16];
    if (getenv("MANTA_BIN")) return getenv("MANTA_BIN");
    char exe[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return "manta";
    exe[n] = 0;
    snprintf(bin, sizeof bin, "%s/../manta", dirname(exe));
    setenv("MANTA_BIN", bin, 1);
    return bin;
}

int main(int argc, char **argv)
{
    const char *role = getenv("MANTA_BENCH_ROLE");
    if (role && !strcmp(role, "reader")) return reader(getenv("MANTA_BENCH_DIR"), atoi(getenv("MANTA_BENCH_SIZES")));
    int nsizes = NSIZES;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--max-mib") && i + 1 < argc) {
            long m = atol(argv[++i]);
            nsizes = m >= 1024 ? 3 : m >= 100 ? 2 : 1;
        }
    const char *bin = manta_bin();
    printf("cores: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    char dir[128];
    snprintf(dir, sizeof dir, "%s/mtx.XXXXXX", P_tmpdir);
    if (!mkdtemp(dir)) die("mkdtemp", NULL);
    mt_error err;
    int64_t store = (int64_t)3 << 30;
    if (mt_init_ex(&(mt_init_options){.temp_dir = dir, .num_cpus = 1, .object_store_memory = store}, &err) != MT_OK)
        die("mt_init", &err);
    mt_session_info info;
    if (mt_session_read_info(mt_session_dir(), &info, &err) != MT_OK) die("session", &err);
    char tokpath[PATH_MAX], tok[128] = "", cmd[4 * PATH_MAX];
    snprintf(tokpath, sizeof tokpath, "%s/token", mt_session_dir());
    FILE *tf = fopen(tokpath, "r");
    if (!tf || !fgets(tok, sizeof tok, tf)) die("reading the token", NULL);
    fclose(tf);
    tok[strcspn(tok, "\n")] = 0;
    const char *gcs = strncmp(info.gcs_address, "tcp://", 6) ? info.gcs_address : info.gcs_address + 6;
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/b' && '%s' start --address '%s' --temp-dir '%s/b' --token %s --num-cpus 1 "
             "--object-store-memory %lld --resources '{\"b\": 1}' >/dev/null", dir, bin, gcs, dir, tok, (long long)store);
    if (system(cmd) != 0) die("joining the second node", NULL);

    for (int s = 0; s < nsizes; s++) { /* the objects, made on the head, refs in files */
        int count = s == 0 ? SMALL_COUNT : 1;
        uint8_t *data = malloc(sizes[s]);
        if (!data) die("out of memory", NULL);
        for (int k = 0; k < count; k++) {
            for (size_t i = 0; i < sizes[s]; i++) data[i] = pattern(i, k);
            mt_ref *r = NULL;
            uint8_t buf[MT_ACTOR_HANDLE_MAX];
            size_t n = 0;
            if (mt_put(data, sizes[s], &r, &err) != MT_OK || mt_ref_to_bytes(r, buf, sizeof buf, &n, &err) != MT_OK)
                die("put", &err);
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/ref_%d_%d", dir, s, k);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(buf, 1, n, f) != n) die("writing a ref", NULL);
            fclose(f);
            /* the ref stays alive (leaked to the end) so the object stays */
        }
        free(data);
    }
    char envdir[PATH_MAX], envs[32];
    snprintf(envdir, sizeof envdir, "%s", dir);
    snprintf(envs, sizeof envs, "%d", nsizes);
    setenv("MANTA_BENCH_ROLE", "reader", 1);
    setenv("MANTA_BENCH_DIR", envdir, 1);
    setenv("MANTA_BENCH_SIZES", envs, 1);
    fflush(stdout);
    char self[PATH_MAX];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sn > 0 ? sn : 0] = 0;
    FILE *p = popen(self, "r");
    double ours[NSIZES] = {0};
    char line[256];
    while (p && fgets(line, sizeof line, p)) {
        fputs(line, stdout);
        for (int s = 0; s < nsizes; s++) {
            char key[64];
            snprintf(key, sizeof key, "transfer_%s_seconds: %%lf", names[s]);
            sscanf(line, key, &ours[s]);
        }
    }
    int rc = p ? pclose(p) : -1;
    unsetenv("MANTA_BENCH_ROLE");
    for (int s = 0; s < nsizes; s++) {
        double m = memcpy_seconds(sizes[s]), t = raw_tcp_seconds(sizes[s]);
        printf("memcpy_%s: %.3f GB/s\n", names[s], (double)sizes[s] / m / 1e9);
        printf("raw_tcp_%s: %.3f GB/s\n", names[s], (double)sizes[s] / t / 1e9);
        if (ours[s] > 0) printf("transfer_%s_ratio_vs_raw_tcp: %.2f ratio\n", names[s], ours[s] / t);
    }
    read_many_from_b(1u << 20, SMALL_COUNT, "1MiB");
    read_many_from_b(16u << 20, 8, "16MiB");
    snprintf(cmd, sizeof cmd, "'%s' stop --temp-dir '%s/b' >/dev/null 2>&1", bin, dir);
    if (system(cmd) != 0) fprintf(stderr, "bench/transfer: stopping the second node failed\n");
    mt_shutdown();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
    return rc == 0 ? 0 : 1;
}
