/* coldstart size (--image DIR | -- CMD...): the smallest memory limit under
 * which the target starts and serves, by bisection (analysis/sizing.c), and a
 * recommended limit. With --load, two searches: at rest (starts and answers
 * the requests), then from that limit up under the load (serves all of it
 * without an error, an OOM kill or a p99 beyond --max-p99). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/sizing.h"
#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"
#include "reports/platforms.h"

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
    /* --load: the load's connections (o->load.connections is 0 while the
     * search at rest runs), whether this step runs it, and the p99 a step
     * under load may reach. */
    unsigned load_connections;
    bool under_load;
    double max_p99_us;
    double min_rps; /* requests/s a step under load must serve (0: no floor) */
};

/* Under load a step also fails on any error of the load or a p99 beyond
 * --max-p99 times the unconstrained one (+1 ms, as the start gets +10 ms:
 * loopback p99s of a few hundred microseconds double with noise alone). */
static enum rep_status judge_load(const struct sizer *sz, const struct rep_run *run,
                                  enum rep_status st, char *why, size_t cap)
{
    const struct rep_load *l = run->load;
    if (st != REP_OK || !sz->under_load)
        return st;
    if (!l) {
        snprintf(why, cap, "the load did not run");
        return REP_ERROR;
    }
    if (l->errors > 0) {
        snprintf(why, cap, "%lld load errors (connect %lld, read %lld, status %lld, timeout %lld)",
                 (long long)l->errors, (long long)l->errors_connect, (long long)l->errors_read,
                 (long long)l->errors_status, (long long)l->errors_timeout);
        return REP_ERROR;
    }
    if (sz->min_rps > 0 && !(l->rps >= sz->min_rps)) {
        char got[32], need[32];
        rep_format_value(REP_UNIT_PER_S, l->rps, got, sizeof got);
        rep_format_value(REP_UNIT_PER_S, sz->min_rps, need, sizeof need);
        snprintf(why, cap, "served %s, under %.3gx the unconstrained requests/s (%s)", got,
                 sz->o->min_rps, need);
        return REP_SLOW;
    }
    if (sz->max_p99_us > 0 && l->p99_us > sz->max_p99_us) {
        char p[32], mx[32];
        rep_format_value(REP_UNIT_US, l->p99_us, p, sizeof p);
        rep_format_value(REP_UNIT_US, sz->max_p99_us, mx, sizeof mx);
        snprintf(why, cap, "p99 under load %s, above %.3gx the unconstrained p99 + 1 ms (%s)", p,
                 sz->o->max_p99, mx);
        return REP_SLOW;
    }
    return st;
}

/* One line per step: limit, attempt, status, ready; under load also
 * requests/s, p99 and the cgroup's peak. */
static void print_step(const struct sizer *sz, uint64_t limit, unsigned attempt,
                       const struct prof_size_attempt *a, const char *detail)
{
    char lim[32], r[32] = "-";
    rep_format_value(REP_UNIT_BYTES, (double)limit, lim, sizeof lim);
    if (a->ready_us != REP_NONE)
        rep_format_value(REP_UNIT_US, (double)a->ready_us, r, sizeof r);
    fprintf(sz->term, "  %10s  attempt %u  %-8s ready %-10s", lim, attempt,
            rep_status_name(a->status), r);
    if (a->under_load && !isnan(a->load_rps)) {
        char rps[32], p99[32], pk[32] = "-";
        rep_format_value(REP_UNIT_PER_S, a->load_rps, rps, sizeof rps);
        rep_format_value(REP_UNIT_US, a->load_p99_us, p99, sizeof p99);
        if (a->peak_bytes != REP_NONE)
            rep_format_value(REP_UNIT_BYTES, (double)a->peak_bytes, pk, sizeof pk);
        fprintf(sz->term, " %9s  p99 %-9s peak %-9s", rps, p99, pk);
    }
    fprintf(sz->term, " %s\n", detail);
}

/* One step of the search: a fresh cold start under `limit`, printed as it
 * goes. The run is a step of the sizing, not one of the target's measured
 * (unconstrained) runs. */
static int size_step(void *ctx, uint64_t limit, unsigned attempt, struct prof_size_attempt *ret)
{
    struct sizer *sz = ctx;
    sz->limits.memory_bytes = limit;
    sz->o->load.connections = sz->under_load ? sz->load_connections : 0;
    cs_error err;
    struct rep_run run;
    int rc = prof_session_run_step(sz->s, &sz->plan, sz->t, sz->index++, &run, &err);
    if (rc == 1) {
        sz->interrupted = true;
        rep_run_free(&run);
        return 1;
    }
    enum rep_status st = rc < 0 ? REP_ERROR : run.status;
    /* Ready and then killed under load: it was ready all the same. */
    int64_t ready = rc < 0 ? REP_NONE : run.ready_us;
    char why[200] = "";
    /* Memory pressure slows start-up long before OOM (evicted code is read
     * again and again): beyond --slowdown that is not a pass either. */
    if (st == REP_OK && sz->max_ready_us > 0 && ready > sz->max_ready_us) {
        st = REP_SLOW;
        char mx[32];
        rep_format_value(REP_UNIT_US, (double)sz->max_ready_us, mx, sizeof mx);
        snprintf(why, sizeof why, "slower than %.3gx the unconstrained start + 10 ms (%s)",
                 sz->o->slowdown, mx);
    }
    st = judge_load(sz, &run, st, why, sizeof why);
    ret->status = st;
    ret->ready_us = ready;
    ret->under_load = sz->under_load;
    ret->peak_bytes = run.cgroup_peak_bytes;
    if (run.load) {
        ret->load_rps = run.load->rps;
        ret->load_p99_us = run.load->p99_us;
        ret->load_errors = run.load->errors;
    }
    const char *detail = why[0]         ? why
                         : st == REP_OK ? ""
                         : rc < 0       ? cs_error_text(&err)
                         : run.error    ? run.error
                                        : "";
    print_step(sz, limit, attempt, ret, detail);
    rep_run_free(&run);
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

/* The peak a limit must hold: the cgroup's (page cache included) or the
 * processes' RSS, whichever is larger. */
static int64_t run_peak(const struct rep_run *r)
{
    int64_t peak = r->cgroup_peak_bytes > 0 ? r->cgroup_peak_bytes : 0;
    return r->rss_peak_bytes > peak ? r->rss_peak_bytes : peak;
}

/* The search under load, from the limit found at rest up: a limit that
 * fails at rest fails under load. Returns the exit code so far (0 or 1). */
static int search_under_load(struct sizer *sz, const struct rep_run *free_run, uint64_t hi)
{
    struct rep_sizing *z = sz->t->sizing;
    const struct rep_load *l = free_run->load;
    z->at_rest_min_bytes = z->min_passing_bytes;
    z->at_rest_recommended_bytes = prof_size_recommend(z->min_passing_bytes, sz->o->margin);
    z->unconstrained_p99_us = l ? l->p99_us : NAN;
    z->max_p99_factor = sz->o->max_p99;
    sz->max_p99_us = l && !isnan(l->p99_us) ? l->p99_us * sz->o->max_p99 + 1000 : 0;
    sz->min_rps = l && !isnan(l->rps) ? l->rps * sz->o->min_rps : 0;
    sz->under_load = true;
    uint64_t lo = (uint64_t)z->at_rest_min_bytes;
    uint64_t load_hi = prof_size_round_up(4.0 * (double)run_peak(free_run));
    if (load_hi > hi && !sz->o->size_max_bytes)
        hi = load_hi;
    if (hi <= lo)
        hi = lo * 2;
    char a[32], b[32], rps[32], p99[32];
    rep_format_value(REP_UNIT_BYTES, (double)lo, a, sizeof a);
    rep_format_value(REP_UNIT_BYTES, (double)hi, b, sizeof b);
    rep_format_value(REP_UNIT_PER_S, l ? l->rps : NAN, rps, sizeof rps);
    rep_format_value(REP_UNIT_US, l ? l->p99_us : NAN, p99, sizeof p99);
    fprintf(sz->term,
            "under load (%u connections for %.3g s%s): without a limit %s, p99 %s;\n"
            "searching %s .. %s; a step passes when it answers every request of the load "
            "(one unanswered for half the load is a timeout) with no error and no OOM kill, "
            "serves at least %.3gx the requests/s and keeps its p99 within %.3gx (+1 ms)\n",
            sz->load_connections, (double)sz->o->load.duration_us / 1e6,
            sz->o->load.rate > 0 ? ", open loop" : "", rps, p99, a, b, sz->o->min_rps,
            sz->o->max_p99);
    struct prof_size_search p = {lo,        hi, sz->o->size_precision_bytes, sz->o->attempts,
                                 size_step, sz};
    if (prof_size_bisect(&p, z) == PROF_SIZE_NONE) {
        fprintf(sz->term, "no limit up to %s (--max) serves the load\n", b);
        return 1;
    }
    return 0;
}

/* The bisection between --min and --max (default: 4 x the unconstrained
 * peak), at rest; then, with --load, under load. Returns the exit code so
 * far (0 or 1). */
static int search(struct sizer *sz, const struct rep_run *free_run)
{
    struct prof_config *o = sz->o;
    int64_t peak = run_peak(free_run);
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
    /* Only what is checked is said: with a log: or tcp:// readiness no
     * request is sent (unless --request-url names where). */
    const char *ready = sz->plan.ready ? sz->plan.ready : "exit";
    bool requests = o->requests > 0 && (strncmp(ready, "http://", 7) == 0 || o->request_url);
    char answers[64] = "";
    if (requests)
        snprintf(answers, sizeof answers, " and answers %u request%s", o->requests,
                 o->requests == 1 ? "" : "s");
    fprintf(sz->term,
            "without a limit: ready in %s, peak %s; searching %s .. %s to within %.0f MiB\n"
            "%sa step passes when it is ready (%s) within %.3gx that (+10 ms)%s\n",
            rd, pk, a, b, (double)o->size_precision_bytes / MIB,
            sz->load_connections ? "at rest: " : "", ready, o->slowdown, answers);
    sz->under_load = false;
    struct prof_size_search p = {lo, hi, o->size_precision_bytes, o->attempts, size_step, sz};
    enum prof_size_result res = prof_size_bisect(&p, sz->t->sizing);
    if (res == PROF_SIZE_NONE) {
        fprintf(sz->term, "no passing limit up to %s (--max): every attempt failed\n", b);
        return 1;
    }
    if (res == PROF_SIZE_INTERRUPTED || !sz->load_connections)
        return 0;
    return search_under_load(sz, free_run, hi);
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
    if (sz->load_connections && z->at_rest_min_bytes != REP_NONE) {
        char ar[32], arr[32], more[32];
        rep_format_value(REP_UNIT_BYTES, (double)z->at_rest_min_bytes, ar, sizeof ar);
        rep_format_value(REP_UNIT_BYTES, (double)z->at_rest_recommended_bytes, arr, sizeof arr);
        int64_t diff = z->recommended_bytes - z->at_rest_recommended_bytes;
        rep_format_value(REP_UNIT_BYTES, (double)(diff > 0 ? diff : -diff), more, sizeof more);
        fprintf(sz->term,
                "smallest passing limit at rest:    %s (recommended %s)\n"
                "smallest passing limit under load: %s\n"
                "recommended limit:                 %s (+%.0f%% margin, rounded up), ",
                ar, arr, m, r, o->margin * 100);
        if (diff > 0)
            fprintf(sz->term, "%s (%.0f%%) more than the at-rest answer\n", more,
                    100.0 * (double)diff / (double)z->at_rest_recommended_bytes);
        else
            fprintf(sz->term, "the same as the at-rest answer\n");
    } else {
        fprintf(sz->term,
                "smallest passing limit: %s\nrecommended limit:      %s (+%.0f%% margin, rounded "
                "up)\n",
                m, r, o->margin * 100);
    }
    struct rep_buf b = {0};
    rep_platform_snippets(&b, (uint64_t)z->recommended_bytes, o->limits.cpus, "  ");
    if (!b.failed && b.data)
        fputs(b.data, sz->term);
    rep_buf_free(&b);
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
    sz.t->sizing->at_rest_min_bytes = sz.t->sizing->at_rest_recommended_bytes = REP_NONE;
    sz.t->sizing->unconstrained_p99_us = NAN;
    sz.t->sizing->cpus = o->limits.cpus;
    sz.load_connections = o->load.connections;

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
    o->load.connections = sz.load_connections;
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
