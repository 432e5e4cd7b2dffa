/* The image catalog: folders under images/ with an image.json manifest
 * (DESIGN.md "Image manifest"), their toolchains, builds and sizes. */
#ifndef COLDSTART_CATALOG_H
#define COLDSTART_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/error.h"

struct prof_strv {
    char **v; /* NULL-terminated */
    size_t n;
};

struct prof_variant {
    char *name;
    struct prof_strv env;     /* "K=V" added to the image's */
    struct prof_strv command; /* replaces the image's command when n > 0 */
    char *description;
};

struct prof_image {
    char *dir; /* absolute folder of the image */
    char *name, *runtime, *variant_label, *description;
    struct prof_strv requires; /* tools that must be in PATH */
    struct prof_strv build;    /* argv run in dir; n == 0: nothing to build */
    char *output;              /* build output folder, relative to dir */
    struct prof_strv sources;  /* extra source folders/files (relative), beside dir itself */
    struct prof_strv command;
    struct prof_strv env; /* "K=V" */
    char *ready;
    struct prof_strv budgets;
    struct prof_variant *variants;
    size_t n_variants;
};

/* Loads and validates DIR/image.json. A missing key, a wrong type or an
 * unknown key fails with the file and the key named. */
int prof_image_load(const char *dir, struct prof_image *ret, cs_error *err);
/* Parses manifest text (for tests and the fuzzer); `where` names it in errors. */
int prof_image_parse(const char *text, const char *dir, const char *where, struct prof_image *ret,
                     cs_error *err);
void prof_image_free(struct prof_image *img);
#define _cleanup_image_ _cleanup_(prof_image_free)
const struct prof_variant *prof_image_variant(const struct prof_image *img, const char *name);

/* The catalog folder: $COLDSTART_IMAGES, else images/ beside the source tree
 * of this binary (build/coldstart -> ../images), else ./images. */
const char *prof_catalog_dir(void);
/* Every folder with an image.json, sorted by name. Folders whose manifest is
 * bad fail the whole listing (a broken catalog should be noticed). */
struct prof_catalog {
    struct prof_image *images;
    size_t n;
};
int prof_catalog_load(const char *catalog, struct prof_catalog *ret, cs_error *err);
void prof_catalog_free(struct prof_catalog *c);
#define _cleanup_catalog_ _cleanup_(prof_catalog_free)
/* Resolves "images/NAME", "NAME" or a path to a folder. */
int prof_image_find(const char *spec, struct prof_image *ret, cs_error *err);

/* First tool of `requires` missing from PATH, or NULL when all are present. */
const char *prof_image_missing_tool(const struct prof_image *img);
/* Built: no build step, or a successful build newer than every source. */
bool prof_image_is_built(const struct prof_image *img);
/* Runs the build in the image folder, output to DIR/.build.log. Returns 0 (or
 * 1 when it was already up to date); -1 with the log's last lines in err. */
int prof_image_build(const struct prof_image *img, const struct cs_sink *notes, cs_error *err);
/* Runs argv in dir with stdout and stderr to log, stdin /dev/null, default
 * signal mask. A failure names the exit status and the log's last lines. */
int prof_run_logged(const char *dir, char *const *argv, const char *log, cs_error *err);
/* The newest modification time of the image's sources (not its output). */
time_t prof_image_sources_mtime(const struct prof_image *img);

/* The image as an OCI image (coldstart images build --oci), made by
 * images/shared/oci-pack into CACHE/images/NAME (tag latest), log beside it
 * (NAME.log). The image must be built. Rebuilt when missing, when older
 * than the image's sources or build, or with force. Writes
 * "oci:CACHE/images/NAME:latest" into spec. Returns 0, 1 when it was up to
 * date, -1 with the log's last lines in err. */
int prof_image_pack_oci(const struct prof_image *img, const char *cache, bool force,
                        const struct cs_sink *notes, char *spec, size_t cap, cs_error *err);

/* The folder of what the image ships: its build output, or the image folder
 * without a build. */
void prof_image_app_dir(const struct prof_image *img, char *buf, size_t cap);
/* Bytes the image ships: its build output, or its source files without one. */
int64_t prof_image_size(const struct prof_image *img);

#endif
