#include "reports/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int reserve(struct rep_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *n = realloc(b->data, cap);
    if (!n) {
        b->failed = 1;
        return -1;
    }
    b->data = n;
    b->cap = cap;
    return 0;
}

void rep_buf_printf(struct rep_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void rep_buf_puts(struct rep_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

int rep_utf8_prefix(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return (int)len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--; /* s[max] continues a sequence: cut before that sequence starts */
    return (int)max;
}

void rep_buf_json_string(struct rep_buf *b, const char *s)
{
    rep_buf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            rep_buf_printf(b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            rep_buf_printf(b, "\\u%04x", (unsigned char)*s);
        else
            rep_buf_printf(b, "%c", *s);
    }
    rep_buf_puts(b, "\"");
}

void rep_buf_free(struct rep_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The folder part of a path ("." when it has none) and its last component. */
static int split_path(const char *path, char *dir, size_t dir_cap, const char **ret_last)
{
    const char *slash = strrchr(path, '/');
    *ret_last = slash ? slash + 1 : path;
    int n = slash ? snprintf(dir, dir_cap, "%.*s", slash == path ? 1 : (int)(slash - path), path)
                  : snprintf(dir, dir_cap, ".");
    return n < 0 || (size_t)n >= dir_cap ? -1 : 0;
}

/* The rule of the kernel's fs.protected_symlinks, applied to the links this
 * file follows by hand: a symlink in a sticky, world-writable folder (/tmp)
 * is followed only when it belongs to the folder's owner or to us. Without
 * it root would write wherever another user's link in /tmp points. */
static int may_follow(const char *link, const struct stat *link_st, cs_error *err)
{
    char dir[4096];
    const char *last;
    struct stat dst;
    if (split_path(link, dir, sizeof dir, &last) < 0)
        return cs_error_set(err, ENAMETOOLONG, "cannot write `%s`", link);
    if (stat(dir, &dst) < 0)
        return cs_error_set(err, errno, "cannot write `%s`: folder `%s`", link, dir);
    bool shared = (dst.st_mode & S_ISVTX) && (dst.st_mode & S_IWOTH);
    if (shared && link_st->st_uid != dst.st_uid && link_st->st_uid != geteuid())
        return cs_error_set(err, EACCES,
                            "refusing to follow `%s`: a symlink of uid %u in the shared folder "
                            "`%s` (sticky, world-writable) is followed only when it belongs to "
                            "the folder's owner or to you, as fs.protected_symlinks does",
                            link, (unsigned)link_st->st_uid, dir);
    return 0;
}

/* Where a write to `path` really goes: a symlink is followed to its target
 * (so the link stays a link), even when that target does not exist yet. */
static int resolve_output(const char *path, char *buf, size_t cap, cs_error *err)
{
    struct stat st;
    if ((size_t)snprintf(buf, cap, "%s", path) >= cap)
        return cs_error_set(err, ENAMETOOLONG, "cannot write `%s`", path);
    for (int hops = 0; lstat(buf, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
        if (hops == 40)
            return cs_error_set(err, ELOOP, "cannot write `%s`", path);
        if (may_follow(buf, &st, err) < 0)
            return cs_error_mark_input(err);
        char link[4096];
        ssize_t n = readlink(buf, link, sizeof link - 1);
        if (n < 0)
            return cs_error_set(err, errno, "cannot read the link `%s`", buf);
        link[n] = '\0';
        if (link[0] == '/') {
            snprintf(buf, cap, "%s", link);
        } else {
            char dir[4096];
            const char *last;
            if (split_path(buf, dir, sizeof dir, &last) < 0 ||
                (size_t)snprintf(buf, cap, "%s/%s", dir, link) >= cap)
                return cs_error_set(err, ENAMETOOLONG, "cannot write `%s`", path);
        }
    }
    return 0;
}

int rep_output_check(const char *path, cs_error *err)
{
    if (!path[0])
        return cs_error_set(err, 0, "an output path is empty (use - for stdout)");
    if (strcmp(path, "-") == 0)
        return 0;
    char target[4096];
    if (resolve_output(path, target, sizeof target, err) < 0)
        return -1;
    struct stat st;
    if (stat(target, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return cs_error_set(err, EISDIR, "cannot write the report `%s`", path);
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
            return cs_error_set(err, 0,
                                "cannot write the report `%s`: not a regular file, character "
                                "device or FIFO",
                                path);
        if (access(target, W_OK) < 0)
            return cs_error_set(err, errno, "cannot write the report `%s`", path);
        return 0;
    }
    char dir[4096];
    const char *last;
    if (split_path(target, dir, sizeof dir, &last) < 0)
        return cs_error_set(err, ENAMETOOLONG, "cannot write `%s`", path);
    if (stat(dir, &st) < 0)
        return cs_error_set(err, errno, "cannot write the report `%s`: folder `%s`", path, dir);
    if (!S_ISDIR(st.st_mode))
        return cs_error_set(err, ENOTDIR, "cannot write the report `%s`: `%s`", path, dir);
    if (access(dir, W_OK) < 0)
        return cs_error_set(err, errno, "cannot write the report `%s` into `%s`", path, dir);
    return 0;
}

/* A character device or a FIFO (/dev/stdout, a pipe, /dev/null) is written
 * in place: replacing it with a regular file would break it for everyone.
 * A FIFO is opened without blocking, so one nobody reads is an error rather
 * than a wait that no signal ends. */
static int write_in_place(const char *path, int dirfd, const char *last, const char *data,
                          size_t len, cs_error *err)
{
    int fd = openat(dirfd, last, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot open `%s`%s", path,
                            errno == ENXIO ? " (a FIFO nobody reads)" : "");
    int flags = fcntl(fd, F_GETFL);
    int rc = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ? -1 : 0;
    if (rc == 0)
        rc = write_all(fd, data, len);
    int e = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    return rc < 0 ? cs_error_set(err, e, "cannot write `%s`", path) : 0;
}

/* An unnamed file in the folder (O_TMPFILE), or where the filesystem has
 * none, a new one of a random name (O_EXCL: never through a link);
 * *ret_named says which. */
static int create_temp(int dirfd, const char *last, mode_t mode, char *name, size_t cap,
                       bool *ret_named)
{
    int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    *ret_named = fd < 0;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        unsigned r = (unsigned)random() ^ (unsigned)getpid() ^ (unsigned)tries << 20;
        if ((size_t)snprintf(name, cap, ".%.200s.tmp.%08x", last, r) >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0 && errno != EEXIST)
            return -1;
    }
    return fd;
}

/* Gives the written temporary file its final name in one rename: an
 * unnamed one is first linked under a random name (linkat of an O_TMPFILE
 * cannot replace an existing file). */
static int publish(int dirfd, int fd, bool named, char *name, size_t cap, const char *last)
{
    if (!named) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        int rc = -1;
        for (int tries = 0; rc < 0 && tries < 100; tries++) {
            unsigned r = (unsigned)random() ^ (unsigned)getpid() ^ (unsigned)tries << 20;
            if ((size_t)snprintf(name, cap, ".%.200s.tmp.%08x", last, r) >= cap) {
                errno = ENAMETOOLONG;
                return -1;
            }
            rc = linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW);
            if (rc < 0 && errno != EEXIST)
                return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (renameat(dirfd, name, dirfd, last) < 0) {
        int e = errno;
        unlinkat(dirfd, name, 0);
        errno = e;
        return -1;
    }
    return 0;
}

int rep_write_file(const char *path, const char *data, size_t len, cs_error *err)
{
    if (!path[0])
        return cs_error_set(err, 0, "an output path is empty (use - for stdout)");
    if (strcmp(path, "-") == 0) {
        fflush(stdout);
        if (write_all(STDOUT_FILENO, data, len) < 0)
            return cs_error_set(err, errno, "cannot write to stdout");
        return 0;
    }
    char target[4096], dir[4096];
    const char *last;
    if (resolve_output(path, target, sizeof target, err) < 0)
        return -1;
    if (split_path(target, dir, sizeof dir, &last) < 0 || !*last)
        return cs_error_set(err, ENAMETOOLONG, "cannot write `%s`", path);
    /* Everything below works through the folder's descriptor and never
     * follows a link in the last component: what was checked is what is
     * written, even if the folder changes meanwhile. */
    _cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cs_error_set(err, errno, "cannot write the report `%s`: folder `%s`", path, dir);
    struct stat st;
    mode_t mode = 0644;
    if (fstatat(dirfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
            return write_in_place(path, dirfd, last, data, len, err);
        if (S_ISLNK(st.st_mode))
            return cs_error_set(err, ELOOP, "cannot write `%s`: it changed into a symlink", path);
        if (!S_ISREG(st.st_mode))
            return cs_error_set(err, S_ISDIR(st.st_mode) ? EISDIR : 0,
                                "cannot write the report `%s`%s", path,
                                S_ISDIR(st.st_mode) ? "" : ": not a regular file");
        mode = st.st_mode & 07777;
    }
    /* A regular file (or none yet): written whole to a temporary file in
     * the same folder, then renamed over it, so a reader never sees half a
     * report. */
    char name[300];
    bool named;
    int fd = create_temp(dirfd, last, mode, name, sizeof name, &named);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot create a temporary file for `%s`", path);
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0 || fchmod(fd, mode) < 0) {
        int e = errno;
        close(fd);
        if (named)
            unlinkat(dirfd, name, 0);
        return cs_error_set(err, e, "cannot write `%s`", path);
    }
    int rc = publish(dirfd, fd, named, name, sizeof name, last);
    int e = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc < 0) {
        if (named)
            unlinkat(dirfd, name, 0);
        return cs_error_set(err, e, "cannot rename the report into `%s`", path);
    }
    return 0;
}
