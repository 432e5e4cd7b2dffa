/* A container image made ready to run (issue 16): opened and verified, its
 * layers in the cache, its config applied as `docker run` applies it, and
 * with `--extract cold` its layers extracted afresh for every run.
 *
 *   CACHE/layers/sha256/HEX   the layers (cache.h)
 *   CACHE/mnt                 an empty folder: each run mounts its writable
 *                             layer's tmpfs there, in its own mount namespace
 *                             only (the host never sees the mount)
 *   CACHE/cold/XXXXXX         a run's fresh extraction (--extract cold), held
 *                             under flock while the run lasts and removed
 *                             after it; one left by a killed profiler is
 *                             removed by the next that opens the cache */
#ifndef COLDSTART_OCI_TARGET_H
#define COLDSTART_OCI_TARGET_H

#include <limits.h>
#include <stdbool.h>

#include "profiler/oci/image.h"
#include "profiler/oci/runconfig.h"
#include "reports/report.h"
#include "sandbox/base/error.h"

/* A folder of our own in CACHE/cold, locked while in use: one run's fresh
 * extraction (--extract cold, with its layer folders), or a bundle. */
struct prof_oci_fresh {
    char dir[PATH_MAX];
    int lock_fd;
    char **layer_dirs; /* base first */
    size_t n;
};

struct prof_oci_target_opts {
    const char *spec;    /* "oci:DIR[:REF]", ... */
    const char *cache;   /* --image-cache; NULL: the default */
    bool extract_cold;   /* --extract cold */
    const char *runtime; /* "builtin", "crun", "runc" */
    struct prof_oci_overrides overrides;
};

struct prof_oci_target {
    char *spec; /* as given, for reports */
    struct prof_oci_image image;
    char cache[PATH_MAX];
    char scratch[PATH_MAX]; /* CACHE/mnt */
    char **layer_dirs;      /* in the cache, base first; owned */
    size_t n_layers;
    int64_t unpacked_bytes, files;
    struct prof_oci_run run; /* argv, env, cwd, user, stop signal, ready */
    bool extract_cold;
    /* "tmpfs" or "ramfs" when the cache is in memory and cannot be evicted,
     * so --cache cold cannot make the image cold; "overlayfs" when that may
     * be so (its upper layer may be a tmpfs, as in many containers); NULL. */
    const char *cache_fs;
    const char *runtime;
    /* --runtime crun|runc: the runtime's binary, and a folder holding the
     * bundle's config.json (its root: SCRATCH/root, mounted by each run) and
     * the runtime's state (--root), removed at close. */
    char runtime_path[PATH_MAX];
    struct prof_oci_fresh bundle;
};

/* Opens the image, puts its layers in the cache ("extracting layer ..." to
 * notes when one is not there yet) and applies its config. Bad input
 * (a malformed or hostile image, an unknown user): CS_ERR_INPUT. */
int prof_oci_target_open(const struct prof_oci_target_opts *o, const struct cs_sink *notes,
                         struct prof_oci_target *ret, cs_error *err);
void prof_oci_target_close(struct prof_oci_target *t);
#define _cleanup_oci_target_ _cleanup_(prof_oci_target_close)

/* Verifies and extracts every layer into a new folder CACHE/cold/XXXXXX. */
int prof_oci_extract_fresh(const struct prof_oci_target *t, struct prof_oci_fresh *ret,
                           cs_error *err);
/* Removes the folder (also after a failed prof_oci_extract_fresh). */
void prof_oci_fresh_remove(struct prof_oci_fresh *f);

/* The report's facts about the image (report.h). */
struct rep_oci_image *prof_oci_target_facts(const struct prof_oci_target *t);

#endif
