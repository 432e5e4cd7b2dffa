/* Footprint of one run, two ways:
 *
 * - the tick (every --interval, 1 ms by default) must be cheap: the cgroup's
 *   memory charge and CPU time from control files kept open, and RSS summed
 *   over the cgroup's processes from /proc/PID/statm, also kept open;
 * - the snapshot at ready is complete: RSS, threads, minor/major faults and
 *   PSS of every process through procps libproc2.
 *
 * libproc2 is not used on the tick because every procps_pids_select() also
 * reads /proc/PID/status and /proc/uptime: measured here, that alone took the
 * profiler from 2.5% to 6.5% of a core at 1 ms (bench/sampler.py). */
#ifndef COLDSTART_SAMPLER_H
#define COLDSTART_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/cgroup.h"
#include "sandbox/base/error.h"

struct prof_sample {
    uint64_t rss_bytes;    /* summed over the cgroup's processes */
    uint64_t cgroup_bytes; /* memory charged to the cgroup (page cache included) */
    uint64_t cpu_us;       /* cgroup CPU time, user + system */
    size_t tasks;          /* processes seen */
};

struct prof_snapshot {
    uint64_t rss_bytes, pss_bytes;
    uint64_t minflt, majflt; /* including reaped children's */
    uint64_t threads;
    size_t tasks;
};

struct prof_sampler;

int prof_sampler_new(struct prof_sampler **ret, cs_error *err);
void prof_sampler_free(struct prof_sampler *s);
/* The cheap tick. */
int prof_sampler_take(struct prof_sampler *s, struct sbx_cgroup *cg, struct prof_sample *ret);
/* The full snapshot (libproc2), PSS included. */
int prof_sampler_snapshot(struct prof_sampler *s, struct sbx_cgroup *cg, struct prof_snapshot *ret);
/* Closes the per-process files of the previous run. */
void prof_sampler_reset(struct prof_sampler *s);

#endif
