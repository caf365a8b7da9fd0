/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `oci mount` is asked, shared with `oci run IMAGE` and `oci create
 * IMAGE ID` (ephemeral.h): mount's own options (cli_mount_options: method,
 * seccomp, overlays, progress) and the bundle options (mount-flags.h),
 * parsed into one request and handed to bundle_mount.  A verb offers
 * cli_mount_options and the CLI_MOUNT_FLAG_GROUPS tables, gives every key
 * to cli_mount_request_option first, then checks with
 * cli_mount_request_finish and mounts with cli_mount_request_mount.
 */
#ifndef SIFOCI_MOUNT_REQUEST_H
#define SIFOCI_MOUNT_REQUEST_H

#include <stdbool.h>
#include <time.h>

#include "bundle.h"
#include "cli.h"

extern const struct cli_option cli_mount_options[];

struct cli_mount_progress {
  struct timespec start, last;
  bool drawn;
};

struct cli_mount_request {
  struct bundle_mount_options mopts;
  struct bundle_spec_options spec_opts;
  struct bundle_overlays overlays;
  struct bundle_platform platform; /* --platform, when given (mopts.platform) */
  const char *overlay_args[BUNDLE_OVERLAYS_MAX + 1];
  size_t n_overlay_args;
  bool writable_tmpfs, writable, quiet;
  bool any; /* was any of these options given? */
  /* filled by cli_mount_request_mount */
  struct cli_mount_progress bar;
  struct bundle_extract_stats stats;
  enum bundle_method used;
  bool owner_only;
};

/* KEY with VALUE (optarg) into REQ: 1 when KEY is one of the mount or
 * bundle options, 0 when it is not, -1 with a usage error. */
int cli_mount_request_option(const struct cli_context *ctx, struct cli_mount_request *req, int key,
                             const char *value, oci_error **err);

/* The checks that need every option, for IMAGE. */
int cli_mount_request_finish(const struct cli_context *ctx, struct cli_mount_request *req,
                             const char *image, oci_error **err);

/* bundle_mount(IMAGE, BUNDLE) as asked, with the progress bar on a
 * terminal; the error is prefixed "mount 'IMAGE'".  The notes that do not
 * stop it (device nodes skipped, fuse without allow_other) go to stderr. */
int cli_mount_request_mount(struct cli_mount_request *req, const char *image, const char *bundle,
                            oci_error **err);

void cli_mount_request_clear(struct cli_mount_request *req);

#endif
