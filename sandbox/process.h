/* The profiler's descendants, whatever cgroup they moved to. The profiler is a
 * child subreaper (sbx_process_setup), so every process a target starts stays
 * its descendant: orphans are re-parented to it, not to PID 1. Killing the
 * descendants therefore reaches a process that escaped its run cgroup (a root
 * target can write its pid into another cgroup.procs). */
#ifndef COLDSTART_PROCESS_H
#define COLDSTART_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

/* Up to cap descendants of the calling process (children first), from
 * /proc/PID/task/TID/children; returns how many there are. */
size_t sbx_descendants(pid_t *buf, size_t cap);
/* SIGKILLs every descendant and reaps them until none is left, for at most
 * timeout_ms. Returns 0, or -1 when some survived (err names how many). */
int sbx_kill_descendants(unsigned timeout_ms, cs_error *err);

/* Children whose exit someone waits for by pid (a run's main process, whose
 * status and rusage the run reads): sbx_reap_children leaves them alone.
 * The owner disowns the pid once it has reaped it, or gives it up. */
void sbx_child_own(pid_t pid);
void sbx_child_disown(pid_t pid);
/* Reaps the profiler's exited children that nobody owns (orphans re-parented
 * to it as subreaper, a daemon's starter); never blocks. Never waitpid(-1):
 * that would take another run's main process from under it. */
void sbx_reap_children(void);

#endif
