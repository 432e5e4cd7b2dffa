/* coldstart sweep --cpus LIST | --memory LIST | --burst LIST (--image DIR |
 * -- CMD...): one target per value, interleaved; an ordinary report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"

struct point {
    struct sbx_limits limits;
    char name[320];
};

/* One point per value of the swept limit: NAME@cpus=0.5, NAME@memory=256MiB,
 * NAME@burst=8. */
static void make_points(const struct prof_config *o, const struct prof_target_plan *base,
                        struct point *pts, struct prof_target_plan *plans)
{
    bool cpus = strcmp(o->sweep_kind, "cpus") == 0;
    bool burst = strcmp(o->sweep_kind, "burst") == 0;
    for (size_t i = 0; i < o->n_sweep; i++) {
        pts[i].limits = o->limits;
        char value[32];
        if (burst) {
            snprintf(value, sizeof value, "%.0f", o->sweep_values[i]);
        } else if (cpus) {
            pts[i].limits.cpus = o->sweep_values[i];
            snprintf(value, sizeof value, "%g", o->sweep_values[i]);
        } else {
            pts[i].limits.memory_bytes = (uint64_t)o->sweep_values[i];
            rep_format_value(REP_UNIT_BYTES, o->sweep_values[i], value, sizeof value);
            for (char *sp = strchr(value, ' '); sp; sp = strchr(sp, ' '))
                memmove(sp, sp + 1, strlen(sp)); /* "256.0MiB" reads as one word */
        }
        snprintf(pts[i].name, sizeof pts[i].name, "%s@%s=%s", base->name, o->sweep_kind, value);
        plans[i] = *base;
        plans[i].name = pts[i].name;
        plans[i].limits = &pts[i].limits;
        plans[i].burst = burst ? (unsigned)o->sweep_values[i] : 0;
    }
}

/* With --cpus: how often each point was throttled (medians). */
static void print_throttling(const struct prof_session *s, const struct point *pts, size_t n)
{
    FILE *term = cli_terminal(s);
    for (size_t i = 0; i < n; i++) {
        const struct rep_stat *th = rep_target_stat(&s->report.targets[i], "nr_throttled");
        const struct rep_stat *tu = rep_target_stat(&s->report.targets[i], "throttled_us");
        if (th && tu) {
            char t[32];
            rep_format_value(REP_UNIT_US, tu->p50, t, sizeof t);
            fprintf(term, "%s: throttled %.0f periods, %s (medians)\n", pts[i].name, th->p50, t);
        }
    }
}

int cmd_sweep(int argc, char **argv, cs_error *err)
{
    _cleanup_target_ struct cli_target tg = {0};
    int rc = cli_prepare_target(CLI_SWEEP, argc, argv, &tg, err);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    const struct prof_config *o = &tg.o;
    const struct prof_owned_plan *owned = &tg.owned;
    size_t n = o->n_sweep;
    _cleanup_free_ struct point *pts = calloc(n, sizeof *pts);
    _cleanup_free_ struct prof_target_plan *plans = calloc(n, sizeof *plans);
    if (!pts || !plans)
        return cs_error_set(err, ENOMEM, "out of memory");
    make_points(o, &owned->plan, pts, plans);
    _cleanup_session_ struct prof_session s = {0};
    if (prof_session_open(&s, o, &cli_warnings, err) < 0)
        return -1;
    s.report.settings.command = strdup("sweep");
    s.report.settings.sweep = strdup(o->sweep_kind);
    s.report.settings.interleaved = true;
    s.report.settings.reference = strdup(pts[0].name);
    if (strcmp(o->sweep_kind, "burst") == 0) {
        double most = 0;
        for (size_t i = 0; i < n; i++)
            most = o->sweep_values[i] > most ? o->sweep_values[i] : most;
        prof_session_note_burst(&s, &o->limits, (unsigned)most);
    }
    for (size_t i = 0; i < n; i++)
        if (!prof_session_add_target(&s, &plans[i]))
            return cs_error_set(err, ENOMEM, "out of memory");
    cli_run_interleaved(&s, plans, n);
    int exit_code = cli_finish(&s, "sweep");
    cli_print_comparison(&s);
    if (strcmp(o->sweep_kind, "cpus") == 0)
        print_throttling(&s, pts, n);
    return exit_code ? exit_code : cli_session_exit_code(&s);
}
