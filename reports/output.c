#include "reports/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

/* Where a write to `path` really goes: a symlink is followed to its target
 * (so the link stays a link), even when that target does not exist yet. */
static int resolve_output(const char *path, char *buf, size_t cap, cs_error *err)
{
    struct stat st;
    snprintf(buf, cap, "%s", path);
    for (int hops = 0; lstat(buf, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
        if (hops == 40)
            return cs_error_set(err, ELOOP, "cannot write `%s`", path);
        char link[4096];
        ssize_t n = readlink(buf, link, sizeof link - 1);
        if (n < 0)
            return cs_error_set(err, errno, "cannot read the link `%s`", buf);
        link[n] = '\0';
        if (link[0] == '/') {
            snprintf(buf, cap, "%s", link);
        } else {
            char *slash = strrchr(buf, '/');
            char dir[4096] = ".";
            if (slash)
                snprintf(dir, sizeof dir, "%.*s", (int)(slash - buf), buf);
            if ((size_t)snprintf(buf, cap, "%s/%s", slash ? dir : ".", link) >= cap)
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
    char dir[4096] = ".";
    char *slash = strrchr(target, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", slash == target ? 1 : (int)(slash - target), target);
    if (stat(dir, &st) < 0)
        return cs_error_set(err, errno, "cannot write the report `%s`: folder `%s`", path, dir);
    if (!S_ISDIR(st.st_mode))
        return cs_error_set(err, ENOTDIR, "cannot write the report `%s`: `%s`", path, dir);
    if (access(dir, W_OK) < 0)
        return cs_error_set(err, errno, "cannot write the report `%s` into `%s`", path, dir);
    return 0;
}

/* A character device or a FIFO (/dev/stdout, a pipe, /dev/null) is written
 * in place: replacing it with a regular file would break it for everyone. */
static int write_in_place(const char *path, const char *target, const char *data, size_t len,
                          cs_error *err)
{
    int fd = open(target, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot open `%s`", path);
    int rc = write_all(fd, data, len);
    int e = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    return rc < 0 ? cs_error_set(err, e, "cannot write `%s`", path) : 0;
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
    char target[4096];
    if (resolve_output(path, target, sizeof target, err) < 0)
        return -1;
    struct stat st;
    mode_t mode = 0644;
    if (stat(target, &st) == 0) {
        if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
            return write_in_place(path, target, data, len, err);
        if (!S_ISREG(st.st_mode))
            return cs_error_set(err, S_ISDIR(st.st_mode) ? EISDIR : 0,
                                "cannot write the report `%s`%s", path,
                                S_ISDIR(st.st_mode) ? "" : ": not a regular file");
        mode = st.st_mode & 07777;
    }
    /* A regular file (or none yet): written whole to a temporary file beside
     * it, then renamed over it, so a reader never sees half a report. */
    char tmp[4096 + 16];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", target) >= (int)sizeof tmp)
        return cs_error_set(err, ENAMETOOLONG, "cannot write `%s`", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot create a temporary file for `%s`", path);
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0 || fchmod(fd, mode) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return cs_error_set(err, e, "cannot write `%s`", path);
    }
    if (close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return cs_error_set(err, e, "cannot write `%s`", path);
    }
    if (rename(tmp, target) < 0) {
        int e = errno;
        unlink(tmp);
        return cs_error_set(err, e, "cannot rename the report into `%s`", path);
    }
    return 0;
}
