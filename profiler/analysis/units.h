/* Parsing and printing of the units users type: sizes (K/M/G are powers of
 * 1000, Ki/Mi/Gi powers of 1024, as in Kubernetes), durations (us/ms/s/m),
 * CPU counts and CPU lists. Every parser names the offending text. */
#ifndef COLDSTART_UNITS_H
#define COLDSTART_UNITS_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"

int prof_parse_size(const char *s, uint64_t *ret_bytes, cs_error *err);
int prof_parse_duration(const char *s, uint64_t *ret_us, cs_error *err);
int prof_parse_cpus(const char *s, double *ret, cs_error *err);
/* "0-3,5": validated (the kernel takes the text) and, when ret is not NULL,
 * turned into a CPU set. */
int prof_parse_cpulist(const char *s, cpu_set_t *ret, cs_error *err);
/* A whole number in [min, max]. */
int prof_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret, cs_error *err);
/* A user or group id: 0 to 2^31-1. Larger values are refused, not wrapped:
 * (uid_t)4294967296 is 0, root (and -1 means "unchanged" to setresuid). */
#define PROF_ID_MAX 2147483647u
int prof_parse_id(const char *s, uint32_t *ret, cs_error *err);
/* A signal by name (TERM, SIGTERM, sigint) or number (15). */
int prof_parse_signal(const char *s, int *ret, cs_error *err);

#endif
