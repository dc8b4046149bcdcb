/*
 * task_record.h — the packed form of one task attempt's state changes, as
 * owners report them (AddTaskEventsRequest.records) and the control store
 * reads them: MT_TASK_RECORD_BYTES each, little-endian, no allocation to
 * read or write. Texts are 1-based indexes into the request's strings (0:
 * none). Layout (byte offsets): task_id 0, attempt 20, job_id 24,
 * worker_pid 28, state 32, type 33, flags 34 (1 actor, 2 parent, 4 node,
 * 8 worker), name 36, error_type 40, error_message 44, state_ms[7] 48
 * (int64 unix ms by TaskState, 0: not reached), actor_id 104, parent 124,
 * node_id 144, worker_id 164.
 */
#ifndef MANTA_GCS_TASK_RECORD_H
#define MANTA_GCS_TASK_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "manta/base.h"

#define MT_TASK_RECORD_BYTES 184
#define MT_TASK_RECORD_STATES 7

typedef struct mt_task_record {
    mt_id task_id, actor_id, parent_id, node_id, worker_id;
    uint32_t attempt, job_id;
    int32_t worker_pid;
    uint8_t state, type;
    bool has_actor, has_parent, has_node, has_worker;
    uint32_t name, error_type, error_message; /* 1 + index into the strings; 0: none */
    int64_t state_ms[MT_TASK_RECORD_STATES];
} mt_task_record;

void mt_task_record_put(uint8_t out[MT_TASK_RECORD_BYTES], const mt_task_record *r);
void mt_task_record_get(const uint8_t in[MT_TASK_RECORD_BYTES], mt_task_record *r);

#endif
