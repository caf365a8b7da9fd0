/* SPDX-License-Identifier: Apache-2.0 */
/* oci list: the containers under --root. */
#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#include "cli.h"
#include "session.h"

int cmd_list(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'F'},
      {"quiet", no_argument, NULL, 'q'},
      {NULL, 0, NULL, 0},
  };
  bool as_json = false, quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
    switch (c) {
    case 'F':
      if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
        return cli_usage_error(ctx, err, "--format '%s': use table or json", optarg);
      as_json = strcmp(optarg, "json") == 0;
      break;
    case 'q': quiet = true; break;
    default:
      return cli_usage_error(ctx, err, "unknown option or missing value '%s'", argv[optind - 1]);
    }
  }
  if (cli_check_args(ctx, argc - optind, err) < 0 || cli_require_root(ctx, err) < 0)
    return -1;
  return session_list(ctx->root, as_json, quiet, err);
}
