/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a container's config needs when its user is not root: a user
 * namespace whose root is the user (plus their subordinate IDs,
 * lib/idmap.h), mount options naming only mapped IDs, and a cgroup only
 * where the user owns a delegated one (cgroup v2): elsewhere the runtime
 * cannot apply limits, so asking for one is an error, not a silent drop.
 */
#ifndef SIFOCI_ROOTLESS_H
#define SIFOCI_ROOTLESS_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/* Running as a user other than root? */
bool rootless_active(void);

/* Adjust CONFIG (the container's own, being built) for a rootless run.
 * CGROUP_LEAF is the cgroup name this container would get ("sifoci-...-ID"):
 * placed under the user's delegated cgroup when there is one. */
int rootless_adjust_config(json_t *config, const char *cgroup_leaf, oci_error **err);

/* Does this user have a delegated cgroup for containers? */
bool rootless_has_cgroup(void);

/* A one-line note when the user has no subordinate IDs (a single-ID
 * mapping), else NULL: what that limits. */
const char *rootless_mapping_note(void);

#endif
