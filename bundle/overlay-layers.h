/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci mount --overlay DIR[:ro]` and `--writable-tmpfs`: where the
 * container's writes go instead of the bundle's own overlay/upper.
 *
 *   --overlay DIR      DIR/upper and DIR/work (made when missing) are the
 *                      overlay's upper and work dirs: what the container
 *                      writes is kept in DIR across umount and mount.
 *   --overlay DIR:ro   a read-only layer above the image: DIR/upper when
 *                      DIR has one (a former writable overlay), else DIR.
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

#include "error.h"

#define BUNDLE_OVERLAYS_MAX 16

struct bundle_overlays {
  char *upper_base;  /* the writable DIR (canonical), or NULL */
  char **lower_dirs; /* read-only layers (canonical), top first */
  size_t n_lower;
  bool tmpfs_upper;
  bool sif_writable; /* --writable */
};

/* ARGS ("PATH" or "PATH:ro", N of them), --writable-tmpfs and --writable, checked:
 * each a directory, its path one overlayfs options can carry, at most
 * one writable.  One line naming the argument on error. */
int bundle_overlays_parse(const char *const *args, size_t n, bool writable_tmpfs, bool writable,
                          struct bundle_overlays *ret, oci_error **err);

/* Anything asked? */
bool bundle_overlays_any(const struct bundle_overlays *o);

/* Make UPPER_BASE/upper (0755) and UPPER_BASE/work (0700) when missing;
 * refuses either when it is not a directory. */
int bundle_overlays_prepare_upper(const struct bundle_overlays *o, oci_error **err);

/* What the mount record keeps: [{"path": P, "mode": "rw"|"ro"}, ...,
 * {"path": null, "mode": "tmpfs"}]; NULL for none (or OOM). */
json_t *bundle_overlays_json(const struct bundle_overlays *o);

/* Is J the shape bundle_overlays_json makes? */
bool bundle_overlays_json_ok(const json_t *j);

void bundle_overlays_clear(struct bundle_overlays *o);

#endif
