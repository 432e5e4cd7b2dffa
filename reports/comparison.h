/* A regression check between two reports, as data: the rows analysis/compare.c
 * computes and render_compare.c prints (text, Markdown, JSON). */
#ifndef COLDSTART_REP_COMPARISON_H
#define COLDSTART_REP_COMPARISON_H

#include <stdbool.h>
#include <stddef.h>

#include "reports/output.h"
#include "reports/report.h"

struct rep_compare_row {
    const char *target; /* borrowed from the new report */
    const struct rep_metric *metric;
    double base_p50, new_p50, change_pct, p;
    size_t base_n, new_n;
    enum { CMP_SAME, CMP_REGRESSION, CMP_IMPROVED, CMP_NOISE } verdict;
};

struct rep_comparison {
    struct rep_compare_row *rows;
    size_t n_rows;
    char **only_base, **only_new; /* target names found in one report only (borrowed) */
    size_t n_only_base, n_only_new;
    double threshold_pct, alpha;
    double min_time_us, min_bytes; /* absolute changes smaller than these never count */
    size_t regressions;
};

void rep_comparison_free(struct rep_comparison *c);
#define _cleanup_comparison_ _cleanup_(rep_comparison_free)
void rep_comparison_text(const struct rep_comparison *c, struct rep_buf *b);
void rep_comparison_markdown(const struct rep_comparison *c, struct rep_buf *b);
void rep_comparison_json(const struct rep_comparison *c, struct rep_buf *b);

#endif
