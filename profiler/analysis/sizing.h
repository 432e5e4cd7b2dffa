/* The search behind `coldstart size`: the smallest memory limit under which a
 * target starts and serves, by bisection between a lower and an upper bound,
 * each step tried up to `attempts` times so one flake is not a verdict. The
 * steps themselves (a cold start under a limit) come from a callback, so the
 * search is tested without starting anything (tests/unit/test_sizing.c). */
#ifndef COLDSTART_SIZING_H
#define COLDSTART_SIZING_H

#include <stdbool.h>
#include <stdint.h>

#include "reports/report.h"

/* What one attempt at a limit gave. */
struct prof_size_attempt {
    enum rep_status status; /* REP_OK passes; REP_SLOW, REP_OOM, ... do not */
    int64_t ready_us;       /* REP_NONE when it did not become ready */
    /* Under load (size --load): what the load measured; kept in the step. */
    bool under_load;
    double load_rps, load_p99_us;    /* NaN: not measured */
    int64_t load_errors, peak_bytes; /* REP_NONE: not measured */
};

/* One attempt at limit_bytes. Returns 0, or 1 when the user interrupted. */
typedef int (*prof_size_step_fn)(void *ctx, uint64_t limit_bytes, unsigned attempt,
                                 struct prof_size_attempt *ret);

struct prof_size_search {
    uint64_t lo_bytes, hi_bytes, precision_bytes;
    unsigned attempts;
    prof_size_step_fn step;
    void *ctx;
};

enum prof_size_result {
    PROF_SIZE_FOUND,       /* z->min_passing_bytes is set */
    PROF_SIZE_NONE,        /* even hi_bytes failed */
    PROF_SIZE_INTERRUPTED, /* stopped by the user; z holds the steps so far */
};

/* Runs the search, recording every attempt in z->steps, the result in
 * z->min_passing_bytes and the band where verdicts contradicted each other
 * in z->noisy_low_bytes/noisy_high_bytes. Invariant while bisecting: lo
 * fails, hi passes; the final bracket is re-tested (see sizing.c). */
enum prof_size_result prof_size_bisect(const struct prof_size_search *p, struct rep_sizing *z);

/* Up to a size a person would write in a manifest: a multiple of 4 MiB below
 * 64 MiB, 8 below 256, 16 below 1 GiB, else 64. */
uint64_t prof_size_round_up(double bytes);
/* The recommended limit: the smallest passing one plus the margin, rounded up. */
int64_t prof_size_recommend(int64_t min_passing_bytes, double margin);
/* As prof_size_recommend for z's answer, raised to cover the noisy band
 * (z->noisy_high_bytes + the precision) when the margin does not. */
int64_t prof_size_recommend_for(const struct rep_sizing *z, uint64_t precision_bytes,
                                double margin);

#endif
