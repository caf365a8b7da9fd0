/* SPDX-License-Identifier: Apache-2.0 */
/* oci mount [--no-seccomp] IMAGE BUNDLE: a SIF image as an OCI bundle
 * (bundle/bundle.h). */
#include <getopt.h>
#include <stddef.h>

#include "bundle.h"
#include "cli.h"

enum { OPT_NO_SECCOMP = CLI_OPT_LONG };

static const struct cli_option options[] = {
    {"no-seccomp", OPT_NO_SECCOMP, NULL, "leave the default seccomp profile out of config.json"},
    {NULL, 0, NULL, NULL},
};

static int cmd_mount(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  struct bundle_mount_options mopts = {0};
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    mopts.no_seccomp = true; /* --no-seccomp is the only one */
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  const char *image = argv[optind];
  if (bundle_mount(image, argv[optind + 1], &mopts, err) < 0)
    return oci_error_prefix(err, "mount '%s'", image);
  return 0;
}

const struct cli_verb cli_verb_mount = {
    .name = "mount",
    .usage = "[--no-seccomp] IMAGE BUNDLE",
    .summary = "make an OCI bundle from a SIF image (read-only image, writable overlay)",
    .options = {options},
    .min_args = 2,
    .max_args = 2,
    .flags = CLI_ROOT,
    .handler = cmd_mount,
};
