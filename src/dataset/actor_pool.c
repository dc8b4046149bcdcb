/*
 * actor_pool.c — map_batches on a pool of actors (Ray's callable classes
 * with ActorPoolStrategy): the actor class `manta.data.BatchActor` holds
 * one batch class's state, built once by its init; its method `run` turns
 * one stored block into another, batch by batch. The driver runs the plan
 * into stored blocks, then sends each block to the actor with the fewest
 * pending calls.
 *
 * Threads: actors on their workers' main threads; the driver side on the
 * caller's. Invariant: at most 2 calls pending per actor, so blocks waiting
 * for the pool stay bounded; every actor and ref is released on every path.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "dataset/ds_int.h"

#define ACTOR "manta.data.BatchActor"

/* ---- The actor --------------------------------------------------------------- */

typedef struct pool_actor {
    mt__batch_class cls;
    void *state;
    int64_t batch_size;
    char name[128];
} pool_actor;

static void actor_fini(void *p)
{
    pool_actor *a = p;
    if (a && a->cls.fini) a->cls.fini(a->state);
    mt_free(a);
}

/* args: 0 = {"class", "batch_size"}, 1 = the init argument bytes. */
static mt_status actor_init(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    if (nargs != 2) return mt_error_set(err, MT_EINVAL, ACTOR ": 2 arguments expected");
    json_t *j = json_loadb(args[0].data, args[0].size, 0, NULL);
    const char *name = json_string_value(json_object_get(j, "class"));
    pool_actor *a = mt_calloc(1, sizeof *a);
    mt_status st = a && name ? MT_OK : mt_error_set(err, a ? MT_EPARSE : MT_ENOMEM, ACTOR ": bad arguments");
    if (st == MT_OK) {
        snprintf(a->name, sizeof a->name, "%s", name);
        a->batch_size = json_integer_value(json_object_get(j, "batch_size"));
        st = mt_task_load_code(ctx, err);
    }
    if (st == MT_OK && !mt__batch_class_lookup(a->name, &a->cls))
        st = mt_error_set(err, MT_ENOTFOUND, "map_batches_actors: no batch class '%s' (register it in the job's code library)",
                          a->name);
    if (st == MT_OK && (st = a->cls.init(args[1].data, args[1].size, &a->state, err)) != MT_OK)
        mt_error_prefix(err, "%s init", a->name);
    json_decref(j);
    if (st != MT_OK) {
        mt_free(a);
        return st;
    }
    mt_actor_set_state(ctx, a);
    return MT_OK;
}

/* args: 0 = {"index"}, 1 = the block. Returns the new block and its rows. */
static mt_status actor_run(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    pool_actor *a = mt_actor_state(ctx);
    if (!a || nargs != 2) return mt_error_set(err, MT_EINVAL, ACTOR ".run: bad call");
    json_t *j = json_loadb(args[0].data, args[0].size, 0, NULL);
    int64_t index = json_integer_value(json_object_get(j, "index"));
    json_decref(j);
    char what[64];
    snprintf(what, sizeof what, "block %lld", (long long)index);
    mt_table *in = NULL, *res = NULL;
    MT_RETURN_NOT_OK(mt__block_decode(args[1].data, args[1].size, NULL, NULL, what, &in, err));
    int64_t bs = a->batch_size == 0 ? 4096 : a->batch_size, rows = in->num_rows;
    int64_t nb = bs < 0 || bs >= rows ? 1 : (rows + bs - 1) / bs;
    if (nb == 1) bs = rows;
    mt_table **parts = mt_calloc((size_t)nb, sizeof *parts);
    mt_status st = parts ? MT_OK : mt_error_set(err, MT_ENOMEM, "%s", what);
    int64_t done = 0;
    for (; st == MT_OK && done < nb; done++) {
        mt_table *batch = NULL;
        st = nb == 1 ? (batch = mt_table_retain(in), MT_OK) : mt_table_slice(in, done * bs, done * bs + bs > rows ? rows - done * bs : bs, &batch, err);
        if (st == MT_OK) st = a->cls.call(a->state, batch, &parts[done], err);
        if (st == MT_OK && !parts[done]) st = mt_error_set(err, MT_EINVAL, "the function returned no table");
        mt_table_release(batch);
        if (st != MT_OK) {
            mt_error_prefix(err, "%s: map_batches_actors(%s): rows %lld..", what, a->name, (long long)(done * bs));
            break;
        }
    }
    for (int64_t i = 1; st == MT_OK && i < nb; i++)
        if (!mt_type_equal(parts[i]->schema, parts[0]->schema))
            st = mt_error_set(err, MT_ETYPE, "%s: map_batches_actors(%s): batches came back with different schemas", what, a->name);
    if (st == MT_OK) st = nb == 1 ? (res = mt_table_retain(parts[0]), MT_OK) : mt_table_concat(parts, (int32_t)nb, &res, err);
    for (int64_t i = 0; parts && i < nb; i++) mt_table_release(parts[i]);
    mt_free(parts);
    mt_table_release(in);
    if (st == MT_OK) st = mt__ds_store_block(ctx, res, err);
    if (st == MT_OK) st = mt_return_i64(ctx, res->num_rows, err);
    mt_table_release(res);
    return st;
}

void mt__actor_pool_register(void)
{
    mt_actor_class_register(ACTOR, actor_init, actor_fini);
    mt_remote_register(ACTOR ".run", actor_run);
}

/* ---- The driver side ------------------------------------------------------------ */

/* ds as stored blocks, one whole block per input (a plan is run; a cut block is copied out). */
static mt_dataset *stored_blocks(mt_dataset *ds, mt_error *err)
{
    mt_dataset *m = mt_materialize(ds);
    for (int pass = 0; pass < 2; pass++) {
        if (mt_dataset_status(m, err) != MT_OK) {
            mt_dataset_release(m);
            return NULL;
        }
        bool whole = true;
        for (int i = 0; i < m->ninputs; i++) whole &= m->inputs[i].kind == MT__DS_IN_BLOCK;
        if (whole) return m;
        mt_dataset *again = mt_materialize(m); /* no limit now: slices become blocks */
        mt_dataset_release(m);
        m = again;
    }
    mt_dataset_release(m);
    mt_error_set(err, MT_EINTERNAL, "map_batches_actors: blocks not stored");
    return NULL;
}

typedef struct call {
    mt_ref *refs[2];
    int actor;
} call;

MT_API mt_dataset *mt_map_batches_actors(mt_dataset *ds, const char *class_name, const mt_actor_pool_options *o)
{
    mt_dataset *bad = mt__ds_check(ds);
    if (bad) return bad;
    if (!class_name || !*class_name || strlen(class_name) >= 128) return mt__ds_fail(MT_EINVAL, "map_batches_actors: bad class name");
    int size = o && o->size > 0 ? o->size : 2;
    double cpus = o && o->num_cpus > 0 ? o->num_cpus : 1;
    if (size > 1024 || (o && o->batch_size < -1)) return mt__ds_fail(MT_EINVAL, "map_batches_actors: bad pool size or batch_size");
    mt_error err;
    json_t *ij = json_pack("{s:s, s:I}", "class", class_name, "batch_size", (json_int_t)(o ? o->batch_size : 0));
    char *init = ij ? mt__ds_json_text(ij) : NULL;
    json_decref(ij);
    mt_actor **actors = mt_calloc((size_t)size, sizeof *actors);
    int *pending = mt_calloc((size_t)size, sizeof *pending);
    int made = 0;
    call *calls = mt_calloc((size_t)ds->ninputs + 1, sizeof *calls);
    mt__ds_block *out = mt_calloc((size_t)ds->ninputs + 1, sizeof *out);
    mt_status st = init && actors && pending && calls && out ? MT_OK : mt_error_set(&err, MT_ENOMEM, "map_batches_actors");
    /* The plan runs first (the pool's actors hold CPUs its read tasks would wait for);
     * the pool then takes its stored blocks as they are. */
    mt_dataset *src = st == MT_OK ? stored_blocks(ds, &err) : NULL;
    if (st == MT_OK && !src) st = err.code;
    mt_resource res = {.name = "CPU", .quantity = cpus};
    for (; st == MT_OK && made < size; made++) {
        mt_arg args[2] = {MT_ARG_STR(init), MT_ARG_BYTES(o ? o->arg : NULL, o ? o->arg_len : 0)};
        mt_actor_options ao = {.resources = &res, .num_resources = 1};
        st = mt_actor_create(ACTOR, args, 2, &ao, &actors[made], &err);
        if (st != MT_OK) break;
    }
    int sent = 0, done = 0, total = src ? src->ninputs : 0;
    while (st == MT_OK && done < total) {
        if (sent < total && sent - done < 2 * size) { /* feed the pool */
            int best = 0;
            for (int i = 1; i < size; i++)
                if (pending[i] < pending[best]) best = i;
            char ix[48];
            snprintf(ix, sizeof ix, "{\"index\":%d}", sent);
            mt_arg args[2] = {MT_ARG_STR(ix), MT_ARG_REF(src->inputs[sent].refs[0])};
            st = mt_actor_call(actors[best], "run", args, 2, 2, calls[sent].refs, &err);
            if (st != MT_OK) break;
            calls[sent].actor = best;
            pending[best]++;
            sent++;
            continue;
        }
        mt_value v; /* the oldest call: its rows */
        st = mt_get(&calls[done].refs[1], 1, -1, &v, &err);
        if (st == MT_OK) {
            st = mt_value_i64(&v, &out[done].rows, &err);
            mt_value_release(&v);
        }
        if (st != MT_OK) break;
        out[done].ref = calls[done].refs[0];
        calls[done].refs[0] = NULL;
        pending[calls[done].actor]--;
        done++;
    }
    mt_dataset_release(src);
    for (int i = 0; calls && i < sent; i++) {
        mt_ref_release(calls[i].refs[0]);
        mt_ref_release(calls[i].refs[1]);
    }
    for (int i = 0; i < made; i++) mt_actor_release(actors[i]);
    mt_dataset *res_ds = st == MT_OK ? mt__ds_over(out, done, NULL, &err) : NULL;
    mt__ds_blocks_free(out, done);
    mt_free(calls);
    mt_free(actors);
    mt_free(pending);
    mt_free(init);
    return res_ds ? res_ds : mt__ds_fail(err.code, err.msg);
}
