#include "profiler/oci/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"

int prof_oci_default_cache(char *buf, size_t cap, cs_error *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        return fs_pathf(buf, cap, err, "%s/coldstart", xdg);
    if (home && home[0] == '/')
        return fs_pathf(buf, cap, err, "%s/.cache/coldstart", home);
    return cs_error_input(err, "no cache folder: set XDG_CACHE_HOME or HOME, or give "
                               "--image-cache DIR");
}

/* mkdir -p, each level 0700 when made (the cache is the user's own). */
static int make_dirs(const char *path, cs_error *err)
{
    char p[PATH_MAX];
    if (fs_pathf(p, sizeof p, err, "%s", path) < 0)
        return -1;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            return cs_error_set(err, errno, "cannot create the cache folder `%s`", p);
        if (!c)
            return 0;
        *s = c;
    }
}

/* A folder of the cache must be the caller's alone: its layers run as
 * container root, and stale run folders in it are removed. One another user
 * owns or may write (a shared --image-cache, `sudo -E` keeping
 * XDG_CACHE_HOME) or a symlink (`cold -> /victim`, and root would delete
 * /victim's folders) is refused. */
static int check_private(const char *path, cs_error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return cs_error_set(err, errno, "cannot look at the image cache folder `%s`", path);
    if (S_ISLNK(st.st_mode))
        return cs_error_input(err,
                              "the image cache folder `%s` is a symlink; coldstart only uses a "
                              "cache folder of its own (give --image-cache a real folder)",
                              path);
    if (!S_ISDIR(st.st_mode))
        return cs_error_input(err, "`%s` in the image cache is not a folder", path);
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return cs_error_input(err,
                              "the image cache folder `%s` %s: whoever can write it decides "
                              "what runs as container root; give --image-cache a folder that "
                              "only you can write (chmod 700)",
                              path,
                              st.st_uid != geteuid() ? "belongs to another user"
                                                     : "is writable by others");
    return 0;
}

int prof_oci_cache_check(const char *cache, cs_error *err)
{
    /* The layers' folders become overlayfs's lowerdir=A:B,upperdir=...:
     * a `:` or `,` in the path would split it into other options. */
    if (strpbrk(cache, ":,"))
        return cs_error_input(err,
                              "the image cache `%s` has a `:` or `,` in its path, which overlayfs "
                              "reads as a separator of its options; give --image-cache a path "
                              "without them",
                              cache);
    return make_dirs(cache, err) < 0 ? -1 : check_private(cache, err);
}

int prof_oci_cache_subdir(const char *cache, const char *name, char *buf, size_t cap, cs_error *err)
{
    if (prof_oci_cache_check(cache, err) < 0 || fs_pathf(buf, cap, err, "%s/%s", cache, name) < 0 ||
        make_dirs(buf, err) < 0)
        return -1;
    /* Every level from the cache down to the folder: NAME may be a/b. */
    char level[PATH_MAX];
    for (const char *s = name;; s++) {
        if (*s != '/' && *s)
            continue;
        if (fs_pathf(level, sizeof level, err, "%s/%.*s", cache, (int)(s - name), name) < 0 ||
            check_private(level, err) < 0)
            return -1;
        if (!*s)
            return 0;
    }
}

static void read_stats(const char *path, struct prof_oci_unpacked *ret)
{
    char buf[64];
    long long files = 0, bytes = 0;
    if (fs_read_file(path, buf, sizeof buf, NULL) > 0 &&
        sscanf(buf, "%lld %lld", &files, &bytes) == 2)
        *ret = (struct prof_oci_unpacked){files, bytes};
}

/* Extract (verifying on the way) beside the final place, then take it by rename. */
static int extract_into_place(const char *base, const struct prof_oci_layer *l, const char *final,
                              struct prof_oci_unpacked *st, cs_error *err)
{
    char tmp[PATH_MAX], stats[PATH_MAX];
    if (fs_pathf(tmp, sizeof tmp, err, "%s/.tmp-%s-XXXXXX", base, l->diff_id + 7) < 0 ||
        fs_pathf(stats, sizeof stats, err, "%s.stats", final) < 0)
        return -1;
    if (!mkdtemp(tmp))
        return cs_error_set(err, errno, "cannot create a folder in the cache `%s`", base);
    chmod(tmp, 0755); /* the layer's root folder, as the image has it */
    char counts[64];
    int extracted = prof_oci_extract_layer(l->blob_path, l->digest, l->diff_id, tmp, st, err);
    snprintf(counts, sizeof counts, "%lld %lld\n", (long long)st->files, (long long)st->bytes);
    if (extracted < 0 || fs_create_file(stats, counts, err) < 0 ||
        (rename(tmp, final) < 0 && cs_error_set(err, errno, "cannot move `%s` into place", tmp))) {
        fs_remove_tree(tmp);
        return -1;
    }
    return 0;
}

/* `.tmp-HEX-XXXXXX` folders of extractions whose profiler was killed: each
 * is removed once nobody holds HEX.lock (an extraction running holds it). */
static void remove_stale_tmp(const char *base)
{
    _cleanup_closedir_ DIR *d = opendir(base);
    for (struct dirent *de; d && (de = readdir(d));) {
        if (strncmp(de->d_name, ".tmp-", 5) != 0 || strlen(de->d_name) < 5 + 64)
            continue;
        char lock[PATH_MAX], path[PATH_MAX];
        if (fs_pathf(lock, sizeof lock, NULL, "%s/%.64s.lock", base, de->d_name + 5) < 0 ||
            fs_pathf(path, sizeof path, NULL, "%s/%s", base, de->d_name) < 0)
            continue;
        _cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) == 0)
            fs_remove_tree(path);
    }
}

int prof_oci_cache_layer(const char *cache, const struct prof_oci_layer *l, char **ret_dir,
                         bool *ret_extracted, struct prof_oci_unpacked *ret_stats, cs_error *err)
{
    char base[PATH_MAX], final[PATH_MAX], lock[PATH_MAX], stats[PATH_MAX];
    *ret_extracted = false;
    *ret_stats = (struct prof_oci_unpacked){0, 0};
    if (!prof_oci_digest_valid(l->diff_id))
        return cs_error_input(err, "layer %s has no sha256 diff_id", l->digest);
    if (prof_oci_cache_subdir(cache, "layers/sha256", base, sizeof base, err) < 0 ||
        fs_pathf(final, sizeof final, err, "%s/%s", base, l->diff_id + 7) < 0 ||
        fs_pathf(lock, sizeof lock, err, "%s.lock", final) < 0 ||
        fs_pathf(stats, sizeof stats, err, "%s.stats", final) < 0)
        return -1;
    remove_stale_tmp(base);
    _cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lfd < 0)
        return cs_error_set(err, errno, "cannot open the lock `%s`", lock);
    while (flock(lfd, LOCK_EX) < 0)
        if (errno != EINTR)
            return cs_error_set(err, errno, "cannot lock `%s`", lock);
    struct stat st;
    if (lstat(final, &st) < 0) {
        if (extract_into_place(base, l, final, ret_stats, err) < 0)
            return -1;
        *ret_extracted = true;
    } else if (!S_ISDIR(st.st_mode)) {
        return cs_error_input(err, "`%s` in the image cache is not a folder", final);
    } else {
        read_stats(stats, ret_stats);
    }
    *ret_dir = strdup(final);
    return *ret_dir ? 0 : cs_error_set(err, ENOMEM, "out of memory");
}
