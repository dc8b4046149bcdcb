/*
 * spec.c — plan inputs (what a read task starts from) and the JSON text a
 * task carries: {"index", "input": {...}, "columns", "ops": [...], "write"}.
 * Block refs are not in the text: they are the task's arguments 1.., and
 * an input's "refs" count says how many it takes.
 *
 * Threads: any. Invariant: map_batches' argument bytes travel hex-encoded.
 */
#include <jansson.h>
#include <string.h>

#include "dataset/ds_int.h"

void mt__ds_input_free(mt__ds_input *in)
{
    if (!in) return;
    mt_free(in->path);
    for (int i = 0; i < in->nrefs; i++) mt_ref_release(in->refs[i]);
    mt_free(in->refs);
    mt_free(in->slices);
    memset(in, 0, sizeof *in);
}

mt_status mt__ds_input_copy(const mt__ds_input *src, mt__ds_input *dst, mt_error *err)
{
    *dst = *src;
    dst->path = NULL;
    dst->refs = NULL;
    dst->slices = NULL;
    dst->nrefs = dst->nslices = 0;
    bool ok = !src->path || (dst->path = mt_strdup(src->path));
    if (ok && src->nrefs) {
        ok = (dst->refs = mt_calloc((size_t)src->nrefs, sizeof *dst->refs)) != NULL;
        for (int i = 0; ok && i < src->nrefs; i++) dst->refs[dst->nrefs++] = mt_ref_retain(src->refs[i]);
    }
    if (ok && src->nslices) {
        ok = (dst->slices = mt_malloc(sizeof *dst->slices * (size_t)src->nslices)) != NULL;
        if (ok) memcpy(dst->slices, src->slices, sizeof *dst->slices * (size_t)src->nslices);
        if (ok) dst->nslices = src->nslices;
    }
    if (ok) return MT_OK;
    mt__ds_input_free(dst);
    return mt_error_set(err, MT_ENOMEM, "dataset: copying an input");
}

static json_t *strings(char *const *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *hex(const uint8_t *p, size_t n)
{
    char *s = mt_malloc(2 * n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * n] = 0;
    json_t *j = json_string(s);
    mt_free(s);
    return j;
}

static json_t *input_json(const mt__ds_input *in)
{
    switch (in->kind) {
    case MT__DS_IN_PARQUET:
        return json_pack("{s:s, s:s, s:i, s:i}", "kind", "parquet", "path", in->path, "rg_begin",
                         (json_int_t)in->rg_begin, "rg_end", (json_int_t)in->rg_end);
    case MT__DS_IN_RANGE:
        return json_pack("{s:s, s:I, s:I}", "kind", "range", "start", (json_int_t)in->start, "end",
                         (json_int_t)in->end);
    case MT__DS_IN_CSV: {
        char d[2] = {in->delimiter ? in->delimiter : ',', 0};
        return json_pack("{s:s, s:s, s:s}", "kind", "csv", "path", in->path, "delimiter", d);
    }
    case MT__DS_IN_BLOCK:
        return json_pack("{s:s, s:i}", "kind", "block", "refs", 1);
    case MT__DS_IN_SLICES: {
        json_t *sl = json_array();
        for (int i = 0; sl && i < in->nslices; i++)
            json_array_append_new(sl, json_pack("[i, I, I]", in->slices[i].ref, (json_int_t)in->slices[i].offset,
                                                (json_int_t)in->slices[i].length));
        return json_pack("{s:s, s:i, s:o}", "kind", "slices", "refs", in->nrefs, "slices", sl);
    }
    }
    return NULL;
}

static json_t *op_json(const mt__ds_op *op)
{
    static const char *const kinds[] = {"select", "drop", "rename", "map_batches", "filter", "add_column"};
    json_t *o = json_pack("{s:s}", "op", kinds[op->kind]);
    if (!o) return NULL;
    if (op->nnames) json_object_set_new(o, "names", strings(op->names, op->nnames));
    if (mt__ds_op_is_fn(op->kind)) {
        json_object_set_new(o, "fn", json_string(op->fn));
        json_object_set_new(o, "batch_size", json_integer(op->batch_size));
        json_object_set_new(o, "arg", hex(op->arg, op->arg_len));
    }
    return o;
}

char *mt__ds_json_text(const json_t *o)
{
    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    char *text = n ? mt_malloc(n + 1) : NULL;
    if (text) {
        json_dumpb(o, text, n, JSON_COMPACT);
        text[n] = 0;
    }
    return text;
}

mt_status mt__ds_task_encode(const mt__ds_task *t, char **json_out, mt_error *err)
{
    json_t *ops = json_array();
    for (int i = 0; ops && i < t->nops; i++) json_array_append_new(ops, op_json(&t->ops[i]));
    json_t *o = json_pack("{s:I, s:o, s:o}", "index", (json_int_t)t->index, "input", input_json(t->in), "ops", ops);
    if (o && t->columns) json_object_set_new(o, "columns", strings(t->columns, t->ncolumns));
    if (o && t->write_path) json_object_set_new(o, "write", json_string(t->write_path));
    if (o && t->write_format) json_object_set_new(o, "format", json_string(t->write_format));
    if (o && t->shuffle) {
        json_t *sh = json_loads(t->shuffle, 0, NULL);
        if (!sh) {
            json_decref(o);
            return mt_error_set(err, MT_EINTERNAL, "dataset: bad shuffle text");
        }
        json_object_set_new(o, "shuffle", sh);
    }
    char *text = o ? mt__ds_json_text(o) : NULL;
    json_decref(o);
    if (!text) return mt_error_set(err, MT_ENOMEM, "dataset: encoding a task");
    *json_out = text;
    return MT_OK;
}
