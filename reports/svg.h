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

struct svg_marker {
    const char *label;
    double x;
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

#endif
