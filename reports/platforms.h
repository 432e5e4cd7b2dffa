/* A recommended memory limit as the platforms people deploy to take it:
 * Kubernetes resources, docker run, Cloud Run and AWS Lambda, each rounded
 * to the steps the platform offers (docs/sizing.md "On platforms"). */
#ifndef COLDSTART_PLATFORMS_H
#define COLDSTART_PLATFORMS_H

#include <stdint.h>

#include "reports/output.h"

/* Cloud Run: 128 MiB steps from 128 MiB up to 32 GiB; 0 above that. */
uint64_t rep_cloud_run_bytes(uint64_t bytes);
/* Lambda: whole "MB" (which are MiB) from 128 up to 10240; 0 above that. */
unsigned rep_lambda_mb(uint64_t bytes);
/* The snippets, one per platform, each line starting with `indent`. cpus
 * (--cpus) adds the CPU where the platform takes it; 0: none. */
void rep_platform_snippets(struct rep_buf *b, uint64_t bytes, double cpus, const char *indent);

#endif
