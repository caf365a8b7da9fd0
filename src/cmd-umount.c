/* SPDX-License-Identifier: Apache-2.0 */
/* oci umount BUNDLE: undo exactly what `oci mount` recorded in BUNDLE. */
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "bundle.h"
#include "cleanup.h"
#include "cli.h"
#include "container.h"

static int cmd_umount(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  if (cli_next_option(ctx, argc, argv, err) != 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  const char *bundle = argv[optind];

  /* A live container under --root on this bundle: refuse before touching
   * a mount (a bundle that is not there is bundle_umount's to report). */
  char abs[PATH_MAX];
  if (realpath(bundle, abs) != NULL) {
    cleanup_free char *user = NULL;
    int r = container_using_bundle(ctx->root, abs, &user, err);
    if (r < 0)
      return oci_error_prefix(err, "umount '%s'", bundle);
    if (r > 0)
      return oci_error_set(err, 0, "umount '%s': container '%s' uses it; 'oci delete -f %s' first",
                           bundle, user, user);
  }

  struct bundle_umount_result res;
  if (bundle_umount(bundle, &res, err) < 0)
    return oci_error_prefix(err, "umount '%s'", bundle);
  if (res.bundle_kept)
    fprintf(stderr,
            "oci: umount '%s': warning: the bundle directory was kept, it holds files oci mount "
            "did not make\n",
            bundle);
  return 0;
}

const struct cli_verb cli_verb_umount = {
    .name = "umount",
    .usage = "BUNDLE",
    .summary = "undo `oci mount`: unmount and remove the bundle",
    .min_args = 1,
    .max_args = 1,
    .handler = cmd_umount,
};
