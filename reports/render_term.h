/* The terminal table printed after a session: per target, the startup and
 * footprint metrics with p50, p95, mean ± stddev, min, max, the median's 95%
 * CI, and a note where runs are outliers (as hyperfine warns of a slow first run). */
#ifndef COLDSTART_RENDER_TERM_H
#define COLDSTART_RENDER_TERM_H

#include <stdio.h>

#include "reports/report.h"

void rep_term_print_target(FILE *out, const struct rep_target *t);
void rep_term_print_failures(FILE *out, const struct rep_target *t);
/* --profile cpu: the file, and the top 10 functions by self time per phase. */
void rep_term_print_profile(FILE *out, const struct rep_target *t);

#endif
