/* libFuzzer target: the session-folder files a process reads from disk —
 * session.json (mt_session_read_info), the daemons' ready files
 * (mt_session_ready_get) and the token file (mt_rpc_token_load). The
 * `--resources` JSON the CLI passes on is fuzzed in fuzz_node_requests. The
 * first input byte picks the reader; the rest is the file's bytes, written into a
 * private temp folder. Must never crash, leak or overflow a field. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcs/session.h"

static char g_dir[256];

static void check(bool ok)
{
    if (!ok) abort();
}

static void cleanup(void)
{
    const char *names[] = {"session.json", "ready", "token"};
    char p[400];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/mt-fuzz-session-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) abort();
    atexit(cleanup);
    return 0;
}

static void write_file(const char *name, const uint8_t *data, size_t size, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", g_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned which = data[0] % 3;
    data++;
    size--;
    char path[400];
    mt_error err;
    if (which == 0) {
        write_file("session.json", data, size, path, sizeof path);
        mt_session_info *info = mt_malloc(sizeof *info);
        if (!info) return 0;
        if (mt_session_read_info(g_dir, info, &err) == MT_OK) {
            check(strlen(info->session_dir) < sizeof info->session_dir);
            check(strlen(info->gcs_address) < sizeof info->gcs_address);
            check(strlen(info->node_id) < sizeof info->node_id);
            check(strlen(info->node_address) < sizeof info->node_address);
            check(strlen(info->node_socket) < sizeof info->node_socket);
            check(strlen(info->node_ip) < sizeof info->node_ip);
        } else {
            check(err.msg[0] != 0);
        }
        mt_free(info);
    } else if (which == 1) {
        write_file("ready", data, size, path, sizeof path);
        const char *keys[] = {"address", "pid", "", "a=b"};
        for (int i = 0; i < 4; i++) {
            char out[64];
            if (mt_session_ready_get(path, keys[i], out, sizeof out, &err) == MT_OK)
                check(strlen(out) < sizeof out);
        }
    } else {
        write_file("token", data, size, path, sizeof path);
        uint8_t token[MT_RPC_TOKEN_BYTES];
        if (mt_rpc_token_load(path, token, &err) != MT_OK) check(err.msg[0] != 0);
    }
    return 0;
}
