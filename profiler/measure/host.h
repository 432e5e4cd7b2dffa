/* What the report's "host" says about the machine. */
#ifndef COLDSTART_HOST_H
#define COLDSTART_HOST_H

#include "reports/report.h"

/* Fills h (free with rep_host_free); cgroup_version is "v1" or "v2". */
void prof_host_detect(struct rep_host *h, const char *cgroup_version);

#endif
