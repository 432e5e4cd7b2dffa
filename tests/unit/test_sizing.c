/* The bisection of `coldstart size` against a model target that passes at
 * and above a known limit: it must find that limit to the precision, record
 * every attempt, retry a flaky step, and stop when interrupted. */
#include "check.h"
#include "profiler/analysis/sizing.h"

#define MIB (1024ull * 1024ull)

struct model {
    uint64_t needs;       /* passes at limits >= this */
    unsigned flaky_first; /* the first attempt at each limit fails */
    unsigned steps;
    unsigned interrupt_at; /* 0: never */
};

static int step(void *ctx, uint64_t limit, unsigned attempt, struct prof_size_attempt *ret)
{
    struct model *m = ctx;
    if (m->interrupt_at && ++m->steps >= m->interrupt_at)
        return 1;
    bool pass = limit >= m->needs && !(m->flaky_first && attempt == 1);
    *ret = (struct prof_size_attempt){pass ? REP_OK : REP_OOM, pass ? 1000 : REP_NONE};
    return 0;
}

static void free_steps(struct rep_sizing *z)
{
    free(z->steps);
    *z = (struct rep_sizing){0};
}

int main(void)
{
    struct model m = {.needs = 100 * MIB};
    struct prof_size_search p = {16 * MIB, 512 * MIB, 4 * MIB, 1, step, &m};
    struct rep_sizing z = {0};
    CHECK_INT(prof_size_bisect(&p, &z), PROF_SIZE_FOUND);
    CHECK(z.min_passing_bytes >= (int64_t)(100 * MIB));
    CHECK(z.min_passing_bytes <= (int64_t)(104 * MIB));
    CHECK(z.n_steps >= 2 && z.n_steps < 12);      /* bisection, not a linear scan */
    CHECK_INT(z.steps[0].limit_bytes, 512 * MIB); /* the upper bound first */
    CHECK_INT(z.steps[1].limit_bytes, 16 * MIB);
    free_steps(&z);

    /* Passes at the lower bound: that is the answer, after two steps. */
    m.needs = 8 * MIB;
    CHECK_INT(prof_size_bisect(&p, &z), PROF_SIZE_FOUND);
    CHECK_INT(z.min_passing_bytes, 16 * MIB);
    CHECK_INT(z.n_steps, 2);
    free_steps(&z);

    /* Fails even at the upper bound. */
    m.needs = 1024 * MIB;
    CHECK_INT(prof_size_bisect(&p, &z), PROF_SIZE_NONE);
    CHECK_INT(z.min_passing_bytes, REP_NONE);
    free_steps(&z);

    /* A flake on the first attempt is retried, and recorded. */
    m = (struct model){.needs = 100 * MIB, .flaky_first = 1};
    p.attempts = 2;
    CHECK_INT(prof_size_bisect(&p, &z), PROF_SIZE_FOUND);
    CHECK(z.min_passing_bytes >= (int64_t)(100 * MIB) &&
          z.min_passing_bytes <= (int64_t)(104 * MIB));
    CHECK_INT(z.steps[0].attempt, 1);
    CHECK_INT(z.steps[1].attempt, 2);
    free_steps(&z);

    /* Interrupted mid-search: stops at once, keeps the bracket's upper end. */
    m = (struct model){.needs = 100 * MIB, .interrupt_at = 4};
    p.attempts = 1;
    CHECK_INT(prof_size_bisect(&p, &z), PROF_SIZE_INTERRUPTED);
    CHECK_INT(z.n_steps, 3);
    free_steps(&z);

    CHECK_INT(prof_size_round_up(13.0 * MIB), 16 * MIB);
    CHECK_INT(prof_size_round_up(100.0 * MIB), 104 * MIB);
    CHECK_INT(prof_size_recommend(100 * MIB, 0.25), 128 * MIB);
    CHECK_INT(prof_size_recommend(REP_NONE, 0.25), REP_NONE);
    CHECK_DONE();
}
