/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container Device Interface spec files (cdiVersion 0.3.0 to 1.0.x, JSON or
 * YAML): read from the spec directories and checked before anything uses
 * them, so a malformed one is one error naming its file.  A device is asked
 * for by its qualified name VENDOR/CLASS=NAME; VENDOR/CLASS is the spec's
 * kind.  cdi-apply.c turns the edits into config.json.
 */
#ifndef SIFOCI_CDI_SPEC_H
#define SIFOCI_CDI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Default spec directories; a later one wins for the same device. */
#define CDI_DEFAULT_DIRS "/etc/cdi,/var/run/cdi"
#define CDI_MAX_SPEC_FILE (4u << 20)

/* Is NAME VENDOR/CLASS=NAME with valid pieces?  Why not in *WHY. */
int cdi_check_qualified(const char *name, const char **why);

/* Parse LEN bytes of TEXT, a spec file named FILE (JSON, or YAML when
 * YAML), and check it: *RET is the spec as JSON, every field the apply step
 * reads of the type it expects. */
int cdi_spec_parse(const char *text, size_t len, const char *file, bool yaml, json_t **ret,
                   oci_error **err);

/* One device found: the edits to apply, spec-level first, and its file. */
struct cdi_device_edits {
  json_t *spec_edits;   /* the spec's containerEdits, or NULL */
  json_t *device_edits; /* the device's containerEdits */
  char *file;
};

/* Why cdi_resolve failed for one device, when it did. */
struct cdi_missing {
  size_t device; /* its index */
  bool no_kind;  /* no spec has its kind (else: its kind has no such device) */
};

/* Find each of DEVICES (qualified names, N_DEVICES) in the spec files of
 * DIRS (missing directories are skipped).  Every spec file read must be
 * well-formed.  *RET holds N_DEVICES entries (cdi_device_edits_free).
 * When a device is not found, *RET_MISSING (if not NULL) says which. */
int cdi_resolve(char *const *dirs, size_t n_dirs, char *const *devices, size_t n_devices,
                struct cdi_device_edits **ret, struct cdi_missing *ret_missing, oci_error **err);

void cdi_device_edits_free(struct cdi_device_edits *e, size_t n);

#endif
