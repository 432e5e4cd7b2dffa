#include "profiler/measure/dotnet_ipc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"
#include "sandbox/spawn.h"

/* The diagnostics IPC protocol (dotnet/diagnostics documentation/design-docs/
 * ipc-protocol.md): a 20-byte header, then the payload, little-endian. */
#define IPC_MAGIC "DOTNET_IPC_V1"
#define COMMANDSET_PROCESS 0x04
#define PROCESS_ENABLE_PERFMAP 0x05
#define COMMANDSET_SERVER 0xFF
#define SERVER_OK 0x00
#define PERFMAP_TYPE_PERFMAP 3 /* the map alone, no jitdump */

struct ipc_header {
    char magic[14];
    uint16_t size;
    uint8_t commandset, commandid;
    uint16_t reserved;
} __attribute__((packed));

/* /tmp/dotnet-diagnostic-NSPID-KEY-socket in the process's own /tmp, as an
 * O_PATH descriptor of the socket itself: found without leaving the root,
 * not followed if it is a symlink (a container's name for a host socket). */
static int find_socket(const char *root, long nspid)
{
    int tmp = fs_open_in_root(root, "/tmp", O_RDONLY | O_DIRECTORY);
    DIR *d = tmp >= 0 ? fdopendir(tmp) : NULL; /* owns tmp from here */
    if (!d) {
        if (tmp >= 0)
            close(tmp);
        return -1;
    }
    char prefix[64];
    int n = snprintf(prefix, sizeof prefix, "dotnet-diagnostic-%ld-", nspid);
    int fd = -1;
    for (struct dirent *e; fd < 0 && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, (size_t)n) != 0 || len < 8 ||
            strcmp(e->d_name + len - 7, "-socket") != 0)
            continue;
        fd = openat(dirfd(d), e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))) {
            close(fd);
            fd = -1;
        }
    }
    closedir(d);
    return fd;
}

/* Waits for fd until one deadline for the whole exchange (a peer that
 * drips its answer a byte at a time must not restart the clock per byte), in
 * steps of at most 50 ms so that a stop signal (Ctrl-C) ends it at once. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        uint64_t now = sbx_now_ns();
        if (now >= deadline_ns || sbx_pending_stop_signal())
            return -1;
        uint64_t left_ms = (deadline_ns - now + 999999) / 1000000;
        int rc = poll(&p, 1, left_ms > 50 ? 50 : (int)left_ms);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

int prof_dotnet_write_perf_map(const char *root, long nspid, int timeout_ms)
{
    if (timeout_ms <= 0)
        return -1;
    uint64_t deadline_ns = sbx_now_ns() + (uint64_t)timeout_ms * 1000000;
    _cleanup_close_ int sock = find_socket(root, nspid);
    if (sock < 0)
        return -1; /* not .NET, or its diagnostics are turned off */
    /* Connected through the descriptor: the very socket found above. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d", sock);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        return -1;
    struct {
        struct ipc_header h;
        uint32_t type;
    } __attribute__((packed)) req = {.h = {.size = sizeof req,
                                           .commandset = COMMANDSET_PROCESS,
                                           .commandid = PROCESS_ENABLE_PERFMAP},
                                     .type = PERFMAP_TYPE_PERFMAP};
    memcpy(req.h.magic, IPC_MAGIC, sizeof IPC_MAGIC);
    if (wait_fd(fd, POLLOUT, deadline_ns) < 0 ||
        send(fd, &req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req)
        return -1;
    /* The answer comes once the runtime has written every method it has
     * compiled so far into its perf map. */
    struct {
        struct ipc_header h;
        uint32_t hresult;
    } __attribute__((packed)) resp;
    size_t got = 0;
    while (got < sizeof resp) {
        if (wait_fd(fd, POLLIN, deadline_ns) < 0)
            return -1;
        ssize_t n = recv(fd, (char *)&resp + got, sizeof resp - got, 0);
        if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
            return -1;
        if (n > 0)
            got += (size_t)n;
    }
    return resp.h.commandset == COMMANDSET_SERVER && resp.h.commandid == SERVER_OK ? 0 : -1;
}
