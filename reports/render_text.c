/* Markdown (GitHub-flavoured, fit for $GITHUB_STEP_SUMMARY), CSV (one row per
 * run, every scalar metric) and JUnit XML (one testsuite per target). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/render.h"

/* Text from a report inside Markdown (a table cell, a line of a job
 * summary): a `|` would end the cell, a newline the row, `<` or `&` start
 * inline HTML or an entity, and `[`, `!`, `*`, `_`, `` ` `` and the like
 * links, images and emphasis. A report may come from anywhere: its host and
 * settings strings are escaped like its names. */
static void md_escape(struct rep_buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (strchr("|\\`*_[]!", *s))
            rep_buf_printf(b, "\\%c", *s);
        else if (*s == '\n' || *s == '\r')
            rep_buf_puts(b, " ");
        else if (*s == '<')
            rep_buf_puts(b, "&lt;");
        else if (*s == '>')
            rep_buf_puts(b, "&gt;");
        else if (*s == '&')
            rep_buf_puts(b, "&amp;");
        else
            rep_buf_printf(b, "%c", *s);
    }
}

static void host_line(const struct rep_report *r, struct rep_buf *b)
{
    const struct rep_host *h = &r->host;
    rep_buf_printf(b, "%s, %lld CPUs, %.1f GiB, Linux %s, cgroup %s",
                   h->cpu_model ? h->cpu_model : "?", (long long)h->cpus,
                   (double)h->mem_total_bytes / 1073741824.0, h->kernel ? h->kernel : "?",
                   h->cgroup ? h->cgroup : "?");
    if (h->cgroup_placement)
        rep_buf_printf(b, " (%s %s)", h->cgroup_placement,
                       h->cgroup_parent ? h->cgroup_parent : "?");
}

static void settings_line(const struct rep_report *r, struct rep_buf *b)
{
    const struct rep_settings *s = &r->settings;
    if (s->runs != REP_NONE)
        rep_buf_printf(b, "%lld runs + %lld warmup per target%s", (long long)s->runs,
                       (long long)s->warmup, s->interleaved ? ", interleaved" : "");
    if (r->n_targets && !r->settings.sweep) {
        const struct rep_target *t = &r->targets[0];
        char mem[32] = "none";
        if (t->limit_memory_bytes != REP_NONE)
            rep_format_value(REP_UNIT_BYTES, (double)t->limit_memory_bytes, mem, sizeof mem);
        if (t->limit_cpus > 0)
            rep_buf_printf(b, "; limits: memory %s, cpus %.3g", mem, t->limit_cpus);
        else
            rep_buf_printf(b, "; limits: memory %s, cpus none", mem);
        rep_buf_printf(b, "; page cache %s", t->cache ? t->cache : "warm");
    }
    if (s->seccomp)
        rep_buf_printf(b, "; seccomp %s", s->seccomp);
    char load[256];
    if (rep_load_settings(s, load, sizeof load))
        rep_buf_printf(b, "; %s", load);
    if (s->burst > 0)
        rep_buf_printf(b, "; burst: %lld instances at once", (long long)s->burst);
}

/* One line per target that has one (its load, its burst), under a heading
 * printed only if any target does. */
static void md_target_lines(const struct rep_report *r, struct rep_buf *b, const char *heading,
                            bool (*line_of)(const struct rep_target *, char *, size_t))
{
    bool header = false;
    for (size_t i = 0; i < r->n_targets; i++) {
        char line[512];
        if (!line_of(&r->targets[i], line, sizeof line))
            continue;
        if (!header) {
            rep_buf_printf(b, "\n### %s\n\n", heading);
            header = true;
        }
        rep_buf_puts(b, "- ");
        md_escape(b, r->targets[i].name);
        rep_buf_puts(b, ": ");
        md_escape(b, line);
        rep_buf_puts(b, "\n");
    }
}

/* Container images: what each is and what of it start-up read. */
static void md_images(const struct rep_report *r, struct rep_buf *b)
{
    bool header = false;
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        if (!t->oci_image)
            continue;
        if (!header) {
            rep_buf_puts(b, "\n### Container images\n\n");
            header = true;
        }
        char line[512];
        rep_image_facts(t->oci_image, line, sizeof line);
        rep_buf_puts(b, "- ");
        md_escape(b, t->name);
        rep_buf_puts(b, ": `");
        md_escape(b, t->oci_image->ref);
        rep_buf_puts(b, "`, ");
        md_escape(b, line);
        const struct rep_run *m = rep_target_median_run(t);
        if (rep_image_read_summary(t, m, line, sizeof line)) {
            rep_buf_puts(b, "; in the page cache at ready: ");
            md_escape(b, line);
        }
        rep_buf_puts(b, "\n");
    }
}

void rep_render_markdown(const struct rep_report *r, struct rep_buf *b)
{
    rep_buf_puts(b, "## coldstart report\n\n");
    struct rep_buf line = {0};
    host_line(r, &line);
    rep_buf_puts(b, "- Host: ");
    md_escape(b, line.data);
    rep_buf_free(&line);
    rep_buf_printf(&line, "%s, coldstart %s", r->created ? r->created : "?",
                   r->tool_version ? r->tool_version : "?");
    rep_buf_puts(b, "\n- Date: ");
    md_escape(b, line.data);
    rep_buf_free(&line);
    settings_line(r, &line);
    rep_buf_puts(b, "\n- Settings: ");
    md_escape(b, line.data);
    rep_buf_free(&line);
    rep_buf_puts(b, "\n\n");
    struct rep_table tab;
    if (rep_comparison_table(r, &tab) == 0) {
        rep_buf_puts(b, "|");
        for (size_t c = 0; c < tab.n_cols; c++)
            rep_buf_printf(b, " %s |", tab.title[c]);
        rep_buf_puts(b, "\n|");
        for (size_t c = 0; c < tab.n_cols; c++)
            rep_buf_puts(b, tab.right[c] ? "---:|" : "---|");
        rep_buf_puts(b, "\n");
        for (size_t i = 0; i < tab.n_rows; i++) {
            rep_buf_puts(b, "|");
            for (size_t c = 0; c < tab.n_cols; c++) {
                rep_buf_puts(b, " ");
                md_escape(b, tab.cell[i][c]);
                rep_buf_puts(b, " |");
            }
            rep_buf_puts(b, "\n");
        }
        free(tab.cell);
        const struct rep_target *ref = rep_report_reference(r);
        if (ref && r->n_targets > 1)
            rep_buf_printf(b,
                           "\n×ref: median relative to `%s`. Times from spawn; memory "
                           "summed over the target's processes.\n",
                           ref->name);
    }
    md_images(r, b);
    md_target_lines(r, b, "Under load (median run)", rep_load_summary);
    md_target_lines(r, b, "Bursts (medians of the runs)", rep_burst_summary);
    bool cold_header = false;
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *w = &r->targets[i], *c = rep_report_cold_twin(r, w);
        if (!c)
            continue;
        if (!cold_header) {
            rep_buf_puts(b,
                         "\n### What a cold page cache costs\n\n| image | ready warm | ready cold "
                         "| cold/warm | major faults warm | major faults cold | read from disk "
                         "(cold) |\n|---|---:|---:|---:|---:|---:|---:|\n");
            cold_header = true;
        }
        const struct rep_stat *rw = rep_target_stat(w, "ready_us"),
                              *rc = rep_target_stat(c, "ready_us");
        char a[32], bb[32], ratio[32] = "-", e[32], f[32], g[32];
        rep_stat_p50_text(w, "ready_us", a, sizeof a);
        rep_stat_p50_text(c, "ready_us", bb, sizeof bb);
        if (rw && rc && rw->n && rc->n && rw->p50 > 0)
            snprintf(ratio, sizeof ratio, "%.1f×", rc->p50 / rw->p50);
        rep_stat_p50_text(w, "majflt", e, sizeof e);
        rep_stat_p50_text(c, "majflt", f, sizeof f);
        rep_stat_p50_text(c, "read_bytes", g, sizeof g);
        rep_buf_puts(b, "| ");
        md_escape(b, w->name);
        rep_buf_printf(b, " | %s | %s | %s | %s | %s | %s |\n", a, bb, ratio, e, f, g);
    }
    if (r->n_skipped) {
        rep_buf_puts(b, "\nSkipped:\n\n");
        for (size_t i = 0; i < r->n_skipped; i++) {
            rep_buf_puts(b, "- ");
            md_escape(b, r->skipped[i]);
            rep_buf_puts(b, "\n");
        }
    }
    bool budgets = false;
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        for (size_t k = 0; k < t->n_budgets; k++) {
            if (!budgets) {
                rep_buf_puts(b, "\n### Budgets\n\n");
                budgets = true;
            }
            rep_buf_printf(b, "- %s ", t->budgets[k].passed ? "✅" : "❌");
            md_escape(b, t->budgets[k].message);
            rep_buf_puts(b, "\n");
        }
    }
    bool header = false;
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        for (size_t k = 0; k < t->n_runs; k++) {
            const struct rep_run *run = &t->runs[k];
            if (run->status == REP_OK)
                continue;
            if (!header) {
                rep_buf_puts(b, "\n### Failed runs\n\n| target | run | status | why |\n"
                                "|---|---:|---|---|\n");
                header = true;
            }
            rep_buf_puts(b, "| ");
            md_escape(b, t->name);
            rep_buf_printf(b, " | %d%s | %s | ", run->index, run->warmup ? " (warmup)" : "",
                           rep_status_name(run->status));
            md_escape(b, run->error ? run->error : "");
            rep_buf_puts(b, " |\n");
        }
    }
}

static void csv_field(struct rep_buf *b, const char *s)
{
    if (!s)
        return;
    if (strpbrk(s, ",\"\n\r")) {
        rep_buf_puts(b, "\"");
        for (; *s; s++)
            rep_buf_printf(b, *s == '"' ? "\"\"" : "%c", *s);
        rep_buf_puts(b, "\"");
    } else {
        rep_buf_puts(b, s);
    }
}

static void csv_image(struct rep_buf *b, const struct rep_oci_image *i)
{
    if (!i) {
        rep_buf_puts(b, ",,,,,,");
        return;
    }
    rep_buf_puts(b, ",");
    csv_field(b, i->ref);
    rep_buf_puts(b, ",");
    csv_field(b, i->manifest_digest);
    const int64_t v[] = {i->layers, i->compressed_bytes, i->unpacked_bytes, i->files};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        if (v[k] == REP_NONE)
            rep_buf_puts(b, ",");
        else
            rep_buf_printf(b, ",%lld", (long long)v[k]);
}

static void csv_int(struct rep_buf *b, int64_t v)
{
    if (v == REP_NONE)
        rep_buf_puts(b, ",");
    else
        rep_buf_printf(b, ",%lld", (long long)v);
}

/* Which columns a metric goes to: the start's first, the load's after the
 * image's facts, a burst's last (the columns before keep their places). */
enum csv_group { CSV_START, CSV_LOAD, CSV_BURST };

static enum csv_group csv_group_of(const struct rep_metric *m)
{
    return rep_metric_is_load(m) ? CSV_LOAD : rep_metric_is_burst(m) ? CSV_BURST : CSV_START;
}

static void csv_metric_names(struct rep_buf *b, enum csv_group g)
{
    for (size_t m = 0; m < rep_n_metrics; m++)
        if (csv_group_of(&rep_metrics[m]) == g)
            rep_buf_printf(b, ",%s", rep_metrics[m].key);
}

static void csv_metrics(struct rep_buf *b, const struct rep_run *run, enum csv_group g)
{
    for (size_t m = 0; m < rep_n_metrics; m++)
        if (csv_group_of(&rep_metrics[m]) == g)
            csv_int(b, rep_metrics[m].get(run));
}

/* --burst: the run's sums, and each instance's ready time ("104644 103878 ..."). */
static void csv_burst(struct rep_buf *b, const struct rep_run *run)
{
    const struct rep_burst *u = run->burst;
    csv_int(b, u ? u->instances : REP_NONE);
    csv_int(b, u ? u->rss_sum_bytes : REP_NONE);
    csv_int(b, u ? u->pss_sum_bytes : REP_NONE);
    rep_buf_puts(b, ",");
    for (size_t i = 0; u && i < u->n_each; i++) {
        if (i)
            rep_buf_puts(b, " ");
        if (u->each[i].ready_us == REP_NONE)
            rep_buf_puts(b, "-");
        else
            rep_buf_printf(b, "%lld", (long long)u->each[i].ready_us);
    }
}

void rep_render_csv(const struct rep_report *r, struct rep_buf *b)
{
    rep_buf_puts(b, "target,image,run,warmup,status,exit_code,signal,t0_monotonic_ns");
    csv_metric_names(b, CSV_START);
    /* Container image facts, then the load's figures, then a burst's: the
     * columns before keep their places. */
    rep_buf_puts(b, ",error,oci_ref,oci_manifest_digest,oci_layers,oci_compressed_bytes,"
                    "oci_unpacked_bytes,oci_files");
    csv_metric_names(b, CSV_LOAD);
    rep_buf_puts(b, ",load_errors_connect,load_errors_read,load_errors_status,"
                    "load_errors_timeout,load_start_us,load_end_us");
    csv_metric_names(b, CSV_BURST);
    rep_buf_puts(b, ",burst_instances,burst_rss_sum_bytes,burst_pss_sum_bytes,"
                    "burst_instances_ready_us\n");
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        for (size_t k = 0; k < t->n_runs; k++) {
            const struct rep_run *run = &t->runs[k];
            csv_field(b, t->name);
            rep_buf_puts(b, ",");
            csv_field(b, t->image);
            rep_buf_printf(b, ",%d,%s,%s,", run->index, run->warmup ? "true" : "false",
                           rep_status_name(run->status));
            if (run->exit_code != REP_NONE)
                rep_buf_printf(b, "%lld", (long long)run->exit_code);
            rep_buf_puts(b, ",");
            if (run->signal != REP_NONE)
                rep_buf_printf(b, "%lld", (long long)run->signal);
            rep_buf_printf(b, ",%llu", (unsigned long long)run->t0_monotonic_ns);
            csv_metrics(b, run, CSV_START);
            rep_buf_puts(b, ",");
            csv_field(b, run->error);
            csv_image(b, t->oci_image);
            csv_metrics(b, run, CSV_LOAD);
            const struct rep_load *l = run->load;
            const int64_t lv[] = {
                l ? l->errors_connect : REP_NONE, l ? l->errors_read : REP_NONE,
                l ? l->errors_status : REP_NONE,  l ? l->errors_timeout : REP_NONE,
                l ? l->start_us : REP_NONE,       l ? l->end_us : REP_NONE};
            for (size_t j = 0; j < sizeof lv / sizeof lv[0]; j++)
                csv_int(b, lv[j]);
            csv_metrics(b, run, CSV_BURST);
            csv_burst(b, run);
            rep_buf_puts(b, "\n");
        }
    }
}

void rep_xml_escape(struct rep_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            rep_buf_puts(b, "&lt;");
            break;
        case '>':
            rep_buf_puts(b, "&gt;");
            break;
        case '&':
            rep_buf_puts(b, "&amp;");
            break;
        case '"':
            rep_buf_puts(b, "&quot;");
            break;
        case '\'':
            rep_buf_puts(b, "&#39;");
            break;
        default:
            /* XML 1.0 forbids most control characters, even escaped. */
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                rep_buf_puts(b, " ");
            else
                rep_buf_printf(b, "%c", *s);
        }
    }
}

static void junit_property(struct rep_buf *b, const char *name, const char *value)
{
    rep_buf_printf(b, "      <property name=\"%s\" value=\"", name);
    rep_xml_escape(b, value ? value : "");
    rep_buf_puts(b, "\"/>\n");
}

/* "METRIC.p50" properties of the metrics measured. */
static void junit_p50_properties(struct rep_buf *b, const struct rep_target *t,
                                 const char *const *metrics, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const struct rep_stat *s = rep_target_stat(t, metrics[k]);
        if (!s || s->n == 0)
            continue;
        char name[64], value[32];
        snprintf(name, sizeof name, "%s.p50", metrics[k]);
        snprintf(value, sizeof value, "%.0f", s->p50);
        junit_property(b, name, value);
    }
}

/* A container image's facts and the load's medians as the testsuite's
 * properties (CI UIs show them beside the testcases). */
static void junit_properties(struct rep_buf *b, const struct rep_target *t)
{
    const struct rep_oci_image *i = t->oci_image;
    const struct rep_stat *rps = rep_target_stat(t, "load_rps");
    const struct rep_stat *all = rep_target_stat(t, "burst_all_ready_us");
    if (!i && (!rps || rps->n == 0) && (!all || all->n == 0))
        return;
    rep_buf_puts(b, "    <properties>\n");
    if (i) {
        char line[512];
        rep_image_facts(i, line, sizeof line);
        junit_property(b, "oci.ref", i->ref);
        junit_property(b, "oci.manifest_digest", i->manifest_digest);
        junit_property(b, "oci.config_digest", i->config_digest);
        junit_property(b, "oci.image", line);
    }
    static const char *const load_props[] = {
        "load_rps",    "load_p50_us",         "load_p99_us",
        "load_errors", "load_rss_peak_bytes", "rss_after_load_bytes"};
    static const char *const burst_props[] = {"burst_all_ready_us", "burst_ready_us",
                                              "pss_per_instance_bytes", "rss_per_instance_bytes"};
    if (rps && rps->n)
        junit_p50_properties(b, t, load_props, sizeof load_props / sizeof load_props[0]);
    if (all && all->n)
        junit_p50_properties(b, t, burst_props, sizeof burst_props / sizeof burst_props[0]);
    int64_t k = rep_target_burst_instances(t);
    if (k != REP_NONE) {
        char value[32];
        snprintf(value, sizeof value, "%lld", (long long)k);
        junit_property(b, "burst.instances", value);
    }
    rep_buf_puts(b, "    </properties>\n");
}

/* One testsuite per target; one testcase per budget and per failed run, so a
 * CI UI shows which budget broke. A target with neither gets one passing
 * testcase for its runs. */
void rep_render_junit(const struct rep_report *r, struct rep_buf *b)
{
    size_t tests = 0, failures = 0;
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        size_t n = t->n_budgets;
        for (size_t k = 0; k < t->n_budgets; k++)
            failures += !t->budgets[k].passed;
        for (size_t k = 0; k < t->n_runs; k++)
            if (t->runs[k].status != REP_OK) {
                n++;
                failures++;
            }
        tests += n ? n : 1;
    }
    rep_buf_printf(b,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<testsuites name=\"coldstart\" tests=\"%zu\" failures=\"%zu\">\n",
                   tests, failures);
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        size_t n = t->n_budgets, f = 0;
        for (size_t k = 0; k < t->n_budgets; k++)
            f += !t->budgets[k].passed;
        for (size_t k = 0; k < t->n_runs; k++)
            if (t->runs[k].status != REP_OK) {
                n++;
                f++;
            }
        /* The test's duration, as JUnit means it: every run's, warmups too,
         * from spawn to ready (or as far as it got) and its stop. */
        double secs = 0;
        for (size_t k = 0; k < t->n_runs; k++) {
            const struct rep_run *run = &t->runs[k];
            int64_t us = run->ready_us != REP_NONE ? run->ready_us
                         : run->samples.n            ? run->samples.t_us[run->samples.n - 1]
                                                     : 0;
            if (run->stop_us != REP_NONE)
                us += run->stop_us;
            secs += (double)us / 1e6;
        }
        rep_buf_puts(b, "  <testsuite name=\"");
        rep_xml_escape(b, t->name);
        rep_buf_printf(b, "\" tests=\"%zu\" failures=\"%zu\" time=\"%.6f\">\n", n ? n : 1, f, secs);
        junit_properties(b, t);
        for (size_t k = 0; k < t->n_budgets; k++) {
            const struct rep_budget_result *br = &t->budgets[k];
            rep_buf_puts(b, "    <testcase classname=\"");
            rep_xml_escape(b, t->name);
            rep_buf_puts(b, "\" name=\"budget ");
            rep_xml_escape(b, br->expr);
            if (br->passed) {
                rep_buf_puts(b, "\"/>\n");
                continue;
            }
            rep_buf_puts(b, "\">\n      <failure type=\"budget\" message=\"");
            rep_xml_escape(b, br->message);
            rep_buf_puts(b, "\"/>\n    </testcase>\n");
        }
        for (size_t k = 0; k < t->n_runs; k++) {
            const struct rep_run *run = &t->runs[k];
            if (run->status == REP_OK)
                continue;
            rep_buf_puts(b, "    <testcase classname=\"");
            rep_xml_escape(b, t->name);
            rep_buf_printf(b, "\" name=\"%s %d\">\n      <failure type=\"%s\" message=\"",
                           run->warmup ? "warmup" : "run", run->index,
                           rep_status_name(run->status));
            rep_xml_escape(b, run->error ? run->error : rep_status_name(run->status));
            rep_buf_puts(b, "\">");
            rep_xml_escape(b, run->output_tail ? run->output_tail : "");
            rep_buf_puts(b, "</failure>\n    </testcase>\n");
        }
        if (n == 0) {
            rep_buf_puts(b, "    <testcase classname=\"");
            rep_xml_escape(b, t->name);
            rep_buf_printf(b, "\" name=\"runs\" time=\"%.6f\"/>\n", secs);
        }
        rep_buf_puts(b, "  </testsuite>\n");
    }
    rep_buf_puts(b, "</testsuites>\n");
}

/* github-action-benchmark's customSmallerIsBetter: [{name, unit, value, range}]. */
void rep_render_github_benchmark(const struct rep_report *r, struct rep_buf *b)
{
    static const struct {
        const char *metric, *stat, *label, *unit;
        double scale;
    } series[] = {
        {"ready_us", "p50", "ready p50", "ms", 1e-3},
        {"ready_us", "p95", "ready p95", "ms", 1e-3},
        {"listen_us", "p50", "listen p50", "ms", 1e-3},
        {"cpu_to_ready_us", "p50", "CPU to ready p50", "ms", 1e-3},
        {"rss_ready_bytes", "p50", "RSS at ready p50", "MiB", 1.0 / 1048576},
        {"rss_peak_bytes", "p50", "peak RSS p50", "MiB", 1.0 / 1048576},
        /* --load (requests/s is not here: larger is better for it) */
        {"load_p99_us", "p50", "p99 under load", "ms", 1e-3},
        {"load_rss_peak_bytes", "p50", "peak RSS under load", "MiB", 1.0 / 1048576},
        {"rss_after_load_bytes", "p50", "RSS after load", "MiB", 1.0 / 1048576},
        /* --burst */
        {"burst_all_ready_us", "p50", "burst all ready p50", "ms", 1e-3},
        {"pss_per_instance_bytes", "p50", "PSS per instance p50", "MiB", 1.0 / 1048576},
    };
    bool first = true;
    rep_buf_puts(b, "[");
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        for (size_t k = 0; k < sizeof series / sizeof series[0]; k++) {
            const struct rep_stat *s = rep_target_stat(t, series[k].metric);
            if (!s || s->n == 0)
                continue;
            double v = (strcmp(series[k].stat, "p95") == 0 ? s->p95 : s->p50) * series[k].scale;
            char name[300];
            snprintf(name, sizeof name, "%s %s", t->name, series[k].label);
            rep_buf_puts(b, first ? "\n  {\"name\": " : ",\n  {\"name\": ");
            first = false;
            rep_buf_json_string(b, name);
            rep_buf_printf(b, ", \"unit\": \"%s\", \"value\": %.4f, \"range\": \"± %.4f\"}",
                           series[k].unit, v, s->stddev * series[k].scale);
        }
    }
    rep_buf_puts(b, first ? "]\n" : "\n]\n");
}
