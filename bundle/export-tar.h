/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A streaming tar writer for `oci export`: POSIX ustar headers, with a PAX
 * extended header in front of an entry whose name or link target is too
 * long, whose size, owner or time does not fit the octal fields, or that
 * carries xattrs (SCHILY.xattr.NAME, as GNU tar and Go's archive/tar read
 * them).  Everything written is hashed on the way, so a layer's digest is
 * known the moment it ends, and nothing is held in memory but one buffer.
 */
#ifndef SIFOCI_EXPORT_TAR_H
#define SIFOCI_EXPORT_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sha256.h"

#define BUNDLE_TAR_BLOCK 512
#define BUNDLE_TAR_BUFFER (256u << 10)

enum bundle_tar_type {
  BUNDLE_TAR_FILE = '0',
  BUNDLE_TAR_HARDLINK = '1',
  BUNDLE_TAR_SYMLINK = '2',
  BUNDLE_TAR_CHAR = '3',
  BUNDLE_TAR_BLOCKDEV = '4',
  BUNDLE_TAR_DIR = '5',
  BUNDLE_TAR_FIFO = '6',
};

struct bundle_tar_xattr {
  const char *name;
  const void *value;
  size_t size;
};

struct bundle_tar_entry {
  const char *name; /* relative, no leading '/'; a directory gets its '/' here */
  enum bundle_tar_type type;
  uint32_t mode; /* permission bits (07777) */
  uint32_t uid, gid;
  int64_t mtime;
  uint64_t size;        /* BUNDLE_TAR_FILE: the bytes that follow */
  const char *linkname; /* symlink target, or the earlier name of a hard link */
  uint32_t devmajor, devminor;
  const struct bundle_tar_xattr *xattrs;
  size_t n_xattrs;
};

struct bundle_tar {
  int fd;      /* not owned */
  int stop_fd; /* a signalfd (not owned): a signal on it stops the writing; -1 none */
  struct sha256 sha;
  uint64_t written;   /* bytes of tar so far */
  uint64_t file_left; /* of the current entry's data */
  uint64_t file_size;
  size_t used;
  unsigned char *buf; /* BUNDLE_TAR_BUFFER bytes */
};

/* Start a tar on FD (written from its current position).  STOP_FD: a
 * signalfd, checked at each write to FD; a signal it holds ends the tar
 * with an OCI_ERR_INTERRUPTED error ("interrupted by SIGINT").  -1: none. */
int bundle_tar_init(struct bundle_tar *t, int fd, int stop_fd, oci_error **err);

/* The header of the next entry; a file's SIZE bytes follow with
 * bundle_tar_data. */
int bundle_tar_header(struct bundle_tar *t, const struct bundle_tar_entry *e, oci_error **err);

/* The current file's data; more than the header said is refused, and the
 * padding is added once it is complete. */
int bundle_tar_data(struct bundle_tar *t, const void *data, size_t len, oci_error **err);

/* The two zero blocks that end an archive, and out: its sha256 (hex) and
 * size. */
int bundle_tar_finish(struct bundle_tar *t, char ret_hex[SHA256_HEX_SIZE], uint64_t *ret_size,
                      oci_error **err);

void bundle_tar_clear(struct bundle_tar *t);

#endif
