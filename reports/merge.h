#ifndef COLDSTART_MERGE_H
#define COLDSTART_MERGE_H

#include <stddef.h>

#include "sandbox/base/error.h"

/* Combines reports (CI matrix jobs, several machines) into one: every target
 * of every input, each keeping the host it was measured on. Each input is
 * validated first; a target name seen before gets a "#2", "#3"... suffix.
 * Returns the merged JSON text (caller frees). */
char *rep_merge(const char *const *paths, size_t n, cs_error *err);

#endif
