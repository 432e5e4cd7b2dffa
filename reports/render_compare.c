/* The regression check rendered: a terminal table, Markdown for a pull
 * request comment, JSON for machines. */
#include "reports/comparison.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rep_comparison_free(struct rep_comparison *c)
{
    free(c->rows);
    free(c->oks);
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

static void cells(const struct rep_compare_row *r, char base[32], char cur[32], char ch[32],
                  char ci[40], char p[32])
{
    rep_format_value(r->metric->unit, r->base_p50, base, 32);
    rep_format_value(r->metric->unit, r->new_p50, cur, 32);
    snprintf(ch, 32, "%+.1f%%", r->change_pct);
    if (isnan(r->ci_lo_pct))
        snprintf(ci, 40, "-");
    else
        snprintf(ci, 40, "%+.1f%% to %+.1f%%", r->ci_lo_pct, r->ci_hi_pct);
    /* The p that decided: Holm's where the row was tested, else the raw one. */
    double shown = isnan(r->p_holm) ? r->p : r->p_holm;
    snprintf(p, 32, isnan(shown) ? "-" : shown < 0.001 ? "<0.001" : "%.3f", shown);
}

static void summary_line(const struct rep_comparison *c, struct rep_buf *b)
{
    rep_buf_printf(b,
                   "%zu regression%s (worse by more than %.3g%% with Mann–Whitney p < %.3g, "
                   "Holm–Bonferroni-corrected over each target's metrics that changed by more "
                   "than that; fewer ok runs or a target gone count too)\n",
                   c->regressions, c->regressions == 1 ? "" : "s", c->threshold_pct,
                   c->alpha);
}

static bool ok_worth_saying(const struct rep_compare_ok *k)
{
    return k->regression || k->base_ok != k->base_n || k->new_ok != k->new_n;
}

#define DIFFERS_NOTE                                                                               \
    "%s: the two reports ran a different command or image under this name: the numbers "        \
    "compare two programs\n"

void rep_comparison_text(const struct rep_comparison *c, struct rep_buf *b)
{
    rep_buf_printf(b, "%-22s %-16s %11s %11s %9s %-20s %8s  %s\n", "target", "metric", "base p50",
                   "new p50", "change", "95% CI of the shift", "p", "verdict");
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct rep_compare_row *r = &c->rows[i];
        char base[32], cur[32], ch[32], ci[40], p[32];
        cells(r, base, cur, ch, ci, p);
        /* µ is two bytes, one column: widen those fields by one. */
        rep_buf_printf(b, "%-22s %-16s %*s %*s %9s %-20s %8s  %s\n", r->target, r->metric->brief,
                       strstr(base, "µ") ? 12 : 11, base, strstr(cur, "µ") ? 12 : 11, cur, ch, ci,
                       p, verdict_text(r->verdict));
    }
    for (size_t i = 0; i < c->n_oks; i++) {
        const struct rep_compare_ok *k = &c->oks[i];
        if (ok_worth_saying(k))
            rep_buf_printf(b, "%s: %zu of %zu runs ok in the base report, %zu of %zu in the new%s\n",
                           k->target, k->base_ok, k->base_n, k->new_ok, k->new_n,
                           k->regression ? ": REGRESSION" : "");
    }
    for (size_t i = 0; i < c->n_oks; i++)
        if (c->oks[i].command_differs)
            rep_buf_printf(b, DIFFERS_NOTE, c->oks[i].target);
    for (size_t i = 0; i < c->n_only_base; i++)
        rep_buf_printf(b, "only in the base report: %s (gone from the new one: REGRESSION)\n",
                       c->only_base[i]);
    for (size_t i = 0; i < c->n_only_new; i++)
        rep_buf_printf(b, "only in the new report: %s\n", c->only_new[i]);
    summary_line(c, b);
}

void rep_comparison_markdown(const struct rep_comparison *c, struct rep_buf *b)
{
    rep_buf_puts(b, "## coldstart compare\n\n");
    summary_line(c, b);
    rep_buf_puts(b, "\n| target | metric | base p50 | new p50 | change | 95% CI of the shift | p | "
                    "verdict |\n|---|---|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct rep_compare_row *r = &c->rows[i];
        char base[32], cur[32], ch[32], ci[40], p[32];
        cells(r, base, cur, ch, ci, p);
        rep_buf_printf(b, "| %s | %s | %s | %s | %s | %s | %s | %s%s%s |\n", r->target,
                       r->metric->brief, base, cur, ch, ci, p,
                       r->verdict == CMP_REGRESSION ? "**" : "", verdict_text(r->verdict),
                       r->verdict == CMP_REGRESSION ? "**" : "");
    }
    for (size_t i = 0; i < c->n_oks; i++) {
        const struct rep_compare_ok *k = &c->oks[i];
        if (ok_worth_saying(k))
            rep_buf_printf(b, "\n`%s`: %zu of %zu runs ok in the base report, %zu of %zu in the "
                              "new%s\n",
                           k->target, k->base_ok, k->base_n, k->new_ok, k->new_n,
                           k->regression ? ": **REGRESSION**" : "");
    }
    for (size_t i = 0; i < c->n_oks; i++)
        if (c->oks[i].command_differs) {
            rep_buf_puts(b, "\n");
            rep_buf_printf(b, DIFFERS_NOTE, c->oks[i].target);
        }
    for (size_t i = 0; i < c->n_only_base; i++)
        rep_buf_printf(b, "\nOnly in the base report: `%s` (gone: **REGRESSION**)\n",
                       c->only_base[i]);
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

void rep_comparison_json(const struct rep_comparison *c, struct rep_buf *b)
{
    rep_buf_printf(b,
                   "{\n  \"schema\": \"coldstart-compare/1\",\n  \"threshold_pct\": %.6g,\n"
                   "  \"alpha\": %.6g,\n  \"regressions\": %zu,\n  \"rows\": [",
                   c->threshold_pct, c->alpha, c->regressions);
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct rep_compare_row *r = &c->rows[i];
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
        rep_buf_puts(b, ", \"p_holm\": ");
        json_num(b, r->p_holm);
        rep_buf_puts(b, ", \"shift_ci95_pct\": [");
        json_num(b, r->ci_lo_pct);
        rep_buf_puts(b, ", ");
        json_num(b, r->ci_hi_pct);
        rep_buf_puts(b, "]");
        rep_buf_printf(b, ", \"base_n\": %zu, \"new_n\": %zu, \"verdict\": \"%s\"}", r->base_n,
                       r->new_n,
                       r->verdict == CMP_REGRESSION ? "regression"
                       : r->verdict == CMP_IMPROVED ? "improved"
                       : r->verdict == CMP_NOISE    ? "not_significant"
                                                    : "same");
    }
    rep_buf_puts(b, c->n_rows ? "\n  ],\n  \"runs_ok\": [" : "],\n  \"runs_ok\": [");
    for (size_t i = 0; i < c->n_oks; i++) {
        const struct rep_compare_ok *k = &c->oks[i];
        rep_buf_puts(b, i ? ", {\"target\": " : "{\"target\": ");
        rep_buf_json_string(b, k->target);
        rep_buf_printf(b,
                       ", \"base_ok\": %zu, \"base_runs\": %zu, \"new_ok\": %zu, \"new_runs\": "
                       "%zu, \"regression\": %s}",
                       k->base_ok, k->base_n, k->new_ok, k->new_n, k->regression ? "true" : "false");
    }
    rep_buf_puts(b, "],\n  \"correction\": \"holm-bonferroni per target\",\n  \"only_in_base\": [");
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
