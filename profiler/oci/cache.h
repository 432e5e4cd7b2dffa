/* Extracted layers, kept by diff_id (docs/design.md: `--image-cache
 * DIR`, default $XDG_CACHE_HOME/coldstart, else ~/.cache/coldstart):
 *
 *   DIR/layers/sha256/HEX/       the layer as an overlay lower layer
 *   DIR/layers/sha256/HEX.stats  "FILES BYTES" of what it unpacked to
 *   DIR/layers/sha256/HEX.lock   held while it is being extracted
 *
 * A layer is verified against its blob digest while it is extracted into a
 * temporary folder beside its place, which it then takes by rename: a
 * folder that exists is complete. Two coldstarts asking for one layer at
 * once extract it once (the second waits on the lock, then finds it). */
#ifndef COLDSTART_OCI_CACHE_H
#define COLDSTART_OCI_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "profiler/oci/image.h"
#include "profiler/oci/layer.h"

/* The default cache folder into buf. */
int prof_oci_default_cache(char *buf, size_t cap, cs_error *err);
/* Makes the cache folder when missing and checks it is the caller's own:
 * not a symlink, owned by the caller, writable by nobody else (CS_ERR_INPUT
 * otherwise, saying why). */
int prof_oci_cache_check(const char *cache, cs_error *err);
/* CACHE/NAME, made (with CACHE) when missing, into buf; every level checked
 * as prof_oci_cache_check does. */
int prof_oci_cache_subdir(const char *cache, const char *name, char *buf, size_t cap,
                          cs_error *err);
/* The layer's folder in the cache (malloc'd), extracting it first when it is
 * not there; *ret_extracted tells which. */
int prof_oci_cache_layer(const char *cache, const struct prof_oci_layer *l, char **ret_dir,
                         bool *ret_extracted, struct prof_oci_unpacked *ret_stats, cs_error *err);

#endif
