/* SPDX-License-Identifier: Apache-2.0 */
#include "export-layer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/data_reader.h>
#include <sqfs/inode.h>

#include "cleanup.h"
#include "export-tar.h"
#include "link-table.h"
#include "squashfs-internal.h"
#include "squashfs-tree.h"

/* Directories nested deeper than this are refused (as extraction does). */
#define MAX_DEPTH 512
#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_NAME ".wh..wh..opq"

struct walk {
  struct bundle_sqfs *sq;
  sqfs_xattr_reader_t *xattrs;
  struct bundle_tar tar;
  bool whiteouts;
  unsigned char *data; /* one block of file data */
  size_t data_len;
  struct bundle_link_table links;
  struct bundle_layer_result *res;
};

static int fail(const sqfs_tree_node_t *n, int errnum, const char *what, oci_error **err)
{
  char path[512];
  return oci_error_set(err, errnum, "exporting '%s': %s",
                       bundle_sqfs_node_path(n, path, sizeof(path)), what);
}

static bool is_overlay_xattr(const char *name)
{
  return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

/* Is directory N opaque (overlayfs: trusted.overlay.opaque or, with
 * userxattr, user.overlay.opaque = "y")? */
static bool is_opaque(const struct bundle_sqfs_xattrs *l)
{
  for (size_t i = 0; l != NULL && i < l->n; i++)
    if ((strcmp(l->kv[i].name, "trusted.overlay.opaque") == 0 ||
         strcmp(l->kv[i].name, "user.overlay.opaque") == 0) &&
        l->kv[i].size == 1 && ((const char *)l->kv[i].value)[0] == 'y')
      return true;
  return false;
}

static uint32_t nlink_of(const sqfs_inode_generic_t *i)
{
  return i->base.type == SQFS_INODE_EXT_FILE ? i->data.file_ext.nlink : 1;
}

/* The tar form of N's xattrs (overlayfs' own dropped when converting
 * whiteouts: they describe the layer, not the file).  *ret NULL: none. */
static int tar_xattrs(const struct walk *w, const struct bundle_sqfs_xattrs *l,
                      struct bundle_tar_xattr **ret, size_t *ret_n)
{
  *ret = NULL;
  *ret_n = 0;
  if (l == NULL || l->n == 0)
    return 0;
  struct bundle_tar_xattr *x = calloc(l->n, sizeof(*x));
  if (x == NULL)
    return -ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (w->whiteouts && is_overlay_xattr(l->kv[i].name))
      continue;
    x[n++] = (struct bundle_tar_xattr){l->kv[i].name, l->kv[i].value, l->kv[i].size};
  }
  *ret = x;
  *ret_n = n;
  return 0;
}

static void devno_split(uint32_t devno, uint32_t *major, uint32_t *minor)
{
  /* the kernel's new_encode_dev, as squashfs stores it */
  *major = (devno & 0xfff00u) >> 8;
  *minor = (devno & 0xffu) | ((devno >> 12) & 0xfff00u);
}

static int file_data(struct walk *w, const sqfs_tree_node_t *n, uint64_t size, oci_error **err)
{
  uint64_t off = 0;
  while (off < size) {
    uint64_t want = size - off < w->data_len ? size - off : w->data_len;
    sqfs_s32 got = sqfs_data_reader_read(w->sq->data, n->inode, off, w->data, (sqfs_u32)want);
    if (got <= 0)
      return fail(n, 0, got < 0 ? bundle_sqfs_strerror(got) : "file ends early", err);
    if (bundle_tar_data(&w->tar, w->data, (size_t)got, err) < 0)
      return -1;
    off += (uint64_t)got;
  }
  return 0;
}

static int emit(struct walk *w, struct bundle_tar_entry *e, const sqfs_tree_node_t *n,
                oci_error **err)
{
  const sqfs_inode_generic_t *i = n->inode;
  e->mode = i->base.mode & 07777;
  e->uid = n->uid;
  e->gid = n->gid;
  e->mtime = i->base.mod_time;
  if (bundle_tar_header(&w->tar, e, err) < 0)
    return -1;
  w->res->entries++;
  return 0;
}

/* An empty file named NAME in DIR ("" for the root): a whiteout. */
static int emit_marker(struct walk *w, const char *dir, const char *name,
                       const sqfs_tree_node_t *like, oci_error **err)
{
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%s%s%s", dir, dir[0] ? "/" : "", name) < 0)
    return oci_error_set(err, ENOMEM, "exporting");
  struct bundle_tar_entry e = {.name = path, .type = BUNDLE_TAR_FILE};
  return emit(w, &e, like, err);
}

static int walk_dir(struct walk *w, const sqfs_tree_node_t *dir, const char *path, int depth,
                    oci_error **err);

static int walk_node(struct walk *w, const sqfs_tree_node_t *n, const char *dir, int depth,
                     oci_error **err)
{
  const char *name = (const char *)n->name;
  if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
      strcmp(name, "..") == 0)
    return fail(n, 0, "invalid name in a directory", err);
  /* a name that reads as a whiteout would delete in the image it lands in */
  if (strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
    return fail(n, 0, "a name starting with '.wh.' has no place in an OCI layer", err);
  const sqfs_inode_generic_t *i = n->inode;
  if (w->whiteouts && bundle_sqfs_is_whiteout(i)) {
    cleanup_free char *wh = NULL;
    if (asprintf(&wh, WHITEOUT_PREFIX "%s", name) < 0)
      return oci_error_set(err, ENOMEM, "exporting");
    w->res->whiteouts++;
    return emit_marker(w, dir, wh, n, err);
  }
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%s%s%s", dir, dir[0] ? "/" : "", name) < 0)
    return oci_error_set(err, ENOMEM, "exporting");
  struct bundle_sqfs_xattrs *xl = NULL;
  if (bundle_sqfs_read_xattrs(w->xattrs, n, "exporting", &xl, err) < 0)
    return -1;
  struct bundle_tar_xattr *tx = NULL;
  struct bundle_tar_entry e = {.name = path};
  int r = tar_xattrs(w, xl, &tx, &e.n_xattrs);
  e.xattrs = tx;
  bool opaque = w->whiteouts && is_opaque(xl);
  char target[BUNDLE_SQFS_MAX_LINK + 1];
  sqfs_u64 size = 0;
  if (r < 0) {
    r = oci_error_set(err, -r, "exporting");
    goto out;
  }
  switch (i->base.type) {
  case SQFS_INODE_DIR:
  case SQFS_INODE_EXT_DIR:
    if (depth >= MAX_DEPTH) {
      r = fail(n, 0, "directories nested too deep", err);
      break;
    }
    e.type = BUNDLE_TAR_DIR;
    r = emit(w, &e, n, err);
    if (r == 0 && opaque) {
      w->res->opaque_dirs++;
      r = emit_marker(w, path, OPAQUE_NAME, n, err);
    }
    if (r == 0)
      r = walk_dir(w, n, path, depth + 1, err);
    break;
  case SQFS_INODE_FILE:
  case SQFS_INODE_EXT_FILE:
    sqfs_inode_get_file_size(i, &size);
    e.type = BUNDLE_TAR_FILE;
    e.size = size;
    if (nlink_of(i) > 1 && (r = bundle_link_table_first(&w->links, 0, n->inode->base.inode_number,
                                                        path, &e.linkname, err)) < 0)
      break;
    if (e.linkname != NULL) {
      e.type = BUNDLE_TAR_HARDLINK;
      e.size = 0;
      e.n_xattrs = 0; /* the first name carries them */
    }
    r = emit(w, &e, n, err);
    if (r == 0 && e.type == BUNDLE_TAR_FILE)
      r = file_data(w, n, size, err);
    break;
  case SQFS_INODE_SLINK:
  case SQFS_INODE_EXT_SLINK:
    r = bundle_sqfs_link_target(n, "exporting", target, err);
    e.type = BUNDLE_TAR_SYMLINK;
    e.linkname = target;
    if (r == 0)
      r = emit(w, &e, n, err);
    break;
  case SQFS_INODE_CDEV:
  case SQFS_INODE_EXT_CDEV:
  case SQFS_INODE_BDEV:
  case SQFS_INODE_EXT_BDEV: {
    bool ext = i->base.type == SQFS_INODE_EXT_CDEV || i->base.type == SQFS_INODE_EXT_BDEV;
    bool chr = i->base.type == SQFS_INODE_CDEV || i->base.type == SQFS_INODE_EXT_CDEV;
    devno_split(ext ? i->data.dev_ext.devno : i->data.dev.devno, &e.devmajor, &e.devminor);
    e.type = chr ? BUNDLE_TAR_CHAR : BUNDLE_TAR_BLOCKDEV;
    r = emit(w, &e, n, err);
    break;
  }
  case SQFS_INODE_FIFO:
  case SQFS_INODE_EXT_FIFO:
    e.type = BUNDLE_TAR_FIFO;
    r = emit(w, &e, n, err);
    break;
  case SQFS_INODE_SOCKET:
  case SQFS_INODE_EXT_SOCKET: w->res->sockets_skipped++; break;
  default: r = fail(n, 0, "unknown inode type", err); break;
  }
out:
  free(tx);
  bundle_sqfs_xattrs_free(xl);
  return r;
}

static int walk_dir(struct walk *w, const sqfs_tree_node_t *dir, const char *path, int depth,
                    oci_error **err)
{
  for (const sqfs_tree_node_t *c = dir->children; c; c = c->next)
    if (walk_node(w, c, path, depth, err) < 0)
      return -1;
  return 0;
}

/* The root directory itself: an opaque root hides every lower layer. */
static int walk_root(struct walk *w, const sqfs_tree_node_t *root, oci_error **err)
{
  if (w->whiteouts) {
    struct bundle_sqfs_xattrs *xl = NULL;
    if (bundle_sqfs_read_xattrs(w->xattrs, root, "exporting", &xl, err) < 0)
      return -1;
    bool opaque = is_opaque(xl);
    bundle_sqfs_xattrs_free(xl);
    if (opaque) {
      w->res->opaque_dirs++;
      if (emit_marker(w, "", OPAQUE_NAME, root, err) < 0)
        return -1;
    }
  }
  return walk_dir(w, root, "", 0, err);
}

int bundle_export_layer(struct bundle_sqfs *sq, int fd, bool whiteouts, int stop_fd,
                        struct bundle_layer_result *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  struct walk w = {.sq = sq, .whiteouts = whiteouts, .res = ret};
  sqfs_tree_node_t *tree = NULL;
  int r = -1;
  w.data_len = sq->super.block_size;
  w.data = malloc(w.data_len);
  if (w.data == NULL) {
    oci_error_set(err, ENOMEM, "exporting");
    goto out;
  }
  if (bundle_tar_init(&w.tar, fd, stop_fd, err) < 0 ||
      bundle_sqfs_load_tree(sq, &tree, &w.xattrs, err) < 0 || walk_root(&w, tree, err) < 0 ||
      bundle_tar_finish(&w.tar, ret->digest_hex, &ret->size, err) < 0)
    goto out;
  r = 0;
out:
  bundle_tar_clear(&w.tar);
  bundle_link_table_clear(&w.links);
  free(w.data);
  sqfs_destroy(w.xattrs);
  sqfs_dir_tree_destroy(tree);
  return r;
}
