/* The load after ready, as one run sees it: start the generator once the
 * requests after ready are answered, watch its end in the run's loop (the
 * 1 ms sampler keeps going and counts the load's peaks), then wait a second
 * and take the memory at rest after work. A target that dies under load
 * ends the run with its status; the load's figures up to that moment stay. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "profiler/measure/run_internal.h"
#include "sandbox/spawn.h"

/* After the load, this long before "memory at rest after work" is read. */
#define REST_AFTER_LOAD_US 1000000
/* Under load the series keeps a sample this often (the peaks see every tick). */
#define LOAD_SERIES_INTERVAL_NS (10ull * 1000000)

static bool wants_load(const struct prof_run *c)
{
    return c->spec->load_command || (c->spec->load && c->spec->load->connections > 0);
}

/* The generator or the command runs. */
static bool loading(const struct prof_run *c)
{
    return c->load.gen || load_command_running(c);
}

/* What both kinds of load share at their start: the record, the timer of
 * the rest after it, the cgroup's CPU and peak so far. NULL on failure. */
static struct rep_load *load_record(struct prof_run *c)
{
    struct load_phase *lp = &c->load;
    struct rep_load *L = calloc(1, sizeof *L);
    lp->rest_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (!L || lp->rest_tfd < 0) {
        free(L);
        set_error(c, REP_ERROR, "cannot set up the load: %s", strerror(errno ? errno : ENOMEM));
        return NULL;
    }
    rep_load_init(L);
    c->run->load = L;
    struct sbx_cgroup_usage u;
    if (sbx_cgroup_read_usage(c->cg, &u, NULL) == 0) {
        lp->cpu_start_us = u.cpu_us;
        lp->kernel_peak_start = u.memory_peak_bytes;
    }
    lp->rss_peak = lp->cg_peak = 0;
    return L;
}

/* --load-cmd: the user's generator instead of ours; no duration of its own,
 * so the timeout applies afresh from its start. */
static void load_command_begin(struct prof_run *c)
{
    probe_close(c);
    struct rep_load *L = load_record(c);
    if (!L)
        return;
    L->connections = L->duration_us = REP_NONE;
    if (!(L->command = strdup(c->spec->load_command))) {
        set_error(c, REP_ERROR, "cannot set up the load: out of memory");
        return;
    }
    c->load.start_ns = sbx_now_ns();
    L->start_us = (int64_t)((c->load.start_ns - c->t0) / 1000);
    if (load_command_start(c) < 0) {
        set_error(c, REP_ERROR, "--load-cmd: cannot start it: %s", strerror(errno));
        return;
    }
    ep_add(c, c->load.rest_tfd, EPOLLIN, EV_LOAD_REST);
    uint64_t limit_us = c->spec->load && c->spec->load->command_timeout_us
                            ? c->spec->load->command_timeout_us
                            : c->spec->timeout_us;
    c->deadline_ns = sbx_now_ns() + limit_us * 1000;
}

static void load_begin(struct prof_run *c)
{
    const struct prof_load_opts *o = c->spec->load;
    const struct prof_ready *r = probe_target(c);
    struct load_phase *lp = &c->load;
    /* The probe's keep-alive connection is not part of the load. */
    probe_close(c);
    int n = http_format_get(lp->request, sizeof lp->request, r->host, r->port,
                            o->path ? o->path : r->path);
    if (n < 0) {
        set_error(c, REP_ERROR, "the HTTP request for --load-path %s is too long", o->path);
        return;
    }
    struct prof_load_spec ls = {
        .connections = o->connections,
        .duration_ns = o->duration_us * 1000,
        .rate = o->rate,
        .addr = r->addrs[c->probe.addr],
        .addrlen = r->addrlens[c->probe.addr],
        .netns_fd = c->child.netns_fd,
        .request = lp->request,
        .request_len = (size_t)n,
        .ok_status_min = c->spec->ok_status_min,
        .ok_status_max = c->spec->ok_status_max,
    };
    prof_load_placement(c->spec->cpuset, o->connections, &ls);
    struct rep_load *L = load_record(c);
    if (!L)
        return;
    L->connections = o->connections;
    L->duration_us = (int64_t)o->duration_us;
    L->rate = o->rate;
    cs_error err;
    lp->start_ns = sbx_now_ns();
    if (prof_load_start(&ls, &lp->gen, &err) < 0) {
        lp->gen = NULL;
        set_error(c, REP_ERROR, "%s", cs_error_text(&err));
        return;
    }
    L->start_us = (int64_t)((lp->start_ns - c->t0) / 1000);
    ep_add(c, prof_load_done_fd(lp->gen), EPOLLIN, EV_LOAD_DONE);
    ep_add(c, lp->rest_tfd, EPOLLIN, EV_LOAD_REST);
    /* The timeout applies afresh after the load and the rest after it. */
    c->deadline_ns =
        sbx_now_ns() + ls.duration_ns + REST_AFTER_LOAD_US * 1000ull + c->spec->timeout_us * 1000;
}

void requests_finished(struct prof_run *c)
{
    bool http = c->spec->ready->kind == PROF_READY_HTTP || c->spec->request_url;
    bool begin = wants_load(c) && !c->done && !loading(c) && !c->run->load;
    if (begin && c->spec->load_command)
        load_command_begin(c);
    else if (begin && http)
        load_begin(c);
    else
        finish(c);
}

bool load_phase_keeps_sample(struct prof_run *c)
{
    if (!loading(c) && !c->load.resting)
        return true;
    uint64_t now = sbx_now_ns();
    if (now - c->load.last_kept_ns < LOAD_SERIES_INTERVAL_NS)
        return false;
    c->load.last_kept_ns = now;
    return true;
}

void load_phase_sample(struct prof_run *c, int64_t rss, int64_t cgroup_bytes)
{
    if (!loading(c))
        return;
    if (rss > c->load.rss_peak)
        c->load.rss_peak = rss;
    if (cgroup_bytes > c->load.cg_peak)
        c->load.cg_peak = cgroup_bytes;
}

static double percentile_us(const struct prof_load_result *r, double pct)
{
    if (r->requests == 0)
        return NAN;
    return (double)cs_hist_percentile(&r->latency, pct) / 1000.0;
}

/* Joins the generator and records what it measured. */
static void generator_collect(struct prof_run *c, struct rep_load *L)
{
    struct load_phase *lp = &c->load;
    ep_del(c, prof_load_done_fd(lp->gen));
    static _Thread_local struct prof_load_result r; /* 36 KiB: not on the stack */
    prof_load_join(lp->gen, &r);
    lp->gen = NULL;
    L->requests = (int64_t)r.requests;
    L->errors_connect = (int64_t)r.errors_connect;
    L->errors_read = (int64_t)r.errors_read;
    L->errors_status = (int64_t)r.errors_status;
    L->errors_timeout = (int64_t)r.errors_timeout;
    L->errors = L->errors_connect + L->errors_read + L->errors_status + L->errors_timeout;
    L->rps = r.elapsed_ns ? (double)r.requests * 1e9 / (double)r.elapsed_ns : 0;
    L->p50_us = percentile_us(&r, 50);
    L->p90_us = percentile_us(&r, 90);
    L->p99_us = percentile_us(&r, 99);
    L->p999_us = percentile_us(&r, 99.9);
    L->max_us = percentile_us(&r, 100);
    L->generator_cpu_us = (int64_t)(r.generator_cpu_ns / 1000);
}

/* Ends the generator or the command (stop: now) and records the load: what
 * it measured and what the target's cgroup went through. Returns 1 when
 * the command has not ended after all. */
static int load_collect(struct prof_run *c, bool stop)
{
    struct load_phase *lp = &c->load;
    struct rep_load *L = c->run->load;
    if (lp->gen) {
        if (stop)
            prof_load_stop(lp->gen);
        generator_collect(c, L);
    } else if (load_command_running(c)) {
        if (load_command_collect(c, stop, L) == 1)
            return 1;
    } else {
        return 0;
    }
    L->end_us = since_t0_us(c);
    L->rss_peak_bytes = lp->rss_peak > 0 ? lp->rss_peak : REP_NONE;
    L->cgroup_peak_bytes = lp->cg_peak > 0 ? lp->cg_peak : REP_NONE;
    struct sbx_cgroup_usage u;
    if (sbx_cgroup_read_usage(c->cg, &u, NULL) == 0) {
        L->cpu_us = (int64_t)(u.cpu_us - lp->cpu_start_us);
        /* The kernel's peak is since the cgroup was made: when it grew
         * during the load, the load reached it (and it is exact, where the
         * 1 ms samples may miss a spike). */
        if (u.memory_peak_bytes > lp->kernel_peak_start &&
            (int64_t)u.memory_peak_bytes > L->cgroup_peak_bytes)
            L->cgroup_peak_bytes = (int64_t)u.memory_peak_bytes;
    }
    return 0;
}

void on_load_done(struct prof_run *c)
{
    if (load_collect(c, false) == 1 || c->done)
        return;
    c->load.resting = true;
    arm_timer(c->load.rest_tfd, REST_AFTER_LOAD_US, 0);
    /* A command has no duration the deadline allowed for: the rest gets
     * its second and the timeout again. */
    uint64_t rest_end = sbx_now_ns() + REST_AFTER_LOAD_US * 1000ull + c->spec->timeout_us * 1000;
    if (c->deadline_ns < rest_end)
        c->deadline_ns = rest_end;
}

void on_load_rest(struct prof_run *c)
{
    uint64_t x;
    if (read(c->load.rest_tfd, &x, sizeof x) < 0 || !c->load.resting)
        return;
    c->load.resting = false;
    take_sample(c, true);
    if (c->have_last && c->last.rss_bytes > 0)
        c->run->load->rss_after_bytes = (int64_t)c->last.rss_bytes;
    finish(c);
}

void load_phase_end(struct prof_run *c)
{
    load_collect(c, true);
    if (c->load.cmd_out >= 0) { /* a command that could not be started */
        close(c->load.cmd_out);
        c->load.cmd_out = -1;
    }
    if (c->load.rest_tfd >= 0) {
        ep_del(c, c->load.rest_tfd);
        close(c->load.rest_tfd);
        c->load.rest_tfd = -1;
    }
}

const char *load_phase_moment(struct prof_run *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (loading(c))
        snprintf(buf, cap, " (%.2f s into the load)",
                 (double)(sbx_now_ns() - c->load.start_ns) / 1e9);
    else if (c->load.resting)
        snprintf(buf, cap, " (in the second after the load)");
    return buf;
}
