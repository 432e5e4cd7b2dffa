/* The report model: what a session measured, independent of how it is shown.
 * JSON is its on-disk form (report_json.c); every other format is rendered from
 * this model, so `coldstart report IN.json` reproduces any output.
 * Integers that may be absent use REP_NONE (written as JSON null). */
#ifndef COLDSTART_REPORT_H
#define COLDSTART_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/error.h"

#define REP_SCHEMA "coldstart-report/1"
#define REP_SCHEMA_MAJOR "coldstart-report/1"
#define REP_NONE INT64_MIN

enum rep_status {
    REP_OK,
    REP_TIMEOUT,
    REP_EXITED,
    REP_CRASHED,
    REP_OOM,
    REP_ERROR,
    REP_INTERRUPTED,
    REP_SLOW, /* sizing steps only: ready, but slower than --slowdown allows */
};
const char *rep_status_name(enum rep_status s);
int rep_status_parse(const char *name, enum rep_status *ret);

struct rep_series {
    uint64_t interval_us;
    size_t n, cap;
    int64_t *t_us, *rss_bytes, *cpu_us, *cgroup_bytes;
};
int rep_series_push(struct rep_series *s, int64_t t_us, int64_t rss, int64_t cpu, int64_t cg);

struct rep_count {
    char *name;
    int64_t count;
};

/* The load after ready (--load): docs/design.md "Load after ready".
 * Latencies are in microseconds with a fraction (a loopback request takes
 * tens of them); the moments are since the run's t0. */
struct rep_load {
    int64_t connections, duration_us;
    double rate; /* requests/s asked for (--rate); 0: closed loop */
    int64_t requests, errors;
    int64_t errors_connect, errors_read, errors_status, errors_timeout;
    double rps;
    double p50_us, p90_us, p99_us, p999_us, max_us;
    int64_t rss_peak_bytes, cgroup_peak_bytes, cpu_us, rss_after_bytes;
    int64_t start_us, end_us; /* end: when the load stopped (early if the target died) */
    int64_t generator_cpu_us; /* the generator's own CPU, to tell whether it kept up */
    /* --load-cmd: the command run (its {port} substituted), how it ended
     * (exit_code, or signal: REP_NONE otherwise) and the end of what it
     * printed. NULL/REP_NONE with the built-in generator. */
    char *command;
    int64_t command_exit, command_signal;
    char *command_output;
};
void rep_load_init(struct rep_load *l);

/* --burst K: docs/design.md "Burst". Every moment is since the burst's
 * t0 (the first instance's release; the run's own t0). Memory is each
 * instance's when every instance had become ready and answered its requests
 * (all K alive), so PSS shows what they share. */
struct rep_burst_instance {
    enum rep_status status;
    char *error;  /* NULL when ok */
    int64_t port; /* the {port} it was given */
    int64_t start_us, exec_us, listen_us, ready_us, first_request_us;
    int64_t cpu_to_ready_us, rss_bytes, pss_bytes, cgroup_peak_bytes;
};
struct rep_burst {
    int64_t instances;
    int64_t all_ready_us; /* REP_NONE unless every instance became ready */
    int64_t rss_sum_bytes, pss_sum_bytes;
    struct rep_burst_instance *each; /* [instances] */
    size_t n_each;
};
void rep_burst_instance_init(struct rep_burst_instance *b);
void rep_burst_free(struct rep_burst *b);
/* PSS (or RSS) per instance: the sum over the instances measured. REP_NONE without. */
int64_t rep_burst_per_instance(const struct rep_burst *b, bool pss);

/* How the target was started (docs/measurement.md "Two ways to start"):
 * at once (CLONE_VM|CLONE_VFORK, the child's own t0 just before execve) or
 * gated (a forked child released at its gate). Unknown in older reports. */
enum rep_spawn { REP_SPAWN_UNKNOWN, REP_SPAWN_AT_ONCE, REP_SPAWN_GATED };

struct rep_run {
    int index;
    bool warmup;
    enum rep_spawn spawn;
    enum rep_status status;
    int64_t exit_code; /* REP_NONE unless the target exited */
    int64_t signal;    /* REP_NONE unless killed by a signal */
    uint64_t t0_monotonic_ns;
    int64_t exec_us, listen_us, first_byte_us, ready_us;
    /* Container images: layers extracted in this run (--extract cold; the
     * clock then starts with the extraction) and the root mounted. */
    int64_t extract_us, rootfs_us;
    int64_t *requests_us;
    size_t n_requests;
    /* Until ready. user/sys as the kernel splits them (REP_NONE where it only
     * keeps a total: never split by us); cpu_to_ready_us the exact total. */
    int64_t cpu_user_us, cpu_sys_us, cpu_to_ready_us;
    int64_t rss_ready_bytes, pss_ready_bytes, rss_peak_bytes, cgroup_peak_bytes;
    int64_t minflt, majflt, threads_ready;
    int64_t processes_ready; /* processes in the run's cgroup at ready */
    int64_t stop_us;         /* stop signal sent -> every process of the run gone */
    int64_t nr_throttled, throttled_us, read_bytes;
    int64_t cached_before_bytes; /* cold/drop: the target's files still cached at spawn */
    int64_t mapped_files, mapped_file_bytes; /* distinct files mapped at ready */
    struct rep_count *mapped;                /* the largest mapped files: path -> bytes */
    size_t n_mapped;
    /* Container images: the image's bytes and files in the page cache at
     * ready (with --cache cold: what start-up read), and the files that hold
     * most of them (paths inside the image). */
    int64_t image_read_bytes, image_read_files;
    struct rep_count *image_read_top;
    size_t n_image_read_top;
    struct rep_count *image_unread_top; /* the largest files not cached at all */
    size_t n_image_unread_top;
    struct rep_count *denied_syscalls;
    size_t n_denied;
    char *error;       /* why the run is not ok; NULL when ok */
    char *output_tail; /* last lines the target printed, kept for failed runs */
    char *error_line;  /* first line it printed that names an error (out of memory,
                          fatal, error, exception, panic); NULL when none */
    struct rep_series samples;
    struct rep_load *load; /* NULL without --load */
    /* --burst: every instance; the run's own fields above are the first
     * instance's (the status the worst one's). NULL without --burst. */
    struct rep_burst *burst;
};
void rep_run_init(struct rep_run *r);
void rep_run_free(struct rep_run *r);
int rep_run_count_denied(struct rep_run *r, const char *name);
/* The same, count at once. */
int rep_run_add_denied(struct rep_run *r, const char *name, int64_t count);

struct rep_stat {
    int64_t n;
    double min, p50, mean, stddev, p90, p95, p99, max;
    double ci95_lo, ci95_hi; /* 95% CI of the median; NaN when n is too small */
    int64_t outliers;        /* values > 3.5 MAD from the median; for the terminal, not in JSON */
};

struct rep_summary_entry {
    char *metric; /* per-run name, e.g. "ready_us" */
    struct rep_stat stat;
};

struct rep_host {
    char *kernel, *cpu_model, *cgroup;
    char *cgroup_placement, *cgroup_parent; /* where the run cgroups were (docs/cgroups.md) */
    int64_t cpus, mem_total_bytes;
};

struct rep_budget_result {
    char *expr; /* "ready.p95<=300ms" */
    bool passed;
    double actual; /* the statistic's value; NaN when nothing was measured */
    char *message;
};

struct rep_sizing_step {
    int64_t limit_bytes;
    enum rep_status status;
    int64_t ready_us; /* REP_NONE when it never became ready */
    int attempt;      /* 1-based */
    /* size --load: whether the step ran the load, and what it measured
     * (REP_NONE / NaN without) */
    bool under_load;
    double load_rps, load_p99_us;
    int64_t load_errors, peak_bytes;
};

/* `coldstart size`: the smallest memory limit under which the target starts
 * and serves, found by bisection. */
struct rep_sizing {
    int64_t min_passing_bytes; /* REP_NONE: no limit passed */
    int64_t recommended_bytes; /* REP_NONE likewise */
    double margin;
    int64_t unconstrained_peak_bytes;
    /* size --load: the limits found at rest (starts and answers the requests)
     * before the search under load; the load's p99 without a limit and the
     * factor a passing step's p99 may exceed it by. REP_NONE / 0 at rest. */
    int64_t at_rest_min_bytes, at_rest_recommended_bytes;
    double unconstrained_p99_us, max_p99_factor;
    double cpus; /* --cpus, for the Kubernetes snippet; 0: none */
    /* Where the last search's verdicts contradicted each other (a limit
     * failed at or above one that passed); REP_NONE: they did not. */
    int64_t noisy_low_bytes, noisy_high_bytes;
    int64_t baseline_runs; /* unconstrained runs the thresholds come from */
    struct rep_sizing_step *steps;
    size_t n_steps;
};

/* A container image target (docs/design.md "Container images as targets"). */
struct rep_oci_image {
    char *ref;       /* as given: "oci:DIR:REF" */
    char *transport; /* "oci", "oci-archive", "docker-archive" */
    char *manifest_digest, *config_digest;
    char *runtime; /* "builtin", "crun", "runc" */
    char *extract; /* "warm" or "cold" */
    int64_t layers, compressed_bytes, unpacked_bytes, files;
};
void rep_oci_image_free(struct rep_oci_image *o);

/* --profile cpu: the target's CPU profile from exec to ready over its
 * measured runs, as collapsed stacks in folded_file (docs/design.md
 * "CPU profile of start-up"). */
struct rep_folded;
struct rep_profile {
    int64_t hz, samples, lost, runs;
    char *folded_file;   /* as written: relative to where coldstart ran */
    bool maps_from_exec; /* --profile-maps: the runs' times include V8's perf map */
    /* The stacks themselves, put here by whoever has them (the session that
     * sampled them, or `coldstart report` after checking the file a report
     * names): renderers draw from this and never open folded_file. NULL:
     * not loaded, and stacks_error says why (owned, both). */
    struct rep_folded *stacks;
    char *stacks_error;
};
void rep_profile_free(struct rep_profile *p);

struct rep_target {
    char *name;
    char **command;
    size_t n_command;
    char *image;                            /* NULL for a plain command */
    int64_t limit_memory_bytes, limit_pids; /* REP_NONE: no limit */
    double limit_cpus;                      /* 0: none */
    char *limit_cpuset;                     /* NULL: none */
    char *ready, *cache;
    int64_t size_on_disk_bytes; /* the app: the image's build output or files */
    /* What deploys: the app plus the runtime it loads (docs/images.md "Size
     * on disk and deploy size"); REP_NONE when no run was ready. */
    int64_t deploy_size_bytes;
    struct rep_host *host; /* set when merged from another machine; NULL: the report's */
    struct rep_run *runs;
    size_t n_runs;
    struct rep_summary_entry *summary;
    size_t n_summary;
    struct rep_budget_result *budgets;
    size_t n_budgets;
    struct rep_sizing *sizing;       /* NULL unless `coldstart size` made this target */
    struct rep_oci_image *oci_image; /* NULL unless the target is a container image */
    struct rep_profile *profile;     /* NULL unless --profile cpu */
};

/* How the session ran: shown in reports, kept so `coldstart report` can
 * reproduce any output from the JSON alone. */
struct rep_settings {
    char *command;   /* "run", "suite", ... */
    char *reference; /* target the comparison's ratios are relative to; NULL: first */
    int64_t runs, warmup, requests, timeout_us, interval_us;
    char *seccomp;
    bool interleaved;
    char *sweep; /* "cpus" or "memory" for `coldstart sweep`, else NULL */
    /* --load: connections (0: no load), duration, --rate (0: closed loop) and
     * --load-path (NULL: the ready path) */
    int64_t load_connections, load_duration_us;
    double load_rate;
    char *load_path;
    char *load_command; /* --load-cmd as given ({port} as is); NULL: none */
    /* --burst K (0: none; sweep --burst: the largest) and the limits of the
     * cgroup that holds each burst's instances */
    int64_t burst, burst_memory_bytes, burst_pids;
};

struct rep_report {
    char *tool_version;
    char *created; /* ISO 8601 UTC */
    struct rep_host host;
    struct rep_settings settings;
    char **skipped; /* "NAME: why" for images a suite could not run */
    size_t n_skipped;
    struct rep_target *targets;
    size_t n_targets;
};

void rep_report_free(struct rep_report *r);
#define _cleanup_report_ _cleanup_(rep_report_free)
int rep_report_add_skipped(struct rep_report *r, const char *line);
/* The run whose ready time is the median of the target's ok measured runs
 * (the one a chart of "a typical start" shows); NULL when there is none. */
const struct rep_run *rep_target_median_run(const struct rep_target *t);
/* Likewise by another per-run metric ("burst_all_ready_us": only burst runs have it). */
const struct rep_run *rep_target_median_run_by(const struct rep_target *t, const char *metric);
/* For a target measured with a warm cache, its cold twin (same name plus
 * "@cold", cache "cold"); NULL when there is none. */
const struct rep_target *rep_report_cold_twin(const struct rep_report *r,
                                              const struct rep_target *warm);
/* The comparison reference: settings.reference when present, else the first target. */
const struct rep_target *rep_report_reference(const struct rep_report *r);
/* Appends a target. The array may move: pointers to earlier targets are stale after. */
struct rep_target *rep_report_add_target(struct rep_report *r, const char *name);
struct rep_run *rep_target_add_run(struct rep_target *t);
/* Returns the new step (its load fields unset), or NULL when out of memory. */
struct rep_sizing_step *rep_sizing_add_step(struct rep_sizing *s, int64_t limit_bytes,
                                            enum rep_status status, int64_t ready_us, int attempt);
int rep_target_add_budget(struct rep_target *t, const char *expr, bool passed, double actual,
                          const char *message);
const struct rep_stat *rep_target_stat(const struct rep_target *t, const char *metric);
void rep_host_free(struct rep_host *h);

/* ---- metrics: one table for summaries, budgets and every writer ---- */

enum rep_unit { REP_UNIT_US, REP_UNIT_BYTES, REP_UNIT_COUNT, REP_UNIT_PER_S };

struct rep_metric {
    const char *key;   /* summary key and per-run name: "ready_us" */
    const char *brief; /* budget name: "ready" */
    const char *label; /* for tables: "ready" */
    enum rep_unit unit;
    int64_t (*get)(const struct rep_run *r); /* REP_NONE when absent */
    bool higher_is_better;                   /* requests/s: a drop is the regression */
    /* A metric with several values per run (burst_ready_us: one per
     * instance); NULL for the rest. Returns the count (at most cap). */
    size_t (*get_each)(const struct rep_run *r, int64_t *out, size_t cap);
};
extern const struct rep_metric rep_metrics[];
extern const size_t rep_n_metrics;
const struct rep_metric *rep_metric_find(const char *key_or_brief);
/* A figure of the load after ready (--load), not of the start. */
bool rep_metric_is_load(const struct rep_metric *m);
/* A figure of a burst (--burst) as a whole. */
bool rep_metric_is_burst(const struct rep_metric *m);
/* The metric's values in one run (up to REP_BURST_MAX for a burst); returns the count. */
#define REP_BURST_MAX 64
size_t rep_metric_run_values(const struct rep_metric *m, const struct rep_run *r, int64_t *out,
                             size_t cap);

/* Value of a metric formatted with its unit ("41.3 ms", "52.1 MiB"). */
void rep_format_value(enum rep_unit unit, double v, char *buf, size_t cap);

/* The first target with a measured run that did not end ok, or with no
 * measured run at all (what makes a live run exit 1), or NULL; with how many
 * of its measured runs failed. */
const struct rep_target *rep_report_failed_target(const struct rep_report *r, size_t *ret_failed,
                                                  size_t *ret_measured);

#endif
