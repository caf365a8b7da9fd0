/* SPDX-License-Identifier: Apache-2.0 */
/* oci mount [--no-seccomp] [--method M] [--quiet] [BUNDLE OPTIONS] IMAGE
 * BUNDLE: a SIF image as an OCI bundle (bundle/bundle.h), with what the
 * user asks for in its config.json (mount-request.h). */
#include <getopt.h>

#include "mount-flags.h"
#include "mount-request.h"

static int cmd_mount(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  struct cli_mount_request req = {0};
  int c, r = -1;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    if (cli_mount_request_option(ctx, &req, c, optarg, err) < 0)
      goto out;
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0 ||
      cli_mount_request_finish(ctx, &req, argv[optind], err) < 0)
    goto out;
  r = cli_mount_request_mount(&req, argv[optind], argv[optind + 1], err);
out:
  cli_mount_request_clear(&req);
  return r;
}

const struct cli_verb cli_verb_mount = {
    .name = "mount",
    .usage =
        "[--no-seccomp] [--method auto|kernel|fuse|extract] [--quiet] [--overlay PATH[:ro]]... "
        "[--writable-tmpfs|--writable] [--platform OS/ARCH[/VARIANT]] [BUNDLE OPTIONS] IMAGE "
        "BUNDLE",
    .summary = "make an OCI bundle from a SIF image (read-only image, writable overlay)",
    .options = {cli_mount_options, cli_mount_flags_mounts, cli_mount_flags_process,
                cli_mount_flags_privileges, cli_mount_flags_limits, cli_mount_flags_devices},
    .option_titles = {NULL, CLI_MOUNT_FLAG_TITLES},
    .min_args = 2,
    .max_args = 2,
    .handler = cmd_mount,
};
