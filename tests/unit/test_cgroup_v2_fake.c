/* cgroup v2 backend against a fake cgroupfs: a plain directory tree shaped
 * like /sys/fs/cgroup, whose "kernel" (the hook below) creates control files
 * on mkdir. This machine runs v1, so v2 is checked here, file by file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
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
        put(dir, "cgroup.controllers", "cpuset cpu io memory pids\n");
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

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A fake v2 root: no cgroup.type (only the real root lacks one). */
static void make_root(const char *mount)
{
    put(mount, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put(mount, "cgroup.subtree_control", "cpu memory pids\n");
    put(mount, "cgroup.procs", "1\n");
}

static void make_cgroup(const char *dir, const char *procs)
{
    mkdir(dir, 0755);
    fake_kernel(dir, true, NULL);
    put(dir, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put(dir, "cgroup.subtree_control", "");
    put(dir, "cgroup.procs", procs);
}

/* Path 4 when the profiler shares its cgroup and is not root: the error
 * lists what the user can do. Runs in a child that drops root. */
static void check_advice_without_root(const char *mount)
{
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t child = fork();
    if (child == 0) {
        close(pfd[0]);
        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
            _exit(3);
        struct sbx_cgroup_root *r = NULL;
        cs_error e;
        int rc =
            sbx_cgroup_root_open_v2(mount, "/user.slice/shared", NULL, fake_kernel, NULL, &r, &e);
        if (rc == 0)
            _exit(4);
        if (write(pfd[1], e.msg, strlen(e.msg)) < 0)
            _exit(5);
        _exit(0);
    }
    close(pfd[1]);
    char msg[1100] = "";
    ssize_t n = read(pfd[0], msg, sizeof msg - 1);
    if (n > 0)
        msg[n] = '\0';
    close(pfd[0]);
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fprintf(stderr, "advice: %s\n", msg);
    CHECK(strstr(msg, "other processes share it") != NULL);
    CHECK(strstr(msg, "only root") != NULL);
    CHECK(strstr(msg, "systemd-run --user --scope -p Delegate=yes") != NULL);
    CHECK(strstr(msg, "--cgroup-parent") != NULL);
}

int main(void)
{
    char mount[] = "/tmp/coldstart-fakecg-XXXXXX";
    CHECK(mkdtemp(mount) != NULL);
    chmod(mount, 0755); /* the unprivileged check below walks it */
    make_root(mount);
    char slice[4096], self[4096], shared[4096];
    snprintf(slice, sizeof slice, "%s/user.slice", mount);
    snprintf(self, sizeof self, "%s/user.slice/session", mount);
    snprintf(shared, sizeof shared, "%s/user.slice/shared", mount);
    make_cgroup(slice, "");
    char pid[32], pid_nonl[32], with_other[64];
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    snprintf(pid_nonl, sizeof pid_nonl, "%ld", (long)getpid());
    snprintf(with_other, sizeof with_other, "1\n%ld\n", (long)getpid());
    make_cgroup(self, pid);          /* the profiler alone: path 2 */
    make_cgroup(shared, with_other); /* shared with pid 1: not path 2 */

    /* 2. Delegated and alone: into a leaf, controllers on for the runs. */
    struct sbx_cgroup_root *root = NULL;
    cs_error err;
    int rc =
        sbx_cgroup_root_open_v2(mount, "/user.slice/session", NULL, fake_kernel, NULL, &root, &err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK(rc == 0);
    CHECK_INT(sbx_cgroup_root_version(root), SBX_CGROUP_V2);
    CHECK_STR(sbx_cgroup_root_placement(root), "delegated");
    CHECK_STR(sbx_cgroup_root_parent(root), "/user.slice/session");
    char leaf[4300];
    snprintf(leaf, sizeof leaf, "%s/coldstart-%ld-profiler", self, (long)getpid());
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
    CHECK(!exists(run));

    /* A burst's group: its limits bound the runs inside it, to which it
     * gives its controllers; runs are created below it, and it goes last. */
    struct sbx_limits glim = {.memory_bytes = 256 << 20, .pids = 100};
    struct sbx_cgroup *group = NULL, *in1 = NULL, *in2 = NULL;
    struct sbx_cgroup_root *inner = NULL;
    CHECK(sbx_cgroup_create_group(root, &glim, &group, &inner, &err) == 0);
    char gdir[4300];
    snprintf(gdir, sizeof gdir, "%s", sbx_cgroup_path(group));
    CHECK_STR(get(gdir, "memory.max"), "268435456");
    CHECK_STR(get(gdir, "pids.max"), "100");
    const char *gsub = get(gdir, "cgroup.subtree_control");
    CHECK(strstr(gsub, "+memory") && strstr(gsub, "+cpu") && strstr(gsub, "+pids"));
    CHECK(sbx_cgroup_create(inner, &lim, &in1, &err) == 0);
    CHECK(sbx_cgroup_create(inner, NULL, &in2, &err) == 0);
    char in1_dir[4400], in2_dir[4400];
    snprintf(in1_dir, sizeof in1_dir, "%s/coldstart-%ld-1", gdir, (long)getpid());
    snprintf(in2_dir, sizeof in2_dir, "%s/coldstart-%ld-2", gdir, (long)getpid());
    CHECK_STR(sbx_cgroup_path(in1), in1_dir);
    CHECK_STR(sbx_cgroup_path(in2), in2_dir);
    CHECK_STR(get(in1_dir, "memory.max"), "67108864");
    CHECK_STR(get(in1_dir, "pids.max"), "32");
    CHECK(sbx_cgroup_destroy(in1, &err) == 0);
    CHECK(sbx_cgroup_destroy(in2, &err) == 0);
    CHECK(!exists(in1_dir) && !exists(in2_dir));
    CHECK(sbx_cgroup_root_close(inner, &err) == 0); /* changes nothing in the tree */
    CHECK(exists(gdir));
    CHECK(sbx_cgroup_destroy(group, &err) == 0);
    CHECK(!exists(gdir));

    /* Close hands everything back: controllers off, back home, leaf gone. */
    CHECK(sbx_cgroup_root_close(root, &err) == 0);
    CHECK(strstr(get(self, "cgroup.subtree_control"), "-") != NULL);
    CHECK_STR(get(self, "cgroup.procs"), pid_nonl);
    CHECK(!exists(leaf));

    /* 4. Sharing its cgroup (and no systemd in a fake tree): as root, the
     * subtree /coldstart at the top, controllers enabled along the way. */
    put(self, "cgroup.procs", pid);
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/shared", NULL, fake_kernel, NULL, &root,
                                  &err) == 0);
    CHECK_STR(sbx_cgroup_root_placement(root), "root-subtree");
    CHECK_STR(sbx_cgroup_root_parent(root), "/coldstart");
    CHECK(strstr(get(mount, "cgroup.subtree_control"), "+cpuset") != NULL);
    CHECK(sbx_cgroup_create(root, &lim, &cg, &err) == 0);
    snprintf(run, sizeof run, "%s/coldstart/coldstart-%ld-1", mount, (long)getpid());
    CHECK_STR(sbx_cgroup_path(cg), run);
    CHECK(sbx_cgroup_destroy(cg, &err) == 0);
    CHECK(sbx_cgroup_root_close(root, &err) == 0);
    CHECK(!exists(run));
    snprintf(run, sizeof run, "%s/coldstart", mount);
    CHECK(exists(run)); /* the shared parent stays, empty, as /sys/fs/cgroup/docker does */

    /* 1. --cgroup-parent: created with its ancestors; given as a cgroup path
     * or under the mount; `..` refused. */
    char given[4200];
    snprintf(given, sizeof given, "%s/ci/runs/", mount);
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/shared", given, fake_kernel, NULL, &root,
                                  &err) == 0);
    CHECK_STR(sbx_cgroup_root_placement(root), "parent");
    CHECK_STR(sbx_cgroup_root_parent(root), "/ci/runs");
    CHECK(sbx_cgroup_create(root, NULL, &cg, &err) == 0);
    snprintf(run, sizeof run, "%s/ci/runs/coldstart-%ld-1", mount, (long)getpid());
    CHECK_STR(sbx_cgroup_path(cg), run);
    CHECK(sbx_cgroup_destroy(cg, &err) == 0);
    sbx_cgroup_root_close(root, NULL);
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/shared", "/ci/../user.slice", fake_kernel,
                                  NULL, &root, &err) < 0);
    CHECK(strstr(err.msg, "`..`") != NULL);
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/shared", "ci", fake_kernel, NULL, &root,
                                  &err) < 0);
    CHECK(strstr(err.msg, "cgroup path") != NULL);
    /* A parent that holds processes cannot give controllers to the runs. */
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/session", "/user.slice/shared", fake_kernel,
                                  NULL, &root, &err) == 0 ||
          strstr(err.msg, "holds processes") != NULL);
    sbx_cgroup_root_close(root, NULL);

    /* 5. Shared, not root, no systemd: an error that says what to do. */
    check_advice_without_root(mount);

    /* A stale run cgroup of a dead profiler is reaped at start. */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char stale[4300];
    snprintf(stale, sizeof stale, "%s/coldstart-%ld-7", self, (long)dead);
    make_cgroup(stale, "");
    char stale_leaf[4300];
    snprintf(stale_leaf, sizeof stale_leaf, "%s/coldstart-%ld-profiler", self, (long)dead);
    make_cgroup(stale_leaf, "");
    char other[4300];
    snprintf(other, sizeof other, "%s/not-ours", self);
    mkdir(other, 0755);
    put(self, "cgroup.procs", pid);
    put(self, "cgroup.subtree_control", "");
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/session", NULL, fake_kernel, NULL, &root,
                                  &err) == 0);
    unsigned reaped = 0;
    CHECK(sbx_cgroup_reap_stale(root, &reaped, &err) == 0);
    CHECK_INT(reaped, 2); /* the run cgroup and the leaf a killed profiler left */
    CHECK(!exists(stale));
    CHECK(!exists(stale_leaf));
    CHECK(exists(other)); /* never touch what is not ours */
    sbx_cgroup_root_close(root, NULL);

    /* Without the memory controller delegated, path 2 is not taken: as root
     * the subtree at the top is. */
    put(self, "cgroup.controllers", "cpu pids\n");
    put(self, "cgroup.subtree_control", "");
    CHECK(sbx_cgroup_root_open_v2(mount, "/user.slice/session", NULL, fake_kernel, NULL, &root,
                                  &err) == 0);
    CHECK_STR(sbx_cgroup_root_placement(root), "root-subtree");
    sbx_cgroup_root_close(root, NULL);

    rm_rf(mount);
    CHECK_DONE();
}
