/* SPDX-License-Identifier: Apache-2.0 */
/* What squashfs-image.c's readers share with squashfs-extract.c. */
#ifndef SIFOCI_SQUASHFS_INTERNAL_H
#define SIFOCI_SQUASHFS_INTERNAL_H

#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir_reader.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <sqfs/xattr_reader.h>
#include <stdbool.h>
#include <stdint.h>

/* A read-only sqfs_file_t over a window of a file we do not own. */
struct window_file {
  sqfs_file_t base;
  int fd;
  uint64_t offset;
  uint64_t size;
};

struct bundle_sqfs {
  struct window_file *file;
  sqfs_super_t super; /* the dir reader keeps a pointer to this */
  sqfs_compressor_t *cmp;
  sqfs_dir_reader_t *dir;
  sqfs_data_reader_t *data;
  sqfs_xattr_reader_t *xattrs; /* squashfs-layers.c, read on first use */
  bool xattrs_loaded;
};

/* A libsquashfs error code in words. */
const char *bundle_sqfs_strerror(int code);

#endif
