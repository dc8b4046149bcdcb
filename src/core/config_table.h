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
MT_CONFIG(STRING, temp_dir, "", "root of session folders; empty = /tmp/manta-<uid> (must be this user's, not group/other writable)")
MT_CONFIG(INT64, rpc_max_frame_bytes, 268435456, "largest RPC frame accepted; bigger frames close the connection")
MT_CONFIG(INT64, rpc_connect_timeout_ms, 5000, "time allowed to connect and authenticate")
MT_CONFIG(INT64, object_store_memory, 0, "object store bytes per node; 0 = 30% of RAM, capped by /dev/shm")
MT_CONFIG(INT64, max_object_bytes, 0, "largest object accepted; 0 = no limit beyond disk")
MT_CONFIG(INT64, inline_object_bytes, 102400, "objects up to this size travel inline in messages instead of the store")
MT_CONFIG(INT64, heartbeat_ms, 1000, "node daemon heartbeat period to the control store")
MT_CONFIG(INT64, gcs_lost_exit_ms, 10000, "a node daemon that cannot reach its control store this long shuts down, telling its drivers why; 0 = keep trying")
MT_CONFIG(INT64, node_dead_after_ms, 10000, "a node missing heartbeats this long is marked dead")
MT_CONFIG(INT64, worker_prestart, 0, "workers started ahead of demand; 0 = one per CPU")
MT_CONFIG(INT64, worker_start_timeout_ms, 30000, "a worker that does not register in this time is killed")
MT_CONFIG(INT64, worker_idle_ms, 60000, "idle workers above the pool size are stopped after this long")
MT_CONFIG(INT64, wait_spin_us, 20, "drivers and workers poll without sleeping this long before blocking (saves wake-ups); 0 = block at once")
MT_CONFIG(INT64, max_tasks_in_flight_per_worker, 256, "tasks a driver pushes to one leased worker ahead of its results (1..256; Ray's is 1)")
MT_CONFIG(INT64, task_max_retries, 3, "default retries of a task after its worker dies")
MT_CONFIG(INT64, max_lineage_bytes, 1073741824, "task specs a driver keeps to rebuild lost results (Ray's); above it new results cannot be rebuilt")
MT_CONFIG(INT64, actor_max_restarts, 0, "default restarts of an actor after its worker dies")
MT_CONFIG(STRING, spill_dir, "", "where the object store spills; empty = <session>/spill")
MT_CONFIG(DOUBLE, object_spilling_threshold, 0.8, "the node spills in the background once this fraction of its object store is in use")
MT_CONFIG(INT64, max_io_workers, 4, "spill jobs a node runs at once (threads of its I/O pool)")
MT_CONFIG(INT64, gcs_port, 6379, "default control-store port of a head node")
MT_CONFIG(STRING, bin, "", "path of the manta executable used to start daemons and workers; empty = PATH, then the install location")
MT_CONFIG(STRING, token, "", "cluster token (64 hex digits) for joining or connecting from another machine; empty = the session's token file; never printed")
MT_CONFIG(STRING, address, "", "cluster to join (control store host:port); empty = the latest local session, else start one")

/*
 * Bounds of the numeric tunables, checked whenever a value is set (from the
 * environment, a flag or mt_config_set): MT_CONFIG_RANGE(name, min, max).
 * Only config.c reads them (it defines MT_CONFIG_RANGE); a misspelt name
 * fails to compile there.
 */
#ifdef MT_CONFIG_RANGE
MT_CONFIG_RANGE(log_level, 0, 4)
MT_CONFIG_RANGE(parquet_row_group_rows, 1, 1LL << 40)
MT_CONFIG_RANGE(parquet_page_bytes, 1024, 1LL << 31)
MT_CONFIG_RANGE(parquet_dictionary_page_bytes, 0, 1LL << 31)
MT_CONFIG_RANGE(parquet_max_page_bytes, 1024, 1LL << 31)
MT_CONFIG_RANGE(csv_infer_rows, 1, 1LL << 40)
MT_CONFIG_RANGE(csv_block_rows, 1, 1LL << 31)
MT_CONFIG_RANGE(rpc_max_frame_bytes, 16, 1LL << 31)
MT_CONFIG_RANGE(rpc_connect_timeout_ms, 10, 3600000)
MT_CONFIG_RANGE(object_store_memory, 0, 1LL << 46)
MT_CONFIG_RANGE(max_object_bytes, 0, 1LL << 46)
MT_CONFIG_RANGE(inline_object_bytes, 0, 64LL << 20)
MT_CONFIG_RANGE(heartbeat_ms, 10, 600000)
MT_CONFIG_RANGE(gcs_lost_exit_ms, 0, 86400000)
MT_CONFIG_RANGE(node_dead_after_ms, 100, 86400000)
MT_CONFIG_RANGE(worker_prestart, 0, 4096)
MT_CONFIG_RANGE(worker_start_timeout_ms, 100, 3600000)
MT_CONFIG_RANGE(worker_idle_ms, 10, 86400000)
MT_CONFIG_RANGE(wait_spin_us, 0, 1000000)
MT_CONFIG_RANGE(max_tasks_in_flight_per_worker, 1, 256)
MT_CONFIG_RANGE(task_max_retries, -1, 1000000)
MT_CONFIG_RANGE(max_lineage_bytes, 0, 1LL << 46)
MT_CONFIG_RANGE(actor_max_restarts, -1, 1000000)
MT_CONFIG_RANGE(object_spilling_threshold, 0.0, 1.0)
MT_CONFIG_RANGE(max_io_workers, 1, 128)
MT_CONFIG_RANGE(gcs_port, 1, 65535)
#endif
