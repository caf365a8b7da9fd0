/* SPDX-License-Identifier: Apache-2.0 */
/* oci resume: thaw a paused container, through the runtime. */
#include <getopt.h>

#include "cli.h"
#include "session.h"

int cmd_resume(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {{NULL, 0, NULL, 0}};
  if (getopt_long(argc, argv, "", opts, NULL) != -1)
    return cli_usage_error(ctx, err, "unknown option '%s'", argv[optind - 1]);
  if (cli_check_args(ctx, argc - optind, err) < 0 || cli_require_root(ctx, err) < 0)
    return -1;
  return session_simple(ctx->root, argv[optind], RT_OP_RESUME, err);
}
