/* coldstart merge A.json B.json ... -o OUT.json */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/cli/commands.h"
#include "reports/merge.h"
#include "reports/output.h"

int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        if (c == 'o') {
            out = optarg;
        } else if (c == 'h') {
            printf("Usage: coldstart merge A.json B.json... -o OUT.json\n\n"
                   "Combines reports (CI matrix jobs, several machines) into one; each target\n"
                   "keeps the host it was measured on. The result feeds report and compare.\n");
            return 0;
        } else {
            return usage_error("merge", "usage: coldstart merge A.json B.json... -o OUT.json");
        }
    }
    if (!out)
        return usage_error("merge", "-o OUT.json is required");
    if (argc - optind < 1)
        return usage_error("merge", "give at least one report to merge");
    cs_error err;
    if (rep_output_check(out, &err) < 0)
        return usage_error("merge", err.msg);
    char *text = rep_merge((const char *const *)argv + optind, (size_t)(argc - optind), &err);
    if (!text)
        return usage_error("merge", err.msg);
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (withnl) {
        text = withnl;
        text[len++] = '\n';
        text[len] = '\0';
    }
    int rc = rep_write_file(out, text, len, &err);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "coldstart merge: %s\n", err.msg);
        return 2;
    }
    return 0;
}
