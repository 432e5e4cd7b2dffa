/* --load-cmd CMD: the load after ready comes from a generator of the user's
 * (pgbench, redis-benchmark, wrk, k6) instead of the built-in HTTP one, so a
 * database or a cache is sized under the traffic it serves. `/bin/sh -c CMD`
 * ({port} already substituted) is a child of the profiler, outside the
 * run's cgroup (its CPU and memory are not the target's), in the target's
 * network namespace when it has one of its own (127.0.0.1 is the target's
 * loopback), in a process group of its own so that whatever it forks is
 * killed with it. Its output goes to a memory file; the end of it is kept
 * in the report. Its exit decides the run: 0 passes, anything else fails
 * the run (a `size` step fails). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profiler/measure/run_internal.h"
#include "sandbox/process.h"

/* What of the command's output the report keeps (its end: a summary line). */
#define COMMAND_OUTPUT_TAIL 2048

int load_command_start(struct prof_run *c)
{
    struct load_phase *lp = &c->load;
    lp->cmd_out = memfd_create("coldstart-load-cmd", MFD_CLOEXEC);
    if (lp->cmd_out < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        exec_shell_child(c, c->spec->load_command, lp->cmd_out, true, false);
    /* The parent sets the group too: no kill can come before the child did. */
    setpgid(pid, pid);
    sbx_child_own(pid);
    lp->cmd_pid = pid;
    lp->cmd_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (lp->cmd_pidfd < 0 || ep_add(c, lp->cmd_pidfd, EPOLLIN, EV_LOAD_DONE) < 0)
        return -1;
    return 0;
}

bool load_command_running(const struct prof_run *c)
{
    return c->load.cmd_pid > 0;
}

/* The end of what it printed, as text (NULs and other controls as '?'). */
static char *output_tail(int fd)
{
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0)
        return NULL;
    off_t from = size > COMMAND_OUTPUT_TAIL ? size - COMMAND_OUTPUT_TAIL : 0;
    char *s = calloc(COMMAND_OUTPUT_TAIL + 1, 1);
    if (!s)
        return NULL;
    ssize_t n = pread(fd, s, COMMAND_OUTPUT_TAIL, from);
    if (n <= 0) {
        free(s);
        return NULL;
    }
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
            s[i] = '?';
    return s;
}

/* The last non-empty line of the output, for the run's error message. */
static void last_line(const char *out, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!out)
        return;
    size_t end = strlen(out);
    while (end > 0 && (out[end - 1] == '\n' || out[end - 1] == ' '))
        end--;
    size_t start = end;
    while (start > 0 && out[start - 1] != '\n')
        start--;
    size_t n = end - start < cap - 1 ? end - start : cap - 1;
    memcpy(buf, out + start, n);
    buf[n] = '\0';
}

int load_command_collect(struct prof_run *c, bool stop, struct rep_load *L)
{
    struct load_phase *lp = &c->load;
    if (lp->cmd_pid <= 0)
        return 0;
    if (!stop) {
        /* Ended? (left a zombie: its id stays reserved for the group's kill) */
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)lp->cmd_pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
            si.si_pid != lp->cmd_pid)
            return 1;
    }
    /* What it left running (or all of it, for a stopped run) goes first. */
    kill(-lp->cmd_pid, SIGKILL);
    int status = 0;
    struct rusage ru = {0};
    while (wait4(lp->cmd_pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    sbx_child_disown(lp->cmd_pid);
    lp->cmd_pid = 0;
    ep_del(c, lp->cmd_pidfd);
    close(lp->cmd_pidfd);
    lp->cmd_pidfd = -1;
    L->generator_cpu_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
                          (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
    if (WIFEXITED(status))
        L->command_exit = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        L->command_signal = WTERMSIG(status);
    L->command_output = output_tail(lp->cmd_out);
    close(lp->cmd_out);
    lp->cmd_out = -1;
    if (stop || L->command_exit == 0)
        return 0;
    char line[160];
    last_line(L->command_output, line, sizeof line);
    if (L->command_exit != REP_NONE)
        set_error(c, REP_ERROR, "the load command exited with status %lld%s%s",
                  (long long)L->command_exit, line[0] ? ": " : "", line);
    else
        set_error(c, REP_ERROR, "the load command was killed by signal %lld%s%s",
                  (long long)L->command_signal, line[0] ? ": " : "", line);
    return 0;
}
