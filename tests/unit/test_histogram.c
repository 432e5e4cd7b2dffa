/* The load generator's latency histogram: every percentile within 1% of the
 * exact order statistic, over values from nanoseconds to minutes, in a
 * fixed size; merging equals recording into one. */
#include <stdint.h>

#include "check.h"
#include "profiler/analysis/histogram.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* xorshift64*: the same values on every run. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* The exact value of rank ceil(p/100 * n) in sorted v. */
static uint64_t exact(const uint64_t *v, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static void check_against_exact(uint64_t *v, size_t n)
{
    static struct cs_hist h;
    cs_hist_init(&h);
    for (size_t i = 0; i < n; i++)
        cs_hist_record(&h, v[i]);
    qsort(v, n, sizeof *v, cmp_u64);
    const double ps[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        double want = (double)exact(v, n, ps[k]);
        double got = (double)cs_hist_percentile(&h, ps[k]);
        if (!(fabs(got - want) <= want * 0.01 + 0.5))
            fprintf(stderr, "p%g: %g, exact %g\n", ps[k], got, want);
        CHECK(fabs(got - want) <= want * 0.01 + 0.5);
    }
    CHECK_INT(h.count, n);
    CHECK_INT(h.min, v[0]);
    CHECK_INT(h.max, v[n - 1]);
}

int main(void)
{
    enum { N = 200000 };
    static uint64_t v[N];
    uint64_t seed = 88172645463325252ull;

    /* Log-uniform from 1 ns to ~17 minutes: every bucket range. */
    for (size_t i = 0; i < N; i++) {
        unsigned bits = (unsigned)(next_random(&seed) % 40) + 1;
        v[i] = next_random(&seed) >> (64 - bits);
    }
    check_against_exact(v, N);

    /* Latency-like: most near 80 us, a tail to 50 ms. */
    for (size_t i = 0; i < N; i++) {
        uint64_t r = next_random(&seed) % 1000;
        v[i] =
            r < 990 ? 60000 + next_random(&seed) % 40000 : 1000000 + next_random(&seed) % 49000000;
    }
    check_against_exact(v, N);

    /* Small exact values are exact. */
    static struct cs_hist h, a, b;
    cs_hist_init(&h);
    CHECK_INT(cs_hist_percentile(&h, 50), 0);
    for (uint64_t x = 1; x <= 100; x++)
        cs_hist_record(&h, x);
    CHECK_INT(cs_hist_percentile(&h, 50), 50);
    CHECK_INT(cs_hist_percentile(&h, 99), 99);
    CHECK_INT(cs_hist_percentile(&h, 100), 100);

    /* Out of range: counted, max exact. */
    cs_hist_record(&h, UINT64_MAX / 2);
    CHECK_INT(h.max, UINT64_MAX / 2);
    CHECK_INT(cs_hist_percentile(&h, 100), UINT64_MAX / 2);

    /* Merge = record into one. */
    cs_hist_init(&a);
    cs_hist_init(&b);
    cs_hist_init(&h);
    for (size_t i = 0; i < 10000; i++) {
        uint64_t x = next_random(&seed) % 10000000;
        cs_hist_record(i % 2 ? &a : &b, x);
        cs_hist_record(&h, x);
    }
    cs_hist_merge(&a, &b);
    CHECK_INT(a.count, h.count);
    CHECK_INT(a.min, h.min);
    CHECK_INT(a.max, h.max);
    CHECK_INT(cs_hist_percentile(&a, 99), cs_hist_percentile(&h, 99));
    CHECK(sizeof h < 40 * 1024);
    CHECK_DONE();
}
