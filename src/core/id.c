/*
 * id.c — fixed-size random ids and the monotonic clock. Any thread.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "manta/base.h"

mt_id mt_id_random(void)
{
    mt_id id;
    size_t got = 0;
    while (got < sizeof id.bytes) {
        ssize_t n = getrandom(id.bytes + got, sizeof id.bytes - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    return id;
}

mt_id mt_id_nil(void)
{
    mt_id id;
    memset(&id, 0, sizeof id);
    return id;
}

bool mt_id_is_nil(mt_id id)
{
    for (size_t i = 0; i < sizeof id.bytes; i++)
        if (id.bytes[i]) return false;
    return true;
}

bool mt_id_equal(mt_id a, mt_id b) { return memcmp(a.bytes, b.bytes, sizeof a.bytes) == 0; }

void mt_id_hex(mt_id id, char out[2 * MT_ID_SIZE + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < MT_ID_SIZE; i++) {
        out[2 * i] = hex[id.bytes[i] >> 4];
        out[2 * i + 1] = hex[id.bytes[i] & 15];
    }
    out[2 * MT_ID_SIZE] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

mt_status mt_id_from_hex(const char *hex, mt_id *out, mt_error *err)
{
    if (!hex || strlen(hex) != 2 * MT_ID_SIZE)
        return mt_error_set(err, MT_EINVAL, "id '%s' is not %d hex digits", hex ? hex : "(null)",
                            2 * MT_ID_SIZE);
    for (size_t i = 0; i < MT_ID_SIZE; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return mt_error_set(err, MT_EINVAL, "id '%s' is not hex", hex);
        out->bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return MT_OK;
}

int64_t mt_time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
