/* What a session's single runs (session.c) and bursts (burst.c) share. Not
 * for use outside profiler/measure/session.c and burst.c. */
#ifndef COLDSTART_SESSION_INTERNAL_H
#define COLDSTART_SESSION_INTERNAL_H

#include "profiler/measure/container.h"
#include "profiler/measure/run.h"
#include "profiler/measure/session.h"

/* The run's command, environment and ready specs with {port} replaced. */
struct run_texts {
    unsigned port;
    char **argv, **envp;
    char *ready_text, *request_text;
    char *load_command; /* --load-cmd with {port} substituted; NULL: none */
    struct prof_ready ready, request_url;
};
/* port: the instance's (a burst picks one per instance); 0: --port, or a free one.
 * profiled: a run --profile samples (with --profile-maps it gets NODE_OPTIONS). */
int run_texts_make(struct prof_session *s, const struct prof_target_plan *p, unsigned port,
                   bool profiled, struct run_texts *x, cs_error *err);
void run_texts_free(struct run_texts *x);
#define _cleanup_run_texts_ _cleanup_(run_texts_free)

/* The network the run will have: a container's own loopback unless --net said. */
enum sbx_net run_net(const struct prof_session *s, const struct prof_target_plan *p);

/* Before a run: the page cache as --cache asks. Returns the bytes of the
 * target's known files still cached at spawn, or REP_NONE (*rc -1: failed). */
int64_t prepare_cache(struct prof_session *s, size_t ti, const char *cache,
                      const struct prof_target_plan *p, char *const *envp, cs_error *err, int *rc);

/* The largest mapped files go into the run (which libraries and assemblies
 * the runtime pulled in); all of them into the target's cold set. */
void record_mapped(struct prof_session *s, size_t ti, struct rep_run *run,
                   struct prof_fileset *mapped, bool learn);

/* The spec of one run of p (the session's cgroup root, sampler, filter and
 * signals; no mapped-file set). */
void run_spec_fill(struct prof_session *s, const struct prof_target_plan *p,
                   const struct run_texts *x, const struct prof_container_run *ctr,
                   struct prof_run_spec *spec);

/* --profile cpu: a measured run (not a warmup) of target ti is profiled. */
void profile_spec(struct prof_session *s, size_t ti, const struct rep_run *run,
                  struct prof_run_spec *spec);

/* The limits of the cgroup holding a burst of k: --burst-memory and
 * --burst-pids, else k times the instance's own, else 3/4 of the memory
 * available now and 1024 tasks per instance. */
void burst_group_limits(const struct prof_config *o, const struct sbx_limits *l, unsigned k,
                        struct sbx_limits *ret);

/* --burst K (burst.c): K instances of p released at once into *run, whose
 * own fields are the first instance's and run->burst has every instance.
 * Returns like run_into (session.c). */
int burst_run_into(struct prof_session *s, const struct prof_target_plan *p, size_t ti, unsigned k,
                   struct rep_run *run, bool *ret_started, cs_error *err);

#endif
