/* From what the user named (a command, or an image and its variant) to the
 * plan of what a run starts: argv, environment, folder, ready spec, limits. */
#ifndef COLDSTART_PLAN_H
#define COLDSTART_PLAN_H

#include "profiler/catalog/catalog.h"
#include "profiler/measure/config.h"
#include "profiler/measure/session.h"

struct prof_owned_plan {
    struct prof_target_plan plan; /* points into the fields below and the image */
    char name[256];
    char **argv;                 /* owned array; strings borrowed */
    const char **env;            /* owned array; strings borrowed */
    char *cwd;                   /* owned */
    char *app_dir;               /* owned */
    struct prof_budget *budgets; /* the image's own, parsed; owned */
    size_t n_budgets;
    struct prof_oci_target *oci; /* a container image; owned */
    char *interpreter;           /* argv[0] resolved to the real interpreter; owned */
};

/* `-- CMD ARGS`: named like hyperfine names commands (or --name). */
/* argv as a shell would need it typed: `-g 'daemon off;'`, `--save ''`. */
void prof_shell_join(char *const *argv, size_t n, char *buf, size_t cap);
int prof_plan_for_command(const struct prof_config *o, struct prof_owned_plan *ret, cs_error *err);
/* An image (built beforehand) with an optional variant; options override the
 * manifest (--ready, --env, --cwd). The image must outlive the plan. */
int prof_plan_for_image(const struct prof_image *img, const char *variant,
                        const struct prof_config *o, struct prof_owned_plan *ret, cs_error *err);
void prof_owned_plan_free(struct prof_owned_plan *p);
#define _cleanup_plan_ _cleanup_(prof_owned_plan_free)

/* A container image (--image oci:..., docs/container-images.md): opened,
 * its layers cached, its config applied with the options' overrides. */
int prof_plan_for_oci(const char *spec, const struct prof_config *o, const struct cs_sink *notes,
                      struct prof_owned_plan *ret, cs_error *err);

/* What run, size and sweep share: --image DIR (found, toolchain checked,
 * built if needed; *img then owns it) or `-- CMD`. Returns 0, or -1 with err
 * set: bad input (CS_ERR_INPUT), or a missing toolchain or a failed build.
 * "building ..." goes to notes. */
int prof_plan_resolve(const struct prof_config *o, const struct cs_sink *notes,
                      struct prof_image *img, struct prof_owned_plan *ret, cs_error *err);

#endif
