/* coldstart size (--image DIR | -- CMD...): the smallest memory limit under
 * which the target starts and serves, by bisection (analysis/sizing.c), and a
 * recommended limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/sizing.h"
#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"

#define MIB (1024ull * 1024ull)

struct sizer {
    struct prof_session *s;
    struct prof_config *o; /* timeout_us is tightened once the unconstrained run is known */
    int64_t max_ready_us;  /* a slower start is not a pass */
    struct prof_target_plan plan;
    struct sbx_limits limits; /* plan.limits points here; memory changes per step */
    struct rep_target *t;
    int index;
    FILE *term;
    bool interrupted;
};

/* One step of the search: a fresh cold start under `limit`, printed as it
 * goes. The run is a step of the sizing, not one of the target's measured
 * (unconstrained) runs. */
static int size_step(void *ctx, uint64_t limit, unsigned attempt, struct prof_size_attempt *ret)
{
    struct sizer *sz = ctx;
    sz->limits.memory_bytes = limit;
    cs_error err;
    struct rep_run run;
    int rc = prof_session_run_step(sz->s, &sz->plan, sz->t, sz->index++, &run, &err);
    if (rc == 1) {
        sz->interrupted = true;
        rep_run_free(&run);
        return 1;
    }
    enum rep_status st = rc < 0 ? REP_ERROR : run.status;
    int64_t ready = st == REP_OK ? run.ready_us : REP_NONE;
    /* Memory pressure slows start-up long before OOM (evicted code is read
     * again and again): beyond --slowdown that is not a pass either. */
    if (st == REP_OK && sz->max_ready_us > 0 && ready > sz->max_ready_us)
        st = REP_SLOW;
    char lim[32], r[32] = "-", why[160] = "";
    rep_format_value(REP_UNIT_BYTES, (double)limit, lim, sizeof lim);
    if (ready != REP_NONE)
        rep_format_value(REP_UNIT_US, (double)ready, r, sizeof r);
    if (st == REP_SLOW) {
        char mx[32];
        rep_format_value(REP_UNIT_US, (double)sz->max_ready_us, mx, sizeof mx);
        snprintf(why, sizeof why, "slower than %.3gx the unconstrained start + 10 ms (%s)",
                 sz->o->slowdown, mx);
    }
    const char *detail = st == REP_SLOW ? why
                         : st == REP_OK ? ""
                         : rc < 0       ? cs_error_text(&err)
                         : run.error    ? run.error
                                        : "";
    fprintf(sz->term, "  %10s  attempt %u  %-8s ready %-10s %s\n", lim, attempt,
            rep_status_name(st), r, detail);
    rep_run_free(&run);
    *ret = (struct prof_size_attempt){st, ready};
    return 0;
}

/* First without a limit: does it serve at all, and what is its peak? The
 * last such run, or NULL. */
static const struct rep_run *unconstrained_runs(struct sizer *sz)
{
    const struct prof_config *o = sz->o;
    fprintf(sz->term, "%s: unconstrained run%s\n", sz->plan.name, o->warmup ? "s" : "");
    for (unsigned i = 0; i <= o->warmup && !sz->interrupted; i++) {
        cs_error err;
        if (prof_session_run(sz->s, &sz->plan, sz->t, i < o->warmup, sz->index++, &err) == 1)
            sz->interrupted = true;
    }
    return sz->t->n_runs ? &sz->t->runs[sz->t->n_runs - 1] : NULL;
}

/* The bisection between --min and --max (default: 4 x the unconstrained
 * peak). Returns the exit code so far (0 or 1). */
static int search(struct sizer *sz, const struct rep_run *free_run)
{
    struct prof_config *o = sz->o;
    int64_t peak = free_run->cgroup_peak_bytes > 0 ? free_run->cgroup_peak_bytes : 0;
    if (free_run->rss_peak_bytes > peak)
        peak = free_run->rss_peak_bytes;
    sz->t->sizing->unconstrained_peak_bytes = free_run->cgroup_peak_bytes;
    /* Plus 10 ms of slack: for a target that starts in 1 ms, jitter alone
     * is 2x; thrashing shows as far more. */
    sz->max_ready_us = (int64_t)((double)free_run->ready_us * o->slowdown) + 10000;
    /* No step needs longer than that (plus slack for a slow machine). */
    uint64_t step_timeout = (uint64_t)sz->max_ready_us * 3 + 1000000;
    if (step_timeout < o->timeout_us)
        o->timeout_us = step_timeout;
    uint64_t lo = o->size_min_bytes;
    uint64_t hi = o->size_max_bytes ? o->size_max_bytes : prof_size_round_up(4.0 * (double)peak);
    if (hi <= lo)
        hi = lo * 2;
    char a[32], b[32], pk[32], rd[32];
    rep_format_value(REP_UNIT_BYTES, (double)lo, a, sizeof a);
    rep_format_value(REP_UNIT_BYTES, (double)hi, b, sizeof b);
    rep_format_value(REP_UNIT_BYTES, (double)peak, pk, sizeof pk);
    rep_format_value(REP_UNIT_US, (double)free_run->ready_us, rd, sizeof rd);
    fprintf(sz->term,
            "without a limit: ready in %s, peak %s; searching %s .. %s to within %.0f MiB\n"
            "a step passes when it is ready within %.3gx that (+10 ms) and answers %u "
            "requests\n",
            rd, pk, a, b, (double)o->size_precision_bytes / MIB, o->slowdown, o->requests);
    struct prof_size_search p = {lo, hi, o->size_precision_bytes, o->attempts, size_step, sz};
    if (prof_size_bisect(&p, sz->t->sizing) == PROF_SIZE_NONE) {
        fprintf(sz->term, "no passing limit up to %s (--max): every attempt failed\n", b);
        return 1;
    }
    return 0;
}

static void print_result(const struct sizer *sz)
{
    const struct rep_sizing *z = sz->t->sizing;
    const struct prof_config *o = sz->o;
    if (z->min_passing_bytes == REP_NONE)
        return;
    char m[32], r[32];
    rep_format_value(REP_UNIT_BYTES, (double)z->min_passing_bytes, m, sizeof m);
    if ((uint64_t)z->min_passing_bytes == o->size_min_bytes)
        fprintf(sz->term,
                "note: it already passes at --min %s, so the smallest passing limit is at most "
                "that; lower --min to search further.\n",
                m);
    rep_format_value(REP_UNIT_BYTES, (double)z->recommended_bytes, r, sizeof r);
    fprintf(sz->term,
            "smallest passing limit: %s\nrecommended limit:      %s (+%.0f%% margin, rounded "
            "up)\n",
            m, r, o->margin * 100);
    fprintf(sz->term, "  e.g. --memory %.0fMi, resources.limits.memory: %.0fMi\n",
            (double)z->recommended_bytes / MIB, (double)z->recommended_bytes / MIB);
}

int cmd_size(int argc, char **argv, cs_error *err)
{
    _cleanup_target_ struct cli_target tg = {0};
    int rc = cli_prepare_target(CLI_SIZE, argc, argv, &tg, err);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    struct prof_config *o = &tg.o;
    struct prof_owned_plan *owned = &tg.owned;
    _cleanup_session_ struct prof_session s = {0};
    struct sizer sz = {.s = &s, .o = o, .plan = owned->plan, .limits = o->limits};
    sz.plan.limits = &sz.limits;
    if (prof_session_open(&s, o, &cli_warnings, err) < 0)
        return -1;
    s.report.settings.command = strdup("size");
    s.report.settings.runs = 1; /* one measured unconstrained run; the steps are in "sizing" */
    sz.term = cli_terminal(&s);
    sz.t = prof_session_add_target(&s, &sz.plan);
    if (!sz.t || !(sz.t->sizing = calloc(1, sizeof *sz.t->sizing)))
        return cs_error_set(err, ENOMEM, "out of memory");
    sz.t->sizing->margin = o->margin;
    sz.t->sizing->min_passing_bytes = sz.t->sizing->recommended_bytes = REP_NONE;

    int exit_code = 0;
    const struct rep_run *free_run = unconstrained_runs(&sz);
    if (!sz.interrupted && (!free_run || free_run->status != REP_OK)) {
        fprintf(
            sz.term,
            "no passing limit: %s does not start and serve even without a memory limit (%s%s%s)\n",
            sz.plan.name, free_run ? rep_status_name(free_run->status) : "error",
            free_run && free_run->error ? ": " : "",
            free_run && free_run->error ? free_run->error : "");
        exit_code = 1;
    } else if (!sz.interrupted) {
        exit_code = search(&sz, free_run);
    }
    sz.t->sizing->recommended_bytes =
        prof_size_recommend(sz.t->sizing->min_passing_bytes, o->margin);
    print_result(&sz);
    int finish_code = cli_finish(&s, "size");
    cli_print_budgets(&s, sz.term);
    if (sz.interrupted)
        fprintf(stderr, "coldstart: interrupted; the report holds the steps measured so far\n");
    if (finish_code)
        return finish_code;
    if (exit_code)
        return exit_code;
    return sz.interrupted ? 128 + s.interrupted_by : cli_session_exit_code(&s);
}
