#include "profiler/oci/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "profiler/oci/image.h"
#include "sandbox/spawn.h"
#include "sandbox/base/cleanup.h"

#define WHITEOUT ".wh."
#define MAX_LAYER_DEPTH 512
#define OPAQUE ".wh..wh..opq"

/* What the child reports through its pipe. */
struct result {
    int failed; /* 0 ok, else 1 */
    int input;  /* the content was refused (bad input), not the system */
    int errnum;
    int64_t files, bytes;
    char digest[PROF_OCI_DIGEST_MAX];  /* of the blob as read, when asked for */
    char diff_id[PROF_OCI_DIGEST_MAX]; /* of its uncompressed bytes, when asked for */
    char msg[1024];
};

static int fail(struct result *r, bool input, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct result *r, bool input, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    r->failed = 1;
    r->input = input;
    r->errnum = errnum;
    return -1;
}

/* A relative path without `..` components (whiteouts are handled by us,
 * not by libarchive's checks). */
static bool safe_relative(const char *p)
{
    if (p[0] == '/')
        return false;
    for (const char *c = p; *c;) {
        size_t len = strcspn(c, "/");
        if (len == 2 && c[0] == '.' && c[1] == '.')
            return false;
        c += len;
        while (*c == '/')
            c++;
    }
    return true;
}

/* The folder `parent` (relative) below the extraction root, never outside it. */
static int open_beneath(const char *parent)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, AT_FDCWD, *parent ? parent : ".", &how, sizeof how);
}

/* `.wh.NAME` and `.wh..wh..opq` as overlayfs reads them. */
static int apply_whiteout(const char *path, struct result *r)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 0, path) >=
            (int)sizeof dir ||
        !safe_relative(path))
        return fail(r, true, 0, "whiteout `%s`: not a path inside the layer", path);
    _cleanup_close_ int dfd = open_beneath(dir);
    if (dfd < 0 && errno == ENOENT) {
        /* A whiteout in folders this layer does not carry (`a/b/.wh.x` with
         * no entry for a or b, which umoci accepts): make them, each inside
         * the one before, never outside the layer. */
        char prefix[4096];
        for (const char *c = dir;; c++) {
            if (*c != '/' && *c)
                continue;
            snprintf(prefix, sizeof prefix, "%.*s", (int)(c - dir), dir);
            const char *slash2 = strrchr(prefix, '/');
            char parent[4096];
            snprintf(parent, sizeof parent, "%.*s", slash2 ? (int)(slash2 - prefix) : 0, prefix);
            _cleanup_close_ int pfd = open_beneath(parent);
            const char *name = slash2 ? slash2 + 1 : prefix;
            if (pfd < 0)
                return fail(r, true, errno, "whiteout `%s`: its folder is outside the layer", path);
            if (*name && mkdirat(pfd, name, 0755) < 0 && errno != EEXIST)
                return fail(r, false, errno, "whiteout `%s`: cannot make its folder", path);
            if (!*c)
                break;
        }
        dfd = open_beneath(dir);
        if (dfd < 0 && errno == ENOENT)
            return fail(r, false, errno, "whiteout `%s`: cannot make its folder", path);
    }
    if (dfd < 0)
        return fail(r, true, errno, "whiteout `%s`: its folder is outside the layer", path);
    if (strcmp(base, OPAQUE) == 0) {
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", dfd);
        if (setxattr(self, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return fail(r, false, errno, "opaque folder `%s`", dir);
        return 0;
    }
    const char *name = base + strlen(WHITEOUT);
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return fail(r, true, 0, "whiteout `%s` names nothing", path);
    if (mknodat(dfd, name, S_IFCHR | 0, makedev(0, 0)) < 0 && errno != EEXIST)
        return fail(r, false, errno,
                    "whiteout `%s`: cannot create the 0/0 device overlayfs reads (the image "
                    "cache must be on a filesystem that holds them, not on overlayfs: give "
                    "--image-cache DIR on another one)",
                    path);
    return 0;
}

static int copy_data(struct archive *in, struct archive *out, struct result *r, const char *path)
{
    const void *buf;
    size_t size;
    la_int64_t off;
    int rc;
    while ((rc = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
        if (archive_write_data_block(out, buf, size, off) < ARCHIVE_OK)
            return fail(r, false, archive_errno(out), "`%s`: %s", path, archive_error_string(out));
        r->bytes += (int64_t)size;
    }
    if (rc != ARCHIVE_EOF)
        return fail(r, true, 0, "`%s`: %s (truncated or corrupt)", path, archive_error_string(in));
    return 0;
}

/* One entry: a whiteout, a device skipped without privilege, or written by
 * libarchive with its secure checks. */
static int extract_entry(struct archive *in, struct archive *out, struct archive_entry *e,
                         bool layer, struct result *r)
{
    const char *path = archive_entry_pathname(e);
    if (!path || !*path)
        return fail(r, true, 0, "an entry without a name");
    /* libarchive checks every folder of a path on the way down (no symlink
     * among them), so extraction time grows with the square of the depth: a
     * 5000-level layer took 92 s. No real image is a tenth as deep. */
    size_t levels = 1;
    for (const char *c = path; *c; c++)
        levels += *c == '/';
    if (levels > MAX_LAYER_DEPTH)
        return fail(r, true, 0, "an entry %zu folders deep (`%.60s...`): at most %d are extracted",
                    levels, path, MAX_LAYER_DEPTH);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (layer && strncmp(base, WHITEOUT, strlen(WHITEOUT)) == 0)
        return apply_whiteout(path, r);
    /* Device nodes in a layer are never made: a 0666 node 1:11 would be the
     * host's /dev/kmsg to anyone in the container. Both runtimes mount their
     * own /dev (the builtin one binds the host's null, zero, ...; crun makes
     * its default set), and the overlay is nodev besides. */
    mode_t type = archive_entry_filetype(e);
    if (type == AE_IFCHR || type == AE_IFBLK)
        return 0;
    if (archive_write_header(out, e) < ARCHIVE_WARN)
        return fail(r, true, archive_errno(out), "`%s`: %s", path, archive_error_string(out));
    if (type == AE_IFREG) {
        r->files++;
        if (archive_entry_size(e) > 0 && copy_data(in, out, r, path) < 0)
            return -1;
    }
    if (archive_write_finish_entry(out) < ARCHIVE_WARN)
        return fail(r, false, archive_errno(out), "`%s`: %s", path, archive_error_string(out));
    return 0;
}

static void free_archive_read(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

static void free_archive_write(struct archive **a)
{
    if (*a)
        archive_write_free(*a);
}

/* The blob's SHA-256, taken on a thread of its own while the main thread
 * unpacks: on two cores verification then costs no time (the second read of
 * the blob comes from the page cache). */
struct hash_job {
    const char *path;
    char digest[PROF_OCI_DIGEST_MAX];
    cs_error err;
    int rc;
};

static void *hash_thread(void *arg)
{
    struct hash_job *j = arg;
    j->rc = prof_oci_file_digest(j->path, j->digest, &j->err);
    return NULL;
}

/* In the child, with the destination as its working directory. */
static int extract_entries(struct archive *in, bool layer, struct result *r)
{
    _cleanup_(free_archive_write) struct archive *out = archive_write_disk_new();
    if (!out)
        return fail(r, false, ENOMEM, "libarchive");
    int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM |
                ARCHIVE_EXTRACT_TIME;
    if (geteuid() == 0)
        flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(out, flags);
    struct archive_entry *e;
    int rc;
    while ((rc = archive_read_next_header(in, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
        if (extract_entry(in, out, e, layer, r) < 0)
            return -1;
    if (rc != ARCHIVE_EOF)
        return fail(r, true, archive_errno(in), "%s (truncated or corrupt)",
                    archive_error_string(in));
    return 0;
}

/* The uncompressed stream, hashed on its way to the tar reader: a layer's
 * diff_id is the SHA-256 of its uncompressed tar, and the cache is keyed by
 * it, so it must be what the bytes are, not what a config claims (else one
 * image could fill another's cache entry with its own files). */
struct unpacked_stream {
    struct archive *outer; /* the blob: every filter, the "raw" format */
    EVP_MD_CTX *md;
    bool eof, failed;
    char buf[1 << 16];
};

static la_ssize_t stream_read(struct archive *inner, void *arg, const void **ret_buf)
{
    struct unpacked_stream *u = arg;
    if (u->eof)
        return 0;
    la_ssize_t n = archive_read_data(u->outer, u->buf, sizeof u->buf);
    if (n < 0) {
        u->failed = true;
        archive_set_error(inner, archive_errno(u->outer), "%s",
                          archive_error_string(u->outer) ? archive_error_string(u->outer)
                                                         : "cannot decompress the layer");
        return -1;
    }
    if (n == 0)
        u->eof = true;
    else
        EVP_DigestUpdate(u->md, u->buf, (size_t)n);
    *ret_buf = u->buf;
    return n;
}

/* Opens `in` (format tar) on the blob's uncompressed bytes, hashed into u. */
static int open_hashed(struct archive *in, const char *tar, struct unpacked_stream *u,
                       struct result *r)
{
    struct archive_entry *e;
    u->outer = archive_read_new();
    u->md = EVP_MD_CTX_new();
    if (!u->outer || !u->md || !EVP_DigestInit_ex(u->md, EVP_sha256(), NULL))
        return fail(r, false, ENOMEM, "libarchive");
    archive_read_support_filter_all(u->outer);
    archive_read_support_format_raw(u->outer);
    if (archive_read_open_filename(u->outer, tar, 1 << 16) != ARCHIVE_OK ||
        archive_read_next_header(u->outer, &e) != ARCHIVE_OK)
        return fail(r, true, archive_errno(u->outer), "%s", archive_error_string(u->outer));
    archive_read_support_format_tar(in);
    if (archive_read_open(in, u, NULL, stream_read, NULL) != ARCHIVE_OK)
        return fail(r, true, archive_errno(in), "%s", archive_error_string(in));
    return 0;
}

/* After the tar's last entry: the rest of the stream (the end-of-archive
 * blocks and padding, part of the diff_id too) hashed, the digest into r. */
static int finish_hashed(struct archive *in, struct unpacked_stream *u, struct result *r)
{
    const void *unused;
    la_ssize_t n;
    while ((n = stream_read(in, u, &unused)) > 0)
        ;
    if (n < 0)
        return fail(r, true, 0, "%s (truncated or corrupt)", archive_error_string(in));
    prof_oci_digest_final(u->md, r->diff_id);
    return 0;
}

static void free_stream(struct unpacked_stream **u)
{
    if (!*u)
        return;
    if ((*u)->outer)
        archive_read_free((*u)->outer);
    EVP_MD_CTX_free((*u)->md);
}

/* In the child, with the destination as its working directory: the tar
 * (plain, gzip or zstd) unpacked; with hash, the blob's SHA-256 into r; with
 * diff_id, the SHA-256 of its uncompressed bytes too. */
static int extract_here(const char *tar, bool layer, bool hash, bool diff_id, struct result *r)
{
    struct hash_job job = {.path = tar, .rc = -1};
    pthread_t hasher;
    bool hashing = hash && pthread_create(&hasher, NULL, hash_thread, &job) == 0;
    _cleanup_(free_archive_read) struct archive *in = archive_read_new();
    _cleanup_(free_stream) struct unpacked_stream *u = NULL;
    int rc;
    if (!in) {
        rc = fail(r, false, ENOMEM, "libarchive");
    } else if (diff_id) {
        static struct unpacked_stream stream; /* the child's own, one per process */
        u = &stream;
        rc = open_hashed(in, tar, u, r);
        if (rc == 0)
            rc = extract_entries(in, layer, r);
        if (rc == 0)
            rc = finish_hashed(in, u, r);
    } else {
        archive_read_support_filter_all(in);
        archive_read_support_format_tar(in);
        rc = archive_read_open_filename(in, tar, 1 << 16) == ARCHIVE_OK
                 ? extract_entries(in, layer, r)
                 : fail(r, true, archive_errno(in), "%s", archive_error_string(in));
    }
    if (hashing)
        pthread_join(hasher, NULL);
    else if (hash)
        hash_thread(&job);
    if (hash && job.rc == 0)
        memcpy(r->digest, job.digest, sizeof r->digest);
    else if (hash && rc == 0)
        rc = fail(r, false, job.err.errnum, "%s", job.err.msg);
    return rc;
}

static int run_in_child(const char *tar, const char *dir, bool layer, const char *digest,
                        const char *diff_id, struct prof_oci_unpacked *ret, cs_error *err)
{
    /* libarchive would block on a FIFO and read a device for ever. */
    struct stat st;
    if (lstat(tar, &st) < 0)
        return cs_error_set(err, errno, "cannot open `%s`", tar);
    if (!S_ISREG(st.st_mode))
        return cs_error_input(err, "`%s` is not a regular file; a layer must be one", tar);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return cs_error_set(err, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return cs_error_set(err, errno, "fork");
    }
    if (pid == 0) {
        close(p[0]);
        struct result r = {0};
        /* Dies with the profiler (an OOM kill of it would otherwise leave this
         * child unpacking, holding the cache's lock for the next run). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() == 1)
            _exit(1);
        signal(SIGPIPE, SIG_DFL);
        /* The profiler blocks its stop signals; the unpacking child must die of
         * Ctrl-C at once (the parent then removes what it left). */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (chdir(dir) < 0)
            fail(&r, false, errno, "cannot enter `%s`", dir);
        else
            extract_here(tar, layer, digest != NULL, diff_id != NULL, &r);
        ssize_t n = write(p[1], &r, sizeof r);
        _exit(n == (ssize_t)sizeof r ? 0 : 1);
    }
    close(p[1]);
    /* Waits for the result, watching for a stop signal sent to us alone
     * (kill PID, not Ctrl-C to the group): then the child is killed, and the
     * caller removes what it left. */
    struct result r = {0};
    ssize_t n = -1;
    for (;;) {
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        int ready = poll(&pfd, 1, 50);
        if (ready > 0) {
            while ((n = read(p[0], &r, sizeof r)) < 0 && errno == EINTR)
                ;
            break;
        }
        if (ready < 0 && errno != EINTR)
            break;
        if (sbx_pending_stop_signal()) {
            kill(pid, SIGKILL);
            break;
        }
    }
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof r)
        return cs_error_set(err, 0, "unpacking `%s` failed (the unpacking process died)", tar);
    /* A blob that is not what its digest says: that, rather than what
     * libarchive made of its bytes, is the error (the caller removes what
     * was unpacked). */
    r.digest[sizeof r.digest - 1] = '\0';
    if (digest && r.digest[0] && prof_oci_digest_check(r.digest, digest, "layer", err) < 0)
        return -1;
    r.diff_id[sizeof r.diff_id - 1] = '\0';
    if (diff_id && !r.failed && strcmp(r.diff_id, diff_id) != 0)
        return cs_error_input(err,
                              "layer %s: its uncompressed content is %s, not the diff_id %s "
                              "the image's config claims (altered, or made to take another "
                              "image's place in the layer cache)",
                              digest ? digest : tar, r.diff_id, diff_id);
    if (r.failed)
        return r.input ? cs_error_input(err, "`%s`: %s", tar, r.msg)
                       : cs_error_set(err, r.errnum, "`%s`: %s", tar, r.msg);
    if (ret)
        *ret = (struct prof_oci_unpacked){r.files, r.bytes};
    return 0;
}

int prof_oci_unpack_tar(const char *tar, const char *dir, struct prof_oci_unpacked *ret,
                        cs_error *err)
{
    return run_in_child(tar, dir, false, NULL, NULL, ret, err);
}

int prof_oci_extract_layer(const char *blob, const char *digest, const char *diff_id,
                           const char *dir, struct prof_oci_unpacked *ret, cs_error *err)
{
    return run_in_child(blob, dir, true, digest, diff_id, ret, err);
}
