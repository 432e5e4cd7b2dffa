#include "check.h"
#include "profiler/analysis/budget.h"
#include "profiler/analysis/compare.h"
#include "profiler/analysis/stats.h"

static struct rep_target *target_with(struct rep_report *r, const char *name, const int64_t *ready,
                                      size_t n)
{
    struct rep_target *t = rep_report_add_target(r, name);
    for (size_t i = 0; i < n; i++) {
        struct rep_run *run = rep_target_add_run(t);
        run->index = (int)i;
        run->status = REP_OK;
        run->ready_us = ready[i];
        run->rss_ready_bytes = 50 << 20;
    }
    return t;
}

int main(void)
{
    struct prof_budget b;
    cs_error e;
    CHECK(prof_budget_parse("ready.p95<=300ms", &b, &e) == 0);
    CHECK_STR(b.metric->key, "ready_us");
    CHECK_STR(b.stat, "p95");
    CHECK_INT(b.op, BUDGET_LE);
    CHECK_NEAR(b.value, 300000, 1e-9);
    CHECK(prof_budget_parse(" rss_ready.p50 <= 64MiB ", &b, &e) == 0);
    CHECK_NEAR(b.value, 64.0 * 1048576, 1e-9);
    CHECK(prof_budget_parse("rss_peak.max<128Mi", &b, &e) == 0 && b.op == BUDGET_LT);
    CHECK(prof_budget_parse("cpu_to_ready.p50<=200ms", &b, &e) == 0);
    CHECK(prof_budget_parse("majflt.max<=10", &b, &e) == 0 && b.value == 10);
    CHECK(prof_budget_parse("ready.n>=10", &b, &e) == 0 && b.op == BUDGET_GE);
    CHECK(prof_budget_parse("ready_us.p50>1ms", &b, &e) == 0 && b.op == BUDGET_GT);

    CHECK(prof_budget_parse("ready.p95=300ms", &b, &e) < 0);
    CHECK(strstr(e.msg, "OP"));
    CHECK(prof_budget_parse("readdy.p95<=300ms", &b, &e) < 0);
    CHECK(strstr(e.msg, "unknown metric `readdy`"));
    CHECK(prof_budget_parse("ready.p42<=300ms", &b, &e) < 0);
    CHECK(strstr(e.msg, "unknown statistic `p42`"));
    CHECK(prof_budget_parse("ready<=300ms", &b, &e) < 0);
    CHECK(prof_budget_parse("ready.p95<=300", &b, &e) < 0);
    CHECK(strstr(e.msg, "needs a unit"));
    CHECK(prof_budget_parse("rss_ready.p50<=64Q", &b, &e) < 0);
    CHECK(prof_budget_parse("majflt.max<=ten", &b, &e) < 0);

    /* Evaluation at the edges: equal passes <=, fails <. */
    struct rep_report r = {0};
    int64_t ready[] = {100000, 200000, 300000, 400000, 500000, 600000};
    target_with(&r, "app", ready, 6);
    struct rep_target *t = &r.targets[0];
    CHECK(prof_summarize_target(t) == 0);
    CHECK(prof_budget_parse("ready.max<=600ms", &b, &e) == 0);
    CHECK(prof_budget_check(&b, t));
    CHECK(prof_budget_parse("ready.max<600ms", &b, &e) == 0);
    CHECK(!prof_budget_check(&b, t));
    CHECK(strstr(t->budgets[t->n_budgets - 1].message, "exceeded by app: 600 ms"));
    /* The median's interval is said beside a median budget only. */
    CHECK(strstr(t->budgets[t->n_budgets - 1].message, "(the max of 6 runs)"));
    CHECK(!strstr(t->budgets[t->n_budgets - 1].message, "median 95% CI"));
    CHECK(prof_budget_parse("ready.p50<300ms", &b, &e) == 0);
    CHECK(!prof_budget_check(&b, t));
    CHECK(strstr(t->budgets[t->n_budgets - 1].message, "median 95% CI"));
    CHECK(prof_budget_parse("ready.min>=100ms", &b, &e) == 0);
    CHECK(prof_budget_check(&b, t));
    CHECK(prof_budget_parse("ready.n>=7", &b, &e) == 0);
    CHECK(!prof_budget_check(&b, t));
    CHECK(prof_budget_parse("listen.p50<=1s", &b, &e) == 0);
    CHECK(!prof_budget_check(&b, t)); /* nothing measured is a miss, not a pass */
    CHECK(strstr(t->budgets[t->n_budgets - 1].message, "no successful run"));

    /* Mann–Whitney: complete separation of 5 vs 5 is p = 2/252 exactly. */
    double a[] = {1, 2, 3, 4, 5}, c[] = {6, 7, 8, 9, 10}, same[] = {1, 2, 3, 4, 5};
    CHECK_NEAR(prof_mann_whitney_p(a, 5, c, 5), 2.0 / 252.0, 1e-12);
    CHECK_NEAR(prof_mann_whitney_p(a, 5, same, 5), 1.0, 1e-12);
    double ta[] = {1, 1, 2, 2, 3}, tb[] = {1, 2, 2, 3, 3}; /* ties: normal approximation */
    double p = prof_mann_whitney_p(ta, 5, tb, 5);
    CHECK(p > 0.3 && p <= 1);
    CHECK(isnan(prof_mann_whitney_p(a, 0, c, 5)));

    /* compare on synthetic reports: a 60% shift is a regression; noise is not. */
    struct rep_report base = {0}, slow = {0}, noisy = {0};
    int64_t rb[10], rs[10], rn[10];
    for (int i = 0; i < 10; i++) {
        rb[i] = 100000 + 1000 * ((i * 7) % 10);
        rs[i] = rb[i] * 16 / 10;
        rn[i] = 100000 + 1000 * ((i * 3) % 10) + (i % 2 ? 3000 : -2000);
    }
    target_with(&base, "app", rb, 10);
    target_with(&base, "gone", rb, 10);
    target_with(&slow, "app", rs, 10);
    target_with(&slow, "added", rs, 10);
    target_with(&noisy, "app", rn, 10);
    for (size_t i = 0; i < 2; i++)
        prof_summarize_target(&base.targets[i]), prof_summarize_target(&slow.targets[i]);
    prof_summarize_target(&noisy.targets[0]);
    struct rep_comparison cmp;
    struct prof_compare_opts co = {
        .threshold_pct = 5, .alpha = 0.05, .min_time_us = 1000, .min_bytes = 1048576};
    CHECK(prof_compare(&base, &slow, &co, &cmp) == 0);
    CHECK_INT(cmp.regressions, 2); /* ready, and "gone", which the new report lacks */
    CHECK_INT(cmp.n_only_base, 1);
    CHECK_STR(cmp.only_base[0], "gone");
    CHECK_INT(cmp.n_only_new, 1);
    bool found = false;
    for (size_t i = 0; i < cmp.n_rows; i++)
        if (!strcmp(cmp.rows[i].metric->key, "ready_us")) {
            found = true;
            CHECK_NEAR(cmp.rows[i].change_pct, 60, 1.5);
            CHECK(cmp.rows[i].verdict == CMP_REGRESSION);
        }
    CHECK(found);
    rep_comparison_free(&cmp);
    /* Below, one regression each: a target the new report lacks ("added",
     * "gone"); the numbers themselves add none. */
    CHECK(prof_compare(&slow, &base, &co, &cmp) == 0);
    CHECK_INT(cmp.regressions, 1); /* faster is an improvement */
    rep_comparison_free(&cmp);
    CHECK(prof_compare(&base, &noisy, &co, &cmp) == 0);
    CHECK_INT(cmp.regressions, 1);
    rep_comparison_free(&cmp);
    /* A large relative but tiny absolute shift is below the noise floor. */
    co.min_time_us = 1e6;
    CHECK(prof_compare(&base, &slow, &co, &cmp) == 0);
    CHECK_INT(cmp.regressions, 1);
    rep_comparison_free(&cmp);
    rep_report_free(&r);
    rep_report_free(&base);
    rep_report_free(&slow);
    rep_report_free(&noisy);
    CHECK_DONE();
}
