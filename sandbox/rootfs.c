#include "sandbox/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Large enough for an overlay option string of many layers; the child has
 * no heap to spare. */
static char opts[65536];
static char path[4096];

#define FAIL(what)                                                                                 \
    do {                                                                                           \
        *ret_step = (what);                                                                        \
        return -1;                                                                                 \
    } while (0)

/* scratch/NAME, checked to fit. */
static const char *at(const char *dir, const char *name)
{
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return path;
}

static int make_dir(const char *dir, const char *name, mode_t mode)
{
    const char *p = at(dir, name);
    return p && (mkdir(p, mode) == 0 || errno == EEXIST) ? 0 : -1;
}

/* lowerdir=TOP:...:BASE (overlayfs lists the uppermost lower layer first). */
static int overlay_options(const struct sbx_rootfs *r, const char *scratch)
{
    size_t len = 0;
    int n = snprintf(opts, sizeof opts, "lowerdir=");
    len = (size_t)n;
    for (size_t i = r->n_lowers; i-- > 0;) {
        n = snprintf(opts + len, sizeof opts - len, "%s%s", i + 1 < r->n_lowers ? ":" : "",
                     r->lowers[i]);
        if (n < 0 || (size_t)n >= sizeof opts - len)
            return -1;
        len += (size_t)n;
    }
    n = snprintf(opts + len, sizeof opts - len, ",upperdir=%s/upper,workdir=%s/work", scratch,
                 scratch);
    return n < 0 || (size_t)n >= sizeof opts - len ? -1 : 0;
}

/* A host device bound onto an empty file of the new /dev. */
static int bind_device(const char *dev, const char *name)
{
    char host[64];
    snprintf(host, sizeof host, "/dev/%s", name);
    const char *p = at(dev, name);
    if (!p)
        return -1;
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    close(fd);
    return mount(host, p, NULL, MS_BIND, NULL);
}

static int make_dev(const char *root, const char **ret_step)
{
    static char dev[4096];
    if (!at(root, "dev"))
        FAIL("/dev");
    snprintf(dev, sizeof dev, "%s", path);
    if (mkdir(dev, 0755) < 0 && errno != EEXIST)
        FAIL("/dev");
    /* nodev: the devices below are bind mounts of the host's, each its own
     * mount; a node the target makes here (mknod) opens nothing. */
    if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=755,size=65536k") < 0)
        FAIL("/dev");
    static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
        if (bind_device(dev, devices[i]) < 0)
            FAIL("/dev device");
    if (make_dir(dev, "pts", 0755) < 0 || mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC,
                                                "newinstance,ptmxmode=0666,mode=0620") < 0)
        FAIL("/dev/pts");
    if (make_dir(dev, "shm", 01777) < 0 ||
        mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777") < 0)
        FAIL("/dev/shm");
    static const char *const links[][2] = {{"/proc/self/fd", "fd"},
                                           {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"},
                                           {"pts/ptmx", "ptmx"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (!at(dev, links[i][1]) || symlink(links[i][0], path) < 0)
            FAIL("/dev links");
    return 0;
}

/* What crun and Docker keep from a container's /proc (and /sys): the
 * kernel's knobs read-only (a writable /proc/sys/kernel/core_pattern is root
 * on the host), and files that expose or poke the host masked. */
static const char *const readonly_paths[] = {"bus", "fs", "irq", "sys", "sysrq-trigger"};
static const char *const masked_paths[] = {"acpi",       "asound",      "kcore",
                                           "keys",       "latency_stats", "timer_list",
                                           "timer_stats", "sched_debug", "scsi"};

/* PROC/NAME bound onto itself, then made read-only (with everything below). */
static int make_readonly(const char *proc, const char *name)
{
    const char *p = at(proc, name);
    if (!p)
        return -1;
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
        return errno == ENOENT ? 0 : -1; /* not in this kernel */
    struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                        MOUNT_ATTR_NOEXEC};
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, p, AT_RECURSIVE, &ro, sizeof ro);
}

/* A file hidden under /dev/null, a folder under an empty read-only tmpfs. */
static int mask(const char *proc, const char *name)
{
    const char *p = at(proc, name);
    struct stat st;
    if (!p)
        return -1;
    if (lstat(p, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode))
        return mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
    return mount("/dev/null", p, NULL, MS_BIND, NULL);
}

/* /proc fresh with the host's knobs masked or read-only, /sys the host's,
 * read-only all the way down. */
static int make_proc_sys(const char *root, const char **ret_step)
{
    static char proc[4096];
    if (make_dir(root, "proc", 0555) < 0 ||
        mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        FAIL("/proc");
    memcpy(proc, path, sizeof proc);
    for (size_t i = 0; i < sizeof readonly_paths / sizeof readonly_paths[0]; i++)
        if (make_readonly(proc, readonly_paths[i]) < 0)
            FAIL("/proc read-only paths");
    for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++)
        if (mask(proc, masked_paths[i]) < 0)
            FAIL("/proc masked paths");
    if (make_dir(root, "sys", 0555) < 0 || mount("/sys", path, NULL, MS_BIND | MS_REC, NULL) < 0)
        FAIL("/sys");
    struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                        MOUNT_ATTR_NOEXEC};
    if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &ro, sizeof ro) < 0)
        FAIL("/sys read-only");
    static char sys[4096];
    memcpy(sys, path, sizeof sys);
    if (mask(sys, "firmware") < 0 || mask(sys, "devices/virtual/powercap") < 0)
        FAIL("/sys masked paths");
    return 0;
}

int sbx_rootfs_enter(const struct sbx_rootfs *r, const char **ret_step)
{
    static char root[4096], size[64] = "mode=755";
    if (r->tmpfs_bytes)
        snprintf(size, sizeof size, "mode=755,size=%zu", r->tmpfs_bytes);
    if (mount("tmpfs", r->scratch, "tmpfs", MS_NOSUID | MS_NODEV, size) < 0)
        FAIL("the writable layer's tmpfs");
    if (make_dir(r->scratch, "upper", 0755) < 0 || make_dir(r->scratch, "work", 0755) < 0 ||
        make_dir(r->scratch, "root", 0755) < 0)
        FAIL("the overlay's folders");
    snprintf(root, sizeof root, "%s", path);
    if (overlay_options(r, r->scratch) < 0) {
        errno = E2BIG;
        FAIL("the overlay's layer list");
    }
    /* nodev: a device node shipped in a layer (a 0666 /dev/kmsg or a block
     * device) or made by the target must not open the host's device. */
    if (mount("overlay", root, "overlay", MS_NODEV, opts) < 0)
        FAIL("the overlay of the image's layers");
    if (r->mount_only)
        return 0;
    if (make_dev(root, ret_step) < 0 || make_proc_sys(root, ret_step) < 0)
        return -1;
    /* pivot_root(".", ".") and a lazy unmount of the old root, as runc
     * does: no folder for the old root is needed inside the new one. */
    if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
        FAIL("pivot_root");
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        FAIL("detaching the host's root");
    return 0;
}
