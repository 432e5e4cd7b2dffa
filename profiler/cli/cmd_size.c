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
#include "profiler/analysis/stats.h"
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
    /* --load or --load-cmd: the load (o->load is empty while the search at
     * rest runs), whether this step runs it, and the p99 a step under load
     * may reach. */
    struct prof_load_opts load;
    bool loaded;  /* there is a load: a second search under it */
    bool rebased; /* the unconstrained runs were measured again (once) */
    bool under_load;
    double max_p99_us;
    double min_rps;        /* requests/s a step under load must serve (0: no floor) */
    double max_command_us; /* --load-cmd: the longest a step's command may take (0: any) */
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
    /* A command's verdict is its exit status (a run it fails is not ok),
     * and its time: a fixed amount of work (pgbench -t, redis-benchmark
     * -n) that takes far longer than without a limit is a server that
     * thrashes. (A fixed-time command takes as long either way: it does
     * less work, which only its own output says.) */
    if (l->command) {
        double took = l->start_us != REP_NONE && l->end_us != REP_NONE
                          ? (double)l->end_us - (double)l->start_us
                          : NAN;
        if (sz->max_command_us > 0 && took > sz->max_command_us) {
            char t[32], mx[32];
            rep_format_value(REP_UNIT_US, took, t, sizeof t);
            rep_format_value(REP_UNIT_US, sz->max_command_us, mx, sizeof mx);
            snprintf(why, cap,
                     "the load command took %s, above %.3gx its unconstrained time + 0.5 s (%s)", t,
                     sz->o->slowdown, mx);
            return REP_SLOW;
        }
        return st;
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
    if (a->under_load && isnan(a->load_rps) && a->peak_bytes != REP_NONE) {
        char pk[32];
        rep_format_value(REP_UNIT_BYTES, (double)a->peak_bytes, pk, sizeof pk);
        fprintf(sz->term, " peak %-9s", pk);
    } else if (a->under_load && !isnan(a->load_rps)) {
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
    sz->o->load = sz->under_load ? sz->load : (struct prof_load_opts){0};
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

/* The peak a limit must hold: the cgroup's (page cache included) or the
 * processes' RSS, whichever is larger. */
static int64_t run_peak(const struct rep_run *r)
{
    int64_t peak = r->cgroup_peak_bytes > 0 ? r->cgroup_peak_bytes : 0;
    return r->rss_peak_bytes > peak ? r->rss_peak_bytes : peak;
}

/* What the unconstrained runs say, that the steps are judged against: the
 * medians of their start, their load's p99 and requests/s and their load
 * command's time (one lucky or unlucky run does not set the bar), the
 * largest of their peaks. */
struct baseline {
    unsigned ok;                        /* runs that served */
    const struct rep_run *first_failed; /* the first that did not, or NULL */
    int64_t ready_us, ready_min_us, ready_max_us;
    int64_t peak_bytes, cgroup_peak_bytes, load_cgroup_peak_bytes;
    double load_p99_us, load_rps;
    int64_t command_us; /* REP_NONE without a load command */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n values (NaN for none), sorting v. */
static double median(double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    if (k == 0)
        return NAN;
    qsort(v, k, sizeof *v, cmp_double);
    return prof_percentile_sorted(v, k, 50);
}

/* First without a limit, --baseline-runs times (after the warm-ups): does
 * it serve at all, how fast, and what is its peak? */
static void unconstrained_runs(struct sizer *sz, struct baseline *b)
{
    const struct prof_config *o = sz->o;
    unsigned n = o->baseline_runs ? o->baseline_runs : 1;
    fprintf(sz->term, "%s: %u unconstrained run%s%s\n", sz->plan.name, n, n == 1 ? "" : "s",
            o->warmup ? " after the warm-ups" : "");
    for (unsigned i = 0; i < o->warmup + n && !sz->interrupted; i++) {
        cs_error err;
        if (prof_session_run(sz->s, &sz->plan, sz->t, i < o->warmup, sz->index++, &err) == 1)
            sz->interrupted = true;
    }
    *b = (struct baseline){
        .ready_us = REP_NONE, .command_us = REP_NONE, .load_cgroup_peak_bytes = REP_NONE};
    double ready[100], p99[100], rps[100], cmd[100];
    size_t k = 0;
    for (size_t i = 0; i < sz->t->n_runs && k < 100; i++) {
        const struct rep_run *r = &sz->t->runs[i];
        if (r->warmup)
            continue;
        if (r->status != REP_OK) {
            if (!b->first_failed)
                b->first_failed = r;
            continue;
        }
        ready[k] = (double)r->ready_us;
        if (b->ok == 0 || r->ready_us < b->ready_min_us)
            b->ready_min_us = r->ready_us;
        if (b->ok == 0 || r->ready_us > b->ready_max_us)
            b->ready_max_us = r->ready_us;
        if (run_peak(r) > b->peak_bytes)
            b->peak_bytes = run_peak(r);
        if (r->cgroup_peak_bytes > b->cgroup_peak_bytes)
            b->cgroup_peak_bytes = r->cgroup_peak_bytes;
        const struct rep_load *l = r->load;
        p99[k] = l ? l->p99_us : NAN;
        rps[k] = l ? l->rps : NAN;
        cmd[k] = l && l->command && l->start_us != REP_NONE && l->end_us > l->start_us
                     ? (double)(l->end_us - l->start_us)
                     : NAN;
        if (l && l->cgroup_peak_bytes > b->load_cgroup_peak_bytes)
            b->load_cgroup_peak_bytes = l->cgroup_peak_bytes;
        b->ok++;
        k++;
    }
    if (b->ok == 0)
        return;
    b->ready_us = (int64_t)llround(median(ready, k));
    b->load_p99_us = median(p99, k);
    b->load_rps = median(rps, k);
    double c = median(cmd, k);
    b->command_us = isnan(c) ? REP_NONE : (int64_t)c;
}

/* The bars a step is judged against, from the baseline: the start's
 * (ready within --slowdown x the median, + 10 ms) and, under load, the
 * load's (p99 within --max-p99 x the median + 1 ms, requests/s at least
 * --min-rps x the median). */
static void set_thresholds(struct sizer *sz, const struct baseline *bl)
{
    const struct prof_config *o = sz->o;
    /* Plus 10 ms of slack: for a target that starts in 1 ms, jitter alone
     * is 2x; thrashing shows as far more. */
    sz->max_ready_us = (int64_t)((double)bl->ready_us * o->slowdown) + 10000;
    sz->max_p99_us = !isnan(bl->load_p99_us) ? bl->load_p99_us * o->max_p99 + 1000 : 0;
    sz->min_rps = !isnan(bl->load_rps) ? bl->load_rps * o->min_rps : 0;
    sz->max_command_us =
        bl->command_us != REP_NONE ? (double)bl->command_us * o->slowdown + 500000 : 0;
    if (sz->under_load)
        sz->t->sizing->unconstrained_p99_us = bl->load_p99_us;
}

/* Whether every attempt at `limit` since step `first` was only slow. */
static bool only_slow_at(const struct rep_sizing *z, size_t first, uint64_t limit)
{
    bool any = false;
    for (size_t i = first; i < z->n_steps; i++) {
        if ((uint64_t)z->steps[i].limit_bytes != limit)
            continue;
        if (z->steps[i].status != REP_SLOW)
            return false;
        any = true;
    }
    return any;
}

/* Bisects. When even the upper bound (4 x the peak) was only slow, the host
 * is slower now than while the unconstrained runs were measured (another
 * tenant, a throttled CPU): they are measured again, once, the bars are set
 * from all of them, and the search starts again. */
static enum prof_size_result bisect_rebased(struct sizer *sz, const struct prof_size_search *p,
                                            struct baseline *bl)
{
    struct rep_sizing *z = sz->t->sizing;
    size_t first = z->n_steps;
    enum prof_size_result res = prof_size_bisect(p, z);
    if (res != PROF_SIZE_NONE || sz->rebased || sz->interrupted ||
        !only_slow_at(z, first, p->hi_bytes))
        return res;
    sz->rebased = true;
    char b[32];
    rep_format_value(REP_UNIT_BYTES, (double)p->hi_bytes, b, sizeof b);
    fprintf(sz->term,
            "even %s was only slow: the host is slower now than during the unconstrained "
            "runs; measuring them again\n",
            b);
    /* Unconstrained as the first ones were: without the steps' limit, with the load. */
    struct prof_load_opts step_load = sz->o->load;
    uint64_t step_limit = sz->limits.memory_bytes;
    sz->o->load = sz->load;
    sz->limits.memory_bytes = sz->o->limits.memory_bytes;
    unconstrained_runs(sz, bl);
    sz->o->load = step_load;
    sz->limits.memory_bytes = step_limit;
    if (sz->interrupted)
        return PROF_SIZE_INTERRUPTED;
    if (bl->first_failed || bl->ok == 0)
        return PROF_SIZE_NONE;
    set_thresholds(sz, bl);
    return prof_size_bisect(p, z);
}

/* The search under load, from the limit found at rest up: a limit that
 * fails at rest fails under load. Returns the exit code so far (0 or 1). */
static int search_under_load(struct sizer *sz, struct baseline *bl, uint64_t hi)
{
    struct rep_sizing *z = sz->t->sizing;
    z->at_rest_min_bytes = z->min_passing_bytes;
    z->at_rest_recommended_bytes =
        prof_size_recommend_for(z, sz->o->size_precision_bytes, sz->o->margin);
    z->max_p99_factor = sz->o->max_p99;
    sz->under_load = true;
    set_thresholds(sz, bl);
    uint64_t lo = (uint64_t)z->at_rest_min_bytes;
    uint64_t load_hi = prof_size_round_up(4.0 * (double)bl->peak_bytes);
    if (load_hi > hi && !sz->o->size_max_bytes)
        hi = load_hi;
    if (hi <= lo)
        hi = lo * 2;
    char a[32], b[32], rps[32], p99[32], pk[32];
    rep_format_value(REP_UNIT_BYTES, (double)lo, a, sizeof a);
    rep_format_value(REP_UNIT_BYTES, (double)hi, b, sizeof b);
    rep_format_value(REP_UNIT_PER_S, bl->load_rps, rps, sizeof rps);
    rep_format_value(REP_UNIT_US, bl->load_p99_us, p99, sizeof p99);
    rep_format_value(REP_UNIT_BYTES, (double)bl->load_cgroup_peak_bytes, pk, sizeof pk);
    if (sz->load.command)
        fprintf(sz->term,
                "under load (the command `%s`): without a limit the cgroup's peak under it %s;\n"
                "searching %s .. %s; a step passes when the command exits 0 within %.3gx its "
                "unconstrained time (+0.5 s) and the target is not OOM-killed\n",
                sz->load.command, bl->load_cgroup_peak_bytes != REP_NONE ? pk : "-", a, b,
                sz->o->slowdown);
    else
        fprintf(sz->term,
                "under load (%u connections for %.3g s%s): without a limit %s, p99 %s;\n"
                "searching %s .. %s; a step passes when it answers every request of the load "
                "(one unanswered for half the load is a timeout) with no error and no OOM kill, "
                "serves at least %.3gx the requests/s and keeps its p99 within %.3gx (+1 ms)\n",
                sz->load.connections, (double)sz->load.duration_us / 1e6,
                sz->load.rate > 0 ? ", open loop" : "", rps, p99, a, b, sz->o->min_rps,
                sz->o->max_p99);
    struct prof_size_search p = {lo,        hi, sz->o->size_precision_bytes, sz->o->attempts,
                                 size_step, sz};
    if (bisect_rebased(sz, &p, bl) == PROF_SIZE_NONE) {
        fprintf(sz->term, "no limit up to %s (--max) serves the load\n", b);
        return 1;
    }
    return 0;
}

/* The bisection between --min and --max (default: 4 x the unconstrained
 * peak), at rest; then, with --load, under load. Returns the exit code so
 * far (0 or 1). */
static int search(struct sizer *sz, struct baseline *bl)
{
    struct prof_config *o = sz->o;
    int64_t peak = bl->peak_bytes;
    sz->t->sizing->unconstrained_peak_bytes = bl->cgroup_peak_bytes;
    sz->under_load = false;
    set_thresholds(sz, bl);
    /* No step needs longer than that (plus slack for a slow machine). */
    uint64_t step_timeout = (uint64_t)sz->max_ready_us * 3 + 1000000;
    /* A load command is not the start: 3x its unconstrained time plus 2 s
     * (a step thrashing under a tight limit ends there, not at --timeout),
     * never more than --timeout. */
    sz->load.command_timeout_us = o->timeout_us;
    if (bl->command_us != REP_NONE) {
        uint64_t t = (uint64_t)bl->command_us * 3 + 2000000;
        if (t < o->timeout_us)
            sz->load.command_timeout_us = t;
    }
    if (step_timeout < o->timeout_us)
        o->timeout_us = step_timeout;
    uint64_t lo = o->size_min_bytes;
    uint64_t hi = o->size_max_bytes ? o->size_max_bytes : prof_size_round_up(4.0 * (double)peak);
    if (hi <= lo)
        hi = lo * 2;
    char a[32], b[32], pk[32], rd[32], rmin[32], rmax[32], range[96] = "";
    rep_format_value(REP_UNIT_BYTES, (double)lo, a, sizeof a);
    rep_format_value(REP_UNIT_BYTES, (double)hi, b, sizeof b);
    rep_format_value(REP_UNIT_BYTES, (double)peak, pk, sizeof pk);
    rep_format_value(REP_UNIT_US, (double)bl->ready_us, rd, sizeof rd);
    rep_format_value(REP_UNIT_US, (double)bl->ready_min_us, rmin, sizeof rmin);
    rep_format_value(REP_UNIT_US, (double)bl->ready_max_us, rmax, sizeof rmax);
    if (bl->ok > 1)
        snprintf(range, sizeof range, " (median of %u: %s .. %s)", bl->ok, rmin, rmax);
    /* Only what is checked is said: with a log: or tcp:// readiness no
     * request is sent (unless --request-url names where). */
    const char *ready = sz->plan.ready ? sz->plan.ready : "exit";
    bool requests = o->requests > 0 && (strncmp(ready, "http://", 7) == 0 || o->request_url);
    char answers[64] = "";
    if (requests)
        snprintf(answers, sizeof answers, " and answers %u request%s", o->requests,
                 o->requests == 1 ? "" : "s");
    fprintf(sz->term,
            "without a limit: ready in %s%s, peak %s; searching %s .. %s to within %.0f MiB\n"
            "%sa step passes when it is ready (%s) within %.3gx that (+10 ms)%s\n",
            rd, range, pk, a, b, (double)o->size_precision_bytes / MIB,
            sz->loaded ? "at rest: " : "", ready, o->slowdown, answers);
    sz->under_load = false;
    struct prof_size_search p = {lo, hi, o->size_precision_bytes, o->attempts, size_step, sz};
    enum prof_size_result res = bisect_rebased(sz, &p, bl);
    if (res == PROF_SIZE_NONE) {
        fprintf(sz->term, "no passing limit up to %s (--max): every attempt failed\n", b);
        return 1;
    }
    if (res == PROF_SIZE_INTERRUPTED || !sz->loaded)
        return 0;
    return search_under_load(sz, bl, hi);
}

/* How far the answer can be trusted: the verdicts were monotone (every
 * limit tried above the answer passed, every one below failed: it is
 * exact to the precision), or where noise made them contradict. */
static void print_spread(const struct sizer *sz)
{
    const struct rep_sizing *z = sz->t->sizing;
    char prec[32], lo[32], hi[32];
    rep_format_value(REP_UNIT_BYTES, (double)sz->o->size_precision_bytes, prec, sizeof prec);
    if (z->noisy_high_bytes == REP_NONE) {
        fprintf(sz->term,
                "spread: one step (%s): every limit tried above the answer passed, every one "
                "below failed\n",
                prec);
        return;
    }
    rep_format_value(REP_UNIT_BYTES, (double)z->noisy_low_bytes, lo, sizeof lo);
    rep_format_value(REP_UNIT_BYTES, (double)z->noisy_high_bytes, hi, sizeof hi);
    fprintf(sz->term,
            "spread: noisy from %s to %s (a limit in that range passed and one as large "
            "or larger failed); the answer is the one re-tested at both ends, the "
            "recommendation covers %s\n",
            lo, hi, hi);
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
    if (sz->loaded && z->at_rest_min_bytes != REP_NONE) {
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
    print_spread(sz);
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
    /* The measured runs are the unconstrained ones; the steps are in "sizing". */
    s.report.settings.runs = o->baseline_runs;
    sz.term = cli_terminal(&s);
    sz.t = prof_session_add_target(&s, &sz.plan);
    if (!sz.t || !(sz.t->sizing = calloc(1, sizeof *sz.t->sizing)))
        return cs_error_set(err, ENOMEM, "out of memory");
    sz.t->sizing->margin = o->margin;
    sz.t->sizing->min_passing_bytes = sz.t->sizing->recommended_bytes = REP_NONE;
    sz.t->sizing->at_rest_min_bytes = sz.t->sizing->at_rest_recommended_bytes = REP_NONE;
    sz.t->sizing->unconstrained_p99_us = NAN;
    sz.t->sizing->cpus = o->limits.cpus;
    sz.t->sizing->baseline_runs = o->baseline_runs;
    sz.t->sizing->noisy_low_bytes = sz.t->sizing->noisy_high_bytes = REP_NONE;
    sz.load = o->load;
    sz.loaded = o->load.connections > 0 || o->load.command;

    int exit_code = 0;
    struct baseline bl;
    unconstrained_runs(&sz, &bl);
    const struct rep_run *bad = bl.first_failed;
    if (!sz.interrupted && bad) {
        /* A target that fails even without a limit now and then gives no
         * answer worth having: every step would be a coin toss. */
        fprintf(sz.term,
                "no passing limit: %s does not start and serve even without a memory limit "
                "(%u of %u unconstrained runs failed: %s%s%s)\n",
                sz.plan.name, o->baseline_runs - bl.ok, o->baseline_runs,
                rep_status_name(bad->status), bad->error ? ": " : "", bad->error ? bad->error : "");
        exit_code = 1;
    } else if (!sz.interrupted && bl.ok == 0) {
        fprintf(sz.term, "no passing limit: %s: no unconstrained run finished\n", sz.plan.name);
        exit_code = 1;
    } else if (!sz.interrupted) {
        exit_code = search(&sz, &bl);
    }
    sz.t->sizing->recommended_bytes =
        prof_size_recommend_for(sz.t->sizing, o->size_precision_bytes, o->margin);
    /* Measured again once the host slowed: the report says how many. */
    s.report.settings.runs = 0;
    for (size_t i = 0; i < sz.t->n_runs; i++)
        s.report.settings.runs += !sz.t->runs[i].warmup;
    sz.t->sizing->baseline_runs = s.report.settings.runs;
    o->load = sz.load;
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
