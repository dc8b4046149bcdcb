/*
 * log.c — leveled log lines "2026-11-25T22:31:05.123Z INFO EVENT file:line msg".
 * One process-wide sink guarded by a mutex; any thread. Daemons point the
 * sink at a file in their session folder; tools leave it on stderr with the
 * threshold at WARN.
 *
 * Repeats are rate-limited per call site: at most LOG_BURST lines per site
 * per second; the first line after a quiet spell says how many were dropped.
 * A hot failure (an accept loop out of descriptors) cannot fill the disk.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "manta/base.h"

int mt__log_threshold = MT_LOG_WARN;
static FILE *sink;
static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *level_name(mt_log_level l)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
    return (unsigned)l <= MT_LOG_OFF ? names[l] : "?";
}

void mt_log_set_level(mt_log_level level) { mt__log_threshold = (int)level; }

mt_status mt_log_open(const char *path, mt_error *err)
{
    FILE *f = NULL;
    if (path) {
        f = fopen(path, "a");
        if (!f) return mt_error_set_errno(err, MT_EIO, errno, "opening log %s", path);
        setvbuf(f, NULL, _IOLBF, 0);
    }
    pthread_mutex_lock(&sink_mu);
    if (sink && sink != stderr) fclose(sink);
    sink = f;
    pthread_mutex_unlock(&sink_mu);
    return MT_OK;
}

#define LOG_BURST 10
#define LOG_SITES 64

typedef struct log_site {
    const char *file;
    int line;
    time_t window; /* second the current window started */
    int64_t count, dropped;
} log_site;

static log_site sites[LOG_SITES];

/* Under sink_mu: false when this line is dropped; *dropped = lines dropped before it. */
static bool log_admit(const char *file, int line, time_t now, int64_t *dropped)
{
    log_site *s = &sites[((uintptr_t)file / 8 + (unsigned)line * 31u) % LOG_SITES];
    *dropped = 0;
    if (s->file != file || s->line != line) {
        *s = (log_site){.file = file, .line = line, .window = now};
    } else if (now != s->window) {
        *dropped = s->dropped;
        s->window = now;
        s->count = s->dropped = 0;
    }
    if (++s->count > LOG_BURST) {
        s->dropped++;
        return false;
    }
    return true;
}

void mt__log_write(mt_log_level level, const char *event, const char *file, int line,
                   const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&sink_mu);
    int64_t dropped;
    if (log_admit(file, line, ts.tv_sec, &dropped)) {
        FILE *out = sink ? sink : stderr;
        char note[64] = "";
        if (dropped) snprintf(note, sizeof note, " (%lld similar lines dropped)", (long long)dropped);
        fprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s:%d %s%s\n", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                level_name(level), event, base, line, msg, note);
    }
    pthread_mutex_unlock(&sink_mu);
}
