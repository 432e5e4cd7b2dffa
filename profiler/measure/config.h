/* What a measuring session runs with, resolved: limits and isolation in the
 * sandbox's types, the seccomp profile checked, budgets read. The command
 * line is parsed into plain values by profiler/cli/options.c and resolved into
 * this by profiler/cli/resolve.c; nothing here is parsed or read again. */
#ifndef COLDSTART_CONFIG_H
#define COLDSTART_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/analysis/budget.h"
#include "profiler/measure/load.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/spawn.h"

/* --burst: instances a run starts at once, at most (one run loop's worth). */
#define PROF_BURST_MAX 64

struct prof_config {
    unsigned runs, warmup;
    const char *ready; /* NULL: the image's, else "exit" */
    unsigned port;     /* 0: auto, a free port per run */
    uint64_t timeout_us;
    unsigned requests;
    bool requests_given;        /* --requests was on the command line (not a default) */
    struct prof_load_opts load; /* --load, --rate, --load-path */
    /* --burst K (0: none) and the limits of the cgroup holding its
     * instances (0: the defaults, docs/burst.md) */
    unsigned burst;
    uint64_t burst_memory_bytes;
    unsigned burst_pids;
    /* --profile cpu[:HZ] (0: off) and --profile-dir */
    unsigned profile_hz;
    const char *profile_dir;
    bool profile_maps;                     /* --profile-maps: Node's perf map from exec */
    const char *request_url;               /* --request-url: requests after a non-HTTP readiness */
    const char *ready_send, *ready_expect; /* tcp:// exchange; NULL: none */
    int ok_status_min, ok_status_max;      /* --ready-status, default 200-299 */
    uint64_t retry_status[8];              /* --ready-retry-status: bit S-100 per status */
    int stop_signal;                       /* --stop-signal; 0: SIGTERM */
    uint64_t stop_timeout_us;              /* --stop-timeout */
    unsigned max_failures; /* --max-failures: consecutive failed runs that stop a target */
    struct sbx_limits limits;
    const char *cgroup_parent; /* --cgroup-parent; NULL: chosen at start */
    uint64_t interval_us;
    const char *cache; /* warm, cold, drop (suite: or both) */
    enum sbx_seccomp_policy seccomp;
    const char *seccomp_file; /* --seccomp FILE, checked */
    enum sbx_net net;
    bool net_given; /* --net was on the command line; else a container image gets loopback */
    bool private_tmp, clean_env, strict;
    bool set_user;
    uid_t uid;
    gid_t gid;
    struct sbx_rlimit rlimits[16];
    size_t n_rlimits;
    const char **env; /* "K=V", in order given; owned array */
    size_t n_env;
    const char *cwd;
    const char *json, *md, *html, *csv, *junit, *github_benchmark;
    struct prof_budget *budgets; /* --budget and --budgets FILE; owned */
    size_t n_budgets;
    bool quiet, progress, no_progress;
    const char *image, *variant, *name;
    /* A container image (image is "oci:..."): --entrypoint, --image-cache,
     * --runtime, --extract cold, --user as given (resolved in the image). */
    const char *entrypoint, *image_cache, *runtime, *image_user;
    bool extract_cold;
    bool suite_oci;    /* suite --oci: the bundled images as packed OCI images */
    bool all_variants; /* suite --variants: every image's variants besides it */
    char **command;    /* after `--`; points into argv (a container image: its arguments) */
    size_t n_command;
    /* size */
    uint64_t size_min_bytes, size_max_bytes, size_precision_bytes;
    unsigned attempts;
    unsigned baseline_runs; /* size: unconstrained runs the thresholds come from */
    double margin;          /* fraction: 0.25 for 25% */
    double slowdown;        /* a step passes when ready within slowdown x the unconstrained ready */
    double max_p99;         /* size --load: a step's p99 within max_p99 x the unconstrained one */
    double min_rps;         /* size --load: a step serves min_rps x the unconstrained requests/s */
    /* sweep: the swept limit and its values */
    const char *sweep_kind; /* "cpus", "memory" or "burst" */
    double sweep_values[64];
    size_t n_sweep;
    /* suite */
    const char *reference;
    char **positional; /* image names; points into argv */
    size_t n_positional;
};

void prof_config_free(struct prof_config *c);
#define _cleanup_config_ _cleanup_(prof_config_free)

#endif
