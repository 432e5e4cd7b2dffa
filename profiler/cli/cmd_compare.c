/* coldstart compare BASE.json NEW.json: regression check between two reports. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/cli/commands.h"
#include "profiler/analysis/compare.h"
#include "profiler/analysis/units.h"
#include "reports/output.h"
#include "reports/report_json.h"

static void compare_usage(FILE *out)
{
    fprintf(out, "Usage: coldstart compare [OPTIONS] BASE.json NEW.json\n"
                 "\n"
                 "Per target (matched by name) and metric: base p50, new p50, change, and a\n"
                 "Mann-Whitney U test on the per-run values. A regression is a change worse\n"
                 "than --threshold with p < --alpha. Exit 3 when there is one, else 0.\n"
                 "\n"
                 "  --threshold PCT   smallest change that counts, in percent (default 5)\n"
                 "  --alpha P         significance level (default 0.05)\n"
                 "  --md F            the comparison as Markdown (- for stdout)\n"
                 "  --json F          the comparison as JSON (- for stdout)\n");
}

static int parse_double(const char *flag, const char *s, double lo, double hi, double *ret)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s %s: expected a number from %g to %g", flag, s, lo, hi);
        return usage_error("compare", msg);
    }
    *ret = v;
    return 0;
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"threshold", required_argument, NULL, 't'},
                                         {"alpha", required_argument, NULL, 'a'},
                                         {"min-time", required_argument, NULL, 'T'},
                                         {"min-memory", required_argument, NULL, 'M'},
                                         {"md", required_argument, NULL, 'm'},
                                         {"json", required_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct prof_compare_opts co = {
        .threshold_pct = 5, .alpha = 0.05, .min_time_us = 1000, .min_bytes = 1048576};
    cs_error why;
    uint64_t v;
    const char *md = NULL, *json = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (parse_double("--threshold", optarg, 0, 1e6, &co.threshold_pct))
                return 2;
            break;
        case 'a':
            if (parse_double("--alpha", optarg, 1e-12, 1, &co.alpha))
                return 2;
            break;
        case 'T':
            if (prof_parse_duration(optarg, &v, &why) < 0) {
                char msg[300];
                snprintf(msg, sizeof msg, "--min-time %s: %s", optarg, why.msg);
                return usage_error("compare", msg);
            }
            co.min_time_us = (double)v;
            break;
        case 'M':
            if (prof_parse_size(optarg, &v, &why) < 0) {
                char msg[300];
                snprintf(msg, sizeof msg, "--min-memory %s: %s", optarg, why.msg);
                return usage_error("compare", msg);
            }
            co.min_bytes = (double)v;
            break;
        case 'm':
            md = optarg;
            break;
        case 'j':
            json = optarg;
            break;
        case 'h':
            compare_usage(stdout);
            return 0;
        case ':':
            return usage_error("compare", "an option needs a value (see coldstart compare --help)");
        default:
            return usage_error("compare", "unknown option (see coldstart compare --help)");
        }
    }
    if (argc - optind != 2)
        return usage_error("compare", "give two reports: BASE.json NEW.json");
    struct rep_report base, cur;
    cs_error err;
    const char *outputs[] = {md, json};
    for (size_t i = 0; i < 2; i++)
        if (outputs[i] && rep_output_check(outputs[i], &err) < 0)
            return usage_error("compare", err.msg);
    if (rep_json_load(argv[optind], &base, &err) < 0)
        return usage_error("compare", err.msg);
    if (rep_json_load(argv[optind + 1], &cur, &err) < 0) {
        rep_report_free(&base);
        return usage_error("compare", err.msg);
    }
    struct prof_comparison cmp;
    int rc = 0;
    if (prof_compare(&base, &cur, &co, &cmp) < 0) {
        fprintf(stderr, "coldstart compare: out of memory\n");
        rc = 1;
        goto out;
    }
    if (cmp.n_rows == 0) {
        /* Nothing compared is not "no regression". */
        rc = usage_error("compare",
                         "the two reports have no target in common (compare matches targets "
                         "by name; rename one with --name when measuring)");
        goto out;
    }
    bool stdout_taken = (md && !strcmp(md, "-")) || (json && !strcmp(json, "-"));
    struct rep_buf b = {0};
    prof_comparison_text(&cmp, &b);
    fputs(b.data ? b.data : "", stdout_taken ? stderr : stdout);
    rep_buf_free(&b);
    const struct {
        const char *path;
        void (*render)(const struct prof_comparison *, struct rep_buf *);
    } outs[] = {{md, prof_comparison_markdown}, {json, prof_comparison_json}};
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        if (!outs[i].path)
            continue;
        struct rep_buf ob = {0};
        outs[i].render(&cmp, &ob);
        if (rep_write_file(outs[i].path, ob.data ? ob.data : "", ob.len, &err) < 0) {
            fprintf(stderr, "coldstart compare: %s\n", err.msg);
            rc = 2;
        }
        rep_buf_free(&ob);
    }
    if (rc == 0 && cmp.regressions)
        rc = 3;
out:
    prof_comparison_free(&cmp);
    rep_report_free(&base);
    rep_report_free(&cur);
    return rc;
}
