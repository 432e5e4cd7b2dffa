/* Several cold starts on one epoll set (prof_run_loop): two servers and a
 * crashing target started together each get their own milestones and
 * status, the runs really overlap, a signal interrupts all of them, and
 * nothing is left running. Real processes and cgroups: root only. */
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "profiler/measure/ready.h"
#include "profiler/measure/run.h"
#include "profiler/measure/sampler.h"
#include "sandbox/spawn.h"

struct target {
    char port_env[32], url[64];
    char *argv[6];
    char *envp[3];
    struct prof_ready ready;
    struct prof_sampler *sampler;
    struct prof_run_spec spec;
    struct rep_run run;
    struct prof_run *handle;
};

static void target_init(struct target *t, const char *fixture, const char *const *steps,
                        struct sbx_cgroup_root *root, const struct sbx_seccomp *filter,
                        int signal_fd, int *interrupted_by)
{
    cs_error err;
    unsigned port;
    CHECK(prof_free_port(&port, &err) == 0);
    snprintf(t->port_env, sizeof t->port_env, "PORT=%u", port);
    snprintf(t->url, sizeof t->url, "http://127.0.0.1:%u/", port);
    t->argv[0] = (char *)fixture;
    for (int i = 0; steps[i]; i++)
        t->argv[i + 1] = (char *)steps[i];
    t->envp[0] = t->port_env;
    t->envp[1] = "PATH=/usr/bin:/bin";
    CHECK(prof_ready_parse(t->url, &t->ready, &err) == 0);
    CHECK(prof_sampler_new(&t->sampler, &err) == 0);
    t->spec = (struct prof_run_spec){.argv = t->argv,
                                     .envp = t->envp,
                                     .ready = &t->ready,
                                     .ok_status_min = 200,
                                     .ok_status_max = 299,
                                     .stop_timeout_us = 2000000,
                                     .timeout_us = 10000000,
                                     .requests = 3,
                                     .interval_us = 1000,
                                     .cgroot = root,
                                     .seccomp = filter,
                                     .sampler = t->sampler,
                                     .signal_fd = signal_fd,
                                     .ret_signal = interrupted_by};
    rep_run_init(&t->run);
}

static void target_free(struct target *t)
{
    prof_ready_free(&t->ready);
    prof_sampler_free(t->sampler);
    rep_run_free(&t->run);
}

int main(void)
{
    const char *fixture = getenv("FIXTURE");
    if (!fixture)
        SKIP("FIXTURE is not set (run through ctest)");
    if (geteuid() != 0)
        SKIP("creating cgroups needs root");
    cs_error err;
    CHECK(sbx_process_setup(&err) == 0);
    struct sbx_cgroup_root *root;
    if (sbx_cgroup_root_open(NULL, &root, &err) < 0)
        SKIP("no usable cgroup hierarchy: %s", cs_error_text(&err));
    sigset_t set;
    sbx_handled_signals(&set);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    CHECK(sfd >= 0);
    struct sbx_seccomp *filter;
    struct sbx_seccomp_opts so = {.policy = SBX_SECCOMP_DEFAULT, .notify_listen = true};
    CHECK(sbx_seccomp_build(&so, &filter, &err) == 0);
    int interrupted_by = 0;

    /* Two servers and a crash, at once. */
    static const char *const slow[] = {"serve-after", "300", NULL};
    static const char *const fast[] = {"serve-after", "50", NULL};
    static const char *const crash[] = {"sleep", "20", "crash", NULL};
    const char *const *steps[] = {slow, fast, crash};
    struct target t[3] = {0};
    struct prof_run_loop *loop;
    CHECK(prof_run_loop_new(sfd, &loop, &err) == 0);
    for (int i = 0; i < 3; i++) {
        target_init(&t[i], fixture, steps[i], root, filter, sfd, &interrupted_by);
        CHECK(prof_run_start(loop, &t[i].spec, &t[i].run, &t[i].handle, &err) == 0);
    }
    prof_run_loop_wait(loop);
    for (int i = 0; i < 3; i++)
        CHECK(prof_run_finish(t[i].handle, &err) == 0);
    CHECK(prof_run_loop_free(loop, &err) == 0);
    CHECK_STR(rep_status_name(t[0].run.status), "ok");
    CHECK_STR(rep_status_name(t[1].run.status), "ok");
    CHECK_STR(rep_status_name(t[2].run.status), "crashed");
    CHECK(t[0].run.ready_us >= 300000 && t[1].run.ready_us >= 50000);
    CHECK(t[1].run.ready_us < t[0].run.ready_us);
    CHECK_INT(t[0].run.n_requests, 3);
    CHECK_INT(t[1].run.n_requests, 3);
    CHECK(t[0].run.listen_us != REP_NONE && t[1].run.listen_us != REP_NONE);
    /* They overlapped: the fast one started before the slow one was ready
     * and was ready before it. */
    uint64_t slow_ready = t[0].run.t0_monotonic_ns + (uint64_t)t[0].run.ready_us * 1000;
    uint64_t fast_ready = t[1].run.t0_monotonic_ns + (uint64_t)t[1].run.ready_us * 1000;
    CHECK(t[1].run.t0_monotonic_ns < slow_ready && fast_ready < slow_ready);
    for (int i = 0; i < 3; i++)
        target_free(&t[i]);

    /* A signal interrupts every run of the loop, and the loop returns. */
    static const char *const never[] = {"sleep", "60000", NULL};
    CHECK(prof_run_loop_new(sfd, &loop, &err) == 0);
    for (int i = 0; i < 2; i++) {
        target_init(&t[i], fixture, never, root, filter, sfd, &interrupted_by);
        CHECK(prof_run_start(loop, &t[i].spec, &t[i].run, &t[i].handle, &err) == 0);
    }
    kill(getpid(), SIGINT); /* blocked: it waits in the signalfd */
    prof_run_loop_wait(loop);
    for (int i = 0; i < 2; i++) {
        CHECK_INT(prof_run_finish(t[i].handle, &err), 1);
        CHECK_STR(rep_status_name(t[i].run.status), "interrupted");
        target_free(&t[i]);
    }
    CHECK_INT(interrupted_by, SIGINT);
    CHECK(prof_run_loop_free(loop, &err) == 0);
    /* Nothing of ours is left: no child, no run cgroup. */
    CHECK(waitpid(-1, NULL, WNOHANG) < 0);
    sbx_seccomp_free(filter);
    CHECK(sbx_cgroup_root_close(root, &err) == 0);
    close(sfd);
    CHECK_DONE();
}
