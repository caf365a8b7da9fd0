/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A squashfs as one tree in memory (names, inodes, owners resolved through
 * the id table) and each entry's xattrs: what the walks over a whole image
 * need, extraction (squashfs-extract.c) and export (export-layer.c) alike.
 */
#ifndef SIFOCI_SQUASHFS_TREE_H
#define SIFOCI_SQUASHFS_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include <sqfs/dir_reader.h>
#include <sqfs/xattr_reader.h>

#include "error.h"
#include "squashfs-image.h"

/* Entries with more xattrs than this are refused as corrupt. */
#define BUNDLE_SQFS_MAX_XATTRS 4096

struct bundle_sqfs_xattr {
  char *name; /* "user.x", "trusted.overlay.opaque", ... */
  void *value;
  size_t size;
};
struct bundle_sqfs_xattrs {
  size_t n;
  struct bundle_sqfs_xattr kv[];
};

/* Free a list from bundle_sqfs_read_xattrs (a void * so that it can be a
 * pool's free function). */
void bundle_sqfs_xattrs_free(void *list);

/* SQ's whole tree into *RET_TREE (free it with sqfs_dir_tree_destroy) and
 * its xattr reader into *RET_XATTRS (sqfs_destroy it): NULL when the image
 * has no xattrs or its xattr table cannot be read, since xattrs are kept
 * "where possible". */
int bundle_sqfs_load_tree(struct bundle_sqfs *sq, sqfs_tree_node_t **ret_tree,
                          sqfs_xattr_reader_t **ret_xattrs, oci_error **err);

/* N's xattrs into *RET (NULL when it has none or XATTRS is NULL).  DOING
 * starts the error message: "extracting '/path': too many xattrs". */
int bundle_sqfs_read_xattrs(sqfs_xattr_reader_t *xattrs, const sqfs_tree_node_t *n,
                            const char *doing, struct bundle_sqfs_xattrs **ret, oci_error **err);

/* A symlink N's target into BUF (BUNDLE_SQFS_MAX_LINK + 1 bytes),
 * NUL-terminated; a corrupt length or a NUL byte in it is an error that
 * DOING starts. */
int bundle_sqfs_link_target(const sqfs_tree_node_t *n, const char *doing, char *buf,
                            oci_error **err);

/* An OverlayFS whiteout: a character device 0:0. */
bool bundle_sqfs_is_whiteout(const sqfs_inode_generic_t *i);

/* N's path in the image, for messages ("?" when out of memory). */
const char *bundle_sqfs_node_path(const sqfs_tree_node_t *n, char *buf, size_t len);

#endif
