#include "profiler/measure/pagecache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/fsutil.h"

#define DROP_CACHES "/proc/sys/vm/drop_caches"

void prof_fileset_free(struct prof_fileset *fs)
{
    free(fs->links);
    for (size_t i = 0; i < fs->n; i++)
        free(fs->files[i].path);
    free(fs->files);
    memset(fs, 0, sizeof *fs);
}

static bool contains(const struct prof_fileset *fs, const char *path)
{
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->files[i].path, path) == 0)
            return true;
    return false;
}

/* dedup: false where the caller knows the path is new (a tree walk into an
 * empty set): checking is linear, a walk of 10,000 files would be quadratic. */
static int add_stat(struct prof_fileset *fs, const char *path, const struct stat *st, bool dedup)
{
    if (!S_ISREG(st->st_mode) || (dedup && contains(fs, path)))
        return 0;
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 64;
        struct prof_file *n = realloc(fs->files, cap * sizeof *n);
        if (!n)
            return -1;
        fs->files = n;
        fs->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return -1;
    /* Owned by the set from here (cppcheck does not follow it into the array). */
    fs->files[fs->n++] = (struct prof_file){copy, (int64_t)st->st_size, st->st_dev, st->st_ino};
    // cppcheck-suppress memleak
    return 0;
}

int prof_fileset_add(struct prof_fileset *fs, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return 0;
    return add_stat(fs, path, &st, true);
}

/* Whether a hard-linked file was met before; remembers it when not. */
static bool seen_link(struct prof_fileset *fs, const struct stat *st)
{
    for (size_t i = 0; i < fs->n_links; i++)
        if (fs->links[i].dev == st->st_dev && fs->links[i].ino == st->st_ino)
            return true;
    struct prof_inode *grown = realloc(fs->links, (fs->n_links + 1) * sizeof *grown);
    if (grown) {
        fs->links = grown;
        fs->links[fs->n_links++] = (struct prof_inode){st->st_dev, st->st_ino};
    }
    return false;
}

static int add_tree(struct prof_fileset *fs, const char *dir, size_t limit, int depth, bool dedup)
{
    if (depth > 16)
        return 0;
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) && fs->n < limit) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char path[PATH_MAX];
        struct stat st;
        if (fs_pathf(path, sizeof path, NULL, "%s/%s", dir, de->d_name) < 0 || lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (add_tree(fs, path, limit, depth + 1, dedup) < 0)
                return -1;
        } else if (S_ISREG(st.st_mode) && st.st_nlink > 1 && seen_link(fs, &st)) {
            continue; /* another name of a file already in the set */
        } else if (add_stat(fs, path, &st, dedup) < 0) {
            return -1;
        }
    }
    return 0;
}

int prof_fileset_add_tree(struct prof_fileset *fs, const char *dir, size_t limit)
{
    return add_tree(fs, dir, fs->n + limit, 0, fs->n > 0);
}

int prof_fileset_add_trees(struct prof_fileset *fs, const char *const *dirs, size_t n, size_t limit)
{
    bool dedup = fs->n > 0;
    for (size_t i = 0; i < n; i++)
        if (add_tree(fs, dirs[i], fs->n + limit, 0, dedup) < 0)
            return -1;
    return 0;
}

int prof_fileset_add_maps(struct prof_fileset *fs, pid_t pid)
{
    return prof_fileset_add_maps_in(fs, pid, false);
}

int prof_fileset_add_maps_in(struct prof_fileset *fs, pid_t pid, bool own_root)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return 0; /* exited meanwhile */
    char line[PATH_MAX + 128];
    while (fgets(line, sizeof line, f)) {
        /* addr perms offset dev inode pathname */
        unsigned long inode = 0;
        int off = 0;
        if (sscanf(line, "%*s %*s %*s %*s %lu %n", &inode, &off) < 1 || inode == 0)
            continue;
        char *p = line + off;
        p[strcspn(p, "\n")] = '\0';
        if (*p != '/' || strstr(p, " (deleted)"))
            continue;
        if (!own_root) {
            if (prof_fileset_add(fs, p) < 0)
                return -1;
            continue;
        }
        /* A container's path: looked at through its root, kept as it names it. */
        char inside[PATH_MAX + 64];
        struct stat st;
        if (fs_pathf(inside, sizeof inside, NULL, "/proc/%ld/root%s", (long)pid, p) == 0 &&
            stat(inside, &st) == 0 && add_stat(fs, p, &st, true) < 0)
            return -1;
    }
    return 0;
}

void prof_fileset_merge(struct prof_fileset *into, const struct prof_fileset *from)
{
    for (size_t i = 0; i < from->n; i++)
        prof_fileset_add(into, from->files[i].path);
}

int64_t prof_fileset_bytes(const struct prof_fileset *fs)
{
    int64_t sum = 0;
    for (size_t i = 0; i < fs->n; i++)
        sum += fs->files[i].bytes;
    return sum;
}

static int by_size_desc(const void *a, const void *b)
{
    int64_t x = ((const struct prof_file *)a)->bytes, y = ((const struct prof_file *)b)->bytes;
    return (x < y) - (x > y);
}

void prof_fileset_sort_by_size(struct prof_fileset *fs)
{
    qsort(fs->files, fs->n, sizeof *fs->files, by_size_desc);
}

/* The set's file i opened again by name, or -1 when the name now leads
 * elsewhere. The names come from targets (their maps, their image): never
 * through a link, never blocking on a FIFO, never a terminal taken as ours,
 * and only the very file (device and inode) that was met. */
static int reopen(const struct prof_file *f, struct stat *ret_st)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (fstat(fd, ret_st) < 0 || !S_ISREG(ret_st->st_mode) || ret_st->st_dev != f->dev ||
        ret_st->st_ino != f->ino) {
        close(fd);
        return -1;
    }
    return fd;
}

void prof_fileset_evict(const struct prof_fileset *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        struct stat st;
        _cleanup_close_ int fd = reopen(&fs->files[i], &st);
        if (fd >= 0)
            posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    }
}

int64_t prof_fileset_cached_bytes(const struct prof_fileset *fs)
{
    return prof_fileset_cached_each(fs, NULL);
}

int64_t prof_fileset_cached_each(const struct prof_fileset *fs, int64_t *ret_each)
{
    long page = sysconf(_SC_PAGESIZE);
    int64_t cached = 0;
    for (size_t i = 0; i < fs->n; i++) {
        int64_t before = cached;
        if (ret_each)
            ret_each[i] = 0;
        struct stat st;
        _cleanup_close_ int fd = reopen(&fs->files[i], &st);
        if (fd < 0 || st.st_size == 0)
            continue;
        /* Mapping a file does not read it; mincore then tells which pages of
         * the page cache hold it. */
        void *addr = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (addr == MAP_FAILED)
            continue;
        size_t pages = ((size_t)st.st_size + (size_t)page - 1) / (size_t)page;
        unsigned char *vec = malloc(pages);
        if (vec && mincore(addr, (size_t)st.st_size, vec) == 0)
            for (size_t k = 0; k < pages; k++)
                cached += (vec[k] & 1) ? page : 0;
        free(vec);
        munmap(addr, (size_t)st.st_size);
        if (ret_each)
            ret_each[i] = cached - before;
    }
    return cached;
}

int prof_drop_caches_check(cs_error *err)
{
    if (access(DROP_CACHES, W_OK) < 0)
        return cs_error_set(err, errno,
                            "--cache drop writes " DROP_CACHES " and needs root; use --cache "
                            "cold to evict only the target's files (no root needed)");
    return 0;
}

int prof_drop_caches(cs_error *err)
{
    sync();
    _cleanup_close_ int fd = open(DROP_CACHES, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "3", 1) != 1)
        return cs_error_set(err, errno, "cannot write " DROP_CACHES);
    return 0;
}
