#include "profiler/oci/target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "profiler/oci/bundle.h"
#include "profiler/oci/cache.h"
#include "sandbox/spawn.h"
#include "sandbox/base/fsutil.h"

void prof_oci_target_close(struct prof_oci_target *t)
{
    prof_oci_fresh_remove(&t->bundle);
    for (size_t i = 0; t->layer_dirs && i < t->n_layers; i++)
        free(t->layer_dirs[i]);
    free(t->layer_dirs);
    prof_oci_run_free(&t->run);
    prof_oci_image_close(&t->image);
    free(t->spec);
    memset(t, 0, sizeof *t);
}

/* Fresh extractions whose run is gone (the profiler was killed): nobody
 * holds their lock any more. */
static void remove_stale_fresh(const char *cold)
{
    _cleanup_closedir_ DIR *d = opendir(cold);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        if (fs_pathf(p, sizeof p, NULL, "%s/%s", cold, de->d_name) < 0)
            continue;
        _cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
            fs_remove_tree(p);
    }
}

static int cache_layers(struct prof_oci_target *t, const struct cs_sink *notes, cs_error *err)
{
    const struct prof_oci_image *img = &t->image;
    t->layer_dirs = calloc(img->n_layers ? img->n_layers : 1, sizeof *t->layer_dirs);
    if (!t->layer_dirs)
        return cs_error_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; i < img->n_layers; i++) {
        const struct prof_oci_layer *l = &img->layers[i];
        bool extracted;
        struct prof_oci_unpacked st;
        int rc = prof_oci_cache_layer(t->cache, l, &t->layer_dirs[i], &extracted, &st, err);
        /* Ctrl-C: the layer's extraction died with it and left nothing. */
        int sig = sbx_pending_stop_signal();
        if (sig)
            return cs_error_interrupted(err, sig,
                                        "interrupted while extracting the image's layers; "
                                        "nothing half-extracted was kept");
        if (rc < 0)
            return cs_error_prefix(err, "layer %zu of %zu (%s)", i + 1, img->n_layers, l->digest);
        t->n_layers++;
        t->unpacked_bytes += st.bytes;
        t->files += st.files;
        if (extracted)
            cs_emit(notes, "extracted layer %zu of %zu (%s, %lld files) into %s", i + 1,
                    img->n_layers, l->diff_id, (long long)st.files, t->layer_dirs[i]);
    }
    return 0;
}

/* CACHE/cold/PREFIX-XXXXXX, made and locked. */
static int locked_tempdir(const char *cache, const char *prefix, struct prof_oci_fresh *ret,
                          cs_error *err)
{
    if (fs_pathf(ret->dir, sizeof ret->dir, err, "%s/cold/%s-XXXXXX", cache, prefix) < 0)
        return -1;
    if (!mkdtemp(ret->dir)) {
        int e = errno;
        ret->dir[0] = '\0';
        return cs_error_set(err, e, "cannot create a folder in `%s/cold`", cache);
    }
    ret->lock_fd = open(ret->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ret->lock_fd < 0 || flock(ret->lock_fd, LOCK_EX) < 0)
        return cs_error_set(err, errno, "cannot lock `%s`", ret->dir);
    return 0;
}

/* --runtime crun|runc: the binary, config.json and a state folder. */
static int make_bundle(struct prof_oci_target *t, cs_error *err)
{
    if (sbx_resolve_executable(t->runtime, NULL, t->runtime_path, sizeof t->runtime_path) < 0)
        return cs_error_input(err, "--runtime %s: `%s` is not installed (apt-get install %s)",
                              t->runtime, t->runtime, t->runtime);
    char root[PATH_MAX], state[PATH_MAX];
    if (locked_tempdir(t->cache, "bundle", &t->bundle, err) < 0 ||
        fs_pathf(root, sizeof root, err, "%s/root", t->scratch) < 0 ||
        fs_pathf(state, sizeof state, err, "%s/state", t->bundle.dir) < 0)
        return -1;
    if (mkdir(state, 0700) < 0)
        return cs_error_set(err, errno, "cannot create `%s`", state);
    return prof_oci_bundle_write(t->bundle.dir, &t->run, root, "coldstart", err);
}

int prof_oci_target_open(const struct prof_oci_target_opts *o, const struct cs_sink *notes,
                         struct prof_oci_target *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    ret->bundle.lock_fd = -1;
    /* Mount namespaces, overlayfs, pivot_root: nothing rootless here. */
    if (geteuid() != 0)
        return cs_error_input(err,
                              "%s: running a container image needs root (a mount namespace, "
                              "overlayfs, pivot_root); rootless containers are not supported",
                              o->spec);
    ret->extract_cold = o->extract_cold;
    if (!(ret->spec = strdup(o->spec)))
        return cs_error_set(err, ENOMEM, "out of memory");
    ret->runtime = o->runtime ? o->runtime : "builtin";
    if (o->cache) {
        if (o->cache[0] != '/')
            return cs_error_input(err, "--image-cache %s: give an absolute path", o->cache);
        if (fs_pathf(ret->cache, sizeof ret->cache, err, "%s", o->cache) < 0)
            return cs_error_mark_input(err);
    } else if (prof_oci_default_cache(ret->cache, sizeof ret->cache, err) < 0) {
        return -1;
    }
    char cold[PATH_MAX];
    if (prof_oci_cache_subdir(ret->cache, "mnt", ret->scratch, sizeof ret->scratch, err) < 0 ||
        prof_oci_cache_subdir(ret->cache, "cold", cold, sizeof cold, err) < 0)
        return -1;
    remove_stale_fresh(cold);
    struct statfs fs;
    if (statfs(ret->cache, &fs) == 0)
        ret->cache_fs = fs.f_type == TMPFS_MAGIC             ? "tmpfs"
                        : fs.f_type == RAMFS_MAGIC           ? "ramfs"
                        : fs.f_type == OVERLAYFS_SUPER_MAGIC ? "overlayfs"
                                                             : NULL;
    if (prof_oci_image_open(o->spec, &ret->image, err) < 0) {
        int sig = sbx_pending_stop_signal();
        return sig ? cs_error_interrupted(err, sig, "interrupted while unpacking the image") : -1;
    }
    if (cache_layers(ret, notes, err) < 0)
        return -1;
    if (prof_oci_run_config(&ret->image.config, (const char *const *)ret->layer_dirs, ret->n_layers,
                            &o->overrides, &ret->run, err) < 0)
        return -1;
    return strcmp(ret->runtime, "builtin") == 0 ? 0 : make_bundle(ret, err);
}

void prof_oci_fresh_remove(struct prof_oci_fresh *f)
{
    for (size_t i = 0; f->layer_dirs && i < f->n; i++)
        free(f->layer_dirs[i]);
    free(f->layer_dirs);
    if (f->dir[0])
        fs_remove_tree(f->dir);
    if (f->lock_fd >= 0)
        close(f->lock_fd);
    memset(f, 0, sizeof *f);
    f->lock_fd = -1;
}

int prof_oci_extract_fresh(const struct prof_oci_target *t, struct prof_oci_fresh *ret,
                           cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    ret->lock_fd = -1;
    if (locked_tempdir(t->cache, "run", ret, err) < 0)
        return -1;
    ret->layer_dirs = calloc(t->image.n_layers ? t->image.n_layers : 1, sizeof *ret->layer_dirs);
    if (!ret->layer_dirs)
        return cs_error_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; i < t->image.n_layers; i++) {
        const struct prof_oci_layer *l = &t->image.layers[i];
        char dir[PATH_MAX];
        struct prof_oci_unpacked st;
        if (fs_pathf(dir, sizeof dir, err, "%s/%zu", ret->dir, i) < 0)
            return -1;
        /* What a node does with a pulled layer: verify it and unpack it
         * (in one pass). */
        if (mkdir(dir, 0755) < 0)
            return cs_error_set(err, errno, "cannot create `%s`", dir);
        if (prof_oci_extract_layer(l->blob_path, l->digest, l->diff_id, dir, &st, err) < 0)
            return -1;
        if (!(ret->layer_dirs[i] = strdup(dir)))
            return cs_error_set(err, ENOMEM, "out of memory");
        ret->n++;
    }
    return 0;
}

struct rep_oci_image *prof_oci_target_facts(const struct prof_oci_target *t)
{
    struct rep_oci_image *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    const struct prof_oci_image *img = &t->image;
    f->ref = strdup(t->spec);
    f->transport = strdup(prof_oci_transport_name(img->ref.transport));
    f->manifest_digest = img->manifest_digest ? strdup(img->manifest_digest) : NULL;
    f->config_digest = img->config_digest ? strdup(img->config_digest) : NULL;
    f->runtime = strdup(t->runtime);
    f->extract = strdup(t->extract_cold ? "cold" : "warm");
    f->layers = (int64_t)img->n_layers;
    f->compressed_bytes = img->compressed_bytes;
    f->unpacked_bytes = t->unpacked_bytes;
    f->files = t->files;
    if (!f->ref || !f->transport || !f->runtime || !f->extract) {
        rep_oci_image_free(f);
        return NULL;
    }
    return f;
}
