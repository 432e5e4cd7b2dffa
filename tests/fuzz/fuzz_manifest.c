/* Image manifests (images/NAME/image.json). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "profiler/catalog/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct prof_image img;
    cs_error err;
    if (prof_image_parse(text, "/images/fuzz", "fuzz/image.json", &img, &err) == 0) {
        for (size_t i = 0; i < img.n_variants; i++)
            prof_image_variant(&img, img.variants[i].name);
        prof_image_free(&img);
    }
    free(text);
    return 0;
}
