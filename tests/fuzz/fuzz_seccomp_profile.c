/* OCI / Docker seccomp profiles: parse, and build the filter from them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "profiler/measure/seccomp_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct sbx_seccomp_profile p;
    cs_error err;
    if (prof_seccomp_profile_parse(text, "fuzz.json", &p, NULL, &err) == 0) {
        struct sbx_seccomp_opts o = {
            .policy = SBX_SECCOMP_PROFILE, .profile = &p, .notify_listen = true};
        struct sbx_seccomp *f = NULL;
        if (sbx_seccomp_build(&o, &f, &err) == 0)
            sbx_seccomp_free(f);
        prof_seccomp_profile_free(&p);
    }
    free(text);
    return 0;
}
