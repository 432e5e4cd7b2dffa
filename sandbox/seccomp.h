/* Seccomp for targets: the filter is generated in the parent (libseccomp, exported
 * as BPF) and only loaded in the child just before exec, as crun splits generate
 * from apply. `listen` and denied calls go to a user-notification listener the
 * parent answers from a per-syscall verdict table, which is how the `listen`
 * milestone and `denied_syscalls` are observed. */
#ifndef COLDSTART_SECCOMP_H
#define COLDSTART_SECCOMP_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

enum sbx_seccomp_policy {
    SBX_SECCOMP_NONE,    /* no filter at all */
    SBX_SECCOMP_DEFAULT, /* deny-list of calls no server needs (see seccomp.c) */
    SBX_SECCOMP_PROFILE, /* an OCI / Docker profile (parsed by the caller) */
};

enum sbx_action {
    SBX_ACT_ALLOW,
    SBX_ACT_ERRNO,
    SBX_ACT_KILL_THREAD,
    SBX_ACT_KILL_PROCESS,
    SBX_ACT_TRAP,
    SBX_ACT_LOG,
};

struct sbx_seccomp_arg {
    unsigned index;
    enum scmp_compare op;
    uint64_t value, value_two;
};

struct sbx_seccomp_rule {
    int nr; /* native syscall number */
    enum sbx_action action;
    int errno_ret;
    struct sbx_seccomp_arg args[6];
    unsigned n_args;
};

struct sbx_seccomp_profile {
    enum sbx_action default_action;
    int default_errno;
    uint32_t arches[16]; /* libseccomp SCMP_ARCH_* besides the native one */
    size_t n_arches;
    struct sbx_seccomp_rule *rules;
    size_t n_rules;
};

struct sbx_seccomp_opts {
    enum sbx_seccomp_policy policy;
    const struct sbx_seccomp_profile *profile; /* SBX_SECCOMP_PROFILE; not owned */
    bool notify_listen; /* report listen() through the listener, then let it run */
};

struct sbx_seccomp; /* a compiled filter and its verdict table; opaque */

/* Builds the filter. Where the kernel lacks user notification (or the CONTINUE
 * flag), denied calls fail directly and listen is not reported;
 * sbx_seccomp_has_listener() tells. Returns 0 with *ret = NULL when there is
 * nothing to load. */
int sbx_seccomp_build(const struct sbx_seccomp_opts *opts, struct sbx_seccomp **ret, cs_error *err);
void sbx_seccomp_free(struct sbx_seccomp *f);
bool sbx_seccomp_has_listener(const struct sbx_seccomp *f);
/* Built from a --seccomp FILE profile, which may trap (notify) what a child
 * still calls between loading it and exec. */
bool sbx_seccomp_from_profile(const struct sbx_seccomp *f);
/* The compiled BPF program (what the child loads), for inspection. */
struct sock_fprog;
const struct sock_fprog *sbx_seccomp_program(const struct sbx_seccomp *f);

/* Child side, async-signal-safe: sets no_new_privs and loads the filter. Returns
 * the listener fd (or 0 when there is none), -1 with errno on failure. */
int sbx_seccomp_load(const struct sbx_seccomp *f);

/* Parent side: one pending notification. */
struct sbx_seccomp_event {
    uint64_t id;
    pid_t pid;
    int syscall_nr;
    int fd;         /* listen(): the socket's fd number in the caller */
    int deny;       /* 0: let it run; else the errno it fails with */
    bool is_listen; /* an allowed listen() */
};
/* Receives one notification and looks up its verdict; returns 0, or -1
 * (ENOENT: the caller died first). */
int sbx_seccomp_receive(const struct sbx_seccomp *f, int listener, struct sbx_seccomp_event *ret);
/* Lets the call run or fails it with its errno. */
int sbx_seccomp_answer(const struct sbx_seccomp *f, int listener,
                       const struct sbx_seccomp_event *ev);
const char *sbx_syscall_name(int nr);
/* The local address of the socket a listen() notification was about, copied
 * from the target with pidfd_getfd. Returns 0, or -1 (errno) when it cannot be
 * inspected (the caller exited, or no permission). */
int sbx_seccomp_listen_address(const struct sbx_seccomp_event *ev, struct sockaddr_storage *ret,
                               socklen_t *ret_len);

#endif
