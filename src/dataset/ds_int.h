/*
 * ds_int.h — declarations shared inside src/dataset: the block codec
 * (block.c), the plan (dataset.c), the per-block operator chain (ops.c)
 * and the task functions workers run (tasks.c).
 *
 * Threads: a plan (mt_dataset) is used by one thread at a time; task
 * functions run on a worker's main thread.
 */
#ifndef MANTA_DS_INT_H
#define MANTA_DS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "manta/data.h"

/* ---- Blocks as bytes (block.c) -------------------------------------------
 * A block is a table stored as one object:
 *   "MTBK" u8 version 1, 3 pad | u32 header bytes | u64 rows
 *   | header: the schema (type tree), then per array node
 *     (i64 length, i64 null_count, per layout buffer: i64 size, u64 payload
 *     offset or ~0 when absent; children follow their parent)
 *   | payload: the buffers, each 64-byte aligned from the block's start.
 * Arrays are written with offset 0 (slices are normalised), so a decoded
 * block's buffers wrap the bytes where they lie: zero-copy. */

/* Bytes mt__block_encode will write for `t`. */
mt_status mt__block_size(const mt_table *t, size_t *size_out, mt_error *err);
/* Writes the block of `t` into out[0..size) (size from mt__block_size; out 64-byte aligned is best). */
mt_status mt__block_encode(const mt_table *t, uint8_t *out, size_t size, mt_error *err);
/*
 * Decodes a block in place: the table's buffers point into data[0..len),
 * which must stay valid until `on_free(owner)` runs — called once, when the
 * last buffer goes (NULL: the bytes outlive the table). Checks everything
 * (MT_ECORRUPT naming `what`, nothing leaked).
 */
mt_status mt__block_decode(const uint8_t *data, size_t len, void (*on_free)(void *), void *owner,
                           const char *what, mt_table **out, mt_error *err);
/* Rows of a block from its header alone. */
mt_status mt__block_rows(const uint8_t *data, size_t len, int64_t *rows, mt_error *err);

#endif /* MANTA_DS_INT_H */
