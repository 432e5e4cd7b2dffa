/* One function per subcommand, called by main()'s command table. Each
 * returns the process exit code (0, 1, 3 or 128+signal; see DESIGN.md), or
 * -1 with err set, which main() prints once as "coldstart CMD: message" and
 * maps to the exit code: 2 for bad usage or input, 1 otherwise. Output and
 * warnings of the command itself (tables, "wrote ...") are printed here, in
 * the command layer; the libraries below print nothing. */
#ifndef COLDSTART_COMMANDS_H
#define COLDSTART_COMMANDS_H

#include <stdio.h>

#include "profiler/cli/options.h"
#include "profiler/catalog/catalog.h"
#include "profiler/measure/config.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"
#include "sandbox/base/error.h"

int cmd_run(int argc, char **argv, cs_error *err);
int cmd_images(int argc, char **argv, cs_error *err);
int cmd_suite(int argc, char **argv, cs_error *err);
int cmd_report(int argc, char **argv, cs_error *err);
int cmd_compare(int argc, char **argv, cs_error *err);
int cmd_merge(int argc, char **argv, cs_error *err);
int cmd_size(int argc, char **argv, cs_error *err);
int cmd_sweep(int argc, char **argv, cs_error *err);

/* ---- what the measuring commands share (summary.c) ---- */

/* "coldstart: warning: ..." on stderr. */
extern const struct cs_sink cli_warnings;
/* "coldstart: building ..." on stderr, or nothing with --quiet. */
const struct cs_sink *cli_notes(const struct prof_config *c);

/* Parses and resolves a measuring command's arguments. Returns 0, 1 when
 * --help was printed, -1 with err set. */
int cli_prepare(enum cli_command cmd, int argc, char **argv, struct prof_config *ret,
                cs_error *err);

/* run, size and sweep: one target, a command or an image, and what it runs with. */
struct cli_target {
    struct prof_config o;
    struct prof_image img;
    struct prof_owned_plan owned;
};
void cli_target_free(struct cli_target *t);
#define _cleanup_target_ _cleanup_(cli_target_free)
/* cli_prepare, then the target's plan (an image is built when needed). */
int cli_prepare_target(enum cli_command cmd, int argc, char **argv, struct cli_target *ret,
                       cs_error *err);

/* The warmups of every plan, then run 1 of every plan, run 2, ... (round
 * robin, so drift on the machine hits every target alike), with a progress
 * bar. The session's report target i (added for plans[i], in order) receives
 * plans[i]'s runs. Stops early when interrupted. */
void cli_run_interleaved(struct prof_session *s, const struct prof_target_plan *plans, size_t n);
/* Where the human-readable table goes: stderr when a report is written to
 * stdout (--md - and the like), so stdout stays machine-readable. */
FILE *cli_terminal(const struct prof_session *s);
/* One line per budget checked: "ok   budget ..." or "FAIL budget ...". */
void cli_print_budgets(const struct prof_session *s, FILE *out);
/* What suite and sweep print at the end: the comparison table, failed runs
 * and budgets. */
void cli_print_comparison(const struct prof_session *s);
/* 0 all measured runs ok, 1 one failed or a target has no ok measured run,
 * 2 bad input, 3 a budget was missed, 128+N interrupted by signal N. */
int cli_session_exit_code(const struct prof_session *s);
/* A report that could not be written, after a session: printed, exit 2. */
int cli_finish(struct prof_session *s, const char *cmd);

#endif
