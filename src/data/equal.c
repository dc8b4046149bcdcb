/*
 * equal.c — logical array equality (stub while being written).
 *
 * Threads: any (pure functions over immutable arrays).
 */
#include "data/data_int.h"

bool mt_array_equal(const mt_array *a, const mt_array *b) { return a == b; }
