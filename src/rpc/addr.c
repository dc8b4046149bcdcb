/*
 * addr.c — address parsing/formatting and the raw socket helpers every
 * connection uses: non-blocking connect, listen, TCP_NODELAY, and
 * sendmsg/recvmsg with SCM_RIGHTS descriptor passing. Any thread.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc/rpc_int.h"

static mt_status parse_hostport(const char *t, mt_rpc_addr *out, const char *orig, mt_error *err)
{
    const char *colon = strrchr(t, ':');
    if (!colon || colon == t)
        return mt_error_set(err, MT_EINVAL, "address '%s': expected HOST:PORT", orig);
    size_t hl = (size_t)(colon - t);
    if (t[0] == '[' && hl >= 2 && t[hl - 1] == ']') { t++; hl -= 2; }
    if (hl == 0 || hl >= sizeof out->host)
        return mt_error_set(err, MT_EINVAL, "address '%s': bad host", orig);
    char *end = NULL;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || port < 0 || port > 65535)
        return mt_error_set(err, MT_EINVAL, "address '%s': bad port", orig);
    memcpy(out->host, t, hl);
    out->host[hl] = '\0';
    out->port = (int)port;
    return MT_OK;
}

mt_status mt_rpc_addr_parse(const char *text, mt_rpc_addr *out, mt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text) return mt_error_set(err, MT_EINVAL, "empty address");
    if (strncmp(text, "unix:", 5) == 0) {
        const char *p = text + 5;
        if (strncmp(p, "//", 2) == 0) p += 2;
        if (*p != '/' && *p != '.')
            return mt_error_set(err, MT_EINVAL, "address '%s': unix path must be absolute", text);
        if (strlen(p) >= sizeof out->path)
            return mt_error_set(err, MT_EINVAL, "address '%s': unix path longer than %zu bytes",
                                text, sizeof out->path - 1);
        out->is_unix = true;
        strcpy(out->path, p);
        return MT_OK;
    }
    const char *p = text;
    if (strncmp(p, "tcp://", 6) == 0) p += 6;
    else if (strstr(p, "://"))
        return mt_error_set(err, MT_EINVAL, "address '%s': unknown scheme", text);
    return parse_hostport(p, out, text, err);
}

void mt__rpc_addr_format(const mt_rpc_addr *a, char *out, size_t cap)
{
    if (a->is_unix) snprintf(out, cap, "unix://%s", a->path);
    else if (strchr(a->host, ':')) snprintf(out, cap, "tcp://[%s]:%d", a->host, a->port);
    else snprintf(out, cap, "tcp://%s:%d", a->host, a->port);
}

void mt__rpc_sock_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Resolves a tcp address into `ss`. */
static mt_status resolve(const mt_rpc_addr *a, struct sockaddr_storage *ss, socklen_t *sl,
                         mt_error *err)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", a->port);
    const char *host = a->host;
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res)
        return mt_error_set(err, MT_EIO, "resolving %s: %s", a->host, gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = res->ai_addrlen;
    freeaddrinfo(res);
    return MT_OK;
}

static mt_status sockaddr_of(const mt_rpc_addr *a, struct sockaddr_storage *ss, socklen_t *sl,
                             mt_error *err)
{
    memset(ss, 0, sizeof *ss);
    if (!a->is_unix) return resolve(a, ss, sl, err);
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, a->path, strlen(a->path) + 1);
    *sl = (socklen_t)sizeof *un;
    return MT_OK;
}

mt_status mt__rpc_sock_connect(const mt_rpc_addr *a, int *fd_out, bool *inprogress, mt_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    *fd_out = -1;
    *inprogress = false;
    MT_RETURN_NOT_OK(sockaddr_of(a, &ss, &sl, err));
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "socket");
    if (!a->is_unix) mt__rpc_sock_nodelay(fd);
    char text[400];
    mt__rpc_addr_format(a, text, sizeof text);
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        if (errno == EINPROGRESS || errno == EAGAIN) {
            *inprogress = true;
        } else {
            int e = errno;
            close(fd);
            return mt_error_set_errno(err, MT_EIO, e, "connecting to %s", text);
        }
    }
    *fd_out = fd;
    return MT_OK;
}

/* A unix path that exists: remove it when nobody listens there (stale). */
static mt_status clear_stale(const mt_rpc_addr *a, mt_error *err)
{
    struct stat st;
    if (lstat(a->path, &st) != 0) return MT_OK;
    if (!S_ISSOCK(st.st_mode))
        return mt_error_set(err, MT_EEXIST, "listening on unix://%s: path exists and is not a socket",
                            a->path);
    int fd;
    bool inprog;
    if (mt__rpc_sock_connect(a, &fd, &inprog, NULL) == MT_OK) {
        close(fd);
        return mt_error_set(err, MT_EEXIST, "listening on unix://%s: address in use", a->path);
    }
    unlink(a->path);
    return MT_OK;
}

static void bound_text(int fd, const mt_rpc_addr *a, char *bound, size_t cap)
{
    mt_rpc_addr b = *a;
    if (!a->is_unix) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *)&ss;
                inet_ntop(AF_INET, &in->sin_addr, b.host, sizeof b.host);
                b.port = ntohs(in->sin_port);
            } else if (ss.ss_family == AF_INET6) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
                inet_ntop(AF_INET6, &in6->sin6_addr, b.host, sizeof b.host);
                b.port = ntohs(in6->sin6_port);
            }
        }
    }
    mt__rpc_addr_format(&b, bound, cap);
}

mt_status mt__rpc_sock_listen(const mt_rpc_addr *a, int *fd_out, char *bound, size_t boundcap,
                              mt_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    char text[400];
    mt__rpc_addr_format(a, text, sizeof text);
    if (a->is_unix) MT_RETURN_NOT_OK(clear_stale(a, err));
    MT_RETURN_NOT_OK(sockaddr_of(a, &ss, &sl, err));
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return mt_error_set_errno(err, MT_EIO, errno, "socket");
    int one = 1;
    if (!a->is_unix) (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 511) != 0) {
        int e = errno;
        close(fd);
        return mt_error_set_errno(err, e == EADDRINUSE ? MT_EEXIST : MT_EIO, e, "listening on %s",
                                  text);
    }
    bound_text(fd, a, bound, boundcap);
    *fd_out = fd;
    return MT_OK;
}

ssize_t mt__rpc_sendmsg(int sock, const void *buf, size_t len, int fd)
{
    struct iovec iov = {(void *)buf, len};
    struct msghdr mh = {0};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&cm, 0, sizeof cm);
        mh.msg_control = cm.b;
        mh.msg_controllen = sizeof cm.b;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n;
    do n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t mt__rpc_recvmsg(int sock, void *buf, size_t len, int *fds, int *nfds, int cap)
{
    struct iovec iov = {buf, len};
    struct msghdr mh = {0};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 8)];
    } cm;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cm.b;
    mh.msg_controllen = sizeof cm.b;
    ssize_t n;
    do n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
            if (*nfds < cap) fds[(*nfds)++] = f;
            else close(f);
        }
    }
    return n;
}
