/* SPDX-License-Identifier: Apache-2.0 */
/* oci logs: a container's output from its log file, each record to the
 * stream it came from. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cli.h"
#include "session.h"

int cmd_logs(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {
      {"follow", no_argument, NULL, 'f'},
      {"tail", required_argument, NULL, 't'},
      {NULL, 0, NULL, 0},
  };
  bool follow = false;
  long tail = -1;
  char *end;
  int c;
  while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
    switch (c) {
    case 'f': follow = true; break;
    case 't':
      errno = 0;
      tail = strtol(optarg, &end, 10);
      if (errno || *end || end == optarg || tail < 0)
        return cli_usage_error(ctx, err, "--tail '%s': not a line count", optarg);
      break;
    default:
      return cli_usage_error(ctx, err, "unknown option or missing value '%s'", argv[optind - 1]);
    }
  }
  if (cli_check_args(ctx, argc - optind, err) < 0 || cli_require_root(ctx, err) < 0)
    return -1;
  return session_logs(ctx->root, argv[optind], follow, tail, err);
}
