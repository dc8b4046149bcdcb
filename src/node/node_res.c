/*
 * node_res.c — resource sets of the node daemon: named quantities in fixed
 * point (1/10000 units, so fractional CPUs add and subtract exactly), their
 * wire form, parsing of the --resources JSON and the "{CPU: 64}" format used
 * in messages. Main thread only (pure functions on caller memory).
 * Invariant: names are unique within a set, 1..63 bytes; quantities >= 0
 * except transiently never (sub is only called after fits).
 */
#include <ctype.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

void mt__node_res_clear(node_res *r) { r->n = 0; }

static int find(const node_res *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->name[i], name)) return i;
    return -1;
}

int64_t mt__node_res_get(const node_res *r, const char *name)
{
    int i = find(r, name);
    return i < 0 ? 0 : r->q[i];
}

mt_status mt__node_res_add_named(node_res *r, const char *name, int64_t q, mt_error *err)
{
    size_t len = strlen(name);
    if (len == 0 || len >= NODE_RES_NAME)
        return mt_error_set(err, MT_EINVAL, "resource name '%.64s' must be 1..%d bytes", name,
                            NODE_RES_NAME - 1);
    int i = find(r, name);
    if (i < 0) {
        if (r->n >= NODE_RES_MAX)
            return mt_error_set(err, MT_ERANGE, "more than %d resources", NODE_RES_MAX);
        i = r->n++;
        memcpy(r->name[i], name, len + 1);
        r->q[i] = 0;
    }
    if (q > INT64_MAX - r->q[i]) /* a request may repeat a name; q >= 0 always */
        return mt_error_set(err, MT_ERANGE, "resource '%s': total quantity out of range", name);
    r->q[i] += q;
    return MT_OK;
}

static mt_status to_fixed(const char *name, double v, int64_t *out, mt_error *err)
{
    if (!isfinite(v) || v < 0 || v > 9e13)
        return mt_error_set(err, MT_EINVAL, "resource '%s': quantity %g out of range", name, v);
    *out = (int64_t)llround(v * NODE_RES_SCALE);
    return MT_OK;
}

mt_status mt__node_res_from_pb(const Manta__ResourceSet *pb, node_res *out, mt_error *err)
{
    mt__node_res_clear(out);
    size_t n = pb ? pb->n_quantities : 0;
    for (size_t i = 0; i < n; i++) {
        const Manta__ResourceSet__QuantitiesEntry *e = pb->quantities[i];
        const char *name = e && e->key ? e->key : "";
        int64_t q = 0;
        MT_RETURN_NOT_OK(to_fixed(name, e ? e->value : 0, &q, err));
        if (q == 0) continue;
        MT_RETURN_NOT_OK(mt__node_res_add_named(out, name, q, err));
    }
    if (n == 0) return mt__node_res_add_named(out, "CPU", NODE_RES_SCALE, err);
    return MT_OK;
}

void mt__node_res_to_pb(const node_res *r, node_res_pb *out)
{
    Manta__ResourceSet init = MANTA__RESOURCE_SET__INIT;
    out->set = init;
    for (int i = 0; i < r->n; i++) {
        Manta__ResourceSet__QuantitiesEntry e = MANTA__RESOURCE_SET__QUANTITIES_ENTRY__INIT;
        e.key = (char *)r->name[i];
        e.value = (double)r->q[i] / NODE_RES_SCALE;
        out->e[i] = e;
        out->ep[i] = &out->e[i];
    }
    out->set.n_quantities = (size_t)r->n;
    out->set.quantities = r->n ? out->ep : NULL;
}

static const char *skip_ws(const char *p)
{
    while (isspace((unsigned char)*p)) p++;
    return p;
}

/* One "name": number pair at *pp. */
static mt_status parse_pair(const char **pp, node_res *out, mt_error *err)
{
    const char *p = skip_ws(*pp);
    if (*p != '"') return mt_error_set(err, MT_EPARSE, "--resources: expected a quoted name");
    const char *end = strchr(p + 1, '"');
    if (!end || end - p - 1 >= NODE_RES_NAME || end == p + 1)
        return mt_error_set(err, MT_EPARSE, "--resources: bad resource name");
    char name[NODE_RES_NAME];
    memcpy(name, p + 1, (size_t)(end - p - 1));
    name[end - p - 1] = '\0';
    p = skip_ws(end + 1);
    if (*p != ':') return mt_error_set(err, MT_EPARSE, "--resources: expected ':' after \"%s\"", name);
    char *num_end;
    double v = strtod(p + 1, &num_end);
    if (num_end == p + 1)
        return mt_error_set(err, MT_EPARSE, "--resources: \"%s\" needs a number", name);
    int64_t q = 0;
    MT_RETURN_NOT_OK(to_fixed(name, v, &q, err));
    if (find(out, name) >= 0)
        return mt_error_set(err, MT_EPARSE, "--resources: \"%s\" given twice", name);
    MT_RETURN_NOT_OK(mt__node_res_add_named(out, name, q, err));
    *pp = num_end;
    return MT_OK;
}

mt_status mt__node_res_parse_json(const char *text, node_res *out, mt_error *err)
{
    mt__node_res_clear(out);
    const char *p = skip_ws(text);
    if (*p++ != '{') return mt_error_set(err, MT_EPARSE, "--resources: expected a JSON object");
    p = skip_ws(p);
    if (*p == '}') return *skip_ws(p + 1) ? mt_error_set(err, MT_EPARSE, "--resources: trailing text") : MT_OK;
    for (;;) {
        MT_RETURN_NOT_OK(parse_pair(&p, out, err));
        p = skip_ws(p);
        if (*p == ',') { p++; continue; }
        if (*p != '}') return mt_error_set(err, MT_EPARSE, "--resources: expected ',' or '}'");
        if (*skip_ws(p + 1)) return mt_error_set(err, MT_EPARSE, "--resources: trailing text");
        return MT_OK;
    }
}

bool mt__node_res_fits(const node_res *avail, const node_res *demand)
{
    for (int i = 0; i < demand->n; i++)
        if (demand->q[i] > mt__node_res_get(avail, demand->name[i])) return false;
    return true;
}

void mt__node_res_sub(node_res *avail, const node_res *demand)
{
    for (int i = 0; i < demand->n; i++) {
        int j = find(avail, demand->name[i]);
        if (j >= 0) avail->q[j] -= demand->q[i];
    }
}

void mt__node_res_add(node_res *avail, const node_res *demand)
{
    for (int i = 0; i < demand->n; i++) {
        int j = find(avail, demand->name[i]);
        if (j >= 0) avail->q[j] += demand->q[i];
    }
}

void mt__node_res_format(const node_res *r, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0) return;
    buf[0] = '\0';
    len += (size_t)snprintf(buf, cap, "{");
    for (int i = 0; i < r->n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s: %.10g", i ? ", " : "", r->name[i],
                                (double)r->q[i] / NODE_RES_SCALE);
    if (len < cap) snprintf(buf + len, cap - len, "}");
}
