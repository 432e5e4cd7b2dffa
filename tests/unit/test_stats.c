#include "check.h"
#include "profiler/analysis/stats.h"

int main(void)
{
    struct rep_stat s;
    double v[] = {5, 1, 4, 2, 3};
    prof_stat_compute(v, 5, &s);
    CHECK_INT(s.n, 5);
    CHECK_NEAR(s.min, 1, 1e-9);
    CHECK_NEAR(s.max, 5, 1e-9);
    CHECK_NEAR(s.p50, 3, 1e-9);
    CHECK_NEAR(s.mean, 3, 1e-9);
    CHECK_NEAR(s.stddev, sqrt(2.5), 1e-9);
    CHECK_NEAR(s.p90, 4.6, 1e-9);
    CHECK(isnan(s.ci95_lo)); /* n = 5 cannot reach 95% coverage */

    /* Order-statistic CI of the median: n = 6 uses the extremes (96.9%),
     * n = 10 uses x(2)..x(9) (97.9%), n = 20 uses x(6)..x(15) (95.9%). */
    CHECK_INT(prof_median_ci_rank(5), 0);
    CHECK_INT(prof_median_ci_rank(6), 1);
    CHECK_INT(prof_median_ci_rank(10), 2);
    CHECK_INT(prof_median_ci_rank(20), 6);
    CHECK_INT(prof_median_ci_rank(100), 40);

    double w[10];
    for (int i = 0; i < 10; i++)
        w[i] = 10 - i;
    prof_stat_compute(w, 10, &s);
    CHECK_NEAR(s.ci95_lo, 2, 1e-9);
    CHECK_NEAR(s.ci95_hi, 9, 1e-9);
    CHECK_NEAR(s.p50, 5.5, 1e-9);

    prof_stat_compute(v, 0, &s);
    CHECK_INT(s.n, 0);
    CHECK(isnan(s.p50));
    prof_stat_compute(v, 1, &s);
    CHECK_NEAR(s.p95, 5, 1e-9);
    CHECK_NEAR(s.stddev, 0, 1e-9);

    double o[] = {10, 11, 10, 12, 11, 10, 95};
    CHECK_INT(prof_count_outliers(o, 7), 1);
    double flat[] = {3, 3, 3, 3};
    CHECK_INT(prof_count_outliers(flat, 4), 0);

    /* Summaries use measured, ok runs only. */
    struct rep_report r = {0};
    struct rep_target *t = rep_report_add_target(&r, "x");
    for (int i = 0; i < 4; i++) {
        struct rep_run *run = rep_target_add_run(t);
        run->warmup = i == 0;
        run->status = i == 3 ? REP_TIMEOUT : REP_OK;
        run->ready_us = 1000 * (i + 1);
    }
    CHECK(prof_summarize_target(t) == 0);
    const struct rep_stat *rs = rep_target_stat(t, "ready_us");
    CHECK(rs != NULL);
    if (rs) {
        CHECK_INT(rs->n, 2);
        CHECK_NEAR(rs->p50, 2500, 1e-9);
    }
    CHECK(rep_target_stat(t, "listen_us") == NULL);
    rep_report_free(&r);
    CHECK_DONE();
}
