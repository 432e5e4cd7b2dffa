/* HTTP responses, fed in pieces whose sizes come from the input itself. */
#include <stdint.h>
#include <string.h>

#include "profiler/measure/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)(data[0] % 64) + 1;
    data++;
    size--;
    struct http_response r;
    http_response_reset(&r);
    cs_error err;
    size_t off = 0;
    while (off < size) {
        size_t n = size - off < step ? size - off : step, used = 0;
        enum http_result res = http_response_feed(&r, (const char *)data + off, n, &used, &err);
        if (used > n)
            __builtin_trap(); /* the parser must never claim more than it was given */
        off += used;
        if (res == HTTP_FAIL)
            return 0;
        if (res == HTTP_DONE)
            http_response_reset(&r); /* keep-alive: the next response */
        else if (used == 0)
            return 0;
    }
    http_response_eof(&r, &err);
    return 0;
}
