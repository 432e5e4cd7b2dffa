#include "profiler/oci/bundle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "reports/cjson_cleanup.h"
#include "sandbox/base/fsutil.h"

/* Docker's default capability set less CAP_MKNOD (the builtin runtime keeps
 * the same). Docker can keep CAP_MKNOD because its devices cgroup refuses
 * every device but a few; coldstart runs crun with its cgroup manager off,
 * so a node made in the container's /dev (a tmpfs crun fills with mknod,
 * which cannot be nodev) would open the host's device. */
static const char *const docker_caps[] = {
    "CAP_CHOWN",      "CAP_DAC_OVERRIDE", "CAP_FOWNER",     "CAP_FSETID",           "CAP_KILL",
    "CAP_SETGID",     "CAP_SETUID",       "CAP_SETPCAP",    "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
    "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE",  "CAP_SETFCAP"};

static cJSON *string_array(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n && v[i]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *mount_entry(const char *dest, const char *type, const char *source,
                          const char *const *options, size_t n)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "destination", dest);
    cJSON_AddStringToObject(m, "type", type);
    cJSON_AddStringToObject(m, "source", source);
    cJSON_AddItemToObject(m, "options", string_array(options, n));
    return m;
}

/* The mounts of `crun spec`, less the cgroupfs (the host's /sys/fs/cgroup
 * stays out of the container, as with the builtin runtime's read-only /sys). */
static cJSON *mounts(void)
{
    static const char *const dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
    static const char *const pts[] = {"nosuid",        "noexec",    "newinstance",
                                      "ptmxmode=0666", "mode=0620", "gid=5"};
    static const char *const shm[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"};
    static const char *const mq[] = {"nosuid", "noexec", "nodev"};
    static const char *const sys[] = {"nosuid", "noexec", "nodev", "ro"};
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, mount_entry("/proc", "proc", "proc", NULL, 0));
    cJSON_AddItemToArray(a, mount_entry("/dev", "tmpfs", "tmpfs", dev, 4));
    cJSON_AddItemToArray(a, mount_entry("/dev/pts", "devpts", "devpts", pts, 6));
    cJSON_AddItemToArray(a, mount_entry("/dev/shm", "tmpfs", "shm", shm, 5));
    cJSON_AddItemToArray(a, mount_entry("/dev/mqueue", "mqueue", "mqueue", mq, 3));
    cJSON_AddItemToArray(a, mount_entry("/sys", "sysfs", "sysfs", sys, 4));
    return a;
}

static cJSON *linux_section(void)
{
    static const char *const masked[] = {
        "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/sys/firmware",       "/proc/scsi"};
    static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                           "/proc/sysrq-trigger"};
    static const char *const ns[] = {"pid", "ipc", "uts", "mount"};
    cJSON *l = cJSON_CreateObject();
    cJSON *nss = cJSON_AddArrayToObject(l, "namespaces");
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        cJSON *n = cJSON_CreateObject();
        cJSON_AddStringToObject(n, "type", ns[i]);
        cJSON_AddItemToArray(nss, n);
    }
    cJSON_AddItemToObject(l, "maskedPaths", string_array(masked, sizeof masked / sizeof masked[0]));
    cJSON_AddItemToObject(l, "readonlyPaths",
                          string_array(readonly, sizeof readonly / sizeof readonly[0]));
    return l;
}

static cJSON *process_section(const struct prof_oci_run *run)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddBoolToObject(p, "terminal", false);
    cJSON *u = cJSON_AddObjectToObject(p, "user");
    cJSON_AddNumberToObject(u, "uid", run->set_user ? run->uid : 0);
    cJSON_AddNumberToObject(u, "gid", run->set_user ? run->gid : 0);
    cJSON_AddItemToObject(
        p, "args", string_array((const char *const *)run->argv, prof_oci_strv_len(run->argv)));
    cJSON_AddItemToObject(p, "env",
                          string_array((const char *const *)run->env, prof_oci_strv_len(run->env)));
    cJSON_AddStringToObject(p, "cwd", run->cwd);
    cJSON *caps = cJSON_AddObjectToObject(p, "capabilities");
    const char *sets[] = {"bounding", "effective", "permitted"};
    for (size_t i = 0; i < 3; i++)
        cJSON_AddItemToObject(
            caps, sets[i], string_array(docker_caps, sizeof docker_caps / sizeof docker_caps[0]));
    cJSON_AddBoolToObject(p, "noNewPrivileges", true);
    return p;
}

int prof_oci_bundle_write(const char *dir, const struct prof_oci_run *run, const char *root_path,
                          const char *hostname, cs_error *err)
{
    _cleanup_cjson_ cJSON *c = cJSON_CreateObject();
    if (!c)
        return cs_error_set(err, ENOMEM, "out of memory");
    cJSON_AddStringToObject(c, "ociVersion", "1.0.2");
    cJSON_AddItemToObject(c, "process", process_section(run));
    cJSON *root = cJSON_AddObjectToObject(c, "root");
    cJSON_AddStringToObject(root, "path", root_path);
    cJSON_AddBoolToObject(root, "readonly", false);
    cJSON_AddStringToObject(c, "hostname", hostname);
    cJSON_AddItemToObject(c, "mounts", mounts());
    cJSON_AddItemToObject(c, "linux", linux_section());
    char *text = cJSON_Print(c);
    if (!text)
        return cs_error_set(err, ENOMEM, "out of memory");
    char path[4096];
    int rc = fs_pathf(path, sizeof path, err, "%s/config.json", dir);
    if (rc == 0)
        rc = fs_create_file(path, text, err);
    free(text);
    return rc;
}
