#include "reports/report_json.h"
#include "sandbox/base/fsutil.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/cjson_cleanup.h"
#include "reports/json_keys.h"
#include "reports/output.h"
#include "sandbox/base/cleanup.h"

/* ---- writing ---- */

static void add_int(cJSON *o, const char *k, int64_t v)
{
    if (v == REP_NONE)
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_num(cJSON *o, const char *k, double v)
{
    if (isnan(v))
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, v);
}

static cJSON *int_array(const int64_t *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, v[i] == REP_NONE ? cJSON_CreateNull()
                                                 : cJSON_CreateNumber((double)v[i]));
    return a;
}

static cJSON *host_json(const struct rep_host *h)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "kernel", h->kernel);
    add_str(o, "cpu_model", h->cpu_model);
    add_int(o, "cpus", h->cpus);
    add_int(o, "mem_total_bytes", h->mem_total_bytes);
    add_str(o, "cgroup", h->cgroup);
    add_str(o, "cgroup_placement", h->cgroup_placement);
    add_str(o, "cgroup_parent", h->cgroup_parent);
    return o;
}

/* [{"path", "bytes"}] */
static cJSON *files_json(const struct rep_count *files, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", files[i].name);
        cJSON_AddNumberToObject(f, "bytes", (double)files[i].count);
        cJSON_AddItemToArray(a, f);
    }
    return a;
}

static cJSON *oci_image_json(const struct rep_oci_image *i)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "ref", i->ref);
    add_str(o, "transport", i->transport);
    add_str(o, "manifest_digest", i->manifest_digest);
    add_str(o, "config_digest", i->config_digest);
    add_str(o, "runtime", i->runtime);
    add_str(o, "extract", i->extract);
    add_int(o, "layers", i->layers);
    add_int(o, "compressed_bytes", i->compressed_bytes);
    add_int(o, "unpacked_bytes", i->unpacked_bytes);
    add_int(o, "files", i->files);
    return o;
}

/* A figure measured to a fraction: one decimal is all it carries. */
static void add_tenths(cJSON *o, const char *k, double v)
{
    add_num(o, k, isnan(v) ? v : round(v * 10) / 10);
}

static cJSON *load_json(const struct rep_load *l)
{
    cJSON *o = cJSON_CreateObject();
    add_int(o, "connections", l->connections);
    add_int(o, "duration_us", l->duration_us);
    add_num(o, "rate", l->rate > 0 ? l->rate : NAN);
    add_int(o, "requests", l->requests);
    add_int(o, "errors", l->errors);
    cJSON *k = cJSON_AddObjectToObject(o, "error_kinds");
    add_int(k, "connect", l->errors_connect);
    add_int(k, "read", l->errors_read);
    add_int(k, "status", l->errors_status);
    add_int(k, "timeout", l->errors_timeout);
    add_tenths(o, "rps", l->rps);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency_us");
    add_tenths(lat, "p50", l->p50_us);
    add_tenths(lat, "p90", l->p90_us);
    add_tenths(lat, "p99", l->p99_us);
    add_tenths(lat, "p999", l->p999_us);
    add_tenths(lat, "max", l->max_us);
    add_int(o, "rss_peak_bytes", l->rss_peak_bytes);
    add_int(o, "cgroup_peak_bytes", l->cgroup_peak_bytes);
    add_int(o, "cpu_us", l->cpu_us);
    add_int(o, "rss_after_bytes", l->rss_after_bytes);
    add_int(o, "start_us", l->start_us);
    add_int(o, "end_us", l->end_us);
    add_int(o, "generator_cpu_us", l->generator_cpu_us);
    if (l->command) {
        add_str(o, "command", l->command);
        add_int(o, "exit_code", l->command_exit);
        add_int(o, "signal", l->command_signal);
        add_str(o, "output_tail", l->command_output);
    }
    return o;
}

static cJSON *burst_json(const struct rep_burst *b)
{
    cJSON *o = cJSON_CreateObject();
    add_int(o, "instances", b->instances);
    cJSON *ready = cJSON_AddArrayToObject(o, "ready_us");
    for (size_t i = 0; i < b->n_each; i++)
        cJSON_AddItemToArray(ready, b->each[i].ready_us == REP_NONE
                                        ? cJSON_CreateNull()
                                        : cJSON_CreateNumber((double)b->each[i].ready_us));
    add_int(o, "all_ready_us", b->all_ready_us);
    add_int(o, "rss_sum_bytes", b->rss_sum_bytes);
    add_int(o, "pss_sum_bytes", b->pss_sum_bytes);
    cJSON *each = cJSON_AddArrayToObject(o, "per_instance");
    for (size_t i = 0; i < b->n_each; i++) {
        const struct rep_burst_instance *e = &b->each[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "status", rep_status_name(e->status));
        add_str(x, "error", e->error);
        add_int(x, "port", e->port);
        add_int(x, "start_us", e->start_us);
        add_int(x, "exec_us", e->exec_us);
        add_int(x, "listen_us", e->listen_us);
        add_int(x, "ready_us", e->ready_us);
        add_int(x, "first_request_us", e->first_request_us);
        add_int(x, "cpu_to_ready_us", e->cpu_to_ready_us);
        add_int(x, "rss_bytes", e->rss_bytes);
        add_int(x, "pss_bytes", e->pss_bytes);
        add_int(x, "cgroup_peak_bytes", e->cgroup_peak_bytes);
        cJSON_AddItemToArray(each, x);
    }
    return o;
}

static cJSON *run_json(const struct rep_run *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", r->index);
    cJSON_AddBoolToObject(o, "warmup", r->warmup);
    cJSON_AddStringToObject(o, "status", rep_status_name(r->status));
    add_int(o, "exit_code", r->exit_code);
    add_int(o, "signal", r->signal);
    cJSON_AddNumberToObject(o, "t0_monotonic_ns", (double)r->t0_monotonic_ns);
    if (r->spawn == REP_SPAWN_UNKNOWN)
        cJSON_AddNullToObject(o, "spawn");
    else
        cJSON_AddStringToObject(o, "spawn", r->spawn == REP_SPAWN_AT_ONCE ? "at-once" : "gated");
    cJSON *m = cJSON_AddObjectToObject(o, "milestones_us");
    add_int(m, "extract", r->extract_us);
    add_int(m, "rootfs", r->rootfs_us);
    add_int(m, "exec", r->exec_us);
    add_int(m, "listen", r->listen_us);
    add_int(m, "first_byte", r->first_byte_us);
    add_int(m, "ready", r->ready_us);
    cJSON_AddItemToObject(o, "requests_us", int_array(r->requests_us, r->n_requests));
    add_int(o, "cpu_user_us", r->cpu_user_us);
    add_int(o, "cpu_sys_us", r->cpu_sys_us);
    add_int(o, "cpu_to_ready_us", r->cpu_to_ready_us);
    add_int(o, "rss_ready_bytes", r->rss_ready_bytes);
    add_int(o, "pss_ready_bytes", r->pss_ready_bytes);
    add_int(o, "rss_peak_bytes", r->rss_peak_bytes);
    add_int(o, "cgroup_peak_bytes", r->cgroup_peak_bytes);
    add_int(o, "minflt", r->minflt);
    add_int(o, "majflt", r->majflt);
    add_int(o, "threads_ready", r->threads_ready);
    add_int(o, "processes_ready", r->processes_ready);
    add_int(o, "stop_us", r->stop_us);
    add_int(o, "nr_throttled", r->nr_throttled);
    add_int(o, "throttled_us", r->throttled_us);
    add_int(o, "read_bytes", r->read_bytes);
    add_int(o, "cached_before_bytes", r->cached_before_bytes);
    add_int(o, "mapped_files", r->mapped_files);
    add_int(o, "mapped_file_bytes", r->mapped_file_bytes);
    cJSON_AddItemToObject(o, "mapped", files_json(r->mapped, r->n_mapped));
    add_int(o, "image_read_bytes", r->image_read_bytes);
    add_int(o, "image_read_files", r->image_read_files);
    cJSON_AddItemToObject(o, "image_read_top", files_json(r->image_read_top, r->n_image_read_top));
    cJSON_AddItemToObject(o, "image_unread_top",
                          files_json(r->image_unread_top, r->n_image_unread_top));
    cJSON *d = cJSON_AddObjectToObject(o, "denied_syscalls");
    for (size_t i = 0; i < r->n_denied; i++)
        cJSON_AddNumberToObject(d, r->denied_syscalls[i].name, (double)r->denied_syscalls[i].count);
    add_str(o, "error", r->error);
    add_str(o, "output_tail", r->output_tail);
    add_str(o, "error_line", r->error_line);
    if (r->load)
        cJSON_AddItemToObject(o, "load", load_json(r->load));
    if (r->burst)
        cJSON_AddItemToObject(o, "burst", burst_json(r->burst));
    cJSON *s = cJSON_AddObjectToObject(o, "samples");
    cJSON_AddNumberToObject(s, "interval_us", (double)r->samples.interval_us);
    cJSON_AddItemToObject(s, "t_us", int_array(r->samples.t_us, r->samples.n));
    cJSON_AddItemToObject(s, "rss_bytes", int_array(r->samples.rss_bytes, r->samples.n));
    cJSON_AddItemToObject(s, "cpu_us", int_array(r->samples.cpu_us, r->samples.n));
    cJSON_AddItemToObject(s, "cgroup_bytes", int_array(r->samples.cgroup_bytes, r->samples.n));
    return o;
}

static cJSON *target_json(const struct rep_target *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON *cmd = cJSON_AddArrayToObject(o, "command");
    for (size_t i = 0; i < t->n_command; i++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(t->command[i]));
    add_str(o, "image", t->image);
    cJSON *l = cJSON_AddObjectToObject(o, "limits");
    add_int(l, "memory_bytes", t->limit_memory_bytes);
    if (t->limit_cpus > 0)
        cJSON_AddNumberToObject(l, "cpus", t->limit_cpus);
    else
        cJSON_AddNullToObject(l, "cpus");
    add_str(l, "cpuset", t->limit_cpuset);
    add_int(l, "pids", t->limit_pids);
    add_str(o, "ready", t->ready);
    add_str(o, "cache", t->cache);
    add_int(o, "size_on_disk_bytes", t->size_on_disk_bytes);
    add_int(o, "deploy_size_bytes", t->deploy_size_bytes);
    if (t->oci_image)
        cJSON_AddItemToObject(o, "oci_image", oci_image_json(t->oci_image));
    if (t->profile) {
        cJSON *pr = cJSON_AddObjectToObject(o, "profile");
        add_int(pr, "hz", t->profile->hz);
        add_int(pr, "samples", t->profile->samples);
        add_int(pr, "lost", t->profile->lost);
        add_int(pr, "runs", t->profile->runs);
        add_str(pr, "folded_file", t->profile->folded_file);
        cJSON_AddBoolToObject(pr, "maps_from_exec", t->profile->maps_from_exec);
    }
    if (t->host)
        cJSON_AddItemToObject(o, "host", host_json(t->host));
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (size_t i = 0; i < t->n_runs; i++)
        cJSON_AddItemToArray(runs, run_json(&t->runs[i]));
    cJSON *budgets = cJSON_AddArrayToObject(o, "budgets");
    for (size_t i = 0; i < t->n_budgets; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "expr", t->budgets[i].expr);
        cJSON_AddBoolToObject(b, "passed", t->budgets[i].passed);
        add_num(b, "actual", t->budgets[i].actual);
        add_str(b, "message", t->budgets[i].message);
        cJSON_AddItemToArray(budgets, b);
    }
    if (t->sizing) {
        const struct rep_sizing *z = t->sizing;
        cJSON *sz = cJSON_AddObjectToObject(o, "sizing");
        add_int(sz, "min_passing_bytes", z->min_passing_bytes);
        add_int(sz, "recommended_bytes", z->recommended_bytes);
        cJSON_AddNumberToObject(sz, "margin", z->margin);
        add_int(sz, "unconstrained_peak_bytes", z->unconstrained_peak_bytes);
        add_int(sz, "at_rest_min_bytes", z->at_rest_min_bytes);
        add_int(sz, "at_rest_recommended_bytes", z->at_rest_recommended_bytes);
        add_tenths(sz, "unconstrained_p99_us", z->unconstrained_p99_us);
        add_num(sz, "max_p99_factor", z->max_p99_factor > 0 ? z->max_p99_factor : NAN);
        add_num(sz, "cpus", z->cpus > 0 ? z->cpus : NAN);
        add_int(sz, "baseline_runs", z->baseline_runs > 0 ? z->baseline_runs : REP_NONE);
        add_int(sz, "noisy_low_bytes", z->noisy_low_bytes);
        add_int(sz, "noisy_high_bytes", z->noisy_high_bytes);
        cJSON *steps = cJSON_AddArrayToObject(sz, "steps");
        for (size_t i = 0; i < z->n_steps; i++) {
            const struct rep_sizing_step *zs = &z->steps[i];
            cJSON *st = cJSON_CreateObject();
            add_int(st, "limit_bytes", zs->limit_bytes);
            cJSON_AddStringToObject(st, "status", rep_status_name(zs->status));
            add_int(st, "ready_us", zs->ready_us);
            cJSON_AddNumberToObject(st, "attempt", zs->attempt);
            cJSON_AddBoolToObject(st, "under_load", zs->under_load);
            add_tenths(st, "load_rps", zs->load_rps);
            add_tenths(st, "load_p99_us", zs->load_p99_us);
            add_int(st, "load_errors", zs->load_errors);
            add_int(st, "peak_bytes", zs->peak_bytes);
            cJSON_AddItemToArray(steps, st);
        }
    }
    cJSON *sum = cJSON_AddObjectToObject(o, "summary");
    for (size_t i = 0; i < t->n_summary; i++) {
        const struct rep_stat *s = &t->summary[i].stat;
        cJSON *m = cJSON_AddObjectToObject(sum, t->summary[i].metric);
        cJSON_AddNumberToObject(m, "n", (double)s->n);
        add_num(m, "min", s->min);
        add_num(m, "p50", s->p50);
        add_num(m, "mean", s->mean);
        add_num(m, "stddev", s->stddev);
        add_num(m, "p90", s->p90);
        add_num(m, "p95", s->p95);
        add_num(m, "p99", s->p99);
        add_num(m, "max", s->max);
        cJSON *ci = cJSON_AddArrayToObject(m, "ci95");
        cJSON_AddItemToArray(ci, isnan(s->ci95_lo) ? cJSON_CreateNull()
                                                   : cJSON_CreateNumber(s->ci95_lo));
        cJSON_AddItemToArray(ci, isnan(s->ci95_hi) ? cJSON_CreateNull()
                                                   : cJSON_CreateNumber(s->ci95_hi));
    }
    return o;
}

char *rep_json_render(const struct rep_report *r, cs_error *err)
{
    _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
    if (!o) {
        cs_error_set(err, ENOMEM, "report JSON");
        return NULL;
    }
    cJSON_AddStringToObject(o, "schema", REP_SCHEMA);
    cJSON *tool = cJSON_AddObjectToObject(o, "tool");
    cJSON_AddStringToObject(tool, "name", "coldstart");
    add_str(tool, "version", r->tool_version);
    add_str(o, "created", r->created);
    cJSON_AddItemToObject(o, "host", host_json(&r->host));
    const struct rep_settings *st = &r->settings;
    cJSON *set = cJSON_AddObjectToObject(o, "settings");
    add_str(set, "command", st->command);
    add_str(set, "reference", st->reference);
    add_int(set, "runs", st->runs);
    add_int(set, "warmup", st->warmup);
    add_int(set, "requests", st->requests);
    add_int(set, "timeout_us", st->timeout_us);
    add_int(set, "interval_us", st->interval_us);
    add_str(set, "seccomp", st->seccomp);
    cJSON_AddBoolToObject(set, "interleaved", st->interleaved);
    add_str(set, "sweep", st->sweep);
    if (st->load_connections > 0) {
        cJSON *ld = cJSON_AddObjectToObject(set, "load");
        add_int(ld, "connections", st->load_connections);
        add_int(ld, "duration_us", st->load_duration_us);
        add_num(ld, "rate", st->load_rate > 0 ? st->load_rate : NAN);
        add_str(ld, "path", st->load_path);
    } else if (st->load_command) {
        cJSON *ld = cJSON_AddObjectToObject(set, "load");
        add_str(ld, "command", st->load_command);
    } else {
        cJSON_AddNullToObject(set, "load");
    }
    if (st->burst > 0) {
        cJSON *bu = cJSON_AddObjectToObject(set, "burst");
        add_int(bu, "instances", st->burst);
        add_int(bu, "group_memory_bytes", st->burst_memory_bytes);
        add_int(bu, "group_pids", st->burst_pids);
    } else {
        cJSON_AddNullToObject(set, "burst");
    }
    cJSON *skipped = cJSON_AddArrayToObject(o, "skipped");
    for (size_t i = 0; i < r->n_skipped; i++)
        cJSON_AddItemToArray(skipped, cJSON_CreateString(r->skipped[i]));
    cJSON *targets = cJSON_AddArrayToObject(o, "targets");
    for (size_t i = 0; i < r->n_targets; i++)
        cJSON_AddItemToArray(targets, target_json(&r->targets[i]));
    char *text = cJSON_Print(o);
    if (!text)
        cs_error_set(err, ENOMEM, "report JSON");
    return text;
}

int rep_json_save(const struct rep_report *r, const char *path, cs_error *err)
{
    char *text = rep_json_render(r, err);
    if (!text)
        return -1;
    /* A trailing newline, as text files should end. */
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (!withnl) {
        free(text);
        return cs_error_set(err, ENOMEM, "report JSON");
    }
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    int rc = rep_write_file(path, withnl, len + 1, err);
    free(withnl);
    return rc;
}

/* ---- reading ---- */

struct reader {
    cs_error *err;
    char where[256]; /* JSON path of the object being read, for messages */
    int failed;
};

static int fail(struct reader *rd, const char *key, const char *what)
{
    if (!rd->failed)
        cs_error_set(rd->err, 0, "%s%s%s: %s", rd->where, key ? "." : "", key ? key : "", what);
    rd->failed = 1;
    return -1;
}

/* JSON numbers are doubles; converting one outside int64 is undefined. */
static bool fits_i64(double v)
{
    return v >= -9.2e18 && v <= 9.2e18; /* false for NaN too */
}

static int64_t get_int(struct reader *rd, const cJSON *o, const char *key, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (required && !v)
            fail(rd, key, "missing");
        return REP_NONE;
    }
    if (!cJSON_IsNumber(v) || !fits_i64(v->valuedouble)) {
        fail(rd, key, "is not a number in range");
        return REP_NONE;
    }
    return (int64_t)v->valuedouble;
}

static double get_double(struct reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return NAN;
    if (!cJSON_IsNumber(v)) {
        fail(rd, key, "is not a number");
        return NAN;
    }
    return v->valuedouble;
}

/* A string field, borrowed from the JSON tree (valid while it lives). */
static const char *peek_str(struct reader *rd, const cJSON *o, const char *key, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            fail(rd, key, "missing");
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        fail(rd, key, "is not a string");
        return NULL;
    }
    return v->valuestring;
}

/* A string field, copied. */
static char *get_str(struct reader *rd, const cJSON *o, const char *key, bool required)
{
    const char *v = peek_str(rd, o, key, required);
    return v ? strdup(v) : NULL;
}

static int get_int_array(struct reader *rd, const cJSON *o, const char *key, int64_t **ret,
                         size_t *ret_n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    *ret = NULL;
    *ret_n = 0;
    if (!a || cJSON_IsNull(a))
        return 0;
    if (!cJSON_IsArray(a))
        return fail(rd, key, "is not an array");
    size_t n = (size_t)cJSON_GetArraySize(a);
    if (n == 0)
        return 0;
    int64_t *v = calloc(n, sizeof *v);
    if (!v)
        return fail(rd, key, "out of memory");
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (cJSON_IsNull(e))
            v[i++] = REP_NONE;
        else if (cJSON_IsNumber(e) && fits_i64(e->valuedouble))
            v[i++] = (int64_t)e->valuedouble;
        else {
            free(v);
            return fail(rd, key, "holds a value that is not a number in range");
        }
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

static void read_host(struct reader *rd, const cJSON *o, struct rep_host *h)
{
    h->kernel = get_str(rd, o, "kernel", false);
    h->cpu_model = get_str(rd, o, "cpu_model", false);
    h->cpus = get_int(rd, o, "cpus", false);
    h->mem_total_bytes = get_int(rd, o, "mem_total_bytes", false);
    h->cgroup = get_str(rd, o, "cgroup", false);
    h->cgroup_placement = get_str(rd, o, "cgroup_placement", false);
    h->cgroup_parent = get_str(rd, o, "cgroup_parent", false);
}

/* [{"path", "bytes"}]; entries of another shape are skipped. */
static void read_files(const cJSON *a, struct rep_count **ret, size_t *ret_n)
{
    const cJSON *e;
    if (!cJSON_IsArray(a))
        return;
    size_t n = (size_t)cJSON_GetArraySize(a);
    *ret = calloc(n ? n : 1, sizeof **ret);
    cJSON_ArrayForEach(e, a)
    {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
        const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(e, "bytes");
        if (*ret && cJSON_IsString(path) && cJSON_IsNumber(bytes) && fits_i64(bytes->valuedouble))
            (*ret)[(*ret_n)++] =
                (struct rep_count){strdup(path->valuestring), (int64_t)bytes->valuedouble};
    }
}

static void read_oci_image(struct reader *rd, const cJSON *o, struct rep_target *t)
{
    if (!o || cJSON_IsNull(o))
        return;
    if (!cJSON_IsObject(o)) {
        fail(rd, "oci_image", "is not an object");
        return;
    }
    struct rep_oci_image *i = calloc(1, sizeof *i);
    if (!i) {
        fail(rd, "oci_image", "out of memory");
        return;
    }
    t->oci_image = i;
    i->ref = get_str(rd, o, "ref", true);
    i->transport = get_str(rd, o, "transport", true);
    i->manifest_digest = get_str(rd, o, "manifest_digest", false);
    i->config_digest = get_str(rd, o, "config_digest", false);
    i->runtime = get_str(rd, o, "runtime", false);
    i->extract = get_str(rd, o, "extract", false);
    i->layers = get_int(rd, o, "layers", false);
    i->compressed_bytes = get_int(rd, o, "compressed_bytes", false);
    i->unpacked_bytes = get_int(rd, o, "unpacked_bytes", false);
    i->files = get_int(rd, o, "files", false);
}

static void read_profile(struct reader *rd, const cJSON *o, struct rep_target *t)
{
    if (!o || cJSON_IsNull(o))
        return;
    if (!cJSON_IsObject(o)) {
        fail(rd, "profile", "is not an object");
        return;
    }
    if (!(t->profile = calloc(1, sizeof *t->profile))) {
        fail(rd, "profile", "out of memory");
        return;
    }
    t->profile->hz = get_int(rd, o, "hz", true);
    t->profile->samples = get_int(rd, o, "samples", true);
    t->profile->lost = get_int(rd, o, "lost", true);
    t->profile->runs = get_int(rd, o, "runs", false);
    t->profile->folded_file = get_str(rd, o, "folded_file", true);
    t->profile->maps_from_exec =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "maps_from_exec"));
}

static int64_t nonneg(struct reader *rd, const cJSON *o, const char *key)
{
    int64_t v = get_int(rd, o, key, false);
    if (v != REP_NONE && v < 0)
        fail(rd, key, "is negative");
    return v;
}

static void read_load(struct reader *rd, const cJSON *o, struct rep_run *r)
{
    if (!o || cJSON_IsNull(o))
        return;
    if (!cJSON_IsObject(o)) {
        fail(rd, "load", "is not an object");
        return;
    }
    struct rep_load *l = r->load = malloc(sizeof *l);
    if (!l) {
        fail(rd, "load", "out of memory");
        return;
    }
    rep_load_init(l);
    l->connections = nonneg(rd, o, "connections");
    l->duration_us = nonneg(rd, o, "duration_us");
    double rate = get_double(rd, o, "rate");
    l->rate = isnan(rate) ? 0 : rate;
    l->requests = nonneg(rd, o, "requests");
    l->errors = nonneg(rd, o, "errors");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "error_kinds");
    if (cJSON_IsObject(k)) {
        l->errors_connect = nonneg(rd, k, "connect");
        l->errors_read = nonneg(rd, k, "read");
        l->errors_status = nonneg(rd, k, "status");
        l->errors_timeout = nonneg(rd, k, "timeout");
    }
    l->rps = get_double(rd, o, "rps");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(o, "latency_us");
    if (cJSON_IsObject(lat)) {
        l->p50_us = get_double(rd, lat, "p50");
        l->p90_us = get_double(rd, lat, "p90");
        l->p99_us = get_double(rd, lat, "p99");
        l->p999_us = get_double(rd, lat, "p999");
        l->max_us = get_double(rd, lat, "max");
    }
    l->rss_peak_bytes = nonneg(rd, o, "rss_peak_bytes");
    l->cgroup_peak_bytes = nonneg(rd, o, "cgroup_peak_bytes");
    l->cpu_us = nonneg(rd, o, "cpu_us");
    l->rss_after_bytes = nonneg(rd, o, "rss_after_bytes");
    l->start_us = get_int(rd, o, "start_us", false);
    l->end_us = get_int(rd, o, "end_us", false);
    l->generator_cpu_us = nonneg(rd, o, "generator_cpu_us");
    l->command = get_str(rd, o, "command", false);
    if (l->command) {
        l->command_exit = nonneg(rd, o, "exit_code");
        l->command_signal = nonneg(rd, o, "signal");
        l->command_output = get_str(rd, o, "output_tail", false);
    }
}

/* per_instance holds every instance; ready_us is what it says of their
 * ready times, for readers that want only those. */
static void read_burst(struct reader *rd, const cJSON *o, struct rep_run *r)
{
    if (!o || cJSON_IsNull(o))
        return;
    const cJSON *each = cJSON_GetObjectItemCaseSensitive(o, "per_instance");
    if (!cJSON_IsObject(o) || !cJSON_IsArray(each)) {
        fail(rd, "burst", "is not an object with a per_instance array");
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(each);
    if (n > REP_BURST_MAX) {
        fail(rd, "burst", "has more than 64 instances");
        return;
    }
    struct rep_burst *b = r->burst = calloc(1, sizeof *b);
    if (b)
        b->each = calloc(n ? n : 1, sizeof *b->each);
    if (!b || !b->each) {
        fail(rd, "burst", "out of memory");
        return;
    }
    b->instances = nonneg(rd, o, "instances");
    b->all_ready_us = get_int(rd, o, "all_ready_us", false);
    b->rss_sum_bytes = nonneg(rd, o, "rss_sum_bytes");
    b->pss_sum_bytes = nonneg(rd, o, "pss_sum_bytes");
    const cJSON *x;
    cJSON_ArrayForEach(x, each)
    {
        if (!cJSON_IsObject(x)) {
            fail(rd, "burst.per_instance", "holds something other than objects");
            return;
        }
        struct rep_burst_instance *e = &b->each[b->n_each++];
        rep_burst_instance_init(e);
        const char *status = peek_str(rd, x, "status", true);
        if (status && rep_status_parse(status, &e->status) < 0)
            fail(rd, "burst.per_instance.status", "is not a run status");
        e->error = get_str(rd, x, "error", false);
        e->port = nonneg(rd, x, "port");
        e->start_us = get_int(rd, x, "start_us", false);
        e->exec_us = get_int(rd, x, "exec_us", false);
        e->listen_us = get_int(rd, x, "listen_us", false);
        e->ready_us = get_int(rd, x, "ready_us", false);
        e->first_request_us = get_int(rd, x, "first_request_us", false);
        e->cpu_to_ready_us = nonneg(rd, x, "cpu_to_ready_us");
        e->rss_bytes = nonneg(rd, x, "rss_bytes");
        e->pss_bytes = nonneg(rd, x, "pss_bytes");
        e->cgroup_peak_bytes = nonneg(rd, x, "cgroup_peak_bytes");
    }
    if (b->instances != (int64_t)b->n_each)
        fail(rd, "burst.instances", "is not the number of per_instance entries");
}

static void read_run(struct reader *rd, const cJSON *o, struct rep_run *r)
{
    r->index = (int)get_int(rd, o, "index", true);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "warmup");
    r->warmup = cJSON_IsTrue(w);
    const char *status = peek_str(rd, o, "status", true);
    if (status && rep_status_parse(status, &r->status) < 0)
        fail(rd, "status", "is not one of ok, timeout, exited, crashed, oom, error, interrupted");
    r->exit_code = get_int(rd, o, "exit_code", false);
    r->signal = get_int(rd, o, "signal", false);
    int64_t t0 = get_int(rd, o, "t0_monotonic_ns", false);
    r->t0_monotonic_ns = t0 == REP_NONE ? 0 : (uint64_t)t0;
    const char *spawn = peek_str(rd, o, "spawn", false);
    if (spawn && strcmp(spawn, "at-once") == 0)
        r->spawn = REP_SPAWN_AT_ONCE;
    else if (spawn && strcmp(spawn, "gated") == 0)
        r->spawn = REP_SPAWN_GATED;
    else if (spawn)
        fail(rd, "spawn", "is not one of at-once, gated");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "milestones_us");
    if (!cJSON_IsObject(m)) {
        fail(rd, "milestones_us", "missing or not an object");
        return;
    }
    r->extract_us = get_int(rd, m, "extract", false);
    r->rootfs_us = get_int(rd, m, "rootfs", false);
    r->exec_us = get_int(rd, m, "exec", false);
    r->listen_us = get_int(rd, m, "listen", false);
    r->first_byte_us = get_int(rd, m, "first_byte", false);
    r->ready_us = get_int(rd, m, "ready", false);
    get_int_array(rd, o, "requests_us", &r->requests_us, &r->n_requests);
    r->cpu_user_us = get_int(rd, o, "cpu_user_us", false);
    r->cpu_sys_us = get_int(rd, o, "cpu_sys_us", false);
    r->cpu_to_ready_us = get_int(rd, o, "cpu_to_ready_us", false);
    r->rss_ready_bytes = get_int(rd, o, "rss_ready_bytes", false);
    r->pss_ready_bytes = get_int(rd, o, "pss_ready_bytes", false);
    r->rss_peak_bytes = get_int(rd, o, "rss_peak_bytes", false);
    r->cgroup_peak_bytes = get_int(rd, o, "cgroup_peak_bytes", false);
    r->minflt = get_int(rd, o, "minflt", false);
    r->majflt = get_int(rd, o, "majflt", false);
    r->threads_ready = get_int(rd, o, "threads_ready", false);
    r->processes_ready = get_int(rd, o, "processes_ready", false);
    r->stop_us = get_int(rd, o, "stop_us", false);
    r->nr_throttled = get_int(rd, o, "nr_throttled", false);
    r->throttled_us = get_int(rd, o, "throttled_us", false);
    r->read_bytes = get_int(rd, o, "read_bytes", false);
    r->cached_before_bytes = get_int(rd, o, "cached_before_bytes", false);
    r->mapped_files = get_int(rd, o, "mapped_files", false);
    r->mapped_file_bytes = get_int(rd, o, "mapped_file_bytes", false);
    read_files(cJSON_GetObjectItemCaseSensitive(o, "mapped"), &r->mapped, &r->n_mapped);
    r->image_read_bytes = get_int(rd, o, "image_read_bytes", false);
    r->image_read_files = get_int(rd, o, "image_read_files", false);
    read_files(cJSON_GetObjectItemCaseSensitive(o, "image_read_top"), &r->image_read_top,
               &r->n_image_read_top);
    read_files(cJSON_GetObjectItemCaseSensitive(o, "image_unread_top"), &r->image_unread_top,
               &r->n_image_unread_top);
    r->error = get_str(rd, o, "error", false);
    r->output_tail = get_str(rd, o, "output_tail", false);
    r->error_line = get_str(rd, o, "error_line", false);
    read_load(rd, cJSON_GetObjectItemCaseSensitive(o, "load"), r);
    read_burst(rd, cJSON_GetObjectItemCaseSensitive(o, "burst"), r);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "denied_syscalls");
    const cJSON *e;
    if (cJSON_IsObject(d))
        cJSON_ArrayForEach(e, d)
        {
            if (!cJSON_IsNumber(e) || !e->string || !fits_i64(e->valuedouble))
                continue;
            /* Keys are unique (checked at parse), so this adds a new entry. */
            if (rep_run_count_denied(r, e->string) < 0) {
                fail(rd, "denied_syscalls", "out of memory");
                break;
            }
            r->denied_syscalls[r->n_denied - 1].count = (int64_t)e->valuedouble;
        }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "samples");
    if (cJSON_IsObject(s)) {
        int64_t iv = get_int(rd, s, "interval_us", false);
        r->samples.interval_us = iv == REP_NONE ? 0 : (uint64_t)iv;
        size_t n1, n2, n3, n4;
        get_int_array(rd, s, "t_us", &r->samples.t_us, &n1);
        get_int_array(rd, s, "rss_bytes", &r->samples.rss_bytes, &n2);
        get_int_array(rd, s, "cpu_us", &r->samples.cpu_us, &n3);
        get_int_array(rd, s, "cgroup_bytes", &r->samples.cgroup_bytes, &n4);
        if (n1 != n2 || n1 != n3 || n1 != n4)
            fail(rd, "samples", "series have different lengths");
        r->samples.n = r->samples.cap = n1;
    }
}

static void read_stat(struct reader *rd, const cJSON *m, struct rep_stat *s)
{
    s->n = get_int(rd, m, "n", true);
    s->min = get_double(rd, m, "min");
    s->p50 = get_double(rd, m, "p50");
    s->mean = get_double(rd, m, "mean");
    s->stddev = get_double(rd, m, "stddev");
    s->p90 = get_double(rd, m, "p90");
    s->p95 = get_double(rd, m, "p95");
    s->p99 = get_double(rd, m, "p99");
    s->max = get_double(rd, m, "max");
    s->ci95_lo = s->ci95_hi = NAN;
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "ci95");
    if (cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2) {
        const cJSON *lo = cJSON_GetArrayItem(ci, 0), *hi = cJSON_GetArrayItem(ci, 1);
        if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi)) {
            s->ci95_lo = lo->valuedouble;
            s->ci95_hi = hi->valuedouble;
        }
    }
}

static void read_command(struct reader *rd, const cJSON *cmd, struct rep_target *t)
{
    if (!cJSON_IsArray(cmd))
        return;
    size_t n = (size_t)cJSON_GetArraySize(cmd);
    t->command = calloc(n + 1, sizeof *t->command);
    if (!t->command) {
        fail(rd, "command", "out of memory");
        return;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, cmd)
    {
        if (!cJSON_IsString(e)) {
            fail(rd, "command", "holds a value that is not a string");
            return;
        }
        t->command[t->n_command++] = strdup(e->valuestring);
    }
}

static void read_runs(struct reader *rd, const cJSON *runs, struct rep_target *t)
{
    if (!cJSON_IsArray(runs)) {
        fail(rd, "runs", "missing or not an array");
        return;
    }
    const cJSON *e;
    size_t i = 0;
    size_t base = strlen(rd->where);
    cJSON_ArrayForEach(e, runs)
    {
        snprintf(rd->where + base, sizeof rd->where - base, ".runs[%zu]", i++);
        if (!cJSON_IsObject(e)) {
            fail(rd, NULL, "is not an object");
            return;
        }
        struct rep_run *r = rep_target_add_run(t);
        if (!r) {
            fail(rd, NULL, "out of memory");
            return;
        }
        read_run(rd, e, r);
        if (rd->failed)
            return;
    }
    rd->where[base] = '\0';
}

static void read_budgets(struct reader *rd, const cJSON *budgets, struct rep_target *t)
{
    const cJSON *e;
    if (!cJSON_IsArray(budgets))
        return;
    cJSON_ArrayForEach(e, budgets)
    {
        const char *expr = peek_str(rd, e, "expr", true);
        const char *msg = peek_str(rd, e, "message", false);
        if (rd->failed)
            return;
        rep_target_add_budget(t, expr, cJSON_IsTrue(cJSON_GetObjectItem(e, "passed")),
                              get_double(rd, e, "actual"), msg ? msg : "");
    }
}

static void read_sizing(struct reader *rd, const cJSON *sz, struct rep_target *t)
{
    if (!cJSON_IsObject(sz))
        return;
    t->sizing = calloc(1, sizeof *t->sizing);
    if (!t->sizing) {
        fail(rd, "sizing", "out of memory");
        return;
    }
    t->sizing->min_passing_bytes = get_int(rd, sz, "min_passing_bytes", false);
    t->sizing->recommended_bytes = get_int(rd, sz, "recommended_bytes", false);
    double margin = get_double(rd, sz, "margin");
    t->sizing->margin = isnan(margin) ? 0 : margin;
    t->sizing->unconstrained_peak_bytes = get_int(rd, sz, "unconstrained_peak_bytes", false);
    t->sizing->at_rest_min_bytes = get_int(rd, sz, "at_rest_min_bytes", false);
    t->sizing->at_rest_recommended_bytes = get_int(rd, sz, "at_rest_recommended_bytes", false);
    t->sizing->unconstrained_p99_us = get_double(rd, sz, "unconstrained_p99_us");
    double f = get_double(rd, sz, "max_p99_factor"), cpus = get_double(rd, sz, "cpus");
    t->sizing->max_p99_factor = isnan(f) ? 0 : f;
    t->sizing->cpus = isnan(cpus) ? 0 : cpus;
    t->sizing->baseline_runs = get_int(rd, sz, "baseline_runs", false);
    t->sizing->noisy_low_bytes = get_int(rd, sz, "noisy_low_bytes", false);
    t->sizing->noisy_high_bytes = get_int(rd, sz, "noisy_high_bytes", false);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sz, "steps"))
    {
        const char *status = peek_str(rd, e, "status", true);
        enum rep_status st = REP_ERROR;
        if (status && rep_status_parse(status, &st) < 0)
            fail(rd, "sizing.steps.status", "is not a known status");
        if (rd->failed)
            return;
        struct rep_sizing_step *zs = rep_sizing_add_step(
            t->sizing, get_int(rd, e, "limit_bytes", true), st, get_int(rd, e, "ready_us", false),
            (int)get_int(rd, e, "attempt", false));
        if (!zs) {
            fail(rd, "sizing.steps", "out of memory");
            return;
        }
        zs->under_load = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "under_load"));
        zs->load_rps = get_double(rd, e, "load_rps");
        zs->load_p99_us = get_double(rd, e, "load_p99_us");
        zs->load_errors = get_int(rd, e, "load_errors", false);
        zs->peak_bytes = get_int(rd, e, "peak_bytes", false);
    }
}

static void read_summary(struct reader *rd, const cJSON *sum, struct rep_target *t)
{
    if (!cJSON_IsObject(sum))
        return;
    size_t n = (size_t)cJSON_GetArraySize(sum);
    t->summary = calloc(n ? n : 1, sizeof *t->summary);
    if (!t->summary) {
        fail(rd, "summary", "out of memory");
        return;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, sum)
    {
        if (!cJSON_IsObject(e))
            continue;
        struct rep_summary_entry *se = &t->summary[t->n_summary++];
        se->metric = strdup(e->string);
        read_stat(rd, e, &se->stat);
    }
}

static void read_target(struct reader *rd, const cJSON *o, struct rep_report *rep)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name)) {
        fail(rd, "name", "missing or not a string");
        return;
    }
    struct rep_target *t = rep_report_add_target(rep, name->valuestring);
    if (!t) {
        fail(rd, NULL, "out of memory");
        return;
    }
    size_t base = strlen(rd->where);
    snprintf(rd->where + base, sizeof rd->where - base, "[\"%s\"]", name->valuestring);
    read_command(rd, cJSON_GetObjectItemCaseSensitive(o, "command"), t);
    t->image = get_str(rd, o, "image", false);
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "limits");
    if (cJSON_IsObject(l)) {
        t->limit_memory_bytes = get_int(rd, l, "memory_bytes", false);
        double c = get_double(rd, l, "cpus");
        t->limit_cpus = isnan(c) ? 0 : c;
        t->limit_cpuset = get_str(rd, l, "cpuset", false);
        t->limit_pids = get_int(rd, l, "pids", false);
    }
    t->ready = get_str(rd, o, "ready", false);
    t->cache = get_str(rd, o, "cache", false);
    t->size_on_disk_bytes = get_int(rd, o, "size_on_disk_bytes", false);
    t->deploy_size_bytes = get_int(rd, o, "deploy_size_bytes", false);
    read_oci_image(rd, cJSON_GetObjectItemCaseSensitive(o, "oci_image"), t);
    read_profile(rd, cJSON_GetObjectItemCaseSensitive(o, "profile"), t);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "host");
    if (cJSON_IsObject(h)) {
        t->host = calloc(1, sizeof *t->host);
        if (t->host)
            read_host(rd, h, t->host);
    }
    if (!rd->failed)
        read_runs(rd, cJSON_GetObjectItemCaseSensitive(o, "runs"), t);
    if (!rd->failed)
        read_budgets(rd, cJSON_GetObjectItemCaseSensitive(o, "budgets"), t);
    if (!rd->failed)
        read_sizing(rd, cJSON_GetObjectItemCaseSensitive(o, "sizing"), t);
    if (!rd->failed)
        read_summary(rd, cJSON_GetObjectItemCaseSensitive(o, "summary"), t);
    rd->where[base] = '\0';
}

int rep_json_parse(const char *text, struct rep_report *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    _cleanup_cjson_ cJSON *o = cJSON_Parse(text);
    if (!o) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text ? (size_t)(at - text) : 0;
        if (at && *at == '\0')
            return cs_error_set(err, 0, "not valid JSON: the file ends early (truncated?)");
        return cs_error_set(err, 0, "not valid JSON near byte %zu", off);
    }
    if (!cJSON_IsObject(o))
        return cs_error_set(err, 0, "not a coldstart report (the top level is not an object)");
    char dup[256];
    if (rep_json_duplicate_key(o, dup, sizeof dup))
        return cs_error_set(err, 0, "the key `%s` appears twice in one object", dup);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(o, "schema");
    if (!cJSON_IsString(schema))
        return cs_error_set(err, 0, "not a coldstart report (no \"schema\" field)");
    const char *sv = schema->valuestring;
    if (strncmp(sv, "coldstart-report/", 17) != 0)
        return cs_error_set(err, 0, "not a coldstart report (schema is \"%s\")", sv);
    /* Same major version: "coldstart-report/1" or "coldstart-report/1.x". */
    size_t ml = strlen(REP_SCHEMA_MAJOR);
    if (strncmp(sv, REP_SCHEMA_MAJOR, ml) != 0 || (sv[ml] != '\0' && sv[ml] != '.'))
        return cs_error_set(err, 0,
                            "report schema \"%s\" is another major version; this coldstart "
                            "reads \"%s\"",
                            sv, REP_SCHEMA);
    struct reader rd = {.err = err};
    snprintf(rd.where, sizeof rd.where, "report");
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(o, "tool");
    if (cJSON_IsObject(tool))
        ret->tool_version = get_str(&rd, tool, "version", false);
    ret->created = get_str(&rd, o, "created", false);
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(o, "host");
    if (cJSON_IsObject(host))
        read_host(&rd, host, &ret->host);
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(o, "settings");
    if (cJSON_IsObject(set)) {
        struct rep_settings *st = &ret->settings;
        snprintf(rd.where, sizeof rd.where, "settings");
        st->command = get_str(&rd, set, "command", false);
        st->reference = get_str(&rd, set, "reference", false);
        st->runs = get_int(&rd, set, "runs", false);
        st->warmup = get_int(&rd, set, "warmup", false);
        st->requests = get_int(&rd, set, "requests", false);
        st->timeout_us = get_int(&rd, set, "timeout_us", false);
        st->interval_us = get_int(&rd, set, "interval_us", false);
        st->seccomp = get_str(&rd, set, "seccomp", false);
        st->interleaved = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(set, "interleaved"));
        st->sweep = get_str(&rd, set, "sweep", false);
        const cJSON *ld = cJSON_GetObjectItemCaseSensitive(set, "load");
        if (cJSON_IsObject(ld) && cJSON_GetObjectItemCaseSensitive(ld, "command")) {
            st->load_command = get_str(&rd, ld, "command", true);
        } else if (cJSON_IsObject(ld)) {
            st->load_connections = get_int(&rd, ld, "connections", true);
            st->load_duration_us = get_int(&rd, ld, "duration_us", true);
            double rate = get_double(&rd, ld, "rate");
            st->load_rate = isnan(rate) ? 0 : rate;
            st->load_path = get_str(&rd, ld, "path", false);
            if (st->load_connections == REP_NONE || st->load_connections < 0)
                st->load_connections = 0;
        }
        const cJSON *bu = cJSON_GetObjectItemCaseSensitive(set, "burst");
        if (cJSON_IsObject(bu)) {
            st->burst = get_int(&rd, bu, "instances", true);
            st->burst_memory_bytes = get_int(&rd, bu, "group_memory_bytes", false);
            st->burst_pids = get_int(&rd, bu, "group_pids", false);
            if (st->burst == REP_NONE || st->burst < 0 || st->burst > REP_BURST_MAX)
                st->burst = 0;
        }
        snprintf(rd.where, sizeof rd.where, "report");
    } else {
        ret->settings.runs = ret->settings.warmup = ret->settings.requests = REP_NONE;
        ret->settings.timeout_us = ret->settings.interval_us = REP_NONE;
    }
    const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(o, "skipped");
    const cJSON *sk;
    if (cJSON_IsArray(skipped))
        cJSON_ArrayForEach(sk, skipped) if (cJSON_IsString(sk))
            rep_report_add_skipped(ret, sk->valuestring);
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(o, "targets");
    if (!cJSON_IsArray(targets)) {
        fail(&rd, "targets", "missing or not an array");
    } else {
        const cJSON *t;
        size_t i = 0;
        cJSON_ArrayForEach(t, targets)
        {
            snprintf(rd.where, sizeof rd.where, "targets[%zu]", i++);
            if (!cJSON_IsObject(t)) {
                fail(&rd, NULL, "is not an object");
                break;
            }
            read_target(&rd, t, ret);
            if (rd.failed)
                break;
        }
    }
    if (rd.failed) {
        rep_report_free(ret);
        return -1;
    }
    return 0;
}

int rep_json_load(const char *path, struct rep_report *ret, cs_error *err)
{
    char *text;
    /* A report of a hundred targets with twenty runs each is a few MiB (the
     * samples under load are thinned); 64 MiB bounds what a hostile one can
     * make the reader and the renderers take (about 13x its size: a 269 MB
     * file once took `report --format html` to 3.6 GiB). */
    if (fs_read_input(path, (size_t)64 * 1024 * 1024, "report", &text, NULL, err) < 0)
        return -1;
    int rc = rep_json_parse(text, ret, err);
    free(text);
    if (rc < 0)
        return cs_error_prefix(err, "%s", path);
    return 0;
}
