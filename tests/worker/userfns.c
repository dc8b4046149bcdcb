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
