/* One cold start: spawn the target in a fresh cgroup, observe it on one
 * monotonic clock until it is ready (and has answered the extra requests),
 * sample its footprint, and tear everything down. One epoll loop drives it all:
 * exec pipe, pidfd, stdout/stderr, seccomp listener, sampling timer, probe
 * socket, retry timer and the signalfd; nothing sleeps. */
#ifndef COLDSTART_RUN_H
#define COLDSTART_RUN_H

#include <stdint.h>

#include "profiler/measure/pagecache.h"
#include "profiler/measure/ready.h"
#include "profiler/measure/sampler.h"
#include "profiler/measure/output.h"
#include "reports/report.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"

struct prof_run_spec {
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const struct prof_ready *ready;
    /* Where the requests after ready go when readiness is not http:// (a log
     * line, a TCP connect); NULL: the ready spec. */
    const struct prof_ready *request_url;
    int ok_status_min, ok_status_max; /* HTTP statuses that count as success */
    int stop_signal;                  /* sent first at teardown (0: SIGTERM) */
    uint64_t stop_timeout_us;         /* then the whole cgroup is killed */
    uint64_t timeout_us;  /* to ready, and again for the requests after it */
    unsigned requests;    /* HTTP requests after ready */
    uint64_t interval_us; /* sampling interval; 0 = no periodic samples */
    struct sbx_cgroup_root *cgroot;
    const struct sbx_limits *limits;
    const struct sbx_seccomp *seccomp;
    const struct sbx_isolation *iso; /* NULL: none */
    struct prof_sampler *sampler;
    int signal_fd;               /* signalfd of SIGINT/SIGTERM/SIGHUP; not owned */
    int *ret_signal;             /* set to the signal that interrupted the run */
    struct prof_fileset *mapped; /* filled at ready with the files the target maps; may be NULL */
};

/* Fills *run. Returns 0 when the run finished (its status says how), 1 when a
 * signal interrupted it (status "interrupted"), -1 when it could not be set up. */
int prof_run_once(const struct prof_run_spec *spec, struct rep_run *run, cs_error *err);

#endif
