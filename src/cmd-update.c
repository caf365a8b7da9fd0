/* SPDX-License-Identifier: Apache-2.0 */
/* oci update: new resource limits (OCI LinuxResources JSON) for a
 * container; '-' reads them from stdin. */
#include <getopt.h>

#include "cli.h"
#include "session.h"

int cmd_update(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {{"from-file", required_argument, NULL, 'f'},
                                       {NULL, 0, NULL, 0}};
  const char *file = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
    if (c != 'f')
      return cli_usage_error(ctx, err, "unknown option or missing value '%s'", argv[optind - 1]);
    file = optarg;
  }
  if (cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  /* runc would take "nothing" as a silent no-op */
  if (file == NULL || file[0] == '\0')
    return cli_usage_error(ctx, err, "nothing to update: give -f FILE (or -f - for stdin)");
  if (cli_require_root(ctx, err) < 0)
    return -1;
  return session_update(ctx->root, argv[optind], file, err);
}
