/* coldstart report IN.json --format md|html|csv|junit|json [-o OUT]:
 * any output re-rendered from a JSON report alone. */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/budget.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/usage.h"
#include "reports/folded.h"
#include "reports/output.h"
#include "reports/render.h"
#include "reports/report_json.h"
#include "sandbox/base/fsutil.h"

struct report_args {
    const char *format, *out, *in, *profile_dir;
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
    else if (c == 'p')
        a->profile_dir = arg;
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

/* realpath(path) lies in the folder whose real path is dir. */
static bool below(const char *real, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(real, dir, n) == 0 && (real[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* The collapsed stacks a profiled report names, read for the renderers
 * (which do no I/O). The name comes from the report, which may come from
 * anywhere: the file is read only when it is a regular file of bounded size
 * in the report's own folder (or below it) or in --profile-dir, so a report
 * naming /etc/shadow or ../../x makes `coldstart report`, run as root, read
 * nothing. It is looked for as written (relative to where coldstart ran),
 * beside the report, and by its name in --profile-dir. */
static void load_profile(struct rep_profile *p, const char *report_path, const char *profile_dir)
{
    char report_dir[PATH_MAX], real_report_dir[PATH_MAX], real_profile_dir[PATH_MAX] = "";
    if (fs_pathf(report_dir, sizeof report_dir, NULL, "%s", report_path) < 0)
        report_dir[0] = '\0';
    char *slash = strrchr(report_dir, '/');
    if (slash)
        *(slash == report_dir ? slash + 1 : slash) = '\0';
    else
        snprintf(report_dir, sizeof report_dir, ".");
    if (!realpath(report_dir, real_report_dir))
        real_report_dir[0] = '\0';
    if (profile_dir && !realpath(profile_dir, real_profile_dir))
        real_profile_dir[0] = '\0';
    const char *name = p->folded_file ? p->folded_file : "";
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    char candidates[3][PATH_MAX];
    size_t n = 0;
    if (fs_pathf(candidates[n], PATH_MAX, NULL, "%s", name) == 0)
        n++;
    if (name[0] != '/' && fs_pathf(candidates[n], PATH_MAX, NULL, "%s/%s", report_dir, name) == 0)
        n++;
    if (profile_dir && fs_pathf(candidates[n], PATH_MAX, NULL, "%s/%s", profile_dir, base) == 0)
        n++;
    const char *outside = NULL;
    for (size_t i = 0; i < n && *name; i++) {
        char real[PATH_MAX];
        if (!realpath(candidates[i], real))
            continue;
        if (!(real_report_dir[0] && below(real, real_report_dir)) &&
            !(real_profile_dir[0] && below(real, real_profile_dir))) {
            outside = candidates[i];
            continue;
        }
        struct rep_folded *f = malloc(sizeof *f);
        cs_error e;
        if (!f || rep_folded_read(real, f, &e) < 0) {
            if (asprintf(&p->stacks_error, "%s", f ? cs_error_text(&e) : "out of memory") < 0)
                p->stacks_error = NULL;
            free(f);
            return;
        }
        p->stacks = f;
        return;
    }
    int rc = outside ? asprintf(&p->stacks_error,
                                "`%s` is outside the report's folder: not read (give "
                                "--profile-dir DIR to read collapsed stacks from DIR)",
                                name)
                     : asprintf(&p->stacks_error, "the collapsed stacks `%s` were not found%s",
                                name, profile_dir ? "" : " (give --profile-dir DIR)");
    if (rc < 0)
        p->stacks_error = NULL;
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
    for (size_t i = 0; i < r.n_targets; i++)
        if (r.targets[i].profile)
            load_profile(r.targets[i].profile, a.in, a.profile_dir);
    /* Budgets first, so a JUnit or Markdown rendering includes them. */
    FILE *term = a.format && !strcmp(a.out, "-") ? stderr : stdout;
    bool missed = check_budgets(&r, &a, term);
    if (a.format && rep_render_to_file(&r, f, a.out, err) < 0)
        return cs_error_mark_input(err);
    /* A gate on a saved report fails as the live run did: a target whose
     * runs failed is exit 1, whatever its ok runs' numbers say. */
    size_t failed, measured;
    const struct rep_target *bad =
        a.n_budgets ? rep_report_failed_target(&r, &failed, &measured) : NULL;
    if (bad) {
        fprintf(term, "FAIL %s: %zu of %zu measured runs failed%s\n", bad->name, failed, measured,
                measured == 0 ? " (none was measured)" : "");
        return 1;
    }
    return missed ? 3 : 0;
}
