/* Shared between cgroup.c and its v1/v2 backends; not for other modules. */
#ifndef COLDSTART_CGROUP_INTERNAL_H
#define COLDSTART_CGROUP_INTERNAL_H

#include "sandbox/cgroup.h"

#define MAX_HIERARCHIES 8
#define CG_NAME_PREFIX "coldstart-"

enum controller_bit {
    CTL_MEMORY = 1 << 0,
    CTL_CPU = 1 << 1,
    CTL_CPUACCT = 1 << 2,
    CTL_CPUSET = 1 << 3,
    CTL_PIDS = 1 << 4,
    CTL_FREEZER = 1 << 5,
    CTL_BLKIO = 1 << 6, /* v2: io */
};

/* v1: one hierarchy may carry several controllers (cpu,cpuacct co-mounted). */
struct hierarchy {
    unsigned controllers; /* controller_bit mask */
    char *parent_dir;     /* absolute: where run cgroups are created */
};

struct cgroup_ops {
    const char *name;
    int (*create)(struct sbx_cgroup *cg, const struct sbx_limits *limits, cs_error *err);
    int (*sample)(struct sbx_cgroup *cg, uint64_t *mem, uint64_t *cpu_us);
    int (*read_usage)(struct sbx_cgroup *cg, struct sbx_cgroup_usage *u, cs_error *err);
    /* Sends SIGKILL to every task; returns once none is left or fails. */
    int (*kill_all)(struct sbx_cgroup *cg, cs_error *err);
    /* Hands back what opening the root changed; NULL when nothing. */
    int (*close_root)(struct sbx_cgroup_root *root, cs_error *err);
    /* v1 serves cgroup.procs from a pid list cached per open file (rebuilt
     * only when the file is opened again, or after a second unused), so a
     * re-read of a kept-open fd misses every process forked since: v1 reopens
     * it on every read, v2 (which walks the live task list) keeps it open. */
    bool procs_list_cached;
};

struct sbx_cgroup_root {
    enum sbx_cgroup_version version;
    const struct cgroup_ops *ops;
    struct hierarchy hier[MAX_HIERARCHIES]; /* v2: exactly one */
    size_t n_hier;
    unsigned available; /* controllers we may use */
    unsigned next_id;
    const char *placement; /* "delegated", "systemd-scope", "root-subtree", "parent" */
    char *parent_path;     /* the parent as a cgroup path ("/a/b"), for the report */
    /* v2: when the profiler had to move itself into a leaf, the cgroup it came
     * from (to move back on close) and the leaf (to remove). Owned. */
    char *v2_origin_dir;
    char *v2_leaf_dir;
    unsigned v2_enabled;            /* controllers we enabled in subtree_control */
    sbx_fake_kernel_fn fake_kernel; /* tests only; NULL on a real hierarchy */
    void *fake_kernel_data;
    /* A burst group's inside: its run cgroups go into every hierarchy the
     * group has, so that the group's limits bind them (v1). */
    bool every_hierarchy;
};

struct sbx_cgroup {
    struct sbx_cgroup_root *root; /* not owned */
    char name[64];
    char *dir[MAX_HIERARCHIES]; /* per hierarchy of root, NULL where not created */
    int dirfd;                  /* v2 only, for CLONE_INTO_CGROUP */
    /* Kept open for the sampler (-1 until first use). */
    int mem_fd, cpu_fd, procs_fd;
    /* The folder holding cgroup.procs, kept open: v1 reopens the file every
     * tick, and openat from here costs one open, not a path walk twice. */
    int procs_dir_fd;
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

/* Directory of the hierarchy holding controller `bit`, or NULL. */
const char *cg_dir_for(const struct sbx_cgroup *cg, unsigned bit);
/* Pids in dir/cgroup.procs into buf; returns the count (may exceed cap). */
ssize_t cg_read_pids(const char *dir, pid_t *buf, size_t cap, cs_error *err);
/* Sends SIGKILL to every pid listed in dir/cgroup.procs; returns how many were listed. */
int cg_kill_listed(const char *dir, cs_error *err);
/* Waits (bounded) until dir/cgroup.procs is empty, reaping children meanwhile. */
int cg_wait_empty(const char *dir, cs_error *err);
/* Writes `value` to dir/file. */
int cg_write(const char *dir, const char *file, const char *value, cs_error *err);
bool cg_has_file(const char *dir, const char *file);
/* mkdir of a run cgroup directory (and the fake-kernel hook in tests). */
int cg_mkdir(const struct sbx_cgroup_root *root, const char *dir, cs_error *err);
/* Walks the components of a cgroup path ("/a//b/"): returns the next one and
 * its length, advancing *cursor; NULL after the last. */
const char *cg_path_next(const char **cursor, size_t *len);

/* The profiler's own v2 cgroup ("/a/b") from /proc/self/cgroup. */
int cg_self_v2_path(char *buf, size_t cap, cs_error *err);

/* v2 placement (cgroup_v2_place.c): chooses the parent of the run cgroups
 * below `mount` for a profiler in `self` ("/a/b"), `parent` from
 * --cgroup-parent or NULL, and prepares it (controllers enabled). */
#define CG_PLACE_NO_SYSTEMD 1u
int cg_v2_place(struct sbx_cgroup_root *root, const char *mount, const char *self,
                const char *parent, unsigned flags, cs_error *err);
/* Undoes what placement changed in the profiler's own cgroup. */
int cg_v2_unplace(struct sbx_cgroup_root *root, cs_error *err);
/* Enables in dir's cgroup.subtree_control those of `bits` not on yet (the
 * ones it enabled in *ret_added, may be NULL). */
int cg_v2_enable_controllers(const char *dir, unsigned bits, unsigned *ret_added, cs_error *err);
/* "+memory +cpu" (sign '+') or "-memory -cpu" for a controller mask. */
void cg_v2_controller_list(unsigned bits, char sign, char *buf, size_t cap);

#endif
