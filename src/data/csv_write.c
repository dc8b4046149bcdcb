/*
 * csv_write.c — CSV writer. Stub.
 */
#include "manta/data.h"

mt_status mt_csv_write(const char *path, const mt_table *t, const mt_csv_write_options *opts,
                       mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "mt_csv_write: not yet implemented");
}

mt_status mt_csv_write_stream(FILE *out, const mt_table *t, const mt_csv_write_options *opts,
                              mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "mt_csv_write_stream: not yet implemented");
}
