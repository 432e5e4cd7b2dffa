#include "profiler/measure/container.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/report.h"
#include "sandbox/base/fsutil.h"

/* Enough for any image: a Debian base has ~7,000 files. */
#define IMAGE_FILES_MAX 1000000

/* `crun --root STATE --cgroup-manager=disabled run --bundle B --pid-file F ID`:
 * the runtime, in the run's cgroup and mount namespace (where the run has
 * mounted the overlay its config.json names), makes the container. crun
 * leaves cgroups alone, so the container stays in the run's cgroup; runc
 * always makes one, below its own (the run's). Each run gets its own ID:
 * a runtime killed at teardown leaves its state in the bundle, removed with it. */
static int runtime_command(const struct prof_oci_target *t, struct prof_container_run *c,
                           cs_error *err)
{
    static unsigned counter;
    snprintf(c->id, sizeof c->id, "coldstart-%ld-%u", (long)getpid(), counter++);
    char state[4096];
    if (fs_pathf(state, sizeof state, err, "%s/state", t->bundle.dir) < 0 ||
        fs_pathf(c->pid_file, sizeof c->pid_file, err, "%s/%s.pid", t->bundle.dir, c->id) < 0)
        return -1;
    const char *argv[] = {t->runtime_path, "--root",     state,       "run", "--bundle",
                          t->bundle.dir,   "--pid-file", c->pid_file, c->id};
    size_t k = 0;
    for (size_t i = 0; i < sizeof argv / sizeof argv[0]; i++) {
        if (i == 3 && strcmp(t->runtime, "crun") == 0)
            c->runtime_argv[k++] = strdup("--cgroup-manager=disabled");
        c->runtime_argv[k++] = strdup(argv[i]);
    }
    for (size_t i = 0; i < k; i++)
        if (!c->runtime_argv[i])
            return cs_error_set(err, ENOMEM, "out of memory");
    c->rootfs.mount_only = true;
    /* The runtime needs its privileges; it drops the container's itself. */
    c->iso.drop_caps = false;
    c->iso.set_user = false;
    c->iso.new_pid_ns = false;
    return 0;
}

enum sbx_net prof_container_net(enum sbx_net session_net, bool net_given)
{
    return net_given ? session_net : SBX_NET_LOOPBACK;
}

void prof_container_run_free(struct prof_container_run *c)
{
    prof_oci_fresh_remove(&c->fresh);
    prof_fileset_free(&c->fresh_files);
    for (size_t i = 0; i < sizeof c->runtime_argv / sizeof c->runtime_argv[0]; i++)
        free(c->runtime_argv[i]);
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
        /* What was just extracted (this run's, or the cache's when the
         * image was opened) is in the page cache, dirty: written back first,
         * or the kernel would keep it. Nothing to write: nearly free. */
        if (ret->n_layers > 0) {
            int fd = open(ret->layers[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd >= 0) {
                syncfs(fd);
                close(fd);
            }
        }
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
    ret->iso.net = prof_container_net(base->net, net_given);
    ret->iso.private_tmp = false;
    ret->iso.ro_mounts = NULL;
    ret->iso.n_ro_mounts = 0;
    ret->iso.drop_caps = true;
    ret->iso.set_user = t->run.set_user;
    ret->iso.uid = t->run.uid;
    ret->iso.gid = t->run.gid;
    return strcmp(t->runtime, "builtin") == 0 ? 0 : runtime_command(t, ret, err);
}

/* A layer file's path as the container names it (the layer folder cut off). */
static const char *image_path(const char *const *layers, size_t n_layers, const char *path)
{
    for (size_t i = 0; i < n_layers; i++) {
        size_t len = strlen(layers[i]);
        if (strncmp(path, layers[i], len) == 0 && path[len] == '/')
            return path + len;
    }
    return path;
}

struct sized_file {
    const char *path;
    int64_t bytes;
};

static int by_bytes_desc(const void *a, const void *b)
{
    int64_t x = ((const struct sized_file *)a)->bytes, y = ((const struct sized_file *)b)->bytes;
    return (x < y) - (x > y);
}

/* The ten largest of files into *ret (paths inside the image). */
static void top_ten(struct sized_file *files, size_t n, const char *const *layers, size_t n_layers,
                    struct rep_count **ret, size_t *ret_n)
{
    qsort(files, n, sizeof *files, by_bytes_desc);
    size_t top = n < 10 ? n : 10;
    *ret = calloc(top ? top : 1, sizeof **ret);
    for (size_t i = 0; *ret && i < top; i++) {
        char *p = strdup(image_path(layers, n_layers, files[i].path));
        if (p)
            (*ret)[(*ret_n)++] = (struct rep_count){p, files[i].bytes};
    }
}

void prof_image_read_collect(const struct prof_fileset *files, const char *const *layers,
                             size_t n_layers, struct rep_run *run)
{
    size_t n = files->n ? files->n : 1;
    int64_t *each = calloc(n, sizeof *each);
    struct sized_file *read = calloc(n, sizeof *read), *unread = calloc(n, sizeof *unread);
    if (each && read && unread) {
        prof_fileset_cached_each(files, each);
        size_t n_read = 0, n_unread = 0;
        int64_t total = 0;
        for (size_t i = 0; i < files->n; i++) {
            /* mincore counts whole pages: a file's last page is not all file. */
            int64_t size = files->files[i].bytes;
            int64_t bytes = each[i] < size ? each[i] : size;
            total += bytes;
            if (bytes > 0)
                read[n_read++] = (struct sized_file){files->files[i].path, bytes};
            else if (size > 0)
                unread[n_unread++] = (struct sized_file){files->files[i].path, size};
        }
        run->image_read_bytes = total;
        run->image_read_files = (int64_t)n_read;
        top_ten(read, n_read, layers, n_layers, &run->image_read_top, &run->n_image_read_top);
        top_ten(unread, n_unread, layers, n_layers, &run->image_unread_top,
                &run->n_image_unread_top);
    }
    free(each);
    free(read);
    free(unread);
}
