/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci mount --overlay PATH[:ro]` and `--writable-tmpfs`: where the
 * container's writes go instead of the bundle's own overlay/upper.
 *
 *   --overlay DIR      DIR/upper and DIR/work (made when missing) are the
 *                      overlay's upper and work dirs: what the container
 *                      writes is kept in DIR across umount and mount.
 *   --overlay DIR:ro   a read-only layer above the image: DIR/upper when
 *                      DIR has one (a former writable overlay), else DIR.
 *   --overlay FILE     an ext3 image file (overlay-image.h), mounted on
 *                      BUNDLE/.overlays/N (overlay-files.h): its upper/ and
 *                      work/ as DIR's; with :ro its upper/ read-only.
 *   --overlay SQFS     a squashfs file, mounted read-only on
 *                      BUNDLE/.overlays/N: a read-only layer (:rw refused).
 *   --writable-tmpfs   BUNDLE/overlay is a tmpfs: writes last until umount.
 *   --writable         the SIF's ext3 overlay partition (overlay-partition.h)
 *                      read-write: writes are kept in the image file.
 *
 * At most one writable; read-only layers stack in the order given, the
 * first on top.  The user's directories are never in the mount record's
 * "created" list, so umount leaves them (and what they hold) in place.
 */
#ifndef SIFOCI_OVERLAY_LAYERS_H
#define SIFOCI_OVERLAY_LAYERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include "error.h"
#include "overlay-image.h"

#define BUNDLE_OVERLAYS_MAX 16
/* BUNDLE/.overlays/N: the mount point of image file N */
#define BUNDLE_OVERLAY_FILES_DIR ".overlays"

/* An image-file layer, checked at parse time (and again at mount time:
 * the same file, by device and inode). */
struct bundle_overlay_file {
  char *path; /* canonical */
  enum bundle_overlay_kind kind;
  bool writable; /* the upper layer (ext3 only) */
  dev_t dev;
  ino_t ino;
  uint64_t size;
};

struct bundle_overlays {
  char *upper_base; /* the writable DIR (canonical), or NULL */
  /* read-only layers, top first: a DIR (canonical), or NULL for image
   * file lower_file[i] (bundle_overlays_lower_path gives its directory) */
  char **lower_dirs;
  size_t lower_file[BUNDLE_OVERLAYS_MAX];
  size_t n_lower;
  struct bundle_overlay_file files[BUNDLE_OVERLAYS_MAX]; /* in the order given */
  size_t n_files;
  bool tmpfs_upper;
  bool sif_writable; /* --writable */
};

/* ARGS ("PATH", "PATH:ro" or "PATH:rw", N of them), --writable-tmpfs and
 * --writable, checked: each a directory whose path overlayfs options can
 * carry, or an ext3 or squashfs image file (a squashfs never writable, no
 * file twice), at most one writable.  One line naming the argument on
 * error. */
int bundle_overlays_parse(const char *const *args, size_t n, bool writable_tmpfs, bool writable,
                          struct bundle_overlays *ret, oci_error **err);

/* Anything asked? */
bool bundle_overlays_any(const struct bundle_overlays *o);

/* Does METHOD ("kernel", "fuse", "extract") take O?  One line saying
 * what it does not take, and why, when not.  fuse takes directories
 * only. */
int bundle_overlays_check_method(const struct bundle_overlays *o, const char *method,
                                 oci_error **err);

/* The writable image file (an ext3 one), or NULL. */
const struct bundle_overlay_file *bundle_overlays_upper_file(const struct bundle_overlays *o);

/* Image file I's mount point under the bundle: ".overlays/I". */
void bundle_overlays_file_mount(size_t i, char *buf, size_t size);

/* Lower layer I's directory: the DIR, or under BUNDLE (absolute) the
 * image file's mount point (a squashfs) or its upper/ (an ext3).  -1 when
 * it does not fit SIZE. */
int bundle_overlays_lower_path(const struct bundle_overlays *o, size_t i, const char *bundle,
                               char *buf, size_t size);

/* Make UPPER_BASE/upper (0755) and UPPER_BASE/work (0700) when missing;
 * refuses either when it is not a directory. */
int bundle_overlays_prepare_upper(const struct bundle_overlays *o, oci_error **err);

/* What the mount record keeps: [{"path": P, "mode": "rw"|"ro"}, ...,
 * {"path": null, "mode": "tmpfs"}]; NULL for none (or OOM).  An image
 * file's entry also has "kind" ("ext3"|"squashfs"), "dev", "ino", "size"
 * and "mount" (".overlays/N"), and once its loop device is bound "loop":
 * {"device": "/dev/loopN", "major": M, "minor": N, "attached": B}
 * (overlay-files.h adds it). */
json_t *bundle_overlays_json(const struct bundle_overlays *o);

/* Is J the shape bundle_overlays_json (and overlay-files.h) makes? */
bool bundle_overlays_json_ok(const json_t *j);

/* Is NAME ".overlays/N" with N < BUNDLE_OVERLAYS_MAX? */
bool bundle_overlays_mount_name_ok(const char *name);

void bundle_overlays_clear(struct bundle_overlays *o);

#endif
