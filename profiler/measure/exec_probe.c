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
#include <sys/prctl.h>
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

_Noreturn void exec_shell_child(const struct prof_run *c, const char *cmd, int out_fd,
                                bool own_group, bool container_files)
{
    if (own_group)
        setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The network namespace through the descriptor the run holds (a
     * daemonizing server's first process may be gone); a container's mount
     * namespace through its process. */
    if (c->child.netns_fd >= 0 && setns(c->child.netns_fd, CLONE_NEWNET) < 0)
        _exit(126);
    bool container = container_files && c->spec->iso && c->spec->iso->rootfs;
    if (container) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/ns/mnt", (long)c->child.pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNS) < 0)
            _exit(126);
        close(fd);
    }
    if (container && chdir("/") < 0)
        _exit(126);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
        dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO) < 0 ||
        dup2(out_fd >= 0 ? out_fd : null, STDERR_FILENO) < 0)
        _exit(126);
    /* The profiler ignores SIGPIPE and blocks the stop signals; a command
     * (`redis-cli ping | grep -q PONG`, a load generator) expects neither. */
    signal(SIGPIPE, SIG_DFL);
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
        exec_shell_child(c, c->spec->ready->path, -1, false, true);
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
