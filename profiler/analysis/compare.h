/* Regression check between two reports: per target (matched by name) and
 * metric, the change of the median and a Mann–Whitney U test on the raw
 * per-run values. A regression is worse (larger) by more than the threshold
 * with p below alpha, and by more than an absolute noise floor (a 0.4 ms CPU
 * difference between two sessions of a 1 ms process is real but meaningless). */
#ifndef COLDSTART_COMPARE_H
#define COLDSTART_COMPARE_H

#include <stdbool.h>

#include "reports/output.h"
#include "reports/report.h"

struct prof_compare_row {
    const char *target; /* borrowed from the new report */
    const struct rep_metric *metric;
    double base_p50, new_p50, change_pct, p;
    size_t base_n, new_n;
    enum { CMP_SAME, CMP_REGRESSION, CMP_IMPROVED, CMP_NOISE } verdict;
};

struct prof_comparison {
    struct prof_compare_row *rows;
    size_t n_rows;
    char **only_base, **only_new; /* target names found in one report only (borrowed) */
    size_t n_only_base, n_only_new;
    double threshold_pct, alpha;
    double min_time_us, min_bytes; /* absolute changes smaller than these never count */
    size_t regressions;
};

struct prof_compare_opts {
    double threshold_pct; /* default 5 */
    double alpha;         /* default 0.05 */
    double min_time_us;   /* default 1000: 1 ms */
    double min_bytes;     /* default 1 MiB */
};

int prof_compare(const struct rep_report *base, const struct rep_report *cur,
                 const struct prof_compare_opts *opts, struct prof_comparison *ret);
void prof_comparison_free(struct prof_comparison *c);
void prof_comparison_text(const struct prof_comparison *c, struct rep_buf *b);
void prof_comparison_markdown(const struct prof_comparison *c, struct rep_buf *b);
void prof_comparison_json(const struct prof_comparison *c, struct rep_buf *b);

#endif
