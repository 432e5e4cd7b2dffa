#include "reports/render.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report_json.h"

int rep_format_parse(const char *name, enum rep_format *ret)
{
    static const struct {
        const char *name;
        enum rep_format f;
    } names[] = {{"json", REP_FMT_JSON},
                 {"md", REP_FMT_MD},
                 {"markdown", REP_FMT_MD},
                 {"html", REP_FMT_HTML},
                 {"csv", REP_FMT_CSV},
                 {"junit", REP_FMT_JUNIT},
                 {"github-benchmark", REP_FMT_GITHUB_BENCHMARK}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *ret = names[i].f;
            return 0;
        }
    return -1;
}

int rep_render(const struct rep_report *r, enum rep_format f, struct rep_buf *b)
{
    switch (f) {
    case REP_FMT_JSON: {
        cs_error err;
        char *text = rep_json_render(r, &err);
        if (!text)
            return -1;
        rep_buf_puts(b, text);
        rep_buf_puts(b, "\n");
        free(text);
        break;
    }
    case REP_FMT_MD:
        rep_render_markdown(r, b);
        break;
    case REP_FMT_HTML:
        rep_render_html(r, b);
        break;
    case REP_FMT_CSV:
        rep_render_csv(r, b);
        break;
    case REP_FMT_JUNIT:
        rep_render_junit(r, b);
        break;
    case REP_FMT_GITHUB_BENCHMARK:
        rep_render_github_benchmark(r, b);
        break;
    }
    return b->failed ? -1 : 0;
}

int rep_render_to_file(const struct rep_report *r, enum rep_format f, const char *path,
                       cs_error *err)
{
    struct rep_buf b = {0};
    if (rep_render(r, f, &b) < 0) {
        rep_buf_free(&b);
        return cs_error_set(err, ENOMEM, "rendering %s", path);
    }
    int rc = rep_write_file(path, b.data ? b.data : "", b.len, err);
    rep_buf_free(&b);
    return rc;
}

/* ---- comparison table ---- */

struct column {
    const char *title;
    const char *metric; /* summary key; NULL for special columns */
    enum {
        C_P50,
        C_P95,
        C_CI,
        C_NAME,
        C_SIZE,
        C_DEPLOY,
        C_RATIO_READY,
        C_RATIO_RSS,
        C_OK,
        C_IMAGE,
        C_INSTANCES,
        C_PER_GIB,
    } kind;
};

static const struct column columns[] = {
    {"image", NULL, C_NAME},
    {"ok", NULL, C_OK},
    {"ready p50", "ready_us", C_P50},
    {"ready p95", "ready_us", C_P95},
    {"p50 95% CI", "ready_us", C_CI},
    {"listen p50", "listen_us", C_P50},
    {"listen→ready", "listen_to_ready_us", C_P50},
    {"req after ready", "first_request_us", C_P50},
    {"warm req", "warm_request_us", C_P50},
    {"RSS at ready", "rss_ready_bytes", C_P50},
    {"PSS at ready", "pss_ready_bytes", C_P50},
    {"peak RSS", "rss_peak_bytes", C_P50},
    {"CPU to ready", "cpu_to_ready_us", C_P50},
    {"app size", NULL, C_SIZE},
    {"deploy size", NULL, C_DEPLOY},
    {"ready ×ref", "ready_us", C_RATIO_READY},
    {"RSS ×ref", "rss_ready_bytes", C_RATIO_RSS},
};

/* Added when a target is a container image: its phases and what of it start-up read. */
static const struct column container_columns[] = {
    {"extract p50", "extract_us", C_P50},
    {"rootfs p50", "rootfs_us", C_P50},
    {"image packed/unpacked", NULL, C_IMAGE},
    {"image read", "image_read_bytes", C_P50},
};

/* Added when the runs had a load after ready (--load). */
static const struct column load_columns[] = {
    {"requests/s", "load_rps", C_P50},
    {"p99 under load", "load_p99_us", C_P50},
    {"peak RSS under load", "load_rss_peak_bytes", C_P50},
    {"RSS after load", "rss_after_load_bytes", C_P50},
};

/* Added when the runs were bursts (--burst). */
static const struct column burst_columns[] = {
    {"instances", NULL, C_INSTANCES},
    {"all ready p50", "burst_all_ready_us", C_P50},
    {"all ready 95% CI", "burst_all_ready_us", C_CI},
    {"instance ready p50", "burst_ready_us", C_P50},
    {"PSS/instance", "pss_per_instance_bytes", C_P50},
    {"RSS/instance", "rss_per_instance_bytes", C_P50},
    {"per GiB", "pss_per_instance_bytes", C_PER_GIB},
};

int64_t rep_target_burst_instances(const struct rep_target *t)
{
    for (size_t k = 0; k < t->n_runs; k++)
        if (!t->runs[k].warmup && t->runs[k].burst)
            return t->runs[k].burst->instances;
    return REP_NONE;
}

bool rep_burst_per_gib(const struct rep_target *t, double *ret)
{
    const struct rep_stat *s = rep_target_stat(t, "pss_per_instance_bytes");
    if (!s || s->n == 0 || !(s->p50 > 0))
        return false;
    *ret = floor(1073741824.0 / s->p50);
    return true;
}

static void cell_stat(const struct rep_target *t, const struct column *c, char *out, size_t cap)
{
    const struct rep_metric *m = rep_metric_find(c->metric);
    const struct rep_stat *s = rep_target_stat(t, c->metric);
    if (!m || !s || s->n == 0) {
        snprintf(out, cap, "-");
        return;
    }
    if (c->kind == C_CI) {
        if (isnan(s->ci95_lo)) {
            snprintf(out, cap, "n < 6");
            return;
        }
        char lo[32], hi[32];
        rep_format_value(m->unit, s->ci95_lo, lo, sizeof lo);
        rep_format_value(m->unit, s->ci95_hi, hi, sizeof hi);
        if (snprintf(out, cap, "%s – %s", lo, hi) >= (int)cap) /* display text: cut is fine */
            out[cap - 1] = '\0';
        return;
    }
    rep_format_value(m->unit, c->kind == C_P95 ? s->p95 : s->p50, out, cap);
}

static void cell_ratio(const struct rep_target *t, const struct rep_target *ref,
                       const struct column *c, char *out, size_t cap)
{
    const struct rep_stat *a = rep_target_stat(t, c->metric);
    const struct rep_stat *b = ref ? rep_target_stat(ref, c->metric) : NULL;
    if (!a || !b || a->n == 0 || b->n == 0 || b->p50 <= 0) {
        snprintf(out, cap, "-");
        return;
    }
    double x = a->p50 / b->p50;
    snprintf(out, cap, x >= 10 ? "%.0f×" : "%.1f×", x);
}

/* "1.4 MiB / 2.6 MiB" */
static void cell_image(const struct rep_target *t, char *out, size_t cap)
{
    if (!t->oci_image) {
        snprintf(out, cap, "-");
        return;
    }
    char a[32], b[32];
    rep_format_value(REP_UNIT_BYTES, (double)t->oci_image->compressed_bytes, a, sizeof a);
    rep_format_value(REP_UNIT_BYTES, (double)t->oci_image->unpacked_bytes, b, sizeof b);
    snprintf(out, cap, "%s / %s", a, b);
}

int rep_comparison_table(const struct rep_report *r, struct rep_table *t)
{
    memset(t, 0, sizeof *t);
    const struct column *cols[REP_TABLE_MAX_COLS];
    for (size_t c = 0; c < sizeof columns / sizeof columns[0]; c++)
        cols[t->n_cols++] = &columns[c];
    bool images = false;
    for (size_t i = 0; i < r->n_targets; i++)
        images |= r->targets[i].oci_image != NULL;
    for (size_t c = 0; images && c < sizeof container_columns / sizeof container_columns[0]; c++)
        cols[t->n_cols++] = &container_columns[c];
    bool load = false;
    for (size_t i = 0; i < r->n_targets; i++)
        for (size_t k = 0; k < r->targets[i].n_runs; k++)
            load |= r->targets[i].runs[k].load != NULL;
    for (size_t c = 0; load && c < sizeof load_columns / sizeof load_columns[0]; c++)
        cols[t->n_cols++] = &load_columns[c];
    bool burst = false;
    for (size_t i = 0; i < r->n_targets; i++)
        burst |= rep_target_burst_instances(&r->targets[i]) != REP_NONE;
    for (size_t c = 0; burst && c < sizeof burst_columns / sizeof burst_columns[0]; c++)
        cols[t->n_cols++] = &burst_columns[c];
    t->n_rows = r->n_targets;
    t->cell = calloc(r->n_targets ? r->n_targets : 1, sizeof *t->cell);
    if (!t->cell)
        return -1;
    const struct rep_target *ref = rep_report_reference(r);
    for (size_t c = 0; c < t->n_cols; c++) {
        t->title[c] = cols[c]->title;
        t->right[c] = cols[c]->kind != C_NAME;
        const char *m = cols[c]->metric;
        const struct rep_metric *metric = m ? rep_metric_find(m) : NULL;
        t->group[c] =
            metric && rep_metric_is_load(metric) ? REP_COL_LOAD
            : cols[c] >= burst_columns &&
                    cols[c] < burst_columns + sizeof burst_columns / sizeof burst_columns[0]
                ? REP_COL_BURST
            : cols[c]->kind == C_SIZE || cols[c]->kind == C_DEPLOY || cols[c]->kind == C_IMAGE ||
                    (m && strstr(m, "_bytes"))
                ? REP_COL_FOOTPRINT
                : REP_COL_START;
    }
    for (size_t i = 0; i < r->n_targets; i++) {
        const struct rep_target *tg = &r->targets[i];
        for (size_t c = 0; c < t->n_cols; c++) {
            char *out = t->cell[i][c];
            const struct column *col = cols[c];
            switch (col->kind) {
            case C_NAME:
                snprintf(out, 64, "%s", tg->name);
                break;
            case C_OK: {
                size_t n = 0, ok = 0;
                for (size_t k = 0; k < tg->n_runs; k++)
                    if (!tg->runs[k].warmup) {
                        n++;
                        ok += tg->runs[k].status == REP_OK;
                    }
                snprintf(out, 64, "%zu/%zu", ok, n);
                break;
            }
            case C_SIZE:
            case C_DEPLOY: {
                int64_t v = col->kind == C_SIZE ? tg->size_on_disk_bytes : tg->deploy_size_bytes;
                if (v == REP_NONE)
                    snprintf(out, 64, "-");
                else
                    rep_format_value(REP_UNIT_BYTES, (double)v, out, 64);
                break;
            }
            case C_RATIO_READY:
            case C_RATIO_RSS:
                cell_ratio(tg, ref, col, out, 64);
                break;
            case C_IMAGE:
                cell_image(tg, out, 64);
                break;
            case C_INSTANCES: {
                int64_t k = rep_target_burst_instances(tg);
                snprintf(out, 64, k == REP_NONE ? "-" : "%lld", (long long)k);
                break;
            }
            case C_PER_GIB: {
                double per = 0;
                bool known = rep_burst_per_gib(tg, &per);
                snprintf(out, 64, known ? "%.0f" : "-", per);
                break;
            }
            default:
                cell_stat(tg, col, out, 64);
            }
        }
    }
    return 0;
}

static int display_width(const char *s)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xC0) != 0x80;
    return cols;
}

/* One aligned table of the columns of one group (the image column always). */
static void text_table(const struct rep_table *t, struct rep_buf *b, enum rep_col_group pick)
{
    int width[REP_TABLE_MAX_COLS];
    bool use[REP_TABLE_MAX_COLS];
    size_t last = 0;
    for (size_t c = 0; c < t->n_cols; c++) {
        use[c] = c == 0 || t->group[c] == pick;
        if (use[c])
            last = c;
        width[c] = display_width(t->title[c]);
        for (size_t i = 0; i < t->n_rows; i++) {
            int w = display_width(t->cell[i][c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (size_t row = 0; row <= t->n_rows; row++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            if (!use[c])
                continue;
            const char *s = row == 0 ? t->title[c] : t->cell[row - 1][c];
            int pad = width[c] - display_width(s);
            if (c)
                rep_buf_puts(b, "  ");
            if (t->right[c])
                rep_buf_printf(b, "%*s%s", pad, "", s);
            else
                rep_buf_printf(b, "%s%*s", s, c < last ? pad : 0, "");
        }
        rep_buf_puts(b, "\n");
    }
}

/* Terminals are narrower than the full table: start-up times first, then
 * the footprint, each with the image column. */
void rep_render_comparison_text(const struct rep_report *r, struct rep_buf *b)
{
    struct rep_table t;
    if (rep_comparison_table(r, &t) < 0)
        return;
    rep_buf_puts(b, "Start-up\n");
    text_table(&t, b, REP_COL_START);
    rep_buf_puts(b, "\nFootprint\n");
    text_table(&t, b, REP_COL_FOOTPRINT);
    bool load = false;
    for (size_t c = 0; c < t.n_cols; c++)
        load |= t.group[c] == REP_COL_LOAD;
    if (load) {
        rep_buf_puts(b, "\nUnder load (medians of the runs)\n");
        text_table(&t, b, REP_COL_LOAD);
    }
    bool burst = false;
    for (size_t c = 0; c < t.n_cols; c++)
        burst |= t.group[c] == REP_COL_BURST;
    if (burst) {
        rep_buf_puts(b, "\nBurst (medians of the runs; per GiB: instances whose PSS at rest "
                        "fits in 1 GiB)\n");
        text_table(&t, b, REP_COL_BURST);
    }
    const struct rep_target *ref = rep_report_reference(r);
    if (ref && r->n_targets > 1)
        rep_buf_printf(b, "×ref: median relative to %s.\n", ref->name);
    free(t.cell);
}

void rep_image_facts(const struct rep_oci_image *i, char *buf, size_t cap)
{
    char packed[32], unpacked[32];
    rep_format_value(REP_UNIT_BYTES, (double)i->compressed_bytes, packed, sizeof packed);
    rep_format_value(REP_UNIT_BYTES, (double)i->unpacked_bytes, unpacked, sizeof unpacked);
    /* A docker-archive's layers are plain tars: packed, not compressed. */
    bool plain = i->transport && strcmp(i->transport, "docker-archive") == 0;
    snprintf(buf, cap,
             "%lld layer%s, %s %s, %s unpacked in %lld files (runtime %s, "
             "extract %s)",
             (long long)i->layers, i->layers == 1 ? "" : "s", packed,
             plain ? "as tar (uncompressed)" : "compressed", unpacked, (long long)i->files,
             i->runtime ? i->runtime : "builtin", i->extract ? i->extract : "warm");
}

bool rep_image_read_summary(const struct rep_target *t, const struct rep_run *run, char *buf,
                            size_t cap)
{
    const struct rep_oci_image *i = t->oci_image;
    if (!i || !run || run->image_read_bytes == REP_NONE || i->unpacked_bytes <= 0)
        return false;
    char read[32], unpacked[32];
    rep_format_value(REP_UNIT_BYTES, (double)run->image_read_bytes, read, sizeof read);
    rep_format_value(REP_UNIT_BYTES, (double)i->unpacked_bytes, unpacked, sizeof unpacked);
    snprintf(buf, cap, "%s of %s (%.1f%%), %lld of %lld files%s", read, unpacked,
             100.0 * (double)run->image_read_bytes / (double)i->unpacked_bytes,
             (long long)run->image_read_files, (long long)i->files,
             t->cache && strcmp(t->cache, "cold") == 0 ? " (cache cold: what start-up read)" : "");
    return true;
}

/* The generator's CPU over the load's window, in percent of a core; NaN
 * when either is unknown. In doubles: a report read from a file may hold
 * any two integers. */
static double generator_share(const struct rep_load *l)
{
    double window = l->start_us != REP_NONE && l->end_us != REP_NONE
                        ? (double)l->end_us - (double)l->start_us
                        : 0;
    if (l->generator_cpu_us == REP_NONE || !(window > 0))
        return NAN;
    return 100.0 * (double)l->generator_cpu_us / window;
}

/* --load-cmd: how the command ended, how long it ran, its CPU. */
static bool command_summary(const struct rep_load *l, char *buf, size_t cap)
{
    char how[48] = "did not end";
    if (l->command_exit != REP_NONE)
        snprintf(how, sizeof how, "exit %lld", (long long)l->command_exit);
    else if (l->command_signal != REP_NONE)
        snprintf(how, sizeof how, "killed by signal %lld", (long long)l->command_signal);
    char took[32] = "-";
    if (l->start_us != REP_NONE && l->end_us != REP_NONE)
        rep_format_value(REP_UNIT_US, (double)l->end_us - (double)l->start_us, took, sizeof took);
    int n = snprintf(buf, cap, "`%s`: %s after %s", l->command, how, took);
    double share = generator_share(l);
    if (n > 0 && (size_t)n < cap && !isnan(share))
        snprintf(buf + n, cap - (size_t)n, "; its CPU %.0f%% of a core", share);
    return true;
}

bool rep_load_summary(const struct rep_target *t, char *buf, size_t cap)
{
    const struct rep_run *run = rep_target_median_run(t);
    const struct rep_load *l = run ? run->load : NULL;
    if (!l)
        return false;
    if (l->command)
        return command_summary(l, buf, cap);
    char rps[32], p99[32], mode[64] = "closed loop";
    rep_format_value(REP_UNIT_PER_S, l->rps, rps, sizeof rps);
    rep_format_value(REP_UNIT_US, l->p99_us, p99, sizeof p99);
    if (l->rate > 0)
        snprintf(mode, sizeof mode, "open loop at %.0f/s", l->rate);
    int n = snprintf(
        buf, cap, "%lld connection%s for %.1f s, %s: %lld requests, %s, p99 %s, %lld error%s",
        (long long)l->connections, l->connections == 1 ? "" : "s", (double)l->duration_us / 1e6,
        mode, (long long)l->requests, rps, p99, (long long)l->errors, l->errors == 1 ? "" : "s");
    if (n > 0 && (size_t)n < cap && l->errors > 0)
        n += snprintf(buf + n, cap - (size_t)n,
                      " (connect %lld, read %lld, status %lld, timeout %lld)",
                      (long long)l->errors_connect, (long long)l->errors_read,
                      (long long)l->errors_status, (long long)l->errors_timeout);
    double share = generator_share(l);
    if (n > 0 && (size_t)n < cap && !isnan(share))
        snprintf(buf + n, cap - (size_t)n, "; generator CPU %.0f%% of a core", share);
    return true;
}

bool rep_load_settings(const struct rep_settings *s, char *buf, size_t cap)
{
    if (s->load_command) {
        snprintf(buf, cap, "load after ready: the command `%s`", s->load_command);
        return true;
    }
    if (s->load_connections <= 0)
        return false;
    char mode[64] = "closed loop";
    if (s->load_rate > 0)
        snprintf(mode, sizeof mode, "open loop at %.0f requests/s", s->load_rate);
    snprintf(buf, cap, "load after ready: %lld connection%s for %.3g s, %s, GET %s",
             (long long)s->load_connections, s->load_connections == 1 ? "" : "s",
             (double)s->load_duration_us / 1e6, mode,
             s->load_path ? s->load_path : "(the ready path)");
    return true;
}

bool rep_stat_p50_text(const struct rep_target *t, const char *metric, char *buf, size_t cap)
{
    const struct rep_metric *m = rep_metric_find(metric);
    const struct rep_stat *s = rep_target_stat(t, metric);
    if (!m || !s || s->n == 0) {
        snprintf(buf, cap, "-");
        return false;
    }
    rep_format_value(m->unit, s->p50, buf, cap);
    return true;
}

bool rep_burst_summary(const struct rep_target *t, char *buf, size_t cap)
{
    int64_t k = rep_target_burst_instances(t);
    const struct rep_stat *all = rep_target_stat(t, "burst_all_ready_us");
    if (k == REP_NONE || !all || all->n == 0)
        return false;
    char a[32], e[32], p[32], r[32];
    rep_stat_p50_text(t, "burst_all_ready_us", a, sizeof a);
    rep_stat_p50_text(t, "burst_ready_us", e, sizeof e);
    bool pss = rep_stat_p50_text(t, "pss_per_instance_bytes", p, sizeof p);
    rep_stat_p50_text(t, "rss_per_instance_bytes", r, sizeof r);
    int n = snprintf(buf, cap, "%lld instance%s at once: all ready in %s (instance ready p50 %s)",
                     (long long)k, k == 1 ? "" : "s", a, e);
    if (n > 0 && (size_t)n < cap && pss)
        n += snprintf(buf + n, cap - (size_t)n, "; PSS %s per instance (RSS %s)", p, r);
    else if (n > 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, "; no memory at rest: the instances had exited");
    double per;
    if (n > 0 && (size_t)n < cap && rep_burst_per_gib(t, &per))
        snprintf(buf + n, cap - (size_t)n, ": %.0f per GiB at rest", per);
    return true;
}
