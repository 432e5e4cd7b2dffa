#include "reports/svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/render.h"

#define W 860.0
#define PAD_L 70.0
#define PAD_R 20.0
#define PAD_T 34.0
#define PAD_B 44.0

/* Tick step of 1, 2 or 5 times a power of ten giving about `want` ticks. */
static double nice_step(double range, int want)
{
    if (range <= 0)
        return 1;
    double raw = range / want;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* A tick label with as many decimals as the step between ticks needs, so
 * neighbours never print alike ("132.5", not "132"). */
static void fmt_tick(double v, double step, char *buf, size_t cap)
{
    int decimals = step >= 1 || step <= 0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (decimals > 6)
        decimals = 6;
    snprintf(buf, cap, "%.*f", decimals, v);
}

/* Row labels have ~150 px: keep the end of a long name (the distinctive part,
 * e.g. "...serve@cpus=0.5") behind an ellipsis. */
static void row_label(struct rep_buf *b, const char *s)
{
    const size_t keep = 22;
    size_t cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xC0) != 0x80;
    if (cols <= keep) {
        rep_xml_escape(b, s);
        return;
    }
    const char *p = s;
    for (size_t skip = cols - (keep - 1); skip > 0; p++)
        if ((*(const unsigned char *)(p + 1) & 0xC0) != 0x80)
            skip--;
    rep_buf_puts(b, "…");
    rep_xml_escape(b, p);
}

static void open_svg(struct rep_buf *b, const char *id, const char *title, double h)
{
    rep_buf_printf(b,
                   "<svg class=\"chart\" id=\"%s\" role=\"img\" viewBox=\"0 0 %.0f %.0f\" "
                   "width=\"%.0f\" height=\"%.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n"
                   "<title>",
                   id, W, h, W, h);
    rep_xml_escape(b, title);
    rep_buf_puts(b, "</title>\n<text class=\"ct\" x=\"");
    rep_buf_printf(b, "%.0f\" y=\"16\">", PAD_L);
    rep_xml_escape(b, title);
    rep_buf_puts(b, "</text>\n");
}

static void axis_label_x(struct rep_buf *b, const char *label, double h)
{
    rep_buf_printf(b, "<text class=\"al\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">",
                   PAD_L + (W - PAD_L - PAD_R) / 2, h - 6);
    rep_xml_escape(b, label);
    rep_buf_puts(b, "</text>\n");
}

/* The frame of an x/y chart from 0: horizontal grid lines with y ticks, x
 * ticks, and both axes. */
static void xy_axes(struct rep_buf *b, double xmax, double ymax, double xstep, double ystep,
                    double pw, double ph)
{
#define AX(v) (PAD_L + (v) / xmax * pw)
#define AY(v) (PAD_T + ph - (v) / ymax * ph)
    for (int i = 0;; i++) {
        double v = i * ystep;
        if (!(v <= ymax + ystep / 2))
            break;
        char t[32];
        fmt_tick(v, ystep, t, sizeof t);
        rep_buf_printf(b,
                       "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                       "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                       PAD_L, PAD_L + pw, AY(v), AY(v), PAD_L - 6, AY(v) + 4, t);
    }
    for (int i = 0;; i++) {
        double v = i * xstep;
        if (!(v <= xmax + xstep / 2))
            break;
        char t[32];
        fmt_tick(v, xstep, t, sizeof t);
        rep_buf_printf(
            b,
            "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
            "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            AX(v), AX(v), PAD_T + ph, PAD_T + ph + 5, AX(v), PAD_T + ph + 18, t);
    }
    rep_buf_printf(b,
                   "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                   "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                   PAD_L, PAD_L + pw, PAD_T + ph, PAD_T + ph, PAD_L, PAD_L, PAD_T, PAD_T + ph);
#undef AX
#undef AY
}

/* The rotated y-axis label and the end of the chart. */
static void y_label_and_close(struct rep_buf *b, const char *y_label, double ph)
{
    rep_buf_printf(b,
                   "<text class=\"al\" x=\"14\" y=\"%.0f\" transform=\"rotate(-90 14 %.0f)\" "
                   "text-anchor=\"middle\">",
                   PAD_T + ph / 2, PAD_T + ph / 2);
    rep_xml_escape(b, y_label);
    rep_buf_puts(b, "</text>\n</svg>\n");
}

void svg_line_chart(struct rep_buf *b, const char *id, const char *title, const char *x_label,
                    const char *y_label, const struct svg_series *series, size_t n_series,
                    const struct svg_marker *markers, size_t n_markers)
{
    const double h = 260;
    double xmax = 0, ymax = 0;
    for (size_t s = 0; s < n_series; s++)
        for (size_t i = 0; i < series[s].n; i++) {
            if (series[s].x[i] > xmax)
                xmax = series[s].x[i];
            if (series[s].y[i] > ymax)
                ymax = series[s].y[i];
        }
    for (size_t m = 0; m < n_markers; m++)
        if (fmax(markers[m].x, markers[m].x_end) > xmax)
            xmax = fmax(markers[m].x, markers[m].x_end);
    if (xmax <= 0)
        xmax = 1;
    if (ymax <= 0)
        ymax = 1;
    double xstep = nice_step(xmax, 8), ystep = nice_step(ymax, 5);
    xmax = ceil(xmax / xstep) * xstep;
    ymax = ceil(ymax / ystep) * ystep;
    double pw = W - PAD_L - PAD_R, ph = h - PAD_T - PAD_B;
#define SX(v) (PAD_L + (v) / xmax * pw)
#define SY(v) (PAD_T + ph - (v) / ymax * ph)
    open_svg(b, id, title, h);
    xy_axes(b, xmax, ymax, xstep, ystep, pw, ph);
    /* Milestone labels run horizontally from their line, on their own row
     * while lines are close together (first byte, ready, first request). */
    double last_x = -1e9;
    int row = 0;
    for (size_t m = 0; m < n_markers; m++) {
        double mx = SX(markers[m].x);
        if (markers[m].x_end > markers[m].x) {
            rep_buf_printf(b,
                           "<g class=\"band\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                           "height=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\">",
                           mx, PAD_T, SX(markers[m].x_end) - mx, ph, mx + 4, PAD_T + ph - 6);
            rep_xml_escape(b, markers[m].label);
            rep_buf_puts(b, "</text></g>\n");
            continue;
        }
        row = mx - last_x < 90 ? (row + 1) % 4 : 0;
        last_x = mx;
        bool right_half = mx > PAD_L + pw * 0.6;
        rep_buf_printf(b,
                       "<g class=\"marker\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                       "y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
                       mx, mx, PAD_T, PAD_T + ph, right_half ? mx - 4 : mx + 4,
                       PAD_T + 12 + 13.0 * row, right_half ? "end" : "start");
        rep_xml_escape(b, markers[m].label);
        rep_buf_puts(b, "</text></g>\n");
    }
    for (size_t s = 0; s < n_series; s++) {
        if (series[s].n == 0)
            continue;
        rep_buf_printf(b, "<polyline class=\"series\" stroke=\"%s\" points=\"", series[s].color);
        for (size_t i = 0; i < series[s].n; i++)
            rep_buf_printf(b, "%.1f,%.1f ", SX(series[s].x[i]), SY(series[s].y[i]));
        rep_buf_puts(b, "\"/>\n");
        /* Legend in the title row, right-aligned, clear of the data. */
        double lx = PAD_L + 190.0 * (double)s, ly = 26; /* its own row, under the title */
        rep_buf_printf(b,
                       "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"3\" fill=\"%s\"/>"
                       "<text class=\"lg\" x=\"%.0f\" y=\"%.0f\">",
                       lx, ly, series[s].color, lx + 18, ly + 5);
        rep_xml_escape(b, series[s].label);
        rep_buf_puts(b, "</text>\n");
    }
    axis_label_x(b, x_label, h);
    y_label_and_close(b, y_label, ph);
#undef SX
#undef SY
}

void svg_strip_plot(struct rep_buf *b, const char *id, const char *title, const char *x_label,
                    const struct svg_strip_row *rows, size_t n_rows)
{
    const double label_w = 150, row_h = 28;
    double h = PAD_T + PAD_B + row_h * (double)(n_rows ? n_rows : 1);
    double lo = INFINITY, hi = 0;
    for (size_t r = 0; r < n_rows; r++)
        for (size_t i = 0; i < rows[r].n; i++) {
            if (rows[r].values[i] < lo)
                lo = rows[r].values[i];
            if (rows[r].values[i] > hi)
                hi = rows[r].values[i];
        }
    if (!isfinite(lo) || lo <= 0)
        lo = 0.1;
    if (hi <= lo)
        hi = lo * 10;
    /* Start-up times span orders of magnitude (1 ms native, 200 ms JIT): a log
     * axis keeps every image readable; a narrow range stays linear. */
    bool logx = hi / lo > 8;
    double a, z;
    if (logx) {
        a = pow(10, floor(log10(lo)));
        z = pow(10, ceil(log10(hi)));
    } else {
        double step = nice_step(hi - lo, 6);
        a = floor(lo / step) * step;
        z = ceil(hi / step) * step;
        if (a < 0)
            a = 0;
    }
    double x0 = PAD_L + label_w - 60, pw = W - x0 - PAD_R;
#define SXS(v)                                                                                     \
    (x0 + (logx ? (log10(v) - log10(a)) / (log10(z) - log10(a)) : ((v)-a) / (z - a)) * pw)
    open_svg(b, id, title, h);
    double bottom = PAD_T + row_h * (double)n_rows;
    if (logx) {
        int decades = (int)lround(log10(z / a));
        for (int k = 0; k <= decades; k++)
            for (int m = 1; m < 10; m++) {
                double v = a * pow(10, k) * m;
                if (v > z * 1.0001)
                    break;
                bool major = m == 1 || m == 2 || m == 5;
                rep_buf_printf(b,
                               "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                               "y2=\"%.1f\"/>\n",
                               major ? "grid" : "grid minor", SXS(v), SXS(v), PAD_T, bottom);
                if (major) {
                    char t[32];
                    fmt_tick(v, v, t, sizeof t);
                    rep_buf_printf(b,
                                   "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" "
                                   "text-anchor=\"middle\">%s</text>\n",
                                   SXS(v), bottom + 16, t);
                }
            }
    } else {
        /* The step the ends were rounded to: every tick from a to z, none
         * past z (a step taken afresh from z - a can be coarser, and its
         * last tick then lay outside the chart: 12.9 ... 13.4 on a 13.35 axis). */
        double step = nice_step(hi - lo, 6);
        for (int i_v = 0;; i_v++) {
            double v = a + i_v * step;
            if (!(v <= z + step * 1e-6))
                break;
            char t[32];
            fmt_tick(v, step, t, sizeof t);
            rep_buf_printf(b,
                           "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                           "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" "
                           "text-anchor=\"middle\">%s</text>\n",
                           SXS(v), SXS(v), PAD_T, bottom, SXS(v), bottom + 16, t);
        }
    }
    for (size_t r = 0; r < n_rows; r++) {
        double y = PAD_T + row_h * ((double)r + 0.5);
        rep_buf_printf(b, "<text class=\"rl\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 8,
                       y + 4);
        row_label(b, rows[r].label);
        rep_buf_puts(b, "</text>\n<g class=\"dots\">");
        for (size_t i = 0; i < rows[r].n; i++) {
            double v = rows[r].values[i] < a ? a : rows[r].values[i];
            /* A little vertical jitter (deterministic) separates equal values. */
            double jitter = ((double)((i * 7) % 5) - 2) * 2.2;
            rep_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\"/>", SXS(v), y + jitter);
        }
        rep_buf_puts(b, "</g>\n");
        if (rows[r].n && rows[r].median > 0)
            rep_buf_printf(b,
                           "<line class=\"median\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                           "y2=\"%.1f\"/>\n",
                           SXS(rows[r].median), SXS(rows[r].median), y - 10, y + 10);
    }
    rep_buf_printf(b, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                   x0, x0 + pw, bottom, bottom);
    char xl[160];
    snprintf(xl, sizeof xl, "%s%s (dots: runs, bar: median)", x_label, logx ? ", log scale" : "");
    axis_label_x(b, xl, h);
    rep_buf_puts(b, "</svg>\n");
#undef SXS
}

void svg_bar_chart(struct rep_buf *b, const char *id, const char *title, const char *x_label,
                   const char *const *group_labels, const char *const *group_colors,
                   size_t n_groups, const struct svg_bar_row *rows, size_t n_rows)
{
    const double bar_h = 9, gap = 10;
    double row_h = bar_h * (double)n_groups + gap;
    double h = PAD_T + PAD_B + 18 + row_h * (double)(n_rows ? n_rows : 1);
    double hi = 0;
    for (size_t r = 0; r < n_rows; r++)
        for (size_t g = 0; g < n_groups; g++)
            if (rows[r].values[g] > hi)
                hi = rows[r].values[g];
    if (hi <= 0)
        hi = 1;
    double step = nice_step(hi, 6);
    hi = ceil(hi / step) * step;
    double x0 = PAD_L + 90, pw = W - x0 - PAD_R, top = PAD_T + 18;
    double bottom = top + row_h * (double)n_rows;
    open_svg(b, id, title, h);
    for (size_t g = 0; g < n_groups; g++) {
        double lx = x0 + 150 * (double)g;
        rep_buf_printf(b,
                       "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"10\" fill=\"%s\"/>"
                       "<text class=\"lg\" x=\"%.0f\" y=\"%.0f\">",
                       lx, PAD_T - 2, group_colors[g], lx + 16, PAD_T + 7);
        rep_xml_escape(b, group_labels[g]);
        rep_buf_puts(b, "</text>\n");
    }
    for (int i_v = 0;; i_v++) {
        double v = 0 + i_v * step;
        if (!(v <= hi + step / 2))
            break;
        double x = x0 + v / hi * pw;
        char t[32];
        fmt_tick(v, step, t, sizeof t);
        rep_buf_printf(
            b,
            "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
            "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            x, x, top, bottom, x, bottom + 16, t);
    }
    for (size_t r = 0; r < n_rows; r++) {
        double y = top + row_h * (double)r + gap / 2;
        rep_buf_printf(b, "<text class=\"rl\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 8,
                       y + bar_h * (double)n_groups / 2 + 4);
        row_label(b, rows[r].label);
        rep_buf_puts(b, "</text>\n");
        for (size_t g = 0; g < n_groups; g++) {
            double v = rows[r].values[g] > 0 ? rows[r].values[g] : 0;
            rep_buf_printf(b,
                           "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                           "height=\"%.1f\" fill=\"%s\"><title>%.1f</title></rect>\n",
                           x0, y + bar_h * (double)g, v / hi * pw, bar_h - 1, group_colors[g], v);
        }
    }
    rep_buf_printf(b, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                   x0, x0, top, bottom);
    axis_label_x(b, x_label, h);
    rep_buf_puts(b, "</svg>\n");
}

static int cmp_point_x(const void *a, const void *b)
{
    double x = ((const struct svg_point *)a)->x, y = ((const struct svg_point *)b)->x;
    return (x > y) - (x < y);
}

void svg_xy_chart(struct rep_buf *b, const char *id, const char *title, const char *x_label,
                  const char *y_label, const struct svg_point *pts_in, size_t n,
                  const struct svg_category *cats, size_t n_cats, unsigned flags)
{
    const double h = 280;
    struct svg_point *pts = malloc((n ? n : 1) * sizeof *pts);
    if (!pts)
        return;
    memcpy(pts, pts_in, n * sizeof *pts);
    qsort(pts, n, sizeof *pts, cmp_point_x);
    double xmax = 0, ymax = 0;
    for (size_t i = 0; i < n; i++) {
        if (pts[i].x > xmax)
            xmax = pts[i].x;
        int c = pts[i].category;
        if (c == 0 || (c < (int)n_cats && cats[c].point)) {
            double top = isnan(pts[i].y_hi) ? pts[i].y : pts[i].y_hi;
            if (top > ymax)
                ymax = top;
        }
    }
    if (xmax <= 0)
        xmax = 1;
    if (ymax <= 0)
        ymax = 1;
    double xstep = nice_step(xmax, 8), ystep = nice_step(ymax, 5);
    if ((flags & SVG_XY_INTEGER_X) && xstep < 1)
        xstep = 1; /* no "0.5 instances" */
    xmax = ceil(xmax * 1.02 / xstep) * xstep;
    ymax = ceil(ymax / ystep) * ystep;
    double pw = W - PAD_L - PAD_R, ph = h - PAD_T - PAD_B;
#define SX(v) (PAD_L + (v) / xmax * pw)
#define SY(v) (PAD_T + ph - (v) / ymax * ph)
    open_svg(b, id, title, h);
    xy_axes(b, xmax, ymax, xstep, ystep, pw, ph);
    if (flags & SVG_XY_CONNECT) {
        rep_buf_printf(b, "<polyline class=\"series\" stroke=\"%s\" points=\"", cats[0].color);
        for (size_t i = 0; i < n; i++)
            if (pts[i].category == 0)
                rep_buf_printf(b, "%.1f,%.1f ", SX(pts[i].x), SY(pts[i].y));
        rep_buf_puts(b, "\"/>\n");
    }
    for (size_t i = 0; i < n; i++) {
        const struct svg_point *p = &pts[i];
        int c = p->category < (int)n_cats ? p->category : (int)n_cats - 1;
        if (c == 0 || cats[c].point) {
            if (!isnan(p->y_lo))
                rep_buf_printf(b,
                               "<line stroke=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                               "y2=\"%.1f\"/>\n",
                               cats[c].color, SX(p->x), SX(p->x), SY(p->y_lo), SY(p->y_hi));
            rep_buf_printf(b,
                           "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
                           SX(p->x), SY(p->y), cats[c].color);
        } else {
            double x = SX(p->x), y = PAD_T + ph - (p->upper ? 22 : 8);
            rep_buf_printf(b,
                           "<path class=\"fail-mark\" stroke=\"%s\" stroke-width=\"2.2\" "
                           "d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\"/>\n",
                           cats[c].color, x - 5, y - 5, x + 5, y + 5, x - 5, y + 5, x + 5, y - 5);
        }
    }
    /* Legend: the categories that occur. */
    double lx = PAD_L + 10;
    for (size_t c = 0; c < n_cats; c++) {
        bool used = false;
        for (size_t i = 0; i < n; i++)
            used |= pts[i].category == (int)c;
        if (!used)
            continue;
        rep_buf_printf(b,
                       "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"10\" fill=\"%s\"/>"
                       "<text class=\"lg\" x=\"%.0f\" y=\"%.0f\">",
                       lx, PAD_T - 8, cats[c].color, lx + 16, PAD_T + 1);
        rep_xml_escape(b, cats[c].label);
        rep_buf_puts(b, "</text>\n");
        lx += 140;
    }
    axis_label_x(b, x_label, h);
    y_label_and_close(b, y_label, ph);
    free(pts);
#undef SX
#undef SY
}
