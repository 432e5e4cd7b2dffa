#include "profiler/measure/output.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERROR_LINE_MAX 512

struct line {
    char text[PROF_LINE_MAX];
    size_t len;      /* bytes held, always < PROF_LINE_MAX */
    bool overflowed; /* the line went on past what is held */
};

struct prof_output {
    char ring[PROF_OUTPUT_KEEP];
    size_t head; /* next write position */
    size_t len;  /* bytes held (<= PROF_OUTPUT_KEEP) */
    struct line line[2];
    char *error_line;
};

struct prof_output *prof_output_new(void)
{
    return calloc(1, sizeof(struct prof_output));
}

void prof_output_free(struct prof_output *o)
{
    if (!o)
        return;
    free(o->error_line);
    free(o);
}

static void keep(struct prof_output *o, const char *buf, size_t n)
{
    if (n >= PROF_OUTPUT_KEEP) {
        buf += n - PROF_OUTPUT_KEEP;
        n = PROF_OUTPUT_KEEP;
    }
    size_t first = PROF_OUTPUT_KEEP - o->head < n ? PROF_OUTPUT_KEEP - o->head : n;
    memcpy(o->ring + o->head, buf, first);
    memcpy(o->ring, buf + first, n - first);
    o->head = (o->head + n) % PROF_OUTPUT_KEEP;
    o->len = o->len + n > PROF_OUTPUT_KEEP ? PROF_OUTPUT_KEEP : o->len + n;
}

/* What runtimes print when they give up: "JavaScript heap out of memory",
 * "FATAL:", "Error:", "Unhandled exception.", "panic:". */
static bool names_an_error(const char *line)
{
    static const char *const words[] = {"out of memory", "fatal", "error", "exception", "panic"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(line, words[i]))
            return true;
    return false;
}

/* A complete line: remember it if it is the first error, match it. */
static bool complete_line(struct prof_output *o, struct line *l, const regex_t *ready_re)
{
    l->text[l->len] = '\0';
    if (l->len && l->text[l->len - 1] == '\r')
        l->text[--l->len] = '\0';
    bool matched = ready_re && regexec(ready_re, l->text, 0, NULL, 0) == 0;
    if (!o->error_line && names_an_error(l->text))
        o->error_line = strndup(l->text, ERROR_LINE_MAX);
    l->len = 0;
    l->overflowed = false;
    return matched;
}

bool prof_output_feed(struct prof_output *o, enum prof_stream s, const char *buf, size_t n,
                      const regex_t *ready_re)
{
    keep(o, buf, n);
    if (!ready_re && o->error_line)
        return false; /* nothing left to look for in lines: a flood costs a copy */
    struct line *l = &o->line[s];
    bool matched = false;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            if (complete_line(o, l, matched ? NULL : ready_re))
                matched = true;
        } else if (l->len + 1 < PROF_LINE_MAX) {
            l->text[l->len++] = buf[i];
        } else {
            l->overflowed = true; /* the rest of a long line is dropped, not a new line */
        }
    }
    return matched;
}

bool prof_output_end(struct prof_output *o, enum prof_stream s, const regex_t *ready_re)
{
    struct line *l = &o->line[s];
    if (l->len == 0 && !l->overflowed)
        return false;
    return complete_line(o, l, ready_re);
}

char *prof_output_tail(const struct prof_output *o)
{
    char *s = malloc(o->len + 1);
    if (!s)
        return NULL;
    size_t start = (o->head + PROF_OUTPUT_KEEP - o->len) % PROF_OUTPUT_KEEP;
    for (size_t i = 0; i < o->len; i++) {
        char ch = o->ring[(start + i) % PROF_OUTPUT_KEEP];
        s[i] = ch == '\0' ? ' ' : ch;
    }
    s[o->len] = '\0';
    return s;
}

const char *prof_output_error_line(const struct prof_output *o)
{
    return o->error_line;
}
