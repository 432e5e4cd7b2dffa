/* A flame graph of collapsed stacks (--profile cpu) as inline SVG, each
 * frame as wide as the samples it was on the stack for, siblings in name
 * order (flamegraph.pl's layout), drawn as an icicle (flamegraph.pl
 * --inverted: the root at the top): in a page, the wide frames that matter
 * come first, not after a scroll past the narrow towers of deep stacks. Readable without
 * JavaScript: every frame's name, samples and share are in its <title>,
 * which browsers show on hover. */
#ifndef COLDSTART_FLAME_H
#define COLDSTART_FLAME_H

#include "reports/folded.h"
#include "reports/output.h"

/* f must be compacted (sorted). Draws nothing for an empty profile. */
void svg_flame_graph(struct rep_buf *b, const char *id, const char *title,
                     const struct rep_folded *f);

#endif
