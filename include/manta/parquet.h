/*
 * manta/parquet.h — reading and writing Apache Parquet files as Manta tables.
 *
 * Reader: opens a file (or a memory image), decodes the footer, maps the
 * Parquet schema to Arrow types (the same mapping pyarrow uses), and reads one
 * row group at a time, optionally projecting top-level columns. Every error
 * names the file and, where it applies, the row group, column and page.
 *
 * Writer: streams tables into row groups and writes the footer at close.
 * Output goes to "<path>.tmp-<pid>" and is renamed to `path` only when
 * mt_parquet_writer_close succeeds, so a failed write leaves nothing behind.
 *
 * Thread safety: a reader or writer is used by one thread at a time; separate
 * readers of the same file may run on separate threads.
 */
#ifndef MANTA_PARQUET_H
#define MANTA_PARQUET_H

#include <stdio.h>

#include "manta/base.h"
#include "manta/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parquet's CompressionCodec values. */
typedef enum mt_parquet_codec {
    MT_PARQUET_UNCOMPRESSED = 0,
    MT_PARQUET_SNAPPY = 1,
    MT_PARQUET_GZIP = 2,
    MT_PARQUET_LZO = 3,
    MT_PARQUET_BROTLI = 4,
    MT_PARQUET_LZ4 = 5, /* deprecated Hadoop-framed (or raw legacy) LZ4; read only */
    MT_PARQUET_ZSTD = 6,
    MT_PARQUET_LZ4_RAW = 7,
} mt_parquet_codec;

/* Parses "none"/"uncompressed", "snappy", "gzip", "brotli", "zstd", "lz4", "lz4_raw". */
MT_API mt_status mt_parquet_codec_parse(const char *name, mt_parquet_codec *out, mt_error *err);
MT_API const char *mt_parquet_codec_name(mt_parquet_codec codec);

/* ---- Reader ------------------------------------------------------------ */

typedef struct mt_parquet_reader mt_parquet_reader;

typedef struct mt_parquet_read_options {
    /* NULL-terminated top-level column names to read, in output order; NULL = all. */
    const char *const *columns;
    /* Page CRC checking: 0 = config parquet_verify_crc (default on), 1 = on, -1 = off. */
    int verify_crc;
} mt_parquet_read_options;

/* Opens `path`; `opts` may be NULL. On success *out owns the open file. */
MT_API mt_status mt_parquet_reader_open(const char *path, const mt_parquet_read_options *opts,
                                        mt_parquet_reader **out, mt_error *err);
/*
 * Opens an in-memory file image; `data` must outlive the reader. `name` is
 * used in error messages.
 */
MT_API mt_status mt_parquet_reader_open_memory(const char *name, const uint8_t *data, size_t len,
                                               const mt_parquet_read_options *opts,
                                               mt_parquet_reader **out, mt_error *err);
MT_API void mt_parquet_reader_destroy(mt_parquet_reader *r);
/* The (projected) Arrow schema, a STRUCT type owned by the reader. */
MT_API const mt_type *mt_parquet_reader_schema(const mt_parquet_reader *r);
/* Rows in the file according to the footer. */
MT_API int64_t mt_parquet_reader_num_rows(const mt_parquet_reader *r);
MT_API int32_t mt_parquet_reader_num_row_groups(const mt_parquet_reader *r);
MT_API int64_t mt_parquet_reader_row_group_num_rows(const mt_parquet_reader *r, int32_t rg);
/* Reads row group `rg` into a new table. */
MT_API mt_status mt_parquet_reader_read_row_group(mt_parquet_reader *r, int32_t rg,
                                                  mt_table **out, mt_error *err);
/*
 * Prints the file's structure for `manta data meta`: version, created_by,
 * key-value metadata, schema, and per row group each column chunk's type,
 * codec, encodings, sizes, page count and statistics.
 */
MT_API mt_status mt_parquet_reader_print_meta(mt_parquet_reader *r, FILE *out, mt_error *err);

/* Reads a whole file into one table (row groups concatenated). */
MT_API mt_status mt_parquet_read_table(const char *path, const mt_parquet_read_options *opts,
                                       mt_table **out, mt_error *err);

/* ---- Writer ------------------------------------------------------------ */

typedef struct mt_parquet_writer mt_parquet_writer;

typedef enum mt_parquet_dictionary {
    MT_PARQUET_DICT_DEFAULT = 0, /* on, falling back to PLAIN when the dictionary grows too big */
    MT_PARQUET_DICT_ON = 1,
    MT_PARQUET_DICT_OFF = 2,
} mt_parquet_dictionary;

typedef struct mt_parquet_write_options {
    mt_parquet_codec codec;         /* 0 = UNCOMPRESSED; the CLI defaults to SNAPPY like pyarrow */
    int compression_level;          /* 0 = the codec's default */
    int64_t row_group_rows;         /* 0 = config parquet_row_group_rows */
    int64_t page_bytes;             /* 0 = config parquet_page_bytes */
    mt_parquet_dictionary dictionary;
    int64_t dictionary_page_bytes;  /* 0 = config parquet_dictionary_page_bytes */
    bool no_statistics;             /* true: omit min/max/null_count */
    int page_version;               /* 0 or 1: DATA_PAGE; 2: DATA_PAGE_V2 */
    const char *const *kv_metadata; /* NULL-terminated key, value, key, value, … */
} mt_parquet_write_options;

/* Starts a file of `schema` (a STRUCT type, retained); `opts` may be NULL. */
MT_API mt_status mt_parquet_writer_open(const char *path, const mt_type *schema,
                                        const mt_parquet_write_options *opts,
                                        mt_parquet_writer **out, mt_error *err);
/* Appends rows; row groups are cut at row_group_rows. The table's schema must equal the writer's. */
MT_API mt_status mt_parquet_writer_write(mt_parquet_writer *w, const mt_table *t, mt_error *err);
/* Flushes, writes the footer and renames the file into place. */
MT_API mt_status mt_parquet_writer_close(mt_parquet_writer *w, mt_error *err);
/* Frees the writer; if not closed successfully, removes the temporary file. */
MT_API void mt_parquet_writer_destroy(mt_parquet_writer *w);

/* Writes a whole table to `path`. */
MT_API mt_status mt_parquet_write_table(const char *path, const mt_table *t,
                                        const mt_parquet_write_options *opts, mt_error *err);

#ifdef __cplusplus
}
#endif
#endif /* MANTA_PARQUET_H */
