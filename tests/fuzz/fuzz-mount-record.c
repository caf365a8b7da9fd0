/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the mount record loader (bundle/mount-record.c) with arbitrary bytes
 * as BUNDLE/.sifoci-mount.json, the file `oci umount` trusts to say what to
 * undo.  A record it accepts must name only what mount makes, and must save
 * and load back as the same record; a refusal must come with an error and
 * leave the record empty.  The file goes into one temp dir per process.
 * Run as root: the loader takes only root-owned files, so as another user
 * every input stops at the ownership check. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mount-record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static int dfd = -1;

static void remove_dir(void)
{
  if (dfd < 0)
    return;
  unlinkat(dfd, BUNDLE_RECORD_NAME, 0);
  unlinkat(dfd, BUNDLE_RECORD_TMP_NAME, 0);
  close(dfd);
  dfd = -1;
  rmdir(dir);
}

static bool setup(void)
{
  if (dfd >= 0)
    return true;
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof(dir), "%s/fuzz-mount-record-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL)
    return false;
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) {
    rmdir(dir);
    return false;
  }
  atexit(remove_dir);
  if (geteuid() != 0)
    fprintf(stderr, "fuzz-mount-record: not root, so every record is refused as not root's\n");
  return true;
}

static bool put(const uint8_t *data, size_t size)
{
  unlinkat(dfd, BUNDLE_RECORD_NAME, 0);
  int fd =
      openat(dfd, BUNDLE_RECORD_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      close(fd);
      return false;
    }
    data += n;
    size -= (size_t)n;
  }
  return close(fd) == 0;
}

static bool is_clear(const struct bundle_record *rec)
{
  return rec->bundle == NULL && rec->image == NULL && rec->created == NULL && rec->n_created == 0 &&
         rec->n_mounts == 0 && !rec->has_loop;
}

/* What the loader promises about a record it accepted. */
static void check(const struct bundle_record *rec)
{
  if (rec->state >= BUNDLE_RECORD_STATE_MAX || rec->bundle == NULL || rec->image == NULL)
    abort();
  if (rec->n_mounts > BUNDLE_RECORD_MAX_MOUNTS)
    abort();
  for (size_t i = 0; i < rec->n_mounts; i++) {
    const struct bundle_record_mount *m = &rec->mounts[i];
    bool image = strcmp(m->target, ".image") == 0 || bundle_record_layer_name_ok(m->target);
    if (!(image && strcmp(m->type, "squashfs") == 0) &&
        !(image && rec->fuse && strncmp(m->type, "fuse.squashfuse", 15) == 0) &&
        !(strcmp(m->target, "rootfs") == 0 && strcmp(m->type, "overlay") == 0) &&
        !(strcmp(m->target, "rootfs") == 0 && strcmp(m->type, "fuse.fuse-overlayfs") == 0) &&
        !(strcmp(m->target, "overlay") == 0 && strcmp(m->type, "tmpfs") == 0) &&
        !(strcmp(m->target, ".sif-overlay") == 0 && strcmp(m->type, "ext3") == 0))
      abort();
  }
  if (rec->n_layer_loops > BUNDLE_RECORD_MAX_LAYERS ||
      (rec->n_layer_loops > 0 && (rec->extracted || rec->fuse)))
    abort();
  for (size_t i = 0; i < rec->n_layer_loops; i++)
    if (strncmp(rec->layer_loops[i].device, "/dev/loop", 9) != 0 ||
        memchr(rec->layer_loops[i].device, '\0', sizeof(rec->layer_loops[i].device)) == NULL)
      abort();
  if (rec->n_created > BUNDLE_RECORD_MAX_CREATED)
    abort();
  if (rec->n_created > 0 && (rec->created == NULL || rec->created[rec->n_created] != NULL))
    abort();
  for (size_t i = 0; i < rec->n_created; i++)
    if (!bundle_record_name_ok(rec->created[i]))
      abort();
  if (rec->has_loop && (strncmp(rec->loop_device, "/dev/loop", 9) != 0 ||
                        memchr(rec->loop_device, '\0', sizeof(rec->loop_device)) == NULL))
    abort();
}

static void same(const struct bundle_record *a, const struct bundle_record *b)
{
  if (a->state != b->state || strcmp(a->bundle, b->bundle) != 0 ||
      a->bundle_created != b->bundle_created || strcmp(a->image, b->image) != 0 ||
      a->image_dev != b->image_dev || a->image_ino != b->image_ino || a->offset != b->offset ||
      a->size != b->size || a->has_loop != b->has_loop ||
      strcmp(a->loop_device, b->loop_device) != 0 || a->loop_rdev != b->loop_rdev ||
      a->loop_attached != b->loop_attached || a->n_mounts != b->n_mounts ||
      a->n_created != b->n_created || a->n_layer_loops != b->n_layer_loops)
    abort();
  for (size_t i = 0; i < a->n_layer_loops; i++) {
    const struct bundle_record_loop *x = &a->layer_loops[i], *y = &b->layer_loops[i];
    if (strcmp(x->device, y->device) != 0 || x->rdev != y->rdev || x->attached != y->attached ||
        x->offset != y->offset || x->size != y->size)
      abort();
  }
  for (size_t i = 0; i < a->n_mounts; i++)
    if (strcmp(a->mounts[i].target, b->mounts[i].target) != 0 ||
        strcmp(a->mounts[i].type, b->mounts[i].type) != 0)
      abort();
  for (size_t i = 0; i < a->n_created; i++)
    if (strcmp(a->created[i], b->created[i]) != 0)
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!setup() || !put(data, size))
    return 0;
  struct bundle_record rec, back;
  oci_error *err = NULL;
  int r = bundle_record_load(dfd, &rec, &err);
  if (r != 0) {
    /* The file is there: never "no record"; a refusal says why. */
    if (r != -1 || err == NULL || !is_clear(&rec))
      abort();
    oci_error_free(&err);
    return 0;
  }
  if (err != NULL)
    abort();
  check(&rec);
  if (bundle_record_save(dfd, &rec, &err) < 0)
    abort();
  if (bundle_record_load(dfd, &back, &err) != 0)
    abort();
  same(&rec, &back);
  bundle_record_clear(&back);
  bundle_record_clear(&rec);
  return 0;
}
