#include "reports/platforms.h"

#include <stdio.h>

#define MIB (1024ull * 1024ull)

uint64_t rep_cloud_run_bytes(uint64_t bytes)
{
    uint64_t step = 128 * MIB;
    uint64_t v = (bytes + step - 1) / step * step;
    if (v < step)
        v = step;
    return v > 32768 * MIB ? 0 : v;
}

unsigned rep_lambda_mb(uint64_t bytes)
{
    uint64_t mb = (bytes + MIB - 1) / MIB;
    if (mb < 128)
        mb = 128;
    return mb > 10240 ? 0 : (unsigned)mb;
}

void rep_platform_snippets(struct rep_buf *b, uint64_t bytes, double cpus, const char *indent)
{
    unsigned long long mib = (bytes + MIB - 1) / MIB;
    char cpu[32] = "";
    if (cpus > 0)
        snprintf(cpu, sizeof cpu, "%.0fm", cpus * 1000);
    rep_buf_printf(b, "%sKubernetes:\n", indent);
    rep_buf_printf(b, "%s  resources:\n", indent);
    for (int k = 0; k < 2; k++) {
        rep_buf_printf(b, "%s    %s:\n%s      memory: \"%lluMi\"\n", indent,
                       k ? "limits" : "requests", indent, mib);
        if (cpu[0])
            rep_buf_printf(b, "%s      cpu: \"%s\"\n", indent, cpu);
    }
    rep_buf_printf(b, "%sdocker run --memory %llum --memory-swap %llum", indent, mib, mib);
    if (cpus > 0)
        rep_buf_printf(b, " --cpus %.3g", cpus);
    rep_buf_puts(b, " ...\n");
    uint64_t run = rep_cloud_run_bytes(bytes);
    if (run)
        rep_buf_printf(b, "%sCloud Run: gcloud run deploy ... --memory %lluMi%s%s\n", indent,
                       (unsigned long long)(run / MIB), cpus > 0 ? " --cpu " : "",
                       cpus > 0 ? (cpus <= 1   ? "1"
                                   : cpus <= 2 ? "2"
                                   : cpus <= 4 ? "4"
                                               : "8")
                                : "");
    else
        rep_buf_printf(b, "%sCloud Run: above its largest memory (32 GiB)\n", indent);
    unsigned lambda = rep_lambda_mb(bytes);
    if (lambda)
        rep_buf_printf(b, "%sAWS Lambda: MemorySize: %u\n", indent, lambda);
    else
        rep_buf_printf(b, "%sAWS Lambda: above its largest memory (10240 MB)\n", indent);
}
