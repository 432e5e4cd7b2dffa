#ifndef COLDSTART_REPORT_JSON_H
#define COLDSTART_REPORT_JSON_H

#include "reports/report.h"

/* Renders the report as JSON (schema coldstart-report/1). Caller frees. */
char *rep_json_render(const struct rep_report *r, cs_error *err);
/* Parses a report; a file that is not a coldstart report, is truncated or has
 * another major schema version fails with a message naming what is wrong. */
int rep_json_parse(const char *text, struct rep_report *ret, cs_error *err);
int rep_json_load(const char *path, struct rep_report *ret, cs_error *err);
int rep_json_save(const struct rep_report *r, const char *path, cs_error *err);

#endif
