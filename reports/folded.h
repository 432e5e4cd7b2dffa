/* Collapsed stacks (`root;frame;leaf COUNT` per line: the format of
 * FlameGraph's stackcollapse scripts, read by flamegraph.pl, speedscope and
 * inferno): the CPU profile of a target (--profile cpu) is kept, written and
 * read back in it. The first frame is the start-up phase. */
#ifndef COLDSTART_FOLDED_H
#define COLDSTART_FOLDED_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"

struct rep_folded_stack {
    char *stack; /* frames joined by ';' */
    uint64_t count;
};

struct rep_folded {
    struct rep_folded_stack *v;
    size_t n, cap;
    uint64_t total; /* sum of the counts */
    int failed;     /* an allocation failed */
};

int rep_folded_add(struct rep_folded *f, const char *stack, uint64_t count);
/* Sorts the stacks and merges equal ones (a flame graph is drawn from this order). */
void rep_folded_compact(struct rep_folded *f);
void rep_folded_free(struct rep_folded *f);
/* Writes f (compacted) atomically: a reader never sees half a profile. */
int rep_folded_write(struct rep_folded *f, const char *path, cs_error *err);
/* Reads a file written by rep_folded_write (or by stackcollapse-perf.pl). */
int rep_folded_read(const char *path, struct rep_folded *f, cs_error *err);
/* The same from text (modified in place; path names it in messages). */
int rep_folded_parse(char *text, const char *path, struct rep_folded *f, cs_error *err);

/* The functions most often on the CPU themselves (the leaf frame) in one
 * phase (the stacks whose first frame is phase): at most max, most first,
 * names pointing into f. Returns how many; *phase_total gets the phase's samples. */
struct rep_folded_self {
    const char *name;
    size_t name_len;
    uint64_t count;
};
size_t rep_folded_top_self(const struct rep_folded *f, const char *phase, size_t phase_len,
                           struct rep_folded_self *out, size_t max, uint64_t *phase_total);
/* The phases (first frames) of f in order of first appearance, at most max. */
size_t rep_folded_phases(const struct rep_folded *f, const char **out, size_t *lens, size_t max);

#endif
