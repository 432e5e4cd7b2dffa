/* Writing report files: atomically (temporary file in the same folder, then
 * rename), so a reader never sees a partial report; "-" is stdout. */
#ifndef COLDSTART_OUTPUT_H
#define COLDSTART_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/error.h"

/* A growable text buffer that writers render into. */
struct rep_buf {
    char *data;
    size_t len, cap;
    int failed; /* allocation failed: the result is unusable */
};
void rep_buf_printf(struct rep_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rep_buf_puts(struct rep_buf *b, const char *s);
void rep_buf_free(struct rep_buf *b);
#define _cleanup_buf_ _cleanup_(rep_buf_free)
/* The length of the longest prefix of s of at most max bytes that does not
 * end inside a UTF-8 sequence (for cutting names). */
int rep_utf8_prefix(const char *s, size_t max);
/* Appends s as a quoted, escaped JSON string. */
void rep_buf_json_string(struct rep_buf *b, const char *s);

/* Writes a report: `-` is stdout; a character device or FIFO is written in
 * place; a regular file (or a missing one) is replaced atomically through a
 * temporary file and rename; a symlink is followed to what it names. Any
 * failure to write (ENOSPC, EIO) is an error. */
int rep_write_file(const char *path, const char *data, size_t len, cs_error *err);
/* Before measuring: could a report be written to path? (not empty, the folder
 * exists and is writable, not a directory or another kind of file) */
int rep_output_check(const char *path, cs_error *err);

#endif
