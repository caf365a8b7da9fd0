/* SPDX-License-Identifier: Apache-2.0 */
/* oci delete: the runtime's container, the monitor, the state dir. */
#include <getopt.h>
#include <stdbool.h>

#include "cli.h"
#include "session.h"

int cmd_delete(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
    if (c != 'f')
      return cli_usage_error(ctx, err, "unknown option '%s'", argv[optind - 1]);
    force = true;
  }
  if (cli_check_args(ctx, argc - optind, err) < 0 || cli_require_root(ctx, err) < 0)
    return -1;
  return session_delete(ctx->root, argv[optind], force, err);
}
