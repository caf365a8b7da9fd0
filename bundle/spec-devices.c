/* SPDX-License-Identifier: Apache-2.0 */
/* --device, --cdi-dirs, --nv, --rocm: devices through CDI specs
 * (cdi-spec.c finds them, cdi-apply.c edits config.json). */
#include "spec-internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cdi-apply.h"
#include "cdi-spec.h"

static int add_device(struct bundle_spec_options *o, const char *option, const char *name,
                      oci_error **err)
{
  for (size_t i = 0; i < o->n_devices; i++)
    if (strcmp(o->devices[i], name) == 0)
      return 0; /* --nv and --device nvidia.com/gpu=all: the same device once */
  return spec_strv_add(&o->devices, &o->n_devices, name, option, err);
}

int spec_parse_device(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  const char *why = NULL;
  if (cdi_check_qualified(value, &why) < 0)
    return spec_bad(err, "device", value, "a CDI device is VENDOR/CLASS=NAME (%s)", why);
  return add_device(o, "device", value, err);
}

static int dir_item(struct bundle_spec_options *o, const char *item, oci_error **err)
{
  if (item[0] != '/')
    return spec_bad(err, "cdi-dirs", item, "a spec directory must be an absolute path");
  return spec_strv_add(&o->cdi_dirs, &o->n_cdi_dirs, item, "cdi-dirs", err);
}

int spec_parse_cdi_dirs(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return spec_each_item(o, "cdi-dirs", value, dir_item, err);
}

int spec_parse_nv(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  (void)value;
  o->gpu_kinds |= BUNDLE_GPU_NVIDIA;
  return add_device(o, "nv", "nvidia.com/gpu=all", err);
}

int spec_parse_rocm(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  (void)value;
  o->gpu_kinds |= BUNDLE_GPU_AMD;
  return add_device(o, "rocm", "amd.com/gpu=all", err);
}

/* --nv / --rocm name no device themselves: say which shorthand found
 * nothing, and where it looked. */
static int say_gpu_missing(const char *flag, const char *kind, char *const *dirs, size_t n_dirs,
                           oci_error **err)
{
  char where[1024] = "";
  for (size_t i = 0; i < n_dirs && strlen(where) < sizeof(where) - 300; i++)
    snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s%.250s", i ? ", " : "",
             dirs[i]);
  return oci_error_replace(err,
                           "--%s: no CDI spec of kind %s in %s (the vendor's tool writes one, "
                           "e.g. nvidia-ctk cdi generate)",
                           flag, kind, where);
}

int spec_apply_devices(json_t *config, const struct bundle_spec_options *o, oci_error **err)
{
  if (o->n_devices == 0)
    return 0;
  char *default_dirs[] = {"/etc/cdi", "/var/run/cdi"};
  char *const *dirs = o->n_cdi_dirs ? o->cdi_dirs : default_dirs;
  size_t n_dirs = o->n_cdi_dirs ? o->n_cdi_dirs : 2;
  struct cdi_device_edits *found = NULL;
  struct cdi_missing missing = {.device = SIZE_MAX};
  if (cdi_resolve(dirs, n_dirs, o->devices, o->n_devices, &found, &missing, err) < 0) {
    const char *dev = missing.device < o->n_devices ? o->devices[missing.device] : "";
    if (missing.no_kind && (o->gpu_kinds & BUNDLE_GPU_NVIDIA) &&
        strcmp(dev, "nvidia.com/gpu=all") == 0)
      return say_gpu_missing("nv", "nvidia.com/gpu", dirs, n_dirs, err);
    if (missing.no_kind && (o->gpu_kinds & BUNDLE_GPU_AMD) && strcmp(dev, "amd.com/gpu=all") == 0)
      return say_gpu_missing("rocm", "amd.com/gpu", dirs, n_dirs, err);
    return -1;
  }
  int r = 0;
  /* a bundle a user makes runs in a user namespace (rootless) */
  bool in_userns = geteuid() != 0;
  /* each spec's own edits once, however many of its devices are asked */
  for (size_t i = 0; r == 0 && i < o->n_devices; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = strcmp(found[j].file, found[i].file) == 0;
    if (!seen)
      r = cdi_apply_edits(config, found[i].spec_edits, found[i].file, in_userns, err);
    if (r == 0)
      r = cdi_apply_edits(config, found[i].device_edits, found[i].file, in_userns, err);
  }
  cdi_device_edits_free(found, o->n_devices);
  return r;
}
