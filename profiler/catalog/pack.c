/* coldstart images build --oci: a bundled image packed as an OCI image by
 * images/shared/oci-pack (umoci makes the layers), kept in the image cache. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiler/catalog/catalog.h"
#include "profiler/measure/ready.h"
#include "profiler/oci/cache.h"
#include "sandbox/base/fsutil.h"

/* The port the packed image's server listens on ({port} in the manifest). */
#define PACK_PORT 8080

static bool up_to_date(const struct prof_image *img, const char *out)
{
    char index[PATH_MAX], stamp[PATH_MAX];
    struct stat st, built;
    if (fs_pathf(index, sizeof index, NULL, "%s/index.json", out) < 0 || stat(index, &st) < 0)
        return false;
    if (st.st_mtime < prof_image_sources_mtime(img))
        return false;
    /* A rebuilt image (its stamp) is newer than its package. */
    return !img->output ||
           fs_pathf(stamp, sizeof stamp, NULL, "%s/%s/.coldstart-built", img->dir, img->output) <
               0 ||
           stat(stamp, &built) < 0 || built.st_mtime <= st.st_mtime;
}

/* oci-pack --dir D --out O --cache C --port P [--env K=V]... -- COMMAND... */
static char **pack_argv(const struct prof_image *img, const char *script, const char *out,
                        const char *cache, const char *port)
{
    size_t cap = 12 + 2 * img->env.n + img->command.n;
    char **v = calloc(cap, sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    const char *fixed[] = {script,    "--dir", img->dir, "--out", out,
                           "--cache", cache,   "--port", port};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        v[k++] = strdup(fixed[i]);
    for (size_t i = 0; i < img->env.n; i++) {
        v[k++] = strdup("--env");
        v[k++] = prof_subst_port(img->env.v[i], PACK_PORT);
    }
    v[k++] = strdup("--");
    for (size_t i = 0; i < img->command.n; i++)
        v[k++] = prof_subst_port(img->command.v[i], PACK_PORT);
    for (size_t i = 0; i < k; i++)
        if (!v[i]) {
            for (size_t j = 0; j < k; j++)
                free(v[j]);
            free(v);
            return NULL;
        }
    return v;
}

static void free_argv(char ***v)
{
    for (size_t i = 0; *v && (*v)[i]; i++)
        free((*v)[i]);
    free(*v);
}

int prof_image_pack_oci(const struct prof_image *img, const char *cache, bool force,
                        const struct cs_sink *notes, char *spec, size_t cap, cs_error *err)
{
    char dir[PATH_MAX], out[PATH_MAX], tmp[PATH_MAX], log[PATH_MAX], script[PATH_MAX], port[16];
    if (prof_oci_cache_subdir(cache, "images", dir, sizeof dir, err) < 0 ||
        fs_pathf(out, sizeof out, err, "%s/%s", dir, img->name) < 0 ||
        fs_pathf(tmp, sizeof tmp, err, "%s.tmp", out) < 0 ||
        fs_pathf(log, sizeof log, err, "%s.log", out) < 0 ||
        fs_pathf(script, sizeof script, err, "%s/shared/oci-pack", prof_catalog_dir()) < 0 ||
        fs_pathf(spec, cap, err, "oci:%s:latest", out) < 0)
        return -1;
    if (!force && up_to_date(img, out))
        return 1;
    if (access(script, X_OK) < 0)
        return cs_error_set(err, errno, "cannot run `%s`", script);
    snprintf(port, sizeof port, "%d", PACK_PORT);
    _cleanup_(free_argv) char **argv = pack_argv(img, script, tmp, cache, port);
    if (!argv)
        return cs_error_set(err, ENOMEM, "out of memory");
    cs_emit(notes, "packing %s as an OCI image (log: %s) ...", img->name, log);
    fs_remove_tree(tmp);
    if (prof_run_logged(img->dir, argv, log, err) < 0) {
        fs_remove_tree(tmp);
        return cs_error_prefix(err, "packing %s as an OCI image", img->name);
    }
    /* The new layout replaces the old one whole: a run never sees half of each. */
    fs_remove_tree(out);
    if (rename(tmp, out) < 0)
        return cs_error_set(err, errno, "cannot move `%s` into place", tmp);
    return 0;
}
