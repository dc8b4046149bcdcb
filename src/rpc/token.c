/*
 * token.c — the cluster token: MT_RPC_TOKEN_BYTES random bytes stored
 * hex-encoded in a file of mode 0600 in the session folder. Any thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc/rpc_int.h"

static mt_status write_all(int fd, const char *p, size_t n, const char *path, mt_error *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return mt_error_set_errno(err, MT_EIO, errno, "writing token %s", path);
        p += w;
        n -= (size_t)w;
    }
    return MT_OK;
}

mt_status mt_rpc_token_create(const char *path, uint8_t token[MT_RPC_TOKEN_BYTES], mt_error *err)
{
    size_t got = 0;
    while (got < MT_RPC_TOKEN_BYTES) {
        ssize_t n = getrandom(token + got, MT_RPC_TOKEN_BYTES - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return mt_error_set_errno(err, MT_EIO, errno, "creating token: getrandom");
        got += (size_t)n;
    }
    static const char hx[] = "0123456789abcdef";
    char text[2 * MT_RPC_TOKEN_BYTES + 1];
    for (int i = 0; i < MT_RPC_TOKEN_BYTES; i++) {
        text[2 * i] = hx[token[i] >> 4];
        text[2 * i + 1] = hx[token[i] & 15];
    }
    text[2 * MT_RPC_TOKEN_BYTES] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "creating token %s", path);
    if (fchmod(fd, 0600) != 0) {
        int e = errno;
        close(fd);
        return mt_error_set_errno(err, MT_EIO, e, "creating token %s: chmod", path);
    }
    mt_status st = write_all(fd, text, sizeof text, path, err);
    if (close(fd) != 0 && st == MT_OK)
        st = mt_error_set_errno(err, MT_EIO, errno, "writing token %s", path);
    return st;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

mt_status mt_rpc_token_load(const char *path, uint8_t token[MT_RPC_TOKEN_BYTES], mt_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mt_error_set_errno(err, errno == ENOENT ? MT_ENOTFOUND : MT_EIO, errno,
                                  "reading token %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mt_error_set(err, MT_EIO, "reading token %s: not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return mt_error_set(err, MT_EINVAL, "token %s is readable by group or other (mode %03o)",
                            path, (unsigned)(st.st_mode & 0777));
    }
    char text[2 * MT_RPC_TOKEN_BYTES + 2];
    ssize_t n;
    do n = read(fd, text, sizeof text);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 2 * MT_RPC_TOKEN_BYTES)
        return mt_error_set(err, MT_ECORRUPT, "token %s: expected %d hex digits", path,
                            2 * MT_RPC_TOKEN_BYTES);
    if (n > 2 * MT_RPC_TOKEN_BYTES + 1 || (n > 2 * MT_RPC_TOKEN_BYTES && text[2 * MT_RPC_TOKEN_BYTES] != '\n'))
        return mt_error_set(err, MT_ECORRUPT, "token %s: trailing data", path);
    text[2 * MT_RPC_TOKEN_BYTES] = 0;
    mt_status rc = mt_rpc_token_parse(text, token, err);
    if (rc != MT_OK) mt_error_prefix(err, "token %s", path);
    return rc;
}

mt_status mt_rpc_token_parse(const char *hex, uint8_t token[MT_RPC_TOKEN_BYTES], mt_error *err)
{
    size_t n = strlen(hex);
    if (n && hex[n - 1] == '\n') n--;
    if (n != 2 * MT_RPC_TOKEN_BYTES)
        return mt_error_set(err, MT_ECORRUPT, "expected %d hex digits, got %zu characters",
                            2 * MT_RPC_TOKEN_BYTES, n);
    for (int i = 0; i < MT_RPC_TOKEN_BYTES; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return mt_error_set(err, MT_ECORRUPT, "not hex at character %d", 2 * i);
        token[i] = (uint8_t)(hi << 4 | lo);
    }
    return MT_OK;
}
