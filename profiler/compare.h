/* Regression check between two reports: per target (matched by name) and
 * metric, the change of the median and a Mann–Whitney U test on the raw
 * per-run values. A regression is worse (larger) by more than the threshold
 * with p below alpha. */
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
    size_t regressions;
};

int prof_compare(const struct rep_report *base, const struct rep_report *cur, double threshold_pct,
                 double alpha, struct prof_comparison *ret);
void prof_comparison_free(struct prof_comparison *c);
void prof_comparison_text(const struct prof_comparison *c, struct rep_buf *b);
void prof_comparison_markdown(const struct prof_comparison *c, struct rep_buf *b);
void prof_comparison_json(const struct prof_comparison *c, struct rep_buf *b);

#endif
