/* The options of the measuring commands (run, suite, size, sweep), as crun
 * declares them: one table per command, built from shared sections, each
 * entry with its help text. The same tables print --help and the man page
 * (usage.c), so the two cannot drift.
 *
 * Parsing (cli_parse) checks each value and stores it as a plain value: no
 * file is read, no name looked up. cli_resolve (resolve.c) then does what
 * needs the system (users, the seccomp profile, budget files, output paths,
 * ready specs) and fills the session's struct prof_config. */
#ifndef COLDSTART_CLI_OPTIONS_H
#define COLDSTART_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sandbox/base/error.h"

enum cli_command { CLI_RUN, CLI_SUITE, CLI_SIZE, CLI_SWEEP, CLI_N_MEASURING };

/* One option of a table; a NULL name with help set is a section heading. */
struct cli_option {
    const char *name; /* long name without "--" */
    char short_name;  /* 'n' for -n, or 0 */
    const char *arg;  /* value's placeholder ("N", "SIZE"), NULL for a switch */
    int key;          /* what parse_value switches on */
    const char *help; /* first line of the help; more lines separated by '\n' */
};

/* A command's page: usage line, description, its own options, then shared sections. */
struct cli_command_doc {
    const char *name;        /* "run" */
    const char *synopsis;    /* "coldstart run [OPTIONS] (--image DIR | -- CMD [ARG...])" */
    const char *summary;     /* one line for `coldstart --help` and NAME in the man page */
    const char *description; /* paragraphs, '\n'-separated */
    const struct cli_option *const *sections; /* NULL-terminated; each ends with a {0} entry */
    const char *footer;                       /* units, exit codes; or NULL */
    /* Options of other commands this one refuses with a reason, not just as unknown. */
    const struct cli_refusal {
        const char *name;
        const char *why;
    } * refused;
};

/* Budgets in the order given: an expression or a file of them. */
struct cli_budget_arg {
    bool is_file;
    const char *text;
};

struct cli_rlimit {
    int resource;
    uint64_t soft, hard;
};

/* The command line as given, each value checked but nothing resolved.
 * Strings point into argv. */
struct cli_options {
    enum cli_command cmd;
    unsigned runs, warmup;
    const char *ready;
    unsigned port;
    uint64_t timeout_us;
    unsigned requests;
    bool requests_given;
    const char *request_url;
    const char *ready_send, *ready_expect; /* --ready-send/--ready-expect with tcp:// */
    unsigned load_connections;             /* --load CONNS:DURATION; 0: no load */
    uint64_t load_duration_us;
    double load_rate; /* --rate; 0: closed loop */
    const char *load_path;
    const char *load_command; /* --load-cmd CMD; NULL: none */
    unsigned burst;           /* --burst K; 0: none */
    uint64_t burst_memory_bytes;
    unsigned burst_pids;
    unsigned profile_hz;     /* --profile cpu[:HZ]; 0: none */
    const char *profile_dir; /* --profile-dir; NULL: coldstart-profile */
    bool profile_maps;       /* --profile-maps */
    int ok_status_min, ok_status_max;
    /* --ready-retry-status: bit S-100 set for a status that means "not yet,
     * keep probing" (default 502-504). */
    uint64_t retry_status[8];
    int stop_signal;
    uint64_t stop_timeout_us;
    unsigned max_failures;
    uint64_t memory_bytes;
    double cpus;
    const char *cpuset;
    uint64_t pids;
    const char *cgroup_parent;
    uint64_t interval_us;
    const char *cache;
    const char *seccomp; /* "default", "none" or a file */
    const char *net;     /* "host", "loopback" or "none" */
    bool net_given;      /* a container image's default is loopback */
    bool private_tmp, clean_env, strict;
    const char *user; /* UID[:GID] or NAME[:GROUP], looked up by cli_resolve */
    struct cli_rlimit rlimits[16];
    size_t n_rlimits;
    const char **env;
    size_t n_env;
    const char *cwd;
    const char *json, *md, *html, *csv, *junit, *github_benchmark;
    struct cli_budget_arg *budgets;
    size_t n_budgets;
    bool quiet, progress, no_progress;
    const char *image, *variant, *name;
    const char *entrypoint, *image_cache, *runtime; /* container images */
    bool extract_cold;
    bool suite_oci;    /* suite --oci */
    bool all_variants; /* suite --variants */
    char **command;
    size_t n_command;
    uint64_t size_min_bytes, size_max_bytes, size_precision_bytes;
    unsigned attempts;
    unsigned baseline_runs; /* size --baseline-runs */
    double margin, slowdown, max_p99, min_rps;
    const char *sweep_kind;
    double sweep_values[64];
    size_t n_sweep;
    const char *reference;
    char **positional;
    size_t n_positional;
};

/* The defaults of a command (suite: --cpus 1 --memory 512Mi --requests 10;
 * size: --requests 20 --cache cold), which the command line then overrides. */
void cli_options_defaults(enum cli_command cmd, struct cli_options *o);
/* Parses argv (argv[0] is the subcommand). Returns 0, 1 when --help was
 * printed, -1 with err set (bad usage) otherwise. */
int cli_parse(enum cli_command cmd, int argc, char **argv, struct cli_options *o, cs_error *err);
void cli_options_free(struct cli_options *o);

/* The page of a measuring command. */
const struct cli_command_doc *cli_command_doc(enum cli_command cmd);

#endif
