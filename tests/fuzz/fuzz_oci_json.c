/* The documents of a container image: index (or manifest list), manifest and
 * config, each read as all three, with and without a REF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "profiler/oci/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    cs_error err;
    char *digest = NULL;
    if (prof_oci_pick_manifest(text, NULL, &digest, &err) == 0)
        free(digest);
    digest = NULL;
    if (prof_oci_pick_manifest(text, "v1", &digest, &err) == 0)
        free(digest);
    char *config = NULL;
    struct prof_oci_layer *layers = NULL;
    size_t n = 0;
    if (prof_oci_parse_manifest(text, &config, &layers, &n, &err) == 0) {
        free(config);
        prof_oci_layers_free(layers, n);
    }
    struct prof_oci_config c;
    char **ids = NULL;
    if (prof_oci_parse_config(text, &c, &ids, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++)
            free(ids[i]);
        free(ids);
        prof_oci_config_free(&c);
    }
    free(text);
    return 0;
}
