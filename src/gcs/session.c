/*
 * session.c — the session folder layout, session.json (jansson, written to a
 * temp file then renamed so readers never see half a file), `key=value`
 * ready files, the token and the location of the `manta` executable.
 * Reentrant; no globals. See session.h.
 */
#define _GNU_SOURCE
#include "core/config_keys.h"
#include "gcs/session.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"

static char default_root[64];
static pthread_once_t default_root_once = PTHREAD_ONCE_INIT;

static void make_default_root(void)
{
    snprintf(default_root, sizeof default_root, "/tmp/manta-%u", (unsigned)geteuid());
}

const char *mt_session_temp_root(const char *temp_dir)
{
    if (temp_dir && temp_dir[0]) return temp_dir;
    const char *t = MT_CFG_STRING(temp_dir);
    if (t && t[0]) return t;
    pthread_once(&default_root_once, make_default_root);
    return default_root;
}

mt_status mt_session_check_owner(const char *dir, const char *what, mt_error *err)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return mt_error_set_errno(err, errno == ENOENT ? MT_ENOTFOUND : MT_EIO, errno, "%s %s", what, dir);
    if (!S_ISDIR(sb.st_mode)) return mt_error_set(err, MT_EINVAL, "%s %s is not a directory", what, dir);
    if (sb.st_uid != geteuid())
        return mt_error_set(err, MT_EINVAL, "refusing %s %s: owned by uid %u, not by this user (uid %u)",
                            what, dir, (unsigned)sb.st_uid, (unsigned)geteuid());
    if (sb.st_mode & 022)
        return mt_error_set(err, MT_EINVAL, "refusing %s %s: writable by group or other (mode %03o)",
                            what, dir, (unsigned)(sb.st_mode & 0777));
    return MT_OK;
}

mt_status mt_session_path(const char *session_dir, const char *name, char *out, size_t cap,
                          mt_error *err)
{
    int n = snprintf(out, cap, "%s/%s", session_dir, name);
    if (n < 0 || (size_t)n >= cap)
        return mt_error_set(err, MT_ERANGE, "path too long: %s/%s", session_dir, name);
    return MT_OK;
}

/* mkdir -p for the temp root (each component `mode` when created by us). */
static mt_status mkdirs(const char *path, mode_t mode, mt_error *err)
{
    char buf[MT_SESSION_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return mt_error_set(err, MT_ERANGE, "bad directory '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char saved = buf[i];
        buf[i] = 0;
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return mt_error_set_errno(err, MT_EIO, errno, "creating directory %s", buf);
        buf[i] = saved;
    }
    return MT_OK;
}

static mt_status make_session_name(const char *root, char *dir_out, size_t cap, mt_error *err)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &tm);
    char abs_root[MT_SESSION_PATH_MAX];
    if (!realpath(root, abs_root))
        return mt_error_set_errno(err, MT_EIO, errno, "resolving %s", root);
    int n = snprintf(dir_out, cap, "%s/session_%s_%d", abs_root, stamp, (int)getpid());
    if (n < 0 || (size_t)n >= cap) return mt_error_set(err, MT_ERANGE, "session path too long");
    return MT_OK;
}

/*
 * The longest unix socket a session holds is a worker's,
 * <session>/sockets/w-<12 hex>.sock (src/worker/worker_main.c); it must fit
 * sun_path, or workers could not listen. Checked before anything is created.
 */
static mt_status check_socket_room(const char *dir, mt_error *err)
{
    char longest[MT_SESSION_PATH_MAX + 64];
    int n = snprintf(longest, sizeof longest, "%s/sockets/w-0123456789ab.sock", dir);
    size_t room = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
    if (n < 0 || (size_t)n > room)
        return mt_error_set(err, MT_ERANGE,
                            "temp dir too long: socket path %s/sockets/w-<12 hex>.sock would be %d bytes, "
                            "unix sockets allow %zu (use a shorter temp_dir)",
                            dir, n, room);
    return MT_OK;
}

static mt_status point_latest(const char *root, const char *dir, mt_error *err)
{
    char link[MT_SESSION_PATH_MAX], tmp[MT_SESSION_PATH_MAX + 32];
    MT_RETURN_NOT_OK(mt_session_path(root, "session_latest", link, sizeof link, err));
    mt_id r = mt_id_random();
    snprintf(tmp, sizeof tmp, "%s.tmp-%02x%02x%02x%02x", link, r.bytes[0], r.bytes[1], r.bytes[2],
             r.bytes[3]);
    if (symlink(dir, tmp) != 0) /* never follows or replaces anything already there */
        return mt_error_set_errno(err, MT_EIO, errno, "creating link %s", tmp);
    if (rename(tmp, link) != 0) {
        int e = errno;
        unlink(tmp);
        return mt_error_set_errno(err, MT_EIO, e, "replacing %s", link);
    }
    return MT_OK;
}

mt_status mt_session_create(const char *temp_dir, char *dir_out, size_t cap, mt_error *err)
{
    const char *root = mt_session_temp_root(temp_dir);
    MT_RETURN_NOT_OK(mkdirs(root, 0700, err));
    /* Another user's (or a shared writable) root could swap our session for theirs. */
    MT_RETURN_NOT_OK(mt_session_check_owner(root, "temp root", err));
    MT_RETURN_NOT_OK(make_session_name(root, dir_out, cap, err));
    MT_RETURN_NOT_OK(check_socket_room(dir_out, err));
    if (mkdir(dir_out, 0700) != 0)
        return mt_error_set_errno(err, MT_EIO, errno, "creating session folder %s", dir_out);
    static const char *const subdirs[] = {"logs", "sockets", "spill"};
    for (size_t i = 0; i < 3; i++) {
        char p[MT_SESSION_PATH_MAX];
        MT_RETURN_NOT_OK(mt_session_path(dir_out, subdirs[i], p, sizeof p, err));
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return mt_error_set_errno(err, MT_EIO, errno, "creating %s", p);
    }
    return MT_OK;
}

mt_status mt_session_point_latest(const char *temp_dir, const char *dir, mt_error *err)
{
    return point_latest(mt_session_temp_root(temp_dir), dir, err);
}

mt_status mt_session_latest(const char *temp_dir, char *dir_out, size_t cap, mt_error *err)
{
    const char *root = mt_session_temp_root(temp_dir);
    char link[MT_SESSION_PATH_MAX], resolved[PATH_MAX];
    MT_RETURN_NOT_OK(mt_session_path(root, "session_latest", link, sizeof link, err));
    if (!realpath(link, resolved))
        return mt_error_set(err, MT_ENOTFOUND, "no Manta session in %s", root);
    struct stat sb;
    if (stat(resolved, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return mt_error_set(err, MT_ENOTFOUND, "no Manta session in %s", root);
    MT_RETURN_NOT_OK(mt_session_check_owner(root, "temp root", err));
    MT_RETURN_NOT_OK(mt_session_check_owner(resolved, "session folder", err));
    if (strlen(resolved) >= cap) return mt_error_set(err, MT_ERANGE, "session path too long");
    strcpy(dir_out, resolved);
    return MT_OK;
}

mt_status mt_session_write_info(const mt_session_info *info, mt_error *err)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i}", "session_dir",
                          info->session_dir, "gcs_address", info->gcs_address, "node_id",
                          info->node_id, "node_address", info->node_address, "node_socket",
                          info->node_socket, "node_ip", info->node_ip, "gcs_pid", info->gcs_pid,
                          "node_pid", info->node_pid);
    if (!o) return mt_error_set(err, MT_ENOMEM, "session.json: cannot build JSON");
    size_t len = json_dumpb(o, NULL, 0, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *text = len ? mt_malloc(len + 1) : NULL;
    if (text) len = json_dumpb(o, text, len, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) return mt_error_set(err, MT_ENOMEM, "session.json: cannot encode JSON");
    text[len] = '\n';
    char path[MT_SESSION_PATH_MAX];
    mt_status st = mt_session_path(info->session_dir, "session.json", path, sizeof path, err);
    if (st == MT_OK) st = mt_file_write_atomic(path, text, len + 1, 0600, err);
    mt_free(text);
    return st;
}

static void copy_str(json_t *o, const char *key, char *dst, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, key));
    dst[0] = 0;
    if (v && strlen(v) < cap) strcpy(dst, v);
}

mt_status mt_session_read_info(const char *session_dir, mt_session_info *out, mt_error *err)
{
    memset(out, 0, sizeof *out);
    char path[MT_SESSION_PATH_MAX];
    MT_RETURN_NOT_OK(mt_session_check_owner(session_dir, "session folder", err));
    MT_RETURN_NOT_OK(mt_session_path(session_dir, "session.json", path, sizeof path, err));
    if (access(path, F_OK) != 0) return mt_error_set(err, MT_ENOTFOUND, "%s: no such file", path);
    json_error_t je;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return mt_error_set(err, MT_EPARSE, "%s:%d: %s", path, je.line, je.text);
    }
    copy_str(o, "session_dir", out->session_dir, sizeof out->session_dir);
    copy_str(o, "gcs_address", out->gcs_address, sizeof out->gcs_address);
    copy_str(o, "node_id", out->node_id, sizeof out->node_id);
    copy_str(o, "node_address", out->node_address, sizeof out->node_address);
    copy_str(o, "node_socket", out->node_socket, sizeof out->node_socket);
    copy_str(o, "node_ip", out->node_ip, sizeof out->node_ip);
    out->gcs_pid = (int)json_integer_value(json_object_get(o, "gcs_pid"));
    out->node_pid = (int)json_integer_value(json_object_get(o, "node_pid"));
    json_decref(o);
    if (!out->session_dir[0] && strlen(session_dir) < sizeof out->session_dir)
        strcpy(out->session_dir, session_dir);
    return MT_OK;
}

mt_status mt_session_load_token(const char *session_dir, uint8_t token[MT_RPC_TOKEN_BYTES],
                                mt_error *err)
{
    char path[MT_SESSION_PATH_MAX];
    MT_RETURN_NOT_OK(mt_session_path(session_dir, "token", path, sizeof path, err));
    return mt_rpc_token_load(path, token, err);
}

mt_status mt_session_write_ready(const char *path, const char *lines, mt_error *err)
{
    return mt_file_write_atomic(path, lines, strlen(lines), 0644, err);
}

mt_status mt_session_ready_get(const char *path, const char *key, char *out, size_t cap,
                               mt_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f) return mt_error_set(err, MT_ENOTFOUND, "%s: no such file", path);
    char line[MT_SESSION_PATH_MAX + 64];
    size_t klen = strlen(key);
    mt_status st = mt_error_set(err, MT_ENOTFOUND, "%s: no '%s' line", path, key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0 || line[klen] != '=') continue;
        char *v = line + klen + 1;
        v[strcspn(v, "\r\n")] = 0;
        if (strlen(v) >= cap) {
            st = mt_error_set(err, MT_ERANGE, "%s: '%s' value too long", path, key);
        } else {
            strcpy(out, v);
            mt_error_clear(err);
            st = MT_OK;
        }
        break;
    }
    fclose(f);
    return st;
}

static bool is_exec(const char *p) { return p && p[0] && access(p, X_OK) == 0; }

static mt_status set_bin(const char *p, char *out, size_t cap, mt_error *err)
{
    if (strlen(p) >= cap) return mt_error_set(err, MT_ERANGE, "manta path too long");
    strcpy(out, p);
    return MT_OK;
}

mt_status mt_session_find_bin(char *out, size_t cap, mt_error *err)
{
    const char *cfg = MT_CFG_STRING(bin);
    if (is_exec(cfg)) return set_bin(cfg, out, cap, err);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        const char *base = strrchr(self, '/');
        base = base ? base + 1 : self;
        if (!strcmp(base, "manta") && is_exec(self)) return set_bin(self, out, cap, err);
    }
    /* A driver linked with an installed libmanta.so runs the manta installed
     * beside it (<libdir>/../bin/manta), wherever the prefix is. */
    Dl_info info;
    if (dladdr((void *)mt_session_find_bin, &info) && info.dli_fname && strstr(info.dli_fname, "libmanta.so")) {
        char lib[PATH_MAX];
        if (realpath(info.dli_fname, lib)) {
            char *slash = strrchr(lib, '/');
            if (slash) {
                *slash = 0;
                char cand[PATH_MAX + 16];
                snprintf(cand, sizeof cand, "%s/../bin/manta", lib);
                if (is_exec(cand) && realpath(cand, self)) return set_bin(self, out, cap, err);
            }
        }
    }
    const char *path = getenv("PATH");
    if (path) {
        const char *p = path;
        while (*p) {
            size_t len = strcspn(p, ":");
            char cand[PATH_MAX];
            if (len > 0 && len + 7 < sizeof cand) {
                memcpy(cand, p, len);
                strcpy(cand + len, "/manta");
                if (is_exec(cand)) return set_bin(cand, out, cap, err);
            }
            p += len;
            if (*p == ':') p++;
        }
    }
#ifdef MT_INSTALL_BINDIR
    /* Installed drivers find the manta installed beside libmanta. */
    if (is_exec(MT_INSTALL_BINDIR "/manta")) return set_bin(MT_INSTALL_BINDIR "/manta", out, cap, err);
#endif
    return mt_error_set(err, MT_ENOTFOUND,
                        "cannot find the manta executable (set MANTA_BIN or put manta on PATH)");
}

bool mt_session_pid_alive(int pid)
{
    if (pid <= 0) return false;
    if (kill(pid, 0) != 0 && errno != EPERM) return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f) return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *rp = strrchr(buf, ')');
    return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}
