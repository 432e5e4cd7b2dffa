/* Fuzz input as the NUL-terminated text the parsers take (caller frees). */
#ifndef COLDSTART_FUZZ_INPUT_H
#define COLDSTART_FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

#endif
