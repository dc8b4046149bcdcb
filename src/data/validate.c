/*
 * validate.c — structural validation of arrays (stub while being written).
 *
 * Threads: any (pure functions over immutable arrays).
 */
#include "data/data_int.h"

mt_status mt_array_validate(const mt_array *a, mt_error *err) { return MT_OK; }
