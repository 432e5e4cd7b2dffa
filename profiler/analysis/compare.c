#include "profiler/analysis/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/stats.h"

/* Metrics a regression check looks at: time to ready and its parts, CPU, memory. */
static const char *const compared[] = {
    "ready_us",        "listen_us",       "listen_to_ready_us", "first_request_us",
    "cpu_to_ready_us", "rss_ready_bytes", "pss_ready_bytes",    "rss_peak_bytes",
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
                 const struct prof_compare_opts *o, struct prof_comparison *c)
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
        double *vb = malloc((tb->n_runs + 1) * sizeof *vb);
        double *vn = malloc((tn->n_runs + 1) * sizeof *vn);
        if (!vb || !vn) {
            free(vb);
            free(vn);
            return -1;
        }
        for (size_t k = 0; k < nm; k++) {
            const struct rep_metric *m = rep_metric_find(compared[k]);
            size_t nb = prof_metric_values(tb, m, vb), nn = prof_metric_values(tn, m, vn);
            if (nb == 0 || nn == 0)
                continue;
            struct prof_compare_row *row = &c->rows[c->n_rows++];
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
            else
                row->verdict = row->change_pct > 0 ? CMP_REGRESSION : CMP_IMPROVED;
            c->regressions += row->verdict == CMP_REGRESSION;
        }
        free(vb);
        free(vn);
    }
    return 0;
}

void prof_comparison_free(struct prof_comparison *c)
{
    free(c->rows);
    free(c->only_base);
    free(c->only_new);
    memset(c, 0, sizeof *c);
}

static const char *verdict_text(int v)
{
    switch (v) {
    case CMP_REGRESSION:
        return "REGRESSION";
    case CMP_IMPROVED:
        return "improved";
    case CMP_NOISE:
        return "not significant";
    default:
        return "same";
    }
}

static void cells(const struct prof_compare_row *r, char base[32], char cur[32], char ch[32],
                  char p[32])
{
    rep_format_value(r->metric->unit, r->base_p50, base, 32);
    rep_format_value(r->metric->unit, r->new_p50, cur, 32);
    snprintf(ch, 32, "%+.1f%%", r->change_pct);
    snprintf(p, 32, isnan(r->p) ? "-" : r->p < 0.001 ? "<0.001" : "%.3f", r->p);
}

void prof_comparison_text(const struct prof_comparison *c, struct rep_buf *b)
{
    rep_buf_printf(b, "%-22s %-16s %11s %11s %9s %8s  %s\n", "target", "metric", "base p50",
                   "new p50", "change", "p", "verdict");
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct prof_compare_row *r = &c->rows[i];
        char base[32], cur[32], ch[32], p[32];
        cells(r, base, cur, ch, p);
        /* µ is two bytes, one column: widen those fields by one. */
        rep_buf_printf(b, "%-22s %-16s %*s %*s %9s %8s  %s\n", r->target, r->metric->brief,
                       strstr(base, "µ") ? 12 : 11, base, strstr(cur, "µ") ? 12 : 11, cur, ch, p,
                       verdict_text(r->verdict));
    }
    for (size_t i = 0; i < c->n_only_base; i++)
        rep_buf_printf(b, "only in the base report: %s\n", c->only_base[i]);
    for (size_t i = 0; i < c->n_only_new; i++)
        rep_buf_printf(b, "only in the new report: %s\n", c->only_new[i]);
    rep_buf_printf(b, "%zu regression%s (worse by more than %.3g%% with Mann–Whitney p < %.3g)\n",
                   c->regressions, c->regressions == 1 ? "" : "s", c->threshold_pct, c->alpha);
}

void prof_comparison_markdown(const struct prof_comparison *c, struct rep_buf *b)
{
    rep_buf_printf(b,
                   "## coldstart compare\n\n%zu regression%s (worse by more than %.3g%% "
                   "with Mann–Whitney p < %.3g).\n\n",
                   c->regressions, c->regressions == 1 ? "" : "s", c->threshold_pct, c->alpha);
    rep_buf_puts(b, "| target | metric | base p50 | new p50 | change | p | verdict |\n"
                    "|---|---|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct prof_compare_row *r = &c->rows[i];
        char base[32], cur[32], ch[32], p[32];
        cells(r, base, cur, ch, p);
        rep_buf_printf(b, "| %s | %s | %s | %s | %s | %s | %s%s%s |\n", r->target, r->metric->brief,
                       base, cur, ch, p, r->verdict == CMP_REGRESSION ? "**" : "",
                       verdict_text(r->verdict), r->verdict == CMP_REGRESSION ? "**" : "");
    }
    for (size_t i = 0; i < c->n_only_base; i++)
        rep_buf_printf(b, "\nOnly in the base report: `%s`\n", c->only_base[i]);
    for (size_t i = 0; i < c->n_only_new; i++)
        rep_buf_printf(b, "\nOnly in the new report: `%s`\n", c->only_new[i]);
}

static void json_num(struct rep_buf *b, double v)
{
    if (isnan(v) || isinf(v))
        rep_buf_puts(b, "null");
    else
        rep_buf_printf(b, "%.6g", v);
}

void prof_comparison_json(const struct prof_comparison *c, struct rep_buf *b)
{
    rep_buf_printf(b,
                   "{\n  \"schema\": \"coldstart-compare/1\",\n  \"threshold_pct\": %.6g,\n"
                   "  \"alpha\": %.6g,\n  \"regressions\": %zu,\n  \"rows\": [",
                   c->threshold_pct, c->alpha, c->regressions);
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct prof_compare_row *r = &c->rows[i];
        rep_buf_puts(b, i ? ",\n    {\"target\": " : "\n    {\"target\": ");
        rep_buf_json_string(b, r->target);
        rep_buf_printf(b, ", \"metric\": \"%s\", \"base_p50\": ", r->metric->key);
        json_num(b, r->base_p50);
        rep_buf_puts(b, ", \"new_p50\": ");
        json_num(b, r->new_p50);
        rep_buf_puts(b, ", \"change_pct\": ");
        json_num(b, r->change_pct);
        rep_buf_puts(b, ", \"p\": ");
        json_num(b, r->p);
        rep_buf_printf(b, ", \"base_n\": %zu, \"new_n\": %zu, \"verdict\": \"%s\"}", r->base_n,
                       r->new_n,
                       r->verdict == CMP_REGRESSION ? "regression"
                       : r->verdict == CMP_IMPROVED ? "improved"
                       : r->verdict == CMP_NOISE    ? "not_significant"
                                                    : "same");
    }
    rep_buf_puts(b, c->n_rows ? "\n  ],\n  \"only_in_base\": [" : "],\n  \"only_in_base\": [");
    for (size_t i = 0; i < c->n_only_base; i++) {
        if (i)
            rep_buf_puts(b, ", ");
        rep_buf_json_string(b, c->only_base[i]);
    }
    rep_buf_puts(b, "],\n  \"only_in_new\": [");
    for (size_t i = 0; i < c->n_only_new; i++) {
        if (i)
            rep_buf_puts(b, ", ");
        rep_buf_json_string(b, c->only_new[i]);
    }
    rep_buf_puts(b, "]\n}\n");
}
