/* One error convention for every module (after crun's libcrun_error_t):
 * a function that fails returns -1 and fills a cs_error with errno (0 when the
 * failure is not a system error), a message that names the thing, and the
 * class of failure the exit code reports. errno and message are kept apart:
 * wrapping adds context to the message only, and strerror() is added once,
 * when the error is shown (cs_error_text). Only main() prints errors. */
#ifndef COLDSTART_ERROR_H
#define COLDSTART_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* What kind of failure, and so which exit code (DESIGN.md "Exit codes"). */
enum cs_error_status {
    CS_ERR_FAILED = 1, /* the system or the target failed: exit 1 */
    CS_ERR_INPUT = 2,  /* bad usage or bad input (a flag, a file, a report): exit 2 */
    CS_ERR_INTERRUPTED = 3, /* a signal stopped it (Ctrl-C) after cleaning up: exit 128+signo */
};

typedef struct cs_error {
    int errnum;                  /* errno of the failing call, or 0 */
    enum cs_error_status status; /* CS_ERR_FAILED unless marked as bad input */
    char msg[1024];              /* sentence fragment, no strerror, no trailing newline */
    int signo;                   /* CS_ERR_INTERRUPTED: the signal */
} cs_error;

/* Sets errno and message (status CS_ERR_FAILED). Returns -1. */
int cs_error_set(cs_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets a bad-usage or bad-input message (status CS_ERR_INPUT, errnum 0). Returns -1. */
int cs_error_input(cs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "context: " to the message; errno and status stay. Returns -1. */
int cs_error_prefix(cs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Interrupted by signal signo (exit 128+signo). Returns -1. */
int cs_error_interrupted(cs_error *err, int signo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks an error as bad input (exit 2), whatever set it. Returns -1. */
int cs_error_mark_input(cs_error *err);

/* The error as a user reads it: the message, then ": strerror(errnum)" once
 * when errnum is set. Writes into buf and returns it. */
const char *cs_error_format(const cs_error *err, char *buf, size_t cap);
#define CS_ERROR_TEXT_MAX 1152
/* cs_error_format into a buffer that lives until the end of the enclosing block. */
#define cs_error_text(err) cs_error_format((err), (char[CS_ERROR_TEXT_MAX]){0}, CS_ERROR_TEXT_MAX)

/* Where library code sends what the user should read but is not an error
 * (a warning: a key it ignored, a leftover it could not remove; a note:
 * "building ..."): to the command layer, which prints it. fn NULL: dropped. */
struct cs_sink {
    void (*fn)(void *ctx, const char *msg);
    void *ctx;
};
void cs_emit(const struct cs_sink *sink, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
