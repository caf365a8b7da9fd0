/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a squashfs that lives inside a SIF, with libsquashfs, without
 * mounting it: the superblock is checked before the kernel ever sees the
 * bytes, and the few image files `oci mount` needs (/.singularity.d/...,
 * /etc/passwd, /etc/group) are read here.  Reads never leave the
 * [offset, offset + size) window of the SIF object.
 */
#ifndef SIFOCI_SQUASHFS_IMAGE_H
#define SIFOCI_SQUASHFS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "image-files.h"

/* Symlinks followed while resolving one path (Linux uses 40 too). */
#define BUNDLE_SQFS_MAX_HOPS 40
/* Path components kept on the resolution stack. */
#define BUNDLE_SQFS_MAX_DEPTH 256
/* Longest symlink target taken from an image. */
#define BUNDLE_SQFS_MAX_LINK 4096

struct bundle_sqfs;

/* Validate the superblock of the squashfs at [offset, offset + size) of fd
 * (not owned, must stay open) and set up readers.  WHAT names the object in
 * errors ("partition 2").  Errors: "partition 2 holds no squashfs (bad
 * magic)", "squashfs in partition 2 claims N bytes but the partition holds
 * M", ... */
int bundle_sqfs_open(int fd, int64_t offset, int64_t size, const char *what,
                     struct bundle_sqfs **ret, oci_error **err);

void bundle_sqfs_close(struct bundle_sqfs *sq);
static inline void bundle_sqfs_closep(struct bundle_sqfs **sq)
{
  if (*sq)
    bundle_sqfs_close(*sq);
}
#define cleanup_sqfs __attribute__((cleanup(bundle_sqfs_closep)))

/* "gzip", "xz", ... */
const char *bundle_sqfs_compressor(const struct bundle_sqfs *sq);

/* Read the regular file at the absolute PATH inside the image, following
 * symlinks (resolved inside the image, never outside its root).  Returns 0
 * with a NUL-terminated copy, 1 when the path does not exist (or a component
 * is not a directory), -1 on error (corrupt image, loop, larger than
 * max_size, not a regular file). */
int bundle_sqfs_read_file(struct bundle_sqfs *sq, const char *path, size_t max_size,
                          char **ret_data, size_t *ret_len, oci_error **err);

/* Is PATH (symlinks followed) a regular file in the image?  0 with *ret set,
 * -1 on error. */
int bundle_sqfs_is_file(struct bundle_sqfs *sq, const char *path, bool *ret, oci_error **err);

/* The image-files view (image-files.h) of SQ, for config generation. */
void bundle_sqfs_files(struct bundle_sqfs *sq, struct bundle_image_files *ret);

#endif
