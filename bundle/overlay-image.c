/* SPDX-License-Identifier: Apache-2.0 */
#include "overlay-image.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The ext2/3/4 superblock is 1024 bytes in: its magic at +56, the
 * incompatible features at +96. */
#define EXT_SB 1024
#define EXT_MAGIC_AT (EXT_SB + 56)
#define EXT_INCOMPAT_AT (EXT_SB + 96)
#define EXT_MAGIC 0xEF53
/* the incompatible features an ext3 mount takes: filetype, recover
 * (a journal to replay), meta_bg; anything else (extents, 64bit,
 * flex_bg, ...) is an ext4 file system */
#define EXT3_INCOMPAT_OK (0x0002u | 0x0004u | 0x0010u)
#define EXT_INCOMPAT_JOURNAL_DEV 0x0008u
#define SIF_MAGIC_AT 32

static const char *const kind_names[BUNDLE_OVERLAY_KIND_MAX] = {"ext3", "squashfs"};

const char *bundle_overlay_kind_name(enum bundle_overlay_kind kind)
{
  return kind < BUNDLE_OVERLAY_KIND_MAX ? kind_names[kind] : NULL;
}

enum bundle_overlay_kind bundle_overlay_kind_from_name(const char *name)
{
  for (int i = 0; name != NULL && i < BUNDLE_OVERLAY_KIND_MAX; i++)
    if (strcmp(name, kind_names[i]) == 0)
      return (enum bundle_overlay_kind)i;
  return BUNDLE_OVERLAY_KIND_MAX;
}

static uint32_t le32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int bundle_overlay_image_probe(int fd, enum bundle_overlay_kind *ret_kind, oci_error **err)
{
  unsigned char head[EXT_INCOMPAT_AT + 4] = {0};
  ssize_t n = pread(fd, head, sizeof(head), 0);
  if (n < 0)
    return oci_error_set(err, errno, "reading it");
  if (n >= 4 && memcmp(head, "hsqs", 4) == 0) {
    *ret_kind = BUNDLE_OVERLAY_SQUASHFS;
    return 0;
  }
  if (n >= EXT_MAGIC_AT + 2 && (head[EXT_MAGIC_AT] | head[EXT_MAGIC_AT + 1] << 8) == EXT_MAGIC) {
    uint32_t incompat = n == (ssize_t)sizeof(head) ? le32(head + EXT_INCOMPAT_AT) : 0;
    if (incompat & EXT_INCOMPAT_JOURNAL_DEV)
      return oci_error_set(err, 0, "an ext3 journal device, not a file system");
    if (incompat & ~EXT3_INCOMPAT_OK)
      return oci_error_set(err, 0,
                           "an ext4 file system (incompatible features 0x%x); overlay images are "
                           "ext3 (mkfs.ext3, singularity overlay create)",
                           incompat & ~EXT3_INCOMPAT_OK);
    *ret_kind = BUNDLE_OVERLAY_EXT3;
    return 0;
  }
  if (n >= SIF_MAGIC_AT + 9 && memcmp(head + SIF_MAGIC_AT, "SIF_MAGIC", 9) == 0)
    return oci_error_set(err, 0,
                         "a SIF image, not an overlay (a SIF's own overlay partition is used "
                         "when that SIF is the image: read-only, or with --writable)");
  return oci_error_set(err, 0,
                       "neither a directory, an ext3 image nor a squashfs file (no 'hsqs' at "
                       "byte 0, no ext3 superblock)");
}

int bundle_ext3_fsck(const char *device, int *ret_status, oci_error **err)
{
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0)
    return oci_error_set(err, ENOMEM, "e2fsck");
  for (int fd = 0; fd <= 2; fd++)
    posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  char *argv[] = {"e2fsck", "-n", "-f", (char *)device, NULL};
  pid_t pid;
  int r = posix_spawnp(&pid, "e2fsck", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (r == ENOENT)
    return oci_error_set(err, 0, "no e2fsck to check it first (Debian: apt-get install e2fsprogs)");
  if (r != 0)
    return oci_error_set(err, r, "running e2fsck");
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return oci_error_set(err, errno, "waiting for e2fsck");
  *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}
