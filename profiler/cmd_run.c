/* coldstart run: N cold starts of one command or image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/commands.h"
#include "profiler/options.h"
#include "profiler/session.h"
#include "profiler/term.h"

/* "node server.js" as hyperfine names a command; long ones are cut. */
static void command_name(char *const *argv, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len + 1 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "", argv[i]);
    if (len >= 60 && cap > 60)
        strcpy(buf + 56, "...");
}

static void progress(const struct prof_options *o, const char *name, int i, int n, bool warm)
{
    if (o->quiet || o->no_progress || (!o->progress && !isatty(STDERR_FILENO)))
        return;
    fprintf(stderr, "\r\033[K%s: %s %d/%d", name, warm ? "warmup" : "run", i, n);
    fflush(stderr);
}

static void progress_done(const struct prof_options *o)
{
    if (o->quiet || o->no_progress || (!o->progress && !isatty(STDERR_FILENO)))
        return;
    fprintf(stderr, "\r\033[K");
}

int cmd_run(int argc, char **argv)
{
    struct prof_options o;
    prof_options_defaults(&o);
    cs_error err = {0};
    int rc = prof_options_parse(PROF_CMD_RUN, argc, argv, &o, &err);
    if (rc != 0) {
        prof_options_free(&o);
        return rc == 1 ? 0 : usage_error("run", err.msg);
    }
    if (o.image) {
        prof_options_free(&o);
        return usage_error("run", "--image needs the image catalog, which this build lacks");
    }
    char name[128];
    command_name(o.command, o.n_command, name, sizeof name);
    char **argvz = calloc(o.n_command + 1, sizeof *argvz);
    if (!argvz)
        return usage_error("run", "out of memory");
    memcpy(argvz, o.command, o.n_command * sizeof *argvz);
    struct prof_target_plan plan = {
        .name = o.name ? o.name : name,
        .argv = argvz,
        .env = o.env,
        .n_env = o.n_env,
        .cwd = o.cwd,
        .ready = o.ready ? o.ready : "exit",
        .size_on_disk_bytes = REP_NONE,
        .limits = &o.limits,
    };

    struct prof_session s;
    if (prof_session_open(&s, &o, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        prof_session_close(&s);
        free(argvz);
        prof_options_free(&o);
        return 1;
    }
    int exit_code = 0;
    struct rep_target *t = prof_session_add_target(&s, &plan);
    int total = (int)(o.warmup + o.runs);
    for (int i = 0; t && i < total; i++) {
        bool warm = i < (int)o.warmup;
        progress(&o, plan.name, warm ? i + 1 : i + 1 - (int)o.warmup,
                 warm ? (int)o.warmup : (int)o.runs, warm);
        rc = prof_session_run(&s, &plan, t, warm, warm ? i : i - (int)o.warmup, &err);
        if (rc == 1)
            break;
        if (rc < 0) {
            progress_done(&o);
            fprintf(stderr, "coldstart: run %d: %s\n", i, err.msg);
            break;
        }
    }
    progress_done(&o);
    if (prof_session_finish(&s, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        exit_code = 2;
    }
    if (t)
        prof_term_print_target(stdout, t);
    if (s.interrupted_by)
        fprintf(stderr, "coldstart: interrupted; the report holds the runs measured so far\n");
    if (!exit_code)
        exit_code = prof_session_exit_code(&s);
    prof_session_close(&s);
    free(argvz);
    prof_options_free(&o);
    return exit_code;
}
