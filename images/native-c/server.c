/* The floor every runtime is compared with: a minimal single-threaded epoll
 * HTTP/1.1 server with keep-alive. Serves GET / -> "ok", GET /json -> a JSON
 * message, GET /health -> 200 on 127.0.0.1:$PORT; logs nothing per request. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define BUF 8192

struct conn {
    int fd;
    size_t len;
    char buf[BUF];
};

static const char *response_for(const char *req)
{
    if (strncmp(req, "GET /json ", 10) == 0)
        return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
               "{\"message\":\"Hello, World!\"}";
    if (strncmp(req, "GET /health ", 12) == 0)
        return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    if (strncmp(req, "GET / ", 6) == 0)
        return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
    return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
}

/* Answers every complete request in the buffer; returns -1 to close. */
static int serve(struct conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->buf + c->len, BUF - 1 - c->len);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        char *end;
        while ((end = strstr(c->buf, "\r\n\r\n"))) {
            const char *r = response_for(c->buf);
            if (write(c->fd, r, strlen(r)) < 0)
                return -1;
            size_t used = (size_t)(end + 4 - c->buf);
            memmove(c->buf, c->buf + used, c->len - used + 1);
            c->len -= used;
        }
        if (c->len >= BUF - 1)
            return -1; /* a request head larger than the buffer */
    }
}

int main(void)
{
    const char *port = getenv("PORT");
    if (!port) {
        fprintf(stderr, "server: set PORT\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(port)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 511) < 0) {
        perror("server: bind/listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            if (serve(c) < 0) {
                close(c->fd);
                free(c);
            }
        }
    }
}
