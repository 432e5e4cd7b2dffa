#include "profiler/analysis/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/stats.h"
#include "sandbox/base/cleanup.h"

/* Metrics a regression check looks at: time to ready and its parts, CPU,
 * memory; and under load (when both reports have it) throughput, tail
 * latency and memory. */
static const char *const compared[] = {
    "ready_us",           "listen_us",       "listen_to_ready_us",     "first_request_us",
    "cpu_to_ready_us",    "rss_ready_bytes", "pss_ready_bytes",        "rss_peak_bytes",
    "load_rps",           "load_p99_us",     "load_rss_peak_bytes",    "rss_after_load_bytes",
    "burst_all_ready_us", "burst_ready_us",  "pss_per_instance_bytes",
};

static const struct rep_target *find(const struct rep_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_targets; i++)
        if (strcmp(r->targets[i].name, name) == 0)
            return &r->targets[i];
    return NULL;
}

static double median(double *v, size_t n)
{
    struct rep_stat s;
    prof_stat_compute(v, n, &s);
    return s.p50;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The Hodges-Lehmann shift's 95% interval (Bauer 1972: the order
 * statistics of the nb*nn pairwise differences around the Mann-Whitney
 * critical value, normal approximation), as percentages of the base median. */
static void shift_interval(const double *vb, size_t nb, const double *vn, size_t nn, double base,
                           struct rep_compare_row *row)
{
    row->ci_lo_pct = row->ci_hi_pct = NAN;
    size_t pairs = nb * nn;
    if (nb < 3 || nn < 3 || pairs > 4000000 || base <= 0)
        return;
    _cleanup_free_ double *d = malloc(pairs * sizeof *d);
    if (!d)
        return;
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < nn; j++)
            d[i * nn + j] = vn[j] - vb[i];
    qsort(d, pairs, sizeof *d, by_double);
    double sd = sqrt((double)nb * (double)nn * ((double)nb + (double)nn + 1) / 12.0);
    double k = floor((double)pairs / 2.0 - 1.959964 * sd);
    if (k < 0)
        k = 0;
    size_t lo = (size_t)k, hi = pairs - 1 - (size_t)k;
    row->ci_lo_pct = d[lo] / base * 100.0;
    row->ci_hi_pct = d[hi] / base * 100.0;
}

static int by_p(const void *a, const void *b)
{
    const struct rep_compare_row *x = *(struct rep_compare_row *const *)a,
                                 *y = *(struct rep_compare_row *const *)b;
    return (x->p > y->p) - (x->p < y->p);
}

/* Holm-Bonferroni over one target's rows that changed enough to be judged:
 * the k-th smallest of m p-values is compared with alpha / (m - k + 1), and
 * the first that fails stops the rejections (every later one is noise). */
static void holm(struct rep_compare_row *rows, size_t n, double alpha)
{
    struct rep_compare_row *tested[64] = {NULL};
    size_t m = 0;
    for (size_t i = 0; i < n && m < 64; i++)
        if (rows[i].verdict == CMP_NOISE && !isnan(rows[i].p))
            tested[m++] = &rows[i];
    if (m > 1)
        qsort(tested, m, sizeof(struct rep_compare_row *), by_p);
    double running = 0;
    bool stopped = false;
    for (size_t k = 0; k < m; k++) {
        struct rep_compare_row *r = tested[k];
        double adj = fmin(1.0, (double)(m - k) * r->p);
        running = fmax(running, adj); /* adjusted p-values are monotone */
        r->p_holm = running;
        stopped = stopped || !(r->p_holm < alpha);
        if (stopped)
            continue; /* stays CMP_NOISE */
        if (r->metric->higher_is_better)
            r->verdict = r->change_pct < 0 ? CMP_REGRESSION : CMP_IMPROVED;
        else
            r->verdict = r->change_pct > 0 ? CMP_REGRESSION : CMP_IMPROVED;
    }
}

static bool same_command(const struct rep_target *a, const struct rep_target *b)
{
    if (a->n_command != b->n_command || (!a->image) != (!b->image) ||
        (a->image && strcmp(a->image, b->image) != 0))
        return false;
    for (size_t i = 0; i < a->n_command; i++)
        if (strcmp(a->command[i] ? a->command[i] : "", b->command[i] ? b->command[i] : "") != 0)
            return false;
    return true;
}

static void count_ok(const struct rep_target *t, size_t *ret_ok, size_t *ret_n)
{
    *ret_ok = *ret_n = 0;
    for (size_t r = 0; r < t->n_runs; r++) {
        if (t->runs[r].warmup)
            continue;
        (*ret_n)++;
        *ret_ok += t->runs[r].status == REP_OK;
    }
}

int prof_compare(const struct rep_report *base, const struct rep_report *cur,
                 const struct prof_compare_opts *o, struct rep_comparison *c)
{
    memset(c, 0, sizeof *c);
    double threshold_pct = o->threshold_pct, alpha = o->alpha;
    c->threshold_pct = threshold_pct;
    c->alpha = alpha;
    c->min_time_us = o->min_time_us;
    c->min_bytes = o->min_bytes;
    size_t nm = sizeof compared / sizeof compared[0];
    c->rows = calloc(cur->n_targets * nm + 1, sizeof *c->rows);
    c->oks = calloc(cur->n_targets + 1, sizeof *c->oks);
    c->only_base = calloc(base->n_targets + 1, sizeof *c->only_base);
    c->only_new = calloc(cur->n_targets + 1, sizeof *c->only_new);
    if (!c->rows || !c->oks || !c->only_base || !c->only_new)
        return -1;
    for (size_t i = 0; i < base->n_targets; i++)
        if (!find(cur, base->targets[i].name)) {
            c->only_base[c->n_only_base++] = base->targets[i].name;
            c->regressions++; /* it vanished: nothing of it was measured */
        }
    for (size_t i = 0; i < cur->n_targets; i++) {
        const struct rep_target *tn = &cur->targets[i];
        const struct rep_target *tb = find(base, tn->name);
        if (!tb) {
            c->only_new[c->n_only_new++] = tn->name;
            continue;
        }
        struct rep_compare_ok *ok = &c->oks[c->n_oks++];
        ok->target = tn->name;
        count_ok(tb, &ok->base_ok, &ok->base_n);
        count_ok(tn, &ok->new_ok, &ok->new_n);
        /* A smaller share of ok runs (cross-multiplied: no division by 0). */
        ok->regression = ok->new_n == 0 || ok->new_ok * ok->base_n < ok->base_ok * ok->new_n;
        ok->command_differs = !same_command(tb, tn);
        c->regressions += ok->regression;
        _cleanup_free_ double *vb = malloc(prof_metric_values_cap(tb) * sizeof *vb);
        _cleanup_free_ double *vn = malloc(prof_metric_values_cap(tn) * sizeof *vn);
        if (!vb || !vn)
            return -1;
        size_t first = c->n_rows;
        for (size_t k = 0; k < nm; k++) {
            const struct rep_metric *m = rep_metric_find(compared[k]);
            size_t nb = prof_metric_values(tb, m, vb), nn = prof_metric_values(tn, m, vn);
            if (nb == 0 || nn == 0)
                continue;
            struct rep_compare_row *row = &c->rows[c->n_rows++];
            row->target = tn->name;
            row->metric = m;
            row->base_n = nb;
            row->new_n = nn;
            row->p = prof_mann_whitney_p(vb, nb, vn, nn);
            row->p_holm = NAN;
            row->base_p50 = median(vb, nb);
            row->new_p50 = median(vn, nn);
            row->change_pct = row->base_p50 > 0
                                  ? (row->new_p50 - row->base_p50) / row->base_p50 * 100.0
                                  : (row->new_p50 > 0 ? INFINITY : 0);
            shift_interval(vb, nb, vn, nn, row->base_p50, row);
            double floor = m->unit == REP_UNIT_US      ? o->min_time_us
                           : m->unit == REP_UNIT_BYTES ? o->min_bytes
                                                       : 0;
            /* Judged below, together with the target's other changes. */
            row->verdict = fabs(row->change_pct) <= threshold_pct ||
                                   fabs(row->new_p50 - row->base_p50) < floor
                               ? CMP_SAME
                               : CMP_NOISE;
        }
        holm(c->rows + first, c->n_rows - first, alpha);
        for (size_t r = first; r < c->n_rows; r++)
            c->regressions += c->rows[r].verdict == CMP_REGRESSION;
    }
    return 0;
}
