/*
 * builder.c — array builders (stub while being written).
 *
 * Threads: any (pure functions over immutable arrays).
 */
#include "data/data_int.h"

#define NI return mt_error_set(err, MT_EUNSUPPORTED, "array builders not implemented yet")
mt_array_builder *mt_array_builder_new(mt_type *type) { return NULL; }
void mt_array_builder_destroy(mt_array_builder *b) {}
mt_status mt_array_builder_reserve(mt_array_builder *b, int64_t n, mt_error *err) { NI; }
mt_status mt_array_builder_append_null(mt_array_builder *b, mt_error *err) { NI; }
mt_status mt_array_builder_append_bool(mt_array_builder *b, bool v, mt_error *err) { NI; }
mt_status mt_array_builder_append_int(mt_array_builder *b, int64_t v, mt_error *err) { NI; }
mt_status mt_array_builder_append_uint(mt_array_builder *b, uint64_t v, mt_error *err) { NI; }
mt_status mt_array_builder_append_double(mt_array_builder *b, double v, mt_error *err) { NI; }
mt_status mt_array_builder_append_bytes(mt_array_builder *b, const void *p, int64_t n, mt_error *err) { NI; }
int64_t mt_array_builder_length(const mt_array_builder *b) { return 0; }
mt_status mt_array_builder_finish(mt_array_builder *b, mt_array **out, mt_error *err) { NI; }
