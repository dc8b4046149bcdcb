/* store.c — TEMPORARY stubs of the object store API (src/store/store.h). */
#include "store/store.h"

mt_status mt_store_create(const mt_store_options *opts, mt_store **out, mt_error *err)
{
    *out = NULL;
    return mt_error_set(err, MT_EUNSUPPORTED, "object store: not implemented yet");
}
void mt_store_destroy(mt_store *s) { (void)s; }
int mt_store_fd(const mt_store *s) { return -1; }
int64_t mt_store_capacity(const mt_store *s) { return 0; }
uint8_t *mt_store_base(const mt_store *s) { return NULL; }
#define STUB return mt_error_set(err, MT_EUNSUPPORTED, "object store: not implemented yet")
mt_status mt_store_object_create(mt_store *s, mt_id id, int64_t size, bool primary,
                                 mt_store_ref *ref, mt_error *err) { STUB; }
mt_status mt_store_object_seal(mt_store *s, mt_id id, mt_error *err) { STUB; }
mt_status mt_store_object_abort(mt_store *s, mt_id id, mt_error *err) { STUB; }
mt_status mt_store_object_get(mt_store *s, mt_id id, mt_store_ref *ref, mt_error *err) { STUB; }
mt_status mt_store_object_release(mt_store *s, mt_id id, mt_error *err) { STUB; }
mt_status mt_store_object_delete(mt_store *s, mt_id id, mt_error *err) { STUB; }
bool mt_store_object_contains(const mt_store *s, mt_id id, bool *sealed_out) { return false; }
void mt_store_get_stats(const mt_store *s, mt_store_stats *out) { *out = (mt_store_stats){0}; }
