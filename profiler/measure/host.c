/* The machine a report was measured on: measurement, so it lives here and
 * not with the report model. */
#include "profiler/measure/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

/* Reads the kernel release, CPU model, CPU count and memory of this machine. */
void prof_host_detect(struct rep_host *h, const char *cgroup_version)
{
    memset(h, 0, sizeof *h);
    struct utsname u;
    if (uname(&u) == 0)
        h->kernel = strdup(u.release);
    _cleanup_fclose_ FILE *f = fopen("/proc/cpuinfo", "re");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *p = strchr(line, ':');
                if (p) {
                    p++;
                    while (*p == ' ')
                        p++;
                    p[strcspn(p, "\n")] = '\0';
                    h->cpu_model = strdup(p);
                }
                break;
            }
        }
    }
    if (!h->cpu_model)
        h->cpu_model = strdup("unknown");
    h->cpus = sysconf(_SC_NPROCESSORS_ONLN);
    h->mem_total_bytes = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    h->cgroup = strdup(cgroup_version ? cgroup_version : "unknown");
}
