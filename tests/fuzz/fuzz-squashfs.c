/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the squashfs reader (bundle/squashfs-image.c): superblock checks,
 * directory lookups, symlink resolution inside the image, file reads.  The
 * input is the squashfs itself, behind one byte that is not part of it, so
 * that reads are relative to a window as they are inside a SIF. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image-files.h"
#include "image-to-spec.h"
#include "squashfs-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What `oci mount` looks up, and some paths that climb, loop or go deep. */
static const char *const paths[] = {
    "/etc/passwd",
    "/etc/group",
    BUNDLE_ACTION_RUN,
    BUNDLE_RUNSCRIPT,
    "/",
    "/etc",
    "/etc/../etc/./passwd",
    "/../../etc/passwd",
    "/bin/sh",
    "/a/b/c/d/e/f/g/h",
    "/a/b/c/up",
    "/etc/passwd.x",
    "/link",
    "/loop",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz.sqfs", MFD_CLOEXEC);
  if (fd < 0)
    return 0;
  static const uint8_t pad = 0xa5;
  if (write(fd, &pad, 1) != 1 || (size > 0 && write(fd, data, size) != (ssize_t)size)) {
    close(fd);
    return 0;
  }
  struct bundle_sqfs *sq = NULL;
  oci_error *err = NULL;
  if (bundle_sqfs_open(fd, 1, (int64_t)size, "partition 1", &sq, &err) == 0) {
    if (bundle_sqfs_compressor(sq) == NULL)
      abort();
    struct bundle_image_files files;
    bundle_sqfs_files(sq, &files);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
      bool is_file = false;
      char *text = NULL;
      size_t len = 0;
      if (files.is_file(files.ctx, paths[i], &is_file, &err) < 0)
        oci_error_free(&err);
      int r = files.read_file(files.ctx, paths[i], BUNDLE_IMAGE_FILE_MAX, &text, &len, &err);
      if (r == 0) {
        /* What was read is bounded and NUL-terminated. */
        if (len > BUNDLE_IMAGE_FILE_MAX || text[len] != '\0')
          abort();
        free(text);
      }
      oci_error_free(&err);
    }
    bundle_sqfs_close(sq);
  }
  oci_error_free(&err);
  close(fd);
  return 0;
}
