/* What the files of one cold start share (run.c: the loop, the process and
 * its milestones; probe.c: the HTTP/TCP probe; capture.c: the target's
 * output). Not for use outside profiler/measure/run*.c, probe.c, capture.c. */
#ifndef COLDSTART_RUN_INTERNAL_H
#define COLDSTART_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "profiler/measure/http.h"
#include "profiler/measure/output.h"
#include "profiler/measure/perf_sampler.h"
#include "profiler/measure/run.h"

/* After a listen() notification the socket is listening a few microseconds
 * later, once the target thread runs again: retry a refused connect quickly
 * at first, then at the 1 ms floor. */
#define FAST_RETRY_US 50
#define FAST_RETRIES 40
#define RETRY_US 1000
/* With a seccomp listener the probe waits for listen(); this slow poll only
 * covers targets that listen without calling listen() (an inherited socket). */
#define FALLBACK_POLL_US 20000
/* A target that listens on an address the probe does not connect to may
 * listen on the right one an instant later (nginx binds every `listen` line in
 * turn): this long, then the run fails with both addresses named. */
#define ADDRESS_MISMATCH_GRACE_US 250000

/* What an epoll event is about; the loop's signalfd has no run. */
enum ev_tag {
    EV_EXEC,
    EV_PIDFD,
    EV_STDOUT,
    EV_STDERR,
    EV_NOTIFY_SOCK,
    EV_LISTENER,
    EV_SAMPLE,
    EV_RETRY,
    EV_PROBE,
    EV_LOAD_DONE,  /* the load generator's threads have finished */
    EV_LOAD_REST,  /* a second after the load: memory at rest after work */
    EV_PROFILE,    /* the CPU profile's ring buffer is half full */
    EV_EXEC_PROBE, /* an exec: readiness attempt ended */
    EV_SIGNAL,
    EV_N,
};

struct prof_run;

/* epoll_event.data.ptr: which run, and which of its descriptors. */
struct ev_source {
    struct prof_run *c; /* NULL for the loop's own signalfd */
    enum ev_tag tag;
};

enum probe_state { P_IDLE, P_CONNECTING, P_SENDING, P_READING, P_EXCHANGE };

struct probe {
    int fd;
    /* CLOCK_MONOTONIC time the kernel received the bytes being parsed (from
     * SO_TIMESTAMPNS), so milestones do not include the profiler's own
     * wake-up latency; 0 when unknown (then: now). */
    uint64_t arrival_ns;
    enum probe_state st;
    struct http_response resp;
    char req[4096];
    size_t req_len, req_sent;
    uint64_t req_start_ns;
    unsigned requests_done; /* after ready */
    int fast_retries_left;
    /* Keep-alive: a connection that already carried a response may have been
     * closed by the server since (HTTP/1.1 servers that close after each
     * response without saying so). A request lost that way is sent once more
     * on a new connection, as curl does; its latency includes the reconnect. */
    bool reused;  /* this connection carried a response before */
    bool resend;  /* the request in req is being sent again: keep req_start_ns */
    bool retried; /* the request in req was already sent again once */
    size_t addr;  /* index into the target's addresses being probed */
    /* Answers before ready with a --ready-retry-status status: how many, and
     * the last one (for a timeout's message). */
    unsigned retry_answers;
    int last_retry_status;
    /* tcp:// with an exchange: the answer so far, and the last one that did
     * not match (for a timeout's message). */
    char answer[4096];
    size_t answer_len;
    char last_answer[96];
};

/* The load after ready (load_phase.c). */
struct load_phase {
    struct prof_load *gen; /* running; NULL before and after */
    int rest_tfd;
    bool resting;
    uint64_t start_ns;
    uint64_t last_kept_ns;     /* the last sample kept in the series under load */
    int64_t rss_peak, cg_peak; /* sampled while the load runs */
    uint64_t cpu_start_us, kernel_peak_start;
    char request[4096];
    /* --load-cmd (load_command.c): its process (0: none), pidfd and output. */
    pid_t cmd_pid;
    int cmd_pidfd, cmd_out;
};

#define DENIED_NR_MAX 1024

struct prof_run {
    const struct prof_run_spec *spec;
    struct rep_run *run;
    struct prof_run_loop *loop;
    struct ev_source sources[EV_N];
    struct sbx_cgroup *cg;
    struct sbx_child child;
    int sample_tfd, retry_tfd, listener;
    /* Denied system calls counted by number while the target runs (no name
     * lookup or allocation while it waits on our answer); into the run
     * record's denied_syscalls when the run ends. Numbers past the table
     * count in `denied_other`. */
    uint32_t denied[DENIED_NR_MAX];
    uint32_t denied_other;
    uint64_t t0, deadline_ns;
    bool released;    /* the child was let go to exec: the clock runs */
    bool shared_gate; /* it waits at the loop's gate (prof_run_prepare) */
    bool exec_done, main_exited, ready, done, interrupted;
    struct probe probe;
    struct prof_output *out;
    /* The target listened on the probed port but on an address the probe does
     * not reach: the run fails at this deadline unless a matching listen comes. */
    uint64_t mismatch_deadline_ns;
    char mismatch[320];
    char first_listen[96]; /* the first TCP address it listened on, "" before */
    char foreign[256];     /* a listener on the port that is not the target's */
    /* Connected before any listen() of the target was seen: when. Whose
     * socket answered is checked once the answer is in, off the measured path. */
    uint64_t unverified_connect_ns;
    size_t requests_cap; /* run->requests_us has room for this many */
    int64_t rss_peak, cg_peak;
    int64_t io_read_bytes;          /* from /proc/PID/io at ready, or rusage at exit */
    int64_t realtime_minus_mono_ns; /* to convert kernel receive timestamps */
    uint64_t last_maps_ns;
    struct prof_sample last;
    bool have_last;
    cs_error setup_err; /* why set-up failed */
    struct {
        bool sent, had_main; /* the stop signal went out; to the main process */
        uint64_t start_ns;   /* when; 0: nothing was running */
    } stop;
    struct load_phase load;
    struct exec_probe {
        pid_t pid; /* the attempt running; 0: none */
        int pidfd;
        unsigned attempts;
        int last_exit;
    } exec_probe;
    struct perf_sampler perf; /* --profile cpu; fd -1: not profiled */
    bool profile_done;        /* its samples were resolved and added */
    uint64_t last_drain_ns;   /* the rings were last read on a sampling tick */
};

/* One epoll set for every run in it (run.c). */
struct prof_run_loop {
    int ep;
    int signal_fd; /* not owned; -1: none */
    struct ev_source signal_source;
    struct prof_run *runs[PROF_RUN_LOOP_MAX];
    size_t n_runs;
    struct sbx_gate gate; /* prepared runs wait here until prof_run_loop_release */
};

/* ---- run.c ---- */
/* Ends the run with a status and message (first one wins). */
void set_error(struct prof_run *c, enum rep_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void finish(struct prof_run *c); /* ends the run as ok */
int64_t since_t0_us(struct prof_run *c);
int ep_add(struct prof_run *c, int fd, uint32_t events, enum ev_tag tag);
void ep_mod(struct prof_run *c, int fd, uint32_t events, enum ev_tag tag);
void ep_del(struct prof_run *c, int fd);
void arm_timer(int tfd, uint64_t first_us, uint64_t interval_us);
void mark_listen_at(struct prof_run *c, uint64_t when_ns);
void mark_ready_at(struct prof_run *c, uint64_t when_ns);
void mark_ready(struct prof_run *c);
/* A sample now (into the series when record): RSS, CPU, the cgroup's memory. */
void take_sample(struct prof_run *c, bool record);

/* ---- load_phase.c ---- */
/* The requests after ready are answered: the load follows (--load), or the run is done. */
void requests_finished(struct prof_run *c);
void on_load_done(struct prof_run *c);
void on_load_rest(struct prof_run *c);
/* Whether this tick's sample goes into the run's series: every one, but
 * under load and in the second after it one per 10 ms (every tick still
 * counts toward the peaks: 5 s of load would otherwise add 5,000 samples
 * per run to the report). */
bool load_phase_keeps_sample(struct prof_run *c);
/* A sample while the load runs counts toward its peaks. */
void load_phase_sample(struct prof_run *c, int64_t rss, int64_t cgroup_bytes);
/* Stops a load that is still running (the target died, a timeout, Ctrl-C)
 * and records what it measured until then; closes what the phase opened. */
void load_phase_end(struct prof_run *c);
/* " (2.31 s into the load)" while a load runs, else "": for the message of
 * a target that died under load. */
const char *load_phase_moment(struct prof_run *c, char *buf, size_t cap);

/* ---- load_command.c ---- */
/* Starts --load-cmd; its end is EV_LOAD_DONE. Returns -1 with errno. */
int load_command_start(struct prof_run *c);
bool load_command_running(const struct prof_run *c);
/* Reaps the command (stop: kills it first) and records how it ended in L;
 * an exit other than 0 fails the run. Returns 1 when it has not ended. */
int load_command_collect(struct prof_run *c, bool stop, struct rep_load *L);

/* ---- exec_probe.c ---- */
/* In a forked child: `/bin/sh -c cmd` in the target's network namespace
 * (and, with container_files, a container's mount namespace: its own
 * files), stdin /dev/null, stdout and stderr to out_fd (-1: /dev/null), in
 * a process group of its own when own_group, killed with the profiler.
 * Shared by the exec: probe and --load-cmd. */
_Noreturn void exec_shell_child(const struct prof_run *c, const char *cmd, int out_fd,
                                bool own_group, bool container_files);
bool exec_probe_kind(const struct prof_run *c);
/* Starts an attempt (none while one runs, or once ready). */
void exec_probe_attempt(struct prof_run *c);
void on_exec_probe_exit(struct prof_run *c);
/* Kills and reaps an attempt still running. */
void exec_probe_stop(struct prof_run *c);

/* ---- probe.c ---- */
/* Where the probe connects: the ready spec, or --request-url after ready. */
const struct prof_ready *probe_target(const struct prof_run *c);
/* Readiness is probed over the network (http:// or tcp://). */
bool probe_ready_kind(const struct prof_run *c);
void probe_connect(struct prof_run *c);
void probe_close(struct prof_run *c);
void on_probe(struct prof_run *c, uint32_t events);
void on_retry_timer(struct prof_run *c);

/* ---- capture.c ---- */
void on_output(struct prof_run *c, int *fd, enum prof_stream stream);
/* Reads what the pipes hold now, without blocking. */
void drain_output(struct prof_run *c);

#endif
