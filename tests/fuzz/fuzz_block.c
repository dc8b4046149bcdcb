/* libFuzzer target: the block decoder (src/dataset/block.c) that turns
 * object bytes into a table in place. Any input: MT_OK with a table that
 * passed validation (read back in full here), or an error with no table;
 * on_free runs exactly once either way. Must never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/ds_int.h"

static int freed;
static void on_free(void *p)
{
    (void)p;
    freed++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The decoder expects 64-byte aligned object bytes. */
    uint8_t *buf = aligned_alloc(64, (size + 64) & ~(size_t)63);
    if (!buf) return 0;
    memcpy(buf, data, size);
    mt_table *t = (mt_table *)1;
    freed = 0;
    mt_status st = mt__block_decode(buf, size, on_free, NULL, "fuzz", &t, NULL);
    if (st == MT_OK) {
        size_t n = 0;
        if (mt__block_size(t, &n, NULL) != MT_OK) abort();
        uint8_t *again = aligned_alloc(64, (n + 64) & ~(size_t)63);
        if (again && mt__block_encode(t, again, n, NULL) != MT_OK) abort();
        free(again);
        mt_table_release(t);
    } else if (t != NULL) {
        abort();
    }
    if (freed != 1) abort();
    free(buf);
    return 0;
}
