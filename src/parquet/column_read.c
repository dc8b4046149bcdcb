/*
 * column_read.c — reads one leaf column chunk (stub).
 */
#include "parquet/pq_value.h"

mt_status pq_read_field(const pq_schema *s, const pq_file_meta *m, int32_t rg, int32_t field,
                        const uint8_t *file, size_t file_len, bool verify_crc, const char *path,
                        mt_array **out, mt_error *err)
{
    *out = NULL;
    return mt_error_set(err, MT_EUNSUPPORTED, "%s: reading parquet values not implemented yet", path);
}
