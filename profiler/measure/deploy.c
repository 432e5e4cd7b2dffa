#include "profiler/measure/deploy.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/report.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"

#define HOMES_MAX 16
#define HOME_FILES_MAX 100000

/* Whether path is dir itself or below it. */
static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return n && strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* dir of path (which has a slash) into buf: "/a/b/c" -> "/a/b". */
static void parent(const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash)
        *(slash == buf ? slash + 1 : slash) = '\0';
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The runtime folder a mapped file belongs to, into home; false when none. */
static bool runtime_home(const char *file, char *home, size_t cap)
{
    char dir[PATH_MAX], name[PATH_MAX], shared[PATH_MAX], root[PATH_MAX];
    parent(file, dir, sizeof dir);
    /* Python: STDLIB/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so */
    if (strcmp(base_name(dir), "lib-dynload") == 0) {
        parent(dir, home, cap);
        return true;
    }
    /* .NET: ROOT/shared/Microsoft.NETCore.App/10.0.1/libcoreclr.so, with ROOT/host/fxr. */
    parent(dir, name, sizeof name);
    parent(name, shared, sizeof shared);
    if (strcmp(base_name(shared), "shared") != 0)
        return false;
    parent(shared, root, sizeof root);
    char fxr[PATH_MAX + 16];
    snprintf(fxr, sizeof fxr, "%s/host/fxr", root);
    if (!is_dir(fxr))
        return false;
    snprintf(home, cap, "%s", dir);
    return true;
}

/* Python's standard library folder brings neither third-party packages,
 * nor its test suite, nor what building C extensions needs (config-3.X-...:
 * libpython's static library; Debian ships it in libpython3.X-dev). A .NET
 * framework folder has no entry of these names. */
static bool left_out(const char *name)
{
    return strcmp(name, "site-packages") == 0 || strcmp(name, "dist-packages") == 0 ||
           strcmp(name, "test") == 0 || strncmp(name, "config-", 7) == 0;
}

/* Whether file is counted with home: below it, and not in a folder left out
 * (a package's native module in site-packages still counts, as mapped). */
static bool in_home(const char *file, const char *home)
{
    if (!under(file, home))
        return false;
    char first[NAME_MAX + 1];
    const char *rest = file + strlen(home) + 1;
    size_t len = strcspn(rest, "/");
    if (rest[len] != '/' || len > NAME_MAX)
        return true; /* a file of home itself */
    snprintf(first, sizeof first, "%.*s", (int)len, rest);
    return !left_out(first);
}

/* Bytes of the regular files below dir (hard links counted once). */
static int64_t tree_bytes(const char *dir)
{
    struct prof_fileset tree = {0};
    int rc = prof_fileset_add_tree(&tree, dir, HOME_FILES_MAX);
    int64_t sum = rc < 0 ? -1 : prof_fileset_bytes(&tree);
    prof_fileset_free(&tree);
    return sum;
}

/* The bytes of home's files, without walking the folders left out (a
 * site-packages can hold more files than the standard library itself). */
static int64_t home_bytes(const char *home)
{
    _cleanup_closedir_ DIR *d = opendir(home);
    if (!d)
        return 0;
    int64_t sum = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[PATH_MAX];
        struct stat st;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || left_out(de->d_name) ||
            fs_pathf(path, sizeof path, NULL, "%s/%s", home, de->d_name) < 0 ||
            lstat(path, &st) < 0)
            continue;
        int64_t b = S_ISDIR(st.st_mode)   ? tree_bytes(path)
                    : S_ISREG(st.st_mode) ? (int64_t)st.st_size
                                          : 0;
        if (b < 0)
            return -1;
        sum += b;
    }
    return sum;
}

int64_t prof_deploy_bytes(const char *app_dir, int64_t app_bytes, const struct prof_fileset *mapped)
{
    /* Mapped paths are canonical (the kernel's): so must the app's be. */
    char app[PATH_MAX] = "";
    if (app_dir && !realpath(app_dir, app))
        app[0] = '\0';
    char homes[HOMES_MAX][PATH_MAX];
    size_t n_homes = 0;
    for (size_t i = 0; i < mapped->n; i++) {
        char home[PATH_MAX];
        const char *f = mapped->files[i].path;
        if (n_homes == HOMES_MAX || (app[0] && under(f, app)) ||
            !runtime_home(f, home, sizeof home))
            continue;
        bool known = false;
        for (size_t k = 0; k < n_homes && !known; k++)
            known = strcmp(homes[k], home) == 0;
        if (!known)
            snprintf(homes[n_homes++], PATH_MAX, "%s", home);
    }
    int64_t sum = app_bytes == REP_NONE ? 0 : app_bytes;
    for (size_t k = 0; k < n_homes; k++) {
        int64_t b = home_bytes(homes[k]);
        if (b < 0)
            return -1;
        sum += b;
    }
    /* The rest of what is mapped, once: not in the app, not in a home. */
    for (size_t i = 0; i < mapped->n; i++) {
        const char *f = mapped->files[i].path;
        bool counted = app[0] && under(f, app);
        for (size_t k = 0; k < n_homes && !counted; k++)
            counted = in_home(f, homes[k]);
        if (!counted)
            sum += mapped->files[i].bytes;
    }
    return sum;
}
