#include "profiler/catalog/catalog.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/base/fsutil.h"
#include "sandbox/spawn.h"
#include "sandbox/base/cleanup.h"
#include "reports/json_keys.h"

#define BUILD_STAMP ".coldstart-built"
#define BUILD_LOG ".build.log"

static void strv_free(struct prof_strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void prof_image_free(struct prof_image *img)
{
    free(img->dir);
    free(img->name);
    free(img->runtime);
    free(img->variant_label);
    free(img->description);
    strv_free(&img->requires);
    strv_free(&img->build);
    free(img->output);
    strv_free(&img->sources);
    strv_free(&img->command);
    strv_free(&img->env);
    free(img->ready);
    strv_free(&img->budgets);
    for (size_t i = 0; i < img->n_variants; i++) {
        free(img->variants[i].name);
        free(img->variants[i].description);
        strv_free(&img->variants[i].env);
        strv_free(&img->variants[i].command);
    }
    free(img->variants);
    memset(img, 0, sizeof *img);
}

/* ---- strict manifest parsing ---- */

struct mparse {
    const char *where; /* file name for messages */
    cs_error *err;
    bool failed;
};

static int mfail(struct mparse *m, const char *key, const char *what)
{
    if (!m->failed)
        cs_error_set(m->err, 0, "%s: key \"%s\" %s", m->where, key, what);
    m->failed = true;
    return -1;
}

static int get_string(struct mparse *m, const cJSON *v, const char *key, char **ret)
{
    if (!cJSON_IsString(v))
        return mfail(m, key, "must be a string");
    *ret = strdup(v->valuestring);
    return 0;
}

static int get_strv(struct mparse *m, const cJSON *v, const char *key, struct prof_strv *ret)
{
    if (!cJSON_IsArray(v))
        return mfail(m, key, "must be an array of strings");
    size_t n = (size_t)cJSON_GetArraySize(v);
    ret->v = calloc(n + 1, sizeof *ret->v);
    if (!ret->v)
        return mfail(m, key, "is too large");
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e))
            return mfail(m, key, "must be an array of strings");
        ret->v[ret->n++] = strdup(e->valuestring);
    }
    return 0;
}

/* {"K": "V", ...} into "K=V" strings. */
static int get_env(struct mparse *m, const cJSON *v, const char *key, struct prof_strv *ret)
{
    if (!cJSON_IsObject(v))
        return mfail(m, key, "must be an object of strings");
    size_t n = (size_t)cJSON_GetArraySize(v);
    ret->v = calloc(n + 1, sizeof *ret->v);
    if (!ret->v)
        return mfail(m, key, "is too large");
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e) || !*e->string || strchr(e->string, '='))
            return mfail(m, key, "must map variable names to strings");
        size_t len = strlen(e->string) + strlen(e->valuestring) + 2;
        char *kv = malloc(len);
        if (!kv)
            return mfail(m, key, "is too large");
        snprintf(kv, len, "%s=%s", e->string, e->valuestring);
        ret->v[ret->n++] = kv;
    }
    return 0;
}

static int parse_variant(struct mparse *m, const cJSON *v, struct prof_variant *var)
{
    char key[300];
    snprintf(key, sizeof key, "variants.%s", v->string);
    if (!cJSON_IsObject(v))
        return mfail(m, key, "must be an object with \"env\" and/or \"command\"");
    var->name = strdup(v->string);
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        for (const cJSON *prev = v->child; prev != e; prev = prev->next)
            if (strcmp(prev->string, e->string) == 0)
                return mfail(m, key, "has a key twice");
        char sub[400];
        snprintf(sub, sizeof sub, "%s.%s", key, e->string);
        if (strcmp(e->string, "env") == 0)
            get_env(m, e, sub, &var->env);
        else if (strcmp(e->string, "command") == 0)
            get_strv(m, e, sub, &var->command);
        else if (strcmp(e->string, "description") == 0)
            get_string(m, e, sub, &var->description);
        else
            mfail(m, sub, "is not a known key (env, command, description)");
        if (m->failed)
            return -1;
    }
    return 0;
}

int prof_image_parse(const char *text, const char *dir, const char *where, struct prof_image *img,
                     cs_error *err)
{
    memset(img, 0, sizeof *img);
    struct mparse m = {.where = where, .err = err};
    cJSON *o = cJSON_Parse(text);
    if (!o)
        return cs_error_set(err, 0, "%s: not valid JSON", where);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return cs_error_set(err, 0, "%s: the manifest must be a JSON object", where);
    }
    char dup[256];
    if (rep_json_duplicate_key(o, dup, sizeof dup)) {
        cJSON_Delete(o);
        return cs_error_set(err, 0, "%s: the key `%s` appears twice in one object", where, dup);
    }
    img->dir = strdup(dir);
    const cJSON *e;
    cJSON_ArrayForEach(e, o)
    {
        const char *k = e->string;
        /* JSON allows a key twice; a manifest does not (which one would win?). */
        for (const cJSON *prev = o->child; prev != e; prev = prev->next)
            if (strcmp(prev->string, k) == 0)
                mfail(&m, k, "appears twice");
        if (m.failed)
            break;
        if (strcmp(k, "name") == 0)
            get_string(&m, e, k, &img->name);
        else if (strcmp(k, "runtime") == 0)
            get_string(&m, e, k, &img->runtime);
        else if (strcmp(k, "variant") == 0)
            get_string(&m, e, k, &img->variant_label);
        else if (strcmp(k, "description") == 0)
            get_string(&m, e, k, &img->description);
        else if (strcmp(k, "requires") == 0)
            get_strv(&m, e, k, &img->requires);
        else if (strcmp(k, "build") == 0)
            get_strv(&m, e, k, &img->build);
        else if (strcmp(k, "output") == 0)
            get_string(&m, e, k, &img->output);
        else if (strcmp(k, "sources") == 0)
            get_strv(&m, e, k, &img->sources);
        else if (strcmp(k, "command") == 0)
            get_strv(&m, e, k, &img->command);
        else if (strcmp(k, "env") == 0)
            get_env(&m, e, k, &img->env);
        else if (strcmp(k, "ready") == 0)
            get_string(&m, e, k, &img->ready);
        else if (strcmp(k, "budgets") == 0)
            get_strv(&m, e, k, &img->budgets);
        else if (strcmp(k, "variants") == 0) {
            if (!cJSON_IsObject(e)) {
                mfail(&m, k, "must be an object of variants");
            } else {
                size_t n = (size_t)cJSON_GetArraySize(e);
                img->variants = calloc(n ? n : 1, sizeof *img->variants);
                const cJSON *v;
                cJSON_ArrayForEach(v, e)
                {
                    for (const cJSON *prev = e->child; prev != v; prev = prev->next)
                        if (strcmp(prev->string, v->string) == 0)
                            mfail(&m, "variants", "names a variant twice");
                    if (m.failed || parse_variant(&m, v, &img->variants[img->n_variants++]) < 0)
                        break;
                }
            }
        } else {
            mfail(&m, k,
                  "is not a known key (name, runtime, variant, description, requires, build, "
                  "output, sources, command, env, ready, budgets, variants)");
        }
        if (m.failed)
            break;
    }
    cJSON_Delete(o);
    if (!m.failed) {
        static const char *const required[] = {"name", "runtime", "command"};
        const void *have[] = {img->name, img->runtime, img->command.v};
        for (size_t i = 0; i < 3; i++)
            if (!have[i])
                mfail(&m, required[i], "is missing");
    }
    if (!m.failed && img->command.n == 0)
        mfail(&m, "command", "must not be empty");
    if (!m.failed && img->build.v && img->build.n == 0)
        mfail(&m, "build", "must not be empty (leave it out when there is nothing to build)");
    if (!m.failed && img->build.n && !img->output)
        img->output = strdup("out");
    if (!m.failed && img->output &&
        (img->output[0] == '/' || strstr(img->output, "..") || !img->output[0]))
        mfail(&m, "output", "must be a folder inside the image");
    if (m.failed) {
        prof_image_free(img);
        return -1;
    }
    return 0;
}

int prof_image_load(const char *dir, struct prof_image *ret, cs_error *err)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return cs_error_set(err, errno, "image folder `%s`", dir);
    char path[PATH_MAX + 16];
    if (fs_pathf(path, sizeof path, err, "%s/image.json", real) < 0)
        return -1;
    char *text;
    if (fs_read_input(path, (size_t)1 << 20, "manifest", &text, NULL, err) < 0)
        return -1;
    int rc = prof_image_parse(text, real, path, ret, err);
    free(text);
    if (rc < 0)
        return -1;
    const char *base = strrchr(real, '/');
    base = base ? base + 1 : real;
    if (strcmp(base, ret->name) != 0) {
        cs_error_set(err, 0, "%s: key \"name\" is \"%s\" but the folder is \"%s\"", path, ret->name,
                     base);
        prof_image_free(ret);
        return -1;
    }
    return 0;
}

const struct prof_variant *prof_image_variant(const struct prof_image *img, const char *name)
{
    for (size_t i = 0; i < img->n_variants; i++)
        if (strcmp(img->variants[i].name, name) == 0)
            return &img->variants[i];
    return NULL;
}

/* ---- the catalog ---- */

const char *prof_catalog_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("COLDSTART_IMAGES");
    if (env && *env)
        return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char probe[PATH_MAX + 32];
            if (fs_pathf(dir, sizeof dir, NULL, "%s/../images", exe) == 0 &&
                fs_pathf(probe, sizeof probe, NULL, "%s/native-c/image.json", dir) == 0 &&
                access(probe, F_OK) == 0)
                return dir;
        }
    }
    return "images";
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct prof_image *)a)->name, ((const struct prof_image *)b)->name);
}

void prof_catalog_free(struct prof_catalog *c)
{
    for (size_t i = 0; i < c->n; i++)
        prof_image_free(&c->images[i]);
    free(c->images);
    c->images = NULL;
    c->n = 0;
}

int prof_catalog_load(const char *catalog, struct prof_catalog *ret, cs_error *err)
{
    _cleanup_closedir_ DIR *d = opendir(catalog);
    if (!d)
        return cs_error_set(err, errno,
                            "cannot open the image catalog `%s` (set COLDSTART_IMAGES to the "
                            "folder that holds the images)",
                            catalog);
    _cleanup_catalog_ struct prof_catalog c = {0};
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        if (fs_pathf(path, sizeof path, NULL, "%s/%s/image.json", catalog, de->d_name) < 0 ||
            access(path, F_OK) < 0)
            continue; /* shared sources and other folders are not images */
        struct prof_image *grown = realloc(c.images, (c.n + 1) * sizeof *grown);
        if (!grown)
            return cs_error_set(err, ENOMEM, "catalog");
        c.images = grown;
        if (fs_pathf(path, sizeof path, err, "%s/%s", catalog, de->d_name) < 0 ||
            prof_image_load(path, &c.images[c.n], err) < 0)
            return -1;
        c.n++;
    }
    if (c.n)
        qsort(c.images, c.n, sizeof *c.images, by_name);
    *ret = c;
    /* Ownership moved to *ret; the cleanup attribute reads c. */
    c = (struct prof_catalog){0}; // NOLINT(clang-analyzer-deadcode.DeadStores)
    return 0;
}

int prof_image_find(const char *spec, struct prof_image *ret, cs_error *err)
{
    char path[PATH_MAX];
    if (fs_pathf(path, sizeof path, err, "%s/image.json", spec) < 0)
        return -1;
    if (access(path, F_OK) == 0)
        return prof_image_load(spec, ret, err);
    if (!strchr(spec, '/')) {
        char manifest[PATH_MAX + 16];
        if (fs_pathf(path, sizeof path, err, "%s/%s", prof_catalog_dir(), spec) < 0 ||
            fs_pathf(manifest, sizeof manifest, err, "%s/image.json", path) < 0)
            return -1;
        if (access(manifest, F_OK) == 0)
            return prof_image_load(path, ret, err);
    }
    return cs_error_set(err, 0,
                        "no image at `%s` (no image.json there; `coldstart images "
                        "list` shows the catalog)",
                        spec);
}

/* ---- toolchains, builds, sizes ---- */

/* The same lookup that starts a target (sandbox/spawn.c), so "installed"
 * here means what a run will find. */
static bool in_path(const char *tool)
{
    char found[PATH_MAX];
    return sbx_resolve_executable(tool, NULL, found, sizeof found) == 0;
}

const char *prof_image_missing_tool(const struct prof_image *img)
{
    for (size_t i = 0; i < img->requires.n; i++)
        if (!in_path(img->requires.v[i]))
            return img->requires.v[i];
    return NULL;
}

/* Newest mtime below path (files only); skips the build output and logs. */
static time_t newest_mtime(const char *path, const char *skip)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return st.st_mtime;
    if (skip && strcmp(path, skip) == 0)
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    time_t newest = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, BUILD_LOG) || !strcmp(n, "obj") ||
            !strcmp(n, "bin") || !strcmp(n, "artifacts") || !strcmp(n, "node_modules"))
            continue;
        char child[PATH_MAX];
        snprintf(child, sizeof child, "%s/%s", path, n);
        time_t t = newest_mtime(child, skip);
        if (t > newest)
            newest = t;
    }
    closedir(d);
    return newest;
}

time_t prof_image_sources_mtime(const struct prof_image *img)
{
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/%s", img->dir, img->output ? img->output : "");
    time_t newest = newest_mtime(img->dir, img->output ? out : NULL);
    for (size_t i = 0; i < img->sources.n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", img->dir, img->sources.v[i]);
        time_t t = newest_mtime(p, NULL);
        if (t > newest)
            newest = t;
    }
    return newest;
}

bool prof_image_is_built(const struct prof_image *img)
{
    if (img->build.n == 0)
        return true;
    char stamp[PATH_MAX];
    struct stat st;
    if (fs_pathf(stamp, sizeof stamp, NULL, "%s/%s/" BUILD_STAMP, img->dir, img->output) < 0 ||
        stat(stamp, &st) < 0)
        return false;
    return st.st_mtime >= prof_image_sources_mtime(img);
}

static void log_tail(const char *log, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(log, "re");
    if (!f)
        return;
    char *lines[15] = {0};
    char line[512];
    size_t k = 0;
    while (fgets(line, sizeof line, f)) {
        free(lines[k % 15]);
        lines[k % 15] = strdup(line);
        k++;
    }
    fclose(f);
    size_t len = 0;
    for (size_t i = k > 15 ? k - 15 : 0; i < k; i++) {
        char *l = lines[i % 15];
        if (l)
            len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "  | %s", l);
    }
    for (size_t i = 0; i < 15; i++)
        free(lines[i]);
}

int prof_run_logged(const char *dir, char *const *argv, const char *log, cs_error *err)
{
    pid_t pid = fork();
    if (pid < 0)
        return cs_error_set(err, errno, "fork");
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || chdir(dir) < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        /* The profiler blocks signals for its signalfd; a build must not inherit that. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot execute `%s`: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char tail[4096];
        log_tail(log, tail, sizeof tail);
        return cs_error_set(err, 0, "failed (%s %d); the last lines of %s:\n%s",
                            WIFEXITED(status) ? "exit code" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log, tail);
    }
    return 0;
}

int prof_image_build(const struct prof_image *img, const struct cs_sink *notes, cs_error *err)
{
    if (img->build.n == 0 || prof_image_is_built(img))
        return 1;
    const char *missing = prof_image_missing_tool(img);
    if (missing)
        return cs_error_set(err, 0, "%s: `%s` is not installed", img->name, missing);
    cs_emit(notes, "building %s ...", img->name);
    char log[PATH_MAX];
    if (fs_pathf(log, sizeof log, err, "%s/" BUILD_LOG, img->dir) < 0 ||
        prof_run_logged(img->dir, img->build.v, log, err) < 0)
        return cs_error_prefix(err, "building %s", img->name);
    char stamp[PATH_MAX];
    if (fs_pathf(stamp, sizeof stamp, err, "%s/%s", img->dir, img->output) < 0)
        return -1;
    mkdir(stamp, 0755);
    if (fs_pathf(stamp, sizeof stamp, err, "%s/%s/" BUILD_STAMP, img->dir, img->output) < 0)
        return -1;
    int fd = open(stamp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot write `%s`", stamp);
    close(fd);
    return 0;
}

static int64_t tree_bytes(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int64_t sum = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, BUILD_LOG) || !strcmp(n, BUILD_STAMP))
            continue;
        char child[PATH_MAX];
        snprintf(child, sizeof child, "%s/%s", path, n);
        sum += tree_bytes(child);
    }
    closedir(d);
    return sum;
}

void prof_image_app_dir(const struct prof_image *img, char *buf, size_t cap)
{
    if (img->build.n)
        snprintf(buf, cap, "%s/%s", img->dir, img->output);
    else
        snprintf(buf, cap, "%s", img->dir);
}

int64_t prof_image_size(const struct prof_image *img)
{
    char p[PATH_MAX];
    prof_image_app_dir(img, p, sizeof p);
    return tree_bytes(p);
}
