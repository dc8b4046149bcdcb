/* libFuzzer target: a preprocessor's JSON (src/preprocess/serial.c) and the
 * transform it drives (apply.c). Any input: an error, or a preprocessor
 * whose transform of a fixed batch succeeds or fails cleanly and whose JSON
 * reads back. Must never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <manta/manta.h>

static mt_table *batch(void)
{
    static mt_table *t;
    if (t) return t;
    mt_array_builder *a = mt_array_builder_new(mt_type_new(MT_TYPE_FLOAT64));
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_INT64));
    mt_array_builder *s = mt_array_builder_new(mt_type_new(MT_TYPE_UTF8));
    const char *words[] = {"a", "b", "c", "a"};
    for (int i = 0; i < 4; i++) {
        if (i == 2) mt_array_builder_append_null(a, NULL);
        else mt_array_builder_append_double(a, i * 1.5, NULL);
        mt_array_builder_append_int(b, i - 1, NULL);
        mt_array_builder_append_bytes(s, words[i], 1, NULL);
    }
    mt_array *cols[3];
    mt_array_builder_finish(a, &cols[0], NULL);
    mt_array_builder_finish(b, &cols[1], NULL);
    mt_array_builder_finish(s, &cols[2], NULL);
    mt_array_builder_destroy(a);
    mt_array_builder_destroy(b);
    mt_array_builder_destroy(s);
    mt_type *types[3] = {cols[0]->type, cols[1]->type, cols[2]->type};
    mt_type *schema = mt_type_struct(3, (const char *[]){"a", "b", "s"}, types, NULL);
    mt_table_new(schema, cols, 4, &t, NULL);
    mt_type_release(schema);
    for (int i = 0; i < 3; i++) mt_array_release(cols[i]);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    mt_preprocessor *p = NULL;
    mt_error err;
    if (mt_preprocessor_from_json(text, &p, &err) == MT_OK) {
        mt_table *out = NULL;
        if (mt_preprocessor_transform_batch(p, batch(), &out, &err) == MT_OK) {
            if (!out) abort();
            mt_table_release(out);
        }
        char *again = mt_preprocessor_to_json(p);
        mt_preprocessor *q = NULL;
        if (!again || mt_preprocessor_from_json(again, &q, &err) != MT_OK) abort();
        char repr[256];
        mt_preprocessor_repr(q, repr, sizeof repr);
        mt_free(again);
        mt_preprocessor_free(q);
        mt_preprocessor_free(p);
    } else if (p) {
        abort();
    }
    free(text);
    return 0;
}
