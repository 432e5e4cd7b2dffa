/* A container image as users ship it (docs/design.md "Container images
 * as targets"): an OCI image layout folder, an oci-archive (a tar of one) or
 * a docker-archive (what `docker save` and `podman save` write), named with
 * the transport names of skopeo and podman:
 *
 *   oci:DIR[:REF]   oci-archive:FILE[:REF]   docker-archive:FILE[:REF]
 *
 * REF is a tag (org.opencontainers.image.ref.name, RepoTags) or @sha256:HEX;
 * without REF the image must be the only one. An index (or manifest list)
 * is resolved to the host's platform (linux/amd64 here). Every blob read is
 * verified against its digest; a mismatch is an error naming the blob.
 *
 * Archives are unpacked (safely, see layer.c) into a private folder first,
 * which then reads like a layout folder; prof_oci_image_close removes it. */
#ifndef COLDSTART_OCI_IMAGE_H
#define COLDSTART_OCI_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/error.h"

enum prof_oci_transport { PROF_OCI_LAYOUT, PROF_OCI_ARCHIVE, PROF_DOCKER_ARCHIVE };

/* A parsed image reference; strings point into the buffer. */
struct prof_oci_ref {
    enum prof_oci_transport transport;
    char buf[4096];
    char absolute[4096]; /* an archive's FILE made absolute, where path points then */
    const char *path;    /* DIR or FILE */
    const char *ref;  /* tag, "@sha256:HEX", or NULL */
};

/* Whether spec names a container image (has one of the transports). */
bool prof_oci_is_ref(const char *spec);
/* Splits TRANSPORT:PATH[:REF] (at the first ':' after the transport, as
 * skopeo does). Bad input: CS_ERR_INPUT. */
int prof_oci_ref_parse(const char *spec, struct prof_oci_ref *ret, cs_error *err);
const char *prof_oci_transport_name(enum prof_oci_transport t);

struct prof_oci_layer {
    char *digest;     /* of the blob as stored ("sha256:..."), compressed or not */
    char *diff_id;    /* of the uncompressed tar (the config's rootfs.diff_ids) */
    char *media_type; /* NULL in a docker-archive */
    char *blob_path;  /* the file holding it */
    int64_t size;     /* bytes of the blob */
};

/* The parts of the image config a run applies, as `docker run` does. */
struct prof_oci_config {
    char **entrypoint, **cmd, **env; /* NULL-terminated; NULL when absent */
    char *working_dir, *user, *stop_signal;
    unsigned exposed_tcp_port; /* the one exposed TCP port, 0 when none or several */
    char *os, *architecture;
};

struct prof_oci_image {
    struct prof_oci_ref ref;
    char *manifest_digest; /* "sha256:..."; for a docker-archive the manifest entry's config */
    char *config_digest;
    struct prof_oci_config config;
    struct prof_oci_layer *layers;
    size_t n_layers;
    int64_t compressed_bytes; /* sum of the layer blobs */
    char *unpacked_dir;       /* the private folder an archive was unpacked into, or NULL */
    int unpacked_lock_fd;     /* that folder, flock'ed while the image is open; 0: none */
};

/* Opens and verifies the image's index, manifest and config (not the layers:
 * those are verified as they are extracted). */
int prof_oci_image_open(const char *spec, struct prof_oci_image *ret, cs_error *err);
void prof_oci_image_close(struct prof_oci_image *img);
#define _cleanup_oci_image_ _cleanup_(prof_oci_image_close)

/* ---- the parts, for tests and fuzzing (no file access) ---- */

/* From an index (or manifest list): the manifest descriptor to use, by
 * REF or the host's platform. Returns a malloc'd "sha256:..." digest. */
int prof_oci_pick_manifest(const char *index_json, const char *ref, char **ret_digest,
                           cs_error *err);
/* A manifest: its config digest and layer descriptors (digest, media type,
 * size; diff_id and blob_path left NULL). */
int prof_oci_parse_manifest(const char *json, char **ret_config_digest,
                            struct prof_oci_layer **ret_layers, size_t *ret_n, cs_error *err);
/* A config: what a run applies, and the diff_ids (as many as layers). */
int prof_oci_parse_config(const char *json, struct prof_oci_config *ret, char ***ret_diff_ids,
                          size_t *ret_n, cs_error *err);
void prof_oci_config_free(struct prof_oci_config *c);
void prof_oci_layers_free(struct prof_oci_layer *layers, size_t n);

/* "sha256:HEX" with 64 lowercase hex digits. */
bool prof_oci_digest_valid(const char *digest);
#define PROF_OCI_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL */
/* "sha256:HEX" of a file's content (libcrypto). */
int prof_oci_file_digest(const char *path, char digest[PROF_OCI_DIGEST_MAX], cs_error *err);
/* Hashes a file with SHA-256 (libcrypto) and compares with digest; a
 * mismatch names the blob and both digests. */
int prof_oci_verify_file(const char *path, const char *digest, const char *what, cs_error *err);
/* The end of an incremental SHA-256 (EVP_sha256) as "sha256:HEX". */
typedef struct evp_md_ctx_st EVP_MD_CTX;
void prof_oci_digest_final(EVP_MD_CTX *ctx, char digest[PROF_OCI_DIGEST_MAX]);
/* got against digest: the mismatch message of prof_oci_verify_file. */
int prof_oci_digest_check(const char *got, const char *digest, const char *what, cs_error *err);

#endif
