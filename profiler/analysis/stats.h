/* Statistics over runs: order statistics, a distribution-free 95% confidence
 * interval of the median, and outliers by median absolute deviation. */
#ifndef COLDSTART_STATS_H
#define COLDSTART_STATS_H

#include <stddef.h>

#include "reports/report.h"

/* v need not be sorted; it is not modified. n == 0 gives n = 0 and NaNs. */
void prof_stat_compute(const double *v, size_t n, struct rep_stat *ret);
/* Linear-interpolated percentile (0..100) of sorted values. */
double prof_percentile_sorted(const double *sorted, size_t n, double pct);
/* Indices (1-based order statistics j and n-j+1) bounding the median with at
 * least 95% coverage; returns 0 when n is too small (n < 6). */
size_t prof_median_ci_rank(size_t n);
/* Values farther than 3.5 scaled MADs from the median (Iglewicz–Hoaglin). */
size_t prof_count_outliers(const double *v, size_t n);
/* Two-sided p-value of the Mann–Whitney U test (are a and b from the same
 * distribution?). Exact for small samples without ties, else the normal
 * approximation with tie and continuity corrections. NaN when a side is empty. */
double prof_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);
/* Values of one metric over a target's measured ok runs (a burst's
 * burst_ready_us: every instance of every run) into out, which has room for
 * prof_metric_values_cap(t); returns the count. */
size_t prof_metric_values_cap(const struct rep_target *t);
size_t prof_metric_values(const struct rep_target *t, const struct rep_metric *m, double *out);
/* Fills t->summary from the measured (non-warmup) runs whose status is ok. */
int prof_summarize_target(struct rep_target *t);

#endif
