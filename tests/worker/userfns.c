/*
 * userfns.c — a user code library for the dlopen path: built as
 * libmanta_test_userfns.so, loaded by workers through mt_init's code_path.
 * Its symbols (mt_remote_register...) resolve against the worker executable.
 */
#include <manta/core.h>
#include <stdlib.h>

static mt_status user_square(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t v;
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &v, err));
    return mt_return_i64(ctx, v * v, err);
}
MT_REMOTE(user_square)

/* Two results: quotient and remainder. */
static mt_status user_divmod(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t a, b;
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &a, err));
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 1, &b, err));
    if (b == 0) return mt_error_set(err, MT_ERANGE, "division by zero");
    MT_RETURN_NOT_OK(mt_return_i64(ctx, a / b, err));
    return mt_return_i64(ctx, a % b, err);
}
MT_REMOTE(user_divmod)

static mt_status acc_init(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t *s = calloc(1, sizeof *s);
    if (!s) return mt_error_set(err, MT_ENOMEM, "Acc");
    if (nargs == 1 && mt_arg_i64(args, nargs, 0, s, err) != MT_OK) {
        free(s);
        return MT_ETYPE;
    }
    mt_actor_set_state(ctx, s);
    return MT_OK;
}

static mt_status acc_add(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t *s = mt_actor_state(ctx), v;
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &v, err));
    *s += v;
    return mt_return_i64(ctx, *s, err);
}
MT_ACTOR_CLASS(Acc, acc_init, free)
MT_ACTOR_METHOD(Acc, add, acc_add)

/*
 * Two in-place results: a small one, then one big enough that the worker's
 * shared result buffer would have to grow (still inline); both are filled
 * only after the second is reserved, so the first must not have moved.
 */
static mt_status user_two_allocs(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    (void)args;
    (void)nargs;
    unsigned char *a, *b;
    MT_RETURN_NOT_OK(mt_return_alloc(ctx, 100, (void **)&a, err));
    MT_RETURN_NOT_OK(mt_return_alloc(ctx, 50000, (void **)&b, err));
    for (int i = 0; i < 100; i++) a[i] = (unsigned char)(i + 1);
    for (int i = 0; i < 50000; i++) b[i] = (unsigned char)(i * 7);
    return MT_OK;
}
MT_REMOTE(user_two_allocs)

/*
 * Nested tasks: submits n manta.add_i64(i, 1) from inside a task, gets them
 * all and returns their sum (n(n+1)/2); also puts an object and reads it
 * back. The task's runtime is the same API a driver uses.
 */
static mt_status user_fanout(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t n;
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &n, err));
    if (n < 0 || n > 100000) return mt_error_set(err, MT_ERANGE, "fanout: n %lld", (long long)n);
    mt_ref **refs = calloc((size_t)n + 1, sizeof *refs);
    mt_value *vals = calloc((size_t)n + 1, sizeof *vals);
    if (!refs || !vals) {
        free(refs);
        free(vals);
        return mt_error_set(err, MT_ENOMEM, "fanout");
    }
    mt_status st = MT_OK;
    int64_t k = 0;
    for (; st == MT_OK && k < n; k++) {
        mt_arg a[2] = {MT_ARG_I64(k), MT_ARG_I64(1)};
        st = mt_task_submit("manta.add_i64", a, 2, NULL, &refs[k], err);
    }
    if (st == MT_OK) st = mt_get(refs, (int)n, 60000, vals, err);
    int64_t sum = 0;
    for (int64_t i = 0; st == MT_OK && i < n; i++) {
        int64_t v = 0;
        st = mt_value_i64(&vals[i], &v, err);
        sum += v;
        mt_value_release(&vals[i]);
    }
    for (int64_t i = 0; i < k; i++) mt_ref_release(refs[i]);
    free(refs);
    free(vals);
    /* put + get inside a task */
    mt_ref *p = NULL;
    mt_value pv;
    if (st == MT_OK) st = mt_put(&sum, sizeof sum, &p, err);
    if (st == MT_OK) st = mt_get(&p, 1, 10000, &pv, err);
    if (st == MT_OK) {
        int64_t back = 0;
        st = mt_value_i64(&pv, &back, err);
        if (st == MT_OK && back != sum) st = mt_error_set(err, MT_EINTERNAL, "put/get in a task: %lld != %lld",
                                                          (long long)back, (long long)sum);
        mt_value_release(&pv);
    }
    mt_ref_release(p);
    if (st != MT_OK) return st;
    return mt_return_i64(ctx, sum, err);
}
MT_REMOTE(user_fanout)

/* An actor handle passed as bytes: calls incr k times through it, returns the last value. */
static mt_status user_call_actor(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t k;
    if (nargs != 2) return mt_error_set(err, MT_EINVAL, "call_actor takes a handle and a count");
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 1, &k, err));
    mt_actor *a;
    MT_RETURN_NOT_OK(mt_actor_from_bytes(args[0].data, args[0].size, &a, err));
    mt_status st = MT_OK;
    mt_value v = {0};
    for (int64_t i = 0; st == MT_OK && i < k; i++) {
        mt_ref *r = NULL;
        st = mt_actor_call(a, "incr", NULL, 0, 1, &r, err);
        if (st == MT_OK && i == k - 1) st = mt_get(&r, 1, 10000, &v, err);
        mt_ref_release(r);
    }
    mt_actor_release(a);
    int64_t last = 0;
    if (st == MT_OK) st = mt_value_i64(&v, &last, err);
    mt_value_release(&v);
    if (st != MT_OK) return st;
    return mt_return_i64(ctx, last, err);
}
MT_REMOTE(user_call_actor)

/* 16 bytes: the object's size and the sum of its bytes. */
static mt_status digest_of(mt_task_ctx *ctx, mt_ref *r, mt_error *err)
{
    mt_value v;
    MT_RETURN_NOT_OK(mt_get(&r, 1, 20000, &v, err));
    int64_t out[2] = {(int64_t)v.size, 0};
    for (size_t i = 0; i < v.size; i++) out[1] += ((const unsigned char *)v.data)[i];
    mt_value_release(&v);
    return mt_return(ctx, out, sizeof out, err);
}

/* A ref passed by MT_ARG_BORROW: hands it on `depth` more tasks, then digests it. */
static mt_status user_relay(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t depth;
    if (nargs != 2) return mt_error_set(err, MT_EINVAL, "relay takes a ref and a depth");
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 1, &depth, err));
    mt_ref *r;
    MT_RETURN_NOT_OK(mt_ref_from_bytes(args[0].data, args[0].size, &r, err));
    mt_status st;
    if (depth <= 0) {
        st = digest_of(ctx, r, err);
    } else {
        mt_arg a[2] = {MT_ARG_BORROW(r), MT_ARG_I64(depth - 1)};
        mt_ref *next = NULL;
        mt_value v;
        st = mt_task_submit("user_relay", a, 2, NULL, &next, err);
        if (st == MT_OK) st = mt_get(&next, 1, 30000, &v, err);
        if (st == MT_OK) {
            st = mt_return(ctx, v.data, v.size, err);
            mt_value_release(&v);
        }
        mt_ref_release(next);
    }
    mt_ref_release(r);
    return st;
}
MT_REMOTE(user_relay)

/* An object whose bytes are a ref: digests the inner object. */
static mt_status user_unwrap(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    if (nargs != 1) return mt_error_set(err, MT_EINVAL, "unwrap takes one argument");
    mt_ref *r;
    MT_RETURN_NOT_OK(mt_ref_from_bytes(args[0].data, args[0].size, &r, err));
    mt_status st = digest_of(ctx, r, err);
    mt_ref_release(r);
    return st;
}
MT_REMOTE(user_unwrap)

/* Puts a new object of args[0] bytes (i*31+7 pattern) from inside the task
 * and returns its ref: the result holds it (mt_return_contains), so it
 * outlives this task and this worker's own reference. */
static mt_status user_wrap_new(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t n;
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &n, err));
    unsigned char *buf = malloc((size_t)n);
    if (!buf) return mt_error_set(err, MT_ENOMEM, "wrap_new");
    for (int64_t i = 0; i < n; i++) buf[i] = (unsigned char)(i * 31 + 7);
    mt_ref *inner = NULL;
    mt_status st = mt_put(buf, (size_t)n, &inner, err);
    free(buf);
    char bytes[128];
    size_t len = 0;
    if (st == MT_OK) st = mt_ref_to_bytes(inner, bytes, sizeof bytes, &len, err);
    if (st == MT_OK) st = mt_return_contains(ctx, &inner, 1, err);
    if (st == MT_OK) st = mt_return(ctx, bytes, len, err);
    mt_ref_release(inner);
    return st;
}
MT_REMOTE(user_wrap_new)
