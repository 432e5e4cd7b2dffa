/* What users type: sizes, durations, CPU counts and lists, budgets, ready specs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "profiler/analysis/budget.h"
#include "profiler/measure/ready.h"
#include "profiler/analysis/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = fuzz_text(data, size);
    if (!s)
        return 0;
    cs_error err;
    uint64_t v;
    double d;
    prof_parse_size(s, &v, &err);
    prof_parse_duration(s, &v, &err);
    prof_parse_cpus(s, &d, &err);
    cpu_set_t set;
    prof_parse_cpulist(s, &set, &err);
    prof_parse_uint(s, 0, 1000, &v, &err);
    struct prof_budget b;
    prof_budget_parse(s, &b, &err);
    /* Ready specs without name resolution: only numeric hosts reach getaddrinfo. */
    if (strncmp(s, "http://127.", 11) == 0 || strncmp(s, "tcp://127.", 10) == 0 ||
        strncmp(s, "log:", 4) == 0 || strcmp(s, "exit") == 0) {
        struct prof_ready r;
        prof_ready_parse(s, &r, &err);
        prof_ready_free(&r);
    }
    char *sub = prof_subst_port(s, 8080);
    free(sub);
    free(s);
    return 0;
}
