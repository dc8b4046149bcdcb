/*
 * test_session.c — the session folder helpers: layout and modes,
 * session_latest, session.json round trip, ready files, manta lookup.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gcs/session.h"

static char g_root[200];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/mt-session-XXXXXX", tmp && tmp[0] ? tmp : P_tmpdir);
    cr_assert_not_null(mkdtemp(g_root));
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_root);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
}

TestSuite(session, .init = setup, .fini = teardown);

Test(session, create_latest_and_info)
{
    char dir[MT_SESSION_PATH_MAX], latest[MT_SESSION_PATH_MAX];
    mt_error err;
    cr_assert_eq(mt_session_latest(g_root, latest, sizeof latest, &err), MT_ENOTFOUND);
    cr_assert_eq(mt_session_create(g_root, dir, sizeof dir, &err), MT_OK, "%s", err.msg);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s/session_", g_root);
    cr_assert(!strncmp(dir, prefix, strlen(prefix)), "%s", dir);
    char tail[32];
    snprintf(tail, sizeof tail, "_%d", (int)getpid());
    cr_assert_str_eq(dir + strlen(dir) - strlen(tail), tail);
    struct stat sb;
    cr_assert_eq(stat(dir, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0700);
    const char *subs[] = {"logs", "sockets", "spill"};
    for (int i = 0; i < 3; i++) {
        char p[MT_SESSION_PATH_MAX];
        cr_assert_eq(mt_session_path(dir, subs[i], p, sizeof p, &err), MT_OK);
        cr_assert_eq(stat(p, &sb), 0, "%s", p);
        cr_assert(S_ISDIR(sb.st_mode));
    }
    /* session_latest moves only when asked (once a session is up) */
    cr_assert_eq(mt_session_latest(g_root, latest, sizeof latest, &err), MT_ENOTFOUND);
    cr_assert_eq(mt_session_point_latest(g_root, dir, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_session_latest(g_root, latest, sizeof latest, &err), MT_OK);
    cr_assert_str_eq(latest, dir);

    mt_session_info in, out;
    memset(&in, 0, sizeof in);
    snprintf(in.session_dir, sizeof in.session_dir, "%s", dir);
    snprintf(in.gcs_address, sizeof in.gcs_address, "tcp://127.0.0.1:6379");
    snprintf(in.node_id, sizeof in.node_id, "%s", "00112233445566778899aabbccddeeff00112233");
    snprintf(in.node_socket, sizeof in.node_socket, "unix://%s/sockets/node.sock", dir);
    snprintf(in.node_ip, sizeof in.node_ip, "127.0.0.1");
    in.gcs_pid = 11;
    in.node_pid = 12;
    cr_assert_eq(mt_session_read_info(dir, &out, &err), MT_ENOTFOUND);
    cr_assert_eq(mt_session_write_info(&in, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_session_read_info(dir, &out, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(memcmp(&in, &out, sizeof in), 0);
    char json[MT_SESSION_PATH_MAX];
    mt_session_path(dir, "session.json", json, sizeof json, &err);
    cr_assert_eq(stat(json, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);

    FILE *f = fopen(json, "w");
    fputs("{\"gcs_pid\": ", f);
    fclose(f);
    cr_assert_eq(mt_session_read_info(dir, &out, &err), MT_EPARSE);
}

Test(session, ready_files)
{
    char p[300], v[64];
    mt_error err;
    snprintf(p, sizeof p, "%s/node.ready", g_root);
    cr_assert_eq(mt_session_ready_get(p, "pid", v, sizeof v, &err), MT_ENOTFOUND);
    cr_assert_eq(mt_session_write_ready(p, "node_id=abc\naddress=tcp://1.2.3.4:5\npid=77\n", &err),
                 MT_OK);
    cr_assert_eq(mt_session_ready_get(p, "address", v, sizeof v, &err), MT_OK);
    cr_assert_str_eq(v, "tcp://1.2.3.4:5");
    cr_assert_eq(mt_session_ready_get(p, "pid", v, sizeof v, &err), MT_OK);
    cr_assert_str_eq(v, "77");
    cr_assert_eq(mt_session_ready_get(p, "socket", v, sizeof v, &err), MT_ENOTFOUND);
    cr_assert_eq(mt_session_ready_get(p, "address", v, 4, &err), MT_ERANGE);
}

Test(session, find_bin_and_pids)
{
    char bin[PATH_MAX];
    mt_error err;
    const char *env = getenv("MANTA_BIN");
    mt_config_load(NULL);
    if (!env) mt_config_set("bin", MT_BINARY_DIR "/manta", NULL);
    cr_assert_eq(mt_session_find_bin(bin, sizeof bin, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(access(bin, X_OK), 0);
    mt_config_set("bin", "/nonexistent/manta", NULL);
    char saved[4096];
    snprintf(saved, sizeof saved, "%s", getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "/nonexistent", 1);
    cr_assert_eq(mt_session_find_bin(bin, sizeof bin, &err), MT_ENOTFOUND);
    setenv("PATH", saved, 1);
    cr_assert(mt_session_pid_alive(getpid()));
    cr_assert(!mt_session_pid_alive(0));
    cr_assert(!mt_session_pid_alive(-5));
}

Test(session, roots_and_sessions_of_others_are_refused)
{
    char dir[MT_SESSION_PATH_MAX], open_root[300];
    mt_error err;
    snprintf(open_root, sizeof open_root, "%s/open", g_root);
    cr_assert_eq(mkdir(open_root, 0700), 0);
    cr_assert_eq(chmod(open_root, 0777), 0);
    cr_assert_eq(mt_session_create(open_root, dir, sizeof dir, &err), MT_EINVAL);
    char want[600];
    snprintf(want, sizeof want, "refusing temp root %s: writable by group or other (mode 777)", open_root);
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(mt_session_check_owner(g_root, "temp root", &err), MT_OK, "%s", err.msg);
    /* the default root is per user */
    char per_user[64];
    snprintf(per_user, sizeof per_user, "/tmp/manta-%u", (unsigned)geteuid());
    cr_assert_str_eq(mt_session_temp_root(NULL), per_user);
}
