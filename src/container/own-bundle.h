/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's own bundle, ROOT/ID/bundle.  runc and crun take their
 * config from a bundle directory, but a user's bundle is shared: several
 * containers (and Slurm's spool copies) run from one.  So `create` gives
 * the runtime a directory of the container's own, whose config.json is the
 * user's with what belongs to this container alone: paths made absolute
 * against the user's bundle, a cgroup no other state root or tool can
 * collide with, and the user's bundle named in an annotation.
 */
#ifndef SIFOCI_OWN_BUNDLE_H
#define SIFOCI_OWN_BUNDLE_H

#include <jansson.h>

#include "error.h"
#include "state-dir.h"

/* the annotation that names the user's bundle */
#define OWN_BUNDLE_SOURCE_ANNOTATION "org.sifoci.bundle"

/* The config the container runs with, from the user's CONFIG (not taken)
 * of bundle BUNDLE (absolute); allocated, NULL with *err set on failure
 * (a non-root user's config that cannot run rootless: rootless.h). */
json_t *own_bundle_config(const json_t *config, const char *bundle, const char *root,
                          const char *id, oci_error **err);

/* The cgroup the config gives container ID of state root ROOT (canonical)
 * unless the user set one: "/sifoci-HASH(ROOT)-ID"; allocated. */
char *own_bundle_cgroup_path(const char *root, const char *id);

/* Write ROOT/ID/bundle/config.json from CONFIG. */
int own_bundle_write(struct ctr *c, const json_t *config, oci_error **err);

/* The user's bundle a container's own bundle directory DIR came from, or
 * NULL when DIR is not one; allocated. */
char *own_bundle_source(const char *dir);

#endif
