/* Unpacking tars from images, with libarchive (tar, gzip, zstd; the secure
 * extraction flags refuse absolute paths, `..` and writing through a
 * symlink), in a child process that changes into the destination so the
 * profiler's own working directory never moves.
 *
 * A layer is extracted as an overlay lower layer: an OCI whiteout
 * `.wh.NAME` becomes the character device 0/0 NAME, an opaque directory
 * marker `.wh..wh..opq` the xattr trusted.overlay.opaque=y on its folder (what
 * overlayfs reads); device nodes are never made (a layer's 0666 node would
 * open the host's device). */
#ifndef COLDSTART_OCI_LAYER_H
#define COLDSTART_OCI_LAYER_H

#include <stdint.h>

#include "sandbox/base/error.h"

struct prof_oci_unpacked {
    int64_t files; /* regular files written */
    int64_t bytes; /* their bytes */
};

/* A plain tar (an oci-archive or docker-archive) into dir, which must exist
 * and be empty. Hostile content is CS_ERR_INPUT, naming the entry. */
int prof_oci_unpack_tar(const char *tar, const char *dir, struct prof_oci_unpacked *ret,
                        cs_error *err);
/* One layer into dir (existing, empty) as an overlay lower layer. With a
 * digest ("sha256:HEX"), the blob is hashed as it is read (one pass) and a
 * mismatch is the error (CS_ERR_INPUT, naming the blob; what was unpacked
 * is the caller's to remove); NULL: not verified. With a diff_id, the
 * uncompressed stream is hashed on its way to the tar reader and must be
 * that diff_id (the layer cache is keyed by it); NULL: not checked. */
int prof_oci_extract_layer(const char *blob, const char *digest, const char *diff_id,
                           const char *dir, struct prof_oci_unpacked *ret, cs_error *err);

#endif
