/* One function per subcommand; main() only dispatches. Each returns the
 * process exit code (0, 1, 2, 3 or 128+signal; see DESIGN.md). */
#ifndef COLDSTART_COMMANDS_H
#define COLDSTART_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_suite(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_size(int argc, char **argv);
int cmd_sweep(int argc, char **argv);

/* Prints "coldstart: <msg>" (and a hint) to stderr; returns 2. */
int usage_error(const char *cmd, const char *msg);

#endif
