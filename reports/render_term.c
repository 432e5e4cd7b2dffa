#include "reports/render_term.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/folded.h"
#include "reports/render.h"

/* Metrics worth a row in the terminal, in reading order. */
static const char *const term_metrics[] = {
    "ready_us",
    "burst_all_ready_us",
    "burst_ready_us",
    "extract_us",
    "rootfs_us",
    "exec_us",
    "listen_us",
    "first_byte_us",
    "listen_to_ready_us",
    "first_request_us",
    "warm_request_us",
    "cpu_to_ready_us",
    "rss_ready_bytes",
    "pss_ready_bytes",
    "pss_per_instance_bytes",
    "rss_per_instance_bytes",
    "rss_peak_bytes",
    "cgroup_peak_bytes",
    "majflt",
    "processes_ready",
    "stop_us",
    "image_read_bytes",
    "image_read_files",
    "load_rps",
    "load_p50_us",
    "load_p99_us",
    "load_p999_us",
    "load_errors",
    "load_cpu_us",
    "load_rss_peak_bytes",
    "load_cgroup_peak_bytes",
    "rss_after_load_bytes",
};

/* Text a target or an image controls (its output, its file names), written
 * with every control character shown as `?`: an escape sequence in a
 * target's output must not move the cursor, retitle the window or worse in
 * the user's terminal. C1 controls in UTF-8 (U+0080-U+009F) too. */
static void put_untrusted(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f) {
            fputc('?', out);
            i++;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            fputc('?', out);
        } else {
            fputc(c, out);
        }
    }
}

static void put_untrusted_line(FILE *out, const char *prefix, const char *s)
{
    fputs(prefix, out);
    put_untrusted(out, s, strlen(s));
    fputc('\n', out);
}

/* The first five: size and path. */
static void print_files(FILE *out, const struct rep_count *files, size_t n)
{
    for (size_t k = 0; k < n && k < 5; k++) {
        char b[32];
        rep_format_value(REP_UNIT_BYTES, (double)files[k].count, b, sizeof b);
        fprintf(out, "    %10s  ", b);
        put_untrusted_line(out, "", files[k].name);
    }
}

/* A container image: what it is, and what of it start-up read (median run). */
static void print_image(FILE *out, const struct rep_target *t)
{
    if (!t->oci_image)
        return;
    char line[512];
    rep_image_facts(t->oci_image, line, sizeof line);
    fprintf(out, "  image %s: %s\n", t->oci_image->ref, line);
    const struct rep_run *m = rep_target_median_run(t);
    if (!rep_image_read_summary(t, m, line, sizeof line))
        return;
    fprintf(out, "  image in the page cache at ready: %s\n", line);
    print_files(out, m->image_read_top, m->n_image_read_top);
    if (m->n_image_unread_top) {
        fprintf(out, "  not in the page cache at ready (the largest):\n");
        print_files(out, m->image_unread_top, m->n_image_unread_top);
    }
}

static int display_cols(const char *s)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xC0) != 0x80;
    return cols;
}

/* Aligns by display width: "±", "µ" and "→" are several bytes but one column. */
static void put_right(FILE *out, const char *s, int width)
{
    for (int i = display_cols(s); i < width; i++)
        fputc(' ', out);
    fputs(s, out);
}

static void put_left(FILE *out, const char *s, int width)
{
    fputs(s, out);
    for (int i = display_cols(s); i < width; i++)
        fputc(' ', out);
}

static void put_value(FILE *out, enum rep_unit unit, int64_t v, int width)
{
    char s[32] = "-";
    if (v != REP_NONE)
        rep_format_value(unit, (double)v, s, sizeof s);
    put_right(out, s, width);
}

/* --burst: every instance of the median run (by all ready), on the burst's
 * clock: who started when, and who waited for whom. */
static void print_burst(FILE *out, const struct rep_target *t)
{
    char line[512];
    if (!rep_burst_summary(t, line, sizeof line))
        return;
    fprintf(out, "  burst: %s\n", line);
    const struct rep_run *m = rep_target_median_run_by(t, "burst_all_ready_us");
    if (!m)
        return;
    fprintf(out, "  run %d, the median by all ready (times since the burst's start):\n", m->index);
    static const char *const head[] = {"#",       "exec", "listen", "ready",
                                       "1st req", "CPU",  "RSS",    "PSS"};
    static const int width[] = {6, 10, 10, 10, 10, 10, 11, 11};
    fputs("  ", out);
    for (size_t c = 0; c < sizeof head / sizeof head[0]; c++)
        put_right(out, head[c], width[c]);
    fputs("  status\n", out);
    for (size_t i = 0; i < m->burst->n_each; i++) {
        const struct rep_burst_instance *e = &m->burst->each[i];
        fprintf(out, "  %6zu", i + 1);
        put_value(out, REP_UNIT_US, e->exec_us, 10);
        put_value(out, REP_UNIT_US, e->listen_us, 10);
        put_value(out, REP_UNIT_US, e->ready_us, 10);
        put_value(out, REP_UNIT_US, e->first_request_us, 10);
        put_value(out, REP_UNIT_US, e->cpu_to_ready_us, 10);
        put_value(out, REP_UNIT_BYTES, e->rss_bytes, 11);
        put_value(out, REP_UNIT_BYTES, e->pss_bytes, 11);
        fprintf(out, "  %s\n", rep_status_name(e->status));
    }
    fprintf(out, "  (below: \"all ready\" and \"instance ready\" over every instance, the "
                 "rest the first instance's)\n");
}

/* --profile cpu: the ten functions most often on the CPU themselves, per
 * phase, from the target's folded file. */
void rep_term_print_profile(FILE *out, const struct rep_target *t)
{
    const struct rep_profile *p = t->profile;
    if (!p)
        return;
    fprintf(out, "  CPU profile: %lld samples at %lld Hz over %lld run%s, %lld lost: %s\n",
            (long long)p->samples, (long long)p->hz, (long long)p->runs, p->runs == 1 ? "" : "s",
            (long long)p->lost, p->folded_file);
    if (!p->stacks) {
        fprintf(out, "    (%s)\n",
                p->stacks_error ? p->stacks_error : "the collapsed stacks were not loaded");
        return;
    }
    const struct rep_folded *fp = p->stacks;
    const char *phases[8];
    size_t lens[8];
    size_t n_phases = rep_folded_phases(fp, phases, lens, 8);
    for (size_t i = 0; i < n_phases; i++) {
        struct rep_folded_self top[10];
        uint64_t total = 0;
        size_t n = rep_folded_top_self(fp, phases[i], lens[i], top, 10, &total);
        /* A sample stands for 1/hz s of one CPU. */
        fprintf(out, "    %.*s: %llu samples (%.0f ms of CPU per run); most self time:\n",
                (int)lens[i], phases[i], (unsigned long long)total,
                p->hz > 0 && p->runs > 0 ? 1000.0 * (double)total / (double)p->hz / (double)p->runs
                                         : 0.0);
        for (size_t k = 0; k < n; k++) {
            int cut = rep_utf8_prefix(top[k].name, top[k].name_len < 100 ? top[k].name_len : 100);
            fprintf(out, "      %5.1f%% %6llu  %.*s%s\n",
                    100.0 * (double)top[k].count / (double)total, (unsigned long long)top[k].count,
                    cut, top[k].name, (size_t)cut < top[k].name_len ? "…" : "");
        }
    }

}

void rep_term_print_target(FILE *out, const struct rep_target *t)
{
    size_t measured = 0, ok = 0;
    for (size_t r = 0; r < t->n_runs; r++) {
        if (t->runs[r].warmup)
            continue;
        measured++;
        ok += t->runs[r].status == REP_OK;
    }
    fprintf(out, "%s: %zu run%s, %zu ok", t->name, measured, measured == 1 ? "" : "s", ok);
    if (t->ready) {
        fputs(", ready: ", out);
        put_untrusted(out, t->ready, strlen(t->ready));
        /* Plain tcp:// is the kernel's handshake: it holds from listen() on,
         * whether or not the server serves yet (a database loading). */
        if (strncmp(t->ready, "tcp://", 6) == 0 && !strstr(t->ready, " expect ") &&
            !strstr(t->ready, " send "))
            fputs(" (accepting connections, not an answer of the server: redis://, "
                  "postgres:// or --ready-send/--ready-expect ask it)",
                  out);
    }
    fputc('\n', out);
    print_image(out, t);
    char load[512];
    if (rep_load_summary(t, load, sizeof load))
        fprintf(out, "  load (median run): %s\n", load);
    if (ok == 0) {
        rep_term_print_failures(out, t);
        return;
    }
    print_burst(out, t);
    fprintf(out, "  %-16s", "");
    put_right(out, "p50", 10);
    put_right(out, "p95", 11);
    put_right(out, "mean ± sd", 23);
    put_right(out, "min", 11);
    put_right(out, "max", 11);
    fprintf(out, "   %s\n", "median 95% CI");
    for (size_t i = 0; i < sizeof term_metrics / sizeof term_metrics[0]; i++) {
        const struct rep_metric *m = rep_metric_find(term_metrics[i]);
        const struct rep_stat *s = rep_target_stat(t, term_metrics[i]);
        if (!m || !s || s->n == 0)
            continue;
        char p50[32], p95[32], mean[32], sd[32], mn[32], mx[32], lo[32], hi[32], msd[64];
        rep_format_value(m->unit, s->p50, p50, sizeof p50);
        rep_format_value(m->unit, s->p95, p95, sizeof p95);
        rep_format_value(m->unit, s->mean, mean, sizeof mean);
        rep_format_value(m->unit, s->stddev, sd, sizeof sd);
        rep_format_value(m->unit, s->min, mn, sizeof mn);
        rep_format_value(m->unit, s->max, mx, sizeof mx);
        if (snprintf(msd, sizeof msd, "%s ± %s", mean, sd) >= (int)sizeof msd)
            msd[sizeof msd - 1] = '\0'; /* display text: cut is fine */
        char ci[80] = "";
        if (!isnan(s->ci95_lo)) {
            rep_format_value(m->unit, s->ci95_lo, lo, sizeof lo);
            rep_format_value(m->unit, s->ci95_hi, hi, sizeof hi);
            snprintf(ci, sizeof ci, "%s – %s", lo, hi);
        } else {
            snprintf(ci, sizeof ci, "(n < 6)");
        }
        fputs("  ", out);
        put_left(out, m->label, 16);
        put_right(out, p50, 10);
        put_right(out, p95, 11);
        put_right(out, msd, 23);
        put_right(out, mn, 11);
        put_right(out, mx, 11);
        fprintf(out, "   %s\n", ci);
        /* MAD on a handful of runs flags noise; five is the least that means much. */
        if (s->outliers && s->n >= 5 && strcmp(m->key, "ready_us") == 0)
            fprintf(out,
                    "  note: %lld of %lld ready times are statistical outliers (> 3.5 MAD from "
                    "the median); a busy machine or a first-run effect. Try more runs or "
                    "--warmup.\n",
                    (long long)s->outliers, (long long)s->n);
    }
    rep_term_print_profile(out, t);
    rep_term_print_failures(out, t);
}

void rep_term_print_failures(FILE *out, const struct rep_target *t)
{
    for (size_t r = 0; r < t->n_runs; r++) {
        const struct rep_run *run = &t->runs[r];
        if (run->status == REP_OK)
            continue;
        fprintf(out, "  run %d%s: %s", run->index, run->warmup ? " (warmup)" : "",
                rep_status_name(run->status));
        if (run->error) {
            fputs(": ", out);
            put_untrusted(out, run->error, strlen(run->error));
        }
        fputc('\n', out);
        /* The first line that named an error: the cause, often long scrolled
         * out of the tail (a runtime's stack trace follows it). */
        if (run->error_line)
            put_untrusted_line(out, "    first error line: ", run->error_line);
        if (run->output_tail && *run->output_tail) {
            /* The last few lines are what explains most failures. */
            const char *p = run->output_tail + strlen(run->output_tail);
            int lines = 0;
            while (p > run->output_tail && lines < 6) {
                p--;
                if (*p == '\n' && p[1])
                    lines++;
            }
            if (*p == '\n')
                p++;
            fprintf(out, "    target output (last lines):\n");
            for (const char *q = p; *q;) {
                const char *e = strchr(q, '\n');
                int len = e ? (int)(e - q) : (int)strlen(q);
                fputs("    | ", out);
                put_untrusted(out, q, (size_t)len);
                fputc('\n', out);
                q = e ? e + 1 : q + len;
            }
        }
    }
}
