/*
 * builtins.c — remote functions and the actor class present in every
 * worker without a user library (names prefixed "manta."): tests and
 * benchmarks run on them.
 *
 * Threads: run on the worker's main thread. Invariant: every built-in checks
 * its argument count and sizes and fails with MT_EINVAL naming itself.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker/worker_int.h"

static mt_status want_args(const char *fn, int nargs, int lo, int hi, mt_error *err)
{
    if (nargs >= lo && nargs <= hi) return MT_OK;
    if (lo == hi) return mt_error_set(err, MT_EINVAL, "%s takes %d argument%s, got %d", fn, lo, lo == 1 ? "" : "s", nargs);
    return mt_error_set(err, MT_EINVAL, "%s takes %d to %d arguments, got %d", fn, lo, hi, nargs);
}

static mt_status echo(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    MT_RETURN_NOT_OK(want_args("manta.echo", nargs, 1, 1, err));
    return mt_return(ctx, args[0].data, args[0].size, err);
}

static mt_status add_i64(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t sum = 0;
    for (int i = 0; i < nargs; i++) {
        int64_t v;
        MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, i, &v, err));
        sum += v;
    }
    return mt_return_i64(ctx, sum, err);
}

static mt_status sleep_ms(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t ms;
    MT_RETURN_NOT_OK(want_args("manta.sleep_ms", nargs, 1, 1, err));
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &ms, err));
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {}
    return mt_return_i64(ctx, ms, err);
}

static mt_status fail(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    (void)ctx;
    MT_RETURN_NOT_OK(want_args("manta.fail", nargs, 1, 2, err));
    int64_t code = MT_EINVAL;
    if (nargs == 2) MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 1, &code, err));
    int len = args[0].size > 400 ? 400 : (int)args[0].size;
    return mt_error_set(err, (mt_status)code, "%.*s", len, (const char *)args[0].data);
}

static mt_status crash(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    (void)ctx; (void)args; (void)nargs; (void)err;
    kill(getpid(), SIGKILL);
    pause();
    return MT_EINTERNAL;
}

/* Crashes unless the marker file (argument 0, a path) exists; creates it first. */
static mt_status crash_once(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    char path[4096];
    MT_RETURN_NOT_OK(want_args("manta.crash_once", nargs, 1, 1, err));
    if (args[0].size >= sizeof path) return mt_error_set(err, MT_EINVAL, "manta.crash_once: path too long");
    memcpy(path, args[0].data, args[0].size);
    path[args[0].size] = 0;
    if (access(path, F_OK) != 0) {
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
        kill(getpid(), SIGKILL);
        pause();
    }
    return mt_return_i64(ctx, getpid(), err);
}

static mt_status pid(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    (void)args; (void)nargs;
    return mt_return_i64(ctx, getpid(), err);
}

static mt_status nop(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    (void)ctx; (void)args; (void)nargs; (void)err;
    return MT_OK;
}

/* Returns N bytes where byte i is (i * 7 + 3 + j) & 0xff in return j (each of num_returns), written in place. */
static mt_status bytes(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t n;
    MT_RETURN_NOT_OK(want_args("manta.bytes", nargs, 1, 1, err));
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &n, err));
    if (n < 0) return mt_error_set(err, MT_EINVAL, "manta.bytes: negative size %lld", (long long)n);
    for (int j = 0; j < mt_task_num_returns(ctx); j++) {
        void *p;
        MT_RETURN_NOT_OK(mt_return_alloc(ctx, (size_t)n, &p, err));
        uint8_t *b = p;
        for (int64_t i = 0; i < n; i++) b[i] = (uint8_t)((i * 7 + 3 + j) & 0xff);
    }
    return MT_OK;
}

/* Returns the size and a simple checksum (sum of bytes) of its argument: two int64. */
static mt_status digest(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    MT_RETURN_NOT_OK(want_args("manta.digest", nargs, 1, 1, err));
    int64_t out[2] = {(int64_t)args[0].size, 0};
    const uint8_t *b = args[0].data;
    for (size_t i = 0; i < args[0].size; i++) out[1] += b[i];
    return mt_return(ctx, out, sizeof out, err);
}

/* ---- manta.Counter ---- */

typedef struct counter {
    int64_t value;
    int64_t *hist;
    size_t nhist, caphist;
} counter;

static void counter_fini(void *state)
{
    counter *c = state;
    if (!c) return;
    mt_free(c->hist);
    mt_free(c);
}

static mt_status counter_init(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    MT_RETURN_NOT_OK(want_args("manta.Counter", nargs, 0, 1, err));
    counter *c = mt_calloc(1, sizeof *c);
    if (!c) return mt_error_set(err, MT_ENOMEM, "manta.Counter");
    if (nargs == 1 && mt_arg_i64(args, nargs, 0, &c->value, err) != MT_OK) {
        mt_free(c);
        return err ? err->code : MT_EINVAL;
    }
    mt_actor_set_state(ctx, c);
    return MT_OK;
}

static mt_status counter_incr(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    counter *c = mt_actor_state(ctx);
    int64_t d = 1;
    MT_RETURN_NOT_OK(want_args("manta.Counter.incr", nargs, 0, 1, err));
    if (nargs == 1) MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &d, err));
    c->value += d;
    return mt_return_i64(ctx, c->value, err);
}

static mt_status counter_get(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    (void)args;
    MT_RETURN_NOT_OK(want_args("manta.Counter.get", nargs, 0, 0, err));
    return mt_return_i64(ctx, ((counter *)mt_actor_state(ctx))->value, err);
}

static mt_status counter_append(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    counter *c = mt_actor_state(ctx);
    int64_t v;
    MT_RETURN_NOT_OK(want_args("manta.Counter.append", nargs, 1, 1, err));
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &v, err));
    if (c->nhist == c->caphist) {
        size_t cap = c->caphist ? c->caphist * 2 : 64;
        int64_t *h = mt_realloc(c->hist, cap * sizeof *h);
        if (!h) return mt_error_set(err, MT_ENOMEM, "manta.Counter.append");
        c->hist = h;
        c->caphist = cap;
    }
    c->hist[c->nhist++] = v;
    return mt_return_i64(ctx, (int64_t)c->nhist, err);
}

static mt_status counter_history(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    (void)args;
    counter *c = mt_actor_state(ctx);
    MT_RETURN_NOT_OK(want_args("manta.Counter.history", nargs, 0, 0, err));
    return mt_return(ctx, c->hist, c->nhist * sizeof *c->hist, err);
}

void mt__builtins_register(void)
{
    mt_remote_register("manta.echo", echo);
    mt_remote_register("manta.add_i64", add_i64);
    mt_remote_register("manta.sleep_ms", sleep_ms);
    mt_remote_register("manta.fail", fail);
    mt_remote_register("manta.crash", crash);
    mt_remote_register("manta.crash_once", crash_once);
    mt_remote_register("manta.pid", pid);
    mt_remote_register("manta.nop", nop);
    mt_remote_register("manta.bytes", bytes);
    mt_remote_register("manta.digest", digest);
    mt_actor_class_register("manta.Counter", counter_init, counter_fini);
    mt_remote_register("manta.Counter.incr", counter_incr);
    mt_remote_register("manta.Counter.get", counter_get);
    mt_remote_register("manta.Counter.append", counter_append);
    mt_remote_register("manta.Counter.history", counter_history);
}
