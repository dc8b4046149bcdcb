/*
 * store.c — the object store's public API (store.h): object lifecycle
 * (create → seal → get/release → delete, abort), pins, deferred deletes
 * and stats, on top of the arena, allocator, table, LRU and spill files.
 *
 * Threads: single-threaded; the node daemon's loop thread calls it.
 * Invariants: pins counts the creator's pin (until seal/abort) plus one per
 * get not yet released; a deleted entry stays in the table (invisible to
 * get/contains) only while pinned, and is freed by its last release.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

#define MAX_CAPACITY ((int64_t)1 << 46)

static mt_status not_found(mt_id id, mt_error *err)
{
    char hex[2 * MT_ID_SIZE + 1];
    mt_id_hex(id, hex);
    return mt_error_set(err, MT_ENOTFOUND, "object %s: not found", hex);
}

static mt_status obj_error(mt_id id, mt_status code, const char *what, mt_error *err)
{
    char hex[2 * MT_ID_SIZE + 1];
    mt_id_hex(id, hex);
    return mt_error_set(err, code, "object %s: %s", hex, what);
}

static mt_status store_init(mt_store *s, const mt_store_options *o, mt_error *err)
{
    if (o->spill_dir) {
        if (mkdir(o->spill_dir, 0700) != 0 && errno != EEXIST)
            return mt_error_set_errno(err, MT_EIO, errno, "object store: creating spill dir %s",
                                      o->spill_dir);
        s->spill_dir = mt_strdup(o->spill_dir);
        if (!s->spill_dir) return mt_error_set(err, MT_ENOMEM, "object store: options");
    }
    MT_RETURN_NOT_OK(mt__store_arena_open(o->name, s->capacity, &s->fd, &s->base, err));
    MT_RETURN_NOT_OK(mt__store_alloc_init(&s->alloc, s->capacity, err));
    return mt__store_table_init(&s->table, err);
}

mt_status mt_store_create(const mt_store_options *opts, mt_store **out, mt_error *err)
{
    static const mt_store_options defaults = {0};
    const mt_store_options *o = opts ? opts : &defaults;
    *out = NULL;
    if (o->capacity < 0 || o->capacity > MAX_CAPACITY || o->max_object_bytes < 0)
        return mt_error_set(err, MT_EINVAL, "object store: capacity %lld or max_object_bytes %lld "
                            "out of range", (long long)o->capacity, (long long)o->max_object_bytes);
    mt_store *s = mt_calloc(1, sizeof(*s));
    if (!s) return mt_error_set(err, MT_ENOMEM, "object store: allocating the store");
    s->fd = -1;
    int64_t cap = o->capacity ? o->capacity : mt__store_default_capacity();
    s->capacity = (cap + MT__STORE_ALIGN - 1) / MT__STORE_ALIGN * MT__STORE_ALIGN;
    s->max_object_bytes = o->max_object_bytes;
    s->spill_async = o->spill_async;
    mt__store_pool_init(&s->entries, sizeof(mt__store_entry));
    mt_status st = store_init(s, o, err);
    if (st != MT_OK) {
        mt_store_destroy(s);
        return st;
    }
    *out = s;
    return MT_OK;
}

void mt_store_destroy(mt_store *s)
{
    if (!s) return;
    if (s->table.slots) {
        for (uint64_t i = 0; i <= s->table.mask; i++)
            if (s->table.slots[i]) mt__store_disk_remove(s->table.slots[i]);
    }
    mt__store_table_fini(&s->table);
    mt__store_alloc_fini(&s->alloc);
    mt__store_pool_fini(&s->entries);
    mt__store_arena_close(s->fd, s->base, s->capacity);
    mt_free(s->spill_dir);
    mt_free(s);
}

int mt_store_fd(const mt_store *s) { return s->fd; }
int64_t mt_store_capacity(const mt_store *s) { return s->capacity; }
uint8_t *mt_store_base(const mt_store *s) { return s->base; }

/* Frees everything an entry owns and forgets it. */
static void entry_destroy(mt_store *s, mt__store_entry *e)
{
    mt_id *contained = e->contained;
    int32_t ncontained = e->ncontained;
    e->contained = NULL;
    e->ncontained = 0;
    mt__store_lru_remove(e);
    mt__store_free_block(s, e);
    mt__store_disk_remove(e);
    if (e->deleted) s->num_deleted--;
    mt__store_table_remove(&s->table, e);
    mt__store_pool_put(&s->entries, e);
    /* The objects it held go too when this was their last pin. */
    for (int32_t k = 0; k < ncontained; k++) {
        mt__store_entry *c = mt__store_table_find(&s->table, contained[k]);
        if (c && c->pins > 0) {
            c->held--;
            mt__store_unpin(s, c);
        }
    }
    mt_free(contained);
}

static void fill_ref(const mt__store_entry *e, mt_store_ref *ref)
{
    if (!ref) return;
    ref->where = e->on_disk ? MT_STORE_ON_DISK : MT_STORE_IN_ARENA;
    ref->offset = e->block ? e->block->off : 0;
    ref->size = e->size;
    ref->path = e->on_disk ? e->path : NULL;
}

static mt_status no_room(mt_store *s, int64_t size, mt_error *err)
{
    if (size > s->capacity)
        return mt_error_set(err, MT_ENOMEM, "object of %lld bytes does not fit: store holds %lld "
                            "bytes and spilling is off", (long long)size, (long long)s->capacity);
    return mt_error_set(err, MT_ENOMEM, "object of %lld bytes does not fit: %lld of %lld bytes in "
                        "use (largest free block %lld bytes) and spilling is off", (long long)size,
                        (long long)s->alloc.used, (long long)s->capacity,
                        (long long)mt__store_alloc_largest_free(&s->alloc));
}

/* Gives `e` its bytes: an arena block (evicting/spilling as needed), else a
 * spill file — or, when background spills could make room and the caller
 * may wait, nothing (*wait_out). */
static mt_status place_new(mt_store *s, mt__store_entry *e, bool *wait_out, mt_error *err)
{
    if (e->size == 0) return MT_OK;
    mt_status st = mt__store_make_room(s, e->size, &e->block, wait_out, err);
    if (st == MT_OK && !e->block && wait_out && *wait_out) return MT_OK;
    if (st == MT_OK && !e->block) {
        if (!s->spill_dir) return no_room(s, e->size, err);
        st = mt__store_disk_create(s, e, err);
    }
    if (st != MT_OK) {
        mt_error_prefix(err, "object of %lld bytes does not fit in the store (%lld bytes) and "
                        "spilling failed", (long long)e->size, (long long)s->capacity);
        /* A full spill disk stays MT_ENOSPC so callers can tell it from memory pressure. */
        mt_status code = st == MT_ENOSPC ? MT_ENOSPC : MT_ENOMEM;
        if (err) err->code = code;
        return code;
    }
    return MT_OK;
}

mt_status mt_store_object_create(mt_store *s, mt_id id, int64_t size, bool primary,
                                 mt_store_ref *ref, mt_error *err)
{
    return mt_store_object_create_ex(s, id, size, primary, NULL, ref, err);
}

mt_status mt_store_object_create_ex(mt_store *s, mt_id id, int64_t size, bool primary, bool *wait_out,
                                    mt_store_ref *ref, mt_error *err)
{
    if (wait_out) *wait_out = false;
    if (size < 0 || (s->max_object_bytes > 0 && size > s->max_object_bytes)) {
        char hex[2 * MT_ID_SIZE + 1];
        mt_id_hex(id, hex);
        return mt_error_set(err, MT_EINVAL, "object %s: size %lld is out of range (max_object_bytes "
                            "%lld)", hex, (long long)size, (long long)s->max_object_bytes);
    }
    mt__store_entry *old = mt__store_table_find(&s->table, id);
    if (old) return obj_error(id, MT_EEXIST, old->deleted ? "already exists (deleted, still pinned)"
                                                          : "already exists", err);
    mt__store_entry *e = mt__store_pool_get(&s->entries);
    if (!e) return mt_error_set(err, MT_ENOMEM, "object store: allocating an entry");
    *e = (mt__store_entry){.id = id, .size = size, .pins = 1, .primary = primary, .disk_fd = -1};
    mt_status st = place_new(s, e, wait_out, err);
    if (st == MT_OK && wait_out && *wait_out) {
        mt__store_pool_put(&s->entries, e); /* nothing created: try again after the spills */
        return MT_OK;
    }
    if (st == MT_OK) st = mt__store_table_insert(&s->table, e, err);
    if (st != MT_OK) {
        mt__store_free_block(s, e);
        mt__store_disk_remove(e);
        mt__store_pool_put(&s->entries, e);
        return st;
    }
    s->num_pinned++;
    fill_ref(e, ref);
    return MT_OK;
}

/* Drops one pin; the last one frees a deleted object or makes it evictable. */
void mt__store_unpin(mt_store *s, mt__store_entry *e)
{
    if (--e->pins > 0) return;
    s->num_pinned--;
    if (e->deleted) entry_destroy(s, e);
    else mt__store_lru_update(s, e);
}

mt_status mt_store_object_seal(mt_store *s, mt_id id, mt_error *err)
{
    mt__store_entry *e = mt__store_table_find(&s->table, id);
    if (!e) return not_found(id, err);
    if (e->sealed) return obj_error(id, MT_ESTATE, "already sealed", err);
    if (e->disk_fd >= 0) {
        close(e->disk_fd);
        e->disk_fd = -1;
    }
    e->sealed = true;
    mt__store_unpin(s, e);
    return MT_OK;
}

mt_status mt_store_object_abort(mt_store *s, mt_id id, mt_error *err)
{
    mt__store_entry *e = mt__store_table_find(&s->table, id);
    if (!e) return not_found(id, err);
    if (e->sealed) return obj_error(id, MT_ESTATE, "already sealed, cannot abort", err);
    if (e->pins > 0) s->num_pinned--;
    entry_destroy(s, e);
    return MT_OK;
}

/* Brings an unpinned ON_DISK object back into the arena when room can be made. */
static mt_status try_restore(mt_store *s, mt__store_entry *e, mt_error *err)
{
    mt__store_block *b = NULL;
    mt_error ignored;
    if (mt__store_make_room(s, e->size, &b, NULL, &ignored) != MT_OK || !b) return MT_OK;
    mt_status st = mt__store_restore(s, e, b, err);
    if (st != MT_OK) mt__store_alloc_put(&s->alloc, b);
    return st;
}

mt_status mt_store_object_get(mt_store *s, mt_id id, mt_store_ref *ref, mt_error *err)
{
    mt__store_entry *e = mt__store_table_find(&s->table, id);
    /* Deleted by its owner but held by an object that contains it: still readable. */
    if (!e || (e->deleted && e->held == 0)) return not_found(id, err);
    if (!e->sealed) return obj_error(id, MT_ESTATE, "not sealed yet", err);
    /* A spill file removed behind the store's back (a temp cleaner, a lost
     * disk): the object is lost; its owner may rebuild it (lineage). */
    if (e->on_disk && e->pins == 0 && access(e->path, F_OK) != 0 && errno == ENOENT) {
        char hex[2 * MT_ID_SIZE + 1];
        mt_id_hex(id, hex);
        mt_error_set(err, MT_ENOTFOUND, "object %s was lost: its spill file is gone", hex);
        entry_destroy(s, e);
        return MT_ENOTFOUND;
    }
    /* A pinned ON_DISK object may be mapped by a reader: its file must stay.
     * With background spilling nothing is read back on the caller's thread:
     * readers map the spill file (the page cache does the I/O in the reader). */
    if (e->on_disk && e->pins == 0 && !s->spill_async) MT_RETURN_NOT_OK(try_restore(s, e, err));
    if (e->pins++ == 0) {
        s->num_pinned++;
        mt__store_lru_remove(e);
    }
    fill_ref(e, ref);
    return MT_OK;
}

mt_status mt_store_object_get_pinned(mt_store *s, mt_id id, mt_store_ref *ref, mt_error *err)
{
    mt__store_entry *e = mt__store_table_find(&s->table, id);
    if (!e || !e->sealed || e->pins == 0) return not_found(id, err);
    e->pins++;
    fill_ref(e, ref);
    return MT_OK;
}

mt_status mt_store_object_release(mt_store *s, mt_id id, mt_error *err)
{
    mt__store_entry *e = mt__store_table_find(&s->table, id);
    if (!e) return not_found(id, err);
    if (!e->sealed || e->pins == 0) return obj_error(id, MT_ESTATE, "not pinned", err);
    mt__store_unpin(s, e);
    return MT_OK;
}

mt_status mt_store_object_delete(mt_store *s, mt_id id, mt_error *err)
{
    mt__store_entry *e = mt__store_table_find(&s->table, id);
    if (!e || e->deleted) return not_found(id, err);
    if (e->pins == 0) {
        entry_destroy(s, e);
        return MT_OK;
    }
    e->deleted = true;
    s->num_deleted++;
    return MT_OK;
}

mt_status mt_store_object_set_contained(mt_store *s, mt_id id, const mt_id *ids, int n, mt_error *err)
{
    mt__store_entry *e = mt__store_table_find(&s->table, id);
    if (!e || e->deleted) return not_found(id, err);
    if (e->sealed || e->contained) return obj_error(id, MT_ESTATE, "contained objects are set once, before seal", err);
    if (n <= 0) return MT_OK;
    for (int k = 0; k < n; k++) {
        mt__store_entry *c = mt__store_table_find(&s->table, ids[k]);
        /* Deleted but pinned still counts (a borrower keeps it readable), and
         * so does one whose seal is still on its way on another connection. */
        if (!c || (c->deleted && c->pins == 0) || c == e) {
            char hex[2 * MT_ID_SIZE + 1], inner[2 * MT_ID_SIZE + 1];
            mt_id_hex(id, hex);
            mt_id_hex(ids[k], inner);
            return mt_error_set(err, MT_ENOTFOUND, "object %s: contained object %s %s", hex, inner,
                                c == e ? "is itself" : "is not in the store");
        }
    }
    e->contained = mt_malloc((size_t)n * sizeof *e->contained);
    if (!e->contained) return mt_error_set(err, MT_ENOMEM, "object store: contained ids");
    memcpy(e->contained, ids, (size_t)n * sizeof *ids);
    e->ncontained = n;
    for (int k = 0; k < n; k++) {
        mt__store_entry *c = mt__store_table_find(&s->table, ids[k]);
        c->held++;
        if (c->pins++ == 0) {
            s->num_pinned++;
            mt__store_lru_remove(c);
        }
    }
    return MT_OK;
}

bool mt_store_object_contains(const mt_store *s, mt_id id, bool *sealed_out)
{
    const mt__store_entry *e = mt__store_table_find(&s->table, id);
    bool found = e && !e->deleted;
    if (sealed_out) *sealed_out = found && e->sealed;
    return found;
}

mt_status mt_store_object_set_owner(mt_store *s, mt_id id, mt_id owner, mt_id creator, mt_error *err)
{
    mt__store_entry *e = mt__store_table_find(&s->table, id);
    if (!e || e->deleted) return not_found(id, err);
    e->owner = owner;
    e->creator = creator;
    return MT_OK;
}

bool mt_store_object_owner(const mt_store *s, mt_id id, mt_id *owner, mt_id *creator)
{
    const mt__store_entry *e = mt__store_table_find(&s->table, id);
    if (!e || e->deleted) return false;
    *owner = e->owner;
    *creator = e->creator;
    return true;
}

int64_t mt_store_list(const mt_store *s, bool (*fn)(const mt_store_object_info *, void *), void *ud)
{
    int64_t n = 0;
    for (uint64_t i = 0; i <= s->table.mask; i++) {
        const mt__store_entry *e = s->table.slots[i];
        if (!e || e->deleted) continue;
        mt_store_object_info info = {.id = e->id, .owner = e->owner, .size = e->size, .pins = e->pins,
                                     .sealed = e->sealed, .primary = e->primary, .on_disk = e->on_disk};
        n++;
        if (!fn(&info, ud)) break;
    }
    return n;
}

int64_t mt_store_delete_owned_by(mt_store *s, mt_id owner)
{
    if (mt_id_is_nil(owner)) return 0;
    /* Collect first: deleting moves entries around in the table being walked. */
    int64_t n = 0, cap = 0;
    mt_id *ids = NULL;
    for (uint64_t i = 0; i <= s->table.mask; i++) {
        mt__store_entry *e = s->table.slots[i];
        if (!e || e->deleted || !mt_id_equal(e->owner, owner)) continue;
        if (n == cap) {
            int64_t nc = cap ? cap * 2 : 64;
            mt_id *grown = mt_realloc(ids, (size_t)nc * sizeof *ids);
            if (!grown) break; /* out of memory: delete what was collected */
            ids = grown;
            cap = nc;
        }
        ids[n++] = e->id;
    }
    int64_t done = 0;
    for (int64_t i = 0; i < n; i++)
        if (mt_store_object_delete(s, ids[i], NULL) == MT_OK) done++;
    mt_free(ids);
    return done;
}

void mt_store_get_stats(const mt_store *s, mt_store_stats *out)
{
    *out = s->stats;
    out->capacity = s->capacity;
    out->used = s->alloc.used;
    out->num_objects = s->table.count - s->num_deleted;
    out->num_pinned = s->num_pinned;
}

void mt_store_get_alloc_stats(const mt_store *s, mt_store_alloc_stats *out)
{
    out->free_bytes = s->capacity - s->alloc.used;
    out->largest_free_block = mt__store_alloc_largest_free(&s->alloc);
    out->free_blocks = s->alloc.free_blocks;
    out->evictable_bytes = s->secondary.bytes;
    out->spillable_bytes = s->primary.bytes;
}

static void punch(void *ctx, int64_t off, int64_t size)
{
    mt_store *s = ctx;
    mt__store_arena_punch(s->fd, s->base, off, size);
}

int64_t mt_store_trim(mt_store *s, int64_t min_block_bytes)
{
    return mt__store_alloc_trim(&s->alloc, min_block_bytes, punch, s);
}
