/* Tests of the rpc module's pure parts: address parsing, token files, frame
 * encoding and parsing, the Auth-frame check, the constant-time comparison
 * and the protobuf allocator. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/common.pb-c.h"
#include "rpc/rpc_int.h"

Test(addr, parses_every_form)
{
    mt_rpc_addr a;
    mt_error err;
    cr_assert_eq(mt_rpc_addr_parse("tcp://127.0.0.1:6379", &a, &err), MT_OK);
    cr_assert(!a.is_unix);
    cr_assert_str_eq(a.host, "127.0.0.1");
    cr_assert_eq(a.port, 6379);
    cr_assert_eq(mt_rpc_addr_parse("localhost:0", &a, &err), MT_OK);
    cr_assert_str_eq(a.host, "localhost");
    cr_assert_eq(a.port, 0);
    cr_assert_eq(mt_rpc_addr_parse("unix:///tmp/x/node.sock", &a, &err), MT_OK);
    cr_assert(a.is_unix);
    cr_assert_str_eq(a.path, "/tmp/x/node.sock");
    cr_assert_eq(mt_rpc_addr_parse("unix:/a/b", &a, &err), MT_OK);
    cr_assert_str_eq(a.path, "/a/b");
    cr_assert_eq(mt_rpc_addr_parse("tcp://[::1]:80", &a, &err), MT_OK);
    cr_assert_str_eq(a.host, "::1");
    cr_assert_eq(a.port, 80);
}

Test(addr, rejects_bad_forms)
{
    mt_rpc_addr a;
    mt_error err;
    cr_assert_eq(mt_rpc_addr_parse("127.0.0.1", &a, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "address '127.0.0.1': expected HOST:PORT");
    cr_assert_eq(mt_rpc_addr_parse("h:70000", &a, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "address 'h:70000': bad port");
    cr_assert_eq(mt_rpc_addr_parse("h:12x", &a, &err), MT_EINVAL);
    cr_assert_eq(mt_rpc_addr_parse("http://h:1", &a, &err), MT_EINVAL);
    cr_assert_str_eq(err.msg, "address 'http://h:1': unknown scheme");
    cr_assert_eq(mt_rpc_addr_parse("", &a, &err), MT_EINVAL);
    char longp[200];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "unix:///", 8);
    longp[199] = 0;
    cr_assert_eq(mt_rpc_addr_parse(longp, &a, &err), MT_EINVAL);
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/rpc-basics-%d-%s", MT_BINARY_DIR, (int)getpid(), name);
}

Test(token, create_then_load_round_trips)
{
    char path[512];
    tmp_path(path, sizeof path, "token");
    uint8_t t1[MT_RPC_TOKEN_BYTES], t2[MT_RPC_TOKEN_BYTES];
    mt_error err;
    cr_assert_eq(mt_rpc_token_create(path, t1, &err), MT_OK, "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(st.st_size, 2 * MT_RPC_TOKEN_BYTES + 1);
    cr_assert_eq(mt_rpc_token_load(path, t2, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(memcmp(t1, t2, sizeof t1), 0);
    uint8_t t3[MT_RPC_TOKEN_BYTES];
    cr_assert_eq(mt_rpc_token_create(path, t3, &err), MT_OK);
    cr_assert_neq(memcmp(t1, t3, sizeof t1), 0);
    unlink(path);
}

Test(token, refuses_open_modes_and_garbage)
{
    char path[512], msg[700];
    tmp_path(path, sizeof path, "token2");
    uint8_t t[MT_RPC_TOKEN_BYTES];
    mt_error err;
    cr_assert_eq(mt_rpc_token_create(path, t, &err), MT_OK);
    chmod(path, 0644);
    cr_assert_eq(mt_rpc_token_load(path, t, &err), MT_EINVAL);
    snprintf(msg, sizeof msg, "token %s is readable by group or other (mode 644)", path);
    cr_assert_str_eq(err.msg, msg);
    int fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "zz", 2), 2);
    close(fd);
    chmod(path, 0600);
    cr_assert_eq(mt_rpc_token_load(path, t, &err), MT_ECORRUPT);
    unlink(path);
    cr_assert_eq(mt_rpc_token_load(path, t, &err), MT_ENOTFOUND);
}

Test(frame, encodes_the_documented_header)
{
    Manta__Status s = MANTA__STATUS__INIT;
    s.status = 4;
    s.message = "gone";
    uint8_t *buf;
    size_t n;
    mt_error err;
    cr_assert_eq(mt_rpc_frame_encode(0x1234, MT_RPC_FLAG_REPLY, 0x0102030405060708ull, -2, &s.base,
                                     &buf, &n, &err), MT_OK);
    size_t plen = protobuf_c_message_get_packed_size(&s.base);
    cr_assert_eq(n, MT_RPC_HEADER_BYTES + plen);
    const uint8_t want[24] = {(uint8_t)plen, 0, 0, 0, 0x34, 0x12, 1, 0,
                              8, 7, 6, 5, 4, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    cr_assert_eq(memcmp(buf, want, 24), 0);
    Manta__Status *d = manta__status__unpack(&mt_rpc_pb_allocator, plen, buf + 24);
    cr_assert_not_null(d);
    cr_assert_eq(d->status, 4);
    cr_assert_str_eq(d->message, "gone");
    manta__status__free_unpacked(d, &mt_rpc_pb_allocator);
    mt_free(buf);
}

/* One frame: header + payload, as the readers receive it. */
static size_t make_frame(uint8_t *out, uint16_t method, uint16_t flags, const void *p, size_t n)
{
    mt__rpc_hdr h = {(uint32_t)n, method, flags, 42, -3};
    mt__rpc_hdr_put(out, &h);
    memcpy(out + MT_RPC_HEADER_BYTES, p, n);
    return MT_RPC_HEADER_BYTES + n;
}

Test(frame, parse_cuts_complete_frames_and_asks_for_the_rest)
{
    uint8_t buf[128];
    size_t n = make_frame(buf, 300, MT_RPC_FLAG_REPLY, "hello", 5), need = 0;
    mt_rpc_msg m;
    cr_assert_eq(mt__rpc_frame_parse(NULL, 0, 1024, false, &m, &need), MT__RPC_FRAME_NEED);
    cr_assert_eq(need, MT_RPC_HEADER_BYTES);
    cr_assert_eq(mt__rpc_frame_parse(buf, 23, 1024, false, &m, &need), MT__RPC_FRAME_NEED);
    cr_assert_eq(need, MT_RPC_HEADER_BYTES);
    cr_assert_eq(mt__rpc_frame_parse(buf, n - 1, 1024, false, &m, &need), MT__RPC_FRAME_NEED);
    cr_assert_eq(need, n);
    cr_assert_eq(mt__rpc_frame_parse(buf, n, 1024, false, &m, &need), MT__RPC_FRAME_OK);
    cr_assert_eq(need, n);
    cr_assert_eq(m.method, 300);
    cr_assert_eq(m.flags, MT_RPC_FLAG_REPLY);
    cr_assert_eq(m.req_id, 42);
    cr_assert_eq(m.status, -3);
    cr_assert_eq(m.len, 5);
    cr_assert_eq(m.payload, buf + MT_RPC_HEADER_BYTES);
    cr_assert_eq(m.fd, -1);
}

Test(frame, parse_refuses_oversize_and_missing_descriptors)
{
    uint8_t buf[128];
    size_t n = make_frame(buf, 7, MT_RPC_FLAG_FD, "abcdefgh", 8), need = 0;
    mt_rpc_msg m;
    cr_assert_eq(mt__rpc_frame_parse(buf, n, 7, true, &m, &need), MT__RPC_FRAME_OVERSIZE);
    cr_assert_eq(need - MT_RPC_HEADER_BYTES, 8); /* the claimed length, for the log line */
    cr_assert_eq(mt__rpc_frame_parse(buf, n, 8, false, &m, &need), MT__RPC_FRAME_NO_FD);
    cr_assert_eq(mt__rpc_frame_parse(buf, n, 8, true, &m, &need), MT__RPC_FRAME_OK);
    /* a header claiming 4 GiB is refused from the header alone */
    mt__rpc_hdr h = {UINT32_MAX, 7, 0, 1, 0};
    mt__rpc_hdr_put(buf, &h);
    cr_assert_eq(mt__rpc_frame_parse(buf, MT_RPC_HEADER_BYTES, 1 << 20, false, &m, &need),
                 MT__RPC_FRAME_OVERSIZE);
}

Test(frame, auth_check_accepts_only_an_auth_request_with_the_token)
{
    uint8_t token[MT_RPC_TOKEN_BYTES], other[MT_RPC_TOKEN_BYTES];
    for (int i = 0; i < MT_RPC_TOKEN_BYTES; i++) token[i] = (uint8_t)i, other[i] = (uint8_t)(i + 1);
    Manta__AuthRequest ar = MANTA__AUTH_REQUEST__INIT;
    ar.token.data = token;
    ar.token.len = MT_RPC_TOKEN_BYTES;
    ar.client_kind = "driver";
    uint8_t payload[256];
    size_t plen = protobuf_c_message_pack(&ar.base, payload);
    mt_rpc_msg m = {MT_RPC_METHOD_AUTH, 0, 0, 0, payload, plen, -1};
    char why[96] = "";
    cr_assert(mt__rpc_auth_check(&m, token, why, sizeof why));
    cr_assert(!mt__rpc_auth_check(&m, other, why, sizeof why));
    cr_assert_str_eq(why, "wrong token");
    m.flags = MT_RPC_FLAG_ONEWAY;
    cr_assert(!mt__rpc_auth_check(&m, token, why, sizeof why));
    cr_assert_str_eq(why, "first frame is method 1, not Auth");
    m.flags = 0;
    m.method = 9;
    cr_assert(!mt__rpc_auth_check(&m, token, why, sizeof why));
    cr_assert_str_eq(why, "first frame is method 9, not Auth");
    m.method = MT_RPC_METHOD_AUTH;
    m.len = 3; /* a truncated length-delimited field */
    cr_assert(!mt__rpc_auth_check(&m, token, why, sizeof why));
    cr_assert_str_eq(why, "undecodable AuthRequest");
    ar.token.len = 31; /* a short token never matches */
    m.len = protobuf_c_message_pack(&ar.base, payload);
    cr_assert(!mt__rpc_auth_check(&m, token, why, sizeof why));
    cr_assert_str_eq(why, "wrong token");
}

Test(frame, oversize_payload_is_refused)
{
    mt_error err;
    cr_assert_eq(mt_config_set("rpc_max_frame_bytes", "16", &err), MT_OK);
    Manta__Status s = MANTA__STATUS__INIT;
    s.message = "a message longer than sixteen bytes";
    uint8_t *buf;
    size_t n;
    cr_assert_eq(mt_rpc_frame_encode(900, 0, 1, 0, &s.base, &buf, &n, &err), MT_ERANGE);
    cr_assert_null(buf);
    cr_assert_str_eq(err.msg, "rpc frame of 37 bytes exceeds rpc_max_frame_bytes 16");
}
