/* Preprocessors on an embedded cluster: fitted stats by Ray's key names,
 * each transform's exact output (expected values computed here), the same
 * result through a dataset (workers) and through transform_batch, the JSON
 * round trip, and the errors (not fitted, bad settings, missing columns). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <manta/manta.h>

#include "worker/worker_test_util.h"

/* a: doubles with a null, b: ints, s: strings with a null, k: a constant. */
static const char *ITEMS = "[{\"a\": 1.0, \"b\": 3, \"s\": \"b\", \"k\": 2},"
                           " {\"a\": 3.0, \"b\": -4, \"s\": \"a\", \"k\": 2},"
                           " {\"a\": 5.0, \"b\": 0, \"s\": \"b\", \"k\": 2},"
                           " {\"a\": null, \"b\": 8, \"s\": null, \"k\": 2},"
                           " {\"a\": 9.0, \"b\": 1, \"s\": \"c\", \"k\": 2}]";

static mt_dataset *items(void)
{
    mt_dataset *ds = mt_from_items(ITEMS);
    mt_error err;
    cr_assert_eq(mt_dataset_status(ds, &err), MT_OK, "%s", err.msg);
    return ds;
}

static int col(const mt_table *t, const char *name)
{
    int i = mt_table_column_index(t, name);
    cr_assert_geq(i, 0, "no column %s", name);
    return i;
}

static bool valid(const mt_table *t, const char *name, int64_t r) { return mt_array_is_valid(t->columns[col(t, name)], r); }
static double f64(const mt_table *t, const char *name, int64_t r) { return MT_ARRAY_VALUES(t->columns[col(t, name)], double)[r]; }
static int64_t i64(const mt_table *t, const char *name, int64_t r) { return MT_ARRAY_VALUES(t->columns[col(t, name)], int64_t)[r]; }

static void near(double got, double want, const char *what)
{
    cr_assert(fabs(got - want) <= 1e-12 * fmax(1, fabs(want)), "%s: %.17g, want %.17g", what, got, want);
}

static double stat(const mt_preprocessor *p, const char *key)
{
    double v = NAN;
    mt_error err;
    cr_assert_eq(mt_preprocessor_stat(p, key, &v, &err), MT_OK, "%s", err.msg);
    return v;
}

/* Fits p on the items, transforms them through the cluster and through
 * transform_batch, checks both agree and that a JSON round trip agrees. */
static mt_table *fit_and_transform(mt_preprocessor *p)
{
    mt_error err;
    mt_dataset *ds = items();
    cr_assert_eq(mt_preprocessor_fit(p, ds, &err), MT_OK, "fit: %s", err.msg);
    cr_assert(mt_preprocessor_fitted(p));
    mt_table *via_ds = mt_to_table(mt_preprocessor_transform(p, ds));
    cr_assert_not_null(via_ds);
    mt_table *in = mt_to_table(ds), *local = NULL, *again = NULL;
    cr_assert_eq(mt_preprocessor_transform_batch(p, in, &local, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_table_equal(via_ds, local), "dataset and batch transforms agree");
    char *json = mt_preprocessor_to_json(p);
    mt_preprocessor *q = NULL;
    cr_assert_eq(mt_preprocessor_from_json(json, &q, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_preprocessor_transform_batch(q, in, &again, &err), MT_OK, "%s", err.msg);
    cr_assert(mt_table_equal(again, local), "the JSON round trip transforms identically");
    char *json2 = mt_preprocessor_to_json(q);
    cr_assert_str_eq(json, json2);
    mt_free(json);
    mt_free(json2);
    mt_preprocessor_free(q);
    mt_table_release(in);
    mt_table_release(again);
    mt_table_release(via_ds);
    return local;
}

Test(preprocess, scalers, .init = setup, .fini = teardown, .timeout = 90)
{
    mt_preprocessor *mm = mt_min_max_scaler(MT_COLUMNS("a", "b", "k"));
    mt_error err;
    mt_table *in = mt_to_table(items()), *out = NULL;
    cr_assert_eq(mt_preprocessor_transform_batch(mm, in, &out, &err), MT_ESTATE);
    cr_assert_str_eq(err.msg, "MinMaxScaler is not fitted yet. Call fit() first");
    cr_assert_eq(mt_dataset_status(mt_preprocessor_transform(mm, items()), &err), MT_ESTATE);
    mt_table *t = fit_and_transform(mm);
    cr_assert_eq(stat(mm, "min(a)"), 1.0);
    cr_assert_eq(stat(mm, "max(a)"), 9.0);
    cr_assert_eq(stat(mm, "min(b)"), -4.0);
    double a[5] = {0, 0.25, 0.5, 0, 1}, b[5] = {7.0 / 12, 0, 4.0 / 12, 1, 5.0 / 12};
    for (int r = 0; r < 5; r++) {
        if (r == 3) cr_assert_not(valid(t, "a", r), "a null stays null");
        else near(f64(t, "a", r), a[r], "minmax a");
        near(f64(t, "b", r), b[r], "minmax b (int -> float64)");
        cr_assert_eq(f64(t, "k", r), 0.0, "a constant column scales to 0");
    }
    cr_assert_eq(t->schema->fields[col(t, "s")].type->id, MT_TYPE_UTF8, "other columns untouched");
    char repr[200];
    mt_preprocessor_repr(mm, repr, sizeof repr);
    cr_assert_str_eq(repr, "MinMaxScaler(columns=['a', 'b', 'k'])");
    mt_table_release(t);
    mt_preprocessor_free(mm);

    /* StandardScaler (ddof 0): mean and population std of a's four values */
    mt_preprocessor *ss = mt_standard_scaler(MT_COLUMNS("a"), 0);
    t = fit_and_transform(ss);
    double mean = (1 + 3 + 5 + 9) / 4.0, var = 0;
    for (int i = 0; i < 4; i++) var += pow((double[]){1, 3, 5, 9}[i] - mean, 2) / 4;
    near(stat(ss, "mean(a)"), mean, "mean");
    near(stat(ss, "std(a)"), sqrt(var), "std");
    near(f64(t, "a", 4), (9 - mean) / sqrt(var), "standardised");
    mt_table_release(t);
    mt_preprocessor_free(ss);

    mt_preprocessor *ma = mt_max_abs_scaler(MT_COLUMNS("b"));
    t = fit_and_transform(ma);
    cr_assert_eq(stat(ma, "abs_max(b)"), 8.0);
    near(f64(t, "b", 1), -0.5, "max abs");
    mt_table_release(t);
    mt_preprocessor_free(ma);

    /* Robust: sorted b = -4 0 1 3 8; n-1 = 4; q .25 -> index 1 (0), median index 2 (1), .75 -> 3 (3) */
    mt_preprocessor *rs = mt_robust_scaler(MT_COLUMNS("b"), 0, 0);
    t = fit_and_transform(rs);
    cr_assert_eq(stat(rs, "low_quantile(b)"), 0.0);
    cr_assert_eq(stat(rs, "median(b)"), 1.0);
    cr_assert_eq(stat(rs, "high_quantile(b)"), 3.0);
    near(f64(t, "b", 3), (8 - 1) / 3.0, "robust");
    mt_table_release(t);
    mt_preprocessor_free(rs);
    mt_table_release(in);
    mt_table_release(out);
}

Test(preprocess, encoders, .init = setup, .fini = teardown, .timeout = 90)
{
    mt_preprocessor *oh = mt_one_hot_encoder(MT_COLUMNS("s"), 0);
    mt_table *t = fit_and_transform(oh);
    char *stats = mt_preprocessor_stats_json(oh);
    cr_assert_str_eq(stats, "{\"unique_values(s)\":{\"a\":0,\"b\":1,\"c\":2}}");
    mt_free(stats);
    cr_assert_lt(mt_table_column_index(t, "s"), 0, "the source column goes");
    int64_t sa[5] = {0, 1, 0, 0, 0}, sb[5] = {1, 0, 1, 0, 0}, sc[5] = {0, 0, 0, 0, 1};
    for (int r = 0; r < 5; r++) {
        cr_assert_eq(i64(t, "s_a", r), sa[r]);
        cr_assert_eq(i64(t, "s_b", r), sb[r]);
        cr_assert_eq(i64(t, "s_c", r), sc[r], "row %d (the null row is all 0)", r);
    }
    cr_assert_str_eq(t->schema->fields[t->num_columns - 1].name, "s_c", "appended in index order");
    mt_table_release(t);
    mt_preprocessor_free(oh);

    mt_preprocessor *top = mt_one_hot_encoder(MT_COLUMNS("s"), 1);
    t = fit_and_transform(top);
    cr_assert_eq(mt_table_column_index(t, "s_a"), -1, "only the most frequent category");
    cr_assert_eq(i64(t, "s_b", 2), 1);
    mt_table_release(t);
    mt_preprocessor_free(top);

    mt_preprocessor *od = mt_ordinal_encoder(MT_COLUMNS("s", "b"));
    t = fit_and_transform(od);
    int64_t s[5] = {1, 0, 1, -1, 2}, b[5] = {3, 0, 1, 4, 2}; /* b sorted: -4 0 1 3 8 */
    for (int r = 0; r < 5; r++) {
        if (s[r] < 0) cr_assert_not(valid(t, "s", r));
        else cr_assert_eq(i64(t, "s", r), s[r]);
        cr_assert_eq(i64(t, "b", r), b[r]);
    }
    mt_table_release(t);
    /* an unseen value encodes as null */
    mt_table *unseen = mt_to_table(mt_from_items("[{\"s\": \"z\", \"b\": 3}]")), *u = NULL;
    mt_error err;
    cr_assert_eq(mt_preprocessor_transform_batch(od, unseen, &u, &err), MT_OK, "%s", err.msg);
    cr_assert_not(valid(u, "s", 0));
    cr_assert_eq(i64(u, "b", 0), 3);
    mt_table_release(u);
    mt_table_release(unseen);
    mt_preprocessor_free(od);

    mt_preprocessor *le = mt_label_encoder("s");
    t = fit_and_transform(le);
    cr_assert_eq(i64(t, "s", 4), 2);
    char repr[100];
    mt_preprocessor_repr(le, repr, sizeof repr);
    cr_assert_str_eq(repr, "LabelEncoder(label_column='s')");
    mt_table_release(t);
    mt_preprocessor_free(le);
}

Test(preprocess, imputer_normalizer_concatenator_chain, .init = setup, .fini = teardown, .timeout = 90)
{
    mt_preprocessor *im = mt_simple_imputer(MT_COLUMNS("a"), "mean", NULL);
    mt_table *t = fit_and_transform(im);
    cr_assert_eq(stat(im, "mean(a)"), 4.5);
    cr_assert_eq(f64(t, "a", 3), 4.5);
    cr_assert_eq(f64(t, "a", 0), 1.0);
    mt_table_release(t);
    mt_preprocessor_free(im);

    mt_preprocessor *mf = mt_simple_imputer(MT_COLUMNS("s"), "most_frequent", NULL);
    t = fit_and_transform(mf);
    char *stats = mt_preprocessor_stats_json(mf);
    cr_assert_str_eq(stats, "{\"most_frequent(s)\":\"b\"}");
    mt_free(stats);
    cr_assert(valid(t, "s", 3));
    mt_table_release(t);
    mt_preprocessor_free(mf);

    mt_preprocessor *cs = mt_simple_imputer(MT_COLUMNS("a"), "constant", "-1");
    cr_assert(mt_preprocessor_fitted(cs), "constant needs no fit");
    t = fit_and_transform(cs);
    cr_assert_eq(f64(t, "a", 3), -1.0);
    mt_table_release(t);
    mt_preprocessor_free(cs);

    mt_preprocessor *nz = mt_normalizer(MT_COLUMNS("a", "b"), "l2");
    t = fit_and_transform(nz);
    near(f64(t, "a", 1), 3.0 / 5, "l2 row (3, -4)");
    near(f64(t, "b", 1), -4.0 / 5, "l2 row (3, -4)");
    near(f64(t, "b", 3), 1.0, "a null cell is left out of the norm");
    mt_table_release(t);
    mt_preprocessor_free(nz);

    mt_preprocessor *cc = mt_concatenator(NULL, NULL, MT_COLUMNS("s"));
    t = fit_and_transform(cc);
    cr_assert_eq(t->num_columns, 2, "s kept, the rest merged");
    const mt_array *l = t->columns[col(t, "concat_out")];
    cr_assert_eq(l->type->id, MT_TYPE_LIST);
    const double *v = MT_ARRAY_VALUES(l->children[0], double);
    double want[3] = {3.0, -4.0, 2.0}; /* row 1: a, b, k */
    for (int i = 0; i < 3; i++) cr_assert_eq(v[3 + i], want[i]);
    mt_table_release(t);
    mt_preprocessor_free(cc);

    /* Chain: impute a, then min-max it (fitted on the imputed values) */
    mt_preprocessor *steps[2] = {mt_simple_imputer(MT_COLUMNS("a"), "constant", "0"), mt_min_max_scaler(MT_COLUMNS("a"))};
    mt_preprocessor *ch = mt_chain(steps, 2);
    t = fit_and_transform(ch);
    near(f64(t, "a", 3), 0.0, "imputed 0 is the new min");
    near(f64(t, "a", 1), 3.0 / 9, "chain");
    char repr[200];
    mt_preprocessor_repr(ch, repr, sizeof repr);
    cr_assert_str_eq(repr, "Chain(preprocessors=(SimpleImputer(columns=['a'], strategy='constant', fill_value=0), MinMaxScaler(columns=['a'])))");
    mt_table_release(t);
    mt_preprocessor_free(ch);
}

Test(preprocess, bad_settings_and_input_fail_clearly, .init = setup, .fini = teardown, .timeout = 90)
{
    mt_error err;
    mt_preprocessor *p = mt_min_max_scaler(NULL);
    cr_assert_eq(mt_preprocessor_status(p, &err), MT_EINVAL);
    cr_assert_eq(mt_preprocessor_fit(p, items(), &err), MT_EINVAL);
    mt_preprocessor_free(p);
    p = mt_normalizer(MT_COLUMNS("a"), "l3");
    cr_assert_eq(mt_preprocessor_status(p, &err), MT_EINVAL);
    cr_assert(strstr(err.msg, "l3"), "%s", err.msg);
    mt_preprocessor_free(p);
    p = mt_simple_imputer(MT_COLUMNS("a"), "constant", NULL);
    cr_assert_eq(mt_preprocessor_status(p, &err), MT_EINVAL);
    mt_preprocessor_free(p);
    p = mt_min_max_scaler(MT_COLUMNS("nope"));
    cr_assert_neq(mt_preprocessor_fit(p, items(), &err), MT_OK);
    cr_assert(strstr(err.msg, "nope"), "%s", err.msg);
    mt_preprocessor_free(p);
    p = mt_min_max_scaler(MT_COLUMNS("s"));
    cr_assert_neq(mt_preprocessor_fit(p, items(), &err), MT_OK, "min of strings");
    mt_preprocessor_free(p);
    const char *bad[] = {"", "[]", "{\"type\": \"Nope\", \"config\": {}}",
                         "{\"type\": \"MinMaxScaler\", \"config\": {\"columns\": [1]}}",
                         "{\"type\": \"Chain\", \"config\": {}, \"steps\": []}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mt_preprocessor *q = NULL;
        cr_assert_eq(mt_preprocessor_from_json(bad[i], &q, &err), MT_EPARSE, "%s", bad[i]);
        cr_assert_null(q);
    }
    /* stats that do not fit: an error naming the stat, not a crash */
    mt_preprocessor *q = NULL;
    cr_assert_eq(mt_preprocessor_from_json("{\"type\":\"MinMaxScaler\",\"config\":{\"columns\":[\"a\"]},\"stats\":{\"min(a)\":\"x\"}}", &q, &err), MT_OK);
    mt_table *in = mt_to_table(items()), *out = NULL;
    cr_assert_eq(mt_preprocessor_transform_batch(q, in, &out, &err), MT_EPARSE);
    cr_assert(strstr(err.msg, "min(a)"), "%s", err.msg);
    mt_preprocessor_free(q);
    mt_table_release(in);
}
