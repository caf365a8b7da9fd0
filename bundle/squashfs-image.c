/* SPDX-License-Identifier: Apache-2.0 */
#include "squashfs-image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>

#include "cleanup.h"
#include "squashfs-internal.h"

/* On-disk superblock size and the offsets we peek at before libsquashfs
 * decodes it (to say *what* is wrong, not only that something is). */
#define SUPER_SIZE 96
#define SUPER_OFF_VERSION_MAJOR 28
#define SUPER_OFF_VERSION_MINOR 30
#define NO_TABLE UINT64_MAX

static int window_read_at(sqfs_file_t *f, sqfs_u64 off, void *buf, size_t len)
{
  struct window_file *w = (struct window_file *)f;
  if (off > w->size || len > w->size - off)
    return SQFS_ERROR_OUT_OF_BOUNDS;
  uint8_t *p = buf;
  uint64_t pos = w->offset + off;
  while (len > 0) {
    ssize_t n = pread(w->fd, p, len, (off_t)pos);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return SQFS_ERROR_IO; /* error, or the file shrank under us */
    p += n;
    pos += (uint64_t)n;
    len -= (size_t)n;
  }
  return 0;
}

static int window_write_at(sqfs_file_t *f, sqfs_u64 off, const void *buf, size_t len)
{
  return SQFS_ERROR_UNSUPPORTED;
}

static sqfs_u64 window_get_size(const sqfs_file_t *f)
{
  return ((const struct window_file *)f)->size;
}

static int window_truncate(sqfs_file_t *f, sqfs_u64 size)
{
  return SQFS_ERROR_UNSUPPORTED;
}

static void window_destroy(sqfs_object_t *o)
{
  free(o);
}

static struct window_file *window_new(int fd, uint64_t offset, uint64_t size);

/* Read-only, so a copy is just another view of the same bytes. */
static sqfs_object_t *window_copy(const sqfs_object_t *o)
{
  const struct window_file *w = (const struct window_file *)o;
  return (sqfs_object_t *)window_new(w->fd, w->offset, w->size);
}

static struct window_file *window_new(int fd, uint64_t offset, uint64_t size)
{
  struct window_file *w = calloc(1, sizeof(*w));
  if (w == NULL)
    return NULL;
  w->base.base.destroy = window_destroy;
  w->base.base.copy = window_copy;
  w->base.read_at = window_read_at;
  w->base.write_at = window_write_at;
  w->base.get_size = window_get_size;
  w->base.truncate = window_truncate;
  w->fd = fd;
  w->offset = offset;
  w->size = size;
  return w;
}

const char *bundle_sqfs_strerror(int code)
{
  switch (code) {
  case SQFS_ERROR_ALLOC: return "out of memory";
  case SQFS_ERROR_IO: return "read error (was the image truncated?)";
  case SQFS_ERROR_COMPRESSOR: return "compressed data is corrupt";
  case SQFS_ERROR_CORRUPTED: return "file system is corrupt";
  case SQFS_ERROR_UNSUPPORTED: return "unsupported squashfs feature";
  case SQFS_ERROR_OVERFLOW: return "corrupt size (overflow)";
  case SQFS_ERROR_OUT_OF_BOUNDS: return "reference points outside the file system";
  case SFQS_ERROR_SUPER_MAGIC: return "bad magic";
  case SFQS_ERROR_SUPER_VERSION: return "unsupported version";
  case SQFS_ERROR_SUPER_BLOCK_SIZE: return "invalid block size";
  case SQFS_ERROR_NOT_DIR: return "not a directory";
  case SQFS_ERROR_NO_ENTRY: return "no such file";
  case SQFS_ERROR_LINK_LOOP: return "link loop";
  case SQFS_ERROR_NOT_FILE: return "not a regular file";
  default: return "libsquashfs error";
  }
}

static uint16_t le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

/* What libsquashfs does not check but the kernel relies on: every table
 * lies inside bytes_used, in the order mksquashfs writes them. */
static int check_layout(const sqfs_super_t *s, const char *what, int64_t part_size, oci_error **err)
{
  if (s->bytes_used > (uint64_t)part_size)
    return oci_error_set(err, 0, "squashfs in %s claims %llu bytes but the %s holds %lld", what,
                         (unsigned long long)s->bytes_used,
                         strncmp(what, "partition", 9) == 0 ? "partition" : "object",
                         (long long)part_size);
  if (s->bytes_used < SUPER_SIZE)
    return oci_error_set(err, 0, "squashfs in %s claims only %llu bytes", what,
                         (unsigned long long)s->bytes_used);
  uint64_t tables[] = {s->inode_table_start, s->directory_table_start, s->id_table_start};
  for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
    if (tables[i] < SUPER_SIZE || tables[i] >= s->bytes_used)
      return oci_error_set(err, 0, "squashfs in %s is corrupt (a table lies outside it)", what);
  uint64_t optional[] = {s->fragment_table_start, s->export_table_start, s->xattr_id_table_start};
  for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
    if (optional[i] != NO_TABLE && optional[i] > s->bytes_used)
      return oci_error_set(err, 0, "squashfs in %s is corrupt (a table lies outside it)", what);
  /* libsquashfs allocates the whole fragment table up front: 16 bytes per
   * entry, from an untrusted 32-bit count.  Each fragment block takes at
   * least a byte of the image, and 4M of them would be 512 GiB of tails. */
  if (s->fragment_entry_count > s->bytes_used || s->fragment_entry_count > (1u << 22))
    return oci_error_set(err, 0, "squashfs in %s is corrupt (%u fragments)", what,
                         s->fragment_entry_count);
  if (s->inode_table_start >= s->directory_table_start)
    return oci_error_set(err, 0, "squashfs in %s is corrupt (inode table after directories)", what);
  if ((s->root_inode_ref >> 16) >= s->directory_table_start - s->inode_table_start)
    return oci_error_set(err, 0, "squashfs in %s is corrupt (root inode outside the inode table)",
                         what);
  return 0;
}

static int read_super(struct bundle_sqfs *sq, const char *what, int64_t size, oci_error **err)
{
  uint8_t raw[SUPER_SIZE];
  if (size < SUPER_SIZE)
    return oci_error_set(err, 0, "%s holds no squashfs (%lld bytes is too small)", what,
                         (long long)size);
  int r = window_read_at(&sq->file->base, 0, raw, sizeof(raw));
  if (r != 0)
    return oci_error_set(err, 0, "%s: reading the squashfs superblock: %s", what,
                         bundle_sqfs_strerror(r));
  r = sqfs_super_read(&sq->super, &sq->file->base);
  if (r == SFQS_ERROR_SUPER_MAGIC)
    return oci_error_set(err, 0, "%s holds no squashfs (bad magic)", what);
  if (r == SFQS_ERROR_SUPER_VERSION)
    return oci_error_set(err, 0, "squashfs in %s has version %u.%u, only 4.0 is supported", what,
                         le16(raw + SUPER_OFF_VERSION_MAJOR), le16(raw + SUPER_OFF_VERSION_MINOR));
  if (r != 0)
    return oci_error_set(err, 0, "squashfs in %s has a bad superblock: %s", what,
                         bundle_sqfs_strerror(r));
  return check_layout(&sq->super, what, size, err);
}

static int setup_readers(struct bundle_sqfs *sq, const char *what, oci_error **err)
{
  sqfs_compressor_config_t cfg;
  const char *cname = sqfs_compressor_name_from_id((SQFS_COMPRESSOR)sq->super.compression_id);
  int r = sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR)sq->super.compression_id,
                                      sq->super.block_size, SQFS_COMP_FLAG_UNCOMPRESS);
  if (r == 0)
    r = sqfs_compressor_create(&cfg, &sq->cmp);
  if (r != 0)
    return oci_error_set(err, 0, "squashfs in %s uses %s compression, which cannot be read here",
                         what, cname ? cname : "an unknown");
  if (sq->super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) {
    r = sq->cmp->read_options(sq->cmp, &sq->file->base);
    if (r != 0)
      return oci_error_set(err, 0, "squashfs in %s: bad compressor options: %s", what,
                           bundle_sqfs_strerror(r));
  }
  sq->dir = sqfs_dir_reader_create(&sq->super, sq->cmp, &sq->file->base, 0);
  sq->data = sqfs_data_reader_create(&sq->file->base, sq->super.block_size, sq->cmp, 0);
  if (sq->dir == NULL || sq->data == NULL)
    return oci_error_set(err, ENOMEM, "squashfs in %s", what);
  r = sqfs_data_reader_load_fragment_table(sq->data, &sq->super);
  if (r != 0)
    return oci_error_set(err, 0, "squashfs in %s: fragment table: %s", what,
                         bundle_sqfs_strerror(r));
  return 0;
}

int bundle_sqfs_open(int fd, int64_t offset, int64_t size, const char *what,
                     struct bundle_sqfs **ret, oci_error **err)
{
  if (offset < 0 || size < 0)
    return oci_error_set(err, 0, "%s has a negative offset or size", what);
  struct bundle_sqfs *sq = calloc(1, sizeof(*sq));
  if (sq == NULL)
    return oci_error_set(err, ENOMEM, "%s", what);
  sq->file = window_new(fd, (uint64_t)offset, (uint64_t)size);
  if (sq->file == NULL) {
    bundle_sqfs_close(sq);
    return oci_error_set(err, ENOMEM, "%s", what);
  }
  if (read_super(sq, what, size, err) < 0 || setup_readers(sq, what, err) < 0) {
    bundle_sqfs_close(sq);
    return -1;
  }
  *ret = sq;
  return 0;
}

void bundle_sqfs_close(struct bundle_sqfs *sq)
{
  if (sq == NULL)
    return;
  sqfs_destroy(sq->xattrs);
  sqfs_destroy(sq->data);
  sqfs_destroy(sq->dir);
  sqfs_destroy(sq->cmp);
  sqfs_destroy(sq->file);
  free(sq);
}

const char *bundle_sqfs_compressor(const struct bundle_sqfs *sq)
{
  const char *name = sqfs_compressor_name_from_id((SQFS_COMPRESSOR)sq->super.compression_id);
  return name ? name : "unknown";
}

static void free_inode(sqfs_inode_generic_t **p)
{
  sqfs_free(*p);
  *p = NULL;
}

static bool is_dir(const sqfs_inode_generic_t *i)
{
  return i->base.type == SQFS_INODE_DIR || i->base.type == SQFS_INODE_EXT_DIR;
}

static bool is_link(const sqfs_inode_generic_t *i)
{
  return i->base.type == SQFS_INODE_SLINK || i->base.type == SQFS_INODE_EXT_SLINK;
}

static bool is_reg(const sqfs_inode_generic_t *i)
{
  return i->base.type == SQFS_INODE_FILE || i->base.type == SQFS_INODE_EXT_FILE;
}

/* The components still to resolve, kept as one string so that a symlink
 * target can be put in front of the rest. */
static int prepend(char **rest, const char *head, size_t head_len)
{
  size_t rlen = *rest ? strlen(*rest) : 0;
  if (head_len + rlen + 2 > BUNDLE_SQFS_MAX_LINK * 2)
    return -ENAMETOOLONG;
  char *n = malloc(head_len + rlen + 2);
  if (n == NULL)
    return -ENOMEM;
  memcpy(n, head, head_len);
  n[head_len] = '/';
  if (rlen)
    memcpy(n + head_len + 1, *rest, rlen);
  n[head_len + 1 + rlen] = '\0';
  free(*rest);
  *rest = n;
  return 0;
}

/* Split off the first component of *rest (in place). */
static char *next_component(char **rest)
{
  char *p = *rest;
  while (*p == '/')
    p++;
  if (*p == '\0') {
    *rest = p;
    return NULL;
  }
  char *end = strchr(p, '/');
  if (end) {
    *end = '\0';
    *rest = end + 1;
  } else {
    *rest = p + strlen(p);
  }
  return p;
}

/* Resolve PATH to an inode, following symlinks like the kernel would inside
 * a chroot at the image root: ".." at the root stays at the root and
 * absolute targets restart from the root, so nothing escapes the image.
 * Returns 0 (inode in *ret), 1 (not found), or -1 with *err set. */
static int resolve(struct bundle_sqfs *sq, const char *path, sqfs_inode_generic_t **ret,
                   oci_error **err)
{
  sqfs_inode_generic_t *stack[BUNDLE_SQFS_MAX_DEPTH + 1];
  size_t depth = 0;
  int hops = 0, rc = -1;
  cleanup_free char *buf = strdup(path);
  if (buf == NULL)
    return oci_error_set(err, ENOMEM, "resolving '%s'", path);
  char *rest = buf; /* points into buf, or into a string we own after a symlink */
  char *owned = NULL;

  int r = sqfs_dir_reader_get_root_inode(sq->dir, &stack[0]);
  if (r != 0) {
    oci_error_set(err, 0, "reading the root directory: %s", bundle_sqfs_strerror(r));
    goto out;
  }
  if (!is_dir(stack[0])) {
    oci_error_set(err, 0, "the image root is not a directory");
    free_inode(&stack[0]);
    goto out;
  }
  for (;;) {
    char *name = next_component(&rest);
    if (name == NULL)
      break;
    if (strcmp(name, ".") == 0)
      continue;
    if (strcmp(name, "..") == 0) {
      if (depth > 0)
        free_inode(&stack[depth--]);
      continue;
    }
    if (!is_dir(stack[depth])) {
      rc = 1;
      goto out_stack;
    }
    if (depth >= BUNDLE_SQFS_MAX_DEPTH) {
      oci_error_set(err, 0, "'%s' is nested too deep", path);
      goto out_stack;
    }
    r = sqfs_dir_reader_open_dir(sq->dir, stack[depth], 0);
    if (r == 0)
      r = sqfs_dir_reader_find(sq->dir, name);
    if (r == SQFS_ERROR_NO_ENTRY) {
      rc = 1;
      goto out_stack;
    }
    sqfs_inode_generic_t *child = NULL;
    if (r == 0)
      r = sqfs_dir_reader_get_inode(sq->dir, &child);
    if (r != 0) {
      oci_error_set(err, 0, "looking up '%s': %s", path, bundle_sqfs_strerror(r));
      goto out_stack;
    }
    if (!is_link(child)) {
      stack[++depth] = child;
      continue;
    }
    if (++hops > BUNDLE_SQFS_MAX_HOPS) {
      free_inode(&child);
      oci_error_set(err, 0, "'%s': too many levels of symbolic links", path);
      goto out_stack;
    }
    size_t tlen = child->data.slink.target_size;
    if (tlen > child->payload_bytes_used)
      tlen = child->payload_bytes_used;
    if (tlen == 0 || tlen > BUNDLE_SQFS_MAX_LINK || memchr(child->extra, '\0', tlen) != NULL) {
      free_inode(&child);
      rc = 1; /* an empty or absurd target resolves to nothing */
      goto out_stack;
    }
    cleanup_free char *target = strndup((const char *)child->extra, tlen);
    free_inode(&child);
    char *remaining = strdup(rest);
    if (target == NULL || remaining == NULL) {
      free(remaining);
      oci_error_set(err, ENOMEM, "resolving '%s'", path);
      goto out_stack;
    }
    r = prepend(&remaining, target, tlen);
    if (r < 0) {
      free(remaining);
      oci_error_set(err, -r, "resolving '%s'", path);
      goto out_stack;
    }
    free(owned);
    owned = remaining;
    rest = owned;
    if (target[0] == '/')
      while (depth > 0)
        free_inode(&stack[depth--]);
  }
  *ret = stack[depth];
  while (depth > 0) {
    depth--;
    free_inode(&stack[depth]);
  }
  free(owned);
  return 0;
out_stack:
  for (size_t i = 0; i <= depth; i++)
    free_inode(&stack[i]);
out:
  free(owned);
  return rc;
}

int bundle_sqfs_is_file(struct bundle_sqfs *sq, const char *path, bool *ret, oci_error **err)
{
  sqfs_inode_generic_t *inode = NULL;
  int r = resolve(sq, path, &inode, err);
  if (r < 0)
    return -1;
  *ret = r == 0 && is_reg(inode);
  sqfs_free(inode);
  return 0;
}

int bundle_sqfs_read_file(struct bundle_sqfs *sq, const char *path, size_t max_size,
                          char **ret_data, size_t *ret_len, oci_error **err)
{
  sqfs_inode_generic_t *inode = NULL;
  int r = resolve(sq, path, &inode, err);
  if (r != 0)
    return r;
  if (!is_reg(inode)) {
    bool dir = is_dir(inode);
    sqfs_free(inode);
    if (dir)
      return oci_error_set(err, EISDIR, "reading '%s' from the image", path);
    return oci_error_set(err, 0, "reading '%s' from the image: not a regular file", path);
  }
  sqfs_u64 size = 0;
  sqfs_inode_get_file_size(inode, &size);
  if (size > max_size) {
    sqfs_free(inode);
    return oci_error_set(err, 0, "'%s' in the image is %llu bytes, more than the %zu allowed", path,
                         (unsigned long long)size, max_size);
  }
  cleanup_free char *buf = malloc((size_t)size + 1);
  if (buf == NULL) {
    sqfs_free(inode);
    return oci_error_set(err, ENOMEM, "reading '%s' from the image", path);
  }
  size_t got = 0;
  while (got < size) {
    sqfs_s32 n = sqfs_data_reader_read(sq->data, inode, got, buf + got, (sqfs_u32)(size - got));
    if (n <= 0) {
      sqfs_free(inode);
      return oci_error_set(err, 0, "reading '%s' from the image: %s", path,
                           n < 0 ? bundle_sqfs_strerror(n) : "file ends early");
    }
    got += (size_t)n;
  }
  sqfs_free(inode);
  buf[got] = '\0';
  *ret_data = steal_ptr(&buf);
  if (ret_len)
    *ret_len = got;
  return 0;
}

static int files_read(void *ctx, const char *path, size_t max_size, char **ret_data,
                      size_t *ret_len, oci_error **err)
{
  return bundle_sqfs_read_file(ctx, path, max_size, ret_data, ret_len, err);
}

static int files_is_file(void *ctx, const char *path, bool *ret, oci_error **err)
{
  return bundle_sqfs_is_file(ctx, path, ret, err);
}

void bundle_sqfs_files(struct bundle_sqfs *sq, struct bundle_image_files *ret)
{
  ret->ctx = sq;
  ret->read_file = files_read;
  ret->is_file = files_is_file;
}
