/* Regression check between two reports: per target (matched by name) and
 * metric, the change of the median and a Mann–Whitney U test on the raw
 * per-run values. A regression is worse (larger; for requests/s smaller) by
 * more than the threshold with p below alpha, and by more than an absolute
 * noise floor (a 0.4 ms CPU difference between two sessions of a 1 ms
 * process is real but meaningless). */
#ifndef COLDSTART_COMPARE_H
#define COLDSTART_COMPARE_H

#include <stdbool.h>

#include "reports/comparison.h"
#include "reports/report.h"

struct prof_compare_opts {
    double threshold_pct; /* default 5 */
    double alpha;         /* default 0.05 */
    double min_time_us;   /* default 1000: 1 ms */
    double min_bytes;     /* default 1 MiB */
};

int prof_compare(const struct rep_report *base, const struct rep_report *cur,
                 const struct prof_compare_opts *opts, struct rep_comparison *ret);

#endif
