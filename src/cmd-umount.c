/* SPDX-License-Identifier: Apache-2.0 */
/* oci umount BUNDLE: undo exactly what `oci mount` recorded in BUNDLE. */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "bundle.h"
#include "cli.h"

int cmd_umount(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {{NULL, 0, NULL, 0}};
  if (getopt_long(argc, argv, "", opts, NULL) != -1)
    return cli_usage_error(ctx, err, "unknown option '%s'", argv[optind - 1]);
  if (cli_check_args(ctx, argc - optind, err) < 0 || cli_require_root(ctx, err) < 0)
    return -1;
  const char *bundle = argv[optind];

  /* LIFECYCLE HOOK (not implemented here): refuse when a live container
   * under ctx->root uses this bundle, e.g.
   *   if (state_bundle_in_use(ctx->root, bundle, err) < 0)
   *     return oci_error_prefix(err, "umount '%s'", bundle);
   * Until then a running container makes the unmount fail with EBUSY, which
   * bundle_umount reports without lazily detaching anything. */

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
