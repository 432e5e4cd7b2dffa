#include "sandbox/seccomp.h"

#include <errno.h>
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

#include "sandbox/cleanup.h"

/* The default policy: calls that no server needs to start or serve and that
 * reach outside the sandbox (filesystems, kernel state, the clock, namespaces,
 * other processes' memory). They fail with EPERM, as in Docker's default
 * profile, and are counted per run so the report shows what a target tried.
 * What a runtime really calls at start-up (clone3, io_uring_setup for Node's
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

struct sbx_seccomp {
    struct sock_fprog prog; /* filter owned here */
    bool listener;
};

const char *const *sbx_seccomp_default_denied(void)
{
    return default_denied;
}

bool sbx_seccomp_has_listener(const struct sbx_seccomp *f)
{
    return f && f->listener;
}

/* User notification answered with "continue" needs libseccomp API level 6 and
 * Linux 5.5; older kernels get plain EPERM and no listen milestone. */
static bool notify_supported(void)
{
    return seccomp_api_get() >= 6;
}

void sbx_seccomp_free(struct sbx_seccomp *f)
{
    if (!f)
        return;
    free(f->prog.filter);
    free(f);
}

int sbx_seccomp_build(const struct sbx_seccomp_opts *opts, struct sbx_seccomp **ret, cs_error *err)
{
    *ret = NULL;
    bool notify = notify_supported();
    bool want_listen = opts->notify_listen && notify;
    if (opts->policy == SBX_SECCOMP_NONE && !want_listen)
        return 0;

    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return cs_error_set(err, ENOMEM, "cannot create a seccomp filter");
    int rc = 0;
    /* Leave the no_new_privs bit to sbx_seccomp_load (set unconditionally there). */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (want_listen)
        rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(listen), 0);
    if (rc == 0 && opts->policy == SBX_SECCOMP_DEFAULT) {
        uint32_t deny = notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
        for (size_t i = 0; default_denied[i] && rc == 0; i++) {
            int nr = seccomp_syscall_resolve_name(default_denied[i]);
            if (nr == __NR_SCMP_ERROR || nr < 0)
                continue; /* not a call on this architecture */
            rc = seccomp_rule_add(ctx, deny, nr, 0);
        }
    }
    if (rc < 0) {
        seccomp_release(ctx);
        return cs_error_set(err, -rc, "cannot add a seccomp rule");
    }

    /* Export the BPF through a memfd: the child then loads it with one syscall
     * and no allocation. */
    _cleanup_close_ int mfd = memfd_create("coldstart-seccomp", MFD_CLOEXEC);
    if (mfd < 0) {
        seccomp_release(ctx);
        return cs_error_set(err, errno, "memfd_create for the seccomp filter");
    }
    rc = seccomp_export_bpf(ctx, mfd);
    seccomp_release(ctx);
    if (rc < 0)
        return cs_error_set(err, -rc, "cannot export the seccomp filter");
    off_t len = lseek(mfd, 0, SEEK_END);
    if (len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0)
        return cs_error_set(err, EINVAL, "seccomp export produced %lld bytes", (long long)len);
    struct sbx_seccomp *f = calloc(1, sizeof *f);
    void *code = malloc((size_t)len);
    if (!f || !code) {
        free(f);
        free(code);
        return cs_error_set(err, ENOMEM, "seccomp filter");
    }
    if (pread(mfd, code, (size_t)len, 0) != len) {
        free(f);
        free(code);
        return cs_error_set(err, errno, "cannot read back the seccomp filter");
    }
    f->prog.len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
    f->prog.filter = code;
    f->listener = notify && (want_listen || opts->policy == SBX_SECCOMP_DEFAULT);
    *ret = f;
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

int sbx_seccomp_receive(int listener, struct sbx_seccomp_event *ret)
{
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    if (seccomp_notify_alloc(&req, &resp) < 0) {
        errno = ENOMEM;
        return -1;
    }
    int rc = seccomp_notify_receive(listener, req);
    if (rc == 0) {
        ret->id = req->id;
        ret->pid = (pid_t)req->pid;
        ret->syscall_nr = req->data.nr;
        ret->is_listen = req->data.nr == SCMP_SYS(listen);
        ret->fd = (int)req->data.args[0];
    }
    seccomp_notify_free(req, resp);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

int sbx_seccomp_answer(int listener, const struct sbx_seccomp_event *ev)
{
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    if (seccomp_notify_alloc(&req, &resp) < 0) {
        errno = ENOMEM;
        return -1;
    }
    memset(resp, 0, sizeof *resp);
    resp->id = ev->id;
    if (ev->is_listen) {
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else {
        resp->error = -EPERM;
    }
    int rc = seccomp_notify_respond(listener, resp);
    seccomp_notify_free(req, resp);
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
