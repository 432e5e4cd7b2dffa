/* cgroup v1 backend: one directory per hierarchy (memory, cpu, cpuacct, ...). */
#include "sandbox/cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/base/fsutil.h"

/* A new v1 cpuset cgroup starts with empty cpus/mems, and no task may join it
 * until both are set: copy the parent's, or use the requested list. */
static int setup_cpuset(const char *dir, const char *parent, const char *cpus, cs_error *err)
{
    char buf[256];
    if (fs_read_at(parent, "cpuset.mems", buf, sizeof buf, err) < 0)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    if (cg_write(dir, "cpuset.mems", buf, err) < 0)
        return -1;
    if (!cpus) {
        if (fs_read_at(parent, "cpuset.cpus", buf, sizeof buf, err) < 0)
            return -1;
        buf[strcspn(buf, "\n")] = '\0';
        cpus = buf;
    }
    if (cg_write(dir, "cpuset.cpus", cpus, err) < 0)
        return cs_error_prefix(err, "--cpuset %s", cpus);
    return 0;
}

static int v1_create(struct sbx_cgroup *cg, const struct sbx_limits *l, cs_error *err)
{
    struct sbx_cgroup_root *root = cg->root;
    for (size_t i = 0; i < root->n_hier; i++) {
        if (!cg->dir[i])
            continue; /* not used by this run (skip_unused_hierarchies) */
        if (cg_mkdir(root, cg->dir[i], err) < 0)
            return -1;
        unsigned c = root->hier[i].controllers;
        const char *dir = cg->dir[i];
        if ((c & CTL_CPUSET) && setup_cpuset(dir, root->hier[i].parent_dir, l->cpuset, err) < 0)
            return -1;
        if ((c & CTL_MEMORY) && l->memory_bytes) {
            char v[32];
            snprintf(v, sizeof v, "%llu", (unsigned long long)l->memory_bytes);
            if (cg_write(dir, "memory.limit_in_bytes", v, err) < 0)
                return cs_error_prefix(err, "--memory");
            /* memsw = memory+swap; equal to the limit means no swap. Absent when
             * the kernel has swap accounting off: then swappiness 0 is the best. */
            if (cg_has_file(dir, "memory.memsw.limit_in_bytes")) {
                if (cg_write(dir, "memory.memsw.limit_in_bytes", v, err) < 0)
                    return cs_error_prefix(err, "--memory (swap off)");
            } else if (cg_has_file(dir, "memory.swappiness")) {
                cg_write(dir, "memory.swappiness", "0", NULL);
            }
        }
        if ((c & CTL_CPU) && l->cpus > 0) {
            char v[32];
            snprintf(v, sizeof v, "%lld", (long long)(l->cpus * 100000.0 + 0.5));
            if (cg_write(dir, "cpu.cfs_period_us", "100000", err) < 0 ||
                cg_write(dir, "cpu.cfs_quota_us", v, err) < 0)
                return cs_error_prefix(err, "--cpus");
        }
        if ((c & CTL_PIDS) && l->pids) {
            char v[32];
            snprintf(v, sizeof v, "%llu", (unsigned long long)l->pids);
            if (cg_write(dir, "pids.max", v, err) < 0)
                return cs_error_prefix(err, "--pids");
        }
    }
    return 0;
}

static int open_ro(const char *dir, const char *file)
{
    return fs_open_at(dir, file, O_RDONLY);
}

static uint64_t read_num_fd(int fd)
{
    char buf[64];
    if (fd < 0 || fs_pread_all(fd, buf, sizeof buf) <= 0)
        return 0;
    return strtoull(buf, NULL, 10);
}

static int v1_sample(struct sbx_cgroup *cg, uint64_t *mem, uint64_t *cpu_us)
{
    if (cg->mem_fd < 0)
        cg->mem_fd = open_ro(cg_dir_for(cg, CTL_MEMORY), "memory.usage_in_bytes");
    if (cg->cpu_fd < 0)
        cg->cpu_fd = open_ro(cg_dir_for(cg, CTL_CPUACCT), "cpuacct.usage");
    *mem = read_num_fd(cg->mem_fd);
    *cpu_us = read_num_fd(cg->cpu_fd) / 1000;
    return 0;
}

static uint64_t read_num(const char *dir, const char *file)
{
    uint64_t v = 0;
    if (!dir || fs_read_u64_at(dir, file, &v, NULL) < 0)
        return 0;
    return v;
}

static uint64_t read_keyed(const char *dir, const char *file, const char *key)
{
    char buf[8192];
    uint64_t v = 0;
    if (!dir || fs_read_at(dir, file, buf, sizeof buf, NULL) < 0)
        return 0;
    fs_keyed_u64(buf, key, &v);
    return v;
}

/* blkio.throttle.io_service_bytes: "MAJ:MIN Read N" lines per device. */
static uint64_t blkio_read_bytes(const char *dir)
{
    char buf[16384];
    if (!dir || fs_read_at(dir, "blkio.throttle.io_service_bytes", buf, sizeof buf, NULL) < 0)
        return 0;
    uint64_t sum = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char dev[32], op[16];
        unsigned long long v;
        if (sscanf(line, "%31s %15s %llu", dev, op, &v) == 3 && strcmp(op, "Read") == 0)
            sum += v;
    }
    return sum;
}

static int v1_read_usage(struct sbx_cgroup *cg, struct sbx_cgroup_usage *u, cs_error *err)
{
    const char *mem = cg_dir_for(cg, CTL_MEMORY);
    const char *acct = cg_dir_for(cg, CTL_CPUACCT);
    const char *cpu = cg_dir_for(cg, CTL_CPU);
    u->memory_bytes = read_num(mem, "memory.usage_in_bytes");
    u->memory_peak_bytes = read_num(mem, "memory.max_usage_in_bytes");
    u->oom_kills = read_keyed(mem, "memory.oom_control", "oom_kill");
    /* cpuacct.usage is the exact total (ns). The user/system split is the
     * kernel's own, from cpuacct.stat (clock ticks); cpuacct.usage_user/_sys
     * of a child cgroup read the same value twice on some kernels, so they are
     * not used, and no split is ever made up from the total. */
    u->cpu_us = read_num(acct, "cpuacct.usage") / 1000;
    if (acct && cg_has_file(acct, "cpuacct.stat")) {
        long hz = sysconf(_SC_CLK_TCK);
        if (hz <= 0)
            hz = 100;
        u->cpu_split = true;
        u->cpu_user_us = read_keyed(acct, "cpuacct.stat", "user") * 1000000 / (uint64_t)hz;
        u->cpu_sys_us = read_keyed(acct, "cpuacct.stat", "system") * 1000000 / (uint64_t)hz;
    }
    u->nr_throttled = read_keyed(cpu, "cpu.stat", "nr_throttled");
    u->throttled_us = read_keyed(cpu, "cpu.stat", "throttled_time") / 1000;
    u->read_bytes = blkio_read_bytes(cg_dir_for(cg, CTL_BLKIO));
    return 0;
}

static int freezer_set(const char *dir, const char *state, cs_error *err)
{
    if (cg_write(dir, "freezer.state", state, err) < 0)
        return -1;
    /* FREEZING is transitional; wait (bounded) until the kernel says FROZEN. */
    for (int i = 0; i < 2000; i++) {
        char buf[32];
        if (fs_read_at(dir, "freezer.state", buf, sizeof buf, err) < 0)
            return -1;
        if (strncmp(buf, state, strlen(state)) == 0)
            return 0;
        nanosleep(&(struct timespec){.tv_nsec = 500000}, NULL);
    }
    return cs_error_set(err, EBUSY, "`%s` did not reach %s", dir, state);
}

/* v1 has no cgroup.kill: freeze so nothing can fork while we kill, SIGKILL
 * every task, thaw so the signals are delivered, then wait until empty. */
static int v1_kill_all(struct sbx_cgroup *cg, cs_error *err)
{
    const char *freezer = cg_dir_for(cg, CTL_FREEZER);
    const char *any = freezer ? freezer : cg_dir_for(cg, CTL_MEMORY);
    for (size_t i = 0; !any && i < cg->root->n_hier; i++)
        any = cg->dir[i]; /* the folders that are left (the others went empty) */
    if (!any)
        return 0;
    if (access(any, F_OK) < 0)
        return 0; /* never created */
    bool frozen = freezer && freezer_set(freezer, "FROZEN", NULL) == 0;
    if (cg_kill_listed(any, err) < 0 && errno != ENOENT)
        return -1;
    if (frozen)
        freezer_set(freezer, "THAWED", NULL);
    /* Every hierarchy must be empty before rmdir; they hold the same tasks. */
    for (size_t i = 0; i < cg->root->n_hier; i++)
        if (cg->dir[i] && access(cg->dir[i], F_OK) == 0 && cg_wait_empty(cg->dir[i], err) < 0)
            return -1;
    return 0;
}

const struct cgroup_ops cgroup_v1_ops = {
    .name = "v1",
    .create = v1_create,
    .sample = v1_sample,
    .read_usage = v1_read_usage,
    .kill_all = v1_kill_all,
    .close_root = NULL,
    .procs_list_cached = true,
};
