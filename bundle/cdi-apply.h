/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A CDI device's containerEdits into config.json, as the CDI spec merges
 * them: env appended to process.env; deviceNodes as linux.devices entries
 * and linux.resources.devices allow rules (what the spec leaves out is
 * taken from the host node); mounts appended to mounts; hooks appended to
 * hooks.<hookName>; additionalGids into process.user.additionalGids;
 * intelRdt as linux.intelRdt (the last one wins).  netDevices are refused:
 * the runtime-spec runc 1.1 speaks has no linux.netDevices.  Edits were
 * checked by cdi-spec.c.
 */
#ifndef SIFOCI_CDI_APPLY_H
#define SIFOCI_CDI_APPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/* Apply EDITS (a containerEdits object) from FILE to CONFIG.  IN_USERNS:
 * the bundle runs in a user namespace, where no node can be made: each
 * device node is a bind mount of its host node (which must be one, of the
 * type and numbers the spec gives) and has no linux.devices entry. */
int cdi_apply_edits(json_t *config, json_t *edits, const char *file, bool in_userns,
                    oci_error **err);

#endif
