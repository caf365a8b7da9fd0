/* SPDX-License-Identifier: Apache-2.0 */
/* oci attach: the console (or stdio) of a container through its monitor;
 * exits with the container's status, or 0 after the detach keys. */
#include <getopt.h>

#include "cli.h"
#include "session.h"

int cmd_attach(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {
      {"detach-keys", required_argument, NULL, 'k'},
      {"no-stdin", no_argument, NULL, 'n'},
      {NULL, 0, NULL, 0},
  };
  struct attach_opts o = {0};
  const char *keys = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'k': keys = optarg; break;
    case 'n': o.no_stdin = true; break;
    default:
      return cli_usage_error(ctx, err, "unknown option or missing value '%s'", argv[optind - 1]);
    }
  }
  if (cli_check_args(ctx, argc - optind, err) < 0 || attach_parse_detach_keys(keys, &o, err) < 0 ||
      cli_require_root(ctx, err) < 0)
    return -1;
  return session_attach(ctx->root, argv[optind], &o, err);
}
