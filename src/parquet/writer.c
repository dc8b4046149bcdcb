/*
 * writer.c — the public Parquet writer (stub; being implemented).
 */
#include "manta/parquet.h"

mt_status mt_parquet_writer_open(const char *path, const mt_type *schema,
                                 const mt_parquet_write_options *opts, mt_parquet_writer **out,
                                 mt_error *err)
{
    (void)schema; (void)opts;
    *out = NULL;
    return mt_error_set(err, MT_EUNSUPPORTED, "writing %s: parquet writer not implemented yet", path);
}

mt_status mt_parquet_writer_write(mt_parquet_writer *w, const mt_table *t, mt_error *err)
{
    (void)w; (void)t;
    return mt_error_set(err, MT_EUNSUPPORTED, "parquet writer not implemented yet");
}

mt_status mt_parquet_writer_close(mt_parquet_writer *w, mt_error *err)
{
    (void)w;
    return mt_error_set(err, MT_EUNSUPPORTED, "parquet writer not implemented yet");
}

void mt_parquet_writer_destroy(mt_parquet_writer *w) { (void)w; }

mt_status mt_parquet_write_table(const char *path, const mt_table *t,
                                 const mt_parquet_write_options *opts, mt_error *err)
{
    (void)t; (void)opts;
    return mt_error_set(err, MT_EUNSUPPORTED, "writing %s: parquet writer not implemented yet", path);
}
