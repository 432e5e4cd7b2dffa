#include "reports/flame.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/render.h"

#define FW 1160.0
#define FRAME_H 17.0
#define PAD 10.0
#define TITLE_H 28.0
/* Deeper frames are not drawn (Java and V8 stacks can be deeper; the
 * folded file keeps them). */
#define MAX_DEPTH 160
/* A frame narrower than this (in px) is not drawn: its samples are in its
 * parent's width, and thousands of invisible rectangles would only make the
 * page heavy (flamegraph.pl's --minwidth). */
#define MIN_WIDTH_PX 0.3

struct frame_box {
    const char *name;
    size_t len;
    size_t depth;
    uint64_t start, end;
};

struct boxes {
    struct frame_box *v;
    size_t n, cap;
    size_t max_depth;
    uint64_t total;
};

static void box_add(struct boxes *bx, const char *name, size_t len, size_t depth, uint64_t start,
                    uint64_t end)
{
    if (bx->total && (double)(end - start) * FW / (double)bx->total < MIN_WIDTH_PX)
        return;
    if (bx->n == bx->cap) {
        size_t cap = bx->cap ? bx->cap * 2 : 1024;
        struct frame_box *v = realloc(bx->v, cap * sizeof *v);
        if (!v)
            return;
        bx->v = v;
        bx->cap = cap;
    }
    bx->v[bx->n++] = (struct frame_box){name, len, depth, start, end};
    if (depth > bx->max_depth)
        bx->max_depth = depth;
}

/* flamegraph.pl's flow(): the stacks in sorted order; where a stack leaves
 * the previous one's frames those frames end, where it adds frames they
 * start. Each frame becomes a box spanning the samples below it. */
static void merge_frames(const struct rep_folded *f, struct boxes *bx)
{
    const char *name[MAX_DEPTH];
    size_t len[MAX_DEPTH];
    uint64_t start[MAX_DEPTH];
    name[0] = "all";
    len[0] = 3;
    start[0] = 0;
    size_t depth = 1; /* frames open, the root included */
    uint64_t t = 0;
    for (size_t i = 0; i < f->n; i++) {
        const char *fr[MAX_DEPTH] = {0};
        size_t fl[MAX_DEPTH] = {0}, m = 1;
        for (const char *p = f->v[i].stack; *p && m < MAX_DEPTH;) {
            const char *semi = strchr(p, ';');
            size_t l = semi ? (size_t)(semi - p) : strlen(p);
            fr[m] = p;
            fl[m++] = l;
            p += l + (semi ? 1 : 0);
            if (!semi)
                break;
        }
        size_t same = 1;
        while (same < depth && same < m && len[same] == fl[same] &&
               memcmp(name[same], fr[same], fl[same]) == 0)
            same++;
        for (size_t k = depth; k-- > same;)
            box_add(bx, name[k], len[k], k, start[k], t);
        for (size_t k = same; k < m; k++) {
            name[k] = fr[k];
            len[k] = fl[k];
            start[k] = t;
        }
        depth = m;
        t += f->v[i].count;
    }
    for (size_t k = depth; k-- > 0;)
        box_add(bx, name[k], len[k], k, start[k], t);
}

/* Colours as flamegraph.pl's: the root and phase frames grey-blue, kernel
 * code (`_[k]`) orange, JIT-compiled code (`_[j]`) green, code of a library
 * without symbols (`[lib.so]`) grey, the rest warm, by a hash of the name so
 * a function keeps its colour across graphs. */
static void frame_colour(const char *name, size_t len, size_t depth, char *out, size_t cap)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    double v1 = (h & 0xff) / 255.0, v2 = ((h >> 8) & 0xff) / 255.0;
    bool bracket = len > 1 && name[0] == '[' && name[len - 1] == ']';
    bool kernel = len > 4 && memcmp(name + len - 4, "_[k]", 4) == 0;
    bool jit = len > 4 && memcmp(name + len - 4, "_[j]", 4) == 0;
    if (depth <= 1)
        snprintf(out, cap, "rgb(%d,%d,%d)", 150 + (int)(40 * v1), 170 + (int)(40 * v1), 215);
    else if (bracket)
        snprintf(out, cap, "rgb(%d,%d,%d)", 190 + (int)(30 * v1), 190 + (int)(30 * v1), 180);
    else if (kernel)
        snprintf(out, cap, "rgb(%d,%d,%d)", 230, 120 + (int)(60 * v1), 30 + (int)(30 * v2));
    else if (jit)
        snprintf(out, cap, "rgb(%d,%d,%d)", 60 + (int)(60 * v1), 190 + (int)(50 * v2), 70);
    else
        snprintf(out, cap, "rgb(%d,%d,%d)", 225 + (int)(30 * v1), 80 + (int)(150 * v2), 50);
}

static void escape_n(struct rep_buf *b, const char *s, size_t n)
{
    char tmp[1024];
    if (n >= sizeof tmp)
        n = sizeof tmp - 1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    rep_xml_escape(b, tmp);
}

static void draw_box(struct rep_buf *b, const struct boxes *bx, const struct frame_box *fb,
                     double height)
{
    double x = PAD + (double)fb->start * (FW - 2 * PAD) / (double)bx->total;
    double w = (double)(fb->end - fb->start) * (FW - 2 * PAD) / (double)bx->total;
    (void)height;
    double y = TITLE_H + (double)fb->depth * FRAME_H;
    char colour[40];
    frame_colour(fb->name, fb->len, fb->depth, colour, sizeof colour);
    uint64_t n = fb->end - fb->start;
    rep_buf_puts(b, "<g class=\"ff\"><title>");
    escape_n(b, fb->name, fb->len);
    rep_buf_printf(b, " (%" PRIu64 " sample%s, %.2f%%)</title>", n, n == 1 ? "" : "s",
                   100.0 * (double)n / (double)bx->total);
    rep_buf_printf(b,
                   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\" "
                   "rx=\"2\"/>",
                   x, y, w, FRAME_H - 1, colour);
    /* A label where it fits, cut with ".." as flamegraph.pl does (~6.5 px
     * per character of the 11 px font). */
    size_t fits = w > 20 ? (size_t)((w - 6) / 6.5) : 0;
    if (fits >= 3) {
        rep_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + FRAME_H - 5);
        if (fb->len <= fits) {
            escape_n(b, fb->name, fb->len);
        } else {
            escape_n(b, fb->name, fits - 2);
            rep_buf_puts(b, "..");
        }
        rep_buf_puts(b, "</text>");
    }
    rep_buf_puts(b, "</g>\n");
}

void svg_flame_graph(struct rep_buf *b, const char *id, const char *title,
                     const struct rep_folded *f)
{
    struct boxes bx = {.total = f->total};
    if (f->total == 0)
        return;
    merge_frames(f, &bx);
    double height = TITLE_H + PAD * 2 + (double)(bx.max_depth + 1) * FRAME_H;
    rep_buf_printf(b,
                   "<svg class=\"flame\" id=\"%s\" role=\"img\" viewBox=\"0 0 %.0f %.0f\" "
                   "width=\"%.0f\" height=\"%.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>",
                   id, FW, height, FW, height);
    rep_xml_escape(b, title);
    rep_buf_puts(b, "</title>\n<text class=\"ct\" x=\"10\" y=\"18\">");
    rep_xml_escape(b, title);
    rep_buf_puts(b, "</text>\n");
    for (size_t i = 0; i < bx.n; i++)
        draw_box(b, &bx, &bx.v[i], height);
    rep_buf_puts(b, "</svg>\n");
    free(bx.v);
}
