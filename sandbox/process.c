#include "sandbox/process.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"

/* Appends the children of every thread of pid (CONFIG_PROC_CHILDREN). */
static size_t add_children(pid_t pid, pid_t *buf, size_t cap, size_t n)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/task", (long)pid);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return n;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char text[8192];
        char tid_dir[128];
        if (fs_pathf(tid_dir, sizeof tid_dir, NULL, "%s/%s", dir, de->d_name) < 0 ||
            fs_read_at(tid_dir, "children", text, sizeof text, NULL) <= 0)
            continue;
        for (char *p = text, *end; *p; p = end) {
            long child = strtol(p, &end, 10);
            if (end == p)
                break;
            if (n < cap)
                buf[n] = (pid_t)child;
            n++;
        }
    }
    return n;
}

size_t sbx_descendants(pid_t *buf, size_t cap)
{
    size_t n = add_children(getpid(), buf, cap, 0);
    /* Breadth first: each listed pid's children go to the end of the list. */
    for (size_t i = 0; i < n && i < cap; i++)
        n = add_children(buf[i], buf, cap, n);
    return n;
}

int sbx_kill_descendants(unsigned timeout_ms, cs_error *err)
{
    pid_t pids[4096];
    size_t n = 0;
    for (unsigned waited = 0; waited <= timeout_ms; waited++) {
        sbx_reap_children();
        n = sbx_descendants(pids, 4096);
        if (n == 0)
            return 0;
        for (size_t i = 0; i < n && i < 4096; i++)
            kill(pids[i], SIGKILL);
        sbx_reap_children();
        /* Bounded: a process in uninterruptible sleep is reported, not awaited. */
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    return cs_error_set(err, 0,
                        "%zu process%s started by the target did not exit within %u ms of SIGKILL",
                        n, n == 1 ? "" : "es", timeout_ms);
}

/* The owned children: few (one per run in a loop, PROF_RUN_LOOP_MAX at most). */
static pid_t *owned;
static size_t n_owned, cap_owned;

void sbx_child_own(pid_t pid)
{
    if (n_owned == cap_owned) {
        size_t cap = cap_owned ? cap_owned * 2 : 16;
        pid_t *grown = realloc(owned, cap * sizeof *grown);
        if (!grown)
            return; /* then it may be reaped early: its run sees ECHILD, not a crash */
        owned = grown;
        cap_owned = cap;
    }
    owned[n_owned++] = pid;
}

void sbx_child_disown(pid_t pid)
{
    for (size_t i = 0; i < n_owned; i++)
        if (owned[i] == pid) {
            owned[i] = owned[--n_owned];
            break;
        }
    if (n_owned == 0) {
        free(owned);
        owned = NULL;
        cap_owned = 0;
    }
}

static bool is_owned(pid_t pid)
{
    for (size_t i = 0; i < n_owned; i++)
        if (owned[i] == pid)
            return true;
    return false;
}

void sbx_reap_children(void)
{
    if (n_owned == 0) {
        while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
            ;
        return;
    }
    /* Each child by its pid: an exited one is a zombie still listed. */
    pid_t kids[4096];
    size_t n = add_children(getpid(), kids, 4096, 0);
    for (size_t i = 0; i < n && i < 4096; i++)
        if (!is_owned(kids[i]))
            waitpid(kids[i], NULL, WNOHANG | __WALL);
}
