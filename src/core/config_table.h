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
MT_CONFIG(INT64, rpc_max_frame_bytes, 268435456, "largest RPC frame accepted; bigger frames close the connection")
MT_CONFIG(INT64, rpc_connect_timeout_ms, 5000, "time allowed to connect and authenticate")
MT_CONFIG(INT64, object_store_memory, 0, "object store bytes per node; 0 = 30% of RAM, capped by /dev/shm")
MT_CONFIG(INT64, max_object_bytes, 0, "largest object accepted; 0 = no limit beyond disk")
MT_CONFIG(INT64, inline_object_bytes, 102400, "objects up to this size travel inline in messages instead of the store")
MT_CONFIG(INT64, heartbeat_ms, 1000, "node daemon heartbeat period to the control store")
MT_CONFIG(INT64, node_dead_after_ms, 10000, "a node missing heartbeats this long is marked dead")
MT_CONFIG(INT64, worker_prestart, 0, "workers started ahead of demand; 0 = one per CPU")
MT_CONFIG(INT64, worker_start_timeout_ms, 30000, "a worker that does not register in this time is killed")
MT_CONFIG(INT64, worker_idle_ms, 60000, "idle workers above the pool size are stopped after this long")
MT_CONFIG(INT64, task_max_retries, 3, "default retries of a task after its worker dies")
MT_CONFIG(INT64, actor_max_restarts, 0, "default restarts of an actor after its worker dies")
MT_CONFIG(STRING, spill_dir, "", "where the object store spills; empty = <session>/spill")
MT_CONFIG(INT64, gcs_port, 6379, "default control-store port of a head node")
