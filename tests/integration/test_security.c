/*
 * test_security.c — a running cluster refuses connections that do not
 * authenticate (garbage bytes, an oversize header, a first frame that is not
 * Auth, an Auth frame with a wrong token) on every listening socket — the
 * control store's TCP port, the node daemon's TCP port and unix socket, the
 * workers' unix sockets — and keeps working; a second `manta start --head`
 * is refused and changes nothing.
 */
#include "integration/itest_cluster.h"

#include <poll.h>
#include <sys/resource.h>
#include <sys/un.h>

#include "proto/common.pb-c.h"
#include "proto/gcs.pb-c.h"
#include "proto/node.pb-c.h"
#include "rpc/rpc.h"

static itest_cluster C;

static void teardown(void)
{
    itest_teardown(&C);
}

static int dial(const char *address)
{
    mt_rpc_addr a;
    mt_error err = {0};
    cr_assert_eq(mt_rpc_addr_parse(address, &a, &err), MT_OK, "%s: %s", address, err.msg);
    int fd;
    if (a.is_unix) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", a.path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect %s: %s",
                  address, strerror(errno));
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a.port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect %s: %s",
                  address, strerror(errno));
    }
    return fd;
}

/*
 * Sends `bytes` as the first thing on a new connection and asserts that the
 * server closes it within `limit` seconds without ever answering with a
 * success status.
 */
static void expect_refused_within(const char *address, const void *bytes, size_t n, const char *what,
                                  double limit)
{
    int fd = dial(address);
    if (n)
        cr_assert_eq(send(fd, bytes, n, MSG_NOSIGNAL), (ssize_t)n, "%s to %s: send", what, address);
    uint8_t buf[4096];
    size_t got = 0;
    bool closed = false;
    double deadline = itest_now() + limit;
    while (!closed && itest_now() < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = recv(fd, buf + got, sizeof buf - got, 0);
        if (r <= 0)
            closed = true; /* EOF or ECONNRESET */
        else
            got += (size_t)r;
        if (got == sizeof buf)
            got = 0;
    }
    close(fd);
    cr_assert(closed, "%s to %s: connection still open after %.1f s", what, address, limit);
    /* If the server replied before closing, that reply must carry an error status. */
    if (got >= MT_RPC_HEADER_BYTES) {
        int32_t status;
        memcpy(&status, buf + 16, 4);
        cr_assert_neq(status, 0, "%s to %s: server answered with success", what, address);
    }
}

static void expect_refused(const char *address, const void *bytes, size_t n, const char *what)
{
    expect_refused_within(address, bytes, n, what, 5);
}

static void refuse_all_kinds(const char *address)
{
    /* Before Auth a peer may not make the server hold a big frame: a 1 MiB
     * claim (well under rpc_max_frame_bytes) is closed at once, not buffered. */
    uint8_t claim[MT_RPC_HEADER_BYTES] = {0x00, 0x00, 0x10, 0x00, 1, 0};
    expect_refused_within(address, claim, sizeof claim, "a 1 MiB frame before Auth", 1.0);
    /* A silent client is closed after rpc_connect_timeout_ms (1 s here). */
    expect_refused_within(address, NULL, 0, "a silent client", 4.0);

    char garbage[256];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 37 + 11);
    expect_refused(address, garbage, sizeof garbage, "garbage bytes");
    expect_refused(address, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, "an HTTP request");

    uint8_t hdr[MT_RPC_HEADER_BYTES] = {0xf0, 0xff, 0xff, 0xff, 1, 0}; /* 4 GiB payload, Auth */
    expect_refused(address, hdr, sizeof hdr, "an oversize frame header");

    /* A well-formed frame that is not Auth. */
    uint8_t *frame = NULL;
    size_t len = 0;
    Manta__Empty empty = MANTA__EMPTY__INIT;
    cr_assert_eq(mt_rpc_frame_encode(MANTA__NODE_METHOD__NODE_GET_STATS, 0, 1, 0,
                                     &empty.base, &frame, &len, NULL),
                 MT_OK);
    expect_refused(address, frame, len, "a first frame that is not Auth");
    mt_free(frame);

    /* Auth with a wrong token of the right length. */
    uint8_t wrong[MT_RPC_TOKEN_BYTES];
    memset(wrong, 0xab, sizeof wrong);
    Manta__AuthRequest auth = MANTA__AUTH_REQUEST__INIT;
    auth.token.data = wrong;
    auth.token.len = sizeof wrong;
    auth.client_kind = "driver";
    auth.pid = getpid();
    cr_assert_eq(mt_rpc_frame_encode(MT_RPC_METHOD_AUTH, 0, 1, 0, &auth.base, &frame, &len,
                                     NULL),
                 MT_OK);
    expect_refused(address, frame, len, "Auth with a wrong token");
    mt_free(frame);

    /* The same through the client library: connect must fail. */
    mt_rpc_client *cl = NULL;
    mt_error err = {0};
    mt_status st = mt_rpc_client_connect(address, wrong, "driver", 5000, &cl, &err);
    cr_assert_neq(st, MT_OK, "client with a wrong token connected to %s", address);
    cr_assert_null(cl);
}

/* An authenticated call works on the same socket afterwards. */
static void expect_serving(const char *address, const uint8_t token[MT_RPC_TOKEN_BYTES],
                           uint16_t method, const ProtobufCMessageDescriptor *reply_desc)
{
    mt_rpc_client *cl = NULL;
    mt_error err = {0};
    mt_status st = mt_rpc_client_connect(address, token, "cli", 5000, &cl, &err);
    cr_assert_eq(st, MT_OK, "connect %s with the right token: %s: %s", address,
                 mt_status_name(st), err.msg);
    Manta__Empty empty = MANTA__EMPTY__INIT;
    ProtobufCMessage *reply = NULL;
    st = mt_rpc_client_call(cl, method, &empty.base, reply_desc, 5000, &reply, NULL, &err);
    cr_assert_eq(st, MT_OK, "method %u on %s: %s: %s", method, address, mt_status_name(st),
                 err.msg);
    protobuf_c_message_free_unpacked(reply, &mt_rpc_pb_allocator);
    mt_rpc_client_close(cl);
}

Test(integration, unauthenticated_connections_refused, .fini = teardown, .timeout = 180)
{
    itest_prepare(&C);
    setenv("MANTA_RPC_CONNECT_TIMEOUT_MS", "1000", 1); /* daemons and workers inherit it */
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});
    itest_connect(&C);
    itest_check_serving(); /* workers exist and are listening */

    char path[700];
    struct stat sb;
    snprintf(path, sizeof path, "%s/token", C.session);
    cr_assert_eq(stat(path, &sb), 0, "no token file %s", path);
    cr_assert_eq(sb.st_mode & 0777, 0600, "token mode %o", sb.st_mode & 0777);
    uint8_t token[MT_RPC_TOKEN_BYTES];
    mt_error err = {0};
    cr_assert_eq(mt_rpc_token_load(path, token, &err), MT_OK, "%s", err.msg);

    refuse_all_kinds(C.gcs_address);
    refuse_all_kinds(C.node_address);
    refuse_all_kinds(C.node_socket);
    char sockdir[700];
    snprintf(sockdir, sizeof sockdir, "%s/sockets", C.session);
    DIR *d = opendir(sockdir);
    cr_assert_not_null(d, "no %s", sockdir);
    int workers = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "w-", 2) != 0)
            continue;
        char addr[1100];
        snprintf(addr, sizeof addr, "unix://%s/%s", sockdir, e->d_name);
        refuse_all_kinds(addr);
        workers++;
    }
    closedir(d);
    cr_assert_geq(workers, 1, "no worker sockets under %s", sockdir);

    cr_assert(itest_pid_alive(C.gcs_pid), "control store died");
    cr_assert(itest_pid_alive(C.node_pid), "node daemon died");
    expect_serving(C.gcs_address, token, MANTA__GCS_METHOD__GCS_GET_CLUSTER_STATUS,
                   &manta__cluster_status_reply__descriptor);
    expect_serving(C.node_socket, token, MANTA__NODE_METHOD__NODE_GET_STATS,
                   &manta__node_stats_reply__descriptor);
    expect_serving(C.node_address, token, MANTA__NODE_METHOD__NODE_GET_STATS,
                   &manta__node_stats_reply__descriptor);
    itest_check_serving();
    mt_shutdown();
    itest_stop_check(&C);
}

/* utime + stime of a process, in clock ticks. */
static long cpu_ticks(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    ssize_t n = itest_read_file(path, buf, sizeof buf);
    cr_assert_gt(n, 0, "cannot read %s", path);
    const char *p = strrchr(buf, ')');
    cr_assert_not_null(p);
    long ut = 0, st = 0;
    /* fields after "comm)": state(3) ... utime(14) stime(15) */
    cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st), 2);
    return ut + st;
}

static int open_fds(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* Out of descriptors, the control store sheds new connections instead of
 * spinning on a readable listener, logs a bounded number of lines, and
 * serves again once descriptors are back. */
Test(integration, out_of_descriptors_sheds_without_spinning, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "1", NULL});
    char log[700], tokpath[700];
    snprintf(log, sizeof log, "%s/logs/gcs.log", C.session);
    snprintf(tokpath, sizeof tokpath, "%s/token", C.session);
    uint8_t token[MT_RPC_TOKEN_BYTES];
    mt_error err = {0};
    cr_assert_eq(mt_rpc_token_load(tokpath, token, &err), MT_OK, "%s", err.msg);
    struct rlimit old, tight;
    cr_assert_eq(prlimit(C.gcs_pid, RLIMIT_NOFILE, NULL, &old), 0);
    tight = old;
    tight.rlim_cur = (rlim_t)open_fds(C.gcs_pid); /* not one more */
    cr_assert_eq(prlimit(C.gcs_pid, RLIMIT_NOFILE, &tight, NULL), 0, "prlimit: %s", strerror(errno));
    off_t log_before = file_size(log);
    int fds[40];
    for (int i = 0; i < 40; i++) fds[i] = dial(C.gcs_address);
    itest_sleep_ms(300);
    long t0 = cpu_ticks(C.gcs_pid);
    itest_sleep_ms(1000);
    long used = cpu_ticks(C.gcs_pid) - t0;
    long hz = sysconf(_SC_CLK_TCK);
    cr_assert_lt(used, hz / 5, "control store used %ld of %ld ticks in 1 s while out of descriptors", used, hz);
    int closed = 0;
    for (int i = 0; i < 40; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        char b;
        if (poll(&p, 1, 0) == 1 && recv(fds[i], &b, 1, MSG_DONTWAIT) <= 0) closed++;
        close(fds[i]);
    }
    cr_assert_eq(closed, 40, "only %d of 40 shed connections were closed", closed);
    cr_assert_lt(file_size(log) - log_before, 16384, "log grew by %lld bytes",
                 (long long)(file_size(log) - log_before));
    cr_assert_eq(prlimit(C.gcs_pid, RLIMIT_NOFILE, &old, NULL), 0);
    cr_assert(itest_pid_alive(C.gcs_pid), "control store died");
    expect_serving(C.gcs_address, token, MANTA__GCS_METHOD__GCS_GET_CLUSTER_STATUS,
                   &manta__cluster_status_reply__descriptor);
    itest_stop_check(&C);
}

/* Names in the temp root, sorted into one string. */
static void list_dir(const char *dir, char *out, size_t cap)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A '%s'", dir);
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    if (f)
        pclose(f);
}

Test(integration, second_start_refused, .fini = teardown, .timeout = 120)
{
    itest_prepare(&C);
    itest_start(&C, (const char *[]){"--num-cpus", "2", NULL});

    char before[4096], after[4096], json0[8192], json1[8192], tok0[256], tok1[256];
    char path[700], latest0[512], latest1[512];
    list_dir(C.dir, before, sizeof before);
    snprintf(path, sizeof path, "%s/session.json", C.session);
    itest_read_file(path, json0, sizeof json0);
    snprintf(path, sizeof path, "%s/token", C.session);
    itest_read_file(path, tok0, sizeof tok0);
    snprintf(path, sizeof path, "%s/session_latest", C.dir);
    cr_assert_not_null(realpath(path, latest0));
    itest_sleep_ms(300);
    int nproc0 = itest_count(&C);

    char port[16], out[8192];
    snprintf(port, sizeof port, "%d", C.gcs_port);
    char *args[] = {"start", "--head", "--temp-dir", C.dir, "--port", port, "--num-cpus", "2",
                    NULL};
    int rc = itest_run_cli(args, out, sizeof out, 30000);
    cr_assert_eq(rc, 1, "second manta start --head exited %d:\n%s", rc, out);
    cr_assert_not_null(strstr(out, "already running"), "output:\n%s", out);
    cr_assert_not_null(strstr(out, "manta stop"), "output does not say what to do:\n%s", out);

    itest_sleep_ms(500);
    list_dir(C.dir, after, sizeof after);
    cr_assert_str_eq(after, before, "temp dir changed");
    snprintf(path, sizeof path, "%s/session.json", C.session);
    itest_read_file(path, json1, sizeof json1);
    cr_assert_str_eq(json1, json0, "session.json changed");
    snprintf(path, sizeof path, "%s/token", C.session);
    itest_read_file(path, tok1, sizeof tok1);
    cr_assert_str_eq(tok1, tok0, "token changed");
    snprintf(path, sizeof path, "%s/session_latest", C.dir);
    cr_assert_not_null(realpath(path, latest1));
    cr_assert_str_eq(latest1, latest0, "session_latest moved");
    cr_assert(itest_pid_alive(C.gcs_pid) && itest_pid_alive(C.node_pid), "daemons died");
    cr_assert_eq(itest_count(&C), nproc0, "process count changed");

    itest_connect(&C);
    itest_check_serving();
    mt_shutdown();
    itest_stop_check(&C);
}
