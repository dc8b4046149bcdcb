/*
 * pq_int.h — declarations shared inside the parquet module.
 *
 * The reader is split in two halves that meet here:
 *   - the *file* half (thrift_read.c, meta_decode.c, page_reader.c, codec.c,
 *     reader.c, meta_print.c) decodes the footer into pq_file_meta and turns a
 *     column chunk into a stream of decompressed, CRC-checked pages;
 *   - the *value* half (pq_schema.c, rle.c, decode_*.c, column_read.c,
 *     assemble.c) maps the schema to Arrow types and turns pages of a row
 *     group into Arrow arrays, including nested assembly from levels.
 * The writer (thrift_write.c, encode_*.c, writer.c) shares the codecs and
 * the enum values below.
 *
 * Everything here is single-threaded per reader/writer. The whole file image
 * is mapped read-only; every offset and length read from the file is checked
 * against it before use.
 */
#ifndef MANTA_PQ_INT_H
#define MANTA_PQ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "manta/base.h"
#include "manta/data.h"
#include "manta/parquet.h"

/* ---- Enums (values from parquet.thrift) -------------------------------- */

enum pq_physical {
    PQ_BOOLEAN = 0,
    PQ_INT32 = 1,
    PQ_INT64 = 2,
    PQ_INT96 = 3,
    PQ_FLOAT = 4,
    PQ_DOUBLE = 5,
    PQ_BYTE_ARRAY = 6,
    PQ_FIXED_LEN_BYTE_ARRAY = 7,
};

enum pq_repetition { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };

enum pq_converted {
    PQ_CT_UTF8 = 0, PQ_CT_MAP = 1, PQ_CT_MAP_KEY_VALUE = 2, PQ_CT_LIST = 3, PQ_CT_ENUM = 4,
    PQ_CT_DECIMAL = 5, PQ_CT_DATE = 6, PQ_CT_TIME_MILLIS = 7, PQ_CT_TIME_MICROS = 8,
    PQ_CT_TIMESTAMP_MILLIS = 9, PQ_CT_TIMESTAMP_MICROS = 10, PQ_CT_UINT_8 = 11,
    PQ_CT_UINT_16 = 12, PQ_CT_UINT_32 = 13, PQ_CT_UINT_64 = 14, PQ_CT_INT_8 = 15,
    PQ_CT_INT_16 = 16, PQ_CT_INT_32 = 17, PQ_CT_INT_64 = 18, PQ_CT_JSON = 19, PQ_CT_BSON = 20,
    PQ_CT_INTERVAL = 21,
};

/* LogicalType union member ids (thrift field ids). */
enum pq_logical_kind {
    PQ_LT_NONE = 0, PQ_LT_STRING = 1, PQ_LT_MAP = 2, PQ_LT_LIST = 3, PQ_LT_ENUM = 4,
    PQ_LT_DECIMAL = 5, PQ_LT_DATE = 6, PQ_LT_TIME = 7, PQ_LT_TIMESTAMP = 8,
    /* 9 is reserved */
    PQ_LT_INTEGER = 10, PQ_LT_UNKNOWN = 11, PQ_LT_JSON = 12, PQ_LT_BSON = 13, PQ_LT_UUID = 14,
    PQ_LT_FLOAT16 = 15, PQ_LT_VARIANT = 16, PQ_LT_GEOMETRY = 17, PQ_LT_GEOGRAPHY = 18,
    PQ_LT_UNRECOGNISED = 1000, /* a union member this reader does not know */
};

enum pq_time_unit { PQ_MILLIS = 0, PQ_MICROS = 1, PQ_NANOS = 2 };

enum pq_encoding {
    PQ_PLAIN = 0, PQ_PLAIN_DICTIONARY = 2, PQ_RLE = 3, PQ_BIT_PACKED = 4,
    PQ_DELTA_BINARY_PACKED = 5, PQ_DELTA_LENGTH_BYTE_ARRAY = 6, PQ_DELTA_BYTE_ARRAY = 7,
    PQ_RLE_DICTIONARY = 8, PQ_BYTE_STREAM_SPLIT = 9,
};

enum pq_page_type { PQ_DATA_PAGE = 0, PQ_INDEX_PAGE = 1, PQ_DICTIONARY_PAGE = 2, PQ_DATA_PAGE_V2 = 3 };

/* ---- Decoded footer ---------------------------------------------------- */

typedef struct pq_logical_type {
    int kind;                 /* enum pq_logical_kind */
    int32_t scale, precision; /* DECIMAL */
    bool is_adjusted_to_utc;  /* TIME, TIMESTAMP */
    int unit;                 /* TIME, TIMESTAMP: enum pq_time_unit */
    int32_t bit_width;        /* INTEGER: 8, 16, 32, 64 */
    bool is_signed;           /* INTEGER */
} pq_logical_type;

typedef struct pq_schema_element {
    char *name;
    int type;              /* enum pq_physical, or -1 for groups */
    int32_t type_length;   /* FIXED_LEN_BYTE_ARRAY width, else 0 */
    int repetition;        /* enum pq_repetition, or -1 when absent (the root) */
    int32_t num_children;  /* 0 for leaves */
    int converted_type;    /* enum pq_converted, or -1 */
    int32_t scale, precision;
    int32_t field_id;      /* -1 when absent */
    pq_logical_type logical;
} pq_schema_element;

typedef struct pq_statistics {
    const uint8_t *min, *max; /* point into the footer buffer; NULL when absent.
                                 min_value/max_value preferred over legacy min/max */
    int32_t min_len, max_len;
    bool has_null_count, has_distinct_count;
    int64_t null_count, distinct_count;
    bool legacy_min_max;      /* values came from the deprecated min/max fields */
} pq_statistics;

typedef struct pq_kv {
    char *key;
    char *value; /* NULL when absent */
} pq_kv;

typedef struct pq_column_chunk {
    char *file_path;            /* NULL = this file */
    int64_t file_offset;
    bool has_meta_data;         /* ColumnMetaData present (absent when encrypted) */
    bool encrypted;             /* crypto_metadata or encrypted_column_metadata present */
    int type;                   /* enum pq_physical */
    int32_t num_encodings;
    int32_t *encodings;
    int32_t path_len;
    char **path_in_schema;
    int codec;                  /* mt_parquet_codec */
    int64_t num_values;
    int64_t total_uncompressed_size, total_compressed_size;
    int64_t data_page_offset;
    int64_t index_page_offset;      /* -1 when absent */
    int64_t dictionary_page_offset; /* -1 when absent */
    pq_statistics stats;
    int32_t num_kv;
    pq_kv *kv;
    int64_t offset_index_offset, column_index_offset; /* -1 when absent */
    int32_t offset_index_length, column_index_length;
    int64_t bloom_filter_offset;                      /* -1 when absent */
} pq_column_chunk;

typedef struct pq_row_group {
    int32_t num_columns;
    pq_column_chunk *columns;
    int64_t total_byte_size;
    int64_t num_rows;
    int64_t file_offset;           /* -1 when absent */
    int64_t total_compressed_size; /* -1 when absent */
    int32_t ordinal;               /* -1 when absent */
} pq_row_group;

typedef struct pq_file_meta {
    int32_t version;
    int32_t num_schema;
    pq_schema_element *schema; /* depth-first, schema[0] is the root */
    int64_t num_rows;          /* the rows of the row groups (what reading yields) */
    int64_t footer_num_rows;   /* what the footer claims; differs in some old writers' files */
    int32_t num_row_groups;
    pq_row_group *row_groups;
    int32_t num_kv;
    pq_kv *kv;
    char *created_by;          /* NULL when absent */
    int32_t num_column_orders;
    bool has_encryption_algorithm; /* plaintext-footer encrypted file */
    uint8_t *footer;           /* owned copy of the footer bytes (stats point here) */
    size_t footer_len;
} pq_file_meta;

/* Decodes a FileMetaData footer. `buf` is copied into meta->footer. */
mt_status pq_meta_decode(const uint8_t *buf, size_t len, pq_file_meta *out, mt_error *err);
void pq_meta_fini(pq_file_meta *m);

/* ---- Pages ------------------------------------------------------------- */

typedef struct pq_page {
    int type;            /* enum pq_page_type: DATA_PAGE, DICTIONARY_PAGE or DATA_PAGE_V2 */
    int32_t num_values;  /* values incl. nulls (data pages), entries (dictionary pages) */
    int encoding;        /* values encoding */
    int def_encoding;    /* v1 only: RLE or BIT_PACKED */
    int rep_encoding;    /* v1 only */
    int32_t num_nulls;   /* v2 only */
    int32_t num_rows;    /* v2 only */
    int32_t def_len;     /* v2 only: bytes of definition levels at the start of data */
    int32_t rep_len;     /* v2 only: bytes of repetition levels, before the definition levels */
    bool is_sorted;      /* dictionary pages */
    /*
     * The uncompressed page body. v1: levels then values, as written.
     * v2: repetition levels, definition levels, then the decompressed values.
     * Valid until the next pq_page_reader_next or pq_page_reader_fini.
     */
    const uint8_t *data;
    size_t len;
} pq_page;

typedef struct pq_page_reader pq_page_reader;

/*
 * Starts reading the pages of column chunk `cc` out of the file image
 * [file, file+file_len). Index pages are skipped; a bogus dictionary offset
 * (pointing at a data page, or 0) is tolerated by starting at the smallest
 * valid page offset. `ctx` (e.g. "row group 0, column 'a'") prefixes errors.
 */
mt_status pq_page_reader_create(const uint8_t *file, size_t file_len, const pq_column_chunk *cc,
                                bool verify_crc, const char *ctx, pq_page_reader **out,
                                mt_error *err);
/* Next page; *eof = true (and page untouched) when the chunk is done. */
mt_status pq_page_reader_next(pq_page_reader *pr, pq_page *page, bool *eof, mt_error *err);
void pq_page_reader_destroy(pq_page_reader *pr);
/*
 * As pq_page_reader_next, but only decodes the header: page->data is NULL,
 * page->len the uncompressed size; no decompression, no CRC check. For
 * metadata printing.
 */
mt_status pq_page_reader_next_header(pq_page_reader *pr, pq_page *page, bool *eof, mt_error *err);

/* The reader's decoded footer and file image (reader.c), for meta_print.c. */
const pq_file_meta *pq_reader_meta(const mt_parquet_reader *r, const uint8_t **data, size_t *len,
                                   const char **path);

/* ---- Codecs (codec.c) -------------------------------------------------- */

/*
 * Decompresses `in` into exactly `out_len` bytes at `out`. An output of a
 * different size is MT_ECORRUPT. GZIP accepts concatenated members; LZ4 tries
 * Hadoop framing, then raw LZ4 block.
 */
mt_status pq_decompress(int codec, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                        mt_error *err);
/*
 * Cheap plausibility check before allocating `out_len` bytes for
 * decompressing `in`: rejects (MT_ECORRUPT) sizes the codec's own header
 * contradicts (SNAPPY, ZSTD) or that exceed the codec's maximum ratio
 * (GZIP, LZ4), so that a lying page header cannot force a huge allocation.
 */
mt_status pq_decompress_precheck(int codec, const uint8_t *in, size_t in_len, size_t out_len,
                                 mt_error *err);
/* Worst-case compressed size of `in_len` bytes. */
size_t pq_compress_bound(int codec, size_t in_len);
/* Compresses into `out` (capacity pq_compress_bound), setting *out_len. level 0 = default. */
mt_status pq_compress(int codec, int level, const uint8_t *in, size_t in_len, uint8_t *out,
                      size_t *out_len, mt_error *err);
/* CRC-32 (the zlib/IEEE polynomial) as Parquet page headers use it. */
uint32_t pq_crc32(const uint8_t *p, size_t n);

/* ---- Schema and values (value half) ------------------------------------ */

typedef struct pq_schema pq_schema;

/* Maps the footer's schema to Arrow types and leaf descriptors. */
mt_status pq_schema_build(const pq_file_meta *m, pq_schema **out, mt_error *err);
void pq_schema_destroy(pq_schema *s);
/* The full Arrow schema (STRUCT, one field per top-level Parquet field). */
const mt_type *pq_schema_arrow(const pq_schema *s);

/*
 * Reads top-level field `field` of row group `rg` into a new array of
 * m->row_groups[rg].num_rows values. Opens the page readers of the field's
 * leaf column chunks itself.
 */
mt_status pq_read_field(const pq_schema *s, const pq_file_meta *m, int32_t rg, int32_t field,
                        const uint8_t *file, size_t file_len, bool verify_crc, const char *path,
                        mt_array **out, mt_error *err);

#endif /* MANTA_PQ_INT_H */
