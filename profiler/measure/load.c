#include "profiler/measure/load.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "profiler/analysis/units.h"
#include "profiler/measure/http.h"
#include "profiler/measure/sockets.h"

/* Request timeouts are checked, and connections that failed to connect are
 * opened again, this often. */
#define TICK_NS (10ull * 1000000)

enum conn_state {
    C_CLOSED,     /* no socket: opened again at the next tick */
    C_CONNECTING, /* connect() in progress */
    C_SENDING,    /* part of the request is out */
    C_READING,    /* the request is out, the response is awaited */
    C_WAITING,    /* open loop: connected, idle until its next request is due */
    C_NEXT,       /* answered; its next request goes out after this batch of events */
};

struct conn {
    int fd;
    enum conn_state st;
    size_t sent;
    uint64_t start_ns; /* when the request was sent (closed) or due (open loop) */
    uint64_t due_ns;   /* open loop: when its next request is due */
    bool reused;       /* carried a response before: a silent close may be resent once */
    bool resend;
    unsigned heap_pos;
    struct http_response resp;
};

struct worker {
    struct prof_load *l;
    pthread_t thread;
    bool started;
    int ep, timer_fd;
    struct conn *conns;
    unsigned n_conns;
    /* Open loop: the connections waiting for their next request, earliest
     * due first (a binary min-heap of indices into conns). */
    unsigned *heap;
    unsigned n_heap;
    unsigned *next; /* the C_NEXT connections */
    unsigned n_next;
    uint64_t armed_ns; /* what timer_fd is set to; 0: disarmed */
    struct prof_load_result res;
    char buf[65536];
};

struct prof_load {
    struct prof_load_spec spec;
    rlim_t nofile_soft; /* to restore after the load; 0: not raised */
    uint64_t start_ns, end_ns, period_ns;
    int64_t realtime_minus_mono_ns; /* to read the kernel's receive timestamps */
    atomic_bool stop;
    atomic_uint running;
    int stop_fd, done_fd; /* eventfds: ask the threads to stop; they all have */
    struct worker *workers;
    unsigned n_workers;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the open loop's schedule ---- */

static bool heap_less(const struct worker *w, unsigned a, unsigned b)
{
    return w->conns[w->heap[a]].due_ns < w->conns[w->heap[b]].due_ns;
}

static void heap_swap(struct worker *w, unsigned a, unsigned b)
{
    unsigned t = w->heap[a];
    w->heap[a] = w->heap[b];
    w->heap[b] = t;
    w->conns[w->heap[a]].heap_pos = a;
    w->conns[w->heap[b]].heap_pos = b;
}

static void heap_push(struct worker *w, unsigned ci)
{
    unsigned i = w->n_heap++;
    w->heap[i] = ci;
    w->conns[ci].heap_pos = i;
    while (i > 0 && heap_less(w, i, (i - 1) / 2)) {
        heap_swap(w, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static unsigned heap_pop(struct worker *w)
{
    unsigned top = w->heap[0];
    w->n_heap--;
    if (w->n_heap) {
        heap_swap(w, 0, w->n_heap);
        for (unsigned i = 0;;) {
            unsigned l = 2 * i + 1, r = l + 1, m = i;
            if (l < w->n_heap && heap_less(w, l, m))
                m = l;
            if (r < w->n_heap && heap_less(w, r, m))
                m = r;
            if (m == i)
                break;
            heap_swap(w, i, m);
            i = m;
        }
    }
    return top;
}

/* The timer fires when the earliest waiting request is due. */
static void arm_schedule(struct worker *w)
{
    uint64_t at = w->n_heap ? w->conns[w->heap[0]].due_ns : 0;
    if (at == w->armed_ns)
        return;
    struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / 1000000000ull),
                                          .tv_nsec = (long)(at % 1000000000ull)}};
    timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
    w->armed_ns = at;
}

/* ---- one connection ---- */

static void conn_send(struct worker *w, struct conn *c);

static void conn_close(struct worker *w, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->st = C_CLOSED;
    c->reused = false;
}

/* Sends the connection's next request: now in a closed loop; in an open
 * loop when it is due (its latency counts from then, however late it goes). */
static void conn_next(struct worker *w, struct conn *c, uint64_t now)
{
    const struct prof_load *l = w->l;
    if (l->period_ns && !c->resend) {
        if (c->due_ns > now) {
            c->st = C_WAITING;
            heap_push(w, (unsigned)(c - w->conns));
            return;
        }
        c->start_ns = c->due_ns;
        c->due_ns += l->period_ns;
    } else if (!c->resend) {
        c->start_ns = now;
    }
    c->resend = false;
    c->sent = 0;
    http_response_reset(&c->resp);
    c->st = C_SENDING;
    conn_send(w, c);
}

static void conn_open(struct worker *w, struct conn *c)
{
    const struct prof_load_spec *s = &w->l->spec;
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        w->res.errors_connect++;
        return; /* C_CLOSED: again at the next tick */
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* A response's latency ends when the kernel received it, not when this
     * thread got round to it among the other connections' (as the probe). */
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    c->fd = fd;
    /* Edge-triggered, both directions, registered once: no epoll_ctl per request. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.ptr = c};
    epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev);
    if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) == 0) {
        conn_next(w, c, now_ns());
        return;
    }
    if (errno == EINPROGRESS) {
        c->st = C_CONNECTING;
        return;
    }
    w->res.errors_connect++;
    conn_close(w, c);
}

/* The connection failed while a request was on it: counted, and opened
 * again. A kept-alive connection the server closed before answering gets
 * the request once more on a new one (servers that close idle connections
 * without saying so), as the probe does. */
static void conn_failed(struct worker *w, struct conn *c, bool nothing_read)
{
    bool resend = c->reused && nothing_read && !c->resend;
    if (!resend)
        w->res.errors_read++;
    conn_close(w, c);
    c->resend = resend;
    conn_open(w, c);
}

static void conn_send(struct worker *w, struct conn *c)
{
    const struct prof_load_spec *s = &w->l->spec;
    while (c->sent < s->request_len) {
        ssize_t n = send(c->fd, s->request + c->sent, s->request_len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return; /* EPOLLOUT (edge) says when to go on */
        if (n < 0) {
            conn_failed(w, c, true);
            return;
        }
        c->sent += (size_t)n;
    }
    c->st = C_READING;
}

static void response_done(struct worker *w, struct conn *c, uint64_t now)
{
    const struct prof_load_spec *s = &w->l->spec;
    if (now > w->l->end_ns)
        return; /* after the end: not counted, and the thread is about to stop */
    w->res.requests++;
    cs_hist_record(&w->res.latency, now - c->start_ns);
    if (c->resp.status < s->ok_status_min || c->resp.status > s->ok_status_max)
        w->res.errors_status++;
    if (c->resp.close) {
        conn_close(w, c);
        conn_open(w, c);
        return;
    }
    c->reused = true;
    /* The next request goes out once this batch of events is read (as wrk
     * writes in its next loop turn): the responses already in are taken
     * first, so their latency does not wait on our sends. */
    c->st = C_NEXT;
    w->next[w->n_next++] = (unsigned)(c - w->conns);
}

/* When the response arrived: the kernel's time, unless it cannot be
 * believed (before the request went out, or in the future: a stepped
 * realtime clock). */
static uint64_t arrival_time(const struct conn *c, uint64_t arrival_ns)
{
    uint64_t now = now_ns();
    if (arrival_ns == 0 || arrival_ns > now || arrival_ns < c->start_ns)
        return now;
    return arrival_ns;
}

static void conn_read(struct worker *w, struct conn *c)
{
    for (;;) {
        uint64_t arrival_ns;
        ssize_t n = prof_recv_stamped(c->fd, w->buf, sizeof w->buf, w->l->realtime_minus_mono_ns,
                                      &arrival_ns);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        bool nothing = c->resp.state == H_STATUS && c->resp.header_bytes == 0;
        if (n == 0) {
            cs_error herr = {0};
            if (http_response_eof(&c->resp, &herr) == HTTP_DONE) {
                c->resp.close = true;
                response_done(w, c, now_ns());
                return;
            }
        }
        if (n <= 0) {
            conn_failed(w, c, nothing);
            return;
        }
        size_t used = 0;
        cs_error herr = {0};
        enum http_result r = http_response_feed(&c->resp, w->buf, (size_t)n, &used, &herr);
        /* One request at a time: bytes beyond the response are a protocol error. */
        if (r == HTTP_FAIL || (r == HTTP_DONE && used < (size_t)n)) {
            w->res.errors_read++;
            conn_close(w, c);
            conn_open(w, c);
            return;
        }
        if (r == HTTP_DONE) {
            response_done(w, c, arrival_time(c, arrival_ns));
            return;
        }
    }
}

static void on_conn_event(struct worker *w, struct conn *c, uint32_t events)
{
    if (c->st == C_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr) {
            w->res.errors_connect++;
            conn_close(w, c);
            return;
        }
        conn_next(w, c, now_ns());
        return;
    }
    if (c->st == C_SENDING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        conn_send(w, c);
    if (c->st == C_READING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
        conn_read(w, c);
    else if (c->st == C_WAITING && (events & (EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
        c->reused = true; /* closed while idle: noticed, and resent, when it is used */
}

/* Every tick: requests that waited too long are timeouts; closed
 * connections are opened again. */
static void on_tick(struct worker *w, uint64_t now)
{
    for (unsigned i = 0; i < w->n_conns; i++) {
        struct conn *c = &w->conns[i];
        if ((c->st == C_SENDING || c->st == C_READING) &&
            now - c->start_ns > PROF_LOAD_REQUEST_TIMEOUT_NS && now >= c->start_ns) {
            w->res.errors_timeout++;
            conn_close(w, c);
        }
        if (c->st == C_CLOSED)
            conn_open(w, c);
    }
}

static void on_schedule(struct worker *w)
{
    uint64_t x;
    if (read(w->timer_fd, &x, sizeof x) < 0 && errno != EAGAIN)
        return;
    w->armed_ns = 0;
    uint64_t now = now_ns();
    while (w->n_heap && w->conns[w->heap[0]].due_ns <= now) {
        struct conn *c = &w->conns[heap_pop(w)];
        conn_next(w, c, now);
    }
}

static void send_next(struct worker *w)
{
    uint64_t now = w->n_next ? now_ns() : 0;
    for (unsigned i = 0; i < w->n_next; i++) {
        struct conn *c = &w->conns[w->next[i]];
        if (c->st == C_NEXT)
            conn_next(w, c, now);
    }
    w->n_next = 0;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct prof_load *l = w->l;
    uint64_t cpu0 = thread_cpu_ns();
    /* The target's own network (a container's loopback): this thread only. */
    if (l->spec.netns_fd >= 0 && setns(l->spec.netns_fd, CLONE_NEWNET) < 0) {
        w->res.errors_connect += w->n_conns; /* no connection can be made */
        atomic_store(&l->stop, true);
    }
    for (unsigned i = 0; i < w->n_conns && !atomic_load(&l->stop); i++)
        conn_open(w, &w->conns[i]);
    uint64_t next_tick = now_ns() + TICK_NS;
    struct epoll_event evs[256];
    while (!atomic_load(&l->stop)) {
        uint64_t now = now_ns();
        if (now >= l->end_ns)
            break;
        if (now >= next_tick) {
            on_tick(w, now);
            next_tick = now + TICK_NS;
        }
        arm_schedule(w);
        uint64_t until = next_tick < l->end_ns ? next_tick : l->end_ns;
        int ms = w->n_next ? 0 : (int)((until - now + 999999) / 1000000);
        int n = epoll_wait(w->ep, evs, 256, ms);
        send_next(w);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &w->timer_fd)
                on_schedule(w);
            else if (p != &l->stop_fd)
                on_conn_event(w, p, evs[i].events);
        }
    }
    /* A request still unanswered at the end after half the load's length
     * (or the request timeout) is a timeout, and its wait so far counts in
     * the latencies: a server that never answers must not read as "0
     * requests, 0 errors". One sent just before the end is not judged. */
    uint64_t end = now_ns() < l->end_ns ? now_ns() : l->end_ns;
    uint64_t patience = (l->end_ns - l->start_ns) / 2;
    if (patience > PROF_LOAD_REQUEST_TIMEOUT_NS)
        patience = PROF_LOAD_REQUEST_TIMEOUT_NS;
    for (unsigned i = 0; i < w->n_conns; i++) {
        struct conn *c = &w->conns[i];
        if ((c->st == C_SENDING || c->st == C_READING) && end > c->start_ns &&
            end - c->start_ns > patience) {
            w->res.errors_timeout++;
            cs_hist_record(&w->res.latency, end - c->start_ns);
        }
        conn_close(w, c);
    }
    w->res.generator_cpu_ns = thread_cpu_ns() - cpu0;
    if (atomic_fetch_sub(&l->running, 1) == 1) {
        uint64_t one = 1;
        if (write(l->done_fd, &one, sizeof one) < 0) {
            /* an eventfd write fails only on overflow */
        }
    }
    return NULL;
}

/* ---- set-up ---- */

static int worker_init(struct prof_load *l, struct worker *w, unsigned first, unsigned n)
{
    w->l = l;
    w->n_conns = n;
    w->conns = calloc(n, sizeof *w->conns);
    w->heap = calloc(n, sizeof *w->heap);
    w->next = calloc(n, sizeof *w->next);
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (!w->conns || !w->heap || !w->next || w->ep < 0 || w->timer_fd < 0)
        return -1;
    cs_hist_init(&w->res.latency);
    for (unsigned i = 0; i < n; i++) {
        w->conns[i].fd = -1;
        /* Open loop: the connections' requests are spread evenly over one
         * period, the whole rate's worth across all of them. */
        if (l->spec.rate > 0)
            w->conns[i].due_ns = l->start_ns + (uint64_t)((double)(first + i) * 1e9 / l->spec.rate);
    }
    struct epoll_event te = {.events = EPOLLIN, .data.ptr = &w->timer_fd};
    struct epoll_event se = {.events = EPOLLIN, .data.ptr = &l->stop_fd};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->timer_fd, &te) < 0 ||
        epoll_ctl(w->ep, EPOLL_CTL_ADD, l->stop_fd, &se) < 0)
        return -1;
    return 0;
}

/* Enough descriptors for the connections (and the run's own): the soft
 * RLIMIT_NOFILE is raised up to the hard one for the load's time only, so
 * the targets spawned later see the limit they always saw. Returns the soft
 * limit to restore (0: unchanged), or -1 with err when even the hard limit
 * is too low. */
int prof_load_check_nofile(unsigned connections, cs_error *err)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)connections + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        return cs_error_set(err, EMFILE,
                            "%u connections need about %llu descriptors, but the hard "
                            "RLIMIT_NOFILE is %llu (ulimit -Hn): use fewer connections",
                            connections, (unsigned long long)need, (unsigned long long)rl.rlim_max);
    return 0;
}

static int raise_nofile(unsigned connections, rlim_t *old_soft, cs_error *err)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)connections + 256;
    *old_soft = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return 0;
    if (prof_load_check_nofile(connections, err) < 0)
        return -1;
    *old_soft = rl.rlim_cur;
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        *old_soft = 0;
        return cs_error_set(err, errno, "cannot raise RLIMIT_NOFILE to %llu",
                            (unsigned long long)need);
    }
    return 0;
}

static void restore_nofile(rlim_t soft)
{
    struct rlimit rl;
    if (soft && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = soft;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void load_free(struct prof_load *l)
{
    restore_nofile(l->nofile_soft);
    for (unsigned i = 0; l->workers && i < l->n_workers; i++) {
        struct worker *w = &l->workers[i];
        if (w->ep >= 0)
            close(w->ep);
        if (w->timer_fd >= 0)
            close(w->timer_fd);
        free(w->conns);
        free(w->heap);
        free(w->next);
    }
    free(l->workers);
    if (l->stop_fd >= 0)
        close(l->stop_fd);
    if (l->done_fd >= 0)
        close(l->done_fd);
    free(l);
}

static void join_threads(struct prof_load *l)
{
    for (unsigned i = 0; i < l->n_workers; i++)
        if (l->workers[i].started) {
            pthread_join(l->workers[i].thread, NULL);
            l->workers[i].started = false;
        }
}

int prof_load_start(const struct prof_load_spec *spec, struct prof_load **ret, cs_error *err)
{
    if (spec->connections == 0)
        return cs_error_set(err, EINVAL, "a load needs at least one connection");
    rlim_t old_soft;
    if (raise_nofile(spec->connections, &old_soft, err) < 0)
        return -1;
    struct prof_load *l = calloc(1, sizeof *l);
    if (!l) {
        restore_nofile(old_soft);
        return cs_error_set(err, ENOMEM, "load generator");
    }
    l->spec = *spec;
    l->nofile_soft = old_soft;
    unsigned nt = spec->threads ? spec->threads : 1;
    if (nt > spec->connections)
        nt = spec->connections;
    l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    l->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    l->workers = calloc(nt, sizeof *l->workers);
    if (l->stop_fd < 0 || l->done_fd < 0 || !l->workers) {
        load_free(l);
        return cs_error_set(err, errno ? errno : ENOMEM, "load generator");
    }
    for (unsigned i = 0; i < nt; i++)
        l->workers[i].ep = l->workers[i].timer_fd = -1;
    l->n_workers = nt;
    l->realtime_minus_mono_ns = prof_realtime_minus_mono();
    l->start_ns = now_ns();
    l->end_ns = l->start_ns + spec->duration_ns;
    if (spec->rate > 0)
        l->period_ns = (uint64_t)((double)spec->connections * 1e9 / spec->rate);
    for (unsigned i = 0, first = 0; i < nt; i++) {
        unsigned n = spec->connections / nt + (i < spec->connections % nt);
        if (worker_init(l, &l->workers[i], first, n) < 0) {
            load_free(l);
            return cs_error_set(err, errno ? errno : ENOMEM, "load generator");
        }
        first += n;
    }
    atomic_store(&l->running, nt);
    for (unsigned i = 0; i < nt; i++) {
        struct worker *w = &l->workers[i];
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (spec->pin)
            pthread_attr_setaffinity_np(&attr, sizeof spec->cpus, &spec->cpus);
        int e = pthread_create(&w->thread, &attr, worker_main, w);
        pthread_attr_destroy(&attr);
        if (e) {
            prof_load_stop(l);
            join_threads(l);
            load_free(l);
            return cs_error_set(err, e, "cannot start the load generator's threads");
        }
        w->started = true;
    }
    *ret = l;
    return 0;
}

int prof_load_done_fd(const struct prof_load *l)
{
    return l->done_fd;
}

void prof_load_stop(struct prof_load *l)
{
    atomic_store(&l->stop, true);
    uint64_t one = 1;
    if (write(l->stop_fd, &one, sizeof one) < 0) {
        /* the threads see the flag at their next wake-up (at most a tick) */
    }
}

void prof_load_join(struct prof_load *l, struct prof_load_result *ret)
{
    memset(ret, 0, offsetof(struct prof_load_result, latency));
    cs_hist_init(&ret->latency);
    join_threads(l);
    for (unsigned i = 0; i < l->n_workers; i++) {
        struct worker *w = &l->workers[i];
        ret->requests += w->res.requests;
        ret->errors_connect += w->res.errors_connect;
        ret->errors_read += w->res.errors_read;
        ret->errors_status += w->res.errors_status;
        ret->errors_timeout += w->res.errors_timeout;
        ret->generator_cpu_ns += w->res.generator_cpu_ns;
        cs_hist_merge(&ret->latency, &w->res.latency);
    }
    uint64_t end = now_ns();
    ret->elapsed_ns = (end < l->end_ns ? end : l->end_ns) - l->start_ns;
    load_free(l);
}

void prof_load_placement(const char *target_cpuset, unsigned connections,
                         struct prof_load_spec *spec)
{
    cpu_set_t online, target;
    CPU_ZERO(&online);
    if (sched_getaffinity(0, sizeof online, &online) < 0 || CPU_COUNT(&online) == 0) {
        spec->threads = 1;
        spec->pin = false;
        return;
    }
    cs_error err;
    spec->pin = false;
    spec->cpus = online;
    if (target_cpuset && prof_parse_cpulist(target_cpuset, &target, &err) == 0) {
        cpu_set_t free_cpus;
        CPU_XOR(&free_cpus, &online, &target);
        CPU_AND(&free_cpus, &free_cpus, &online);
        if (CPU_COUNT(&free_cpus) > 0) {
            spec->cpus = free_cpus;
            spec->pin = true;
        }
    }
    unsigned n = (unsigned)CPU_COUNT(&spec->cpus);
    /* Sharing every CPU with the target: half of them, so that the
     * generator does not take the CPUs the server needs to answer it (on 2
     * cores one thread: measured 140k requests/s against 117k with two, as
     * wrk -t1 against -t2). */
    if (!spec->pin)
        n = n / 2;
    if (n > PROF_LOAD_MAX_THREADS)
        n = PROF_LOAD_MAX_THREADS;
    if (n > connections)
        n = connections;
    spec->threads = n ? n : 1;
}
