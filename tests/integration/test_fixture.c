/*
 * test_fixture.c — the cluster fixture's cleanup guarantee, checked without
 * a cluster: processes that inherit the fixture's tag are found, and they
 * are killed (and the private dir removed) when the test process dies by
 * SIGKILL, i.e. without running any teardown.
 */
#include "integration/itest_cluster.h"

static itest_cluster C;

static void teardown(void)
{
    itest_teardown(&C);
}

/* Starts `sleep 600` that inherits the environment (and so the tag). */
static pid_t spawn_sleeper(void)
{
    pid_t p = fork();
    cr_assert(p >= 0);
    if (p == 0) {
        setsid(); /* as the daemons do: not in our process group */
        execl("/bin/sleep", "sleep", "600", (char *)NULL);
        _exit(127);
    }
    return p;
}

Test(fixture, finds_and_kills_tagged_processes, .fini = teardown)
{
    itest_prepare(&C);
    pid_t s = spawn_sleeper();
    itest_sleep_ms(100);
    int pids[8];
    int n = itest_find_pids(C.tag, C.dir, pids, 8, C.watchdog_pid);
    cr_assert_eq(n, 1, "found %d tagged processes", n);
    cr_assert_eq(pids[0], s);
    cr_assert_eq(itest_kill_all(C.tag, C.dir, C.watchdog_pid), 1);
    cr_assert(!itest_pid_alive(s));
    cr_assert_eq(itest_count(&C), 0);
}

Test(fixture, watchdog_cleans_up_after_sigkill, .timeout = 30)
{
    int pfd[2];
    cr_assert(pipe(pfd) == 0);
    pid_t t = fork();
    cr_assert(t >= 0);
    if (t == 0) { /* a "test process" that dies hard after starting a daemon-like child */
        itest_cluster c;
        itest_prepare(&c);
        pid_t s = spawn_sleeper();
        char msg[256];
        int len = snprintf(msg, sizeof msg, "%d %s\n", (int)s, c.dir);
        if (write(pfd[1], msg, (size_t)len) != len)
            _exit(1);
        itest_sleep_ms(200);
        raise(SIGKILL);
    }
    close(pfd[1]);
    char buf[256] = {0};
    cr_assert_gt(read(pfd[0], buf, sizeof buf - 1), 0);
    close(pfd[0]);
    int sleeper = 0;
    char dir[200] = {0};
    cr_assert_eq(sscanf(buf, "%d %199s", &sleeper, dir), 2);
    int st;
    waitpid(t, &st, 0);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    double deadline = itest_now() + 10;
    struct stat sb;
    while ((itest_pid_alive(sleeper) || stat(dir, &sb) == 0) && itest_now() < deadline)
        itest_sleep_ms(20);
    cr_assert(!itest_pid_alive(sleeper), "tagged process %d survived its test process", sleeper);
    cr_assert_neq(stat(dir, &sb), 0, "private dir %s not removed", dir);
}
