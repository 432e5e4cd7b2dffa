/* The CPU profile's names found in a child process with limits, as
 * systemd-coredump parses ELF files (src/shared/elf-util.c): the files
 * parsed are the target's, elfutils is not hardened against them, and the
 * profiler runs as root. The child gets a bounded address space, CPU time
 * and wall time, no core dump, no new privileges and only the capabilities
 * it needs to read a process's files through /proc/PID/root and to remove
 * the perf maps it was asked to; it sends the collapsed stacks back as
 * text, the format of a .folded file. If it dies or takes too long, the
 * samples stay, under `[names unavailable]`: the names are lost, never the
 * run. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profiler/measure/symbols.h"
#include "reports/output.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/spawn.h"

/* Address space the child may add to what it inherits (libdwfl maps each
 * module; Node's binary is 77 MB), its CPU time and the parent's wait. */
#define CHILD_EXTRA_AS_BYTES (1ull << 30)
#define CHILD_CPU_S 60
#define CHILD_WALL_MS 90000

static uint64_t vm_size_bytes(void)
{
    char buf[4096];
    uint64_t kib = 0;
    if (fs_read_file("/proc/self/status", buf, sizeof buf, NULL) > 0)
        fs_keyed_u64_sep(buf, "VmSize", ':', &kib);
    return kib * 1024;
}

/* Every capability leaves but what reading another user's process files
 * needs (ptrace access to /proc/PID/root, reading any file) and removing a
 * perf map in a sticky /tmp; the rest of root's power is gone for good. */
static int keep_reading_caps(void)
{
    static const int keep[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_SYS_PTRACE,
                               CAP_KILL};
    return sbx_keep_only_capabilities(keep, sizeof keep / sizeof keep[0]);
}

static void limit(int resource, uint64_t value)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) == 0 && (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > value)) {
        rl.rlim_cur = rl.rlim_max = value;
        setrlimit(resource, &rl);
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static _Noreturn void child(int out, const struct perf_sampler *p, const struct prof_phase_bounds *b,
                            struct prof_kallsyms **kallsyms)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    limit(RLIMIT_CORE, 0);
    limit(RLIMIT_CPU, CHILD_CPU_S);
    limit(RLIMIT_AS, vm_size_bytes() + CHILD_EXTRA_AS_BYTES);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || keep_reading_caps() < 0)
        _exit(3);
    /* The stop signals the profiler blocks end this child at once. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct rep_folded f = {0};
    prof_profile_resolve_here(p, b, kallsyms, &f);
    struct rep_buf text = {0};
    for (size_t i = 0; i < f.n; i++)
        rep_buf_printf(&text, "%s %llu\n", f.v[i].stack, (unsigned long long)f.v[i].count);
    int rc = f.failed || text.failed || write_all(out, text.data ? text.data : "", text.len) < 0;
    _exit(rc ? 4 : 0);
}

/* Reads the child's answer until EOF, for at most CHILD_WALL_MS in all. */
static char *read_answer(int fd, pid_t pid)
{
    struct rep_buf b = {0};
    uint64_t deadline = sbx_now_ns() + CHILD_WALL_MS * 1000000ull;
    char chunk[65536];
    for (;;) {
        uint64_t now = sbx_now_ns();
        if (now >= deadline || sbx_pending_stop_signal()) {
            kill(pid, SIGKILL);
            rep_buf_free(&b);
            return NULL;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, 100);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready <= 0)
            continue;
        ssize_t n = read(fd, chunk, sizeof chunk - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        chunk[n] = '\0';
        rep_buf_puts(&b, chunk); /* the stacks hold no NUL: they are text */
    }
    if (b.failed) {
        rep_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

/* The samples, each under its phase, when their names could not be found. */
static uint64_t add_unnamed(const struct perf_sampler *p, const struct prof_phase_bounds *b,
                            struct rep_folded *out)
{
    uint64_t end = b->ready_ns ? b->ready_ns : b->end_ns, added = 0;
    for (size_t i = 0; i < p->n_samples; i++) {
        uint64_t t = p->samples[i].time_ns;
        if (t < b->t0_ns || (end && t > end))
            continue;
        const char *phase = !b->listen_ns        ? "[exec-ready]"
                            : t < b->listen_ns ? "[exec-listen]"
                                               : "[listen-ready]";
        char stack[64];
        snprintf(stack, sizeof stack, "%s;[names unavailable]", phase);
        added += rep_folded_add(out, stack, 1) == 0;
    }
    return added;
}

uint64_t prof_profile_resolve(const struct perf_sampler *p, const struct prof_phase_bounds *b,
                              struct prof_kallsyms **kallsyms, struct rep_folded *out)
{
    prof_kallsyms_ensure(kallsyms); /* the kernel's, trusted: read here, once */
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return add_unnamed(p, b, out);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return add_unnamed(p, b, out);
    }
    if (pid == 0) {
        close(pipefd[0]);
        child(pipefd[1], p, b, kallsyms);
    }
    close(pipefd[1]);
    char *text = read_answer(pipefd[0], pid);
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    struct rep_folded got;
    cs_error ignored;
    bool ok = text && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
              rep_folded_parse(text, "the resolver's answer", &got, &ignored) == 0;
    free(text);
    if (!ok)
        return add_unnamed(p, b, out);
    uint64_t added = 0;
    for (size_t i = 0; i < got.n; i++)
        if (rep_folded_add(out, got.v[i].stack, got.v[i].count) == 0)
            added += got.v[i].count;
    rep_folded_free(&got);
    return added;
}
