/*
 * registry.c — the process-wide registry of remote functions and actor
 * classes (filled by MT_REMOTE / MT_ACTOR_CLASS constructors, dlopen'ed code
 * paths and the built-ins), and task/return id derivation (per-process
 * random key + mixed counter).
 *
 * Threads: any; a mutex guards the tables. Invariant: names are unique;
 * entries live until process exit (functions may be called at any time),
 * so the tables are the allocator's permanent blocks: registrations happen
 * in constructors before main and must not show up as live allocations in
 * leak accounting.
 */
#include <pthread.h>
#include <string.h>

#include "core/alloc_int.h"
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

/* Doubles a permanent table (first size `first`); false (table unchanged) when out of memory. */
static bool grow(void **tab, int *cap, int first, size_t elem)
{
    int n = *cap ? *cap * 2 : first;
    void *t = mt__realloc_permanent(*tab, elem * (size_t)n);
    if (!t) return false;
    *tab = t;
    *cap = n;
    return true;
}

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
    } else if (nfns == capfns && !grow((void **)&fns, &capfns, 32, sizeof *fns)) {
        st = MT_ENOMEM;
    } else {
        fns[nfns].name = mt__strdup_permanent(name);
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
            if (nclasses == capclasses && !grow((void **)&classes, &capclasses, 8, sizeof *classes))
                st = MT_ENOMEM;
            else if (!(classes[nclasses].name = mt__strdup_permanent(class_name)))
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

/*
 * Task ids without a getrandom call per task: bytes 0-7 are a bijective mix
 * of a per-process counter (well spread: readers hash the first 8 bytes),
 * bytes 8-15 a random per-process key (drawn again in a forked child),
 * bytes 16-19 zero (return indexes go there).
 */
static uint64_t id_key;
static uint64_t id_counter;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void id_reseed(void)
{
    mt_id r = mt_id_random();
    memcpy(&id_key, r.bytes, sizeof id_key);
    memcpy(&id_counter, r.bytes + 8, sizeof id_counter);
}

static void id_init(void)
{
    id_reseed();
    pthread_atfork(NULL, NULL, id_reseed);
}

static uint64_t mix64(uint64_t z) /* splitmix64's finaliser: a bijection */
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

mt_id mt__task_id_new(void)
{
    pthread_once(&id_once, id_init);
    mt_id id;
    uint64_t h = mix64(__atomic_add_fetch(&id_counter, 1, __ATOMIC_RELAXED));
    memcpy(id.bytes, &h, 8);
    memcpy(id.bytes + 8, &id_key, 8);
    memset(id.bytes + 16, 0, 4);
    return id;
}
