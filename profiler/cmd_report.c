/* coldstart report IN.json --format md|html|csv|junit|json [-o OUT]:
 * any output re-rendered from a JSON report alone. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "profiler/commands.h"
#include "reports/render.h"
#include "reports/report_json.h"

static void report_usage(FILE *out)
{
    fprintf(out, "Usage: coldstart report IN.json --format md|html|csv|junit|json [-o OUT]\n"
                 "\n"
                 "Renders a saved JSON report again in another format (stdout without -o).\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *format = NULL, *out = "-";
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
        case 'h':
            report_usage(stdout);
            return 0;
        case ':':
            return usage_error("report", "an option needs a value (see coldstart report --help)");
        default:
            return usage_error("report", "unknown option (see coldstart report --help)");
        }
    }
    if (optind != argc - 1)
        return usage_error("report", "give exactly one input report (see coldstart report --help)");
    if (!format)
        return usage_error("report", "--format is required: md, html, csv, junit or json");
    enum rep_format f;
    if (rep_format_parse(format, &f) < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "--format %s: use md, html, csv, junit or json", format);
        return usage_error("report", msg);
    }
    struct rep_report r;
    cs_error err;
    if (rep_json_load(argv[optind], &r, &err) < 0)
        return usage_error("report", err.msg);
    int rc = rep_render_to_file(&r, f, out, &err);
    rep_report_free(&r);
    if (rc < 0) {
        fprintf(stderr, "coldstart report: %s\n", err.msg);
        return 1;
    }
    return 0;
}
