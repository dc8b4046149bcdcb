/*
 * The id map (core/idmap.h): ids that agree in all but their last 4 bytes
 * (the sender chooses most of an id) are still kept apart, found and
 * deleted, and every byte of the id takes part in the hash.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/idmap.h"

static mt_id id_with_tail(uint32_t k)
{
    mt_id id;
    memset(id.bytes, 0xab, sizeof id.bytes); /* the same first 16 bytes */
    memcpy(id.bytes + 16, &k, sizeof k);
    return id;
}

Test(idmap, ids_alike_but_for_their_last_bytes_are_kept_apart)
{
    mt_idmap m = {0};
    enum { N = 20000 };
    for (uint32_t k = 0; k < N; k++) {
        void **v = mt_idmap_put(&m, id_with_tail(k));
        cr_assert_not_null(v);
        cr_assert_null(*v, "id %u was there already", k);
        *v = (void *)(uintptr_t)(k + 1);
    }
    cr_assert_eq(m.n, N);
    /* the slots they take are spread out, not one run: count where each lands in the first probe */
    size_t runs = 0;
    for (size_t i = 0; i < m.cap; i++) runs += m.slots[i].used && !m.slots[(i + m.cap - 1) & (m.cap - 1)].used;
    cr_assert_gt(runs, N / 8, "%zu runs of used slots for %d ids: the tail bytes do not reach the hash", runs, N);
    for (uint32_t k = 0; k < N; k++) {
        void **v = mt_idmap_find(&m, id_with_tail(k));
        cr_assert(v && *v == (void *)(uintptr_t)(k + 1), "id %u", k);
    }
    for (uint32_t k = 0; k < N; k += 2) cr_assert(mt_idmap_del(&m, id_with_tail(k)));
    for (uint32_t k = 0; k < N; k++) cr_assert_eq(mt_idmap_find(&m, id_with_tail(k)) != NULL, k % 2 == 1, "id %u", k);
    cr_assert_not(mt_idmap_del(&m, id_with_tail(N)));
    mt_idmap_fini(&m);
}
