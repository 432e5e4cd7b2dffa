/* The load generator (--load CONNS:DURATION, --rate N): HTTP/1.1 keep-alive
 * connections driven by epoll on threads of their own, so the run's 1 ms
 * sampler keeps its pace in the main loop. Closed loop (each connection
 * sends its next request when the answer is in) or open loop at a fixed
 * rate, where a request's latency counts from the moment it was due, not
 * from when it could be sent (a stalled server cannot hide its stall:
 * coordinated omission, corrected as wrk2 does). Latencies go into a
 * histogram of fixed size; nothing is allocated per request. Errors are
 * counted by kind and the connection is opened again; they never stop the
 * load. */
#ifndef COLDSTART_LOAD_H
#define COLDSTART_LOAD_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "profiler/analysis/histogram.h"
#include "sandbox/base/error.h"

#define PROF_LOAD_MAX_CONNS 4096
#define PROF_LOAD_MAX_THREADS 16
/* A request not answered this long is a timeout (wrk's default too). */
#define PROF_LOAD_REQUEST_TIMEOUT_NS (2000ull * 1000000)

/* What the command line asks for (--load, --rate, --load-path). */
struct prof_load_opts {
    unsigned connections; /* 0: no load phase */
    uint64_t duration_us;
    double rate;      /* 0: closed loop */
    const char *path; /* NULL: the path of the requests after ready */
    /* --load-cmd: a command of the user's instead of the generator
     * (load_command.c); {port} not yet substituted. NULL: none. */
    const char *command;
    /* How long the command may run (0: --timeout, from its start); size
     * keeps the user's --timeout here when it tightens the start's. */
    uint64_t command_timeout_us;
};

struct prof_load_spec {
    unsigned connections;
    uint64_t duration_ns;
    double rate; /* requests per second over all connections; 0: closed loop */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int netns_fd;        /* the target's network namespace; -1: ours */
    const char *request; /* the whole GET, sent as is on every request */
    size_t request_len;
    int ok_status_min, ok_status_max;
    unsigned threads; /* 1..PROF_LOAD_MAX_THREADS, at most one per connection */
    bool pin;         /* run the threads on `cpus` only */
    cpu_set_t cpus;
};

struct prof_load_result {
    uint64_t requests; /* responses completed within the duration */
    uint64_t errors_connect, errors_read, errors_status, errors_timeout;
    uint64_t elapsed_ns;       /* from the start to the end (or the stop) */
    uint64_t generator_cpu_ns; /* CPU the generator's threads used */
    struct cs_hist latency;    /* ns */
};

struct prof_load;

/* Whether the hard RLIMIT_NOFILE leaves room for the connections (the soft
 * one is raised for the load's time when needed). */
int prof_load_check_nofile(unsigned connections, cs_error *err);
/* Starts the threads; the load begins at once. */
int prof_load_start(const struct prof_load_spec *spec, struct prof_load **ret, cs_error *err);
/* Readable (an eventfd) once every thread has finished. */
int prof_load_done_fd(const struct prof_load *l);
/* Asks the threads to stop now (the target died, the run was interrupted). */
void prof_load_stop(struct prof_load *l);
/* Waits for the threads, merges what they measured into *ret and frees l. */
void prof_load_join(struct prof_load *l, struct prof_load_result *ret);

/* The threads a load uses and the CPUs they run on: pinned to the CPUs the
 * target's cpuset leaves free, a thread for each; without a cpuset (or one
 * that leaves none free) unpinned, a thread per two CPUs (the target needs
 * the others). Never more threads than connections. */
void prof_load_placement(const char *target_cpuset, unsigned connections,
                         struct prof_load_spec *spec);

#endif
