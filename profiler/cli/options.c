#include "profiler/cli/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "profiler/analysis/units.h"
#include "profiler/cli/usage.h"
#include "profiler/measure/config.h"
#include "profiler/measure/load.h"
#include "profiler/measure/perf_sampler.h"
#include "profiler/oci/image.h"

enum {
    OPT_RUNS = 'n',
    OPT_WARMUP = 'w',
    OPT_QUIET = 'q',
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
    OPT_BASELINE_RUNS,
    OPT_MARGIN,
    OPT_SLOWDOWN,
    OPT_PRIVATE_TMP,
    OPT_USER,
    OPT_RLIMIT,
    OPT_CLEAN_ENV,
    OPT_SANDBOX,
    OPT_REQUEST_URL,
    OPT_READY_SEND,
    OPT_READY_EXPECT,
    OPT_READY_STATUS,
    OPT_READY_RETRY_STATUS,
    OPT_STOP_SIGNAL,
    OPT_STOP_TIMEOUT,
    OPT_MAX_FAILURES,
    OPT_CGROUP_PARENT,
    OPT_SWEEP_CPUS,
    OPT_SWEEP_MEMORY,
    OPT_ENTRYPOINT,
    OPT_IMAGE_CACHE,
    OPT_EXTRACT,
    OPT_RUNTIME,
    OPT_OCI,
    OPT_VARIANTS,
    OPT_LOAD,
    OPT_RATE,
    OPT_LOAD_PATH,
    OPT_LOAD_CMD,
    OPT_MAX_P99,
    OPT_MIN_RPS,
    OPT_BURST,
    OPT_BURST_MEMORY,
    OPT_BURST_PIDS,
    OPT_SWEEP_BURST,
    OPT_PROFILE,
    OPT_PROFILE_DIR,
    OPT_PROFILE_MAPS,
};

/* ---- the tables: sections shared by the measuring commands ---- */

static const struct cli_option runs_section[] = {
    {NULL, 0, NULL, 0, "Runs:"},
    {"runs", 'n', "N", OPT_RUNS, "measured cold starts (default 10)"},
    {"warmup", 'w', "N", OPT_WARMUP, "unmeasured runs first (default 1)"},
    {"ready", 0, "SPEC", OPT_READY,
     "http://HOST:PORT/PATH (first 2xx), tcp://HOST:PORT (accepting\n"
     "connections), redis://HOST:PORT, postgres://HOST:PORT (the\n"
     "server answers), 'exec:CMD' (CMD exits 0, run in the target's\n"
     "namespaces, e.g. 'exec:pg_isready -h 127.0.0.1 -p {port}'),\n"
     "log:REGEX (a line of stdout/stderr), exit (default without\n"
     "an image: the run ends when the target exits)"},
    {"port", 0, "N|auto", OPT_PORT,
     "value of {port} in command, env and ready spec, also\n"
     "exported as PORT (default auto: a free port per run)"},
    {"timeout", 0, "DUR", OPT_TIMEOUT, "per-run limit to reach ready (default 30s)"},
    {"requests", 0, "N", OPT_REQUESTS,
     "HTTP requests after ready (default 1); with a tcp:// or\n"
     "log: readiness they need --request-url"},
    {"ready-send", 0, "DATA", OPT_READY_SEND,
     "with tcp://: sent once connected (escapes \\r \\n \\t \\0 \\xHH), e.g. PING\\r\\n;\n"
     "tcp:// alone is ready when the kernel accepts (the listen), not\n"
     "when the server serves: redis:// and postgres:// ask the server"},
    {"ready-expect", 0, "REGEX", OPT_READY_EXPECT,
     "with tcp://: ready when the answer matches, e.g. ^\\+PONG or\n"
     "^VERSION (memcached); another whole answer means not yet"},
    {"request-url", 0, "URL", OPT_REQUEST_URL,
     "http://HOST:PORT/PATH the requests after ready go to"},
    {"ready-status", 0, "LIST", OPT_READY_STATUS,
     "HTTP statuses that count as ready and as a served request,\n"
     "e.g. 200-399 (default 200-299)"},
    {"ready-retry-status", 0, "LIST", OPT_READY_RETRY_STATUS,
     "HTTP statuses before ready that mean \"not yet\": probed again\n"
     "every 1 ms, as Kubernetes does (default 502-504; e.g. 404,500-504;\n"
     "none: every other status fails the run at once)"},
    {"stop-signal", 0, "SIG", OPT_STOP_SIGNAL,
     "sent to the target at the end of a run (default SIGTERM),"},
    {"stop-timeout", 0, "DUR", OPT_STOP_TIMEOUT,
     "then after DUR (default 2s) the whole cgroup is killed"},
    {"max-failures", 0, "N", OPT_MAX_FAILURES,
     "stop a target after N failed runs in a row (default 3; 0: never)"},
    {"interval", 0, "DUR", OPT_INTERVAL, "sampling interval, 0 for none (default 1ms)"},
    {"cache", 0, "warm|cold|drop", OPT_CACHE,
     "page cache before each run: warm (as it is), cold (the\n"
     "target's files evicted, no root), drop (all caches, root)"},
    {0},
};

static const struct cli_option load_section[] = {
    {NULL, 0, NULL, 0, "Load after ready (docs/load.md):"},
    {"load", 0, "CONNS:DUR", OPT_LOAD,
     "after the requests, CONNS keep-alive connections send\n"
     "requests for DUR, each the next when answered (e.g. 64:5s;\n"
     "up to 4096 connections); then memory 1 s after"},
    {"rate", 0, "N", OPT_RATE,
     "open loop: N requests/s over all connections, latency\n"
     "counted from when each was due (no coordinated omission)"},
    {"load-path", 0, "PATH", OPT_LOAD_PATH, "what the load requests (default: the ready path)"},
    {"load-cmd", 0, "CMD", OPT_LOAD_CMD,
     "instead of --load: after the requests, run CMD (sh -c,\n"
     "{port} substituted, outside the target's cgroup, in its\n"
     "network namespace), e.g. 'pgbench -S -c4 -t 2500 -h\n"
     "127.0.0.1 -p {port} postgres' (a fixed amount of work);\n"
     "it must exit 0 within --timeout; memory under it is\n"
     "measured as under --load"},
    {0},
};

/* The cgroup that holds a burst's instances: run, suite and sweep. */
#define BURST_LIMIT_OPTIONS                                                                        \
    {"burst-memory", 0, "SIZE", OPT_BURST_MEMORY,                                                  \
     "memory limit of the cgroup holding all K instances\n"                                        \
     "(default K x --memory, else 3/4 of the memory available)"},                                  \
    {                                                                                              \
        "burst-pids", 0, "N", OPT_BURST_PIDS,                                                      \
            "tasks limit of that cgroup (default K x --pids, else K x 1024)"                       \
    }

static const struct cli_option burst_section[] = {
    {NULL, 0, NULL, 0, "Burst (docs/burst.md):"},
    {"burst", 0, "K", OPT_BURST,
     "each run starts K instances at once (1 to 64), each in its\n"
     "own cgroup with its own port and probe; the report has\n"
     "every instance, the time until all are ready, PSS per instance"},
    BURST_LIMIT_OPTIONS,
    {0},
};

static const struct cli_option profile_section[] = {
    {NULL, 0, NULL, 0, "CPU profile (docs/measurement.md):"},
    {"profile", 0, "cpu[:HZ]", OPT_PROFILE,
     "sample every thread of the target from exec to ready at HZ\n"
     "(default 999, up to 10000): a flame graph per target, by phase"},
    {"profile-dir", 0, "DIR", OPT_PROFILE_DIR,
     "where TARGET.folded goes (default coldstart-profile/)"},
    {"profile-maps", 0, NULL, OPT_PROFILE_MAPS,
     "name JavaScript frames too: Node starts with V8's perf map\n"
     "(--perf-basic-prof), which slows its start-up (.NET's map is\n"
     "asked for at ready and costs nothing)"},
    {0},
};

static const struct cli_option sweep_burst_section[] = {
    {NULL, 0, NULL, 0, "Burst (with --burst LIST):"},
    BURST_LIMIT_OPTIONS,
    {0},
};

static const struct cli_option limits_heading[] = {
    {NULL, 0, NULL, 0, "Limits (one fresh cgroup per run):"},
    {0},
};
static const struct cli_option memory_option[] = {
    {"memory", 0, "SIZE", OPT_MEMORY,
     "memory limit, swap off (512Mi, 1.5GiB; M = 10^6, Mi = 2^20)"},
    {0},
};
static const struct cli_option cpus_option[] = {
    {"cpus", 0, "X", OPT_CPUS, "CPU quota in cores, e.g. 0.5"},
    {0},
};
static const struct cli_option limits_section[] = {
    {"cpuset", 0, "LIST", OPT_CPUSET, "allowed CPUs, e.g. 0-1,3"},
    {"pids", 0, "N", OPT_PIDS, "max tasks"},
    {"cgroup-parent", 0, "PATH", OPT_CGROUP_PARENT,
     "create the run cgroups below this cgroup (e.g. /coldstart,\n"
     "made when missing); default: chosen as docs/cgroups.md says"},
    {"seccomp", 0, "default|none|FILE", OPT_SECCOMP,
     "syscall policy (default: deny mount, bpf, ptrace,\n"
     "...; none: no filter; FILE: an OCI/Docker seccomp profile)"},
    {0},
};

static const struct cli_option isolation_section[] = {
    {NULL, 0, NULL, 0, "Isolation (docs/sandbox.md):"},
    {"net", 0, "host|loopback|none", OPT_NET,
     "the host's network, a private one with only lo, or none"},
    {"private-tmp", 0, NULL, OPT_PRIVATE_TMP, "a private, empty /tmp"},
    {"user", 0, "UID[:GID]", OPT_USER, "run the target as this user"},
    {"rlimit", 0, "NAME=VALUE", OPT_RLIMIT, "e.g. NOFILE=1024, CORE=0, NPROC=256:512 (repeatable)"},
    {"clean-env", 0, NULL, OPT_CLEAN_ENV,
     "only PATH, HOME, LANG, PORT and --env, not our environment"},
    {"sandbox", 0, "strict", OPT_SANDBOX,
     "loopback network, own PID namespace and /proc, private\n"
     "mounts, read-only cgroupfs, Docker's default capabilities,\n"
     "private /tmp, default seccomp"},
    {0},
};

static const struct cli_option target_section[] = {
    {NULL, 0, NULL, 0, "Target:"},
    {"env", 0, "K=V", OPT_ENV, "set a variable in the target (repeatable; inherits the rest)"},
    {"cwd", 0, "DIR", OPT_CWD, "working directory of the target"},
    {"image", 0, "DIR|TRANSPORT:PATH[:REF]", OPT_IMAGE,
     "a bundled image (images/NAME) instead of a command, or a\n"
     "container image: oci:DIR, oci-archive:FILE, docker-archive:FILE\n"
     "(docs/container-images.md; `-- ARG...` then replaces its Cmd)"},
    {"variant", 0, "NAME", OPT_VARIANT, "one of the image's variants (env or command overrides)"},
    {"name", 0, "NAME", OPT_NAME, "the target's name in reports"},
    {0},
};

static const struct cli_option container_section[] = {
    {NULL, 0, NULL, 0, "Container images (--image oci:..., docs/container-images.md):"},
    {"entrypoint", 0, "PATH", OPT_ENTRYPOINT,
     "replaces the image's Entrypoint (and drops its Cmd)"},
    {"image-cache", 0, "DIR", OPT_IMAGE_CACHE,
     "extracted layers by diff_id (default $XDG_CACHE_HOME/coldstart,\n"
     "else ~/.cache/coldstart; a filesystem that holds overlay whiteouts)"},
    {"extract", 0, "warm|cold", OPT_EXTRACT,
     "warm: layers from the cache (default); cold: extracted afresh\n"
     "in every run, timed as the `extract` milestone"},
    {"runtime", 0, "builtin|crun", OPT_RUNTIME,
     "how the container is made: builtin (our namespaces, overlay,\n"
     "pivot_root; default) or crun, run in the run's cgroup (runc\n"
     "is refused: it puts the container outside the run's cgroup)"},
    {0},
};

static const struct cli_option output_section[] = {
    {NULL, 0, NULL, 0, "Output:"},
    {"json", 0, "F", OPT_JSON, "write the JSON report (- for stdout)"},
    {"md", 0, "F", OPT_MD, "the report as Markdown"},
    {"html", 0, "F", OPT_HTML, "the report as HTML with charts"},
    {"csv", 0, "F", OPT_CSV, "the report as CSV (a row per run)"},
    {"junit", 0, "F", OPT_JUNIT, "the report as JUnit XML"},
    {"progress", 0, NULL, OPT_PROGRESS, "progress bar even when stderr is not a terminal"},
    {"no-progress", 0, NULL, OPT_NO_PROGRESS, "no progress bar"},
    {"github-benchmark", 0, "F", OPT_GITHUB_BENCHMARK,
     "github-action-benchmark JSON (customSmallerIsBetter)"},
    {0},
};

static const struct cli_option gates_section[] = {
    {NULL, 0, NULL, 0, "CI gates:"},
    {"budget", 0, "EXPR", OPT_BUDGET,
     "METRIC.STAT OP VALUE, e.g. ready.p95<=300ms,\n"
     "rss_ready.p50<=64Mi; repeatable; exit 3 when one is missed"},
    {"budgets", 0, "FILE", OPT_BUDGETS, "one budget per line (# comments)"},
    {"quiet", 'q', NULL, OPT_QUIET, "no progress output"},
    {0},
};

static const struct cli_option suite_section[] = {
    {NULL, 0, NULL, 0, "Suite:"},
    {"reference", 0, "NAME", OPT_REFERENCE, "image the ratios are relative to (default native-c)"},
    {"oci", 0, NULL, OPT_OCI,
     "run the bundled images as OCI container images (packed as\n"
     "`coldstart images build --oci` packs them; adds the columns\n"
     "extract, rootfs, image size and image read)"},
    {"variants", 0, NULL, OPT_VARIANTS,
     "run every variant of each image too, as IMAGE:VARIANT beside\n"
     "IMAGE (coldstart images list shows them)"},
    {0},
};

static const struct cli_option size_section[] = {
    {NULL, 0, NULL, 0, "Sizing:"},
    {"min", 0, "SIZE", OPT_MIN, "lower end of the search (default 16Mi)"},
    {"max", 0, "SIZE", OPT_MAX, "upper end (default 4 x the unconstrained peak)"},
    {"precision", 0, "SIZE", OPT_PRECISION, "stop when the bracket is this narrow (default 4Mi)"},
    {"attempts", 0, "N", OPT_ATTEMPTS,
     "tries per step before it counts as failed (default 2); a\n"
     "step that was only slow is judged by the median of up to\n"
     "max(N, 3) tries"},
    {"baseline-runs", 0, "N", OPT_BASELINE_RUNS,
     "unconstrained runs first; the thresholds are their\n"
     "medians, the peak their largest (default 3)"},
    {"margin", 0, "PCT", OPT_MARGIN, "added to the smallest passing limit (default 25%)"},
    {"slowdown", 0, "X", OPT_SLOWDOWN,
     "a step passes only if ready within X times the\n"
     "unconstrained start, + 10 ms (default 2)"},
    {"max-p99", 0, "X", OPT_MAX_P99,
     "with --load: a step passes only if its p99 is within X\n"
     "times the unconstrained run's (default 2)"},
    {"min-rps", 0, "F", OPT_MIN_RPS,
     "with --load: a step passes only if it served at least F times\n"
     "the unconstrained run's requests/s (default 0.5): a limit\n"
     "under which the server answers nothing is not a pass"},
    {0},
};

static const struct cli_option sweep_section[] = {
    {NULL, 0, NULL, 0, "Sweep (one of):"},
    {"cpus", 0, "LIST", OPT_SWEEP_CPUS, "e.g. 0.25,0.5,1,2"},
    {"memory", 0, "LIST", OPT_SWEEP_MEMORY, "e.g. 128Mi,256Mi,512Mi"},
    {"burst", 0, "LIST", OPT_SWEEP_BURST,
     "instances started at once, e.g. 1,2,4,8 (docs/burst.md)"},
    {0},
};

#define SHARED_TAIL                                                                                \
    isolation_section, target_section, container_section, output_section, gates_section, NULL

static const struct cli_option *const run_sections[] = {
    runs_section,  load_section, burst_section,  profile_section, limits_heading,
    memory_option, cpus_option,  limits_section, SHARED_TAIL};
static const struct cli_option *const suite_sections[] = {
    suite_section,  runs_section,  load_section, burst_section,  profile_section,
    limits_heading, memory_option, cpus_option,  limits_section, SHARED_TAIL};
/* size finds the memory limit itself: no --memory. */
static const struct cli_option *const size_sections[] = {
    size_section, runs_section,   load_section, limits_heading,
    cpus_option,  limits_section, SHARED_TAIL};
/* sweep takes --cpus and --memory as lists. */
static const struct cli_option *const sweep_sections[] = {
    sweep_section,  runs_section,   load_section, sweep_burst_section,
    limits_heading, limits_section, SHARED_TAIL};

#define UNITS_FOOTER                                                                               \
    "Sizes: B K M G T (powers of 1000), Ki Mi Gi Ti (powers of 1024).\n"                           \
    "Durations: us, ms, s, m.\n"                                                                   \
    "Exit codes: 0 ok, 1 a target failed, 2 bad usage or input, 3 a budget exceeded,\n"            \
    "128+N interrupted by signal N (the report of what was measured is still written)."

static const struct cli_command_doc measuring_docs[CLI_N_MEASURING] = {
    [CLI_RUN] = {.name = "run",
                 .synopsis = "coldstart run [OPTIONS] (--image DIR | -- CMD [ARG...])",
                 .summary = "N cold starts of one command or image",
                 .description =
                     "Starts CMD N times, each a cold start in a fresh cgroup, and reports the\n"
                     "time from spawn to exec, listen, first byte and ready, with memory and CPU.\n"
                     "\n"
                     "Example: coldstart run --ready 'http://127.0.0.1:{port}/' -n 10 -- node "
                     "server.js",
                 .sections = run_sections,
                 .footer = UNITS_FOOTER},
    [CLI_SUITE] = {.name = "suite",
                   .synopsis = "coldstart suite [OPTIONS] [IMAGE...]",
                   .summary = "the main job: compare the bundled images",
                   .description =
                       "The main job: builds the bundled images (all whose toolchain is present, "
                       "or\n"
                       "the named ones), profiles each under the same limits with the runs\n"
                       "interleaved round robin, prints the comparison table and writes\n"
                       "coldstart-report/report.{json,md,html} unless --json/--md/--html are "
                       "given.\n"
                       "\n"
                       "Suite defaults: --cpus 1 --memory 512Mi --requests 10 -n 10 -w 1.\n"
                       "--variant NAME runs this variant of every image that has it,\n"
                       "--variants every image and each of its variants (IMAGE:VARIANT);\n"
                       "--cache both runs every image warm and cold (NAME and NAME@cold).",
                   .sections = suite_sections,
                   .footer = UNITS_FOOTER},
    [CLI_SIZE] = {.name = "size",
                  .synopsis = "coldstart size [OPTIONS] (--image DIR | -- CMD [ARG...])",
                  .summary = "smallest memory limit that serves",
                  .description =
                      "The smallest memory limit under which the target still starts and "
                      "serves:\n"
                      "an unconstrained run, then a bisection on the limit, each step a fresh "
                      "cold\n"
                      "start; then a recommended limit with a margin (docs/sizing.md).\n"
                      "\n"
                      "Size defaults: --requests 20 --cache cold (a fresh container's file pages\n"
                      "count against its limit).",
                  .sections = size_sections,
                  .footer = UNITS_FOOTER,
                  .refused =
                      (const struct cli_refusal[]){
                          {"memory", "size finds the memory limit itself: drop --memory (--min and "
                                     "--max bound the search)"},
                          {NULL, NULL}}},
    [CLI_SWEEP] = {.name = "sweep",
                   .synopsis =
                       "coldstart sweep [OPTIONS] (--cpus LIST | --memory LIST | --burst LIST) "
                       "(--image DIR | -- CMD [ARG...])",
                   .summary = "start-up across values of one limit",
                   .description =
                       "One target per value of the limit (NAME@cpus=0.5), the runs interleaved\n"
                       "round robin: how start-up scales with a fractional CPU or with memory.",
                   .sections = sweep_sections,
                   .footer = UNITS_FOOTER},
};

const struct cli_command_doc *cli_command_doc(enum cli_command cmd)
{
    return &measuring_docs[cmd];
}

/* ---- defaults ---- */

void cli_options_defaults(enum cli_command cmd, struct cli_options *o)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->runs = 10;
    o->warmup = 1;
    o->timeout_us = 30000000;
    o->requests = 1;
    o->ok_status_min = 200;
    o->ok_status_max = 299;
    for (int st = 502; st <= 504; st++)
        o->retry_status[(st - 100) / 64] |= 1ull << ((st - 100) % 64);
    o->stop_timeout_us = 2000000;
    o->max_failures = 3;
    o->interval_us = 1000;
    o->cache = "warm";
    o->seccomp = "default";
    o->net = "host";
    o->size_min_bytes = 16ull << 20;
    o->size_precision_bytes = 4ull << 20;
    o->attempts = 2;
    o->baseline_runs = 3;
    o->margin = 0.25;
    o->slowdown = 2.0;
    o->max_p99 = 2.0;
    o->min_rps = 0.5;
    if (cmd == CLI_SUITE) {
        o->memory_bytes = 512ull << 20; /* a typical serverless size */
        o->cpus = 1.0;
        o->requests = 10; /* enough for a warm-request median */
    } else if (cmd == CLI_SIZE) {
        o->requests = 20;
        /* A fresh container reads its files into a page cache charged to
         * itself; with a warm cache they stay charged to whoever read them
         * first, and the limit found would be too small. */
        o->cache = "cold";
    }
}

void cli_options_free(struct cli_options *o)
{
    free(o->env);
    o->env = NULL;
    free(o->budgets);
    o->budgets = NULL;
}

/* ---- values ---- */

static int bad(cs_error *err, const char *flag, const char *value, const cs_error *why)
{
    return cs_error_input(err, "%s %s: %s", flag, value, cs_error_text(why));
}

/* NAME=VALUE or NAME=SOFT:HARD, e.g. NOFILE=1024, CORE=0, AS=unlimited. */
static int rlimit_resource(const char *arg, const char *eq, int *ret, cs_error *err)
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
    char name[32];
    size_t len = (size_t)(eq - arg);
    if (len >= sizeof name)
        return cs_error_input(err, "--rlimit %s: expected NAME=VALUE, e.g. NOFILE=1024", arg);
    for (size_t i = 0; i < len; i++)
        name[i] = (char)toupper((unsigned char)arg[i]);
    name[len] = '\0';
    const char *n = strncmp(name, "RLIMIT_", 7) == 0 ? name + 7 : name;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(n, names[i].name) == 0) {
            *ret = names[i].resource;
            return 0;
        }
    return cs_error_input(err,
                          "--rlimit %s: unknown limit `%s` (NOFILE, NPROC, AS, CORE, STACK, "
                          "CPU, ...)",
                          arg, name);
}

static int parse_rlimit(const char *arg, struct cli_options *o, cs_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq)
        return cs_error_input(err, "--rlimit %s: expected NAME=VALUE, e.g. NOFILE=1024", arg);
    int resource = -1;
    if (rlimit_resource(arg, eq, &resource, err) < 0)
        return -1;
    uint64_t vals[2];
    const char *p = eq + 1;
    for (int k = 0; k < 2; k++) {
        char tok[64];
        size_t tl = strcspn(p, ":");
        if (tl == 0 || tl >= sizeof tok)
            return cs_error_input(err, "--rlimit %s: expected a number or `unlimited`", arg);
        memcpy(tok, p, tl);
        tok[tl] = '\0';
        char *end;
        if (strcmp(tok, "unlimited") == 0 || strcmp(tok, "infinity") == 0) {
            vals[k] = RLIM_INFINITY;
        } else {
            errno = 0;
            vals[k] = strtoull(tok, &end, 10);
            if (errno || *end || !isdigit((unsigned char)tok[0]))
                return cs_error_input(err, "--rlimit %s: `%s` is not a number", arg, tok);
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
        return cs_error_input(err, "--rlimit %s: the soft limit is above the hard one", arg);
    if (o->n_rlimits == sizeof o->rlimits / sizeof o->rlimits[0])
        return cs_error_input(err, "--rlimit: at most 16");
    o->rlimits[o->n_rlimits++] = (struct cli_rlimit){resource, vals[0], vals[1]};
    return 0;
}

/* "0.25,0.5,1", "128Mi,256Mi" or "1,2,4,8": every value parsed, at most 64. */
static int parse_sweep_list(const char *flag, const char *arg, struct cli_options *o, cs_error *err)
{
    if (o->sweep_kind && strcmp(o->sweep_kind, flag + 2) != 0)
        return cs_error_input(err, "sweep one thing at a time: --cpus, --memory or --burst");
    o->sweep_kind = flag + 2;
    o->n_sweep = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (o->n_sweep == sizeof o->sweep_values / sizeof o->sweep_values[0])
            return cs_error_input(err, "%s: at most 64 values", flag);
        cs_error why;
        if (!strcmp(flag, "--cpus")) {
            if (prof_parse_cpus(tok, &o->sweep_values[o->n_sweep], &why) < 0)
                return bad(err, flag, arg, &why);
        } else if (!strcmp(flag, "--burst")) {
            uint64_t k;
            if (prof_parse_uint(tok, 1, PROF_BURST_MAX, &k, &why) < 0)
                return cs_error_input(err, "--burst %s: %s (instances at once)", arg,
                                      cs_error_text(&why));
            o->sweep_values[o->n_sweep] = (double)k;
        } else {
            uint64_t bytes;
            if (prof_parse_size(tok, &bytes, &why) < 0)
                return bad(err, flag, arg, &why);
            if (bytes < 1048576)
                return cs_error_input(err, "%s %s: %s is below 1 MiB%s%s%s", flag, arg, tok,
                                      strspn(tok, "0123456789") == strlen(tok) ? " (did you mean "
                                                                               : "",
                                      strspn(tok, "0123456789") == strlen(tok) ? tok : "",
                                      strspn(tok, "0123456789") == strlen(tok) ? "Mi?)" : "");
            o->sweep_values[o->n_sweep] = (double)bytes;
        }
        /* Each value is one point (one target, named by it): twice is two
         * targets of one name. */
        for (size_t k = 0; k < o->n_sweep; k++)
            if (o->sweep_values[k] == o->sweep_values[o->n_sweep])
                return cs_error_input(err, "%s %s: %s is given twice (each value is one point)",
                                      flag, arg, tok);
        o->n_sweep++;
    }
    if (o->n_sweep == 0)
        return cs_error_input(err, "%s needs a comma-separated list, e.g. %s", flag,
                              !strcmp(flag, "--cpus")    ? "0.25,0.5,1,2"
                              : !strcmp(flag, "--burst") ? "1,2,4,8"
                                                         : "128Mi,256Mi,512Mi");
    return 0;
}

/* `S` or `LO-HI`, HTTP statuses within 100-599: 0, or -1 when it is not one. */
static int status_range(const char *tok, long *ret_lo, long *ret_hi)
{
    char *end;
    long lo = strtol(tok, &end, 10), hi = lo;
    if (*end == '-')
        hi = strtol(end + 1, &end, 10);
    if (end == tok || *end || lo < 100 || hi > 599 || lo > hi)
        return -1;
    *ret_lo = lo;
    *ret_hi = hi;
    return 0;
}

static int parse_status_range(const char *arg, struct cli_options *o, cs_error *err)
{
    long lo, hi;
    if (status_range(arg, &lo, &hi) < 0)
        return cs_error_input(err,
                              "--ready-status %s: a status or a range of them within 100-599, "
                              "e.g. 200-399",
                              arg);
    o->ok_status_min = (int)lo;
    o->ok_status_max = (int)hi;
    return 0;
}

/* --ready-retry-status 404,500-504 (or none): a bit per status. */
static int parse_retry_status(const char *arg, struct cli_options *o, cs_error *err)
{
    memset(o->retry_status, 0, sizeof o->retry_status);
    if (strcmp(arg, "none") == 0)
        return 0;
    char buf[256];
    if ((size_t)snprintf(buf, sizeof buf, "%s", arg) >= sizeof buf)
        return cs_error_input(err, "--ready-retry-status: too long");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        long lo, hi;
        if (status_range(tok, &lo, &hi) < 0)
            return cs_error_input(err,
                                  "--ready-retry-status %s: `%s` is not a status or a range of "
                                  "them within 100-599 (e.g. 404,500-504, or none)",
                                  arg, tok);
        for (long st = lo; st <= hi; st++)
            o->retry_status[(st - 100) / 64] |= 1ull << ((st - 100) % 64);
    }
    return 0;
}

static int append(void *array_p, size_t *n, size_t elem, const void *value, cs_error *err)
{
    void **array = array_p;
    void *grown = realloc(*array, (*n + 1) * elem);
    if (!grown)
        return cs_error_set(err, ENOMEM, "out of memory");
    memcpy((char *)grown + *n * elem, value, elem);
    *array = grown;
    (*n)++;
    return 0;
}

static int parse_uint_opt(const char *flag, const char *arg, uint64_t min, uint64_t max,
                          unsigned *ret, cs_error *err)
{
    cs_error why;
    uint64_t v = 0;
    if (prof_parse_uint(arg, min, max, &v, &why) < 0)
        return bad(err, flag, arg, &why);
    *ret = (unsigned)v;
    return 0;
}

static int parse_duration_opt(const char *flag, const char *arg, uint64_t *ret, cs_error *err)
{
    cs_error why;
    if (prof_parse_duration(arg, ret, &why) < 0)
        return bad(err, flag, arg, &why);
    return 0;
}

static int parse_size_opt(const char *flag, const char *arg, uint64_t *ret, cs_error *err)
{
    cs_error why;
    if (prof_parse_size(arg, ret, &why) < 0)
        return bad(err, flag, arg, &why);
    /* A bare number is bytes; `--memory 512` almost always meant 512Mi. */
    bool bare = strspn(arg, "0123456789") == strlen(arg);
    if (*ret < 1048576)
        return cs_error_input(err, "%s %s: %s%s%s%s", flag, arg,
                              strcmp(flag, "--memory") == 0 ? "below 1 MiB nothing starts"
                                                            : "at least 1 MiB",
                              bare ? " (a number alone is bytes: did you mean " : "",
                              bare ? arg : "", bare ? "Mi?)" : "");
    return 0;
}

/* --profile cpu[:HZ]: the one kind of profile there is. */
static int parse_profile(const char *arg, struct cli_options *o, cs_error *err)
{
    if (strncmp(arg, "cpu", 3) != 0 || (arg[3] && arg[3] != ':'))
        return cs_error_input(err, "--profile %s: expected cpu or cpu:HZ, e.g. cpu:999", arg);
    uint64_t hz = PROF_PROFILE_HZ_DEFAULT;
    cs_error why;
    if (arg[3] == ':' && prof_parse_uint(arg + 4, 1, PROF_PROFILE_HZ_MAX, &hz, &why) < 0)
        return cs_error_input(err, "--profile %s: %s: %s (samples per second, 1 to %d)", arg,
                              arg + 4, cs_error_text(&why), PROF_PROFILE_HZ_MAX);
    o->profile_hz = (unsigned)hz;
    return 0;
}

/* --load CONNS:DURATION, e.g. 64:5s. */
static int parse_load(const char *arg, struct cli_options *o, cs_error *err)
{
    const char *colon = strchr(arg, ':');
    char conns[16];
    size_t n = colon ? (size_t)(colon - arg) : 0;
    if (!colon || n == 0 || n >= sizeof conns)
        return cs_error_input(err, "--load %s: expected CONNECTIONS:DURATION, e.g. 64:5s", arg);
    memcpy(conns, arg, n);
    conns[n] = '\0';
    cs_error why;
    uint64_t v;
    if (prof_parse_uint(conns, 1, PROF_LOAD_MAX_CONNS, &v, &why) < 0)
        return cs_error_input(err, "--load %s: connections: %s", arg, cs_error_text(&why));
    o->load_connections = (unsigned)v;
    if (prof_parse_duration(colon + 1, &o->load_duration_us, &why) < 0)
        return cs_error_input(err, "--load %s: duration: %s", arg, cs_error_text(&why));
    if (o->load_duration_us < 100000 || o->load_duration_us > 3600000000ull)
        return cs_error_input(err, "--load %s: the duration must be between 100ms and 1h", arg);
    return 0;
}

static int parse_load_value(int key, const char *arg, struct cli_options *o, cs_error *err)
{
    switch (key) {
    case OPT_LOAD:
        return parse_load(arg, o, err);
    case OPT_RATE: {
        char *end;
        errno = 0;
        double r = strtod(arg, &end);
        if (end == arg || *end || errno || !(r >= 1) || r > 10e6)
            return cs_error_input(
                err, "--rate %s: requests per second, a number from 1 to 10000000", arg);
        o->load_rate = r;
        return 0;
    }
    case OPT_LOAD_CMD:
        if (!arg[0] || strspn(arg, " \t") == strlen(arg))
            return cs_error_input(err, "--load-cmd: the command is empty");
        o->load_command = arg;
        return 0;
    case OPT_LOAD_PATH:
        if (arg[0] != '/' || strpbrk(arg, " \r\n\t"))
            return cs_error_input(err, "--load-path %s: a path starting with / without spaces",
                                  arg);
        o->load_path = arg;
        return 0;
    case OPT_MAX_P99: {
        char *end;
        errno = 0;
        double x = strtod(arg, &end);
        if (end == arg || *end || errno || !(x >= 1) || x > 1000)
            return cs_error_input(err, "--max-p99 %s: a factor from 1 to 1000, e.g. 2", arg);
        o->max_p99 = x;
        return 0;
    }
    case OPT_MIN_RPS: {
        char *end;
        errno = 0;
        double x = strtod(arg, &end);
        if (end == arg || *end || errno || !(x >= 0) || x > 1)
            return cs_error_input(err, "--min-rps %s: a fraction from 0 to 1, e.g. 0.5", arg);
        o->min_rps = x;
        return 0;
    }
    }
    return 1; /* not a load option */
}

/* Options of the run section: how each run is started, probed and stopped. */
static int parse_run_value(int key, const char *arg, struct cli_options *o, cs_error *err)
{
    switch (key) {
    case OPT_RUNS:
        return parse_uint_opt("--runs", arg, 1, 100000, &o->runs, err);
    case OPT_WARMUP:
        return parse_uint_opt("--warmup", arg, 0, 100000, &o->warmup, err);
    case OPT_READY:
        o->ready = arg; /* checked by cli_resolve: a host name is looked up */
        return 0;
    case OPT_PORT:
        if (strcmp(arg, "auto") == 0) {
            o->port = 0;
            return 0;
        }
        return parse_uint_opt("--port", arg, 1, 65535, &o->port, err);
    case OPT_TIMEOUT:
        if (parse_duration_opt("--timeout", arg, &o->timeout_us, err) < 0)
            return -1;
        if (o->timeout_us == 0)
            return cs_error_input(err, "--timeout %s: must be more than 0", arg);
        return 0;
    case OPT_REQUESTS:
        o->requests_given = true;
        return parse_uint_opt("--requests", arg, 0, 1000000, &o->requests, err);
    case OPT_READY_SEND:
        o->ready_send = arg;
        return 0;
    case OPT_READY_EXPECT:
        o->ready_expect = arg;
        return 0;
    case OPT_REQUEST_URL:
        if (strncmp(arg, "http://", 7) != 0)
            return cs_error_input(err, "--request-url %s: expected http://HOST:PORT/PATH", arg);
        o->request_url = arg;
        return 0;
    case OPT_READY_STATUS:
        return parse_status_range(arg, o, err);
    case OPT_READY_RETRY_STATUS:
        return parse_retry_status(arg, o, err);
    case OPT_STOP_SIGNAL: {
        cs_error why;
        if (prof_parse_signal(arg, &o->stop_signal, &why) < 0)
            return bad(err, "--stop-signal", arg, &why);
        return 0;
    }
    case OPT_STOP_TIMEOUT:
        if (parse_duration_opt("--stop-timeout", arg, &o->stop_timeout_us, err) < 0)
            return -1;
        if (o->stop_timeout_us > 600000000)
            return cs_error_input(err, "--stop-timeout %s: at most 10m", arg);
        return 0;
    case OPT_MAX_FAILURES:
        return parse_uint_opt("--max-failures", arg, 0, 100000, &o->max_failures, err);
    case OPT_INTERVAL:
        if (parse_duration_opt("--interval", arg, &o->interval_us, err) < 0)
            return -1;
        if (o->interval_us != 0 && o->interval_us < 100)
            return cs_error_input(err, "--interval %s: the shortest interval is 100us", arg);
        return 0;
    case OPT_CACHE:
        if (strcmp(arg, "warm") != 0 && strcmp(arg, "cold") != 0 && strcmp(arg, "drop") != 0 &&
            (strcmp(arg, "both") != 0 || o->cmd != CLI_SUITE))
            return cs_error_input(err, "--cache %s: use warm, cold or drop%s", arg,
                                  o->cmd == CLI_SUITE ? " (or both)" : "");
        o->cache = arg;
        return 0;
    }
    return 1; /* not a run option */
}

/* Limits and isolation: the cgroup and the sandbox of each run. */
static int parse_sandbox_value(int key, const char *arg, struct cli_options *o, cs_error *err)
{
    cs_error why;
    switch (key) {
    case OPT_MEMORY:
        return parse_size_opt("--memory", arg, &o->memory_bytes, err);
    case OPT_CPUS:
        if (prof_parse_cpus(arg, &o->cpus, &why) < 0)
            return bad(err, "--cpus", arg, &why);
        return 0;
    case OPT_CPUSET:
        if (prof_parse_cpulist(arg, NULL, &why) < 0)
            return bad(err, "--cpuset", arg, &why);
        o->cpuset = arg;
        return 0;
    case OPT_PIDS: {
        unsigned v = 0;
        if (parse_uint_opt("--pids", arg, 1, 4194304, &v, err) < 0)
            return -1;
        o->pids = v;
        return 0;
    }
    case OPT_CGROUP_PARENT:
        if (arg[0] != '/')
            return cs_error_input(err,
                                  "--cgroup-parent %s: give a cgroup path from the hierarchy's "
                                  "root, e.g. /coldstart",
                                  arg);
        o->cgroup_parent = arg;
        return 0;
    case OPT_SECCOMP:
        o->seccomp = arg; /* a profile file is read by cli_resolve */
        return 0;
    case OPT_NET:
        if (strcmp(arg, "host") != 0 && strcmp(arg, "loopback") != 0 && strcmp(arg, "none") != 0)
            return cs_error_input(err, "--net %s: use host, loopback or none", arg);
        o->net = arg;
        o->net_given = true;
        return 0;
    case OPT_PRIVATE_TMP:
        o->private_tmp = true;
        return 0;
    case OPT_CLEAN_ENV:
        o->clean_env = true;
        return 0;
    case OPT_SANDBOX:
        if (strcmp(arg, "strict") != 0)
            return cs_error_input(err, "--sandbox %s: the one level is `strict`", arg);
        o->strict = true;
        return 0;
    case OPT_USER:
        if (!*arg || *arg == ':')
            return cs_error_input(err, "--user %s: expected UID[:GID] or NAME[:GROUP]", arg);
        o->user = arg; /* names are looked up by cli_resolve */
        return 0;
    case OPT_RLIMIT:
        return parse_rlimit(arg, o, err);
    }
    return 1;
}

/* What runs, where its results go, and the budgets it must meet. */
static int parse_target_value(int key, const char *arg, struct cli_options *o, cs_error *err)
{
    const char **out = NULL;
    switch (key) {
    case OPT_ENV: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg)
            return cs_error_input(err, "--env %s: expected K=V", arg);
        return append(&o->env, &o->n_env, sizeof *o->env, &arg, err);
    }
    case OPT_BUDGET:
    case OPT_BUDGETS: {
        struct cli_budget_arg b = {key == OPT_BUDGETS, arg};
        return append(&o->budgets, &o->n_budgets, sizeof b, &b, err);
    }
    case OPT_QUIET:
        o->quiet = true;
        return 0;
    case OPT_PROGRESS:
        o->progress = true;
        return 0;
    case OPT_NO_PROGRESS:
        o->no_progress = true;
        return 0;
    case OPT_CWD:
        out = &o->cwd;
        break;
    case OPT_JSON:
        out = &o->json;
        break;
    case OPT_MD:
        out = &o->md;
        break;
    case OPT_HTML:
        out = &o->html;
        break;
    case OPT_CSV:
        out = &o->csv;
        break;
    case OPT_JUNIT:
        out = &o->junit;
        break;
    case OPT_GITHUB_BENCHMARK:
        out = &o->github_benchmark;
        break;
    case OPT_IMAGE:
        out = &o->image;
        break;
    case OPT_VARIANT:
        out = &o->variant;
        break;
    case OPT_NAME:
        out = &o->name;
        break;
    case OPT_REFERENCE:
        out = &o->reference;
        break;
    case OPT_ENTRYPOINT:
        if (!*arg)
            return cs_error_input(err, "--entrypoint: give a path, e.g. /bin/sh");
        out = &o->entrypoint;
        break;
    case OPT_IMAGE_CACHE:
        if (arg[0] != '/')
            return cs_error_input(err, "--image-cache %s: give an absolute path", arg);
        out = &o->image_cache;
        break;
    case OPT_OCI:
        o->suite_oci = true;
        return 0;
    case OPT_VARIANTS:
        o->all_variants = true;
        return 0;
    case OPT_EXTRACT:
        if (strcmp(arg, "warm") != 0 && strcmp(arg, "cold") != 0)
            return cs_error_input(err, "--extract %s: use warm or cold", arg);
        o->extract_cold = strcmp(arg, "cold") == 0;
        return 0;
    case OPT_RUNTIME:
        if (strcmp(arg, "builtin") != 0 && strcmp(arg, "crun") != 0 && strcmp(arg, "runc") != 0)
            return cs_error_input(err, "--runtime %s: use builtin, crun or runc", arg);
        out = &o->runtime;
        break;
    default:
        return 1;
    }
    *out = arg;
    return 0;
}

/* The options of one command: size's search, sweep's lists. */
static int parse_command_value(int key, const char *arg, struct cli_options *o, cs_error *err)
{
    switch (key) {
    case OPT_MIN:
        return parse_size_opt("--min", arg, &o->size_min_bytes, err);
    case OPT_MAX:
        return parse_size_opt("--max", arg, &o->size_max_bytes, err);
    case OPT_PRECISION:
        return parse_size_opt("--precision", arg, &o->size_precision_bytes, err);
    case OPT_ATTEMPTS:
        return parse_uint_opt("--attempts", arg, 1, 100, &o->attempts, err);
    case OPT_BASELINE_RUNS:
        return parse_uint_opt("--baseline-runs", arg, 1, 100, &o->baseline_runs, err);
    case OPT_MARGIN: {
        char *end;
        double m = strtod(arg, &end);
        if (end == arg || (*end && strcmp(end, "%") != 0) || m < 0 || m > 1000)
            return cs_error_input(err, "--margin %s: a percentage, e.g. 25%%", arg);
        o->margin = m / 100.0;
        return 0;
    }
    case OPT_SLOWDOWN: {
        char *end;
        double x = strtod(arg, &end);
        if (end == arg || (*end && strcmp(end, "x") != 0) || !(x >= 1 && x <= 1000))
            return cs_error_input(err, "--slowdown %s: a factor of at least 1, e.g. 2", arg);
        o->slowdown = x;
        return 0;
    }
    case OPT_SWEEP_CPUS:
        return parse_sweep_list("--cpus", arg, o, err);
    case OPT_SWEEP_MEMORY:
        return parse_sweep_list("--memory", arg, o, err);
    case OPT_SWEEP_BURST:
        return parse_sweep_list("--burst", arg, o, err);
    case OPT_BURST:
        return parse_uint_opt("--burst", arg, 1, PROF_BURST_MAX, &o->burst, err);
    case OPT_BURST_MEMORY:
        return parse_size_opt("--burst-memory", arg, &o->burst_memory_bytes, err);
    case OPT_BURST_PIDS:
        return parse_uint_opt("--burst-pids", arg, 1, 4194304, &o->burst_pids, err);
    case OPT_PROFILE:
        return parse_profile(arg, o, err);
    case OPT_PROFILE_MAPS:
        o->profile_maps = true;
        return 0;
    case OPT_PROFILE_DIR:
        if (!*arg)
            return cs_error_input(err, "--profile-dir: an empty path");
        o->profile_dir = arg;
        return 0;
    }
    return 1; /* not a command option */
}

static int parse_value(int key, const char *arg, void *ctx, cs_error *err)
{
    struct cli_options *o = ctx;
    int rc = parse_run_value(key, arg, o, err);
    if (rc == 1)
        rc = parse_sandbox_value(key, arg, o, err);
    if (rc == 1)
        rc = parse_target_value(key, arg, o, err);
    if (rc == 1)
        rc = parse_command_value(key, arg, o, err);
    if (rc == 1)
        rc = parse_load_value(key, arg, o, err);
    if (rc == 1)
        rc = cs_error_input(err, "unhandled option");
    return rc;
}

/* Everything after the options: `-- CMD ARGS` for run, size and sweep, image
 * names for suite. */
static int parse_operands(int argc, char **argv, struct cli_options *o, cs_error *err)
{
    const char *name = measuring_docs[o->cmd].name;
    int first = optind;
    bool dashdash = first > 1 && strcmp(argv[first - 1], "--") == 0;
    if (o->cmd == CLI_SUITE) {
        if (dashdash)
            return cs_error_input(err, "suite takes image names, not a command after `--` "
                                       "(coldstart run profiles one)");
        if (o->image)
            return cs_error_input(err, "suite takes image names, not --image or a command "
                                       "(coldstart run profiles one)");
        o->positional = argv + first;
        o->n_positional = (size_t)(argc - first);
        return 0;
    }
    if (first < argc && !dashdash)
        return cs_error_input(err,
                              "unexpected argument `%s`: put the target command after `--`, "
                              "e.g. coldstart %s -- %s",
                              argv[first], name, argv[first]);
    o->command = argv + first;
    o->n_command = (size_t)(argc - first);
    if (o->n_command == 0 && !o->image)
        return cs_error_input(err, "no target: give --image DIR or -- CMD [ARG...]");
    /* A container image takes `-- ARG...` as docker run does: they replace Cmd. */
    if (o->n_command > 0 && o->image && !prof_oci_is_ref(o->image))
        return cs_error_input(err, "give either --image or a command after --, not both");
    return 0;
}

/* The container options need a container image, and some options of a host
 * command mean nothing for one. */
static int check_container(const struct cli_options *o, cs_error *err)
{
    bool oci = (o->image && prof_oci_is_ref(o->image)) || o->suite_oci;
    if (o->suite_oci && (o->variant || o->all_variants))
        return cs_error_input(err,
                              "%s with --oci: a packed image runs its default "
                              "command (give the variant's --env instead)",
                              o->variant ? "--variant" : "--variants");
    if (o->variant && o->all_variants)
        return cs_error_input(err, "--variant NAME runs one variant of every image, --variants "
                                   "all of them: give one");
    const char *only_oci = o->entrypoint     ? "--entrypoint"
                           : o->image_cache  ? "--image-cache"
                           : o->extract_cold ? "--extract cold"
                           : o->runtime      ? "--runtime"
                                             : NULL;
    if (only_oci && !oci && o->cmd != CLI_SUITE)
        return cs_error_input(err,
                              "%s applies to a container image: add --image "
                              "oci:DIR (or oci-archive:FILE, docker-archive:FILE)",
                              only_oci);
    if (!oci)
        return 0;
    if (o->variant)
        return cs_error_input(err, "--variant selects a variant of a bundled image, not of a "
                                   "container image");
    if (o->private_tmp && !o->strict)
        return cs_error_input(err, "--private-tmp: a container's /tmp is already its own (its "
                                   "writable layer)");
    return 0;
}

/* --profile-dir says where a --profile goes: alone it is a mistake. */
static int check_profile(const struct cli_options *o, cs_error *err)
{
    if ((o->profile_dir || o->profile_maps) && !o->profile_hz)
        return cs_error_input(err, "%s: add --profile cpu",
                              o->profile_dir ? "--profile-dir is where --profile cpu writes"
                                             : "--profile-maps names the frames of a CPU profile");
    return 0;
}

/* --burst K (or sweep --burst LIST) and what it cannot be combined with. */
static int check_burst(const struct cli_options *o, cs_error *err)
{
    bool burst = o->burst || (o->sweep_kind && strcmp(o->sweep_kind, "burst") == 0);
    if (!burst && (o->burst_memory_bytes || o->burst_pids))
        return cs_error_input(err, "%s limits the cgroup of a burst: add --burst K",
                              o->burst_memory_bytes ? "--burst-memory" : "--burst-pids");
    if (!burst)
        return 0;
    if (o->load_connections || o->load_command)
        return cs_error_input(err,
                              "%s with --burst: the load is sent to one target; "
                              "profile a burst and its load apart",
                              o->load_command ? "--load-cmd" : "--load");
    if (o->extract_cold)
        return cs_error_input(err, "--extract cold with --burst: a node extracts an image once "
                                   "and starts its instances from it; use --extract warm (with "
                                   "--cache cold for a burst from a cold page cache)");
    return 0;
}

/* What no single value shows: options that contradict each other. */
static int check_combinations(const struct cli_options *o, cs_error *err)
{
    if (o->strict && strcmp(o->seccomp, "none") == 0)
        return cs_error_input(err, "--sandbox strict and --seccomp none contradict");
    bool network_probe =
        o->ready && (strncmp(o->ready, "http://", 7) == 0 || strncmp(o->ready, "tcp://", 6) == 0);
    if (strcmp(o->net, "none") == 0 && network_probe)
        return cs_error_input(err, "--net none leaves the target no network to be probed "
                                   "over: use --net loopback, or --ready exit or log:REGEX");
    if (o->request_url && o->ready && strcmp(o->ready, "exit") == 0)
        return cs_error_input(err, "--request-url with --ready exit: the target has exited when it "
                                   "is ready; there is nothing left to send requests to");
    if (o->load_command && o->load_connections)
        return cs_error_input(err, "--load and --load-cmd: give one load after ready, the "
                                   "built-in generator or a command of your own");
    if ((o->load_rate > 0 || o->load_path) && !o->load_connections)
        return cs_error_input(err, "%s needs --load CONNS:DURATION",
                              o->load_rate ? "--rate" : "--load-path");
    if (o->load_connections && o->ready && strncmp(o->ready, "http://", 7) != 0 && !o->request_url)
        return cs_error_input(err,
                              "--load sends HTTP requests: with --ready %s give --request-url "
                              "http://HOST:PORT/PATH",
                              o->ready);
    if (o->cmd == CLI_SWEEP && !o->sweep_kind)
        return cs_error_input(err, "sweep needs --cpus LIST, --memory LIST or --burst LIST");
    if (check_burst(o, err) < 0 || check_profile(o, err) < 0)
        return -1;
    if (o->cmd == CLI_SIZE && o->size_max_bytes && o->size_max_bytes <= o->size_min_bytes)
        return cs_error_input(err, "--max must be above --min");
    if (o->variant && !o->image && o->cmd != CLI_SUITE)
        return cs_error_input(err, "--variant selects a variant of an image: add --image DIR");
    return check_container(o, err);
}

int cli_parse(enum cli_command cmd, int argc, char **argv, struct cli_options *o, cs_error *err)
{
    /* suite takes image names among its options; run, size and sweep stop
     * at the first word that is not an option (the command belongs after --). */
    int rc =
        cli_getopt_each(&measuring_docs[cmd], cmd != CLI_SUITE, argc, argv, parse_value, o, err);
    if (rc != 0)
        return rc;
    if (parse_operands(argc, argv, o, err) < 0)
        return -1;
    return check_combinations(o, err);
}
