#include "profiler/oci/image.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/cjson_cleanup.h"
#include "sandbox/base/fsutil.h"
#include "reports/json_keys.h"

#define MAX_LAYERS 256

/* ---- references ---- */

static const struct {
    const char *name;
    enum prof_oci_transport t;
} transports[] = {
    {"oci-archive:", PROF_OCI_ARCHIVE},
    {"docker-archive:", PROF_DOCKER_ARCHIVE},
    {"oci:", PROF_OCI_LAYOUT},
};

/* skopeo's and podman's transports coldstart does not read (yet): named so a
 * user gets told what works instead of "no image.json there". */
static const char *const foreign_transports[] = {"docker://",          "docker-daemon:",
                                                 "containers-storage:", "dir:",
                                                 "ostree:",            "sif:", "tarball:"};

bool prof_oci_is_ref(const char *spec)
{
    for (size_t i = 0; i < sizeof transports / sizeof transports[0]; i++)
        if (strncmp(spec, transports[i].name, strlen(transports[i].name)) == 0)
            return true;
    for (size_t i = 0; i < sizeof foreign_transports / sizeof foreign_transports[0]; i++)
        if (strncmp(spec, foreign_transports[i], strlen(foreign_transports[i])) == 0)
            return true; /* refused by prof_oci_ref_parse, with what to do */
    return false;
}

const char *prof_oci_transport_name(enum prof_oci_transport t)
{
    return t == PROF_OCI_LAYOUT ? "oci" : t == PROF_OCI_ARCHIVE ? "oci-archive" : "docker-archive";
}

int prof_oci_ref_parse(const char *spec, struct prof_oci_ref *ret, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    size_t i;
    for (i = 0; i < sizeof transports / sizeof transports[0]; i++)
        if (strncmp(spec, transports[i].name, strlen(transports[i].name)) == 0)
            break;
    if (i == sizeof transports / sizeof transports[0])
        return cs_error_input(err,
                              "`%s`: coldstart reads images as oci:DIR[:REF], "
                              "oci-archive:FILE[:REF] or docker-archive:FILE[:REF]; copy one "
                              "there first, e.g. `skopeo copy %s oci-archive:image.tar` (or "
                              "`docker save NAME -o image.tar` for docker-archive:image.tar)",
                              spec, spec);
    ret->transport = transports[i].t;
    const char *rest = spec + strlen(transports[i].name);
    if (fs_pathf(ret->buf, sizeof ret->buf, err, "%s", rest) < 0)
        return cs_error_mark_input(err);
    /* As skopeo: the path ends at the first ':'; what follows is the reference. */
    char *colon = strchr(ret->buf, ':');
    if (colon) {
        *colon = '\0';
        ret->ref = colon + 1;
        if (!*ret->ref)
            return cs_error_input(err, "`%s`: nothing after the ':' (a tag or @sha256:...)", spec);
        if (ret->ref[0] == '@' && !prof_oci_digest_valid(ret->ref + 1))
            return cs_error_input(err, "`%s`: @%s is not a sha256:HEX digest", spec, ret->ref + 1);
    }
    ret->path = ret->buf;
    if (!*ret->path)
        return cs_error_input(err, "`%s`: no %s given", spec,
                              ret->transport == PROF_OCI_LAYOUT ? "folder" : "file");
    return 0;
}

/* ---- digests ---- */

bool prof_oci_digest_valid(const char *digest)
{
    if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
        return false;
    for (const char *p = digest + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int prof_oci_file_digest(const char *path, char digest[PROF_OCI_DIGEST_MAX], cs_error *err)
{
    /* A blob is a regular file: a FIFO would block this open and a
     * character device (/dev/zero) would never end; neither is followed
     * through a link. Both are bad input. */
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 && errno == ELOOP)
        return cs_error_input(err, "`%s` is a symlink; a blob must be a regular file", path);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot open `%s`", path);
    if (fstat(fd, &st) < 0)
        return cs_error_set(err, errno, "cannot read `%s`", path);
    if (!S_ISREG(st.st_mode))
        return cs_error_input(err, "`%s` is not a regular file; a blob must be one", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return cs_error_set(err, ENOMEM, "SHA-256");
    }
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    prof_oci_digest_final(ctx, digest);
    EVP_MD_CTX_free(ctx);
    if (n < 0)
        return cs_error_set(err, errno, "cannot read `%s`", path);
    return 0;
}

void prof_oci_digest_final(EVP_MD_CTX *ctx, char digest[PROF_OCI_DIGEST_MAX])
{
    unsigned char md[32];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    static const char hex[] = "0123456789abcdef";
    snprintf(digest, PROF_OCI_DIGEST_MAX, "sha256:");
    for (size_t i = 0; i < 32; i++) {
        digest[7 + 2 * i] = hex[md[i] >> 4];
        digest[8 + 2 * i] = hex[md[i] & 15];
    }
    digest[7 + 64] = '\0';
}

int prof_oci_digest_check(const char *got, const char *digest, const char *what, cs_error *err)
{
    if (strcmp(got, digest) != 0)
        return cs_error_input(err, "%s %s: the blob's SHA-256 is %s (corrupt or altered)", what,
                              digest, got);
    return 0;
}

int prof_oci_verify_file(const char *path, const char *digest, const char *what, cs_error *err)
{
    if (!prof_oci_digest_valid(digest))
        return cs_error_input(err, "%s: `%s` is not a sha256 digest", what, digest);
    char got[PROF_OCI_DIGEST_MAX];
    if (prof_oci_file_digest(path, got, err) < 0)
        return cs_error_prefix(err, "%s %s", what, digest);
    return prof_oci_digest_check(got, digest, what, err);
}

/* ---- JSON documents ---- */

static int parse_json(const char *text, const char *what, cJSON **ret, cs_error *err)
{
    *ret = cJSON_Parse(text);
    if (!*ret || (!cJSON_IsObject(*ret) && !cJSON_IsArray(*ret))) {
        cJSON_Delete(*ret);
        *ret = NULL;
        return cs_error_input(err, "%s is not valid JSON", what);
    }
    /* cJSON's lookups take the first of a repeated key, Docker and
     * containerd the last: such a document means two things, refused. */
    char dup[256];
    if (rep_json_duplicate_key(*ret, dup, sizeof dup)) {
        cJSON_Delete(*ret);
        *ret = NULL;
        return cs_error_input(err, "%s: the key `%s` appears twice in one object", what, dup);
    }
    return 0;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_host_platform(const cJSON *desc)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(desc, "platform");
    if (!cJSON_IsObject(p))
        return true; /* no platform: a single-platform index */
    const char *os = str_of(p, "os"), *arch = str_of(p, "architecture");
#if defined(__x86_64__)
    const char *host = "amd64";
#elif defined(__aarch64__)
    const char *host = "arm64";
#else
    const char *host = "";
#endif
    return os && arch && strcmp(os, "linux") == 0 && strcmp(arch, host) == 0;
}

/* Whether a descriptor is the one REF names (a tag in its annotations, or its digest). */
static bool matches_ref(const cJSON *desc, const char *ref)
{
    if (ref[0] == '@')
        return str_of(desc, "digest") && strcmp(str_of(desc, "digest"), ref + 1) == 0;
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
    const char *name = str_of(ann, "org.opencontainers.image.ref.name");
    return name && strcmp(name, ref) == 0;
}

int prof_oci_pick_manifest(const char *index_json, const char *ref, char **ret_digest,
                           cs_error *err)
{
    _cleanup_cjson_ cJSON *idx = NULL;
    if (parse_json(index_json, "the image index", &idx, err) < 0)
        return -1;
    const cJSON *mans = cJSON_GetObjectItemCaseSensitive(idx, "manifests");
    if (!cJSON_IsArray(mans))
        return cs_error_input(err, "the image index has no \"manifests\" list");
    const cJSON *pick = NULL, *d;
    size_t candidates = 0;
    cJSON_ArrayForEach(d, mans)
    {
        if (!cJSON_IsObject(d) || !prof_oci_digest_valid(str_of(d, "digest")))
            return cs_error_input(err, "the image index lists a manifest without a sha256 digest");
        if (ref ? !matches_ref(d, ref) : !is_host_platform(d))
            continue;
        candidates++;
        if (!pick || (ref && !is_host_platform(pick) && is_host_platform(d)))
            pick = d;
    }
    if (!pick)
        return ref ? cs_error_input(err, "no image named `%s` in the index", ref)
                   : cs_error_input(err, "the index has no image for linux/amd64");
    if (!ref && candidates > 1)
        return cs_error_input(err, "the index holds %zu images: name one (…:TAG or …:@sha256:…)",
                              candidates);
    *ret_digest = strdup(str_of(pick, "digest"));
    return *ret_digest ? 0 : cs_error_set(err, ENOMEM, "out of memory");
}

/* The layer types of the OCI image spec and Docker's manifest v2 that are a
 * tar, plain or compressed with gzip or zstd. */
static bool layer_media_type_known(const char *mt)
{
    static const char *const known[] = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(mt, known[i]) == 0)
            return true;
    return false;
}

static char **string_array(const cJSON *a, bool *bad)
{
    if (!a || cJSON_IsNull(a))
        return NULL;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > 4096) {
        *bad = true;
        return NULL;
    }
    char **v = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *v);
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (!v || !cJSON_IsString(e)) {
            *bad = true;
            break;
        }
        v[n++] = strdup(e->valuestring);
    }
    return v;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void prof_oci_layers_free(struct prof_oci_layer *layers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(layers[i].digest);
        free(layers[i].diff_id);
        free(layers[i].media_type);
        free(layers[i].blob_path);
    }
    free(layers);
}

int prof_oci_parse_manifest(const char *json, char **ret_config_digest,
                            struct prof_oci_layer **ret_layers, size_t *ret_n, cs_error *err)
{
    _cleanup_cjson_ cJSON *m = NULL;
    if (parse_json(json, "the image manifest", &m, err) < 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(m, "manifests"))
        return cs_error_input(err, "a nested index is not supported: name the image by digest");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(m, "config");
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(m, "layers");
    if (!prof_oci_digest_valid(str_of(cfg, "digest")))
        return cs_error_input(err, "the image manifest has no config with a sha256 digest");
    if (!cJSON_IsArray(ls) || cJSON_GetArraySize(ls) > MAX_LAYERS)
        return cs_error_input(err, "the image manifest has no \"layers\" list (or over %d)",
                              MAX_LAYERS);
    size_t n = (size_t)cJSON_GetArraySize(ls), k = 0;
    struct prof_oci_layer *layers = calloc(n + 1, sizeof *layers);
    if (!layers)
        return cs_error_set(err, ENOMEM, "out of memory");
    const cJSON *d;
    cJSON_ArrayForEach(d, ls)
    {
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(d, "size");
        /* A size that is not a whole number of bytes below 2^53 is not one. */
        if (!prof_oci_digest_valid(str_of(d, "digest")) || !cJSON_IsNumber(size) ||
            !(size->valuedouble >= 0 && size->valuedouble <= 9007199254740992.0)) {
            prof_oci_layers_free(layers, k);
            return cs_error_input(err, "layer %zu of the manifest has no sha256 digest or size", k);
        }
        const char *mt = str_of(d, "mediaType");
        if (mt && !layer_media_type_known(mt)) {
            prof_oci_layers_free(layers, k);
            return cs_error_input(err,
                                  "layer %zu has the media type `%s`, which coldstart does not "
                                  "unpack (a tar, gzip or zstd layer; not an encrypted or "
                                  "foreign one)",
                                  k, mt);
        }
        layers[k].digest = strdup(str_of(d, "digest"));
        layers[k].media_type = mt ? strdup(mt) : NULL;
        layers[k].size = (int64_t)size->valuedouble;
        k++;
    }
    *ret_config_digest = strdup(str_of(cfg, "digest"));
    *ret_layers = layers;
    *ret_n = n;
    return 0;
}

void prof_oci_config_free(struct prof_oci_config *c)
{
    strv_free(c->entrypoint);
    strv_free(c->cmd);
    strv_free(c->env);
    free(c->working_dir);
    free(c->user);
    free(c->stop_signal);
    free(c->os);
    free(c->architecture);
    memset(c, 0, sizeof *c);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* "8080/tcp": the one exposed TCP port, or 0. */
static unsigned exposed_port(const cJSON *ports)
{
    unsigned found = 0, n = 0;
    const cJSON *p, *map = cJSON_IsObject(ports) ? ports : NULL;
    cJSON_ArrayForEach(p, map)
    {
        unsigned port = 0;
        char proto[8] = "tcp";
        if (sscanf(p->string, "%u/%7s", &port, proto) >= 1 && strcmp(proto, "tcp") == 0 &&
            port > 0 && port < 65536) {
            found = port;
            n++;
        }
    }
    return n == 1 ? found : 0;
}

int prof_oci_parse_config(const char *json, struct prof_oci_config *ret, char ***ret_diff_ids,
                          size_t *ret_n, cs_error *err)
{
    memset(ret, 0, sizeof *ret);
    _cleanup_cjson_ cJSON *c = NULL;
    if (parse_json(json, "the image config", &c, err) < 0)
        return -1;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(c, "config");
    bool bad = false;
    ret->entrypoint = string_array(cJSON_GetObjectItemCaseSensitive(cfg, "Entrypoint"), &bad);
    ret->cmd = string_array(cJSON_GetObjectItemCaseSensitive(cfg, "Cmd"), &bad);
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(cfg, "Env");
    if (cJSON_IsArray(env) && cJSON_GetArraySize(env) > 4096) {
        prof_oci_config_free(ret);
        return cs_error_input(err, "the image config has %d Env entries, more than 4096",
                              cJSON_GetArraySize(env));
    }
    ret->env = string_array(env, &bad);
    ret->working_dir = dup_or_null(str_of(cfg, "WorkingDir"));
    ret->user = dup_or_null(str_of(cfg, "User"));
    ret->stop_signal = dup_or_null(str_of(cfg, "StopSignal"));
    ret->exposed_tcp_port = exposed_port(cJSON_GetObjectItemCaseSensitive(cfg, "ExposedPorts"));
    ret->os = dup_or_null(str_of(c, "os"));
    ret->architecture = dup_or_null(str_of(c, "architecture"));
    const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(c, "rootfs");
    char **ids = string_array(cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids"), &bad);
    size_t n = 0;
    while (ids && ids[n] && prof_oci_digest_valid(ids[n]))
        n++;
    if (bad || !ids || ids[n]) {
        strv_free(ids);
        prof_oci_config_free(ret);
        return cs_error_input(err, "the image config is malformed (Entrypoint, Cmd and Env are "
                                   "lists of strings; rootfs.diff_ids a list of sha256 digests)");
    }
    *ret_diff_ids = ids;
    *ret_n = n;
    return 0;
}
