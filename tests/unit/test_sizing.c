/* The bisection of `coldstart size` against a model target that passes at
 * and above a known limit: it must find that limit to the precision, record
 * every attempt, retry a flaky step, and stop when interrupted. */
#include "check.h"
#include "profiler/analysis/sizing.h"
#include "reports/platforms.h"

#define MIB (1024ull * 1024ull)

struct model {
    uint64_t needs;       /* passes at limits >= this */
    unsigned flaky_first; /* the first attempt at each limit fails */
    unsigned steps;
    unsigned interrupt_at; /* 0: never */
    bool under_load;       /* the step reports what a load measured */
};

static int step(void *ctx, uint64_t limit, unsigned attempt, struct prof_size_attempt *ret)
{
    struct model *m = ctx;
    if (m->interrupt_at && ++m->steps >= m->interrupt_at)
        return 1;
    bool pass = limit >= m->needs && !(m->flaky_first && attempt == 1);
    ret->status = pass ? REP_OK : REP_OOM;
    ret->ready_us = pass ? 1000 : REP_NONE;
    ret->under_load = m->under_load;
    if (m->under_load) {
        ret->load_rps = 5000;
        ret->load_p99_us = 250.5;
        ret->load_errors = 0;
        ret->peak_bytes = (int64_t)limit / 2;
    }
    return 0;
}

/* A noisy host: the target needs `needs` (OOM below it), and above it a
 * start is slow by chance, `slow_pct` percent of the time (a busy machine,
 * a GC at the wrong moment). Deterministic: a seeded generator. */
struct noisy {
    uint64_t needs;
    unsigned slow_pct;
    uint64_t seed;
};

static unsigned next_pct(struct noisy *n)
{
    n->seed = n->seed * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((n->seed >> 33) % 100);
}

static int noisy_step(void *ctx, uint64_t limit, unsigned attempt, struct prof_size_attempt *ret)
{
    (void)attempt;
    struct noisy *n = ctx;
    if (limit < n->needs) {
        ret->status = REP_OOM;
        return 0;
    }
    bool slow = next_pct(n) < n->slow_pct;
    ret->status = slow ? REP_SLOW : REP_OK;
    ret->ready_us = slow ? 50000 : 1000;
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

    /* A step under load keeps what the load measured; one at rest keeps NaN. */
    m = (struct model){.needs = 100 * MIB, .under_load = true};
    CHECK_INT(prof_size_bisect(&p, &z), PROF_SIZE_FOUND);
    CHECK(z.steps[0].under_load);
    CHECK_NEAR(z.steps[0].load_rps, 5000, 1e-9);
    CHECK_NEAR(z.steps[0].load_p99_us, 250.5, 1e-9);
    CHECK_INT(z.steps[0].peak_bytes, 256 * MIB);
    free_steps(&z);
    m = (struct model){.needs = 100 * MIB};
    CHECK_INT(prof_size_bisect(&p, &z), PROF_SIZE_FOUND);
    CHECK(!z.steps[0].under_load && isnan(z.steps[0].load_rps));
    CHECK_INT(z.steps[0].load_errors, REP_NONE);
    free_steps(&z);

    /* Noise does not move the answer: with 15% of starts slow by chance at
     * every limit that serves, a step that was only slow is judged by the
     * majority of three attempts and the final bracket is re-tested, so a
     * false "slow" far above the need (which once sent the answer from
     * 96 MiB to 464 MiB) is undone. Of 200 searches at least 95% end
     * within two steps of the need, none below it. Without the re-tests
     * (and with a pass on any attempt) about half of them end far above. */
    unsigned near = 0, below = 0, noisy_bands = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct noisy n = {.needs = 100 * MIB, .slow_pct = 15, .seed = seed};
        struct prof_size_search q = {16 * MIB, 512 * MIB, 4 * MIB, 2, noisy_step, &n};
        /* (Twice slow at the upper bound, 0.2% of searches: "none".) */
        bool found = prof_size_bisect(&q, &z) == PROF_SIZE_FOUND;
        if (found && z.min_passing_bytes < (int64_t)(100 * MIB))
            below++;
        if (found && z.min_passing_bytes <= (int64_t)(108 * MIB))
            near++;
        if (z.noisy_high_bytes != REP_NONE) {
            /* The band is where a limit failed above one that passed, and
             * the recommendation covers its top. */
            noisy_bands++;
            CHECK(z.noisy_low_bytes <= z.noisy_high_bytes);
            CHECK(prof_size_recommend_for(&z, 4 * MIB, 0.25) >=
                  z.noisy_high_bytes + (int64_t)(4 * MIB));
        }
        free_steps(&z);
    }
    CHECK_INT(below, 0);
    CHECK(near >= 190);
    CHECK(noisy_bands > 0); /* the noise was there to be seen */
    /* Without noise, no band, and the recommendation is the margin's. */
    m = (struct model){.needs = 100 * MIB};
    CHECK_INT(prof_size_bisect(&p, &z), PROF_SIZE_FOUND);
    CHECK_INT(z.noisy_low_bytes, REP_NONE);
    CHECK_INT(prof_size_recommend_for(&z, 4 * MIB, 0.25),
              prof_size_recommend(z.min_passing_bytes, 0.25));
    free_steps(&z);
    /* A slow step takes the majority of three attempts, even with --attempts 1. */
    struct noisy always = {.needs = 16 * MIB, .slow_pct = 100, .seed = 7};
    struct prof_size_search q = {16 * MIB, 64 * MIB, 4 * MIB, 1, noisy_step, &always};
    CHECK_INT(prof_size_bisect(&q, &z), PROF_SIZE_NONE);
    CHECK_INT(z.n_steps, 4); /* two slow verdicts of three settle it; the bound gets two tries */
    free_steps(&z);

    /* The platforms' steps: Cloud Run 128 MiB from 128 MiB, Lambda whole
     * MiB from 128 to 10240. */
    CHECK_INT(rep_cloud_run_bytes(1), 128 * MIB);
    CHECK_INT(rep_cloud_run_bytes(128 * MIB), 128 * MIB);
    CHECK_INT(rep_cloud_run_bytes(128 * MIB + 1), 256 * MIB);
    CHECK_INT(rep_cloud_run_bytes(40000 * MIB), 0);
    CHECK_INT(rep_lambda_mb(20 * MIB), 128);
    CHECK_INT(rep_lambda_mb(168 * MIB), 168);
    CHECK_INT(rep_lambda_mb(168 * MIB + 1), 169);
    CHECK_INT(rep_lambda_mb(10241 * MIB), 0);
    struct rep_buf b = {0};
    rep_platform_snippets(&b, 168 * MIB, 0.5, "");
    CHECK(b.data && strstr(b.data, "memory: \"168Mi\"") && strstr(b.data, "cpu: \"500m\""));
    CHECK(b.data && strstr(b.data, "--memory 256Mi") && strstr(b.data, "MemorySize: 168"));
    CHECK(b.data && strstr(b.data, "docker run --memory 168m --memory-swap 168m --cpus 0.5"));
    rep_buf_free(&b);

    CHECK_INT(prof_size_round_up(13.0 * MIB), 16 * MIB);
    CHECK_INT(prof_size_round_up(100.0 * MIB), 104 * MIB);
    CHECK_INT(prof_size_recommend(100 * MIB, 0.25), 128 * MIB);
    CHECK_INT(prof_size_recommend(REP_NONE, 0.25), REP_NONE);
    CHECK_DONE();
}
