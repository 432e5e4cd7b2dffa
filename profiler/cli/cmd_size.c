/* coldstart size (--image DIR | -- CMD...): the smallest memory limit under
 * which the target starts and serves, by bisection, and a recommended limit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/options.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"
#include "profiler/term.h"

#define MIB (1024ull * 1024ull)
#define DEFAULT_REQUESTS 20

struct sizer {
    struct prof_session *s;
    struct prof_options *o; /* timeout_us is tightened once the unconstrained run is known */
    int64_t max_ready_us;   /* a slower start is not a pass */
    struct prof_target_plan plan;
    struct sbx_limits limits; /* plan.limits points here; memory changes per step */
    struct rep_sizing *z;
    int index;
    FILE *term;
    bool interrupted;
};

static struct rep_target *target(struct sizer *sz)
{
    return &sz->s->report.targets[0];
}

/* One step: a fresh cold start under `limit`, up to --attempts times so a
 * flake is not taken for a verdict. Returns true when an attempt passed. */
static bool try_limit(struct sizer *sz, uint64_t limit)
{
    char lim[32];
    rep_format_value(REP_UNIT_BYTES, (double)limit, lim, sizeof lim);
    for (unsigned attempt = 1; attempt <= sz->o->attempts; attempt++) {
        sz->limits.memory_bytes = limit;
        cs_error err;
        int rc = prof_session_run(sz->s, &sz->plan, target(sz), false, sz->index++, &err);
        if (rc == 1) {
            sz->interrupted = true;
            return false;
        }
        struct rep_target *t = target(sz);
        /* The step is recorded in the sizing; its run is not one of the
         * target's measured (unconstrained) runs. */
        struct rep_run *run = &t->runs[t->n_runs - 1];
        enum rep_status st = rc < 0 ? REP_ERROR : run->status;
        int64_t ready = st == REP_OK ? run->ready_us : REP_NONE;
        /* Memory pressure slows start-up long before OOM (evicted code is read
         * again and again): beyond --slowdown that is not a pass either. */
        if (st == REP_OK && sz->max_ready_us > 0 && ready > sz->max_ready_us)
            st = REP_SLOW;
        rep_sizing_add_step(sz->z, (int64_t)limit, st, ready, (int)attempt);
        char r[32] = "-";
        if (ready != REP_NONE)
            rep_format_value(REP_UNIT_US, (double)ready, r, sizeof r);
        char why[160] = "";
        if (st == REP_SLOW) {
            char mx[32];
            rep_format_value(REP_UNIT_US, (double)sz->max_ready_us, mx, sizeof mx);
            snprintf(why, sizeof why, "slower than %.3gx the unconstrained start + 10 ms (%s)",
                     sz->o->slowdown, mx);
        }
        fprintf(sz->term, "  %10s  attempt %u  %-8s ready %-10s %s\n", lim, attempt,
                rep_status_name(st), r,
                st == REP_SLOW ? why
                : st == REP_OK ? ""
                               : (run->error ? run->error : ""));
        rep_run_free(run);
        t->n_runs--;
        if (st == REP_OK)
            return true;
    }
    return false;
}

/* Up to a size a person would write in a manifest: a multiple of 4 MiB below
 * 64 MiB, 8 below 256, 16 below 1 GiB, else 64. */
static uint64_t round_up_nice(double bytes)
{
    uint64_t mib = (uint64_t)ceil(bytes / (double)MIB);
    uint64_t step = mib < 64 ? 4 : mib < 256 ? 8 : mib < 1024 ? 16 : 64;
    return (mib + step - 1) / step * step * MIB;
}

static int bisect(struct sizer *sz, uint64_t lo, uint64_t hi, uint64_t precision)
{
    if (!try_limit(sz, hi))
        return -1; /* even --max fails */
    if (sz->interrupted)
        return -1;
    if (try_limit(sz, lo)) {
        sz->z->min_passing_bytes = (int64_t)lo;
        return 0;
    }
    /* Invariant: lo fails, hi passes. */
    while (!sz->interrupted && hi - lo > precision) {
        uint64_t mid = (lo + (hi - lo) / 2) / MIB * MIB;
        if (mid <= lo || mid >= hi)
            mid = lo + (hi - lo) / 2;
        if (try_limit(sz, mid))
            hi = mid;
        else
            lo = mid;
    }
    sz->z->min_passing_bytes = (int64_t)hi;
    return 0;
}

int cmd_size(int argc, char **argv)
{
    struct prof_options o;
    prof_options_defaults(&o);
    cs_error err = {0};
    int rc = prof_options_parse(PROF_CMD_SIZE, argc, argv, &o, &err);
    if (rc != 0) {
        prof_options_free(&o);
        return rc == 1 ? 0 : usage_error("size", err.msg);
    }
    if (!o.requests_set)
        o.requests = DEFAULT_REQUESTS;
    /* A fresh container reads its files into a page cache charged to itself;
     * with a warm cache they stay charged to whoever read them first, and the
     * limit found would be too small. */
    if (!o.cache_set)
        o.cache = "cold";
    struct prof_image img;
    struct prof_owned_plan owned;
    rc = prof_plan_resolve(&o, &img, &owned, &err);
    if (rc != 0) {
        if (rc == 2)
            usage_error("size", err.msg);
        else
            fprintf(stderr, "coldstart size: %s\n", err.msg);
        prof_image_free(&img);
        prof_options_free(&o);
        return rc;
    }
    struct prof_session s;
    int exit_code = 0;
    struct sizer sz = {.s = &s, .o = &o, .plan = owned.plan, .limits = o.limits};
    sz.plan.limits = &sz.limits;
    if (prof_session_open(&s, &o, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        exit_code = s.bad_input ? 2 : 1;
        goto out;
    }
    s.report.settings.command = strdup("size");
    s.report.settings.runs = 1; /* one measured unconstrained run; the steps are in "sizing" */
    sz.term = prof_session_terminal(&s);
    struct rep_target *t = prof_session_add_target(&s, &sz.plan);
    if (!t || !(t->sizing = calloc(1, sizeof *t->sizing))) {
        exit_code = usage_error("size", "out of memory");
        goto close;
    }
    sz.z = t->sizing;
    sz.z->margin = o.margin;
    sz.z->min_passing_bytes = sz.z->recommended_bytes = REP_NONE;

    /* First without a limit: does it serve at all, and what is its peak? */
    fprintf(sz.term, "%s: unconstrained run%s\n", sz.plan.name, o.warmup ? "s" : "");
    const struct rep_run *free_run = NULL;
    for (unsigned i = 0; i <= o.warmup && !sz.interrupted; i++) {
        rc = prof_session_run(&s, &sz.plan, target(&sz), i < o.warmup, sz.index++, &err);
        if (rc == 1)
            sz.interrupted = true;
        t = target(&sz);
        free_run = t->n_runs ? &t->runs[t->n_runs - 1] : NULL;
    }
    if (!sz.interrupted && (!free_run || free_run->status != REP_OK)) {
        fprintf(
            sz.term,
            "no passing limit: %s does not start and serve even without a memory limit (%s%s%s)\n",
            sz.plan.name, free_run ? rep_status_name(free_run->status) : "error",
            free_run && free_run->error ? ": " : "",
            free_run && free_run->error ? free_run->error : "");
        exit_code = 1;
    } else if (!sz.interrupted) {
        int64_t peak = free_run->cgroup_peak_bytes > 0 ? free_run->cgroup_peak_bytes : 0;
        if (free_run->rss_peak_bytes > peak)
            peak = free_run->rss_peak_bytes;
        sz.z->unconstrained_peak_bytes = free_run->cgroup_peak_bytes;
        /* Plus 10 ms of slack: for a target that starts in 1 ms, jitter alone
         * is 2x; thrashing shows as far more. */
        sz.max_ready_us = (int64_t)((double)free_run->ready_us * o.slowdown) + 10000;
        /* No step needs longer than that (plus slack for a slow machine). */
        uint64_t step_timeout = (uint64_t)sz.max_ready_us * 3 + 1000000;
        if (step_timeout < o.timeout_us)
            o.timeout_us = step_timeout;
        uint64_t lo = o.size_min_bytes;
        uint64_t hi = o.size_max_bytes ? o.size_max_bytes : round_up_nice(4.0 * (double)peak);
        if (hi <= lo)
            hi = lo * 2;
        char a[32], b[32], pk[32];
        rep_format_value(REP_UNIT_BYTES, (double)lo, a, sizeof a);
        rep_format_value(REP_UNIT_BYTES, (double)hi, b, sizeof b);
        rep_format_value(REP_UNIT_BYTES, (double)peak, pk, sizeof pk);
        char rd[32];
        rep_format_value(REP_UNIT_US, (double)free_run->ready_us, rd, sizeof rd);
        fprintf(sz.term,
                "without a limit: ready in %s, peak %s; searching %s .. %s to within %.0f MiB\n"
                "a step passes when it is ready within %.3gx that (+10 ms) and answers %u "
                "requests\n",
                rd, pk, a, b, (double)o.size_precision_bytes / MIB, o.slowdown, o.requests);
        if (bisect(&sz, lo, hi, o.size_precision_bytes) < 0 && !sz.interrupted) {
            fprintf(sz.term, "no passing limit up to %s (--max): every attempt failed\n", b);
            exit_code = 1;
        }
    }
    if (sz.z->min_passing_bytes != REP_NONE &&
        (uint64_t)sz.z->min_passing_bytes == o.size_min_bytes) {
        char m[32];
        rep_format_value(REP_UNIT_BYTES, (double)o.size_min_bytes, m, sizeof m);
        fprintf(sz.term,
                "note: it already passes at --min %s, so the smallest passing limit is at most "
                "that; lower --min to search further.\n",
                m);
    }
    if (sz.z->min_passing_bytes != REP_NONE) {
        sz.z->recommended_bytes =
            (int64_t)round_up_nice((double)sz.z->min_passing_bytes * (1.0 + o.margin));
        char m[32], r[32];
        rep_format_value(REP_UNIT_BYTES, (double)sz.z->min_passing_bytes, m, sizeof m);
        rep_format_value(REP_UNIT_BYTES, (double)sz.z->recommended_bytes, r, sizeof r);
        fprintf(sz.term,
                "smallest passing limit: %s\nrecommended limit:      %s (+%.0f%% margin, "
                "rounded up)\n",
                m, r, o.margin * 100);
        fprintf(sz.term, "  e.g. --memory %.0fMi, resources.limits.memory: %.0fMi\n",
                (double)sz.z->recommended_bytes / MIB, (double)sz.z->recommended_bytes / MIB);
    }
    if (prof_session_finish(&s, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        exit_code = 2;
    }
    prof_session_print_budgets(&s, sz.term);
    if (sz.interrupted)
        fprintf(stderr, "coldstart: interrupted; the report holds the steps measured so far\n");
    if (!exit_code)
        exit_code = sz.interrupted ? 128 + s.interrupted_by : prof_session_exit_code(&s);
close:
    prof_session_close(&s);
out:
    prof_owned_plan_free(&owned);
    prof_image_free(&img);
    prof_options_free(&o);
    return exit_code;
}
