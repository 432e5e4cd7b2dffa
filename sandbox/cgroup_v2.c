/* cgroup v2 backend: one unified directory per run cgroup. */
#include "sandbox/cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/base/fsutil.h"

static int v2_create(struct sbx_cgroup *cg, const struct sbx_limits *l, cs_error *err)
{
    const char *dir = cg->dir[0];
    if (cg_mkdir(cg->root, dir, err) < 0)
        return -1;
    char v[64];
    if (l->memory_bytes) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)l->memory_bytes);
        if (cg_write(dir, "memory.max", v, err) < 0)
            return cs_error_prefix(err, "--memory");
        if (cg_has_file(dir, "memory.swap.max") && cg_write(dir, "memory.swap.max", "0", err) < 0)
            return cs_error_prefix(err, "--memory (swap off)");
    }
    if (l->cpus > 0) {
        snprintf(v, sizeof v, "%lld 100000", (long long)(l->cpus * 100000.0 + 0.5));
        if (cg_write(dir, "cpu.max", v, err) < 0)
            return cs_error_prefix(err, "--cpus");
    }
    if (l->cpuset && cg_write(dir, "cpuset.cpus", l->cpuset, err) < 0)
        return cs_error_prefix(err, "--cpuset %s", l->cpuset);
    if (l->pids) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)l->pids);
        if (cg_write(dir, "pids.max", v, err) < 0)
            return cs_error_prefix(err, "--pids");
    }
    cg->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg->dirfd < 0)
        return cs_error_set(err, errno, "cannot open `%s`", dir);
    return 0;
}

static int v2_sample(struct sbx_cgroup *cg, uint64_t *mem, uint64_t *cpu_us)
{
    char buf[1024];
    if (cg->mem_fd < 0)
        cg->mem_fd = fs_open_at(cg->dir[0], "memory.current", O_RDONLY);
    if (cg->cpu_fd < 0)
        cg->cpu_fd = fs_open_at(cg->dir[0], "cpu.stat", O_RDONLY);
    *mem = 0;
    *cpu_us = 0;
    if (cg->mem_fd >= 0 && fs_pread_all(cg->mem_fd, buf, sizeof buf) > 0)
        *mem = strtoull(buf, NULL, 10);
    if (cg->cpu_fd >= 0 && fs_pread_all(cg->cpu_fd, buf, sizeof buf) > 0)
        fs_keyed_u64(buf, "usage_usec", cpu_us);
    return 0;
}

static uint64_t keyed(const char *dir, const char *file, const char *key)
{
    char buf[8192];
    uint64_t v = 0;
    if (fs_read_at(dir, file, buf, sizeof buf, NULL) >= 0)
        fs_keyed_u64(buf, key, &v);
    return v;
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N ..." per device. */
static uint64_t io_read_bytes(const char *dir)
{
    char buf[16384];
    if (fs_read_at(dir, "io.stat", buf, sizeof buf, NULL) < 0)
        return 0;
    uint64_t sum = 0;
    for (const char *p = buf; (p = strstr(p, "rbytes=")); p += 7)
        sum += strtoull(p + 7, NULL, 10);
    return sum;
}

static int v2_read_usage(struct sbx_cgroup *cg, struct sbx_cgroup_usage *u, cs_error *err)
{
    const char *dir = cg->dir[0];
    fs_read_u64_at(dir, "memory.current", &u->memory_bytes, NULL);
    fs_read_u64_at(dir, "memory.peak", &u->memory_peak_bytes, NULL); /* Linux 5.19+ */
    u->oom_kills = keyed(dir, "memory.events", "oom_kill");
    u->cpu_us = keyed(dir, "cpu.stat", "usage_usec");
    u->cpu_split = true; /* cpu.stat always carries both, in microseconds */
    u->cpu_user_us = keyed(dir, "cpu.stat", "user_usec");
    u->cpu_sys_us = keyed(dir, "cpu.stat", "system_usec");
    u->nr_throttled = keyed(dir, "cpu.stat", "nr_throttled");
    u->throttled_us = keyed(dir, "cpu.stat", "throttled_usec");
    u->read_bytes = io_read_bytes(dir);
    return 0;
}

static int v2_kill_all(struct sbx_cgroup *cg, cs_error *err)
{
    const char *dir = cg->dir[0];
    if (access(dir, F_OK) < 0)
        return 0;
    /* cgroup.kill (Linux 5.14+) kills atomically, forks included. Without it,
     * freeze first so no task can fork while we walk cgroup.procs. */
    if (cg_has_file(dir, "cgroup.kill")) {
        if (cg_write(dir, "cgroup.kill", "1", err) < 0)
            return -1;
    } else {
        bool frozen = cg_write(dir, "cgroup.freeze", "1", NULL) == 0;
        if (cg_kill_listed(dir, err) < 0)
            return -1;
        if (frozen)
            cg_write(dir, "cgroup.freeze", "0", NULL);
    }
    return cg_wait_empty(dir, err);
}

const struct cgroup_ops cgroup_v2_ops = {
    .name = "v2",
    .create = v2_create,
    .sample = v2_sample,
    .read_usage = v2_read_usage,
    .kill_all = v2_kill_all,
    .close_root = cg_v2_unplace,
};
