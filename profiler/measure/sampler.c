#include "profiler/measure/sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <libproc2/pids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/base/fsutil.h"

#define MAX_PIDS 4096
/* libproc2 selects at most this many pids per call (FILL_ID_MAX). */
#define SELECT_CHUNK 250
/* Processes whose statm stays open between ticks; more are read open/close. */
#define CACHED_FDS 256

/* Snapshot items. The _C items are a process's own faults plus those of its
 * reaped children. */
/* RSS and PSS both from one read of smaps_rollup (a page-table walk): the
 * RSS of statm is the kernel's batched per-CPU counters, which lag, and put
 * beside an exact PSS made PSS larger than RSS on every run of a small
 * static process. */
enum { I_PID, I_RSS_KIB, I_MINFLT_C, I_MAJFLT_C, I_NLWP, I_PSS_KIB };

struct statm_fd {
    pid_t pid;
    int fd;
    unsigned seen; /* tick generation that last listed this pid */
};

struct prof_sampler {
    uint64_t page_size;
    struct pids_info *info;
    pid_t pids[MAX_PIDS];
    struct statm_fd cache[CACHED_FDS];
    size_t n_cache;
    unsigned generation;
};

int prof_sampler_new(struct prof_sampler **ret, cs_error *err)
{
    struct prof_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return cs_error_set(err, ENOMEM, "sampler");
    s->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
    enum pids_item items[] = {PIDS_ID_PID,    PIDS_SMAP_RSS, PIDS_FLT_MIN_C,
                              PIDS_FLT_MAJ_C, PIDS_NLWP,     PIDS_SMAP_PSS};
    int rc = procps_pids_new(&s->info, items, sizeof items / sizeof items[0]);
    if (rc < 0) {
        free(s);
        return cs_error_set(err, -rc, "libproc2 cannot read /proc");
    }
    *ret = s;
    return 0;
}

void prof_sampler_reset(struct prof_sampler *s)
{
    for (size_t i = 0; i < s->n_cache; i++)
        close(s->cache[i].fd);
    s->n_cache = 0;
}

void prof_sampler_free(struct prof_sampler *s)
{
    if (!s)
        return;
    prof_sampler_reset(s);
    procps_pids_unref(&s->info);
    free(s);
}

static size_t cgroup_pids(struct prof_sampler *s, struct sbx_cgroup *cg)
{
    ssize_t n = sbx_cgroup_pids(cg, s->pids, MAX_PIDS, NULL);
    if (n < 0)
        return 0;
    return (size_t)n < MAX_PIDS ? (size_t)n : MAX_PIDS;
}

/* Resident pages from statm's second field; 0 when the process is gone. */
static uint64_t statm_resident(int fd)
{
    char buf[128];
    if (fs_pread_all(fd, buf, sizeof buf) <= 0)
        return 0;
    char *p = strchr(buf, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

static int open_statm(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
    return open(path, O_RDONLY | O_CLOEXEC);
}

static uint64_t rss_pages(struct prof_sampler *s, pid_t pid)
{
    for (size_t i = 0; i < s->n_cache; i++)
        if (s->cache[i].pid == pid) {
            s->cache[i].seen = s->generation;
            return statm_resident(s->cache[i].fd);
        }
    int fd = open_statm(pid);
    if (fd < 0)
        return 0; /* exited between listing and reading */
    uint64_t pages = statm_resident(fd);
    if (s->n_cache < CACHED_FDS)
        s->cache[s->n_cache++] = (struct statm_fd){pid, fd, s->generation};
    else
        close(fd);
    return pages;
}

/* Drops the files of processes that were not listed this tick (exited). */
static void prune_cache(struct prof_sampler *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_cache; i++) {
        if (s->cache[i].seen == s->generation)
            s->cache[k++] = s->cache[i];
        else
            close(s->cache[i].fd);
    }
    s->n_cache = k;
}

int prof_sampler_take(struct prof_sampler *s, struct sbx_cgroup *cg, struct prof_sample *ret)
{
    memset(ret, 0, sizeof *ret);
    sbx_cgroup_sample(cg, &ret->cgroup_bytes, &ret->cpu_us);
    size_t n = cgroup_pids(s, cg);
    ret->tasks = n;
    s->generation++;
    uint64_t pages = 0;
    for (size_t i = 0; i < n; i++)
        pages += rss_pages(s, s->pids[i]);
    ret->rss_bytes = pages * s->page_size;
    prune_cache(s);
    return 0;
}

int prof_sampler_snapshot(struct prof_sampler *s, struct sbx_cgroup *cg, struct prof_snapshot *ret)
{
    memset(ret, 0, sizeof *ret);
    size_t n = cgroup_pids(s, cg);
    ret->tasks = n;
    for (size_t off = 0; off < n; off += SELECT_CHUNK) {
        size_t k = n - off < SELECT_CHUNK ? n - off : SELECT_CHUNK;
        struct pids_fetch *f =
            procps_pids_select(s->info, (unsigned *)s->pids + off, (int)k, PIDS_SELECT_PID);
        if (!f)
            continue; /* processes vanish between listing and reading: not an error */
        for (int i = 0; i < f->counts->total; i++) {
            struct pids_stack *st = f->stacks[i];
            ret->rss_bytes += PIDS_VAL(I_RSS_KIB, ul_int, st, s->info) * 1024;
            ret->minflt += PIDS_VAL(I_MINFLT_C, ul_int, st, s->info);
            ret->majflt += PIDS_VAL(I_MAJFLT_C, ul_int, st, s->info);
            ret->threads += (uint64_t)PIDS_VAL(I_NLWP, s_int, st, s->info);
            ret->pss_bytes += PIDS_VAL(I_PSS_KIB, ul_int, st, s->info) * 1024;
        }
    }
    return 0;
}
