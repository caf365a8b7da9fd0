/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dirfd-relative file operations for the bundle directory: never follow a
 * symlink in a name under the bundle, never cross into a mount while
 * deleting, and write files atomically (tmp + rename).
 */
#ifndef SIFOCI_FS_UTIL_H
#define SIFOCI_FS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Write DATA to NAME under DIRFD with exactly MODE: written to ".NAME.tmp"
 * (O_CREAT|O_EXCL|O_NOFOLLOW), then renamed over NAME, or, when EXCLUSIVE,
 * renamed only if NAME does not exist yet. */
int bundle_write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         bool exclusive, oci_error **err);

/* Read NAME under DIRFD (no symlinks, regular file, owned by root, at most
 * MAX bytes).  0 with a NUL-terminated copy, 1 when NAME does not exist. */
int bundle_read_file_at(int dirfd, const char *name, size_t max, char **ret_data, size_t *ret_len,
                        oci_error **err);
/* The same without the ownership check (files of a bundle or state dir the
 * caller already trusts by where they are). */
int bundle_read_regular_file_at(int dirfd, const char *name, size_t max, char **ret_data,
                                size_t *ret_len, oci_error **err);

/* mkdirat with exactly MODE (the umask does not apply).  *ret_created says
 * whether it was made now; an existing directory is accepted when
 * ret_created is not NULL, an error otherwise. */
int bundle_mkdir_at(int dirfd, const char *name, mode_t mode, bool *ret_created, oci_error **err);

/* Remove NAME under DIRFD recursively without following symlinks and
 * without entering another mount (that is an error).  A missing NAME is
 * fine. */
int bundle_rm_rf_at(int dirfd, const char *name, oci_error **err);

/* Is NAME under DIRFD the root of a mount, which file system type
 * (statfs f_type) and which device (st_dev) is it?  A missing NAME is "not
 * a mount". */
int bundle_mount_state_at(int dirfd, const char *name, bool *ret_is_mount, long *ret_fstype,
                          dev_t *ret_dev, oci_error **err);

/* mount(2) onto NAME under DIRFD, resolved without following symlinks. */
int bundle_mount_at(const char *source, int dirfd, const char *name, const char *fstype,
                    unsigned long flags, const char *options, oci_error **err);

/* umount2(2) of the mount on NAME under DIRFD (no lazy detach). */
int bundle_umount_at(int dirfd, const char *name, oci_error **err);

/* Is directory DIRFD empty? */
int bundle_dir_is_empty(int dirfd, bool *ret, oci_error **err);

#endif
