/* coldstart sweep --cpus LIST | --memory LIST (--image DIR | -- CMD...):
 * one target per value of the limit, interleaved; an ordinary report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/options.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"
#include "profiler/term.h"
#include "reports/render.h"

struct point {
    struct sbx_limits limits;
    char name[320];
};

int cmd_sweep(int argc, char **argv)
{
    struct prof_options o;
    prof_options_defaults(&o);
    cs_error err = {0};
    int rc = prof_options_parse(PROF_CMD_SWEEP, argc, argv, &o, &err);
    if (rc != 0) {
        prof_options_free(&o);
        return rc == 1 ? 0 : usage_error("sweep", err.msg);
    }
    struct prof_image img;
    struct prof_owned_plan owned;
    rc = prof_plan_resolve(&o, &img, &owned, &err);
    if (rc != 0) {
        if (rc == 2)
            usage_error("sweep", err.msg);
        else
            fprintf(stderr, "coldstart sweep: %s\n", err.msg);
        prof_image_free(&img);
        prof_options_free(&o);
        return rc;
    }
    size_t n = o.n_sweep;
    struct point *pts = calloc(n, sizeof *pts);
    struct prof_target_plan *plans = calloc(n, sizeof *plans);
    struct rep_target **targets = calloc(n, sizeof(struct rep_target *));
    struct prof_session s;
    int exit_code = 0;
    bool session_open = false;
    if (!pts || !plans || !targets) {
        exit_code = usage_error("sweep", "out of memory");
        goto out;
    }
    bool cpus = strcmp(o.sweep_kind, "cpus") == 0;
    for (size_t i = 0; i < n; i++) {
        pts[i].limits = o.limits;
        char value[32];
        if (cpus) {
            pts[i].limits.cpus = o.sweep_values[i];
            snprintf(value, sizeof value, "%g", o.sweep_values[i]);
        } else {
            pts[i].limits.memory_bytes = (uint64_t)o.sweep_values[i];
            rep_format_value(REP_UNIT_BYTES, o.sweep_values[i], value, sizeof value);
            for (char *sp = strchr(value, ' '); sp; sp = strchr(sp, ' '))
                memmove(sp, sp + 1, strlen(sp)); /* "256.0MiB" reads as one word */
        }
        snprintf(pts[i].name, sizeof pts[i].name, "%s@%s=%s", owned.plan.name, o.sweep_kind, value);
        plans[i] = owned.plan;
        plans[i].name = pts[i].name;
        plans[i].limits = &pts[i].limits;
    }
    if (prof_session_open(&s, &o, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        exit_code = s.bad_input ? 2 : 1;
        goto out;
    }
    session_open = true;
    s.report.settings.command = strdup("sweep");
    s.report.settings.sweep = strdup(o.sweep_kind);
    s.report.settings.interleaved = true;
    s.report.settings.reference = strdup(pts[0].name);
    for (size_t i = 0; i < n; i++)
        if (!prof_session_add_target(&s, &plans[i])) {
            exit_code = usage_error("sweep", "out of memory");
            goto out;
        }
    for (size_t i = 0; i < n; i++)
        targets[i] = &s.report.targets[i];
    prof_session_run_interleaved(&s, plans, targets, n);
    if (prof_session_finish(&s, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        exit_code = 2;
    }
    FILE *term = prof_session_terminal(&s);
    prof_session_print_comparison(&s);
    if (cpus) {
        for (size_t i = 0; i < n; i++) {
            const struct rep_stat *th = rep_target_stat(&s.report.targets[i], "nr_throttled");
            const struct rep_stat *tu = rep_target_stat(&s.report.targets[i], "throttled_us");
            if (th && tu) {
                char t[32];
                rep_format_value(REP_UNIT_US, tu->p50, t, sizeof t);
                fprintf(term, "%s: throttled %.0f periods, %s (medians)\n", pts[i].name, th->p50,
                        t);
            }
        }
    }
    if (!exit_code)
        exit_code = prof_session_exit_code(&s);
out:
    if (session_open)
        prof_session_close(&s);
    free(pts);
    free(plans);
    free(targets);
    prof_owned_plan_free(&owned);
    prof_image_free(&img);
    prof_options_free(&o);
    return exit_code;
}
