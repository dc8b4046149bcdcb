/*
 * log.c — leveled log lines "2026-11-25T22:31:05.123Z INFO EVENT file:line msg".
 * One process-wide sink guarded by a mutex; any thread. Daemons point the
 * sink at a file in their session folder; tools leave it on stderr with the
 * threshold at WARN.
 */
#include <errno.h>
#include <pthread.h>
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
    FILE *out = sink ? sink : stderr;
    fprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s:%d %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            level_name(level), event, base, line, msg);
    pthread_mutex_unlock(&sink_mu);
}
