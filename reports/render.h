/* Renderers: every output format is produced from the report model alone, so
 * `coldstart report IN.json --format F` reproduces what a session wrote. */
#ifndef COLDSTART_RENDER_H
#define COLDSTART_RENDER_H

#include "reports/output.h"
#include "reports/report.h"

enum rep_format {
    REP_FMT_JSON,
    REP_FMT_MD,
    REP_FMT_HTML,
    REP_FMT_CSV,
    REP_FMT_JUNIT,
    REP_FMT_GITHUB_BENCHMARK, /* github-action-benchmark, customSmallerIsBetter */
};
int rep_format_parse(const char *name, enum rep_format *ret);

/* Renders into b (which the caller frees); -1 on allocation failure. */
int rep_render(const struct rep_report *r, enum rep_format f, struct rep_buf *b);
/* Renders and writes atomically ("-" = stdout). */
int rep_render_to_file(const struct rep_report *r, enum rep_format f, const char *path,
                       cs_error *err);

/* XML/HTML text escaping (also drops control characters XML forbids). */
void rep_xml_escape(struct rep_buf *b, const char *s);

/* The comparison table (one row per target) as aligned text for terminals. */
void rep_render_comparison_text(const struct rep_report *r, struct rep_buf *b);

/* Per-format renderers (render_*.c). */
void rep_render_markdown(const struct rep_report *r, struct rep_buf *b);
void rep_render_csv(const struct rep_report *r, struct rep_buf *b);
void rep_render_junit(const struct rep_report *r, struct rep_buf *b);
void rep_render_html(const struct rep_report *r, struct rep_buf *b);
void rep_render_github_benchmark(const struct rep_report *r, struct rep_buf *b);

/* ---- the comparison table, shared by text, Markdown and HTML ---- */

#define REP_TABLE_MAX_COLS 32

/* What a column is about: the terminal prints one table per group. */
enum rep_col_group { REP_COL_START, REP_COL_FOOTPRINT, REP_COL_LOAD, REP_COL_BURST };

struct rep_table {
    size_t n_cols, n_rows;
    const char *title[REP_TABLE_MAX_COLS];
    bool right[REP_TABLE_MAX_COLS]; /* numbers are right-aligned */
    enum rep_col_group group[REP_TABLE_MAX_COLS];
    char (*cell)[REP_TABLE_MAX_COLS][64];
};
/* Builds the comparison table; the caller frees t->cell. */
int rep_comparison_table(const struct rep_report *r, struct rep_table *t);

/* A container image in one line: "2 layers, 1.4 MiB compressed, 2.6 MiB
 * unpacked in 4 files (runtime builtin, extract warm)". */
void rep_image_facts(const struct rep_oci_image *i, char *buf, size_t cap);
/* What of the image was in the page cache at ready in this run: "768 KiB of
 * 2.6 MiB (28.4%), 1 of 3 files" (+ what cold means). false: not measured. */
bool rep_image_read_summary(const struct rep_target *t, const struct rep_run *run, char *buf,
                            size_t cap);
/* The load of the median run in one line: "64 connections for 5.0 s, closed
 * loop: 123456 requests, 24.7k/s, p99 3.1 ms, 0 errors; generator CPU 61%
 * of a core". false: the runs had no load. */
bool rep_load_summary(const struct rep_target *t, char *buf, size_t cap);
/* The load the session asked for: "load after ready: 64 connections for 5
 * s, closed loop, GET /". false: none. */
bool rep_load_settings(const struct rep_settings *s, char *buf, size_t cap);

/* --burst: the instances of the target's runs (REP_NONE: no burst), and
 * how many instances fit in 1 GiB at the median PSS per instance (at rest,
 * all K up): floor(1 GiB / PSS per instance). false: not measured. */
int64_t rep_target_burst_instances(const struct rep_target *t);
bool rep_burst_per_gib(const struct rep_target *t, double *ret);
/* A metric's median with its unit ("41.3 ms"), or "-" (false) when the
 * target has no value of it. */
bool rep_stat_p50_text(const struct rep_target *t, const char *metric, char *buf, size_t cap);
/* One line: "8 instances at once: all ready in 412 ms (instance ready p50 301
 * ms); PSS 21.4 MiB per instance (RSS 48.2 MiB): 47 per GiB at rest". */
bool rep_burst_summary(const struct rep_target *t, char *buf, size_t cap);

#endif
