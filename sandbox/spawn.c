#include "sandbox/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#define CS_CLONE_INTO_CGROUP 0x200000000ULL
/* How long the child may take to enter its cgroup and load its filter. */
#define PREPARE_TIMEOUT_MS 10000

/* struct clone_args of Linux 5.7 (CLONE_ARGS_SIZE_VER2), spelled out so the
 * build does not depend on the kernel headers' version. */
struct cs_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

enum child_step {
    STEP_CGROUP = 1,
    STEP_STDIO,
    STEP_CWD,
    STEP_SECCOMP,
    STEP_EXEC,
    STEP_NET,
    STEP_MOUNT,
    STEP_RLIMIT,
    STEP_USER,
    STEP_CAPS,
    STEP_PROC,
    STEP_PDEATHSIG,
    STEP_HOSTNAME,
    STEP_ROOTFS,
};

/* Child -> parent on the exec pipe: one PREPARED byte when the child sits in
 * its cgroup with stdio, cwd and seccomp in place (a container: its
 * namespaces); then, for a container, a ROOTFS record once its root is
 * mounted; a FAILED record if a step fails; EOF (close-on-exec) once exec
 * succeeded. Records are smaller than PIPE_BUF: each write is atomic. */
#define MSG_PREPARED 'P'
#define MSG_FAILED 'F'
#define MSG_ROOTFS 'R'

struct child_failure {
    char tag; /* MSG_FAILED or MSG_ROOTFS */
    int step;
    int errnum;
    uint64_t ns;     /* MSG_ROOTFS: when */
    char detail[64]; /* MSG_FAILED: which part of the step, or "" */
};

bool sbx_isolation_new_pid_ns(const struct sbx_isolation *iso)
{
    return iso && (iso->new_pid_ns || (iso->rootfs && !iso->rootfs->mount_only));
}

/* An OCI runtime is started on the host's side: it makes the container. */
static bool runs_runtime(const struct sbx_isolation *iso)
{
    return iso && iso->rootfs && iso->rootfs->mount_only;
}

uint64_t sbx_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sbx_child_init(struct sbx_child *c)
{
    memset(c, 0, sizeof *c);
    c->pidfd = c->exec_fd = c->out_fd = c->err_fd = c->notify_sock = c->netns_fd = c->gate_fd = -1;
}

void sbx_child_close_fds(struct sbx_child *c)
{
    int *fds[] = {&c->pidfd,       &c->exec_fd,  &c->out_fd, &c->err_fd,
                  &c->notify_sock, &c->netns_fd, &c->gate_fd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

int sbx_mounts_below(const char *prefix, char ***ret, size_t *ret_n, cs_error *err)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return cs_error_set(err, errno, "cannot read /proc/self/mountinfo");
    char line[4096], **v = NULL;
    size_t n = 0, plen = strlen(prefix);
    while (fgets(line, sizeof line, f)) {
        char mp[4096];
        /* id parent major:minor root mount-point ... */
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
            continue;
        if (strncmp(mp, prefix, plen) != 0 || (mp[plen] != '\0' && mp[plen] != '/'))
            continue;
        char **grown = realloc(v, (n + 1) * sizeof *v);
        if (!grown)
            break;
        v = grown;
        v[n++] = strdup(mp);
    }
    fclose(f);
    *ret = v;
    *ret_n = n;
    return 0;
}

int sbx_socket_in(int netns_fd, int domain, int type, int protocol, cs_error *err)
{
    if (netns_fd < 0) {
        int fd = socket(domain, type, protocol);
        return fd < 0 ? cs_error_set(err, errno, "socket") : fd;
    }
    /* A socket belongs to the namespace it was created in: step into the
     * target's, create it, step back. */
    _cleanup_close_ int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (own < 0)
        return cs_error_set(err, errno, "cannot open our network namespace");
    if (setns(netns_fd, CLONE_NEWNET) < 0)
        return cs_error_set(err, errno, "cannot enter the target's network namespace");
    int fd = socket(domain, type, protocol);
    int saved = errno;
    if (setns(own, CLONE_NEWNET) < 0)
        abort(); /* stuck in the target's namespace: nothing after this could be trusted */
    if (fd < 0)
        return cs_error_set(err, saved, "socket in the target's network namespace");
    return fd;
}

void sbx_handled_signals(sigset_t *ret)
{
    sigemptyset(ret);
    sigaddset(ret, SIGINT);
    sigaddset(ret, SIGTERM);
    sigaddset(ret, SIGHUP);
    sigaddset(ret, SIGCHLD);
}

int sbx_pending_stop_signal(void)
{
    sigset_t pending;
    if (sigpending(&pending) < 0)
        return 0;
    const int stops[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        if (sigismember(&pending, stops[i]) == 1)
            return stops[i];
    return 0;
}

int sbx_process_setup(cs_error *err)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return cs_error_set(err, errno, "cannot become a child subreaper");
    /* SIGPIPE: a target that closes the probe's socket must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sbx_handled_signals(&set);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return cs_error_set(err, errno, "sigprocmask");
    return 0;
}

/* Only async-signal-safe calls below, until exec: the child of a clone. */
static __attribute__((noreturn)) void child_fail_detail(int fd, int step, const char *detail)
{
    int errnum = errno;
    struct child_failure f;
    memset(&f, 0, sizeof f); /* no uninitialised padding goes down the pipe */
    f.tag = MSG_FAILED;
    f.step = step;
    f.errnum = errnum;
    for (size_t i = 0; detail && detail[i] && i + 1 < sizeof f.detail; i++)
        f.detail[i] = detail[i];
    ssize_t n = write(fd, &f, sizeof f);
    (void)n;
    _exit(127);
}

static __attribute__((noreturn)) void child_fail(int fd, int step)
{
    child_fail_detail(fd, step, NULL);
}

/* `lo` up in a fresh network namespace (what `ip link set lo up` does). */
static int loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
    return rc;
}

static void send_fd(int sock, int fd)
{
    char dummy = 'L';
    struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

int sbx_keep_only_capabilities(const int *keep, size_t n)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < n; i++)
        mask |= 1ull << keep[i];
    for (int cap = 0; cap < 64; cap++) {
        if (mask & (1ull << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return -1; /* EINVAL: beyond the kernel's last capability */
    }
    /* EINVAL: a kernel before ambient capabilities (4.3) has none to clear. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -1;
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        uint32_t m = (uint32_t)(mask >> (32 * i));
        d[i].effective &= m;
        d[i].permitted &= m;
        d[i].inheritable &= m;
    }
    return (int)syscall(SYS_capset, &h, d);
}

/* Docker's default capabilities less CAP_MKNOD (profiler/oci/bundle.c says
 * why). */
static int drop_capabilities(void)
{
    static const int keep[] = {
        CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FOWNER,  CAP_FSETID,           CAP_KILL,
        CAP_SETGID,     CAP_SETUID,       CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW,
        CAP_SYS_CHROOT, CAP_AUDIT_WRITE,  CAP_SETFCAP};
    return sbx_keep_only_capabilities(keep, sizeof keep / sizeof keep[0]);
}

/* Capabilities, rlimits and the user: what every target drops before exec. */
static void drop_privileges(const struct sbx_isolation *iso, int exec_w)
{
    if (iso && iso->drop_caps && drop_capabilities() < 0)
        child_fail(exec_w, STEP_CAPS);
    for (size_t i = 0; iso && i < iso->n_rlimits; i++) {
        struct rlimit rl = {.rlim_cur = iso->rlimits[i].soft, .rlim_max = iso->rlimits[i].hard};
        if (setrlimit(iso->rlimits[i].resource, &rl) < 0)
            child_fail(exec_w, STEP_RLIMIT);
    }
}

static void switch_user(const struct sbx_isolation *iso, int exec_w)
{
    if (iso && iso->set_user &&
        (setgroups(0, NULL) < 0 || setgid(iso->gid) < 0 || setuid(iso->uid) < 0))
        child_fail(exec_w, STEP_USER);
}

static void load_seccomp(const struct sbx_spawn_opts *o, int exec_w, int notify_w)
{
    int listener = sbx_seccomp_load(o->seccomp);
    if (listener < 0)
        child_fail(exec_w, STEP_SECCOMP);
    if (listener > 0) {
        send_fd(notify_w, listener);
        close(listener);
    }
}

static void stdio_to_pipes(int exec_w, int out_w, int err_w)
{
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
        child_fail(exec_w, STEP_STDIO);
}

/* Where a child started at once (no gate) writes its t0: the parent's
 * memory, which the CLONE_VM child shares (sbx_spawn_prepared). */
static volatile uint64_t *started_t0;

/* Prepared: wait for the parent to take t0 and open the gate. EOF means the
 * parent gave up; leave quietly. Without a gate (gate_r < 0) the child takes
 * t0 itself, as the last thing before execve. */
static void wait_for_release(int exec_w, int gate_r)
{
    char go = 0;
    if (write(exec_w, &(char){MSG_PREPARED}, 1) != 1)
        _exit(127);
    if (gate_r < 0) {
        if (started_t0) /* always, when started at once */
            *started_t0 = sbx_now_ns();
        return;
    }
    while (read(gate_r, &go, 1) < 0 && errno == EINTR)
        ;
    if (go != 'G')
        _exit(127);
}

/* mkdir -p inside the container, as runc does for a WorkingDir the image
 * does not have (the writable layer takes it). */
static int make_dirs(const char *dir)
{
    static char p[4096];
    size_t len = 0;
    while (dir[len] && len + 1 < sizeof p)
        len++;
    if (dir[len])
        return errno = ENAMETOOLONG, -1;
    memcpy(p, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -1;
        p[i] = c;
    }
    return 0;
}

/* execvpe inside the container: argv[0] looked up in the target's PATH (the
 * image's), without execvpe's fallback to /bin/sh. */
static void exec_in_path(char *const *argv, char *const *envp)
{
    const char *name = argv[0];
    if (strchr(name, '/')) {
        execve(name, argv, envp);
        return;
    }
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    static char cand[4096];
    size_t nlen = strlen(name);
    int saved = ENOENT;
    for (const char *p = path;;) {
        size_t len = strcspn(p, ":");
        const char *dir = len ? p : ".";
        size_t dlen = len ? len : 1;
        if (dlen + 1 + nlen < sizeof cand) {
            memcpy(cand, dir, dlen);
            cand[dlen] = '/';
            memcpy(cand + dlen + 1, name, nlen + 1);
            execve(cand, argv, envp);
            if (errno == EACCES)
                saved = EACCES;
            else if (errno != ENOENT && errno != ENOTDIR) {
                saved = errno;
                break;
            }
        }
        p += len;
        if (*p != ':')
            break;
        p++;
    }
    errno = saved;
}

/* The container: namespaces and stdio before the release; after it (measured)
 * the root, then privileges, working directory, filter and exec. */
static __attribute__((noreturn)) void container_main(const struct sbx_spawn_opts *o,
                                                     const char *path, int exec_w, int gate_r,
                                                     int out_w, int err_w, int notify_w)
{
    const struct sbx_isolation *iso = o->iso;
    bool runtime = runs_runtime(iso);
    if (unshare(CLONE_NEWNS | (runtime ? 0 : CLONE_NEWUTS)) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        child_fail(exec_w, STEP_MOUNT);
    const char *host = iso->hostname ? iso->hostname : "coldstart";
    if (!runtime && sethostname(host, strlen(host)) < 0)
        child_fail(exec_w, STEP_HOSTNAME);
    /* crun 1.8 refuses a hybrid host ("cgroups in hybrid mode not
     * supported") while the v2 mount is there; in this namespace only. */
    if (runtime)
        umount2("/sys/fs/cgroup/unified", MNT_DETACH);
    stdio_to_pipes(exec_w, out_w, err_w);
    wait_for_release(exec_w, gate_r);

    const char *step = "";
    if (sbx_rootfs_enter(iso->rootfs, &step) < 0)
        child_fail_detail(exec_w, STEP_ROOTFS, step);
    struct child_failure mounted;
    memset(&mounted, 0, sizeof mounted);
    mounted.tag = MSG_ROOTFS;
    mounted.ns = sbx_now_ns();
    if (write(exec_w, &mounted, sizeof mounted) != (ssize_t)sizeof mounted)
        _exit(127);
    if (runtime) {
        /* The runtime drops privileges and enters the root itself; the
         * filter (the listen notification) is inherited by the container. */
        load_seccomp(o, exec_w, notify_w);
        execve(path, o->argv, o->envp);
        child_fail(exec_w, STEP_EXEC);
    }

    drop_privileges(iso, exec_w);
    switch_user(iso, exec_w);
    const char *cwd = o->cwd ? o->cwd : "/";
    if ((make_dirs(cwd) < 0 || chdir(cwd) < 0))
        child_fail(exec_w, STEP_CWD);
    load_seccomp(o, exec_w, notify_w);
    exec_in_path(o->argv, o->envp);
    child_fail(exec_w, STEP_EXEC);
}

/* A host command: mounts (a private /tmp, read-only cgroupfs, /proc of its PID
 * namespace), privileges, stdio, user and filter before the release, so that
 * t0 to exec is the exec itself. */
static __attribute__((noreturn)) void host_main(const struct sbx_spawn_opts *o, const char *path,
                                                int exec_w, int gate_r, int out_w, int err_w,
                                                int notify_w)
{
    const struct sbx_isolation *iso = o->iso;
    /* A private /tmp hides whatever was under /tmp (a build tree, say): hold
     * the executable and the working directory open from before. The
     * executable fd is not close-on-exec, so that #! scripts still run. */
    int exe_fd = -1, cwd_fd = -1;
    bool new_mounts = iso && (iso->private_tmp || iso->n_ro_mounts || iso->new_pid_ns);
    if (new_mounts) {
        exe_fd = open(path, O_PATH);
        if (o->cwd && (cwd_fd = open(o->cwd, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            child_fail(exec_w, STEP_CWD);
        /* Our own mount namespace, with nothing propagating back to the host. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            child_fail(exec_w, STEP_MOUNT);
        if (iso->private_tmp &&
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
            child_fail(exec_w, STEP_MOUNT);
        for (size_t i = 0; i < iso->n_ro_mounts; i++)
            if (mount(NULL, iso->ro_mounts[i], NULL,
                      MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      NULL) < 0)
                child_fail(exec_w, STEP_MOUNT);
        /* A /proc of the new PID namespace: the host's processes, the
         * profiler among them, are not in it. */
        if (iso->new_pid_ns &&
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            child_fail(exec_w, STEP_PROC);
    }
    drop_privileges(iso, exec_w);
    stdio_to_pipes(exec_w, out_w, err_w);
    switch_user(iso, exec_w);
    if (cwd_fd >= 0 ? fchdir(cwd_fd) < 0 : (o->cwd && chdir(o->cwd) < 0))
        child_fail(exec_w, STEP_CWD);
    load_seccomp(o, exec_w, notify_w);
    wait_for_release(exec_w, gate_r);
    if (exe_fd >= 0)
        syscall(SYS_execveat, exe_fd, "", o->argv, o->envp, AT_EMPTY_PATH);
    else
        execve(path, o->argv, o->envp);
    child_fail(exec_w, STEP_EXEC);
}

static __attribute__((noreturn)) void child_main(const struct sbx_spawn_opts *o, const char *path,
                                                 pid_t parent, int exec_w, int gate_r,
                                                 const int *join, size_t n_join, int out_w,
                                                 int err_w, int notify_w)
{
    /* The parent blocks the signals it reads from a signalfd; a target starts
     * with none blocked and default dispositions. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* A shared gate: only the parent may hold its write end, so that the
     * gate closing (the parent gone) reads as EOF here. */
    if (o->gate)
        close(o->gate->w);

    /* If the profiler dies (even by SIGKILL) the target dies too; its own
     * children are left to the next start's stale-cgroup reaping. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        child_fail(exec_w, STEP_PDEATHSIG);
    /* In a PID namespace of its own the parent is outside it: getppid() is 0. */
    if (getppid() != parent && !sbx_isolation_new_pid_ns(o->iso))
        _exit(127);
    /* A session of its own: the terminal's Ctrl-C goes to the profiler, which
     * then tears the run down in order, not to the target directly. */
    setsid();

    for (size_t i = 0; i < n_join; i++)
        if (write(join[i], "0", 1) != 1)
            child_fail(exec_w, STEP_CGROUP);

    const struct sbx_isolation *iso = o->iso;
    if (iso && iso->net != SBX_NET_HOST) {
        if (unshare(CLONE_NEWNET) < 0)
            child_fail(exec_w, STEP_NET);
        if (iso->net == SBX_NET_LOOPBACK && loopback_up() < 0)
            child_fail(exec_w, STEP_NET);
    }
    if (iso && iso->rootfs)
        container_main(o, path, exec_w, gate_r, out_w, err_w, notify_w);
    host_main(o, path, exec_w, gate_r, out_w, err_w, notify_w);
}

static bool is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* PATH lookup in the parent (the child only calls execve): the target's own
 * PATH, else ours. Unlike execvpe there is no fallback that runs a file
 * without a valid executable format through /bin/sh: that is an error. */
int sbx_resolve_executable(const char *name, char *const *envp, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", name);
    if (strchr(name, '/') || !*name)
        return *name && is_executable_file(name) ? 0 : -1;
    const char *path = NULL;
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    if (!path)
        path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        char cand[PATH_MAX];
        int n = snprintf(cand, sizeof cand, "%.*s/%s", (int)len, len ? p : ".", name);
        /* A candidate too long to name is skipped, never cut to another file. */
        if (n > 0 && (size_t)n < sizeof cand && (size_t)n < cap && is_executable_file(cand)) {
            snprintf(buf, cap, "%s", cand);
            return 0;
        }
        p += len;
        if (*p == ':')
            p++;
    }
    return -1;
}

static long clone3_into(int cgroup_fd, bool new_pid_ns, int *ret_pidfd)
{
    struct cs_clone_args args = {0};
    args.flags =
        CLONE_PIDFD | (cgroup_fd >= 0 ? CS_CLONE_INTO_CGROUP : 0) | (new_pid_ns ? CLONE_NEWPID : 0);
    args.pidfd = (uint64_t)(uintptr_t)ret_pidfd;
    args.exit_signal = SIGCHLD;
    args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
    return syscall(SYS_clone3, &args, sizeof args);
}

/* The descriptors between parent and child: the exec status pipe, the gate
 * that releases the child, stdout, stderr, and the socket the seccomp
 * listener is passed over (-1 without one). */
struct channels {
    int exec_r, exec_w, gate_r, gate_w, out_r, out_w, err_r, err_w, notify_r, notify_w;
};

static void channels_close(struct channels *ch)
{
    int *fds = &ch->exec_r;
    for (size_t i = 0; i < sizeof *ch / sizeof(int); i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static int channels_open(struct channels *ch, bool notify, cs_error *err)
{
    int *ends[][2] = {{&ch->exec_r, &ch->exec_w},
                      {&ch->gate_r, &ch->gate_w},
                      {&ch->out_r, &ch->out_w},
                      {&ch->err_r, &ch->err_w}};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            return cs_error_set(err, errno, "pipe");
        *ends[i][0] = p[0];
        *ends[i][1] = p[1];
    }
    if (notify) {
        int p[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0)
            return cs_error_set(err, errno, "socketpair");
        ch->notify_r = p[0];
        ch->notify_w = p[1];
    }
    return 0;
}

/* Waits until the child is in its cgroup and prepared to exec; keeps the
 * gate's write end for sbx_child_release. On cgroup v1 the first write to
 * cgroup.procs waits for an RCU grace period (~10 ms), the profiler's cost
 * and not the target's, so it stays before t0. */
static int wait_prepared(const struct sbx_spawn_opts *o, pid_t pid, struct channels *ch,
                         struct sbx_child *ret, cs_error *err)
{
    char tag = 0;
    ssize_t got = -1;
    /* Bounded: a seccomp profile that denies what the child still calls after
     * loading it (sendmsg, write, read, execve) would otherwise hang us. */
    struct pollfd pfd = {.fd = ch->exec_r, .events = POLLIN};
    int pr;
    while ((pr = poll(&pfd, 1, PREPARE_TIMEOUT_MS)) < 0 && errno == EINTR)
        ;
    if (pr == 0) {
        kill(pid, SIGKILL);
        return cs_error_set(err, 0,
                            "the target's process did not get ready to exec within %d s; a "
                            "seccomp profile must allow sendmsg, write, read and execve (as "
                            "Docker's default does)",
                            PREPARE_TIMEOUT_MS / 1000);
    }
    while ((got = read(ch->exec_r, &tag, 1)) < 0 && errno == EINTR)
        ;
    if (got == 1 && tag == MSG_PREPARED) {
        if (o->iso && o->iso->net != SBX_NET_HOST) {
            /* Without it the probe's sockets would silently be made in the
             * host's namespace (sbx_socket_in takes -1 as "ours"). */
            char ns[64];
            snprintf(ns, sizeof ns, "/proc/%ld/ns/net", (long)pid);
            ret->netns_fd = open(ns, O_RDONLY | O_CLOEXEC);
            if (ret->netns_fd < 0) {
                int e = errno;
                kill(pid, SIGKILL);
                return cs_error_set(err, e, "cannot open the target's network namespace (%s)", ns);
            }
        }
        if (!o->gate) /* else the caller's sbx_gate lets it go */
            ret->gate_fd = steal_fd(&ch->gate_w);
    } else {
        /* A failure record (or the child died): the exec pipe still explains
         * it; let the caller read it through sbx_child_exec_result. */
        ret->pending_failure = got == 1 && tag == MSG_FAILED;
    }
    /* The loop reads these until EAGAIN: a blocking one would hang it. */
    int pipes[] = {ch->out_r, ch->err_r, ch->exec_r, ch->notify_r};
    for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++)
        if (pipes[i] >= 0 && fcntl(pipes[i], F_SETFL, O_NONBLOCK) < 0) {
            int e = errno;
            kill(pid, SIGKILL);
            return cs_error_set(err, e, "cannot make the target's pipes non-blocking");
        }
    return 0;
}

int sbx_child_release(struct sbx_child *c, cs_error *err)
{
    if (c->started_at_once)
        return 0; /* it took t0 itself and exec'd */
    c->t0_ns = sbx_now_ns();
    if (c->gate_fd < 0)
        return 0; /* it failed before exec: the exec pipe says why */
    ssize_t w;
    while ((w = write(c->gate_fd, "G", 1)) < 0 && errno == EINTR)
        ;
    int e = errno;
    close(c->gate_fd);
    c->gate_fd = -1;
    if (w != 1) {
        kill(c->pid, SIGKILL);
        return cs_error_set(err, e, "cannot release the target");
    }
    return 0;
}

int sbx_gate_open(struct sbx_gate *g, cs_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return cs_error_set(err, errno, "pipe");
    g->r = p[0];
    g->w = p[1];
    return 0;
}

int sbx_gate_release(struct sbx_gate *g, size_t n, uint64_t *ret_t0, cs_error *err)
{
    char go[256];
    memset(go, 'G', sizeof go);
    *ret_t0 = sbx_now_ns();
    /* One write wakes every child at once; each reads one byte. */
    while (n > 0) {
        ssize_t w = write(g->w, go, n < sizeof go ? n : sizeof go);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return cs_error_set(err, errno, "cannot release the targets");
        n -= (size_t)w;
    }
    return 0;
}

void sbx_gate_close(struct sbx_gate *g)
{
    if (g->r >= 0)
        close(g->r);
    if (g->w >= 0)
        close(g->w);
    g->r = g->w = -1;
}

/* The parent's side once the child runs: its pid and pidfd, our copies of
 * its ends closed, its "prepared" awaited. A child started at once has
 * exec'd by now (we resumed at `resumed`), t0 its own clock reading just
 * before execve; t0 is 0 where CLONE_VM was turned into a fork (valgrind
 * does that), and then our resuming stands in for it. A gated child waits
 * for sbx_child_release. */
static int started(const struct sbx_spawn_opts *o, pid_t pid, int pidfd, bool at_once, uint64_t t0,
                   uint64_t resumed, struct channels *ch, const int *join, size_t n_join,
                   struct sbx_child *ret, cs_error *err)
{
    int saved = errno;
    for (size_t i = 0; i < n_join; i++)
        close(join[i]);
    if (pidfd < 0 && saved != ENOSYS) {
        kill(pid, SIGKILL);
        return cs_error_set(err, saved, "pidfd_open");
    }
    /* Without pidfds (Linux < 5.3, valgrind) the caller learns of the exit
     * from SIGCHLD instead. */
    ret->pid = pid;
    ret->pidfd = pidfd;

    /* The parent's copies of the child's ends: closed now, so that EOF on the
     * exec pipe really means the child exec'd (or died). */
    int *childs[] = {&ch->exec_w, &ch->gate_r, &ch->out_w, &ch->err_w, &ch->notify_w};
    for (size_t i = 0; i < sizeof childs / sizeof childs[0]; i++)
        if (*childs[i] >= 0)
            close(steal_fd(childs[i]));
    if (wait_prepared(o, pid, ch, ret, err) < 0)
        return -1;
    if (at_once) {
        ret->started_at_once = true;
        ret->t0_ns = t0 ? t0 : resumed;
        ret->exec_ns = t0 ? resumed : 0;
        if (ret->gate_fd >= 0) { /* nothing waits behind it */
            close(ret->gate_fd);
            ret->gate_fd = -1;
        }
    }
    ret->argv0 = o->argv[0];
    ret->cwd = o->cwd;
    ret->exec_fd = steal_fd(&ch->exec_r);
    ret->out_fd = steal_fd(&ch->out_r);
    ret->err_fd = steal_fd(&ch->err_r);
    ret->notify_sock = steal_fd(&ch->notify_r);
    return 0;
}

/* ---- started at once: CLONE_VM | CLONE_VFORK ---- */

/* A copy of the whole profiler (fork: ~170 mappings, ~580 us here) that its
 * execve then tears down, inside the `exec` milestone and the target's CPU,
 * is what the gate costs. A child that need not wait (no shared gate, no
 * counters opened on it, no namespace to set up) shares our memory instead,
 * as posix_spawn does: we are suspended until it has exec'd, it runs on a
 * stack of its own and touches nothing of ours but its t0. */
bool sbx_spawn_can_start_at_once(const struct sbx_spawn_opts *o)
{
    const struct sbx_isolation *iso = o->iso;
    if (!o->start_at_once || o->gate || sbx_cgroup_dirfd(o->cgroup) >= 0)
        return false; /* v2 places the child with clone3(CLONE_INTO_CGROUP) */
    return !iso || (!iso->rootfs && iso->net == SBX_NET_HOST && !iso->private_tmp &&
                    !iso->n_ro_mounts && !iso->new_pid_ns);
}

struct at_once {
    const struct sbx_spawn_opts *o;
    const char *path;
    pid_t parent;
    struct channels *ch;
    const int *join;
    size_t n_join;
};

/* Under ASan the child first says it is on its own stack: ASan keeps one
 * record of the thread's stack, which the child shares with us (same thread
 * pointer), and would take the child's frames for a stack overflow of ours.
 * clone_at_once announces the switch and switches back once we resume. */
static int at_once_main(void *arg)
{
    const struct at_once *a = arg;
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    child_main(a->o, a->path, a->parent, a->ch->exec_w, -1, a->join, a->n_join, a->ch->out_w,
               a->ch->err_w, a->ch->notify_w);
}

#define AT_ONCE_STACK ((size_t)256 * 1024)

static long clone_at_once(const struct at_once *a, int *ret_pidfd)
{
    /* One stack for every start (they come one at a time, from this thread),
     * mapped rather than static: nothing else's memory lies beside it. */
    static void *stack;
    if (!stack) {
        stack = mmap(NULL, AT_ONCE_STACK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) {
            stack = NULL;
            return -1;
        }
    }
#ifdef __SANITIZE_ADDRESS__
    /* The last child's frames left their redzones poisoned in the shadow of
     * this memory (it exec'd, never returning through them). */
    ASAN_UNPOISON_MEMORY_REGION(stack, AT_ONCE_STACK);
    void *own_bottom = NULL;
    size_t own_size = 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &own_bottom, &own_size);
        pthread_attr_destroy(&attr);
    }
    __sanitizer_start_switch_fiber(NULL, stack, AT_ONCE_STACK);
#endif
    long pid = clone(at_once_main, (char *)stack + AT_ONCE_STACK,
                     CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, (void *)a, ret_pidfd);
#ifdef __SANITIZE_ADDRESS__
    /* Back on our own stack, whether the child switched or never ran here. */
    __sanitizer_start_switch_fiber(NULL, own_bottom, own_size);
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    return pid;
}

int sbx_spawn(const struct sbx_spawn_opts *o, struct sbx_child *ret, cs_error *err)
{
    if (sbx_spawn_prepared(o, ret, err) < 0)
        return -1;
    return sbx_child_release(ret, err);
}

int sbx_spawn_prepared(const struct sbx_spawn_opts *o, struct sbx_child *ret, cs_error *err)
{
    sbx_child_init(ret);
    _cleanup_(channels_close) struct channels ch = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    if (channels_open(&ch, sbx_seccomp_has_listener(o->seccomp), err) < 0)
        return -1;

    /* v2: clone3(CLONE_INTO_CGROUP) places the child atomically. v1 (or a
     * kernel without it): the child writes itself into each cgroup.procs. */
    int join[8];
    size_t n_join = 0;
    int cgroup_fd = sbx_cgroup_dirfd(o->cgroup);
    if (sbx_cgroup_open_join_fds(o->cgroup, join, 8, &n_join, err) < 0)
        return -1;

    /* A container's command is looked up inside it, by the child. */
    char path[PATH_MAX] = "";
    if (!(o->iso && o->iso->rootfs) || runs_runtime(o->iso))
        sbx_resolve_executable(o->argv[0], o->envp, path, sizeof path);
    pid_t parent = getpid();
    int pidfd = -1;
    bool new_pid_ns = sbx_isolation_new_pid_ns(o->iso);
    if (sbx_spawn_can_start_at_once(o)) {
        volatile uint64_t t0 = 0;
        started_t0 = &t0;
        struct at_once a = {o, path, parent, &ch, join, n_join};
        long pid = clone_at_once(&a, &pidfd);
        uint64_t resumed = sbx_now_ns(); /* the child has exec'd (or died) */
        started_t0 = NULL;
        if (pid > 0)
            return started(o, (pid_t)pid, pidfd, true, t0, resumed, &ch, join, n_join, ret, err);
        /* The kernel refused (no stack could be mapped, say): the gated path.
         * valgrind does not refuse; it turns CLONE_VM into a fork, and then
         * t0 stays 0 here and started() takes our resuming for it. */
    }
    long pid = clone3_into(cgroup_fd, new_pid_ns, &pidfd);
    if (pid < 0 && new_pid_ns)
        return cs_error_set(err, errno, "cannot start `%s` in a PID namespace of its own (clone3)",
                            o->argv[0]);
    if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
        pid = fork();
        if (pid > 0)
            pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    } else if (pid == 0 && cgroup_fd >= 0) {
        n_join = 0; /* already in place */
    }
    if (pid == 0)
        child_main(o, path, parent, ch.exec_w, o->gate ? o->gate->r : ch.gate_r, join, n_join,
                   ch.out_w, ch.err_w, ch.notify_w);
    int saved = errno;
    if (pid < 0) {
        for (size_t i = 0; i < n_join; i++)
            close(join[i]);
        return cs_error_set(err, saved, "cannot start `%s`", o->argv[0]);
    }
    return started(o, (pid_t)pid, pidfd, false, 0, 0, &ch, join, n_join, ret, err);
}

int sbx_child_exec_result(struct sbx_child *c, cs_error *err)
{
    struct child_failure f;
    char *p = (char *)&f;
    size_t want = sizeof f;
    if (c->pending_failure) { /* its tag byte was read by sbx_spawn */
        f.tag = MSG_FAILED;
        p++;
        want--;
    }
    ssize_t n = read(c->exec_fd, p, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 1;
    if (n == 0 && !c->pending_failure)
        return 0;
    if (n == (ssize_t)want && f.tag == MSG_ROOTFS && !c->pending_failure) {
        c->rootfs_ns = f.ns;
        return 2;
    }
    if (n != (ssize_t)want || f.tag != MSG_FAILED)
        return cs_error_set(err, n < 0 ? errno : EIO,
                            "the target died before exec (no status from it)");
    static const char *const steps[] = {
        [STEP_CGROUP] = "cannot enter the run cgroup",
        [STEP_STDIO] = "cannot set up the target's stdio",
        [STEP_CWD] = "cannot change to the working directory",
        [STEP_SECCOMP] = "cannot load the seccomp filter",
        [STEP_EXEC] = "cannot execute",
        [STEP_NET] = "cannot set up the target's network namespace",
        [STEP_MOUNT] = "cannot set up the target's mount namespace",
        [STEP_RLIMIT] = "cannot set an --rlimit (above the hard limit?)",
        [STEP_USER] = "cannot switch to the --user",
        [STEP_CAPS] = "cannot drop capabilities",
        [STEP_PROC] = "cannot mount a /proc for the target's PID namespace",
        [STEP_PDEATHSIG] = "cannot tie the target's life to the profiler's (PR_SET_PDEATHSIG)",
        [STEP_HOSTNAME] = "cannot set the container's hostname",
        [STEP_ROOTFS] = "cannot build the container's root",
    };
    const char *what = f.step >= STEP_CGROUP && f.step <= STEP_ROOTFS ? steps[f.step] : "failed";
    f.detail[sizeof f.detail - 1] = '\0';
    if (f.step == STEP_ROOTFS)
        return cs_error_set(err, f.errnum, "%s (%s)", what, f.detail);
    if (f.step == STEP_EXEC && f.errnum == ENOENT && !strchr(c->argv0, '/'))
        return cs_error_set(err, 0, "cannot execute `%s`: not found in PATH", c->argv0);
    if (f.step == STEP_EXEC)
        return cs_error_set(err, f.errnum, "cannot execute `%s`", c->argv0);
    if (f.step == STEP_CWD)
        return cs_error_set(err, f.errnum, "cannot change to the working directory `%s`", c->cwd);
    return cs_error_set(err, f.errnum, "%s", what);
}

int sbx_child_receive_listener(struct sbx_child *c)
{
    char dummy;
    struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    if (recvmsg(c->notify_sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
        return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}
