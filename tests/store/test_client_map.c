/* test_client_map.c — zero-copy through the arena memfd: a second mapping in
 * this process and a child process see the bytes written through another. */
#include <criterion/criterion.h>
#include <sys/wait.h>

#include "store/store.h"
#include "store/store_client.h"
#include "store_test_util.h"

Test(client_map, second_mapping_sees_the_same_bytes)
{
    mt_store *s = NULL;
    mt_error err;
    mt_store_options o = {.capacity = 1 << 20};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK);
    mt_store_ref ref;
    cr_assert_eq(mt_store_object_create(s, tid(1), 5000, true, &ref, &err), MT_OK);
    uint8_t *client;
    cr_assert_eq(mt_store_map_create(mt_store_fd(s), mt_store_capacity(s), 0, &client, &err), MT_OK,
                 "%s", err.msg);
    cr_assert_neq(client, mt_store_base(s));
    for (int i = 0; i < 5000; i++) client[ref.offset + i] = (uint8_t)(i * 7);
    cr_assert_eq(mt_store_object_seal(s, tid(1), &err), MT_OK);
    cr_assert_eq(memcmp(client + ref.offset, mt_store_base(s) + ref.offset, 5000), 0);
    cr_assert_eq(mt_store_base(s)[ref.offset + 4999], (uint8_t)(4999 * 7));
    mt_store_base(s)[ref.offset] = 0xee; /* and back */
    cr_assert_eq(client[ref.offset], 0xee);
    mt_store_map_destroy(client, mt_store_capacity(s));
    cr_assert_eq(mt_store_map_create(-1, 100, 0, &client, &err), MT_EINVAL);
    mt_store_destroy(s);
}

Test(client_map, child_process_writes_zero_copy)
{
    mt_store *s = NULL;
    mt_error err;
    mt_store_options o = {.capacity = 1 << 20};
    cr_assert_eq(mt_store_create(&o, &s, &err), MT_OK);
    mt_store_ref ref;
    cr_assert_eq(mt_store_object_create(s, tid(2), 4096, true, &ref, &err), MT_OK);
    int fd = mt_store_fd(s);
    int64_t cap = mt_store_capacity(s);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        uint8_t *m;
        if (mt_store_map_create(fd, cap, MT_STORE_MAP_POPULATE, &m, NULL) != MT_OK) _exit(2);
        for (int i = 0; i < 4096; i++) m[ref.offset + i] = (uint8_t)(255 - i);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_eq(mt_store_object_seal(s, tid(2), &err), MT_OK);
    cr_assert_eq(mt_store_object_get(s, tid(2), &ref, &err), MT_OK);
    for (int i = 0; i < 4096; i++) cr_assert_eq(mt_store_base(s)[ref.offset + i], (uint8_t)(255 - i));
    mt_store_destroy(s);
}

Test(client_map, empty_file_and_missing_file)
{
    char *dir = make_tmp_dir();
    char path[2048];
    snprintf(path, sizeof(path), "%s/empty", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    const uint8_t *p = NULL;
    mt_error err;
    cr_assert_eq(mt_store_map_file(path, 0, &p, &err), MT_OK);
    cr_assert_not_null(p);
    mt_store_unmap_file(p, 0);
    snprintf(path, sizeof(path), "%s/missing", dir);
    cr_assert_eq(mt_store_map_file(path, 10, &p, &err), MT_EIO);
    cr_assert_null(p);
    rm_dir(dir);
}
