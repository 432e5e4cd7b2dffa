/* The probe of one run: connect (retrying while the target starts), send
 * GET, read and parse the response with the kernel's receive timestamps,
 * keep-alive with one resend on a connection the server closed, and the
 * requests after ready. Whose socket answered is checked, so a stranger
 * holding the port is never taken for the target. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "profiler/measure/run_internal.h"
#include "profiler/measure/sockets.h"
#include "sandbox/spawn.h"

static void probe_send(struct prof_run *c);

/* Where the probe connects: the ready spec, or --request-url for the
 * requests after a non-HTTP readiness. */
const struct prof_ready *probe_target(const struct prof_run *c)
{
    if (c->ready && c->spec->request_url)
        return c->spec->request_url;
    return c->spec->ready;
}

bool probe_ready_kind(const struct prof_run *c)
{
    return c->spec->ready->kind == PROF_READY_HTTP || c->spec->ready->kind == PROF_READY_TCP;
}

/* The moment the probe's data arrived, when the kernel said so; else now. */
static uint64_t probe_moment(struct prof_run *c)
{
    uint64_t now = sbx_now_ns();
    uint64_t at = c->probe.arrival_ns;
    /* A timestamp in the future or before the request left is not to be
     * believed (the realtime clock was stepped): use now. */
    if (at == 0 || at > now || at < c->probe.req_start_ns)
        return now;
    return at;
}

void probe_close(struct prof_run *c)
{
    if (c->probe.fd >= 0) {
        ep_del(c, c->probe.fd);
        close(c->probe.fd);
    }
    c->probe.fd = -1;
    c->probe.st = P_IDLE;
    c->probe.reused = false;
}

static void schedule_retry(struct prof_run *c)
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
static void retry_not_ready(struct prof_run *c)
{
    const struct prof_ready *r = probe_target(c);
    if (c->run->listen_us == REP_NONE && r->n_addrs > 1)
        c->probe.addr = (c->probe.addr + 1) % r->n_addrs;
    schedule_retry(c);
}

static void probe_start_request(struct prof_run *c)
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
static bool listener_is_targets(struct prof_run *c)
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
static void reject_foreign_listener(struct prof_run *c)
{
    probe_close(c);
    c->unverified_connect_ns = 0;
    c->run->first_byte_us = REP_NONE;
    arm_timer(c->retry_tfd, FALLBACK_POLL_US, 0);
}

static bool has_exchange(const struct prof_ready *r)
{
    return r->kind == PROF_READY_TCP && (r->send_len > 0 || r->expect != PROF_EXPECT_NONE);
}

/* Connected with an exchange to make: the bytes go out now (a few hundred at
 * most: the socket's buffer takes them whole), the answer is awaited. */
static void exchange_start(struct prof_run *c)
{
    struct probe *p = &c->probe;
    const struct prof_ready *r = c->spec->ready;
    p->answer_len = 0;
    if (r->send_len) {
        ssize_t n;
        while ((n = send(p->fd, r->send, r->send_len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
            ;
        if (n != (ssize_t)r->send_len) {
            probe_close(c);
            retry_not_ready(c);
            return;
        }
    }
    p->st = P_EXCHANGE;
    ep_mod(c, p->fd, EPOLLIN, EV_PROBE);
}

/* What the answer so far says: 1 ready, 0 wait for more, -1 not yet (the
 * whole answer came, and it is not the one: -LOADING, a start-up error). */
static int answer_verdict(const struct prof_ready *r, const struct probe *p, bool ended)
{
    if (p->answer_len == 0)
        return ended ? -1 : 0;
    if (r->expect == PROF_EXPECT_POSTGRES)
        return p->answer[0] == 'R' ? 1 : -1;
    if (r->expect == PROF_EXPECT_NONE)
        return 1; /* only something to send: any answer will do */
    if (regexec(&r->expect_re, p->answer, 0, NULL, 0) == 0)
        return 1;
    bool whole = p->answer[p->answer_len - 1] == '\n' || p->answer_len == sizeof p->answer - 1;
    return whole || ended ? -1 : 0;
}

static void exchange_read(struct prof_run *c)
{
    struct probe *p = &c->probe;
    const struct prof_ready *r = c->spec->ready;
    for (;;) {
        uint64_t arrival;
        size_t room = sizeof p->answer - 1 - p->answer_len;
        ssize_t n = room ? prof_recv_stamped(p->fd, p->answer + p->answer_len, room,
                                             c->realtime_minus_mono_ns, &arrival)
                         : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n > 0) {
            p->arrival_ns = arrival;
            if (c->run->first_byte_us == REP_NONE)
                c->run->first_byte_us = (int64_t)((probe_moment(c) - c->t0) / 1000);
            p->answer_len += (size_t)n;
        }
        p->answer[p->answer_len] = '\0';
        int v = answer_verdict(r, p, n <= 0);
        if (v == 0)
            continue;
        probe_close(c);
        if (v > 0) {
            mark_ready_at(c, probe_moment(c));
            return;
        }
        /* Kept for the timeout's message, printable. */
        size_t k = 0;
        for (size_t i = 0; i < p->answer_len && k + 1 < sizeof p->last_answer; i++)
            p->last_answer[k++] = p->answer[i] >= 0x20 && p->answer[i] < 0x7f ? p->answer[i] : '.';
        p->last_answer[k] = '\0';
        p->retry_answers++;
        retry_not_ready(c);
        return;
    }
}

static void probe_connected(struct prof_run *c)
{
    uint64_t now = sbx_now_ns();
    if (!c->ready && c->run->listen_us == REP_NONE) {
        if (c->spec->ready->kind == PROF_READY_TCP) {
            if (!listener_is_targets(c)) {
                reject_foreign_listener(c);
                return;
            }
            mark_listen_at(c, now);
            if (has_exchange(c->spec->ready)) {
                exchange_start(c);
                return;
            }
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
        if (has_exchange(c->spec->ready)) {
            exchange_start(c);
            return;
        }
        probe_close(c);
        mark_ready_at(c, now);
        return;
    }
    probe_start_request(c);
}

void probe_connect(struct prof_run *c)
{
    if (c->probe.st != P_IDLE || c->done)
        return;
    const struct prof_ready *r = probe_target(c);
    const struct sockaddr_storage *addr = &r->addrs[c->probe.addr];
    cs_error serr;
    int fd = sbx_socket_in(c->child.netns_fd, addr->ss_family,
                           SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &serr);
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
static bool resend_on_new_connection(struct prof_run *c)
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

static void probe_send(struct prof_run *c)
{
    struct probe *p = &c->probe;
    while (p->req_sent < p->req_len) {
        ssize_t n = send(p->fd, p->req + p->req_sent, p->req_len - p->req_sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            ep_mod(c, p->fd, EPOLLOUT, EV_PROBE);
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
    ep_mod(c, p->fd, EPOLLIN, EV_PROBE);
}

static bool status_ok(const struct prof_run *c, int status)
{
    return status >= c->spec->ok_status_min && status <= c->spec->ok_status_max;
}

/* A status that means "not yet" (--ready-retry-status, default 502-504). */
static bool status_retry(const struct prof_run *c, int status)
{
    const uint64_t *bits = c->spec->retry_status;
    return bits && status >= 100 && status <= 599 &&
           (bits[(status - 100) / 64] >> ((status - 100) % 64) & 1);
}

static void response_complete(struct prof_run *c)
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
        if (!status_ok(c, status) && status_retry(c, status)) {
            /* Warming up (a 503 from a server whose app is not loaded yet):
             * ask again, on a fresh connection, after the fallback period. */
            c->probe.last_retry_status = status;
            c->probe.retry_answers++;
            probe_close(c);
            retry_not_ready(c);
            return;
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
        /* With no requests after ready the load (if any) begins at ready and
         * has closed the probe's connection: nothing more to send on it. */
        if (c->run->load)
            return;
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
        if (p->requests_done >= c->spec->requests) {
            requests_finished(c); /* the load, if any, makes its own connections */
            return;
        }
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

/* The connection ended (EOF or an error) while a response was awaited. */
static void probe_ended(struct prof_run *c, ssize_t n, int e)
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

static void probe_read(struct prof_run *c)
{
    struct probe *p = &c->probe;
    char buf[16384];
    for (;;) {
        uint64_t arrival;
        ssize_t n =
            prof_recv_stamped(c->probe.fd, buf, sizeof buf, c->realtime_minus_mono_ns, &arrival);
        if (n > 0)
            c->probe.arrival_ns = arrival;
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
                          cs_error_text(&herr));
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

void on_probe(struct prof_run *c, uint32_t events)
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
    else if (p->st == P_EXCHANGE && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        exchange_read(c);
}

void on_retry_timer(struct prof_run *c)
{
    uint64_t x;
    if (read(c->retry_tfd, &x, sizeof x) < 0)
        return;
    if (exec_probe_kind(c)) {
        if (!c->ready)
            exec_probe_attempt(c);
        return;
    }
    if (c->probe.st == P_IDLE && !c->done && !c->run->load)
        probe_connect(c);
}