#include "profiler/cli/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/measure/pagecache.h"
#include "profiler/measure/seccomp_profile.h"
#include "profiler/measure/ready.h"
#include "profiler/analysis/units.h"
#include "reports/output.h"

enum {
    OPT_READY = 256,
    OPT_PORT,
    OPT_TIMEOUT,
    OPT_REQUESTS,
    OPT_MEMORY,
    OPT_CPUS,
    OPT_CPUSET,
    OPT_PIDS,
    OPT_INTERVAL,
    OPT_CACHE,
    OPT_SECCOMP,
    OPT_NET,
    OPT_ENV,
    OPT_CWD,
    OPT_JSON,
    OPT_MD,
    OPT_HTML,
    OPT_CSV,
    OPT_JUNIT,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_IMAGE,
    OPT_VARIANT,
    OPT_NAME,
    OPT_REFERENCE,
    OPT_BUDGET,
    OPT_BUDGETS,
    OPT_GITHUB_BENCHMARK,
    OPT_MIN,
    OPT_MAX,
    OPT_PRECISION,
    OPT_ATTEMPTS,
    OPT_MARGIN,
    OPT_SLOWDOWN,
    OPT_PRIVATE_TMP,
    OPT_USER,
    OPT_RLIMIT,
    OPT_CLEAN_ENV,
    OPT_SANDBOX,
    OPT_REQUEST_URL,
    OPT_READY_STATUS,
    OPT_STOP_SIGNAL,
    OPT_STOP_TIMEOUT,
    OPT_MAX_FAILURES,
    OPT_CGROUP_PARENT,
};

static const struct option long_opts[] = {
    {"runs", required_argument, NULL, 'n'},
    {"warmup", required_argument, NULL, 'w'},
    {"ready", required_argument, NULL, OPT_READY},
    {"port", required_argument, NULL, OPT_PORT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"cpuset", required_argument, NULL, OPT_CPUSET},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},
    {"net", required_argument, NULL, OPT_NET},
    {"env", required_argument, NULL, OPT_ENV},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"json", required_argument, NULL, OPT_JSON},
    {"md", required_argument, NULL, OPT_MD},
    {"html", required_argument, NULL, OPT_HTML},
    {"csv", required_argument, NULL, OPT_CSV},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"quiet", no_argument, NULL, 'q'},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"image", required_argument, NULL, OPT_IMAGE},
    {"variant", required_argument, NULL, OPT_VARIANT},
    {"name", required_argument, NULL, OPT_NAME},
    {"reference", required_argument, NULL, OPT_REFERENCE},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"budgets", required_argument, NULL, OPT_BUDGETS},
    {"github-benchmark", required_argument, NULL, OPT_GITHUB_BENCHMARK},
    {"min", required_argument, NULL, OPT_MIN},
    {"max", required_argument, NULL, OPT_MAX},
    {"precision", required_argument, NULL, OPT_PRECISION},
    {"attempts", required_argument, NULL, OPT_ATTEMPTS},
    {"margin", required_argument, NULL, OPT_MARGIN},
    {"slowdown", required_argument, NULL, OPT_SLOWDOWN},
    {"private-tmp", no_argument, NULL, OPT_PRIVATE_TMP},
    {"user", required_argument, NULL, OPT_USER},
    {"rlimit", required_argument, NULL, OPT_RLIMIT},
    {"clean-env", no_argument, NULL, OPT_CLEAN_ENV},
    {"sandbox", required_argument, NULL, OPT_SANDBOX},
    {"request-url", required_argument, NULL, OPT_REQUEST_URL},
    {"ready-status", required_argument, NULL, OPT_READY_STATUS},
    {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
    {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
    {"max-failures", required_argument, NULL, OPT_MAX_FAILURES},
    {"cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void prof_options_defaults(struct prof_options *o)
{
    memset(o, 0, sizeof *o);
    o->runs = 10;
    o->warmup = 1;
    o->timeout_us = 30000000;
    o->requests = 1;
    o->ok_status_min = 200;
    o->ok_status_max = 299;
    o->stop_timeout_us = 2000000;
    o->max_failures = 3;
    o->interval_us = 1000;
    o->cache = "warm";
    o->seccomp = SBX_SECCOMP_DEFAULT;
    o->net = SBX_NET_HOST;
    o->size_min_bytes = 16ull << 20;
    o->size_precision_bytes = 4ull << 20;
    o->attempts = 2;
    o->margin = 0.25;
    o->slowdown = 2.0;
}

void prof_options_free(struct prof_options *o)
{
    free(o->env);
    o->env = NULL;
    free(o->budgets);
    o->budgets = NULL;
}

static const char *const common_help =
    "Runs:\n"
    "  -n, --runs N          measured cold starts (default 10)\n"
    "  -w, --warmup N        unmeasured runs first (default 1)\n"
    "  --ready SPEC          http://HOST:PORT/PATH (first 2xx), tcp://HOST:PORT,\n"
    "                        log:REGEX (a line of stdout/stderr), exit (default without\n"
    "                        an image: the run ends when the target exits)\n"
    "  --port N|auto         value of {port} in command, env and ready spec, also\n"
    "                        exported as PORT (default auto: a free port per run)\n"
    "  --timeout DUR         per-run limit to reach ready (default 30s)\n"
    "  --requests N          HTTP requests after ready (default 1); with a tcp:// or\n"
    "                        log: readiness they need --request-url\n"
    "  --request-url URL     http://HOST:PORT/PATH the requests after ready go to\n"
    "  --ready-status LIST   HTTP statuses that count as ready and as a served request,\n"
    "                        e.g. 200-399 (default 200-299)\n"
    "  --stop-signal SIG     sent to the target at the end of a run (default SIGTERM),\n"
    "  --stop-timeout DUR    then after DUR (default 2s) the whole cgroup is killed\n"
    "  --max-failures N      stop a target after N failed runs in a row (default 3; 0: never)\n"
    "  --interval DUR        sampling interval, 0 for none (default 1ms)\n"
    "  --cache warm|cold|drop  page cache before each run: warm (as it is), cold (the\n"
    "                        target's files evicted, no root), drop (all caches, root)\n"
    "Limits (one fresh cgroup per run):\n"
    "  --memory SIZE         memory limit, swap off (512Mi, 1.5GiB; M = 10^6, Mi = 2^20)\n"
    "  --cpus X              CPU quota in cores, e.g. 0.5\n"
    "  --cpuset LIST         allowed CPUs, e.g. 0-1,3\n"
    "  --pids N              max tasks\n"
    "  --cgroup-parent PATH  create the run cgroups below this cgroup (e.g. /coldstart,\n"
    "                        made when missing); default: chosen as docs/cgroups.md says\n"
    "  --seccomp default|none|FILE  syscall policy (default: deny mount, bpf, ptrace,\n"
    "                        ...; none: no filter; FILE: an OCI/Docker seccomp profile)\n"
    "Isolation (docs/sandbox.md):\n"
    "  --net host|loopback|none  the host's network, a private one with only lo, or none\n"
    "  --private-tmp         a private, empty /tmp\n"
    "  --user UID[:GID]      run the target as this user\n"
    "  --rlimit NAME=VALUE   e.g. NOFILE=1024, CORE=0, NPROC=256:512 (repeatable)\n"
    "  --clean-env           only PATH, HOME, LANG, PORT and --env, not our environment\n"
    "  --sandbox strict      loopback network, own PID namespace and /proc, private\n"
    "                        mounts, read-only cgroupfs, Docker's default capabilities,\n"
    "                        private /tmp, default seccomp\n"
    "Target:\n"
    "  --env K=V             set a variable in the target (repeatable; inherits the rest)\n"
    "  --cwd DIR             working directory of the target\n"
    "  --image DIR           a bundled image (images/NAME) instead of a command\n"
    "  --variant NAME        one of the image's variants (env or command overrides)\n"
    "  --name NAME           the target's name in reports\n"
    "Output:\n"
    "  --json F              write the JSON report (- for stdout)\n"
    "  --md F, --html F, --csv F, --junit F   the same report as Markdown, HTML with\n"
    "                        charts, CSV (a row per run) or JUnit XML\n"
    "  --progress            progress bar even when stderr is not a terminal\n"
    "  --github-benchmark F  github-action-benchmark JSON (customSmallerIsBetter)\n"
    "CI gates:\n"
    "  --budget EXPR         METRIC.STAT OP VALUE, e.g. ready.p95<=300ms,\n"
    "                        rss_ready.p50<=64Mi; repeatable; exit 3 when one is missed\n"
    "  --budgets FILE        one budget per line (# comments)\n"
    "  -q, --quiet           no progress output\n"
    "  -h, --help            this help\n"
    "Sizes: B K M G T (powers of 1000), Ki Mi Gi Ti (powers of 1024).\n"
    "Durations: us, ms, s, m.\n"
    "Exit codes: 0 ok, 1 a target failed, 2 bad usage or input, 3 a budget exceeded,\n"
    "128+N interrupted by signal N (the report of what was measured is still written).\n";

void prof_options_usage(enum prof_command cmd, FILE *out)
{
    switch (cmd) {
    case PROF_CMD_RUN:
        fprintf(
            out,
            "Usage: coldstart run [OPTIONS] (--image DIR | -- CMD [ARG...])\n"
            "\n"
            "Starts CMD N times, each a cold start in a fresh cgroup, and reports the\n"
            "time from spawn to exec, listen, first byte and ready, with memory and CPU.\n"
            "\n"
            "Example: coldstart run --ready 'http://127.0.0.1:{port}/' -n 10 -- node server.js\n"
            "\n");
        break;
    case PROF_CMD_SUITE:
        fprintf(out, "Usage: coldstart suite [OPTIONS] [IMAGE...]\n"
                     "\n"
                     "The main job: builds the bundled images (all whose toolchain is present, or\n"
                     "the named ones), profiles each under the same limits with the runs\n"
                     "interleaved round robin, prints the comparison table and writes\n"
                     "coldstart-report/report.{json,md,html} unless --json/--md/--html are given.\n"
                     "\n"
                     "Suite defaults: --cpus 1 --memory 512Mi --requests 10 -n 10 -w 1.\n"
                     "  --reference NAME      image the ratios are relative to (default native-c)\n"
                     "  --variant NAME        run this variant of every image that has it\n"
                     "  --cache both          every image warm and cold (NAME and NAME@cold)\n"
                     "\n");
        break;
    case PROF_CMD_SIZE:
        fprintf(out,
                "Usage: coldstart size [OPTIONS] (--image DIR | -- CMD [ARG...])\n"
                "\n"
                "The smallest memory limit under which the target still starts and serves:\n"
                "an unconstrained run, then a bisection on the limit, each step a fresh cold\n"
                "start; then a recommended limit with a margin (docs/sizing.md).\n"
                "\n"
                "  --min SIZE            lower end of the search (default 16Mi)\n"
                "  --max SIZE            upper end (default 4 x the unconstrained peak)\n"
                "  --precision SIZE      stop when the bracket is this narrow (default 4Mi)\n"
                "  --attempts N          tries per step before it counts as failed (default 2)\n"
                "  --margin PCT          added to the smallest passing limit (default 25%%)\n"
                "  --slowdown X          a step passes only if ready within X times the\n"
                "                        unconstrained start, + 10 ms (default 2)\n"
                "Size defaults: --requests 20 --cache cold (a fresh container's file pages\n"
                "count against its limit).\n"
                "\n");
        break;
    case PROF_CMD_SWEEP:
        fprintf(out, "Usage: coldstart sweep [OPTIONS] (--cpus LIST | --memory LIST)\n"
                     "                       (--image DIR | -- CMD [ARG...])\n"
                     "\n"
                     "One target per value of the limit (NAME@cpus=0.5), the runs interleaved\n"
                     "round robin: how start-up scales with a fractional CPU or with memory.\n"
                     "\n"
                     "  --cpus LIST           e.g. 0.25,0.5,1,2\n"
                     "  --memory LIST         e.g. 128Mi,256Mi,512Mi\n"
                     "\n");
        break;
    }
    fputs(common_help, out);
}

static int bad(cs_error *err, const char *flag, const char *value, cs_error *why)
{
    return cs_error_set(err, 0, "%s %s: %s", flag, value, why->msg);
}

/* UID[:GID] as numbers or names; the group defaults to the user's. */
static int parse_user(const char *arg, struct prof_options *o, cs_error *err)
{
    char user[256], group[256] = "";
    snprintf(user, sizeof user, "%s", arg);
    char *colon = strchr(user, ':');
    if (colon) {
        snprintf(group, sizeof group, "%s", colon + 1);
        *colon = '\0';
    }
    char *end;
    unsigned long uid = strtoul(user, &end, 10);
    struct passwd *pw = NULL;
    if (!*user)
        return cs_error_set(err, 0, "--user %s: expected UID[:GID] or NAME[:GROUP]", arg);
    if (*end) {
        pw = getpwnam(user);
        if (!pw)
            return cs_error_set(err, 0, "--user %s: no user named `%s`", arg, user);
        uid = pw->pw_uid;
    } else {
        pw = getpwuid((uid_t)uid);
    }
    unsigned long gid = pw ? pw->pw_gid : uid;
    if (*group) {
        gid = strtoul(group, &end, 10);
        if (*end) {
            struct group *gr = getgrnam(group);
            if (!gr)
                return cs_error_set(err, 0, "--user %s: no group named `%s`", arg, group);
            gid = gr->gr_gid;
        }
    }
    o->set_user = true;
    o->uid = (uid_t)uid;
    o->gid = (gid_t)gid;
    return 0;
}

/* NAME=VALUE or NAME=SOFT:HARD, e.g. NOFILE=1024, CORE=0, AS=unlimited. */
static int parse_rlimit(const char *arg, struct prof_options *o, cs_error *err)
{
    static const struct {
        const char *name;
        int resource;
    } names[] = {{"AS", RLIMIT_AS},
                 {"CORE", RLIMIT_CORE},
                 {"CPU", RLIMIT_CPU},
                 {"DATA", RLIMIT_DATA},
                 {"FSIZE", RLIMIT_FSIZE},
                 {"LOCKS", RLIMIT_LOCKS},
                 {"MEMLOCK", RLIMIT_MEMLOCK},
                 {"MSGQUEUE", RLIMIT_MSGQUEUE},
                 {"NICE", RLIMIT_NICE},
                 {"NOFILE", RLIMIT_NOFILE},
                 {"NPROC", RLIMIT_NPROC},
                 {"RSS", RLIMIT_RSS},
                 {"RTPRIO", RLIMIT_RTPRIO},
                 {"RTTIME", RLIMIT_RTTIME},
                 {"SIGPENDING", RLIMIT_SIGPENDING},
                 {"STACK", RLIMIT_STACK}};
    const char *eq = strchr(arg, '=');
    char name[32];
    if (!eq || (size_t)(eq - arg) >= sizeof name)
        return cs_error_set(err, 0, "--rlimit %s: expected NAME=VALUE, e.g. NOFILE=1024", arg);
    size_t i, len = (size_t)(eq - arg);
    for (i = 0; i < len; i++)
        name[i] = (char)toupper((unsigned char)arg[i]);
    name[len] = '\0';
    const char *n = strncmp(name, "RLIMIT_", 7) == 0 ? name + 7 : name;
    int resource = -1;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(n, names[i].name) == 0)
            resource = names[i].resource;
    if (resource < 0)
        return cs_error_set(err, 0,
                            "--rlimit %s: unknown limit `%s` (NOFILE, NPROC, AS, CORE, "
                            "STACK, CPU, ...)",
                            arg, name);
    uint64_t vals[2];
    const char *p = eq + 1;
    for (int k = 0; k < 2; k++) {
        char tok[64];
        size_t tl = strcspn(p, ":");
        if (tl == 0 || tl >= sizeof tok)
            return cs_error_set(err, 0, "--rlimit %s: expected a number or `unlimited`", arg);
        memcpy(tok, p, tl);
        tok[tl] = '\0';
        char *end;
        if (strcmp(tok, "unlimited") == 0 || strcmp(tok, "infinity") == 0) {
            vals[k] = RLIM_INFINITY;
        } else {
            errno = 0;
            vals[k] = strtoull(tok, &end, 10);
            if (errno || *end || !isdigit((unsigned char)tok[0]))
                return cs_error_set(err, 0, "--rlimit %s: `%s` is not a number", arg, tok);
        }
        p += tl;
        if (*p != ':') {
            if (k == 0)
                vals[1] = vals[0];
            break;
        }
        p++;
    }
    if (vals[0] > vals[1])
        return cs_error_set(err, 0, "--rlimit %s: the soft limit is above the hard one", arg);
    if (o->n_rlimits == sizeof o->rlimits / sizeof o->rlimits[0])
        return cs_error_set(err, 0, "--rlimit: at most 16");
    o->rlimits[o->n_rlimits++] = (struct sbx_rlimit){resource, vals[0], vals[1]};
    return 0;
}

/* "0.25,0.5,1" or "128Mi,256Mi": every value parsed, at most 64. */
static int parse_sweep_list(const char *flag, const char *arg, struct prof_options *o,
                            cs_error *err)
{
    if (o->sweep_kind && strcmp(o->sweep_kind, flag + 2) != 0)
        return cs_error_set(err, 0, "sweep one limit at a time: --cpus or --memory");
    o->sweep_kind = flag + 2;
    o->n_sweep = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (o->n_sweep == sizeof o->sweep_values / sizeof o->sweep_values[0])
            return cs_error_set(err, 0, "%s: at most 64 values", flag);
        cs_error why;
        if (!strcmp(flag, "--cpus")) {
            if (prof_parse_cpus(tok, &o->sweep_values[o->n_sweep], &why) < 0)
                return cs_error_set(err, 0, "%s %s: %s", flag, arg, why.msg);
        } else {
            uint64_t bytes;
            if (prof_parse_size(tok, &bytes, &why) < 0)
                return cs_error_set(err, 0, "%s %s: %s", flag, arg, why.msg);
            if (bytes < 1048576)
                return cs_error_set(err, 0, "%s %s: %s is below 1 MiB", flag, arg, tok);
            o->sweep_values[o->n_sweep] = (double)bytes;
        }
        o->n_sweep++;
    }
    if (o->n_sweep == 0)
        return cs_error_set(err, 0, "%s needs a comma-separated list, e.g. %s", flag,
                            !strcmp(flag, "--cpus") ? "0.25,0.5,1,2" : "128Mi,256Mi,512Mi");
    return 0;
}

static int parse_one(int c, const char *arg, struct prof_options *o, cs_error *err)
{
    cs_error why;
    uint64_t v;
    if (o->command_kind == PROF_CMD_SWEEP && (c == OPT_CPUS || c == OPT_MEMORY))
        return parse_sweep_list(c == OPT_CPUS ? "--cpus" : "--memory", arg, o, err);
    /* Options of one command only: refused elsewhere rather than ignored. */
    bool size_only = c == OPT_MIN || c == OPT_MAX || c == OPT_PRECISION || c == OPT_ATTEMPTS ||
                     c == OPT_MARGIN || c == OPT_SLOWDOWN;
    if (size_only && o->command_kind != PROF_CMD_SIZE)
        return cs_error_set(err, 0, "this option belongs to `coldstart size`");
    if (c == OPT_REFERENCE && o->command_kind != PROF_CMD_SUITE)
        return cs_error_set(err, 0, "--reference belongs to `coldstart suite`");
    switch (c) {
    case 'n':
        if (prof_parse_uint(arg, 1, 100000, &v, &why) < 0)
            return bad(err, "--runs", arg, &why);
        o->runs = (unsigned)v;
        o->runs_set = true;
        return 0;
    case 'w':
        if (prof_parse_uint(arg, 0, 100000, &v, &why) < 0)
            return bad(err, "--warmup", arg, &why);
        o->warmup = (unsigned)v;
        o->warmup_set = true;
        return 0;
    case OPT_READY:
        if (prof_ready_validate(arg, &why) < 0)
            return cs_error_set(err, 0, "--ready: %s", why.msg);
        o->ready = arg;
        return 0;
    case OPT_PORT:
        if (strcmp(arg, "auto") == 0) {
            o->port = 0;
            return 0;
        }
        if (prof_parse_uint(arg, 1, 65535, &v, &why) < 0)
            return bad(err, "--port", arg, &why);
        o->port = (unsigned)v;
        return 0;
    case OPT_TIMEOUT:
        if (prof_parse_duration(arg, &o->timeout_us, &why) < 0)
            return bad(err, "--timeout", arg, &why);
        if (o->timeout_us == 0)
            return cs_error_set(err, 0, "--timeout %s: must be more than 0", arg);
        return 0;
    case OPT_REQUESTS:
        if (prof_parse_uint(arg, 0, 1000000, &v, &why) < 0)
            return bad(err, "--requests", arg, &why);
        o->requests = (unsigned)v;
        o->requests_set = true;
        return 0;
    case OPT_REQUEST_URL:
        if (strncmp(arg, "http://", 7) != 0)
            return cs_error_set(err, 0, "--request-url %s: expected http://HOST:PORT/PATH", arg);
        if (prof_ready_validate(arg, &why) < 0)
            return cs_error_set(err, 0, "--request-url: %s", why.msg);
        o->request_url = arg;
        return 0;
    case OPT_READY_STATUS: {
        char *end;
        long lo = strtol(arg, &end, 10), hi = lo;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        if (end == arg || *end || lo < 100 || hi > 599 || lo > hi)
            return cs_error_set(err, 0,
                                "--ready-status %s: a status or a range of them within "
                                "100-599, e.g. 200-399",
                                arg);
        o->ok_status_min = (int)lo;
        o->ok_status_max = (int)hi;
        return 0;
    }
    case OPT_STOP_SIGNAL:
        if (prof_parse_signal(arg, &o->stop_signal, &why) < 0)
            return bad(err, "--stop-signal", arg, &why);
        return 0;
    case OPT_STOP_TIMEOUT:
        if (prof_parse_duration(arg, &o->stop_timeout_us, &why) < 0)
            return bad(err, "--stop-timeout", arg, &why);
        if (o->stop_timeout_us > 600000000)
            return cs_error_set(err, 0, "--stop-timeout %s: at most 10m", arg);
        return 0;
    case OPT_CGROUP_PARENT:
        if (arg[0] != '/')
            return cs_error_set(err, 0,
                                "--cgroup-parent %s: give a cgroup path from the hierarchy's "
                                "root, e.g. /coldstart",
                                arg);
        o->cgroup_parent = arg;
        return 0;
    case OPT_MAX_FAILURES:
        if (prof_parse_uint(arg, 0, 100000, &v, &why) < 0)
            return bad(err, "--max-failures", arg, &why);
        o->max_failures = (unsigned)v;
        return 0;
    case OPT_MEMORY:
        if (prof_parse_size(arg, &o->limits.memory_bytes, &why) < 0)
            return bad(err, "--memory", arg, &why);
        if (o->limits.memory_bytes < 1048576)
            return cs_error_set(err, 0, "--memory %s: below 1 MiB nothing starts", arg);
        o->memory_set = true;
        return 0;
    case OPT_CPUS:
        if (prof_parse_cpus(arg, &o->limits.cpus, &why) < 0)
            return bad(err, "--cpus", arg, &why);
        o->cpus_set = true;
        return 0;
    case OPT_CPUSET:
        if (prof_parse_cpulist(arg, &why) < 0)
            return bad(err, "--cpuset", arg, &why);
        o->limits.cpuset = arg;
        return 0;
    case OPT_PIDS:
        if (prof_parse_uint(arg, 1, 4194304, &v, &why) < 0)
            return bad(err, "--pids", arg, &why);
        o->limits.pids = v;
        return 0;
    case OPT_INTERVAL:
        if (prof_parse_duration(arg, &o->interval_us, &why) < 0)
            return bad(err, "--interval", arg, &why);
        if (o->interval_us != 0 && o->interval_us < 100)
            return cs_error_set(err, 0, "--interval %s: the shortest interval is 100us", arg);
        return 0;
    case OPT_CACHE:
        if (strcmp(arg, "warm") != 0 && strcmp(arg, "cold") != 0 && strcmp(arg, "drop") != 0 &&
            (strcmp(arg, "both") != 0 || o->command_kind != PROF_CMD_SUITE))
            return cs_error_set(err, 0, "--cache %s: use warm, cold or drop%s", arg,
                                o->command_kind == PROF_CMD_SUITE ? " (or both)" : "");
        if (strcmp(arg, "drop") == 0 && prof_drop_caches_check(err) < 0)
            return -1;
        o->cache = arg;
        o->cache_set = true;
        return 0;
    case OPT_SECCOMP:
        o->seccomp_set = true;
        if (strcmp(arg, "default") == 0) {
            o->seccomp = SBX_SECCOMP_DEFAULT;
        } else if (strcmp(arg, "none") == 0) {
            o->seccomp = SBX_SECCOMP_NONE;
        } else {
            /* A profile file: read and checked now, so a bad one is exit 2. */
            if (access(arg, R_OK) < 0)
                return cs_error_set(err, errno,
                                    "--seccomp %s: use default, none or the path of an "
                                    "OCI/Docker seccomp profile",
                                    arg);
            struct sbx_seccomp_profile p;
            if (prof_seccomp_profile_load(arg, &p, stderr, err) < 0)
                return -1;
            prof_seccomp_profile_free(&p);
            o->seccomp = SBX_SECCOMP_PROFILE;
            o->seccomp_file = arg;
        }
        return 0;
    case OPT_NET:
        if (strcmp(arg, "host") == 0)
            o->net = SBX_NET_HOST;
        else if (strcmp(arg, "loopback") == 0)
            o->net = SBX_NET_LOOPBACK;
        else if (strcmp(arg, "none") == 0)
            o->net = SBX_NET_NONE;
        else
            return cs_error_set(err, 0, "--net %s: use host, loopback or none", arg);
        return 0;
    case OPT_PRIVATE_TMP:
        o->private_tmp = true;
        return 0;
    case OPT_CLEAN_ENV:
        o->clean_env = true;
        return 0;
    case OPT_SANDBOX:
        if (strcmp(arg, "strict") != 0)
            return cs_error_set(err, 0, "--sandbox %s: the one level is `strict`", arg);
        o->strict = true;
        return 0;
    case OPT_USER:
        return parse_user(arg, o, err);
    case OPT_RLIMIT:
        return parse_rlimit(arg, o, err);
    case OPT_ENV: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg)
            return cs_error_set(err, 0, "--env %s: expected K=V", arg);
        const char **n = realloc(o->env, (o->n_env + 1) * sizeof *n);
        if (!n)
            return cs_error_set(err, 0, "out of memory");
        o->env = n;
        o->env[o->n_env++] = arg;
        return 0;
    }
    case OPT_CWD:
        o->cwd = arg;
        return 0;
    case OPT_JSON:
        o->json = arg;
        return 0;
    case OPT_MD:
        o->md = arg;
        return 0;
    case OPT_HTML:
        o->html = arg;
        return 0;
    case OPT_CSV:
        o->csv = arg;
        return 0;
    case OPT_JUNIT:
        o->junit = arg;
        return 0;
    case 'q':
        o->quiet = true;
        return 0;
    case OPT_PROGRESS:
        o->progress = true;
        return 0;
    case OPT_NO_PROGRESS:
        o->no_progress = true;
        return 0;
    case OPT_IMAGE:
        o->image = arg;
        return 0;
    case OPT_VARIANT:
        o->variant = arg;
        return 0;
    case OPT_NAME:
        o->name = arg;
        return 0;
    case OPT_REFERENCE:
        o->reference = arg;
        return 0;
    case OPT_BUDGET: {
        struct prof_budget *n = realloc(o->budgets, (o->n_budgets + 1) * sizeof *n);
        if (!n)
            return cs_error_set(err, 0, "out of memory");
        o->budgets = n;
        if (prof_budget_parse(arg, &o->budgets[o->n_budgets], err) < 0)
            return cs_error_prefix(err, "--budget");
        o->n_budgets++;
        return 0;
    }
    case OPT_BUDGETS:
        return prof_budget_read_file(arg, &o->budgets, &o->n_budgets, err);
    case OPT_GITHUB_BENCHMARK:
        o->github_benchmark = arg;
        return 0;
    case OPT_MIN:
    case OPT_MAX:
    case OPT_PRECISION: {
        const char *flag = c == OPT_MIN ? "--min" : c == OPT_MAX ? "--max" : "--precision";
        uint64_t *dst = c == OPT_MIN   ? &o->size_min_bytes
                        : c == OPT_MAX ? &o->size_max_bytes
                                       : &o->size_precision_bytes;
        if (prof_parse_size(arg, dst, &why) < 0)
            return bad(err, flag, arg, &why);
        if (*dst < 1048576)
            return cs_error_set(err, 0, "%s %s: at least 1 MiB", flag, arg);
        return 0;
    }
    case OPT_ATTEMPTS:
        if (prof_parse_uint(arg, 1, 100, &v, &why) < 0)
            return bad(err, "--attempts", arg, &why);
        o->attempts = (unsigned)v;
        return 0;
    case OPT_MARGIN: {
        char *end;
        double m = strtod(arg, &end);
        if (end == arg || (*end && strcmp(end, "%") != 0) || m < 0 || m > 1000)
            return cs_error_set(err, 0, "--margin %s: a percentage, e.g. 25%%", arg);
        o->margin = m / 100.0;
        return 0;
    }
    case OPT_SLOWDOWN: {
        char *end;
        double x = strtod(arg, &end);
        if (end == arg || (*end && strcmp(end, "x") != 0) || !(x >= 1 && x <= 1000))
            return cs_error_set(err, 0, "--slowdown %s: a factor of at least 1, e.g. 2", arg);
        o->slowdown = x;
        return 0;
    }
    }
    return cs_error_set(err, 0, "unhandled option");
}

int prof_options_parse(enum prof_command cmd, int argc, char **argv, struct prof_options *o,
                       cs_error *err)
{
    static const char *const names[] = {"run", "suite", "size", "sweep"};
    const char *name = names[cmd];
    o->command_kind = cmd;
    optind = 1;
    opterr = 0; /* our messages, not getopt's */
    for (;;) {
        int idx = -1;
        /* suite takes image names among its options; run, size and sweep stop
         * at the first word that is not an option (the command belongs after --). */
        int c = getopt_long(argc, argv, cmd == PROF_CMD_SUITE ? ":n:w:qh" : "+:n:w:qh", long_opts,
                            &idx);
        if (c == -1)
            break;
        if (c == 'h') {
            prof_options_usage(cmd, stdout);
            return 1;
        }
        if (c == ':') { /* a known option without its value */
            for (const struct option *lo = long_opts; lo->name; lo++)
                if (lo->val == optopt)
                    return cs_error_set(err, 0,
                                        "option `--%s` needs a value (see coldstart %s --help)",
                                        lo->name, name);
            return cs_error_set(err, 0, "option `%s` needs a value (see coldstart %s --help)",
                                argv[optind - 1], name);
        }
        if (c == '?') {
            if (optopt)
                return cs_error_set(err, 0, "unknown option `-%c` (see coldstart %s --help)",
                                    optopt, name);
            return cs_error_set(err, 0, "unknown option `%s` (see coldstart %s --help)",
                                argv[optind - 1], name);
        }
        const char *arg = optarg;
        if (parse_one(c, arg, o, err) < 0) {
            if (err && strncmp(err->msg, "this option", 11) == 0)
                cs_error_prefix(err, "%s", argv[optind - 1 - (arg && arg == argv[optind - 1])]);
            return -1;
        }
    }
    /* Everything after the options: `-- CMD ARGS` for run, image names for suite. */
    int first = optind;
    bool dashdash = first > 1 && strcmp(argv[first - 1], "--") == 0;
    if (cmd != PROF_CMD_SUITE) {
        if (first < argc && !dashdash)
            return cs_error_set(err, 0,
                                "unexpected argument `%s`: put the target command after `--`, "
                                "e.g. coldstart %s -- %s",
                                argv[first], name, argv[first]);
        o->command = argv + first;
        o->n_command = (size_t)(argc - first);
        if (o->n_command == 0 && !o->image)
            return cs_error_set(err, 0, "no target: give --image DIR or -- CMD [ARG...]");
        if (o->n_command > 0 && o->image)
            return cs_error_set(err, 0, "give either --image or a command after --, not both");
    } else {
        if (dashdash)
            return cs_error_set(err, 0,
                                "suite takes image names, not a command after `--` "
                                "(coldstart run profiles one)");
        o->positional = argv + first;
        o->n_positional = (size_t)(argc - first);
    }
    if (cmd == PROF_CMD_SUITE && (o->image || o->n_command))
        return cs_error_set(err, 0,
                            "suite takes image names, not --image or a command "
                            "(coldstart run profiles one)");
    if (o->strict) {
        /* One switch for a locked-down container: loopback network, private
         * mounts with a read-only cgroupfs and /tmp, the default seccomp
         * policy (or the profile given). */
        if (o->seccomp == SBX_SECCOMP_NONE && o->seccomp_set)
            return cs_error_set(err, 0, "--sandbox strict and --seccomp none contradict");
        if (o->net == SBX_NET_HOST)
            o->net = SBX_NET_LOOPBACK;
        o->private_tmp = true;
    }
    if (o->net == SBX_NET_NONE && o->ready &&
        (strncmp(o->ready, "http://", 7) == 0 || strncmp(o->ready, "tcp://", 6) == 0))
        return cs_error_set(err, 0,
                            "--net none leaves the target no network to be probed "
                            "over: use --net loopback, or --ready exit or log:REGEX");
    /* Checked now: a report that cannot be written must not cost a session. */
    const char *outs[] = {o->json, o->md, o->html, o->csv, o->junit, o->github_benchmark};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i] && rep_output_check(outs[i], err) < 0)
            return -1;
    if (o->request_url && o->ready && strcmp(o->ready, "exit") == 0)
        return cs_error_set(err, 0,
                            "--request-url with --ready exit: the target has exited when it "
                            "is ready; there is nothing left to send requests to");
    if (cmd == PROF_CMD_SWEEP && !o->sweep_kind)
        return cs_error_set(err, 0, "sweep needs --cpus LIST or --memory LIST");
    if (cmd == PROF_CMD_SIZE && (o->memory_set || o->limits.memory_bytes))
        return cs_error_set(err, 0,
                            "size finds the memory limit itself: drop --memory "
                            "(--min and --max bound the search)");
    if (cmd == PROF_CMD_SIZE && o->size_max_bytes && o->size_max_bytes <= o->size_min_bytes)
        return cs_error_set(err, 0, "--max must be above --min");
    if (o->variant && !o->image && cmd != PROF_CMD_SUITE)
        return cs_error_set(err, 0, "--variant selects a variant of an image: add --image DIR");
    return 0;
}
