/* coldstart images [list | build [NAME...]]: the bundled catalog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/catalog/catalog.h"
#include "profiler/cli/commands.h"
#include "profiler/cli/usage.h"
#include "profiler/oci/cache.h"
#include "reports/report.h"
#include "sandbox/base/fsutil.h"

static int images_list(cs_error *err)
{
    _cleanup_catalog_ struct prof_catalog cat = {0};
    if (prof_catalog_load(prof_catalog_dir(), &cat, err) < 0)
        return cs_error_mark_input(err);
    struct prof_image *imgs = cat.images;
    size_t n = cat.n;
    printf("%-20s %-8s %-11s %-9s %10s  %s\n", "NAME", "RUNTIME", "TOOLCHAIN", "BUILT", "SIZE",
           "VARIANT [VARIANTS]");
    for (size_t i = 0; i < n; i++) {
        const struct prof_image *img = &imgs[i];
        char variants[512];
        snprintf(variants, sizeof variants, "%s", img->variant_label ? img->variant_label : "-");
        for (size_t k = 0; k < img->n_variants; k++)
            snprintf(variants + strlen(variants), sizeof variants - strlen(variants), "%s%s",
                     k ? ", " : " [", img->variants[k].name);
        if (img->n_variants)
            strncat(variants, "]", sizeof variants - strlen(variants) - 1);
        const char *missing = prof_image_missing_tool(img);
        char tool[64];
        snprintf(tool, sizeof tool, "%s%s", missing ? "no " : "ok", missing ? missing : "");
        bool built = prof_image_is_built(img);
        char size[32] = "-";
        if (built)
            rep_format_value(REP_UNIT_BYTES, (double)prof_image_size(img), size, sizeof size);
        printf("%-20s %-8s %-11s %-9s %10s  %s\n", img->name, img->runtime, tool,
               img->build.n == 0 ? "no build"
               : built           ? "yes"
                                 : "no",
               size, variants);
    }
    return 0;
}

/* --oci: the built image packed as an OCI image in the image cache. */
static int pack_one(const struct prof_image *img, const char *cache, bool force)
{
    cs_error perr;
    char spec[4200];
    int rc = prof_image_pack_oci(img, cache, force, NULL, spec, sizeof spec, &perr);
    if (rc < 0) {
        printf("%-20s OCI image FAILED\n", img->name);
        fprintf(stderr, "coldstart images: %s\n", cs_error_text(&perr));
        return -1;
    }
    printf("%-20s %s %s\n", "", rc == 1 ? "OCI image up to date:" : "OCI image:", spec);
    return 0;
}

static int images_build(int argc, char **argv, cs_error *err)
{
    bool force = false, oci = false;
    int first = 0;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "--force") == 0)
            force = true;
        else if (strcmp(argv[first], "--oci") == 0)
            oci = true;
        else
            return cs_error_input(err, "build: unknown option `%s` (--force, --oci)", argv[first]);
    }
    char cache[4096] = "";
    if (oci && prof_oci_default_cache(cache, sizeof cache, err) < 0)
        return -1;
    _cleanup_catalog_ struct prof_catalog cat = {0};
    if (prof_catalog_load(prof_catalog_dir(), &cat, err) < 0)
        return cs_error_mark_input(err);
    struct prof_image *imgs = cat.images;
    size_t n = cat.n;
    for (int a = first; a < argc; a++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= strcmp(imgs[i].name, argv[a]) == 0;
        if (!found)
            return cs_error_input(err, "build: no image named `%s` (see coldstart images list)",
                                  argv[a]);
    }
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct prof_image *img = &imgs[i];
        bool wanted = argc == first;
        for (int a = first; a < argc; a++)
            wanted |= strcmp(img->name, argv[a]) == 0;
        if (!wanted)
            continue;
        const char *missing = prof_image_missing_tool(img);
        if (missing) {
            printf("%-20s skipped: `%s` is not installed\n", img->name, missing);
            continue;
        }
        if (img->build.n == 0) {
            printf("%-20s nothing to build\n", img->name);
            failed += oci && pack_one(img, cache, force) < 0;
            continue;
        }
        if (force) {
            char stamp[4200];
            if (fs_pathf(stamp, sizeof stamp, NULL, "%s/%s/.coldstart-built", img->dir,
                         img->output) == 0)
                remove(stamp);
        }
        fflush(stdout);
        cs_error berr;
        int rc = prof_image_build(img, NULL, &berr);
        if (rc < 0) {
            printf("%-20s FAILED\n", img->name);
            fprintf(stderr, "coldstart images: %s\n", cs_error_text(&berr));
            failed++;
        } else {
            char size[32];
            rep_format_value(REP_UNIT_BYTES, (double)prof_image_size(img), size, sizeof size);
            printf("%-20s %s (%s)\n", img->name, rc == 1 ? "up to date" : "built", size);
            fflush(stdout);
            failed += oci && pack_one(img, cache, force) < 0;
        }
    }
    return failed ? 1 : 0;
}

int cmd_images(int argc, char **argv, cs_error *err)
{
    if (argc < 2 || strcmp(argv[1], "list") == 0)
        return argc > 2 ? cs_error_input(err, "list takes no arguments") : images_list(err);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_print_help(cli_find_command("images"), stdout);
        return 0;
    }
    if (strcmp(argv[1], "build") == 0)
        return images_build(argc - 2, argv + 2, err);
    return cs_error_input(err, "unknown subcommand `%s` (use list or build)", argv[1]);
}
