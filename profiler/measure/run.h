/* One cold start: spawn the target in a fresh cgroup, observe it on one
 * monotonic clock until it is ready (and has answered the extra requests),
 * sample its footprint, and tear everything down. One epoll loop drives it all:
 * exec pipe, pidfd, stdout/stderr, seccomp listener, sampling timer, probe
 * socket, retry timer and the signalfd; nothing sleeps. The loop can drive
 * several runs at once. (run.c; the probe is probe.c, the output capture.c.) */
#ifndef COLDSTART_RUN_H
#define COLDSTART_RUN_H

#include <stdint.h>

#include "profiler/measure/load.h"
#include "profiler/measure/pagecache.h"
#include "profiler/measure/profile.h"
#include "profiler/measure/ready.h"
#include "profiler/measure/sampler.h"
#include "profiler/measure/output.h"
#include "reports/report.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"

struct prof_kallsyms;

struct prof_run_spec {
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const struct prof_ready *ready;
    /* Where the requests after ready go when readiness is not http:// (a log
     * line, a TCP connect); NULL: the ready spec. */
    const struct prof_ready *request_url;
    int ok_status_min, ok_status_max; /* HTTP statuses that count as success */
    const uint64_t *retry_status;     /* bit S-100: not ready yet, probe again (8 words) */
    int stop_signal;                  /* sent first at teardown (0: SIGTERM) */
    uint64_t stop_timeout_us;         /* then the whole cgroup is killed */
    uint64_t timeout_us;              /* to ready, and again for the requests after it */
    unsigned requests;                /* HTTP requests after ready */
    /* The load after the requests (NULL or no connections: none); its
     * generator's threads keep off the CPUs of `cpuset` (the target's). */
    const struct prof_load_opts *load;
    /* --load-cmd for this run ({port} substituted): run instead of the
     * generator; NULL: none. */
    const char *load_command;
    const char *cpuset;
    uint64_t interval_us; /* sampling interval; 0 = no periodic samples */
    struct sbx_cgroup_root *cgroot;
    const struct sbx_limits *limits;
    const struct sbx_seccomp *seccomp;
    const struct sbx_isolation *iso; /* NULL: none */
    struct prof_sampler *sampler;
    int signal_fd;               /* signalfd of SIGINT/SIGTERM/SIGHUP; not owned */
    int *ret_signal;             /* set to the signal that interrupted the run */
    struct prof_fileset *mapped; /* filled at ready with the files the target maps; may be NULL */
    /* A container image (iso->rootfs): mapped files are seen through the
     * target's root; the image's layer files (in layer_dirs, base first) are
     * checked in the page cache at ready; extract_ns is the extraction this
     * run made before the spawn (--extract cold), with which its clock starts. */
    const struct prof_fileset *image_files;
    const char *const *layer_dirs;
    size_t n_layers;
    uint64_t extract_ns;
    /* --profile cpu: the target is sampled at profile_hz from exec to ready
     * and the stacks are added to *profile (NULL: not profiled); the
     * kernel's symbols are read into *kallsyms on first use. */
    unsigned profile_hz;
    bool profile_maps; /* --profile-maps: the perf maps it finds are removed once read */
    struct prof_profile_acc *profile;
    struct prof_kallsyms **kallsyms;
};

/* Fills *run. Returns 0 when the run finished (its status says how), 1 when a
 * signal interrupted it (status "interrupted"), -1 when it could not be set up. */
int prof_run_once(const struct prof_run_spec *spec, struct rep_run *run, cs_error *err);

/* Several runs at once on one epoll set (a burst of cold starts): start
 * each in a loop, wait until every one has ended, finish each. The signal
 * descriptor (may be -1) interrupts every run of the loop. Each run needs a
 * sampler of its own (it keeps the run cgroup's files open). */
#define PROF_RUN_LOOP_MAX 64
struct prof_run_loop;
struct prof_run;
int prof_run_loop_new(int signal_fd, struct prof_run_loop **ret, cs_error *err);
/* Spawns the target of spec into a fresh cgroup and watches it in the loop;
 * on failure nothing is left running. spec and run must outlive the run. */
int prof_run_start(struct prof_run_loop *l, const struct prof_run_spec *spec, struct rep_run *run,
                   struct prof_run **ret, cs_error *err);
/* As prof_run_start, but the target waits before exec (its cgroup made, its
 * process prepared) until prof_run_loop_release lets every prepared run of
 * the loop go at once: a burst's instances start within microseconds of
 * each other instead of one spawn apart. */
int prof_run_prepare(struct prof_run_loop *l, const struct prof_run_spec *spec, struct rep_run *run,
                     struct prof_run **ret, cs_error *err);
void prof_run_loop_release(struct prof_run_loop *l);
/* Drives every started run until each is ready and served, failed or timed out. */
void prof_run_loop_wait(struct prof_run_loop *l);
/* A full snapshot (PSS included) of the run's processes now, between
 * prof_run_loop_wait and prof_run_finish; -1 when none is left. */
int prof_run_snapshot(struct prof_run *r, struct prof_snapshot *ret);
/* Sends the run's stop signal now, as its teardown would: a burst signals
 * all K before it waits for any, so they stop in parallel (prof_run_finish
 * then waits up to --stop-timeout from this moment). */
void prof_run_begin_stop(struct prof_run *r);
/* Records what is left to record, stops the target and removes its cgroup.
 * Returns like prof_run_once. */
int prof_run_finish(struct prof_run *r, cs_error *err);
/* Kills the processes that escaped their runs' cgroups (once every run has
 * been finished) and frees the loop. */
int prof_run_loop_free(struct prof_run_loop *l, cs_error *err);

#endif
