/*
 * batch_fn.c — the registry of batch functions (mt_batch_fn_register,
 * MT_BATCH_FN) that map_batches calls by name in workers, and of batch
 * classes (mt_batch_class_register, MT_BATCH_CLASS) that actor pools run.
 *
 * Threads: any; a mutex guards the table. Entries live until exit (a
 * function may run at any time), as permanent allocator blocks: the
 * constructors of a code library register before anything else runs.
 */
#include <pthread.h>
#include <string.h>

#include "core/alloc_int.h"
#include "dataset/ds_int.h"

typedef struct entry {
    char *name;
    mt_batch_fn fn;           /* a batch function, or */
    mt__batch_class cls;      /* a batch class (fn NULL) */
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *tab;
static int n, cap;

static mt_status add(const char *name, mt_batch_fn fn, const mt__batch_class *cls)
{
    pthread_mutex_lock(&lock);
    mt_status st = MT_OK;
    int i = 0;
    while (i < n && strcmp(tab[i].name, name)) i++;
    if (i < n) {
        bool same = fn ? tab[i].fn == fn
                       : !tab[i].fn && tab[i].cls.init == cls->init && tab[i].cls.call == cls->call && tab[i].cls.fini == cls->fini;
        st = same ? MT_OK : MT_EEXIST;
    } else {
        if (n == cap) {
            int c = cap ? cap * 2 : 16;
            entry *t = mt__realloc_permanent(tab, sizeof *t * (size_t)c);
            if (t) tab = t, cap = c;
        }
        char *copy = n < cap ? mt__strdup_permanent(name) : NULL;
        if (copy) tab[n++] = (entry){copy, fn, cls ? *cls : (mt__batch_class){0}};
        else st = MT_ENOMEM;
    }
    pthread_mutex_unlock(&lock);
    return st;
}

MT_API mt_status mt_batch_fn_register(const char *name, mt_batch_fn fn)
{
    if (!name || !*name || !fn) return MT_EINVAL;
    return add(name, fn, NULL);
}

MT_API mt_status mt_batch_class_register(const char *name, mt_batch_init_fn init, mt_batch_call_fn call,
                                         mt_batch_fini_fn fini)
{
    if (!name || !*name || !init || !call) return MT_EINVAL;
    mt__batch_class c = {init, call, fini};
    return add(name, NULL, &c);
}

bool mt__batch_class_lookup(const char *name, mt__batch_class *out)
{
    pthread_mutex_lock(&lock);
    bool found = false;
    for (int i = 0; i < n && !found; i++)
        if (!tab[i].fn && !strcmp(tab[i].name, name)) *out = tab[i].cls, found = true;
    pthread_mutex_unlock(&lock);
    return found;
}

mt_batch_fn mt__batch_fn_lookup(const char *name)
{
    pthread_mutex_lock(&lock);
    mt_batch_fn fn = NULL;
    for (int i = 0; i < n && !fn; i++)
        if (!strcmp(tab[i].name, name)) fn = tab[i].fn;
    pthread_mutex_unlock(&lock);
    return fn;
}
