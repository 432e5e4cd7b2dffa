/* coldstart run: N cold starts of one command or image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/progress.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"
#include "reports/render_term.h"

/* Warmups, then the measured runs, until --max-failures or an interrupt. */
static void run_all(struct prof_session *s, const struct prof_target_plan *plan,
                    struct rep_target *t)
{
    const struct prof_config *o = s->opts;
    int total = (int)(o->warmup + o->runs);
    struct prof_progress bar;
    prof_progress_init(&bar, o->quiet || o->no_progress, o->progress, (unsigned)total);
    for (int i = 0; i < total; i++) {
        bool warm = i < (int)o->warmup;
        prof_progress_show(&bar, plan->name, warm ? "(warmup)" : "");
        cs_error err;
        int rc = prof_session_run(s, plan, t, warm, warm ? i : i - (int)o->warmup, &err);
        prof_progress_step(&bar);
        if (rc == 1)
            break;
        char why[1200];
        if (prof_session_note_result(s, t, rc, &err, why, sizeof why)) {
            prof_progress_clear(&bar);
            fprintf(stderr, "coldstart run: %s\n", why);
            break;
        }
        if (rc < 0) {
            prof_progress_clear(&bar);
            fprintf(stderr, "coldstart run: run %d: %s\n", i, cs_error_text(&err));
            break;
        }
    }
    prof_progress_clear(&bar);
}

int cmd_run(int argc, char **argv, cs_error *err)
{
    _cleanup_target_ struct cli_target tg = {0};
    int rc = cli_prepare_target(CLI_RUN, argc, argv, &tg, err);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    const struct prof_target_plan plan = tg.owned.plan;

    _cleanup_session_ struct prof_session s = {0};
    if (prof_session_open(&s, &tg.o, &cli_warnings, err) < 0)
        return -1;
    s.report.settings.command = strdup("run");
    struct rep_target *t = prof_session_add_target(&s, &plan);
    if (!t)
        return cs_error_set(err, ENOMEM, "out of memory");
    run_all(&s, &plan, t);
    int exit_code = cli_finish(&s, "run");
    FILE *term = cli_terminal(&s);
    rep_term_print_target(term, t);
    cli_print_budgets(&s, term);
    if (s.interrupted_by)
        fprintf(stderr, "coldstart: interrupted; the report holds the runs measured so far\n");
    return exit_code ? exit_code : cli_session_exit_code(&s);
}
