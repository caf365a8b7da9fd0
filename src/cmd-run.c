/* SPDX-License-Identifier: Apache-2.0 */
/* oci run: create, attach, start, wait; the container is removed after
 * its exit and its status is ours.  -d: create + start only. */
#include <getopt.h>
#include <stdbool.h>

#include "cli.h"
#include "session.h"

int cmd_run(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {
      {"bundle", required_argument, NULL, 'b'},
      {"pid-file", required_argument, NULL, 'p'},
      {"log-path", required_argument, NULL, 'l'},
      {"log-format", required_argument, NULL, 'F'},
      {"detach", no_argument, NULL, 'd'},
      {"detach-keys", required_argument, NULL, 'k'},
      {NULL, 0, NULL, 0},
  };
  struct container_create_opts o = {
      .root = ctx->root, .runtime = ctx->runtime, .self_path = ctx->self_path};
  struct attach_opts ao = {0};
  const char *keys = NULL;
  bool detach = false;
  int c;
  while ((c = getopt_long(argc, argv, "b:l:d", opts, NULL)) != -1) {
    switch (c) {
    case 'b': o.bundle = optarg; break;
    case 'p': o.pid_file = optarg; break;
    case 'l': o.log_path = optarg; break;
    case 'F': o.log_format = optarg; break;
    case 'd': detach = true; break;
    case 'k': keys = optarg; break;
    default:
      return cli_usage_error(ctx, err, "unknown option or missing value '%s'", argv[optind - 1]);
    }
  }
  if (cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  if (o.bundle == NULL)
    return cli_usage_error(ctx, err, "--bundle is required");
  if (attach_parse_detach_keys(keys, &ao, err) < 0 || cli_require_root(ctx, err) < 0)
    return -1;
  o.id = argv[optind];
  return session_run(&o, detach, &ao, err);
}
