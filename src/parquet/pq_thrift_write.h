/*
 * pq_thrift_write.h — Thrift compact-protocol encoder for the Parquet
 * structures the writer emits (PageHeader and FileMetaData with everything
 * below it).
 *
 * Single-threaded. Encoding only appends to a pq_buf, so the one failure is
 * running out of memory; the output is a pure function of the input, which
 * keeps written files byte-for-byte deterministic.
 */
#ifndef MANTA_PQ_THRIFT_WRITE_H
#define MANTA_PQ_THRIFT_WRITE_H

#include "parquet/pq_encode.h"

/* A page header as the writer fills it. */
typedef struct pq_w_page_header {
    int type;                 /* enum pq_page_type */
    int32_t uncompressed_size, compressed_size;
    uint32_t crc;
    int32_t num_values;       /* data: slots; dictionary: entries */
    int encoding;             /* values encoding */
    int32_t num_nulls, num_rows;      /* v2 */
    int32_t def_len, rep_len;         /* v2 */
    bool is_compressed;               /* v2 */
} pq_w_page_header;

typedef struct pq_w_chunk_meta {
    int physical;
    int32_t num_encodings;
    int32_t encodings[8];
    int32_t path_len;
    char *const *path;
    int codec;
    int64_t num_values;
    int64_t total_uncompressed_size, total_compressed_size;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* -1 when absent */
    bool has_stats;                 /* write Statistics */
    const pq_w_stats *stats;
} pq_w_chunk_meta;

typedef struct pq_w_row_group_meta {
    int32_t num_columns;
    pq_w_chunk_meta *columns;
    int64_t total_byte_size;
    int64_t num_rows;
    int64_t file_offset;
    int64_t total_compressed_size;
    int16_t ordinal;
} pq_w_row_group_meta;

typedef struct pq_w_file_meta {
    int32_t version;
    const pq_w_schema *schema;
    int64_t num_rows;
    int32_t num_row_groups;
    const pq_w_row_group_meta *row_groups;
    const char *const *kv; /* NULL-terminated key, value pairs; NULL = none */
    const char *created_by;
} pq_w_file_meta;

mt_status pq_tw_page_header(const pq_w_page_header *h, pq_buf *out, mt_error *err);
mt_status pq_tw_file_meta(const pq_w_file_meta *m, pq_buf *out, mt_error *err);

#endif /* MANTA_PQ_THRIFT_WRITE_H */
