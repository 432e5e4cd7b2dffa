#include "sandbox/base/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

int fs_pathf(char *buf, size_t cap, cs_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return cs_error_set(err, ENAMETOOLONG, "path `%.200s...` is too long", buf);
    return 0;
}

/* One unsigned number, or "max" (UINT64_MAX). */
static int parse_u64(const char *buf, uint64_t *ret, cs_error *err)
{
    if (strncmp(buf, "max", 3) == 0) {
        *ret = UINT64_MAX;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf)
        return cs_error_set(err, 0, "does not hold a number");
    *ret = v;
    return 0;
}

int fs_open_at(const char *dir, const char *file, int flags)
{
    if (!dir) {
        errno = ENOENT;
        return -1;
    }
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    return openat(dfd, file, flags | O_CLOEXEC | O_NOFOLLOW);
}

/* Writes all of value to an open file; errors name dir/file. */
static int write_value(int fd, const char *path, const char *file, const char *value, cs_error *err)
{
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    if (n < 0)
        return cs_error_set(err, errno, "cannot write `%s` to `%s%s%s`", value, path,
                            file ? "/" : "", file ? file : "");
    if ((size_t)n != len)
        return cs_error_set(err, EIO, "short write of `%s` to `%s%s%s`", value, path,
                            file ? "/" : "", file ? file : "");
    return 0;
}

int fs_write_at(const char *dir, const char *file, const char *value, cs_error *err)
{
    _cleanup_close_ int fd = fs_open_at(dir, file, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot open `%s/%s` for writing", dir, file);
    return write_value(fd, dir, file, value, err);
}

ssize_t fs_read_at(const char *dir, const char *file, char *buf, size_t cap, cs_error *err)
{
    _cleanup_close_ int fd = fs_open_at(dir, file, O_RDONLY);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot open `%s/%s`", dir, file);
    ssize_t n = fs_pread_all(fd, buf, cap);
    if (n < 0)
        return cs_error_set(err, errno, "cannot read `%s/%s`", dir, file);
    return n;
}

int fs_read_u64_at(const char *dir, const char *file, uint64_t *ret, cs_error *err)
{
    char buf[64];
    if (fs_read_at(dir, file, buf, sizeof buf, err) < 0)
        return -1;
    return parse_u64(buf, ret, err) < 0 ? cs_error_prefix(err, "%s/%s", dir, file) : 0;
}

int fs_write_file(const char *path, const char *value, cs_error *err)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot open `%s` for writing", path);
    return write_value(fd, path, NULL, value, err);
}

int fs_write_filef(const char *path, cs_error *err, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return fs_write_file(path, buf, err);
}

ssize_t fs_read_file(const char *path, char *buf, size_t cap, cs_error *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot open `%s`", path);
    ssize_t n = fs_pread_all(fd, buf, cap);
    if (n < 0)
        return cs_error_set(err, errno, "cannot read `%s`", path);
    return n;
}

ssize_t fs_pread_all(int fd, char *buf, size_t cap)
{
    size_t off = 0;
    while (off + 1 < cap) {
        ssize_t n = pread(fd, buf + off, cap - 1 - off, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        off += (size_t)n;
    }
    buf[off] = '\0';
    return (ssize_t)off;
}

int fs_read_u64(const char *path, uint64_t *ret, cs_error *err)
{
    char buf[64];
    if (fs_read_file(path, buf, sizeof buf, err) < 0)
        return -1;
    return parse_u64(buf, ret, err) < 0 ? cs_error_prefix(err, "%s", path) : 0;
}

int fs_keyed_u64(const char *text, const char *key, uint64_t *ret)
{
    return fs_keyed_u64_sep(text, key, ' ', ret);
}

int fs_keyed_u64_sep(const char *text, const char *key, char sep, uint64_t *ret)
{
    size_t klen = strlen(key);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == sep) {
            *ret = strtoull(p + klen + 1, NULL, 10);
            return 0;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

int fs_read_input(const char *path, size_t max, const char *what, char **ret, size_t *ret_len,
                  cs_error *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot open `%s`", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cs_error_set(err, errno, "cannot read `%s`", path);
    if (S_ISDIR(st.st_mode))
        return cs_error_set(err, 0, "`%s` is a folder, not a %s", path, what);
    if (!S_ISREG(st.st_mode))
        return cs_error_set(err, 0, "`%s` is not a regular file; a %s is read from a file", path,
                            what);
    if ((uint64_t)st.st_size > max)
        return cs_error_set(err, 0, "`%s` is %lld bytes, more than a %s may be (%zu)", path,
                            (long long)st.st_size, what, max);
    char *text = malloc((size_t)st.st_size + 1);
    if (!text)
        return cs_error_set(err, ENOMEM, "cannot read `%s`", path);
    size_t len = 0;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(text);
            return cs_error_set(err, e, "cannot read `%s`", path);
        }
        if (n == 0)
            break; /* shrank while reading: take what is there */
        len += (size_t)n;
    }
    text[len] = '\0';
    *ret = text;
    if (ret_len)
        *ret_len = len;
    return 0;
}

int fs_create_file(const char *path, const char *value, cs_error *err)
{
    _cleanup_close_ int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return cs_error_set(err, errno, "cannot create `%s`", path);
    return write_value(fd, path, NULL, value, err);
}

/* A folder that is a mount point (statx's STATX_ATTR_MOUNT_ROOT): not
 * st_dev, which on an overlayfs differs between a folder and the files the
 * upper layer holds, so that nftw's FTW_MOUNT skips those files. */
static bool is_mount_root(int dirfd, const char *name)
{
    struct statx sx;
    return statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) == 0 &&
           (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
           (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* One level of the walk below: the folder's name in its parent, the
 * parent's identity (to check that ".." leads back to it), and the
 * sub-folders still to enter, listed once when the level is first entered
 * (rescanning a folder after each sub-folder would be quadratic). */
struct level {
    char *name;
    dev_t parent_dev;
    ino_t parent_ino;
    char **todo;
    size_t n_todo, next;
};

static void level_free(struct level *l)
{
    free(l->name);
    for (size_t i = 0; i < l->n_todo; i++)
        free(l->todo[i]);
    free(l->todo);
    memset(l, 0, sizeof *l);
}

/* Removes everything in the folder fd but its sub-folders, which go to
 * l->todo (mount points excepted: they stay, and make this fail). */
static int scan_level(int fd, struct level *l)
{
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return -1;
    }
    int rc = 0;
    size_t cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = errno == ENOENT ? rc : -1;
        } else if (!S_ISDIR(st.st_mode)) {
            if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
                rc = -1;
        } else if (is_mount_root(fd, de->d_name)) {
            rc = -1;
            errno = EBUSY;
        } else {
            if (l->n_todo == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                char **grown = realloc(l->todo, ncap * sizeof *grown);
                if (!grown) {
                    rc = -1;
                    break;
                }
                l->todo = grown;
                cap = ncap;
            }
            if (!(l->todo[l->n_todo] = strdup(de->d_name))) {
                rc = -1;
                break;
            }
            l->n_todo++;
        }
    }
    closedir(d);
    return rc;
}

/* name in dirfd and everything below it, however deep: a walk down and up
 * with one open folder at a time (a recursion holds a descriptor per level,
 * and a layer can be thousands of levels deep). A symlink is removed, never
 * followed; a mount point is left alone (its removal then fails EBUSY). */
static int remove_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    int cur = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cur < 0)
        return -1;
    /* stack[0] is the folder itself; stack[depth - 1] the one cur is. */
    struct level *stack = calloc(64, sizeof *stack);
    size_t depth = 1, cap = 64;
    int rc = stack && scan_level(cur, &stack[0]) == 0 ? 0 : -1;
    while (stack && depth > 0) {
        struct level *l = &stack[depth - 1];
        if (l->next < l->n_todo) {
            const char *sub = l->todo[l->next++];
            struct stat self;
            int next = openat(cur, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0 || fstat(cur, &self) < 0) {
                if (next >= 0)
                    close(next);
                rc = -1;
                continue;
            }
            if (depth == cap) {
                struct level *grown = realloc(stack, cap * 2 * sizeof *grown);
                if (!grown) {
                    close(next);
                    rc = -1;
                    continue;
                }
                memset(grown + cap, 0, cap * sizeof *grown);
                stack = grown;
                cap *= 2;
            }
            struct level *child = &stack[depth++];
            *child = (struct level){.name = strdup(sub), .parent_dev = self.st_dev,
                                    .parent_ino = self.st_ino};
            close(cur);
            cur = next;
            if (!child->name || scan_level(cur, child) < 0)
                rc = -1;
            continue;
        }
        if (depth == 1)
            break;
        /* This level is as empty as it gets: back up and remove it. */
        struct level done = stack[--depth];
        int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat ust;
        close(cur);
        cur = up;
        bool same = up >= 0 && fstat(up, &ust) == 0 && ust.st_dev == done.parent_dev &&
                    ust.st_ino == done.parent_ino;
        if (!same) { /* moved meanwhile: stop rather than remove elsewhere */
            level_free(&done);
            rc = -1;
            errno = ESTALE;
            break;
        }
        if (!done.name || (unlinkat(cur, done.name, AT_REMOVEDIR) < 0 && errno != ENOENT))
            rc = -1;
        level_free(&done);
    }
    for (size_t i = 0; stack && i < depth; i++)
        level_free(&stack[i]);
    free(stack);
    if (cur >= 0)
        close(cur);
    if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int fs_remove_tree(const char *path)
{
    return remove_at(AT_FDCWD, path);
}

int fs_open_in_root(const char *root, const char *path, int flags)
{
    _cleanup_close_ int rfd = open(root && *root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0)
        return -1;
    struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, rfd, path, &how, sizeof how);
}
