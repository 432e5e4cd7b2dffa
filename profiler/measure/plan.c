#include "profiler/measure/plan.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/measure/ready.h"
#include "reports/report.h"

void prof_owned_plan_free(struct prof_owned_plan *p)
{
    free(p->argv);
    free(p->env);
    free(p->cwd);
    free(p->app_dir);
    free(p->interpreter);
    free(p->budgets);
    if (p->oci) {
        prof_oci_target_close(p->oci);
        free(p->oci);
    }
    memset(p, 0, sizeof *p);
}

/* Characters a POSIX shell takes literally in a word. */
static bool shell_safe(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-./:=@%+,^", *s))
            return false;
    return true;
}

void prof_shell_join(char *const *argv, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len + 1 < cap; i++) {
        if (i)
            buf[len++] = ' ';
        if (shell_safe(argv[i])) {
            len += (size_t)snprintf(buf + len, cap - len, "%s", argv[i]);
        } else {
            /* 'single quotes', with each ' written as '\'' */
            buf[len++] = '\'';
            for (const char *p = argv[i]; *p && len + 5 < cap; p++) {
                if (*p == '\'') {
                    memcpy(buf + len, "'\\''", 4);
                    len += 4;
                } else {
                    buf[len++] = *p;
                }
            }
            if (len + 1 < cap)
                buf[len++] = '\'';
        }
        if (len >= cap)
            len = cap - 1;
        buf[len] = '\0';
    }
}

/* Checks what can only be checked once the target's ready spec is known (it
 * may come from a manifest): the spec itself, and what --requests needs. */
static int check_ready(const struct prof_config *o, const char *ready, cs_error *err)
{
    cs_error why;
    if (prof_ready_validate(ready, &why) < 0)
        return cs_error_set(err, 0, "%s", cs_error_text(&why));
    bool http = strncmp(ready, "http://", 7) == 0;
    if (!http && o->requests_given && o->requests > 0 && !o->request_url)
        return cs_error_set(err, 0,
                            "--requests %u with the ready spec `%s`: requests need an HTTP "
                            "address; add --request-url http://HOST:{port}/PATH",
                            o->requests, ready);
    return 0;
}

int prof_plan_for_command(const struct prof_config *o, struct prof_owned_plan *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    prof_shell_join(o->command, o->n_command, ret->name, sizeof ret->name);
    if (strlen(ret->name) >= 60) {
        size_t cut = 56;
        while (cut > 0 && ((unsigned char)ret->name[cut] & 0xC0) == 0x80)
            cut--; /* not inside a UTF-8 sequence */
        strcpy(ret->name + cut, "...");
    }
    if (check_ready(o, o->ready ? o->ready : "exit", err) < 0)
        return -1;
    ret->argv = calloc(o->n_command + 1, sizeof *ret->argv);
    if (!ret->argv)
        return cs_error_set(err, ENOMEM, "plan");
    memcpy(ret->argv, o->command, o->n_command * sizeof *ret->argv);
    ret->plan = (struct prof_target_plan){
        .name = o->name ? o->name : ret->name,
        .argv = ret->argv,
        .env = o->env,
        .n_env = o->n_env,
        .cwd = o->cwd,
        .ready = o->ready ? o->ready : "exit",
        .size_on_disk_bytes = REP_NONE,
        .limits = &o->limits,
    };
    return 0;
}

/* A Python image's `python3` by the path of the interpreter it runs: a
 * version manager's shim (pyenv's is a bash script that execs pyenv, which
 * execs the interpreter) cost 130-160 ms of every start before Python
 * began, and the row measured the shim. Asked of the interpreter itself,
 * once per plan; NULL when it cannot say (the name is kept then). */
static char *real_interpreter(const char *name)
{
    if (!name[0] || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                        strlen(name))
        return NULL;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s -c 'import sys; print(sys.executable)' 2>/dev/null", name);
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    char path[PATH_MAX] = "";
    if (!fgets(path, sizeof path, f))
        path[0] = '\0';
    pclose(f);
    path[strcspn(path, "\n")] = '\0';
    return path[0] == '/' && access(path, X_OK) == 0 ? strdup(path) : NULL;
}

int prof_plan_for_image(const struct prof_image *img, const char *variant,
                        const struct prof_config *o, struct prof_owned_plan *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    const struct prof_variant *v = NULL;
    if (variant) {
        v = prof_image_variant(img, variant);
        if (!v) {
            char names[512] = "";
            for (size_t i = 0; i < img->n_variants; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                         img->variants[i].name);
            return cs_error_set(err, 0, "image %s has no variant `%s` (it has: %s)", img->name,
                                variant, img->n_variants ? names : "none");
        }
    }
    snprintf(ret->name, sizeof ret->name, "%s%s%s", img->name, v ? ":" : "", v ? v->name : "");
    const struct prof_strv *cmd = v && v->command.n ? &v->command : &img->command;
    ret->argv = calloc(cmd->n + 1, sizeof *ret->argv);
    size_t n_env = img->env.n + (v ? v->env.n : 0) + o->n_env;
    ret->env = calloc(n_env + 1, sizeof *ret->env);
    ret->cwd = strdup(o->cwd ? o->cwd : img->dir);
    char app_dir[PATH_MAX];
    prof_image_app_dir(img, app_dir, sizeof app_dir);
    ret->app_dir = strdup(app_dir);
    if (!ret->argv || !ret->env || !ret->cwd || !ret->app_dir) {
        prof_owned_plan_free(ret);
        return cs_error_set(err, ENOMEM, "plan");
    }
    memcpy(ret->argv, cmd->v, cmd->n * sizeof *ret->argv);
    if (img->runtime && strcmp(img->runtime, "python") == 0 && cmd->n > 0 &&
        !strchr(cmd->v[0], '/') && (ret->interpreter = real_interpreter(cmd->v[0])))
        ret->argv[0] = ret->interpreter;
    if (img->budgets.n) {
        ret->budgets = calloc(img->budgets.n, sizeof *ret->budgets);
        if (!ret->budgets) {
            prof_owned_plan_free(ret);
            return cs_error_set(err, ENOMEM, "plan");
        }
        for (size_t i = 0; i < img->budgets.n; i++) {
            if (prof_budget_parse(img->budgets.v[i], &ret->budgets[i], err) < 0) {
                prof_owned_plan_free(ret);
                return cs_error_prefix(err, "%s/image.json: key \"budgets\"", img->dir);
            }
        }
        ret->n_budgets = img->budgets.n;
    }
    /* Later entries override earlier ones: manifest, then variant, then --env. */
    size_t k = 0;
    for (size_t i = 0; i < img->env.n; i++)
        ret->env[k++] = img->env.v[i];
    for (size_t i = 0; v && i < v->env.n; i++)
        ret->env[k++] = v->env.v[i];
    for (size_t i = 0; i < o->n_env; i++)
        ret->env[k++] = o->env[i];
    const char *ready = o->ready ? o->ready : img->ready ? img->ready : "exit";
    if (check_ready(o, ready, err) < 0) {
        prof_owned_plan_free(ret);
        return cs_error_prefix(err, "image %s", img->name);
    }
    ret->plan = (struct prof_target_plan){
        .name = o->name ? o->name : ret->name,
        .argv = ret->argv,
        .env = ret->env,
        .n_env = k,
        .cwd = ret->cwd,
        .ready = o->ready     ? o->ready
                 : img->ready ? img->ready
                              : "exit",
        .image = img->name,
        .size_on_disk_bytes = prof_image_size(img),
        .app_dir = ret->app_dir,
        .limits = &o->limits,
        .budgets = ret->budgets,
        .n_budgets = ret->n_budgets,
    };
    return 0;
}

/* "oci:/path/to/dir:v1" -> "dir:v1": the last part of the path and the REF. */
static void oci_name(const char *spec, char *buf, size_t cap)
{
    const char *colon = strchr(spec, ':');
    const char *path = colon ? colon + 1 : spec;
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    const char *base = path;
    for (size_t i = 0; i + 1 < len; i++)
        if (path[i] == '/')
            base = path + i + 1;
    snprintf(buf, cap, "%.*s%s", (int)(len - (size_t)(base - path)), base, end ? end : "");
}

int prof_plan_for_oci(const char *spec, const struct prof_config *o, const struct cs_sink *notes,
                      struct prof_owned_plan *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    ret->oci = calloc(1, sizeof *ret->oci);
    if (!ret->oci)
        return cs_error_set(err, ENOMEM, "out of memory");
    struct prof_oci_target_opts to = {
        .spec = spec,
        .cache = o->image_cache,
        .extract_cold = o->extract_cold,
        .runtime = o->runtime,
        .overrides = {.entrypoint = o->entrypoint,
                      .args = o->command,
                      .n_args = o->n_command,
                      .env = o->env,
                      .n_env = o->n_env,
                      .user = o->image_user,
                      .cwd = o->cwd},
    };
    struct prof_oci_target *t = ret->oci;
    if (prof_oci_target_open(&to, notes, t, err) < 0)
        return -1;
    const char *ready = o->ready ? o->ready : t->run.ready[0] ? t->run.ready : NULL;
    if (!ready)
        return cs_error_input(err,
                              "image %s exposes no single TCP port: say when it is ready with "
                              "--ready (e.g. http://127.0.0.1:8080/, log:REGEX or exit)",
                              spec);
    if (check_ready(o, ready, err) < 0)
        return cs_error_mark_input(err);
    oci_name(spec, ret->name, sizeof ret->name);
    size_t n_env = 0;
    while (t->run.env[n_env])
        n_env++;
    int64_t size = t->image.compressed_bytes;
    ret->plan = (struct prof_target_plan){
        .name = o->name ? o->name : ret->name,
        .argv = t->run.argv,
        .env = (const char *const *)t->run.env,
        .n_env = n_env,
        .cwd = t->run.cwd,
        .ready = ready,
        .size_on_disk_bytes = t->unpacked_bytes ? t->unpacked_bytes : size,
        .limits = &o->limits,
        .oci = t,
        .stop_signal = t->run.stop_signal,
    };
    return 0;
}

int prof_plan_resolve(const struct prof_config *o, const struct cs_sink *notes,
                      struct prof_image *img, struct prof_owned_plan *ret, cs_error *err)
{
    memset(img, 0, sizeof *img);
    memset(ret, 0, sizeof *ret);
    if (o->image && prof_oci_is_ref(o->image))
        return prof_plan_for_oci(o->image, o, notes, ret, err);
    if (!o->image)
        return prof_plan_for_command(o, ret, err) < 0 ? cs_error_mark_input(err) : 0;
    if (prof_image_find(o->image, img, err) < 0)
        return cs_error_mark_input(err);
    const char *missing = prof_image_missing_tool(img);
    if (missing)
        return cs_error_set(err, 0, "image %s needs `%s`, which is not installed", img->name,
                            missing);
    if (prof_image_build(img, notes, err) < 0)
        return -1;
    return prof_plan_for_image(img, o->variant, o, ret, err) < 0 ? cs_error_mark_input(err) : 0;
}
