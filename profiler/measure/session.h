/* A measuring session: the machine-wide set-up every command shares (cgroup
 * root, stale-cgroup reaping, sampler, seccomp filter, signals) and one run of
 * a target plan after another, collected into a report. */
#ifndef COLDSTART_SESSION_H
#define COLDSTART_SESSION_H

#include <stdbool.h>
#include <stdio.h>

#include "profiler/measure/config.h"
#include "profiler/measure/pagecache.h"
#include "profiler/measure/sampler.h"
#include "profiler/oci/target.h"
#include "reports/report.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"

/* What to start: templates in which {port} is replaced per run. */
struct prof_target_plan {
    const char *name;
    char *const *argv;      /* NULL-terminated */
    const char *const *env; /* "K=V" overrides on top of the inherited environment */
    size_t n_env;
    const char *cwd;
    const char *ready;
    const char *image; /* image folder, or NULL */
    int64_t size_on_disk_bytes;
    const char *app_dir; /* the folder size_on_disk_bytes counts; NULL: none */
    const struct sbx_limits *limits;
    const struct prof_budget *budgets; /* the image's own budgets */
    size_t n_budgets;
    const char *cache; /* "warm", "cold" or "drop"; NULL: the options' */
    /* A container image: argv, env and cwd are the container's (env is the
     * whole environment, nothing inherited), run in its root. */
    const struct prof_oci_target *oci;
    int stop_signal; /* the image's StopSignal; 0: the options' */
    unsigned burst;  /* instances per measured run (sweep --burst); 0: the options' --burst */
};

struct prof_session {
    const struct prof_config *opts;
    struct cs_sink warn;
    struct sbx_cgroup_root *cgroot;
    struct prof_sampler *sampler;
    /* --burst: the samplers of instances 2..K (the first uses `sampler`). */
    struct prof_sampler *burst_samplers[PROF_BURST_MAX];
    struct sbx_seccomp *seccomp;
    /* --runtime crun|runc: only the listen notification (the runtime itself
     * mounts, creates keyrings, pivots; the deny list would stop it). */
    struct sbx_seccomp *seccomp_runtime;
    struct sbx_isolation iso;
    char **ro_mounts; /* owned, for iso */
    int signal_fd;
    int interrupted_by; /* signal number, 0 while not interrupted */
    struct rep_report report;
    /* Per target (same index as report.targets): its image's budgets. */
    const struct prof_budget **target_budgets;
    size_t *n_target_budgets;
    /* Per target: the files a cold start must not find cached, learned from
     * its first run (--cache cold). */
    struct prof_fileset *coldset;
    bool *coldset_learned;
    /* Per target: a container image's layer files (its page-cache use). */
    struct prof_fileset *image_files;
    /* Per target: what its ready runs mapped, and its app folder, for
     * deploy_size_bytes (deploy.h). */
    struct prof_target_deploy {
        struct prof_fileset mapped;
        char *app_dir;
    } * deploy;
    unsigned *consecutive_failures; /* per target: failed runs in a row */
    /* --profile cpu: per target, the stacks of its measured runs; the
     * kernel's symbols, read once. */
    struct prof_profile_acc *profiles;
    struct prof_kallsyms *kallsyms;
    bool budget_missed;
    bool warned_memory_cache; /* said once that a tmpfs image cache cannot be cold */
    bool
        bad_input; /* refused for bad input (a taken --port, an unusable --cgroup-parent): exit 2 */
};

/* Warnings (a stale cgroup that could not be removed) go to warn (may be NULL). */
int prof_session_open(struct prof_session *s, const struct prof_config *o,
                      const struct cs_sink *warn, cs_error *err);
/* Also for a session that was never opened (zeroed) or failed to open. */
/* settings.burst for a burst of k (sweep --burst: the largest): K and the
 * limits of the cgroup holding the instances. */
void prof_session_note_burst(struct prof_session *s, const struct sbx_limits *limits, unsigned k);
void prof_session_close(struct prof_session *s);
#define _cleanup_session_ _cleanup_(prof_session_close)
/* Adds the report's target for a plan (command, limits, ready spec, image). */
struct rep_target *prof_session_add_target(struct prof_session *s,
                                           const struct prof_target_plan *p);
/* One cold start of the plan, appended to t. Returns 0, 1 when interrupted
 * (before or during the run), -1 when it could not be set up. */
int prof_session_run(struct prof_session *s, const struct prof_target_plan *p, struct rep_target *t,
                     bool warmup, int index, cs_error *err);
/* One cold start of the plan into *ret (free with rep_run_free), not added
 * to t: a step of a search (coldstart size) that the report keeps elsewhere.
 * t is the target whose learned state (--cache cold) it uses. Returns like
 * prof_session_run. */
int prof_session_run_step(struct prof_session *s, const struct prof_target_plan *p,
                          struct rep_target *t, int index, struct rep_run *ret, cs_error *err);
/* After prof_session_run of target t returned rc: counts failures in a
 * row. Returns true (with the reason in why) when no more runs of t should be
 * made: --max-failures consecutive failures, or bad input. */
bool prof_session_note_result(struct prof_session *s, struct rep_target *t, int rc,
                              const cs_error *err, char *why, size_t cap);
/* Computes summaries, checks budgets and writes the requested reports. */
int prof_session_finish(struct prof_session *s, cs_error *err);
#endif
