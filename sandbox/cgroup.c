#include "sandbox/cgroup-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/process.h"
#include "sandbox/systemd_scope.h"

#define CGROUP_MOUNT "/sys/fs/cgroup"

static const struct {
    const char *name;
    unsigned bit;
} v1_controllers[] = {
    {"memory", CTL_MEMORY}, {"cpu", CTL_CPU},   {"cpuacct", CTL_CPUACCT},
    {"cpuset", CTL_CPUSET}, {"pids", CTL_PIDS}, {"freezer", CTL_FREEZER},
    {"blkio", CTL_BLKIO},
};

bool cg_has_file(const char *dir, const char *file)
{
    _cleanup_close_ int fd = fs_open_at(dir, file, O_PATH);
    return fd >= 0;
}

int cg_write(const char *dir, const char *file, const char *value, cs_error *err)
{
    return fs_write_at(dir, file, value, err);
}

int cg_mkdir(const struct sbx_cgroup_root *root, const char *dir, cs_error *err)
{
    if (mkdir(dir, 0755) < 0)
        return cs_error_set(err, errno, "cannot create `%s`", dir);
    if (root->fake_kernel)
        root->fake_kernel(dir, true, root->fake_kernel_data);
    return 0;
}

const char *cg_dir_for(const struct sbx_cgroup *cg, unsigned bit)
{
    for (size_t i = 0; i < cg->root->n_hier; i++)
        if ((cg->root->hier[i].controllers & bit) && cg->dir[i])
            return cg->dir[i];
    return NULL;
}

ssize_t cg_read_pids(const char *dir, pid_t *buf, size_t cap, cs_error *err)
{
    int fd = fs_open_at(dir, "cgroup.procs", O_RDONLY);
    _cleanup_fclose_ FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return cs_error_set(err, e, "cannot open `%s/cgroup.procs`", dir);
    }
    ssize_t n = 0;
    long pid;
    while (fscanf(f, "%ld", &pid) == 1) {
        if ((size_t)n < cap)
            buf[n] = (pid_t)pid;
        n++;
    }
    return n;
}

int cg_kill_listed(const char *dir, cs_error *err)
{
    pid_t pids[1024] = {0}; /* (clang's analyzer cannot see cg_read_pids fill it) */
    ssize_t n = cg_read_pids(dir, pids, 1024, err);
    if (n < 0)
        return -1;
    for (ssize_t i = 0; i < n && i < 1024; i++)
        kill(pids[i], SIGKILL);
    return (int)n;
}

/* Teardown is the one place that waits by polling: the kernel offers no event for
 * "cgroup.procs became empty" on v1, and the wait is short (tasks are SIGKILLed).
 * Bounded at 10 s so a stuck task (D state) is reported instead of hanging. */
int cg_wait_empty(const char *dir, cs_error *err)
{
    for (int i = 0; i < 10000; i++) {
        pid_t pids[1024] = {0};
        ssize_t n = cg_read_pids(dir, pids, 1024, err);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        for (ssize_t k = 0; k < n && k < 1024; k++)
            kill(pids[k], SIGKILL);
        sbx_reap_children();
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    return cs_error_set(err, EBUSY, "tasks of `%s` did not exit within 10 s of SIGKILL", dir);
}

/* ---- opening the hierarchy ---- */

const char *cg_path_next(const char **cursor, size_t *len)
{
    const char *p = *cursor;
    while (*p == '/')
        p++;
    *len = strcspn(p, "/");
    *cursor = p + *len;
    return *len ? p : NULL;
}

/* v1 with --cgroup-parent: the directory in every hierarchy, created with
 * its missing ancestors; a new cpuset level gets its parent's cpus and mems
 * (v1 starts them empty, and then no task may join). */
static int v1_make_parent(const char *mount_dir, const char *path, bool cpuset, char *out,
                          size_t cap, cs_error *err)
{
    if (fs_pathf(out, cap, err, "%s", mount_dir) < 0)
        return -1;
    const char *cursor = path, *name;
    size_t len;
    while ((name = cg_path_next(&cursor, &len))) {
        char up[4096];
        memcpy(up, out, strlen(out) + 1); /* out fits cap == sizeof up */
        if (fs_pathf(out, cap, err, "%s/%.*s", up, (int)len, name) < 0)
            return -1;
        if (mkdir(out, 0755) < 0) {
            if (errno == EEXIST)
                continue;
            return cs_error_set(err, errno, "cannot create `%s`", out);
        }
        for (const char *f = cpuset ? "cpuset.mems" : NULL; f;
             f = strcmp(f, "cpuset.mems") == 0 ? "cpuset.cpus" : NULL) {
            char v[256];
            if (fs_read_at(up, f, v, sizeof v, err) < 0)
                return -1;
            v[strcspn(v, "\n")] = '\0';
            if (cg_write(out, f, v, err) < 0)
                return -1;
        }
    }
    return 0;
}

static int open_v1(struct sbx_cgroup_root *root, const char *parent, cs_error *err)
{
    if (parent && (parent[0] != '/' || strstr(parent, "/..") || strstr(parent, "/./") ||
                   strncmp(parent, CGROUP_MOUNT "/", strlen(CGROUP_MOUNT) + 1) == 0))
        return cs_error_set(err, 0,
                            "--cgroup-parent `%s`: give a cgroup path such as /coldstart "
                            "(from each hierarchy's root, as in /proc/self/cgroup, not a "
                            "folder under " CGROUP_MOUNT "; no `.` or `..`)",
                            parent);
    int rc = cgroup_init();
    if (rc)
        return cs_error_set(err, 0, "libcgroup cannot read the cgroup mounts: %s",
                            cgroup_strerror(rc));
    for (size_t i = 0; i < sizeof v1_controllers / sizeof v1_controllers[0]; i++) {
        char *mount = NULL, *self = NULL;
        if (cgroup_get_subsys_mount_point(v1_controllers[i].name, &mount) != 0 || !mount)
            continue; /* controller not mounted here: features needing it are refused later */
        if (cgroup_get_current_controller_path(getpid(), v1_controllers[i].name, &self) != 0 ||
            !self) {
            free(mount);
            continue;
        }
        char dir[4096];
        if (parent) {
            if (v1_make_parent(mount, parent, v1_controllers[i].bit == CTL_CPUSET, dir, sizeof dir,
                               err) < 0) {
                free(mount);
                free(self);
                return cs_error_prefix(err, "--cgroup-parent %s", parent);
            }
        } else if (fs_pathf(dir, sizeof dir, err, "%s%s", mount,
                            strcmp(self, "/") == 0 ? "" : self) < 0) {
            free(mount);
            free(self);
            return -1;
        }
        if (v1_controllers[i].bit == CTL_MEMORY) /* the report names the memory hierarchy's */
            root->parent_path = strdup(parent ? parent : self);
        free(mount);
        free(self);
        size_t h;
        for (h = 0; h < root->n_hier; h++)
            if (strcmp(root->hier[h].parent_dir, dir) == 0)
                break;
        if (h == root->n_hier) {
            if (root->n_hier == MAX_HIERARCHIES)
                continue;
            root->hier[h].parent_dir = strdup(dir);
            root->n_hier++;
        }
        root->hier[h].controllers |= v1_controllers[i].bit;
        root->available |= v1_controllers[i].bit;
    }
    if (!(root->available & (CTL_MEMORY | CTL_CPUACCT | CTL_PIDS)))
        return cs_error_set(err, 0,
                            "no usable cgroup v1 controllers found (memory, cpuacct, pids); "
                            "is /sys/fs/cgroup mounted?");
    root->version = SBX_CGROUP_V1;
    root->ops = &cgroup_v1_ops;
    /* On v1 the other cgroups of the machine are not ours: only below our own. */
    root->placement = parent ? "parent" : "delegated";
    return 0;
}

int cg_self_v2_path(char *buf, size_t cap, cs_error *err)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return cs_error_set(err, errno, "cannot open /proc/self/cgroup");
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(buf, cap, "%s", line + 3);
            return 0;
        }
    }
    return cs_error_set(err, 0, "no cgroup v2 entry in /proc/self/cgroup");
}

int sbx_cgroup_root_open(const char *parent, struct sbx_cgroup_root **ret, cs_error *err)
{
    struct statfs sfs;
    if (statfs(CGROUP_MOUNT, &sfs) < 0)
        return cs_error_set(err, errno, "cannot stat %s", CGROUP_MOUNT);
    if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
        char self[4096];
        if (cg_self_v2_path(self, sizeof self, err) < 0)
            return -1;
        return sbx_cgroup_root_open_v2(CGROUP_MOUNT, self, parent, NULL, NULL, ret, err);
    }
    struct sbx_cgroup_root *root = calloc(1, sizeof *root);
    if (!root)
        return cs_error_set(err, ENOMEM, "cgroup root");
    if (open_v1(root, parent, err) < 0) {
        sbx_cgroup_root_close(root, NULL);
        return -1;
    }
    *ret = root;
    return 0;
}

int sbx_cgroup_root_open_v2(const char *mount, const char *self, const char *parent,
                            sbx_fake_kernel_fn fake, void *fake_data, struct sbx_cgroup_root **ret,
                            cs_error *err)
{
    struct sbx_cgroup_root *root = calloc(1, sizeof *root);
    if (!root)
        return cs_error_set(err, ENOMEM, "cgroup root");
    root->fake_kernel = fake;
    root->fake_kernel_data = fake_data;
    root->version = SBX_CGROUP_V2;
    root->ops = &cgroup_v2_ops;
    /* A fake tree has no systemd to ask. */
    if (cg_v2_place(root, mount, self, parent, fake ? CG_PLACE_NO_SYSTEMD : 0, err) < 0) {
        sbx_cgroup_root_close(root, NULL);
        return -1;
    }
    root->available |= CTL_FREEZER | CTL_CPUACCT; /* cgroup.freeze and cpu.stat are core files */
    *ret = root;
    return 0;
}

int sbx_cgroup_root_close(struct sbx_cgroup_root *root, cs_error *err)
{
    if (!root)
        return 0;
    int rc = 0;
    if (root->ops && root->ops->close_root)
        rc = root->ops->close_root(root, err);
    for (size_t i = 0; i < root->n_hier; i++)
        free(root->hier[i].parent_dir);
    free(root->v2_origin_dir);
    free(root->v2_leaf_dir);
    free(root->parent_path);
    free(root);
    return rc;
}

const char *sbx_cgroup_root_placement(const struct sbx_cgroup_root *root)
{
    return root->placement;
}

const char *sbx_cgroup_root_parent(const struct sbx_cgroup_root *root)
{
    return root->parent_path;
}

enum sbx_cgroup_version sbx_cgroup_root_version(const struct sbx_cgroup_root *root)
{
    return root->version;
}

/* ---- run cgroups ---- */

static struct sbx_cgroup *run_cgroup_alloc(struct sbx_cgroup_root *root, const char *name)
{
    struct sbx_cgroup *cg = calloc(1, sizeof *cg);
    if (!cg)
        return NULL;
    cg->root = root;
    cg->dirfd = cg->mem_fd = cg->cpu_fd = cg->procs_fd = cg->procs_dir_fd = -1;
    snprintf(cg->name, sizeof cg->name, "%s", name);
    for (size_t i = 0; i < root->n_hier; i++)
        if (asprintf(&cg->dir[i], "%s/%s", root->hier[i].parent_dir, name) < 0)
            cg->dir[i] = NULL;
    return cg;
}

static void run_cgroup_free(struct sbx_cgroup *cg)
{
    for (size_t i = 0; i < MAX_HIERARCHIES; i++)
        free(cg->dir[i]);
    if (cg->dirfd >= 0)
        close(cg->dirfd);
    if (cg->mem_fd >= 0)
        close(cg->mem_fd);
    if (cg->cpu_fd >= 0)
        close(cg->cpu_fd);
    if (cg->procs_fd >= 0)
        close(cg->procs_fd);
    if (cg->procs_dir_fd >= 0)
        close(cg->procs_dir_fd);
    free(cg);
}

/* v1: a run cgroup only in the hierarchies it uses. Memory, cpuacct (the
 * CPU it took), freezer (the kill) and blkio (what it read) always; cpu,
 * cpuset and pids only for --cpus, --cpuset and --pids. Each hierarchy costs
 * 60-200 us a run to make, join and remove, and joining cpu reschedules the
 * child (issue 29). Without a cpu cgroup nr_throttled is 0: nothing throttles
 * without a quota. A hierarchy shared with a used controller (cpu,cpuacct
 * mounted together) stays. */
static void skip_unused_hierarchies(struct sbx_cgroup *cg, const struct sbx_limits *l)
{
    const struct sbx_cgroup_root *root = cg->root;
    if (root->version != SBX_CGROUP_V1)
        return;
    unsigned used = CTL_MEMORY | CTL_CPUACCT | CTL_FREEZER | CTL_BLKIO;
    if (l->cpus > 0)
        used |= CTL_CPU;
    if (l->cpuset)
        used |= CTL_CPUSET;
    if (l->pids)
        used |= CTL_PIDS;
    for (size_t i = 0; i < root->n_hier; i++)
        if (!(root->hier[i].controllers & used)) {
            free(cg->dir[i]);
            cg->dir[i] = NULL;
        }
}

static int create_cgroup(struct sbx_cgroup_root *root, const struct sbx_limits *limits,
                         bool every_hierarchy, struct sbx_cgroup **ret, cs_error *err)
{
    static const struct sbx_limits none;
    if (!limits)
        limits = &none;
    if (limits->memory_bytes && !(root->available & CTL_MEMORY))
        return cs_error_set(err, 0,
                            "--memory needs the memory cgroup controller, which is "
                            "not available here");
    if (limits->cpus > 0 && !(root->available & CTL_CPU))
        return cs_error_set(err, 0,
                            "--cpus needs the cpu cgroup controller, which is not "
                            "available here");
    if (limits->cpuset && !(root->available & CTL_CPUSET))
        return cs_error_set(err, 0,
                            "--cpuset needs the cpuset cgroup controller, which is "
                            "not available here");
    if (limits->pids && !(root->available & CTL_PIDS))
        return cs_error_set(err, 0,
                            "--pids needs the pids cgroup controller, which is not "
                            "available here");
    char name[64];
    snprintf(name, sizeof name, CG_NAME_PREFIX "%ld-%u", (long)getpid(), ++root->next_id);
    struct sbx_cgroup *cg = run_cgroup_alloc(root, name);
    if (!cg)
        return cs_error_set(err, ENOMEM, "cgroup %s", name);
    if (!every_hierarchy)
        skip_unused_hierarchies(cg, limits);
    if (root->ops->create(cg, limits, err) < 0) {
        cs_error tmp;
        sbx_cgroup_destroy(cg, &tmp);
        return cs_error_prefix(err, "cannot set up cgroup %s", name);
    }
    *ret = cg;
    return 0;
}

int sbx_cgroup_create(struct sbx_cgroup_root *root, const struct sbx_limits *limits,
                      struct sbx_cgroup **ret, cs_error *err)
{
    return create_cgroup(root, limits, root->every_hierarchy, ret, err);
}

/* The root of the run cgroups inside a group: the group's folders as the
 * parents, everything else as the outer root has it. Closing it changes
 * nothing in the hierarchy (it placed nothing). */
static struct sbx_cgroup_root *inner_root(const struct sbx_cgroup_root *outer,
                                          const struct sbx_cgroup *group)
{
    struct sbx_cgroup_root *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->version = outer->version;
    in->ops = outer->ops;
    in->available = outer->available;
    in->placement = outer->placement;
    in->fake_kernel = outer->fake_kernel;
    in->fake_kernel_data = outer->fake_kernel_data;
    in->every_hierarchy = true;
    in->parent_path = strdup(outer->parent_path ? outer->parent_path : "/");
    for (size_t i = 0; i < outer->n_hier; i++) {
        if (!group->dir[i])
            continue;
        in->hier[in->n_hier].controllers = outer->hier[i].controllers;
        in->hier[in->n_hier].parent_dir = strdup(group->dir[i]);
        if (!in->hier[in->n_hier++].parent_dir) {
            sbx_cgroup_root_close(in, NULL);
            return NULL;
        }
    }
    return in;
}

int sbx_cgroup_create_group(struct sbx_cgroup_root *root, const struct sbx_limits *limits,
                            struct sbx_cgroup **ret_group, struct sbx_cgroup_root **ret_inner,
                            cs_error *err)
{
    struct sbx_cgroup *group = NULL;
    /* In every hierarchy: the run cgroups inside go where the group is. */
    if (create_cgroup(root, limits, true, &group, err) < 0 || !group)
        return -1;
    /* v2: the group gives its controllers on to the run cgroups (it holds no
     * process itself, as the v2 rule wants). */
    unsigned give = root->available & (CTL_MEMORY | CTL_CPU | CTL_CPUSET | CTL_PIDS | CTL_BLKIO);
    if (root->version == SBX_CGROUP_V2 &&
        cg_v2_enable_controllers(group->dir[0], give, NULL, err) < 0) {
        cs_error tmp;
        sbx_cgroup_destroy(group, &tmp);
        return cs_error_prefix(err, "cannot set up the burst's cgroup %s", group->name);
    }
    struct sbx_cgroup_root *in = inner_root(root, group);
    if (!in) {
        cs_error tmp;
        sbx_cgroup_destroy(group, &tmp);
        return cs_error_set(err, ENOMEM, "cgroup group");
    }
    *ret_group = group;
    *ret_inner = in;
    return 0;
}

const char *sbx_cgroup_name(const struct sbx_cgroup *cg)
{
    return cg->name;
}

const char *sbx_cgroup_path(const struct sbx_cgroup *cg)
{
    const char *d = cg_dir_for(cg, CTL_MEMORY);
    return d ? d : cg->dir[0];
}

int sbx_cgroup_dirfd(const struct sbx_cgroup *cg)
{
    return cg->dirfd;
}

int sbx_cgroup_open_join_fds(struct sbx_cgroup *cg, int *fds, size_t cap, size_t *ret_n,
                             cs_error *err)
{
    /* v1: the child is single-threaded when it joins, so its one task moves
     * through `tasks`, which needs no more than the task's own lock. A write
     * to cgroup.procs moves a whole thread group: it takes the machine-wide
     * cgroup_threadgroup_rwsem and waits an RCU grace period, 12 ms a run
     * here against 37 us (issue 29). v2 places the child with clone3. */
    const char *file = cg->root->version == SBX_CGROUP_V1 ? "tasks" : "cgroup.procs";
    size_t n = 0;
    for (size_t i = 0; i < cg->root->n_hier; i++) {
        if (!cg->dir[i])
            continue;
        if (n == cap)
            break;
        int fd = fs_open_at(cg->dir[i], file, O_WRONLY);
        if (fd < 0) {
            int e = errno;
            while (n > 0)
                close(fds[--n]);
            return cs_error_set(err, e, "cannot open `%s/%s`", cg->dir[i], file);
        }
        fds[n++] = fd;
    }
    *ret_n = n;
    return 0;
}

int sbx_cgroup_sample(struct sbx_cgroup *cg, uint64_t *ret_memory_bytes, uint64_t *ret_cpu_us)
{
    return cg->root->ops->sample(cg, ret_memory_bytes, ret_cpu_us);
}

int sbx_cgroup_read_usage(struct sbx_cgroup *cg, struct sbx_cgroup_usage *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    return cg->root->ops->read_usage(cg, ret, err);
}

/* The sampler lists the pids every tick: where the kernel lists live tasks
 * (v2), keep cgroup.procs open and re-read it with pread; where it caches the
 * list per open file (v1), open it afresh so that new processes show. */
ssize_t sbx_cgroup_pids(struct sbx_cgroup *cg, pid_t *buf, size_t cap, cs_error *err)
{
    const char *dir = cg_dir_for(cg, CTL_MEMORY);
    if (!dir)
        dir = cg->dir[0];
    bool reopen = cg->root->ops->procs_list_cached;
    if (cg->procs_dir_fd < 0)
        cg->procs_dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cg->procs_fd < 0) {
        cg->procs_fd = cg->procs_dir_fd < 0 ? -1
                                            : openat(cg->procs_dir_fd, "cgroup.procs",
                                                     O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (cg->procs_fd < 0)
            return cs_error_set(err, errno, "cannot open `%s/cgroup.procs`", dir);
    }
    char text[65536];
    ssize_t len = fs_pread_all(cg->procs_fd, text, sizeof text);
    if (reopen) {
        close(cg->procs_fd);
        cg->procs_fd = -1;
    }
    if (len < 0)
        return cs_error_set(err, errno, "cannot read the pids of `%s`", dir);
    if ((size_t)len + 1 >= sizeof text) /* more pids than fit: read them all the slow way */
        return cg_read_pids(dir, buf, cap, err);
    ssize_t n = 0;
    for (char *p = text; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if ((size_t)n < cap)
            buf[n] = (pid_t)pid;
        n++;
        p = end;
    }
    return n;
}

/* Cgroups the target made below its run cgroup (a container runtime such
 * as runc makes one for its container; so may systemd or a test harness):
 * their tasks killed and the folders removed, deepest first, so that the run
 * cgroup itself can go. */
static int remove_child_cgroups(const char *dir, int depth, cs_error *err)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d || depth > 32)
        return 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char child[PATH_MAX];
        if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
            fs_pathf(child, sizeof child, NULL, "%s/%s", dir, de->d_name) < 0)
            continue;
        if (remove_child_cgroups(child, depth + 1, err) < 0 || cg_kill_listed(child, err) < 0 ||
            cg_wait_empty(child, err) < 0)
            rc = -1;
        else if (rmdir(child) < 0 && errno != ENOENT)
            rc = cs_error_set(err, errno, "cannot remove the target's cgroup `%s`", child);
    }
    return rc;
}

/* The cheap way first: the kernel refuses to rmdir a cgroup that still has
 * a task or a child cgroup (EBUSY), so trying it is safe, and for the usual
 * run, whose target has exited and been reaped, it is all there is to do.
 * The freeze, kill and wait of the full path cost ~950 us a run on v1 (the
 * freezer flips a machine-wide static key twice). True when every folder
 * went; the ones that did are forgotten either way. */
static bool remove_if_empty(struct sbx_cgroup *cg)
{
    if (cg->root->fake_kernel)
        return false;
    bool all = true;
    for (size_t i = 0; i < cg->root->n_hier; i++) {
        if (!cg->dir[i])
            continue;
        if (rmdir(cg->dir[i]) == 0 || errno == ENOENT) {
            free(cg->dir[i]);
            cg->dir[i] = NULL;
        } else {
            all = false;
        }
    }
    return all;
}

int sbx_cgroup_destroy(struct sbx_cgroup *cg, cs_error *err)
{
    if (!cg)
        return 0;
    if (remove_if_empty(cg)) {
        sbx_reap_children(); /* its exited orphans, re-parented to us */
        run_cgroup_free(cg);
        return 0;
    }
    int rc = 0;
    cs_error tmp;
    if (cg->root->ops->kill_all(cg, &tmp) < 0) {
        *err = tmp;
        rc = -1;
    }
    sbx_reap_children();
    for (size_t i = 0; i < cg->root->n_hier; i++) {
        if (!cg->dir[i])
            continue;
        if (!cg->root->fake_kernel && remove_child_cgroups(cg->dir[i], 0, &tmp) < 0 && rc == 0) {
            *err = tmp;
            rc = -1;
        }
        /* rmdir can briefly fail with EBUSY while the kernel finishes releasing
         * the last exited task; retry for up to a second. */
        int tries = 0;
        if (cg->root->fake_kernel)
            cg->root->fake_kernel(cg->dir[i], false, cg->root->fake_kernel_data);
        while (rmdir(cg->dir[i]) < 0) {
            if (errno == ENOENT)
                break;
            if (errno != EBUSY || ++tries > 1000) {
                if (rc == 0)
                    rc = cs_error_set(err, errno, "cannot remove cgroup `%s`", cg->dir[i]);
                break;
            }
            sbx_reap_children();
            nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        }
    }
    run_cgroup_free(cg);
    return rc;
}

/* ---- stale cgroups of dead profilers ---- */

/* True when `pid` is a zombie: exited, but never waited for. Where PID 1
 * reaps no orphans (containers, some CI runners) a SIGKILLed profiler whose
 * parent is gone stays one for good, and kill(pid, 0) still succeeds on it. */
static bool is_zombie(long pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (fs_read_file(path, stat, sizeof stat, NULL) < 0)
        return false;
    const char *close_paren = strrchr(stat, ')'); /* the name may hold anything */
    return close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

/* `coldstart-<pid><rest>` of a profiler that is gone (no such process, or a
 * zombie): its pid, else 0. A live pid may be a reused one; then we leave the
 * cgroup alone: wrongly keeping a cgroup is harmless, wrongly killing another
 * profiler's run is not. */
static long dead_owner(const char *name, const char **rest)
{
    if (strncmp(name, CG_NAME_PREFIX, strlen(CG_NAME_PREFIX)) != 0)
        return 0;
    const char *p = name + strlen(CG_NAME_PREFIX);
    char *end;
    long pid = strtol(p, &end, 10);
    if (end == p || pid <= 0 || pid == (long)getpid())
        return 0;
    *rest = end;
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        return pid;
    return is_zombie(pid) ? pid : 0;
}

/* A run cgroup or profiler leaf: coldstart-<pid>-<n>, coldstart-<pid>-profiler. */
static bool is_stale_name(const char *name)
{
    const char *rest;
    return dead_owner(name, &rest) && *rest == '-';
}

/* Destroys the cgroup at `dir` through the backend (kill, wait, rmdir). */
static int destroy_dir(struct sbx_cgroup_root *root, const char *dir, cs_error *err)
{
    struct sbx_cgroup *cg = run_cgroup_alloc(root, "stale");
    if (!cg)
        return cs_error_set(err, ENOMEM, "stale cgroup");
    for (size_t h = 0; h < MAX_HIERARCHIES; h++) {
        free(cg->dir[h]);
        cg->dir[h] = NULL;
    }
    cg->dir[0] = strdup(dir);
    return sbx_cgroup_destroy(cg, err);
}

/* Under a systemd placement each profiler has its scope: a SIGKILLed one
 * leaves its scope alive while a process of its runs is (the target's
 * children outlive PDEATHSIG). Its siblings coldstart-<deadpid>.scope in
 * the slice are killed here and our cgroups in them removed; systemd then
 * collects the empty scope (waited for up to a second). */
static unsigned reap_stale_scopes(struct sbx_cgroup_root *root, cs_error *err)
{
    if (!root->placement || strcmp(root->placement, "systemd-scope") != 0 || !root->v2_origin_dir)
        return 0;
    _cleanup_free_ char *slice = strdup(root->v2_origin_dir);
    if (!slice || !strrchr(slice, '/'))
        return 0;
    *strrchr(slice, '/') = '\0';
    _cleanup_closedir_ DIR *d = opendir(slice);
    if (!d)
        return 0;
    unsigned reaped = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *rest;
        if (de->d_type != DT_DIR || !dead_owner(de->d_name, &rest) ||
            strcmp(rest, SBX_SYSTEMD_SCOPE_SUFFIX) != 0)
            continue;
        char scope[4400];
        if (fs_pathf(scope, sizeof scope, err, "%s/%s", slice, de->d_name) < 0)
            continue;
        cg_write(scope, "cgroup.kill", "1", NULL); /* the whole subtree at once */
        /* systemd removes the scope, subtree and all, once it is empty. */
        for (int i = 0; i < 100 && access(scope, F_OK) == 0; i++)
            nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
        _cleanup_closedir_ DIR *sd = opendir(scope); /* still there: ours go by hand */
        struct dirent *child;
        while (sd && (child = readdir(sd))) {
            char dir[4700];
            cs_error e;
            if (fs_pathf(dir, sizeof dir, err, "%s/%s", scope, child->d_name) == 0 &&
                child->d_type == DT_DIR && is_stale_name(child->d_name) &&
                destroy_dir(root, dir, &e) < 0 && access(dir, F_OK) == 0)
                cs_error_set(err, 0, "cannot reap stale cgroup %s: %s", dir, cs_error_text(&e));
        }
        reaped++;
    }
    return reaped;
}

/* Tries to remove a stale cgroup's folders as they are. True when one is
 * held by tasks we cannot see: it lists no pid, has no child cgroup, and
 * the kernel still calls it busy. That is a live profiler's run in another
 * pid namespace (one that ran coldstart from outside ours, e.g. a CI
 * sandbox's parent): its owner only looks dead to us. Not ours to reap. */
static bool held_by_unseen_tasks(struct sbx_cgroup *cg)
{
    for (size_t h = 0; h < cg->root->n_hier; h++) {
        if (!cg->dir[h] || cg->root->fake_kernel || rmdir(cg->dir[h]) == 0 || errno != EBUSY)
            continue;
        pid_t pid;
        if (cg_read_pids(cg->dir[h], &pid, 1, NULL) != 0)
            continue; /* tasks we see: the kill goes on */
        _cleanup_closedir_ DIR *d = opendir(cg->dir[h]);
        struct dirent *de;
        bool children = false;
        while (d && (de = readdir(d)))
            children |= de->d_type == DT_DIR && de->d_name[0] != '.';
        if (!children)
            return true;
    }
    return false;
}

int sbx_cgroup_reap_stale(struct sbx_cgroup_root *root, unsigned *ret_reaped, cs_error *err)
{
    unsigned reaped = 0;
    /* Collect names over all hierarchies, then destroy each once through the
     * backend, which handles every hierarchy of the cgroup. */
    char names[64][64];
    size_t n_names = 0;
    for (size_t h = 0; h < root->n_hier; h++) {
        _cleanup_closedir_ DIR *d = opendir(root->hier[h].parent_dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) && n_names < 64) {
            /* Ours are short (coldstart-PID-N): a longer name is not ours, and
             * must not be cut down to one that is. */
            if (de->d_type != DT_DIR || !is_stale_name(de->d_name) ||
                strlen(de->d_name) >= sizeof names[0])
                continue;
            size_t k;
            for (k = 0; k < n_names; k++)
                if (strcmp(names[k], de->d_name) == 0)
                    break;
            if (k == n_names)
                memcpy(names[n_names++], de->d_name, strlen(de->d_name) + 1);
        }
    }
    int rc = 0;
    for (size_t k = 0; k < n_names; k++) {
        struct sbx_cgroup *cg = run_cgroup_alloc(root, names[k]);
        if (!cg)
            return cs_error_set(err, ENOMEM, "stale cgroup");
        /* Only the hierarchies where it exists. */
        for (size_t h = 0; h < root->n_hier; h++) {
            struct stat st;
            if (cg->dir[h] && stat(cg->dir[h], &st) < 0) {
                free(cg->dir[h]);
                cg->dir[h] = NULL;
            }
        }
        if (held_by_unseen_tasks(cg)) {
            run_cgroup_free(cg);
            continue;
        }
        cs_error e;
        if (sbx_cgroup_destroy(cg, &e) < 0) {
            if (rc == 0)
                rc = cs_error_set(err, 0, "cannot reap stale cgroup %s: %s", names[k],
                                  cs_error_text(&e));
        } else {
            reaped++;
        }
    }
    cs_error scope_err = {0};
    reaped += reap_stale_scopes(root, &scope_err);
    if (scope_err.msg[0] && rc == 0) {
        if (err)
            *err = scope_err;
        rc = -1;
    }
    if (ret_reaped)
        *ret_reaped = reaped;
    return rc;
}
