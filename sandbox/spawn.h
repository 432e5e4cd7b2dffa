/* Starting a target: clone into its run cgroup, with its stdio on pipes and
 * the seccomp filter loaded; then take t0 and release it to exec. The exec
 * result comes back through a close-on-exec pipe (EOF = exec succeeded). */
#ifndef COLDSTART_SPAWN_H
#define COLDSTART_SPAWN_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/cgroup.h"
#include "sandbox/error.h"
#include "sandbox/seccomp.h"

struct sbx_spawn_opts {
    char *const *argv; /* argv[0] is looked up in PATH */
    char *const *envp;
    const char *cwd; /* NULL: the profiler's */
    struct sbx_cgroup *cgroup;
    const struct sbx_seccomp *seccomp; /* NULL: only no_new_privs */
};

struct sbx_child {
    pid_t pid;
    int pidfd;               /* readable when the child exits */
    uint64_t t0_ns;          /* CLOCK_MONOTONIC when the prepared child was released to exec */
    int exec_fd;             /* EOF once exec succeeded; an error record if it failed */
    int out_fd;              /* target stdout, non-blocking */
    int err_fd;              /* target stderr, non-blocking */
    int notify_sock;         /* delivers the seccomp listener fd; -1 without a listener */
    bool pending_failure;    /* the child failed before exec; exec_fd holds why */
    const char *argv0, *cwd; /* for messages; not owned (the opts' strings) */
};

/* Initialises every fd of a child to -1. */
void sbx_child_init(struct sbx_child *c);
int sbx_spawn(const struct sbx_spawn_opts *opts, struct sbx_child *ret, cs_error *err);
/* After exec_fd polled readable: 0 exec succeeded, 1 not yet (spurious wake-up),
 * -1 the child failed before exec (err names the step, the path and errno). */
int sbx_child_exec_result(struct sbx_child *c, cs_error *err);
/* After notify_sock polled readable: the listener fd, or -1. */
int sbx_child_receive_listener(struct sbx_child *c);
void sbx_child_close_fds(struct sbx_child *c);

uint64_t sbx_now_ns(void);
/* The file execve will run for `name`: itself when it has a '/', else the
 * first executable match in envp's PATH (or the profiler's). Unresolved names
 * are copied as they are (execve then reports ENOENT). */
void sbx_resolve_executable(const char *name, char *const *envp, char *buf, size_t cap);

/* The profiler becomes a child subreaper (orphans of targets are re-parented to
 * it and reaped, never left as zombies) and blocks the signals it handles in
 * its event loop. Call once at start. */
int sbx_process_setup(cs_error *err);
/* The signals sbx_process_setup blocks, for the caller's signalfd. */
void sbx_handled_signals(sigset_t *ret);

#endif
