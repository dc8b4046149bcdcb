/* client_map.c — TEMPORARY stubs of the client mapping helpers (store_client.h). */
#include "store/store_client.h"

mt_status mt_store_map_create(int fd, int64_t capacity, int flags, uint8_t **base_out,
                              mt_error *err)
{
    *base_out = NULL;
    return mt_error_set(err, MT_EUNSUPPORTED, "store mapping: not implemented yet");
}
void mt_store_map_destroy(uint8_t *base, int64_t capacity) { (void)base; }
mt_status mt_store_map_file(const char *path, int64_t size, const uint8_t **base_out,
                            mt_error *err)
{
    *base_out = NULL;
    return mt_error_set(err, MT_EUNSUPPORTED, "store mapping: not implemented yet");
}
mt_status mt_store_map_file_rw(const char *path, int64_t size, uint8_t **base_out,
                               mt_error *err)
{
    *base_out = NULL;
    return mt_error_set(err, MT_EUNSUPPORTED, "store mapping: not implemented yet");
}
void mt_store_unmap_file(const void *base, int64_t size) { (void)base; }
