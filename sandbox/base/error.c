#include "sandbox/base/error.h"

#include <stdio.h>
#include <string.h>

static int set_message(cs_error *err, int errnum, enum cs_error_status status, const char *fmt,
                       va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    err->errnum = errnum;
    err->status = status;
    return -1;
}

int cs_error_set(cs_error *err, int errnum, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    set_message(err, errnum, CS_ERR_FAILED, fmt, ap);
    va_end(ap);
    return -1;
}

int cs_error_input(cs_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    set_message(err, 0, CS_ERR_INPUT, fmt, ap);
    va_end(ap);
    return -1;
}

int cs_error_prefix(cs_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* A message longer than the buffer ends in "..." rather than mid-word unseen. */
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) >= (int)sizeof err->msg)
        memcpy(err->msg + sizeof err->msg - 4, "...", 4);
    return -1;
}

int cs_error_interrupted(cs_error *err, int signo, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->errnum = 0;
    err->status = CS_ERR_INTERRUPTED;
    err->signo = signo;
    return -1;
}

int cs_error_mark_input(cs_error *err)
{
    if (err)
        err->status = CS_ERR_INPUT;
    return -1;
}

const char *cs_error_format(const cs_error *err, char *buf, size_t cap)
{
    if (!err->errnum)
        snprintf(buf, cap, "%s", err->msg);
    else
        snprintf(buf, cap, "%s: %s", err->msg, strerror(err->errnum));
    return buf;
}

void cs_emit(const struct cs_sink *w, const char *fmt, ...)
{
    if (!w || !w->fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->fn(w->ctx, msg);
}
