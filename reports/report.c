#include "reports/report.h"

#include "reports/folded.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const status_names[] = {
    [REP_OK] = "ok",
    [REP_TIMEOUT] = "timeout",
    [REP_EXITED] = "exited",
    [REP_CRASHED] = "crashed",
    [REP_OOM] = "oom",
    [REP_ERROR] = "error",
    [REP_INTERRUPTED] = "interrupted",
    [REP_SLOW] = "slow",
};

const char *rep_status_name(enum rep_status s)
{
    return s <= REP_SLOW ? status_names[s] : "error";
}

int rep_status_parse(const char *name, enum rep_status *ret)
{
    for (int i = 0; i <= REP_SLOW; i++)
        if (strcmp(name, status_names[i]) == 0) {
            *ret = (enum rep_status)i;
            return 0;
        }
    return -1;
}

static int grow(void **p, size_t elem, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, ncap * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

int rep_series_push(struct rep_series *s, int64_t t_us, int64_t rss, int64_t cpu, int64_t cg)
{
    if (s->n == s->cap) {
        size_t cap = s->cap;
        size_t c1 = cap, c2 = cap, c3 = cap;
        if (grow((void **)&s->t_us, sizeof(int64_t), &cap, s->n + 1) < 0 ||
            grow((void **)&s->rss_bytes, sizeof(int64_t), &c1, s->n + 1) < 0 ||
            grow((void **)&s->cpu_us, sizeof(int64_t), &c2, s->n + 1) < 0 ||
            grow((void **)&s->cgroup_bytes, sizeof(int64_t), &c3, s->n + 1) < 0)
            return -1;
        s->cap = cap;
    }
    s->t_us[s->n] = t_us;
    s->rss_bytes[s->n] = rss;
    s->cpu_us[s->n] = cpu;
    s->cgroup_bytes[s->n] = cg;
    s->n++;
    return 0;
}

void rep_run_init(struct rep_run *r)
{
    memset(r, 0, sizeof *r);
    r->exit_code = r->signal = REP_NONE;
    r->exec_us = r->listen_us = r->first_byte_us = r->ready_us = REP_NONE;
    r->extract_us = r->rootfs_us = REP_NONE;
    r->image_read_bytes = r->image_read_files = REP_NONE;
    r->cpu_user_us = r->cpu_sys_us = r->cpu_to_ready_us = REP_NONE;
    r->processes_ready = r->stop_us = REP_NONE;
    r->rss_ready_bytes = r->pss_ready_bytes = r->rss_peak_bytes = r->cgroup_peak_bytes = REP_NONE;
    r->minflt = r->majflt = r->threads_ready = REP_NONE;
    r->nr_throttled = r->throttled_us = r->read_bytes = REP_NONE;
    r->cached_before_bytes = r->mapped_files = r->mapped_file_bytes = REP_NONE;
}

void rep_load_init(struct rep_load *l)
{
    memset(l, 0, sizeof *l);
    l->requests = l->errors = REP_NONE;
    l->errors_connect = l->errors_read = l->errors_status = l->errors_timeout = REP_NONE;
    l->rps = l->p50_us = l->p90_us = l->p99_us = l->p999_us = l->max_us = NAN;
    l->rss_peak_bytes = l->cgroup_peak_bytes = l->cpu_us = l->rss_after_bytes = REP_NONE;
    l->start_us = l->end_us = l->generator_cpu_us = REP_NONE;
    l->command_exit = l->command_signal = REP_NONE;
}

void rep_burst_instance_init(struct rep_burst_instance *b)
{
    memset(b, 0, sizeof *b);
    b->port = b->start_us = b->exec_us = b->listen_us = b->ready_us = b->first_request_us =
        REP_NONE;
    b->cpu_to_ready_us = b->rss_bytes = b->pss_bytes = b->cgroup_peak_bytes = REP_NONE;
}

void rep_burst_free(struct rep_burst *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_each; i++)
        free(b->each[i].error);
    free(b->each);
    free(b);
}

const struct rep_target *rep_report_failed_target(const struct rep_report *r, size_t *ret_failed,
                                                  size_t *ret_measured)
{
    for (size_t i = 0; i < r->n_targets; i++) {
        size_t failed = 0, measured = 0;
        for (size_t k = 0; k < r->targets[i].n_runs; k++) {
            const struct rep_run *run = &r->targets[i].runs[k];
            measured += !run->warmup;
            failed += !run->warmup && run->status != REP_OK;
        }
        if (failed || measured == 0) {
            *ret_failed = failed;
            *ret_measured = measured;
            return &r->targets[i];
        }
    }
    return NULL;
}

int64_t rep_burst_per_instance(const struct rep_burst *b, bool pss)
{
    /* In doubles: the values may come from a report file, and two of 9e18
     * would overflow an int64 sum (undefined behaviour, not just a wrong
     * number). The mean of values in int64's range fits int64 again. */
    double sum = 0;
    int64_t n = 0;
    for (size_t i = 0; i < b->n_each; i++) {
        int64_t v = pss ? b->each[i].pss_bytes : b->each[i].rss_bytes;
        if (v != REP_NONE) {
            sum += (double)v;
            n++;
        }
    }
    if (!n)
        return REP_NONE;
    double mean = sum / (double)n;
    return mean >= 9223372036854775807.0 ? INT64_MAX : (int64_t)mean;
}

void rep_run_free(struct rep_run *r)
{
    rep_burst_free(r->burst);
    if (r->load) {
        free(r->load->command);
        free(r->load->command_output);
        free(r->load);
    }
    free(r->requests_us);
    for (size_t i = 0; i < r->n_denied; i++)
        free(r->denied_syscalls[i].name);
    free(r->denied_syscalls);
    for (size_t i = 0; i < r->n_mapped; i++)
        free(r->mapped[i].name);
    free(r->mapped);
    for (size_t i = 0; i < r->n_image_read_top; i++)
        free(r->image_read_top[i].name);
    free(r->image_read_top);
    for (size_t i = 0; i < r->n_image_unread_top; i++)
        free(r->image_unread_top[i].name);
    free(r->image_unread_top);
    free(r->error);
    free(r->output_tail);
    free(r->error_line);
    free(r->samples.t_us);
    free(r->samples.rss_bytes);
    free(r->samples.cpu_us);
    free(r->samples.cgroup_bytes);
    memset(r, 0, sizeof *r);
}

int rep_run_count_denied(struct rep_run *r, const char *name)
{
    return rep_run_add_denied(r, name, 1);
}

int rep_run_add_denied(struct rep_run *r, const char *name, int64_t count)
{
    for (size_t i = 0; i < r->n_denied; i++)
        if (strcmp(r->denied_syscalls[i].name, name) == 0) {
            r->denied_syscalls[i].count += count;
            return 0;
        }
    struct rep_count *n = realloc(r->denied_syscalls, (r->n_denied + 1) * sizeof *n);
    if (!n)
        return -1;
    r->denied_syscalls = n;
    n[r->n_denied].name = strdup(name);
    if (!n[r->n_denied].name)
        return -1;
    n[r->n_denied].count = count;
    r->n_denied++;
    return 0;
}

void rep_host_free(struct rep_host *h)
{
    free(h->kernel);
    free(h->cpu_model);
    free(h->cgroup);
    free(h->cgroup_placement);
    free(h->cgroup_parent);
    memset(h, 0, sizeof *h);
}

void rep_profile_free(struct rep_profile *p)
{
    if (!p)
        return;
    free(p->folded_file);
    if (p->stacks)
        rep_folded_free(p->stacks);
    free(p->stacks);
    free(p->stacks_error);
    free(p);
}

void rep_oci_image_free(struct rep_oci_image *o)
{
    if (!o)
        return;
    free(o->ref);
    free(o->transport);
    free(o->manifest_digest);
    free(o->config_digest);
    free(o->runtime);
    free(o->extract);
    free(o);
}

void rep_report_free(struct rep_report *r)
{
    for (size_t i = 0; i < r->n_targets; i++) {
        struct rep_target *t = &r->targets[i];
        free(t->name);
        for (size_t k = 0; k < t->n_command; k++)
            free(t->command[k]);
        free(t->command);
        free(t->image);
        rep_oci_image_free(t->oci_image);
        rep_profile_free(t->profile);
        free(t->limit_cpuset);
        free(t->ready);
        free(t->cache);
        if (t->host) {
            rep_host_free(t->host);
            free(t->host);
        }
        for (size_t k = 0; k < t->n_runs; k++)
            rep_run_free(&t->runs[k]);
        free(t->runs);
        for (size_t k = 0; k < t->n_summary; k++)
            free(t->summary[k].metric);
        free(t->summary);
        for (size_t k = 0; k < t->n_budgets; k++) {
            free(t->budgets[k].expr);
            free(t->budgets[k].message);
        }
        free(t->budgets);
        if (t->sizing) {
            free(t->sizing->steps);
            free(t->sizing);
        }
    }
    free(r->targets);
    for (size_t i = 0; i < r->n_skipped; i++)
        free(r->skipped[i]);
    free(r->skipped);
    free(r->settings.command);
    free(r->settings.reference);
    free(r->settings.seccomp);
    free(r->settings.sweep);
    free(r->settings.load_path);
    free(r->settings.load_command);
    free(r->tool_version);
    free(r->created);
    rep_host_free(&r->host);
    memset(r, 0, sizeof *r);
}

int rep_report_add_skipped(struct rep_report *r, const char *line)
{
    char **n = realloc(r->skipped, (r->n_skipped + 1) * sizeof *n);
    if (!n)
        return -1;
    r->skipped = n;
    n[r->n_skipped++] = strdup(line);
    return 0;
}

const struct rep_run *rep_target_median_run_by(const struct rep_target *t, const char *metric)
{
    const struct rep_metric *m = rep_metric_find(metric);
    const struct rep_stat *s = rep_target_stat(t, metric);
    const struct rep_run *best = NULL;
    double best_d = 0;
    for (size_t i = 0; m && i < t->n_runs; i++) {
        const struct rep_run *r = &t->runs[i];
        int64_t v = m->get(r);
        if (r->warmup || r->status != REP_OK || v == REP_NONE)
            continue;
        double d = s ? fabs((double)v - s->p50) : 0;
        if (!best || d < best_d) {
            best = r;
            best_d = d;
        }
    }
    return best;
}

const struct rep_run *rep_target_median_run(const struct rep_target *t)
{
    return rep_target_median_run_by(t, "ready_us");
}

const struct rep_target *rep_report_cold_twin(const struct rep_report *r,
                                              const struct rep_target *warm)
{
    if (!warm->cache || strcmp(warm->cache, "warm") != 0)
        return NULL;
    size_t len = strlen(warm->name);
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        if (t->cache && !strcmp(t->cache, "cold") && !strncmp(t->name, warm->name, len) &&
            !strcmp(t->name + len, "@cold"))
            return t;
    }
    return NULL;
}

const struct rep_target *rep_report_reference(const struct rep_report *r)
{
    if (r->n_targets == 0)
        return NULL;
    for (size_t i = 0; r->settings.reference && i < r->n_targets; i++)
        if (strcmp(r->targets[i].name, r->settings.reference) == 0)
            return &r->targets[i];
    return &r->targets[0];
}

struct rep_target *rep_report_add_target(struct rep_report *r, const char *name)
{
    struct rep_target *n = realloc(r->targets, (r->n_targets + 1) * sizeof *n);
    if (!n)
        return NULL;
    r->targets = n;
    struct rep_target *t = &n[r->n_targets++];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->limit_memory_bytes = t->limit_pids = REP_NONE;
    t->size_on_disk_bytes = t->deploy_size_bytes = REP_NONE;
    return t;
}

struct rep_run *rep_target_add_run(struct rep_target *t)
{
    struct rep_run *n = realloc(t->runs, (t->n_runs + 1) * sizeof *n);
    if (!n)
        return NULL;
    t->runs = n;
    rep_run_init(&n[t->n_runs]);
    return &n[t->n_runs++];
}

struct rep_sizing_step *rep_sizing_add_step(struct rep_sizing *s, int64_t limit_bytes,
                                            enum rep_status status, int64_t ready_us, int attempt)
{
    struct rep_sizing_step *n = realloc(s->steps, (s->n_steps + 1) * sizeof *n);
    if (!n)
        return NULL;
    s->steps = n;
    n[s->n_steps] = (struct rep_sizing_step){.limit_bytes = limit_bytes,
                                             .status = status,
                                             .ready_us = ready_us,
                                             .attempt = attempt,
                                             .load_rps = NAN,
                                             .load_p99_us = NAN,
                                             .load_errors = REP_NONE,
                                             .peak_bytes = REP_NONE};
    return &n[s->n_steps++];
}

int rep_target_add_budget(struct rep_target *t, const char *expr, bool passed, double actual,
                          const char *message)
{
    struct rep_budget_result *n = realloc(t->budgets, (t->n_budgets + 1) * sizeof *n);
    if (!n)
        return -1;
    t->budgets = n;
    n[t->n_budgets++] = (struct rep_budget_result){strdup(expr), passed, actual, strdup(message)};
    return 0;
}

const struct rep_stat *rep_target_stat(const struct rep_target *t, const char *metric)
{
    for (size_t i = 0; i < t->n_summary; i++)
        if (strcmp(t->summary[i].metric, metric) == 0)
            return &t->summary[i].stat;
    return NULL;
}

/* ---- the metric table ---- */

#define FIELD_GETTER(field)                                                                        \
    static int64_t get_##field(const struct rep_run *r)                                            \
    {                                                                                              \
        return r->field;                                                                           \
    }
FIELD_GETTER(exec_us)
FIELD_GETTER(extract_us)
FIELD_GETTER(rootfs_us)
FIELD_GETTER(image_read_bytes)
FIELD_GETTER(image_read_files)
FIELD_GETTER(listen_us)
FIELD_GETTER(first_byte_us)
FIELD_GETTER(ready_us)
FIELD_GETTER(rss_ready_bytes)
FIELD_GETTER(pss_ready_bytes)
FIELD_GETTER(rss_peak_bytes)
FIELD_GETTER(cgroup_peak_bytes)
FIELD_GETTER(minflt)
FIELD_GETTER(majflt)
FIELD_GETTER(threads_ready)
FIELD_GETTER(processes_ready)
FIELD_GETTER(stop_us)
FIELD_GETTER(nr_throttled)
FIELD_GETTER(throttled_us)
FIELD_GETTER(read_bytes)
FIELD_GETTER(cached_before_bytes)
FIELD_GETTER(mapped_files)
FIELD_GETTER(mapped_file_bytes)
FIELD_GETTER(cpu_user_us)
FIELD_GETTER(cpu_sys_us)

static int64_t get_cpu_to_ready(const struct rep_run *r)
{
    if (r->cpu_to_ready_us != REP_NONE)
        return r->cpu_to_ready_us;
    if (r->cpu_user_us == REP_NONE || r->cpu_sys_us == REP_NONE)
        return REP_NONE;
    return r->cpu_user_us + r->cpu_sys_us;
}

/* From listen() to the first complete response: serving the first request
 * (for a JIT runtime, compiling the request pipeline). */
static int64_t get_listen_to_ready(const struct rep_run *r)
{
    if (r->listen_us == REP_NONE || r->ready_us == REP_NONE || r->ready_us < r->listen_us)
        return REP_NONE;
    return r->ready_us - r->listen_us;
}

static int64_t get_first_request(const struct rep_run *r)
{
    return r->n_requests > 0 ? r->requests_us[0] : REP_NONE;
}

/* The load's figures count only when the whole load ran (an ok run). */
#define LOAD_GETTER(name, expr)                                                                    \
    static int64_t get_##name(const struct rep_run *r)                                             \
    {                                                                                              \
        return r->load ? (expr) : REP_NONE;                                                        \
    }
static int64_t round_or_none(double v)
{
    return isnan(v) ? REP_NONE : (int64_t)llround(v);
}
LOAD_GETTER(load_rps, round_or_none(r->load->rps))
LOAD_GETTER(load_p50_us, round_or_none(r->load->p50_us))
LOAD_GETTER(load_p90_us, round_or_none(r->load->p90_us))
LOAD_GETTER(load_p99_us, round_or_none(r->load->p99_us))
LOAD_GETTER(load_p999_us, round_or_none(r->load->p999_us))
LOAD_GETTER(load_errors, r->load->errors)
LOAD_GETTER(load_rss_peak_bytes, r->load->rss_peak_bytes)
LOAD_GETTER(load_cgroup_peak_bytes, r->load->cgroup_peak_bytes)
LOAD_GETTER(load_cpu_us, r->load->cpu_us)
LOAD_GETTER(rss_after_load_bytes, r->load->rss_after_bytes)

/* --burst: the whole burst's figures (an ok run: every instance ready). */
static int64_t get_burst_all_ready_us(const struct rep_run *r)
{
    return r->burst ? r->burst->all_ready_us : REP_NONE;
}

static int64_t get_pss_per_instance_bytes(const struct rep_run *r)
{
    return r->burst ? rep_burst_per_instance(r->burst, true) : REP_NONE;
}

static int64_t get_rss_per_instance_bytes(const struct rep_run *r)
{
    return r->burst ? rep_burst_per_instance(r->burst, false) : REP_NONE;
}

/* Every instance's ready time: pooled over runs, the ready time of an
 * instance in a burst of K. As a single value, the median instance. */
static size_t get_each_burst_ready(const struct rep_run *r, int64_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; r->burst && i < r->burst->n_each && n < cap; i++)
        if (r->burst->each[i].ready_us != REP_NONE)
            out[n++] = r->burst->each[i].ready_us;
    return n;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Median of the requests after the first: the warm, steady-state latency. */
static int64_t get_burst_ready_us(const struct rep_run *r)
{
    int64_t v[REP_BURST_MAX];
    size_t n = get_each_burst_ready(r, v, REP_BURST_MAX);
    if (n == 0)
        return REP_NONE;
    qsort(v, n, sizeof *v, cmp_i64);
    return v[(n - 1) / 2];
}

static int64_t get_warm_request(const struct rep_run *r)
{
    if (r->n_requests < 2)
        return REP_NONE;
    size_t n = r->n_requests - 1;
    int64_t *v = malloc(n * sizeof *v);
    if (!v)
        return REP_NONE;
    memcpy(v, r->requests_us + 1, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_i64);
    int64_t m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    free(v);
    return m;
}

const struct rep_metric rep_metrics[] = {
    {"ready_us", "ready", "ready", REP_UNIT_US, get_ready_us, false, NULL},
    {"exec_us", "exec", "exec", REP_UNIT_US, get_exec_us, false, NULL},
    {"listen_us", "listen", "listen", REP_UNIT_US, get_listen_us, false, NULL},
    {"first_byte_us", "first_byte", "first byte", REP_UNIT_US, get_first_byte_us, false, NULL},
    {"listen_to_ready_us", "listen_to_ready", "listen → ready", REP_UNIT_US, get_listen_to_ready,
     false, NULL},
    /* requests_us[0]: the first request after ready; the rest: warm (their median). */
    {"first_request_us", "first_request", "req after ready", REP_UNIT_US, get_first_request, false,
     NULL},
    {"warm_request_us", "warm_request", "warm requests", REP_UNIT_US, get_warm_request, false,
     NULL},
    {"cpu_to_ready_us", "cpu_to_ready", "CPU to ready", REP_UNIT_US, get_cpu_to_ready, false, NULL},
    {"cpu_user_us", "cpu_user", "CPU user", REP_UNIT_US, get_cpu_user_us, false, NULL},
    {"cpu_sys_us", "cpu_sys", "CPU sys", REP_UNIT_US, get_cpu_sys_us, false, NULL},
    {"rss_ready_bytes", "rss_ready", "RSS at ready", REP_UNIT_BYTES, get_rss_ready_bytes, false,
     NULL},
    {"pss_ready_bytes", "pss_ready", "PSS at ready", REP_UNIT_BYTES, get_pss_ready_bytes, false,
     NULL},
    {"rss_peak_bytes", "rss_peak", "peak RSS", REP_UNIT_BYTES, get_rss_peak_bytes, false, NULL},
    {"cgroup_peak_bytes", "cgroup_peak", "cgroup peak", REP_UNIT_BYTES, get_cgroup_peak_bytes,
     false, NULL},
    {"minflt", "minflt", "minor faults", REP_UNIT_COUNT, get_minflt, false, NULL},
    {"majflt", "majflt", "major faults", REP_UNIT_COUNT, get_majflt, false, NULL},
    {"threads_ready", "threads_ready", "threads", REP_UNIT_COUNT, get_threads_ready, false, NULL},
    {"processes_ready", "processes_ready", "processes", REP_UNIT_COUNT, get_processes_ready, false,
     NULL},
    {"stop_us", "stop", "stop", REP_UNIT_US, get_stop_us, false, NULL},
    {"nr_throttled", "nr_throttled", "throttled periods", REP_UNIT_COUNT, get_nr_throttled, false,
     NULL},
    {"throttled_us", "throttled", "throttled time", REP_UNIT_US, get_throttled_us, false, NULL},
    {"read_bytes", "read", "read from disk", REP_UNIT_BYTES, get_read_bytes, false, NULL},
    {"cached_before_bytes", "cached_before", "cached at spawn", REP_UNIT_BYTES,
     get_cached_before_bytes, false, NULL},
    {"mapped_files", "mapped_files", "files mapped", REP_UNIT_COUNT, get_mapped_files, false, NULL},
    {"mapped_file_bytes", "mapped_file", "mapped file bytes", REP_UNIT_BYTES, get_mapped_file_bytes,
     false, NULL},
    {"extract_us", "extract", "extract", REP_UNIT_US, get_extract_us, false, NULL},
    {"rootfs_us", "rootfs", "rootfs", REP_UNIT_US, get_rootfs_us, false, NULL},
    {"image_read_bytes", "image_read", "image read", REP_UNIT_BYTES, get_image_read_bytes, false,
     NULL},
    {"image_read_files", "image_read_files", "image files read", REP_UNIT_COUNT,
     get_image_read_files, false, NULL},
    /* --load: docs/design.md "Load after ready" */
    {"load_rps", "load_rps", "requests/s", REP_UNIT_PER_S, get_load_rps, true, NULL},
    {"load_p50_us", "load_p50", "load p50", REP_UNIT_US, get_load_p50_us, false, NULL},
    {"load_p90_us", "load_p90", "load p90", REP_UNIT_US, get_load_p90_us, false, NULL},
    {"load_p99_us", "load_p99", "load p99", REP_UNIT_US, get_load_p99_us, false, NULL},
    {"load_p999_us", "load_p999", "load p99.9", REP_UNIT_US, get_load_p999_us, false, NULL},
    {"load_errors", "load_errors", "load errors", REP_UNIT_COUNT, get_load_errors, false, NULL},
    {"load_rss_peak_bytes", "load_rss_peak", "load peak RSS", REP_UNIT_BYTES,
     get_load_rss_peak_bytes, false, NULL},
    {"load_cgroup_peak_bytes", "load_cgroup_peak", "load cgroup peak", REP_UNIT_BYTES,
     get_load_cgroup_peak_bytes, false, NULL},
    {"load_cpu_us", "load_cpu", "load CPU", REP_UNIT_US, get_load_cpu_us, false, NULL},
    {"rss_after_load_bytes", "rss_after_load", "RSS after load", REP_UNIT_BYTES,
     get_rss_after_load_bytes, false, NULL},
    /* --burst: ../shared/DESIGN.md "Burst" */
    {"burst_all_ready_us", "burst_all_ready", "all ready", REP_UNIT_US, get_burst_all_ready_us,
     false, NULL},
    {"burst_ready_us", "burst_ready", "instance ready", REP_UNIT_US, get_burst_ready_us, false,
     get_each_burst_ready},
    {"pss_per_instance_bytes", "pss_per_instance", "PSS/instance", REP_UNIT_BYTES,
     get_pss_per_instance_bytes, false, NULL},
    {"rss_per_instance_bytes", "rss_per_instance", "RSS/instance", REP_UNIT_BYTES,
     get_rss_per_instance_bytes, false, NULL},
};
const size_t rep_n_metrics = sizeof rep_metrics / sizeof rep_metrics[0];

const struct rep_metric *rep_metric_find(const char *name)
{
    for (size_t i = 0; i < rep_n_metrics; i++)
        if (strcmp(rep_metrics[i].key, name) == 0 || strcmp(rep_metrics[i].brief, name) == 0)
            return &rep_metrics[i];
    return NULL;
}

bool rep_metric_is_burst(const struct rep_metric *m)
{
    return strncmp(m->key, "burst_", 6) == 0 || strstr(m->key, "_per_instance_") != NULL;
}

size_t rep_metric_run_values(const struct rep_metric *m, const struct rep_run *r, int64_t *out,
                             size_t cap)
{
    if (m->get_each)
        return m->get_each(r, out, cap);
    int64_t v = m->get(r);
    if (v == REP_NONE || cap == 0)
        return 0;
    out[0] = v;
    return 1;
}

bool rep_metric_is_load(const struct rep_metric *m)
{
    return strncmp(m->key, "load_", 5) == 0 || strcmp(m->key, "rss_after_load_bytes") == 0;
}

void rep_format_value(enum rep_unit unit, double v, char *buf, size_t cap)
{
    if (isnan(v)) {
        snprintf(buf, cap, "-");
        return;
    }
    switch (unit) {
    case REP_UNIT_US:
        if (v >= 10e6)
            snprintf(buf, cap, "%.1f s", v / 1e6);
        else if (v >= 1e6)
            snprintf(buf, cap, "%.2f s", v / 1e6);
        else if (v >= 100e3)
            snprintf(buf, cap, "%.0f ms", v / 1e3);
        else if (v >= 10e3)
            snprintf(buf, cap, "%.1f ms", v / 1e3);
        else if (v >= 1e3)
            snprintf(buf, cap, "%.2f ms", v / 1e3);
        else
            snprintf(buf, cap, "%.0f µs", v);
        break;
    case REP_UNIT_BYTES:
        if (v >= 1073741824.0)
            snprintf(buf, cap, "%.2f GiB", v / 1073741824.0);
        else if (v >= 10485760.0)
            snprintf(buf, cap, "%.1f MiB", v / 1048576.0);
        else if (v >= 1048576.0)
            snprintf(buf, cap, "%.2f MiB", v / 1048576.0);
        else if (v >= 1024.0)
            snprintf(buf, cap, "%.0f KiB", v / 1024.0);
        else
            snprintf(buf, cap, "%.0f B", v);
        break;
    case REP_UNIT_COUNT:
        if (v == floor(v))
            snprintf(buf, cap, "%.0f", v);
        else
            snprintf(buf, cap, "%.1f", v);
        break;
    case REP_UNIT_PER_S:
        if (v >= 100e3)
            snprintf(buf, cap, "%.0fk/s", v / 1e3);
        else if (v >= 10e3)
            snprintf(buf, cap, "%.1fk/s", v / 1e3);
        else
            snprintf(buf, cap, "%.0f/s", v);
        break;
    }
}
