/* Options shared by the measuring commands (run, suite, size, sweep): parsed
 * once, validated with messages that name the flag and the value. */
#ifndef COLDSTART_OPTIONS_H
#define COLDSTART_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "profiler/analysis/budget.h"
#include "sandbox/cgroup.h"
#include "sandbox/base/error.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"

struct prof_options {
    int command_kind; /* enum prof_command being parsed */
    unsigned runs, warmup;
    bool runs_set, warmup_set;
    const char *ready; /* NULL: the image's, else "exit" */
    unsigned port;     /* 0: auto, a free port per run */
    uint64_t timeout_us;
    unsigned requests;
    bool requests_set;
    const char *request_url; /* --request-url: requests after a non-HTTP readiness */
    int ok_status_min, ok_status_max; /* --ready-status, default 200-299 */
    int stop_signal;                  /* --stop-signal; 0: SIGTERM (or the image's) */
    uint64_t stop_timeout_us;         /* --stop-timeout */
    unsigned max_failures;            /* --max-failures: consecutive failed runs that stop a target */
    struct sbx_limits limits;
    const char *cgroup_parent; /* --cgroup-parent; NULL: chosen at start */
    bool memory_set, cpus_set;
    uint64_t interval_us;
    const char *cache;
    bool cache_set;
    enum sbx_seccomp_policy seccomp;
    const char *seccomp_file; /* --seccomp FILE */
    bool seccomp_set;
    enum sbx_net net;
    bool private_tmp, clean_env, strict;
    bool set_user;
    uid_t uid;
    gid_t gid;
    struct sbx_rlimit rlimits[16];
    size_t n_rlimits;
    const char **env; /* "K=V", in order given */
    size_t n_env;
    const char *cwd;
    const char *json, *md, *html, *csv, *junit, *github_benchmark;
    struct prof_budget *budgets; /* --budget and --budgets FILE, parsed */
    size_t n_budgets;
    bool quiet, progress, no_progress;
    const char *image, *variant, *name;
    char **command; /* after `--`; points into argv */
    size_t n_command;
    /* size */
    uint64_t size_min_bytes, size_max_bytes, size_precision_bytes;
    unsigned attempts;
    double margin;   /* fraction: 0.25 for 25% */
    double slowdown; /* a step passes when ready within slowdown x the unconstrained ready */
    /* sweep: the swept limit and its values, validated */
    const char *sweep_kind; /* "cpus" or "memory" */
    double sweep_values[64];
    size_t n_sweep;
    /* suite */
    const char *reference;
    char **positional; /* images for suite; points into argv */
    size_t n_positional;
};

enum prof_command { PROF_CMD_RUN, PROF_CMD_SUITE, PROF_CMD_SIZE, PROF_CMD_SWEEP };

void prof_options_defaults(struct prof_options *o);
/* Parses argv (argv[0] is the subcommand). Returns 0, 1 when --help was
 * printed, -1 with err set for bad usage. */
int prof_options_parse(enum prof_command cmd, int argc, char **argv, struct prof_options *o,
                       cs_error *err);
void prof_options_free(struct prof_options *o);
void prof_options_usage(enum prof_command cmd, FILE *out);

#endif
