/* coldstart suite [IMAGE...]: build the bundled images and compare them under
 * the same limits, runs interleaved round robin so drift hits every image alike. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/options.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"
#include "profiler/term.h"
#include "reports/render.h"

#define DEFAULT_DIR "coldstart-report"
#define DEFAULT_MEMORY (512ull << 20) /* a typical serverless size */
#define DEFAULT_CPUS 1.0
#define DEFAULT_REQUESTS 10

struct suite_entry {
    struct prof_image *img; /* borrowed from the catalog */
    struct prof_owned_plan plan;
    char cold_name[300]; /* "NAME@cold" with --cache both */
};

/* Images to run: the named ones (in the order given) or the whole catalog;
 * those that cannot run here are recorded as skipped with the reason. */
static int select_images(struct prof_session *s, const struct prof_options *o,
                         struct prof_image *imgs, size_t n, struct suite_entry **ret, size_t *ret_n,
                         cs_error *err)
{
    struct suite_entry *sel = calloc(n + 1, sizeof *sel);
    if (!sel)
        return cs_error_set(err, ENOMEM, "suite");
    size_t k = 0;
    size_t want = o->n_positional ? o->n_positional : n;
    for (size_t w = 0; w < want; w++) {
        struct prof_image *img = NULL;
        if (o->n_positional) {
            for (size_t i = 0; i < n; i++)
                if (strcmp(imgs[i].name, o->positional[w]) == 0)
                    img = &imgs[i];
            if (!img) {
                free(sel);
                return cs_error_set(err, 0, "no image named `%s` (see coldstart images list)",
                                    o->positional[w]);
            }
        } else {
            img = &imgs[w];
        }
        char line[1200];
        if (o->variant && !prof_image_variant(img, o->variant)) {
            snprintf(line, sizeof line, "%s: has no variant `%s`", img->name, o->variant);
            rep_report_add_skipped(&s->report, line);
            continue;
        }
        const char *missing = prof_image_missing_tool(img);
        if (missing) {
            snprintf(line, sizeof line, "%s: `%s` is not installed", img->name, missing);
            rep_report_add_skipped(&s->report, line);
            continue;
        }
        cs_error berr;
        if (prof_image_build(img, o->quiet, &berr) < 0) {
            fprintf(stderr, "coldstart: %s\n", berr.msg);
            snprintf(line, sizeof line, "%s: the build failed (see %s/.build.log)", img->name,
                     img->dir);
            rep_report_add_skipped(&s->report, line);
            continue;
        }
        sel[k].img = img;
        k++;
    }
    *ret = sel;
    *ret_n = k;
    return 0;
}

static void default_outputs(struct prof_options *o)
{
    if (o->json || o->md || o->html)
        return;
    mkdir(DEFAULT_DIR, 0755);
    o->json = DEFAULT_DIR "/report.json";
    o->md = DEFAULT_DIR "/report.md";
    o->html = DEFAULT_DIR "/report.html";
}

int cmd_suite(int argc, char **argv)
{
    struct prof_options o;
    prof_options_defaults(&o);
    cs_error err = {0};
    int rc = prof_options_parse(PROF_CMD_SUITE, argc, argv, &o, &err);
    if (rc != 0) {
        prof_options_free(&o);
        return rc == 1 ? 0 : usage_error("suite", err.msg);
    }
    if (!o.memory_set)
        o.limits.memory_bytes = DEFAULT_MEMORY;
    if (!o.cpus_set)
        o.limits.cpus = DEFAULT_CPUS;
    if (!o.requests_set)
        o.requests = DEFAULT_REQUESTS; /* enough for a warm-request median */

    struct prof_image *imgs = NULL;
    size_t n_imgs = 0;
    if (prof_catalog_load(prof_catalog_dir(), &imgs, &n_imgs, &err) < 0) {
        prof_options_free(&o);
        return usage_error("suite", err.msg);
    }
    const char *reference = o.reference ? o.reference : "native-c";
    if (o.reference) {
        bool known = false;
        for (size_t i = 0; i < n_imgs; i++)
            known |= strcmp(imgs[i].name, o.reference) == 0;
        if (!known) {
            prof_catalog_free(imgs, n_imgs);
            prof_options_free(&o);
            return usage_error("suite", "--reference names no image of the catalog");
        }
    }
    default_outputs(&o);

    struct prof_session s;
    struct suite_entry *sel = NULL;
    size_t n_sel = 0;
    int exit_code = 0;
    if (prof_session_open(&s, &o, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        exit_code = s.bad_input ? 2 : 1;
        goto out;
    }
    s.report.settings.command = strdup("suite");
    s.report.settings.reference = strdup(reference);
    s.report.settings.interleaved = true;
    if (select_images(&s, &o, imgs, n_imgs, &sel, &n_sel, &err) < 0) {
        exit_code = usage_error("suite", err.msg);
        goto out;
    }
    for (size_t i = 0; i < s.report.n_skipped; i++)
        fprintf(stderr, "coldstart: skipped %s\n", s.report.skipped[i]);
    /* With --cache both every image runs twice: warm under its name, cold as
     * NAME@cold; both in the same round robin. */
    bool both = strcmp(o.cache, "both") == 0;
    size_t per = both ? 2 : 1, n_plans = n_sel * per;
    struct prof_target_plan *plans = calloc(n_plans + 1, sizeof *plans);
    struct rep_target **targets = calloc(n_plans + 1, sizeof(struct rep_target *));
    if (!plans || !targets) {
        free(plans);
        free(targets);
        exit_code = usage_error("suite", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_sel; i++) {
        if (prof_plan_for_image(sel[i].img, o.variant, &o, &sel[i].plan, &err) < 0) {
            free(plans);
            free(targets);
            exit_code = usage_error("suite", err.msg);
            goto out;
        }
        plans[i * per] = sel[i].plan.plan;
        if (both) {
            plans[i * per].cache = "warm";
            snprintf(sel[i].cold_name, sizeof sel[i].cold_name, "%s@cold", sel[i].plan.plan.name);
            plans[i * per + 1] = sel[i].plan.plan;
            plans[i * per + 1].cache = "cold";
            plans[i * per + 1].name = sel[i].cold_name;
        }
    }
    for (size_t i = 0; i < n_plans; i++)
        if (!prof_session_add_target(&s, &plans[i])) {
            free(plans);
            free(targets);
            exit_code = usage_error("suite", "out of memory");
            goto out;
        }
    /* Adding targets grows the array; take the pointers once all exist. */
    for (size_t i = 0; i < n_plans; i++)
        targets[i] = &s.report.targets[i];
    prof_session_run_interleaved(&s, plans, targets, n_plans);
    free(plans);
    free(targets);

    if (prof_session_finish(&s, &err) < 0) {
        fprintf(stderr, "coldstart: %s\n", err.msg);
        exit_code = 2;
    }
    prof_session_print_comparison(&s);
    if (!o.quiet) {
        const char *outs[] = {o.json, o.md, o.html, o.csv, o.junit};
        for (size_t i = 0; i < 5; i++)
            if (outs[i] && strcmp(outs[i], "-") != 0)
                fprintf(stderr, "coldstart: wrote %s\n", outs[i]);
    }
    if (s.interrupted_by)
        fprintf(stderr, "coldstart: interrupted; the report holds the runs measured so far\n");
    if (!exit_code)
        exit_code = prof_session_exit_code(&s);
out:
    prof_session_close(&s);
    for (size_t i = 0; sel && i < n_sel; i++)
        prof_owned_plan_free(&sel[i].plan);
    free(sel);
    prof_catalog_free(imgs, n_imgs);
    prof_options_free(&o);
    return exit_code;
}
