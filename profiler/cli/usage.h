/* The one source of the documentation of the command line: `coldstart
 * --help`, `coldstart COMMAND --help` and the man page coldstart(1)
 * (`coldstart help --man`, installed by `make install`) are printed from the
 * same tables, so they cannot disagree. */
#ifndef COLDSTART_CLI_USAGE_H
#define COLDSTART_CLI_USAGE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "profiler/cli/options.h"

/* The page of any command, by name; NULL for none. */
const struct cli_command_doc *cli_find_command(const char *name);

void cli_print_overview(FILE *out);
void cli_print_help(const struct cli_command_doc *d, FILE *out);
/* coldstart(1) in roff (man(7)). */
void cli_print_man(FILE *out);

/* Parses argv's options against a page's table, calling value(key, optarg,
 * ctx) for each; -h/--help prints the page. Returns 0 (optind at the first
 * operand), 1 after --help, -1 with err set (bad usage) otherwise.
 * stop_at_operand: stop at the first word that is not an option. */
int cli_getopt_each(const struct cli_command_doc *d, bool stop_at_operand, int argc, char **argv,
                    int (*value)(int key, const char *arg, void *ctx, cs_error *err), void *ctx,
                    cs_error *err);

/* getopt_long tables for a page's options (plus -h/--help, key 'h'):
 * longs has room for cap entries including the terminator. Returns -1 when
 * it does not fit. A leading '+' stops at the first non-option when
 * stop_at_operand. */
int cli_getopt_tables(const struct cli_command_doc *d, bool stop_at_operand, struct option *longs,
                      size_t cap, char *shorts, size_t shorts_cap);
/* The message for getopt's ':' (a value missing) or '?' (unknown) result,
 * naming the option (and the command it belongs to, when another has it). */
int cli_getopt_error(const struct cli_command_doc *d, int c, const struct option *longs,
                     char **argv, cs_error *err);

#endif
