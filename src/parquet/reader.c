/* reader.c — Parquet reader API (stub). */
#include "parquet/pq_int.h"

mt_status mt_parquet_reader_open(const char *path, const mt_parquet_read_options *opts,
                                 mt_parquet_reader **out, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "%s: Parquet reader not implemented yet", path);
}
mt_status mt_parquet_reader_open_memory(const char *name, const uint8_t *data, size_t len,
                                        const mt_parquet_read_options *opts,
                                        mt_parquet_reader **out, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "%s: Parquet reader not implemented yet", name);
}
void mt_parquet_reader_destroy(mt_parquet_reader *r) { (void)r; }
const mt_type *mt_parquet_reader_schema(const mt_parquet_reader *r) { return NULL; }
int64_t mt_parquet_reader_num_rows(const mt_parquet_reader *r) { return 0; }
int32_t mt_parquet_reader_num_row_groups(const mt_parquet_reader *r) { return 0; }
int64_t mt_parquet_reader_row_group_num_rows(const mt_parquet_reader *r, int32_t rg) { return 0; }
mt_status mt_parquet_reader_read_row_group(mt_parquet_reader *r, int32_t rg, mt_table **out,
                                           mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "Parquet reader not implemented yet");
}
mt_status mt_parquet_read_table(const char *path, const mt_parquet_read_options *opts,
                                mt_table **out, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "%s: Parquet reader not implemented yet", path);
}
