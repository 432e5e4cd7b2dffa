/* coldstart merge A.json B.json ... -o OUT.json */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/cli/commands.h"
#include "profiler/cli/usage.h"
#include "reports/merge.h"
#include "reports/output.h"

static int parse_value(int c, const char *arg, void *ctx, cs_error *err)
{
    if (c == 'o')
        *(const char **)ctx = arg;
    return 0;
}

int cmd_merge(int argc, char **argv, cs_error *err)
{
    const char *out = NULL;
    int rc = cli_getopt_each(cli_find_command("merge"), false, argc, argv, parse_value, &out, err);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    if (!out)
        return cs_error_input(err, "-o OUT.json is required");
    if (argc - optind < 1)
        return cs_error_input(err, "give at least one report to merge");
    if (rep_output_check(out, err) < 0)
        return cs_error_mark_input(err);
    _cleanup_free_ char *text =
        rep_merge((const char *const *)argv + optind, (size_t)(argc - optind), err);
    if (!text)
        return cs_error_mark_input(err);
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (withnl) {
        text = withnl;
        text[len++] = '\n';
        text[len] = '\0';
    }
    if (rep_write_file(out, text, len, err) < 0)
        return cs_error_mark_input(err);
    return 0;
}
