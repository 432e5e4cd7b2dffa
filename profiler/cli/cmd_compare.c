/* coldstart compare BASE.json NEW.json: regression check between two reports. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/compare.h"
#include "profiler/analysis/units.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/usage.h"
#include "reports/output.h"
#include "reports/report_json.h"

struct compare_args {
    struct prof_compare_opts co;
    const char *md, *json;
};

static int parse_double(const char *flag, const char *s, double lo, double hi, double *ret,
                        cs_error *err)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return cs_error_input(err, "%s %s: expected a number from %g to %g", flag, s, lo, hi);
    *ret = v;
    return 0;
}

static int parse_value(int c, const char *arg, void *ctx, cs_error *err)
{
    struct compare_args *a = ctx;
    cs_error why;
    uint64_t v;
    switch (c) {
    case 't':
        return parse_double("--threshold", arg, 0, 1e6, &a->co.threshold_pct, err);
    case 'a':
        return parse_double("--alpha", arg, 1e-12, 1, &a->co.alpha, err);
    case 'T':
        if (prof_parse_duration(arg, &v, &why) < 0)
            return cs_error_input(err, "--min-time %s: %s", arg, cs_error_text(&why));
        a->co.min_time_us = (double)v;
        return 0;
    case 'M':
        if (prof_parse_size(arg, &v, &why) < 0)
            return cs_error_input(err, "--min-memory %s: %s", arg, cs_error_text(&why));
        a->co.min_bytes = (double)v;
        return 0;
    case 'm':
        a->md = arg;
        return 0;
    case 'j':
        a->json = arg;
        return 0;
    }
    return 0;
}

/* Returns 0, 1 after --help, -1 with err; optind is at the reports. */
static int parse(int argc, char **argv, struct compare_args *a, cs_error *err)
{
    int rc = cli_getopt_each(cli_find_command("compare"), false, argc, argv, parse_value, a, err);
    if (rc != 0)
        return rc;
    if (argc - optind != 2)
        return cs_error_input(err, "give two reports: BASE.json NEW.json");
    const char *outputs[] = {a->md, a->json};
    for (size_t i = 0; i < 2; i++)
        if (outputs[i] && rep_output_check(outputs[i], err) < 0)
            return cs_error_mark_input(err);
    return 0;
}

/* The table on the terminal, then --md and --json. */
static int write_outputs(const struct rep_comparison *cmp, const struct compare_args *a,
                         cs_error *err)
{
    bool stdout_taken = (a->md && !strcmp(a->md, "-")) || (a->json && !strcmp(a->json, "-"));
    _cleanup_buf_ struct rep_buf b = {0};
    rep_comparison_text(cmp, &b);
    fputs(b.data ? b.data : "", stdout_taken ? stderr : stdout);
    const struct {
        const char *path;
        void (*render)(const struct rep_comparison *, struct rep_buf *);
    } outs[] = {{a->md, rep_comparison_markdown}, {a->json, rep_comparison_json}};
    for (size_t i = 0; i < 2; i++) {
        if (!outs[i].path)
            continue;
        _cleanup_buf_ struct rep_buf ob = {0};
        outs[i].render(cmp, &ob);
        if (rep_write_file(outs[i].path, ob.data ? ob.data : "", ob.len, err) < 0)
            return cs_error_mark_input(err);
    }
    return 0;
}

int cmd_compare(int argc, char **argv, cs_error *err)
{
    struct compare_args a = {
        .co = {.threshold_pct = 5, .alpha = 0.05, .min_time_us = 1000, .min_bytes = 1048576}};
    int rc = parse(argc, argv, &a, err);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    _cleanup_report_ struct rep_report base = {0};
    _cleanup_report_ struct rep_report cur = {0};
    if (rep_json_load(argv[optind], &base, err) < 0 ||
        rep_json_load(argv[optind + 1], &cur, err) < 0)
        return cs_error_mark_input(err);
    _cleanup_comparison_ struct rep_comparison cmp = {0};
    if (prof_compare(&base, &cur, &a.co, &cmp) < 0)
        return cs_error_set(err, ENOMEM, "out of memory");
    if (cmp.n_oks == 0) /* nothing compared is not "no regression" */
        return cs_error_input(err, "the two reports have no target in common (compare matches "
                                   "targets by name; rename one with --name when measuring)");
    if (write_outputs(&cmp, &a, err) < 0)
        return -1;
    return cmp.regressions ? 3 : 0;
}
