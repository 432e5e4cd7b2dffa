#include "profiler/measure/deploy.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/report.h"

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
 * libpython's static library; Debian ships it in libpython3.X-dev). */
static bool left_out(const char *file, const char *home)
{
    static const char *const skip[] = {"site-packages/", "dist-packages/", "test/", "config-"};
    size_t n = strlen(home);
    if (strncmp(file, home, n) != 0 || file[n] != '/')
        return false;
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strncmp(file + n + 1, skip[i], strlen(skip[i])) == 0)
            return true;
    return false;
}

static int64_t home_bytes(const char *home)
{
    struct prof_fileset tree = {0};
    if (prof_fileset_add_tree(&tree, home, HOME_FILES_MAX) < 0) {
        prof_fileset_free(&tree);
        return -1;
    }
    int64_t sum = 0;
    for (size_t i = 0; i < tree.n; i++)
        if (!left_out(tree.files[i].path, home))
            sum += tree.files[i].bytes;
    prof_fileset_free(&tree);
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
            counted = under(f, homes[k]);
        if (!counted)
            sum += mapped->files[i].bytes;
    }
    return sum;
}
