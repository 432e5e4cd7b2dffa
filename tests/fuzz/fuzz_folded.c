/* Collapsed stacks (a --profile file a report names): parse, then what the
 * reports draw from them: the phases, the top functions, the flame graph. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "reports/flame.h"
#include "reports/folded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct rep_folded f;
    cs_error err;
    if (rep_folded_parse(text, "fuzz.folded", &f, &err) == 0) {
        const char *phases[8];
        size_t lens[8];
        size_t n = rep_folded_phases(&f, phases, lens, 8);
        for (size_t i = 0; i < n; i++) {
            struct rep_folded_self top[10];
            uint64_t total;
            rep_folded_top_self(&f, phases[i], lens[i], top, 10, &total);
        }
        struct rep_buf b = {0};
        svg_flame_graph(&b, "flame-0", "fuzz", &f);
        rep_buf_free(&b);
        rep_folded_free(&f);
    }
    free(text);
    return 0;
}
