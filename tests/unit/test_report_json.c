#include <unistd.h>

#include "check.h"
#include "profiler/analysis/stats.h"
#include "profiler/measure/host.h"
#include "reports/report_json.h"

static void fill(struct rep_report *r)
{
    memset(r, 0, sizeof *r);
    r->tool_version = strdup("0.1.0");
    prof_host_detect(&r->host, "v1");
    struct rep_target *t = rep_report_add_target(r, "node-http");
    t->command = calloc(3, sizeof *t->command);
    t->command[t->n_command++] = strdup("node");
    t->command[t->n_command++] = strdup("server.js");
    t->limit_memory_bytes = 512 << 20;
    t->limit_cpus = 0.5;
    t->ready = strdup("http://127.0.0.1:{port}/");
    t->cache = strdup("warm");
    for (int i = 0; i < 7; i++) {
        struct rep_run *run = rep_target_add_run(t);
        run->index = i;
        run->status = i == 6 ? REP_TIMEOUT : REP_OK;
        run->t0_monotonic_ns = 123456789012ull + (uint64_t)i;
        run->exec_us = 400;
        run->listen_us = 30000 + i;
        run->ready_us = 41000 + 100 * i;
        run->requests_us = calloc(2, sizeof(int64_t));
        run->requests_us[0] = 900;
        run->requests_us[1] = 80;
        run->n_requests = 2;
        run->rss_ready_bytes = 50 << 20;
        run->processes_ready = 3;
        run->stop_us = 1200 + i;
        run->cpu_to_ready_us = 5000;
        rep_series_push(&run->samples, 1000, 1 << 20, 10, 2 << 20);
        rep_series_push(&run->samples, 2000, 3 << 20, 20, 4 << 20);
        struct rep_load *l = run->load = malloc(sizeof *run->load);
        rep_load_init(l);
        l->connections = 64;
        l->duration_us = 5000000;
        l->requests = 120000 + i;
        l->errors = l->errors_status = 3;
        l->errors_connect = l->errors_read = l->errors_timeout = 0;
        l->rps = 24000.4;
        l->p50_us = 812.25; /* written with one decimal: 812.3 */
        l->p99_us = 3100.5;
        l->rss_peak_bytes = 80 << 20;
        l->rss_after_bytes = 70 << 20;
        l->start_us = 42000;
        l->end_us = 5042000;
        /* A burst of 3: instance 3 never became ready in run 6. */
        struct rep_burst *bu = run->burst = calloc(1, sizeof *bu);
        bu->each = calloc(3, sizeof *bu->each);
        bu->instances = 3;
        bu->rss_sum_bytes = bu->pss_sum_bytes = 0;
        for (int k = 0; k < 3; k++) {
            struct rep_burst_instance *e = &bu->each[bu->n_each++];
            rep_burst_instance_init(e);
            e->start_us = 0;
            e->ready_us = i == 6 && k == 2 ? REP_NONE : 40000 + 1000 * k + i;
            e->status = i == 6 && k == 2 ? REP_TIMEOUT : REP_OK;
            e->rss_bytes = 10 << 20;
            e->pss_bytes = (4 + k) << 20;
            bu->rss_sum_bytes += e->rss_bytes;
            bu->pss_sum_bytes += e->pss_bytes;
        }
        bu->all_ready_us = i == 6 ? REP_NONE : 42000 + i;
        if (i == 6)
            bu->each[2].error = strdup("not ready within 30 s");
        if (i == 6) {
            run->error = strdup("not ready within 30 s");
            run->error_line = strdup("FATAL: out of memory");
            rep_run_count_denied(run, "mount");
            rep_run_count_denied(run, "mount");
        }
    }
    prof_summarize_target(t);
}

int main(void)
{
    struct rep_report a, b;
    cs_error e;
    fill(&a);
    char *text = rep_json_render(&a, &e);
    CHECK(text != NULL);
    CHECK(strstr(text, "\"schema\":\t\"coldstart-report/1\""));
    CHECK(rep_json_parse(text, &b, &e) == 0);
    CHECK_INT(b.n_targets, 1);
    struct rep_target *t = &b.targets[0];
    CHECK_STR(t->name, "node-http");
    CHECK_INT(t->n_command, 2);
    CHECK_INT(t->limit_memory_bytes, 512 << 20);
    CHECK_NEAR(t->limit_cpus, 0.5, 1e-9);
    CHECK_INT(t->limit_pids, REP_NONE);
    CHECK_INT(t->n_runs, 7);
    CHECK_INT(t->runs[3].ready_us, 41300);
    CHECK_INT(t->runs[3].first_byte_us, REP_NONE);
    CHECK_INT(t->runs[3].t0_monotonic_ns, 123456789015ull);
    CHECK_INT(t->runs[6].status, REP_TIMEOUT);
    CHECK_INT(t->runs[3].processes_ready, 3);
    CHECK_INT(t->runs[3].stop_us, 1203);
    CHECK_INT(t->runs[3].cpu_to_ready_us, 5000);
    CHECK_INT(t->runs[3].cpu_user_us, REP_NONE); /* never made up from the total */
    CHECK_STR(t->runs[6].error_line, "FATAL: out of memory");
    CHECK(rep_target_stat(t, "processes_ready") && rep_target_stat(t, "stop_us"));
    CHECK_INT(t->runs[6].n_denied, 1);
    CHECK_INT(t->runs[6].denied_syscalls[0].count, 2);
    CHECK_INT(t->runs[2].samples.n, 2);
    CHECK_INT(t->runs[2].samples.rss_bytes[1], 3 << 20);
    const struct rep_load *l = t->runs[3].load;
    CHECK(l != NULL);
    if (l) {
        CHECK_INT(l->connections, 64);
        CHECK_INT(l->requests, 120003);
        CHECK_INT(l->errors_status, 3);
        CHECK_NEAR(l->rps, 24000.4, 1e-9);
        CHECK_NEAR(l->p50_us, 812.3, 1e-9);
        CHECK(isnan(l->p90_us));
        CHECK_NEAR(l->rate, 0, 1e-9);
        CHECK_INT(l->cpu_us, REP_NONE);
        CHECK_INT(l->end_us, 5042000);
    }
    const struct rep_stat *rps = rep_target_stat(t, "load_rps");
    CHECK(rps && rps->n == 6 && fabs(rps->p50 - 24000) < 1e-9);
    CHECK(rep_metric_find("load_rps") && rep_metric_find("load_rps")->higher_is_better);
    CHECK(rep_metric_find("load_p99") && !rep_metric_find("load_p99")->higher_is_better);
    const struct rep_burst *bu = t->runs[6].burst;
    CHECK(bu && bu->instances == 3 && bu->n_each == 3);
    if (bu && bu->n_each == 3) {
        CHECK_INT(bu->all_ready_us, REP_NONE);
        CHECK_INT(bu->each[2].ready_us, REP_NONE);
        CHECK_INT(bu->each[2].status, REP_TIMEOUT);
        CHECK_STR(bu->each[2].error, "not ready within 30 s");
        CHECK_INT(bu->pss_sum_bytes, 15 << 20);
    }
    /* burst_ready_us pools every instance of the ok runs (6 runs x 3);
     * PSS per instance is each run's mean (5 MiB). */
    const struct rep_stat *each = rep_target_stat(t, "burst_ready_us");
    CHECK(each && each->n == 18 && each->min == 40000 && each->max == 42005);
    const struct rep_stat *pss = rep_target_stat(t, "pss_per_instance_bytes");
    CHECK(pss && pss->n == 6 && pss->p50 == 5 << 20);
    const struct rep_stat *all = rep_target_stat(t, "burst_all_ready_us");
    CHECK(all && all->n == 6 && fabs(all->p50 - 42002.5) < 1e-9);
    const struct rep_stat *s = rep_target_stat(t, "ready_us");
    CHECK(s && s->n == 6);
    CHECK(s && !isnan(s->ci95_lo));
    /* Render again: identical text (a lossless round trip). */
    char *again = rep_json_render(&b, &e);
    CHECK_STR(again, text);
    free(again);
    rep_report_free(&b);

    /* Corrupt inputs: exit-2 class errors that name the problem. */
    CHECK(rep_json_parse("{\"schema\": \"coldstart-report/2\", \"targets\": []}", &b, &e) < 0);
    CHECK(strstr(e.msg, "major version"));
    CHECK(rep_json_parse("{\"hello\": 1}", &b, &e) < 0);
    CHECK(strstr(e.msg, "not a coldstart report"));
    CHECK(rep_json_parse("[1,2]", &b, &e) < 0);
    text[strlen(text) / 2] = '\0';
    CHECK(rep_json_parse(text, &b, &e) < 0);
    CHECK(strstr(e.msg, "truncated") || strstr(e.msg, "not valid JSON"));
    CHECK(rep_json_parse(
              "{\"schema\": \"coldstart-report/1\", \"targets\": [{\"name\": \"x\", "
              "\"runs\": [{\"index\": 0, \"status\": \"weird\", \"milestones_us\": {}}]}]}",
              &b, &e) < 0);
    CHECK(strstr(e.msg, "status"));
    CHECK(strstr(e.msg, "targets[0]"));
    CHECK(rep_json_parse("{\"schema\": \"coldstart-report/1.3\", \"targets\": []}", &b, &e) == 0);
    rep_report_free(&b);
    free(text);

    /* Save is atomic and loadable. */
    char path[] = "/tmp/coldstart-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK(rep_json_save(&a, path, &e) == 0);
    CHECK(rep_json_load(path, &b, &e) == 0);
    CHECK_INT(b.n_targets, 1);
    rep_report_free(&b);
    CHECK(rep_json_load("/nonexistent/report.json", &b, &e) < 0);
    unlink(path);
    /* Duplicate keys are refused with where they are, in every object:
     * {"mount":1,"bpf":2,"mount":7} once read back as {"mount":2,"bpf":7}. */
    CHECK(rep_json_parse("{\"schema\": \"coldstart-report/1\", \"targets\": [{\"name\": \"x\", "
                         "\"runs\": [{\"denied_syscalls\": {\"mount\": 1, \"bpf\": 2, "
                         "\"mount\": 7}}]}]}",
                         &b, &e) < 0);
    CHECK(strstr(e.msg, "targets[0].runs[0].denied_syscalls.mount"));
    CHECK(strstr(e.msg, "twice"));
    CHECK(rep_json_parse("{\"schema\": \"coldstart-report/1\", \"schema\": \"x\", "
                         "\"targets\": []}",
                         &b, &e) < 0);
    CHECK(strstr(e.msg, "`schema`"));
    /* A mean over values read from a report: no int64 overflow. */
    struct rep_burst_instance inst[2];
    rep_burst_instance_init(&inst[0]);
    rep_burst_instance_init(&inst[1]);
    inst[0].pss_bytes = inst[1].pss_bytes = 9000000000000000000ll;
    struct rep_burst burst = {.each = inst, .n_each = 2};
    CHECK(rep_burst_per_instance(&burst, true) >= 8999999999000000000ll);
    rep_report_free(&a);
    CHECK_DONE();
}
