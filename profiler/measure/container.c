#include "profiler/measure/container.h"

#include <string.h>
#include <unistd.h>

#include "reports/report.h"

/* Enough for any image: a Debian base has ~7,000 files. */
#define IMAGE_FILES_MAX 1000000

void prof_container_run_free(struct prof_container_run *c)
{
    prof_oci_fresh_remove(&c->fresh);
    prof_fileset_free(&c->fresh_files);
}

int prof_container_run_prepare(const struct prof_oci_target *t, const struct sbx_isolation *base,
                               bool net_given, struct prof_fileset *image_files, const char *cache,
                               struct prof_container_run *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    ret->fresh.lock_fd = -1;
    ret->cached_before_bytes = REP_NONE;
    ret->layers = (const char *const *)t->layer_dirs;
    ret->n_layers = t->n_layers;
    ret->files = image_files;
    if (t->extract_cold) {
        uint64_t start = sbx_now_ns();
        if (prof_oci_extract_fresh(t, &ret->fresh, err) < 0)
            return cs_error_prefix(err, "--extract cold");
        ret->extract_ns = sbx_now_ns() - start;
        ret->layers = (const char *const *)ret->fresh.layer_dirs;
        ret->n_layers = ret->fresh.n;
        ret->files = &ret->fresh_files;
    }
    struct prof_fileset *files = t->extract_cold ? &ret->fresh_files : image_files;
    if (files->n == 0 &&
        prof_fileset_add_trees(files, ret->layers, ret->n_layers, IMAGE_FILES_MAX) < 0)
        return cs_error_set(err, ENOMEM, "out of memory");
    if (strcmp(cache, "cold") == 0) {
        /* What was just extracted is in the page cache, dirty: written back
         * first, or the kernel would keep it. */
        if (t->extract_cold && ret->fresh.lock_fd >= 0)
            syncfs(ret->fresh.lock_fd);
        prof_fileset_evict(files);
        ret->cached_before_bytes = prof_fileset_cached_bytes(files);
    }
    ret->rootfs = (struct sbx_rootfs){
        .lowers = ret->layers, .n_lowers = ret->n_layers, .scratch = t->scratch};
    /* The session's limits, rlimits, network and filter; a container's own
     * root in place of a private /tmp and read-only cgroupfs (its /sys is
     * read-only as a whole), and docker run's capabilities and user. */
    ret->iso = *base;
    ret->iso.rootfs = &ret->rootfs;
    if (!net_given)
        ret->iso.net = SBX_NET_LOOPBACK;
    ret->iso.private_tmp = false;
    ret->iso.ro_mounts = NULL;
    ret->iso.n_ro_mounts = 0;
    ret->iso.drop_caps = true;
    ret->iso.set_user = t->run.set_user;
    ret->iso.uid = t->run.uid;
    ret->iso.gid = t->run.gid;
    return 0;
}
