/*
 * task_record.c — writing and reading the packed task records of
 * task_record.h (explicit little-endian, so the bytes mean the same on
 * every host).
 */
#include <string.h>

#include "gcs/task_record.h"

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void mt_task_record_put(uint8_t out[MT_TASK_RECORD_BYTES], const mt_task_record *r)
{
    memcpy(out, r->task_id.bytes, MT_ID_SIZE);
    put32(out + 20, r->attempt);
    put32(out + 24, r->job_id);
    put32(out + 28, (uint32_t)r->worker_pid);
    out[32] = r->state;
    out[33] = r->type;
    out[34] = (uint8_t)(r->has_actor | r->has_parent << 1 | r->has_node << 2 | r->has_worker << 3);
    out[35] = 0;
    put32(out + 36, r->name);
    put32(out + 40, r->error_type);
    put32(out + 44, r->error_message);
    for (int i = 0; i < MT_TASK_RECORD_STATES; i++) put64(out + 48 + 8 * i, (uint64_t)r->state_ms[i]);
    memcpy(out + 104, r->actor_id.bytes, MT_ID_SIZE);
    memcpy(out + 124, r->parent_id.bytes, MT_ID_SIZE);
    memcpy(out + 144, r->node_id.bytes, MT_ID_SIZE);
    memcpy(out + 164, r->worker_id.bytes, MT_ID_SIZE);
}

void mt_task_record_get(const uint8_t in[MT_TASK_RECORD_BYTES], mt_task_record *r)
{
    memcpy(r->task_id.bytes, in, MT_ID_SIZE);
    r->attempt = get32(in + 20);
    r->job_id = get32(in + 24);
    r->worker_pid = (int32_t)get32(in + 28);
    r->state = in[32];
    r->type = in[33];
    r->has_actor = in[34] & 1;
    r->has_parent = in[34] & 2;
    r->has_node = in[34] & 4;
    r->has_worker = in[34] & 8;
    r->name = get32(in + 36);
    r->error_type = get32(in + 40);
    r->error_message = get32(in + 44);
    for (int i = 0; i < MT_TASK_RECORD_STATES; i++) r->state_ms[i] = (int64_t)get64(in + 48 + 8 * i);
    memcpy(r->actor_id.bytes, in + 104, MT_ID_SIZE);
    memcpy(r->parent_id.bytes, in + 124, MT_ID_SIZE);
    memcpy(r->node_id.bytes, in + 144, MT_ID_SIZE);
    memcpy(r->worker_id.bytes, in + 164, MT_ID_SIZE);
}
