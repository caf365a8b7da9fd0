/* SPDX-License-Identifier: Apache-2.0 */
#include "image-source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image-config.h"

/* squashfs 4 superblock magic, little-endian, at byte 0 */
static const char squashfs_magic[4] = {'h', 's', 'q', 's'};
/* SIF: the magic follows a 32-byte launch script line */
static const char sif_magic[9] = {'S', 'I', 'F', '_', 'M', 'A', 'G', 'I', 'C'};
#define SIF_MAGIC_OFFSET 32

/* A plain squashfs file as a one-partition SIF: the squashfs reader, the
 * loop setup and the record then need nothing new. */
static int open_plain_squashfs(int fd, const char *path, const struct stat *st,
                               struct bundle_image_source *src, oci_error **err)
{
  struct sif_image *img = calloc(1, sizeof(*img));
  struct sif_descriptor *d = calloc(1, sizeof(*d));
  char *copy = strdup(path);
  if (img == NULL || d == NULL || copy == NULL) {
    free(img);
    free(d);
    free(copy);
    close(fd);
    return oci_error_set(err, ENOMEM, "opening the image");
  }
  img->fd = fd;
  img->path = copy;
  img->dev = st->st_dev;
  img->ino = st->st_ino;
  img->file_size = st->st_size;
  d->datatype = SIF_DATA_PARTITION;
  d->offset = 0;
  d->size = st->st_size;
  d->size_with_padding = st->st_size;
  d->fstype = SIF_FS_SQUASH;
  d->parttype = SIF_PART_PRIMSYS;
  snprintf(d->arch, sizeof(d->arch), "00");
  img->descs = d;
  img->n_descs = 1;
  src->kind = BUNDLE_IMAGE_SQUASHFS;
  src->img = img;
  src->rootfs = d;
  src->layers[0] = d;
  src->n_layers = 1;
  snprintf(src->what, sizeof(src->what), "the squashfs file");
  return 0;
}

static int open_sif(int fd, const char *path, const struct bundle_platform *platform,
                    struct bundle_image_source *src, oci_error **err)
{
  if (sif_load_fd(fd, path, &src->img, err) < 0)
    return -1;
  if (platform != NULL && !sif_is_oci(src->img))
    return oci_error_set(err, 0, "--platform: a native SIF holds one image, not an OCI index");
  if (bundle_image_config_load_for(src->img, platform, &src->config, err) < 0 ||
      bundle_image_rootfs_layers(src->img, platform, src->layers, &src->n_layers, err) < 0)
    return -1;
  src->rootfs = src->layers[src->n_layers - 1];
  src->kind = BUNDLE_IMAGE_SIF;
  snprintf(src->what, sizeof(src->what), "%s %u",
           src->rootfs->datatype == SIF_DATA_PARTITION ? "partition" : "object", src->rootfs->id);
  return 0;
}

/* "23 21 2f 75 ..." for the error line */
static void hex_bytes(const unsigned char *b, size_t n, char *out, size_t out_len)
{
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && used + 4 < out_len; i++)
    used += (size_t)snprintf(out + used, out_len - used, "%s%02x", i ? " " : "", b[i]);
}

/* Open PATH (absolute, inside the image) with every symlink and ".."
 * resolved inside the sandbox: its links must not reach the host. */
static int open_in_dir(int dir_fd, const char *path)
{
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/')
    path++;
  return (int)syscall(SYS_openat2, dir_fd, *path ? path : ".", &how, sizeof(how));
}

static int dir_read_file(void *ctx, const char *path, size_t max_size, char **ret_data,
                         size_t *ret_len, oci_error **err)
{
  int fd = open_in_dir(*(int *)ctx, path);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 1;
  if (fd < 0)
    return oci_error_set(err, errno, "sandbox file '%s'", path);
  struct stat st;
  char *data = NULL;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max_size) {
    int e = errno;
    bool reg = S_ISREG(st.st_mode);
    close(fd);
    return oci_error_set(err, reg ? 0 : e, "sandbox file '%s': %s", path,
                         reg ? "too large" : "not a regular file");
  }
  data = malloc((size_t)st.st_size + 1);
  ssize_t got = data ? pread(fd, data, (size_t)st.st_size, 0) : -1;
  int e = errno;
  close(fd);
  if (got < 0) {
    free(data);
    return oci_error_set(err, data ? e : ENOMEM, "reading sandbox file '%s'", path);
  }
  data[got] = '\0';
  *ret_data = data;
  *ret_len = (size_t)got;
  return 0;
}

static int dir_is_file(void *ctx, const char *path, bool *ret, oci_error **err)
{
  *ret = false;
  int fd = open_in_dir(*(int *)ctx, path);
  if (fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != EXDEV)
    return oci_error_set(err, errno, "sandbox file '%s'", path);
  struct stat st;
  if (fd >= 0) {
    *ret = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
  }
  return 0;
}

void bundle_image_source_dir_files(struct bundle_image_source *src, struct bundle_image_files *ret)
{
  ret->ctx = &src->dir_fd;
  ret->read_file = dir_read_file;
  ret->is_file = dir_is_file;
}

int bundle_image_source_open(const char *path, struct bundle_image_source *ret, oci_error **err)
{
  return bundle_image_source_open_for(path, NULL, ret, err);
}

int bundle_image_source_open_for(const char *path, const struct bundle_platform *platform,
                                 struct bundle_image_source *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  ret->dir_fd = -1;
  /* O_NONBLOCK: a FIFO must not hang the open; cleared again because
   * the loop driver gets this fd. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return oci_error_set(err, errno, "open");
  struct stat st;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 || fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return oci_error_set(err, e, "open");
  }
  if (platform != NULL && !S_ISREG(st.st_mode)) {
    close(fd);
    return oci_error_set(err, 0, "--platform: a directory holds one image, not an OCI index");
  }
  if (S_ISDIR(st.st_mode)) {
    ret->kind = BUNDLE_IMAGE_SANDBOX;
    ret->dir_fd = fd;
    snprintf(ret->what, sizeof(ret->what), "the sandbox directory");
    return 0;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return oci_error_set(err, 0, "not a regular file");
  }
  unsigned char head[SIF_MAGIC_OFFSET + sizeof(sif_magic)] = {0};
  ssize_t got = pread(fd, head, sizeof(head), 0);
  if (got < 0) {
    int e = errno;
    close(fd);
    return oci_error_set(err, e, "reading the image's first bytes");
  }
  if ((size_t)got >= sizeof(squashfs_magic) &&
      memcmp(head, squashfs_magic, sizeof(squashfs_magic)) == 0) {
    if (platform != NULL) {
      close(fd);
      return oci_error_set(err, 0, "--platform: a squashfs file holds one image, not an OCI index");
    }
    return open_plain_squashfs(fd, path, &st, ret, err);
  }
  if ((size_t)got == sizeof(head) &&
      memcmp(head + SIF_MAGIC_OFFSET, sif_magic, sizeof(sif_magic)) == 0)
    return open_sif(fd, path, platform, ret, err);
  close(fd);
  if (got == 0)
    return oci_error_set(err, 0, "the file is empty, not a SIF or squashfs image");
  char hex[32];
  hex_bytes(head, got < 4 ? (size_t)got : 4, hex, sizeof(hex));
  return oci_error_set(err, 0,
                       "neither a SIF image (no 'SIF_MAGIC' at byte 32) nor a squashfs (it starts "
                       "with %s, not 68 73 71 73 'hsqs')",
                       hex);
}

void bundle_image_source_clear(struct bundle_image_source *src)
{
  if (src->config != NULL)
    json_decref(src->config);
  sif_close(src->img);
  if (src->dir_fd >= 0)
    close(src->dir_fd);
  memset(src, 0, sizeof(*src));
  src->dir_fd = -1;
}
