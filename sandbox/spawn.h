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
#include "sandbox/rootfs.h"
#include "sandbox/base/error.h"
#include "sandbox/seccomp.h"

enum sbx_net {
    SBX_NET_HOST,     /* the host's network */
    SBX_NET_LOOPBACK, /* a fresh network namespace with only `lo`, up */
    SBX_NET_NONE,     /* a fresh network namespace, `lo` down: no network at all */
};

struct sbx_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t soft, hard;
};

/* How far the target is shut in, beyond its cgroup and seccomp filter. */
struct sbx_isolation {
    enum sbx_net net;
    bool private_tmp;             /* mount namespace with an empty tmpfs on /tmp */
    const char *const *ro_mounts; /* remounted read-only in its mount namespace */
    size_t n_ro_mounts;
    bool set_user; /* drop to uid:gid before exec */
    uid_t uid;
    gid_t gid;
    const struct sbx_rlimit *rlimits;
    size_t n_rlimits;
    /* A PID namespace of its own with a fresh /proc (needs a mount namespace:
     * implies one): the target sees no process of the host, the profiler's
     * /proc/PID/root and /cwd included, and when it exits everything it
     * started dies with it. The target is its PID 1, so, as in a container
     * without an init, a signal it has no handler for does not stop it. */
    bool new_pid_ns;
    /* Keep only Docker's default capability set (chown, dac_override, fowner,
     * fsetid, kill, setgid, setuid, setpcap, net_bind_service, net_raw,
     * sys_chroot, mknod, audit_write, setfcap): no CAP_SYS_ADMIN to mount a
     * cgroupfs of its own, no CAP_SYS_PTRACE, no CAP_DAC_READ_SEARCH. */
    bool drop_caps;
    /* A container (issue 16): the target runs in this root (sandbox/rootfs.h),
     * built after the release so that its cost is measured (the `rootfs`
     * milestone); argv[0], PATH and cwd are then looked up inside it. Implies
     * a mount, UTS and PID namespace of its own and replaces private_tmp and
     * ro_mounts (the container's /sys is read-only as a whole). */
    const struct sbx_rootfs *rootfs;
    const char *hostname; /* with rootfs; NULL: "coldstart" */
};

/* See sbx_gate_open below. */
struct sbx_gate {
    int r, w;
};

struct sbx_spawn_opts {
    char *const *argv; /* argv[0] is looked up in PATH */
    char *const *envp;
    const char *cwd; /* NULL: the profiler's */
    struct sbx_cgroup *cgroup;
    const struct sbx_seccomp *seccomp; /* NULL: only no_new_privs */
    const struct sbx_isolation *iso;   /* NULL: none */
    /* A gate several prepared children wait at, to be released together by
     * one write (sbx_gate_release); NULL: a gate of the child's own
     * (sbx_child_release). */
    const struct sbx_gate *gate;
    /* Start it at once where nothing needs it to wait before exec (no gate,
     * a host command in the host's network, v1 or no cgroup placement by
     * clone3): the child shares our memory until its execve
     * (CLONE_VM|CLONE_VFORK) and takes t0 itself just before it, so that
     * neither a copy of the profiler's memory nor its teardown falls inside
     * `exec`. The caller must not need the waiting child (no perf counters
     * on it, no seccomp profile that could trap what it calls before exec). */
    bool start_at_once;
};

/* Whether sbx_spawn_prepared would start this child at once (it falls back
 * to the gated path where the kernel or valgrind refuses CLONE_VM). */
bool sbx_spawn_can_start_at_once(const struct sbx_spawn_opts *o);

/* A gate several prepared children wait at (sbx_spawn_opts.gate_fd): one
 * write of n bytes releases n of them at the same instant (*ret_t0), where
 * releasing each through its own pipe lets the first ones run, and take the
 * CPU from the releasing loop, before the last is let go. Closing the gate
 * makes the children still waiting exit. */
int sbx_gate_open(struct sbx_gate *g, cs_error *err);
int sbx_gate_release(struct sbx_gate *g, size_t n, uint64_t *ret_t0, cs_error *err);
void sbx_gate_close(struct sbx_gate *g);

struct sbx_child {
    pid_t pid;
    int pidfd;               /* readable when the child exits */
    uint64_t t0_ns;          /* CLOCK_MONOTONIC when the prepared child was released to exec */
    int exec_fd;             /* EOF once exec succeeded; an error record if it failed */
    int out_fd;              /* target stdout, non-blocking */
    int err_fd;              /* target stderr, non-blocking */
    int notify_sock;         /* delivers the seccomp listener fd; -1 without a listener */
    int netns_fd;            /* the target's network namespace when it has its own, else -1 */
    int gate_fd;             /* prepared, not released yet: writing here lets it exec; else -1 */
    bool pending_failure;    /* the child failed before exec; exec_fd holds why */
    uint64_t rootfs_ns;      /* CLOCK_MONOTONIC when the container root was mounted; 0: none */
    bool started_at_once;    /* exec'd without a gate: t0_ns is the child's own, exec_ns set */
    uint64_t exec_ns;        /* started at once: when its execve let us go on; else 0 */
    const char *argv0, *cwd; /* for messages; not owned (the opts' strings) */
};

/* Initialises every fd of a child to -1. */
void sbx_child_init(struct sbx_child *c);
/* Prepares the child and releases it at once (t0). */
int sbx_spawn(const struct sbx_spawn_opts *opts, struct sbx_child *ret, cs_error *err);
/* Prepares the child up to exec and leaves it waiting at the gate, so that
 * several targets (a burst) can be released within microseconds of each
 * other; then sbx_child_release takes t0 and lets it exec. A child never
 * released exits when its gate is closed (sbx_child_close_fds). */
int sbx_spawn_prepared(const struct sbx_spawn_opts *opts, struct sbx_child *ret, cs_error *err);
int sbx_child_release(struct sbx_child *c, cs_error *err);
/* After exec_fd polled readable: 0 exec succeeded, 1 not yet (spurious wake-up),
 * 2 a milestone before exec was read (rootfs_ns; call again), -1 the child
 * failed before exec (err names the step, the path and errno). */
int sbx_child_exec_result(struct sbx_child *c, cs_error *err);
/* After notify_sock polled readable: the listener fd, or -1. */
int sbx_child_receive_listener(struct sbx_child *c);
void sbx_child_close_fds(struct sbx_child *c);

/* Every capability but those in keep leaves the bounding, ambient,
 * effective, permitted and inheritable sets, so not even a setuid-root
 * binary gets one back. System calls only (for a forked child). */
int sbx_keep_only_capabilities(const int *keep, size_t n);
uint64_t sbx_now_ns(void);
/* Whether a target with this isolation gets a PID namespace of its own. */
bool sbx_isolation_new_pid_ns(const struct sbx_isolation *iso);
/* The file execve will run for `name`: itself when it has a '/', else the
 * first executable match in envp's PATH (or the profiler's). Unresolved names
 * are copied as they are (execve then reports ENOENT). Returns 0 when buf
 * names an executable regular file, -1 otherwise. */
int sbx_resolve_executable(const char *name, char *const *envp, char *buf, size_t cap);

/* The profiler becomes a child subreaper (orphans of targets are re-parented to
 * it and reaped, never left as zombies) and blocks the signals it handles in
 * its event loop. Call once at start. */
int sbx_process_setup(cs_error *err);
/* Mount points at or below `prefix` (from /proc/self/mountinfo), for
 * sbx_isolation.ro_mounts; the caller frees each string and the array. */
int sbx_mounts_below(const char *prefix, char ***ret, size_t *ret_n, cs_error *err);
/* Creates a socket in the network namespace netns_fd (-1: our own). */
int sbx_socket_in(int netns_fd, int domain, int type, int protocol, cs_error *err);
/* A stop signal (SIGINT, SIGTERM, SIGHUP) waiting while blocked (after
 * sbx_process_setup), or 0: for long work outside the event loop, such as
 * extracting an image, to stop at a safe point and clean up. */
int sbx_pending_stop_signal(void);
/* The signals sbx_process_setup blocks, for the caller's signalfd. */
void sbx_handled_signals(sigset_t *ret);

#endif
