#include "profiler/analysis/stats.h"
#include "sandbox/base/cleanup.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double prof_percentile_sorted(const double *s, size_t n, double pct)
{
    if (n == 0)
        return NAN;
    if (n == 1)
        return s[0];
    double pos = pct / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return s[lo] + (s[hi] - s[lo]) * frac;
}

/* P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so large n is fine. */
static double binom_half_cdf(size_t n, size_t k)
{
    double sum = 0;
    for (size_t i = 0; i <= k; i++)
        sum += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) -
                   (double)n * log(2.0));
    return sum;
}

size_t prof_median_ci_rank(size_t n)
{
    /* [x_(j), x_(n-j+1)] covers the median with probability 1 - 2 P(X <= j-1). */
    size_t best = 0;
    for (size_t j = 1; j <= n / 2; j++) {
        if (binom_half_cdf(n, j - 1) <= 0.025)
            best = j;
        else
            break;
    }
    return best;
}

void prof_stat_compute(const double *v, size_t n, struct rep_stat *ret)
{
    memset(ret, 0, sizeof *ret);
    ret->n = (int64_t)n;
    ret->outliers = (int64_t)prof_count_outliers(v, n);
    ret->min = ret->p50 = ret->mean = ret->stddev = ret->p90 = ret->p95 = ret->p99 = ret->max =
        ret->ci95_lo = ret->ci95_hi = NAN;
    if (n == 0)
        return;
    _cleanup_free_ double *s = malloc(n * sizeof *s);
    if (!s)
        return;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += s[i];
    double mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (s[i] - mean) * (s[i] - mean);
    ret->min = s[0];
    ret->max = s[n - 1];
    ret->mean = mean;
    ret->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
    ret->p50 = prof_percentile_sorted(s, n, 50);
    ret->p90 = prof_percentile_sorted(s, n, 90);
    ret->p95 = prof_percentile_sorted(s, n, 95);
    ret->p99 = prof_percentile_sorted(s, n, 99);
    size_t j = prof_median_ci_rank(n);
    if (j > 0) {
        ret->ci95_lo = s[j - 1];
        ret->ci95_hi = s[n - j];
    }
}

size_t prof_count_outliers(const double *v, size_t n)
{
    if (n < 3)
        return 0;
    _cleanup_free_ double *s = malloc(n * sizeof *s);
    if (!s)
        return 0;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double med = prof_percentile_sorted(s, n, 50);
    for (size_t i = 0; i < n; i++)
        s[i] = fabs(v[i] - med);
    qsort(s, n, sizeof *s, cmp_double);
    double mad = prof_percentile_sorted(s, n, 50);
    if (mad <= 0)
        return 0;
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(v[i] - med) / (1.4826 * mad) > 3.5)
            out++;
    return out;
}

size_t prof_metric_values_cap(const struct rep_target *t)
{
    return (t->n_runs + 1) * REP_BURST_MAX;
}

size_t prof_metric_values(const struct rep_target *t, const struct rep_metric *m, double *out)
{
    size_t n = 0;
    for (size_t r = 0; r < t->n_runs; r++) {
        const struct rep_run *run = &t->runs[r];
        if (run->warmup || run->status != REP_OK)
            continue;
        int64_t v[REP_BURST_MAX];
        size_t k = rep_metric_run_values(m, run, v, REP_BURST_MAX);
        for (size_t i = 0; i < k; i++)
            out[n++] = (double)v[i];
    }
    return n;
}

struct ranked {
    double v;
    int from_a;
};

static int cmp_ranked(const void *x, const void *y)
{
    double a = ((const struct ranked *)x)->v, b = ((const struct ranked *)y)->v;
    return (a > b) - (a < b);
}

/* P(U <= u) under H0 by counting arrangements: w(m, n, u) = w(m-1, n, u-n) +
 * w(m, n-1, u), over a (m+1) x (n+1) x (mn+1) table. */
static double exact_u_cdf(size_t m, size_t n, double u)
{
    size_t maxu = m * n;
    size_t plane = maxu + 1;
    _cleanup_free_ double *w = calloc((m + 1) * (n + 1) * plane, sizeof *w);
    if (!w)
        return NAN;
#define W(i, j, k) w[((i) * (n + 1) + (j)) * plane + (k)]
    for (size_t i = 0; i <= m; i++)
        for (size_t j = 0; j <= n; j++)
            for (size_t k = 0; k <= i * j; k++) {
                if (i == 0 || j == 0) {
                    W(i, j, k) = k == 0;
                    continue;
                }
                double x = k >= j ? W(i - 1, j, k - j) : 0;
                double y = k <= i * (j - 1) ? W(i, j - 1, k) : 0;
                W(i, j, k) = x + y;
            }
    double total = 0, below = 0;
    for (size_t k = 0; k <= maxu; k++) {
        total += W(m, n, k);
        if ((double)k <= u + 1e-9)
            below += W(m, n, k);
    }
#undef W
    return below / total;
}

double prof_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return NAN;
    size_t n = na + nb;
    _cleanup_free_ struct ranked *r = malloc(n * sizeof *r);
    if (!r)
        return NAN;
    for (size_t i = 0; i < na; i++)
        r[i] = (struct ranked){a[i], 1};
    for (size_t i = 0; i < nb; i++)
        r[na + i] = (struct ranked){b[i], 0};
    qsort(r, n, sizeof *r, cmp_ranked);
    /* Average ranks over ties; accumulate the tie correction. */
    double rank_a = 0, tie_term = 0;
    bool ties = false;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v)
            j++;
        double avg = ((double)i + (double)j) / 2.0 + 1.0;
        double t = (double)(j - i + 1);
        if (t > 1) {
            ties = true;
            tie_term += t * t * t - t;
        }
        for (size_t k = i; k <= j; k++)
            if (r[k].from_a)
                rank_a += avg;
        i = j + 1;
    }
    double u_a = rank_a - (double)na * ((double)na + 1) / 2.0;
    double u = fmin(u_a, (double)na * (double)nb - u_a);
    if (!ties && na <= 30 && nb <= 30) {
        double p = 2.0 * exact_u_cdf(na, nb, u);
        return p > 1 ? 1 : p;
    }
    double mean = (double)na * (double)nb / 2.0;
    double var = (double)na * (double)nb / 12.0 *
                 (((double)n + 1) - tie_term / ((double)n * ((double)n - 1)));
    if (var <= 0)
        return 1;
    double z = (fabs(u - mean) - 0.5) / sqrt(var);
    if (z < 0)
        z = 0;
    return erfc(z / sqrt(2.0));
}

int prof_summarize_target(struct rep_target *t)
{
    for (size_t i = 0; i < t->n_summary; i++)
        free(t->summary[i].metric);
    free(t->summary);
    t->summary = NULL;
    t->n_summary = 0;
    t->summary = calloc(rep_n_metrics, sizeof *t->summary);
    _cleanup_free_ double *vals = malloc(prof_metric_values_cap(t) * sizeof *vals);
    if (!t->summary || !vals)
        return -1;
    for (size_t m = 0; m < rep_n_metrics; m++) {
        size_t n = prof_metric_values(t, &rep_metrics[m], vals);
        if (n == 0)
            continue;
        struct rep_summary_entry *e = &t->summary[t->n_summary++];
        e->metric = strdup(rep_metrics[m].key);
        prof_stat_compute(vals, n, &e->stat);
    }
    return 0;
}
