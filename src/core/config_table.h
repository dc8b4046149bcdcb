/*
 * config_table.h — every Manta tunable, one line each:
 *   MT_CONFIG(type, name, default, doc)
 * type is INT64, DOUBLE, BOOL or STRING. The environment variable
 * MANTA_<NAME> (upper case) overrides the default.
 */
MT_CONFIG(INT64, log_level, 2, "log threshold: 0 debug, 1 info, 2 warn, 3 error, 4 off")
MT_CONFIG(INT64, parquet_row_group_rows, 1048576, "rows per row group the Parquet writer aims for")
MT_CONFIG(INT64, parquet_page_bytes, 1048576, "uncompressed bytes per data page the Parquet writer aims for")
MT_CONFIG(INT64, parquet_dictionary_page_bytes, 1048576, "dictionary size above which the writer falls back to PLAIN")
MT_CONFIG(BOOL, parquet_verify_crc, 1, "verify page CRC32 checksums when a page carries one")
MT_CONFIG(INT64, parquet_max_page_bytes, 1073741824, "largest page (compressed or not) the reader accepts")
MT_CONFIG(INT64, csv_infer_rows, 1000, "rows the CSV reader looks at to infer column types")
MT_CONFIG(INT64, csv_block_rows, 65536, "rows per block when reading CSV")
MT_CONFIG(STRING, temp_dir, "/tmp/manta", "root of session folders")
