/* store_test_util.h — helpers shared by the store tests: ids, temp spill dirs. */
#ifndef MANTA_STORE_TEST_UTIL_H
#define MANTA_STORE_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manta/base.h"

static inline mt_id tid(uint32_t n)
{
    mt_id id;
    memset(&id, 0, sizeof(id));
    memcpy(id.bytes + MT_ID_SIZE - 4, &n, 4); /* differ only in the last bytes, like Ray ids */
    id.bytes[0] = 0xab;
    return id;
}

static inline const char *thex(mt_id id)
{
    static char buf[4][2 * MT_ID_SIZE + 1];
    static int k;
    k = (k + 1) % 4;
    mt_id_hex(id, buf[k]);
    return buf[k];
}

/* A fresh directory under the build tree; removed (flat) by rm_dir. */
static inline char *make_tmp_dir(void)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/store-test-XXXXXX", MT_BINARY_DIR);
    return mkdtemp(path);
}

static inline int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static inline void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char p[2048];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

#endif
