/* SPDX-License-Identifier: Apache-2.0 */
#include "squashfs-extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/xattr_reader.h>

#include "cleanup.h"
#include "fs.h"
#include "squashfs-extract-pool.h"
#include "squashfs-internal.h"
#include "squashfs-layers.h"
#include "squashfs-tree.h"

/* Directories nested deeper than this are refused (each level holds an fd). */
#define MAX_DEPTH 512

struct hardlink {
  uint32_t inode;
  char *path; /* relative to the root */
};

struct extract {
  struct bundle_sqfs *sq;
  sqfs_xattr_reader_t *xattrs;
  int rootfd;
  struct bundle_extract_stats *stats;
  bundle_progress_fn progress;
  void *progress_data;
  struct hardlink *links;
  size_t n_links, cap_links;
  struct bundle_xpool *pool;
  /* a layer above the first: names may exist from the layers below, and
   * its whiteouts and opaque directories apply to them */
  bool upper;
  /* one of several layers: whiteouts are markers, never files (a single
   * squashfs is taken as it is, as the kernel method shows it) */
  bool layered;
};

static int fail(const sqfs_tree_node_t *n, int errnum, const char *what, oci_error **err)
{
  return bundle_xpool_fail(n, errnum, what, err);
}

static void count(uint64_t *counter)
{
  __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* Owner first (chown clears setuid bits), then the mode, then times. */
static int set_owner(const sqfs_tree_node_t *n, int dirfd, const char *name, int fd,
                     oci_error **err)
{
  /* one call, so that no path (inlined with FD's callers) hands NAME,
   * NULL there, to fchownat */
  int r = fd >= 0 ? fchownat(fd, "", n->uid, n->gid, AT_EMPTY_PATH)
                  : fchownat(dirfd, name, n->uid, n->gid, AT_SYMLINK_NOFOLLOW);
  if (r == 0)
    return 0;
  if (errno == EINVAL) {
    char path[512];
    return oci_error_set(err, 0,
                         "'%s' in the image is owned by %u:%u, which the user namespace does not "
                         "map (give the user a subordinate range in /etc/subuid and /etc/subgid "
                         "that covers it)",
                         bundle_sqfs_node_path(n, path, sizeof(path)), n->uid, n->gid);
  }
  return fail(n, errno, "chown", err);
}

static int set_mode_times(const sqfs_tree_node_t *n, int fd, oci_error **err)
{
  if (fchmod(fd, n->inode->base.mode & 07777) < 0)
    return fail(n, errno, "chmod", err);
  struct timespec t[2] = {{.tv_sec = n->inode->base.mod_time}, {.tv_sec = n->inode->base.mod_time}};
  if (futimens(fd, t) < 0)
    return fail(n, errno, "setting times", err);
  return 0;
}

/* N's xattrs, read by the walk (the xattr reader is not thread-safe) and
 * set by whoever finishes the file. */
static int read_xattrs(struct extract *x, const sqfs_tree_node_t *n,
                       struct bundle_sqfs_xattrs **ret, oci_error **err)
{
  return bundle_sqfs_read_xattrs(x->xattrs, n, "extracting", ret, err);
}

/* trusted.* and some security.* need more than a user namespace gives:
 * skipped and counted, the file itself is fine */
static void apply_xattrs(struct extract *x, const struct bundle_sqfs_xattrs *l, int fd)
{
  for (size_t i = 0; l != NULL && i < l->n; i++) {
    /* overlayfs's own markers (opaque, ...) are applied, never copied:
     * the tree is the merged result */
    if (strncmp(l->kv[i].name, "trusted.overlay.", 16) == 0)
      continue;
    if (fsetxattr(fd, l->kv[i].name, l->kv[i].value, l->kv[i].size, 0) < 0)
      count(&x->stats->xattrs_skipped);
  }
}

static bool xattrs_opaque(const struct bundle_sqfs_xattrs *l)
{
  for (size_t i = 0; l != NULL && i < l->n; i++)
    if (strcmp(l->kv[i].name, BUNDLE_OPAQUE_XATTR) == 0)
      return l->kv[i].size == 1 && ((const char *)l->kv[i].value)[0] == 'y';
  return false;
}

/* xattrs (after the data and the owner: either clears security.capability),
 * then the mode (after chown, which clears setuid bits) and times. */
static int finish_with(struct extract *x, const sqfs_tree_node_t *n, int fd,
                       const struct bundle_sqfs_xattrs *l, oci_error **err)
{
  apply_xattrs(x, l, fd);
  if (set_mode_times(n, fd, err) < 0)
    return -1;
  count(&x->stats->entries);
  return 0;
}

/* bundle_xpool_done_fn: a file's data is written */
static int file_written(void *ctx, const sqfs_tree_node_t *n, int fd, void *meta, oci_error **err)
{
  return finish_with(ctx, n, fd, meta, err);
}

static int finish(struct extract *x, const sqfs_tree_node_t *n, int fd, oci_error **err)
{
  struct bundle_sqfs_xattrs *l = NULL;
  if (read_xattrs(x, n, &l, err) < 0)
    return -1;
  int r = finish_with(x, n, fd, l, err);
  bundle_sqfs_xattrs_free(l);
  return r;
}

static uint32_t nlink_of(const sqfs_inode_generic_t *i)
{
  return i->base.type == SQFS_INODE_EXT_FILE ? i->data.file_ext.nlink : 1;
}

/* An earlier path of the same inode: link to it. 1 when linked, 0 when
 * this is the first (remembered), -1 on error. */
static int try_hardlink(struct extract *x, const sqfs_tree_node_t *n, int dirfd, const char *name,
                        oci_error **err)
{
  uint32_t ino = n->inode->base.inode_number;
  for (size_t i = 0; i < x->n_links; i++) {
    if (x->links[i].inode != ino)
      continue;
    if (linkat(x->rootfd, x->links[i].path, dirfd, name, 0) < 0)
      return fail(n, errno, "hard link", err);
    count(&x->stats->entries);
    return 1;
  }
  if (x->n_links == x->cap_links) {
    size_t cap = x->cap_links ? x->cap_links * 2 : 64;
    struct hardlink *l = realloc(x->links, cap * sizeof(*l));
    if (l == NULL)
      return oci_error_set(err, ENOMEM, "extracting");
    x->links = l;
    x->cap_links = cap;
  }
  char *p = NULL;
  if (sqfs_tree_node_get_path(n, &p) != 0 || p == NULL)
    return oci_error_set(err, ENOMEM, "extracting");
  x->links[x->n_links].path = strdup(p + 1); /* without the leading '/' */
  sqfs_free(p);
  if (x->links[x->n_links].path == NULL)
    return oci_error_set(err, ENOMEM, "extracting");
  x->links[x->n_links++].inode = ino;
  return 0;
}

static int write_file(struct extract *x, const sqfs_tree_node_t *n, int dirfd, const char *name,
                      oci_error **err)
{
  if (nlink_of(n->inode) > 1) {
    int r = try_hardlink(x, n, dirfd, name, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
  }
  cleanup_close int fd =
      openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(n, errno, "create", err);
  /* the owner now: an unmapped one fails before any data is written */
  if (set_owner(n, dirfd, name, fd, err) < 0)
    return -1;
  sqfs_u64 size = 0;
  sqfs_inode_get_file_size(n->inode, &size);
  if (size == 0)
    return finish(x, n, fd, err);
  struct bundle_sqfs_xattrs *l = NULL;
  if (read_xattrs(x, n, &l, err) < 0)
    return -1;
  return bundle_xpool_submit(x->pool, n, size, steal_fd(&fd), l, err);
}

static int write_symlink(struct extract *x, const sqfs_tree_node_t *n, int dirfd, const char *name,
                         oci_error **err)
{
  const sqfs_inode_generic_t *i = n->inode;
  char target[BUNDLE_SQFS_MAX_LINK + 1];
  if (bundle_sqfs_link_target(n, "extracting", target, err) < 0)
    return -1;
  if (symlinkat(target, dirfd, name) < 0)
    return fail(n, errno, "symlink", err);
  if (set_owner(n, dirfd, name, -1, err) < 0)
    return -1;
  struct timespec t[2] = {{.tv_sec = i->base.mod_time}, {.tv_sec = i->base.mod_time}};
  (void)utimensat(dirfd, name, t, AT_SYMLINK_NOFOLLOW);
  count(&x->stats->entries);
  return 0;
}

static int write_special(struct extract *x, const sqfs_tree_node_t *n, int dirfd, const char *name,
                         mode_t type, oci_error **err)
{
  if (mknodat(dirfd, name, type | 0600, 0) < 0)
    return fail(n, errno, "mknod", err);
  if (set_owner(n, dirfd, name, -1, err) < 0)
    return -1;
  if (fchmodat(dirfd, name, n->inode->base.mode & 07777, 0) < 0)
    return fail(n, errno, "chmod", err);
  struct timespec t[2] = {{.tv_sec = n->inode->base.mod_time}, {.tv_sec = n->inode->base.mod_time}};
  (void)utimensat(dirfd, name, t, AT_SYMLINK_NOFOLLOW);
  count(&x->stats->entries);
  return 0;
}

static int extract_dir(struct extract *x, const sqfs_tree_node_t *dir, int fd, int depth,
                       oci_error **err);

static bool node_is_dir(const sqfs_tree_node_t *n)
{
  return n->inode->base.type == SQFS_INODE_DIR || n->inode->base.type == SQFS_INODE_EXT_DIR;
}

/* A lower layer's NAME where this layer puts N: a directory over a
 * directory merges (1: keep it); anything else replaces it (0, removed). */
static int replace_lower(const sqfs_tree_node_t *n, int dirfd, const char *name, oci_error **err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : fail(n, errno, "stat", err);
  if (S_ISDIR(st.st_mode) && node_is_dir(n))
    return 1;
  if (fs_rm_rf_at(dirfd, name, err) < 0)
    return -1;
  return 0;
}

static int remove_entry(int dirfd, const struct dirent *e, void *data, oci_error **err)
{
  *(bool *)data = true;
  return fs_rm_rf_at(dirfd, e->d_name, err);
}

/* An opaque directory of this layer: what the layers below put in it goes. */
static int clear_dir(const sqfs_tree_node_t *dir, int fd, oci_error **err)
{
  /* removing while reading may skip entries: read again until empty */
  for (int round = 0; round < 64; round++) {
    bool removed = false;
    if (fs_dir_scan(fd, remove_entry, &removed, err) < 0)
      return oci_error_prefix(err, "emptying an opaque directory");
    if (!removed)
      return 0;
  }
  return fail(dir, 0, "opaque directory does not empty", err);
}

/* A whiteout of this layer: NAME of the layers below is deleted, and the
 * whiteout itself never written.  1 when N is one (handled). */
static int apply_whiteout(struct extract *x, const sqfs_tree_node_t *n, int dirfd, oci_error **err)
{
  const char *name = (const char *)n->name;
  const char *target = NULL;
  if (!x->layered)
    return 0;
  if (bundle_sqfs_is_whiteout(n->inode))
    target = name;
  else if (strcmp(name, BUNDLE_WH_OPAQUE) == 0)
    return 1; /* handled with its directory */
  else if (strncmp(name, BUNDLE_WH_PREFIX, sizeof(BUNDLE_WH_PREFIX) - 1) == 0)
    target = name + sizeof(BUNDLE_WH_PREFIX) - 1;
  if (target == NULL)
    return 0;
  if (!x->upper)
    return 1; /* nothing below to delete */
  if (target[0] == '\0' || strcmp(target, ".") == 0 || strcmp(target, "..") == 0)
    return fail(n, 0, "invalid whiteout name", err);
  if (fs_rm_rf_at(dirfd, target, err) < 0)
    return -1;
  return 1;
}

static int extract_node(struct extract *x, const sqfs_tree_node_t *n, int dirfd, int depth,
                        oci_error **err)
{
  const char *name = (const char *)n->name;
  if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
      strcmp(name, "..") == 0)
    return fail(n, 0, "invalid name in a directory", err);
  int wh = apply_whiteout(x, n, dirfd, err);
  if (wh != 0)
    return wh < 0 ? -1 : 0;
  /* the name is one component (checked above) and replaced without
   * following what is there: nothing leaves the tree */
  int merge = x->upper ? replace_lower(n, dirfd, name, err) : 0;
  if (merge < 0)
    return -1;
  switch (n->inode->base.type) {
  case SQFS_INODE_DIR:
  case SQFS_INODE_EXT_DIR: {
    if (depth >= MAX_DEPTH)
      return fail(n, 0, "directories nested too deep", err);
    if (!merge && mkdirat(dirfd, name, 0700) < 0)
      return fail(n, errno, "mkdir", err);
    cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return fail(n, errno, "open", err);
    return extract_dir(x, n, fd, depth + 1, err);
  }
  case SQFS_INODE_FILE:
  case SQFS_INODE_EXT_FILE: return write_file(x, n, dirfd, name, err);
  case SQFS_INODE_SLINK:
  case SQFS_INODE_EXT_SLINK: return write_symlink(x, n, dirfd, name, err);
  case SQFS_INODE_FIFO:
  case SQFS_INODE_EXT_FIFO: return write_special(x, n, dirfd, name, S_IFIFO, err);
  case SQFS_INODE_SOCKET:
  case SQFS_INODE_EXT_SOCKET: return write_special(x, n, dirfd, name, S_IFSOCK, err);
  case SQFS_INODE_BDEV:
  case SQFS_INODE_EXT_BDEV:
  case SQFS_INODE_CDEV:
  case SQFS_INODE_EXT_CDEV: count(&x->stats->devices_skipped); return 0;
  default: return fail(n, 0, "unknown inode type", err);
  }
}

/* Children first, then the directory's own owner, mode and times (a
 * read-only directory can still be filled, and its mtime stays). */
static int extract_dir(struct extract *x, const sqfs_tree_node_t *dir, int fd, int depth,
                       oci_error **err)
{
  if (x->upper && x->layered) {
    bool opaque = false;
    for (const sqfs_tree_node_t *c = dir->children; c && !opaque; c = c->next)
      opaque = strcmp((const char *)c->name, BUNDLE_WH_OPAQUE) == 0;
    struct bundle_sqfs_xattrs *l = NULL;
    if (!opaque && read_xattrs(x, dir, &l, err) < 0)
      return -1;
    opaque = opaque || xattrs_opaque(l);
    bundle_sqfs_xattrs_free(l);
    if (opaque && clear_dir(dir, fd, err) < 0)
      return -1;
  }
  for (const sqfs_tree_node_t *c = dir->children; c; c = c->next) {
    if (bundle_xpool_failed(x->pool))
      return -1; /* a worker's error is the one reported */
    if (extract_node(x, c, fd, depth, err) < 0)
      return -1;
  }
  bundle_xpool_progress(x->pool);
  if (set_owner(dir, -1, "", fd, err) < 0)
    return -1;
  return finish(x, dir, fd, err);
}

static uint64_t total_bytes(const sqfs_tree_node_t *n)
{
  uint64_t sum = 0;
  for (const sqfs_tree_node_t *c = n->children; c; c = c->next) {
    sqfs_u64 size = 0;
    if (sqfs_inode_get_file_size(c->inode, &size) == 0 && nlink_of(c->inode) <= 1)
      sum += size;
    else if (c->children)
      sum += total_bytes(c);
    else if (size > 0)
      sum += size; /* a hard-linked file: counted per name, a small overcount */
  }
  return sum;
}

/* One layer into the tree at ROOTFD; UPPER: over the layers before it. */
static int extract_one(struct bundle_sqfs *sq, int rootfd, bool upper, bool layered,
                       struct bundle_extract_stats *stats, bundle_progress_fn progress,
                       void *progress_data, oci_error **err)
{
  struct extract x = {
      .sq = sq, .stats = stats, .rootfd = rootfd, .upper = upper, .layered = layered};
  sqfs_tree_node_t *tree = NULL;
  int r = -1;
  if (bundle_sqfs_load_tree(sq, &tree, &x.xattrs, err) < 0)
    goto out;
  stats->bytes_total += total_bytes(tree);
  struct bundle_xpool_config cfg = {
      .workers = bundle_xpool_default_workers(),
      .stats = stats,
      .progress = progress,
      .progress_data = progress_data,
      .done = file_written,
      .free_meta = bundle_sqfs_xattrs_free,
      .ctx = &x,
  };
  if (bundle_xpool_start(sq, &cfg, &x.pool, err) < 0)
    goto out;
  oci_error *walk_err = NULL;
  r = extract_dir(&x, tree, x.rootfd, 0, &walk_err);
  /* the walk's own error first; else the first worker's */
  if (bundle_xpool_finish(x.pool, r < 0, walk_err ? NULL : err) < 0)
    r = -1;
  if (walk_err != NULL) {
    if (err != NULL && *err == NULL)
      *err = walk_err;
    else
      oci_error_free(&walk_err);
  }
out:
  for (size_t i = 0; i < x.n_links; i++)
    free(x.links[i].path);
  free(x.links);
  sqfs_destroy(x.xattrs);
  sqfs_dir_tree_destroy(tree);
  return r;
}

int bundle_sqfs_extract_layers(struct bundle_sqfs *const *layers, size_t n, int dirfd,
                               const char *name, struct bundle_extract_stats *stats,
                               bundle_progress_fn progress, void *progress_data, oci_error **err)
{
  cleanup_close int rootfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rootfd < 0)
    return oci_error_set(err, errno, "opening '%s'", name);
  stats->bytes_total = 0;
  for (size_t i = 0; i < n; i++) {
    if (extract_one(layers[i], rootfd, i > 0, n > 1, stats, progress, progress_data, err) < 0)
      return n > 1 ? oci_error_prefix(err, "layer %zu", i) : -1;
  }
  if (progress)
    progress(stats, progress_data);
  return 0;
}

int bundle_sqfs_extract(struct bundle_sqfs *sq, int dirfd, const char *name,
                        struct bundle_extract_stats *stats, bundle_progress_fn progress,
                        void *progress_data, oci_error **err)
{
  return bundle_sqfs_extract_layers(&sq, 1, dirfd, name, stats, progress, progress_data, err);
}
