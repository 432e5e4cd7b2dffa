/* Small inline-SVG chart primitives for the HTML report: axes with "nice"
 * ticks and units, line series, strip plots and grouped bars. */
#ifndef COLDSTART_SVG_H
#define COLDSTART_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "reports/output.h"

struct svg_series {
    const char *label;
    const char *color;
    const double *x, *y;
    size_t n;
};

/* A vertical line at x; or, with x_end above x, a shaded band from x to
 * x_end (the load window). */
struct svg_marker {
    const char *label;
    double x;
    double x_end;
};

/* A line chart; x in ms, y in the given unit. id names the chart in the DOM. */
void svg_line_chart(struct rep_buf *b, const char *id, const char *title, const char *x_label,
                    const char *y_label, const struct svg_series *series, size_t n_series,
                    const struct svg_marker *markers, size_t n_markers);

struct svg_strip_row {
    const char *label;
    const double *values; /* ms */
    size_t n;
    double median;
};
/* One row of dots per target on a shared (log when the range is wide) axis. */
void svg_strip_plot(struct rep_buf *b, const char *id, const char *title, const char *x_label,
                    const struct svg_strip_row *rows, size_t n_rows);

struct svg_bar_row {
    const char *label;
    double values[4];
};
/* Grouped horizontal bars: n_groups values per row, one colour per group. */
void svg_bar_chart(struct rep_buf *b, const char *id, const char *title, const char *x_label,
                   const char *const *group_labels, const char *const *group_colors,
                   size_t n_groups, const struct svg_bar_row *rows, size_t n_rows);

struct svg_point {
    double x, y;       /* y ignored for failed points */
    double y_lo, y_hi; /* error bar; NaN for none */
    int category;      /* index into the categories; 0 is "ok" */
    bool upper;        /* a failure drawn on the second row above the x axis */
};
struct svg_category {
    const char *label, *color;
    bool point; /* drawn as a point, as category 0 is (not a failure's cross) */
};
/* What svg_xy_chart draws besides the points. */
enum {
    SVG_XY_CONNECT = 1,   /* join the category-0 points with a line */
    SVG_XY_INTEGER_X = 2, /* x counts things (instances): whole-number ticks only */
};
/* Points on numeric axes. Category 0 points are drawn (and joined with a line
 * when `connect`); other categories (failures) sit on the x axis as crosses. */
void svg_xy_chart(struct rep_buf *b, const char *id, const char *title, const char *x_label,
                  const char *y_label, const struct svg_point *pts, size_t n,
                  const struct svg_category *cats, size_t n_cats, unsigned flags);

#endif
