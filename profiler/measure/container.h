/* What one run of a container image needs before its spawn (issue 16): its
 * layers (the cache's, or extracted afresh with --extract cold, timed), the
 * root the child builds from them, the isolation of a container (its own
 * mount, UTS, PID and by default network namespace, Docker's default
 * capabilities, the image's user), and the page cache as --cache asks for
 * the image's files. */
#ifndef COLDSTART_CONTAINER_H
#define COLDSTART_CONTAINER_H

#include <stdint.h>

#include "profiler/measure/pagecache.h"
#include "profiler/oci/target.h"
#include "reports/report.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/rootfs.h"
#include "sandbox/spawn.h"

struct prof_container_run {
    struct prof_oci_fresh fresh;     /* --extract cold: this run's layers */
    struct prof_fileset fresh_files; /* and their files */
    const char *const *layers;       /* the lower layers, base first */
    size_t n_layers;
    const struct prof_fileset *files; /* the image's files, for the page cache */
    struct sbx_rootfs rootfs;
    struct sbx_isolation iso;
    uint64_t extract_ns; /* --extract cold: how long the extraction took */
    /* --runtime crun|runc: what the run starts instead of the image's command. */
    char *runtime_argv[16];
    char id[64], pid_file[4096];
    int64_t cached_before_bytes; /* --cache cold: the image's bytes still cached at spawn */
};

/* The network a run of a container gets: the session's when --net was
 * given, else a loopback of its own. */
enum sbx_net prof_container_net(enum sbx_net session_net, bool net_given);
/* base: the session's isolation (limits, seccomp, --net: net_given says
 * whether the user chose it; else a container gets its own loopback);
 * image_files: the target's file set, filled on first use; cache: "warm",
 * "cold" or "drop". */
int prof_container_run_prepare(const struct prof_oci_target *t, const struct sbx_isolation *base,
                               bool net_given, struct prof_fileset *image_files, const char *cache,
                               struct prof_container_run *ret, cs_error *err);
/* At ready: the image's files in the page cache into run (image_read_bytes,
 * image_read_files; the ten largest read, image_read_top; and the ten
 * largest never read, image_unread_top: what a slimming tool would drop),
 * paths as the container names them (layer folders cut off). */
void prof_image_read_collect(const struct prof_fileset *files, const char *const *layers,
                             size_t n_layers, struct rep_run *run);
/* Removes a fresh extraction; also after a failed prepare. */
void prof_container_run_free(struct prof_container_run *c);
#define _cleanup_container_run_ _cleanup_(prof_container_run_free)

#endif
