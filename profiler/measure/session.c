#include "profiler/measure/session.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "profiler/measure/container.h"
#include "profiler/measure/deploy.h"
#include "profiler/measure/host.h"
#include "profiler/measure/ready.h"
#include "profiler/measure/run.h"
#include "profiler/measure/seccomp_profile.h"
#include "profiler/measure/session_internal.h"
#include "profiler/measure/sockets.h"
#include "profiler/measure/symbols.h"
#include "profiler/analysis/stats.h"
#include "reports/render.h"
#include "reports/report_json.h"
#include "sandbox/process.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/spawn.h"

extern char **environ;

int prof_session_open(struct prof_session *s, const struct prof_config *o,
                      const struct cs_sink *warn, cs_error *err)
{
    memset(s, 0, sizeof *s);
    s->opts = o;
    if (warn)
        s->warn = *warn;
    s->signal_fd = -1;
    if (sbx_process_setup(err) < 0)
        return -1;
    sigset_t set;
    sbx_handled_signals(&set);
    s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->signal_fd < 0)
        return cs_error_set(err, errno, "signalfd");
    if (sbx_cgroup_root_open(o->cgroup_parent, &s->cgroot, err) < 0) {
        if (o->cgroup_parent) /* the named parent is unusable: exit 2 */
            cs_error_mark_input(err);
        return -1;
    }
    /* Fail once, clearly, when we may not create cgroups at all. */
    struct sbx_cgroup *probe;
    if (sbx_cgroup_create(s->cgroot, NULL, &probe, err) < 0)
        return cs_error_prefix(err, "cannot create a cgroup for the runs (run coldstart "
                                    "as root, or on cgroup v2 in a delegated cgroup: "
                                    "systemd-run --scope -p Delegate=yes coldstart ...)");
    if (sbx_cgroup_destroy(probe, err) < 0)
        return -1;
    /* A profiler killed with SIGKILL leaves its run cgroup: clean up after it. */
    cs_error reap_err;
    if (sbx_cgroup_reap_stale(s->cgroot, NULL, &reap_err) < 0)
        cs_emit(&s->warn, "%s", cs_error_text(&reap_err));
    if (prof_sampler_new(&s->sampler, err) < 0)
        return -1;
    /* `--seccomp none` loads no filter at all; `listen` is then the first
     * successful connect of the probe. */
    struct sbx_seccomp_profile profile = {0};
    if (o->seccomp == SBX_SECCOMP_PROFILE &&
        prof_seccomp_profile_load(o->seccomp_file, &profile, NULL, err) < 0)
        return -1;
    struct sbx_seccomp_opts so = {
        .policy = o->seccomp, .profile = &profile, .notify_listen = o->seccomp != SBX_SECCOMP_NONE};
    int src = sbx_seccomp_build(&so, &s->seccomp, err);
    prof_seccomp_profile_free(&profile);
    if (src < 0)
        return cs_error_prefix(err, "--seccomp %s", o->seccomp_file ? o->seccomp_file : "");
    /* runc has no way to leave cgroups alone (as crun's --cgroup-manager=
     * disabled does): on v1 it makes one in every hierarchy, beside the run's
     * where the run has none; on v2 it puts the container in a cgroup beside
     * the run's (below the parent of its own cgroup), where neither the
     * sampler nor teardown would see it. */
    if (o->runtime && strcmp(o->runtime, "runc") == 0)
        return cs_error_input(err,
                              "--runtime runc: runc always makes a cgroup of its own for the "
                              "container, outside the run's cgroup (beside it on cgroup v2, in "
                              "every hierarchy on v1), where coldstart could neither measure "
                              "nor remove it; use --runtime crun (which can leave cgroups "
                              "alone) or builtin");
    struct sbx_seccomp_opts listen_only = {.policy = SBX_SECCOMP_NONE,
                                           .notify_listen = o->seccomp != SBX_SECCOMP_NONE};
    if (o->runtime && strcmp(o->runtime, "builtin") != 0 &&
        sbx_seccomp_build(&listen_only, &s->seccomp_runtime, err) < 0)
        return -1;
    s->iso = (struct sbx_isolation){.net = o->net,
                                    .private_tmp = o->private_tmp,
                                    .set_user = o->set_user,
                                    .uid = o->uid,
                                    .gid = o->gid,
                                    .rlimits = o->rlimits,
                                    .n_rlimits = o->n_rlimits,
                                    .new_pid_ns = o->strict,
                                    .drop_caps = o->strict};
    if (o->strict) {
        /* A target that can write cgroupfs could move itself out of its cgroup. */
        if (sbx_mounts_below("/sys/fs/cgroup", &s->ro_mounts, &s->iso.n_ro_mounts, err) < 0)
            return -1;
        s->iso.ro_mounts = (const char *const *)s->ro_mounts;
    }
    s->report.tool_version = strdup(COLDSTART_VERSION);
    char created[32];
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    s->report.created = strdup(created);
    struct rep_settings *st = &s->report.settings;
    st->runs = o->runs;
    st->warmup = o->warmup;
    st->requests = o->requests;
    st->timeout_us = (int64_t)o->timeout_us;
    st->interval_us = (int64_t)o->interval_us;
    st->load_connections = o->load.connections;
    st->load_duration_us = (int64_t)o->load.duration_us;
    st->load_rate = o->load.rate;
    st->load_path = o->load.path ? strdup(o->load.path) : NULL;
    st->load_command = o->load.command ? strdup(o->load.command) : NULL;
    if (o->burst)
        prof_session_note_burst(s, &o->limits, o->burst);
    char policy[600];
    snprintf(policy, sizeof policy, "%s%s%s%s",
             o->seccomp == SBX_SECCOMP_DEFAULT ? "default"
             : o->seccomp == SBX_SECCOMP_NONE  ? "none"
                                               : "profile ",
             o->seccomp_file ? o->seccomp_file : "", o->strict ? ", sandbox strict" : "",
             o->net == SBX_NET_LOOPBACK ? ", net loopback"
             : o->net == SBX_NET_NONE   ? ", net none"
                                        : "");
    st->seccomp = strdup(policy);
    prof_host_detect(&s->report.host,
                     sbx_cgroup_root_version(s->cgroot) == SBX_CGROUP_V2 ? "v2" : "v1");
    s->report.host.cgroup_placement = strdup(sbx_cgroup_root_placement(s->cgroot));
    s->report.host.cgroup_parent = strdup(sbx_cgroup_root_parent(s->cgroot));
    return 0;
}

void prof_session_note_burst(struct prof_session *s, const struct sbx_limits *limits, unsigned k)
{
    struct sbx_limits g;
    burst_group_limits(s->opts, limits, k, &g);
    struct rep_settings *st = &s->report.settings;
    st->burst = k;
    st->burst_memory_bytes = g.memory_bytes ? (int64_t)g.memory_bytes : REP_NONE;
    st->burst_pids = g.pids ? (int64_t)g.pids : REP_NONE;
}

void prof_session_close(struct prof_session *s)
{
    if (!s->opts)
        return; /* never opened */
    sbx_seccomp_free(s->seccomp);
    sbx_seccomp_free(s->seccomp_runtime);
    for (size_t i = 0; s->ro_mounts && i < s->iso.n_ro_mounts; i++)
        free(s->ro_mounts[i]);
    free(s->ro_mounts);
    prof_sampler_free(s->sampler);
    for (size_t i = 0; i < PROF_BURST_MAX; i++)
        prof_sampler_free(s->burst_samplers[i]);
    cs_error close_err;
    if (sbx_cgroup_root_close(s->cgroot, &close_err) < 0)
        cs_emit(&s->warn, "%s", cs_error_text(&close_err));
    if (s->signal_fd >= 0)
        close(s->signal_fd);
    for (size_t i = 0; s->coldset && i < s->report.n_targets; i++)
        prof_fileset_free(&s->coldset[i]);
    for (size_t i = 0; s->image_files && i < s->report.n_targets; i++)
        prof_fileset_free(&s->image_files[i]);
    free(s->image_files);
    for (size_t i = 0; s->deploy && i < s->report.n_targets; i++) {
        prof_fileset_free(&s->deploy[i].mapped);
        free(s->deploy[i].app_dir);
    }
    free(s->deploy);
    for (size_t i = 0; s->profiles && i < s->report.n_targets; i++)
        rep_folded_free(&s->profiles[i].folded);
    free(s->profiles);
    prof_kallsyms_free(s->kallsyms);
    rep_report_free(&s->report);
    free(s->target_budgets);
    free(s->n_target_budgets);
    free(s->coldset);
    free(s->coldset_learned);
    free(s->consecutive_failures);
    sbx_reap_children();
}

struct rep_target *prof_session_add_target(struct prof_session *s, const struct prof_target_plan *p)
{
    size_t idx = s->report.n_targets;
    const struct prof_budget **tb =
        realloc(s->target_budgets, (idx + 1) * sizeof(const struct prof_budget *));
    if (tb)
        s->target_budgets = tb;
    size_t *nb = realloc(s->n_target_budgets, (idx + 1) * sizeof *nb);
    if (nb)
        s->n_target_budgets = nb;
    if (!tb || !nb)
        return NULL;
    s->target_budgets[idx] = p->budgets;
    s->n_target_budgets[idx] = p->n_budgets;
    struct prof_fileset *cs = realloc(s->coldset, (idx + 1) * sizeof *cs);
    if (cs)
        s->coldset = cs;
    bool *cl = realloc(s->coldset_learned, (idx + 1) * sizeof *cl);
    if (cl)
        s->coldset_learned = cl;
    unsigned *cf = realloc(s->consecutive_failures, (idx + 1) * sizeof *cf);
    if (cf)
        s->consecutive_failures = cf;
    struct prof_fileset *imf = realloc(s->image_files, (idx + 1) * sizeof *imf);
    if (imf)
        s->image_files = imf;
    struct prof_profile_acc *pa = realloc(s->profiles, (idx + 1) * sizeof *pa);
    if (pa)
        s->profiles = pa;
    struct prof_target_deploy *dep = realloc(s->deploy, (idx + 1) * sizeof *dep);
    if (dep)
        s->deploy = dep;
    if (!cs || !cl || !cf || !imf || !pa || !dep)
        return NULL;
    memset(&s->deploy[idx], 0, sizeof s->deploy[idx]);
    if (p->app_dir && !(s->deploy[idx].app_dir = strdup(p->app_dir)))
        return NULL;
    memset(&s->profiles[idx], 0, sizeof s->profiles[idx]);
    memset(&s->image_files[idx], 0, sizeof s->image_files[idx]);
    cf[idx] = 0;
    memset(&s->coldset[idx], 0, sizeof s->coldset[idx]);
    s->coldset_learned[idx] = false;
    struct rep_target *t = rep_report_add_target(&s->report, p->name);
    if (!t)
        return NULL;
    size_t n = 0;
    while (p->argv[n])
        n++;
    t->command = calloc(n + 1, sizeof *t->command);
    for (size_t i = 0; i < n && t->command; i++)
        t->command[t->n_command++] = strdup(p->argv[i]);
    t->image = p->image ? strdup(p->image) : NULL;
    const struct sbx_limits *l = p->limits;
    t->limit_memory_bytes = l->memory_bytes ? (int64_t)l->memory_bytes : REP_NONE;
    t->limit_cpus = l->cpus;
    t->limit_cpuset = l->cpuset ? strdup(l->cpuset) : NULL;
    t->limit_pids = l->pids ? (int64_t)l->pids : REP_NONE;
    /* The exchange is part of what "ready" meant: recorded with the spec. */
    if (s->opts->ready_send || s->opts->ready_expect) {
        if (asprintf(&t->ready, "%s send %s expect %s", p->ready,
                     s->opts->ready_send ? s->opts->ready_send : "-",
                     s->opts->ready_expect ? s->opts->ready_expect : "-") < 0)
            t->ready = NULL;
    } else {
        t->ready = strdup(p->ready);
    }
    t->cache = strdup(p->cache                         ? p->cache
                      : strcmp(s->opts->cache, "both") ? s->opts->cache
                                                       : "warm");
    t->size_on_disk_bytes = p->size_on_disk_bytes;
    if (p->oci && !(t->oci_image = prof_oci_target_facts(p->oci)))
        return NULL;
    return t;
}

/* A signal that arrived between runs (they are blocked and queue on the
 * signalfd) stops the session before the next run starts. */
static bool pending_stop_signal(struct prof_session *s)
{
    struct signalfd_siginfo si;
    while (read(s->signal_fd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            sbx_reap_children();
            continue;
        }
        s->interrupted_by = (int)si.ssi_signo;
        return true;
    }
    return false;
}

/* Kept by --clean-env from our environment. */
static bool clean_env_keeps(const char *kv)
{
    return !strncmp(kv, "PATH=", 5) || !strncmp(kv, "HOME=", 5) || !strncmp(kv, "LANG=", 5);
}

static void free_strv(char **v);

/* --profile-maps: V8's perf map turned on (NODE_OPTIONS extended, not
 * replaced). env has room for one more. */
static int add_profile_env(char **env, size_t *k)
{
    size_t node = *k;
    for (size_t i = 0; i < *k; i++)
        if (strncmp(env[i], "NODE_OPTIONS=", 13) == 0)
            node = i;
    char *v;
    if (prof_profile_env(node < *k ? env[node] + 13 : NULL, &v) < 0)
        return -1;
    if (node < *k) {
        free(env[node]);
        env[node] = v;
    } else {
        env[(*k)++] = v;
        env[*k] = NULL;
    }
    return 0;
}

/* The inherited environment (as hyperfine does; with --clean-env only PATH,
 * HOME and LANG), PORT, then the plan's K=V. A container gets only its own
 * (the image's Env and --env), as docker run gives it. */
static char **build_env(const struct prof_target_plan *p, unsigned port, bool clean, bool profile)
{
    size_t n = 0;
    while (!p->oci && environ[n])
        n++;
    char **env = calloc(n + p->n_env + 4, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "PORT=", 5) != 0 && (!clean || clean_env_keeps(environ[i])))
            env[k++] = strdup(environ[i]);
    char portvar[32];
    snprintf(portvar, sizeof portvar, "PORT=%u", port);
    if (!p->oci)
        env[k++] = strdup(portvar);
    for (size_t i = 0; i < p->n_env; i++) {
        char *v = prof_subst_port(p->env[i], port);
        size_t klen = strcspn(v, "=") + 1;
        size_t j;
        for (j = 0; j < k; j++)
            if (strncmp(env[j], v, klen) == 0)
                break;
        if (j < k) {
            free(env[j]);
            env[j] = v;
        } else {
            env[k++] = v;
        }
    }
    env[k] = NULL;
    if (profile && add_profile_env(env, &k) < 0) {
        free_strv(env);
        return NULL;
    }
    return env;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int64_t prepare_cache(struct prof_session *s, size_t ti, const char *cache,
                      const struct prof_target_plan *p, char *const *envp, cs_error *err, int *rc)
{
    *rc = 0;
    struct prof_fileset *set = &s->coldset[ti];
    if (strcmp(cache, "cold") == 0) {
        if (set->n == 0) {
            /* Before discovery: the binary, and the image folder when there is one. */
            char exe[4096];
            sbx_resolve_executable(p->argv[0], envp, exe, sizeof exe);
            if (exe[0] != '/' && p->cwd) {
                char full[8192];
                if (fs_pathf(full, sizeof full, NULL, "%s/%s", p->cwd, exe) == 0)
                    prof_fileset_add(set, full);
            } else {
                prof_fileset_add(set, exe);
            }
            if (p->image && p->cwd)
                prof_fileset_add_tree(set, p->cwd, 20000);
        }
        prof_fileset_evict(set);
        return prof_fileset_cached_bytes(set);
    }
    if (strcmp(cache, "drop") == 0) {
        if (prof_drop_caches(err) < 0) {
            *rc = -1;
            return REP_NONE;
        }
        return set->n ? prof_fileset_cached_bytes(set) : REP_NONE;
    }
    return REP_NONE;
}

void record_mapped(struct prof_session *s, size_t ti, struct rep_run *run,
                   struct prof_fileset *mapped, bool learn)
{
    if (mapped->n == 0)
        return;
    run->mapped_files = (int64_t)mapped->n;
    run->mapped_file_bytes = prof_fileset_bytes(mapped);
    prof_fileset_sort_by_size(mapped);
    size_t top = mapped->n < 10 ? mapped->n : 10;
    run->mapped = calloc(top, sizeof *run->mapped);
    for (size_t i = 0; run->mapped && i < top; i++)
        run->mapped[run->n_mapped++] =
            (struct rep_count){strdup(mapped->files[i].path), mapped->files[i].bytes};
    if (run->status == REP_OK && learn) {
        prof_fileset_merge(&s->coldset[ti], mapped);
        s->coldset_learned[ti] = true;
        prof_fileset_merge(&s->deploy[ti].mapped, mapped);
    }
}

/* A fixed --port that something else already listens on would make that
 * something the target's stand-in: refused, naming the holder. */
static bool port_taken(unsigned port, cs_error *err)
{
    unsigned long inodes[16];
    size_t n = prof_tcp_listeners(0, port, inodes, 16);
    if (n == 0)
        return false;
    char who[300] = "another process";
    pid_t holder = prof_socket_holder(inodes, n < 16 ? n : 16, NULL, 0);
    if (holder > 0)
        prof_describe_pid(holder, who, sizeof who);
    cs_error_set(err, 0,
                 "--port %u is already in use by %s: stop it, choose another port, or use "
                 "--port auto",
                 port, who);
    return true;
}

void run_texts_free(struct run_texts *x)
{
    prof_ready_free(&x->ready);
    prof_ready_free(&x->request_url);
    free(x->request_text);
    free_strv(x->argv);
    free_strv(x->envp);
    free(x->ready_text);
    free(x->load_command);
}

enum sbx_net run_net(const struct prof_session *s, const struct prof_target_plan *p)
{
    return p->oci ? prof_container_net(s->iso.net, s->opts->net_given) : s->iso.net;
}

int run_texts_make(struct prof_session *s, const struct prof_target_plan *p, unsigned port,
                   bool profiled, struct run_texts *x, cs_error *err)
{
    const struct prof_config *o = s->opts;
    x->port = port ? port : o->port;
    if (x->port == 0 && prof_free_port(&x->port, err) < 0)
        return -1;
    size_t argc = 0;
    while (p->argv[argc])
        argc++;
    x->argv = calloc(argc + 1, sizeof *x->argv);
    x->envp = build_env(p, x->port, o->clean_env, profiled && o->profile_maps);
    x->ready_text = prof_subst_port(p->ready, x->port);
    x->request_text = o->request_url ? prof_subst_port(o->request_url, x->port) : NULL;
    x->load_command = o->load.command ? prof_subst_port(o->load.command, x->port) : NULL;
    if (!x->argv || !x->envp || !x->ready_text || (o->request_url && !x->request_text) ||
        (o->load.command && !x->load_command))
        return cs_error_set(err, ENOMEM, "run set-up");
    for (size_t i = 0; i < argc; i++)
        if (!(x->argv[i] = prof_subst_port(p->argv[i], x->port)))
            return cs_error_set(err, ENOMEM, "run set-up");
    if (prof_ready_parse(x->ready_text, &x->ready, err) < 0 ||
        prof_ready_set_exchange(&x->ready, o->ready_send, o->ready_expect, err) < 0 ||
        (x->request_text && prof_ready_parse(x->request_text, &x->request_url, err) < 0) ||
        (o->port && run_net(s, p) == SBX_NET_HOST && port_taken(o->port, err)) ||
        (o->load.connections && x->ready.kind != PROF_READY_HTTP && !x->request_text &&
         cs_error_set(err, 0,
                      "--load sends HTTP requests, but %s is ready by `%s`: give --request-url "
                      "http://HOST:PORT/PATH",
                      p->name, x->ready_text) < 0)) {
        s->bad_input = true;
        return cs_error_mark_input(err);
    }
    return 0;
}

void run_spec_fill(struct prof_session *s, const struct prof_target_plan *p,
                   const struct run_texts *x, const struct prof_container_run *ctr,
                   struct prof_run_spec *spec)
{
    const struct prof_config *o = s->opts;
    *spec = (struct prof_run_spec){
        .argv = ctr->runtime_argv[0] ? ctr->runtime_argv : x->argv,
        .envp = x->envp,
        .cwd = p->cwd,
        .ready = &x->ready,
        .request_url = x->request_text ? &x->request_url : NULL,
        .ok_status_min = o->ok_status_min,
        .ok_status_max = o->ok_status_max,
        .retry_status = o->retry_status,
        .stop_signal = o->stop_signal ? o->stop_signal : p->stop_signal,
        .stop_timeout_us = o->stop_timeout_us,
        .timeout_us = o->timeout_us,
        .requests = o->requests,
        .load = &o->load,
        .load_command = x->load_command,
        .cpuset = p->limits ? p->limits->cpuset : NULL,
        .interval_us = o->interval_us,
        .cgroot = s->cgroot,
        .limits = p->limits,
        .seccomp = ctr->runtime_argv[0] ? s->seccomp_runtime : s->seccomp,
        .iso = p->oci ? &ctr->iso : &s->iso,
        .sampler = s->sampler,
        .signal_fd = s->signal_fd,
        .ret_signal = &s->interrupted_by,
        .image_files = p->oci ? ctr->files : NULL,
        .layer_dirs = ctr->layers,
        .n_layers = ctr->n_layers,
        .extract_ns = ctr->extract_ns,
    };
}

void profile_spec(struct prof_session *s, size_t ti, const struct rep_run *run,
                  struct prof_run_spec *spec)
{
    if (!s->opts->profile_hz || run->warmup)
        return;
    spec->profile_hz = s->opts->profile_hz;
    spec->profile_maps = s->opts->profile_maps;
    spec->profile = &s->profiles[ti];
    spec->kallsyms = &s->kallsyms;
}

/* One cold start into *run. *ret_started tells whether it got as far as the
 * page cache and the spawn (a run that did belongs in the report, even failed). */
static int run_into(struct prof_session *s, const struct prof_target_plan *p, size_t ti,
                    struct rep_run *run, bool *ret_started, cs_error *err)
{
    const struct prof_config *o = s->opts;
    *ret_started = false;
    _cleanup_run_texts_ struct run_texts x = {0};
    if (run_texts_make(s, p, 0, o->profile_hz && !run->warmup, &x, err) < 0)
        return -1;
    int cache_rc = 0;
    const char *cache = p->cache ? p->cache : o->cache;
    _cleanup_container_run_ struct prof_container_run ctr = {.fresh.lock_fd = -1};
    if (p->oci && prof_container_run_prepare(p->oci, &s->iso, o->net_given, &s->image_files[ti],
                                             cache, &ctr, err) < 0) {
        /* Ctrl-C during --extract cold: the extraction died with it. */
        int sig = sbx_pending_stop_signal();
        if (sig)
            s->interrupted_by = sig;
        /* A layer refused for what it holds (a digest or diff_id that does
         * not match) is bad input, the same in every run: exit 2. */
        if (!sig && err->status == CS_ERR_INPUT)
            s->bad_input = true;
        return sig ? 1 : -1;
    }
    if (p->oci && p->oci->cache_fs && strcmp(cache, "cold") == 0 && !s->warned_memory_cache) {
        s->warned_memory_cache = true;
        cs_emit(&s->warn,
                "the image cache %s is on %s: its files %s be evicted, so --cache cold may "
                "leave the image in memory and image_read count all of it; give --image-cache "
                "a folder on a disk",
                p->oci->cache, p->oci->cache_fs,
                strcmp(p->oci->cache_fs, "overlayfs") == 0 ? "may not" : "cannot");
    }
    /* A container's files are the image's (above); a host command's, those
     * it was seen to use. */
    int64_t cached_before = p->oci && strcmp(cache, "drop") != 0
                                ? ctr.cached_before_bytes
                                : prepare_cache(s, ti, cache, p, x.envp, err, &cache_rc);
    if (!p->oci || strcmp(cache, "drop") == 0) {
        if (cache_rc < 0)
            return -1;
    }
    *ret_started = true;
    run->cached_before_bytes = cached_before;
    struct prof_fileset mapped = {0};
    struct prof_run_spec spec;
    run_spec_fill(s, p, &x, &ctr, &spec);
    spec.mapped = &mapped;
    profile_spec(s, ti, run, &spec);
    int rc = prof_run_once(&spec, run, err);
    record_mapped(s, ti, run, &mapped, !p->oci);
    prof_fileset_free(&mapped);
    if (rc < 0) {
        /* Set-up failed (cgroup, spawn): keep the run in the report as an error. */
        run->status = REP_ERROR;
        free(run->error);
        run->error = strdup(cs_error_text(err));
    }
    return rc;
}

/* A measured run of p: one cold start, or a burst of them (--burst; a
 * warmup starts one instance). */
static int measure(struct prof_session *s, const struct prof_target_plan *p, size_t ti, bool warmup,
                   struct rep_run *run, bool *ret_started, cs_error *err)
{
    unsigned k = p->burst ? p->burst : s->opts->burst;
    if (k && !warmup)
        return burst_run_into(s, p, ti, k, run, ret_started, err);
    return run_into(s, p, ti, run, ret_started, err);
}

/* Before a measured cold run: the file set must be learned, by an unmeasured
 * discovery run when no warmup did. Returns like prof_session_run. */
static int learn_coldset(struct prof_session *s, const struct prof_target_plan *p,
                         struct rep_target *t, cs_error *err)
{
    size_t ti = (size_t)(t - s->report.targets);
    const char *cache = p->cache ? p->cache : s->opts->cache;
    /* A container's files are known without a discovery run: the image's. */
    if (strcmp(cache, "cold") != 0 || s->coldset_learned[ti] || p->oci)
        return 0;
    return prof_session_run(s, p, t, true, -1, err);
}

int prof_session_run(struct prof_session *s, const struct prof_target_plan *p, struct rep_target *t,
                     bool warmup, int index, cs_error *err)
{
    if (s->interrupted_by || pending_stop_signal(s))
        return 1;
    int rc = warmup ? 0 : learn_coldset(s, p, t, err);
    if (rc != 0)
        return rc;
    struct rep_run run;
    rep_run_init(&run);
    run.index = index;
    run.warmup = warmup;
    bool started;
    rc = measure(s, p, (size_t)(t - s->report.targets), warmup, &run, &started, err);
    struct rep_run *slot = started ? rep_target_add_run(t) : NULL;
    if (!slot) {
        rep_run_free(&run);
        return started ? cs_error_set(err, ENOMEM, "run") : rc;
    }
    *slot = run;
    return rc;
}

int prof_session_run_step(struct prof_session *s, const struct prof_target_plan *p,
                          struct rep_target *t, int index, struct rep_run *ret, cs_error *err)
{
    rep_run_init(ret);
    ret->index = index;
    if (s->interrupted_by || pending_stop_signal(s))
        return 1;
    int rc = learn_coldset(s, p, t, err);
    if (rc != 0)
        return rc;
    bool started;
    return measure(s, p, (size_t)(t - s->report.targets), false, ret, &started, err);
}

/* deploy_size_bytes of target ti: a container image deploys whole;
 * otherwise deploy.h's count, once a run was ready. */
static int deploy_size(struct prof_session *s, size_t ti)
{
    struct rep_target *t = &s->report.targets[ti];
    if (t->oci_image) {
        t->deploy_size_bytes = t->oci_image->unpacked_bytes;
        return 0;
    }
    const struct prof_target_deploy *d = &s->deploy[ti];
    if (d->mapped.n == 0)
        return 0;
    int64_t bytes = prof_deploy_bytes(d->app_dir, t->size_on_disk_bytes, &d->mapped);
    if (bytes < 0)
        return -1;
    t->deploy_size_bytes = bytes;
    return 0;
}

int prof_session_finish(struct prof_session *s, cs_error *err)
{
    for (size_t i = 0; i < s->report.n_targets; i++) {
        struct rep_target *t = &s->report.targets[i];
        if (s->opts->profile_hz &&
            prof_profile_write(&s->profiles[i], s->opts->profile_hz, s->opts->profile_maps,
                               s->opts->profile_dir, t, err) < 0)
            return -1;
        if (prof_summarize_target(t) < 0 || deploy_size(s, i) < 0)
            return cs_error_set(err, ENOMEM, "summary");
        for (size_t k = 0; k < s->opts->n_budgets; k++)
            s->budget_missed |= !prof_budget_check(&s->opts->budgets[k], t);
        for (size_t k = 0; k < s->n_target_budgets[i]; k++)
            s->budget_missed |= !prof_budget_check(&s->target_budgets[i][k], t);
    }
    const struct {
        const char *path;
        enum rep_format f;
    } outs[] = {
        {s->opts->json, REP_FMT_JSON},   {s->opts->md, REP_FMT_MD},
        {s->opts->html, REP_FMT_HTML},   {s->opts->csv, REP_FMT_CSV},
        {s->opts->junit, REP_FMT_JUNIT}, {s->opts->github_benchmark, REP_FMT_GITHUB_BENCHMARK}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i].path && rep_render_to_file(&s->report, outs[i].f, outs[i].path, err) < 0)
            return -1;
    return 0;
}

bool prof_session_note_result(struct prof_session *s, struct rep_target *t, int rc,
                              const cs_error *err, char *why, size_t cap)
{
    size_t ti = (size_t)(t - s->report.targets);
    if (rc == 1)
        return false;
    const struct rep_run *last = t->n_runs ? &t->runs[t->n_runs - 1] : NULL;
    bool failed = rc < 0 || !last || last->status != REP_OK;
    s->consecutive_failures[ti] = failed ? s->consecutive_failures[ti] + 1 : 0;
    if (rc < 0 && s->bad_input) {
        snprintf(why, cap, "%s", cs_error_text(err));
        return true;
    }
    unsigned limit = s->opts->max_failures;
    if (!failed || limit == 0 || s->consecutive_failures[ti] < limit)
        return false;
    snprintf(why, cap, "stopped after %u failed runs in a row (--max-failures %u): %s",
             s->consecutive_failures[ti], limit,
             rc < 0 || !last ? cs_error_text(err)
             : last->error   ? last->error
                             : rep_status_name(last->status));
    return true;
}
