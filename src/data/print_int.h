/*
 * print_int.h — declarations shared by the data module's text formatters:
 * canonical JSON values (json_value.c), shortest round-trip float digits
 * (float_format.c), Python reprs (print.c) and CSV (csv_*.c).
 *
 * Threads: all functions are reentrant; a text sink is single-threaded.
 * Invariant: a sink's `data` is NUL-terminated whenever `len` > 0 and no
 * allocation failed; after a failure `failed` stays set and appends are no-ops.
 */
#ifndef MT_DATA_PRINT_INT_H
#define MT_DATA_PRINT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manta/data.h"

/* A growable byte string (mt_malloc'ed). Zero-initialised = empty. */
typedef struct mt__data_sb {
    char *data;
    size_t len, cap;
    bool failed;
} mt__data_sb;

void mt__data_sb_put(mt__data_sb *sb, const void *p, size_t n);
void mt__data_sb_putc(mt__data_sb *sb, char c);
void mt__data_sb_puts(mt__data_sb *sb, const char *s);
void mt__data_sb_printf(mt__data_sb *sb, const char *fmt, ...) MT_PRINTF(2, 3);
void mt__data_sb_fini(mt__data_sb *sb);

/*
 * Shortest round-trip decimal digits of a finite, non-zero |v|: writes the
 * digits (no sign, no point, no trailing zeros) to `digits` (>= 18 bytes)
 * and returns their count; *exp10 receives the decimal exponent of the first
 * digit (v = 0.d1d2… × 10^(exp10+1)).
 */
int mt__data_shortest_digits(double v, char *digits, int *exp10);

/* JavaScript Number.prototype.toString / JSON.stringify form of v (finite). */
size_t mt__data_format_js(double v, char *buf, size_t cap);
/* Python repr(float) form of v ("1.0", "1e+16", "inf", "nan", "-0.0"). */
size_t mt__data_format_py(double v, char *buf, size_t cap);
/* CSV form: shortest round trip, integral values keep ".0" ("1.0", "1e+16"). */
size_t mt__data_format_csv(double v, char *buf, size_t cap);
/* IEEE half-precision bits to double. */
double mt__data_half_to_double(uint16_t bits);

/* Decimal128 (16 bytes LE two's complement) with `scale` fraction digits. */
void mt__data_decimal_to_sb(mt__data_sb *sb, const uint8_t *le16, int32_t scale);

/* Civil date from days since 1970-01-01 (proleptic Gregorian). */
void mt__data_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Days since 1970-01-01 of a civil date. */
int64_t mt__data_days_from_civil(int64_t y, int m, int d);
/* "YYYY-MM-DD" with JS-style extended years (-YYYYYY / +YYYYYY outside 0..9999). */
void mt__data_date_to_sb(mt__data_sb *sb, int64_t days);
/* Time of day from a count of `unit` since midnight: "HH:MM:SS[.fraction]" trimmed. */
void mt__data_time_to_sb(mt__data_sb *sb, int64_t v, mt_time_unit unit);
/* Timestamp "YYYY-MM-DD" sep "HH:MM:SS[.fraction]" (fraction trimmed). */
void mt__data_timestamp_to_sb(mt__data_sb *sb, int64_t v, mt_time_unit unit, char sep);

/* ---- element text shared by the formatters (value_text.c) -------------- */

/* Decimal text of element i of an integer array (INT8 … UINT64). */
void mt__data_int_to_sb(mt__data_sb *sb, const mt_array *a, int64_t i);
/* Element i of a FLOAT16/FLOAT32/FLOAT64 array, widened to double. */
double mt__data_float_at(const mt_array *a, int64_t i);
/* Bytes of element i of a UTF8/BINARY array; empty when the data buffer is absent. */
const uint8_t *mt__data_var_bytes(const mt_array *a, int64_t i, int64_t *n);
/* "0x" followed by the lowercase hex of p[0..n). */
void mt__data_hex_to_sb(mt__data_sb *sb, const uint8_t *p, int64_t n);

/*
 * How a format writes nested values: a struct as '{' name field_sep value,
 * … '}', a list as '[' value sep … ']', a map as a list of entries
 * entry_open key entry_mid value entry_close (`null` when the entries have
 * no value child). `name` writes a field name, `value` any element.
 */
typedef struct mt__data_nested_style {
    const char *sep, *field_sep;
    const char *entry_open, *entry_mid, *entry_close, *null;
    void (*name)(mt__data_sb *sb, const uint8_t *s, size_t n);
    void (*value)(mt__data_sb *sb, const mt_array *a, int64_t i);
} mt__data_nested_style;

/* Writes element i of a LIST, STRUCT or MAP array in style `st`. */
void mt__data_nested_to_sb(mt__data_sb *sb, const mt_array *a, int64_t i,
                           const mt__data_nested_style *st);

/* Appends the canonical JSON value of element i of `a` (see docs/data/json-values.md). */
void mt__data_json_value(mt__data_sb *sb, const mt_array *a, int64_t i);
/* Appends s as a JSON string literal (quotes included), invalid UTF-8 as U+FFFD. */
void mt__data_json_string(mt__data_sb *sb, const uint8_t *s, size_t n);


/* ---- CSV value parsing (csv_infer.c) ------------------------------------ */

/* Inference lattice, narrowest first; NONE = only nulls seen so far. */
typedef enum mt__data_csv_kind {
    MT__CSV_NONE = 0,
    MT__CSV_BOOL,
    MT__CSV_INT,
    MT__CSV_FLOAT,
    MT__CSV_DATE,
    MT__CSV_TIMESTAMP,
    MT__CSV_STRING,
} mt__data_csv_kind;

/* Narrowest kind that can hold the (non-null) text p[0..n). */
mt__data_csv_kind mt__data_csv_classify(const char *p, size_t n);
/* Narrowest kind holding both a and b (int+float → float, date+timestamp → timestamp). */
mt__data_csv_kind mt__data_csv_join(mt__data_csv_kind a, mt__data_csv_kind b);
/* The column type of a kind (NONE and STRING → utf8, TIMESTAMP → timestamp[us]); new ref. */
mt_type *mt__data_csv_kind_type(mt__data_csv_kind k);

/*
 * Parses text p[0..n) as a value of type `t` and appends it to `b`. *ok is
 * set false (and nothing appended) when the text is not a valid value of t;
 * the returned status reports only allocation failures.
 */
mt_status mt__data_csv_append(mt_array_builder *b, const mt_type *t, const char *p, size_t n,
                              bool *ok, mt_error *err);
/* True when the text parses as a float64 (shared with the writer's quoting). */
bool mt__data_csv_parse_double(const char *p, size_t n, double *out);

#endif /* MT_DATA_PRINT_INT_H */
