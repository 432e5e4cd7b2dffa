/* Report JSON: parse, then render every format from what was read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "profiler/analysis/stats.h"
#include "reports/render.h"
#include "reports/report_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct rep_report r;
    cs_error err;
    if (rep_json_parse(text, &r, &err) == 0) {
        static const enum rep_format formats[] = {REP_FMT_JSON,  REP_FMT_MD,
                                                  REP_FMT_HTML,  REP_FMT_CSV,
                                                  REP_FMT_JUNIT, REP_FMT_GITHUB_BENCHMARK};
        for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
            struct rep_buf b = {0};
            rep_render(&r, formats[i], &b);
            rep_buf_free(&b);
        }
        struct rep_buf b = {0};
        rep_render_comparison_text(&r, &b);
        rep_buf_free(&b);
        for (size_t i = 0; i < r.n_targets; i++)
            prof_summarize_target(&r.targets[i]);
        rep_report_free(&r);
    }
    free(text);
    return 0;
}
