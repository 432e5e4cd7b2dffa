#include "profiler/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report.h"

void prof_owned_plan_free(struct prof_owned_plan *p)
{
    free(p->argv);
    free(p->env);
    free(p->cwd);
    free(p->budgets);
    memset(p, 0, sizeof *p);
}

int prof_plan_for_command(const struct prof_options *o, struct prof_owned_plan *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    size_t len = 0;
    for (size_t i = 0; i < o->n_command && len + 1 < sizeof ret->name; i++)
        len += (size_t)snprintf(ret->name + len, sizeof ret->name - len, "%s%s", i ? " " : "",
                                o->command[i]);
    if (len >= 60)
        strcpy(ret->name + 56, "...");
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

int prof_plan_for_image(const struct prof_image *img, const char *variant,
                        const struct prof_options *o, struct prof_owned_plan *ret, cs_error *err)
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
    if (!ret->argv || !ret->env || !ret->cwd) {
        prof_owned_plan_free(ret);
        return cs_error_set(err, ENOMEM, "plan");
    }
    memcpy(ret->argv, cmd->v, cmd->n * sizeof *ret->argv);
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
        .limits = &o->limits,
        .budgets = ret->budgets,
        .n_budgets = ret->n_budgets,
    };
    return 0;
}

int prof_plan_resolve(const struct prof_options *o, struct prof_image *img,
                      struct prof_owned_plan *ret, cs_error *err)
{
    memset(img, 0, sizeof *img);
    memset(ret, 0, sizeof *ret);
    if (!o->image)
        return prof_plan_for_command(o, ret, err) < 0 ? 2 : 0;
    if (prof_image_find(o->image, img, err) < 0)
        return 2;
    const char *missing = prof_image_missing_tool(img);
    if (missing) {
        cs_error_set(err, 0, "image %s needs `%s`, which is not installed", img->name, missing);
        return 1;
    }
    if (prof_image_build(img, o->quiet, err) < 0)
        return 1;
    return prof_plan_for_image(img, o->variant, o, ret, err) < 0 ? 2 : 0;
}
