/* A container's root, built in the child between clone and exec (issue 16,
 * the builtin runtime): the image's layers as the read-only lower layers of
 * an overlay whose upper layer is a fresh tmpfs (so every run starts from
 * the pristine image and its writes vanish with it), a fresh /proc, a
 * minimal /dev (null, zero, full, random, urandom, tty bound from the host;
 * pts, shm), /sys read-only, then pivot_root into it.
 *
 * The caller has already unshared a mount namespace (private propagation);
 * nothing here reaches the host's mounts. Only system calls and no
 * allocation: it runs in the forked child. */
#ifndef COLDSTART_ROOTFS_H
#define COLDSTART_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

struct sbx_rootfs {
    const char *const *lowers; /* extracted layer folders, the base layer first */
    size_t n_lowers;
    /* An empty folder the child may mount its tmpfs on (per run, made by the
     * caller, not below any layer folder). */
    const char *scratch;
    size_t tmpfs_bytes; /* size of the writable layer's tmpfs; 0: the kernel's default */
    /* Only the overlay, at SCRATCH/root, for an OCI runtime (crun, runc) to
     * make the rest of the container from: no /dev, /proc, /sys, no pivot. */
    bool mount_only;
};

/* Builds the root and pivots into it; the working directory is then "/".
 * Returns 0, or -1 with errno set and *ret_step naming what failed. */
int sbx_rootfs_enter(const struct sbx_rootfs *r, const char **ret_step);

#endif
