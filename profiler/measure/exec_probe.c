/* `--ready 'exec:CMD'`: the probe Kubernetes users write (an exec probe) and
 * Docker's HEALTHCHECK CMD-SHELL: `/bin/sh -c CMD` is run in the target's
 * namespaces (its network namespace, and for a container its mount
 * namespace, so `pg_isready`, `redis-cli ping` are the image's own) until
 * it exits 0; the next attempt starts EXEC_PROBE_PERIOD_US after one fails.
 * Each attempt is a child of the profiler, outside the run's cgroup (its
 * CPU and memory are not the target's), watched through its pidfd, and
 * killed with the run. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profiler/measure/run_internal.h"
#include "sandbox/process.h"

#define EXEC_PROBE_PERIOD_US 5000

bool exec_probe_kind(const struct prof_run *c)
{
    return c->spec->ready->kind == PROF_READY_COMMAND;
}

/* In the child: into the target's namespaces, then the command. */
static _Noreturn void attempt_child(const struct prof_run *c, const char *cmd)
{
    char path[64];
    static const struct {
        const char *name;
        int type;
    } spaces[] = {{"net", CLONE_NEWNET}, {"mnt", CLONE_NEWNS}};
    bool container = c->spec->iso && c->spec->iso->rootfs;
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        if (spaces[i].type == CLONE_NEWNS && !container)
            continue;
        if (spaces[i].type == CLONE_NEWNET && c->child.netns_fd < 0)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/ns/%s", (long)c->child.pid, spaces[i].name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, spaces[i].type) < 0)
            _exit(126);
        close(fd);
    }
    if (container && chdir("/") < 0)
        _exit(126);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
}

void exec_probe_attempt(struct prof_run *c)
{
    struct exec_probe *x = &c->exec_probe;
    if (c->ready || c->done || x->pid > 0)
        return;
    pid_t pid = fork();
    if (pid < 0) {
        set_error(c, REP_ERROR, "the exec: probe: fork: %s", strerror(errno));
        return;
    }
    if (pid == 0)
        attempt_child(c, c->spec->ready->path);
    sbx_child_own(pid); /* its exit status is ours to read */
    x->pid = pid;
    x->attempts++;
    x->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (x->pidfd < 0 || ep_add(c, x->pidfd, EPOLLIN, EV_EXEC_PROBE) < 0)
        set_error(c, REP_ERROR, "the exec: probe: cannot watch its process: %s", strerror(errno));
}

void on_exec_probe_exit(struct prof_run *c)
{
    struct exec_probe *x = &c->exec_probe;
    int status = 0;
    if (x->pid <= 0 || waitpid(x->pid, &status, WNOHANG) != x->pid)
        return;
    sbx_child_disown(x->pid);
    x->pid = 0;
    ep_del(c, x->pidfd);
    close(x->pidfd);
    x->pidfd = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        mark_ready_at(c, sbx_now_ns());
        return;
    }
    x->last_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!c->done)
        arm_timer(c->retry_tfd, EXEC_PROBE_PERIOD_US, 0);
}

void exec_probe_stop(struct prof_run *c)
{
    struct exec_probe *x = &c->exec_probe;
    if (x->pid > 0) {
        kill(x->pid, SIGKILL);
        while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        sbx_child_disown(x->pid);
        x->pid = 0;
    }
    if (x->pidfd >= 0) {
        ep_del(c, x->pidfd);
        close(x->pidfd);
        x->pidfd = -1;
    }
}
