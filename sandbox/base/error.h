/* One error convention for every module (after crun's libcrun_error_t):
 * a function that fails returns -1 and fills a cs_error with errno (0 when the
 * failure is not a system error) and a message that names the thing.
 * Callers add context with cs_error_prefix(); only main() prints. */
#ifndef COLDSTART_ERROR_H
#define COLDSTART_ERROR_H

#include <stdarg.h>

typedef struct cs_error {
    int errnum;     /* errno of the failing call, or 0 */
    char msg[1024]; /* complete sentence fragment, no trailing newline */
} cs_error;

/* Sets the message; appends ": strerror(errnum)" when errnum != 0. Returns -1. */
int cs_error_set(cs_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "context: " to an existing message. Returns -1. */
int cs_error_prefix(cs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
