/*
 * pp_int.h — declarations shared inside src/preprocess: the preprocessor
 * object (settings and stats as JSON, so they serialise as they are), the
 * per-kind fit (fit.c) and batch transform (apply.c), and column helpers
 * (columns.c).
 *
 * Threads: one thread per preprocessor; apply.c only reads it.
 */
#ifndef MANTA_PP_INT_H
#define MANTA_PP_INT_H

#include <jansson.h>

#include "manta/preprocess.h"

typedef enum pp_kind {
    PP_MIN_MAX,
    PP_STANDARD,
    PP_MAX_ABS,
    PP_ROBUST,
    PP_NORMALIZER,
    PP_ONE_HOT,
    PP_ORDINAL,
    PP_LABEL,
    PP_IMPUTER,
    PP_CONCAT,
    PP_CHAIN,
    PP_KIND_COUNT
} pp_kind;

struct mt_preprocessor {
    pp_kind kind;
    mt_status st; /* sticky */
    char msg[MT_ERROR_MSG_MAX];
    json_t *cfg;   /* {"columns": [...], and the kind's settings} */
    json_t *stats; /* Ray's stats_ dict; NULL until fitted */
    mt_preprocessor **steps; /* PP_CHAIN */
    int nsteps;
};

/* Registers the batch function `manta_preprocess` (the worker process calls it at start). */
void mt__preprocess_register(void);

/* Ray's class name of a kind, and back (-1 when unknown). */
const char *mt__pp_name(pp_kind k);
int mt__pp_kind_of(const char *name);
/* Kinds whose transform needs stats. */
bool mt__pp_fittable(const mt_preprocessor *p);

/* fit.c: computes p->stats over ds (p is not a chain). */
mt_status mt__pp_fit_one(mt_preprocessor *p, mt_dataset *ds, mt_error *err);
/* apply.c: one batch through p (not a chain; fitted if fittable). */
mt_status mt__pp_apply(const mt_preprocessor *p, mt_table *in, mt_table **out, mt_error *err);

/* ---- columns.c ------------------------------------------------------------ */

/* Column i's value at row r as a double; false for null (numeric and bool columns). */
bool mt__pp_num_at(const mt_array *a, int64_t r, double *v);
bool mt__pp_is_numeric(const mt_type *t);
/* The text key of a value for unique_values (decimal ints, %.17g doubles, the string, true/false); false for null. */
bool mt__pp_key_at(const mt_array *a, int64_t r, char *buf, size_t cap);
/* A float64 column of n values, null where valid[i] is false (valid NULL: none null). */
mt_status mt__pp_f64_column(const double *v, const bool *valid, int64_t n, mt_array **out, mt_error *err);
/* An int64 column likewise. */
mt_status mt__pp_i64_column(const int64_t *v, const bool *valid, int64_t n, mt_array **out, mt_error *err);
/*
 * A new table: t's columns with those named in names[0..nrep) replaced by
 * cols[0..nrep) (in place, the new type), columns named in drop removed,
 * and add[0..nadd) appended under add_names.
 */
mt_status mt__pp_rebuild(const mt_table *t, const char *const *names, mt_array *const *cols, int nrep,
                         const char *const *drop, int ndrop, const char *const *add_names, mt_array *const *add,
                         int nadd, mt_table **out, mt_error *err);
/* The column named `name` of t, or an error naming it and the preprocessor. */
mt_status mt__pp_column(const mt_preprocessor *p, const mt_table *t, const char *name, const mt_array **out,
                        mt_error *err);

#endif /* MANTA_PP_INT_H */
