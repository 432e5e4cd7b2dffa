#include "profiler/analysis/sizing.h"

#include <math.h>
#include <stdbool.h>

#define MIB (1024ull * 1024ull)

/* Up to p->attempts tries at one limit. Returns 1 passed, 0 failed, -1 interrupted. */
static int try_limit(const struct prof_size_search *p, struct rep_sizing *z, uint64_t limit)
{
    for (unsigned attempt = 1; attempt <= p->attempts; attempt++) {
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
            return 1;
    }
    return 0;
}

enum prof_size_result prof_size_bisect(const struct prof_size_search *p, struct rep_sizing *z)
{
    uint64_t lo = p->lo_bytes, hi = p->hi_bytes;
    z->min_passing_bytes = REP_NONE;
    int r = try_limit(p, z, hi);
    if (r < 0)
        return PROF_SIZE_INTERRUPTED;
    if (r == 0)
        return PROF_SIZE_NONE; /* even the upper bound fails */
    if ((r = try_limit(p, z, lo)) < 0)
        return PROF_SIZE_INTERRUPTED;
    if (r == 1) {
        z->min_passing_bytes = (int64_t)lo;
        return PROF_SIZE_FOUND;
    }
    while (hi - lo > p->precision_bytes) {
        /* Whole MiB where the bracket allows, as a person would set a limit. */
        uint64_t mid = (lo + (hi - lo) / 2) / MIB * MIB;
        if (mid <= lo || mid >= hi)
            mid = lo + (hi - lo) / 2;
        if ((r = try_limit(p, z, mid)) < 0) {
            z->min_passing_bytes = (int64_t)hi;
            return PROF_SIZE_INTERRUPTED;
        }
        if (r == 1)
            hi = mid;
        else
            lo = mid;
    }
    z->min_passing_bytes = (int64_t)hi;
    return PROF_SIZE_FOUND;
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
