/* The target's stdout and stderr during a run: drained as they come (a
 * flooding target never blocks), assembled into lines for log: readiness,
 * and a tail kept for the report of a failed run (output.c). */
#include <errno.h>
#include <unistd.h>

#include "profiler/measure/run_internal.h"

static const regex_t *ready_regex(const struct prof_run *c)
{
    if (c->ready || c->done || c->spec->ready->kind != PROF_READY_LOG)
        return NULL;
    return &c->spec->ready->re;
}

/* Drains a pipe completely: a target flooding its output is never blocked and
 * the profiler keeps only the last PROF_OUTPUT_KEEP bytes. */
void on_output(struct prof_run *c, int *fd, enum prof_stream stream)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (prof_output_end(c->out, stream, ready_regex(c)))
                mark_ready(c);
            ep_del(c, *fd);
            close(*fd);
            *fd = -1;
            return;
        }
        if (prof_output_feed(c->out, stream, buf, (size_t)n, ready_regex(c)))
            mark_ready(c);
    }
}

/* Reads what the pipes hold now, without blocking. */
void drain_output(struct prof_run *c)
{
    if (!c->out)
        return;
    if (c->child.out_fd >= 0)
        on_output(c, &c->child.out_fd, PROF_STDOUT);
    if (c->child.err_fd >= 0)
        on_output(c, &c->child.err_fd, PROF_STDERR);
}