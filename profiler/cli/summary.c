/* What the measuring commands share: parse and resolve, the interleaved
 * round robin with its progress bar, the terminal summary and the exit code. */
#include <stdlib.h>
#include <string.h>

#include "profiler/analysis/budget.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/progress.h"
#include "profiler/cli/resolve.h"
#include "reports/render_term.h"
#include "reports/render.h"

static void print_warning(void *ctx, const char *msg)
{
    fprintf(stderr, "coldstart: warning: %s\n", msg);
}

static void print_note(void *ctx, const char *msg)
{
    fprintf(stderr, "coldstart: %s\n", msg);
}

const struct cs_sink cli_warnings = {print_warning, NULL};
static const struct cs_sink notes = {print_note, NULL};

const struct cs_sink *cli_notes(const struct prof_config *c)
{
    return c->quiet ? NULL : &notes;
}

int cli_prepare(enum cli_command cmd, int argc, char **argv, struct prof_config *ret, cs_error *err)
{
    struct cli_options o;
    cli_options_defaults(cmd, &o);
    int rc = cli_parse(cmd, argc, argv, &o, err);
    if (rc == 0)
        rc = cli_resolve(&o, &cli_warnings, ret, err);
    cli_options_free(&o);
    return rc;
}

void cli_target_free(struct cli_target *t)
{
    prof_owned_plan_free(&t->owned);
    prof_image_free(&t->img);
    prof_config_free(&t->o);
}

int cli_prepare_target(enum cli_command cmd, int argc, char **argv, struct cli_target *ret,
                       cs_error *err)
{
    int rc = cli_prepare(cmd, argc, argv, &ret->o, err);
    if (rc != 0)
        return rc;
    /* Signals are handled from here on (blocked, read when safe), so that
     * Ctrl-C while an image is extracted cleans up instead of killing us. */
    if (sbx_process_setup(err) < 0)
        return -1;
    return prof_plan_resolve(&ret->o, cli_notes(&ret->o), &ret->img, &ret->owned, err);
}

int cli_finish(struct prof_session *s, const char *cmd)
{
    cs_error err;
    if (prof_session_finish(s, &err) == 0)
        return 0;
    fprintf(stderr, "coldstart %s: %s\n", cmd, cs_error_text(&err));
    return 2;
}

void cli_run_interleaved(struct prof_session *s, const struct prof_target_plan *plans, size_t n)
{
    const struct prof_config *o = s->opts;
    struct prof_progress bar;
    prof_progress_init(&bar, o->quiet || o->no_progress, o->progress,
                       (unsigned)((o->warmup + o->runs) * n));
    bool stop = false;
    bool *given_up = calloc(n ? n : 1, sizeof *given_up);
    for (unsigned round = 0; round < o->warmup + o->runs && !stop && given_up; round++) {
        bool warm = round < o->warmup;
        int index = warm ? (int)round : (int)(round - o->warmup);
        for (size_t i = 0; i < n && !stop; i++) {
            if (given_up[i])
                continue;
            char detail[64];
            snprintf(detail, sizeof detail, warm ? "warmup %u/%u" : "run %u/%u",
                     warm ? round + 1 : round + 1 - o->warmup, warm ? o->warmup : o->runs);
            prof_progress_show(&bar, plans[i].name, detail);
            cs_error err;
            int rc = prof_session_run(s, &plans[i], &s->report.targets[i], warm, index, &err);
            prof_progress_step(&bar);
            char why[1200];
            if (rc == 1) {
                stop = true;
            } else if (prof_session_note_result(s, &s->report.targets[i], rc, &err, why,
                                                sizeof why)) {
                prof_progress_clear(&bar);
                fprintf(stderr, "coldstart %s: %s: %s\n", s->report.settings.command, plans[i].name,
                        why);
                given_up[i] = true;
                stop = s->bad_input;
            } else if (rc < 0) {
                prof_progress_clear(&bar);
                fprintf(stderr, "coldstart %s: %s run %d: %s\n", s->report.settings.command,
                        plans[i].name, index, cs_error_text(&err));
            }
        }
    }
    free(given_up);
    prof_progress_clear(&bar);
}

void cli_print_budgets(const struct prof_session *s, FILE *out)
{
    for (size_t i = 0; i < s->report.n_targets; i++) {
        const struct rep_target *t = &s->report.targets[i];
        for (size_t k = 0; k < t->n_budgets; k++)
            fprintf(out, "%s %s\n", t->budgets[k].passed ? "ok  " : "FAIL", t->budgets[k].message);
    }
}

void cli_print_comparison(const struct prof_session *s)
{
    FILE *term = cli_terminal(s);
    struct rep_buf table = {0};
    rep_render_comparison_text(&s->report, &table);
    if (table.data)
        fputs(table.data, term);
    rep_buf_free(&table);
    for (size_t i = 0; i < s->report.n_targets; i++)
        rep_term_print_failures(term, &s->report.targets[i]);
    for (size_t i = 0; i < s->report.n_targets; i++) {
        const struct rep_target *t = &s->report.targets[i];
        if (t->profile) {
            fprintf(term, "%s:\n", t->name);
            rep_term_print_profile(term, t);
        }
    }
    cli_print_budgets(s, term);
}

FILE *cli_terminal(const struct prof_session *s)
{
    const struct prof_config *o = s->opts;
    const char *outs[] = {o->json, o->md, o->html, o->csv, o->junit, o->github_benchmark};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i] && strcmp(outs[i], "-") == 0)
            return stderr;
    return stdout;
}

int cli_session_exit_code(const struct prof_session *s)
{
    if (s->interrupted_by)
        return 128 + s->interrupted_by;
    if (s->bad_input)
        return 2;
    if (s->report.n_targets == 0)
        return 1; /* nothing was measured at all */
    /* A failed target outranks a missed budget; one with no ok measured run
     * never passes. `report --budget` judges a saved report the same way. */
    size_t failed, measured;
    if (rep_report_failed_target(&s->report, &failed, &measured))
        return 1;
    return s->budget_missed ? 3 : 0;
}
