/* Small helpers for control files (cgroupfs, procfs): whole-file reads and writes
 * with errors that name the path. */
#ifndef COLDSTART_FSUTIL_H
#define COLDSTART_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

/* Writes the string (no newline added) with one write(2); fails naming the file. */
int fs_write_file(const char *path, const char *value, cs_error *err);
/* dir/file through a descriptor of dir (openat, O_NOFOLLOW): no path is
 * composed in a buffer, so no name too long for one can be cut into the name
 * of another file. fs_open_at returns the fd or -1 with errno. */
int fs_open_at(const char *dir, const char *file, int flags);
/* Opens path as if root ("/proc/PID/root"; "" or NULL: /) were "/": its
 * symlinks and ".." never leave root (openat2 RESOLVE_IN_ROOT), as when
 * reading a container's files from the host, whose paths the container
 * controls. Returns the descriptor, or -1 with errno set. */
int fs_open_in_root(const char *root, const char *path, int flags);
/* A path composed into buf; one that does not fit is an error (ENAMETOOLONG),
 * never a shorter path that names another file. */
int fs_pathf(char *buf, size_t cap, cs_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int fs_write_at(const char *dir, const char *file, const char *value, cs_error *err);
ssize_t fs_read_at(const char *dir, const char *file, char *buf, size_t cap, cs_error *err);
int fs_read_u64_at(const char *dir, const char *file, uint64_t *ret, cs_error *err);
/* Creates (or truncates) path holding value; never through a symlink. */
int fs_create_file(const char *path, const char *value, cs_error *err);
/* Removes a folder and everything in it, without following symlinks or
 * crossing into other mounts (a mount point below it is left, and the call
 * fails with EBUSY). Works on an overlayfs, whose files and folders may
 * report different st_dev. Returns 0, or -1 with errno. */
int fs_remove_tree(const char *path);
int fs_write_filef(const char *path, cs_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reads up to cap-1 bytes into buf, NUL-terminated. Returns bytes read or -1. */
/* Reads a whole input file the user named (a report, a manifest, a profile)
 * into *ret (NUL-terminated, caller frees): a folder, a device or a FIFO is
 * refused (reading /dev/zero would never end), and so is a file of more than
 * max bytes, each with a message that says so; `what` names the input. */
int fs_read_input(const char *path, size_t max, const char *what, char **ret, size_t *ret_len,
                  cs_error *err);
ssize_t fs_read_file(const char *path, char *buf, size_t cap, cs_error *err);
/* Reads a file holding one unsigned number ("max" reads as UINT64_MAX). */
int fs_read_u64(const char *path, uint64_t *ret, cs_error *err);
/* pread from offset 0 of an open control file, NUL-terminated: cheap re-reads
 * for the sampler, which keeps the file open. Returns bytes or -1 (errno set). */
ssize_t fs_pread_all(int fd, char *buf, size_t cap);
/* Finds "key value" in a flat keyed file's text (memory.stat, cpu.stat). */
int fs_keyed_u64(const char *text, const char *key, uint64_t *ret);
/* The same for "key<sep> value" lines (/proc/PID/io: "read_bytes: 4096"). */
int fs_keyed_u64_sep(const char *text, const char *key, char sep, uint64_t *ret);

#endif
