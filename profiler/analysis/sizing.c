#include "profiler/analysis/sizing.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#define MIB (1024ull * 1024ull)

/* A step's attempt that counts against it only by its timing (a start or a
 * load slower than the unconstrained runs allow): the kind of verdict that
 * noise flips, unlike an OOM kill or a crash. */
static bool soft_failure(enum rep_status st)
{
    return st == REP_SLOW;
}

/* The most attempts a step judged by its timing gets: the verdict is the
 * majority's, i.e. the median attempt's (two of three settle it). */
#define MAJORITY_ATTEMPTS 3

/* One step at `limit`. A first attempt that passes settles it. A hard
 * failure (OOM, crash, error) is tried again up to p->attempts times, so
 * that one flake is not a verdict; the first pass settles it. Once an
 * attempt was only slow, the step is judged by the median of its attempts
 * (up to max(p->attempts, 3): the majority of their verdicts), so a lucky or
 * an unlucky start alone does not decide. Returns 1 passed, 0 failed, -1
 * interrupted. */
static int try_limit(const struct prof_size_search *p, struct rep_sizing *z, uint64_t limit)
{
    unsigned passed = 0, failed = 0, attempt = 0;
    bool soft = false;
    for (;;) {
        unsigned most = soft && p->attempts < MAJORITY_ATTEMPTS ? MAJORITY_ATTEMPTS : p->attempts;
        bool settled = soft ? passed * 2 > most || failed * 2 > most : passed > 0;
        if (settled || attempt >= most)
            break;
        attempt++;
        struct prof_size_attempt a = {.status = REP_ERROR,
                                      .ready_us = REP_NONE,
                                      .load_rps = NAN,
                                      .load_p99_us = NAN,
                                      .load_errors = REP_NONE,
                                      .peak_bytes = REP_NONE};
        if (p->step(p->ctx, limit, attempt, &a) == 1)
            return -1;
        struct rep_sizing_step *st =
            rep_sizing_add_step(z, (int64_t)limit, a.status, a.ready_us, (int)attempt);
        if (st) {
            st->under_load = a.under_load;
            st->load_rps = a.load_rps;
            st->load_p99_us = a.load_p99_us;
            st->load_errors = a.load_errors;
            st->peak_bytes = a.peak_bytes;
        }
        if (a.status == REP_OK)
            passed++;
        else
            failed++;
        soft |= soft_failure(a.status);
    }
    return soft ? passed > failed : passed > 0;
}

/* The verdicts so far, by limit (the latest wins): where to go back to when
 * a re-test contradicts one. */
struct verdicts {
    uint64_t limit[128];
    bool pass[128];
    size_t n;
    /* Every verdict, re-tests included: where they contradicted. */
    uint64_t low_pass, high_fail;
};

static void note(struct verdicts *v, uint64_t limit, bool pass)
{
    if (pass && limit < v->low_pass)
        v->low_pass = limit;
    if (!pass && limit > v->high_fail)
        v->high_fail = limit;
    for (size_t i = 0; i < v->n; i++)
        if (v->limit[i] == limit) {
            v->pass[i] = pass;
            return;
        }
    if (v->n < sizeof v->limit / sizeof v->limit[0]) {
        v->limit[v->n] = limit;
        v->pass[v->n++] = pass;
    }
}

/* The smallest passing limit above `limit` (or the largest failing one
 * below it); `fallback` when there is none. */
static uint64_t nearest(const struct verdicts *v, uint64_t limit, bool pass_above,
                        uint64_t fallback)
{
    uint64_t best = fallback;
    for (size_t i = 0; i < v->n; i++) {
        if (pass_above && v->pass[i] && v->limit[i] > limit && v->limit[i] < best)
            best = v->limit[i];
        if (!pass_above && !v->pass[i] && v->limit[i] < limit && v->limit[i] > best)
            best = v->limit[i];
    }
    return best;
}

/* Where the verdicts contradicted each other (a limit failed at or above
 * one that passed): z->noisy_low_bytes .. z->noisy_high_bytes, else REP_NONE. */
static void note_spread(const struct verdicts *v, struct rep_sizing *z)
{
    z->noisy_low_bytes = z->noisy_high_bytes = REP_NONE;
    /* (Equal: one limit that both passed and failed is noise too.) */
    if (v->low_pass != UINT64_MAX && v->high_fail >= v->low_pass) {
        z->noisy_low_bytes = (int64_t)v->low_pass;
        z->noisy_high_bytes = (int64_t)v->high_fail;
    }
}

/* Re-tests of the final bracket at most this often: noise that keeps
 * contradicting itself ends the search with the band it left. */
#define MAX_CONFIRMATIONS 4

enum prof_size_result prof_size_bisect(const struct prof_size_search *p, struct rep_sizing *z)
{
    uint64_t lo = p->lo_bytes, hi = p->hi_bytes;
    z->min_passing_bytes = REP_NONE;
    z->noisy_low_bytes = z->noisy_high_bytes = REP_NONE;
    struct verdicts *v = calloc(1, sizeof *v);
    if (!v)
        return PROF_SIZE_NONE;
    v->low_pass = UINT64_MAX;
    enum prof_size_result res = PROF_SIZE_FOUND;
    size_t before = z->n_steps;
    int r = try_limit(p, z, hi);
    /* The upper bound only slow: once more before "nothing passes". */
    if (r == 0 && z->n_steps > before && z->steps[z->n_steps - 1].status == REP_SLOW)
        r = try_limit(p, z, hi);
    if (r <= 0) {
        res = r < 0 ? PROF_SIZE_INTERRUPTED : PROF_SIZE_NONE; /* even the upper bound fails */
        goto out;
    }
    note(v, hi, true);
    if ((r = try_limit(p, z, lo)) != 0) {
        if (r < 0)
            res = PROF_SIZE_INTERRUPTED;
        else
            z->min_passing_bytes = (int64_t)lo;
        goto out;
    }
    note(v, lo, false);
    /* Bisect; then confirm the bracket it ends with: its upper end passes
     * again and its lower end fails again. A verdict the re-test
     * contradicts was noise: the search goes back to the nearest limit
     * whose verdict stands and narrows again from there, so one noisy step
     * moves the answer by one step at most, not by half the bracket. */
    for (unsigned confirmations = 0;; confirmations++) {
        while (hi - lo > p->precision_bytes) {
            /* Whole MiB where the bracket allows, as a person would set a limit. */
            uint64_t mid = (lo + (hi - lo) / 2) / MIB * MIB;
            if (mid <= lo || mid >= hi)
                mid = lo + (hi - lo) / 2;
            if ((r = try_limit(p, z, mid)) < 0) {
                res = PROF_SIZE_INTERRUPTED;
                goto out;
            }
            note(v, mid, r == 1);
            if (r == 1)
                hi = mid;
            else
                lo = mid;
        }
        if (confirmations == MAX_CONFIRMATIONS)
            break;
        if ((r = try_limit(p, z, hi)) < 0) {
            res = PROF_SIZE_INTERRUPTED;
            goto out;
        }
        note(v, hi, r == 1);
        if (r == 0) {
            lo = hi;
            hi = nearest(v, hi, true, p->hi_bytes);
            continue;
        }
        if (lo == p->lo_bytes) /* the lower bound failed twice at the start, if flaky */
            break;
        if ((r = try_limit(p, z, lo)) < 0) {
            res = PROF_SIZE_INTERRUPTED;
            goto out;
        }
        note(v, lo, r == 1);
        if (r == 0)
            break;
        hi = lo;
        lo = nearest(v, lo, false, p->lo_bytes);
    }
out:
    /* Found, or interrupted once the upper bound passed: the bracket's
     * upper end is the answer so far. */
    if (z->min_passing_bytes == REP_NONE && v->n > 0 && res != PROF_SIZE_NONE)
        z->min_passing_bytes = (int64_t)hi;
    note_spread(v, z);
    free(v);
    return res;
}

int64_t prof_size_recommend_for(const struct rep_sizing *z, uint64_t precision_bytes, double margin)
{
    int64_t r = prof_size_recommend(z->min_passing_bytes, margin);
    /* Noise: a limit that failed above the answer. The recommendation
     * covers it too (a limit that sometimes fails is an OOM kill waiting
     * in production); the margin usually already does. */
    if (r != REP_NONE && z->noisy_high_bytes != REP_NONE &&
        z->noisy_high_bytes + (int64_t)precision_bytes > r)
        r = (int64_t)prof_size_round_up((double)z->noisy_high_bytes + (double)precision_bytes);
    return r;
}

uint64_t prof_size_round_up(double bytes)
{
    uint64_t mib = (uint64_t)ceil(bytes / (double)MIB);
    uint64_t step = mib < 64 ? 4 : mib < 256 ? 8 : mib < 1024 ? 16 : 64;
    return (mib + step - 1) / step * step * MIB;
}

int64_t prof_size_recommend(int64_t min_passing_bytes, double margin)
{
    if (min_passing_bytes == REP_NONE)
        return REP_NONE;
    return (int64_t)prof_size_round_up((double)min_passing_bytes * (1.0 + margin));
}
