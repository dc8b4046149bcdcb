/*
 * config.c — the configuration table (config_table.h) with environment and
 * flag overrides. Values are set at start-up (mt_config_load, flags) and read
 * afterwards; reads take no lock, so set values before starting threads.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc_int.h"
#include "core/config_keys.h"
#include "manta/base.h"

typedef struct entry {
    const char *name;
    mt_config_type type;
    const char *def;
    const char *doc;
    int64_t i;
    double d;
    char *s;
    bool set;
} entry;

#define MT_CONFIG(type, name, def, doc) {#name, MT_CONFIG_##type, #def, doc, 0, 0, NULL, false},
static entry table[] = {
#include "core/config_table.h"
};
#undef MT_CONFIG
#define NENTRIES (sizeof table / sizeof table[0])

/* Bounds per key (config_table.h's MT_CONFIG_RANGE lines); unbounded by default. */
typedef struct range {
    enum mt__config_key key;
    double lo, hi;
} range;
#define MT_CONFIG(type, name, def, doc)
#define MT_CONFIG_RANGE(name, lo, hi) {MT__CFG_##name, (double)(lo), (double)(hi)},
static const range ranges[] = {
#include "core/config_table.h"
};
#undef MT_CONFIG_RANGE
#undef MT_CONFIG

static const range *range_of(const entry *e)
{
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (&table[ranges[i].key] == e) return &ranges[i];
    return NULL;
}

static mt_status check_range(const entry *e, double v, const char *value, mt_error *err)
{
    const range *r = range_of(e);
    if (!r || (v >= r->lo && v <= r->hi)) return MT_OK;
    if (e->type == MT_CONFIG_DOUBLE)
        return mt_error_set(err, MT_ERANGE, "config %s: %s is outside %g..%g", e->name, value, r->lo, r->hi);
    return mt_error_set(err, MT_ERANGE, "config %s: %s is outside %lld..%lld", e->name, value, (long long)r->lo,
                        (long long)r->hi);
}

static entry *find(const char *name)
{
    for (size_t i = 0; i < NENTRIES; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

static mt_status parse_into(entry *e, const char *value, mt_error *err)
{
    char *end = NULL;
    errno = 0;
    switch (e->type) {
    case MT_CONFIG_INT64: {
        long long v = strtoll(value, &end, 0);
        if (errno || end == value || *end)
            return mt_error_set(err, MT_EINVAL, "config %s: '%s' is not an integer", e->name, value);
        MT_RETURN_NOT_OK(check_range(e, (double)v, value, err));
        e->i = v;
        break;
    }
    case MT_CONFIG_DOUBLE: {
        double v = strtod(value, &end);
        if (errno || end == value || *end)
            return mt_error_set(err, MT_EINVAL, "config %s: '%s' is not a number", e->name, value);
        MT_RETURN_NOT_OK(check_range(e, v, value, err));
        e->d = v;
        break;
    }
    case MT_CONFIG_BOOL:
        if (!strcmp(value, "1") || !strcasecmp(value, "true") || !strcasecmp(value, "yes"))
            e->i = 1;
        else if (!strcmp(value, "0") || !strcasecmp(value, "false") || !strcasecmp(value, "no"))
            e->i = 0;
        else
            return mt_error_set(err, MT_EINVAL, "config %s: '%s' is not a boolean", e->name, value);
        break;
    case MT_CONFIG_STRING: {
        char *s = mt__strdup_permanent(value);
        if (!s) return mt_error_set(err, MT_ENOMEM, "config %s", e->name);
        mt_free(e->s);
        e->s = s;
        break;
    }
    }
    e->set = true;
    return MT_OK;
}

static void ensure_defaults(void)
{
    static bool done;
    if (done) return;
    done = true;
    for (size_t i = 0; i < NENTRIES; i++) {
        entry *e = &table[i];
        const char *def = e->def;
        char buf[256];
        if (e->type == MT_CONFIG_STRING && def[0] == '"') { /* strip the stringized quotes */
            snprintf(buf, sizeof buf, "%.*s", (int)strlen(def) - 2, def + 1);
            def = buf;
        }
        if (parse_into(e, def, NULL) != MT_OK) abort(); /* a bad default is a build bug */
        e->set = false;
    }
}

mt_status mt_config_load(mt_error *err)
{
    ensure_defaults();
    for (size_t i = 0; i < NENTRIES; i++) {
        char var[128] = "MANTA_";
        size_t k = 6;
        for (const char *p = table[i].name; *p && k < sizeof var - 1; p++)
            var[k++] = (char)toupper((unsigned char)*p);
        var[k] = '\0';
        const char *v = getenv(var);
        if (v && parse_into(&table[i], v, err) != MT_OK)
            return mt_error_prefix(err, "environment %s", var);
    }
    mt__log_threshold = (int)table[MT__CFG_log_level].i;
    return MT_OK;
}

mt_status mt_config_set(const char *name, const char *value, mt_error *err)
{
    ensure_defaults();
    entry *e = find(name);
    if (!e) return mt_error_set(err, MT_ENOTFOUND, "unknown config '%s'", name);
    return parse_into(e, value, err);
}

static entry *get(const char *name, mt_config_type type)
{
    ensure_defaults();
    entry *e = find(name);
    if (!e || e->type != type) abort(); /* programmer error: unknown tunable */
    return e;
}

static entry *at(enum mt__config_key key, mt_config_type type)
{
    ensure_defaults();
    if ((size_t)key >= NENTRIES || table[key].type != type) abort(); /* programmer error */
    return &table[key];
}

int64_t mt__config_int64_at(enum mt__config_key key) { return at(key, MT_CONFIG_INT64)->i; }
double mt__config_double_at(enum mt__config_key key) { return at(key, MT_CONFIG_DOUBLE)->d; }
bool mt__config_bool_at(enum mt__config_key key) { return at(key, MT_CONFIG_BOOL)->i != 0; }
const char *mt__config_string_at(enum mt__config_key key) { return at(key, MT_CONFIG_STRING)->s; }

int64_t mt_config_int64(const char *name) { return get(name, MT_CONFIG_INT64)->i; }
double mt_config_double(const char *name) { return get(name, MT_CONFIG_DOUBLE)->d; }
bool mt_config_bool(const char *name) { return get(name, MT_CONFIG_BOOL)->i != 0; }
const char *mt_config_string(const char *name) { return get(name, MT_CONFIG_STRING)->s; }

void mt_config_dump(void *fp)
{
    ensure_defaults();
    FILE *f = fp;
    for (size_t i = 0; i < NENTRIES; i++) {
        entry *e = &table[i];
        switch (e->type) {
        case MT_CONFIG_INT64: fprintf(f, "%s = %lld", e->name, (long long)e->i); break;
        case MT_CONFIG_DOUBLE: fprintf(f, "%s = %g", e->name, e->d); break;
        case MT_CONFIG_BOOL: fprintf(f, "%s = %s", e->name, e->i ? "true" : "false"); break;
        case MT_CONFIG_STRING: /* a secret is shown as set or not, never its value */
            fprintf(f, "%s = %s", e->name, strcmp(e->name, "token") || !*e->s ? e->s : "(set)");
            break;
        }
        fprintf(f, "  # %s\n", e->doc);
    }
}
