/* cgroup v1 for real: limits written where the kernel reads them, a child
 * placed in the run cgroup before exec, teardown that leaves nothing, and
 * stale-cgroup reaping. Skips where the machine is not v1 or we are not root. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "sandbox/process.h"
#include "sandbox/cgroup.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/spawn.h"

static char *get(const char *path)
{
    static char buf[256];
    if (fs_read_file(path, buf, sizeof buf, NULL) < 0)
        return "";
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

/* The profiler's own directory in the v1 hierarchy of `ctrl` (cpu, pids,
 * cpuset), from /proc/self/cgroup (cpu may be co-mounted as cpu,cpuacct):
 * never a guess. */
static int own_dir(const char *ctrl, char *buf, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[4096];
    int found = -1;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        char ctrls[256], want[64];
        snprintf(ctrls, sizeof ctrls, ",%s,", c1 + 1);
        snprintf(want, sizeof want, ",%s,", ctrl);
        if (!strstr(ctrls, want))
            continue;
        char mount[300];
        snprintf(mount, sizeof mount, "/sys/fs/cgroup/%s", c1 + 1); /* as mounted: cpu,cpuacct */
        if (access(mount, F_OK) == 0) {
            snprintf(buf, cap, "%s%s", mount, strcmp(c2 + 1, "/") ? c2 + 1 : "");
            found = 0;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* A child that only waits to be killed. */
static pid_t fork_pauser(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

/* `parent`/coldstart-<owner>-<n>, made by hand as a profiler would name it. */
static void make_run_dir(char *buf, size_t cap, const char *parent, pid_t owner, int n)
{
    CHECK(fs_pathf(buf, cap, NULL, "%s/coldstart-%ld-%d", parent, (long)owner, n) == 0);
    CHECK(mkdir(buf, 0755) == 0);
}

int main(void)
{
    if (geteuid() != 0)
        SKIP("creating cgroups needs root");
    cs_error err;
    struct sbx_cgroup_root *root;
    if (sbx_cgroup_root_open(NULL, &root, &err) < 0)
        SKIP("no usable cgroup hierarchy: %s", err.msg);
    if (sbx_cgroup_root_version(root) != SBX_CGROUP_V1) {
        sbx_cgroup_root_close(root, NULL);
        SKIP("this machine runs cgroup v2; v2 is covered by test_cgroup_v2_fake");
    }
    CHECK(sbx_process_setup(&err) == 0);

    struct sbx_limits lim = {.memory_bytes = 64 << 20, .cpus = 0.5, .pids = 16};
    struct sbx_cgroup *cg;
    CHECK(sbx_cgroup_create(root, &lim, &cg, &err) == 0);
    const char *dir = sbx_cgroup_path(cg);
    char path[4096], name[64];
    snprintf(name, sizeof name, "coldstart-%ld-1", (long)getpid());
    CHECK_STR(sbx_cgroup_name(cg), name);
    snprintf(path, sizeof path, "%s/memory.limit_in_bytes", dir);
    CHECK_STR(get(path), "67108864");
    snprintf(path, sizeof path, "%s/memory.memsw.limit_in_bytes", dir);
    if (access(path, F_OK) == 0)
        CHECK_STR(get(path), "67108864");
    char cpu_dir[4096];
    CHECK(own_dir("cpu", cpu_dir, sizeof cpu_dir) == 0); /* the cpu hierarchy is mounted here */
    CHECK(fs_pathf(path, sizeof path, NULL, "%s/%s/cpu.cfs_quota_us", cpu_dir, name) == 0);
    CHECK_STR(get(path), "50000");

    /* A child is in the run cgroup before exec. */
    char *argv[] = {"sleep", "30", NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", NULL};
    struct sbx_spawn_opts so = {.argv = argv, .envp = envp, .cgroup = cg};
    struct sbx_child child;
    CHECK(sbx_spawn(&so, &child, &err) == 0);
    sbx_child_own(child.pid); /* ours to reap, as a run's main process is */
    pid_t pids[8];
    CHECK_INT(sbx_cgroup_pids(cg, pids, 8, &err), 1);
    CHECK_INT(pids[0], child.pid);

    /* Teardown kills it and removes every hierarchy's directory. */
    char memdir[4096];
    snprintf(memdir, sizeof memdir, "%s", dir);
    CHECK(sbx_cgroup_destroy(cg, &err) == 0);
    int status = 0;
    CHECK(waitpid(child.pid, &status, 0) == child.pid); /* teardown reaped no owned child */
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    sbx_child_disown(child.pid);
    CHECK(kill(child.pid, 0) < 0);
    struct stat st;
    CHECK(stat(memdir, &st) < 0 && errno == ENOENT);
    sbx_child_close_fds(&child);

    /* A missing binary is reported with its path and errno. */
    CHECK(sbx_cgroup_create(root, NULL, &cg, &err) == 0);
    /* Without --cpus, --cpuset or --pids the run has no cgroup in those
     * hierarchies (where they are mounted apart from memory, cpuacct,
     * freezer and blkio): each would cost a mkdir, a join and an rmdir. */
    static const char *const unused[] = {"cpu", "cpuset", "pids"};
    for (size_t i = 0; i < sizeof unused / sizeof unused[0]; i++) {
        char own[4096], run[4200];
        if (own_dir(unused[i], own, sizeof own) < 0 || strchr(own + 15, ',') ||
            strstr(own, "cpuacct"))
            continue; /* not mounted here, or co-mounted with one a run uses */
        snprintf(run, sizeof run, "%s/%s", own, sbx_cgroup_name(cg));
        CHECK(access(run, F_OK) < 0 && errno == ENOENT);
    }
    snprintf(path, sizeof path, "%s", sbx_cgroup_path(cg)); /* the memory one is there */
    CHECK(access(path, F_OK) == 0);
    char *bad[] = {"/nonexistent/coldstart-target", NULL};
    so.argv = bad;
    so.cgroup = cg;
    CHECK(sbx_spawn(&so, &child, &err) == 0);
    int rc;
    while ((rc = sbx_child_exec_result(&child, &err)) == 1)
        ;
    CHECK(rc < 0);
    CHECK(strstr(err.msg, "/nonexistent/coldstart-target") &&
          strstr(cs_error_text(&err), "No such file"));
    CHECK(sbx_cgroup_destroy(cg, &err) == 0);
    waitpid(child.pid, NULL, 0);
    sbx_child_close_fds(&child);

    /* Stale: a run cgroup of a dead profiler pid, with a process inside. */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char stale[4096];
    *strrchr(memdir, '/') = '\0'; /* the profiler's own memory cgroup */
    make_run_dir(stale, sizeof stale, memdir, dead, 3);
    pid_t victim = fork();
    if (victim == 0) {
        char procs[4200];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", stale);
        fs_write_file(procs, "0", NULL);
        for (;;)
            pause();
    }
    usleep(50000);
    /* A zombie owner is dead too: where PID 1 reaps no orphans, a SIGKILLed
     * profiler stays one for good (this child we simply do not wait for yet). */
    pid_t zombie = fork();
    if (zombie == 0)
        _exit(0);
    sbx_child_own(zombie); /* ours to wait for, not the teardown's */
    char of_zombie[4096];
    make_run_dir(of_zombie, sizeof of_zombie, memdir, zombie, 4);
    /* A live owner's cgroup is another profiler's run: left alone. */
    pid_t live = fork_pauser();
    char of_live[4096];
    make_run_dir(of_live, sizeof of_live, memdir, live, 5);
    usleep(20000); /* the zombie has exited */
    unsigned reaped = 0;
    CHECK(sbx_cgroup_reap_stale(root, &reaped, &err) == 0);
    /* At least ours; a machine may hold other dead profilers' cgroups too. */
    CHECK(reaped >= 2);
    CHECK(stat(stale, &st) < 0);
    if (stat(stale, &st) == 0)
        kill(victim, SIGKILL); /* the check above failed: do not hang */
    /* Killed, and reaped by the teardown (we are its parent here). */
    CHECK(kill(victim, 0) < 0 && errno == ESRCH);
    CHECK(stat(of_zombie, &st) < 0 && errno == ENOENT);
    rmdir(of_zombie);
    CHECK(stat(of_live, &st) == 0);
    CHECK(rmdir(of_live) == 0);
    kill(live, SIGKILL);
    waitpid(live, NULL, 0);
    CHECK(waitpid(zombie, NULL, 0) == zombie);
    sbx_child_disown(zombie);

    /* Seen from a pid namespace inside ours, a live profiler's run cgroup
     * looks stale (its owner and its tasks are invisible there) and cannot
     * be removed: it is left alone, at once and without an error. */
    pid_t outer = fork_pauser();
    char unseen[4096];
    make_run_dir(unseen, sizeof unseen, memdir, outer, 6);
    char procs[4200], pid_text[32];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", unseen);
    snprintf(pid_text, sizeof pid_text, "%ld", (long)outer);
    CHECK(fs_write_file(procs, pid_text, NULL) == 0);
    pid_t inner = fork();
    if (inner == 0) {
        /* As a container would: its own pid namespace with its own /proc. */
        if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0 ||
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            _exit(10);
        pid_t init = fork(); /* pid 1 of the new namespace */
        if (init < 0)
            _exit(15);
        if (init == 0) {
            if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                _exit(17);
            struct sbx_cgroup_root *in_root;
            cs_error e;
            if (sbx_cgroup_root_open(NULL, &in_root, &e) < 0)
                _exit(11);
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            unsigned n = 0;
            int reap_rc = sbx_cgroup_reap_stale(in_root, &n, &e);
            clock_gettime(CLOCK_MONOTONIC, &b);
            double took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
            _exit(reap_rc < 0 ? 12 : took > 0.5 ? 13 : 0);
        }
        int st_init = 0;
        if (waitpid(init, &st_init, 0) != init)
            _exit(16);
        _exit(WIFEXITED(st_init) ? WEXITSTATUS(st_init) : 14);
    }
    int st_inner = 0;
    CHECK(waitpid(inner, &st_inner, 0) == inner);
    CHECK_INT(WIFEXITED(st_inner) ? WEXITSTATUS(st_inner) : -1, 0);
    CHECK(stat(unseen, &st) == 0); /* still there, its task alive */
    CHECK(kill(outer, 0) == 0);
    kill(outer, SIGKILL);
    waitpid(outer, NULL, 0);
    for (int i = 0; i < 1000 && rmdir(unseen) < 0 && errno == EBUSY; i++)
        usleep(1000);
    CHECK(stat(unseen, &st) < 0);

    sbx_cgroup_root_close(root, NULL);
    CHECK_DONE();
}
