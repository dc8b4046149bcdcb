/*
 * csv_read.c — CSV reader. Stub.
 */
#include "manta/data.h"

mt_status mt_csv_read(const char *path, const mt_csv_read_options *opts, mt_table **out,
                      mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "mt_csv_read: not yet implemented");
}

mt_status mt_csv_read_memory(const char *name, const char *data, size_t len,
                             const mt_csv_read_options *opts, mt_table **out, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "mt_csv_read_memory: not yet implemented");
}
