/*
 * groupby.c — groupby mean (stub while being written).
 *
 * Threads: any (pure functions over immutable arrays).
 */
#include "data/data_int.h"

mt_status mt_table_groupby_mean(mt_table *t, const char *key, const char *value, mt_table **out,
                                mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "groupby mean not implemented yet");
}
