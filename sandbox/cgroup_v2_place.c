/* Where run cgroups live on cgroup v2, chosen as the container runtimes do
 * (docs/cgroups.md):
 *
 *   1. parent        --cgroup-parent PATH, created when missing;
 *   2. delegated     the profiler's own cgroup, when it is alone in it and may
 *                    write below it (a Delegate=yes unit, a container's root):
 *                    it moves itself into a leaf and enables the controllers
 *                    for the run cgroups beside that leaf;
 *   3. systemd-scope under systemd, a transient scope with Delegate=yes for the
 *                    profiler itself (systemd_scope.c), then as in 2;
 *   4. root-subtree  as root, /sys/fs/cgroup/coldstart/ (runc's cgroupfs way);
 *   5. otherwise an error that lists what the user can do.
 *
 * The rule that shapes all of it: a v2 cgroup other than the root may hold
 * processes or give controllers to its children, never both. */
#include "sandbox/cgroup-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/base/fsutil.h"
#include "sandbox/systemd_scope.h"

static const struct {
    const char *name;
    unsigned bit;
} v2_controllers[] = {
    {"memory", CTL_MEMORY | CTL_FREEZER}, /* v2 freezes with cgroup.freeze, no controller */
    {"cpu", CTL_CPU | CTL_CPUACCT},
    {"cpuset", CTL_CPUSET},
    {"pids", CTL_PIDS},
    {"io", CTL_BLKIO},
};
#define N_V2_CONTROLLERS (sizeof v2_controllers / sizeof v2_controllers[0])

/* The subtree below the v2 root when nothing better is offered (path 4). */
#define ROOT_SUBTREE "/coldstart"

static bool word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

/* Controllers (our bits) named in dir/file: cgroup.controllers or cgroup.subtree_control. */
static int read_controllers(const char *dir, const char *file, unsigned *ret, cs_error *err)
{
    char text[512];
    if (fs_read_at(dir, file, text, sizeof text, err) < 0)
        return -1;
    unsigned bits = 0;
    for (size_t i = 0; i < N_V2_CONTROLLERS; i++)
        if (word_in(text, v2_controllers[i].name))
            bits |= v2_controllers[i].bit;
    *ret = bits;
    return 0;
}

void cg_v2_controller_list(unsigned bits, char sign, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < N_V2_CONTROLLERS; i++)
        if (bits & v2_controllers[i].bit)
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%c%s", buf[0] ? " " : "", sign,
                     v2_controllers[i].name);
}

/* Enables in dir's subtree_control those of `bits` not enabled yet. Returns
 * the bits it enabled itself in *ret_added (to hand back on close). */
int cg_v2_enable_controllers(const char *dir, unsigned bits, unsigned *ret_added, cs_error *err)
{
    unsigned on;
    if (read_controllers(dir, "cgroup.subtree_control", &on, err) < 0)
        return -1;
    unsigned add = bits & ~on;
    if (ret_added)
        *ret_added = add;
    if (!add)
        return 0;
    char list[128];
    cg_v2_controller_list(add, '+', list, sizeof list);
    if (cg_write(dir, "cgroup.subtree_control", list, err) < 0) {
        if (err && err->errnum == EBUSY)
            return cs_error_set(err, EBUSY,
                                "cannot enable %s in `%s`: it holds processes, and a cgroup v2 "
                                "other than the root cannot hold processes and give controllers "
                                "to its children",
                                list, dir);
        return cs_error_prefix(err, "cannot enable %s", list);
    }
    return 0;
}

static bool is_v2_root(const char *dir)
{
    return !cg_has_file(dir, "cgroup.type"); /* only the root cgroup has none */
}

/* When the profiler is the only process of dir: true. Otherwise false and a
 * message naming up to three of the others. */
static bool alone_in(const char *dir, cs_error *err)
{
    pid_t pids[64];
    ssize_t n = cg_read_pids(dir, pids, 64, err);
    if (n < 0)
        return false;
    char others[256] = "";
    ssize_t n_others = 0;
    for (ssize_t i = 0; i < n && i < 64; i++) {
        if (pids[i] == getpid())
            continue;
        if (++n_others <= 3) {
            char comm[64] = "?", cpath[64];
            snprintf(cpath, sizeof cpath, "/proc/%ld/comm", (long)pids[i]);
            if (fs_read_file(cpath, comm, sizeof comm, NULL) > 0)
                comm[strcspn(comm, "\n")] = '\0';
            snprintf(others + strlen(others), sizeof others - strlen(others), "%s%ld (%s)",
                     others[0] ? ", " : "", (long)pids[i], comm);
        }
    }
    if (n > 64) /* more than we listed: not alone either way */
        n_others += n - 64;
    if (n_others == 0)
        return true;
    cs_error_set(err, 0, "other processes share it: %s%s", others, n_others > 3 ? ", ..." : "");
    return false;
}

static int join(const char *dir, cs_error *err)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    return cg_write(dir, "cgroup.procs", pid, err);
}

/* Path 2: run cgroups beside a leaf that holds the profiler, in a cgroup the
 * profiler has to itself. Undoes every step when one fails. */
static int use_own_cgroup(struct sbx_cgroup_root *root, const char *dir, cs_error *err)
{
    if (is_v2_root(dir))
        return cs_error_set(err, 0, "it is the root cgroup");
    if (!alone_in(dir, err))
        return -1;
    unsigned offered;
    if (read_controllers(dir, "cgroup.controllers", &offered, err) < 0)
        return -1;
    if (!(offered & CTL_MEMORY))
        return cs_error_set(err, 0,
                            "the memory controller is not delegated to it (cgroup.controllers)");
    char leaf[4096];
    if (fs_pathf(leaf, sizeof leaf, err, "%s/" CG_NAME_PREFIX "%ld-profiler", dir, (long)getpid()) <
        0)
        return -1;
    /* A leaf of this pid can only be a dead profiler's: reuse it. */
    if (access(leaf, F_OK) < 0 && cg_mkdir(root, leaf, err) < 0)
        return -1;
    unsigned added = 0;
    if (join(leaf, err) < 0 || cg_v2_enable_controllers(dir, offered, &added, err) < 0) {
        join(dir, NULL);
        rmdir(leaf);
        return -1;
    }
    root->v2_origin_dir = strdup(dir);
    root->v2_leaf_dir = strdup(leaf);
    root->v2_enabled = added;
    root->available = offered;
    return 0;
}

/* Paths 1 and 4: the cgroup `path` below the mount, created with every
 * missing directory, the controllers enabled along the way. What we create
 * there stays for the next run (as /sys/fs/cgroup/docker does); the run
 * cgroups below it are removed. */
static int use_parent_path(struct sbx_cgroup_root *root, const char *mount, const char *path,
                           cs_error *err)
{
    char dir[4096];
    if (fs_pathf(dir, sizeof dir, err, "%s", mount) < 0)
        return -1;
    /* Along the way, enabling is best effort (a user may not write the
     * root's subtree_control, and need not when it is enabled already):
     * what is missing at the end is refused by the features that need it. */
    cs_error along = {0};
    const char *cursor = path, *name;
    size_t len;
    while ((name = cg_path_next(&cursor, &len))) {
        unsigned here;
        if (read_controllers(dir, "cgroup.controllers", &here, err) < 0)
            return -1;
        cs_error e;
        if (cg_v2_enable_controllers(dir, here, NULL, &e) < 0 && !along.msg[0])
            along = e;
        size_t at = strlen(dir);
        if (fs_pathf(dir + at, sizeof dir - at, err, "/%.*s", (int)len, name) < 0)
            return -1;
        if (access(dir, F_OK) < 0 && cg_mkdir(root, dir, err) < 0 && err->errnum != EEXIST)
            return -1; /* EEXIST: another coldstart made it just now */
    }
    unsigned offered;
    if (read_controllers(dir, "cgroup.controllers", &offered, err) < 0)
        return -1;
    if (!(offered & CTL_MEMORY)) {
        if (along.msg[0])
            return cs_error_set(err, along.errnum, "no memory controller in `%s`: %s", dir,
                                along.msg);
        return cs_error_set(err, 0, "no memory controller in `%s` (cgroup.controllers)", dir);
    }
    if (cg_v2_enable_controllers(dir, offered, NULL, err) < 0)
        return -1;
    root->available = offered;
    free(root->hier[0].parent_dir);
    root->hier[0].parent_dir = strdup(dir);
    return 0;
}

/* "/a/b" or "/sys/fs/cgroup/a/b" → "/a/b" below the mount; no "..", no ".". */
static int parse_parent(const char *mount, const char *given, char *out, size_t cap, cs_error *err)
{
    size_t ml = strlen(mount);
    const char *p = given;
    if (strncmp(given, mount, ml) == 0 && (given[ml] == '/' || given[ml] == '\0'))
        p = given + ml;
    if (p[0] != '/')
        return cs_error_set(err, 0,
                            "--cgroup-parent `%s`: give a cgroup path such as /coldstart.slice "
                            "(from the cgroup v2 root, as in /proc/self/cgroup)",
                            given);
    const char *cursor = p, *name;
    size_t len;
    while ((name = cg_path_next(&cursor, &len)))
        if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
            return cs_error_set(err, 0, "--cgroup-parent `%s`: `.` and `..` are not allowed",
                                given);
    if (strlen(p) >= cap)
        return cs_error_set(err, ENAMETOOLONG, "--cgroup-parent `%s`", given);
    snprintf(out, cap, "%s", p);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    return 0;
}

static void set_placement(struct sbx_cgroup_root *root, const char *placement, const char *mount)
{
    root->placement = placement;
    const char *dir = root->v2_origin_dir ? root->v2_origin_dir : root->hier[0].parent_dir;
    const char *rel = dir + strlen(mount);
    free(root->parent_path);
    root->parent_path = strdup(rel[0] ? rel : "/");
}

int cg_v2_place(struct sbx_cgroup_root *root, const char *mount, const char *self,
                const char *parent, unsigned flags, cs_error *err)
{
    char own[4096];
    if (fs_pathf(own, sizeof own, err, "%s%s", mount, strcmp(self, "/") == 0 ? "" : self) < 0)
        return -1;
    root->hier[0].parent_dir = strdup(own);
    root->n_hier = 1;

    if (parent) {
        char rel[4096];
        if (parse_parent(mount, parent, rel, sizeof rel, err) < 0)
            return -1;
        char dir[4200];
        if (fs_pathf(dir, sizeof dir, err, "%s%s", mount, strcmp(rel, "/") == 0 ? "" : rel) < 0)
            return -1;
        /* Naming its own cgroup is asking for path 2 by name. */
        int rc = strcmp(dir, own) == 0 ? use_own_cgroup(root, own, err)
                                       : use_parent_path(root, mount, rel, err);
        if (rc < 0)
            return cs_error_prefix(err, "--cgroup-parent %s", parent);
        set_placement(root, "parent", mount);
        return 0;
    }

    cs_error own_err = {0}, systemd_err = {0}, subtree_err = {0};
    if (use_own_cgroup(root, own, &own_err) == 0) {
        set_placement(root, "delegated", mount);
        return 0;
    }
    snprintf(systemd_err.msg, sizeof systemd_err.msg, "not tried");
    if (!(flags & CG_PLACE_NO_SYSTEMD)) {
        char scope[4096];
        if (sbx_systemd_enter_scope(&systemd_err) == 0 &&
            cg_self_v2_path(scope, sizeof scope, &systemd_err) == 0) {
            char dir[4200];
            if (fs_pathf(dir, sizeof dir, &systemd_err, "%s%s", mount, scope) < 0)
                goto no_scope;
            free(root->hier[0].parent_dir);
            root->hier[0].parent_dir = strdup(dir);
            if (use_own_cgroup(root, dir, &systemd_err) == 0) {
                set_placement(root, "systemd-scope", mount);
                return 0;
            }
        no_scope:
            cs_error_prefix(&systemd_err, "scope `%s`", scope);
        }
    }
    if (geteuid() != 0)
        snprintf(subtree_err.msg, sizeof subtree_err.msg, "only root may create it");
    else if (use_parent_path(root, mount, ROOT_SUBTREE, &subtree_err) == 0) {
        set_placement(root, "root-subtree", mount);
        return 0;
    }
    return cs_error_set(
        err, 0,
        "no cgroup v2 place for the runs: own cgroup `%.200s`: %.200s; systemd: %.160s; "
        "%s%s: %.120s. "
        "Run coldstart alone in a delegated cgroup (systemd-run --scope -p Delegate=yes "
        "coldstart ..., or as a user: systemd-run --user --scope -p Delegate=yes coldstart ...), "
        "run it as root, or name a cgroup you may write with --cgroup-parent PATH",
        self, cs_error_text(&own_err), cs_error_text(&systemd_err), mount, ROOT_SUBTREE,
        cs_error_text(&subtree_err));
}

/* Hands back what path 2 changed so that the cgroup is as we found it: the
 * controllers off, the profiler back in it, the leaf gone. Every step is
 * tried; a failure is reported (the leaf left behind is reaped as stale by
 * the next coldstart once this one has exited). */
int cg_v2_unplace(struct sbx_cgroup_root *root, cs_error *err)
{
    if (!root->v2_leaf_dir)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < N_V2_CONTROLLERS; i++) {
        if (!(root->v2_enabled & v2_controllers[i].bit))
            continue;
        char off[32];
        snprintf(off, sizeof off, "-%s", v2_controllers[i].name);
        cs_error e;
        if (cg_write(root->v2_origin_dir, "cgroup.subtree_control", off, &e) < 0 && rc == 0)
            rc = cs_error_set(err, e.errnum,
                              "cannot disable %s in `%s` (a cgroup below it "
                              "still uses it?): %s",
                              off + 1, root->v2_origin_dir, e.msg);
    }
    cs_error e;
    if (join(root->v2_origin_dir, &e) < 0) {
        if (rc == 0)
            rc = cs_error_set(err, e.errnum, "cannot move back to `%s`: %s", root->v2_origin_dir,
                              e.msg);
    } else {
        if (root->fake_kernel)
            root->fake_kernel(root->v2_leaf_dir, false, root->fake_kernel_data);
        if (rmdir(root->v2_leaf_dir) < 0 && rc == 0)
            rc = cs_error_set(err, errno, "cannot remove `%s`", root->v2_leaf_dir);
    }
    if (rc < 0)
        cs_error_prefix(err, "leaving `%s` (the next coldstart removes it)", root->v2_leaf_dir);
    return rc;
}
