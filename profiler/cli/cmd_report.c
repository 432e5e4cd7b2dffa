/* coldstart report IN.json --format md|html|csv|junit|json [-o OUT]:
 * any output re-rendered from a JSON report alone. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/budget.h"
#include "profiler/cli/commands.h"
#include "reports/render.h"
#include "reports/output.h"
#include "reports/report_json.h"

static void report_usage(FILE *out)
{
    fprintf(out,
            "Usage: coldstart report IN.json [--format md|html|csv|junit|json|github-benchmark]\n"
            "                        [-o OUT] [--budget EXPR]... [--budgets FILE]\n"
            "\n"
            "Renders a saved (or merged) JSON report again in another format (stdout\n"
            "without -o), and checks budgets against it: exit 3 when one is missed.\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"budget", required_argument, NULL, 'b'}, {"budgets", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *format = NULL, *out = "-";
    struct prof_budget *budgets = NULL;
    size_t n_budgets = 0;
    cs_error err;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'b': {
            struct prof_budget *nb = realloc(budgets, (n_budgets + 1) * sizeof *nb);
            if (!nb)
                return usage_error("report", "out of memory");
            budgets = nb;
            if (prof_budget_parse(optarg, &budgets[n_budgets], &err) < 0) {
                free(budgets);
                return usage_error("report", err.msg);
            }
            n_budgets++;
            break;
        }
        case 'B':
            if (prof_budget_read_file(optarg, &budgets, &n_budgets, &err) < 0) {
                free(budgets);
                return usage_error("report", err.msg);
            }
            break;
        case 'h':
            report_usage(stdout);
            return 0;
        case ':':
            return usage_error("report", "an option needs a value (see coldstart report --help)");
        default:
            return usage_error("report", "unknown option (see coldstart report --help)");
        }
    }
    int rc = 0;
    enum rep_format f = REP_FMT_MD;
    struct rep_report r;
    bool out_ok = !format || rep_output_check(out, &err) == 0;
    if (optind != argc - 1)
        rc = usage_error("report", "give exactly one input report (see coldstart report --help)");
    else if (!format && n_budgets == 0)
        rc = usage_error("report", "--format is required: md, html, csv, junit, json or "
                                   "github-benchmark (or check --budget)");
    else if (format && rep_format_parse(format, &f) < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "--format %s: use md, html, csv, junit, json or github-benchmark",
                 format);
        rc = usage_error("report", msg);
    } else if (!out_ok || rep_json_load(argv[optind], &r, &err) < 0) {
        rc = usage_error("report", err.msg);
    } else {
        /* Budgets first, so a JUnit or Markdown rendering includes them. */
        bool missed = false;
        for (size_t i = 0; i < r.n_targets; i++)
            for (size_t k = 0; k < n_budgets; k++) {
                bool ok = prof_budget_check(&budgets[k], &r.targets[i]);
                missed |= !ok;
                fprintf(format && !strcmp(out, "-") ? stderr : stdout, "%s %s\n",
                        ok ? "ok  " : "FAIL",
                        r.targets[i].budgets[r.targets[i].n_budgets - 1].message);
            }
        if (format && rep_render_to_file(&r, f, out, &err) < 0) {
            fprintf(stderr, "coldstart report: %s\n", err.msg);
            rc = 2;
        } else if (missed) {
            rc = 3;
        }
        rep_report_free(&r);
    }
    free(budgets);
    return rc;
}
