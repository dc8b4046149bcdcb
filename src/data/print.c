/*
 * print.c — Ray's text formats: the schema table and ds.show() rows as
 * Python dict reprs. Called from any thread; the table is only read.
 */
#include "data/print_int.h"

void mt_table_print_schema(const mt_type *schema, FILE *out) { (void)schema; (void)out; }

mt_status mt_table_print_rows(const mt_table *t, int64_t offset, int64_t limit, FILE *out,
                              mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "mt_table_print_rows: not yet implemented");
}
