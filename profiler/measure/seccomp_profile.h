/* `--seccomp FILE`: the OCI runtime-spec / Docker seccomp profile format, so
 * targets are profiled under the profile they are deployed with. */
#ifndef COLDSTART_SECCOMP_PROFILE_H
#define COLDSTART_SECCOMP_PROFILE_H

#include <stdio.h>

#include "sandbox/seccomp.h"

/* Parses a profile. A malformed one fails naming the field; unknown syscall
 * names and unknown keys are skipped with a warning on `warn` (may be NULL).
 * Docker's conditional entries are read as for a default container: rules
 * that `includes` capabilities are left out (no extra capabilities granted),
 * `excludes` ones kept; arch and minKernel conditions are checked. */
int prof_seccomp_profile_parse(const char *text, const char *where, struct sbx_seccomp_profile *ret,
                               const struct cs_sink *warn, cs_error *err);
int prof_seccomp_profile_load(const char *path, struct sbx_seccomp_profile *ret,
                              const struct cs_sink *warn, cs_error *err);
void prof_seccomp_profile_free(struct sbx_seccomp_profile *p);

#endif
