/*
 * batch_fn.c — the registry of batch functions (mt_batch_fn_register,
 * MT_BATCH_FN) that map_batches calls by name in workers.
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
    mt_batch_fn fn;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *tab;
static int n, cap;

MT_API mt_status mt_batch_fn_register(const char *name, mt_batch_fn fn)
{
    if (!name || !*name || !fn) return MT_EINVAL;
    pthread_mutex_lock(&lock);
    mt_status st = MT_OK;
    int i = 0;
    while (i < n && strcmp(tab[i].name, name)) i++;
    if (i < n) {
        st = tab[i].fn == fn ? MT_OK : MT_EEXIST;
    } else {
        if (n == cap) {
            int c = cap ? cap * 2 : 16;
            entry *t = mt__realloc_permanent(tab, sizeof *t * (size_t)c);
            if (t) tab = t, cap = c;
        }
        char *copy = n < cap ? mt__strdup_permanent(name) : NULL;
        if (copy) tab[n++] = (entry){copy, fn};
        else st = MT_ENOMEM;
    }
    pthread_mutex_unlock(&lock);
    return st;
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
