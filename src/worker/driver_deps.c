/*
 * driver_deps.c — dependencies of submitted tasks. A task (or actor call)
 * holds a reference to every ref among its arguments until it is done, so
 * releasing a ref right after submitting never loses the task's input. A
 * submit whose ref arguments are still pending returns at once: the task
 * waits here, with its arguments copied, and the pump releases it when the
 * last one resolves (encoding its spec then) or fails it with the first
 * failed argument's error. Calls on one actor keep their order: a call
 * waits behind an earlier waiting call on the same actor.
 *
 * Threads: under mt__drv.lock. Invariant: a waiting task is on
 * mt__drv.waiting only; its deps are retained; t->actor (if any) is retained.
 */
#include <stdio.h>
#include <string.h>

#include "proto/worker.pb-c.h"
#include "worker/worker_int.h"

mt_status mt__task_take_deps(mt__task *t, const mt_arg *args, int nargs, bool *pending, mt_error *err)
{
    *pending = false;
    int n = 0;
    for (int i = 0; i < nargs; i++)
        if (args[i].ref) n++;
    if (!n) return MT_OK;
    t->deps = mt_malloc(sizeof *t->deps * (size_t)n);
    if (!t->deps) return mt_error_set(err, MT_ENOMEM, "task arguments");
    for (int i = 0; i < nargs; i++) {
        mt_ref *r = args[i].ref;
        if (!r) continue;
        r->rc++;
        t->deps[t->ndeps++] = r;
        if (r->state == MT__OBJ_PENDING) *pending = true;
    }
    return MT_OK;
}

mt_status mt__task_park(mt__task *t, int kind, const char *spec_fn, const mt_arg *args, int nargs, mt_error *err)
{
    /* One block: the argument array, then the bytes of inline arguments (the
     * caller's buffers may be gone by the time the task is sent). */
    size_t bytes = 0;
    for (int i = 0; i < nargs; i++)
        if (!args[i].ref) bytes += args[i].size;
    t->wargs = mt_malloc(sizeof *t->wargs * (size_t)(nargs ? nargs : 1) + bytes);
    t->spec_fn = mt_strdup(spec_fn);
    if (!t->wargs || !t->spec_fn) return mt_error_set(err, MT_ENOMEM, "task arguments");
    uint8_t *p = (uint8_t *)(t->wargs + (nargs ? nargs : 1));
    for (int i = 0; i < nargs; i++) {
        t->wargs[i] = args[i];
        if (args[i].ref || !args[i].size) continue;
        memcpy(p, args[i].data, args[i].size);
        t->wargs[i].data = p;
        p += args[i].size;
    }
    t->nwargs = nargs;
    t->kind = kind;
    mt__tev_state(t, MANTA__TASK_STATE__TASK_PENDING_ARGS_AVAIL);
    if (t->actor) {
        t->actor->rc++;
        t->actor->nwaiting++;
    }
    t->next = NULL;
    if (mt__drv.waiting_tail) mt__drv.waiting_tail->next = t;
    else mt__drv.waiting = t;
    mt__drv.waiting_tail = t;
    mt__drv.nwaiting++;
    mt__drv_bg_kick(); /* its inputs may finish while the application is elsewhere */
    return MT_OK;
}

void mt__task_wait_again(mt__task *t)
{
    t->next = NULL;
    if (mt__drv.waiting_tail) mt__drv.waiting_tail->next = t;
    else mt__drv.waiting = t;
    mt__drv.waiting_tail = t;
    mt__drv.nwaiting++;
    mt__drv.deps_changed = true;
    mt__drv_bg_kick();
}

static bool deps_ready(const mt__task *t)
{
    if (t->actor && t->kind != MANTA__TASK_KIND__TASK_ACTOR_CREATE && t->actor->starting) return false;
    for (int i = 0; i < t->ndeps; i++)
        if (t->deps[i]->state == MT__OBJ_PENDING) return false;
    return true;
}

/* Sends (or fails) a task taken off the waiting list. */
static void release(mt__task *t)
{
    mt_actor *a = t->actor;
    mt_ref *dep = NULL;
    mt_error err;
    if (t->spec) { /* waited again for a rebuilt argument (mt__task_wait_again): its spec stands */
        for (int i = 0; i < t->ndeps && !dep; i++)
            if (t->deps[i]->state == MT__OBJ_FAILED) dep = t->deps[i];
        if (dep) mt__task_fail(t, dep->code, dep->msg);
        else mt__task_enqueue(t);
        return;
    }
    mt_status st = mt__encode_spec(t->spec_fn, (Manta__TaskKind)t->kind, t->task_id, a ? a->actor_id : mt_id_nil(),
                                   t->wargs, t->nwargs, t->nrets, t->seq, &t->spec, &t->spec_len, &dep, &err);
    mt_free(t->wargs);
    t->wargs = NULL;
    t->nwargs = 0;
    if (a) a->nwaiting--;
    bool ctor = t->kind == MANTA__TASK_KIND__TASK_ACTOR_CREATE;
    if (st != MT_OK || dep) {
        mt_status code = st != MT_OK ? st : dep->code;
        const char *why = st != MT_OK ? err.msg : dep->msg;
        if (ctor) { /* the actor will never start: its waiting calls fail with this */
            char msg[MT_ERROR_MSG_MAX];
            snprintf(msg, sizeof msg, "actor %.100s: constructor argument failed: %.300s", t->fn_name, why);
            mt__actor_fail_start(a, code, msg);
        }
        mt__task_fail(t, code, why);
    }
    else if (ctor) mt__actor_ctor_ready(t);
    else if (a) mt__actor_send(t, false);
    else mt__task_enqueue(t);
    if (a) mt__actor_unref(a); /* the waiting list's hold */
}

void mt__drv_release_waiting(void)
{
    mt__driver *d = &mt__drv;
    if (!d->waiting || !d->deps_changed) return;
    d->deps_changed = false;
    /* Actors with an earlier call still waiting: their later calls stay (order). */
    mt_actor *blocked[32];
    int nblocked = 0;
    bool overflow = false;
    mt__task *prev = NULL, *ready = NULL, **ready_tail = &ready;
    for (mt__task *t = d->waiting, *next; t; t = next) {
        next = t->next;
        bool held = false;
        if (t->actor) {
            for (int i = 0; i < nblocked && !held; i++) held = blocked[i] == t->actor;
            held = held || overflow;
        }
        if (held || !deps_ready(t)) {
            if (t->actor && !held) {
                if (nblocked < 32) blocked[nblocked++] = t->actor;
                else overflow = true;
            }
            prev = t;
            continue;
        }
        if (prev) prev->next = next;
        else d->waiting = next;
        if (d->waiting_tail == t) d->waiting_tail = prev;
        d->nwaiting--;
        t->next = NULL;
        *ready_tail = t; /* released after the walk: sending may complete tasks */
        ready_tail = &t->next;
    }
    for (mt__task *t = ready, *next; t; t = next) {
        next = t->next;
        t->next = NULL;
        release(t);
    }
}

void mt__drv_waiting_fail(mt_status code, const char *msg)
{
    mt__driver *d = &mt__drv;
    while (d->waiting) {
        mt__task *t = d->waiting;
        d->waiting = t->next;
        mt_actor *a = t->actor;
        if (a) a->nwaiting--;
        mt__task_fail(t, code, msg);
        if (a) mt__actor_unref(a);
    }
    d->waiting_tail = NULL;
    d->nwaiting = 0;
}

bool mt__drv_waiting_cancel(mt_ref *ref)
{
    mt__driver *d = &mt__drv;
    for (mt__task *t = d->waiting, *prev = NULL; t; prev = t, t = t->next) {
        bool mine = false;
        for (int i = 0; i < t->nrets && !mine; i++) mine = t->rets[i] == ref;
        if (!mine) continue;
        if (prev) prev->next = t->next;
        else d->waiting = t->next;
        if (d->waiting_tail == t) d->waiting_tail = prev;
        d->nwaiting--;
        mt_actor *a = t->actor;
        if (a) a->nwaiting--;
        char msg[300];
        snprintf(msg, sizeof msg, "task %.200s was cancelled", t->fn_name);
        mt__task_fail(t, MT_ECANCELLED, msg);
        if (a) mt__actor_unref(a);
        return true;
    }
    return false;
}
