/* Batch functions for the dataset tests, loaded by workers as the job's
 * code library (mt_init code_path) and linked into the test driver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <manta/manta.h>

static mt_array *i64_column(const int64_t *v, int64_t n)
{
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_INT64));
    for (int64_t i = 0; i < n; i++) mt_array_builder_append_int(b, v[i], NULL);
    mt_array *a = NULL;
    mt_array_builder_finish(b, &a, NULL);
    mt_array_builder_destroy(b);
    return a;
}

static mt_status from_columns(const char **names, mt_array **cols, int n, int64_t rows, mt_table **out, mt_error *err)
{
    mt_type *types[8];
    bool nullable[8];
    for (int i = 0; i < n; i++) types[i] = cols[i]->type, nullable[i] = true;
    mt_type *schema = mt_type_struct(n, names, types, nullable);
    mt_status st = mt_table_new(schema, cols, rows, out, err);
    mt_type_release(schema);
    for (int i = 0; i < n; i++) mt_array_release(cols[i]);
    return st;
}

/* {id} -> {id: id + k, sq: id * id}; k is the argument (int64) or 1. */
MT_BATCH_FN(add_one)(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err)
{
    int64_t k = 1;
    if (arg_len == sizeof k) memcpy(&k, arg, sizeof k);
    const int64_t *id = (const int64_t *)in->columns[0]->buffers[1]->data + in->columns[0]->offset;
    int64_t n = in->num_rows;
    int64_t *a = malloc(sizeof *a * (size_t)(n + 1)), *b = malloc(sizeof *b * (size_t)(n + 1));
    for (int64_t i = 0; i < n; i++) a[i] = id[i] + k, b[i] = id[i] * id[i];
    mt_array *cols[2] = {i64_column(a, n), i64_column(b, n)};
    free(a);
    free(b);
    return from_columns((const char *[]){"id", "sq"}, cols, 2, n, out, err);
}

/* Keeps the rows with an even id. */
MT_BATCH_FN(keep_even)(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err)
{
    (void)arg, (void)arg_len;
    const int64_t *id = (const int64_t *)in->columns[0]->buffers[1]->data + in->columns[0]->offset;
    int64_t *v = malloc(sizeof *v * (size_t)(in->num_rows + 1)), n = 0;
    for (int64_t i = 0; i < in->num_rows; i++)
        if (id[i] % 2 == 0) v[n++] = id[i];
    mt_array *col = i64_column(v, n);
    free(v);
    return from_columns((const char *[]){"id"}, &col, 1, n, out, err);
}

/* Fails on a batch holding id 57. */
MT_BATCH_FN(fail_on_57)(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err)
{
    (void)arg, (void)arg_len;
    const int64_t *id = (const int64_t *)in->columns[0]->buffers[1]->data + in->columns[0]->offset;
    for (int64_t i = 0; i < in->num_rows; i++)
        if (id[i] == 57) return mt_error_set(err, MT_EINVAL, "bad id 57");
    *out = mt_table_retain(in);
    return MT_OK;
}

/* filter: true where id % 3 == 0, null where id % 10 == 7 (null counts as false). */
MT_BATCH_FN(mult3_mask)(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err)
{
    (void)arg, (void)arg_len;
    const int64_t *id = (const int64_t *)in->columns[0]->buffers[1]->data + in->columns[0]->offset;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_BOOL));
    for (int64_t i = 0; i < in->num_rows; i++) {
        if (id[i] % 10 == 7) mt_array_builder_append_null(b, NULL);
        else mt_array_builder_append_bool(b, id[i] % 3 == 0, NULL);
    }
    mt_array *col = NULL;
    mt_array_builder_finish(b, &col, NULL);
    mt_array_builder_destroy(b);
    return from_columns((const char *[]){"keep"}, &col, 1, in->num_rows, out, err);
}

/* add_column: id * 2 as a double column. */
MT_BATCH_FN(twice)(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err)
{
    (void)arg, (void)arg_len;
    const int64_t *id = (const int64_t *)in->columns[0]->buffers[1]->data + in->columns[0]->offset;
    mt_array_builder *b = mt_array_builder_new(mt_type_new(MT_TYPE_FLOAT64));
    for (int64_t i = 0; i < in->num_rows; i++) mt_array_builder_append_double(b, 2.0 * (double)id[i], NULL);
    mt_array *col = NULL;
    mt_array_builder_finish(b, &col, NULL);
    mt_array_builder_destroy(b);
    return from_columns((const char *[]){"x"}, &col, 1, in->num_rows, out, err);
}

/* {id} -> {id, k: id % 5 (null when id % 7 == 0), v: id / 4.0}: groups with nulls for aggregation tests. */
MT_BATCH_FN(keys_and_values)(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err)
{
    (void)arg, (void)arg_len;
    const int64_t *id = (const int64_t *)in->columns[0]->buffers[1]->data + in->columns[0]->offset;
    mt_array_builder *k = mt_array_builder_new(mt_type_new(MT_TYPE_INT64));
    mt_array_builder *v = mt_array_builder_new(mt_type_new(MT_TYPE_FLOAT64));
    for (int64_t i = 0; i < in->num_rows; i++) {
        if (id[i] % 7 == 0) mt_array_builder_append_null(k, NULL);
        else mt_array_builder_append_int(k, id[i] % 5, NULL);
        if (id[i] % 11 == 3) mt_array_builder_append_null(v, NULL);
        else mt_array_builder_append_double(v, (double)id[i] / 4.0, NULL);
    }
    mt_array *cols[3] = {i64_column(id, in->num_rows), NULL, NULL};
    mt_array_builder_finish(k, &cols[1], NULL);
    mt_array_builder_finish(v, &cols[2], NULL);
    mt_array_builder_destroy(k);
    mt_array_builder_destroy(v);
    return from_columns((const char *[]){"id", "k", "v"}, cols, 3, in->num_rows, out, err);
}

/* {id} -> {id, x0..x6: id * j as doubles}: 64 bytes a row, for the streaming tests. */
MT_BATCH_FN(widen)(mt_table *in, const void *arg, size_t arg_len, mt_table **out, mt_error *err)
{
    (void)arg, (void)arg_len;
    const int64_t *id = (const int64_t *)in->columns[0]->buffers[1]->data + in->columns[0]->offset;
    int64_t n = in->num_rows;
    mt_array *cols[8] = {i64_column(id, n)};
    const char *names[8] = {"id", "x1", "x2", "x3", "x4", "x5", "x6", "x7"};
    for (int j = 1; j < 8; j++) {
        mt_buffer *b = mt_buffer_new(n * 8);
        for (int64_t i = 0; i < n; i++) ((double *)b->data)[i] = (double)id[i] * j;
        mt_buffer *bufs[2] = {NULL, b};
        cols[j] = mt_array_new(mt_type_new(MT_TYPE_FLOAT64), n, 0, 0, bufs, 2, NULL, 0);
        mt_buffer_release(b);
    }
    return from_columns(names, cols, 8, n, out, err);
}

/* A batch class: init reads k (int64) once per actor; each call returns {id: id * k, pid: the actor's pid}. */
#include <unistd.h>
typedef struct scaler_state {
    int64_t k;
} scaler_state;

static mt_status scaler_init(const void *arg, size_t arg_len, void **state, mt_error *err)
{
    if (arg_len != sizeof(int64_t)) return mt_error_set(err, MT_EINVAL, "scaler needs an int64 argument");
    scaler_state *s = malloc(sizeof *s);
    memcpy(&s->k, arg, sizeof s->k);
    *state = s;
    return MT_OK;
}

static mt_status scaler_call(void *state, mt_table *in, mt_table **out, mt_error *err)
{
    const scaler_state *s = state;
    const int64_t *id = (const int64_t *)in->columns[0]->buffers[1]->data + in->columns[0]->offset;
    int64_t n = in->num_rows, *a = malloc(sizeof *a * (size_t)(n + 1)), *p = malloc(sizeof *p * (size_t)(n + 1));
    for (int64_t i = 0; i < n; i++) a[i] = id[i] * s->k, p[i] = getpid();
    mt_array *cols[2] = {i64_column(a, n), i64_column(p, n)};
    free(a);
    free(p);
    return from_columns((const char *[]){"id", "pid"}, cols, 2, n, out, err);
}

static void scaler_fini(void *state) { free(state); }

MT_BATCH_CLASS(scaler, scaler_init, scaler_call, scaler_fini)
