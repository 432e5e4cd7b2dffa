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
    c->only_base = calloc(base->n_targets + 1, sizeof *c->only_base);
    c->only_new = calloc(cur->n_targets + 1, sizeof *c->only_new);
    if (!c->rows || !c->only_base || !c->only_new)
        return -1;
    for (size_t i = 0; i < base->n_targets; i++)
        if (!find(cur, base->targets[i].name))
            c->only_base[c->n_only_base++] = base->targets[i].name;
    for (size_t i = 0; i < cur->n_targets; i++) {
        const struct rep_target *tn = &cur->targets[i];
        const struct rep_target *tb = find(base, tn->name);
        if (!tb) {
            c->only_new[c->n_only_new++] = tn->name;
            continue;
        }
        _cleanup_free_ double *vb = malloc(prof_metric_values_cap(tb) * sizeof *vb);
        _cleanup_free_ double *vn = malloc(prof_metric_values_cap(tn) * sizeof *vn);
        if (!vb || !vn)
            return -1;
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
            row->base_p50 = median(vb, nb);
            row->new_p50 = median(vn, nn);
            row->change_pct = row->base_p50 > 0
                                  ? (row->new_p50 - row->base_p50) / row->base_p50 * 100.0
                                  : (row->new_p50 > 0 ? INFINITY : 0);
            bool significant = !isnan(row->p) && row->p < alpha;
            double floor = m->unit == REP_UNIT_US      ? o->min_time_us
                           : m->unit == REP_UNIT_BYTES ? o->min_bytes
                                                       : 0;
            if (fabs(row->change_pct) <= threshold_pct ||
                fabs(row->new_p50 - row->base_p50) < floor)
                row->verdict = CMP_SAME;
            else if (!significant)
                row->verdict = CMP_NOISE;
            else if (m->higher_is_better)
                row->verdict = row->change_pct < 0 ? CMP_REGRESSION : CMP_IMPROVED;
            else
                row->verdict = row->change_pct > 0 ? CMP_REGRESSION : CMP_IMPROVED;
            c->regressions += row->verdict == CMP_REGRESSION;
        }
    }
    return 0;
}
