/* coldstart run: N cold starts of one command or image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/cli/commands.h"
#include "profiler/catalog/catalog.h"
#include "profiler/cli/options.h"
#include "profiler/measure/plan.h"
#include "profiler/cli/progress.h"
#include "profiler/measure/session.h"
#include "profiler/term.h"

int cmd_run(int argc, char **argv)
{
    struct prof_options o;
    prof_options_defaults(&o);
    cs_error err = {0};
    int rc = prof_options_parse(PROF_CMD_RUN, argc, argv, &o, &err);
    if (rc != 0) {
        prof_options_free(&o);
        return rc == 1 ? 0 : usage_error("run", err.msg);
    }
    struct prof_image img;
    struct prof_owned_plan owned;
    rc = prof_plan_resolve(&o, &img, &owned, &err);
    if (rc != 0) {
        if (rc == 2)
            usage_error("run", err.msg);
        else
            fprintf(stderr, "coldstart run: %s\n", err.msg);
        prof_image_free(&img);
        prof_options_free(&o);
        return rc;
    }
    const struct prof_target_plan plan = owned.plan;

    struct prof_session s;
    if (prof_session_open(&s, &o, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        int code = s.bad_input ? 2 : 1;
        prof_session_close(&s);
        prof_owned_plan_free(&owned);
        prof_image_free(&img);
        prof_options_free(&o);
        return code;
    }
    int exit_code = 0;
    s.report.settings.command = strdup("run");
    struct rep_target *t = prof_session_add_target(&s, &plan);
    int total = (int)(o.warmup + o.runs);
    struct prof_progress bar;
    prof_progress_init(&bar, o.quiet || o.no_progress, o.progress, (unsigned)total);
    for (int i = 0; t && i < total; i++) {
        bool warm = i < (int)o.warmup;
        prof_progress_show(&bar, plan.name, warm ? "(warmup)" : "");
        rc = prof_session_run(&s, &plan, t, warm, warm ? i : i - (int)o.warmup, &err);
        prof_progress_step(&bar);
        if (rc == 1)
            break;
        char why[1200];
        if (prof_session_note_result(&s, t, rc, &err, why, sizeof why)) {
            prof_progress_clear(&bar);
            fprintf(stderr, "coldstart run: %s\n", why);
            break;
        }
        if (rc < 0) {
            prof_progress_clear(&bar);
            fprintf(stderr, "coldstart: run %d: %s\n", i, err.msg);
            break;
        }
    }
    prof_progress_clear(&bar);
    if (prof_session_finish(&s, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        exit_code = 2;
    }
    FILE *term = prof_session_terminal(&s);
    if (t)
        prof_term_print_target(term, t);
    prof_session_print_budgets(&s, term);
    if (s.interrupted_by)
        fprintf(stderr, "coldstart: interrupted; the report holds the runs measured so far\n");
    if (!exit_code)
        exit_code = prof_session_exit_code(&s);
    prof_session_close(&s);
    prof_owned_plan_free(&owned);
    prof_image_free(&img);
    prof_options_free(&o);
    return exit_code;
}
