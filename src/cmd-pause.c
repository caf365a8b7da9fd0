/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER until the verb is written: refuses to run. */
#include "cli.h"

int cmd_pause(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  return oci_error_set(err, 0, "%s: not implemented yet", ctx->verb->name);
}
