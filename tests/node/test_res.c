/*
 * test_res.c — the node daemon's resource sets (node_res.c) on untrusted
 * input: a lease request's ResourceSet and the --resources JSON. Regression
 * tests for what fuzz_node_requests found.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "node/node_int.h"

Test(res, duplicate_names_in_a_request_add_up_without_overflow)
{
    /* a map may repeat a key on the wire; each value is in range, their sum is not */
    Manta__ResourceSet__QuantitiesEntry e[12], *ep[12];
    for (int i = 0; i < 12; i++) {
        Manta__ResourceSet__QuantitiesEntry init = MANTA__RESOURCE_SET__QUANTITIES_ENTRY__INIT;
        e[i] = init;
        e[i].key = "CPU";
        e[i].value = 9e13;
        ep[i] = &e[i];
    }
    Manta__ResourceSet pb = MANTA__RESOURCE_SET__INIT;
    pb.n_quantities = 2;
    pb.quantities = ep;
    node_res r;
    mt_error err;
    cr_assert_eq(mt__node_res_from_pb(&pb, &r, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.q[0], (int64_t)2 * 9e13 * NODE_RES_SCALE);
    pb.n_quantities = 12;
    cr_assert_eq(mt__node_res_from_pb(&pb, &r, &err), MT_ERANGE);
    cr_assert_str_eq(err.msg, "resource 'CPU': total quantity out of range");
}

Test(res, json_parses_and_rejects_exactly)
{
    node_res r;
    mt_error err;
    cr_assert_eq(mt__node_res_parse_json(" {\"GPU\": 2, \"x\":0.25} ", &r, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(mt__node_res_get(&r, "GPU"), 2 * NODE_RES_SCALE);
    cr_assert_eq(mt__node_res_get(&r, "x"), NODE_RES_SCALE / 4);
    cr_assert_eq(mt__node_res_parse_json("{\"a\": 1, \"a\": 2}", &r, &err), MT_EPARSE);
    cr_assert_str_eq(err.msg, "--resources: \"a\" given twice");
    cr_assert_eq(mt__node_res_parse_json("{\"a\": inf}", &r, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "resource 'a': quantity inf out of range");
    cr_assert_eq(mt__node_res_parse_json("{\"a\": 1} x", &r, &err), MT_EPARSE);
    cr_assert_str_eq(err.msg, "--resources: trailing text");
}
