/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dirfd-relative file operations for bundle and state directories: never
 * follow a symlink in a name under the directory, never cross into a
 * mount while deleting, write files atomically (tmp + rename).
 */
#ifndef SIFOCI_FS_H
#define SIFOCI_FS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

enum fs_write_flags {
  /* rename into place only if NAME does not exist yet */
  FS_WRITE_EXCLUSIVE = 1 << 0,
  /* fsync before the rename: for records that must survive a crash */
  FS_WRITE_DURABLE = 1 << 1,
};

/* Write all LEN bytes of DATA to FD: again after EINTR, waiting in poll()
 * while a non-blocking FD is full.  0, or -1 with errno (EPIPE when FD took
 * nothing): its reader is gone.  Async-signal-safe. */
int fs_write_all(int fd, const void *data, size_t len);

/* The temporary name fs_write_file_at writes NAME under first
 * (".NAME.tmp"); a kill between its write and its rename leaves it.
 * -ENAMETOOLONG when it does not fit SIZE. */
int fs_tmp_name(const char *name, char *buf, size_t size);

/* Write DATA to NAME under DIRFD with exactly MODE: written to ".NAME.tmp"
 * (a stale one is removed first; O_CREAT|O_EXCL|O_NOFOLLOW), then renamed
 * over NAME. */
int fs_write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                     unsigned flags, oci_error **err);

enum fs_read_flags {
  /* refuse a file owned by neither root nor the effective user, or
   * writable by group or others */
  FS_READ_ROOT_OWNED = 1 << 0,
};

/* Read NAME under DIRFD (no symlinks, a regular file, at most MAX bytes).
 * 0 with a NUL-terminated copy, 1 when NAME does not exist. */
int fs_read_file_at(int dirfd, const char *name, size_t max, unsigned flags, char **ret_data,
                    size_t *ret_len, oci_error **err);

/* mkdirat with exactly MODE (the umask does not apply).  *ret_created says
 * whether it was made now; an existing directory is accepted when
 * ret_created is not NULL, an error otherwise. */
int fs_mkdir_at(int dirfd, const char *name, mode_t mode, bool *ret_created, oci_error **err);

/* Remove NAME under DIRFD recursively without following symlinks and
 * without entering another mount (that is an error, and nothing below the
 * mount is touched).  No depth limit and a constant number of fds, so no
 * tree a container writes can make it fail.  A missing NAME is fine. */
int fs_rm_rf_at(int dirfd, const char *name, oci_error **err);

/* Call FN for each entry of directory DIRFD but "." and "..": FN returns
 * < 0 to stop with an error (it sets *err), 0 to go on, > 0 to stop.
 * Returns FN's last result, or -1 when the directory cannot be read. */
typedef int (*fs_dir_scan_fn)(int dirfd, const struct dirent *entry, void *data, oci_error **err);
int fs_dir_scan(int dirfd, fs_dir_scan_fn fn, void *data, oci_error **err);

/* Is directory DIRFD empty? */
int fs_dir_is_empty(int dirfd, bool *ret, oci_error **err);

/* Is NAME under DIRFD the root of a mount, which file system type (statfs
 * f_type) and which device (st_dev) is it?  A missing NAME is "not a
 * mount". */
int fs_mount_state_at(int dirfd, const char *name, bool *ret_is_mount, long *ret_fstype,
                      dev_t *ret_dev, oci_error **err);

/* An executable regular file, links followed? */
bool fs_is_executable_file(const char *path);

/* mount(2) onto NAME under DIRFD, resolved without following symlinks. */
int fs_mount_at(const char *source, int dirfd, const char *name, const char *fstype,
                unsigned long flags, const char *options, oci_error **err);

/* umount2(2) of the mount on NAME under DIRFD (no lazy detach). */
int fs_umount_at(int dirfd, const char *name, oci_error **err);

#endif
