/* Layer extraction: any bytes as a (possibly compressed) tar, extracted as
 * an overlay lower layer into a fresh folder that is removed afterwards.
 * Nothing may be written outside it; a crash or a hang is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/oci/layer.h"
#include "sandbox/base/fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/coldstart-fuzz-layer-XXXXXX";
    char blob[] = "/tmp/coldstart-fuzz-blob-XXXXXX";
    if (!mkdtemp(dir))
        return 0;
    int fd = mkstemp(blob);
    if (fd >= 0) {
        if (write(fd, data, size) == (ssize_t)size) {
            cs_error err;
            prof_oci_extract_layer(blob, NULL, NULL, dir, NULL, &err);
        }
        close(fd);
        unlink(blob);
    }
    fs_remove_tree(dir);
    return 0;
}
