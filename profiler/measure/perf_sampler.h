/* The CPU samples of one target (--profile cpu): software-clock
 * perf_event_open counters on the target's first process, opened while it
 * waits at its gate and enabled by its exec, inherited by every thread and
 * child it makes (one counter and ring buffer per CPU, as perf record does:
 * the kernel refuses to map an inherited counter that follows a task on
 * every CPU); each sample is the call chain (kernel and user, by frame
 * pointers) of the thread on the CPU, timed on CLOCK_MONOTONIC (the
 * milestones' clock). The ring buffer is read without blocking, on the run's
 * sampling tick; samples the kernel dropped are counted, not guessed.
 *
 * What the addresses mean is decided later (symbols.c), while the target's
 * processes are still there to read their maps from. */
#ifndef COLDSTART_PERF_SAMPLER_H
#define COLDSTART_PERF_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

/* --profile cpu: the default rate (not 1000, so sampling does not run in
 * lockstep with 1 ms timers, as perf record's default) and the bounds. */
#define PROF_PROFILE_HZ_DEFAULT 999
#define PROF_PROFILE_HZ_MAX 10000

struct perf_sample {
    uint64_t time_ns; /* CLOCK_MONOTONIC */
    pid_t pid, tid;
    uint32_t nr;    /* entries in ips (PERF_CONTEXT_* markers included) */
    size_t ips_off; /* into perf_sampler.ips */
};

/* A process the target made (PERF_RECORD_FORK) or renamed (PERF_RECORD_COMM):
 * a forked worker that never execs maps what its parent maps. */
struct perf_task {
    pid_t pid, ppid;
    char comm[16];
    bool execed; /* it ran exec after the fork: its parent's maps are not its own */
    /* /proc/PID/maps when its first sample was read: for a process gone
     * before the profile is resolved (NULL: not read, or unreadable). */
    char *maps;
    bool maps_tried;
    struct perf_maps *maps_ref; /* owns maps, shared with the tasks whose maps read alike */
};

/* A maps text kept once for every task whose maps read the same (a forked
 * worker's are its parent's): one total budget for all of them. */
struct perf_maps {
    size_t refs, len;
    uint64_t hash;
    char *text;
};

/* One CPU's counter and ring. */
struct perf_ring {
    int fd;
    void *ring;
};

struct perf_sampler {
    int fd; /* the first CPU's counter (-1: none open): what the run loop watches */
    struct perf_ring *rings;
    size_t n_rings;
    size_t ring_bytes; /* each ring's data area, a power of two */
    struct perf_sample *samples;
    size_t n_samples, cap_samples;
    uint64_t *ips;
    size_t n_ips, cap_ips;
    struct perf_task *tasks;
    size_t n_tasks, cap_tasks;
    uint64_t lost; /* samples the kernel could not write (PERF_RECORD_LOST) */
    size_t maps_bytes; /* of every kept maps text together (PERF_MAPS_BUDGET at most) */
    int hz;
    int error; /* an allocation failed: the profile is incomplete */
};

/* Opens the counter on pid (which has not exec'd yet). */
int perf_sampler_open(struct perf_sampler *p, pid_t pid, int hz, cs_error *err);
/* Copies what the ring holds into the sampler's arrays; never blocks. */
void perf_sampler_drain(struct perf_sampler *p);
/* Stops sampling (every inherited counter too), after a last drain. */
void perf_sampler_stop(struct perf_sampler *p);
void perf_sampler_close(struct perf_sampler *p);
/* What is known of pid from the records: its parent and name (NULL: nothing). */
const struct perf_task *perf_sampler_task(const struct perf_sampler *p, pid_t pid);

#endif
