#include "profiler/cli/resolve.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/analysis/units.h"
#include "profiler/measure/load.h"
#include "profiler/measure/pagecache.h"
#include "profiler/measure/profile.h"
#include "profiler/oci/image.h"
#include "profiler/measure/ready.h"
#include "profiler/measure/seccomp_profile.h"
#include "reports/output.h"

/* UID[:GID] as numbers or names; the group defaults to the user's. */
static int resolve_user(const char *arg, struct prof_config *c, cs_error *err)
{
    char user[256], group[256] = "";
    snprintf(user, sizeof user, "%s", arg);
    char *colon = strchr(user, ':');
    if (colon) {
        snprintf(group, sizeof group, "%s", colon + 1);
        *colon = '\0';
    }
    uint32_t uid = 0, gid = 0;
    struct passwd *pw = NULL;
    bool by_number = user[0] && strspn(user, "0123456789") == strlen(user);
    if (!by_number) {
        pw = getpwnam(user);
        if (!pw)
            return cs_error_input(err, "--user %s: no user named `%s`", arg, user);
        uid = pw->pw_uid;
    } else {
        if (prof_parse_id(user, &uid, err) < 0) {
            cs_error_prefix(err, "--user %s: the user id", arg);
            return cs_error_mark_input(err);
        }
        pw = getpwuid((uid_t)uid);
    }
    gid = pw ? pw->pw_gid : uid;
    if (*group) {
        if (strspn(group, "0123456789") == strlen(group)) {
            if (prof_parse_id(group, &gid, err) < 0) {
                cs_error_prefix(err, "--user %s: the group id", arg);
                return cs_error_mark_input(err);
            }
        } else {
            struct group *gr = getgrnam(group);
            if (!gr)
                return cs_error_input(err, "--user %s: no group named `%s`", arg, group);
            gid = gr->gr_gid;
        }
    }
    c->set_user = true;
    c->uid = (uid_t)uid;
    c->gid = (gid_t)gid;
    return 0;
}

/* default, none, or a profile file: read and checked now, so a bad one is exit 2. */
static int resolve_seccomp(const char *arg, const struct cs_sink *warn, struct prof_config *c,
                           cs_error *err)
{
    if (strcmp(arg, "default") == 0) {
        c->seccomp = SBX_SECCOMP_DEFAULT;
        return 0;
    }
    if (strcmp(arg, "none") == 0) {
        c->seccomp = SBX_SECCOMP_NONE;
        return 0;
    }
    if (access(arg, R_OK) < 0)
        return cs_error_input(err,
                              "--seccomp %s: use default, none or the path of an OCI/Docker "
                              "seccomp profile (%s)",
                              arg, strerror(errno));
    struct sbx_seccomp_profile p;
    if (prof_seccomp_profile_load(arg, &p, warn, err) < 0)
        return cs_error_mark_input(err);
    prof_seccomp_profile_free(&p);
    c->seccomp = SBX_SECCOMP_PROFILE;
    c->seccomp_file = arg;
    return 0;
}

static int resolve_budgets(const struct cli_options *o, struct prof_config *c, cs_error *err)
{
    for (size_t i = 0; i < o->n_budgets; i++) {
        const struct cli_budget_arg *b = &o->budgets[i];
        if (b->is_file) {
            if (prof_budget_read_file(b->text, &c->budgets, &c->n_budgets, err) < 0)
                return cs_error_mark_input(err);
            continue;
        }
        struct prof_budget *grown = realloc(c->budgets, (c->n_budgets + 1) * sizeof *grown);
        if (!grown)
            return cs_error_set(err, ENOMEM, "out of memory");
        c->budgets = grown;
        if (prof_budget_parse(b->text, &c->budgets[c->n_budgets], err) < 0)
            return cs_error_mark_input(err), cs_error_prefix(err, "--budget");
        c->n_budgets++;
    }
    return 0;
}

/* The values that need no lookup, copied. */
static void copy_plain(const struct cli_options *o, struct prof_config *c)
{
    *c = (struct prof_config){
        .runs = o->runs,
        .warmup = o->warmup,
        .ready = o->ready,
        .port = o->port,
        .timeout_us = o->timeout_us,
        .requests = o->requests,
        .requests_given = o->requests_given,
        .request_url = o->request_url,
        .ready_send = o->ready_send,
        .ready_expect = o->ready_expect,
        .load = {.connections = o->load_connections,
                 .duration_us = o->load_duration_us,
                 .rate = o->load_rate,
                 .path = o->load_path,
                 .command = o->load_command},
        .burst = o->burst,
        .burst_memory_bytes = o->burst_memory_bytes,
        .burst_pids = o->burst_pids,
        .profile_hz = o->profile_hz,
        .profile_dir = o->profile_dir ? o->profile_dir : "coldstart-profile",
        .profile_maps = o->profile_maps,
        .ok_status_min = o->ok_status_min,
        .ok_status_max = o->ok_status_max,
        .retry_status = {o->retry_status[0], o->retry_status[1], o->retry_status[2],
                         o->retry_status[3], o->retry_status[4], o->retry_status[5],
                         o->retry_status[6], o->retry_status[7]},
        .stop_signal = o->stop_signal,
        .stop_timeout_us = o->stop_timeout_us,
        .max_failures = o->max_failures,
        .limits = {o->memory_bytes, o->cpus, o->cpuset, o->pids},
        .cgroup_parent = o->cgroup_parent,
        .interval_us = o->interval_us,
        .cache = o->cache,
        .net = strcmp(o->net, "loopback") == 0 ? SBX_NET_LOOPBACK
               : strcmp(o->net, "none") == 0   ? SBX_NET_NONE
                                               : SBX_NET_HOST,
        .net_given = o->net_given,
        .private_tmp = o->private_tmp,
        .clean_env = o->clean_env,
        .strict = o->strict,
        .cwd = o->cwd,
        .json = o->json,
        .md = o->md,
        .html = o->html,
        .csv = o->csv,
        .junit = o->junit,
        .github_benchmark = o->github_benchmark,
        .quiet = o->quiet,
        .progress = o->progress,
        .no_progress = o->no_progress,
        .image = o->image,
        .entrypoint = o->entrypoint,
        .image_cache = o->image_cache,
        .runtime = o->runtime,
        .extract_cold = o->extract_cold,
        .suite_oci = o->suite_oci,
        .all_variants = o->all_variants,
        .variant = o->variant,
        .name = o->name,
        .command = o->command,
        .n_command = o->n_command,
        .size_min_bytes = o->size_min_bytes,
        .size_max_bytes = o->size_max_bytes,
        .size_precision_bytes = o->size_precision_bytes,
        .attempts = o->attempts,
        .baseline_runs = o->baseline_runs,
        .margin = o->margin,
        .slowdown = o->slowdown,
        .max_p99 = o->max_p99,
        .min_rps = o->min_rps,
        .sweep_kind = o->sweep_kind,
        .n_sweep = o->n_sweep,
        .reference = o->reference,
        .positional = o->positional,
        .n_positional = o->n_positional,
    };
    memcpy(c->sweep_values, o->sweep_values, sizeof c->sweep_values);
    for (size_t i = 0; i < o->n_rlimits; i++)
        c->rlimits[i] =
            (struct sbx_rlimit){o->rlimits[i].resource, o->rlimits[i].soft, o->rlimits[i].hard};
    c->n_rlimits = o->n_rlimits;
    /* A container image's user is resolved in the image, not here. */
    if (o->image && prof_oci_is_ref(o->image))
        c->image_user = o->user;
    if (c->strict) {
        /* One switch for a locked-down container: loopback network, private
         * mounts with a read-only cgroupfs and /tmp, the default seccomp
         * policy (or the profile given). */
        if (c->net == SBX_NET_HOST)
            c->net = SBX_NET_LOOPBACK;
        c->private_tmp = true;
    }
}

static int resolve_checks(const struct cli_options *o, struct prof_config *c, cs_error *err)
{
    cs_error why;
    if (o->ready && prof_ready_validate(o->ready, &why) < 0)
        return cs_error_input(err, "--ready: %s", cs_error_text(&why));
    if (o->request_url && prof_ready_validate(o->request_url, &why) < 0)
        return cs_error_input(err, "--request-url: %s", cs_error_text(&why));
    if (strcmp(o->cache, "drop") == 0 && prof_drop_caches_check(err) < 0)
        return cs_error_mark_input(err);
    if (o->load_connections && prof_load_check_nofile(o->load_connections, &why) < 0)
        return cs_error_input(err, "--load: %s", cs_error_text(&why));
    if (o->profile_hz && prof_profile_check(c->profile_dir, err) < 0)
        return cs_error_mark_input(err);
    /* Checked now: a report that cannot be written must not cost a session. */
    const char *outs[] = {o->json, o->md, o->html, o->csv, o->junit, o->github_benchmark};
    static const char *const flags[] = {"--json", "--md",    "--html",
                                        "--csv",  "--junit", "--github-benchmark"};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i] && rep_output_check(outs[i], err) < 0) {
            cs_error_prefix(err, "%s", flags[i]);
            return cs_error_mark_input(err);
        }
    if (o->n_env) {
        c->env = malloc(o->n_env * sizeof *c->env);
        if (!c->env)
            return cs_error_set(err, ENOMEM, "out of memory");
        memcpy(c->env, o->env, o->n_env * sizeof *c->env);
        c->n_env = o->n_env;
    }
    return 0;
}

int cli_resolve(const struct cli_options *o, const struct cs_sink *warn, struct prof_config *ret,
                cs_error *err)
{
    copy_plain(o, ret);
    if (resolve_checks(o, ret, err) < 0 || resolve_seccomp(o->seccomp, warn, ret, err) < 0 ||
        (o->user && !ret->image_user && resolve_user(o->user, ret, err) < 0) ||
        resolve_budgets(o, ret, err) < 0) {
        prof_config_free(ret);
        return -1;
    }
    return 0;
}
