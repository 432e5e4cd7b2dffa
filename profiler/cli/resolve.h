/* From the parsed command line to what a session runs with: the step that
 * needs the system (user and group names, the seccomp profile file, budget
 * files, whether report paths can be written, ready specs and their hosts,
 * whether caches may be dropped). Every failure is bad input: exit 2. */
#ifndef COLDSTART_CLI_RESOLVE_H
#define COLDSTART_CLI_RESOLVE_H

#include "profiler/cli/options.h"
#include "profiler/measure/config.h"

/* Fills *ret (free with prof_config_free); strings still point into argv.
 * Warnings (an unknown key in a seccomp profile) go to warn. */
int cli_resolve(const struct cli_options *o, const struct cs_sink *warn, struct prof_config *ret,
                cs_error *err);

#endif
