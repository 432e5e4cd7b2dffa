#include "sandbox/seccomp.h"

#include <errno.h>
#include <sched.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

/* The default policy: calls that no server needs to start or serve and that
 * reach outside the sandbox (filesystems, kernel state, the clock, namespaces,
 * other processes' memory). They fail with EPERM, as in Docker's default
 * profile, and are counted per run so the report shows what a target tried.
 * What a runtime really calls at start-up (clone without namespace flags, io_uring_setup for Node's
 * libuv, memfd_create for .NET's double mapping, membarrier for .NET and the
 * JVM, personality for Python) is deliberately allowed. */
static const char *const default_denied[] = {
    /* mounts and root switching */
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    /* namespaces: escaping or re-shaping the sandbox */
    "unshare",
    "setns",
    /* swap, power, kernel images and modules */
    "swapon",
    "swapoff",
    "reboot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    /* kernel programmability and keyrings */
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    /* the host clock */
    "clock_settime",
    "clock_adjtime",
    "settimeofday",
    "adjtimex",
    "stime",
    /* handles that bypass path permissions */
    "open_by_handle_at",
    "name_to_handle_at",
    /* accounting, quotas, hostname */
    "acct",
    "quotactl",
    "quotactl_fd",
    "sethostname",
    "setdomainname",
    /* raw hardware access */
    "iopl",
    "ioperm",
    /* other processes' memory and tracing */
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    /* obsolete interfaces with a history of bugs */
    "uselib",
    "sysfs",
    "_sysctl",
    "nfsservctl",
    "lookup_dcookie",
    "vm86",
    "vm86old",
    NULL,
};

/* Verdicts for notified calls, by native syscall number. */
#define VERDICT_TABLE 1024

struct sbx_seccomp {
    struct sock_fprog prog; /* filter owned here */
    bool listener;
    bool from_profile;              /* the user's --seccomp FILE: it may trap anything */
    int default_deny;               /* errno for calls outside the table; 0: continue */
    int16_t verdict[VERDICT_TABLE]; /* -1: default; 0: continue; >0: errno */
    /* Notification buffers, sized once with SECCOMP_GET_NOTIF_SIZES (the
     * kernel's structs may be larger than our headers' ones), so the
     * measured path allocates nothing per notification. Written through a
     * const filter: only the loop's thread uses them, one call at a time. */
    struct seccomp_notif *req;
    struct seccomp_notif_resp *resp;
    size_t req_size, resp_size;
};

bool sbx_seccomp_has_listener(const struct sbx_seccomp *f)
{
    return f && f->listener;
}

const struct sock_fprog *sbx_seccomp_program(const struct sbx_seccomp *f)
{
    return f ? &f->prog : NULL;
}

bool sbx_seccomp_from_profile(const struct sbx_seccomp *f)
{
    return f && f->from_profile;
}

/* User notification answered with "continue" needs libseccomp API level 6 and
 * Linux 5.5; older kernels get plain errors and no listen milestone. */
static bool notify_supported(void)
{
    return seccomp_api_get() >= 6;
}

void sbx_seccomp_free(struct sbx_seccomp *f)
{
    if (!f)
        return;
    free(f->prog.filter);
    free(f->req);
    free(f->resp);
    free(f);
}

static void seccomp_freep(struct sbx_seccomp **f)
{
    sbx_seccomp_free(*f);
}

static void scmp_releasep(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}

static uint32_t scmp_action(enum sbx_action a, int errno_ret)
{
    switch (a) {
    case SBX_ACT_ALLOW:
        return SCMP_ACT_ALLOW;
    case SBX_ACT_ERRNO:
        return SCMP_ACT_ERRNO((uint16_t)errno_ret);
    case SBX_ACT_KILL_THREAD:
        return SCMP_ACT_KILL_THREAD;
    case SBX_ACT_KILL_PROCESS:
        return SCMP_ACT_KILL_PROCESS;
    case SBX_ACT_TRAP:
        return SCMP_ACT_TRAP;
    case SBX_ACT_LOG:
        return SCMP_ACT_LOG;
    }
    return SCMP_ACT_ALLOW;
}

static void set_verdict(struct sbx_seccomp *f, int nr, int v)
{
    if (nr >= 0 && nr < VERDICT_TABLE)
        f->verdict[nr] = (int16_t)v;
}

/* The built-in policy: allow all, but deny-listed calls and listen() go to
 * the listener (EPERM and continue), or fail with EPERM without one. */
static int add_default_rules(scmp_filter_ctx ctx, struct sbx_seccomp *f, bool deny_list,
                             bool notify, bool listen)
{
    int rc = 0;
    if (listen) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(listen), 0);
        set_verdict(f, SCMP_SYS(listen), 0);
    }
    if (!deny_list)
        return rc;
    uint32_t deny = notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
    for (size_t i = 0; default_denied[i] && rc == 0; i++) {
        int nr = seccomp_syscall_resolve_name(default_denied[i]);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue; /* not a call on this architecture */
        rc = seccomp_rule_add(ctx, deny, nr, 0);
        set_verdict(f, nr, EPERM);
    }
    /* unshare() is denied, so clone() must not create namespaces either: a
     * rule per CLONE_NEW* bit of its flags (only those calls reach the
     * listener, so clone's verdict is EPERM). clone3 passes its flags in
     * memory, out of a filter's reach: it fails with ENOSYS, as under Docker,
     * and the C library falls back to clone (not counted as a denial). */
    static const uint64_t ns_flags[] = {
        CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
        CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET, 0x80 /* TIME */};
    for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
    set_verdict(f, SCMP_SYS(clone), EPERM);
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    return rc;
}

/* An OCI/Docker profile. Unconditional ERRNO rules and an ERRNO default go
 * through the listener (answered with their errno) so denials are counted;
 * an unconditional ALLOW of listen() becomes a notification answered with
 * continue. Rules with argument conditions keep their action. */
static int add_profile_rules(scmp_filter_ctx ctx, struct sbx_seccomp *f,
                             const struct sbx_seccomp_profile *p, bool notify, bool listen,
                             uint32_t def)
{
    for (size_t i = 0; i < p->n_arches; i++) {
        int rc = seccomp_arch_add(ctx, p->arches[i]);
        if (rc < 0 && rc != -EEXIST)
            return rc;
    }
    bool listen_ruled = false;
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct sbx_seccomp_rule *r = &p->rules[i];
        uint32_t act = scmp_action(r->action, r->errno_ret);
        bool uncond = r->n_args == 0;
        if (uncond && notify && r->action == SBX_ACT_ERRNO) {
            act = SCMP_ACT_NOTIFY;
            set_verdict(f, r->nr, r->errno_ret);
        } else if (uncond && r->action == SBX_ACT_ALLOW) {
            set_verdict(f, r->nr, 0);
            if (listen && r->nr == SCMP_SYS(listen)) {
                act = SCMP_ACT_NOTIFY;
                listen_ruled = true;
            }
        }
        if (act == def)
            continue; /* libseccomp refuses a rule that repeats the default */
        struct scmp_arg_cmp cmp[6];
        for (unsigned k = 0; k < r->n_args; k++)
            cmp[k] = (struct scmp_arg_cmp){r->args[k].index, r->args[k].op, r->args[k].value,
                                           r->args[k].value_two};
        int rc = seccomp_rule_add_array(ctx, act, r->nr, r->n_args, cmp);
        if (rc < 0)
            return rc;
    }
    /* A profile that allows everything by default still reports listen(). */
    if (listen && !listen_ruled && p->default_action == SBX_ACT_ALLOW &&
        f->verdict[SCMP_SYS(listen)] < 0) {
        set_verdict(f, SCMP_SYS(listen), 0);
        return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(listen), 0);
    }
    return 0;
}

/* The compiled BPF, read back through a memfd: the child then loads it with
 * one syscall and no allocation. */
static int export_program(scmp_filter_ctx ctx, struct sock_fprog *ret, cs_error *err)
{
    _cleanup_close_ int mfd = memfd_create("coldstart-seccomp", MFD_CLOEXEC);
    if (mfd < 0)
        return cs_error_set(err, errno, "memfd_create for the seccomp filter");
    int rc = seccomp_export_bpf(ctx, mfd);
    if (rc < 0)
        return cs_error_set(err, -rc, "cannot export the seccomp filter");
    off_t len = lseek(mfd, 0, SEEK_END);
    _cleanup_free_ void *code = len > 0 ? malloc((size_t)len) : NULL;
    if (!code || len % (off_t)sizeof(struct sock_filter) != 0 ||
        pread(mfd, code, (size_t)len, 0) != len)
        return cs_error_set(err, EIO, "cannot read back the seccomp filter");
    ret->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
    ret->filter = steal_pointer(&code);
    return 0;
}

static int alloc_notif_buffers(struct sbx_seccomp *f, cs_error *err)
{
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
        return cs_error_set(err, errno, "SECCOMP_GET_NOTIF_SIZES");
    f->req_size = sizes.seccomp_notif > sizeof *f->req ? sizes.seccomp_notif : sizeof *f->req;
    f->resp_size =
        sizes.seccomp_notif_resp > sizeof *f->resp ? sizes.seccomp_notif_resp : sizeof *f->resp;
    f->req = calloc(1, f->req_size);
    f->resp = calloc(1, f->resp_size);
    if (!f->req || !f->resp)
        return cs_error_set(err, ENOMEM, "seccomp notification buffers");
    return 0;
}

int sbx_seccomp_build(const struct sbx_seccomp_opts *opts, struct sbx_seccomp **ret, cs_error *err)
{
    *ret = NULL;
    bool notify = notify_supported();
    bool want_listen = opts->notify_listen && notify;
    if (opts->policy == SBX_SECCOMP_NONE && !want_listen)
        return 0;
    _cleanup_(seccomp_freep) struct sbx_seccomp *f = calloc(1, sizeof *f);
    if (!f)
        return cs_error_set(err, ENOMEM, "seccomp filter");
    for (size_t i = 0; i < VERDICT_TABLE; i++)
        f->verdict[i] = -1;
    f->from_profile = opts->policy == SBX_SECCOMP_PROFILE;

    uint32_t def = SCMP_ACT_ALLOW;
    const struct sbx_seccomp_profile *p = opts->profile;
    if (opts->policy == SBX_SECCOMP_PROFILE) {
        def = scmp_action(p->default_action, p->default_errno);
        if (p->default_action == SBX_ACT_ERRNO && notify) {
            def = SCMP_ACT_NOTIFY;
            f->default_deny = p->default_errno;
        }
    }
    _cleanup_(scmp_releasep) scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx)
        return cs_error_set(err, ENOMEM, "cannot create a seccomp filter");
    /* Leave the no_new_privs bit to sbx_seccomp_load (set unconditionally there). */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    /* A binary tree of syscall numbers (libseccomp 2.5) instead of a linear
     * list: fewer instructions for the kernel to check and JIT at every
     * load, one per run, and fewer to run at every system call. An older
     * libseccomp refuses the attribute and the list stays. */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    /* With policy none only listen() is notified; nothing is denied. */
    int rc = opts->policy == SBX_SECCOMP_PROFILE
                 ? add_profile_rules(ctx, f, p, notify, want_listen, def)
                 : add_default_rules(ctx, f, opts->policy == SBX_SECCOMP_DEFAULT,
                                     notify && opts->policy == SBX_SECCOMP_DEFAULT, want_listen);
    if (rc < 0)
        return cs_error_set(err, -rc, "cannot add a seccomp rule");
    if (export_program(ctx, &f->prog, err) < 0)
        return -1;
    f->listener = notify && (want_listen || opts->policy != SBX_SECCOMP_NONE);
    if (f->listener && alloc_notif_buffers(f, err) < 0)
        return -1;
    *ret = steal_pointer(&f);
    return 0;
}

int sbx_seccomp_load(const struct sbx_seccomp *f)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    if (!f)
        return 0;
    unsigned flags = f->listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &f->prog);
    if (fd < 0)
        return -1;
    return f->listener ? (int)fd : 0;
}

int sbx_seccomp_receive(const struct sbx_seccomp *f, int listener, struct sbx_seccomp_event *ret)
{
    struct seccomp_notif *req = f->req;
    memset(req, 0, f->req_size); /* the kernel wants it zeroed */
    int rc = seccomp_notify_receive(listener, req);
    if (rc == 0) {
        int nr = req->data.nr;
        int v = nr >= 0 && nr < VERDICT_TABLE ? f->verdict[nr] : -1;
        ret->id = req->id;
        ret->pid = (pid_t)req->pid;
        ret->syscall_nr = nr;
        ret->fd = (int)req->data.args[0];
        ret->deny = v < 0 ? f->default_deny : v;
        /* Without a verdict and without a default errno nothing is denied. */
        if (v < 0 && !f->default_deny)
            ret->deny = 0;
        ret->is_listen = nr == SCMP_SYS(listen) && ret->deny == 0;
    }
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

int sbx_seccomp_answer(const struct sbx_seccomp *f, int listener,
                       const struct sbx_seccomp_event *ev)
{
    struct seccomp_notif_resp *resp = f->resp;
    memset(resp, 0, f->resp_size);
    resp->id = ev->id;
    if (ev->deny)
        resp->error = -ev->deny;
    else
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    int rc = seccomp_notify_respond(listener, resp);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

const char *sbx_syscall_name(int nr)
{
    static char buf[32];
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (!name) {
        snprintf(buf, sizeof buf, "syscall_%d", nr);
        return buf;
    }
    snprintf(buf, sizeof buf, "%s", name);
    free(name);
    return buf;
}

int sbx_seccomp_listen_address(const struct sbx_seccomp_event *ev, struct sockaddr_storage *ret,
                               socklen_t *ret_len)
{
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, ev->pid, 0);
    if (pidfd < 0)
        return -1;
    _cleanup_close_ int fd = (int)syscall(SYS_pidfd_getfd, pidfd, ev->fd, 0);
    if (fd < 0)
        return -1;
    *ret_len = sizeof *ret;
    return getsockname(fd, (struct sockaddr *)ret, ret_len);
}
