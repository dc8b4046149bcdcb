/*
 * json_value.c — canonical JSON values. Stub.
 */
#include "data/print_int.h"

mt_status mt_table_write_jsonl(const mt_table *t, FILE *out, mt_error *err)
{
    return mt_error_set(err, MT_EUNSUPPORTED, "mt_table_write_jsonl: not yet implemented");
}
