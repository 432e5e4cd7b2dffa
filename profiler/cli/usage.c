#include "profiler/cli/usage.h"

#include <string.h>

/* ---- the commands that do not measure: their pages ---- */

static const struct cli_option images_options[] = {
    {NULL, 0, NULL, 0, "Options of images build:"},
    {"force", 0, NULL, 'f', "build (and pack) again even when up to date"},
    {"oci", 0, NULL, 'o',
     "also pack each image as an OCI image (images/shared/oci-pack,\n"
     "umoci; a Debian minbase made by debootstrap for the runtimes,\n"
     "scratch for native binaries) into the image cache:\n"
     "~/.cache/coldstart/images/NAME, run with --image oci:...:latest"},
    {0},
};
static const struct cli_option *const images_sections[] = {images_options, NULL};

static const struct cli_option report_options[] = {
    {NULL, 0, NULL, 0, "Options:"},
    {"format", 'f', "FMT", 'f', "md, html, csv, junit, json or github-benchmark"},
    {"output", 'o', "OUT", 'o', "where to write it (default: stdout)"},
    {"budget", 0, "EXPR", 'b', "METRIC.STAT OP VALUE, checked against every target (repeatable)"},
    {"budgets", 0, "FILE", 'B', "one budget per line (# comments)"},
    {"profile-dir", 0, "DIR", 'p',
     "where a profiled report's collapsed stacks may be read from besides the report's own "
     "folder (a report names its .folded file; no other folder is read)"},
    {0},
};
static const struct cli_option *const report_sections[] = {report_options, NULL};

static const struct cli_option compare_options[] = {
    {NULL, 0, NULL, 0, "Options:"},
    {"threshold", 0, "PCT", 't', "smallest change that counts, in percent (default 5)"},
    {"alpha", 0, "P", 'a', "significance level (default 0.05)"},
    {"min-time", 0, "DUR", 'T', "time changes smaller than this never count (default 1ms)"},
    {"min-memory", 0, "SIZE", 'M', "memory changes smaller than this never count (default 1Mi)"},
    {"md", 0, "F", 'm', "the comparison as Markdown (- for stdout)"},
    {"json", 0, "F", 'j', "the comparison as JSON (- for stdout)"},
    {0},
};
static const struct cli_option *const compare_sections[] = {compare_options, NULL};

static const struct cli_option merge_options[] = {
    {NULL, 0, NULL, 0, "Options:"},
    {"output", 'o', "OUT.json", 'o', "the merged report (required)"},
    {0},
};
static const struct cli_option *const merge_sections[] = {merge_options, NULL};

static const struct cli_command_doc images_doc = {
    "images",
    "coldstart images [list | build [--force] [--oci] [NAME...]]",
    "the bundled image catalog",
    "The image catalog (folders with an image.json under images/, or under\n"
    "COLDSTART_IMAGES). `list` shows each image, its toolchain and size; `build` runs\n"
    "each manifest's build in its folder, skips up-to-date builds and images whose\n"
    "toolchain is missing.",
    images_sections,
    NULL,
    NULL};

static const struct cli_command_doc report_doc = {
    "report",
    "coldstart report IN.json [--format md|html|csv|junit|json|github-benchmark] [-o OUT] "
    "[--profile-dir DIR] "
    "[--budget EXPR]... [--budgets FILE]",
    "render a saved report again, check budgets",
    "Renders a saved (or merged) JSON report again in another format (stdout\n"
    "without -o), and checks budgets against it: exit 3 when one is missed.",
    report_sections,
    NULL,
    NULL};

static const struct cli_command_doc compare_doc = {
    "compare",
    "coldstart compare [OPTIONS] BASE.json NEW.json",
    "regression check between two reports (exit 3 on one)",
    "Per target (matched by name) and metric: base p50, new p50, change, and a\n"
    "Mann-Whitney U test on the per-run values. A regression is a change worse\n"
    "than --threshold with p < --alpha. Exit 3 when there is one, else 0.",
    compare_sections,
    NULL,
    NULL};

static const struct cli_command_doc merge_doc = {
    "merge",
    "coldstart merge A.json B.json... -o OUT.json",
    "combine reports into one",
    "Combines reports (CI matrix jobs, several machines) into one; each target\n"
    "keeps the host it was measured on. The result feeds report and compare.",
    merge_sections,
    NULL,
    NULL};

/* After the measuring commands (whose pages live in options.c), in the order
 * of `coldstart --help`. */
static const struct cli_command_doc *const other_commands[] = {
    &images_doc,
    &report_doc,
    &compare_doc,
    &merge_doc,
};

#define N_COMMANDS (CLI_N_MEASURING + sizeof other_commands / sizeof other_commands[0])

static const struct cli_command_doc *command_at(size_t i)
{
    if (i < CLI_N_MEASURING)
        return cli_command_doc((enum cli_command)i);
    return other_commands[i - CLI_N_MEASURING];
}

const struct cli_command_doc *cli_find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(command_at(i)->name, name) == 0)
            return command_at(i);
    return NULL;
}

void cli_print_overview(FILE *out)
{
    fprintf(out,
            "coldstart %s — serverless cold-start and container footprint profiler\n\nUsage:\n",
            COLDSTART_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %s\n      %s\n", command_at(i)->synopsis, command_at(i)->summary);
    fprintf(out, "\n`coldstart COMMAND --help` explains a command's options;\n"
                 "`man coldstart` has them all.\n");
}

/* "  -n, --runs N" padded to the help column; continuation lines below it. */
static void print_option(const struct cli_option *opt, FILE *out)
{
    char lhs[64];
    snprintf(lhs, sizeof lhs, "%s%c%s--%s%s%s", opt->short_name ? "-" : "",
             opt->short_name ? opt->short_name : ' ', opt->short_name ? ", " : "", opt->name,
             opt->arg ? " " : "", opt->arg ? opt->arg : "");
    const char *l = opt->short_name ? lhs : lhs + 1;
    int width = fprintf(out, "  %s", l);
    const char *help = opt->help;
    for (bool first = true; *help; first = false) {
        size_t len = strcspn(help, "\n");
        if (!first || width > 23)
            width = fprintf(out, "\n") * 0;
        fprintf(out, "%*s%.*s", 24 - width, "", (int)len, help);
        width = 0;
        help += len + (help[len] == '\n');
    }
    fputc('\n', out);
}

void cli_print_help(const struct cli_command_doc *d, FILE *out)
{
    fprintf(out, "Usage: %s\n\n%s\n\n", d->synopsis, d->description);
    for (const struct cli_option *const *sec = d->sections; *sec; sec++)
        for (const struct cli_option *opt = *sec; opt->name || opt->help; opt++) {
            if (!opt->name)
                fprintf(out, "%s\n", opt->help);
            else
                print_option(opt, out);
        }
    fprintf(out, "  -h, --help            this help\n");
    if (d->footer)
        fprintf(out, "%s\n", d->footer);
}

/* roff text: a leading '.' or '\'' would be a request, '\' an escape, '-' a hyphen. */
static void roff_text(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (i == 0 && (s[i] == '.' || s[i] == '\''))
            fputs("\\&", out);
        if (s[i] == '\\')
            fputs("\\e", out);
        else if (s[i] == '-')
            fputs("\\-", out);
        else
            fputc(s[i], out);
    }
}

static void roff_lines(FILE *out, const char *text)
{
    while (*text) {
        size_t len = strcspn(text, "\n");
        if (len == 0)
            fputs(".PP\n", out);
        else {
            roff_text(out, text, len);
            fputc('\n', out);
        }
        text += len + (text[len] == '\n');
    }
}

static void man_command(FILE *out, const struct cli_command_doc *d)
{
    fprintf(out, ".SS %s\n", d->name);
    roff_lines(out, d->synopsis);
    fputs(".PP\n", out);
    roff_lines(out, d->description);
    for (const struct cli_option *const *sec = d->sections; *sec; sec++)
        for (const struct cli_option *opt = *sec; opt->name || opt->help; opt++) {
            if (!opt->name) {
                fputs(".PP\n\\fB", out);
                roff_lines(out, opt->help);
                fputs("\\fR\n", out);
                continue;
            }
            fputs(".TP\n", out);
            if (opt->short_name)
                fprintf(out, "\\fB\\-%c\\fR, ", opt->short_name);
            fputs("\\fB\\-\\-", out);
            roff_text(out, opt->name, strlen(opt->name));
            fputs("\\fR", out);
            if (opt->arg) {
                fputs(" \\fI", out);
                roff_text(out, opt->arg, strlen(opt->arg));
                fputs("\\fR", out);
            }
            fputc('\n', out);
            roff_lines(out, opt->help);
        }
}

void cli_print_man(FILE *out)
{
    fprintf(out, ".TH COLDSTART 1 \"\" \"coldstart %s\" \"User Commands\"\n", COLDSTART_VERSION);
    fputs(".SH NAME\ncoldstart \\- serverless cold\\-start and container footprint profiler\n"
          ".SH SYNOPSIS\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        roff_lines(out, command_at(i)->synopsis);
        fputs(".br\n", out);
    }
    fputs(".SH DESCRIPTION\n"
          "coldstart starts a target in a fresh cgroup with memory and CPU limits and a seccomp\n"
          "policy, timestamps every phase from spawn to the first served HTTP request on one\n"
          "monotonic clock, samples RSS, PSS and CPU, and writes startup and footprint reports.\n"
          ".SH COMMANDS\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        man_command(out, command_at(i));
    fputs(".SH UNITS\n", out);
    roff_lines(out, cli_command_doc(CLI_RUN)->footer);
    fputs(".SH SEE ALSO\nThe README and docs/ of the source tree: docs/cgroups.md, "
          "docs/sandbox.md, docs/sizing.md, docs/ci.md.\n",
          out);
}

int cli_getopt_tables(const struct cli_command_doc *d, bool stop_at_operand, struct option *longs,
                      size_t cap, char *shorts, size_t shorts_cap)
{
    size_t n = 0, s = 0;
    shorts[s++] = stop_at_operand ? '+' : ':';
    if (stop_at_operand)
        shorts[s++] = ':';
    for (const struct cli_option *const *sec = d->sections; *sec; sec++)
        for (const struct cli_option *opt = *sec; opt->name || opt->help; opt++) {
            if (!opt->name)
                continue;
            if (n + 2 >= cap || s + 3 >= shorts_cap)
                return -1;
            longs[n++] = (struct option){opt->name, opt->arg ? required_argument : no_argument,
                                         NULL, opt->key};
            if (opt->short_name) {
                shorts[s++] = opt->short_name;
                if (opt->arg)
                    shorts[s++] = ':';
            }
        }
    longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n] = (struct option){NULL, 0, NULL, 0};
    shorts[s++] = 'h';
    shorts[s] = '\0';
    return 0;
}

/* The command whose page has the long option `name`, other than d. */
static const struct cli_command_doc *owner_of(const struct cli_command_doc *d, const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const struct cli_command_doc *o = command_at(i);
        for (const struct cli_option *const *sec = o->sections; o != d && *sec; sec++)
            for (const struct cli_option *opt = *sec; opt->name || opt->help; opt++)
                if (opt->name && strcmp(opt->name, name) == 0)
                    return o;
    }
    return NULL;
}

int cli_getopt_error(const struct cli_command_doc *d, int c, const struct option *longs,
                     char **argv, cs_error *err)
{
    const char *word = argv[optind - 1];
    if (c == ':') { /* a known option without its value */
        for (const struct option *lo = longs; lo->name; lo++)
            if (lo->val == optopt)
                return cs_error_input(err, "option `--%s` needs a value (see coldstart %s --help)",
                                      lo->name, d->name);
        return cs_error_input(err, "option `%s` needs a value (see coldstart %s --help)", word,
                              d->name);
    }
    if (optopt)
        return cs_error_input(err, "unknown option `-%c` (see coldstart %s --help)", optopt,
                              d->name);
    char name[128];
    snprintf(name, sizeof name, "%s", word + (strncmp(word, "--", 2) == 0 ? 2 : 0));
    name[strcspn(name, "=")] = '\0';
    for (const struct cli_refusal *r = d->refused; r && r->name; r++)
        if (strcmp(r->name, name) == 0)
            return cs_error_input(err, "%s", r->why);
    const struct cli_command_doc *owner = owner_of(d, name);
    if (owner)
        return cs_error_input(err, "--%s belongs to `coldstart %s` (see coldstart %s --help)", name,
                              owner->name, d->name);
    return cs_error_input(err, "unknown option `%s` (see coldstart %s --help)", word, d->name);
}

int cli_getopt_each(const struct cli_command_doc *d, bool stop_at_operand, int argc, char **argv,
                    int (*value)(int key, const char *arg, void *ctx, cs_error *err), void *ctx,
                    cs_error *err)
{
    struct option longs[96];
    char shorts[64];
    if (cli_getopt_tables(d, stop_at_operand, longs, 96, shorts, sizeof shorts) < 0)
        return cs_error_set(err, 0, "the option table of %s is too large", d->name);
    optind = 1;
    opterr = 0; /* our messages, not getopt's */
    for (int c; (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1;) {
        if (c == 'h') {
            cli_print_help(d, stdout);
            return 1;
        }
        if (c == ':' || c == '?')
            return cli_getopt_error(d, c, longs, argv, err);
        if (value(c, optarg, ctx, err) < 0)
            return -1;
    }
    return 0;
}
