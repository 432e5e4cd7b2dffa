/* coldstart: the command table, and the one place that prints an error and
 * turns it into an exit code (as crun's main does with libcrun_fail_with_error). */
#include <stdio.h>
#include <string.h>

#include "profiler/cli/commands.h"
#include "profiler/cli/usage.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv, cs_error *err);
} commands[] = {
    {"run", cmd_run},       {"suite", cmd_suite},   {"size", cmd_size},       {"sweep", cmd_sweep},
    {"images", cmd_images}, {"report", cmd_report}, {"compare", cmd_compare}, {"merge", cmd_merge},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_print_overview(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        /* `coldstart help --man` prints the man page made from the same text. */
        if (argc > 2 && strcmp(argv[2], "--man") == 0)
            cli_print_man(stdout);
        else
            cli_print_overview(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("coldstart %s\n", COLDSTART_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(cmd, commands[i].name) != 0)
            continue;
        cs_error err = {0};
        int rc = commands[i].fn(argc - 1, argv + 1, &err);
        if (rc >= 0)
            return rc;
        fprintf(stderr, "coldstart %s: %s\n", cmd, cs_error_text(&err));
        if (err.status == CS_ERR_INTERRUPTED)
            return 128 + err.signo;
        return err.status == CS_ERR_INPUT ? 2 : 1;
    }
    fprintf(stderr, "coldstart: unknown command `%s` (see coldstart --help)\n", cmd);
    return 2;
}
