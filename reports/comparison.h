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
    /* p after Holm-Bonferroni over the target's metrics that changed by more
     * than the threshold and floor (NAN for the others: they are "same"
     * whatever p says, so they are not tested). */
    double p_holm;
    /* The shift new - base as a percentage of the base median: the
     * Hodges-Lehmann estimate's distribution-free 95% interval (NAN: too
     * few runs, or too many pairs to list). */
    double ci_lo_pct, ci_hi_pct;
    size_t base_n, new_n;
    enum { CMP_SAME, CMP_REGRESSION, CMP_IMPROVED, CMP_NOISE } verdict;
};

/* Measured runs that ended ok, per target in both reports: fewer of them in
 * the new one is a regression whatever its numbers (a target that crashes in
 * every run has no numbers to compare). */
struct rep_compare_ok {
    const char *target; /* borrowed from the new report */
    size_t base_ok, base_n, new_ok, new_n;
    bool regression;
    /* The same name ran another command (or image): said, since the numbers
     * then compare two programs. */
    bool command_differs;
};

struct rep_comparison {
    struct rep_compare_row *rows;
    size_t n_rows;
    struct rep_compare_ok *oks;
    size_t n_oks;
    /* Target names found in one report only (borrowed). One of the base
     * that vanished from the new report is a regression. */
    char **only_base, **only_new;
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
