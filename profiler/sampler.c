#include "profiler/sampler.h"

#include <errno.h>
#include <libproc2/pids.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIDS 4096
/* libproc2 selects at most this many pids per call (FILL_ID_MAX). */
#define SELECT_CHUNK 250

/* The _C items are the task's own faults plus those of its reaped children. */
enum { I_PID, I_RES, I_MINFLT_C, I_MAJFLT_C, I_NLWP };

struct prof_sampler {
    struct pids_info *info;
    struct pids_info *pss_info;
    pid_t pids[MAX_PIDS];
};

int prof_sampler_new(struct prof_sampler **ret, cs_error *err)
{
    struct prof_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return cs_error_set(err, ENOMEM, "sampler");
    enum pids_item items[] = {PIDS_ID_PID, PIDS_MEM_RES, PIDS_FLT_MIN_C, PIDS_FLT_MAJ_C, PIDS_NLWP};
    int rc = procps_pids_new(&s->info, items, sizeof items / sizeof items[0]);
    if (rc < 0) {
        free(s);
        return cs_error_set(err, -rc, "libproc2 cannot read /proc");
    }
    enum pids_item pss_items[] = {PIDS_ID_PID, PIDS_SMAP_PSS};
    rc = procps_pids_new(&s->pss_info, pss_items, 2);
    if (rc < 0) {
        procps_pids_unref(&s->info);
        free(s);
        return cs_error_set(err, -rc, "libproc2 cannot read /proc");
    }
    *ret = s;
    return 0;
}

void prof_sampler_free(struct prof_sampler *s)
{
    if (!s)
        return;
    procps_pids_unref(&s->info);
    procps_pids_unref(&s->pss_info);
    free(s);
}

static size_t cgroup_pids(struct prof_sampler *s, struct sbx_cgroup *cg)
{
    ssize_t n = sbx_cgroup_pids(cg, s->pids, MAX_PIDS, NULL);
    if (n < 0)
        return 0;
    return (size_t)n < MAX_PIDS ? (size_t)n : MAX_PIDS;
}

int prof_sampler_take(struct prof_sampler *s, struct sbx_cgroup *cg, struct prof_sample *ret)
{
    memset(ret, 0, sizeof *ret);
    sbx_cgroup_sample(cg, &ret->cgroup_bytes, &ret->cpu_us);
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
            ret->rss_bytes += PIDS_VAL(I_RES, ul_int, st, s->info) * 1024;
            ret->minflt += PIDS_VAL(I_MINFLT_C, ul_int, st, s->info);
            ret->majflt += PIDS_VAL(I_MAJFLT_C, ul_int, st, s->info);
            ret->threads += (uint64_t)PIDS_VAL(I_NLWP, s_int, st, s->info);
        }
    }
    return 0;
}

int64_t prof_sampler_pss_bytes(struct prof_sampler *s, struct sbx_cgroup *cg)
{
    size_t n = cgroup_pids(s, cg);
    int64_t sum = 0;
    for (size_t off = 0; off < n; off += SELECT_CHUNK) {
        size_t k = n - off < SELECT_CHUNK ? n - off : SELECT_CHUNK;
        struct pids_fetch *f =
            procps_pids_select(s->pss_info, (unsigned *)s->pids + off, (int)k, PIDS_SELECT_PID);
        if (!f)
            continue;
        for (int i = 0; i < f->counts->total; i++)
            sum += (int64_t)PIDS_VAL(1, ul_int, f->stacks[i], s->pss_info) * 1024;
    }
    return sum;
}
