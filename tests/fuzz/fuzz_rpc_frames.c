/* libFuzzer target: the RPC frame reader. Arbitrary bytes arrive in chunks
 * (sizes drawn from the input) into a growable read buffer, exactly as the
 * connection reader grows and compacts it; mt__rpc_frame_parse cuts frames,
 * the first one goes through the server's Auth gate (mt__rpc_auth_check),
 * later ones through the decoders the readers apply (Auth reply, error
 * Status). Each frame is re-encoded and must parse back to the same header.
 * Must never crash, hang, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

#define MAX_FRAME (1u << 20)

static const uint8_t TOKEN[MT_RPC_TOKEN_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void check(bool ok)
{
    if (!ok) abort();
}

/* What the readers do with one frame; `first` is the server's first frame. False: closed. */
static bool consume(const mt_rpc_msg *m, bool first)
{
    char why[96] = "";
    if (first) {
        bool ok = mt__rpc_auth_check(m, TOKEN, why, sizeof why);
        check(ok || why[0]);
        return ok;
    }
    if (m->method == MT_RPC_METHOD_AUTH && (m->flags & MT_RPC_FLAG_REPLY)) {
        Manta__AuthReply *r = manta__auth_reply__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
        if (r) manta__auth_reply__free_unpacked(r, &mt_rpc_pb_allocator);
    } else if (m->status != 0) {
        Manta__Status *s = manta__status__unpack(&mt_rpc_pb_allocator, m->len, m->payload);
        if (s) manta__status__free_unpacked(s, &mt_rpc_pb_allocator);
    }
    /* round trip: the frame re-encoded from its parts parses back the same */
    mt__rpc_buf b = {0};
    mt__rpc_hdr h = {0, m->method, m->flags, m->req_id, m->status};
    if (mt__rpc_buf_frame(&b, &h, NULL, m->payload, m->len, NULL) == MT_OK) {
        mt_rpc_msg back;
        size_t need;
        check(mt__rpc_frame_parse(b.data, b.len, MAX_FRAME, true, &back, &need) == MT__RPC_FRAME_OK);
        check(need == b.len && back.len == m->len && back.method == m->method &&
              back.flags == m->flags && back.req_id == m->req_id && back.status == m->status &&
              (m->len == 0 || memcmp(back.payload, m->payload, m->len) == 0));
    }
    mt__rpc_buf_free(&b);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    unsigned chunk_seed = data[0], fd_bits = data[1];
    data += 2;
    size -= 2;
    mt__rpc_buf in = {0};
    size_t pos = 0;
    int fds = 0, frames = 0;
    bool dead = false;
    while (pos < size && !dead) {
        size_t n = 1 + (chunk_seed * 37u + pos) % 97u;
        if (n > size - pos) n = size - pos;
        if (!mt__rpc_buf_reserve(&in, n < 65536 ? 65536 : n)) break;
        check(in.cap - in.len >= n);
        memcpy(in.data + in.len, data + pos, n);
        in.len += n;
        pos += n;
        if (fd_bits & 1) fds++; /* this read brought a descriptor */
        fd_bits = ((fd_bits >> 1) | (fd_bits << 7)) & 0xffu;
        for (;;) {
            size_t have = in.len - in.off, need = 0;
            mt_rpc_msg m;
            mt__rpc_frame_result r =
                mt__rpc_frame_parse(have ? in.data + in.off : NULL, have, MAX_FRAME, fds > 0, &m, &need);
            if (r == MT__RPC_FRAME_NEED) {
                check(need >= MT_RPC_HEADER_BYTES && (need > have || have < MT_RPC_HEADER_BYTES));
                if (need > MT_RPC_HEADER_BYTES && !mt__rpc_buf_reserve(&in, need - have)) dead = true;
                break;
            }
            if (r != MT__RPC_FRAME_OK) {
                check(r == MT__RPC_FRAME_NO_FD || need - MT_RPC_HEADER_BYTES > MAX_FRAME);
                dead = true; /* the reader closes the connection */
                break;
            }
            check(need == MT_RPC_HEADER_BYTES + m.len && need <= have && m.fd == -1);
            if (m.flags & MT_RPC_FLAG_FD) fds--;
            in.off += need;
            if (!consume(&m, frames++ == 0)) {
                dead = true;
                break;
            }
        }
    }
    mt__rpc_buf_free(&in);
    return 0;
}
