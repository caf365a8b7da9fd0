/* SPDX-License-Identifier: Apache-2.0 */
#include "squashfs-tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/xattr.h>

#include "squashfs-internal.h"

const char *bundle_sqfs_node_path(const sqfs_tree_node_t *n, char *buf, size_t len)
{
  char *p = NULL;
  if (sqfs_tree_node_get_path(n, &p) != 0 || p == NULL) {
    snprintf(buf, len, "?");
  } else {
    snprintf(buf, len, "%s", p);
    sqfs_free(p);
  }
  return buf;
}

void bundle_sqfs_xattrs_free(void *list)
{
  struct bundle_sqfs_xattrs *l = list;
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n; i++) {
    free(l->kv[i].name);
    free(l->kv[i].value);
  }
  free(l);
}

static int fail(const sqfs_tree_node_t *n, const char *doing, const char *why, oci_error **err)
{
  char path[512];
  return oci_error_set(err, 0, "%s '%s': %s", doing, bundle_sqfs_node_path(n, path, sizeof(path)),
                       why);
}

int bundle_sqfs_read_xattrs(sqfs_xattr_reader_t *xattrs, const sqfs_tree_node_t *n,
                            const char *doing, struct bundle_sqfs_xattrs **ret, oci_error **err)
{
  *ret = NULL;
  uint32_t idx = 0xFFFFFFFF;
  if (xattrs == NULL || sqfs_inode_get_xattr_index(n->inode, &idx) != 0 || idx == 0xFFFFFFFF)
    return 0;
  sqfs_xattr_id_t desc;
  int r = sqfs_xattr_reader_get_desc(xattrs, idx, &desc);
  if (r == 0)
    r = sqfs_xattr_reader_seek_kv(xattrs, &desc);
  if (r != 0)
    return fail(n, doing, bundle_sqfs_strerror(r), err);
  if (desc.count > BUNDLE_SQFS_MAX_XATTRS)
    return fail(n, doing, "too many xattrs", err);
  struct bundle_sqfs_xattrs *l = calloc(1, sizeof(*l) + desc.count * sizeof(l->kv[0]));
  if (l == NULL)
    return oci_error_set(err, ENOMEM, "%s", doing);
  for (uint32_t i = 0; i < desc.count; i++) {
    sqfs_xattr_entry_t *key = NULL;
    sqfs_xattr_value_t *val = NULL;
    r = sqfs_xattr_reader_read_key(xattrs, &key);
    if (r == 0)
      r = sqfs_xattr_reader_read_value(xattrs, key, &val);
    if (r == 0) {
      struct bundle_sqfs_xattr *kv = &l->kv[l->n++];
      /* the decoded key is the prefix ("user.") and the on-disk suffix of
       * key->size bytes, NUL-terminated: size alone would cut it short */
      kv->name = strndup((const char *)key->key, (size_t)key->size + sizeof("security.") - 1);
      kv->value = malloc(val->size ? val->size : 1);
      kv->size = val->size;
      if (kv->name == NULL || kv->value == NULL)
        r = SQFS_ERROR_ALLOC;
      else
        memcpy(kv->value, val->value, val->size);
    }
    sqfs_free(key);
    sqfs_free(val);
    if (r != 0) {
      bundle_sqfs_xattrs_free(l);
      return fail(n, doing, bundle_sqfs_strerror(r), err);
    }
  }
  *ret = l;
  return 0;
}

int bundle_sqfs_link_target(const sqfs_tree_node_t *n, const char *doing, char *buf,
                            oci_error **err)
{
  const sqfs_inode_generic_t *i = n->inode;
  uint32_t len = i->base.type == SQFS_INODE_EXT_SLINK ? i->data.slink_ext.target_size
                                                      : i->data.slink.target_size;
  if (len > i->payload_bytes_used || len > BUNDLE_SQFS_MAX_LINK)
    return fail(n, doing, "symlink target is corrupt", err);
  memcpy(buf, i->extra, len);
  buf[len] = '\0';
  if (strlen(buf) != len)
    return fail(n, doing, "symlink target holds a NUL byte", err);
  return 0;
}

int bundle_sqfs_load_tree(struct bundle_sqfs *sq, sqfs_tree_node_t **ret_tree,
                          sqfs_xattr_reader_t **ret_xattrs, oci_error **err)
{
  *ret_tree = NULL;
  *ret_xattrs = NULL;
  sqfs_id_table_t *ids = sqfs_id_table_create(0);
  if (ids == NULL)
    return oci_error_set(err, ENOMEM, "reading the squashfs tree");
  int r = sqfs_id_table_read(ids, &sq->file->base, &sq->super, sq->cmp);
  if (r == 0)
    r = sqfs_dir_reader_get_full_hierarchy(sq->dir, ids, NULL, 0, ret_tree);
  sqfs_destroy(ids);
  if (r != 0)
    return oci_error_set(err, 0, "reading the squashfs tree: %s", bundle_sqfs_strerror(r));
  if (!(sq->super.flags & SQFS_FLAG_NO_XATTRS) &&
      sq->super.xattr_id_table_start != 0xFFFFFFFFFFFFFFFFull) {
    sqfs_xattr_reader_t *x = sqfs_xattr_reader_create(0);
    if (x != NULL && sqfs_xattr_reader_load(x, &sq->super, &sq->file->base, sq->cmp) != 0) {
      sqfs_destroy(x);
      x = NULL; /* xattrs are "where possible": an unreadable table drops them */
    }
    *ret_xattrs = x;
  }
  return 0;
}

bool bundle_sqfs_is_whiteout(const sqfs_inode_generic_t *i)
{
  return (i->base.type == SQFS_INODE_CDEV && i->data.dev.devno == 0) ||
         (i->base.type == SQFS_INODE_EXT_CDEV && i->data.dev_ext.devno == 0);
}
