/* A one-line progress bar on stderr when it is a terminal (or --progress):
 * what runs now, i/n, elapsed and ETA. Nothing with -q or when piped. */
#ifndef COLDSTART_PROGRESS_H
#define COLDSTART_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct prof_progress {
    bool enabled;
    unsigned done, total;
    uint64_t start_ns;
};

void prof_progress_init(struct prof_progress *p, bool quiet, bool force, unsigned total);
/* Shows the step about to run (done + 1 of total). */
void prof_progress_show(struct prof_progress *p, const char *what, const char *detail);
void prof_progress_step(struct prof_progress *p);
void prof_progress_clear(struct prof_progress *p);

#endif
