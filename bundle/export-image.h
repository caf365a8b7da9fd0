/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci export IMAGE DEST`: a SIF (native or OCI-SIF), a plain squashfs or a
 * sandbox directory as an OCI image that podman, skopeo and ctr load.  Each
 * squashfs (the native image's system partition, or each layer of an
 * OCI-SIF, digest checked first) becomes one uncompressed tar layer
 * (export-layer.h); a sandbox one too (export-dir.h).  The
 * config: an OCI-SIF's own config blob with rootfs.diff_ids naming the new
 * tars; for a native image one built the way `oci mount` decides what it
 * runs (image-to-spec.h): its oci-config.json if it has one, its
 * runscript as Cmd and the default PATH as Env where that says nothing.
 */
#ifndef SIFOCI_EXPORT_IMAGE_H
#define SIFOCI_EXPORT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sha256.h"

enum bundle_export_format {
  BUNDLE_EXPORT_LAYOUT,  /* an OCI image layout directory */
  BUNDLE_EXPORT_ARCHIVE, /* oci-archive: that layout as a tar file */
  BUNDLE_EXPORT_FORMAT_MAX,
};

struct bundle_export_options {
  enum bundle_export_format format;
  const char *ref_name; /* the index's org.opencontainers.image.ref.name */
  /* a signalfd for the stop signals: one that arrives ends the export
   * (OCI_ERR_INTERRUPTED) and removes what it wrote; -1: none */
  int stop_fd;
};

struct bundle_export_result {
  char manifest_digest[7 + SHA256_HEX_SIZE]; /* "sha256:..." */
  size_t layers;
  uint64_t whiteouts, opaque_dirs, sockets_skipped;
};

/* Export IMAGE to DEST (a layout: missing or an empty directory; an
 * archive: a file that does not exist yet).  On failure nothing is left. */
int bundle_export(const char *image, const char *dest, const struct bundle_export_options *o,
                  struct bundle_export_result *ret, oci_error **err);

/* Is REF a reference name the OCI image spec allows (components of
 * letters and digits joined by one of "-._:@+" or "/")? */
int bundle_export_check_ref(const char *ref, oci_error **err);

/* The ref name for IMAGE's path: its base name without the extension,
 * lowercased, other characters as '-', then ":latest" ("busybox.sif" ->
 * "busybox:latest").  NULL when out of memory. */
char *bundle_export_default_ref(const char *image);

#endif
