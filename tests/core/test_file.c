/* Whole-or-nothing output files: every writer (atomic helper, CSV, Parquet)
 * refuses to follow a symlink planted where the old predictable temporary
 * name "<out>.tmp-<pid>" used to be, leaves no temporary file behind, and a
 * failed or aborted write leaves the target as it was. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "manta/data.h"
#include "manta/parquet.h"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/mt-file-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Plants "<out>.tmp-<pid>" (and ".tmp.<pid>") as symlinks to a victim file. */
static void plant(const char *out, const char *victim)
{
    char link[600];
    snprintf(link, sizeof link, "%s.tmp-%ld", out, (long)getpid());
    cr_assert_eq(symlink(victim, link), 0);
    snprintf(link, sizeof link, "%s.tmp.%ld", out, (long)getpid());
    cr_assert_eq(symlink(victim, link), 0);
}

/* Entries of `dir` other than "." and ".." */
static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

TestSuite(file, .init = setup, .fini = teardown);

Test(file, atomic_write_ignores_planted_symlink)
{
    char out[300], victim[300];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    spit(victim, "precious");
    plant(out, victim);
    mt_error err;
    cr_assert_eq(mt_file_write_atomic(out, "hello\n", 6, 0644, &err), MT_OK, "%s", err.msg);
    cr_assert_str_eq(slurp(out), "hello\n");
    cr_assert_str_eq(slurp(victim), "precious");
    cr_assert_eq(entries(), 4, "out, victim and the two planted links; no temporary file left");
    struct stat sb;
    cr_assert_eq(lstat(out, &sb), 0);
    cr_assert(S_ISREG(sb.st_mode));
}

Test(file, abort_leaves_target_untouched)
{
    char out[300];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    spit(out, "old");
    mt_atomic_file af;
    mt_error err;
    cr_assert_eq(mt_atomic_file_open(&af, out, 0644, &err), MT_OK, "%s", err.msg);
    fputs("half-written", af.fp);
    mt_atomic_file_abort(&af);
    mt_atomic_file_abort(&af); /* idempotent */
    cr_assert_str_eq(slurp(out), "old");
    cr_assert_eq(entries(), 1);
}

Test(file, missing_folder_is_a_clear_error)
{
    char out[300];
    snprintf(out, sizeof out, "%s/no/such/out.txt", dir);
    mt_error err;
    cr_assert_eq(mt_file_write_atomic(out, "x", 1, 0644, &err), MT_EIO);
    cr_assert(strstr(err.msg, out), "%s", err.msg);
}

Test(file, csv_and_parquet_writers_ignore_planted_symlinks)
{
    char in[300], csv[300], pq[300], victim[300];
    snprintf(in, sizeof in, "%s/in.csv", dir);
    snprintf(csv, sizeof csv, "%s/out.csv", dir);
    snprintf(pq, sizeof pq, "%s/out.parquet", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    spit(in, "a,b\n1,x\n2,y\n");
    spit(victim, "precious");
    plant(csv, victim);
    plant(pq, victim);
    mt_table *t, *back;
    mt_error err;
    cr_assert_eq(mt_csv_read(in, NULL, &t, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_csv_write(csv, t, NULL, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(mt_parquet_write_table(pq, t, NULL, &err), MT_OK, "%s", err.msg);
    cr_assert_str_eq(slurp(victim), "precious");
    cr_assert_str_eq(slurp(csv), "a,b\n1,x\n2,y\n");
    cr_assert_eq(mt_parquet_read_table(pq, NULL, &back, &err), MT_OK, "%s", err.msg);
    cr_assert_eq(back->num_rows, 2);
    mt_table_release(back);
    mt_table_release(t);
    cr_assert_eq(entries(), 1 + 1 + 1 + 4 + 1, "in, csv, parquet, 4 links, victim");
}
