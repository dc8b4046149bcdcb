/*
 * pq_schema.c — maps the footer's schema to Arrow types (stub).
 */
#include "parquet/pq_value.h"

mt_status pq_schema_build(const pq_file_meta *m, pq_schema **out, mt_error *err)
{
    (void)m;
    *out = NULL;
    return mt_error_set(err, MT_EUNSUPPORTED, "parquet schema mapping not implemented yet");
}

void pq_schema_destroy(pq_schema *s)
{
    (void)s;
}

const mt_type *pq_schema_arrow(const pq_schema *s)
{
    return s ? s->arrow : NULL;
}
