/* coldstart suite [IMAGE...]: build the bundled images and compare them under
 * the same limits, runs interleaved round robin so drift hits every image alike. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/measure/plan.h"
#include "profiler/measure/session.h"
#include "profiler/oci/cache.h"
#include "profiler/oci/image.h"

#define DEFAULT_DIR "coldstart-report"

struct suite_entry {
    struct prof_image *img; /* borrowed from the catalog; NULL for a container image */
    const char *variant;    /* --variants: one of img's (borrowed); NULL: --variant or none */
    const char *oci;        /* a container image named on the command line (oci:...) */
    char packed[4200];      /* suite --oci: the catalog image's OCI image */
    struct prof_owned_plan plan;
    char cold_name[300]; /* "NAME@cold" with --cache both */
};

/* The images selected and their plans: owned together. */
struct suite {
    struct suite_entry *sel;
    size_t n_sel;
    struct prof_target_plan *plans; /* per selected image, twice with --cache both */
    size_t n_plans;
};

static void suite_free(struct suite *su)
{
    for (size_t i = 0; su->sel && i < su->n_sel; i++)
        prof_owned_plan_free(&su->sel[i].plan);
    free(su->sel);
    free(su->plans);
}
#define _cleanup_suite_ _cleanup_(suite_free)

static struct prof_image *find_image(struct prof_catalog *cat, const char *name)
{
    for (size_t i = 0; i < cat->n; i++)
        if (strcmp(cat->images[i].name, name) == 0)
            return &cat->images[i];
    return NULL;
}

static size_t max_variants(const struct prof_catalog *cat)
{
    size_t most = 0;
    for (size_t i = 0; i < cat->n; i++)
        if (cat->images[i].n_variants > most)
            most = cat->images[i].n_variants;
    return most;
}

/* --reference names an image, or with --variants/--variant an IMAGE:VARIANT
 * target the suite will run. */
static bool reference_known(struct prof_catalog *cat, const struct prof_config *o)
{
    const char *colon = strchr(o->reference, ':');
    if (!colon)
        return find_image(cat, o->reference) != NULL;
    if (!o->all_variants && !o->variant)
        return false;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(colon - o->reference), o->reference);
    struct prof_image *img = find_image(cat, name);
    return img && prof_image_variant(img, colon + 1) &&
           (o->all_variants || strcmp(o->variant, colon + 1) == 0);
}

/* Why an image cannot run here (recorded as skipped), or NULL when it can. */
static bool skip_reason(const struct prof_config *o, struct prof_image *img, char *line, size_t cap)
{
    if (o->variant && !prof_image_variant(img, o->variant)) {
        snprintf(line, cap, "%s: has no variant `%s`", img->name, o->variant);
        return true;
    }
    const char *missing = prof_image_missing_tool(img);
    if (missing) {
        snprintf(line, cap, "%s: `%s` is not installed", img->name, missing);
        return true;
    }
    cs_error berr;
    if (prof_image_build(img, cli_notes(o), &berr) < 0) {
        fprintf(stderr, "coldstart suite: %s\n", cs_error_text(&berr));
        snprintf(line, cap, "%s: the build failed (see %s/.build.log)", img->name, img->dir);
        return true;
    }
    return false;
}

/* Images to run: the named ones (in the order given) or the whole catalog,
 * with --variants each followed by its variants (IMAGE:VARIANT); those that
 * cannot run here are recorded as skipped with the reason. */
static int select_images(struct prof_session *s, const struct prof_config *o,
                         struct prof_catalog *cat, struct suite *su, cs_error *err)
{
    size_t want = o->n_positional ? o->n_positional : cat->n;
    size_t cap = o->all_variants ? want * (1 + max_variants(cat)) : want;
    su->sel = calloc(cap + 1, sizeof *su->sel);
    if (!su->sel)
        return cs_error_set(err, ENOMEM, "suite");
    for (size_t w = 0; w < want; w++) {
        /* A container image (oci:DIR, oci-archive:FILE, docker-archive:FILE)
         * runs beside the catalog's; it is opened in make_plans. */
        if (o->n_positional && prof_oci_is_ref(o->positional[w])) {
            su->sel[su->n_sel++].oci = o->positional[w];
            continue;
        }
        struct prof_image *img = &cat->images[w];
        if (o->n_positional && !(img = find_image(cat, o->positional[w])))
            return cs_error_input(err, "no image named `%s` (see coldstart images list)",
                                  o->positional[w]);
        char line[1200];
        if (skip_reason(o, img, line, sizeof line)) {
            rep_report_add_skipped(&s->report, line);
            continue;
        }
        su->sel[su->n_sel++].img = img;
        for (size_t v = 0; o->all_variants && v < img->n_variants; v++)
            su->sel[su->n_sel++] =
                (struct suite_entry){.img = img, .variant = img->variants[v].name};
    }
    return 0;
}

/* One plan per selected image; with --cache both every image runs twice:
 * warm under its name, cold as NAME@cold, both in the same round robin. */
static int make_plans(struct prof_session *s, const struct prof_config *o, struct suite *su,
                      cs_error *err)
{
    bool both = strcmp(o->cache, "both") == 0;
    size_t per = both ? 2 : 1;
    su->n_plans = su->n_sel * per;
    su->plans = calloc(su->n_plans + 1, sizeof *su->plans);
    if (!su->plans)
        return cs_error_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; i < su->n_sel; i++) {
        struct suite_entry *e = &su->sel[i];
        if (!e->oci && o->suite_oci) {
            /* The bundled image as a container image, named as the image. */
            char cache[4096];
            if (prof_oci_default_cache(cache, sizeof cache, err) < 0 ||
                prof_image_pack_oci(e->img, cache, false, cli_notes(o), e->packed, sizeof e->packed,
                                    err) < 0 ||
                prof_plan_for_oci(e->packed, o, cli_notes(o), &e->plan, err) < 0)
                return -1;
            e->plan.plan.name = e->img->name;
        } else if (e->oci && prof_plan_for_oci(e->oci, o, cli_notes(o), &e->plan, err) < 0) {
            return -1;
        } else if (!e->oci && prof_plan_for_image(e->img, e->variant ? e->variant : o->variant, o,
                                                  &e->plan, err) < 0) {
            return cs_error_mark_input(err);
        }
        su->plans[i * per] = e->plan.plan;
        if (both) {
            su->plans[i * per].cache = "warm";
            snprintf(e->cold_name, sizeof e->cold_name, "%s@cold", e->plan.plan.name);
            su->plans[i * per + 1] = e->plan.plan;
            su->plans[i * per + 1].cache = "cold";
            su->plans[i * per + 1].name = e->cold_name;
        }
    }
    for (size_t i = 0; i < su->n_plans; i++)
        if (!prof_session_add_target(s, &su->plans[i]))
            return cs_error_set(err, ENOMEM, "out of memory");
    return 0;
}

static void default_outputs(struct prof_config *o)
{
    if (o->json || o->md || o->html)
        return;
    mkdir(DEFAULT_DIR, 0755);
    o->json = DEFAULT_DIR "/report.json";
    o->md = DEFAULT_DIR "/report.md";
    o->html = DEFAULT_DIR "/report.html";
}

int cmd_suite(int argc, char **argv, cs_error *err)
{
    _cleanup_config_ struct prof_config o = {0};
    int rc = cli_prepare(CLI_SUITE, argc, argv, &o, err);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    _cleanup_catalog_ struct prof_catalog cat = {0};
    if (prof_catalog_load(prof_catalog_dir(), &cat, err) < 0)
        return cs_error_mark_input(err);
    bool containers = false;
    for (size_t i = 0; i < o.n_positional; i++)
        containers |= prof_oci_is_ref(o.positional[i]);
    /* A container image's target name ("img:v1") is known once it is opened. */
    if (o.reference && !reference_known(&cat, &o) && !containers)
        return cs_error_input(err, "--reference %s names no image of the catalog%s", o.reference,
                              strchr(o.reference, ':') && !o.all_variants && !o.variant
                                  ? " (IMAGE:VARIANT needs --variants or --variant)"
                                  : "");
    default_outputs(&o);

    _cleanup_session_ struct prof_session s = {0};
    _cleanup_suite_ struct suite su = {0};
    if (prof_session_open(&s, &o, &cli_warnings, err) < 0)
        return -1;
    s.report.settings.command = strdup("suite");
    s.report.settings.reference = strdup(o.reference ? o.reference : "native-c");
    s.report.settings.interleaved = true;
    if (select_images(&s, &o, &cat, &su, err) < 0)
        return -1;
    for (size_t i = 0; i < s.report.n_skipped; i++)
        fprintf(stderr, "coldstart: skipped %s\n", s.report.skipped[i]);
    if (make_plans(&s, &o, &su, err) < 0)
        return -1;
    cli_run_interleaved(&s, su.plans, su.n_plans);

    int exit_code = cli_finish(&s, "suite");
    cli_print_comparison(&s);
    if (!o.quiet) {
        const char *outs[] = {o.json, o.md, o.html, o.csv, o.junit};
        for (size_t i = 0; i < 5; i++)
            if (outs[i] && strcmp(outs[i], "-") != 0)
                fprintf(stderr, "coldstart: wrote %s\n", outs[i]);
    }
    if (s.interrupted_by)
        fprintf(stderr, "coldstart: interrupted; the report holds the runs measured so far\n");
    return exit_code ? exit_code : cli_session_exit_code(&s);
}
