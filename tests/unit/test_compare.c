/* The regression check's statistics: Holm-Bonferroni over a target's
 * metrics, the shift's interval, and failures that count as regressions. */
#include "check.h"
#include "profiler/analysis/compare.h"

/* Runs with ready = base + i * step and listen = ready / 2 (two metrics that
 * move together). */
static void target(struct rep_report *r, const char *name, int64_t base, int64_t step, int n,
                   int failed)
{
    struct rep_target *t = rep_report_add_target(r, name);
    for (int i = 0; i < n; i++) {
        struct rep_run *run = rep_target_add_run(t);
        run->index = i;
        run->status = i < failed ? REP_TIMEOUT : REP_OK;
        run->exec_us = 100;
        run->ready_us = base + i * step;
        run->listen_us = run->ready_us / 2;
    }
}

static const struct rep_compare_row *row(const struct rep_comparison *c, const char *metric)
{
    for (size_t i = 0; i < c->n_rows; i++)
        if (strcmp(c->rows[i].metric->key, metric) == 0)
            return &c->rows[i];
    return NULL;
}

int main(void)
{
    struct prof_compare_opts o = {.threshold_pct = 5, .alpha = 0.05, .min_time_us = 1000,
                                  .min_bytes = 1048576};
    /* Overlapping samples shifted by ~14%: each metric alone has the exact
     * p 0.038, below alpha; two metrics tested together are not (Holm: the
     * smaller p is held against alpha / 2). */
    struct rep_report a = {0}, b = {0};
    int64_t va[] = {100000, 104000, 108000, 112000, 116000, 120000, 124000, 128000};
    int64_t vb[] = {107000, 116001, 120001, 124001, 128001, 132001, 136001, 140001}; /* U = 12 */
    struct rep_target *ta = rep_report_add_target(&a, "app"), *tb = rep_report_add_target(&b, "app");
    for (int i = 0; i < 8; i++) {
        struct rep_run *x = rep_target_add_run(ta), *y = rep_target_add_run(tb);
        x->status = y->status = REP_OK;
        x->ready_us = va[i];
        y->ready_us = vb[i];
        x->listen_us = va[i] / 2;
        y->listen_us = vb[i] / 2;
    }
    struct rep_comparison c;
    CHECK(prof_compare(&a, &b, &o, &c) == 0);
    const struct rep_compare_row *ready = row(&c, "ready_us");
    CHECK(ready && ready->p < 0.05);         /* alone it would count */
    CHECK(ready && ready->p_holm >= 0.05);   /* corrected, it does not */
    CHECK(ready && ready->verdict == CMP_NOISE);
    CHECK_INT(c.regressions, 0);
    /* The shift's interval: around the change, above 0 as the raw p says. */
    CHECK(ready && ready->ci_lo_pct > 0 && ready->ci_lo_pct < ready->change_pct &&
          ready->ci_hi_pct > ready->change_pct);
    rep_comparison_free(&c);
    rep_report_free(&a);
    rep_report_free(&b);

    /* A clear shift stays a regression after the correction. */
    struct rep_report base = {0}, slower = {0};
    target(&base, "app", 100000, 100, 10, 0);
    target(&slower, "app", 160000, 100, 10, 0);
    CHECK(prof_compare(&base, &slower, &o, &c) == 0);
    CHECK(row(&c, "ready_us") && row(&c, "ready_us")->verdict == CMP_REGRESSION);
    CHECK(c.regressions >= 1);
    rep_comparison_free(&c);

    /* Fewer ok runs, a target gone: regressions with no metric to compare. */
    struct rep_report failing = {0};
    target(&failing, "app", 100000, 100, 10, 7);
    CHECK(prof_compare(&base, &failing, &o, &c) == 0);
    CHECK_INT(c.n_oks, 1);
    CHECK(c.oks[0].regression && c.oks[0].new_ok == 3 && c.oks[0].base_ok == 10);
    CHECK(c.regressions >= 1);
    rep_comparison_free(&c);
    struct rep_report two = {0};
    target(&two, "app", 100000, 100, 10, 0);
    target(&two, "worker", 100000, 100, 10, 0);
    CHECK(prof_compare(&two, &base, &o, &c) == 0);
    CHECK_INT(c.n_only_base, 1);
    CHECK_INT(c.regressions, 1);
    rep_comparison_free(&c);
    CHECK(prof_compare(&base, &base, &o, &c) == 0);
    CHECK_INT(c.regressions, 0);
    rep_comparison_free(&c);
    rep_report_free(&base);
    rep_report_free(&slower);
    rep_report_free(&failing);
    rep_report_free(&two);
    CHECK_DONE();
}
