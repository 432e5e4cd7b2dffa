/* coldstart report IN.json --format md|html|csv|junit|json [-o OUT]:
 * any output re-rendered from a JSON report alone. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/budget.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/usage.h"
#include "reports/output.h"
#include "reports/render.h"
#include "reports/report_json.h"

struct report_args {
    const char *format, *out, *in;
    struct prof_budget *budgets;
    size_t n_budgets;
};

static void report_args_free(struct report_args *a)
{
    free(a->budgets);
}
#define _cleanup_report_args_ _cleanup_(report_args_free)

static int add_budget(struct report_args *a, const char *expr, cs_error *err)
{
    struct prof_budget *nb = realloc(a->budgets, (a->n_budgets + 1) * sizeof *nb);
    if (!nb)
        return cs_error_set(err, ENOMEM, "out of memory");
    a->budgets = nb;
    if (prof_budget_parse(expr, &a->budgets[a->n_budgets], err) < 0)
        return cs_error_mark_input(err);
    a->n_budgets++;
    return 0;
}

static int parse_value(int c, const char *arg, void *ctx, cs_error *err)
{
    struct report_args *a = ctx;
    if (c == 'f')
        a->format = arg;
    else if (c == 'o')
        a->out = arg;
    else if (c == 'b')
        return add_budget(a, arg, err);
    else if (c == 'B')
        return prof_budget_read_file(arg, &a->budgets, &a->n_budgets, err) < 0
                   ? cs_error_mark_input(err)
                   : 0;
    return 0;
}

/* Returns 0, 1 after --help, -1 with err. */
static int parse(int argc, char **argv, struct report_args *a, cs_error *err)
{
    int rc = cli_getopt_each(cli_find_command("report"), false, argc, argv, parse_value, a, err);
    if (rc != 0)
        return rc;
    if (optind != argc - 1)
        return cs_error_input(err, "give exactly one input report (see coldstart report --help)");
    a->in = argv[optind];
    if (!a->format && a->n_budgets == 0)
        return cs_error_input(err, "--format is required: md, html, csv, junit, json or "
                                   "github-benchmark (or check --budget)");
    return 0;
}

/* Budgets against every target; returns true when one was missed. */
static bool check_budgets(struct rep_report *r, const struct report_args *a, FILE *out)
{
    bool missed = false;
    for (size_t i = 0; i < r->n_targets; i++)
        for (size_t k = 0; k < a->n_budgets; k++) {
            bool ok = prof_budget_check(&a->budgets[k], &r->targets[i]);
            missed |= !ok;
            fprintf(out, "%s %s\n", ok ? "ok  " : "FAIL",
                    r->targets[i].budgets[r->targets[i].n_budgets - 1].message);
        }
    return missed;
}

int cmd_report(int argc, char **argv, cs_error *err)
{
    _cleanup_report_args_ struct report_args a = {.out = "-"};
    int rc = parse(argc, argv, &a, err);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    enum rep_format f = REP_FMT_MD;
    if (a.format && rep_format_parse(a.format, &f) < 0)
        return cs_error_input(
            err, "--format %s: use md, html, csv, junit, json or github-benchmark", a.format);
    if (a.format && rep_output_check(a.out, err) < 0)
        return cs_error_mark_input(err);
    _cleanup_report_ struct rep_report r = {0};
    if (rep_json_load(a.in, &r, err) < 0)
        return cs_error_mark_input(err);
    /* Budgets first, so a JUnit or Markdown rendering includes them. */
    bool missed = check_budgets(&r, &a, a.format && !strcmp(a.out, "-") ? stderr : stdout);
    if (a.format && rep_render_to_file(&r, f, a.out, err) < 0)
        return cs_error_mark_input(err);
    return missed ? 3 : 0;
}
