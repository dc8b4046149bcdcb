/*
 * concat.c — array concatenation (stub while being written).
 *
 * Threads: any (pure functions over immutable arrays).
 */
#include "data/data_int.h"

mt_status mt_array_concat(mt_array *const *arrays, int32_t n, mt_array **out, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "mt_array_concat not implemented yet");
}
