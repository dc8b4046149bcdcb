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

size_t mt_escape_controls(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0) return 0;
    for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
        char esc[8];
        size_t k;
        uint8_t c = *p;
        /* C0 controls, DEL, and the UTF-8 encoding of C1 controls (U+0080..U+009F):
         * a terminal would act on them (cursor moves, title changes, erasing). */
        bool c1 = c == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;
        if (c == '\n') k = (size_t)snprintf(esc, sizeof esc, "\\n");
        else if (c == '\r') k = (size_t)snprintf(esc, sizeof esc, "\\r");
        else if (c == '\t') k = (size_t)snprintf(esc, sizeof esc, "\\t");
        else if (c < 0x20 || c == 0x7F) k = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
        else if (c1) k = (size_t)snprintf(esc, sizeof esc, "\\u%04x", p[1]), p++;
        else esc[0] = (char)c, k = 1;
        if (n + k >= cap) break;
        memcpy(out + n, esc, k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

void mt_fputs_escaped(const char *s, void *fp)
{
    char small[512];
    size_t need = strlen(s) * 6 + 1; /* the longest escape is 6 bytes per input byte */
    char *buf = need <= sizeof small ? small : mt_malloc(need);
    if (!buf) return;
    mt_escape_controls(s, buf, need);
    fputs(buf, (FILE *)fp);
    if (buf != small) mt_free(buf);
}

/* Error messages are one line that is safe to print on a terminal. */
static void strip_newlines(char *s)
{
    bool plain = true;
    for (const uint8_t *p = (const uint8_t *)s; *p && plain; p++)
        plain = *p >= 0x20 && *p != 0x7F && !(*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F);
    if (plain) return;
    char copy[MT_ERROR_MSG_MAX];
    snprintf(copy, sizeof copy, "%s", s);
    mt_escape_controls(copy, s, MT_ERROR_MSG_MAX);
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
