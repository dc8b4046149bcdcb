/* Tests of the rpc module's pure parts: address parsing, token files, frame
 * encoding, the constant-time comparison and the protobuf allocator. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/common.pb-c.h"
#include "rpc/rpc.h"

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
