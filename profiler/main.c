/* coldstart: argument dispatch only; each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "profiler/cli/commands.h"

static void usage(FILE *out)
{
    fprintf(out,
            "coldstart %s — serverless cold-start and container footprint profiler\n"
            "\n"
            "Usage:\n"
            "  coldstart run    [OPTIONS] (--image DIR | -- CMD [ARG...])\n"
            "  coldstart suite  [OPTIONS] [IMAGE...]   the main job: compare the bundled images\n"
            "  coldstart size   [OPTIONS] (--image DIR | -- CMD...)   smallest memory limit that "
            "serves\n"
            "  coldstart sweep  [OPTIONS] --cpus LIST|--memory LIST (--image DIR | -- CMD...)\n"
            "  coldstart images [list | build [--force] [NAME...]]\n"
            "  coldstart report IN.json --format md|html|csv|junit|json [-o OUT] [--budget EXPR]\n"
            "  coldstart compare BASE.json NEW.json   regression check (exit 3 on one)\n"
            "  coldstart merge A.json B.json... -o OUT.json\n"
            "\n"
            "`coldstart COMMAND --help` explains a command's options.\n",
            COLDSTART_VERSION);
}

int usage_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "coldstart%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", msg);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("coldstart %s\n", COLDSTART_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "images") == 0)
        return cmd_images(argc - 1, argv + 1);
    if (strcmp(cmd, "suite") == 0)
        return cmd_suite(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "size") == 0)
        return cmd_size(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0)
        return cmd_sweep(argc - 1, argv + 1);
    fprintf(stderr, "coldstart: unknown command `%s` (see coldstart --help)\n", cmd);
    return 2;
}
