/* Who listens on a port (prof_tcp_listeners, prof_socket_holder), on real
 * sockets: IPv4 and IPv6 listeners found by inode, connected sockets on the
 * same port not counted, a closed listener gone, and a listener in another
 * network namespace found through a process of that namespace only. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "profiler/measure/sockets.h"

/* A listener on addr (any port); its port in *port. */
static int listen_on(int family, unsigned *port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0)
        return -1;
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static unsigned long inode_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

int main(void)
{
    unsigned long inodes[8];
    pid_t self = getpid();
    unsigned port6;
    int l6 = listen_on(AF_INET6, &port6);
    if (l6 < 0)
        SKIP("no IPv6 loopback here");
    if (geteuid() != 0)
        SKIP("a network namespace of its own needs root");

    unsigned port4;
    int l4 = listen_on(AF_INET, &port4);
    CHECK(l4 >= 0);
    CHECK_INT(prof_tcp_listeners(0, port4, inodes, 8), 1);
    CHECK(inodes[0] == inode_of(l4));
    CHECK_INT(prof_socket_holder(inodes, 1, &self, 1), self);
    CHECK_INT(prof_socket_holder(inodes, 1, NULL, 0), self);
    /* Through our own pid, as a run asks through its target's. */
    CHECK_INT(prof_tcp_listeners(self, port4, inodes, 8), 1);

    /* Connections on the port are not listeners. */
    int cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port4),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(cli, (struct sockaddr *)&to, sizeof to) == 0);
    int srv = accept(l4, NULL, NULL);
    CHECK(srv >= 0);
    CHECK_INT(prof_tcp_listeners(0, port4, inodes, 8), 1);
    close(l4);
    CHECK_INT(prof_tcp_listeners(0, port4, inodes, 8), 0); /* the connection stays */
    close(srv);
    close(cli);

    CHECK_INT(prof_tcp_listeners(0, port6, inodes, 8), 1);
    CHECK(inodes[0] == inode_of(l6));
    close(l6);

    /* Another network namespace: its listener is seen through its process,
     * not in ours. */
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t child = fork();
    if (child == 0) {
        unsigned p = 0;
        int fd = -1;
        if (unshare(CLONE_NEWNET) == 0) {
            int any = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port4)};
            if (any >= 0 && bind(any, (struct sockaddr *)&a, sizeof a) == 0 && listen(any, 4) == 0)
                fd = any, p = port4;
        }
        (void)fd;
        if (write(ready[1], &p, sizeof p) != sizeof p)
            _exit(1);
        for (;;)
            pause();
    }
    unsigned got = 0;
    CHECK(read(ready[0], &got, sizeof got) == sizeof got && got == port4);
    CHECK_INT(prof_tcp_listeners(child, port4, inodes, 8), 1);
    CHECK_INT(prof_socket_holder(inodes, 1, &child, 1), child);
    CHECK_INT(prof_tcp_listeners(0, port4, inodes, 8), 0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CHECK_DONE();
}
