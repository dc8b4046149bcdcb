/*
 * loop.c — a uv loop on its own thread (drivers), cross-thread posting via
 * uv_async plus a mutex-guarded queue, and the registry of rpc objects per
 * uv loop so that stopping a loop closes every connection and server on it
 * cleanly (their memory is freed by their own close callbacks).
 *
 * Threads: mt_rpc_loop_post and mt_rpc_loop_stop from any thread except
 * (for stop) the loop thread itself; everything else on the loop thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc_int.h"

typedef struct post_item {
    void (*fn)(void *);
    void *arg;
    struct post_item *next;
} post_item;

struct mt_rpc_loop {
    uv_loop_t loop;
    uv_async_t async;
    uv_thread_t thread;
    pthread_mutex_t mu;
    post_item *head, *tail;
    bool stopping; /* guarded by mu */
    char name[32];
};

/* ---- registry ------------------------------------------------------------- */

struct mt__rpc_obj {
    uv_loop_t *loop;
    void *obj;
    void (*close)(void *);
    struct mt__rpc_obj *next;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static mt__rpc_obj *reg_head;

void mt__rpc_registry_add(uv_loop_t *loop, void *obj, void (*close)(void *))
{
    mt__rpc_obj *o = mt_malloc(sizeof *o);
    if (!o) return; /* then mt_rpc_loop_stop cannot close it; the owner still can */
    o->loop = loop;
    o->obj = obj;
    o->close = close;
    pthread_mutex_lock(&reg_mu);
    o->next = reg_head;
    reg_head = o;
    pthread_mutex_unlock(&reg_mu);
}

void mt__rpc_registry_remove(void *obj)
{
    pthread_mutex_lock(&reg_mu);
    for (mt__rpc_obj **pp = &reg_head; *pp; pp = &(*pp)->next) {
        if ((*pp)->obj == obj) {
            mt__rpc_obj *o = *pp;
            *pp = o->next;
            mt_free(o);
            break;
        }
    }
    pthread_mutex_unlock(&reg_mu);
}

void mt__rpc_registry_close_loop(uv_loop_t *loop)
{
    for (;;) {
        void *obj = NULL;
        void (*fn)(void *) = NULL;
        pthread_mutex_lock(&reg_mu);
        for (mt__rpc_obj *o = reg_head; o; o = o->next) {
            if (o->loop == loop) {
                obj = o->obj;
                fn = o->close;
                break;
            }
        }
        pthread_mutex_unlock(&reg_mu);
        if (!obj) return;
        mt__rpc_registry_remove(obj); /* close() also removes; removing first guarantees progress */
        fn(obj);
    }
}

/* ---- loop thread ------------------------------------------------------------ */

static void run_posts(mt_rpc_loop *l)
{
    pthread_mutex_lock(&l->mu);
    post_item *it = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (it) {
        post_item *next = it->next;
        it->fn(it->arg);
        mt_free(it);
        it = next;
    }
}

static void close_foreign(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void async_cb(uv_async_t *a)
{
    mt_rpc_loop *l = a->data;
    run_posts(l);
    pthread_mutex_lock(&l->mu);
    bool stop = l->stopping;
    pthread_mutex_unlock(&l->mu);
    if (!stop) return;
    mt__rpc_registry_close_loop(&l->loop);
    uv_walk(&l->loop, close_foreign, NULL);
}

static void thread_main(void *arg)
{
    mt_rpc_loop *l = arg;
    uv_run(&l->loop, UV_RUN_DEFAULT);
    run_posts(l); /* posts that raced with the stop */
}

mt_status mt_rpc_loop_start(const char *name, mt_rpc_loop **out, mt_error *err)
{
    *out = NULL;
    mt_rpc_loop *l = mt_calloc(1, sizeof *l);
    if (!l) return mt_error_set(err, MT_ENOMEM, "rpc loop: out of memory");
    snprintf(l->name, sizeof l->name, "%s", name ? name : "rpc");
    int rc = uv_loop_init(&l->loop);
    if (rc != 0) {
        mt_free(l);
        return mt_error_set(err, MT_EIO, "rpc loop %s: %s", l->name, uv_strerror(rc));
    }
    pthread_mutex_init(&l->mu, NULL);
    uv_async_init(&l->loop, &l->async, async_cb);
    l->async.data = l;
    rc = uv_thread_create(&l->thread, thread_main, l);
    if (rc != 0) {
        uv_close((uv_handle_t *)&l->async, NULL);
        uv_run(&l->loop, UV_RUN_DEFAULT);
        uv_loop_close(&l->loop);
        pthread_mutex_destroy(&l->mu);
        mt_free(l);
        return mt_error_set(err, MT_EIO, "rpc loop: starting thread: %s", uv_strerror(rc));
    }
    *out = l;
    return MT_OK;
}

uv_loop_t *mt_rpc_loop_uv(mt_rpc_loop *l) { return &l->loop; }

mt_status mt_rpc_loop_post(mt_rpc_loop *l, void (*fn)(void *), void *arg, mt_error *err)
{
    post_item *it = mt_malloc(sizeof *it);
    if (!it) return mt_error_set(err, MT_ENOMEM, "rpc loop post: out of memory");
    it->fn = fn;
    it->arg = arg;
    it->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->stopping) {
        pthread_mutex_unlock(&l->mu);
        mt_free(it);
        return mt_error_set(err, MT_ESTATE, "rpc loop %s is stopping", l->name);
    }
    bool wake = l->head == NULL;
    if (l->tail) l->tail->next = it;
    else l->head = it;
    l->tail = it;
    pthread_mutex_unlock(&l->mu);
    if (wake) uv_async_send(&l->async);
    return MT_OK;
}

bool mt_rpc_loop_on_thread(const mt_rpc_loop *l)
{
    if (!l) return false;
    uv_thread_t self = uv_thread_self();
    return uv_thread_equal(&self, &l->thread) != 0;
}

void mt_rpc_loop_stop(mt_rpc_loop *l)
{
    if (!l) return;
    if (mt_rpc_loop_on_thread(l)) {
        MT_LOG(MT_LOG_ERROR, "RPC-LOOP", "mt_rpc_loop_stop called on loop %s's own thread", l->name);
        return;
    }
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_mutex_unlock(&l->mu);
    uv_async_send(&l->async);
    uv_thread_join(&l->thread);
    uv_loop_close(&l->loop);
    pthread_mutex_destroy(&l->mu);
    mt_free(l);
}
