#include "reports/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

int rep_write_file(const char *path, const char *data, size_t len, cs_error *err)
{
    if (strcmp(path, "-") == 0) {
        fflush(stdout);
        if (write_all(STDOUT_FILENO, data, len) < 0)
            return cs_error_set(err, errno, "cannot write to stdout");
        return 0;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return cs_error_set(err, ENAMETOOLONG, "cannot write `%s`", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot create a temporary file for `%s`", path);
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return cs_error_set(err, e, "cannot write `%s`", path);
    }
    fchmod(fd, 0644);
    close(fd);
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return cs_error_set(err, e, "cannot rename the report into `%s`", path);
    }
    return 0;
}
