/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.json for a bundle: the defaults (oci-spec.h) merged with what the
 * image says.  A pure function of the image config object and the image's
 * files, so unit tests can check the merge without mounting anything.
 *
 * Unlike SingularityCE (which ignores WorkingDir, User and the image's PATH,
 * see oci-anchors.md §4.5) the image's values are applied the way Docker
 * and podman apply them.  Everything from the image is untrusted: sizes are
 * capped, paths are checked.
 */
#ifndef SIFOCI_IMAGE_TO_SPEC_H
#define SIFOCI_IMAGE_TO_SPEC_H

#include <jansson.h>
#include <stdint.h>

#include "error.h"
#include "image-files.h"

/* Limits on what an image may put in config.json. */
#define BUNDLE_SPEC_MAX_STRINGS 4096        /* args, env entries */
#define BUNDLE_SPEC_MAX_STRING (128u << 10) /* one arg or env entry (MAX_ARG_STRLEN) */
#define BUNDLE_SPEC_MAX_TOTAL (1u << 20)    /* args + env together */
#define BUNDLE_SPEC_MAX_VOLUMES 256
#define BUNDLE_SPEC_MAX_LABELS 1024
#define BUNDLE_SPEC_MAX_PATH 4096

/* Native images run these, the first that is a file in the image, else
 * /bin/sh. */
#define BUNDLE_ACTION_RUN "/.singularity.d/actions/run"
#define BUNDLE_RUNSCRIPT "/.singularity.d/runscript"

struct bundle_spec {
  json_t *config;     /* the config.json object */
  char **volume_dirs; /* names to create under BUNDLE/volumes, NULL-terminated */
  size_t n_volumes;
  /* how many of process.args stay when a user gives the command's
   * arguments (bundle_spec_set_args): the Entrypoint's, or the native
   * action or runscript (none for the /bin/sh of an image without) */
  size_t n_fixed_args;
};

/* Build the config for a bundle at BUNDLE_PATH (absolute, canonical).
 * IMAGE_CONFIG is the image config object or NULL for a native image. */
int bundle_spec_build(json_t *image_config, const struct bundle_image_files *files,
                      const char *bundle_path, struct bundle_spec *ret, oci_error **err);

/* The user's ARGS (N of them) in place of the image's arguments, as
 * `docker run IMAGE ARGS` and `singularity run IMAGE ARGS` do: after the
 * Entrypoint (Cmd is replaced), or after a native image's run action or
 * runscript, which gets them as its "$@"; an image with neither runs
 * ARGS themselves. */
int bundle_spec_set_args(struct bundle_spec *spec, const char *const *args, size_t n,
                         oci_error **err);

void bundle_spec_clear(struct bundle_spec *spec);

/* "/var//cache/" -> "/var/cache" in ret_norm and "_var_cache" in ret_name;
 * fails on relative paths, "..", "/" itself and over-long names. */
int bundle_volume_name(const char *dst, char **ret_norm, char **ret_name, oci_error **err);

#endif
