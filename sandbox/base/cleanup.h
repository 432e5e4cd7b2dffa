/* Scope-bound cleanup (systemd's _cleanup_, crun's cleanup_close): the variable is
 * released when it goes out of scope; steal_pointer()/steal_fd() hand ownership on.
 * Each owning type declares its own macro beside its free function, e.g.
 * `#define _cleanup_report_ _cleanup_(rep_report_free)` in reports/report.h; the
 * free function takes a pointer to the variable and must accept a zeroed one. */
#ifndef COLDSTART_CLEANUP_H
#define COLDSTART_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}
static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void cleanup_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
static inline void cleanup_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

#define _cleanup_(fn) __attribute__((cleanup(fn)))
#define _cleanup_free_ _cleanup_(cleanup_freep)
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(cleanup_closedirp)))

/* Returns *pp and sets it to NULL, keeping the pointer's type (bubblewrap). */
#define steal_pointer(pp)                                                                          \
    __extension__({                                                                                \
        __typeof__(*(pp)) stolen_ = *(pp);                                                         \
        *(pp) = NULL;                                                                              \
        stolen_;                                                                                   \
    })

static inline int steal_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

#endif
