/* Startup budgets: `METRIC.STAT OP VALUE`, e.g. `ready.p95<=300ms`,
 * `rss_ready.p50<=64MiB`, checked against a target's summary. */
#ifndef COLDSTART_BUDGET_H
#define COLDSTART_BUDGET_H

#include <stdbool.h>

#include "reports/report.h"
#include "sandbox/base/error.h"

enum prof_budget_op { BUDGET_LE, BUDGET_LT, BUDGET_GE, BUDGET_GT };

struct prof_budget {
    char text[160]; /* as written, spaces removed */
    const struct rep_metric *metric;
    char stat[8]; /* n, min, p50, mean, p90, p95, p99, max */
    enum prof_budget_op op;
    double value; /* in the metric's unit: us, bytes or a count */
};

int prof_budget_parse(const char *text, struct prof_budget *ret, cs_error *err);
/* Reads one budget per line; blank lines and `#` comments are skipped. Errors
 * name the file and line. Appends to *list (realloc'd). */
int prof_budget_read_file(const char *path, struct prof_budget **list, size_t *n, cs_error *err);

/* Checks a budget against the target and records the result in it. */
bool prof_budget_check(const struct prof_budget *b, struct rep_target *t);

#endif
