#include "profiler/analysis/budget.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/units.h"
#include "sandbox/base/fsutil.h"

static const char *const stats[] = {"n", "min", "p50", "mean", "p90", "p95", "p99", "max"};

static double stat_value(const struct rep_stat *s, const char *name)
{
    if (!strcmp(name, "n"))
        return (double)s->n;
    if (!strcmp(name, "min"))
        return s->min;
    if (!strcmp(name, "p50"))
        return s->p50;
    if (!strcmp(name, "mean"))
        return s->mean;
    if (!strcmp(name, "p90"))
        return s->p90;
    if (!strcmp(name, "p95"))
        return s->p95;
    if (!strcmp(name, "p99"))
        return s->p99;
    return s->max;
}

int prof_budget_parse(const char *text, struct prof_budget *b, cs_error *err)
{
    memset(b, 0, sizeof *b);
    size_t k = 0;
    for (const char *p = text; *p && k + 1 < sizeof b->text; p++)
        if (!isspace((unsigned char)*p))
            b->text[k++] = *p;
    b->text[k] = '\0';
    const char *s = b->text;
    const char *opp = strpbrk(s, "<>");
    if (!opp)
        return cs_error_set(err, 0,
                            "budget `%s`: expected METRIC.STAT OP VALUE, e.g. "
                            "ready.p95<=300ms (OP is <=, <, >= or >)",
                            text);
    const char *dot = memchr(s, '.', (size_t)(opp - s));
    if (!dot)
        return cs_error_set(err, 0,
                            "budget `%s`: expected METRIC.STAT before `%c`, e.g. "
                            "ready.p95",
                            text, *opp);
    char metric[64], stat[16];
    snprintf(metric, sizeof metric, "%.*s", (int)(dot - s), s);
    snprintf(stat, sizeof stat, "%.*s", (int)(opp - dot - 1), dot + 1);
    b->metric = rep_metric_find(metric);
    if (!b->metric) {
        char names[1024] = "";
        for (size_t i = 0; i < rep_n_metrics; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     rep_metrics[i].brief);
        return cs_error_set(err, 0, "budget `%s`: unknown metric `%s` (one of: %s)", text, metric,
                            names);
    }
    bool known = false;
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
        known |= strcmp(stat, stats[i]) == 0;
    if (!known)
        return cs_error_set(err, 0,
                            "budget `%s`: unknown statistic `%s` (one of: n, min, p50, "
                            "mean, p90, p95, p99, max)",
                            text, stat);
    memcpy(b->stat, stat, strlen(stat) + 1); /* one of the names above: it fits */
    const char *val;
    if (opp[0] == '<' && opp[1] == '=') {
        b->op = BUDGET_LE;
        val = opp + 2;
    } else if (opp[0] == '>' && opp[1] == '=') {
        b->op = BUDGET_GE;
        val = opp + 2;
    } else {
        b->op = opp[0] == '<' ? BUDGET_LT : BUDGET_GT;
        val = opp + 1;
    }
    cs_error why;
    uint64_t v;
    if (!strcmp(stat, "n") || b->metric->unit == REP_UNIT_COUNT ||
        b->metric->unit == REP_UNIT_PER_S) {
        char *end;
        errno = 0;
        double d = strtod(val, &end);
        if (!*val || *end || errno || d < 0)
            return cs_error_set(err, 0, "budget `%s`: `%s` is not a number", text, val);
        b->value = d;
    } else if (b->metric->unit == REP_UNIT_US) {
        if (prof_parse_duration(val, &v, &why) < 0)
            return cs_error_set(err, 0, "budget `%s`: %s", text, cs_error_text(&why));
        b->value = (double)v;
    } else {
        if (prof_parse_size(val, &v, &why) < 0)
            return cs_error_set(err, 0, "budget `%s`: %s", text, cs_error_text(&why));
        b->value = (double)v;
    }
    return 0;
}

int prof_budget_read_file(const char *path, struct prof_budget **list, size_t *n, cs_error *err)
{
    char *text;
    if (fs_read_input(path, (size_t)1 << 20, "budgets file", &text, NULL, err) < 0)
        return cs_error_prefix(err, "--budgets");
    int lineno = 0, rc = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            continue;
        struct prof_budget *grown = realloc(*list, (*n + 1) * sizeof *grown);
        if (!grown) {
            rc = cs_error_set(err, ENOMEM, "budgets");
            break;
        }
        *list = grown;
        if (prof_budget_parse(p, &(*list)[*n], err) < 0) {
            rc = cs_error_prefix(err, "%s:%d", path, lineno);
            break;
        }
        (*n)++;
    }
    free(text);
    return rc;
}

static const char *op_text(enum prof_budget_op op)
{
    return op == BUDGET_LE ? "<=" : op == BUDGET_LT ? "<" : op == BUDGET_GE ? ">=" : ">";
}

bool prof_budget_check(const struct prof_budget *b, struct rep_target *t)
{
    const struct rep_stat *s = rep_target_stat(t, b->metric->key);
    char msg[512];
    double actual = NAN;
    bool passed;
    if (!s || s->n == 0) {
        passed = false;
        snprintf(msg, sizeof msg, "budget %s not met by %s: no successful run measured %s", b->text,
                 t->name, b->metric->brief);
    } else {
        actual = stat_value(s, b->stat);
        switch (b->op) {
        case BUDGET_LE:
            passed = actual <= b->value;
            break;
        case BUDGET_LT:
            passed = actual < b->value;
            break;
        case BUDGET_GE:
            passed = actual >= b->value;
            break;
        default:
            passed = actual > b->value;
        }
        char a[32], lim[32], lo[32], hi[32];
        enum rep_unit unit = strcmp(b->stat, "n") == 0 ? REP_UNIT_COUNT : b->metric->unit;
        rep_format_value(unit, actual, a, sizeof a);
        rep_format_value(unit, b->value, lim, sizeof lim);
        /* The interval is the median's: said beside a median budget only
         * (beside a p95 it read as the p95's). Other statistics say how many
         * runs they were taken over. */
        char ci[96] = "";
        if (strcmp(b->stat, "p50") == 0 && !isnan(s->ci95_lo)) {
            rep_format_value(b->metric->unit, s->ci95_lo, lo, sizeof lo);
            rep_format_value(b->metric->unit, s->ci95_hi, hi, sizeof hi);
            snprintf(ci, sizeof ci, " (median 95%% CI %s–%s)", lo, hi);
        } else if (strcmp(b->stat, "n") != 0) {
            snprintf(ci, sizeof ci, " (the %s of %lld runs)", b->stat, (long long)s->n);
        }
        if (passed)
            snprintf(msg, sizeof msg, "budget %s met by %s: %s %s %s", b->text, t->name, a,
                     op_text(b->op), lim);
        else
            snprintf(msg, sizeof msg, "budget %s exceeded by %s: %s%s", b->text, t->name, a, ci);
    }
    rep_target_add_budget(t, b->text, passed, actual, msg);
    return passed;
}
