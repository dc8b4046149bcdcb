/* libFuzzer target: what the node daemon does with an untrusted request
 * before touching its state — protobuf unpack on mt_rpc_pb_allocator of
 * RequestLease / RegisterWorker / KillWorker / CreateObject / GetObject /
 * ObjectId / Auth / PullObjects / ListObjects requests, and the validation it runs on them: resources
 * (mt__node_res_from_pb, then fits/sub/add/format against a node total),
 * id fields (mt__node_id_from_pb), the worker address check; plus the
 * `--resources` JSON parser (mt__node_res_parse_json). The first input byte
 * picks the message. Must never crash, leak or trigger UB. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

static void check(bool ok)
{
    if (!ok) abort();
}

static void resources(const Manta__ResourceSet *pb)
{
    node_res d, total, avail;
    mt_error err;
    char buf[512];
    if (mt__node_res_from_pb(pb, &d, &err) != MT_OK) {
        check(err.msg[0] != 0);
        return;
    }
    check(mt__node_res_parse_json("{\"GPU\": 2, \"custom\": 0.5}", &total, &err) == MT_OK);
    check(mt__node_res_add_named(&total, "CPU", 4 * NODE_RES_SCALE, &err) == MT_OK);
    avail = total;
    mt__node_res_format(&d, buf, sizeof buf);
    check(strlen(buf) < sizeof buf);
    if (mt__node_res_fits(&avail, &d)) {
        mt__node_res_sub(&avail, &d);
        mt__node_res_add(&avail, &d);
        check(!memcmp(avail.q, total.q, sizeof total.q)); /* lease and return restore the total */
    }
    node_res_pb v;
    mt__node_res_to_pb(&d, &v);
    check(v.set.n_quantities == (size_t)d.n);
}

static void id_field(ProtobufCBinaryData b)
{
    mt_id id;
    check(mt__node_id_from_pb(b, &id) == (b.len == MT_ID_SIZE));
}

static void resources_json(const uint8_t *data, size_t size)
{
    char *text = mt_malloc(size + 1);
    if (!text) return;
    memcpy(text, data, size);
    text[size] = '\0';
    node_res r;
    mt_error err;
    if (mt__node_res_parse_json(text, &r, &err) == MT_OK) {
        char buf[4096];
        mt__node_res_format(&r, buf, sizeof buf);
        for (int i = 0; i < r.n; i++) check(r.q[i] >= 0 && r.name[i][0]);
    } else {
        check(err.msg[0] != 0);
    }
    mt_free(text);
}

#define UNPACK(T, fn, body)                                                    \
    do {                                                                       \
        T *req = fn##__unpack(&mt_rpc_pb_allocator, size, data);              \
        if (!req) break;                                                       \
        body;                                                                  \
        fn##__free_unpacked(req, &mt_rpc_pb_allocator);                        \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned which = data[0] % 10;
    data++;
    size--;
    switch (which) {
    case 0:
        UNPACK(Manta__RequestLeaseRequest, manta__request_lease_request, resources(req->resources));
        break;
    case 1:
        UNPACK(Manta__RegisterWorkerRequest, manta__register_worker_request, {
            id_field(req->worker_id);
            const char *addr = req->address ? req->address : "";
            char w[256];
            if (addr[0] && strlen(addr) < sizeof w) snprintf(w, sizeof w, "%s", addr);
        });
        break;
    case 2:
        UNPACK(Manta__KillWorkerRequest, manta__kill_worker_request, id_field(req->worker_id));
        break;
    case 3:
        UNPACK(Manta__CreateObjectRequest, manta__create_object_request, id_field(req->object_id));
        break;
    case 4:
        UNPACK(Manta__GetObjectRequest, manta__get_object_request, id_field(req->object_id));
        break;
    case 5:
        UNPACK(Manta__ObjectIdRequest, manta__object_id_request, id_field(req->object_id));
        break;
    case 6:
        UNPACK(Manta__AuthRequest, manta__auth_request, {
            char kind[32];
            snprintf(kind, sizeof kind, "%s", req->client_kind ? req->client_kind : "");
        });
        break;
    case 8:
        UNPACK(Manta__PullObjectsRequest, manta__pull_objects_request, {
            for (size_t i = 0; i < req->n_objects; i++) {
                id_field(req->objects[i]->object_id);
                mt_rpc_addr a;
                mt_error err;
                if (mt_rpc_addr_parse(req->objects[i]->source ? req->objects[i]->source : "", &a, &err) != MT_OK)
                    check(err.msg[0] != 0);
            }
        });
        break;
    case 9:
        UNPACK(Manta__ListObjectsRequest, manta__list_objects_request, check(req->limit == req->limit));
        break;
    default:
        resources_json(data, size);
    }
    return 0;
}
