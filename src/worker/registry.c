/*
 * registry.c — the process-wide registry of remote functions and actor
 * classes (filled by MT_REMOTE / MT_ACTOR_CLASS constructors, dlopen'ed code
 * paths and the built-ins), and task/return id derivation.
 *
 * Threads: any; a mutex guards the tables. Invariant: names are unique;
 * entries live until process exit (functions may be called at any time),
 * so the tables use the libc heap: registrations happen in constructors
 * before main and must not show up as live allocations in leak accounting.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "worker/worker_int.h"

typedef struct fn_entry {
    char *name;
    mt_remote_fn fn;
} fn_entry;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;
static fn_entry *fns;
static int nfns, capfns;
static mt__actor_class *classes;
static int nclasses, capclasses;

static void load_builtins(void) { mt__builtins_register(); }

static fn_entry *find_fn(const char *name)
{
    for (int i = 0; i < nfns; i++)
        if (!strcmp(fns[i].name, name)) return &fns[i];
    return NULL;
}

MT_API mt_status mt_remote_register(const char *name, mt_remote_fn fn)
{
    if (!name || !*name || !fn) return MT_EINVAL;
    pthread_mutex_lock(&reg_lock);
    mt_status st = MT_OK;
    fn_entry *e = find_fn(name);
    if (e) {
        st = e->fn == fn ? MT_OK : MT_EEXIST;
    } else if (nfns == capfns && !(fns = realloc(fns, sizeof *fns * (size_t)(capfns = capfns ? capfns * 2 : 32)))) {
        st = MT_ENOMEM;
    } else {
        fns[nfns].name = strdup(name); /* lives until exit, outside the accounted heap */
        fns[nfns].fn = fn;
        if (fns[nfns].name) nfns++;
        else st = MT_ENOMEM;
    }
    pthread_mutex_unlock(&reg_lock);
    return st;
}

MT_API mt_remote_fn mt_remote_lookup(const char *name)
{
    pthread_once(&builtins_once, load_builtins);
    pthread_mutex_lock(&reg_lock);
    fn_entry *e = find_fn(name);
    mt_remote_fn fn = e ? e->fn : NULL;
    pthread_mutex_unlock(&reg_lock);
    return fn;
}

MT_API mt_status mt_actor_class_register(const char *class_name, mt_remote_fn init,
                                         mt_actor_fini_fn fini)
{
    if (!class_name || !*class_name || !init) return MT_EINVAL;
    pthread_mutex_lock(&reg_lock);
    mt_status st = MT_OK;
    for (int i = 0; i < nclasses; i++)
        if (!strcmp(classes[i].name, class_name)) st = classes[i].init == init ? MT_OK : MT_EEXIST;
    if (st == MT_OK) {
        bool dup = false;
        for (int i = 0; i < nclasses; i++) dup |= !strcmp(classes[i].name, class_name);
        if (!dup) {
            if (nclasses == capclasses &&
                !(classes = realloc(classes, sizeof *classes * (size_t)(capclasses = capclasses ? capclasses * 2 : 8))))
                st = MT_ENOMEM;
            else if (!(classes[nclasses].name = strdup(class_name)))
                st = MT_ENOMEM;
            else {
                classes[nclasses].init = init;
                classes[nclasses++].fini = fini;
            }
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return st;
}

const mt__actor_class *mt__actor_class_lookup(const char *name)
{
    pthread_once(&builtins_once, load_builtins);
    pthread_mutex_lock(&reg_lock);
    const mt__actor_class *c = NULL;
    for (int i = 0; i < nclasses; i++)
        if (!strcmp(classes[i].name, name)) c = &classes[i];
    pthread_mutex_unlock(&reg_lock);
    return c;
}

mt_id mt__task_return_id(mt_id task_id, uint32_t i)
{
    mt_id id = task_id;
    uint32_t v = i + 1;
    memcpy(id.bytes + MT_ID_SIZE - 4, &v, 4);
    return id;
}

mt_id mt__task_id_new(void)
{
    mt_id id = mt_id_random();
    memset(id.bytes + MT_ID_SIZE - 4, 0, 4);
    return id;
}
