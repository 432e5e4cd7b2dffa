/* Who listens on a TCP port, from sock_diag (as ss asks; /proc/net/tcp
 * where the kernel has no inet_diag) and /proc/PID/fd: so
 * that a server that is not the target's can never make a run ready, and a
 * fixed --port already taken is refused with the name of its holder. */
#ifndef COLDSTART_SOCKETS_H
#define COLDSTART_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Socket inodes listening on `port` (any address, IPv4 and IPv6) in the
 * network namespace of `ns_pid` (0: the profiler's). Returns the count found
 * (at most cap are stored). */
size_t prof_tcp_listeners(pid_t ns_pid, unsigned port, unsigned long *inodes, size_t cap);
/* The first of pids (or, when pids is NULL, of every process) holding one of
 * the socket inodes open; 0 when none does. */
pid_t prof_socket_holder(const unsigned long *inodes, size_t n_inodes, const pid_t *pids,
                         size_t n_pids);
/* "pid 123 (nginx: master process)", from /proc/PID/cmdline. */
void prof_describe_pid(pid_t pid, char *buf, size_t cap);

/* CLOCK_REALTIME - CLOCK_MONOTONIC, from the tightest of a few paired reads:
 * the kernel's receive timestamps (SO_TIMESTAMPNS) are on the realtime clock. */
int64_t prof_realtime_minus_mono(void);
/* recv() that also takes the kernel's receive time of the data (a socket
 * with SO_TIMESTAMPNS), converted to the monotonic clock with the offset
 * above; *arrival_ns is 0 when the kernel did not say. */
ssize_t prof_recv_stamped(int fd, char *buf, size_t cap, int64_t realtime_minus_mono_ns,
                          uint64_t *arrival_ns);

#endif
