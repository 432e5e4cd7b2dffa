#include "profiler/measure/run.h"

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

#include "profiler/measure/http.h"
#include "profiler/measure/sockets.h"
#include "profiler/measure/output.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/process.h"
#include "sandbox/spawn.h"

/* After a listen() notification the socket is listening a few microseconds
 * later, once the target thread runs again: retry a refused connect quickly
 * at first, then at the 1 ms floor. */
#define FAST_RETRY_US 50
#define FAST_RETRIES 40
#define RETRY_US 1000
/* With a seccomp listener the probe waits for listen(); this slow poll only
 * covers targets that listen without calling listen() (an inherited socket). */
#define FALLBACK_POLL_US 20000
/* A target that listens on an address the probe does not connect to may
 * listen on the right one an instant later (nginx binds every `listen` line in
 * turn): this long, then the run fails with both addresses named. */
#define ADDRESS_MISMATCH_GRACE_US 250000

enum ev_tag {
    EV_EXEC = 1,
    EV_PIDFD,
    EV_STDOUT,
    EV_STDERR,
    EV_NOTIFY_SOCK,
    EV_LISTENER,
    EV_SAMPLE,
    EV_RETRY,
    EV_PROBE,
    EV_SIGNAL,
};

enum probe_state { P_IDLE, P_CONNECTING, P_SENDING, P_READING };

struct probe {
    int fd;
    /* CLOCK_MONOTONIC time the kernel received the bytes being parsed (from
     * SO_TIMESTAMPNS), so milestones do not include the profiler's own
     * wake-up latency; 0 when unknown (then: now). */
    uint64_t arrival_ns;
    enum probe_state st;
    struct http_response resp;
    char req[4096];
    size_t req_len, req_sent;
    uint64_t req_start_ns;
    unsigned requests_done; /* after ready */
    int fast_retries_left;
    /* Keep-alive: a connection that already carried a response may have been
     * closed by the server since (HTTP/1.1 servers that close after each
     * response without saying so). A request lost that way is sent once more
     * on a new connection, as curl does; its latency includes the reconnect. */
    bool reused;  /* this connection carried a response before */
    bool resend;  /* the request in req is being sent again: keep req_start_ns */
    bool retried; /* the request in req was already sent again once */
    size_t addr;  /* index into the target's addresses being probed */
};

struct run_ctx {
    const struct prof_run_spec *spec;
    struct rep_run *run;
    struct sbx_cgroup *cg;
    struct sbx_child child;
    int ep, sample_tfd, retry_tfd, listener;
    uint64_t t0, deadline_ns;
    bool exec_done, main_exited, ready, done, interrupted;
    struct probe probe;
    struct prof_output *out;
    /* The target listened on the probed port but on an address the probe does
     * not reach: the run fails at this deadline unless a matching listen comes. */
    uint64_t mismatch_deadline_ns;
    char mismatch[256];
    char foreign[256]; /* a listener on the port that is not the target's */
    /* Connected before any listen() of the target was seen: when. Whose
     * socket answered is checked once the answer is in, off the measured path. */
    uint64_t unverified_connect_ns;
    size_t requests_cap; /* run->requests_us has room for this many */
    int64_t rss_peak, cg_peak;
    int64_t io_read_bytes;          /* from /proc/PID/io at ready, or rusage at exit */
    int64_t realtime_minus_mono_ns; /* to convert kernel receive timestamps */
    uint64_t last_maps_ns;
    struct prof_sample last;
    bool have_last;
    cs_error *err;
};

/* Where the probe connects: the ready spec, or --request-url for the
 * requests after a non-HTTP readiness. */
static const struct prof_ready *probe_target(const struct run_ctx *c)
{
    if (c->ready && c->spec->request_url)
        return c->spec->request_url;
    return c->spec->ready;
}

static bool probe_ready_kind(const struct run_ctx *c)
{
    return c->spec->ready->kind == PROF_READY_HTTP || c->spec->ready->kind == PROF_READY_TCP;
}

static int64_t since_t0_us(struct run_ctx *c)
{
    return (int64_t)((sbx_now_ns() - c->t0) / 1000);
}

static void set_error(struct run_ctx *c, enum rep_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(struct run_ctx *c, enum rep_status st, const char *fmt, ...)
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

static int ep_add(struct run_ctx *c, int fd, uint32_t events, enum ev_tag tag)
{
    struct epoll_event ev = {.events = events, .data.u32 = tag};
    return epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_del(struct run_ctx *c, int fd)
{
    if (fd >= 0)
        epoll_ctl(c->ep, EPOLL_CTL_DEL, fd, NULL);
}

static void arm_timer(int tfd, uint64_t first_us, uint64_t interval_us)
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

static void take_sample(struct run_ctx *c, bool record)
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
    if (record)
        rep_series_push(&c->run->samples, since_t0_us(c), (int64_t)s.rss_bytes, (int64_t)s.cpu_us,
                        (int64_t)s.cgroup_bytes);
}

static void collect_mapped(struct run_ctx *c);

static void on_sample_timer(struct run_ctx *c)
{
    uint64_t expirations;
    if (read(c->sample_tfd, &expirations, sizeof expirations) != sizeof expirations)
        return;
    take_sample(c, true);
    /* An exit-mode target is gone by "ready": learn what it maps while it
     * runs, every ~10 ms (reading maps costs more than a tick). */
    if (c->spec->ready->kind == PROF_READY_EXIT && c->spec->mapped &&
        sbx_now_ns() - c->last_maps_ns >= 10000000ull) {
        c->last_maps_ns = sbx_now_ns();
        collect_mapped(c);
    }
}

/* ---- milestones ---- */

static void mark_listen_at(struct run_ctx *c, uint64_t when_ns)
{
    if (c->run->listen_us == REP_NONE)
        c->run->listen_us = (int64_t)((when_ns - c->t0) / 1000);
}

static void mark_listen(struct run_ctx *c)
{
    mark_listen_at(c, sbx_now_ns());
}

/* The files every process of the target maps at ready: which shared
 * libraries and assemblies the runtime pulled in (and what a cold start must
 * read from disk). */
static void collect_mapped(struct run_ctx *c)
{
    if (!c->spec->mapped)
        return;
    pid_t pids[1024];
    ssize_t n = sbx_cgroup_pids(c->cg, pids, 1024, NULL);
    for (ssize_t i = 0; i < n && i < 1024; i++)
        prof_fileset_add_maps(c->spec->mapped, pids[i]);
}

/* Bytes read from storage by the target's processes (/proc/PID/io), for
 * kernels whose cgroup I/O accounting misses them (v1 blk-throttle counts only
 * throttled I/O). */
static int64_t processes_read_bytes(struct run_ctx *c)
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

static void finish(struct run_ctx *c)
{
    if (!c->done) {
        c->run->status = REP_OK;
        c->done = true;
    }
}

/* The moment the probe's data arrived, when the kernel said so; else now. */
static uint64_t probe_moment(struct run_ctx *c)
{
    uint64_t now = sbx_now_ns();
    uint64_t at = c->probe.arrival_ns;
    /* A timestamp in the future or before the request left is not to be
     * believed (the realtime clock was stepped): use now. */
    if (at == 0 || at > now || at < c->probe.req_start_ns)
        return now;
    return at;
}

static void record_cpu(struct run_ctx *c, const struct sbx_cgroup_usage *u)
{
    c->run->cpu_to_ready_us = (int64_t)u->cpu_us;
    if (u->cpu_split) {
        c->run->cpu_user_us = (int64_t)u->cpu_user_us;
        c->run->cpu_sys_us = (int64_t)u->cpu_sys_us;
    }
}

static void probe_close(struct run_ctx *c);
static void probe_connect(struct run_ctx *c);

static void mark_ready_at(struct run_ctx *c, uint64_t when_ns)
{
    c->ready = true;
    c->run->ready_us = (int64_t)((when_ns - c->t0) / 1000);
    /* The footprint at ready: a tick for the series, then the full
     * snapshot (threads, faults, PSS) and the cgroup's CPU split. */
    take_sample(c, true);
    struct prof_snapshot snap;
    if (!c->main_exited && prof_sampler_snapshot(c->spec->sampler, c->cg, &snap) == 0 &&
        snap.tasks > 0) {
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
    struct sbx_cgroup_usage u;
    if (sbx_cgroup_read_usage(c->cg, &u, NULL) == 0)
        record_cpu(c, &u);
    /* Requests after ready get the timeout afresh. */
    c->deadline_ns = sbx_now_ns() + c->spec->timeout_us * 1000;
    if (c->spec->requests == 0 ||
        (c->spec->ready->kind != PROF_READY_HTTP && !c->spec->request_url)) {
        finish(c);
    } else if (c->spec->ready->kind != PROF_READY_HTTP) {
        /* Ready by a log line or a TCP connect: the requests go to --request-url. */
        probe_close(c);
        c->probe.addr = 0;
        c->probe.fast_retries_left = FAST_RETRIES;
        probe_connect(c);
    }
}

/* ---- target output ---- */

static void mark_ready(struct run_ctx *c)
{
    mark_ready_at(c, sbx_now_ns());
}

static const regex_t *ready_regex(const struct run_ctx *c)
{
    if (c->ready || c->done || c->spec->ready->kind != PROF_READY_LOG)
        return NULL;
    return &c->spec->ready->re;
}

/* Drains a pipe completely: a target flooding its output is never blocked and
 * the profiler keeps only the last PROF_OUTPUT_KEEP bytes. */
static void on_output(struct run_ctx *c, int *fd, enum prof_stream stream)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (prof_output_end(c->out, stream, ready_regex(c)))
                mark_ready(c);
            ep_del(c, *fd);
            close(*fd);
            *fd = -1;
            return;
        }
        if (prof_output_feed(c->out, stream, buf, (size_t)n, ready_regex(c)))
            mark_ready(c);
    }
}

/* Reads what the pipes hold now, without blocking. */
static void drain_output(struct run_ctx *c)
{
    if (!c->out)
        return;
    if (c->child.out_fd >= 0)
        on_output(c, &c->child.out_fd, PROF_STDOUT);
    if (c->child.err_fd >= 0)
        on_output(c, &c->child.err_fd, PROF_STDERR);
}

/* ---- the probe ---- */

static void probe_close(struct run_ctx *c)
{
    if (c->probe.fd >= 0) {
        ep_del(c, c->probe.fd);
        close(c->probe.fd);
    }
    c->probe.fd = -1;
    c->probe.st = P_IDLE;
    c->probe.reused = false;
}

static void schedule_retry(struct run_ctx *c)
{
    uint64_t us = RETRY_US;
    if (c->probe.fast_retries_left > 0) {
        c->probe.fast_retries_left--;
        us = FAST_RETRY_US;
    }
    arm_timer(c->retry_tfd, us, 0);
}

/* Before ready, a refused connection means "not yet"; with several addresses
 * (`localhost`) and no listen() seen, the next one is tried each time. */
static void retry_not_ready(struct run_ctx *c)
{
    const struct prof_ready *r = probe_target(c);
    if (c->run->listen_us == REP_NONE && r->n_addrs > 1)
        c->probe.addr = (c->probe.addr + 1) % r->n_addrs;
    schedule_retry(c);
}

static void probe_send(struct run_ctx *c);

static void probe_start_request(struct run_ctx *c)
{
    const struct prof_ready *r = probe_target(c);
    struct probe *p = &c->probe;
    if (!p->resend) {
        int n = http_format_get(p->req, sizeof p->req, r->host, r->port, r->path);
        if (n < 0) {
            set_error(c, REP_ERROR, "the HTTP request for %s is too long", r->path);
            return;
        }
        p->req_len = (size_t)n;
        p->req_start_ns = sbx_now_ns();
        p->retried = false;
    }
    p->resend = false;
    p->req_sent = 0;
    http_response_reset(&p->resp);
    p->st = P_SENDING;
    probe_send(c);
}

/* Connected before the target's listen() was seen (no seccomp listener, or a
 * socket it did not listen() on itself): count it only when the listening
 * socket belongs to a process of the run's cgroup, never to a stranger that
 * holds the same port. */
static bool listener_is_targets(struct run_ctx *c)
{
    pid_t pids[1024];
    ssize_t n = sbx_cgroup_pids(c->cg, pids, 1024, NULL);
    if (n <= 0)
        return false;
    size_t np = n < 1024 ? (size_t)n : 1024;
    unsigned long inodes[64];
    size_t ni = prof_tcp_listeners(pids[0], (unsigned)atoi(probe_target(c)->port), inodes, 64);
    if (ni > 64)
        ni = 64;
    if (prof_socket_holder(inodes, ni, pids, np) > 0)
        return true;
    /* Who it is, once: scanning every process's fds is not for each poll. */
    pid_t other = c->foreign[0] ? 0 : prof_socket_holder(inodes, ni, NULL, 0);
    if (other > 0)
        prof_describe_pid(other, c->foreign, sizeof c->foreign);
    return false;
}

/* A stranger answered: forget what it said, poll on slowly. */
static void reject_foreign_listener(struct run_ctx *c)
{
    probe_close(c);
    c->unverified_connect_ns = 0;
    c->run->first_byte_us = REP_NONE;
    arm_timer(c->retry_tfd, FALLBACK_POLL_US, 0);
}

static void probe_connected(struct run_ctx *c)
{
    uint64_t now = sbx_now_ns();
    if (!c->ready && c->run->listen_us == REP_NONE) {
        if (c->spec->ready->kind == PROF_READY_TCP) {
            if (!listener_is_targets(c)) {
                reject_foreign_listener(c);
                return;
            }
            mark_listen_at(c, now);
            probe_close(c);
            mark_ready_at(c, now);
            return;
        }
        c->unverified_connect_ns = now;
        probe_start_request(c);
        return;
    }
    mark_listen_at(c, now);
    if (c->spec->ready->kind == PROF_READY_TCP && !c->ready) {
        probe_close(c);
        mark_ready_at(c, now);
        return;
    }
    probe_start_request(c);
}

static void probe_connect(struct run_ctx *c)
{
    if (c->probe.st != P_IDLE || c->done)
        return;
    const struct prof_ready *r = probe_target(c);
    const struct sockaddr_storage *addr = &r->addrs[c->probe.addr];
    cs_error serr;
    int fd = sbx_socket_in(c->child.netns_fd, addr->ss_family,
                           SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, &serr);
    if (fd < 0) {
        set_error(c, REP_ERROR, "probe: %s", cs_error_text(&serr));
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    c->probe.fd = fd;
    if (connect(fd, (const struct sockaddr *)addr, r->addrlens[c->probe.addr]) == 0) {
        ep_add(c, fd, EPOLLIN, EV_PROBE);
        probe_connected(c);
        return;
    }
    if (errno == EINPROGRESS) {
        c->probe.st = P_CONNECTING;
        ep_add(c, fd, EPOLLOUT, EV_PROBE);
        return;
    }
    int e = errno;
    probe_close(c);
    if (e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH || e == EADDRNOTAVAIL ||
        e == ECONNRESET) {
        if (!c->ready)
            retry_not_ready(c);
        else
            set_error(c, REP_ERROR, "connect to %s:%s after ready: %s", r->host, r->port,
                      strerror(e));
        return;
    }
    set_error(c, REP_ERROR, "connect to %s:%s: %s", r->host, r->port, strerror(e));
}

/* The server closed or reset a kept-alive connection before answering: send
 * the same request once more on a new one. Returns false when that is not
 * allowed (not a reused connection, or already retried). */
static bool resend_on_new_connection(struct run_ctx *c)
{
    struct probe *p = &c->probe;
    if (!p->reused || p->retried)
        return false;
    probe_close(c);
    p->retried = true;
    p->resend = true;
    probe_connect(c);
    return true;
}

static void probe_send(struct run_ctx *c)
{
    struct probe *p = &c->probe;
    while (p->req_sent < p->req_len) {
        ssize_t n = send(p->fd, p->req + p->req_sent, p->req_len - p->req_sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = EV_PROBE};
            epoll_ctl(c->ep, EPOLL_CTL_MOD, p->fd, &ev);
            return;
        }
        if (n < 0) {
            int e = errno;
            if ((e == ECONNRESET || e == EPIPE) && resend_on_new_connection(c))
                return;
            probe_close(c);
            if (!c->ready && (e == ECONNRESET || e == EPIPE)) {
                retry_not_ready(c);
                return;
            }
            set_error(c, REP_ERROR, "sending the HTTP request: %s", strerror(e));
            return;
        }
        p->req_sent += (size_t)n;
    }
    p->st = P_READING;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = EV_PROBE};
    epoll_ctl(c->ep, EPOLL_CTL_MOD, p->fd, &ev);
}

static bool status_ok(const struct run_ctx *c, int status)
{
    return status >= c->spec->ok_status_min && status <= c->spec->ok_status_max;
}

static void response_complete(struct run_ctx *c)
{
    struct probe *p = &c->probe;
    const struct prof_ready *r = probe_target(c);
    int status = p->resp.status;
    bool reuse = !p->resp.close;
    if (!c->ready) {
        if (c->unverified_connect_ns) {
            if (!listener_is_targets(c)) {
                reject_foreign_listener(c);
                return;
            }
            mark_listen_at(c, c->unverified_connect_ns);
            c->unverified_connect_ns = 0;
        }
        if (!status_ok(c, status)) {
            set_error(c, REP_ERROR, "GET %s answered %d %s, not %d-%d%s", r->path, status,
                      p->resp.reason, c->spec->ok_status_min, c->spec->ok_status_max,
                      status >= 300 && status < 400 ? " (a redirect: --ready-status 200-399 "
                                                      "accepts it)"
                                                    : "");
            return;
        }
        mark_ready_at(c, probe_moment(c));
    } else {
        uint64_t lat = (probe_moment(c) - p->req_start_ns) / 1000;
        struct rep_run *run = c->run;
        if (run->n_requests == c->requests_cap) {
            /* Grown geometrically: no allocation per request on the measured path. */
            size_t cap = c->requests_cap ? c->requests_cap * 2 : 16;
            int64_t *n = realloc(run->requests_us, cap * sizeof *n);
            if (!n) {
                set_error(c, REP_ERROR, "out of memory");
                return;
            }
            run->requests_us = n;
            c->requests_cap = cap;
        }
        run->requests_us[run->n_requests++] = (int64_t)lat;
        p->requests_done++;
        if (!status_ok(c, status)) {
            set_error(c, REP_ERROR, "request %u after ready: GET %s answered %d %s",
                      p->requests_done, r->path, status, p->resp.reason);
            return;
        }
        if (p->requests_done >= c->spec->requests)
            finish(c);
    }
    if (c->done)
        return;
    if (reuse) {
        p->reused = true;
        probe_start_request(c);
    } else {
        probe_close(c);
        probe_connect(c);
    }
}

/* recv() that also takes the kernel's receive time of the data. */
static ssize_t recv_stamped(struct run_ctx *c, char *buf, size_t cap)
{
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n = recvmsg(c->probe.fd, &msg, 0);
    if (n <= 0)
        return n;
    c->probe.arrival_ns = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            int64_t rt = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            c->probe.arrival_ns = (uint64_t)(rt - c->realtime_minus_mono_ns);
        }
    }
    return n;
}

/* The connection ended (EOF or an error) while a response was awaited. */
static void probe_ended(struct run_ctx *c, ssize_t n, int e)
{
    struct probe *p = &c->probe;
    cs_error herr = {0};
    bool nothing = p->resp.state == H_STATUS && p->resp.header_bytes == 0;
    if (n == 0 && http_response_eof(&p->resp, &herr) == HTTP_DONE) {
        p->resp.close = true;
        response_complete(c);
        return;
    }
    if (nothing && resend_on_new_connection(c))
        return;
    probe_close(c);
    /* A server that accepts and drops connections while it starts up
     * is not ready yet: try again. */
    if (!c->ready && nothing) {
        retry_not_ready(c);
        return;
    }
    set_error(c, REP_ERROR, "%s", e ? strerror(e) : cs_error_text(&herr));
}

static void probe_read(struct run_ctx *c)
{
    struct probe *p = &c->probe;
    char buf[16384];
    for (;;) {
        ssize_t n = recv_stamped(c, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            probe_ended(c, n, n < 0 ? errno : 0);
            return;
        }
        if (c->run->first_byte_us == REP_NONE)
            c->run->first_byte_us = (int64_t)((probe_moment(c) - c->t0) / 1000);
        size_t off = 0;
        while (off < (size_t)n) {
            size_t used = 0;
            cs_error herr = {0};
            enum http_result res =
                http_response_feed(&p->resp, buf + off, (size_t)n - off, &used, &herr);
            off += used;
            if (res == HTTP_FAIL) {
                probe_close(c);
                set_error(c, REP_ERROR, "bad HTTP response to GET %s: %s", probe_target(c)->path,
                          herr.msg);
                return;
            }
            if (res == HTTP_DONE) {
                /* Extra bytes after a complete response are a protocol error for
                 * a client that sent one request. */
                response_complete(c);
                if (c->done || p->st != P_SENDING)
                    return;
                break;
            }
        }
    }
}

static void on_probe(struct run_ctx *c, uint32_t events)
{
    struct probe *p = &c->probe;
    if (p->st == P_CONNECTING) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr) {
            probe_close(c);
            if (!c->ready)
                retry_not_ready(c);
            else
                set_error(c, REP_ERROR, "connect after ready: %s", strerror(soerr));
            return;
        }
        p->st = P_IDLE; /* connected; probe_connected moves on */
        probe_connected(c);
        return;
    }
    if (p->st == P_SENDING) {
        probe_send(c);
        return;
    }
    if (p->st == P_READING && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        probe_read(c);
}

static void on_retry_timer(struct run_ctx *c)
{
    uint64_t x;
    if (read(c->retry_tfd, &x, sizeof x) < 0)
        return;
    if (c->probe.st == P_IDLE && !c->done)
        probe_connect(c);
}

/* ---- seccomp notifications ---- */

static void on_notify_sock(struct run_ctx *c)
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
static bool is_served_listen(struct run_ctx *c, const struct sbx_seccomp_event *ev)
{
    struct sockaddr_storage a;
    socklen_t len;
    if (sbx_seccomp_listen_address(ev, &a, &len) < 0)
        return true;
    if (a.ss_family != AF_INET && a.ss_family != AF_INET6)
        return false;
    const struct prof_ready *r = c->spec->ready;
    if (!probe_ready_kind(c))
        return true;
    unsigned port = a.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&a)->sin_port)
                                           : ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    if (port != (unsigned)atoi(r->port))
        return false;
    int idx = prof_ready_address_for(r, &a);
    if (idx < 0) {
        if (!c->mismatch_deadline_ns) {
            char where[96], probed[96];
            prof_format_address(&a, where, sizeof where);
            prof_format_address(&r->addrs[0], probed, sizeof probed);
            snprintf(c->mismatch, sizeof c->mismatch,
                     "the target listens on %s, but the ready spec connects to %s (%s), which "
                     "that socket does not accept: give --ready the address it listens on",
                     where, probed, r->host);
            c->mismatch_deadline_ns = sbx_now_ns() + (uint64_t)ADDRESS_MISMATCH_GRACE_US * 1000;
        }
        return false;
    }
    c->mismatch_deadline_ns = 0;
    if (c->probe.st == P_IDLE)
        c->probe.addr = (size_t)idx;
    return true;
}

static void on_listener(struct run_ctx *c, uint32_t events)
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
    if (ev.deny)
        rep_run_count_denied(c->run, sbx_syscall_name(ev.syscall_nr));
    /* Answer first: the target must not wait on our bookkeeping. */
    sbx_seccomp_answer(c->listener, &ev);
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

static void on_exec(struct run_ctx *c)
{
    cs_error e;
    int rc = sbx_child_exec_result(&c->child, &e);
    if (rc == 1)
        return;
    ep_del(c, c->child.exec_fd);
    close(c->child.exec_fd);
    c->child.exec_fd = -1;
    c->exec_done = true;
    if (rc == 0) {
        c->run->exec_us = since_t0_us(c);
        return;
    }
    set_error(c, REP_ERROR, "%s", cs_error_text(&e));
}

static void on_target_exit(struct run_ctx *c)
{
    if (!c->exec_done && c->child.exec_fd >= 0)
        on_exec(c); /* an exec failure explains the exit better than the exit */
    int status;
    struct rusage ru;
    pid_t p = wait4(c->child.pid, &status, WNOHANG, &ru);
    if (p <= 0)
        return;
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
    if (WIFSIGNALED(status)) {
        if (u.oom_kills > 0 && WTERMSIG(status) == SIGKILL)
            set_error(c, REP_OOM, "killed by the memory limit (OOM) after %.1f ms",
                      (double)now_us / 1000);
        else
            set_error(c, REP_CRASHED, "killed by signal %d (SIG%s)", WTERMSIG(status),
                      sigabbrev_np(WTERMSIG(status)));
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
        set_error(c, REP_OOM, "exited with code %d after an OOM kill in its cgroup", code);
    else if (c->ready)
        set_error(c, REP_EXITED,
                  "exited with code %d before the requests after ready were "
                  "answered",
                  code);
    else
        set_error(c, REP_EXITED, "exited with code %d before it was ready", code);
}

static void on_signal(struct run_ctx *c)
{
    struct signalfd_siginfo si;
    if (read(c->spec->signal_fd, &si, sizeof si) != sizeof si)
        return;
    if (si.ssi_signo == SIGCHLD) {
        /* Without a pidfd, SIGCHLD is how the target's exit is noticed. */
        if (c->child.pidfd < 0 && !c->main_exited) {
            siginfo_t me;
            memset(&me, 0, sizeof me);
            if (waitid(P_PID, (id_t)c->child.pid, &me, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                me.si_pid == c->child.pid)
                on_target_exit(c);
        }
        /* Orphans of the target re-parented to us (subreaper); the target
         * itself is collected through its pidfd. */
        siginfo_t info;
        for (;;) {
            memset(&info, 0, sizeof info);
            if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0)
                break;
            if (info.si_pid == c->child.pid && !c->main_exited)
                break;
            waitpid(info.si_pid, NULL, 0);
        }
        return;
    }
    c->interrupted = true;
    if (c->spec->ret_signal)
        *c->spec->ret_signal = (int)si.ssi_signo;
    set_error(c, REP_INTERRUPTED, "interrupted by signal %d (SIG%s)", (int)si.ssi_signo,
              sigabbrev_np((int)si.ssi_signo));
}

/* ---- the loop ---- */

static void dispatch(struct run_ctx *c, const struct epoll_event *ev)
{
    switch ((enum ev_tag)ev->data.u32) {
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
        on_listener(c, ev->events);
        break;
    case EV_SAMPLE:
        on_sample_timer(c);
        break;
    case EV_RETRY:
        on_retry_timer(c);
        break;
    case EV_PROBE:
        on_probe(c, ev->events);
        break;
    case EV_SIGNAL:
        on_signal(c);
        break;
    }
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, from the tightest of a few paired reads:
 * kernel receive timestamps come on the realtime clock. */
static int64_t realtime_minus_mono(void)
{
    int64_t best = 0, best_gap = INT64_MAX;
    for (int i = 0; i < 5; i++) {
        struct timespec a, r, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_REALTIME, &r);
        clock_gettime(CLOCK_MONOTONIC, &b);
        int64_t ma = (int64_t)a.tv_sec * 1000000000 + a.tv_nsec;
        int64_t mb = (int64_t)b.tv_sec * 1000000000 + b.tv_nsec;
        int64_t rt = (int64_t)r.tv_sec * 1000000000 + r.tv_nsec;
        if (mb - ma < best_gap) {
            best_gap = mb - ma;
            best = rt - (ma + (mb - ma) / 2);
        }
    }
    return best;
}

static int setup(struct run_ctx *c)
{
    const struct prof_run_spec *s = c->spec;
    c->ep = epoll_create1(EPOLL_CLOEXEC);
    c->sample_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    c->retry_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (c->ep < 0 || c->sample_tfd < 0 || c->retry_tfd < 0)
        return cs_error_set(c->err, errno, "cannot set up the event loop");
    if (sbx_cgroup_create(s->cgroot, s->limits, &c->cg, c->err) < 0)
        return -1;
    struct sbx_spawn_opts so = {.argv = s->argv,
                                .envp = s->envp,
                                .cwd = s->cwd,
                                .cgroup = c->cg,
                                .seccomp = s->seccomp,
                                .iso = s->iso};
    if (sbx_spawn(&so, &c->child, c->err) < 0)
        return -1;
    c->t0 = c->child.t0_ns;
    c->realtime_minus_mono_ns = realtime_minus_mono();
    c->run->t0_monotonic_ns = c->t0;
    c->deadline_ns = c->t0 + s->timeout_us * 1000;
    c->run->samples.interval_us = s->interval_us;

    ep_add(c, c->child.exec_fd, EPOLLIN, EV_EXEC);
    if (c->child.pidfd >= 0)
        ep_add(c, c->child.pidfd, EPOLLIN, EV_PIDFD);
    ep_add(c, c->child.out_fd, EPOLLIN, EV_STDOUT);
    ep_add(c, c->child.err_fd, EPOLLIN, EV_STDERR);
    if (c->child.notify_sock >= 0)
        ep_add(c, c->child.notify_sock, EPOLLIN, EV_NOTIFY_SOCK);
    if (s->signal_fd >= 0)
        ep_add(c, s->signal_fd, EPOLLIN, EV_SIGNAL);
    ep_add(c, c->sample_tfd, EPOLLIN, EV_SAMPLE);
    ep_add(c, c->retry_tfd, EPOLLIN, EV_RETRY);
    if (s->interval_us > 0)
        arm_timer(c->sample_tfd, s->interval_us, s->interval_us);

    if (probe_ready_kind(c)) {
        if (sbx_seccomp_has_listener(s->seccomp))
            arm_timer(c->retry_tfd, FALLBACK_POLL_US, 0);
        else
            probe_connect(c);
    }
    return 0;
}

/* The timeout, with what the run saw that explains it. */
static void report_timeout(struct run_ctx *c)
{
    double s = (double)c->spec->timeout_us / 1e6;
    if (c->ready) {
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
    } else {
        set_error(c, REP_TIMEOUT, "not ready within %.3g s", s);
    }
}

static void loop(struct run_ctx *c)
{
    bool probes = probe_ready_kind(c);
    bool slow_poll = probes && sbx_seccomp_has_listener(c->spec->seccomp);
    while (!c->done) {
        uint64_t now = sbx_now_ns();
        if (c->mismatch_deadline_ns && !c->ready && now >= c->mismatch_deadline_ns) {
            set_error(c, REP_ERROR, "%s", c->mismatch);
            break;
        }
        if (now >= c->deadline_ns) {
            report_timeout(c);
            break;
        }
        uint64_t until = c->deadline_ns;
        if (c->mismatch_deadline_ns && c->mismatch_deadline_ns < until)
            until = c->mismatch_deadline_ns;
        int timeout_ms = (int)((until - now + 999999) / 1000000);
        struct epoll_event evs[16];
        int n = epoll_wait(c->ep, evs, 16, timeout_ms);
        if (n < 0 && errno != EINTR) {
            set_error(c, REP_ERROR, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n && !c->done; i++)
            dispatch(c, &evs[i]);
        /* Keep the slow fallback poll going until the probe has a connection. */
        if (slow_poll && !c->ready && c->probe.st == P_IDLE && c->run->listen_us == REP_NONE) {
            struct itimerspec cur;
            timerfd_gettime(c->retry_tfd, &cur);
            if (!cur.it_value.tv_sec && !cur.it_value.tv_nsec)
                arm_timer(c->retry_tfd, FALLBACK_POLL_US, 0);
        }
    }
}

static void finalize(struct run_ctx *c)
{
    struct rep_run *r = c->run;
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

/* Reaps the target's main process if it has exited, without blocking. */
static void reap_main(struct run_ctx *c)
{
    if (!c->main_exited && c->child.pid > 0 && waitpid(c->child.pid, NULL, WNOHANG) == c->child.pid)
        c->main_exited = true;
}

/* Stops the target as `docker stop` does: the stop signal to its main
 * process (to every process of the run when the main one is gone, as for a
 * daemon), then up to --stop-timeout for it to exit. What is left is
 * killed with the cgroup right after. Returns when the signal went out (0:
 * nothing was running). Waiting for a daemon's processes is the one wait
 * that polls: v1 offers no event for "the cgroup became empty". */
static uint64_t stop_target(struct run_ctx *c)
{
    pid_t pids[1024];
    reap_main(c);
    ssize_t n = sbx_cgroup_pids(c->cg, pids, 1024, NULL);
    if (n <= 0 && c->main_exited)
        return 0;
    uint64_t start = sbx_now_ns();
    int sig = c->spec->stop_signal > 0 ? c->spec->stop_signal : SIGTERM;
    /* With its main process alive the target is stopped when that process
     * exits (as a container is when its PID 1 does: what it leaves is killed);
     * a daemon whose starter is gone is stopped when all its processes are. */
    bool had_main = !c->main_exited;
    if (had_main)
        kill(c->child.pid, sig); /* not reaped yet: the pid is still ours */
    else
        for (ssize_t i = 0; i < n && i < 1024; i++)
            kill(pids[i], sig);
    uint64_t deadline = start + c->spec->stop_timeout_us * 1000;
    if (had_main && c->child.pidfd >= 0) {
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
    while (sbx_now_ns() < deadline) {
        reap_main(c);
        sbx_reap_children();
        if (c->main_exited && (had_main || sbx_cgroup_pids(c->cg, pids, 1, NULL) == 0))
            break;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    return start;
}

int prof_run_once(const struct prof_run_spec *spec, struct rep_run *run, cs_error *err)
{
    struct run_ctx c = {.spec = spec,
                        .run = run,
                        .err = err,
                        .ep = -1,
                        .sample_tfd = -1,
                        .retry_tfd = -1,
                        .listener = -1};
    c.probe.fd = -1;
    c.rss_peak = c.cg_peak = 0;
    sbx_child_init(&c.child);
    c.out = prof_output_new();
    int rc = 0;
    if (!c.out)
        rc = cs_error_set(err, ENOMEM, "output buffer");
    else if (setup(&c) < 0)
        rc = -1;
    if (rc == 0) {
        loop(&c);
        finalize(&c);
    }
    probe_close(&c);
    if (c.listener >= 0)
        close(c.listener);
    prof_sampler_reset(spec->sampler);
    uint64_t stop_start = c.cg ? stop_target(&c) : 0;
    cs_error terr;
    if (c.cg && sbx_cgroup_destroy(c.cg, &terr) < 0 && rc == 0) {
        /* The run's numbers stand; the leak is reported to the caller. */
        *err = terr;
        rc = -1;
    }
    /* Processes that left the run's cgroup are still our descendants (we are
     * their subreaper): they go too, and nothing here waits without a bound. */
    if (sbx_kill_descendants(10000, &terr) < 0 && rc == 0) {
        *err = terr;
        rc = -1;
    }
    if (stop_start)
        run->stop_us = (int64_t)((sbx_now_ns() - stop_start) / 1000);
    sbx_child_close_fds(&c.child);
    if (c.ep >= 0)
        close(c.ep);
    if (c.sample_tfd >= 0)
        close(c.sample_tfd);
    if (c.retry_tfd >= 0)
        close(c.retry_tfd);
    prof_output_free(c.out);
    if (rc < 0)
        return -1;
    return c.interrupted ? 1 : 0;
}
