#include "profiler/oci/runconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "profiler/analysis/units.h"
#include "sandbox/base/fsutil.h"

/* Docker's PATH for an image that sets none. */
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Whether a folder of layer `dir` on the way to rel is opaque (hides lower layers). */
static bool opaque_on_the_way(const char *dir, const char *rel)
{
    char p[4096], v[4];
    for (const char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
        if (fs_pathf(p, sizeof p, NULL, "%s/%.*s", dir, (int)(slash - rel), rel) == 0 &&
            lgetxattr(p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y')
            return true;
    }
    return false;
}

int prof_oci_find_in_layers(const char *const *layers, size_t n_layers, const char *rel, char *buf,
                            size_t cap)
{
    for (size_t i = n_layers; i-- > 0;) {
        struct stat st;
        if (fs_pathf(buf, cap, NULL, "%s/%s", layers[i], rel) < 0)
            return -1;
        if (lstat(buf, &st) == 0)
            return is_whiteout(&st) || !S_ISREG(st.st_mode) ? -1 : 0;
        if (opaque_on_the_way(layers[i], rel))
            return -1;
    }
    return -1;
}

/* An id from the image's passwd or group file; -1 for one that is not a
 * number from 0 to 2^31-1 (so "4294967296" never wraps to root). */
static long id_or_invalid(const char *s)
{
    uint32_t id;
    cs_error ignored = {0};
    return prof_parse_id(s, &id, &ignored) == 0 ? (long)id : -1;
}

/* A line of /etc/passwd or /etc/group whose first field is name (or whose
 * third, the id, is name when by_id): the third and fourth fields. */
static bool lookup(const char *file, const char *name, bool by_id, long *ret_id, long *ret_gid,
                   char *home, size_t home_cap)
{
    FILE *f = file ? fopen(file, "re") : NULL;
    char line[1024];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) {
        char *fields[7] = {0}, *rest = line;
        size_t n = 0;
        line[strcspn(line, "\n")] = '\0';
        /* strsep, not strtok: an empty field (GECOS, often) is still a field. */
        for (char *t; n < 7 && (t = strsep(&rest, ":"));)
            fields[n++] = t;
        if (n < 3 || strcmp(fields[by_id ? 2 : 0], name) != 0)
            continue;
        *ret_id = id_or_invalid(fields[2]);
        *ret_gid = n > 3 ? id_or_invalid(fields[3]) : 0;
        if (home && n > 5)
            snprintf(home, home_cap, "%s", fields[5]);
        found = true;
    }
    if (f)
        fclose(f);
    return found;
}

static bool numeric(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* USER, UID, USER:GROUP or UID:GID, names resolved in the image's files. */
static int resolve_user(const char *spec, const char *const *layers, size_t n,
                        struct prof_oci_run *r, char *home, size_t home_cap, cs_error *err)
{
    char user[256], passwd[4096], group[4096];
    if (fs_pathf(user, sizeof user, err, "%s", spec) < 0)
        return cs_error_mark_input(err);
    char *colon = strchr(user, ':');
    const char *grp = NULL;
    if (colon) {
        *colon = '\0';
        grp = colon + 1;
    }
    bool have_passwd = prof_oci_find_in_layers(layers, n, "etc/passwd", passwd, sizeof passwd) == 0;
    long uid = 0, gid = 0;
    bool found =
        lookup(have_passwd ? passwd : NULL, user, numeric(user), &uid, &gid, home, home_cap);
    if (!found && !numeric(user))
        return cs_error_input(err, "the user `%s` is not in the image's /etc/passwd", user);
    if (!found)
        uid = id_or_invalid(user), gid = 0; /* as docker: an unknown uid gets gid 0 */
    if (grp && *grp) {
        bool have_group = prof_oci_find_in_layers(layers, n, "etc/group", group, sizeof group) == 0;
        long g = 0, unused;
        if (numeric(grp))
            g = id_or_invalid(grp);
        else if (!lookup(have_group ? group : NULL, grp, false, &g, &unused, NULL, 0))
            return cs_error_input(err, "the image's group `%s` is not in its /etc/group", grp);
        gid = g;
    }
    if (uid < 0 || gid < 0)
        return cs_error_input(err,
                              "the image's user `%s` has an id that is not a number from 0 to "
                              "%u (a larger one would wrap around to root)",
                              spec, PROF_ID_MAX);
    r->set_user = uid != 0 || gid != 0;
    r->uid = (uid_t)uid;
    r->gid = (gid_t)gid;
    return 0;
}

static char **strv_dup(char *const *a, size_t n_a, char *const *b, size_t n_b)
{
    char **v = calloc(n_a + n_b + 1, sizeof *v);
    for (size_t i = 0; v && a && i < n_a && a[i]; i++)
        v[i] = strdup(a[i]);
    for (size_t i = 0; v && b && i < n_b && b[i]; i++)
        v[n_a + i] = strdup(b[i]);
    return v;
}

size_t prof_oci_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* Entrypoint + Cmd, as docker: --entrypoint drops the image's Cmd too. */
static int make_argv(const struct prof_oci_config *c, const struct prof_oci_overrides *o,
                     struct prof_oci_run *r, cs_error *err)
{
    char *const entry[] = {(char *)o->entrypoint, NULL};
    char *const *ep = o->entrypoint ? entry : c->entrypoint;
    /* Entrypoint [""] is "no entrypoint" to Docker (what `--entrypoint ""`
     * writes): the Cmd alone runs. */
    if (ep && ep[0] && !ep[0][0] && !ep[1])
        ep = NULL;
    char *const *cmd = o->n_args ? o->args : o->entrypoint ? NULL : c->cmd;
    size_t n_cmd = o->n_args ? o->n_args : prof_oci_strv_len(cmd);
    r->argv = strv_dup(ep, prof_oci_strv_len(ep), cmd, n_cmd);
    if (!r->argv)
        return cs_error_set(err, ENOMEM, "out of memory");
    if (!r->argv[0])
        return cs_error_input(err, "the image has neither Entrypoint nor Cmd: give the command "
                                   "after --");
    if (!r->argv[0][0])
        return cs_error_input(err, "the image's command starts with an empty string: give the "
                                   "command after --");
    return 0;
}

/* The image's Env, the user's --env over it, PATH and HOME when missing. */
static int make_env(const struct prof_oci_config *c, const struct prof_oci_overrides *o,
                    const char *home, struct prof_oci_run *r, cs_error *err)
{
    size_t n = prof_oci_strv_len(c->env);
    char **v = calloc(n + o->n_env + 3, sizeof *v);
    if (!v)
        return cs_error_set(err, ENOMEM, "out of memory");
    r->env = v;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        v[k++] = strdup(c->env[i]);
    for (size_t i = 0; i < o->n_env; i++) {
        size_t key = strcspn(o->env[i], "=") + 1;
        size_t j;
        for (j = 0; j < k && strncmp(v[j], o->env[i], key) != 0; j++)
            ;
        if (j < k)
            free(v[j]);
        v[j] = strdup(o->env[i]);
        k += j == k;
    }
    bool path = false, has_home = false;
    for (size_t i = 0; i < k; i++) {
        path |= strncmp(v[i], "PATH=", 5) == 0;
        has_home |= strncmp(v[i], "HOME=", 5) == 0;
    }
    if (!path)
        v[k++] = strdup(DEFAULT_PATH);
    if (!has_home && asprintf(&v[k], "HOME=%s", *home ? home : "/") >= 0)
        k++;
    return 0;
}

int prof_oci_run_config(const struct prof_oci_config *c, const char *const *layers, size_t n_layers,
                        const struct prof_oci_overrides *o, struct prof_oci_run *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    char home[512] = "";
    const char *user = o->user ? o->user : c->user;
    if (make_argv(c, o, ret, err) < 0 ||
        (user && resolve_user(user, layers, n_layers, ret, home, sizeof home, err) < 0) ||
        make_env(c, o, home, ret, err) < 0) {
        prof_oci_run_free(ret);
        return -1;
    }
    ret->cwd = strdup(o->cwd ? o->cwd : c->working_dir ? c->working_dir : "/");
    cs_error why;
    if (c->stop_signal && prof_parse_signal(c->stop_signal, &ret->stop_signal, &why) < 0) {
        prof_oci_run_free(ret);
        return cs_error_input(err, "the image's StopSignal `%s`: %s", c->stop_signal,
                              cs_error_text(&why));
    }
    if (c->exposed_tcp_port)
        snprintf(ret->ready, sizeof ret->ready, "http://127.0.0.1:%u/", c->exposed_tcp_port);
    return ret->cwd ? 0 : cs_error_set(err, ENOMEM, "out of memory");
}

void prof_oci_run_free(struct prof_oci_run *r)
{
    for (size_t i = 0; r->argv && r->argv[i]; i++)
        free(r->argv[i]);
    for (size_t i = 0; r->env && r->env[i]; i++)
        free(r->env[i]);
    free(r->argv);
    free(r->env);
    free(r->cwd);
    memset(r, 0, sizeof *r);
}
