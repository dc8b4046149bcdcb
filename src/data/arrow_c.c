/*
 * arrow_c.c — Arrow C Data Interface (stub while being written).
 *
 * Threads: any (pure functions over immutable arrays).
 */
#include "data/data_int.h"

#define NI(what) return mt_error_set(err, MT_EUNSUPPORTED, what " not implemented yet")
mt_status mt_type_export(const mt_type *t, const char *name, bool nullable, struct ArrowSchema *out,
                         mt_error *err)
{
    NI("mt_type_export");
}
mt_status mt_array_export(mt_array *a, struct ArrowArray *out, mt_error *err)
{
    NI("mt_array_export");
}
mt_status mt_type_import(const struct ArrowSchema *schema, mt_type **out, mt_error *err)
{
    NI("mt_type_import");
}
mt_status mt_array_import(struct ArrowArray *array, mt_type *type, mt_array **out, mt_error *err)
{
    NI("mt_array_import");
}
mt_status mt_table_export(mt_table *t, struct ArrowSchema *schema_out, struct ArrowArray *array_out,
                          mt_error *err)
{
    NI("mt_table_export");
}
mt_status mt_table_import(struct ArrowSchema *schema, struct ArrowArray *array, mt_table **out,
                          mt_error *err)
{
    NI("mt_table_import");
}
