/* meta_print.c — `manta data meta` output (stub). */
#include "parquet/pq_int.h"

mt_status mt_parquet_reader_print_meta(mt_parquet_reader *r, FILE *out, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "print_meta not implemented yet");
}
