/* Page-cache control for true cold starts, without root and without touching
 * the rest of the host: the files a target uses at start-up (learned from a
 * discovery run's /proc/PID/maps, plus its binary and image folder) are
 * evicted with posix_fadvise(POSIX_FADV_DONTNEED), and what is still cached is
 * measured with mincore(), so a run that claims to be cold can show it was.
 *
 * The kernel only drops clean pages that no process maps: a shared library
 * mapped by a long-running process elsewhere stays cached, and shows up in
 * cached_before_bytes. `--cache drop` (root) empties the whole page cache. */
#ifndef COLDSTART_PAGECACHE_H
#define COLDSTART_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

struct prof_file {
    char *path;
    int64_t bytes; /* file size */
    /* The file met, so that a later open by name (as root, of a path a
     * target mapped) reads that file and nothing put in its place. */
    dev_t dev;
    ino_t ino;
};

struct prof_fileset {
    struct prof_file *files;
    size_t n, cap;
    /* Hard-linked files met by a tree walk, so each is counted once. */
    struct prof_inode {
        dev_t dev;
        ino_t ino;
    } * links;
    size_t n_links;
};

void prof_fileset_free(struct prof_fileset *fs);
/* Adds a regular file (deduplicated); ignores what is not one. */
int prof_fileset_add(struct prof_fileset *fs, const char *path);
/* Adds every regular file below dir (at most `limit` files). */
int prof_fileset_add_tree(struct prof_fileset *fs, const char *dir, size_t limit);
/* Adds every regular file below each of dirs (distinct trees; at most
 * `limit` files in all). */
int prof_fileset_add_trees(struct prof_fileset *fs, const char *const *dirs, size_t n,
                           size_t limit);
/* Adds the files mapped by pid (/proc/PID/maps). */
int prof_fileset_add_maps(struct prof_fileset *fs, pid_t pid);
/* The same for a process in a root of its own (a container): each file is
 * looked at through /proc/PID/root and kept under the path it has there. */
int prof_fileset_add_maps_in(struct prof_fileset *fs, pid_t pid, bool own_root);
void prof_fileset_merge(struct prof_fileset *into, const struct prof_fileset *from);
int64_t prof_fileset_bytes(const struct prof_fileset *fs);
/* Sorts by size, largest first. */
void prof_fileset_sort_by_size(struct prof_fileset *fs);

/* Evicts the files' clean, unmapped pages. */
void prof_fileset_evict(const struct prof_fileset *fs);
/* Bytes of the files now in the page cache (mincore). */
int64_t prof_fileset_cached_bytes(const struct prof_fileset *fs);
/* The same, and each file's cached bytes into ret_each (fs->n entries). */
int64_t prof_fileset_cached_each(const struct prof_fileset *fs, int64_t *ret_each);

/* sync(), then the host-wide drop of page cache, dentries and inodes. */
int prof_drop_caches(cs_error *err);
/* Fails with a message when drop_caches is not writable (not root). */
int prof_drop_caches_check(cs_error *err);

#endif
