/* page_reader.c — column chunk → pages (stub). */
#include "parquet/pq_int.h"

mt_status pq_page_reader_create(const uint8_t *file, size_t file_len, const pq_column_chunk *cc,
                                bool verify_crc, const char *ctx, pq_page_reader **out,
                                mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "page reader not implemented yet");
}

mt_status pq_page_reader_next(pq_page_reader *pr, pq_page *page, bool *eof, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "page reader not implemented yet");
}

void pq_page_reader_destroy(pq_page_reader *pr) { (void)pr; }
