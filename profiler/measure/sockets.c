#include "profiler/measure/sockets.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/spawn.h"

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

/* The listeners of one address family through sock_diag (what `ss -l`
 * asks): the kernel walks only its listening hash. /proc/net/tcp walks the
 * whole established hash, sized by the machine's memory: 6-10 ms a read
 * here, with the event loop, and every other run of a burst, waiting.
 * Returns the count so far, or -1 when the kernel did not answer (no
 * inet_diag: the caller reads /proc instead). */
static ssize_t diag_listeners(int nl, int family, unsigned port, unsigned long *inodes, size_t cap,
                              size_t n)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } msg = {
        .nlh = {.nlmsg_len = sizeof msg,
                .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                .nlmsg_seq = 1},
        .req = {.sdiag_family = (uint8_t)family,
                .sdiag_protocol = IPPROTO_TCP,
                .idiag_states = 1u << TCP_LISTEN_STATE},
    };
    if (send(nl, &msg, sizeof msg, 0) != (ssize_t)sizeof msg)
        return -1;
    /* A dump comes in datagrams of whole messages, ended by NLMSG_DONE. */
    static _Alignas(struct nlmsghdr) char buf[32768];
    for (int rounds = 0; rounds < 4096; rounds++) {
        ssize_t len = recv(nl, buf, sizeof buf, 0);
        if (len < 0)
            return errno == EINTR ? (ssize_t)n : -1;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
             h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return (ssize_t)n;
            if (h->nlmsg_type == NLMSG_ERROR)
                return -1;
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
                h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                continue;
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            if (ntohs(m->id.idiag_sport) != port || m->idiag_state != TCP_LISTEN_STATE)
                continue;
            if (n < cap)
                inodes[n] = m->idiag_inode;
            n++;
        }
    }
    return (ssize_t)n;
}

size_t prof_tcp_listeners(pid_t ns_pid, unsigned port, unsigned long *inodes, size_t cap)
{
    char path[64];
    _cleanup_close_ int netns = -1;
    if (ns_pid > 0) {
        snprintf(path, sizeof path, "/proc/%ld/ns/net", (long)ns_pid);
        netns = open(path, O_RDONLY | O_CLOEXEC);
    }
    _cleanup_close_ int nl =
        ns_pid > 0 && netns < 0
            ? -1
            : sbx_socket_in(netns, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG, NULL);
    if (nl >= 0) {
        struct timeval bound = {.tv_sec = 1}; /* the kernel answers at once; never hang */
        setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
        ssize_t n4 = diag_listeners(nl, AF_INET, port, inodes, cap, 0);
        ssize_t n6 = n4 < 0 ? -1 : diag_listeners(nl, AF_INET6, port, inodes, cap, (size_t)n4);
        if (n6 >= 0)
            return (size_t)n6;
    }
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
