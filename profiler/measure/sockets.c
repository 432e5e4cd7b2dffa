#include "profiler/measure/sockets.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"

#define TCP_LISTEN_STATE 0x0A

static size_t scan_table(const char *path, unsigned port, unsigned long *inodes, size_t cap,
                         size_t n)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return n;
    char line[512];
    if (!fgets(line, sizeof line, f)) /* the header */
        return n;
    while (fgets(line, sizeof line, f)) {
        /* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
        char local[64];
        unsigned st;
        unsigned long inode;
        if (sscanf(line, " %*s %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st, &inode) != 3)
            continue;
        const char *colon = strrchr(local, ':');
        if (st != TCP_LISTEN_STATE || !colon || strtoul(colon + 1, NULL, 16) != port)
            continue;
        if (n < cap)
            inodes[n] = inode;
        n++;
    }
    return n;
}

size_t prof_tcp_listeners(pid_t ns_pid, unsigned port, unsigned long *inodes, size_t cap)
{
    char path[64];
    size_t n = 0;
    const char *tables[] = {"tcp", "tcp6"};
    for (size_t i = 0; i < 2; i++) {
        if (ns_pid > 0)
            snprintf(path, sizeof path, "/proc/%ld/net/%s", (long)ns_pid, tables[i]);
        else
            snprintf(path, sizeof path, "/proc/net/%s", tables[i]);
        n = scan_table(path, port, inodes, cap, n);
    }
    return n;
}

static bool holds(pid_t pid, const unsigned long *inodes, size_t n_inodes)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *de;
    while ((de = readdir(d))) {
        char link[64];
        ssize_t len = readlinkat(dirfd(d), de->d_name, link, sizeof link - 1);
        if (len <= 8)
            continue;
        link[len] = '\0';
        unsigned long inode;
        if (sscanf(link, "socket:[%lu]", &inode) != 1)
            continue;
        for (size_t i = 0; i < n_inodes; i++)
            if (inodes[i] == inode)
                return true;
    }
    return false;
}

pid_t prof_socket_holder(const unsigned long *inodes, size_t n_inodes, const pid_t *pids,
                         size_t n_pids)
{
    if (n_inodes == 0)
        return 0;
    if (pids) {
        for (size_t i = 0; i < n_pids; i++)
            if (holds(pids[i], inodes, n_inodes))
                return pids[i];
        return 0;
    }
    _cleanup_closedir_ DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        if (holds((pid_t)pid, inodes, n_inodes))
            return (pid_t)pid;
    }
    return 0;
}

void prof_describe_pid(pid_t pid, char *buf, size_t cap)
{
    char path[64], cmd[256];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
    ssize_t n = fs_read_file(path, cmd, sizeof cmd, NULL);
    if (n <= 0) {
        snprintf(buf, cap, "pid %ld", (long)pid);
        return;
    }
    for (ssize_t i = 0; i < n - 1; i++)
        if (cmd[i] == '\0')
            cmd[i] = ' ';
    cmd[n < (ssize_t)sizeof cmd ? n : (ssize_t)sizeof cmd - 1] = '\0';
    snprintf(buf, cap, "pid %ld (%s)", (long)pid, cmd);
}

int64_t prof_realtime_minus_mono(void)
{
    int64_t best = 0, best_gap = INT64_MAX;
    for (int i = 0; i < 5; i++) {
        struct timespec a, r, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_REALTIME, &r);
        clock_gettime(CLOCK_MONOTONIC, &b);
        int64_t ma = (int64_t)a.tv_sec * 1000000000 + a.tv_nsec;
        int64_t mb = (int64_t)b.tv_sec * 1000000000 + b.tv_nsec;
        int64_t rt = (int64_t)r.tv_sec * 1000000000 + r.tv_nsec;
        if (mb - ma < best_gap) {
            best_gap = mb - ma;
            best = rt - (ma + (mb - ma) / 2);
        }
    }
    return best;
}

ssize_t prof_recv_stamped(int fd, char *buf, size_t cap, int64_t realtime_minus_mono_ns,
                          uint64_t *arrival_ns)
{
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n = recvmsg(fd, &msg, 0);
    *arrival_ns = 0;
    if (n <= 0)
        return n;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            int64_t rt = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            *arrival_ns = (uint64_t)(rt - realtime_minus_mono_ns);
        }
    }
    return n;
}
