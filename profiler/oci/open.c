/* prof_oci_image_open: from a transport reference to a verified image (its
 * manifest, config and layer blobs located), for a layout folder, an
 * oci-archive and a docker-archive. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "profiler/oci/image.h"
#include "profiler/oci/layer.h"
#include "sandbox/base/fsutil.h"
#include "reports/json_keys.h"

#define MAX_JSON_BYTES (4u << 20)

static int read_json_file(const char *path, const char *what, char **ret, cs_error *err)
{
    if (fs_read_input(path, MAX_JSON_BYTES, what, ret, NULL, err) < 0)
        return cs_error_mark_input(err);
    return 0;
}

/* DIR/blobs/sha256/HEX, verified against its digest, and read when text is wanted. */
static int layout_blob(const char *dir, const char *digest, const char *what, char **ret_path,
                       char **ret_text, cs_error *err)
{
    char path[PATH_MAX];
    if (!prof_oci_digest_valid(digest))
        return cs_error_input(err, "%s: `%s` is not a sha256 digest", what, digest);
    if (fs_pathf(path, sizeof path, err, "%s/blobs/sha256/%s", dir, digest + 7) < 0)
        return cs_error_mark_input(err);
    if (prof_oci_verify_file(path, digest, what, err) < 0)
        return -1;
    if (ret_text && read_json_file(path, what, ret_text, err) < 0)
        return -1;
    if (ret_path && !(*ret_path = strdup(path)))
        return cs_error_set(err, ENOMEM, "out of memory");
    return 0;
}

/* The config's diff_ids go with the manifest's layers, one each. */
static int apply_config(struct prof_oci_image *img, const char *config_text, cs_error *err)
{
    char **ids = NULL;
    size_t n_ids = 0;
    if (prof_oci_parse_config(config_text, &img->config, &ids, &n_ids, err) < 0)
        return -1;
    int rc = 0;
    if (n_ids != img->n_layers)
        rc = cs_error_input(err, "the config lists %zu diff_ids for %zu layers", n_ids,
                            img->n_layers);
    for (size_t i = 0; i < n_ids; i++) {
        if (rc == 0)
            img->layers[i].diff_id = ids[i];
        else
            free(ids[i]);
    }
    free(ids);
    return rc;
}

static int open_layout(const char *dir, const char *ref, struct prof_oci_image *img, cs_error *err)
{
    char path[PATH_MAX];
    _cleanup_free_ char *index = NULL, *manifest = NULL, *config = NULL;
    if (fs_pathf(path, sizeof path, err, "%s/index.json", dir) < 0)
        return cs_error_mark_input(err);
    if (access(path, F_OK) < 0)
        return cs_error_input(err, "`%s` is not an OCI image layout (no index.json)", dir);
    if (read_json_file(path, "index.json", &index, err) < 0 ||
        prof_oci_pick_manifest(index, ref, &img->manifest_digest, err) < 0 ||
        layout_blob(dir, img->manifest_digest, "manifest", NULL, &manifest, err) < 0 ||
        prof_oci_parse_manifest(manifest, &img->config_digest, &img->layers, &img->n_layers, err) <
            0 ||
        layout_blob(dir, img->config_digest, "config", NULL, &config, err) < 0 ||
        apply_config(img, config, err) < 0)
        return -1;
    for (size_t i = 0; i < img->n_layers; i++) {
        struct prof_oci_layer *l = &img->layers[i];
        char p[PATH_MAX];
        if (fs_pathf(p, sizeof p, err, "%s/blobs/sha256/%s", dir, l->digest + 7) < 0 ||
            !(l->blob_path = strdup(p)))
            return -1;
        struct stat st;
        if (stat(p, &st) < 0)
            return cs_error_input(err, "layer %s: its blob is missing", l->digest);
        img->compressed_bytes += st.st_size;
    }
    return 0;
}

/* A RepoTags entry names REF as docker does: "demo:v1" is
 * "docker.io/library/demo:v1", "me/demo:v1" is "docker.io/me/demo:v1". */
static bool docker_tag_matches(const char *tag, const char *ref)
{
    if (strcmp(tag, ref) == 0)
        return true;
    const char *slash = strchr(ref, '/');
    bool has_registry =
        slash && (memchr(ref, '.', (size_t)(slash - ref)) ||
                  memchr(ref, ':', (size_t)(slash - ref)) || strncmp(ref, "localhost/", 10) == 0);
    if (has_registry || strncmp(tag, "docker.io/", 10) != 0)
        return false;
    const char *rest = tag + 10;
    if (!slash && strncmp(rest, "library/", 8) == 0)
        rest += 8;
    return strcmp(rest, ref) == 0;
}

/* manifest.json of `docker save`: [{"Config": F, "RepoTags": [...], "Layers": [F...]}]. */
static const cJSON *docker_entry(const cJSON *list, const char *ref, cs_error *err)
{
    const cJSON *e, *pick = NULL;
    size_t n = 0;
    cJSON_ArrayForEach(e, list)
    {
        n++;
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(e, "RepoTags"), *t;
        const cJSON *list_of_tags = cJSON_IsArray(tags) ? tags : NULL;
        cJSON_ArrayForEach(t, list_of_tags)
        {
            if (ref && cJSON_IsString(t) && docker_tag_matches(t->valuestring, ref))
                pick = e;
        }
        if (!ref)
            pick = e;
    }
    if (!pick)
        cs_error_input(err, ref ? "no image tagged `%s` in the archive" : "the archive is empty",
                       ref ? ref : "");
    else if (!ref && n > 1)
        cs_error_input(err, "the archive holds %zu images: name one (…:TAG)", n);
    return pick && (ref || n == 1) ? pick : NULL;
}

/* A member of the unpacked archive, by the name manifest.json gives. */
/* The archive's file NAME as a path inside DIR: resolved by the kernel
 * beneath DIR (RESOLVE_BENEATH: a symlinked folder member `d -> /etc` makes
 * `d/shadow` fail instead of leading to the host's file; a link between the
 * archive's own files, as older `docker save` writes, still works), and
 * named by where it really is. */
static int member_path(const char *dir, const char *name, char *buf, size_t cap, cs_error *err)
{
    if (name[0] == '/' || strstr(name, ".."))
        return cs_error_input(err, "manifest.json names `%s`, outside the archive", name);
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return cs_error_set(err, errno, "cannot open `%s`", dir);
    struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    _cleanup_close_ int fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof how);
    if (fd < 0 && errno == EXDEV)
        return cs_error_input(err, "manifest.json names `%s`, which leads outside the archive",
                              name);
    if (fd < 0)
        return cs_error_input(err, "`%s` is missing from the archive", name);
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(self, buf, cap - 1);
    if (n < 0 || (size_t)n >= cap - 1)
        return cs_error_set(err, n < 0 ? errno : ENAMETOOLONG, "cannot resolve `%s`", name);
    buf[n] = '\0';
    return 0;
}

static int docker_layers(const char *dir, const cJSON *layers, struct prof_oci_image *img,
                         cs_error *err)
{
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) > 256)
        return cs_error_input(err, "manifest.json: \"Layers\" is not a list of files");
    img->n_layers = (size_t)cJSON_GetArraySize(layers);
    img->layers = calloc(img->n_layers + 1, sizeof *img->layers);
    if (!img->layers)
        return cs_error_set(err, ENOMEM, "out of memory");
    size_t i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        char p[PATH_MAX];
        struct stat st;
        if (!cJSON_IsString(l))
            return cs_error_input(err, "manifest.json: layer %zu is not a file name", i);
        if (member_path(dir, l->valuestring, p, sizeof p, err) < 0)
            return cs_error_prefix(err, "manifest.json: layer %zu", i);
        if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
            return cs_error_input(err, "layer `%s` is missing from the archive", l->valuestring);
        img->layers[i].blob_path = strdup(p);
        img->layers[i].size = st.st_size;
        img->compressed_bytes += st.st_size;
        i++;
    }
    return 0;
}

static int open_docker_archive(const char *dir, const char *ref, struct prof_oci_image *img,
                               cs_error *err)
{
    char path[PATH_MAX];
    _cleanup_free_ char *text = NULL, *config = NULL;
    if (fs_pathf(path, sizeof path, err, "%s/manifest.json", dir) < 0 ||
        read_json_file(path, "manifest.json", &text, err) < 0)
        return cs_error_prefix(err, "not a docker-archive");
    cJSON *list = cJSON_Parse(text);
    char dup[256];
    if (list && rep_json_duplicate_key(list, dup, sizeof dup)) {
        cJSON_Delete(list);
        return cs_error_input(err, "manifest.json: the key `%s` appears twice in one object", dup);
    }
    const cJSON *e = cJSON_IsArray(list) ? docker_entry(list, ref, err) : NULL;
    const cJSON *cfg = e ? cJSON_GetObjectItemCaseSensitive(e, "Config") : NULL;
    int rc = -1;
    if (!cJSON_IsArray(list))
        cs_error_input(err, "manifest.json is not a list of images");
    else if (!e)
        ;
    else if (!cJSON_IsString(cfg) || member_path(dir, cfg->valuestring, path, sizeof path, err) < 0)
        cs_error_input(err, "manifest.json: no \"Config\" file");
    else if (docker_layers(dir, cJSON_GetObjectItemCaseSensitive(e, "Layers"), img, err) == 0 &&
             read_json_file(path, "config", &config, err) == 0)
        rc = 0;
    cJSON_Delete(list);
    if (rc < 0)
        return -1;
    /* docker-archive layers are plain tars, so each layer's digest is its
     * diff_id (verified when it is extracted, as every layer is); the
     * config is named by its own digest. */
    char digest[PROF_OCI_DIGEST_MAX];
    if (prof_oci_file_digest(path, digest, err) < 0 || apply_config(img, config, err) < 0)
        return -1;
    img->config_digest = strdup(digest);
    for (size_t i = 0; i < img->n_layers; i++)
        if (!(img->layers[i].digest = strdup(img->layers[i].diff_id)))
            return cs_error_set(err, ENOMEM, "out of memory");
    img->manifest_digest = NULL;
    return 0;
}

void prof_oci_image_close(struct prof_oci_image *img)
{
    prof_oci_layers_free(img->layers, img->n_layers);
    prof_oci_config_free(&img->config);
    free(img->manifest_digest);
    free(img->config_digest);
    if (img->unpacked_dir) {
        fs_remove_tree(img->unpacked_dir);
        free(img->unpacked_dir);
    }
    if (img->unpacked_lock_fd > 0)
        close(img->unpacked_lock_fd);
    memset(img, 0, sizeof *img);
}

/* Folders of earlier archives whose profiler died before removing them (an
 * OOM kill): ours (owned by us, a real folder, not a link: the folder is
 * shared) and locked by nobody any more. */
static void remove_stale_unpacked(const char *tmp)
{
    _cleanup_closedir_ DIR *d = opendir(tmp);
    for (struct dirent *de; d && (de = readdir(d));) {
        if (strncmp(de->d_name, "coldstart-image-", 16) != 0)
            continue;
        struct stat st;
        _cleanup_close_ int fd =
            openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
            flock(fd, LOCK_EX | LOCK_NB) < 0)
            continue;
        char path[PATH_MAX];
        if (fs_pathf(path, sizeof path, NULL, "%s/%s", tmp, de->d_name) == 0)
            fs_remove_tree(path);
    }
}

/* An archive is unpacked into a private folder, then read like a folder;
 * the folder is flock'ed while the image is open, so that the next
 * coldstart removes it if this one is killed. */
static int unpack_archive(struct prof_oci_image *img, cs_error *err)
{
    const char *tmp_env = getenv("TMPDIR");
    const char *tmp = tmp_env && *tmp_env ? tmp_env : "/tmp";
    remove_stale_unpacked(tmp);
    char dir[PATH_MAX];
    if (fs_pathf(dir, sizeof dir, err, "%s/coldstart-image-XXXXXX", tmp) < 0)
        return -1;
    if (!mkdtemp(dir))
        return cs_error_set(err, errno, "cannot make a folder to unpack the image into");
    img->unpacked_dir = strdup(dir);
    if (!img->unpacked_dir)
        return cs_error_set(err, ENOMEM, "out of memory");
    img->unpacked_lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (img->unpacked_lock_fd < 0 || flock(img->unpacked_lock_fd, LOCK_EX | LOCK_NB) < 0)
        return cs_error_set(err, errno, "cannot lock `%s`", dir);
    return prof_oci_unpack_tar(img->ref.path, dir, NULL, err);
}

int prof_oci_image_open(const char *spec, struct prof_oci_image *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    if (prof_oci_ref_parse(spec, &ret->ref, err) < 0)
        return -1;
    int rc;
    if (ret->ref.transport == PROF_OCI_LAYOUT) {
        rc = open_layout(ret->ref.path, ret->ref.ref, ret, err);
    } else {
        struct stat st;
        if (stat(ret->ref.path, &st) < 0 || !S_ISREG(st.st_mode))
            return cs_error_input(err, "%s: `%s` is not a file", spec, ret->ref.path);
        /* The unpacking child works in the folder it unpacks into: a
         * relative path (README's own example) must not depend on where. */
        if (!realpath(ret->ref.path, ret->ref.absolute))
            return cs_error_input(err, "%s: cannot resolve `%s`", spec, ret->ref.path);
        ret->ref.path = ret->ref.absolute;
        rc = unpack_archive(ret, err);
        char index[PATH_MAX], docker_manifest[PATH_MAX];
        if (rc == 0 && ret->ref.transport == PROF_OCI_ARCHIVE &&
            fs_pathf(index, sizeof index, NULL, "%s/index.json", ret->unpacked_dir) == 0 &&
            fs_pathf(docker_manifest, sizeof docker_manifest, NULL, "%s/manifest.json",
                     ret->unpacked_dir) == 0 &&
            access(index, F_OK) < 0) {
            /* Named by the user's file, not by the folder it was unpacked in. */
            rc = access(docker_manifest, F_OK) == 0
                     ? cs_error_input(err,
                                      "`%s` is a docker-archive (`docker save`), not an "
                                      "oci-archive: give docker-archive:%s",
                                      ret->ref.path, ret->ref.path)
                     : cs_error_input(err, "`%s` is not an oci-archive (no index.json in it)",
                                      ret->ref.path);
        } else if (rc == 0 && ret->ref.transport == PROF_OCI_ARCHIVE)
            rc = open_layout(ret->unpacked_dir, ret->ref.ref, ret, err);
        else if (rc == 0)
            rc = open_docker_archive(ret->unpacked_dir, ret->ref.ref, ret, err);
    }
    if (rc < 0) {
        cs_error_prefix(err, "%s", spec);
        prof_oci_image_close(ret);
        return -1;
    }
    return 0;
}
