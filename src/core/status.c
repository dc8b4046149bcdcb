/*
 * status.c — names and default messages of mt_status, and the mt_error
 * helpers. Pure functions; any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "manta/base.h"

const char *mt_status_name(mt_status st)
{
    switch (st) {
#define MT__NAME(name, value, msg) \
    case name: return #name;
        MT_STATUS_LIST(MT__NAME)
#undef MT__NAME
    }
    return "MT_UNKNOWN";
}

const char *mt_status_message(mt_status st)
{
    switch (st) {
#define MT__MSG(name, value, msg) \
    case name: return msg;
        MT_STATUS_LIST(MT__MSG)
#undef MT__MSG
    }
    return "unknown status";
}

void mt_error_clear(mt_error *err)
{
    if (!err) return;
    err->code = MT_OK;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}

static void strip_newlines(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r') *s = ' ';
}

mt_status mt_error_set(mt_error *err, mt_status code, const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    err->sys_errno = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    strip_newlines(err->msg);
    return code;
}

mt_status mt_error_set_errno(mt_error *err, mt_status code, int sys_errno, const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    err->sys_errno = sys_errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(sys_errno));
    strip_newlines(err->msg);
    return code;
}

mt_status mt_error_prefix(mt_error *err, const char *fmt, ...)
{
    if (!err) return MT_OK;
    char prefix[MT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[MT_ERROR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    size_t n = strnlen(prefix, sizeof prefix - 1);
    char *dst = err->msg;
    size_t cap = sizeof err->msg;
    memcpy(dst, prefix, n);
    if (n + 2 < cap) {
        dst[n++] = ':';
        dst[n++] = ' ';
        size_t rest = strnlen(old, sizeof old - 1);
        if (rest > cap - 1 - n) rest = cap - 1 - n;
        memcpy(dst + n, old, rest);
        n += rest;
    }
    dst[n < cap ? n : cap - 1] = '\0';
    strip_newlines(err->msg);
    return err->code;
}
