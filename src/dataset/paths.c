/*
 * paths.c — what a source's path names: a file, a directory (its files
 * with the format's extension, sorted), or a glob; "file://" prefixes are
 * accepted. Shared by read_parquet and read_csv.
 *
 * Threads: any. Invariant: on failure the list holds what it held before
 * plus whatever was added (the caller frees it either way).
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset/ds_int.h"

static bool is_glob(const char *p) { return strpbrk(p, "*?[") != NULL; }

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static mt_status add_path(mt__ds_paths *l, const char *p, const char *what, mt_error *err)
{
    if (l->n == l->cap) {
        int c = l->cap ? l->cap * 2 : 16;
        char **v = mt_realloc(l->v, sizeof *v * (size_t)c);
        if (!v) return mt_error_set(err, MT_ENOMEM, "%s: file list", what);
        l->v = v;
        l->cap = c;
    }
    if (!(l->v[l->n] = mt_strdup(p))) return mt_error_set(err, MT_ENOMEM, "%s: file list", what);
    l->n++;
    return MT_OK;
}

void mt__ds_paths_free(mt__ds_paths *l)
{
    for (int i = 0; i < l->n; i++) mt_free(l->v[i]);
    mt_free(l->v);
    memset(l, 0, sizeof *l);
}

static mt_status expand_dir(const char *dir, const char *ext, const char *what, mt__ds_paths *l, mt_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return mt_error_set_errno(err, MT_EIO, errno, "%s: %s", what, dir);
    int first = l->n;
    size_t el = strlen(ext);
    mt_status st = MT_OK;
    struct dirent *e;
    char p[4096];
    while (st == MT_OK && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || e->d_name[0] == '_' || n <= el || strcmp(e->d_name + n - el, ext)) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        st = add_path(l, p, what, err);
    }
    closedir(d);
    if (st == MT_OK && l->n == first) return mt_error_set(err, MT_ENOTFOUND, "%s: no %s files in %s", what, ext, dir);
    if (st == MT_OK) qsort(l->v + first, (size_t)(l->n - first), sizeof *l->v, cmp_str);
    return st;
}

mt_status mt__ds_expand(const char *path, const char *ext, const char *what, mt__ds_paths *l, mt_error *err)
{
    if (!strncmp(path, "file://", 7)) path += 7;
    if (!*path) return mt_error_set(err, MT_EINVAL, "%s: empty path", what);
    if (is_glob(path)) {
        glob_t g;
        int rc = glob(path, 0, NULL, &g);
        if (rc == GLOB_NOMATCH) return mt_error_set(err, MT_ENOTFOUND, "%s: no file matches %s", what, path);
        if (rc != 0) return mt_error_set(err, MT_EIO, "%s: cannot expand %s", what, path);
        mt_status st = MT_OK;
        for (size_t i = 0; st == MT_OK && i < g.gl_pathc; i++) st = add_path(l, g.gl_pathv[i], what, err);
        globfree(&g);
        return st;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) return mt_error_set_errno(err, MT_ENOTFOUND, errno, "%s: %s", what, path);
    if (S_ISDIR(sb.st_mode)) return expand_dir(path, ext, what, l, err);
    return add_path(l, path, what, err);
}
