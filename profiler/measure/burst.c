/* --burst K (docs/burst.md, ../shared/DESIGN.md "Burst"): K instances of one
 * target started at the same moment, as a platform scaling out from zero
 * starts them on one node. Each instance has its own run cgroup, port, probe
 * and sampler; their cgroups sit in one group cgroup whose memory and pids
 * limits bound all K together, so a burst cannot take the machine down. All
 * K are prepared up to exec, then released within microseconds of each other
 * and driven by one run loop. The result is one run: the first instance's
 * figures as its own, every instance in run->burst, and its memory measured
 * when all K are up (what they share shows as PSS below RSS). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/measure/ready.h"
#include "profiler/measure/session_internal.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"

/* Without --burst-pids and --pids: tasks per instance (a JVM or .NET server
 * runs a few dozen threads; a fork bomb stops here). */
#define PIDS_PER_INSTANCE 1024

struct instance {
    struct run_texts x;
    struct prof_container_run ctr;
    struct prof_run_spec spec;
    struct rep_run run;
    struct prof_run *handle; /* NULL once finished (or never prepared) */
    struct prof_snapshot at_rest;
    bool measured; /* at_rest was taken */
};

struct burst {
    struct prof_session *s;
    const struct prof_target_plan *p;
    unsigned k, n; /* instances asked for, prepared */
    struct instance *in;
    struct sbx_cgroup *group;
    struct sbx_cgroup_root *inner;
    struct prof_run_loop *loop;
    struct sbx_limits group_limits;
    int64_t cached_before; /* a host command's files cached at the spawn */
};

void burst_group_limits(const struct prof_config *o, const struct sbx_limits *l, unsigned k,
                        struct sbx_limits *ret)
{
    *ret = (struct sbx_limits){0};
    ret->memory_bytes = o->burst_memory_bytes;
    /* K times the per-instance limit, saturating: a product that wrapped
     * would read as 0, "no limit given", and fall back to MemAvailable. */
    if (!ret->memory_bytes && l && l->memory_bytes &&
        __builtin_mul_overflow((uint64_t)k, l->memory_bytes, &ret->memory_bytes))
        ret->memory_bytes = INT64_MAX;
    if (!ret->memory_bytes) {
        char buf[8192];
        uint64_t avail_kib = 0;
        if (fs_read_file("/proc/meminfo", buf, sizeof buf, NULL) > 0 &&
            fs_keyed_u64_sep(buf, "MemAvailable", ':', &avail_kib) == 0)
            ret->memory_bytes = avail_kib * 1024 / 4 * 3;
    }
    uint64_t per_instance = l && l->pids ? l->pids : PIDS_PER_INSTANCE;
    if (o->burst_pids)
        ret->pids = o->burst_pids;
    else if (__builtin_mul_overflow((uint64_t)k, per_instance, &ret->pids))
        ret->pids = INT64_MAX;
}

/* A free port none of the burst's earlier instances has. */
static int distinct_port(const struct burst *b, unsigned *ret, cs_error *err)
{
    for (int tries = 0; tries < 200; tries++) {
        if (prof_free_port(ret, err) < 0)
            return -1;
        bool taken = false;
        for (unsigned i = 0; i < b->n && !taken; i++)
            taken = b->in[i].x.port == *ret;
        if (!taken)
            return 0;
    }
    return cs_error_set(err, EADDRINUSE, "no free port for every instance of the burst");
}

static struct prof_sampler *instance_sampler(struct prof_session *s, unsigned i, cs_error *err)
{
    if (i == 0)
        return s->sampler;
    if (!s->burst_samplers[i] && prof_sampler_new(&s->burst_samplers[i], err) < 0)
        return NULL;
    return s->burst_samplers[i];
}

/* Instance i, prepared up to exec in the group. */
static int prepare_instance(struct burst *b, unsigned i, size_t ti, const char *cache,
                            struct prof_fileset *mapped, cs_error *err)
{
    struct prof_session *s = b->s;
    const struct prof_target_plan *p = b->p;
    struct instance *in = &b->in[i];
    unsigned port = 0;
    /* On one network every instance needs a port of its own; a container
     * has its own loopback, where the image's port is free for each. */
    if (run_net(s, p) == SBX_NET_HOST && !s->opts->port && distinct_port(b, &port, err) < 0)
        return -1;
    if (run_texts_make(s, p, port, i == 0 && s->opts->profile_hz, &in->x, err) < 0)
        return -1;
    /* The page cache as --cache asks, once for the burst: the others start
     * from what the first found. */
    int cache_rc = 0;
    if (i == 0 && !p->oci)
        b->cached_before = prepare_cache(s, ti, cache, p, in->x.envp, err, &cache_rc);
    if (cache_rc < 0)
        return -1;
    if (p->oci &&
        prof_container_run_prepare(p->oci, &s->iso, s->opts->net_given, &s->image_files[ti],
                                   i == 0 ? cache : "warm", &in->ctr, err) < 0)
        return -1;
    struct prof_sampler *sampler = instance_sampler(s, i, err);
    if (!sampler)
        return -1;
    run_spec_fill(s, p, &in->x, &in->ctr, &in->spec);
    in->spec.cgroot = b->inner;
    in->spec.sampler = sampler;
    /* The first instance stands for the others in what costs a walk over
     * files: the mapped files, the image's files in the page cache. */
    in->spec.mapped = i == 0 ? mapped : NULL;
    if (i == 0) /* --profile cpu: the first instance stands for all */
        profile_spec(s, ti, &in->run, &in->spec);
    if (i > 0)
        in->spec.image_files = NULL;
    if (prof_run_prepare(b->loop, &in->spec, &in->run, &in->handle, err) < 0) {
        in->handle = NULL;
        return -1;
    }
    return 0;
}

/* Every instance's figures, on the burst's clock (the first instance's t0). */
static void record_instances(struct burst *b, struct rep_burst *out)
{
    uint64_t t0 = b->in[0].run.t0_monotonic_ns;
    int64_t all_ready = 0, rss_sum = 0, pss_sum = 0;
    bool all = true, any_measured = false;
    for (unsigned i = 0; i < b->n; i++) {
        const struct rep_run *r = &b->in[i].run;
        struct rep_burst_instance *e = &out->each[out->n_each++];
        rep_burst_instance_init(e);
        int64_t off = (int64_t)(r->t0_monotonic_ns - t0) / 1000;
        e->status = r->status;
        e->error = r->error ? strdup(r->error) : NULL;
        e->start_us = off;
        e->port = b->in[i].x.port;
#define SHIFT(v) ((v) == REP_NONE ? REP_NONE : (v) + off)
        e->exec_us = SHIFT(r->exec_us);
        e->listen_us = SHIFT(r->listen_us);
        e->ready_us = SHIFT(r->ready_us);
#undef SHIFT
        e->first_request_us = r->n_requests ? r->requests_us[0] : REP_NONE;
        e->cpu_to_ready_us = r->cpu_to_ready_us;
        e->cgroup_peak_bytes = r->cgroup_peak_bytes;
        if (b->in[i].measured) {
            e->rss_bytes = (int64_t)b->in[i].at_rest.rss_bytes;
            e->pss_bytes = (int64_t)b->in[i].at_rest.pss_bytes;
            rss_sum += e->rss_bytes;
            pss_sum += e->pss_bytes;
            any_measured = true;
        }
        if (e->ready_us == REP_NONE)
            all = false;
        else if (e->ready_us > all_ready)
            all_ready = e->ready_us;
    }
    out->instances = b->n;
    out->all_ready_us = all && b->n == b->k ? all_ready : REP_NONE;
    out->rss_sum_bytes = any_measured ? rss_sum : REP_NONE;
    out->pss_sum_bytes = any_measured ? pss_sum : REP_NONE;
}

/* The run's status: ok when every instance is; else the first failed one's,
 * naming it ("instance 3 of 8: crashed ..."). */
static void burst_status(const struct rep_burst *out, unsigned k, struct rep_run *run)
{
    for (size_t i = 0; i < out->n_each; i++) {
        const struct rep_burst_instance *e = &out->each[i];
        if (e->status == REP_OK)
            continue;
        char msg[1200];
        snprintf(msg, sizeof msg, "instance %zu of %u: %s", i + 1, k,
                 e->error ? e->error : rep_status_name(e->status));
        run->status = e->status;
        free(run->error);
        run->error = strdup(msg);
        return;
    }
}

/* The group's own kernel count of OOM kills: an instance killed by the
 * group's limit (not its own) may not show it in its cgroup (kernels that
 * count the kill only where the limit was hit). Which instance the kernel
 * chose is not recorded: an instance that died of SIGKILL while the group
 * saw kills is taken for it; a crash of another signal stays a crash. */
static void note_group_oom(struct burst *b)
{
    struct sbx_cgroup_usage u;
    if (sbx_cgroup_read_usage(b->group, &u, NULL) < 0)
        return;
    /* Without a --memory of their own only the group's limit can kill. */
    bool own_limit = b->p->limits && b->p->limits->memory_bytes;
    char limit[32];
    rep_format_value(REP_UNIT_BYTES, (double)b->group_limits.memory_bytes, limit, sizeof limit);
    for (unsigned i = 0; i < b->n; i++) {
        struct rep_run *r = &b->in[i].run;
        /* An instance its own cgroup already calls OOM-killed (v1 counts a
         * kill where the charge was) is named too: the group's limit and its
         * flag are what to change (docs/burst.md). */
        bool killed = r->status == REP_CRASHED && r->signal == SIGKILL && u.oom_kills > 0;
        bool oom_of_group = r->status == REP_OOM && (!own_limit || u.oom_kills > 0);
        if (!killed && !oom_of_group)
            continue;
        if (r->error && strstr(r->error, "--burst-memory"))
            continue;
        char msg[1200];
        if (u.oom_kills)
            snprintf(msg, sizeof msg,
                     "%s (the burst's group, limited to %s by --burst-memory, saw %llu OOM kill%s)",
                     r->error ? r->error : "failed", limit, (unsigned long long)u.oom_kills,
                     u.oom_kills == 1 ? "" : "s");
        else
            snprintf(msg, sizeof msg, "%s (the burst's group, limited to %s by --burst-memory)",
                     r->error ? r->error : "failed", limit);
        free(r->error);
        r->error = strdup(msg);
        r->status = REP_OOM;
    }
}

/* Finishes every prepared instance (stopped, cgroup removed), the loop and
 * the group. Returns 1 when a signal interrupted the burst, -1 when a
 * cgroup could not be removed (err), else 0. */
static int burst_end(struct burst *b, cs_error *err)
{
    int rc = 0;
    /* All K get their stop signal first: K targets that take --stop-timeout
     * each then take it once, not K times. */
    for (unsigned i = 0; i < b->n; i++)
        if (b->in[i].handle)
            prof_run_begin_stop(b->in[i].handle);
    for (unsigned i = 0; i < b->n; i++) {
        if (!b->in[i].handle)
            continue;
        cs_error ferr;
        int frc = prof_run_finish(b->in[i].handle, &ferr);
        b->in[i].handle = NULL;
        if (frc < 0 && rc >= 0) {
            *err = ferr;
            rc = -1;
        } else if (frc == 1 && rc == 0) {
            rc = 1;
        }
    }
    cs_error kerr;
    if (b->loop && prof_run_loop_free(b->loop, &kerr) < 0 && rc >= 0) {
        *err = kerr;
        rc = -1;
    }
    b->loop = NULL;
    if (b->group)
        note_group_oom(b);
    if (b->inner)
        sbx_cgroup_root_close(b->inner, NULL);
    b->inner = NULL;
    if (b->group && sbx_cgroup_destroy(b->group, &kerr) < 0 && rc >= 0) {
        *err = kerr;
        rc = -1;
    }
    b->group = NULL;
    return rc;
}

static void burst_free(struct burst *b)
{
    for (unsigned i = 0; b->in && i < b->k; i++) {
        run_texts_free(&b->in[i].x);
        prof_container_run_free(&b->in[i].ctr);
        rep_run_free(&b->in[i].run);
    }
    free(b->in);
}

/* Prepares all K; returns -1 (err) when one cannot be, naming which. */
static int prepare_all(struct burst *b, size_t ti, const char *cache, struct prof_fileset *mapped,
                       cs_error *err)
{
    if (!b->in)
        return cs_error_set(err, ENOMEM, "burst");
    for (unsigned i = 0; i < b->k; i++) {
        b->n = i + 1;
        if (prepare_instance(b, i, ti, cache, mapped, err) < 0) {
            b->n = i; /* instance i holds nothing to finish */
            if (b->s->bad_input)
                return -1;
            return cs_error_prefix(err, "instance %u of %u could not start", i + 1, b->k);
        }
    }
    return 0;
}

static int burst_setup(struct burst *b, cs_error *err)
{
    const struct prof_config *o = b->s->opts;
    if (o->port && b->k > 1 && run_net(b->s, b->p) == SBX_NET_HOST) {
        b->s->bad_input = true;
        return cs_error_input(err,
                              "--port %u with --burst %u: instances on one network cannot share "
                              "a port; use --port auto (a free port each, given as {port} and "
                              "PORT), or a container image (a network of its own each)",
                              o->port, b->k);
    }
    b->in = calloc(b->k, sizeof *b->in);
    if (!b->in)
        return cs_error_set(err, ENOMEM, "burst");
    for (unsigned i = 0; i < b->k; i++) {
        b->in[i].ctr.fresh.lock_fd = -1;
        rep_run_init(&b->in[i].run);
    }
    burst_group_limits(o, b->p->limits, b->k, &b->group_limits);
    if (sbx_cgroup_create_group(b->s->cgroot, &b->group_limits, &b->group, &b->inner, err) < 0)
        return -1;
    return prof_run_loop_new(b->s->signal_fd, &b->loop, err);
}

int burst_run_into(struct prof_session *s, const struct prof_target_plan *p, size_t ti, unsigned k,
                   struct rep_run *run, bool *ret_started, cs_error *err)
{
    *ret_started = false;
    struct burst b = {.s = s, .p = p, .k = k, .cached_before = REP_NONE};
    const char *cache = p->cache ? p->cache : s->opts->cache;
    struct prof_fileset mapped = {0};
    int rc = burst_setup(&b, err);
    if (rc == 0) {
        *ret_started = true;
        rc = prepare_all(&b, ti, cache, &mapped, err);
    }
    if (rc == 0) {
        prof_run_loop_release(b.loop);
        prof_run_loop_wait(b.loop);
        /* Every instance is ready and served (or has failed): memory with
         * all K alive, before any of them is stopped. */
        for (unsigned i = 0; i < b.n; i++)
            b.in[i].measured = prof_run_snapshot(b.in[i].handle, &b.in[i].at_rest) == 0;
    }
    cs_error end_err;
    int end_rc = burst_end(&b, &end_err);
    if (rc == 0 && end_rc != 0) {
        rc = end_rc;
        if (end_rc < 0)
            *err = end_err;
    }
    if (b.n > 0) {
        /* The run is the first instance's, with every instance beside it. */
        struct rep_burst *out = calloc(1, sizeof *out);
        if (out)
            out->each = calloc(b.n, sizeof *out->each);
        if (!out || !out->each) {
            rep_burst_free(out);
            burst_free(&b);
            prof_fileset_free(&mapped);
            return cs_error_set(err, ENOMEM, "burst");
        }
        record_instances(&b, out);
        rep_run_free(run);
        *run = b.in[0].run;
        rep_run_init(&b.in[0].run);
        run->burst = out;
        burst_status(out, b.k, run);
        if (!p->oci)
            run->cached_before_bytes = b.cached_before;
        else
            run->cached_before_bytes = b.in[0].ctr.cached_before_bytes;
        record_mapped(s, ti, run, &mapped, !p->oci);
    }
    if (rc < 0) {
        run->status = REP_ERROR;
        free(run->error);
        run->error = strdup(cs_error_text(err));
    }
    burst_free(&b);
    prof_fileset_free(&mapped);
    return rc;
}
