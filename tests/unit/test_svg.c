/* Chart axes drawn by reports/svg.c: every tick label inside the chart,
 * none repeated, for the narrow ranges a steady target gives (a strip plot
 * of ready times 12.93-13.33 ms once put a "13.4" tick past the axis end). */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "reports/output.h"
#include "reports/svg.h"

/* The x of every tick label (class "tk", centred) in the SVG, and the
 * viewBox width; checks that each lies inside and no label repeats. */
static void check_ticks(const char *what, const char *svg)
{
    double width = 0;
    const char *vb = strstr(svg, "viewBox=\"");
    CHECK(vb && sscanf(vb, "viewBox=\"%*f %*f %lf", &width) == 1 && width > 0);
    char seen[32][32];
    size_t n = 0;
    for (const char *p = svg; (p = strstr(p, "<text class=\"tk\" x=\""));) {
        double x = 0;
        char label[32] = "";
        CHECK(sscanf(p, "<text class=\"tk\" x=\"%lf\"", &x) == 1);
        const char *gt = strchr(p, '>');
        if (gt)
            sscanf(gt + 1, "%31[^<]", label);
        if (!(x >= 0 && x <= width))
            fprintf(stderr, "%s: tick %s at x %.1f, outside 0-%.0f\n", what, label, x, width);
        CHECK(x >= 0 && x <= width);
        for (size_t i = 0; i < n; i++)
            CHECK(strcmp(seen[i], label) != 0);
        if (n < 32)
            snprintf(seen[n++], sizeof seen[0], "%s", label);
        p += 10;
    }
    CHECK(n >= 3);
}

int main(void)
{
    static const double narrow[] = {12.93, 13.0, 13.1, 13.2, 13.33};
    static const double wide[] = {1.2, 14.0, 210.0};
    static const double tiny[] = {0.512, 0.514, 0.519};
    const struct {
        const char *what;
        const double *v;
        size_t n;
    } cases[] = {{"narrow", narrow, 5}, {"wide (log)", wide, 3}, {"sub-ms", tiny, 3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rep_buf b = {0};
        struct svg_strip_row row = {.label = "t",
                                    .values = cases[i].v,
                                    .n = cases[i].n,
                                    .median = cases[i].v[cases[i].n / 2]};
        svg_strip_plot(&b, "chart-ready", "ready", "ms", &row, 1);
        CHECK(!b.failed && b.data);
        if (b.data)
            check_ticks(cases[i].what, b.data);
        rep_buf_free(&b);
    }
    CHECK_DONE();
}
