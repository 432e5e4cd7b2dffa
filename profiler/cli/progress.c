#include "profiler/cli/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "sandbox/spawn.h"

void prof_progress_init(struct prof_progress *p, bool quiet, bool force, unsigned total)
{
    p->enabled = !quiet && (force || isatty(STDERR_FILENO));
    p->done = 0;
    p->total = total;
    p->start_ns = sbx_now_ns();
}

void prof_progress_show(struct prof_progress *p, const char *what, const char *detail)
{
    if (!p->enabled || p->total == 0)
        return;
    double elapsed = (double)(sbx_now_ns() - p->start_ns) / 1e9;
    char eta[32] = "?";
    if (p->done > 0)
        snprintf(eta, sizeof eta, "%.0fs", elapsed / p->done * (p->total - p->done));
    const int width = 24;
    int filled = (int)((double)p->done / p->total * width);
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[K[%s] %u/%u %s %s  elapsed %.0fs  ETA %s", bar, p->done + 1, p->total,
            what, detail, elapsed, eta);
    fflush(stderr);
}

void prof_progress_step(struct prof_progress *p)
{
    p->done++;
}

void prof_progress_clear(struct prof_progress *p)
{
    if (!p->enabled)
        return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}
