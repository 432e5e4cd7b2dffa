/* cgroup v2 backend against a fake cgroupfs: a plain directory tree shaped
 * like /sys/fs/cgroup, whose "kernel" (the hook below) creates control files
 * on mkdir. This machine runs v1, so v2 is checked here, file by file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sandbox/cgroup.h"

static const char *const v2_files[] = {
    "cgroup.procs",
    "cgroup.kill",
    "cgroup.type",
    "cgroup.controllers",
    "cgroup.subtree_control",
    "memory.max",
    "memory.swap.max",
    "memory.current",
    "memory.peak",
    "memory.events",
    "cpu.max",
    "cpu.stat",
    "cpuset.cpus",
    "pids.max",
    "io.stat",
    NULL,
};

static void put(const char *dir, const char *file, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *get(const char *dir, const char *file)
{
    static char buf[4096];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static void fake_kernel(const char *dir, bool created, void *data)
{
    (void)data;
    for (size_t i = 0; v2_files[i]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, v2_files[i]);
        if (created)
            close(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
        else
            unlink(path);
    }
    if (created) {
        put(dir, "memory.current", "1048576\n");
        put(dir, "memory.peak", "4194304\n");
        put(dir, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        put(dir, "cpu.stat",
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
            "nr_periods 10\nnr_throttled 4\nthrottled_usec 2500\n");
        put(dir, "io.stat", "8:0 rbytes=4096 wbytes=0 rios=1\n8:16 rbytes=8192 wbytes=0\n");
    }
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        rm_rf(p);
    }
    closedir(d);
    rmdir(path);
}

int main(void)
{
    char mount[] = "/tmp/coldstart-fakecg-XXXXXX";
    CHECK(mkdtemp(mount) != NULL);
    char self[4096];
    snprintf(self, sizeof self, "%s/user.slice/session", mount);
    char mk[4200];
    snprintf(mk, sizeof mk, "%s/user.slice", mount);
    mkdir(mk, 0755);
    mkdir(self, 0755);
    fake_kernel(self, true, NULL);
    put(self, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put(self, "cgroup.subtree_control", "");
    char pid[32];
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    put(self, "cgroup.procs", pid); /* we share our cgroup: must move into a leaf */

    struct sbx_cgroup_root *root = NULL;
    cs_error err;
    int rc = sbx_cgroup_root_open_v2(mount, "/user.slice/session", fake_kernel, NULL, &root, &err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK(rc == 0);
    CHECK_INT(sbx_cgroup_root_version(root), SBX_CGROUP_V2);
    /* The profiler moved itself into a leaf and enabled the controllers. */
    char leaf[4300];
    snprintf(leaf, sizeof leaf, "%s/coldstart-%ld-profiler", self, (long)getpid());
    char pid_nonl[32];
    snprintf(pid_nonl, sizeof pid_nonl, "%ld", (long)getpid());
    CHECK_STR(get(leaf, "cgroup.procs"), pid_nonl);
    const char *sub = get(self, "cgroup.subtree_control");
    CHECK(strstr(sub, "+memory") && strstr(sub, "+cpu") && strstr(sub, "+pids") &&
          strstr(sub, "+cpuset") && strstr(sub, "+io"));

    struct sbx_limits lim = {.memory_bytes = 64 << 20, .cpus = 0.5, .cpuset = "0-1", .pids = 32};
    struct sbx_cgroup *cg = NULL;
    CHECK(sbx_cgroup_create(root, &lim, &cg, &err) == 0);
    char run[4300];
    snprintf(run, sizeof run, "%s/coldstart-%ld-1", self, (long)getpid());
    CHECK_STR(sbx_cgroup_path(cg), run);
    CHECK_STR(get(run, "memory.max"), "67108864");
    CHECK_STR(get(run, "memory.swap.max"), "0");
    CHECK_STR(get(run, "cpu.max"), "50000 100000");
    CHECK_STR(get(run, "cpuset.cpus"), "0-1");
    CHECK_STR(get(run, "pids.max"), "32");
    CHECK(sbx_cgroup_dirfd(cg) >= 0); /* for clone3(CLONE_INTO_CGROUP) */

    uint64_t mem, cpu;
    CHECK(sbx_cgroup_sample(cg, &mem, &cpu) == 0);
    CHECK_INT(mem, 1048576);
    CHECK_INT(cpu, 1500);
    struct sbx_cgroup_usage u;
    CHECK(sbx_cgroup_read_usage(cg, &u, &err) == 0);
    CHECK_INT(u.memory_peak_bytes, 4194304);
    CHECK_INT(u.cpu_user_us, 1000);
    CHECK_INT(u.cpu_sys_us, 500);
    CHECK_INT(u.nr_throttled, 4);
    CHECK_INT(u.throttled_us, 2500);
    CHECK_INT(u.oom_kills, 1);
    CHECK_INT(u.read_bytes, 12288);

    /* Teardown writes cgroup.kill and removes the directory. */
    CHECK(sbx_cgroup_destroy(cg, &err) == 0);
    struct stat st;
    CHECK(stat(run, &st) < 0 && errno == ENOENT);

    sbx_cgroup_root_close(root);

    /* A stale run cgroup of a dead profiler is reaped at start. */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char stale[4300];
    snprintf(stale, sizeof stale, "%s/coldstart-%ld-7", self, (long)dead);
    mkdir(stale, 0755);
    fake_kernel(stale, true, NULL);
    char other[4300];
    snprintf(other, sizeof other, "%s/not-ours", self);
    mkdir(other, 0755);
    put(self, "cgroup.procs", ""); /* now the profiler is not in its own cgroup */
    put(self, "cgroup.subtree_control", "memory cpu pids");
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/session", fake_kernel, NULL, &root, &err) ==
          0);
    unsigned reaped = 0;
    CHECK(sbx_cgroup_reap_stale(root, &reaped, &err) == 0);
    CHECK_INT(reaped, 1);
    CHECK(stat(stale, &st) < 0);
    CHECK(stat(other, &st) == 0); /* never touch what is not ours */
    sbx_cgroup_root_close(root);

    /* Without delegation (no controllers offered) the error says what to do. */
    put(self, "cgroup.controllers", "");
    put(self, "cgroup.subtree_control", "");
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/session", fake_kernel, NULL, &root, &err) ==
          0);
    struct sbx_limits mem_only = {.memory_bytes = 1 << 30};
    CHECK(sbx_cgroup_create(root, &mem_only, &cg, &err) < 0);
    CHECK(strstr(err.msg, "memory cgroup controller"));
    sbx_cgroup_root_close(root);

    rm_rf(mount);
    CHECK_DONE();
}
