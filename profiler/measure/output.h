/* What the target prints: the last PROF_OUTPUT_KEEP bytes of stdout and
 * stderr together (the tail a failed run shows), the first line that names an
 * error (a cause that would scroll out of the tail), and line assembly per
 * stream for `log:REGEX` readiness. */
#ifndef COLDSTART_TARGET_OUTPUT_H
#define COLDSTART_TARGET_OUTPUT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define PROF_OUTPUT_KEEP ((size_t)64 * 1024) /* target output kept per run */
/* A longer line is matched on its first PROF_LINE_MAX - 1 bytes. */
#define PROF_LINE_MAX 4096

enum prof_stream { PROF_STDOUT = 0, PROF_STDERR = 1 };

struct prof_output;

struct prof_output *prof_output_new(void);
void prof_output_free(struct prof_output *o);
/* Takes n bytes of one stream. When ready_re is given, every line completed by
 * them is matched against it until one matches: then returns true (the rest of
 * the bytes are still kept). */
bool prof_output_feed(struct prof_output *o, enum prof_stream s, const char *buf, size_t n,
                      const regex_t *ready_re);
/* The stream ended: its last line, if unterminated, completes now. */
bool prof_output_end(struct prof_output *o, enum prof_stream s, const regex_t *ready_re);
/* A copy of the kept tail, NUL bytes shown as spaces; NULL on allocation failure. */
char *prof_output_tail(const struct prof_output *o);
/* The first line naming an error, or NULL. Owned by o. */
const char *prof_output_error_line(const struct prof_output *o);

#endif
