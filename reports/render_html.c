/* The HTML report: one self-contained file (inline CSS and SVG, no scripts,
 * no fonts or anything else from the network), readable offline and printable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/flame.h"
#include "reports/folded.h"
#include "reports/platforms.h"
#include "reports/render.h"
#include "reports/svg.h"

static const char *const css =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330;"
    "max-width:1800px;margin:24px auto;padding:0 16px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px "
    "solid #dde2ea;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}"
    ".meta{color:#4a5568;margin:2px 0}"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:12.5px;"
    "width:100%}th,td{padding:4px 6px;border-bottom:1px solid "
    "#e6e9ef;white-space:nowrap}th{white-space:normal;vertical-align:bottom}"
    "th{background:#f4f6fa;text-align:right}th:first-child,td:first-child{text-align:left}"
    "td{text-align:right}td:first-child{font-weight:600}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "svg.chart{display:block;max-width:min(100%,1000px);height:auto;margin:6px 0 14px}"
    "svg .ct{font-size:14px;font-weight:600;fill:#1d2330}"
    "svg .tk{font-size:11px;fill:#4a5568}svg .al{font-size:12px;fill:#1d2330}"
    "svg .rl{font-size:12px;fill:#1d2330}svg .lg{font-size:12px;fill:#1d2330}"
    "svg .grid{stroke:#e6e9ef;stroke-width:1}svg .grid.minor{stroke:#f3f4f7}"
    "svg .axis{stroke:#4a5568;stroke-width:1}"
    "svg .series{fill:none;stroke-width:1.8}"
    "svg .marker line{stroke:#9aa3b2;stroke-dasharray:4 3}"
    "svg .band rect{fill:#f6d58e;fill-opacity:.35}"
    "svg .band text{font-size:11px;fill:#8a6d1f}"
    "svg .marker text{font-size:11px;fill:#4a5568;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    "svg .dots circle{fill:#3b6fd8;fill-opacity:.55}svg .median{stroke:#c0392b;stroke-width:2.5}"
    "table.mapped{width:auto}table.mapped td:first-child{font-weight:400;font-family:monospace}"
    "svg.flame{display:block;max-width:100%;height:auto;margin:6px 0 10px}"
    "svg.flame text{font-size:11px;font-family:ui-monospace,monospace;fill:#1d2330;"
    "pointer-events:none}svg.flame .ct{font-size:14px;font-family:inherit}"
    "svg.flame g.ff:hover rect{stroke:#1d2330;stroke-width:.8}"
    "table.top{width:auto}table.top td:last-child{text-align:left;font-family:monospace;"
    "white-space:normal}"
    ".fail{color:#a61b1b}.pass{color:#1d7a3e}.note{color:#4a5568;font-size:12.5px}"
    "@media print{body{margin:0;max-width:none}h2{break-after:avoid}svg.chart,section"
    "{break-inside:avoid}}";

static void esc(struct rep_buf *b, const char *s)
{
    rep_xml_escape(b, s ? s : "");
}

static void host_and_settings(const struct rep_report *r, struct rep_buf *b)
{
    const struct rep_host *h = &r->host;
    rep_buf_puts(b, "<p class=\"meta\"><b>Host:</b> ");
    esc(b, h->cpu_model);
    rep_buf_printf(b, ", %lld CPUs, %.1f GiB memory, Linux ", (long long)h->cpus,
                   (double)h->mem_total_bytes / 1073741824.0);
    esc(b, h->kernel);
    rep_buf_puts(b, ", cgroup ");
    esc(b, h->cgroup);
    if (h->cgroup_placement) {
        rep_buf_puts(b, " (");
        esc(b, h->cgroup_placement);
        rep_buf_puts(b, " ");
        esc(b, h->cgroup_parent);
        rep_buf_puts(b, ")");
    }
    rep_buf_puts(b, "</p>\n<p class=\"meta\"><b>Date:</b> ");
    esc(b, r->created);
    rep_buf_puts(b, ", coldstart ");
    esc(b, r->tool_version);
    rep_buf_puts(b, "</p>\n<p class=\"meta\"><b>Settings:</b> ");
    const struct rep_settings *s = &r->settings;
    if (s->runs != REP_NONE)
        rep_buf_printf(b, "%lld measured runs + %lld warmup per target%s", (long long)s->runs,
                       (long long)s->warmup, s->interleaved ? ", interleaved round robin" : "");
    if (s->requests != REP_NONE)
        rep_buf_printf(b, "; %lld request%s after ready", (long long)s->requests,
                       s->requests == 1 ? "" : "s");
    if (s->interval_us != REP_NONE && s->interval_us > 0)
        rep_buf_printf(b, "; sampling every %.3g ms", (double)s->interval_us / 1000);
    if (r->n_targets && !r->settings.sweep) { /* a sweep varies the limit: see the chart */
        const struct rep_target *t = &r->targets[0];
        char mem[32] = "none";
        if (t->limit_memory_bytes != REP_NONE)
            rep_format_value(REP_UNIT_BYTES, (double)t->limit_memory_bytes, mem, sizeof mem);
        rep_buf_printf(b, "; memory limit %s", mem);
        if (t->limit_cpus > 0)
            rep_buf_printf(b, ", %.3g CPU", t->limit_cpus);
        rep_buf_puts(b, "; page cache ");
        esc(b, t->cache ? t->cache : "warm");
    }
    if (s->seccomp) {
        rep_buf_puts(b, "; seccomp ");
        esc(b, s->seccomp);
    }
    char load[256];
    if (rep_load_settings(s, load, sizeof load)) {
        rep_buf_puts(b, "; ");
        esc(b, load);
    }
    if (s->burst > 0) {
        char mem[32] = "none";
        if (s->burst_memory_bytes != REP_NONE)
            rep_format_value(REP_UNIT_BYTES, (double)s->burst_memory_bytes, mem, sizeof mem);
        rep_buf_printf(b, "; burst: %lld instances at once (their group: memory %s, %lld tasks)",
                       (long long)s->burst, mem,
                       s->burst_pids == REP_NONE ? 0LL : (long long)s->burst_pids);
    }
    rep_buf_puts(b, "</p>\n");
}

static void comparison(const struct rep_report *r, struct rep_buf *b)
{
    struct rep_table t;
    if (rep_comparison_table(r, &t) < 0)
        return;
    rep_buf_puts(b, "<div class=\"scroll\"><table id=\"comparison\">\n<tr>");
    for (size_t c = 0; c < t.n_cols; c++) {
        rep_buf_puts(b, "<th>");
        esc(b, t.title[c]);
        rep_buf_puts(b, "</th>");
    }
    rep_buf_puts(b, "</tr>\n");
    for (size_t i = 0; i < t.n_rows; i++) {
        rep_buf_puts(b, "<tr>");
        for (size_t c = 0; c < t.n_cols; c++) {
            rep_buf_puts(b, "<td>");
            esc(b, t.cell[i][c]);
            rep_buf_puts(b, "</td>");
        }
        rep_buf_puts(b, "</tr>\n");
    }
    rep_buf_puts(b, "</table></div>\n");
    free(t.cell);
    const struct rep_target *ref = rep_report_reference(r);
    if (ref && r->n_targets > 1) {
        rep_buf_puts(b, "<p class=\"note\">×ref: median relative to <b>");
        esc(b, ref->name);
        rep_buf_puts(b, "</b>. Times are from spawn on one monotonic clock; RSS and PSS are "
                        "summed over the target's processes; the CI is the distribution-free "
                        "95% confidence interval of the median.</p>\n");
    }
}

static void ready_distribution(const struct rep_report *r, struct rep_buf *b)
{
    struct svg_strip_row *rows = calloc(r->n_targets + 1, sizeof *rows);
    double **vals = calloc(r->n_targets + 1, sizeof *vals);
    if (!rows || !vals)
        goto out;
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        vals[i] = calloc(t->n_runs + 1, sizeof(double));
        if (!vals[i])
            goto out;
        size_t n = 0;
        for (size_t k = 0; k < t->n_runs; k++)
            if (!t->runs[k].warmup && t->runs[k].status == REP_OK &&
                t->runs[k].ready_us != REP_NONE)
                vals[i][n++] = (double)t->runs[k].ready_us / 1000.0;
        const struct rep_stat *s = rep_target_stat(t, "ready_us");
        rows[i] = (struct svg_strip_row){t->name, vals[i], n, s ? s->p50 / 1000.0 : 0};
    }
    svg_strip_plot(b, "chart-ready", "Time to ready per run", "time from spawn to ready (ms)", rows,
                   r->n_targets);
out:
    for (size_t i = 0; vals && i < r->n_targets; i++)
        free(vals[i]);
    free(vals);
    free(rows);
}

static double stat_p50(const struct rep_target *t, const char *metric)
{
    const struct rep_stat *s = rep_target_stat(t, metric);
    return s && s->n ? s->p50 : 0;
}

static void memory_bars(const struct rep_report *r, struct rep_buf *b)
{
    struct svg_bar_row *rows = calloc(r->n_targets + 1, sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        rows[i].label = t->name;
        rows[i].values[0] = stat_p50(t, "rss_ready_bytes") / 1048576.0;
        rows[i].values[1] = stat_p50(t, "pss_ready_bytes") / 1048576.0;
        rows[i].values[2] = stat_p50(t, "rss_peak_bytes") / 1048576.0;
    }
    static const char *const labels[] = {"RSS at ready", "PSS at ready", "peak RSS"};
    static const char *const colors[] = {"#3b6fd8", "#79a3f0", "#e08a2e"};
    svg_bar_chart(b, "chart-memory", "Memory at ready vs peak (medians)", "MiB", labels, colors, 3,
                  rows, r->n_targets);
    free(rows);
}

/* The median run's RSS and CPU over time, with its milestones marked. */
/* Paths and sizes, the largest first. */
static void file_table(struct rep_buf *b, const struct rep_count *files, size_t n,
                       const char *size_title)
{
    rep_buf_printf(b, "<table class=\"mapped\"><tr><th>file</th><th>%s</th></tr>\n", size_title);
    for (size_t i = 0; i < n; i++) {
        char sz[32];
        rep_format_value(REP_UNIT_BYTES, (double)files[i].count, sz, sizeof sz);
        rep_buf_puts(b, "<tr><td>");
        esc(b, files[i].name);
        rep_buf_printf(b, "</td><td>%s</td></tr>\n", sz);
    }
    rep_buf_puts(b, "</table>\n");
}

/* A container image: its facts, and what of it was in the page cache at
 * ready (with --cache cold: what start-up read), the largest files first. */
static void image_read(const struct rep_target *t, const struct rep_run *run, struct rep_buf *b)
{
    const struct rep_oci_image *i = t->oci_image;
    if (!i)
        return;
    char line[512];
    rep_image_facts(i, line, sizeof line);
    rep_buf_puts(b, "<p class=\"note image\">Image <code>");
    esc(b, i->ref);
    rep_buf_puts(b, "</code>: ");
    esc(b, line);
    rep_buf_puts(b, ". Manifest <code>");
    esc(b, i->manifest_digest ? i->manifest_digest : "-");
    rep_buf_puts(b, "</code>.</p>\n");
    if (!rep_image_read_summary(t, run, line, sizeof line))
        return;
    rep_buf_puts(b, "<p class=\"note\">Image in the page cache at ready: ");
    esc(b, line);
    rep_buf_puts(b, "; the largest:</p>\n");
    file_table(b, run->image_read_top, run->n_image_read_top, "cached");
    if (run->n_image_unread_top) {
        rep_buf_puts(b, "<p class=\"note\">Not in the page cache at ready, the largest (with "
                        "a cold cache: never read by start-up, what a slimming tool would "
                        "drop):</p>\n");
        file_table(b, run->image_unread_top, run->n_image_unread_top, "size");
    }
}

static void timeline(const struct rep_target *t, size_t idx, struct rep_buf *b)
{
    const struct rep_run *run = rep_target_median_run(t);
    rep_buf_puts(b, "<section class=\"timeline\">\n<h3>");
    esc(b, t->name);
    rep_buf_puts(b, "</h3>\n");
    if (!run || run->samples.n == 0) {
        rep_buf_puts(b, "<p class=\"note\">No samples (no successful run, or sampling off).</p>"
                        "</section>\n");
        return;
    }
    const struct rep_series *s = &run->samples;
    double *x = malloc(s->n * sizeof *x), *rss = malloc(s->n * sizeof *rss),
           *cg = malloc(s->n * sizeof *cg), *cpu = malloc(s->n * sizeof *cpu);
    if (!x || !rss || !cg || !cpu)
        goto out;
    for (size_t i = 0; i < s->n; i++) {
        x[i] = (double)s->t_us[i] / 1000.0;
        rss[i] = (double)s->rss_bytes[i] / 1048576.0;
        cg[i] = (double)s->cgroup_bytes[i] / 1048576.0;
        cpu[i] = (double)s->cpu_us[i] / 1000.0;
    }
    struct svg_marker marks[7];
    size_t nm = 0;
    const struct {
        const char *label;
        int64_t v;
    } ms[] = {{"extract", run->extract_us},
              {"rootfs", run->rootfs_us},
              {"exec", run->exec_us},
              {"listen", run->listen_us},
              {"first byte", run->first_byte_us},
              {"ready", run->ready_us},
              {"first request done", run->n_requests && run->ready_us != REP_NONE
                                         ? run->ready_us + run->requests_us[0]
                                         : REP_NONE}};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (ms[i].v != REP_NONE)
            marks[nm++] = (struct svg_marker){ms[i].label, (double)ms[i].v / 1000.0, 0};
    /* With a load after ready the start-up charts end where the load
     * begins (its seconds would squash the milliseconds of the start). */
    size_t n = s->n;
    if (run->load && run->load->start_us != REP_NONE)
        while (n > 0 && s->t_us[n - 1] > run->load->start_us)
            n--;
    char id[64], title[300];
    struct svg_series mem[2] = {{"RSS (processes)", "#3b6fd8", x, rss, n},
                                {"cgroup memory", "#9aa3b2", x, cg, n}};
    snprintf(id, sizeof id, "chart-memory-%zu", idx);
    int nl = rep_utf8_prefix(t->name, 200);
    snprintf(title, sizeof title, "%.*s: memory during start-up (median run, #%d)", nl, t->name,
             run->index);
    svg_line_chart(b, id, title, "time from spawn (ms)", "MiB", mem, 2, marks, nm);
    struct svg_series cpus[1] = {{"CPU time (user + system)", "#2e9e5b", x, cpu, n}};
    snprintf(id, sizeof id, "chart-cpu-%zu", idx);
    snprintf(title, sizeof title, "%.*s: cumulative CPU during start-up", nl, t->name);
    svg_line_chart(b, id, title, "time from spawn (ms)", "CPU ms", cpus, 1, marks, nm);
    if (run->load) {
        char line[512];
        if (rep_load_summary(t, line, sizeof line)) {
            rep_buf_puts(b, "<p class=\"meta load\"><b>Load after ready:</b> ");
            esc(b, line);
            rep_buf_puts(b, "</p>\n");
        }
        const struct rep_load *l = run->load;
        struct svg_marker band[2] = {
            {"load", (double)l->start_us / 1000.0, (double)l->end_us / 1000.0},
            {"ready", (double)run->ready_us / 1000.0, 0}};
        mem[0].n = mem[1].n = s->n;
        snprintf(id, sizeof id, "chart-load-%zu", idx);
        snprintf(title, sizeof title, "%.*s: memory under load and the second after it", nl,
                 t->name);
        svg_line_chart(b, id, title, "time from spawn (ms)", "MiB", mem, 2, band,
                       l->start_us != REP_NONE && l->end_us != REP_NONE ? 2 : 0);
    }
    image_read(t, run, b);
    if (run->n_mapped) {
        /* Which shared libraries and assemblies the runtime pulled in. */
        char total[32];
        rep_format_value(REP_UNIT_BYTES, (double)run->mapped_file_bytes, total, sizeof total);
        rep_buf_printf(b, "<p class=\"note\">Files mapped at ready: %lld (%s); the largest:</p>\n",
                       (long long)run->mapped_files, total);
        file_table(b, run->mapped, run->n_mapped, "size");
    }
out:
    free(x);
    free(rss);
    free(cg);
    free(cpu);
    rep_buf_puts(b, "</section>\n");
}

static void budgets(const struct rep_report *r, struct rep_buf *b)
{
    bool header = false;
    for (size_t i = 0; i < r->n_targets; i++)
        for (size_t k = 0; k < r->targets[i].n_budgets; k++) {
            const struct rep_budget_result *br = &r->targets[i].budgets[k];
            if (!header) {
                rep_buf_puts(b, "<h2>Budgets</h2>\n<ul id=\"budgets\">\n");
                header = true;
            }
            rep_buf_printf(b, "<li class=\"%s\">%s ", br->passed ? "pass" : "fail",
                           br->passed ? "&#10003;" : "&#10007;");
            esc(b, br->message);
            rep_buf_puts(b, "</li>\n");
        }
    if (header)
        rep_buf_puts(b, "</ul>\n");
}

/* Every step of a sizing under load: what the load measured at each limit. */
static void sizing_steps(const struct rep_sizing *z, struct rep_buf *b)
{
    if (z->at_rest_min_bytes == REP_NONE)
        return;
    rep_buf_puts(b, "<table class=\"steps\">\n<tr><th>limit</th><th>phase</th><th>attempt</th>"
                    "<th>status</th><th>ready</th><th>requests/s</th><th>p99</th>"
                    "<th>cgroup peak</th></tr>\n");
    for (size_t i = 0; i < z->n_steps; i++) {
        const struct rep_sizing_step *st = &z->steps[i];
        char lim[32], rd[32] = "-", rps[32], p99[32], pk[32] = "-";
        rep_format_value(REP_UNIT_BYTES, (double)st->limit_bytes, lim, sizeof lim);
        if (st->ready_us != REP_NONE)
            rep_format_value(REP_UNIT_US, (double)st->ready_us, rd, sizeof rd);
        rep_format_value(REP_UNIT_PER_S, st->load_rps, rps, sizeof rps);
        rep_format_value(REP_UNIT_US, st->load_p99_us, p99, sizeof p99);
        if (st->peak_bytes != REP_NONE)
            rep_format_value(REP_UNIT_BYTES, (double)st->peak_bytes, pk, sizeof pk);
        rep_buf_printf(b,
                       "<tr><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td>"
                       "<td>%s</td><td>%s</td></tr>\n",
                       lim, st->under_load ? "under load" : "at rest", st->attempt,
                       rep_status_name(st->status), rd, rps, p99, pk);
    }
    rep_buf_puts(b, "</table>\n");
}

/* Sizing: ready time at every tested limit; failed steps on the axis, by cause. */
static void sizing(const struct rep_target *t, size_t idx, struct rep_buf *b)
{
    const struct rep_sizing *z = t->sizing;
    static const struct svg_category cats[] = {
        {"ok (ready time)", "#2e9e5b", false},
        {"oom", "#c0392b", false},
        {"crashed", "#8e44ad", false},
        {"timeout", "#e08a2e", false},
        {"exited", "#7f8c8d", false},
        {"error", "#34495e", false},
        {"slow", "#d4ac0d", false},
        {"ok under load (ready time)", "#3b6fd8", true},
    };
    struct svg_point *pts = calloc(z->n_steps + 1, sizeof *pts);
    if (!pts)
        return;
    for (size_t i = 0; i < z->n_steps; i++) {
        const struct rep_sizing_step *st = &z->steps[i];
        int cat = st->status == REP_OK        ? 0
                  : st->status == REP_OOM     ? 1
                  : st->status == REP_CRASHED ? 2
                  : st->status == REP_TIMEOUT ? 3
                  : st->status == REP_EXITED  ? 4
                  : st->status == REP_SLOW    ? 6
                                              : 5;
        /* Steps under load: blue points, their failures a row higher. */
        if (cat == 0 && st->under_load)
            cat = 7;
        pts[i] = (struct svg_point){(double)st->limit_bytes / 1048576.0,
                                    st->ready_us == REP_NONE ? 0 : (double)st->ready_us / 1000.0,
                                    NAN,
                                    NAN,
                                    cat,
                                    st->under_load};
    }
    char id[64], title[400], m[32] = "none", r[32] = "none";
    if (z->min_passing_bytes != REP_NONE)
        rep_format_value(REP_UNIT_BYTES, (double)z->min_passing_bytes, m, sizeof m);
    if (z->recommended_bytes != REP_NONE)
        rep_format_value(REP_UNIT_BYTES, (double)z->recommended_bytes, r, sizeof r);
    rep_buf_puts(b, "<h2>Memory limit sizing: ");
    esc(b, t->name);
    rep_buf_printf(b,
                   "</h2>\n<p class=\"meta\" id=\"sizing-%zu\"><b>Smallest passing limit%s:</b> "
                   "%s. <b>Recommended:</b> %s (+%.0f%% margin, rounded up).",
                   idx, z->at_rest_min_bytes != REP_NONE ? " under load" : "", m, r,
                   z->margin * 100);
    if (z->at_rest_min_bytes != REP_NONE) {
        char ar[32], arr[32];
        rep_format_value(REP_UNIT_BYTES, (double)z->at_rest_min_bytes, ar, sizeof ar);
        rep_format_value(REP_UNIT_BYTES, (double)z->at_rest_recommended_bytes, arr, sizeof arr);
        rep_buf_printf(b, " <b>At rest</b> (start and the requests only): %s, recommended %s.", ar,
                       arr);
    }
    rep_buf_puts(b, "</p>\n");
    if (z->recommended_bytes != REP_NONE) {
        struct rep_buf snip = {0};
        rep_platform_snippets(&snip, (uint64_t)z->recommended_bytes, z->cpus, "");
        rep_buf_puts(b, "<pre class=\"snippets\">");
        esc(b, snip.data ? snip.data : "");
        rep_buf_puts(b, "</pre>\n");
        rep_buf_free(&snip);
    }
    sizing_steps(z, b);
    snprintf(id, sizeof id, "chart-sizing-%zu", idx);
    snprintf(title, sizeof title, "%.*s: ready time at each tested memory limit",
             rep_utf8_prefix(t->name, 300), t->name);
    bool loaded = false;
    for (size_t i = 0; i < z->n_steps; i++)
        loaded |= z->steps[i].under_load;
    svg_xy_chart(b, id, title,
                 loaded ? "memory limit (MiB); failed steps: lower crosses at rest, upper "
                          "crosses under load"
                        : "memory limit (MiB)",
                 "ready (ms)", pts, z->n_steps, cats, sizeof cats / sizeof cats[0], 0);
    free(pts);
}

/* A metric's p50 (with its 95% CI, in units of `scale`) at x for each target. */
static size_t xy_points(const struct rep_report *r, const char *metric, double scale,
                        double (*x_of)(const struct rep_target *), struct svg_point *pts)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        const struct rep_stat *s = rep_target_stat(t, metric);
        double x = x_of(t);
        if (x <= 0)
            continue;
        if (!s || s->n == 0) {
            pts[n++] = (struct svg_point){x, 0, NAN, NAN, 1, false};
            continue;
        }
        pts[n++] = (struct svg_point){x,
                                      s->p50 / scale,
                                      isnan(s->ci95_lo) ? NAN : s->ci95_lo / scale,
                                      isnan(s->ci95_hi) ? NAN : s->ci95_hi / scale,
                                      0,
                                      false};
    }
    return n;
}

static double burst_x(const struct rep_target *t)
{
    int64_t k = rep_target_burst_instances(t);
    return k == REP_NONE ? 0 : (double)k;
}

/* sweep --burst: time until all are ready, and PSS per instance, against K. */
static void sweep_burst(const struct rep_report *r, struct rep_buf *b)
{
    _cleanup_free_ struct svg_point *pts = calloc(r->n_targets + 1, sizeof *pts);
    if (!pts)
        return;
    static const struct svg_category ready_cats[] = {
        {"all ready p50 (bar: 95% CI)", "#3b6fd8", false}, {"no successful run", "#c0392b", false}};
    static const struct svg_category pss_cats[] = {{"PSS per instance p50", "#2e9e6a", false},
                                                   {"no successful run", "#c0392b", false}};
    rep_buf_puts(b, "<h2>Burst sweep</h2>\n<p class=\"note\">K instances started at once "
                    "(one cgroup each, in one group). Left: until the last is ready. Right: "
                    "PSS per instance with all K up, at rest; what the instances share is "
                    "split among them, so it falls as K grows. Instances per GiB (table above) "
                    "= 1 GiB / PSS per instance.</p>\n");
    size_t n = xy_points(r, "burst_all_ready_us", 1000.0, burst_x, pts);
    svg_xy_chart(b, "chart-sweep-burst-ready", "Time until all instances are ready",
                 "instances started at once", "all ready p50 (ms)", pts, n, ready_cats, 2,
                 SVG_XY_CONNECT | SVG_XY_INTEGER_X);
    n = xy_points(r, "pss_per_instance_bytes", 1048576.0, burst_x, pts);
    svg_xy_chart(b, "chart-sweep-burst-pss", "PSS per instance", "instances started at once",
                 "PSS per instance (MiB)", pts, n, pss_cats, 2, SVG_XY_CONNECT | SVG_XY_INTEGER_X);
}

/* One target's median burst: each instance's listen and ready (who waited
 * for whom), and its memory with all K up. */
static void burst_instances(const struct rep_target *t, size_t idx, struct rep_buf *b)
{
    const struct rep_run *m = rep_target_median_run_by(t, "burst_all_ready_us");
    if (!m)
        return;
    size_t n = m->burst->n_each;
    _cleanup_free_ struct svg_bar_row *times = calloc(n + 1, sizeof *times);
    _cleanup_free_ struct svg_bar_row *mem = calloc(n + 1, sizeof *mem);
    _cleanup_free_ char(*labels)[24] = calloc(n + 1, sizeof *labels);
    if (!times || !mem || !labels)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct rep_burst_instance *e = &m->burst->each[i];
        snprintf(labels[i], sizeof labels[i], "#%zu", i + 1);
        times[i].label = mem[i].label = labels[i];
        times[i].values[0] = e->listen_us == REP_NONE ? 0 : (double)e->listen_us / 1000.0;
        times[i].values[1] = e->ready_us == REP_NONE ? 0 : (double)e->ready_us / 1000.0;
        mem[i].values[0] = e->rss_bytes == REP_NONE ? 0 : (double)e->rss_bytes / 1048576.0;
        mem[i].values[1] = e->pss_bytes == REP_NONE ? 0 : (double)e->pss_bytes / 1048576.0;
    }
    char line[512], id[64], title[400];
    rep_buf_puts(b, "<h3>");
    esc(b, t->name);
    rep_buf_printf(b, ": burst of %zu (run %d, the median by all ready)</h3>\n", n, m->index);
    if (rep_burst_summary(t, line, sizeof line)) {
        rep_buf_puts(b, "<p>");
        esc(b, line);
        rep_buf_puts(b, "</p>\n");
    }
    static const char *const time_labels[] = {"listen", "ready"};
    static const char *const time_colors[] = {"#79a3f0", "#3b6fd8", false};
    static const char *const mem_labels[] = {"RSS", "PSS"};
    static const char *const mem_colors[] = {"#3b6fd8", "#2e9e6a", false};
    snprintf(id, sizeof id, "chart-burst-ready-%zu", idx);
    snprintf(title, sizeof title, "%.300s: each instance since the burst's start", t->name);
    svg_bar_chart(b, id, title, "ms", time_labels, time_colors, 2, times, n);
    snprintf(id, sizeof id, "chart-burst-memory-%zu", idx);
    snprintf(title, sizeof title, "%.300s: memory per instance with all %zu up", t->name, n);
    svg_bar_chart(b, id, title, "MiB", mem_labels, mem_colors, 2, mem, n);
}

static double cpus_x(const struct rep_target *t)
{
    return t->limit_cpus;
}

static double memory_x(const struct rep_target *t)
{
    return (double)t->limit_memory_bytes / 1048576.0;
}

/* Sweep: ready p50 with its 95% CI against the swept limit. */
static void sweep(const struct rep_report *r, struct rep_buf *b)
{
    if (strcmp(r->settings.sweep, "burst") == 0) {
        sweep_burst(r, b);
        return;
    }
    bool cpus = strcmp(r->settings.sweep, "cpus") == 0;
    _cleanup_free_ struct svg_point *pts = calloc(r->n_targets + 1, sizeof *pts);
    if (!pts)
        return;
    size_t n = xy_points(r, "ready_us", 1000.0, cpus ? cpus_x : memory_x, pts);
    static const struct svg_category cats[] = {{"ready p50 (bar: 95% CI)", "#3b6fd8", false},
                                               {"no successful run", "#c0392b", false}};
    rep_buf_puts(b, "<h2>Sweep</h2>\n");
    svg_xy_chart(b, "chart-sweep", cpus ? "Ready time vs CPU quota" : "Ready time vs memory limit",
                 cpus ? "CPU quota (cores)" : "memory limit (MiB)", "ready p50 (ms)", pts, n, cats,
                 2, SVG_XY_CONNECT);
}

/* --cache both: ready time and major faults, warm against cold, per image. */
static void cold_vs_warm(const struct rep_report *r, struct rep_buf *b)
{
    _cleanup_free_ struct svg_bar_row *ready = calloc(r->n_targets + 1, sizeof *ready);
    _cleanup_free_ struct svg_bar_row *faults = calloc(r->n_targets + 1, sizeof *faults);
    size_t n = 0;
    for (size_t i = 0; ready && faults && i < r->n_targets; i++) {
        const struct rep_target *w = &r->targets[i], *c = rep_report_cold_twin(r, w);
        if (!c)
            continue;
        ready[n].label = faults[n].label = w->name;
        ready[n].values[0] = stat_p50(w, "ready_us") / 1000.0;
        ready[n].values[1] = stat_p50(c, "ready_us") / 1000.0;
        faults[n].values[0] = stat_p50(w, "majflt");
        faults[n].values[1] = stat_p50(c, "majflt");
        n++;
    }
    if (n) {
        static const char *const labels[] = {"warm page cache", "cold (files evicted)"};
        static const char *const colors[] = {"#3b6fd8", "#c0392b", false};
        rep_buf_puts(b, "<h2>What a cold page cache costs</h2>\n");
        svg_bar_chart(b, "chart-cold-ready", "Ready p50, warm vs cold", "ms", labels, colors, 2,
                      ready, n);
        svg_bar_chart(b, "chart-cold-faults", "Major page faults to ready (p50), warm vs cold",
                      "major faults", labels, colors, 2, faults, n);
    }
}

/* The ten functions with the most self time in one phase of a profile. */
static void profile_top(const struct rep_folded *f, const char *phase, size_t len,
                        struct rep_buf *b)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)len, phase);
    struct rep_folded_self top[10];
    uint64_t total = 0;
    size_t n = rep_folded_top_self(f, phase, len, top, 10, &total);
    rep_buf_puts(b, "<table class=\"top\"><tr><th>self</th><th>samples</th><th>");
    esc(b, name);
    rep_buf_puts(b, ": most self time</th></tr>\n");
    for (size_t k = 0; k < n; k++) {
        char leaf[1024];
        size_t l = top[k].name_len < sizeof leaf - 1 ? top[k].name_len : sizeof leaf - 1;
        memcpy(leaf, top[k].name, l);
        leaf[l] = '\0';
        rep_buf_printf(b, "<tr><td>%.1f%%</td><td>%llu</td><td>",
                       100.0 * (double)top[k].count / (double)total,
                       (unsigned long long)top[k].count);
        esc(b, leaf);
        rep_buf_puts(b, "</td></tr>\n");
    }
    rep_buf_puts(b, "</table>\n");
}

/* --profile cpu: a flame graph per target, drawn from its folded file. */
static void profiles(const struct rep_report *r, struct rep_buf *b)
{
    bool any = false;
    for (size_t i = 0; i < r->n_targets; i++)
        any |= r->targets[i].profile != NULL;
    if (!any)
        return;
    rep_buf_puts(b, "<h2>Where start-up time goes</h2>\n<p class=\"note\">CPU samples of every "
                    "thread and child of the target from exec to ready, over the measured runs. "
                    "Drawn from the top: under all samples, the phase "
                    "(<code>[exec-listen]</code>, then <code>[listen-ready]</code>: the first "
                    "request's work), then the process; each frame is as wide as the samples it "
                    "was on the stack for, its callees below it. Hover a frame for its name and "
                    "share. Kernel frames end in "
                    "<code>_[k]</code>, JIT-compiled code in <code>_[j]</code>; "
                    "<code>[lib.so]</code> is code in a library without symbols.</p>\n");
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *t = &r->targets[i];
        const struct rep_profile *p = t->profile;
        if (!p)
            continue;
        rep_buf_puts(b, "<section class=\"profile\">\n<h3>");
        esc(b, t->name);
        rep_buf_printf(b,
                       "</h3>\n<p class=\"meta\">%lld samples at %lld Hz over %lld run%s, "
                       "%lld lost; collapsed stacks in <code>",
                       (long long)p->samples, (long long)p->hz, (long long)p->runs,
                       p->runs == 1 ? "" : "s", (long long)p->lost);
        esc(b, p->folded_file);
        rep_buf_puts(b, "</code></p>\n");
        if (!p->stacks) {
            rep_buf_puts(b, "<p class=\"fail\">");
            esc(b, p->stacks_error ? p->stacks_error : "the collapsed stacks were not loaded");
            rep_buf_puts(b, "</p>\n</section>\n");
            continue;
        }
        const struct rep_folded *fp = p->stacks;
        if (fp->total == 0) {
            /* native-c is ready in about 2 ms: less than one sample period. */
            rep_buf_printf(b,
                           "<p class=\"note\" id=\"flame-%zu\">No samples: the target used "
                           "less than one sample period (1/%lld s) of CPU before ready.</p>\n",
                           i, (long long)p->hz);
            rep_buf_puts(b, "</section>\n");
            continue;
        }
        char id[32], title[300];
        snprintf(id, sizeof id, "flame-%zu", i);
        snprintf(title, sizeof title, "%s: CPU from exec to ready", t->name);
        svg_flame_graph(b, id, title, fp);
        const char *phases[8];
        size_t lens[8];
        size_t n = rep_folded_phases(fp, phases, lens, 8);
        for (size_t k = 0; k < n; k++)
            profile_top(fp, phases[k], lens[k], b);
        rep_buf_puts(b, "</section>\n");
    }
}

static void failures(const struct rep_report *r, struct rep_buf *b)
{
    bool header = false;
    for (size_t i = 0; i < r->n_targets; i++)
        for (size_t k = 0; k < r->targets[i].n_runs; k++) {
            const struct rep_run *run = &r->targets[i].runs[k];
            if (run->status == REP_OK)
                continue;
            if (!header) {
                rep_buf_puts(b, "<h2>Failed runs</h2>\n<table><tr><th>target</th><th>run</th>"
                                "<th>status</th><th style=\"text-align:left\">why</th></tr>\n");
                header = true;
            }
            rep_buf_puts(b, "<tr class=\"fail\"><td>");
            esc(b, r->targets[i].name);
            rep_buf_printf(b, "</td><td>%d%s</td><td>%s</td><td style=\"text-align:left\">",
                           run->index, run->warmup ? " (warmup)" : "",
                           rep_status_name(run->status));
            esc(b, run->error);
            rep_buf_puts(b, "</td></tr>\n");
        }
    if (header)
        rep_buf_puts(b, "</table>\n");
}

void rep_render_html(const struct rep_report *r, struct rep_buf *b)
{
    rep_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>coldstart report</title>\n<style>");
    rep_buf_puts(b, css);
    rep_buf_puts(b, "</style>\n</head>\n<body>\n<h1>coldstart report</h1>\n");
    host_and_settings(r, b);
    rep_buf_puts(b, "<h2>Comparison</h2>\n");
    comparison(r, b);
    budgets(r, b);
    if (r->n_skipped) {
        rep_buf_puts(b, "<p class=\"note\">Skipped: ");
        for (size_t i = 0; i < r->n_skipped; i++) {
            if (i)
                rep_buf_puts(b, "; ");
            esc(b, r->skipped[i]);
        }
        rep_buf_puts(b, "</p>\n");
    }
    for (size_t i = 0; i < r->n_targets; i++)
        if (r->targets[i].sizing)
            sizing(&r->targets[i], i, b);
    if (r->settings.sweep && r->n_targets)
        sweep(r, b);
    bool burst = false;
    for (size_t i = 0; i < r->n_targets; i++)
        burst |= rep_target_median_run_by(&r->targets[i], "burst_all_ready_us") != NULL;
    if (burst) {
        rep_buf_puts(b, "<h2>Bursts</h2>\n<p class=\"note\">K instances released at the same "
                        "instant, each in its own cgroup with its own port and probe. Times are "
                        "since the burst's start; memory is measured once every instance was "
                        "ready and had answered its requests (all K up), so PSS below RSS is "
                        "what they share.</p>\n");
        for (size_t i = 0; i < r->n_targets; i++)
            burst_instances(&r->targets[i], i, b);
    }
    cold_vs_warm(r, b);
    if (r->n_targets) {
        rep_buf_puts(b, "<h2>Time to ready</h2>\n");
        ready_distribution(r, b);
        rep_buf_puts(b, "<h2>Memory</h2>\n");
        memory_bars(r, b);
        rep_buf_puts(b, "<h2>A typical start-up</h2>\n<p class=\"note\">The run whose ready "
                        "time is the median, sampled every interval: memory of the target's "
                        "processes and of its cgroup, cumulative CPU, and the milestones.</p>\n");
        for (size_t i = 0; i < r->n_targets; i++)
            timeline(&r->targets[i], i, b);
    }
    profiles(r, b);
    failures(r, b);
    rep_buf_puts(b, "<p class=\"note\">Generated by coldstart from the JSON report; "
                    "<code>coldstart report IN.json --format html</code> reproduces it.</p>\n"
                    "</body>\n</html>\n");
}
