/* SPDX-License-Identifier: Apache-2.0 */
/* oci mount [--no-seccomp] IMAGE BUNDLE: a SIF image as an OCI bundle
 * (bundle/bundle.h). */
#include <getopt.h>
#include <stddef.h>

#include "bundle.h"
#include "cli.h"

int cmd_mount(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  enum { OPT_NO_SECCOMP = 256 };
  static const struct option opts[] = {{"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
                                       {NULL, 0, NULL, 0}};
  struct bundle_mount_options mopts = {0};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case OPT_NO_SECCOMP: mopts.no_seccomp = true; break;
    default: return cli_usage_error(ctx, err, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (cli_check_args(ctx, argc - optind, err) < 0 || cli_require_root(ctx, err) < 0)
    return -1;
  const char *image = argv[optind];
  if (bundle_mount(image, argv[optind + 1], &mopts, err) < 0)
    return oci_error_prefix(err, "mount '%s'", image);
  return 0;
}
