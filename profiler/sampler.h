/* Footprint samples of one run: per-task RSS, faults and threads through procps
 * libproc2 (one select for all the cgroup's pids), the cgroup's own memory
 * charge and CPU time from its control files. */
#ifndef COLDSTART_SAMPLER_H
#define COLDSTART_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/cgroup.h"
#include "sandbox/error.h"

struct prof_sample {
    uint64_t rss_bytes;      /* summed over the cgroup's processes */
    uint64_t cgroup_bytes;   /* memory charged to the cgroup (page cache included) */
    uint64_t cpu_us;         /* cgroup CPU time, user + system */
    uint64_t minflt, majflt; /* including reaped children's */
    uint64_t threads;
    size_t tasks;
};

struct prof_sampler;

int prof_sampler_new(struct prof_sampler **ret, cs_error *err);
void prof_sampler_free(struct prof_sampler *s);
int prof_sampler_take(struct prof_sampler *s, struct sbx_cgroup *cg, struct prof_sample *ret);
/* PSS (smaps_rollup) summed over the cgroup's processes: costlier, taken at ready. */
int64_t prof_sampler_pss_bytes(struct prof_sampler *s, struct sbx_cgroup *cg);

#endif
