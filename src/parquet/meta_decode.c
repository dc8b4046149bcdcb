/* meta_decode.c — FileMetaData footer → pq_file_meta (stub). */
#include "parquet/pq_int.h"

mt_status pq_meta_decode(const uint8_t *buf, size_t len, pq_file_meta *out, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "pq_meta_decode not implemented yet");
}

void pq_meta_fini(pq_file_meta *m) { (void)m; }
