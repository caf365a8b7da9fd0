/* SPDX-License-Identifier: Apache-2.0 */
#include "squashfs-layers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/xattr.h>
#include <sqfs/xattr_reader.h>

#include "cleanup.h"
#include "squashfs-internal.h"
#include "squashfs-tree.h"

static bool is_dir(const sqfs_inode_generic_t *i)
{
  return i->base.type == SQFS_INODE_DIR || i->base.type == SQFS_INODE_EXT_DIR;
}

/* The xattr table, read once; NULL when the image has none. */
static sqfs_xattr_reader_t *xattrs_of(struct bundle_sqfs *sq)
{
  if (sq->xattrs_loaded)
    return sq->xattrs;
  sq->xattrs_loaded = true;
  if ((sq->super.flags & SQFS_FLAG_NO_XATTRS) ||
      sq->super.xattr_id_table_start == 0xFFFFFFFFFFFFFFFFull)
    return NULL;
  sq->xattrs = sqfs_xattr_reader_create(0);
  if (sq->xattrs != NULL &&
      sqfs_xattr_reader_load(sq->xattrs, &sq->super, &sq->file->base, sq->cmp) != 0) {
    sqfs_destroy(sq->xattrs);
    sq->xattrs = NULL;
  }
  return sq->xattrs;
}

/* Does directory inode I carry trusted.overlay.opaque = "y"? */
static int has_opaque_xattr(struct bundle_sqfs *sq, const sqfs_inode_generic_t *i, bool *ret,
                            oci_error **err)
{
  *ret = false;
  sqfs_xattr_reader_t *xr = xattrs_of(sq);
  sqfs_u32 idx = 0xFFFFFFFF;
  if (xr == NULL || sqfs_inode_get_xattr_index(i, &idx) != 0 || idx == 0xFFFFFFFF)
    return 0;
  sqfs_xattr_id_t desc;
  int r = sqfs_xattr_reader_get_desc(xr, idx, &desc);
  if (r == 0)
    r = sqfs_xattr_reader_seek_kv(xr, &desc);
  for (sqfs_u32 n = 0; r == 0 && n < desc.count && n < 4096 && !*ret; n++) {
    sqfs_xattr_entry_t *key = NULL;
    sqfs_xattr_value_t *val = NULL;
    r = sqfs_xattr_reader_read_key(xr, &key);
    if (r == 0)
      r = sqfs_xattr_reader_read_value(xr, key, &val);
    if (r == 0 && strcmp((const char *)key->key, BUNDLE_OPAQUE_XATTR) == 0)
      *ret = val->size == 1 && val->value[0] == 'y';
    sqfs_free(key);
    sqfs_free(val);
  }
  if (r != 0)
    return oci_error_set(err, 0, "reading xattrs: %s", bundle_sqfs_strerror(r));
  return 0;
}

/* NAME in directory DIR: 0 with the inode, 1 when there is none. */
static int lookup(struct bundle_sqfs *sq, const sqfs_inode_generic_t *dir, const char *name,
                  sqfs_inode_generic_t **ret, oci_error **err)
{
  int r = sqfs_dir_reader_open_dir(sq->dir, dir, 0);
  if (r == 0)
    r = sqfs_dir_reader_find(sq->dir, name);
  if (r == SQFS_ERROR_NO_ENTRY)
    return 1;
  if (r == 0)
    r = sqfs_dir_reader_get_inode(sq->dir, ret);
  if (r != 0)
    return oci_error_set(err, 0, "looking up '%s': %s", name, bundle_sqfs_strerror(r));
  return 0;
}

/* Is directory DIR opaque (xattr, or a ".wh..wh..opq" inside)? */
static int dir_opaque(struct bundle_sqfs *sq, const sqfs_inode_generic_t *dir, bool *ret,
                      oci_error **err)
{
  if (has_opaque_xattr(sq, dir, ret, err) < 0 || *ret)
    return *ret ? 0 : -1;
  sqfs_inode_generic_t *marker = NULL;
  int r = lookup(sq, dir, BUNDLE_WH_OPAQUE, &marker, err);
  sqfs_free(marker);
  if (r < 0)
    return -1;
  *ret = r == 0;
  return 0;
}

int bundle_sqfs_layer_mask(struct bundle_sqfs *sq, const char *path, enum bundle_layer_mask *ret,
                           oci_error **err)
{
  *ret = BUNDLE_LAYER_MASK_NONE;
  cleanup_free char *buf = strdup(path);
  if (buf == NULL)
    return oci_error_set(err, ENOMEM, "resolving '%s'", path);
  sqfs_inode_generic_t *cur = NULL;
  int r = sqfs_dir_reader_get_root_inode(sq->dir, &cur);
  if (r != 0)
    return oci_error_set(err, 0, "reading the root directory: %s", bundle_sqfs_strerror(r));
  int rc = 0;
  char *save = NULL;
  for (char *name = strtok_r(buf, "/", &save); name != NULL; name = strtok_r(NULL, "/", &save)) {
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue; /* config generation asks for plain absolute paths */
    if (!is_dir(cur)) {
      *ret = BUNDLE_LAYER_MASK_OPAQUE; /* a non-directory hides a lower directory */
      break;
    }
    bool opaque = false;
    if ((rc = dir_opaque(sq, cur, &opaque, err)) < 0)
      break;
    if (opaque)
      *ret = BUNDLE_LAYER_MASK_OPAQUE;
    char wh[300];
    sqfs_inode_generic_t *child = NULL;
    if (snprintf(wh, sizeof(wh), BUNDLE_WH_PREFIX "%s", name) < (int)sizeof(wh) &&
        (rc = lookup(sq, cur, wh, &child, err)) == 0) {
      sqfs_free(child);
      *ret = BUNDLE_LAYER_MASK_WHITEOUT;
      break;
    }
    if (rc < 0)
      break;
    rc = lookup(sq, cur, name, &child, err);
    if (rc != 0) {
      rc = rc < 0 ? -1 : 0; /* absent here: the mask so far stands */
      break;
    }
    sqfs_free(cur);
    cur = child;
    if (bundle_sqfs_is_whiteout(cur)) {
      *ret = BUNDLE_LAYER_MASK_WHITEOUT;
      break;
    }
  }
  if (rc == 0 && *ret == BUNDLE_LAYER_MASK_NONE && cur != NULL && !is_dir(cur))
    *ret = BUNDLE_LAYER_MASK_OPAQUE; /* the path itself is a file here */
  sqfs_free(cur);
  return rc < 0 ? -1 : 0;
}

/* The layer that serves PATH, top first: its index, or -1 when none does
 * (absent everywhere, or deleted above the layers that have it). */
static int serving_layer(struct bundle_layer_files *lf, const char *path, bool *ret_found,
                         size_t *ret_layer, oci_error **err)
{
  *ret_found = false;
  for (size_t i = lf->n; i-- > 0;) {
    bool is_file = false;
    if (bundle_sqfs_is_file(lf->layers[i], path, &is_file, err) < 0)
      return -1;
    enum bundle_layer_mask mask;
    if (bundle_sqfs_layer_mask(lf->layers[i], path, &mask, err) < 0)
      return -1;
    if (mask == BUNDLE_LAYER_MASK_WHITEOUT)
      return 0;
    if (is_file) {
      *ret_found = true;
      *ret_layer = i;
      return 0;
    }
    if (mask == BUNDLE_LAYER_MASK_OPAQUE)
      return 0;
  }
  return 0;
}

static int lf_read_file(void *ctx, const char *path, size_t max_size, char **ret_data,
                        size_t *ret_len, oci_error **err)
{
  struct bundle_layer_files *lf = ctx;
  bool found = false;
  size_t layer = 0;
  if (serving_layer(lf, path, &found, &layer, err) < 0)
    return -1;
  if (!found)
    return 1;
  return bundle_sqfs_read_file(lf->layers[layer], path, max_size, ret_data, ret_len, err);
}

static int lf_is_file(void *ctx, const char *path, bool *ret, oci_error **err)
{
  size_t layer = 0;
  return serving_layer(ctx, path, ret, &layer, err);
}

void bundle_layer_files(struct bundle_sqfs **layers, size_t n, struct bundle_layer_files *ctx,
                        struct bundle_image_files *ret)
{
  ctx->layers = layers;
  ctx->n = n;
  ret->ctx = ctx;
  ret->read_file = lf_read_file;
  ret->is_file = lf_is_file;
}
