/* Run cgroups: one fresh cgroup per run, below a parent chosen at start.
 *
 * cgroup v1 (one hierarchy per controller) and v2 (unified) sit behind one
 * interface; the differences live in the backend tables of cgroup_v1.c and
 * cgroup_v2.c. Names follow DESIGN.md: `coldstart-<pid>-<n>`. */
#ifndef COLDSTART_CGROUP_H
#define COLDSTART_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

enum sbx_cgroup_version { SBX_CGROUP_V1 = 1, SBX_CGROUP_V2 = 2 };

struct sbx_limits {
    uint64_t memory_bytes; /* 0: no limit. Swap is always off when set. */
    double cpus;           /* CPU quota in cores; 0: none */
    const char *cpuset;    /* "0-1,3"; NULL: inherit. Not owned. */
    uint64_t pids;         /* max tasks; 0: none */
};

struct sbx_cgroup_usage {
    uint64_t memory_bytes;      /* current charge */
    uint64_t memory_peak_bytes; /* kernel high-water mark; 0 when the kernel keeps none */
    uint64_t cpu_us;            /* user + system, exact */
    bool cpu_split;             /* the kernel gave user and system apart (below) */
    uint64_t cpu_user_us;
    uint64_t cpu_sys_us;
    uint64_t nr_throttled;
    uint64_t throttled_us;
    uint64_t oom_kills;  /* tasks killed by the memory limit */
    uint64_t read_bytes; /* block I/O read by the cgroup, where accounted */
};

struct sbx_cgroup_root; /* the profiler's own place in the hierarchy */
struct sbx_cgroup;      /* one run cgroup */

/* Finds the hierarchy of this machine (v1 or v2) and the parent of the run
 * cgroups: `parent` (--cgroup-parent, a cgroup path such as "/coldstart")
 * when given, else as docs/cgroups.md says: on v1 the profiler's own cgroup;
 * on v2 its own cgroup when delegated to it alone, a systemd scope of its
 * own, or /sys/fs/cgroup/coldstart as root. */
int sbx_cgroup_root_open(const char *parent, struct sbx_cgroup_root **ret, cs_error *err);
/* For unit tests against a fake cgroupfs (a plain directory tree): the kernel
 * fills a new cgroup with control files and empties it on rmdir; a fake tree
 * needs the test to do that. Called after mkdir (created) and before rmdir. */
typedef void (*sbx_fake_kernel_fn)(const char *dir, bool created, void *data);
/* A v2 hierarchy mounted at `mount` with the profiler's cgroup at `self`
 * ("/a/b"); used on v2 hosts (fake = NULL) and by the unit tests (which
 * never ask systemd). */
int sbx_cgroup_root_open_v2(const char *mount, const char *self, const char *parent,
                            sbx_fake_kernel_fn fake, void *fake_data, struct sbx_cgroup_root **ret,
                            cs_error *err);
/* Frees the root and hands back what opening it changed (v2: the profiler
 * back in its own cgroup, the controllers it enabled there off); -1 when
 * that failed, saying what was left behind. */
int sbx_cgroup_root_close(struct sbx_cgroup_root *root, cs_error *err);
/* For the report (DESIGN.md host.cgroup_placement, host.cgroup_parent):
 * "delegated", "systemd-scope", "root-subtree" or "parent"; the parent's
 * cgroup path ("/test", on v1 in the memory hierarchy). */
const char *sbx_cgroup_root_placement(const struct sbx_cgroup_root *root);
const char *sbx_cgroup_root_parent(const struct sbx_cgroup_root *root);
enum sbx_cgroup_version sbx_cgroup_root_version(const struct sbx_cgroup_root *root);

/* Kills and removes `coldstart-<pid>-*` cgroups whose profiler pid is dead. */
int sbx_cgroup_reap_stale(struct sbx_cgroup_root *root, unsigned *ret_reaped, cs_error *err);

/* Creates the next run cgroup with the limits applied. */
int sbx_cgroup_create(struct sbx_cgroup_root *root, const struct sbx_limits *limits,
                      struct sbx_cgroup **ret, cs_error *err);
/* A cgroup that holds the run cgroups of targets started together (a burst):
 * its limits bound all of them at once, so K instances cannot take the
 * machine down together. *ret_inner creates run cgroups inside it (with
 * sbx_cgroup_create); destroy those, close *ret_inner, then destroy the
 * group (which kills and removes whatever is still below it). */
int sbx_cgroup_create_group(struct sbx_cgroup_root *root, const struct sbx_limits *limits,
                            struct sbx_cgroup **ret_group, struct sbx_cgroup_root **ret_inner,
                            cs_error *err);
const char *sbx_cgroup_name(const struct sbx_cgroup *cg);
/* Absolute directory of the cgroup (v1: of its memory hierarchy, or the first). */
const char *sbx_cgroup_path(const struct sbx_cgroup *cg);

/* How a child enters the cgroup before exec. v2: a directory fd for
 * clone3(CLONE_INTO_CGROUP), else -1. v1 (and v2 without clone3): open
 * `cgroup.procs` fds the child writes "0" into; up to cap, count in *ret_n. */
int sbx_cgroup_dirfd(const struct sbx_cgroup *cg);
int sbx_cgroup_open_join_fds(struct sbx_cgroup *cg, int *fds, size_t cap, size_t *ret_n,
                             cs_error *err);

/* Cheap sampler read: memory charge and CPU time, from files kept open. */
int sbx_cgroup_sample(struct sbx_cgroup *cg, uint64_t *ret_memory_bytes, uint64_t *ret_cpu_us);
int sbx_cgroup_read_usage(struct sbx_cgroup *cg, struct sbx_cgroup_usage *ret, cs_error *err);
/* Process ids in the cgroup; returns the count (may exceed cap: then call again). */
ssize_t sbx_cgroup_pids(struct sbx_cgroup *cg, pid_t *buf, size_t cap, cs_error *err);

/* Kills every task, waits for them (reaping the profiler's own children), removes
 * the cgroup and frees the handle, even when a step fails. */
int sbx_cgroup_destroy(struct sbx_cgroup *cg, cs_error *err);

#endif
