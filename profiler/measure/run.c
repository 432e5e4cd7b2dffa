#include "profiler/measure/run.h"
#include "profiler/measure/container.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profiler/measure/run_internal.h"
#include "profiler/measure/sockets.h"
#include "profiler/measure/symbols.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/process.h"
#include "sandbox/spawn.h"

int64_t since_t0_us(struct prof_run *c)
{
    return (int64_t)((sbx_now_ns() - c->t0) / 1000);
}

void set_error(struct prof_run *c, enum rep_status st, const char *fmt, ...)
{
    if (c->done)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->run->status = st;
    free(c->run->error);
    c->run->error = strdup(msg);
    c->done = true;
}

int ep_add(struct prof_run *c, int fd, uint32_t events, enum ev_tag tag)
{
    c->sources[tag] = (struct ev_source){c, tag};
    struct epoll_event ev = {.events = events, .data.ptr = &c->sources[tag]};
    return epoll_ctl(c->loop->ep, EPOLL_CTL_ADD, fd, &ev);
}

void ep_mod(struct prof_run *c, int fd, uint32_t events, enum ev_tag tag)
{
    struct epoll_event ev = {.events = events, .data.ptr = &c->sources[tag]};
    epoll_ctl(c->loop->ep, EPOLL_CTL_MOD, fd, &ev);
}

void ep_del(struct prof_run *c, int fd)
{
    if (fd >= 0)
        epoll_ctl(c->loop->ep, EPOLL_CTL_DEL, fd, NULL);
}

void arm_timer(int tfd, uint64_t first_us, uint64_t interval_us)
{
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(first_us / 1000000),
                     .tv_nsec = (long)(first_us % 1000000) * 1000},
        .it_interval = {.tv_sec = (time_t)(interval_us / 1000000),
                        .tv_nsec = (long)(interval_us % 1000000) * 1000},
    };
    timerfd_settime(tfd, 0, &its, NULL);
}

/* ---- sampling ---- */

void take_sample(struct prof_run *c, bool record)
{
    struct prof_sample s;
    prof_sampler_take(c->spec->sampler, c->cg, &s);
    /* A process that is exiting still shows in cgroup.procs with no memory:
     * keep the last sample of a live target for "RSS at exit". */
    if (s.tasks > 0 && s.rss_bytes > 0) {
        c->last = s;
        c->have_last = true;
    } else if (c->have_last && s.tasks == 0) {
        return; /* nothing left to measure */
    }
    if ((int64_t)s.rss_bytes > c->rss_peak)
        c->rss_peak = (int64_t)s.rss_bytes;
    if ((int64_t)s.cgroup_bytes > c->cg_peak)
        c->cg_peak = (int64_t)s.cgroup_bytes;
    load_phase_sample(c, (int64_t)s.rss_bytes, (int64_t)s.cgroup_bytes);
    if (record)
        rep_series_push(&c->run->samples, since_t0_us(c), (int64_t)s.rss_bytes, (int64_t)s.cpu_us,
                        (int64_t)s.cgroup_bytes);
}

static void collect_mapped(struct prof_run *c);

static void on_sample_timer(struct prof_run *c)
{
    uint64_t expirations;
    if (read(c->sample_tfd, &expirations, sizeof expirations) != sizeof expirations)
        return;
    take_sample(c, load_phase_keeps_sample(c));
    /* --profile: a process's maps are read at its first sample, so read
     * samples while short-lived processes are still there: every 10 ms
     * (on every 1 ms tick it cost a CPU-bound Node start-up 2% more). */
    uint64_t now = sbx_now_ns();
    if (c->perf.n_rings && !c->ready && now - c->last_drain_ns >= 10000000ull) {
        c->last_drain_ns = now;
        perf_sampler_drain(&c->perf);
    }
    /* An exit-mode target is gone by "ready": learn what it maps while it
     * runs, every ~10 ms (reading maps costs more than a tick). */
    if (c->spec->ready->kind == PROF_READY_EXIT && c->spec->mapped &&
        now - c->last_maps_ns >= 10000000ull) {
        c->last_maps_ns = now;
        collect_mapped(c);
    }
}

/* ---- milestones ---- */

void mark_listen_at(struct prof_run *c, uint64_t when_ns)
{
    if (c->run->listen_us == REP_NONE)
        c->run->listen_us = (int64_t)((when_ns - c->t0) / 1000);
}

static void mark_listen(struct prof_run *c)
{
    mark_listen_at(c, sbx_now_ns());
}

/* The files every process of the target maps at ready: which shared
 * libraries and assemblies the runtime pulled in (and what a cold start must
 * read from disk). */
static void collect_mapped(struct prof_run *c)
{
    if (!c->spec->mapped)
        return;
    pid_t pids[1024];
    ssize_t n = sbx_cgroup_pids(c->cg, pids, 1024, NULL);
    bool container = c->spec->iso && c->spec->iso->rootfs;
    for (ssize_t i = 0; i < n && i < 1024; i++)
        prof_fileset_add_maps_in(c->spec->mapped, pids[i], container);
}

/* Bytes read from storage by the target's processes (/proc/PID/io), for
 * kernels whose cgroup I/O accounting misses them (v1 blk-throttle counts only
 * throttled I/O). */
static int64_t processes_read_bytes(struct prof_run *c)
{
    pid_t pids[1024];
    ssize_t n = sbx_cgroup_pids(c->cg, pids, 1024, NULL);
    int64_t sum = 0;
    for (ssize_t i = 0; i < n && i < 1024; i++) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/io", (long)pids[i]);
        uint64_t v = 0;
        if (fs_read_file(path, buf, sizeof buf, NULL) > 0 &&
            fs_keyed_u64_sep(buf, "read_bytes", ':', &v) == 0)
            sum += (int64_t)v;
    }
    return sum;
}

void finish(struct prof_run *c)
{
    if (!c->done) {
        c->run->status = REP_OK;
        c->done = true;
    }
}

static void record_cpu(struct prof_run *c, const struct sbx_cgroup_usage *u)
{
    c->run->cpu_to_ready_us = (int64_t)u->cpu_us;
    if (u->cpu_split) {
        c->run->cpu_user_us = (int64_t)u->cpu_user_us;
        c->run->cpu_sys_us = (int64_t)u->cpu_sys_us;
    }
}

void mark_ready_at(struct prof_run *c, uint64_t when_ns)
{
    c->ready = true;
    c->run->ready_us = (int64_t)((when_ns - c->t0) / 1000);
    /* The profile covers exec to ready: what follows is not start-up. */
    if (c->perf.fd >= 0)
        perf_sampler_stop(&c->perf);
    /* The footprint at ready: a tick for the series, then the full
     * snapshot (threads, faults, PSS) and the cgroup's CPU split. */
    take_sample(c, true);
    /* The run cgroup's processes, whoever their parent is: a server that
     * daemonizes (nginx's default: its starter exits, the master lives on)
     * has its memory at ready too. */
    struct prof_snapshot snap;
    if (prof_sampler_snapshot(c->spec->sampler, c->cg, &snap) == 0 && snap.tasks > 0) {
        c->run->rss_ready_bytes = (int64_t)snap.rss_bytes;
        c->run->pss_ready_bytes = (int64_t)snap.pss_bytes;
        c->run->threads_ready = (int64_t)snap.threads;
        c->run->processes_ready = (int64_t)snap.tasks;
        c->run->minflt = (int64_t)snap.minflt;
        c->run->majflt = (int64_t)snap.majflt;
        if ((int64_t)snap.rss_bytes > c->rss_peak)
            c->rss_peak = (int64_t)snap.rss_bytes;
        collect_mapped(c);
        c->io_read_bytes = processes_read_bytes(c);
    }
    if (c->spec->image_files)
        prof_image_read_collect(c->spec->image_files, c->spec->layer_dirs, c->spec->n_layers,
                                c->run);
    struct sbx_cgroup_usage u;
    if (sbx_cgroup_read_usage(c->cg, &u, NULL) == 0)
        record_cpu(c, &u);
    /* Requests after ready get the timeout afresh. */
    c->deadline_ns = sbx_now_ns() + c->spec->timeout_us * 1000;
    if (c->spec->requests == 0 ||
        (c->spec->ready->kind != PROF_READY_HTTP && !c->spec->request_url)) {
        requests_finished(c);
    } else if (c->spec->ready->kind != PROF_READY_HTTP) {
        /* Ready by a log line or a TCP connect: the requests go to --request-url. */
        probe_close(c);
        c->probe.addr = 0;
        c->probe.fast_retries_left = FAST_RETRIES;
        probe_connect(c);
    }
}

/* ---- target output ---- */

void mark_ready(struct prof_run *c)
{
    mark_ready_at(c, sbx_now_ns());
}

/* ---- the probe ---- */

/* ---- seccomp notifications ---- */

static void on_notify_sock(struct prof_run *c)
{
    int fd = sbx_child_receive_listener(&c->child);
    ep_del(c, c->child.notify_sock);
    close(c->child.notify_sock);
    c->child.notify_sock = -1;
    if (fd < 0)
        return;
    c->listener = fd;
    ep_add(c, fd, EPOLLIN, EV_LISTENER);
}

/* Runtimes listen on more than the served port: .NET's diagnostics server
 * listens on a Unix socket early in start-up. The `listen` milestone is the
 * first listen() on a TCP socket, on the probe's port when there is a probe.
 * A socket that cannot be inspected (the caller already exited) counts.
 * When it listens on the port but on an address the probe does not connect
 * to (127.0.0.1 against [::1]), the run fails at mismatch_deadline_ns (in
 * loop()) rather than at the timeout. */
static bool is_served_listen(struct prof_run *c, const struct sbx_seccomp_event *ev)
{
    struct sockaddr_storage a;
    socklen_t len;
    if (sbx_seccomp_listen_address(ev, &a, &len) < 0)
        return true;
    if (a.ss_family != AF_INET && a.ss_family != AF_INET6)
        return false;
    const struct prof_ready *r = c->spec->ready;
    char where[96];
    prof_format_address(&a, where, sizeof where);
    if (!c->first_listen[0])
        snprintf(c->first_listen, sizeof c->first_listen, "%s", where);
    if (!probe_ready_kind(c))
        return true;
    unsigned port = a.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&a)->sin_port)
                                           : ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    if (port != (unsigned)atoi(r->port)) {
        /* The most common first mistake (`env PORT=3000 node server.js`
         * probed on {port}): said at once, not after the timeout. A server
         * that listens on another port first (an admin port) has the grace
         * period to listen on the probed one too. */
        if (!c->mismatch_deadline_ns) {
            char probe_url[320] = "";
            const char *colon = strrchr(where, ':');
            if (colon &&
                snprintf(probe_url, sizeof probe_url, " (--ready %s://%s%.48s, or --port %s)",
                         r->kind == PROF_READY_HTTP ? "http" : "tcp", where,
                         r->kind == PROF_READY_HTTP ? r->path : "",
                         colon + 1) >= (int)sizeof probe_url)
                probe_url[0] = '\0';
            if (snprintf(c->mismatch, sizeof c->mismatch,
                         "the target listens on %s, not on port %s that the ready spec "
                         "probes: give the port it serves on%s",
                         where, r->port, probe_url) >= (int)sizeof c->mismatch)
                c->mismatch[sizeof c->mismatch - 1] = '\0';
            c->mismatch_deadline_ns = sbx_now_ns() + (uint64_t)ADDRESS_MISMATCH_GRACE_US * 1000;
        }
        return false;
    }
    int idx = prof_ready_address_for(r, &a);
    if (idx < 0) {
        if (!c->mismatch_deadline_ns) {
            char probed[96];
            prof_format_address(&r->addrs[0], probed, sizeof probed);
            /* A message: cut when the host name is very long, that is all. */
            if (snprintf(c->mismatch, sizeof c->mismatch,
                         "the target listens on %s, but the ready spec connects to %s (%s), "
                         "which that socket does not accept: give --ready the address it "
                         "listens on",
                         where, probed, r->host) >= (int)sizeof c->mismatch)
                c->mismatch[sizeof c->mismatch - 1] = '\0';
            c->mismatch_deadline_ns = sbx_now_ns() + (uint64_t)ADDRESS_MISMATCH_GRACE_US * 1000;
        }
        return false;
    }
    c->mismatch_deadline_ns = 0;
    if (c->probe.st == P_IDLE)
        c->probe.addr = (size_t)idx;
    return true;
}

static void on_listener(struct prof_run *c, uint32_t events)
{
    if (events & (EPOLLHUP | EPOLLERR)) {
        /* Every task using the filter is gone. */
        ep_del(c, c->listener);
        close(c->listener);
        c->listener = -1;
        return;
    }
    struct sbx_seccomp_event ev;
    if (sbx_seccomp_receive(c->spec->seccomp, c->listener, &ev) < 0)
        return; /* ENOENT: the caller died before we looked */
    /* Answer first: the target must not wait on our bookkeeping. */
    sbx_seccomp_answer(c->spec->seccomp, c->listener, &ev);
    if (ev.deny) {
        if (ev.syscall_nr >= 0 && ev.syscall_nr < DENIED_NR_MAX)
            c->denied[ev.syscall_nr]++;
        else
            c->denied_other++;
    }
    if (!ev.is_listen || !is_served_listen(c, &ev))
        return;
    mark_listen(c);
    /* The socket listens once the target runs on: connect right away so the
     * first request waits in the backlog. */
    if (!c->ready && c->probe.st == P_IDLE && probe_ready_kind(c)) {
        c->probe.fast_retries_left = FAST_RETRIES;
        probe_connect(c);
    }
}

/* ---- process lifetime ---- */

static void on_exec(struct prof_run *c)
{
    cs_error e;
    int rc;
    while ((rc = sbx_child_exec_result(&c->child, &e)) == 2)
        c->run->rootfs_us = (int64_t)((c->child.rootfs_ns - c->t0) / 1000);
    if (rc == 1)
        return;
    ep_del(c, c->child.exec_fd);
    close(c->child.exec_fd);
    c->child.exec_fd = -1;
    c->exec_done = true;
    if (rc == 0) {
        /* Started at once: the moment its execve let the profiler go on;
         * else when the loop saw the exec pipe close. */
        c->run->exec_us =
            c->child.exec_ns ? (int64_t)((c->child.exec_ns - c->t0) / 1000) : since_t0_us(c);
        return;
    }
    set_error(c, REP_ERROR, "%s", cs_error_text(&e));
}

static void on_target_exit(struct prof_run *c)
{
    if (!c->exec_done && c->child.exec_fd >= 0)
        on_exec(c); /* an exec failure explains the exit better than the exit */
    int status;
    struct rusage ru;
    pid_t p = wait4(c->child.pid, &status, WNOHANG, &ru);
    if (p <= 0)
        return;
    sbx_child_disown(p);
    c->main_exited = true;
    ep_del(c, c->child.pidfd);
    int64_t now_us = since_t0_us(c);
    if (WIFEXITED(status))
        c->run->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        c->run->signal = WTERMSIG(status);
    if (c->done)
        return;
    /* A ready line written just before the exit may still sit in the pipe
     * when the exit is seen first (same epoll batch): read it before
     * deciding that the target exited before it was ready. */
    drain_output(c);
    if (c->done)
        return;
    c->run->minflt = (int64_t)ru.ru_minflt;
    c->run->majflt = (int64_t)ru.ru_majflt;
    if (!c->ready)
        c->io_read_bytes = (int64_t)ru.ru_inblock * 512;

    struct sbx_cgroup_usage u = {0};
    sbx_cgroup_read_usage(c->cg, &u, NULL);
    char under_load[64];
    load_phase_moment(c, under_load, sizeof under_load);
    if (WIFSIGNALED(status)) {
        if (u.oom_kills > 0 && WTERMSIG(status) == SIGKILL)
            set_error(c, REP_OOM, "killed by the memory limit (OOM) after %.1f ms%s",
                      (double)now_us / 1000, under_load);
        else
            set_error(c, REP_CRASHED, "killed by signal %d (SIG%s)%s", WTERMSIG(status),
                      sigabbrev_np(WTERMSIG(status)), under_load);
        return;
    }
    int code = WEXITSTATUS(status);
    if (c->spec->ready->kind == PROF_READY_EXIT) {
        c->run->ready_us = now_us;
        c->ready = true;
        record_cpu(c, &u);
        if (c->have_last)
            c->run->rss_ready_bytes = (int64_t)c->last.rss_bytes;
        if (code == 0)
            finish(c);
        else if (u.oom_kills > 0)
            set_error(c, REP_OOM, "exited with code %d after an OOM kill in its cgroup", code);
        else
            set_error(c, REP_EXITED, "exited with code %d", code);
        return;
    }
    /* A daemon's parent exits 0 and leaves the server running: keep waiting. */
    pid_t left[1];
    if (code == 0 && sbx_cgroup_pids(c->cg, left, 1, NULL) > 0)
        return;
    if (u.oom_kills > 0)
        set_error(c, REP_OOM, "exited with code %d after an OOM kill in its cgroup%s", code,
                  under_load);
    else if (c->run->load)
        set_error(c, REP_EXITED, "exited with code %d during the load%s", code, under_load);
    else if (c->ready)
        set_error(c, REP_EXITED,
                  "exited with code %d before the requests after ready were "
                  "answered",
                  code);
    else
        set_error(c, REP_EXITED, "exited with code %d before it was ready", code);
}

/* ---- the loop: one epoll set for every run in it ---- */

/* SIGCHLD: without a pidfd it is how a target's exit is noticed; and the
 * orphans of targets re-parented to us (subreaper) are collected. */
static void on_sigchld(struct prof_run_loop *l)
{
    for (size_t i = 0; i < l->n_runs; i++) {
        struct prof_run *c = l->runs[i];
        if (c->child.pidfd >= 0 || c->main_exited)
            continue;
        siginfo_t me;
        memset(&me, 0, sizeof me);
        if (waitid(P_PID, (id_t)c->child.pid, &me, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            me.si_pid == c->child.pid)
            on_target_exit(c);
    }
    /* A target's main process is collected through its pidfd (or above):
     * owned, so left alone here. */
    sbx_reap_children();
}

/* SIGINT, SIGTERM, SIGHUP: every run in the loop ends as interrupted. */
static void on_signal(struct prof_run_loop *l)
{
    struct signalfd_siginfo si;
    if (read(l->signal_fd, &si, sizeof si) != sizeof si)
        return;
    if (si.ssi_signo == SIGCHLD) {
        on_sigchld(l);
        return;
    }
    for (size_t i = 0; i < l->n_runs; i++) {
        struct prof_run *c = l->runs[i];
        if (c->done)
            continue;
        c->interrupted = true;
        if (c->spec->ret_signal)
            *c->spec->ret_signal = (int)si.ssi_signo;
        set_error(c, REP_INTERRUPTED, "interrupted by signal %d (SIG%s)", (int)si.ssi_signo,
                  sigabbrev_np((int)si.ssi_signo));
    }
}

static void dispatch(struct prof_run *c, enum ev_tag tag, uint32_t events)
{
    switch (tag) {
    case EV_EXEC:
        on_exec(c);
        break;
    case EV_PIDFD:
        on_target_exit(c);
        break;
    case EV_STDOUT:
        on_output(c, &c->child.out_fd, PROF_STDOUT);
        break;
    case EV_STDERR:
        on_output(c, &c->child.err_fd, PROF_STDERR);
        break;
    case EV_NOTIFY_SOCK:
        on_notify_sock(c);
        break;
    case EV_LISTENER:
        on_listener(c, events);
        break;
    case EV_SAMPLE:
        on_sample_timer(c);
        break;
    case EV_RETRY:
        on_retry_timer(c);
        break;
    case EV_PROBE:
        on_probe(c, events);
        break;
    case EV_LOAD_DONE:
        on_load_done(c);
        break;
    case EV_LOAD_REST:
        on_load_rest(c);
        break;
    case EV_PROFILE:
        perf_sampler_drain(&c->perf);
        break;
    case EV_EXEC_PROBE:
        on_exec_probe_exit(c);
        break;
    case EV_SIGNAL:
    case EV_N:
        break;
    }
}

/* Everything before the clock starts: the cgroup, the child prepared up to
 * exec (waiting at its gate), its descriptors in the loop. */
static int setup(struct prof_run *c, bool shared_gate, cs_error *err)
{
    const struct prof_run_spec *s = c->spec;
    c->sample_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    c->retry_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    c->out = prof_output_new();
    if (c->sample_tfd < 0 || c->retry_tfd < 0)
        return cs_error_set(err, errno, "cannot set up the event loop");
    if (!c->out)
        return cs_error_set(err, ENOMEM, "output buffer");
    if (sbx_cgroup_create(s->cgroot, s->limits, &c->cg, err) < 0)
        return -1;
    struct sbx_spawn_opts so = {.argv = s->argv,
                                .envp = s->envp,
                                .cwd = s->cwd,
                                .cgroup = c->cg,
                                .seccomp = s->seccomp,
                                .iso = s->iso,
                                .gate = shared_gate ? &c->loop->gate : NULL,
                                /* Gated where the waiting child is needed:
                                 * counters opened on it, or a profile that
                                 * may trap its last calls before exec. */
                                .start_at_once =
                                    !s->profile && !sbx_seccomp_from_profile(s->seccomp)};
    c->shared_gate = shared_gate;
    if (sbx_spawn_prepared(&so, &c->child, err) < 0)
        return -1;
    /* Its exit status and rusage are this run's: nobody else reaps it. */
    sbx_child_own(c->child.pid);
    /* Opened while the child waits at its gate: its exec turns it on. */
    if (s->profile && perf_sampler_open(&c->perf, c->child.pid, (int)s->profile_hz, err) < 0)
        return -1;
    c->realtime_minus_mono_ns = prof_realtime_minus_mono();
    c->run->samples.interval_us = s->interval_us;
    ep_add(c, c->child.exec_fd, EPOLLIN, EV_EXEC);
    if (c->child.pidfd >= 0)
        ep_add(c, c->child.pidfd, EPOLLIN, EV_PIDFD);
    ep_add(c, c->child.out_fd, EPOLLIN, EV_STDOUT);
    ep_add(c, c->child.err_fd, EPOLLIN, EV_STDERR);
    if (c->child.notify_sock >= 0)
        ep_add(c, c->child.notify_sock, EPOLLIN, EV_NOTIFY_SOCK);
    ep_add(c, c->sample_tfd, EPOLLIN, EV_SAMPLE);
    ep_add(c, c->retry_tfd, EPOLLIN, EV_RETRY);
    for (size_t i = 0; i < c->perf.n_rings; i++)
        ep_add(c, c->perf.rings[i].fd, EPOLLIN, EV_PROFILE);
    return 0;
}

/* Lets the prepared child exec: t0, the deadline, the timers, the probe. */
static void release(struct prof_run *c)
{
    const struct prof_run_spec *s = c->spec;
    cs_error err;
    /* Let go by the loop's gate (t0 set there), or by its own. */
    int rc = c->shared_gate ? 0 : sbx_child_release(&c->child, &err);
    c->released = true;
    /* --extract cold: the clock starts with the extraction (the profiler's
     * own set-up between the two is left out). */
    c->t0 = c->child.t0_ns - s->extract_ns;
    c->run->spawn = c->child.started_at_once ? REP_SPAWN_AT_ONCE : REP_SPAWN_GATED;
    if (s->extract_ns)
        c->run->extract_us = (int64_t)(s->extract_ns / 1000);
    c->run->t0_monotonic_ns = c->t0;
    c->deadline_ns = c->t0 + s->timeout_us * 1000;
    if (rc < 0) {
        set_error(c, REP_ERROR, "%s", cs_error_text(&err));
        return;
    }
    if (s->interval_us > 0)
        arm_timer(c->sample_tfd, s->interval_us, s->interval_us);
    if (probe_ready_kind(c)) {
        if (sbx_seccomp_has_listener(s->seccomp))
            arm_timer(c->retry_tfd, FALLBACK_POLL_US, 0);
        else
            probe_connect(c);
    } else if (exec_probe_kind(c)) {
        exec_probe_attempt(c);
    }
}

/* The timeout, with what the run saw that explains it. */
static void report_timeout(struct prof_run *c)
{
    double s = (double)c->spec->timeout_us / 1e6;
    if (c->run->load && c->run->load->command) {
        uint64_t limit = c->spec->load->command_timeout_us;
        set_error(c, REP_TIMEOUT,
                  "the load command did not exit within %.3g s (--timeout applies to it afresh)",
                  limit ? (double)limit / 1e6 : s);
    } else if (c->run->load) {
        set_error(c, REP_TIMEOUT, "the load did not end within its duration plus %.3g s", s);
    } else if (c->ready) {
        set_error(c, REP_TIMEOUT, "the requests after ready did not finish within %.3g s", s);
    } else if (c->foreign[0]) {
        set_error(c, REP_TIMEOUT,
                  "not ready within %.3g s; port %s is held by %s, which is not the target", s,
                  c->spec->ready->port, c->foreign);
    } else if (c->spec->ready->kind == PROF_READY_LOG && c->run->listen_us != REP_NONE) {
        set_error(c, REP_TIMEOUT,
                  "not ready within %.3g s: the target listened after %.1f ms but never "
                  "printed a line matching the ready regex; if it prints one, its output may "
                  "be block-buffered in a pipe (python -u / PYTHONUNBUFFERED=1, stdbuf -oL)",
                  s, (double)c->run->listen_us / 1000);
    } else if (c->spec->ready->kind == PROF_READY_EXIT && c->first_listen[0]) {
        set_error(c, REP_TIMEOUT,
                  "not ready within %.3g s: with --ready exit a run ends when the target "
                  "exits, but it listened on %s after %.1f ms and kept running: a server? give "
                  "--ready http://%s/ (or tcp://%s)",
                  s, c->first_listen, (double)c->run->listen_us / 1000, c->first_listen,
                  c->first_listen);
    } else if (exec_probe_kind(c) && c->exec_probe.attempts) {
        set_error(c, REP_TIMEOUT,
                  "not ready within %.3g s: `%s` ran %u time%s in the target's namespaces and "
                  "never exited 0 (the last: %d)",
                  s, c->spec->ready->path, c->exec_probe.attempts,
                  c->exec_probe.attempts == 1 ? "" : "s", c->exec_probe.last_exit);
    } else if (c->probe.retry_answers && c->spec->ready->kind == PROF_READY_TCP) {
        set_error(c, REP_TIMEOUT,
                  "not ready within %.3g s: the target answered %u time%s, never as the "
                  "%s probe expects (the last answer: %s)",
                  s, c->probe.retry_answers, c->probe.retry_answers == 1 ? "" : "s",
                  c->spec->ready->protocol, c->probe.last_answer);
    } else if (c->probe.retry_answers) {
        set_error(c, REP_TIMEOUT,
                  "not ready within %.3g s: the target answered %u time%s with a status "
                  "--ready-retry-status waits through (the last: %d)",
                  s, c->probe.retry_answers, c->probe.retry_answers == 1 ? "" : "s",
                  c->probe.last_retry_status);
    } else {
        set_error(c, REP_TIMEOUT, "not ready within %.3g s", s);
    }
}

/* The deadlines of one run: the timeout, and an address mismatch that did
 * not resolve. Returns the earlier of them still ahead (0: the run ended). */
static uint64_t check_deadlines(struct prof_run *c, uint64_t now)
{
    if (c->mismatch_deadline_ns && !c->ready && now >= c->mismatch_deadline_ns) {
        set_error(c, REP_ERROR, "%s", c->mismatch);
        return 0;
    }
    if (now >= c->deadline_ns) {
        report_timeout(c);
        return 0;
    }
    uint64_t until = c->deadline_ns;
    if (c->mismatch_deadline_ns && c->mismatch_deadline_ns < until)
        until = c->mismatch_deadline_ns;
    return until;
}

/* Keeps the slow fallback poll going until the probe has a connection. */
static void keep_fallback_poll(struct prof_run *c)
{
    if (c->done || !probe_ready_kind(c) || !sbx_seccomp_has_listener(c->spec->seccomp) ||
        c->ready || c->probe.st != P_IDLE || c->run->listen_us != REP_NONE)
        return;
    struct itimerspec cur;
    timerfd_gettime(c->retry_tfd, &cur);
    if (!cur.it_value.tv_sec && !cur.it_value.tv_nsec)
        arm_timer(c->retry_tfd, FALLBACK_POLL_US, 0);
}

void prof_run_loop_wait(struct prof_run_loop *l)
{
    prof_run_loop_release(l); /* a prepared run nobody released starts now */
    for (;;) {
        uint64_t now = sbx_now_ns(), until = UINT64_MAX;
        for (size_t i = 0; i < l->n_runs; i++) {
            struct prof_run *c = l->runs[i];
            uint64_t u = c->done ? 0 : check_deadlines(c, now);
            if (u && u < until)
                until = u;
        }
        if (until == UINT64_MAX)
            return; /* every run has ended */
        /* epoll_wait takes an int of ms: a deadline days away (a --timeout of
         * weeks) is waited for in steps rather than cast to a negative
         * number, which would mean "forever". */
        uint64_t wait_ms = until > now ? (until - now + 999999) / 1000000 : 0;
        int timeout_ms = wait_ms > 3600000 ? 3600000 : (int)wait_ms;
        struct epoll_event evs[64];
        int n = epoll_wait(l->ep, evs, 64, timeout_ms);
        for (size_t i = 0; n < 0 && errno != EINTR && i < l->n_runs; i++)
            set_error(l->runs[i], REP_ERROR, "epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            const struct ev_source *src = evs[i].data.ptr;
            if (!src->c)
                on_signal(l);
            else if (!src->c->done)
                dispatch(src->c, src->tag, evs[i].events);
        }
        for (size_t i = 0; i < l->n_runs; i++)
            keep_fallback_poll(l->runs[i]);
    }
}

static void finalize(struct prof_run *c)
{
    struct rep_run *r = c->run;
    load_phase_end(c);
    if (c->cg) {
        struct sbx_cgroup_usage u;
        if (sbx_cgroup_read_usage(c->cg, &u, NULL) == 0) {
            r->cgroup_peak_bytes = u.memory_peak_bytes ? (int64_t)u.memory_peak_bytes : c->cg_peak;
            r->nr_throttled = (int64_t)u.nr_throttled;
            r->throttled_us = (int64_t)u.throttled_us;
            r->read_bytes =
                (int64_t)u.read_bytes > c->io_read_bytes ? (int64_t)u.read_bytes : c->io_read_bytes;
            if (r->status != REP_OK && r->status != REP_INTERRUPTED && u.oom_kills > 0 &&
                r->status != REP_OOM) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s (the cgroup saw %llu OOM kill%s)",
                         r->error ? r->error : "failed", (unsigned long long)u.oom_kills,
                         u.oom_kills == 1 ? "" : "s");
                free(r->error);
                r->error = strdup(msg);
                r->status = REP_OOM;
            } else if (r->status == REP_OK && u.oom_kills > 0) {
                /* The main process lived on, but the limit killed one of
                 * its processes (a worker, a database backend the server
                 * restarted): under this limit it does not serve safely. */
                char msg[200];
                snprintf(msg, sizeof msg,
                         "served, but the memory limit OOM-killed %llu of its processes",
                         (unsigned long long)u.oom_kills);
                free(r->error);
                r->error = strdup(msg);
                r->status = REP_OOM;
            }
        }
    }
    if (c->rss_peak > 0)
        r->rss_peak_bytes = c->rss_peak;
    /* The exit can be handled before the output it wrote in the same epoll
     * batch: drain what is left in the pipes (non-blocking) before keeping
     * the tail, or a failed run would lose its last, most telling lines. */
    drain_output(c);
    if (r->status != REP_OK && c->out) {
        r->output_tail = prof_output_tail(c->out);
        const char *line = prof_output_error_line(c->out);
        r->error_line = line ? strdup(line) : NULL;
    }
}

/* --profile cpu: the samples up to ready named and added to the target's
 * profile, before the stop signal: the processes' maps and perf maps are
 * read from the living processes (a container's /tmp goes with it). */
static void profile_finish(struct prof_run *c)
{
    if (c->perf.fd < 0 || c->profile_done)
        return;
    c->profile_done = true;
    perf_sampler_stop(&c->perf);
    for (size_t i = 0; i < c->perf.n_rings; i++)
        ep_del(c, c->perf.rings[i].fd);
    if (c->released) {
        const struct rep_run *r = c->run;
        struct prof_phase_bounds b = {
            .t0_ns = c->t0,
            .listen_ns = r->listen_us != REP_NONE ? c->t0 + (uint64_t)r->listen_us * 1000 : 0,
            .ready_ns =
                r->ready_us != REP_NONE && c->ready ? c->t0 + (uint64_t)r->ready_us * 1000 : 0,
            .end_ns = sbx_now_ns(),
            .main_pid = c->child.pid,
            .maps_from_exec = c->spec->profile_maps};
        struct prof_profile_acc *acc = c->spec->profile;
        acc->samples += prof_profile_resolve(&c->perf, &b, c->spec->kallsyms, &acc->folded);
        acc->lost += c->perf.lost;
        acc->runs++;
    }
    perf_sampler_close(&c->perf);
}

/* Reaps the target's main process if it has exited, without blocking. */
static void reap_main(struct prof_run *c)
{
    if (!c->main_exited && c->child.pid > 0 &&
        waitpid(c->child.pid, NULL, WNOHANG) == c->child.pid) {
        sbx_child_disown(c->child.pid);
        c->main_exited = true;
    }
}

/* The first half of stopping the target as `docker stop` does: the stop
 * signal to its main process (to every process of the run when the main one
 * is gone, as for a daemon), once. */
static void send_stop(struct prof_run *c)
{
    profile_finish(c);
    if (c->stop.sent || !c->cg)
        return;
    c->stop.sent = true;
    pid_t pids[1024];
    reap_main(c);
    ssize_t n = sbx_cgroup_pids(c->cg, pids, 1024, NULL);
    if (n <= 0 && c->main_exited)
        return; /* nothing was running: start_ns stays 0 */
    c->stop.start_ns = sbx_now_ns();
    int sig = c->spec->stop_signal > 0 ? c->spec->stop_signal : SIGTERM;
    /* With its main process alive the target is stopped when that process
     * exits (as a container is when its PID 1 does: what it leaves is killed);
     * a daemon whose starter is gone is stopped when all its processes are. */
    c->stop.had_main = !c->main_exited;
    if (c->stop.had_main)
        kill(c->child.pid, sig); /* not reaped yet: the pid is still ours */
    else
        for (ssize_t i = 0; i < n && i < 1024; i++)
            kill(pids[i], sig);
}

void prof_run_begin_stop(struct prof_run *c)
{
    send_stop(c);
}

/* Stops the target: the stop signal (unless prof_run_begin_stop sent it),
 * then up to --stop-timeout from the signal for it to exit. What is left is
 * killed with the cgroup right after. Returns when the signal went out (0:
 * nothing was running). Waiting for a daemon's processes is the one wait
 * that polls: v1 offers no event for "the cgroup became empty". */
static uint64_t stop_target(struct prof_run *c)
{
    send_stop(c);
    uint64_t start = c->stop.start_ns;
    if (!start)
        return 0;
    uint64_t deadline = start + c->spec->stop_timeout_us * 1000;
    if (c->stop.had_main && c->child.pidfd >= 0) {
        /* The main process's exit is an event: wait for it, not by polling. */
        struct pollfd pfd = {.fd = c->child.pidfd, .events = POLLIN};
        for (;;) {
            uint64_t now = sbx_now_ns();
            int ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
            if (poll(&pfd, 1, ms) >= 0 || errno != EINTR)
                break;
        }
        reap_main(c);
        return start;
    }
    pid_t pids[1];
    while (sbx_now_ns() < deadline) {
        reap_main(c);
        sbx_reap_children();
        if (c->main_exited && (c->stop.had_main || sbx_cgroup_pids(c->cg, pids, 1, NULL) == 0))
            break;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    return start;
}

int prof_run_loop_new(int signal_fd, struct prof_run_loop **ret, cs_error *err)
{
    struct prof_run_loop *l = calloc(1, sizeof *l);
    if (!l)
        return cs_error_set(err, ENOMEM, "run loop");
    l->signal_fd = signal_fd;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        free(l);
        return cs_error_set(err, errno, "cannot set up the event loop");
    }
    l->gate = (struct sbx_gate){-1, -1}; /* opened by the first prepared run */
    l->signal_source = (struct ev_source){NULL, EV_SIGNAL};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->signal_source};
    if (signal_fd >= 0 && epoll_ctl(l->ep, EPOLL_CTL_ADD, signal_fd, &ev) < 0) {
        int e = errno;
        close(l->ep);
        free(l);
        return cs_error_set(err, e, "cannot watch the signal descriptor");
    }
    *ret = l;
    return 0;
}

/* Stops the target, removes its cgroup, closes what the run opened. Returns
 * 0, or -1 with err set when the cgroup could not be removed. */
static int teardown(struct prof_run *c, cs_error *err)
{
    /* Never released (a burst whose later instance failed to start): it
     * has run nothing of the target's; no stop signal, no grace period. */
    if (!c->released && c->child.pid > 0)
        kill(c->child.pid, SIGKILL);
    probe_close(c);
    exec_probe_stop(c);
    if (c->listener >= 0)
        close(c->listener);
    prof_sampler_reset(c->spec->sampler);
    uint64_t stop_start = c->cg ? stop_target(c) : 0;
    int rc = c->cg ? sbx_cgroup_destroy(c->cg, err) : 0;
    if (stop_start)
        c->run->stop_us = (int64_t)((sbx_now_ns() - stop_start) / 1000);
    return rc;
}

static void free_ctx(struct prof_run *c)
{
    /* Not reaped by now (killed with its cgroup): sbx_reap_children may. */
    if (c->child.pid > 0 && !c->main_exited)
        sbx_child_disown(c->child.pid);
    perf_sampler_close(&c->perf);
    sbx_child_close_fds(&c->child);
    if (c->sample_tfd >= 0)
        close(c->sample_tfd);
    if (c->retry_tfd >= 0)
        close(c->retry_tfd);
    prof_output_free(c->out);
    free(c);
}

static int prepare(struct prof_run_loop *l, const struct prof_run_spec *spec, struct rep_run *run,
                   bool shared_gate, struct prof_run **ret, cs_error *err)
{
    if (l->n_runs == PROF_RUN_LOOP_MAX)
        return cs_error_set(err, 0, "at most %d runs in one loop", PROF_RUN_LOOP_MAX);
    struct prof_run *c = calloc(1, sizeof *c);
    if (!c)
        return cs_error_set(err, ENOMEM, "run");
    *c = (struct prof_run){
        .spec = spec, .run = run, .loop = l, .sample_tfd = -1, .retry_tfd = -1, .listener = -1};
    c->load.rest_tfd = c->load.cmd_pidfd = c->load.cmd_out = -1;
    c->probe.fd = -1;
    c->exec_probe.pidfd = -1;
    c->perf.fd = -1;
    sbx_child_init(&c->child);
    l->runs[l->n_runs++] = c;
    if (setup(c, shared_gate, err) < 0) {
        cs_error terr;
        teardown(c, &terr); /* the set-up error is the one to report */
        l->n_runs--;
        free_ctx(c);
        return -1;
    }
    *ret = c;
    return 0;
}

int prof_run_prepare(struct prof_run_loop *l, const struct prof_run_spec *spec, struct rep_run *run,
                     struct prof_run **ret, cs_error *err)
{
    /* A single run (prof_run_start) has a gate of its own: no pipe here. */
    if (l->gate.r < 0 && sbx_gate_open(&l->gate, err) < 0)
        return -1;
    return prepare(l, spec, run, true, ret, err);
}

void prof_run_loop_release(struct prof_run_loop *l)
{
    size_t waiting = 0;
    for (size_t i = 0; i < l->n_runs; i++)
        waiting += !l->runs[i]->released && l->runs[i]->shared_gate;
    uint64_t t0 = sbx_now_ns();
    cs_error err = {0};
    int rc = waiting ? sbx_gate_release(&l->gate, waiting, &t0, &err) : 0;
    for (size_t i = 0; i < l->n_runs; i++) {
        struct prof_run *c = l->runs[i];
        if (c->released)
            continue;
        if (c->shared_gate)
            c->child.t0_ns = t0;
        release(c);
        if (rc < 0 && c->shared_gate)
            set_error(c, REP_ERROR, "%s", cs_error_text(&err));
    }
}

int prof_run_start(struct prof_run_loop *l, const struct prof_run_spec *spec, struct rep_run *run,
                   struct prof_run **ret, cs_error *err)
{
    struct prof_run *c = NULL;
    if (prepare(l, spec, run, false, &c, err) < 0 || !c)
        return -1;
    release(c);
    *ret = c;
    return 0;
}

int prof_run_snapshot(struct prof_run *c, struct prof_snapshot *ret)
{
    if (!c->cg || prof_sampler_snapshot(c->spec->sampler, c->cg, ret) < 0 || ret->tasks == 0)
        return -1;
    return 0;
}

/* The counts of on_listener, named, into the run record. */
static void record_denied(struct prof_run *c)
{
    for (int nr = 0; nr < DENIED_NR_MAX; nr++)
        if (c->denied[nr] && rep_run_add_denied(c->run, sbx_syscall_name(nr), c->denied[nr]) < 0)
            return;
    if (c->denied_other)
        rep_run_add_denied(c->run, "(unknown)", c->denied_other);
}

int prof_run_finish(struct prof_run *c, cs_error *err)
{
    struct prof_run_loop *l = c->loop;
    record_denied(c);
    finalize(c);
    /* The run's numbers stand; a cgroup that could not be removed is
     * reported to the caller. */
    int rc = teardown(c, err);
    bool interrupted = c->interrupted;
    for (size_t i = 0; i < l->n_runs; i++)
        if (l->runs[i] == c)
            l->runs[i] = l->runs[--l->n_runs];
    free_ctx(c);
    if (rc < 0)
        return -1;
    return interrupted ? 1 : 0;
}

int prof_run_loop_free(struct prof_run_loop *l, cs_error *err)
{
    if (!l)
        return 0;
    /* Processes that left the runs' cgroups are still our descendants (we
     * are their subreaper): they go too, and nothing here waits without a
     * bound. Only once no run of the loop is left, so no run loses its own. */
    int rc = l->n_runs == 0 ? sbx_kill_descendants(10000, err) : 0;
    sbx_gate_close(&l->gate);
    close(l->ep);
    free(l);
    return rc;
}

int prof_run_once(const struct prof_run_spec *spec, struct rep_run *run, cs_error *err)
{
    struct prof_run_loop *l = NULL;
    if (prof_run_loop_new(spec->signal_fd, &l, err) < 0 || !l)
        return -1;
    struct prof_run *c = NULL;
    int rc = prof_run_start(l, spec, run, &c, err);
    if (rc == 0 && c) {
        prof_run_loop_wait(l);
        rc = prof_run_finish(c, err);
    }
    cs_error kerr;
    if (prof_run_loop_free(l, &kerr) < 0 && rc >= 0) {
        *err = kerr;
        rc = -1;
    }
    return rc;
}
