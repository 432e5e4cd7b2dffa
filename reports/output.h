/* Writing report files: atomically (temporary file in the same folder, then
 * rename), so a reader never sees a partial report; "-" is stdout. */
#ifndef COLDSTART_OUTPUT_H
#define COLDSTART_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "sandbox/error.h"

/* A growable text buffer that writers render into. */
struct rep_buf {
    char *data;
    size_t len, cap;
    int failed; /* allocation failed: the result is unusable */
};
void rep_buf_printf(struct rep_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rep_buf_puts(struct rep_buf *b, const char *s);
void rep_buf_free(struct rep_buf *b);
/* Appends s as a quoted, escaped JSON string. */
void rep_buf_json_string(struct rep_buf *b, const char *s);

int rep_write_file(const char *path, const char *data, size_t len, cs_error *err);

#endif
